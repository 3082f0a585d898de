#!/bin/sh
# Seeds for fuzz_safetensors: tiny random-weight Hugging Face folders of
# every converter family (tests/models/make_hf_model.py, Debian's
# python3-torch), each as config.json, a NUL byte and model.safetensors;
# and bare safetensors files written by the spec.
#   tests/fuzz/fuzz_safetensors.seeds.sh CORPUS_DIR
set -eu
dir=$1
[ -f "$dir/seed-st-empty" ] && exit 0
/usr/bin/python3 - "$dir" <<'PY'
import json, struct, sys
out = sys.argv[1]
def write(path, tensors):
    header, data = {'__metadata__': {'format': 'pt'}}, b''
    for name, dtype, shape in tensors:
        n = 1
        for d in shape:
            n *= d
        size = n * {'F32': 4, 'F16': 2, 'BF16': 2, 'I64': 8, 'U8': 1}[dtype]
        header[name] = {'dtype': dtype, 'shape': shape, 'data_offsets': [len(data), len(data) + size]}
        data += bytes((i * 29 + len(data)) % 256 for i in range(size))
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * (-len(h) % 8)
    open(path, 'wb').write(struct.pack('<Q', len(h)) + h + data)
write(out + '/seed-st-mixed', [('a.weight', 'F32', [4, 8]), ('b', 'I64', [1, 4]),
                               ('c.bias', 'BF16', [8]), ('d', 'U8', [0])])
write(out + '/seed-st-empty', [])
PY
command -v /usr/bin/python3 >/dev/null && /usr/bin/python3 -c 'import torch' 2>/dev/null || exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tiny="--vocab 16 --set hidden_size=8 --set intermediate_size=16 --set num_attention_heads=2 --set num_hidden_layers=1"
for f in bert distilbert roberta xlm-roberta llama qwen2 qwen3 gemma3; do
  case $f in
    distilbert) args="--vocab 16 --set dim=8 --set hidden_dim=16 --set n_heads=2 --set n_layers=1 --labels a,b" ;;
    gemma3|qwen3) args="$tiny --set num_key_value_heads=1 --set head_dim=4" ;;
    llama|qwen2) args="$tiny --set num_key_value_heads=1 --untied" ;;
    *) args="$tiny --labels a,b,c" ;;
  esac
  /usr/bin/python3 tests/models/make_hf_model.py $f "$tmp/$f" $args --dtype bf16 >/dev/null
  { cat "$tmp/$f/config.json"; printf '\000'; cat "$tmp/$f/model.safetensors"; } > "$dir/seed-$f"
done
