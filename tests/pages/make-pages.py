#!/usr/bin/python3
"""Builds the test pages: long documentation pages in English, German and
French, written by hand in a small markup (tests/pages/*.txt), as a web
page with hard-wrapped HTML source and as plain text, together with the
list of their sentences as their author marked them: one sentence per line
of the markup, so the list owes nothing to any sentence splitter.

    tests/pages/make-pages.py OUTDIR

writes, for each page NAME:
  NAME.html          the page: site header, navigation, a table of contents,
                     the article (headings, paragraphs, lists, a figure
                     caption, a table, footnote markers and footnotes) and a
                     footer; paragraph text hard-wrapped at 78 columns,
                     indented, as editors and templates leave HTML source
  NAME.txt           the article as plain text: one line per paragraph,
                     heading, list item and table row, blank lines between
                     blocks
  NAME.wWIDTH.txt    the same, paragraphs and items wrapped at WIDTH columns
                     (greedy, as fmt and editors wrap) for WIDTH 40 to 100,
                     and NAME.ragged.txt wrapped at widths that vary from
                     line to line between 50 and 78 columns, as by hand,
                     and NAME.indent.txt wrapped at 78 columns and indented
                     by 8 spaces, as text taken from HTML source keeps it
  NAME.json          {"title","lang","words","blocks":[{"kind","text",
                     "section","sentences":[...]}]}: kind is heading,
                     paragraph, item, caption, cell or footnote; sentences
                     (paragraphs and items) are the marked sentences as a
                     reader sees them (footnote markers and code quotes
                     removed)
and index.txt, the page names.

Markup: "% key: value" headers; "#", "##", "###" headings; paragraphs of
one sentence per line ending at a blank line; "- " list items (one per
line); "> " a figure caption; "| a | b |" table rows (the first is the
header); "[^N]: text" footnotes; inside sentences `code` and [^N] footnote
references. Only the standard library is used.
"""
import html
import json
import os
import random
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
WIDTHS = (40, 50, 60, 72, 79, 100)

SITE = {
    "en": {"home": "Home", "nav": ["Documentation", "Download", "Community", "Blog", "Support"],
           "search": "Search the documentation", "toc": "On this page", "crumbs": ["Docs", "Administration"],
           "notes": "Notes", "footer": ["Copyright 2026 the project authors.", "Edit this page",
                                        "Was this page helpful?", "Yes", "No", "Privacy", "Imprint"]},
    "de": {"home": "Startseite", "nav": ["Dokumentation", "Herunterladen", "Forum", "Neuigkeiten", "Hilfe"],
           "search": "Dokumentation durchsuchen", "toc": "Auf dieser Seite", "crumbs": ["Doku", "Handbuch"],
           "notes": "Anmerkungen", "footer": ["Copyright 2026 die Autorinnen und Autoren.", "Seite bearbeiten",
                                              "War diese Seite hilfreich?", "Ja", "Nein", "Datenschutz", "Impressum"]},
    "fr": {"home": "Accueil", "nav": ["Documentation", "Téléchargement", "Communauté", "Actualités", "Aide"],
           "search": "Rechercher dans la documentation", "toc": "Sur cette page", "crumbs": ["Docs", "Administration"],
           "notes": "Notes", "footer": ["Copyright 2026 les auteurs du projet.", "Modifier cette page",
                                        "Cette page vous a-t-elle aidé ?", "Oui", "Non", "Confidentialité", "Mentions légales"]},
}


def parse(path):
    meta, blocks, section, para = {}, [], 0, []

    def end_para():
        if para:
            blocks.append({"kind": "paragraph", "section": section, "raw": list(para)})
            para.clear()

    for line in open(path, encoding="utf-8").read().split("\n"):
        if line.startswith("% "):
            k, v = line[2:].split(":", 1)
            meta[k.strip()] = v.strip()
        elif not line.strip():
            end_para()
        elif line.startswith("#"):
            end_para()
            level = len(line) - len(line.lstrip("#"))
            section += 1
            blocks.append({"kind": "heading", "level": level, "section": section, "raw": [line[level:].strip()]})
        elif line.startswith("- "):
            end_para()
            blocks.append({"kind": "item", "section": section, "raw": [line[2:].strip()]})
        elif line.startswith("> "):
            end_para()
            blocks.append({"kind": "caption", "section": section, "raw": [line[2:].strip()]})
        elif line.startswith("|"):
            end_para()
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            blocks.append({"kind": "row", "section": section, "raw": cells})
        elif line.startswith("[^"):
            end_para()
            m = re.match(r"\[\^(\d+)\]:\s*(.*)", line)
            blocks.append({"kind": "footnote", "section": section, "n": m.group(1), "raw": [m.group(2)]})
        else:
            para.append(line.strip())
    end_para()
    return meta, blocks


def plain(s):
    """A marked sentence as a reader sees it: no code quotes, no markers."""
    return re.sub(r"\[\^\d+\]", "", s).replace("`", "")


def text_form(s):
    """A marked sentence in the plain-text page: footnote markers as [N]."""
    return re.sub(r"\[\^(\d+)\]", r"[\1]", s).replace("`", "")


def html_form(s):
    out = html.escape(s, quote=False)
    out = re.sub(r"`([^`]*)`", r"<code>\1</code>", out)
    return re.sub(r"\[\^(\d+)\]", r'<sup class="fn"><a href="#fn\1">[\1]</a></sup>', out)


def html_words(s):
    """Splits HTML text at spaces outside tags (a tag stays whole)."""
    words, cur, in_tag = [], "", False
    for ch in s:
        if ch == "<":
            in_tag = True
        elif ch == ">":
            in_tag = False
        if ch == " " and not in_tag:
            if cur:
                words.append(cur)
            cur = ""
        else:
            cur += ch
    if cur:
        words.append(cur)
    return words


def wrap(words, width, indent="", widths=None):
    lines, cur = [], ""
    for w in words:
        limit = widths() if widths else width
        if cur and len(indent) + len(cur) + 1 + len(w) > limit:
            lines.append(indent + cur)
            cur = w
        else:
            cur = f"{cur} {w}" if cur else w
    if cur:
        lines.append(indent + cur)
    return lines


def build(name, out):
    meta, blocks = parse(os.path.join(HERE, name + ".txt"))
    lang = meta["lang"]
    site = SITE[lang]
    # ---- the article as blocks, with the marked sentences ----
    info = []
    for b in blocks:
        rec = {"kind": b["kind"], "section": b["section"]}
        if b["kind"] == "row":
            rec["kind"] = "cell"
            rec["text"] = " ".join(b["raw"])
            rec["cells"] = b["raw"]
        else:
            rec["text"] = " ".join(plain(s) for s in b["raw"])
        if b["kind"] in ("paragraph", "item"):
            rec["sentences"] = [plain(s) for s in b["raw"]]
        if b["kind"] == "heading":
            rec["level"] = b["level"]
        info.append(rec)
    words = sum(len(r["text"].split()) for r in info)

    # ---- plain text, unwrapped and wrapped ----
    def text_lines(width=None, widths=None, indent=""):
        lines = []
        for b in blocks:
            if b["kind"] == "row":
                lines.append(" | ".join(b["raw"]))
                continue
            body = " ".join(text_form(s) for s in b["raw"])
            if b["kind"] == "footnote":
                body = f"[{b['n']}] {body}"
            prefix = {"item": "- "}.get(b["kind"], "")
            if (width or widths) and b["kind"] in ("paragraph", "item", "footnote"):
                w = wrap(body.split(" "), (width or 0) - len(indent), widths=widths)
                lines.extend([indent + prefix + w[0]] + [indent + ("  " if prefix else "") + x for x in w[1:]])
            else:
                lines.append(prefix + body)
            if b["kind"] not in ("item", "row"):
                lines.append("")
        return "\n".join(lines).replace("\n\n\n", "\n\n").strip() + "\n"

    with open(os.path.join(out, name + ".txt"), "w", encoding="utf-8") as f:
        f.write(text_lines())
    for width in WIDTHS:
        with open(os.path.join(out, f"{name}.w{width}.txt"), "w", encoding="utf-8") as f:
            f.write(text_lines(width))
    rng = random.Random(name)
    with open(os.path.join(out, f"{name}.ragged.txt"), "w", encoding="utf-8") as f:
        f.write(text_lines(widths=lambda: rng.randint(50, 78)))
    with open(os.path.join(out, f"{name}.indent.txt"), "w", encoding="utf-8") as f:
        f.write(text_lines(78, indent=" " * 8))

    # ---- the web page ----
    ind = " " * 8
    headings = [b for b in blocks if b["kind"] == "heading" and b["level"] == 2]
    p = ['<!doctype html>', f'<html lang="{lang}">', '<head>', '<meta charset="utf-8">',
         f'<title>{html.escape(meta["title"])}</title>',
         '<style>body{font:17px/1.55 Georgia,serif;margin:0;color:#222}header,footer{background:#234;color:#fff;padding:10px 24px}'
         'header a,footer a{color:#cde}nav ul{list-style:none;display:inline;padding:0}nav li{display:inline;margin-right:14px}'
         '.layout{display:flex;gap:32px;padding:0 24px}aside{width:220px;font-size:14px}main{max-width:680px}'
         'figure{margin:20px 0;border:1px solid #ccc;padding:8px}.shot{height:120px;background:#e8eef4}'
         'table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:3px 8px}sup.fn{font-size:70%}</style>',
         '</head>', '<body>',
         '<header class="site">', f'  <a class="logo" href="#">{site["home"]}</a>', '  <nav aria-label="main">', '    <ul>']
    p += [f'      <li><a href="#">{html.escape(x)}</a></li>' for x in site["nav"]]
    p += ['    </ul>', '  </nav>', f'  <form role="search"><input type="search" placeholder="{site["search"]}"></form>',
          '</header>', '<div class="layout">', '  <aside class="toc">', f'    <h2>{site["toc"]}</h2>', '    <ul>']
    p += [f'      <li><a href="#s{b["section"]}">{html.escape(b["raw"][0])}</a></li>' for b in headings]
    p += ['    </ul>', '  </aside>', '  <main>', '    <article>',
          f'      <nav class="breadcrumbs"><a href="#">{site["crumbs"][0]}</a> &rsaquo; <a href="#">{site["crumbs"][1]}</a></nav>']
    i = 0
    while i < len(blocks):
        b = blocks[i]
        k = b["kind"]
        if k == "heading":
            p.append(f'      <h{b["level"]} id="s{b["section"]}">{html.escape(b["raw"][0])}</h{b["level"]}>')
        elif k == "paragraph":
            body = " ".join(html_form(s) for s in b["raw"])
            p.append("      <p>")
            p += wrap(html_words(body), 78, ind)
            p.append("      </p>")
        elif k == "item":
            p.append("      <ul>")
            while i < len(blocks) and blocks[i]["kind"] == "item":
                body = " ".join(html_form(s) for s in blocks[i]["raw"])
                lines = wrap(html_words(body), 78, ind + "    ")
                lines[0] = ind + "<li>" + lines[0][len(ind) + 4:]
                lines[-1] += "</li>"
                p += lines
                i += 1
            p.append("      </ul>")
            continue
        elif k == "caption":
            p += ['      <figure>', '        <div class="shot" role="img" aria-label=""></div>',
                  '        <figcaption>'] + wrap(html_words(html_form(b["raw"][0])), 78, ind + "  ") + \
                 ['        </figcaption>', '      </figure>']
        elif k == "row":
            p.append("      <table>")
            first = True
            while i < len(blocks) and blocks[i]["kind"] == "row":
                tag = "th" if first else "td"
                p.append("        <tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in blocks[i]["raw"]) + "</tr>")
                first = False
                i += 1
            p.append("      </table>")
            continue
        elif k == "footnote":
            p += ['      <section class="footnotes">', f'        <h2>{site["notes"]}</h2>', '        <ol>']
            while i < len(blocks) and blocks[i]["kind"] == "footnote":
                body = html_form(blocks[i]["raw"][0])
                lines = wrap(html_words(body), 78, ind + "  ")
                lines[0] = f'{ind}  <li id="fn{blocks[i]["n"]}">' + lines[0][len(ind) + 2:]
                lines[-1] += "</li>"
                p += lines
                i += 1
            p += ['        </ol>', '      </section>']
            continue
        i += 1
    p += ['    </article>', '  </main>', '</div>', '<footer>']
    f0 = site["footer"]
    p += [f'  <p>{f0[0]} <a href="#">{f0[1]}</a></p>', f'  <p>{html.escape(f0[2])} <button>{f0[3]}</button> <button>{f0[4]}</button></p>',
          f'  <p><a href="#">{f0[5]}</a> &middot; <a href="#">{f0[6]}</a></p>', '</footer>', '</body>', '</html>']
    with open(os.path.join(out, name + ".html"), "w", encoding="utf-8") as f:
        f.write("\n".join(p) + "\n")
    with open(os.path.join(out, name + ".json"), "w", encoding="utf-8") as f:
        json.dump({"title": meta["title"], "lang": lang, "words": words, "blocks": info}, f, ensure_ascii=False, indent=1)
    return name


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make-pages.py OUTDIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    names = [build(n[:-4], out) for n in sorted(os.listdir(HERE)) if n.endswith(".txt")]
    with open(os.path.join(out, "index.txt"), "w", encoding="utf-8") as f:
        f.write("".join(n + "\n" for n in names))
    print(f"make-pages: {len(names)} pages in {out}")


if __name__ == "__main__":
    main()
