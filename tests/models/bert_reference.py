#!/usr/bin/env python3
"""Reference outputs of BERT-family encoders, computed with PyTorch from a
Hugging Face model folder (config.json + safetensors, read by
hf_reference.load), written here
independently of the engine and of Hugging Face's transformers (which is not
installed) but following its modeling code operation by operation:

  transformers/models/bert/modeling_bert.py          BertModel, BertForSequenceClassification
  transformers/models/roberta/modeling_roberta.py    RobertaModel, ...ForSequenceClassification
  transformers/models/xlm_roberta/...                (the RoBERTa code under another name)
  transformers/models/distilbert/modeling_distilbert.py
  transformers/pipelines/text_classification.py      softmax / sigmoid choice
  transformers/pipelines/zero_shot_classification.py entailment scores
  sentence_transformers/models/Pooling.py            mean / cls pooling

Texts are batched the way Hugging Face batches them: padded to the longest
with the pad id, an attention mask, and (RoBERTa) position ids that skip the
padding. The engine batches without padding; agreement shows both are the
same computation.

    /usr/bin/python3 tests/models/bert_reference.py MODEL_DIR < requests.json

requests.json: a list of {"ids": [[..], ..], "type_ids": [[..], ..] (optional),
"pooling": "mean" | "cls", "normalize": true|false}; each answer has
"embeddings" (pooled, per text), "logits" and "probs" (classifiers).
"""
import json
import math
import sys

import torch

from hf_reference import load

torch.set_grad_enabled(False)
torch.manual_seed(0)


def activation(name):
    # transformers/activations.py ACT2FN
    if name == "gelu":
        return lambda x: torch.nn.functional.gelu(x)  # exact, with erf
    if name in ("gelu_new", "gelu_pytorch_tanh", "gelu_fast"):
        if name == "gelu_fast":
            return lambda x: 0.5 * x * (1.0 + torch.tanh(x * 0.7978845608 * (1.0 + 0.044715 * x * x)))
        return lambda x: 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))
    if name == "relu":
        return torch.relu
    if name in ("silu", "swish"):
        return torch.nn.functional.silu
    if name == "quick_gelu":
        return lambda x: x * torch.sigmoid(1.702 * x)
    raise SystemExit(f"reference: activation {name} not implemented")


class Encoder:
    def __init__(self, cfg, weights):
        self.cfg, self.w = cfg, weights
        c = cfg
        self.kind = c["model_type"]
        arch = (c.get("architectures") or [""])[0]
        self.classifier = arch.endswith("ForSequenceClassification")
        if self.kind == "distilbert":
            self.prefix = "distilbert." if any(k.startswith("distilbert.") for k in self.w) else ""
            self.hidden, self.layers, self.heads = c["dim"], c["n_layers"], c["n_heads"]
            self.act = activation(c["activation"])
            self.eps = 1e-12  # DistilBERT's LayerNorms use eps=1e-12 (not in its config)
        else:
            p = "roberta." if self.kind in ("roberta", "xlm-roberta") else "bert."
            self.prefix = p if any(k.startswith(p) for k in self.w) else ""
            self.hidden, self.layers = c["hidden_size"], c["num_hidden_layers"]
            self.heads = c["num_attention_heads"]
            self.act = activation(c["hidden_act"])
            self.eps = c["layer_norm_eps"]
        self.pad = c.get("pad_token_id", 0)

    def t(self, name):
        return self.w[self.prefix + name]

    def linear(self, x, name):
        return torch.nn.functional.linear(x, self.t(name + ".weight"), self.t(name + ".bias"))

    def head_linear(self, x, name):  # heads live outside the base model's prefix
        return torch.nn.functional.linear(x, self.w[name + ".weight"], self.w[name + ".bias"])

    def layernorm(self, x, name):
        return torch.nn.functional.layer_norm(x, (self.hidden,), self.t(name + ".weight"),
                                              self.t(name + ".bias"), self.eps)

    def attention(self, x, mask, q, k, v):
        """modeling_bert.BertSelfAttention (eager): scores / sqrt(d) + mask."""
        b, n, _ = x.shape
        d = self.hidden // self.heads
        split = lambda t: t.view(b, n, self.heads, d).permute(0, 2, 1, 3)
        Q, K, V = split(self.linear(x, q)), split(self.linear(x, k)), split(self.linear(x, v))
        scores = torch.matmul(Q, K.transpose(-1, -2)) / math.sqrt(d)
        # get_extended_attention_mask: (1 - mask) * finfo.min
        ext = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        probs = torch.softmax(scores + ext, dim=-1)
        ctx = torch.matmul(probs, V).permute(0, 2, 1, 3).reshape(b, n, self.hidden)
        return ctx

    def bert_layers(self, h, mask):
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            a = p + "attention."
            ctx = self.attention(h, mask, a + "self.query", a + "self.key", a + "self.value")
            h = self.layernorm(self.linear(ctx, a + "output.dense") + h, a + "output.LayerNorm")
            inter = self.act(self.linear(h, p + "intermediate.dense"))
            h = self.layernorm(self.linear(inter, p + "output.dense") + h, p + "output.LayerNorm")
        return h

    def distil_layers(self, h, mask):
        """modeling_distilbert.TransformerBlock: q is scaled before the product."""
        for i in range(self.layers):
            p = f"transformer.layer.{i}."
            b, n, _ = h.shape
            d = self.hidden // self.heads
            split = lambda t: t.view(b, n, self.heads, d).transpose(1, 2)
            Q = split(self.linear(h, p + "attention.q_lin")) / math.sqrt(d)
            K = split(self.linear(h, p + "attention.k_lin"))
            V = split(self.linear(h, p + "attention.v_lin"))
            scores = torch.matmul(Q, K.transpose(2, 3))
            m = (mask == 0).view(b, 1, 1, n).expand_as(scores)
            scores = scores.masked_fill(m, torch.finfo(scores.dtype).min)
            ctx = torch.matmul(torch.softmax(scores, dim=-1), V)
            ctx = ctx.transpose(1, 2).reshape(b, n, self.hidden)
            sa = self.layernorm(self.linear(ctx, p + "attention.out_lin") + h, p + "sa_layer_norm")
            ffn = self.linear(self.act(self.linear(sa, p + "ffn.lin1")), p + "ffn.lin2")
            h = self.layernorm(ffn + sa, p + "output_layer_norm")
        return h

    def forward(self, ids, type_ids):
        """Pads the batch, returns (last hidden state [b, n, h], mask [b, n])."""
        n = max(len(x) for x in ids)
        input_ids = torch.tensor([x + [self.pad] * (n - len(x)) for x in ids])
        mask = torch.tensor([[1] * len(x) + [0] * (n - len(x)) for x in ids])
        tt = torch.tensor([t + [0] * (n - len(t)) for t in type_ids]) if type_ids else torch.zeros_like(input_ids)
        return self.encode(input_ids, mask, tt), mask

    def encode(self, input_ids, mask, tt):
        """The model on padded tensors: the last hidden state [b, n, h]."""
        n = input_ids.shape[1]
        e = "embeddings."
        h = self.t(e + "word_embeddings.weight")[input_ids]
        if self.kind in ("roberta", "xlm-roberta"):
            # create_position_ids_from_input_ids: cumsum of non-pad tokens + padding_idx
            nonpad = (input_ids != self.pad).int()
            pos = torch.cumsum(nonpad, dim=1) * nonpad + self.pad
        else:
            pos = torch.arange(n)[None, :].expand(input_ids.shape[0], n)
        h = h + self.t(e + "position_embeddings.weight")[pos]
        if self.kind != "distilbert":
            h = h + self.t(e + "token_type_embeddings.weight")[tt]
        h = self.layernorm(h, e + "LayerNorm")
        return self.distil_layers(h, mask) if self.kind == "distilbert" else self.bert_layers(h, mask)

    def logits(self, h):
        first = h[:, 0]
        if self.kind == "distilbert":
            x = torch.relu(self.head_linear(first, "pre_classifier"))
            return self.head_linear(x, "classifier")
        if self.kind in ("roberta", "xlm-roberta"):
            x = torch.tanh(self.head_linear(first, "classifier.dense"))
            return self.head_linear(x, "classifier.out_proj")
        x = torch.tanh(self.linear(first, "pooler.dense"))
        return self.head_linear(x, "classifier")

    def probs(self, logits):
        """pipelines/text_classification.py: which function to apply."""
        c = self.cfg
        n = logits.shape[-1]
        if c.get("problem_type") == "regression":
            return logits
        if c.get("problem_type") == "multi_label_classification" or n == 1:
            return torch.sigmoid(logits)
        return torch.softmax(logits, dim=-1)


def pool(h, mask, how, normalize):
    if how == "cls":
        e = h[:, 0]
    else:  # sentence-transformers mean pooling
        m = mask[:, :, None].float()
        e = (h * m).sum(1) / torch.clamp(m.sum(1), min=1e-9)
    if normalize:
        e = torch.nn.functional.normalize(e, p=2, dim=1)
    return e


def zero_shot(enc, logits, multi_label):
    """pipelines/zero_shot_classification.py postprocess: logits are the
    model's outputs for (text, hypothesis of label i), one row per label."""
    entail = -1
    for label, ind in enc.cfg.get("label2id", {}).items():
        if label.lower().startswith("entail"):
            entail = int(ind)
            break
    if multi_label:
        contra = -1 if entail == 0 else 0
        two = logits[:, [contra, entail]]
        return torch.softmax(two, dim=-1)[:, 1]
    return torch.softmax(logits[:, entail], dim=0)


def main():
    enc = Encoder(*load(sys.argv[1]))
    answers = []
    for r in json.load(sys.stdin):
        h, mask = enc.forward(r["ids"], r.get("type_ids"))
        a = {"embeddings": pool(h, mask, r.get("pooling", "mean"), r.get("normalize", False)).tolist()}
        if enc.classifier:
            lg = enc.logits(h)
            a["logits"] = lg.tolist()
            a["probs"] = enc.probs(lg).tolist()
            if "zero_shot" in r:
                a["zero_shot"] = zero_shot(enc, lg, r["zero_shot"].get("multi_label", False)).tolist()
        answers.append(a)
    json.dump(answers, sys.stdout)


if __name__ == "__main__":
    main()
