#!/bin/sh
# Seeds for fuzz_tokenizer_json: each test vocabulary (tests/tokenizers/),
# shrunk to a few hundred tokens with its real normalizer, pre-tokenizer,
# post-processor and added tokens.
#   tests/fuzz/fuzz_tokenizer_json.seeds.sh CORPUS_DIR
set -eu
[ -f "$1/seed-gpt2.json" ] && exit 0
node tests/tokenizers/fuzz-seeds.mjs json "$1"
