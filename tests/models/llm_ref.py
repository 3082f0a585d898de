#!/usr/bin/python3
"""llm_ref.py - an independent PyTorch implementation of the llama, qwen2,
qwen3 and gemma3 decoders, written from the Hugging Face modeling files'
definitions (modeling_llama.py, modeling_qwen2.py, modeling_qwen3.py,
modeling_gemma3.py), in float64, reading a Hugging Face folder
(config.json + model.safetensors). It is the reference the engine's F32
logits and greedy generations are checked against.

  llm_ref.py MODEL_DIR --tokens 1,2,3 [--generate 64]
  -> {"logits": [last position], "greedy": [ids]}
"""
import argparse
import json
import math
import os
import struct

import torch

DT = torch.float64


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, h in header.items():
        if name == "__metadata__":
            continue
        b, e = h["data_offsets"]
        if h["dtype"] == "BF16":
            raw = torch.frombuffer(bytearray(data[b:e]), dtype=torch.int16).to(torch.int32) << 16
            t = raw.view(torch.float32)
        else:
            assert h["dtype"] == "F32", h["dtype"]
            t = torch.frombuffer(bytearray(data[b:e]), dtype=torch.float32)
        out[name] = t.reshape(h["shape"]).to(DT)
    return out


class Model:
    def __init__(self, folder):
        self.c = json.load(open(os.path.join(folder, "config.json")))
        self.w = read_safetensors(os.path.join(folder, "model.safetensors"))
        c = self.c
        self.arch = c["model_type"].replace("_text", "")
        self.hd = c.get("head_dim") or c["hidden_size"] // c["num_attention_heads"]
        self.gemma = self.arch == "gemma3"

    def norm(self, x, w):
        var = x.pow(2).mean(-1, keepdim=True)
        x = x * torch.rsqrt(var + self.c["rms_norm_eps"])
        return x * ((1.0 + w) if self.gemma else w)

    def rope(self, x, pos, base):
        # rotate_half over the two halves of each head (Hugging Face)
        d = x.shape[-1]
        inv = 1.0 / (base ** (torch.arange(0, d, 2, dtype=DT) / d))
        ang = pos[:, None].to(DT) * inv[None, :]
        cos = torch.cat([ang.cos(), ang.cos()], -1)[:, None, :]
        sin = torch.cat([ang.sin(), ang.sin()], -1)[:, None, :]
        x1, x2 = x[..., : d // 2], x[..., d // 2:]
        rot = torch.cat([-x2, x1], -1)
        return x * cos + rot * sin

    def forward(self, ids):
        c, w, hd = self.c, self.w, self.hd
        T = len(ids)
        nh, nkv = c["num_attention_heads"], c["num_key_value_heads"]
        x = w["model.embed_tokens.weight"][torch.tensor(ids)]
        if self.gemma:
            x = x * math.sqrt(c["hidden_size"])
        pos = torch.arange(T)
        for l in range(c["num_hidden_layers"]):
            p = f"model.layers.{l}."
            h = self.norm(x, w[p + "input_layernorm.weight"])
            q = h @ w[p + "self_attn.q_proj.weight"].T
            k = h @ w[p + "self_attn.k_proj.weight"].T
            v = h @ w[p + "self_attn.v_proj.weight"].T
            if p + "self_attn.q_proj.bias" in w:
                q = q + w[p + "self_attn.q_proj.bias"]
                k = k + w[p + "self_attn.k_proj.bias"]
                v = v + w[p + "self_attn.v_proj.bias"]
            q, k, v = q.view(T, nh, hd), k.view(T, nkv, hd), v.view(T, nkv, hd)
            if p + "self_attn.q_norm.weight" in w:
                q = self.norm(q, w[p + "self_attn.q_norm.weight"])
                k = self.norm(k, w[p + "self_attn.k_norm.weight"])
            sliding = self.gemma and (l + 1) % c["sliding_window_pattern"] != 0
            base = c["rope_local_base_freq"] if sliding else c["rope_theta"]
            q, k = self.rope(q, pos, base), self.rope(k, pos, base)
            k = k.repeat_interleave(nh // nkv, dim=1)
            v = v.repeat_interleave(nh // nkv, dim=1)
            scale = c["query_pre_attn_scalar"] ** -0.5 if self.gemma else hd ** -0.5
            s = torch.einsum("qhd,khd->hqk", q, k) * scale
            mask = pos[None, :] > pos[:, None]
            if sliding:
                mask = mask | (pos[:, None] - pos[None, :] >= c["sliding_window"])
            s = s.masked_fill(mask[None], float("-inf"))
            a = torch.einsum("hqk,khd->qhd", s.softmax(-1), v).reshape(T, nh * hd)
            o = a @ w[p + "self_attn.o_proj.weight"].T
            if self.gemma:
                o = self.norm(o, w[p + "post_attention_layernorm.weight"])
                x = x + o
                h = self.norm(x, w[p + "pre_feedforward_layernorm.weight"])
            else:
                x = x + o
                h = self.norm(x, w[p + "post_attention_layernorm.weight"])
            g = h @ w[p + "mlp.gate_proj.weight"].T
            u = h @ w[p + "mlp.up_proj.weight"].T
            act = torch.nn.functional.gelu(g, approximate="tanh") if self.gemma else torch.nn.functional.silu(g)
            f = (act * u) @ w[p + "mlp.down_proj.weight"].T
            if self.gemma:
                f = self.norm(f, w[p + "post_feedforward_layernorm.weight"])
            x = x + f
        x = self.norm(x[-1:], w["model.norm.weight"])
        head = w.get("lm_head.weight", w["model.embed_tokens.weight"])
        return (x @ head.T)[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--tokens", required=True)
    ap.add_argument("--generate", type=int, default=0)
    a = ap.parse_args()
    m = Model(a.model)
    ids = [int(t) for t in a.tokens.split(",")]
    logits = m.forward(ids)
    out = {"logits": logits.tolist(), "greedy": []}
    seq = list(ids)
    cur = logits
    for _ in range(a.generate):
        nxt = int(torch.argmax(cur))  # ties: the first (lowest) id
        out["greedy"].append(nxt)
        seq.append(nxt)
        cur = m.forward(seq)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
