#!/bin/sh
# Builds libsodium from the verified source into a prefix, for one flavour:
#   build/build-sodium.sh native|wasm|wasm-mt SRC PREFIX
# wasm libraries built without -pthread cannot be linked into a -pthread
# program (wasm-ld refuses shared memory), so each wasm flavour gets its own.
# libsodium is never compiled with -msimd128: its wasm SIMD Argon2 code then
# computes wrong hashes.
set -eu
flavour=$1 src=$2 prefix=$3
[ -f "$prefix/lib/libsodium.a" ] && exit 0
work="$prefix.build"
rm -rf "$work"
mkdir -p "$(dirname "$work")"
cp -a "$src" "$work"
cd "$work"
common="--disable-shared --enable-static --prefix=$prefix --disable-dependency-tracking"
jobs=$(nproc 2>/dev/null || echo 2)
case $flavour in
  native)
    ./configure $common CFLAGS="-O2 -fPIC" >configure.log 2>&1 || { tail -30 configure.log; exit 1; }
    make -j"$jobs" >make.log 2>&1 || { tail -30 make.log; exit 1; }
    make install >/dev/null ;;
  wasm|wasm-mt)
    export NODE_PATH=${NODE_PATH:-/usr/share/nodejs} EMSDK_PYTHON=${EMSDK_PYTHON:-/usr/bin/python3}
    export NODE_OPTIONS="--no-experimental-fetch"
    extra="--without-pthreads" cflags="-O2"
    [ "$flavour" = wasm-mt ] && extra="" cflags="-O2 -pthread"
    emconfigure ./configure $common $extra --disable-ssp --disable-asm --disable-pie \
      CFLAGS="$cflags" LDFLAGS="$cflags" >configure.log 2>&1 || { tail -30 configure.log; exit 1; }
    emmake make -j"$jobs" >make.log 2>&1 || { tail -30 make.log; exit 1; }
    emmake make install >/dev/null ;;
  *) echo "build-sodium: unknown flavour $flavour" >&2; exit 1 ;;
esac
cd / && rm -rf "$work"
echo "build-sodium: $flavour -> $prefix"
