#!/bin/sh
# Seeds for fuzz_gguf: small GGUF files written by an independent writer
# (Python, by the spec), with every metadata value type, arrays of numbers
# and strings (a tokenizer-like vocabulary), tensors of every type sotto
# reads, two alignments and both versions 2 and 3.
#   tests/fuzz/fuzz_gguf.seeds.sh CORPUS_DIR
set -eu
dir=$1
[ -f "$dir/seed-v3-a32" ] && exit 0
/usr/bin/python3 - "$dir" <<'PY'
import struct, sys
out = sys.argv[1]
def s(x):
    b = x.encode() if isinstance(x, str) else x
    return struct.pack('<Q', len(b)) + b
FMT = {0: 'B', 1: 'b', 2: 'H', 3: 'h', 4: 'I', 5: 'i', 6: 'f', 7: '?', 10: 'Q', 11: 'q', 12: 'd'}
def kv(key, t, v):
    if t == 8:
        return s(key) + struct.pack('<I', 8) + s(v)
    if t == 9:
        et, vals = v
        body = b''.join(s(x) for x in vals) if et == 8 else b''.join(struct.pack('<' + FMT[et], x) for x in vals)
        return s(key) + struct.pack('<IIQ', 9, et, len(vals)) + body
    return s(key) + struct.pack('<I', t) + struct.pack('<' + FMT[t], v)
# (ggml type, block values, block bytes)
TYPES = [(0, 1, 4), (1, 1, 2), (30, 1, 2), (2, 32, 18), (3, 32, 20), (6, 32, 22), (7, 32, 24),
         (8, 32, 34), (9, 32, 36), (12, 256, 144), (13, 256, 176), (14, 256, 210), (15, 256, 292)]
def gguf(version, align, kvs, tensors):
    if align != 32:
        kvs = kvs + [kv('general.alignment', 4, align)]
    head = b'GGUF' + struct.pack('<IQQ', version, len(tensors), len(kvs)) + b''.join(kvs)
    infos, data, off = b'', b'', 0
    for name, t, ne in tensors:
        blk, nb = next((b, n) for (i, b, n) in TYPES if i == t)
        rows = 1
        for d in ne[1:]:
            rows *= d
        size = ne[0] // blk * nb * rows
        infos += s(name) + struct.pack('<I', len(ne)) + b''.join(struct.pack('<Q', d) for d in ne)
        infos += struct.pack('<IQ', t, off)
        data += bytes((i * 37 + off) % 251 for i in range(size))
        data += b'\0' * (-len(data) % align)
        off = len(data)
    body = head + infos
    body += b'\0' * (-len(body) % align)
    return body + data
meta = [kv('general.architecture', 8, 'llama'), kv('llama.block_count', 4, 2),
        kv('llama.rope.freq_base', 6, 10000.0), kv('u8', 0, 7), kv('i8', 1, -7), kv('u16', 2, 700),
        kv('i16', 3, -700), kv('i32', 5, -70000), kv('b', 7, True), kv('u64', 10, 1 << 40),
        kv('i64', 11, -(1 << 40)), kv('f64', 12, 0.25),
        kv('tokenizer.ggml.tokens', 9, (8, ['<s>', '</s>', 'a', 'b', '\u0120the', ''])),
        kv('tokenizer.ggml.scores', 9, (6, [0.0, -1.0, -2.5, -3.0, -4.0, -5.0])),
        kv('tokenizer.ggml.token_type', 9, (5, [3, 3, 1, 1, 1, 1])),
        kv('empty', 9, (4, []))]
tensors = [('token_embd.weight', 0, [32, 6]), ('blk.0.attn_q.weight', 8, [64, 2])]
open(out + '/seed-v3-a32', 'wb').write(gguf(3, 32, meta, tensors))
open(out + '/seed-v2-a64', 'wb').write(gguf(2, 64, meta[:4], tensors))
open(out + '/seed-no-tensors', 'wb').write(gguf(3, 32, meta, []))
every = [('t%d' % t, t, [b * (2 if b == 1 else 1), 2]) for (t, b, n) in TYPES]
open(out + '/seed-every-type', 'wb').write(gguf(3, 32, meta[:2], every))
open(out + '/seed-4d', 'wb').write(gguf(3, 16, [], [('x', 1, [2, 3, 4, 5]), ('y', 14, [256])]))
PY
