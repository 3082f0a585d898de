#!/bin/sh
# Seeds for fuzz_charsmap: a small precompiled_charsmap built by Debian's
# python3-sentencepiece from a handful of normalisation rules of each kind
# (tests/tokenizers/make-unigram.py --charsmap), with texts that use them.
#   tests/fuzz/fuzz_charsmap.seeds.sh CORPUS_DIR
set -eu
[ -f "$1/seed-small-0" ] && exit 0
node tests/tokenizers/fuzz-seeds.mjs charsmap "$1"
