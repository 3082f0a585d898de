// extract.js - the text of a page or of the selection as a reader sees it,
// with its structure. Injected into the page (after vendor/Readability.js)
// when the user asks for a summary or a classification; it defines
// sottoExtract in the extension's isolated world, out of the page scripts'
// reach, and changes nothing on the page:
//
//   sottoExtract.page()        the main content: the page's own <article> or
//                              <main> when it holds most of its text (no
//                              more to load or parse), else Mozilla's
//                              Readability on a copy of the page (injected
//                              on demand: {readability: 'needed'} until it
//                              is there), else the visible page
//   sottoExtract.selection()   what is selected, read from the page itself:
//                              whole, with its paragraph breaks (the browser's
//                              selectionText for a menu click is cut at
//                              16,384 characters in Firefox)
//
// Both return { title, blocks: [{kind, text}], words, chars }: the blocks of
// the engine's "summarize" op (README, "summarize"): headings, paragraphs,
// list items, quotes, captions, table cells, code and notes (navigation,
// asides, footers, footnotes). White space is collapsed as the browser
// renders it, so line breaks in the HTML source mean nothing; a <br> is a
// "\n"; footnote markers (<sup>[1]</sup>) are left out.
(() => {
  const KIND = {
    H1: 'heading', H2: 'heading', H3: 'heading', H4: 'heading', H5: 'heading', H6: 'heading',
    P: 'paragraph', DT: 'paragraph', DD: 'paragraph', LI: 'item', BLOCKQUOTE: 'quote',
    PRE: 'code', FIGCAPTION: 'caption', CAPTION: 'caption', TD: 'cell', TH: 'cell',
  };
  // Block-level elements that only hold other blocks (their loose text is a paragraph).
  const LAYOUT = new Set(['HTML', 'BODY', 'DIV', 'SECTION', 'ARTICLE', 'MAIN', 'UL', 'OL', 'MENU', 'DL',
    'TABLE', 'THEAD', 'TBODY', 'TFOOT', 'TR', 'FIGURE', 'HGROUP', 'DETAILS', 'SUMMARY', 'CENTER',
    'FORM', 'FIELDSET', 'ADDRESS', 'HR']);
  const SKIP = new Set(['HEAD', 'SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'SVG', 'CANVAS', 'IFRAME',
    'OBJECT', 'EMBED', 'VIDEO', 'AUDIO', 'BUTTON', 'INPUT', 'SELECT', 'TEXTAREA', 'OPTION', 'SOTTO-RESULTS']);
  const NOTE_TAGS = new Set(['NAV', 'ASIDE', 'FOOTER']);
  const NOTE_ROLES = new Set(['navigation', 'complementary', 'contentinfo', 'banner', 'search',
    'doc-endnotes', 'doc-footnote', 'doc-bibliography', 'note']);
  const NOTE_CLASS = /(^|[\s_-])(footnotes?|endnotes?|references|reflist|breadcrumbs?|sidebar|toc|comments?|related|share|social|newsletter|subscribe|promo|advert)($|[\s_-])/i;
  const BR = '\u0001';

  const tagOf = (el) => (el.localName ?? '').toUpperCase();

  // Navigation, asides, footers, the site's header and notes: read apart.
  function isNote(el) {
    if (el.dataset?.sottoKind === 'note') return true;
    const tag = tagOf(el);
    if (NOTE_TAGS.has(tag) || NOTE_ROLES.has(el.getAttribute?.('role'))) return true;
    if (tag === 'HEADER' && !el.parentElement?.closest?.('article, main')) return true;
    return NOTE_CLASS.test(el.getAttribute?.('class') ?? '') || /^(fn|footnote|cite_note)[-_:]?\d/i.test(el.id ?? '');
  }

  // A footnote marker: <sup>[1]</sup>, <sup><a href="#fn1">1</a></sup>, <a href="#cite_note-3">[3]</a>.
  function isMarker(el) {
    const tag = tagOf(el);
    if (tag !== 'SUP' && !(tag === 'A' && (el.getAttribute('href') ?? '').startsWith('#'))) return false;
    return /^\s*\[?\s*(\d{1,3}|[a-z]|[ivx]{1,4})\s*\]?\s*$/.test(el.textContent);
  }

  function hidden(el, live) {
    if (el.hidden || el.getAttribute?.('aria-hidden') === 'true') return true;
    if (!live || !el.isConnected) return false;
    const s = getComputedStyle(el);
    return s.display === 'none' || s.visibility === 'hidden' || s.visibility === 'collapse';
  }

  // Rendered white space: runs collapse to one space (not in <pre>); <br> is a line break.
  function tidy(text, kind) {
    if (kind === 'code') return text.replaceAll(BR, '\n').replace(/^\n+|\s+$/g, '');
    return text.replace(/[ \t\n\r\f]+/g, ' ').split(BR).map((l) => l.trim()).filter(Boolean).join('\n');
  }

  // The blocks under root. range (optional) keeps only what it holds; live:
  // the nodes are the page's own (their computed style is at hand).
  function blocksOf(root, { range = null, live = true, kind = 'paragraph', note = false } = {}) {
    const blocks = [];
    let buf = '', open = null;
    const flush = () => {
      const text = open ? tidy(buf, open) : '';
      if (text) blocks.push({ kind: open, text });
      buf = '', open = null;
    };
    function visit(node, k, inNote) {
      if (range && !range.intersectsNode(node)) return;
      if (node.nodeType === Node.TEXT_NODE) {
        let text = node.data;
        if (range && node === range.endContainer) text = text.slice(0, range.endOffset);
        if (range && node === range.startContainer) text = text.slice(range.startOffset);
        if (open && open !== k) flush();
        open = k;
        buf += text;
        return;
      }
      if (node.nodeType !== Node.ELEMENT_NODE && node.nodeType !== Node.DOCUMENT_FRAGMENT_NODE) return;
      const tag = tagOf(node);
      if (node.nodeType === Node.ELEMENT_NODE) {
        if (SKIP.has(tag) || hidden(node, live) || isMarker(node)) return;
        if (tag === 'BR') {
          buf += BR;
          return;
        }
      }
      const n = inNote || (node.nodeType === Node.ELEMENT_NODE && isNote(node));
      const own = KIND[tag];
      const block = own || LAYOUT.has(tag) || n !== inNote;
      if (block) flush();
      const ck = n ? 'note' : own ?? k;
      for (const c of node.childNodes) visit(c, ck, n);
      if (block) flush();
    }
    visit(root, note ? 'note' : kind, note);
    flush();
    return blocks;
  }

  const COUNTED = new Set(['paragraph', 'item', 'quote', 'heading', 'caption', 'cell']);
  function result(title, blocks) {
    const main = blocks.filter((b) => COUNTED.has(b.kind));
    return {
      title,
      blocks,
      words: main.reduce((n, b) => n + b.text.split(/\s+/).filter(Boolean).length, 0),
      chars: blocks.reduce((n, b) => n + b.text.length, 0),
    };
  }

  const wordsIn = (el) => (el?.textContent.match(/\S+/g) ?? []).length;

  // The page's own main content element, when it has one that holds most of
  // the page's text: the article inside <main> when there is one.
  function mainElement() {
    const all = [...document.querySelectorAll('article, main, [role=main]')];
    if (!all.length || !document.body) return null;
    const best = all.reduce((a, b) => (wordsIn(b) > wordsIn(a) ? b : a));
    const total = wordsIn(document.body);
    return wordsIn(best) >= 100 && wordsIn(best) * 2 >= total ? best : null;
  }

  function page() {
    const main = mainElement();
    if (main) return result(document.title, blocksOf(main));
    if (typeof Readability === 'undefined') return { readability: 'needed' };
    let title = document.title, blocks = [];
    try {
      // Readability works on a copy; notes are marked first, as it drops classes.
      const copy = document.cloneNode(true);
      for (const el of copy.querySelectorAll('nav, aside, footer, [role], [class], [id]')) {
        if (isNote(el)) el.dataset.sottoKind = 'note';
      }
      /* global Readability */
      const article = new Readability(copy).parse();
      if (article?.content) {
        const doc = new DOMParser().parseFromString(article.content, 'text/html');
        blocks = blocksOf(doc.body, { live: false });
        title = article.title || title;
      }
    } catch {
      // Readability failed on an unusual page: the visible page instead.
    }
    const read = result(title, blocks);
    if (read.words < 20 && document.body) return result(title, blocksOf(document.body));
    return read;
  }

  function selection() {
    const sel = getSelection(), blocks = [];
    for (let i = 0; i < sel.rangeCount; i++) {
      const range = sel.getRangeAt(i);
      if (range.collapsed) continue;
      let top = range.commonAncestorContainer;
      if (top.nodeType !== Node.ELEMENT_NODE) top = top.parentElement ?? top;
      // The kind and the note-ness the selection starts inside of.
      let kind = 'paragraph', note = false;
      for (let el = top; el && el.nodeType === Node.ELEMENT_NODE; el = el.parentElement) {
        if (kind === 'paragraph' && KIND[tagOf(el)] && el !== top) kind = KIND[tagOf(el)];
        note ||= isNote(el);
      }
      blocks.push(...blocksOf(top, { range, kind, note }));
    }
    return result(document.title, blocks);
  }

  globalThis.sottoExtract = { page, selection, blocksOf };
})();
