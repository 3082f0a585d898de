#!/bin/sh
# Seeds for fuzz_store: files sealed under the target's fixed key by the
# independent reference sealer (tests/store/open_store.py, PyNaCl), so the
# fuzzer starts from valid files; and plaintexts for its round-trip mode.
#   tests/fuzz/fuzz_store.seeds.sh CORPUS_DIR
set -eu
dir=$1
[ -f "$dir/seed-plain-1" ] && exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The key of fuzz_store.c: "sotto fuzz key, 32 bytes long!!" and its NUL.
printf 'sotto-store-key 1\nkey %s00\n' "$(printf 'sotto fuzz key, 32 bytes long!!' | od -An -tx1 | tr -d ' \n')" > "$tmp/key"
printf '\001' > "$dir/seed-plain-0"
printf '\001hello, model' > "$dir/seed-plain-1"
head -c 700 /dev/urandom | { printf '\001'; cat; } > "$dir/seed-plain-2"
if /usr/bin/python3 -c 'import nacl.bindings' 2>/dev/null; then
  for n in 0 1 100 1000; do
    head -c $n /dev/urandom > "$tmp/p$n"
    sha=$(sha256sum "$tmp/p$n" | cut -d' ' -f1)
    /usr/bin/python3 tests/store/open_store.py --seal "$tmp/key" "$tmp/p$n" \
      "{\"id\":\"seed\",\"format\":\"gguf\",\"size\":$n,\"sha256\":\"$sha\"}" "$tmp/s$n" 64
    { printf '\000'; cat "$tmp/s$n"; } > "$dir/seed-sealed-$n"
  done
fi
