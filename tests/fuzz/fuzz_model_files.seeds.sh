#!/bin/sh
# Seeds for fuzz_model_files: the GGUF seeds of fuzz_gguf.seeds.sh, whole
# and as prefixes, and one of them split in two parts as gguf-split writes
# them (split.no, split.count, split.tensors.count), in the target's input
# format (n, then u32 length + bytes per part).
#   tests/fuzz/fuzz_model_files.seeds.sh CORPUS_DIR
set -eu
dir=$1
[ -f "$dir/seed-split2" ] && exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$(dirname "$0")/fuzz_gguf.seeds.sh" "$tmp"
/usr/bin/python3 - "$tmp" "$dir" <<'PY'
import os, struct, sys
src, out = sys.argv[1], sys.argv[2]
def wrap(parts):
    return bytes([len(parts) - 1]) + b''.join(struct.pack('<I', len(p)) + p for p in parts)
for name in sorted(os.listdir(src)):
    data = open(os.path.join(src, name), 'rb').read()
    open(os.path.join(out, 'one-' + name), 'wb').write(wrap([data]))
    open(os.path.join(out, 'prefix-' + name), 'wb').write(wrap([data[:len(data) // 3]]))
def s(x):
    return struct.pack('<Q', len(x)) + x
def kv_u16(k, v):
    return s(k.encode()) + struct.pack('<IH', 2, v)
def gguf(kvs, tensors):
    head = b'GGUF' + struct.pack('<IQQ', 3, len(tensors), len(kvs)) + b''.join(kvs)
    infos, data = b'', b''
    for name, ne in tensors:
        infos += s(name.encode()) + struct.pack('<I', len(ne)) + b''.join(struct.pack('<Q', d) for d in ne)
        infos += struct.pack('<IQ', 0, len(data))
        data += bytes(4 * ne[0] * ne[1]) + b'\0' * (-(4 * ne[0] * ne[1]) % 32)
    body = head + infos
    return body + b'\0' * (-len(body) % 32) + data
arch = s(b'general.architecture') + struct.pack('<I', 8) + s(b'llama')
p1 = gguf([arch, kv_u16('split.no', 0), kv_u16('split.count', 2)], [('token_embd.weight', [8, 4])])
p2 = gguf([kv_u16('split.no', 1), kv_u16('split.count', 2)], [('output.weight', [8, 4])])
open(os.path.join(out, 'seed-split2'), 'wb').write(wrap([p1, p2]))
PY
