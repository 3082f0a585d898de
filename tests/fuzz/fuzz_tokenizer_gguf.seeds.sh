#!/bin/sh
# Seeds for fuzz_tokenizer_gguf: GGUF files holding only tokenizer metadata,
# written by sotto from the shrunk test vocabularies (fuzz_tokenizer_json's
# seeds), one per tokenizer kind and pre-tokenizer.
#   tests/fuzz/fuzz_tokenizer_gguf.seeds.sh CORPUS_DIR   (needs make native)
set -eu
[ -f "$1/seed-gpt2.gguf" ] && exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
node tests/tokenizers/fuzz-seeds.mjs json "$tmp"
for f in "$tmp"/seed-*.json; do
  out/native/tests/tokcheck --to-gguf "$f" - "$1/$(basename "$f" .json).gguf" llama
done
