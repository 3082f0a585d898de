#!/bin/sh
# Fetches, verifies and unpacks the pinned sources listed in build/deps.lock.
#
#   build/fetch-deps.sh [LOCKFILE] [OUTDIR]
#
# Each file is looked for in $SOTTO_DEPS_CACHE, then ../shared/deps beside the
# checkout, then downloaded from the URL in the lock file. Its sha256 must
# match the lock file or the build stops. Sources are unpacked (top folder
# stripped) into OUTDIR/src/NAME and patched with build/patches/NAME-*.patch.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
lock=${1:-$top/build/deps.lock}
out=${2:-$top/out/deps}
mkdir -p "$out/downloads" "$out/src"

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

find_file() { # prints the path of a local copy of $1, or nothing
  for d in ${SOTTO_DEPS_CACHE:-} "$top/../shared/deps" "$out/downloads"; do
    [ -n "$d" ] && [ -f "$d/$1" ] && { echo "$d/$1"; return; }
  done
  return 0
}

grep -v '^[[:space:]]*#' "$lock" | grep -v '^[[:space:]]*$' |
while read -r name version file sha url; do
  dest="$out/src/$name"
  patches=$(ls "$top/build/patches/$name"-*.patch 2>/dev/null || true)
  stamp="$sha $(cat $patches /dev/null | sha256sum | cut -d' ' -f1)"
  if [ -f "$dest/.sotto-stamp" ] && [ "$(cat "$dest/.sotto-stamp")" = "$stamp" ]; then
    continue
  fi
  path=$(find_file "$file")
  if [ -z "$path" ]; then
    echo "fetch-deps: downloading $file"
    command -v curl >/dev/null || { echo "fetch-deps: curl is needed to download $file" >&2; exit 1; }
    curl -fL --retry 3 -o "$out/downloads/$file.part" "$url" ||
      { echo "fetch-deps: cannot download $file from $url" >&2; exit 1; }
    mv "$out/downloads/$file.part" "$out/downloads/$file"
    path="$out/downloads/$file"
  fi
  got=$(sha256_of "$path")
  if [ "$got" != "$sha" ]; then
    echo "fetch-deps: sha256 mismatch for $file ($path)" >&2
    echo "  expected $sha (build/deps.lock)" >&2
    echo "  got      $got" >&2
    exit 1
  fi
  echo "fetch-deps: $name $version verified ($path)"
  rm -rf "$dest" "$dest.tmp"
  mkdir -p "$dest.tmp"
  tar xf "$path" -C "$dest.tmp"
  # Strip a single top folder when the tarball has one.
  if [ "$(ls -A "$dest.tmp" | wc -l)" = 1 ] && [ -d "$dest.tmp/$(ls -A "$dest.tmp")" ]; then
    mv "$dest.tmp/$(ls -A "$dest.tmp")" "$dest"
    rmdir "$dest.tmp"
  else
    mv "$dest.tmp" "$dest"
  fi
  for p in $patches; do
    echo "fetch-deps: applying $(basename "$p")"
    patch -s -p1 -d "$dest" < "$p"
  done
  echo "$stamp" > "$dest/.sotto-stamp"
done
