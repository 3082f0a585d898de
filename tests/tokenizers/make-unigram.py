#!/usr/bin/python3
"""Trains a SentencePiece Unigram model with Debian's python3-sentencepiece
(nmt_nfkc normalisation, so it carries a precompiled_charsmap) on the
multilingual text of the machine (licences, debconf templates), and writes
it as Hugging Face's tokenizer.json the way transformers' XLM-RoBERTa
converter lays it out: <s> <pad> </s> <unk> first, <mask> last,
Precompiled + Replace(" {2,}") normaliser, Metaspace, <s> A </s> </s> B </s>.
    /usr/bin/python3 tests/tokenizers/make-unigram.py OUT_DIR
With --charsmap, writes only the precompiled_charsmap of a tiny model
whose normalisation rules are a handful of SentencePiece's kinds (one
character to one, to several, to none; several to one; Hangul jamo): a
small map for fuzzing.
    /usr/bin/python3 tests/tokenizers/make-unigram.py --charsmap OUT_FILE
"""
import base64
import glob
import json
import os
import struct
import sys

import sentencepiece as spm

SMALL_RULES = """FF21\t41
FF41\t61
FB01\t66 69
2460\t31
3000\t20
200B\t
65 301\tE9
1100 1161\tAC00
31 FE0F 20E3\t31
FF76\t30AB
"""


def fields(buf):
    """(field number, wire type, value) of a protobuf message."""
    i = 0
    while i < len(buf):
        key, i = varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(buf, i)
        elif wt == 1:
            v, i = buf[i:i + 8], i + 8
        elif wt == 2:
            n, i = varint(buf, i)
            v, i = buf[i:i + n], i + n
        elif wt == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            raise ValueError("wire type %d" % wt)
        yield num, wt, v


def varint(buf, i):
    r = s = 0
    while True:
        b = buf[i]
        i += 1
        r |= (b & 0x7F) << s
        s += 7
        if b < 0x80:
            return r, i


def charsmap_of(model_file):
    """The precompiled_charsmap of a .model file (NormalizerSpec field 2)."""
    for num, _, v in fields(open(model_file, "rb").read()):
        if num == 3:
            for n2, _, v2 in fields(v):
                if n2 == 2:
                    return v2
    return b""


if sys.argv[1] == "--charsmap":
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        rules, corpus = os.path.join(tmp, "rules.tsv"), os.path.join(tmp, "corpus.txt")
        with open(rules, "w") as fh:
            fh.write(SMALL_RULES)
        with open(corpus, "w") as fh:
            fh.write("hello world\nthe quick brown fox\n" * 50)
        spm.SentencePieceTrainer.train(
            input=corpus, model_prefix=os.path.join(tmp, "m"), model_type="unigram",
            vocab_size=30, hard_vocab_limit=False, normalization_rule_tsv=rules, minloglevel=2)
        with open(sys.argv[2], "wb") as fh:
            fh.write(charsmap_of(os.path.join(tmp, "m.model")))
    sys.exit(0)

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
lines = []
for f in sorted(glob.glob("/usr/share/common-licenses/*")) + sorted(
        glob.glob("/var/lib/dpkg/info/*.templates")):
    try:
        with open(f, encoding="utf-8") as fh:
            lines += [l.strip() for l in fh if len(l.strip()) > 3]
    except (UnicodeDecodeError, IsADirectoryError):
        pass
corpus = os.path.join(out, "corpus.txt")
with open(corpus, "w", encoding="utf-8") as fh:
    fh.write("\n".join(lines) + "\n")
prefix = os.path.join(out, "unigram")
spm.SentencePieceTrainer.train(
    input=corpus, model_prefix=prefix, model_type="unigram", vocab_size=8000,
    hard_vocab_limit=False, character_coverage=0.9995, num_threads=1,
    bos_id=0, pad_id=1, eos_id=2, unk_id=3, minloglevel=2)


proto = open(prefix + ".model", "rb").read()
pieces, charsmap = [], b""
for num, _, v in fields(proto):
    if num == 1:
        p = {1: b"", 2: struct.pack("<f", 0.0), 3: 1}
        for n2, _, v2 in fields(v):
            p[n2] = v2
        pieces.append((p[1].decode("utf-8"), struct.unpack("<f", p[2])[0], p[3]))
    elif num == 3:
        for n2, _, v2 in fields(v):
            if n2 == 2:
                charsmap = v2
assert [p[0] for p in pieces[:4]] == ["<s>", "<pad>", "</s>", "<unk>"], pieces[:4]
vocab = [[p, 0.0 if i < 4 else s] for i, (p, s, _) in enumerate(pieces)] + [["<mask>", 0.0]]
mask = len(vocab) - 1


def added(i, content, lstrip=False):
    return {"id": i, "content": content, "single_word": False, "lstrip": lstrip,
            "rstrip": False, "normalized": False, "special": True}


def S(i, t):
    return {"SpecialToken": {"id": i, "type_id": t}}


def Q(i, t):
    return {"Sequence": {"id": i, "type_id": t}}


tok = {
    "version": "1.0", "truncation": None, "padding": None,
    "added_tokens": [added(0, "<s>"), added(1, "<pad>"), added(2, "</s>"), added(3, "<unk>"),
                     added(mask, "<mask>", True)],
    "normalizer": {"type": "Sequence", "normalizers": [
        {"type": "Precompiled", "precompiled_charsmap": base64.b64encode(charsmap).decode()},
        {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}]},
    "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always",
                      "split": True},
    "post_processor": {"type": "TemplateProcessing",
                       "single": [S("<s>", 0), Q("A", 0), S("</s>", 0)],
                       "pair": [S("<s>", 0), Q("A", 0), S("</s>", 0), S("</s>", 0), Q("B", 0),
                                S("</s>", 0)],
                       "special_tokens": {"<s>": {"id": "<s>", "ids": [0], "tokens": ["<s>"]},
                                          "</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}}},
    "decoder": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always",
                "split": True},
    "model": {"type": "Unigram", "unk_id": 3, "vocab": vocab, "byte_fallback": False},
}
with open(os.path.join(out, "tokenizer.json"), "w", encoding="utf-8") as fh:
    json.dump(tok, fh, ensure_ascii=False)
with open(os.path.join(out, "tokenizer_config.json"), "w", encoding="utf-8") as fh:
    json.dump({"bos_token": "<s>", "eos_token": "</s>", "sep_token": "</s>", "cls_token": "<s>",
               "unk_token": "<unk>", "pad_token": "<pad>", "mask_token": "<mask>",
               "model_max_length": 512, "tokenizer_class": "XLMRobertaTokenizer"}, fh)
os.remove(corpus)
print("unigram: %d pieces, charsmap %d bytes" % (len(vocab), len(charsmap)))
