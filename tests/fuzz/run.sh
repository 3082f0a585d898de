#!/bin/sh
# Builds every tests/fuzz/fuzz_*.c as a libFuzzer program (clang, ASan and
# UBSan) against the engine sources and the native build's static libraries,
# then runs each for SECONDS from its corpus in out/fuzz/corpus/NAME. A
# target's seeds come from tests/fuzz/NAME.seeds.sh CORPUS_DIR when present.
# Ends with each target's execution count and rate (also in out/fuzz/rates.txt).
#   tests/fuzz/run.sh [SECONDS] [NAME...]      (needs `make native` first)
set -eu
secs=${1:-60}
[ $# -gt 0 ] && shift
OUT=${OUT:-out}
B=$OUT/fuzz
D=$OUT/deps/src
N=$OUT/native
CC=${FUZZ_CC:-clang}
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
# The engine's include paths and definitions, as engine/CMakeLists.txt sets them.
CFLAGS="-std=c11 -g -O1 -Wall -Wextra -Werror $SAN -Iengine/include -Iengine/src -I$D/cjson -I$D/pthreadpool/include
  -I$D/xnnpack/include -I$D/cpuinfo/include -I$OUT/sodium/native/include
  -D_POSIX_C_SOURCE=200809L -DSOTTO_BUILD_FLAVOUR=\"native\" -DXNNPACK_VERSION=\"4ea82e5\""
LIBS="$N/xnnpack/libXNNPACK.a $N/xnnpack/libmicrokernels-prod.a $N/cpuinfo/libcpuinfo.a
  $N/pthreadpool/libpthreadpool.a $OUT/sodium/native/lib/libsodium.a -lpthread -lm"
for lib in $LIBS; do
  case $lib in -*) ;; *) [ -f "$lib" ] || { echo "fuzz: $lib missing: run make native" >&2; exit 1; } ;; esac
done

mkdir -p "$B/obj"
objs=""
for src in $(find engine/src -name '*.c' | sort) "$D/cjson/cJSON.c"; do
  obj="$B/obj/$(echo "${src#engine/src/}" | tr / _ | sed 's/\.c$//').o"
  if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ -n "$(find engine/src -name '*.h' -newer "$obj")" ]; then
    $CC $CFLAGS -fsanitize=fuzzer-no-link -c "$src" -o "$obj"
  fi
  objs="$objs $obj"
done

names=${*:-$(for f in tests/fuzz/fuzz_*.c; do basename "$f" .c; done)}
rates="$B/rates.txt"
: > "$rates"
for name in $names; do
  echo "fuzz: building $name"
  $CC $CFLAGS -fsanitize=fuzzer "tests/fuzz/$name.c" $objs $LIBS -o "$B/$name"
  corpus="$B/corpus/$name"
  mkdir -p "$corpus"
  if [ -x "tests/fuzz/$name.seeds.sh" ]; then "tests/fuzz/$name.seeds.sh" "$corpus"; fi
  echo "fuzz: running $name for ${secs}s"
  # -rss_limit_mb: the engine may legitimately hold a model several times
  # its file size; -max_len keeps inputs near the seeds' sizes (model files
  # up to 1 MiB; the host's frames: a few requests each, 1 KiB).
  case $name in
    fuzz_host_frames) max_len=1024 ;;
    *) max_len=1048576 ;;
  esac
  log="$B/$name.log"
  status=0
  "$B/$name" "$corpus" -max_total_time="$secs" -rss_limit_mb=4096 -max_len=$max_len \
    -print_final_stats=1 -artifact_prefix="$B/$name-" > "$log" 2>&1 || status=$?
  tail -n 25 "$log"
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  printf '%-20s %12s executions in %ss, %8s/s\n' "$name" "${runs:-?}" "$secs" "${rate:-?}" >> "$rates"
  if [ "$status" != 0 ]; then
    echo "fuzz: $name failed (exit $status); input saved as $B/$name-*, log $log" >&2
    failed="${failed:-}$name "
  fi
done
echo "fuzz: executions (load average $(cut -d' ' -f1-3 /proc/loadavg)):"
cat "$rates"
# Last, where a log's tail shows it: each failure's report and its input
# (small ones as base64, to rerun elsewhere: base64 -d > x; $B/NAME x).
for name in ${failed:-}; do
  echo "fuzz: $name failed; the report:" >&2
  sed -n '/ERROR: \|runtime error: /,+14p' "$B/$name.log" | head -n 16 >&2
  for f in "$B/$name"-*; do
    [ -f "$f" ] && [ "$(wc -c < "$f")" -le 16384 ] && echo "fuzz: $f as base64: $(base64 -w 0 "$f")" >&2
  done
done
[ -z "${failed:-}" ]
