#!/bin/sh
# Seeds for fuzz_host_frames: requests of every host op and some engine ops,
# as lines (first byte odd) and as a framed byte stream (first byte even),
# each input small (the fuzzer's -max_len is 1 KiB for this target).
#   tests/fuzz/fuzz_host_frames.seeds.sh CORPUS_DIR
set -eu
dir=$1
[ -f "$dir/seed-store" ] && exit 0
sha0=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 # sha256 of nothing
sha4=df3f619804a92fdb4057192dc43dd748ea778adc52bc498ce80524c014b81119 # of "\0\0\0\0"
# One small input per kind of exchange (the fuzzer splices them into longer
# ones): each line is sent as one frame.
seed() { # NAME LINES
  { printf '\001'; printf '%s\n' "$2"; } > "$dir/seed-$1"
}
seed hello '{"id":1,"op":"host.hello"}
{"id":2,"op":"models.list"}
{"id":"2h","op":"host.models.list"}
{"id":10,"op":"cancel","target":1}
{"id":11,"op":"host.store.unlock","passphrase":"x"}'
seed tensor '{"id":"m","op":"tensor.matmul","a":{"shape":[2,2],"data":[1,2,3,4]},"b":{"shape":[2,1],"data":[5,6]}}
{"id":"big","op":"tensor.matmul","a":{"shape":[30,1],"data":[1,2,3,4,5,6,7,8,9,10,1,2,3,4,5,6,7,8,9,10,1,2,3,4,5,6,7,8,9,10]},"b":{"shape":[1,30],"data":[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.1,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.1,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.1]}}
{"id":14,"op":"tensor.softmax","x":{"shape":[3],"data":[1,2,3]}}'
seed store '{"id":3,"op":"host.models.install.begin","model":"m","format":"gguf","task":"t","size":4,"sha256":"'$sha4'"}
{"id":4,"op":"host.models.install.chunk","model":"m","seq":0,"data":"AAAAAA=="}
{"id":5,"op":"host.models.install.end","model":"m"}
{"id":6,"op":"classify","model":"m","text":"hello"}
{"id":7,"op":"host.models.delete","model":"m"}
{"id":8,"op":"host.models.install.begin","model":"e","format":"fasttext","size":0,"sha256":"'$sha0'"}
{"id":9,"op":"host.models.install.abort","model":"e"}'
seed text '{"id":12,"op":"summarize","text":"One sentence here. Another one there. A third.","length":"short"}
{"id":13,"op":"classify","task":"language","text":"bonjour"}'
# Multi-byte characters and escapes: a summary that repeats its whole text
# (a reply over the output limit, so sent in chunk messages), and a model
# manifest's "source", listed.
/usr/bin/python3 - "$dir" <<'PY'
import json, sys
d = sys.argv[1]
s = "caf\u00e9 \"\u20ac\" \\ \U0001F600"
text = " ".join(f"Sentence {i} says {s} and {s} again, {s}." for i in range(7))
sha4 = "df3f619804a92fdb4057192dc43dd748ea778adc52bc498ce80524c014b81119"
seeds = {
    "utf8-summary": [{"id": "s1", "op": "summarize", "text": text, "length": "long"}],
    "utf8-manifest": [
        {"id": "u1", "op": "host.models.install.begin", "model": "utf8", "format": "gguf", "size": 4,
         "sha256": sha4, "source": (s + " ") * 10},
        {"id": "u2", "op": "host.models.install.chunk", "model": "utf8", "seq": 0, "data": "AAAAAA=="},
        {"id": "u3", "op": "host.models.install.end", "model": "utf8"},
        {"id": "u4", "op": "host.models.list"}],
}
for name, reqs in seeds.items():
    with open(f"{d}/seed-{name}", "wb") as f:
        f.write(b"\x01" + "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in reqs).encode())
PY
# The same requests framed (4-byte little-endian lengths), after a
# zero-length frame.
frames() { # NAME SEEDS...
  name=$1; shift
  for f in "$@"; do tail -c +2 "$dir/seed-$f"; done | /usr/bin/python3 -c '
import struct, sys
out = bytearray(b"\x00") + struct.pack("<I", 0)
for line in sys.stdin.read().splitlines():
    b = line.encode()
    out += struct.pack("<I", len(b)) + b
sys.stdout.buffer.write(out)' > "$dir/seed-$name"
}
frames frames-a hello tensor
frames frames-b store text
