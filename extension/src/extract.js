// extract.js - injected into a page after vendor/Readability.js when the
// user asks for a page summary: the main content's text, paragraphs kept
// apart, without navigation, ads and comments. The page's own DOM is not
// touched (Readability works on a copy).
/* global Readability */
(() => {
  let title = document.title, text = '';
  try {
    const article = new Readability(document.cloneNode(true)).parse();
    if (article?.content) {
      const doc = new DOMParser().parseFromString(article.content, 'text/html');
      // Block elements end their text with a newline, so paragraphs and list
      // items never run together into one sentence.
      for (const el of doc.body.querySelectorAll('p, li, h1, h2, h3, h4, h5, h6, blockquote, pre, td, th, br, div')) {
        el.append('\n');
      }
      text = doc.body.textContent;
      title = article.title || title;
    }
  } catch {
    // Readability failed on an unusual page: fall back to the visible text.
  }
  if (!text.trim()) text = document.body?.innerText ?? '';
  text = text.replace(/[ \t\u00a0]+/g, ' ').replace(/\s*\n\s*/g, '\n').trim();
  return { title, text, words: text.split(/\s+/).filter(Boolean).length };
})();
