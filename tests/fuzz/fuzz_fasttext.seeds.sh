#!/bin/sh
# Seeds for fuzz_fasttext: small models of every kind trained and quantized
# with Debian's fastText (softmax, hierarchical softmax, one-vs-all, negative
# sampling, word and char n-grams, quantized with and without norms), plus
# prefixes of lid.176. Written once; libFuzzer grows the corpus from them.
# The trained ones are kept small (words seen 3 times, 1,000 n-gram buckets:
# about 15 KB each), as every input is read whole and mutations grow from
# the seeds: 300 KB seeds made each execution 10 times slower for no more
# of the reader's code reached.
#   tests/fuzz/fuzz_fasttext.seeds.sh CORPUS_DIR
set -eu
dir=$1
[ -f "$dir/seed-softmax.bin" ] && exit 0
command -v fasttext >/dev/null || { echo "fuzz: no fasttext (build/install-tools.sh models)" >&2; exit 0; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A tiny labelled corpus from the debconf translations the lid test uses.
/usr/bin/python3 tests/lid/make-lid-set.py "$tmp" >/dev/null
paste -d' ' "$tmp/langs.txt" "$tmp/sentences.txt" | sed 's/^/__label__/' | head -400 > "$tmp/train.txt"
train() { # NAME ARGS...
  name=$1; shift
  fasttext supervised -input "$tmp/train.txt" -output "$tmp/$name" -dim 4 -epoch 1 \
    -thread 1 -minCount 3 -bucket 1000 -verbose 0 "$@" >/dev/null 2>&1
  cp "$tmp/$name.bin" "$dir/seed-$name.bin"
}
train softmax -loss softmax
train hs -loss hs -minn 2 -maxn 3
train ova -loss ova -wordNgrams 2
train ns -loss ns -neg 2 -maxn 0
fasttext quantize -input "$tmp/train.txt" -output "$tmp/softmax" -dsub 2 -qnorm \
  -cutoff 300 -retrain -epoch 1 -thread 1 -verbose 0 >/dev/null 2>&1
cp "$tmp/softmax.ftz" "$dir/seed-softmax-q.ftz"
lid=${OUT:-out}/models/lid176.ftz
if [ -f "$lid" ]; then
  for n in 100 4000 60000 300000; do head -c "$n" "$lid" > "$dir/seed-lid-$n"; done
fi
