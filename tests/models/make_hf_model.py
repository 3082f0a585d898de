#!/usr/bin/python3
"""Writes a random-weight model folder exactly as Hugging Face lays it out:
config.json (the real config keys of the family), model.safetensors (the
real tensor names, shapes and dtypes; the safetensors format written here
by the spec), and the tokenizer files copied from a folder when given.

    make_hf_model.py FAMILY OUT_DIR [--set key=value ...] [--labels a,b,c]
                     [--dtype f32|f16|bf16] [--seed N] [--tokenizer DIR]
                     [--untied] [--vocab N] [--shards N] [--pooling mean|cls]

FAMILY: bert, distilbert, roberta, xlm-roberta (encoders; with --labels a
*ForSequenceClassification, else the base *Model) and llama, qwen2, qwen3,
gemma3 (decoders, *ForCausalLM). --set overrides any config key (JSON
values: --set num_hidden_layers=4 --set rope_scaling='{"rope_type":"llama3",...}').
Weights are normal(0, 0.02) (norms 1 + normal(0, 0.1), biases normal(0,
0.02)), so every tensor matters to the output. Python's torch makes them;
the folder is what `sotto convert` and a PyTorch reference both read.
--shards splits the weights as transformers does (model-00001-of-0000N
.safetensors + model.safetensors.index.json); --pooling adds a
sentence-transformers pooling module (modules.json, 1_Pooling/config.json).
"""
import argparse
import json
import os
import shutil
import struct
import sys

import torch

DTYPES = {'f32': (torch.float32, 'F32'), 'f16': (torch.float16, 'F16'),
          'bf16': (torch.bfloat16, 'BF16')}

ENCODERS = {
    'bert': dict(arch='Bert', model_type='bert', prefix='bert.'),
    'distilbert': dict(arch='DistilBert', model_type='distilbert', prefix='distilbert.'),
    'roberta': dict(arch='Roberta', model_type='roberta', prefix='roberta.'),
    'xlm-roberta': dict(arch='XLMRoberta', model_type='xlm-roberta', prefix='roberta.'),
}
DECODERS = {
    'llama': dict(arch='LlamaForCausalLM', model_type='llama'),
    'qwen2': dict(arch='Qwen2ForCausalLM', model_type='qwen2'),
    'qwen3': dict(arch='Qwen3ForCausalLM', model_type='qwen3'),
    'gemma3': dict(arch='Gemma3ForCausalLM', model_type='gemma3_text'),
}


def base_config(family, vocab):
    """The family's config.json with a small shape (HF's key names)."""
    if family == 'distilbert':
        return dict(vocab_size=vocab, dim=64, n_layers=2, n_heads=4, hidden_dim=128,
                    max_position_embeddings=64, activation='gelu', dropout=0.1,
                    attention_dropout=0.1, pad_token_id=0, sinusoidal_pos_embds=False,
                    initializer_range=0.02, qa_dropout=0.1, seq_classif_dropout=0.2,
                    tie_weights_=True)
    if family in ENCODERS:
        roberta = family in ('roberta', 'xlm-roberta')
        return dict(vocab_size=vocab, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                    intermediate_size=128, hidden_act='gelu', hidden_dropout_prob=0.1,
                    attention_probs_dropout_prob=0.1,
                    max_position_embeddings=66 if roberta else 64,
                    type_vocab_size=1 if roberta else 2, initializer_range=0.02,
                    layer_norm_eps=1e-5 if roberta else 1e-12,
                    pad_token_id=1 if roberta else 0, bos_token_id=0, eos_token_id=2,
                    position_embedding_type='absolute', use_cache=True)
    cfg = dict(vocab_size=vocab, hidden_size=64, intermediate_size=160, num_hidden_layers=2,
               num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
               rms_norm_eps=1e-6, rope_theta=10000.0, tie_word_embeddings=True,
               hidden_act='silu', initializer_range=0.02, use_cache=True, bos_token_id=1,
               eos_token_id=2, attention_dropout=0.0)
    if family == 'llama':
        cfg.update(attention_bias=False, mlp_bias=False, rope_scaling=None, pretraining_tp=1)
    if family == 'qwen2':
        cfg.update(rope_theta=1000000.0, use_sliding_window=False, sliding_window=None,
                   max_window_layers=2)
    if family == 'qwen3':
        cfg.update(head_dim=32, rope_theta=1000000.0, attention_bias=False,
                   use_sliding_window=False, sliding_window=None, max_window_layers=2,
                   rope_scaling=None)
    if family == 'gemma3':
        cfg.update(head_dim=32, hidden_activation='gelu_pytorch_tanh', query_pre_attn_scalar=32,
                   sliding_window=16, sliding_window_pattern=6, rope_local_base_freq=10000.0,
                   rope_theta=1000000.0, rope_scaling=None, final_logit_softcapping=None,
                   attn_logit_softcapping=None, attention_bias=False, num_key_value_heads=1,
                   max_position_embeddings=512, pad_token_id=0, bos_token_id=2,
                   eos_token_id=1)
        del cfg['hidden_act']
    return cfg


def encoder_tensors(family, cfg, n_labels):
    """(name, shape, kind) of an encoder's state dict, kind in w/b/n (weight, bias, norm)."""
    t = []
    if family == 'distilbert':
        d, f = cfg['dim'], cfg['hidden_dim']
        t += [('embeddings.word_embeddings.weight', [cfg['vocab_size'], d], 'w'),
              ('embeddings.position_embeddings.weight', [cfg['max_position_embeddings'], d], 'w'),
              ('embeddings.LayerNorm.weight', [d], 'n'), ('embeddings.LayerNorm.bias', [d], 'b')]
        for i in range(cfg['n_layers']):
            p = f'transformer.layer.{i}.'
            for lin in ('q_lin', 'k_lin', 'v_lin', 'out_lin'):
                t += [(p + f'attention.{lin}.weight', [d, d], 'w'), (p + f'attention.{lin}.bias', [d], 'b')]
            t += [(p + 'sa_layer_norm.weight', [d], 'n'), (p + 'sa_layer_norm.bias', [d], 'b'),
                  (p + 'ffn.lin1.weight', [f, d], 'w'), (p + 'ffn.lin1.bias', [f], 'b'),
                  (p + 'ffn.lin2.weight', [d, f], 'w'), (p + 'ffn.lin2.bias', [d], 'b'),
                  (p + 'output_layer_norm.weight', [d], 'n'), (p + 'output_layer_norm.bias', [d], 'b')]
        head = [('pre_classifier.weight', [d, d], 'w'), ('pre_classifier.bias', [d], 'b'),
                ('classifier.weight', [n_labels, d], 'w'), ('classifier.bias', [n_labels], 'b')]
        return t, head, []
    h, f = cfg['hidden_size'], cfg['intermediate_size']
    t += [('embeddings.word_embeddings.weight', [cfg['vocab_size'], h], 'w'),
          ('embeddings.position_embeddings.weight', [cfg['max_position_embeddings'], h], 'w'),
          ('embeddings.token_type_embeddings.weight', [cfg['type_vocab_size'], h], 'w'),
          ('embeddings.LayerNorm.weight', [h], 'n'), ('embeddings.LayerNorm.bias', [h], 'b')]
    for i in range(cfg['num_hidden_layers']):
        p = f'encoder.layer.{i}.'
        for proj in ('query', 'key', 'value'):
            t += [(p + f'attention.self.{proj}.weight', [h, h], 'w'),
                  (p + f'attention.self.{proj}.bias', [h], 'b')]
        t += [(p + 'attention.output.dense.weight', [h, h], 'w'), (p + 'attention.output.dense.bias', [h], 'b'),
              (p + 'attention.output.LayerNorm.weight', [h], 'n'), (p + 'attention.output.LayerNorm.bias', [h], 'b'),
              (p + 'intermediate.dense.weight', [f, h], 'w'), (p + 'intermediate.dense.bias', [f], 'b'),
              (p + 'output.dense.weight', [h, f], 'w'), (p + 'output.dense.bias', [h], 'b'),
              (p + 'output.LayerNorm.weight', [h], 'n'), (p + 'output.LayerNorm.bias', [h], 'b')]
    pooler = [('pooler.dense.weight', [h, h], 'w'), ('pooler.dense.bias', [h], 'b')]
    if family == 'bert':
        head = [('classifier.weight', [n_labels, h], 'w'), ('classifier.bias', [n_labels], 'b')]
    else:  # RobertaClassificationHead
        head = [('classifier.dense.weight', [h, h], 'w'), ('classifier.dense.bias', [h], 'b'),
                ('classifier.out_proj.weight', [n_labels, h], 'w'), ('classifier.out_proj.bias', [n_labels], 'b')]
    return t, head, pooler


def decoder_tensors(family, cfg):
    h, f = cfg['hidden_size'], cfg['intermediate_size']
    nh, nkv = cfg['num_attention_heads'], cfg['num_key_value_heads']
    hd = cfg.get('head_dim') or h // nh
    t = [('model.embed_tokens.weight', [cfg['vocab_size'], h], 'w')]
    bias = family == 'qwen2' or cfg.get('attention_bias')
    for i in range(cfg['num_hidden_layers']):
        p = f'model.layers.{i}.'
        t += [(p + 'input_layernorm.weight', [h], 'n'),
              (p + 'self_attn.q_proj.weight', [nh * hd, h], 'w'),
              (p + 'self_attn.k_proj.weight', [nkv * hd, h], 'w'),
              (p + 'self_attn.v_proj.weight', [nkv * hd, h], 'w'),
              (p + 'self_attn.o_proj.weight', [h, nh * hd], 'w')]
        if bias:
            t += [(p + 'self_attn.q_proj.bias', [nh * hd], 'b'), (p + 'self_attn.k_proj.bias', [nkv * hd], 'b'),
                  (p + 'self_attn.v_proj.bias', [nkv * hd], 'b')]
            if family == 'llama':
                t += [(p + 'self_attn.o_proj.bias', [h], 'b')]
        if family in ('qwen3', 'gemma3'):
            t += [(p + 'self_attn.q_norm.weight', [hd], 'n'), (p + 'self_attn.k_norm.weight', [hd], 'n')]
        t += [(p + 'post_attention_layernorm.weight', [h], 'n')]
        if family == 'gemma3':
            t += [(p + 'pre_feedforward_layernorm.weight', [h], 'n'),
                  (p + 'post_feedforward_layernorm.weight', [h], 'n')]
        t += [(p + 'mlp.gate_proj.weight', [f, h], 'w'), (p + 'mlp.up_proj.weight', [f, h], 'w'),
              (p + 'mlp.down_proj.weight', [h, f], 'w')]
    t += [('model.norm.weight', [h], 'n')]
    if not cfg.get('tie_word_embeddings', True):
        t += [('lm_head.weight', [cfg['vocab_size'], h], 'w')]
    return t


def write_safetensors(path, tensors):
    """tensors: list of (name, torch tensor); the format by its spec."""
    header, blobs, offset = {'__metadata__': {'format': 'pt'}}, [], 0
    names = {torch.float32: 'F32', torch.float16: 'F16', torch.bfloat16: 'BF16', torch.int64: 'I64'}
    for name, x in tensors:
        x = x.contiguous()
        raw = x.view(torch.int16).numpy().tobytes() if x.dtype == torch.bfloat16 else x.numpy().tobytes()
        header[name] = {'dtype': names[x.dtype], 'shape': list(x.shape),
                        'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * (-len(h) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('family', choices=sorted(ENCODERS) + sorted(DECODERS))
    ap.add_argument('out')
    ap.add_argument('--set', action='append', default=[], metavar='KEY=VALUE')
    ap.add_argument('--labels', help='comma-separated labels: a sequence classifier')
    ap.add_argument('--problem-type', help='config problem_type of the classifier')
    ap.add_argument('--dtype', choices=sorted(DTYPES), default='f32')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--tokenizer', help='folder whose tokenizer files are copied')
    ap.add_argument('--vocab', type=int, default=1000, help='vocab size without --tokenizer')
    ap.add_argument('--untied', action='store_true', help='decoders: a separate lm_head')
    ap.add_argument('--shards', type=int, default=1)
    ap.add_argument('--pooling', choices=['mean', 'cls'])
    a = ap.parse_args()

    vocab = a.vocab
    if a.tokenizer and os.path.exists(os.path.join(a.tokenizer, 'tokenizer.json')):
        with open(os.path.join(a.tokenizer, 'tokenizer.json'), encoding='utf-8') as f:
            tj = json.load(f)
        v = tj['model']['vocab']
        n = len(v) if isinstance(v, (list, dict)) else 0
        ids = [t['id'] for t in tj.get('added_tokens', [])]
        vocab = max([n] + [i + 1 for i in ids])
    cfg = base_config(a.family, vocab)
    if a.family in DECODERS and a.untied:
        cfg['tie_word_embeddings'] = False
    for kv in a.set:
        k, v = kv.split('=', 1)
        try:
            cfg[k] = json.loads(v)
        except json.JSONDecodeError:
            cfg[k] = v
    labels = a.labels.split(',') if a.labels else None
    if a.family in ENCODERS:
        e = ENCODERS[a.family]
        base, head, pooler = encoder_tensors(a.family, cfg, len(labels or []))
        if labels:
            arch = e['arch'] + 'ForSequenceClassification'
            tensors = [(e['prefix'] + n, s, k) for n, s, k in base + (pooler if a.family == 'bert' else [])]
            tensors += head
            cfg['id2label'] = {str(i): l for i, l in enumerate(labels)}
            cfg['label2id'] = {l: i for i, l in enumerate(labels)}
            if a.problem_type:
                cfg['problem_type'] = a.problem_type
        else:
            arch = e['arch'] + 'Model'
            tensors = base + pooler
        cfg['model_type'] = e['model_type']
    else:
        arch = DECODERS[a.family]['arch']
        cfg['model_type'] = DECODERS[a.family]['model_type']
        tensors = decoder_tensors(a.family, cfg)
    cfg['architectures'] = [arch]
    cfg['torch_dtype'] = {'f32': 'float32', 'f16': 'float16', 'bf16': 'bfloat16'}[a.dtype]
    cfg['transformers_version'] = '4.46.0'

    g = torch.Generator().manual_seed(a.seed)
    dtype = DTYPES[a.dtype][0]
    out = []
    for name, shape, kind in tensors:
        x = torch.randn(shape, generator=g) * (0.1 if kind == 'n' else 0.02)
        if kind == 'n':
            x += 0 if a.family == 'gemma3' else 1  # Gemma's norms store weight - 1
        out.append((name, x.to(dtype)))
    if a.family in ('bert', 'roberta', 'xlm-roberta'):
        pos = (e['prefix'] if labels else '') + 'embeddings.position_ids'
        out.append((pos, torch.arange(cfg['max_position_embeddings'], dtype=torch.int64)[None]))
    os.makedirs(a.out, exist_ok=True)
    if a.shards > 1:
        per = -(-len(out) // a.shards)
        index = {'metadata': {'total_size': 0}, 'weight_map': {}}
        for s in range(a.shards):
            name = f'model-{s + 1:05d}-of-{a.shards:05d}.safetensors'
            part = out[s * per:(s + 1) * per]
            write_safetensors(os.path.join(a.out, name), part)
            for n, x in part:
                index['weight_map'][n] = name
                index['metadata']['total_size'] += x.numel() * x.element_size()
        with open(os.path.join(a.out, 'model.safetensors.index.json'), 'w', encoding='utf-8') as f:
            json.dump(index, f, indent=2)
    else:
        write_safetensors(os.path.join(a.out, 'model.safetensors'), out)
    if a.pooling:
        os.makedirs(os.path.join(a.out, '1_Pooling'), exist_ok=True)
        with open(os.path.join(a.out, 'modules.json'), 'w', encoding='utf-8') as f:
            json.dump([{'idx': 0, 'name': '0', 'path': '', 'type': 'sentence_transformers.models.Transformer'},
                       {'idx': 1, 'name': '1', 'path': '1_Pooling', 'type': 'sentence_transformers.models.Pooling'}], f)
        with open(os.path.join(a.out, '1_Pooling', 'config.json'), 'w', encoding='utf-8') as f:
            json.dump({'word_embedding_dimension': cfg.get('hidden_size', cfg.get('dim')),
                       'pooling_mode_cls_token': a.pooling == 'cls',
                       'pooling_mode_mean_tokens': a.pooling == 'mean',
                       'pooling_mode_max_tokens': False, 'pooling_mode_mean_sqrt_len_tokens': False}, f)
    with open(os.path.join(a.out, 'config.json'), 'w', encoding='utf-8') as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
    if a.tokenizer:
        for name in ('tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json',
                     'vocab.txt', 'merges.txt', 'vocab.json', 'sentencepiece.bpe.model',
                     'tokenizer.model'):
            src = os.path.join(a.tokenizer, name)
            if os.path.exists(src):
                shutil.copy(src, os.path.join(a.out, name))
    return 0


if __name__ == '__main__':
    sys.exit(main())
