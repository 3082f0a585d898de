#!/bin/sh
# Installs sotto's native messaging host for the current user (no root).
#
#   native-host/install.sh [--browser chrome|chromium|firefox|brave|edge|vivaldi|all]...
#                          [--uninstall] [--host FILE] [--models DIR]
#                          [--chrome-id ID] [--firefox-id ID] [--windows DIR]
#
# Copies the sotto-host binary (default: out/native/native-host/sotto-host)
# to a per-user folder, writes its allow-list beside it (<binary>.allowed:
# the only callers it serves), and writes the host manifest org.sotto.host.json
# where each browser looks for it, with the binary's absolute path and the
# pinned extension ids (from extension/ids.json unless given):
#
#   Linux                                 macOS (under ~/Library/Application Support)
#   chrome    ~/.config/google-chrome/NativeMessagingHosts      Google/Chrome/NativeMessagingHosts
#   chromium  ~/.config/chromium/NativeMessagingHosts           Chromium/NativeMessagingHosts
#   brave     ~/.config/BraveSoftware/Brave-Browser/NativeMessagingHosts   BraveSoftware/Brave-Browser/...
#   edge      ~/.config/microsoft-edge/NativeMessagingHosts     Microsoft Edge/NativeMessagingHosts
#   vivaldi   ~/.config/vivaldi/NativeMessagingHosts            Vivaldi/NativeMessagingHosts
#   firefox   ~/.mozilla/native-messaging-hosts                 Mozilla/NativeMessagingHosts
#
# "all" (the default) means Chrome, Chromium and Firefox, plus Brave, Edge
# and Vivaldi where their profile folders exist. --models DIR also adds the
# catalogue's models (models/catalogue.json) found in DIR to the encrypted
# store. --uninstall removes the manifests, the binary and its allow-list,
# and leaves the model store alone. --windows DIR writes the manifests to
# DIR and prints the registry commands that register them on Windows.
set -eu

NAME=org.sotto.host
ROOT=$(cd "$(dirname "$0")/.." && pwd)
host_src="$ROOT/out/native/native-host/sotto-host"
browsers=""
uninstall=0
models=""
windows=""
chrome_id=""
firefox_id=""

die() { echo "install.sh: $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
  case $1 in
    --browser) [ $# -ge 2 ] || die "--browser needs a name"; browsers="$browsers $2"; shift 2 ;;
    --uninstall) uninstall=1; shift ;;
    --host) [ $# -ge 2 ] || die "--host needs a file"; host_src=$2; shift 2 ;;
    --models) [ $# -ge 2 ] || die "--models needs a folder"; models=$2; shift 2 ;;
    --chrome-id) [ $# -ge 2 ] || die "--chrome-id needs an id"; chrome_id=$2; shift 2 ;;
    --firefox-id) [ $# -ge 2 ] || die "--firefox-id needs an id"; firefox_id=$2; shift 2 ;;
    --windows) [ $# -ge 2 ] || die "--windows needs a folder"; windows=$2; shift 2 ;;
    -h|--help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
[ -n "$browsers" ] || browsers=all
[ -n "${HOME:-}" ] || die "HOME is not set"

# Pinned extension ids: the Chrome id derives from the manifest key of the
# development build; Firefox's is the gecko id in its manifest.
ids="$ROOT/extension/ids.json"
json_field() { sed -n "s/.*\"$1\" *: *\"\\([^\"]*\\)\".*/\\1/p" "$ids" | head -n 1; }
if [ -f "$ids" ]; then
  [ -n "$chrome_id" ] || chrome_id=$(json_field chrome)
  [ -n "$firefox_id" ] || firefox_id=$(json_field firefox)
fi
[ -n "$firefox_id" ] || firefox_id=sotto@sotto.example
echo "$chrome_id" | grep -Eq '^[a-p]{32}$' || die "bad or missing Chrome extension id \"$chrome_id\" (--chrome-id)"
echo "$firefox_id" | grep -Eq '^[A-Za-z0-9._@{}-]+$' || die "bad Firefox add-on id \"$firefox_id\""

case $(uname -s) in
  Darwin)
    sup="$HOME/Library/Application Support"
    bindir="$sup/sotto/host"
    dir_of() {
      case $1 in
        chrome) echo "$sup/Google/Chrome" ;;
        chromium) echo "$sup/Chromium" ;;
        brave) echo "$sup/BraveSoftware/Brave-Browser" ;;
        edge) echo "$sup/Microsoft Edge" ;;
        vivaldi) echo "$sup/Vivaldi" ;;
        firefox) echo "$sup/Mozilla" ;;
      esac
    }
    sub_of() { echo NativeMessagingHosts; } ;;
  *)
    bindir="$HOME/.local/lib/sotto"
    dir_of() {
      case $1 in
        chrome) echo "$HOME/.config/google-chrome" ;;
        chromium) echo "$HOME/.config/chromium" ;;
        brave) echo "$HOME/.config/BraveSoftware/Brave-Browser" ;;
        edge) echo "$HOME/.config/microsoft-edge" ;;
        vivaldi) echo "$HOME/.config/vivaldi" ;;
        firefox) echo "$HOME/.mozilla" ;;
      esac
    }
    sub_of() { [ "$1" = firefox ] && echo native-messaging-hosts || echo NativeMessagingHosts; } ;;
esac

# The browsers to handle: "all" = the three main ones always, the others
# only where their profile folder exists.
list=""
for b in $browsers; do
  case $b in
    all)
      list="$list chrome chromium firefox"
      for o in brave edge vivaldi; do [ -d "$(dir_of $o)" ] && list="$list $o"; done ;;
    chrome|chromium|firefox|brave|edge|vivaldi) list="$list $b" ;;
    *) die "unknown browser $b" ;;
  esac
done

host="$bindir/sotto-host"
json_str() { printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g'; }

manifest() { # manifest BROWSER HOST_PATH
  if [ "$1" = firefox ]; then
    allowed="\"allowed_extensions\": [\"$firefox_id\"]"
  else
    allowed="\"allowed_origins\": [\"chrome-extension://$chrome_id/\"]"
  fi
  cat <<EOF
{
  "name": "$NAME",
  "description": "sotto: private on-device AI, native engine",
  "path": "$(json_str "$2")",
  "type": "stdio",
  $allowed
}
EOF
}

if [ -n "$windows" ]; then
  mkdir -p "$windows"
  manifest chrome 'sotto-host.exe' > "$windows/$NAME.chrome.json"
  manifest firefox 'sotto-host.exe' > "$windows/$NAME.firefox.json"
  cat <<EOF
Windows: put sotto-host.exe beside these manifests, then register them for the current user:
  REG ADD "HKCU\\Software\\Google\\Chrome\\NativeMessagingHosts\\$NAME" /ve /t REG_SZ /d "%CD%\\$NAME.chrome.json" /f
  REG ADD "HKCU\\Software\\Chromium\\NativeMessagingHosts\\$NAME" /ve /t REG_SZ /d "%CD%\\$NAME.chrome.json" /f
  REG ADD "HKCU\\Software\\Microsoft\\Edge\\NativeMessagingHosts\\$NAME" /ve /t REG_SZ /d "%CD%\\$NAME.chrome.json" /f
  REG ADD "HKCU\\Software\\Mozilla\\NativeMessagingHosts\\$NAME" /ve /t REG_SZ /d "%CD%\\$NAME.firefox.json" /f
(run in that folder; REG DELETE "HKCU\\...\\$NAME" /f undoes each). A relative "path" is resolved
against the manifest's folder on Windows only.
EOF
  exit 0
fi

if [ $uninstall = 1 ]; then
  for b in chrome chromium firefox brave edge vivaldi; do
    f="$(dir_of $b)/$(sub_of $b)/$NAME.json"
    [ -f "$f" ] && rm -f "$f" && echo "removed $f"
  done
  rm -f "$host" "$host.allowed" "$bindir/catalogue.json"
  rmdir "$bindir" 2>/dev/null || true
  echo "removed $host (the model store is kept; 'sotto-host store path' shows where)"
  exit 0
fi

[ -x "$host_src" ] || die "no host binary at $host_src (run make native, or give --host)"
mkdir -p "$bindir"
chmod 700 "$bindir"
# Copy then rename, so a running host is never overwritten in place.
cp "$host_src" "$host.new"
chmod 755 "$host.new"
mv -f "$host.new" "$host"
cat > "$host.allowed.new" <<EOF
# Callers allowed to start sotto-host (written by native-host/install.sh).
chrome-extension://$chrome_id/
$firefox_id
EOF
mv -f "$host.allowed.new" "$host.allowed"
# The models sotto offers, for `sotto-host models catalogue`.
if [ -f "$ROOT/models/catalogue.json" ]; then
  cp "$ROOT/models/catalogue.json" "$bindir/catalogue.json.new"
  mv -f "$bindir/catalogue.json.new" "$bindir/catalogue.json"
fi
echo "installed $host"
for b in $list; do
  d="$(dir_of $b)/$(sub_of $b)"
  mkdir -p "$d"
  manifest "$b" "$host" > "$d/$NAME.json.new"
  mv -f "$d/$NAME.json.new" "$d/$NAME.json"
  echo "wrote $d/$NAME.json"
done

# Default models: each catalogue entry whose file is in the given folder.
if [ -n "$models" ]; then
  cat="$ROOT/models/catalogue.json"
  [ -f "$cat" ] || die "no $cat"
  python3 - "$cat" "$models" <<'EOF' | while IFS='	' read -r id file format task sha runs src; do
import json, os, sys
cat, folder = sys.argv[1], sys.argv[2]
for m in json.load(open(cat))["models"]:
    f = m.get("file")
    if f and os.path.isfile(os.path.join(folder, f)):
        src = m.get("source", {})
        src = src.get("url") or src.get("package") or src.get("build") or ""
        print("\t".join([m["id"], os.path.join(folder, f), m["format"], m.get("task") or "-",
                         m.get("sha256") or "-", m.get("runs_in") or "-", src or "-"]))
EOF
    set -- models add "$file" --id "$id" --format "$format"
    [ "$task" = - ] || set -- "$@" --task "$task"
    [ "$sha" = - ] || set -- "$@" --sha256 "$sha"
    [ "$runs" = - ] || set -- "$@" --runs-in "$runs"
    [ "$src" = - ] || set -- "$@" --source "$src"
    if [ "$sha" != - ] && "$host" models verify "$id" 2>/dev/null | grep -q "sha256 $sha"; then
      echo "model $id is already installed"
    else
      "$host" "$@"
    fi
  done
fi
