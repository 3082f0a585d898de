#!/bin/sh
# Seeds for fuzz_llm: tiny random-weight llama, qwen2, qwen3 and gemma3
# models written by tests/models/make_hf_model.py with the shrunk real
# vocabularies of tests/tokenizers/fuzz-seeds.mjs, converted by the native
# CLI in several tensor types (one 256 wide, for the K-quants).
#   tests/fuzz/fuzz_llm.seeds.sh CORPUS_DIR
set -eu
dir=$1
[ -f "$dir/seed-llama-f32" ] && exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
node tests/tokenizers/fuzz-seeds.mjs json "$tmp/tok" >/dev/null
small="--set hidden_size=32 --set intermediate_size=64 --set num_attention_heads=2
  --set num_key_value_heads=1 --set num_hidden_layers=1 --set max_position_embeddings=32"
make() { # make FAMILY TYPE VOCABULARY [ARGS...]
  f=$1 t=$2 v=$3
  shift 3
  mkdir -p "$tmp/$v"
  cp "$tmp/tok/seed-$v.json" "$tmp/$v/tokenizer.json"
  n=$(node -e "const j = require('$tmp/$v/tokenizer.json'); const ids = Object.values(j.model.vocab)
    .concat(j.added_tokens.map(a => a.id)); console.log(Math.max(...ids) + 1)")
  /usr/bin/python3 tests/models/make_hf_model.py "$f" "$tmp/$f-$t" $small --vocab "$n" \
    --tokenizer "$tmp/$v" "$@" >/dev/null
  ${SOTTO:-out/native/engine/sotto} convert --type "$t" "$tmp/$f-$t" "$dir/seed-$f-$t" >/dev/null
}
make llama f32 llama3
make llama q4_k_m llama2 --set hidden_size=256 --set intermediate_size=256 --untied
make qwen2 q8_0 qwen3
make qwen3 q4_0 qwen3 --set head_dim=16
make gemma3 f16 gemma3 --set head_dim=16 --set query_pre_attn_scalar=16 --set sliding_window=4
