#!/bin/sh
# Seeds for fuzz_safetensors: small safetensors files as Hugging Face
# writes them (a JSON header padded with spaces to 8 bytes, tensors in
# order), written by an independent writer (Python, by the spec).
#   tests/fuzz/fuzz_safetensors.seeds.sh CORPUS_DIR
set -eu
dir=$1
[ -f "$dir/seed-bert" ] && exit 0
/usr/bin/python3 - "$dir" <<'PY'
import json, struct, sys
out = sys.argv[1]
SIZE = {'F32': 4, 'F16': 2, 'BF16': 2, 'I64': 8, 'U8': 1, 'F64': 8}
def write(path, tensors, meta=None):
    header, data = {}, b''
    if meta is not None:
        header['__metadata__'] = meta
    for name, dtype, shape in tensors:
        n = 1
        for d in shape:
            n *= d
        size = n * SIZE[dtype]
        header[name] = {'dtype': dtype, 'shape': shape, 'data_offsets': [len(data), len(data) + size]}
        data += bytes((i * 29 + len(data)) % 256 for i in range(size))
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * (-len(h) % 8)
    open(path, 'wb').write(struct.pack('<Q', len(h)) + h + data)
write(out + '/seed-bert', [('embeddings.word_embeddings.weight', 'F32', [10, 8]),
                           ('embeddings.position_ids', 'I64', [1, 4]),
                           ('encoder.layer.0.attention.self.query.weight', 'F16', [8, 8]),
                           ('encoder.layer.0.attention.self.query.bias', 'BF16', [8])], {'format': 'pt'})
write(out + '/seed-llama', [('model.embed_tokens.weight', 'BF16', [16, 8]),
                            ('model.norm.weight', 'F32', [8]), ('lm_head.weight', 'F64', [2, 8]),
                            ('x', 'U8', [0])])
write(out + '/seed-empty', [])
PY
