#!/bin/sh
# Seeds for fuzz_text: Reuters articles (tests/summarize/extract-reuters.py)
# and short texts in the scripts and shapes the splitter has rules for.
#   tests/fuzz/fuzz_text.seeds.sh CORPUS_DIR
set -eu
dir=$1
[ -f "$dir/seed-abbrev.txt" ] && exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if /usr/bin/python3 tests/summarize/extract-reuters.py "$tmp" >/dev/null; then
  for f in $(head -20 "$tmp/index.txt"); do cp "$tmp/$f" "$dir/seed-$f"; done
fi
printf 'Mr. Smith paid 3.14 dlrs in the U.S. The end... really?! "Yes." (No.) e.g. this.' > "$dir/seed-abbrev.txt"
printf '今日は晴れです。明日は雨！यह एक वाक्य है। هل أنت بخير؟ Բարեւ։ ሰላም ነው።' > "$dir/seed-scripts.txt"
printf 'Title\n\n1. First item\n- dash item\n\xe2\x80\xa2 bullet\nBad \xff\xfe \xc3 bytes. Cut \xe2\x82' > "$dir/seed-lines.txt"
