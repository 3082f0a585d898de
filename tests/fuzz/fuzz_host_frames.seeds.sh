#!/bin/sh
# Seeds for fuzz_host_frames: requests of every host op and some engine ops,
# as lines (first byte odd) and as a framed byte stream (first byte even).
#   tests/fuzz/fuzz_host_frames.seeds.sh CORPUS_DIR
set -eu
dir=$1
[ -f "$dir/seed-lines" ] && exit 0
sha0=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 # sha256 of nothing
sha4=df3f619804a92fdb4057192dc43dd748ea778adc52bc498ce80524c014b81119 # of "\0\0\0\0"
lines='{"id":1,"op":"host.hello"}
{"id":2,"op":"models.list"}
{"id":"2h","op":"host.models.list"}
{"id":"m","op":"tensor.matmul","a":{"shape":[2,2],"data":[1,2,3,4]},"b":{"shape":[2,1],"data":[5,6]}}
{"id":"big","op":"tensor.matmul","a":{"shape":[30,1],"data":[1,2,3,4,5,6,7,8,9,10,1,2,3,4,5,6,7,8,9,10,1,2,3,4,5,6,7,8,9,10]},"b":{"shape":[1,30],"data":[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.1,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.1,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.1]}}
{"id":3,"op":"host.models.install.begin","model":"m","format":"gguf","task":"t","size":4,"sha256":"'$sha4'"}
{"id":4,"op":"host.models.install.chunk","model":"m","seq":0,"data":"AAAAAA=="}
{"id":5,"op":"host.models.install.end","model":"m"}
{"id":6,"op":"classify","model":"m","text":"hello"}
{"id":7,"op":"host.models.delete","model":"m"}
{"id":8,"op":"host.models.install.begin","model":"e","format":"fasttext","size":0,"sha256":"'$sha0'"}
{"id":9,"op":"host.models.install.abort","model":"e"}
{"id":10,"op":"cancel","target":1}
{"id":11,"op":"host.store.unlock","passphrase":"x"}
{"id":12,"op":"summarize","text":"One sentence here. Another one there. A third.","length":"short"}
{"id":13,"op":"classify","task":"language","text":"bonjour"}
{"id":14,"op":"tensor.softmax","x":{"shape":[3],"data":[1,2,3]}}'
{ printf '\001'; printf '%s\n' "$lines"; } > "$dir/seed-lines"
# Replies over the output limit with multi-byte characters and escapes in
# them: a model whose manifest has a long "source", then listed.
/usr/bin/python3 -c '
import json
src = "caf\u00e9 \"\u20ac\" \\ \U0001F600 " * 150
sha4 = "df3f619804a92fdb4057192dc43dd748ea778adc52bc498ce80524c014b81119"
for r in [{"id": "u1", "op": "host.models.install.begin", "model": "utf8", "format": "gguf", "size": 4, "sha256": sha4, "source": src},
          {"id": "u2", "op": "host.models.install.chunk", "model": "utf8", "seq": 0, "data": "AAAAAA=="},
          {"id": "u3", "op": "host.models.install.end", "model": "utf8"},
          {"id": "u4", "op": "host.models.list"},
          {"id": "u5", "op": "host.models.delete", "model": "utf8"}]:
    print(json.dumps(r, ensure_ascii=False))' | { printf '\001'; cat; } > "$dir/seed-utf8"
# The same requests framed (4-byte little-endian lengths), after a zero-length frame.
printf '%s\n' "$lines" | /usr/bin/python3 -c '
import struct, sys
out = bytearray(b"\x00") + struct.pack("<I", 0)
for line in sys.stdin.read().splitlines():
    b = line.encode()
    out += struct.pack("<I", len(b)) + b
sys.stdout.buffer.write(out)' > "$dir/seed-frames"
