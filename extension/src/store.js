// store.js - the browser-side model cache in IndexedDB. A model is kept as
// parts: consecutive pieces of PART_BYTES (the last one shorter), each
// sealed (encrypted and authenticated) by the wasm engine's store on its own,
// with a manifest that names the model, the part's place and the whole
// model's size and sha256. So neither installing nor loading a 1 GB model
// ever needs a 1 GB buffer in JavaScript, a download that stops keeps the
// parts it finished, and a damaged part is refused on its own.
//
//   parts:      { id, index, sealed: Blob }            key [id, index]
//   downloads:  { id, ...state of an unfinished download (download.js) }
//
// Plaintext model bytes are never written here. What is known about each
// model (task, size, sha256, estimate, last use) lives in extension storage
// (catalogue.js).

const DB = 'sotto-models';
const VERSION = 2;
export const PART_BYTES = 4 << 20; // plaintext bytes per part

function db() {
  return new Promise((resolve, reject) => {
    const r = indexedDB.open(DB, VERSION);
    r.onupgradeneeded = () => {
      const d = r.result;
      // version 1 kept each model as one sealed blob
      if (d.objectStoreNames.contains('models')) d.deleteObjectStore('models');
      if (!d.objectStoreNames.contains('parts')) d.createObjectStore('parts', { keyPath: ['id', 'index'] });
      if (!d.objectStoreNames.contains('downloads')) d.createObjectStore('downloads', { keyPath: 'id' });
    };
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

async function tx(name, mode, fn) {
  const d = await db();
  try {
    return await new Promise((resolve, reject) => {
      const t = d.transaction(name, mode);
      const req = fn(t.objectStore(name));
      t.oncomplete = () => resolve(req?.result);
      t.onerror = () => reject(t.error);
      t.onabort = () => reject(t.error ?? new Error('the model cache transaction was aborted'));
    });
  } finally {
    d.close();
  }
}

const ids = (id) => IDBKeyRange.bound([id, 0], [id, Number.MAX_SAFE_INTEGER]);

export const partPut = (id, index, sealed) => tx('parts', 'readwrite', (s) => s.put({ id, index, sealed }));
export const partGet = (id, index) => tx('parts', 'readonly', (s) => s.get([id, index]));
export const partCount = (id) => tx('parts', 'readonly', (s) => s.count(ids(id)));
// Removes parts index and up (all of them by default).
export const partsDelete = (id, from = 0) =>
  tx('parts', 'readwrite', (s) => s.delete(IDBKeyRange.bound([id, from], [id, Number.MAX_SAFE_INTEGER])));

// The sealed bytes of one part, or null when it is missing.
export async function partBytes(id, index) {
  const rec = await partGet(id, index);
  if (!rec) return null;
  return new Uint8Array(rec.sealed instanceof Blob ? await rec.sealed.arrayBuffer() : rec.sealed);
}

export const downloadGet = (id) => tx('downloads', 'readonly', (s) => s.get(id));
export const downloadPut = (rec) => tx('downloads', 'readwrite', (s) => s.put(rec));
export const downloadDelete = (id) => tx('downloads', 'readwrite', (s) => s.delete(id));
export const downloadsAll = () => tx('downloads', 'readonly', (s) => s.getAll());
