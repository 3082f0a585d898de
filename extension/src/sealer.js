// sealer.js - the engine's encrypted store (sotto_store_*: libsodium
// secretstream, see engine/include/sotto.h) driven from JavaScript, for the
// browser's model cache. Keys are 32 bytes, passed around as base64.
// Plaintext stays inside the wasm heap on the way to the engine.

const KEYBYTES = 32;
const ERROR_BYTES = 4 + 512; // struct sotto_error: int32 status, message[SOTTO_ERROR_MESSAGE_BYTES]

export class StoreError extends Error {
  constructor(code, message) { super(message); this.code = code; }
}

export function keyBytes(b64) {
  const bin = atob(b64 ?? '');
  if (bin.length !== KEYBYTES) throw new StoreError('bad_key', 'the cache key must be 32 bytes');
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

function withKey(mod, keyB64, fn) {
  const k = mod._malloc(KEYBYTES);
  try {
    mod.HEAPU8.set(keyBytes(keyB64), k);
    return fn(k);
  } finally {
    mod.HEAPU8.fill(0, k, k + KEYBYTES);
    mod._free(k);
  }
}

// A sotto_error struct in the heap: int32 status, then the message.
export function heapError(mod, p, fallback) {
  const status = new DataView(mod.HEAPU8.buffer).getInt32(p, true);
  const code = status ? mod.UTF8ToString(mod._sotto_status_code(status)) : fallback;
  return new StoreError(code, mod.UTF8ToString(p + 4) || fallback);
}

function storeError(mod, s, fallback) {
  return heapError(mod, mod._sotto_store_error(s), fallback);
}

// Copies bytes into the heap and feeds them to s in slices, collecting the
// output of every slice with onOutput(pointer, length).
function feed(mod, s, bytes, onOutput) {
  const SLICE = 1 << 20;
  const buf = mod._malloc(Math.min(SLICE, Math.max(1, bytes.length)));
  const lenp = mod._malloc(4);
  if (!buf || !lenp) throw new StoreError('out_of_memory', 'no wasm memory for the model cache');
  try {
    for (let off = 0; off < bytes.length; off += SLICE) {
      const part = bytes.subarray(off, off + SLICE);
      mod.HEAPU8.set(part, buf);
      if (mod._sotto_store_update(s, buf, part.length) !== 0) throw storeError(mod, s, 'tampered');
      const p = mod._sotto_store_output(s, lenp);
      const n = new DataView(mod.HEAPU8.buffer).getUint32(lenp, true);
      if (n) onOutput(p, n);
    }
  } finally {
    mod._free(buf);
    mod._free(lenp);
  }
}

// Incremental sealing of a download: begin with the manifest (id, format,
// size, sha256...), update with the plaintext as it arrives, finish to get
// the sealed parts. finish() fails when the bytes' sha256 differs.
export class Sealer {
  constructor(mod, keyB64, manifest) {
    this.mod = mod;
    this.parts = [];
    const json = JSON.stringify(manifest);
    const n = mod.lengthBytesUTF8(json) + 1;
    const mp = mod._malloc(n);
    const errp = mod._malloc(ERROR_BYTES);
    try {
      mod.stringToUTF8(json, mp, n);
      mod.HEAPU8.fill(0, errp, errp + ERROR_BYTES);
      this.s = withKey(mod, keyB64, (k) => mod._sotto_store_seal_begin(k, mp, 0, errp));
      if (!this.s) throw heapError(mod, errp, 'bad_request');
      this.#collect();
    } finally {
      mod._free(mp);
      mod._free(errp);
    }
  }

  #collect() {
    const lenp = this.mod._malloc(4);
    const p = this.mod._sotto_store_output(this.s, lenp);
    const n = new DataView(this.mod.HEAPU8.buffer).getUint32(lenp, true);
    this.mod._free(lenp);
    if (n) this.parts.push(this.mod.HEAPU8.slice(p, p + n));
  }

  update(bytes) {
    feed(this.mod, this.s, bytes, (p, n) => this.parts.push(this.mod.HEAPU8.slice(p, p + n)));
  }

  finish() {
    try {
      if (this.mod._sotto_store_finish(this.s) !== 0) throw storeError(this.mod, this.s, 'sha256_mismatch');
      this.#collect();
      return this.parts;
    } finally {
      this.free();
    }
  }

  free() {
    if (this.s) this.mod._sotto_store_free(this.s);
    this.s = 0;
  }
}

// Opens sealed bytes into a fresh heap buffer and hands (pointer, size,
// manifest) to use() only once the whole file has been authenticated; the
// buffer is wiped and freed afterwards, unless take is set: then use()
// hands it to the engine (SOTTO_MODEL_TAKE), which owns it from then on.
// With id, an entry whose manifest names another model is refused. Any
// failure throws a StoreError with the engine's code: tampered, truncated,
// wrong_key, ...
export function openSealed(mod, keyB64, sealed, use, { take = false, id } = {}) {
  const s = withKey(mod, keyB64, (k) => mod._sotto_store_open_begin(k));
  if (!s) throw new StoreError('out_of_memory', 'cannot open the model cache');
  let plain = 0, size = 0, filled = 0;
  try {
    feed(mod, s, sealed, (p, n) => {
      if (!plain) {
        const manifest = JSON.parse(mod.UTF8ToString(mod._sotto_store_manifest(s)));
        size = manifest.size;
        plain = mod._malloc(Math.max(1, size));
        if (!plain) throw new StoreError('out_of_memory', `no wasm memory for a model of ${size} bytes`);
      }
      if (filled + n > size) throw new StoreError('tampered', 'more plaintext than the manifest says');
      mod.HEAPU8.copyWithin(plain + filled, p, p + n);
      filled += n;
    });
    if (mod._sotto_store_finish(s) !== 0) throw storeError(mod, s, 'tampered');
    const manifest = JSON.parse(mod.UTF8ToString(mod._sotto_store_manifest(s)));
    if (id !== undefined && manifest.id !== id) throw new StoreError('tampered', `the cache entry for ${id} holds ${manifest.id}`);
    if (!plain) plain = mod._malloc(1); // an empty model
    const p = plain;
    if (take) plain = 0;
    return use(p, filled, manifest);
  } finally {
    if (plain) {
      mod.HEAPU8.fill(0, plain, plain + filled);
      mod._free(plain);
    }
    mod._sotto_store_free(s);
  }
}

function b64(bytes) {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

// A cache key from a passphrase: Argon2id (libsodium's INTERACTIVE limits)
// over the passphrase and a 16-byte salt. Returns the key and its public
// check value (sotto_store_key_check), both base64.
export function deriveKey(mod, passphrase, saltB64) {
  const salt = Uint8Array.from(atob(saltB64), (c) => c.charCodeAt(0));
  if (salt.length !== 16) throw new StoreError('bad_request', 'the salt must be 16 bytes');
  const n = mod.lengthBytesUTF8(passphrase);
  const pp = mod._malloc(n + 1), sp = mod._malloc(16), kp = mod._malloc(KEYBYTES), cp = mod._malloc(16);
  try {
    mod.stringToUTF8(passphrase, pp, n + 1);
    mod.HEAPU8.set(salt, sp);
    if (mod._sotto_store_key_from_passphrase(kp, pp, n, sp, 0, 0) !== 0) {
      throw new StoreError('out_of_memory', 'could not derive a key from the passphrase');
    }
    mod._sotto_store_key_check(kp, cp);
    return { key: b64(mod.HEAPU8.subarray(kp, kp + KEYBYTES)), check: b64(mod.HEAPU8.subarray(cp, cp + 16)) };
  } finally {
    mod.HEAPU8.fill(0, pp, pp + n + 1);
    mod.HEAPU8.fill(0, kp, kp + KEYBYTES);
    for (const p of [pp, sp, kp, cp]) mod._free(p);
  }
}

// Re-encrypts sealed bytes under another key (a passphrase set or dropped).
// The plaintext passes through JavaScript memory only for the copy.
export function reseal(mod, fromKey, toKey, sealed) {
  return openSealed(mod, fromKey, sealed, (p, n, manifest) => {
    const s = new Sealer(mod, toKey, manifest);
    try {
      s.update(mod.HEAPU8.subarray(p, p + n).slice());
      return s.finish();
    } finally {
      s.free();
    }
  });
}
