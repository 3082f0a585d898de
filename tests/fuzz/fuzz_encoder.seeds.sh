#!/bin/sh
# Seeds for fuzz_encoder: tiny random-weight BERT, DistilBERT and RoBERTa
# models (a classifier among them) written by tests/models/make_hf_model.py
# and converted by the native CLI, in f32 and q8_0.
#   tests/fuzz/fuzz_encoder.seeds.sh CORPUS_DIR
set -eu
dir=$1
[ -f "$dir/seed-bert-f32" ] && exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
small="--vocab 48 --set hidden_size=32 --set intermediate_size=64 --set num_attention_heads=2
  --set num_hidden_layers=1 --set max_position_embeddings=24"
/usr/bin/python3 tests/models/make_hf_model.py bert "$tmp/bert" $small
/usr/bin/python3 tests/models/make_hf_model.py roberta "$tmp/roberta" $small --set max_position_embeddings=26 \
  --labels neg,pos
/usr/bin/python3 tests/models/make_hf_model.py distilbert "$tmp/distilbert" --vocab 48 --set dim=32 \
  --set hidden_dim=64 --set n_heads=2 --set n_layers=1 --set max_position_embeddings=24 --labels a,b,c
for m in bert roberta distilbert; do
  for t in f32 q8_0; do
    ${SOTTO:-out/native/engine/sotto} convert --weights-only --type $t "$tmp/$m" "$dir/seed-$m-$t" >/dev/null
  done
done
