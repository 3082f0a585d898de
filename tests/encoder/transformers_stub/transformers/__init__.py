"""The two entry points of Hugging Face transformers that llama.cpp's
convert_hf_to_gguf.py calls for BERT-family folders, for machines without
transformers: AutoConfig reads config.json; AutoTokenizer reads
tokenizer.json and encodes with Hugging Face's own tokenizers library (the
Rust library, npm @anush008/tokenizers, through node)."""
import json
import os
import subprocess
from pathlib import Path

_NODE_JS = r"""
const { Tokenizer } = require('@anush008/tokenizers');
const q = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const t = Tokenizer.fromFile(q.file);
(q.ids ? t.decode(q.ids, false)
  : t.encode(q.text, null, { addSpecialTokens: q.add }).then((e) => Array.from(e.getIds())))
  .then((r) => console.log(JSON.stringify(r)));
"""


class _Config:
    def __init__(self, d):
        self._d = d

    def to_dict(self):
        return dict(self._d)


class AutoConfig:
    @staticmethod
    def from_pretrained(path, **_):
        d = json.loads((Path(path) / "config.json").read_text())
        if "id2label" in d:  # as transformers' PretrainedConfig: integer keys
            d["id2label"] = {int(k): v for k, v in d["id2label"].items()}
        return _Config(d)


class _Added:
    def __init__(self, t):
        self.content, self.special, self.normalized = t["content"], t["special"], t["normalized"]


class _Tokenizer:
    def __init__(self, path):
        self._file = str(Path(path) / "tokenizer.json")
        spec = json.loads(Path(self._file).read_text())
        vocab = spec["model"]["vocab"]
        self.vocab = dict(vocab) if isinstance(vocab, dict) else {p[0]: i for i, p in enumerate(vocab)}
        self._added = {t["id"]: t for t in spec.get("added_tokens", [])}
        for i, t in self._added.items():
            self.vocab.setdefault(t["content"], i)
        self.added_tokens_decoder = {i: _Added(t) for i, t in self._added.items()}
        self.all_special_ids = [i for i, t in self._added.items() if t["special"]]
        self.vocab_size = len(self.vocab)

    def get_vocab(self):
        return dict(self.vocab)

    def get_added_vocab(self):
        return {t["content"]: i for i, t in self._added.items()}

    def _node(self, query):
        query["file"] = self._file
        out = subprocess.run(["node", "-e", _NODE_JS], input=json.dumps(query).encode(),
                             capture_output=True, check=True, env=os.environ)
        return json.loads(out.stdout)

    def encode(self, text, add_special_tokens=True):
        return self._node({"text": text, "add": add_special_tokens})

    def decode(self, ids):
        return self._node({"ids": list(ids)})


class AutoTokenizer:
    @staticmethod
    def from_pretrained(path, **_):
        return _Tokenizer(path)
