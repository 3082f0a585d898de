// store.js - the browser-side model cache: sealed (encrypted and
// authenticated) model files in IndexedDB. Sealing and opening are done by
// the wasm engine (libsodium secretstream); this file only keeps records:
//   { id, format, task, bytes, sha256, source, installed_at, sealed: ArrayBuffer }
// Plaintext model bytes are never written here.

const DB = 'sotto-models';
const STORE = 'models';

function db() {
  return new Promise((resolve, reject) => {
    const r = indexedDB.open(DB, 1);
    r.onupgradeneeded = () => r.result.createObjectStore(STORE, { keyPath: 'id' });
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

async function tx(mode, fn) {
  const d = await db();
  try {
    return await new Promise((resolve, reject) => {
      const t = d.transaction(STORE, mode);
      const req = fn(t.objectStore(STORE));
      t.oncomplete = () => resolve(req?.result);
      t.onerror = () => reject(t.error);
      t.onabort = () => reject(t.error ?? new Error('the model cache transaction was aborted'));
    });
  } finally {
    d.close();
  }
}

export const storeGet = (id) => tx('readonly', (s) => s.get(id));
export const storePut = (rec) => tx('readwrite', (s) => s.put(rec));
export const storeDelete = (id) => tx('readwrite', (s) => s.delete(id));

