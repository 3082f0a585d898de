#!/usr/bin/env bash
# Reproducible training of the default English sentiment classifier
# (sentiment-en.ftz, fastText format).
#
# Requirements (Debian 12): apt-get install fasttext r-cran-modeldata r-base-core
#
# Usage: ./train.sh [--no-search] [BUILD_DIR]
#
#   BUILD_DIR    scratch directory for exported data, search logs and
#                intermediate models (default: ./build next to this script;
#                it is build output and is not committed).
#   --no-search  skip the cross-validated hyper-parameter search and use the
#                values recorded in DEFAULT_* below (the values the search
#                selects; the resulting model is byte-identical).
#   JOBS=N       environment variable: number of single-threaded fastText
#                runs executed in parallel during the search (default: number
#                of CPUs). Each run uses -thread 1 and a fixed -seed, so the
#                result does not depend on JOBS.
#
# Steps
#   1. export-data.R writes the modeldata `small_fine_foods` reviews as
#      fastText text files: train.txt (4,000), test.txt (1,000) and five
#      stratified cross-validation folds cut from train.txt only.
#   2. Hyper-parameter search: every configuration in GRID is trained on the
#      training part of each fold and scored on that fold's validation part
#      (number of correct predictions summed over the 5 folds). The first
#      GRID entry (GRID runs from small/cheap to large) within TOLERANCE of
#      the best is selected.
#   3. The final model is trained on all 4,000 training reviews with it.
#   4. Quantisation search: each cutoff in CUTOFFS whose quantised final
#      model stays below MAX_FTZ_BYTES is cross-validated the same way (fold
#      models quantised with -qnorm -retrain -cutoff C); the most accurate
#      cutoff wins (ties: the smaller cutoff). The final model is quantised
#      with it.
#   5. Both the .bin and the .ftz are evaluated once on the 1,000 held-out
#      test reviews, which play no part in steps 2-4.
#   6. The quantised model is copied to sentiment-en.ftz next to this script.
#   7. Calibration (calibrate.R): five fold models, trained and quantised
#      exactly as the final model on 4/5 of the training reviews, predict
#      their held-out fifth; Platt scaling is fit on these 4,000 out-of-fold
#      probabilities, and the share of a text's words the model knows is
#      measured on them. build/calibration.txt holds the result, which the
#      engine's model card for sentiment-en carries
#      (engine/src/models/cards.c). The test reviews play no part.
#
# Label meaning: __label__positive = the reviewer gave 5 stars (source score
# "great"); __label__negative = 1 to 4 stars (source score "other").

set -euo pipefail
export LC_ALL=C.UTF-8

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SELF=$HERE/$(basename "${BASH_SOURCE[0]}")
SEED=1
FOLDS=5
BUCKET=200000

# Search grid: "wordNgrams dim epoch lr minn maxn", ordered from the smallest
# and cheapest model to the largest.
GRID=(
  "1 10 5 0.5 0 0"   "1 10 10 0.25 0 0"   "1 10 25 0.1 0 0"   "1 10 50 0.05 0 0"   "1 10 50 0.1 0 0"
  "2 10 5 0.5 0 0"   "2 10 10 0.25 0 0"   "2 10 25 0.1 0 0"   "2 10 50 0.05 0 0"   "2 10 50 0.1 0 0"
  "3 10 5 0.5 0 0"   "3 10 10 0.25 0 0"   "3 10 25 0.1 0 0"   "3 10 50 0.05 0 0"   "3 10 50 0.1 0 0"
  "2 10 10 0.25 3 5" "2 10 25 0.1 3 5"
  "1 50 5 0.5 0 0"   "1 50 10 0.25 0 0"   "1 50 25 0.1 0 0"   "1 50 50 0.05 0 0"   "1 50 50 0.1 0 0"
  "2 50 5 0.5 0 0"   "2 50 10 0.25 0 0"   "2 50 25 0.1 0 0"   "2 50 50 0.05 0 0"   "2 50 50 0.1 0 0"
  "3 50 5 0.5 0 0"   "3 50 10 0.25 0 0"   "3 50 25 0.1 0 0"   "3 50 50 0.05 0 0"   "3 50 50 0.1 0 0"
)
# Parsimony: the first GRID entry whose cross-validated number of correct
# predictions is within TOLERANCE of the best entry is selected (10 of 4,000
# reviews = 0.25 percentage points, well inside fold-to-fold noise).
TOLERANCE=10
# Quantisation cutoffs tried; those whose final .ftz would not be smaller
# than MAX_FTZ_BYTES are dropped before the cross-validation.
CUTOFFS=(10000 25000 50000 100000)
MAX_FTZ_BYTES=1000000

# Values selected by the search (used with --no-search).
DEFAULT_CONFIG="2 10 25 0.1 0 0"
DEFAULT_CUTOFF=50000

# ---------------------------------------------------------------------------

die() { echo "train.sh: $*" >&2; exit 1; }
ratio() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.4f", n / t }'; }

# correct MODEL FILE: number of lines of FILE whose first label fastText
# predicts correctly.
correct() {
  paste -d' ' <(fasttext predict "$1" "$2") <(cut -d' ' -f1 "$2") |
    awk '$1 == $2 { n++ } END { print n + 0 }'
}

# supervised_args "wordNgrams dim epoch lr minn maxn"
supervised_args() {
  local w d e l mi ma
  read -r w d e l mi ma <<<"$1"
  echo "-wordNgrams $w -dim $d -epoch $e -lr $l -minn $mi -maxn $ma -bucket $BUCKET -loss softmax -minCount 1 -thread 1 -seed $SEED"
}

# quantize_args "config" cutoff
quantize_args() {
  local w d e l mi ma
  read -r w d e l mi ma <<<"$1"
  echo "-qnorm -retrain -cutoff $2 -epoch $e -lr $l -thread 1 -seed $SEED"
}

# Internal job entry points (run in parallel through xargs).
if [[ ${1:-} == __cv ]]; then
  # __cv DATA OUT CONFIG_ID K CONFIG
  data=$2 out=$3 id=$4 k=$5 cfg=$6
  m="$out/c${id}_f${k}"
  # shellcheck disable=SC2046
  fasttext supervised -input "$data/cv/fold$k.train.txt" -output "$m" -verbose 0 $(supervised_args "$cfg")
  correct "$m.bin" "$data/cv/fold$k.valid.txt" >"$m.correct"
  rm -f "$m.bin" "$m.vec"
  exit 0
fi
if [[ ${1:-} == __cal ]]; then
  # __cal DATA OUT K CONFIG CUTOFF: a fold model as the final one is made,
  # its probabilities on the held-out fold and its dictionary
  data=$2 out=$3 k=$4 cfg=$5 cut=$6
  m="$out/cal_f${k}"
  # shellcheck disable=SC2046
  fasttext supervised -input "$data/cv/fold$k.train.txt" -output "$m" -verbose 0 $(supervised_args "$cfg")
  # shellcheck disable=SC2046
  fasttext quantize -input "$data/cv/fold$k.train.txt" -output "$m" -verbose 0 $(quantize_args "$cfg" "$cut")
  cut -d' ' -f2- "$data/cv/fold$k.valid.txt" | fasttext predict-prob "$m.ftz" - 2 >"$m.pred"
  fasttext dump "$m.ftz" dict | awk 'NR > 1 && $3 == "word" { print $1 }' >"$m.words"
  rm -f "$m.bin" "$m.vec" "$m.ftz"
  exit 0
fi
if [[ ${1:-} == __q ]]; then
  # __q DATA OUT K CONFIG CUTOFF
  data=$2 out=$3 k=$4 cfg=$5 cut=$6
  m="$out/q${cut}_f${k}"
  # shellcheck disable=SC2046
  fasttext supervised -input "$data/cv/fold$k.train.txt" -output "$m" -verbose 0 $(supervised_args "$cfg")
  # shellcheck disable=SC2046
  fasttext quantize -input "$data/cv/fold$k.train.txt" -output "$m" -verbose 0 $(quantize_args "$cfg" "$cut")
  correct "$m.ftz" "$data/cv/fold$k.valid.txt" >"$m.correct"
  rm -f "$m.bin" "$m.vec" "$m.ftz"
  exit 0
fi

SEARCH=1
BUILD=$HERE/build
for a in "$@"; do
  case $a in
    --no-search) SEARCH=0 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$SELF" | sed '$d'; exit 0 ;;
    -*) die "unknown option $a" ;;
    *) BUILD=$a ;;
  esac
done
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 1)}

command -v fasttext >/dev/null || die "fasttext not found (apt-get install fasttext)"
command -v Rscript >/dev/null || die "Rscript not found (apt-get install r-base-core)"
Rscript -e 'quit(status = !requireNamespace("modeldata", quietly = TRUE))' ||
  die "R package modeldata not found (apt-get install r-cran-modeldata)"

START=$(date +%s)
DATA=$BUILD/data
rm -rf "$DATA" "$BUILD/search" "$BUILD/final" "$BUILD/search.tsv" \
  "$BUILD/quant-search.tsv" "$BUILD/report.txt" "$BUILD/versions.txt"
mkdir -p "$DATA" "$BUILD/search" "$BUILD/final"

echo "== versions"
dpkg-query -W fasttext r-cran-modeldata r-base-core 2>/dev/null | tee "$BUILD/versions.txt" || true

echo "== export data"
Rscript "$HERE/export-data.R" "$DATA" "$FOLDS"
NTRAIN=$(wc -l <"$DATA/train.txt")

if [[ $SEARCH == 1 ]]; then
  echo "== hyper-parameter search: ${#GRID[@]} configurations x $FOLDS folds (JOBS=$JOBS)"
  for i in "${!GRID[@]}"; do
    for k in $(seq 1 "$FOLDS"); do
      printf '%s\0%s\0%s\0%s\0%s\0%s\0' __cv "$DATA" "$BUILD/search" "$i" "$k" "${GRID[$i]}"
    done
  done | xargs -0 -n 6 -P "$JOBS" bash "$SELF"
  best_n=-1
  declare -a NCORR
  printf 'id\twordNgrams dim epoch lr minn maxn\tcv_correct\tcv_accuracy\n' >"$BUILD/search.tsv"
  for i in "${!GRID[@]}"; do
    n=$(cat "$BUILD/search/c${i}"_f*.correct | awk '{ s += $1 } END { print s }')
    NCORR[i]=$n
    printf '%s\t%s\t%s\t%s\n' "$i" "${GRID[$i]}" "$n" "$(ratio "$n" "$NTRAIN")" | tee -a "$BUILD/search.tsv"
    if ((n > best_n)); then best_n=$n; fi
  done
  for i in "${!GRID[@]}"; do
    if ((NCORR[i] >= best_n - TOLERANCE)); then sel_i=$i; break; fi
  done
  CONFIG=${GRID[$sel_i]}
  echo "best cross-validated accuracy: $(ratio "$best_n" "$NTRAIN")"
  echo "selected (first within $TOLERANCE): $CONFIG ($(ratio "${NCORR[sel_i]}" "$NTRAIN"))"
else
  CONFIG=$DEFAULT_CONFIG
  echo "== search skipped; using: $CONFIG, cutoff $DEFAULT_CUTOFF"
fi

echo "== final model (all $NTRAIN training reviews)"
FINAL=$BUILD/final/sentiment-en
TRAIN_CMD="fasttext supervised -input train.txt -output sentiment-en $(supervised_args "$CONFIG")"
echo "$TRAIN_CMD"
# shellcheck disable=SC2046
fasttext supervised -input "$DATA/train.txt" -output "$FINAL" -verbose 0 $(supervised_args "$CONFIG")

quantize_final() {
  QUANT_CMD="fasttext quantize -input train.txt -output sentiment-en $(quantize_args "$CONFIG" "$1")"
  # shellcheck disable=SC2046
  fasttext quantize -input "$DATA/train.txt" -output "$FINAL" -verbose 0 $(quantize_args "$CONFIG" "$1")
}

if [[ $SEARCH == 1 ]]; then
  echo "== quantisation search"
  FIT=()
  for c in "${CUTOFFS[@]}"; do
    quantize_final "$c"
    size=$(stat -c %s "$FINAL.ftz")
    echo "cutoff $c: $size bytes"
    if ((size < MAX_FTZ_BYTES)); then FIT+=("$c"); fi
  done
  ((${#FIT[@]} > 0)) || die "no cutoff gives a model below $MAX_FTZ_BYTES bytes"
  echo "cross-validating cutoffs ${FIT[*]}"
  for c in "${FIT[@]}"; do
    for k in $(seq 1 "$FOLDS"); do
      printf '%s\0%s\0%s\0%s\0%s\0%s\0' __q "$DATA" "$BUILD/search" "$k" "$CONFIG" "$c"
    done
  done | xargs -0 -n 6 -P "$JOBS" bash "$SELF"
  printf 'cutoff\tcv_correct\tcv_accuracy\n' >"$BUILD/quant-search.tsv"
  best_n=-1
  for c in "${FIT[@]}"; do
    n=$(cat "$BUILD/search/q${c}"_f*.correct | awk '{ s += $1 } END { print s }')
    printf '%s\t%s\t%s\n' "$c" "$n" "$(ratio "$n" "$NTRAIN")" | tee -a "$BUILD/quant-search.tsv"
    if ((n > best_n)); then best_n=$n CUTOFF=$c; fi
  done
  echo "selected cutoff: $CUTOFF"
else
  CUTOFF=$DEFAULT_CUTOFF
fi
quantize_final "$CUTOFF"
echo "$QUANT_CMD"
FTZ_SIZE=$(stat -c %s "$FINAL.ftz")
((FTZ_SIZE < 5000000)) || die "quantised model is $FTZ_SIZE bytes"

echo "== held-out test set (1,000 reviews, not used for any choice above)"
TEST=$DATA/test.txt
NTEST=$(wc -l <"$TEST")
NPOS=$(grep -c '^__label__positive ' "$TEST" || true)
NNEG=$((NTEST - NPOS))
MAJ=$((NPOS > NNEG ? NPOS : NNEG))
pct() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.1f %%", 100 * n / t }'; }
echo "test set: $NTEST reviews, $NPOS positive, $NNEG negative"
echo "majority-class baseline: $(pct "$MAJ" "$NTEST")"
echo "-- fasttext test sentiment-en.bin"
fasttext test "$FINAL.bin" "$TEST"
echo "-- fasttext test sentiment-en.ftz"
fasttext test "$FINAL.ftz" "$TEST"
CB=$(correct "$FINAL.bin" "$TEST")
CQ=$(correct "$FINAL.ftz" "$TEST")

cp "$FINAL.ftz" "$HERE/sentiment-en.ftz"

echo "== calibration (out-of-fold probabilities of $FOLDS fold models)"
mkdir -p "$BUILD/calibration"
for k in $(seq 1 "$FOLDS"); do
  printf '%s\0%s\0%s\0%s\0%s\0%s\0' __cal "$DATA" "$BUILD/calibration" "$k" "$CONFIG" "$CUTOFF"
done | xargs -0 -n 6 -P "$JOBS" bash "$SELF"
Rscript "$HERE/calibrate.R" "$DATA" "$BUILD/calibration" "$FOLDS" | tee "$BUILD/calibration.txt"
END=$(date +%s)

{
  echo "config (wordNgrams dim epoch lr minn maxn): $CONFIG"
  echo "cutoff: $CUTOFF"
  echo "train: $TRAIN_CMD"
  echo "quantize: $QUANT_CMD"
  echo "test reviews: $NTEST (positive $NPOS, negative $NNEG)"
  echo "majority baseline: $MAJ/$NTEST = $(pct "$MAJ" "$NTEST")"
  echo "accuracy .bin: $CB/$NTEST = $(pct "$CB" "$NTEST")"
  echo "accuracy .ftz: $CQ/$NTEST = $(pct "$CQ" "$NTEST")"
  echo "bin bytes: $(stat -c %s "$FINAL.bin")"
  echo "ftz bytes: $(stat -c %s "$HERE/sentiment-en.ftz")"
  echo "ftz sha256: $(sha256sum "$HERE/sentiment-en.ftz" | cut -d' ' -f1)"
  echo "runtime: $((END - START)) s"
} | tee "$BUILD/report.txt"

echo "== sentiment-en.ftz"
echo "size:   $(stat -c %s "$HERE/sentiment-en.ftz") bytes"
echo "sha256: $(sha256sum "$HERE/sentiment-en.ftz" | cut -d' ' -f1)"
