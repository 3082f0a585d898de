// extract-selection.js - injected after extract.js: the selection's text, as its result.
globalThis.sottoExtract.selection();
