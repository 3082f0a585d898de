#!/usr/bin/python3
"""Builds the multilingual language-ID test set from translated debconf
templates that Debian packages install (/var/lib/dpkg/info/PKG.templates).

Each "Description-LL.UTF-8" field is a human translation of a package's
configuration question; every paragraph of it longer than a few words becomes
one test sentence, labelled with the translation's language. The output is
deterministic for a given set of installed package versions.

  make-lid-set.py OUTDIR   -> OUTDIR/sentences.txt (one per line)
                              OUTDIR/langs.txt     (its language, same line)
                              OUTDIR/english.txt   (the English originals)
"""
import os
import re
import sys

# Required or standard packages of Debian 12 with many translations
# (build/install-tools.sh test makes sure they are installed).
PACKAGES = ["debconf", "libc6", "tzdata", "locales", "libpam-runtime", "libpam0g",
            "libpam-modules", "ca-certificates", "ucf", "base-passwd"]
INFO = "/var/lib/dpkg/info"
MIN_CHARS = 40
# Translation tags to lid.176 labels where they differ.
LANG_MAP = {"pt_BR": "pt", "zh_CN": "zh", "zh_TW": "zh", "sr@latin": "sr", "nb": "no"}


def templates_file(pkg):
    for name in (pkg + ".templates", pkg + ":amd64.templates", pkg + ":arm64.templates"):
        path = os.path.join(INFO, name)
        if os.path.exists(path):
            return path
    for name in sorted(os.listdir(INFO)):  # any other architecture
        if name.startswith(pkg + ":") and name.endswith(".templates"):
            return os.path.join(INFO, name)
    return None


def fields(path):
    """Yields (name, [lines]) for every field of every stanza."""
    name, lines = None, []
    with open(path, encoding="utf-8", errors="replace") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if line.startswith((" ", "\t")) and name:
                lines.append(line[1:])
                continue
            if name:
                yield name, lines
            name, lines = None, []
            m = re.match(r"^([A-Za-z0-9_.@-]+):\s?(.*)$", line)
            if m:
                name, lines = m.group(1), [m.group(2)]
    if name:
        yield name, lines


def paragraphs(lines):
    """The short description, then each paragraph of the long one."""
    out, cur = [lines[0]], []
    for line in lines[1:]:
        if line.strip() == ".":
            out.append(" ".join(cur))
            cur = []
        else:
            cur.append(line.strip())
    out.append(" ".join(cur))
    return out


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else "out/lid"
    os.makedirs(outdir, exist_ok=True)
    seen, rows, missing, english = set(), [], [], []
    for pkg in PACKAGES:
        path = templates_file(pkg)
        if not path:
            missing.append(pkg)
            continue
        for name, lines in fields(path):
            m = re.match(r"^Description-([A-Za-z_@]+)\.UTF-8$", name)
            if name == "Description":
                for p in paragraphs(lines):
                    p = " ".join(p.split())
                    if len(p) >= MIN_CHARS and "${" not in p and p not in english:
                        english.append(p)
            if not m:
                continue
            lang = LANG_MAP.get(m.group(1), m.group(1).split("_")[0])
            for p in paragraphs(lines):
                p = " ".join(p.split())  # one line: fastText reads lines
                if len(p) < MIN_CHARS or "${" in p or p in seen:
                    continue
                seen.add(p)
                rows.append((lang, p))
    if missing:
        sys.stderr.write("make-lid-set: not installed: %s\n" % " ".join(missing))
    with open(os.path.join(outdir, "sentences.txt"), "w", encoding="utf-8") as f:
        f.writelines(p + "\n" for _, p in rows)
    with open(os.path.join(outdir, "langs.txt"), "w", encoding="utf-8") as f:
        f.writelines(lang + "\n" for lang, _ in rows)
    with open(os.path.join(outdir, "english.txt"), "w", encoding="utf-8") as f:
        f.writelines(p + "\n" for p in english)
    langs = {lang for lang, _ in rows}
    print("make-lid-set: %d sentences in %d languages, %d English originals -> %s"
          % (len(rows), len(langs), len(english), outdir))


if __name__ == "__main__":
    main()
