// extract-page.js - injected after extract.js: the page's text, as its result.
globalThis.sottoExtract.page();
