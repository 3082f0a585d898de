#!/bin/sh
# Seeds for fuzz_charsmap: the precompiled_charsmap of the Unigram test model
# (trained by Debian's python3-sentencepiece, nmt_nfkc rules) with texts.
#   tests/fuzz/fuzz_charsmap.seeds.sh CORPUS_DIR
set -eu
[ -f "$1/seed-unigram-0" ] && exit 0
node tests/tokenizers/fuzz-seeds.mjs charsmap "$1"
