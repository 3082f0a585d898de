#!/bin/sh
# Seeds for fuzz_chat: the chat templates of the test vocabularies
# (tests/tokenizers/vocabs.mjs) and Mistral's, each with a conversation.
#   tests/fuzz/fuzz_chat.seeds.sh CORPUS_DIR
set -eu
[ -f "$1/seed-qwen3" ] && exit 0
node tests/tokenizers/fuzz-seeds.mjs chat "$1"
