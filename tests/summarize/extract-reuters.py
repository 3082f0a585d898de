#!/usr/bin/python3
"""Extracts the Reuters-21578 news articles Debian's r-cran-tm ships into plain
text files, the real-world test set of the summarizer.

    tests/summarize/extract-reuters.py OUTDIR

writes OUTDIR/<collection>-<id>.txt (the article as the wire service sent
it: dateline and body, with its hard-wrapped lines and indented paragraphs,
the trailing "Reuter" sign-off removed), OUTDIR/index.txt listing them in
order and OUTDIR/titles.txt ("<file>\t<title>" per line: the editors'
headlines, a reference for summaries). Only the standard library is used,
so it runs on any Debian python3.
"""
import os
import sys
import xml.etree.ElementTree as ET

TM = os.environ.get("SOTTO_TM_TEXTS", "/usr/lib/R/site-library/tm/texts")


def articles(path):
    """Yields (id, title, text) for every <REUTERS> article in one XML file."""
    root = ET.parse(path).getroot()
    for art in [root] if root.tag == "REUTERS" else root.iter("REUTERS"):
        body = art.find("TEXT/BODY")
        if body is None or not (body.text or "").strip():
            continue
        text = body.text.rstrip()
        for sign_off in ("Reuter", "REUTER"):
            if text.endswith(sign_off):
                text = text[: -len(sign_off)].rstrip()
        # The body's first line continues the dateline's ("NEW YORK, Feb 26 -
        # Diamond Shamrock Corp said that"): put it back.
        dateline = " ".join((art.findtext("TEXT/DATELINE") or "").split())
        if dateline:
            text = dateline + " " + text
        title = " ".join((art.findtext("TEXT/TITLE") or "").split())
        yield art.get("NEWID"), title, text


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: extract-reuters.py OUTDIR")
    out = sys.argv[1]
    if not os.path.isdir(os.path.join(TM, "crude")):
        sys.exit(f"extract-reuters: {TM} not found: install Debian's r-cran-tm")
    os.makedirs(out, exist_ok=True)
    sources = [(c, os.path.join(TM, c, f)) for c in ("crude", "acq")
               for f in sorted(os.listdir(os.path.join(TM, c))) if f.endswith(".xml")]
    sources.append(("lewis", os.path.join(TM, "reuters-21578.xml")))
    names, titles = [], []
    for collection, path in sources:
        for newid, title, text in articles(path):
            name = f"{collection}-{int(newid):05d}.txt"
            with open(os.path.join(out, name), "w", encoding="utf-8") as f:
                f.write(text + "\n")
            names.append(name)
            titles.append(f"{name}\t{title}\n")
    with open(os.path.join(out, "index.txt"), "w", encoding="utf-8") as f:
        f.write("".join(n + "\n" for n in names))
    with open(os.path.join(out, "titles.txt"), "w", encoding="utf-8") as f:
        f.write("".join(titles))
    print(f"extract-reuters: {len(names)} articles in {out}")


if __name__ == "__main__":
    main()
