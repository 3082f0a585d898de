#!/usr/bin/python3
"""A plain PyTorch forward pass over a Hugging Face model folder, written from
the transformers modelling code's definitions (no transformers needed): the
reference that converted models are checked against.

    hf_reference.py DIR --tokens 1,2,3     -> JSON: the last position's logits
                                              (decoders) or the mean-pooled last
                                              hidden state (encoders)

Decoders: llama, qwen2, qwen3, gemma3 (RMSNorm, RoPE by halves, grouped-query
causal attention, SwiGLU / GeGLU, Gemma's 1 + weight norms, sqrt(hidden)
embedding scale, sliding-window layers and their own rope base).
Encoders: bert, distilbert, roberta, xlm-roberta (post-LayerNorm blocks,
RoBERTa's positions after the padding index, token type 0).
Everything in float32.
"""
import argparse
import json
import math
import os
import struct
import sys

import torch

DT = {'F32': torch.float32, 'F16': torch.float16, 'BF16': torch.bfloat16, 'I64': torch.int64}


def load(folder):
    with open(os.path.join(folder, 'config.json'), encoding='utf-8') as f:
        cfg = json.load(f)
    w = {}
    for name in sorted(os.listdir(folder)):
        if not name.endswith('.safetensors'):
            continue
        with open(os.path.join(folder, name), 'rb') as f:
            data = f.read()
        (n,) = struct.unpack('<Q', data[:8])
        header = json.loads(data[8:8 + n])
        for k, v in header.items():
            if k == '__metadata__':
                continue
            a, b = v['data_offsets']
            raw = bytearray(data[8 + n + a:8 + n + b])
            dt = DT[v['dtype']]
            t = torch.frombuffer(raw, dtype=torch.int16 if dt == torch.bfloat16 else dt) if raw else torch.zeros(0, dtype=dt)
            if dt == torch.bfloat16:
                t = t.view(torch.bfloat16)
            w[k] = t.reshape(v['shape']).float() if dt != torch.int64 else t.reshape(v['shape'])
    return cfg, w


def gelu(x, kind):
    if kind in ('gelu_new', 'gelu_pytorch_tanh', 'gelu_fast'):
        return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    if kind == 'relu':
        return torch.relu(x)
    return 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))


def rope_freqs(cfg, hd, theta):
    inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
    rs = cfg.get('rope_scaling') or {}
    if rs.get('rope_type') == 'llama3':  # transformers _compute_llama3_parameters
        factor, lo, hi = rs['factor'], rs['low_freq_factor'], rs['high_freq_factor']
        old = rs['original_max_position_embeddings']
        wavelen = 2 * math.pi / inv
        out = torch.where(wavelen > old / lo, inv / factor, inv)
        smooth = (old / wavelen - lo) / (hi - lo)
        smoothed = (1 - smooth) * out / factor + smooth * out
        mid = ~(wavelen < old / hi) & ~(wavelen > old / lo)
        inv = torch.where(mid, smoothed, out)
    return inv


def rotate(x, pos, inv):  # x [T, heads, hd]; rotate_half
    ang = pos[:, None].float() * inv[None, :]
    cos, sin = torch.cat([ang.cos()] * 2, -1)[:, None], torch.cat([ang.sin()] * 2, -1)[:, None]
    h = x.shape[-1] // 2
    rot = torch.cat([-x[..., h:], x[..., :h]], -1)
    return x * cos + rot * sin


def decoder(cfg, w, ids):
    fam = cfg['model_type']
    gemma = fam.startswith('gemma')
    h, nh = cfg['hidden_size'], cfg['num_attention_heads']
    nkv = cfg.get('num_key_value_heads', nh)
    hd = cfg.get('head_dim') or h // nh
    eps = cfg.get('rms_norm_eps', 1e-6)

    def rms(x, wt):
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
        return x * (1 + wt) if gemma else x * wt

    T = len(ids)
    pos = torch.arange(T)
    x = w['model.embed_tokens.weight'][torch.tensor(ids)]
    if gemma:
        x = x * torch.tensor(h ** 0.5, dtype=torch.float32)
    scale = cfg.get('query_pre_attn_scalar', hd) ** -0.5 if gemma else hd ** -0.5
    for i in range(cfg['num_hidden_layers']):
        p = f'model.layers.{i}.'
        g = lambda n: w.get(p + n)
        a = rms(x, g('input_layernorm.weight'))
        q = a @ g('self_attn.q_proj.weight').T
        k = a @ g('self_attn.k_proj.weight').T
        v = a @ g('self_attn.v_proj.weight').T
        for t, n in ((q, 'q'), (k, 'k'), (v, 'v')):
            b = g(f'self_attn.{n}_proj.bias')
            if b is not None:
                t += b
        q, k, v = q.view(T, nh, hd), k.view(T, nkv, hd), v.view(T, nkv, hd)
        if g('self_attn.q_norm.weight') is not None:
            q, k = rms(q, g('self_attn.q_norm.weight')), rms(k, g('self_attn.k_norm.weight'))
        sliding = gemma and (i + 1) % cfg.get('sliding_window_pattern', 6) != 0
        theta = cfg.get('rope_local_base_freq', 10000.0) if sliding else cfg.get('rope_theta', 10000.0)
        inv = rope_freqs(cfg, hd, theta)
        q, k = rotate(q, pos, inv), rotate(k, pos, inv)
        k = k.repeat_interleave(nh // nkv, 1)
        v = v.repeat_interleave(nh // nkv, 1)
        s = torch.einsum('qhd,khd->hqk', q, k) * scale
        mask = torch.ones(T, T, dtype=torch.bool).tril()
        if sliding:
            mask &= (pos[:, None] - pos[None, :]) < cfg['sliding_window']
        s = s.masked_fill(~mask, float('-inf')).softmax(-1)
        o = torch.einsum('hqk,khd->qhd', s, v).reshape(T, nh * hd) @ g('self_attn.o_proj.weight').T
        if g('self_attn.o_proj.bias') is not None:
            o += g('self_attn.o_proj.bias')
        if gemma:
            x = x + rms(o, g('post_attention_layernorm.weight'))
            m = rms(x, g('pre_feedforward_layernorm.weight'))
        else:
            x = x + o
            m = rms(x, g('post_attention_layernorm.weight'))
        act = gelu(m @ g('mlp.gate_proj.weight').T, 'gelu_pytorch_tanh') if gemma else \
            torch.nn.functional.silu(m @ g('mlp.gate_proj.weight').T)
        f = (act * (m @ g('mlp.up_proj.weight').T)) @ g('mlp.down_proj.weight').T
        x = x + (rms(f, g('post_feedforward_layernorm.weight')) if gemma else f)
    x = rms(x, w['model.norm.weight'])
    head = w.get('lm_head.weight', w['model.embed_tokens.weight'])
    return (x[-1] @ head.T).tolist()


def encoder(cfg, w, ids):
    fam = cfg['model_type']
    pre = {'bert': 'bert.', 'distilbert': 'distilbert.', 'roberta': 'roberta.', 'xlm-roberta': 'roberta.'}[fam]
    w = {k[len(pre):] if k.startswith(pre) else k: v for k, v in w.items()}
    T = len(ids)

    def ln(x, name, eps):
        return torch.nn.functional.layer_norm(x, x.shape[-1:], w[name + '.weight'], w[name + '.bias'], eps)

    def lin(x, name):
        return x @ w[name + '.weight'].T + w[name + '.bias']

    if fam == 'distilbert':
        h, nh, L, eps, act = cfg['dim'], cfg['n_heads'], cfg['n_layers'], 1e-12, cfg['activation']
        names = dict(q='attention.q_lin', k='attention.k_lin', v='attention.v_lin', o='attention.out_lin',
                     ln1='sa_layer_norm', up='ffn.lin1', down='ffn.lin2', ln2='output_layer_norm')
        layer = 'transformer.layer.'
        pos = torch.arange(T)
    else:
        h, nh, L = cfg['hidden_size'], cfg['num_attention_heads'], cfg['num_hidden_layers']
        eps, act = cfg['layer_norm_eps'], cfg['hidden_act']
        names = dict(q='attention.self.query', k='attention.self.key', v='attention.self.value',
                     o='attention.output.dense', ln1='attention.output.LayerNorm', up='intermediate.dense',
                     down='output.dense', ln2='output.LayerNorm')
        layer = 'encoder.layer.'
        pos = torch.arange(T) + (cfg['pad_token_id'] + 1 if fam in ('roberta', 'xlm-roberta') else 0)
    x = w['embeddings.word_embeddings.weight'][torch.tensor(ids)] + w['embeddings.position_embeddings.weight'][pos]
    if 'embeddings.token_type_embeddings.weight' in w:
        x = x + w['embeddings.token_type_embeddings.weight'][0]
    x = ln(x, 'embeddings.LayerNorm', eps)
    hd = h // nh
    for i in range(L):
        p = layer + f'{i}.'
        q, k, v = (lin(x, p + names[n]).view(T, nh, hd) for n in 'qkv')
        s = (torch.einsum('qhd,khd->hqk', q, k) / math.sqrt(hd)).softmax(-1)
        o = lin(torch.einsum('hqk,khd->qhd', s, v).reshape(T, h), p + names['o'])
        x = ln(x + o, p + names['ln1'], eps)
        f = lin(gelu(lin(x, p + names['up']), act), p + names['down'])
        x = ln(x + f, p + names['ln2'], eps)
    return x.mean(0).tolist()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('folder')
    ap.add_argument('--tokens', required=True)
    a = ap.parse_args()
    cfg, w = load(a.folder)
    ids = [int(t) for t in a.tokens.split(',')]
    with torch.no_grad():
        enc = cfg['model_type'] in ('bert', 'distilbert', 'roberta', 'xlm-roberta')
        json.dump(encoder(cfg, w, ids) if enc else decoder(cfg, w, ids), sys.stdout)
    return 0


if __name__ == '__main__':
    sys.exit(main())
