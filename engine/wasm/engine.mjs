// engine.mjs - the JavaScript face of the wasm engine, shared by the
// extension's engine worker and the node tests. It is the only JavaScript
// that touches the wasm heap: requests, model loading, and the encrypted
// store (sealing and opening the extension's model cache). It moves strings
// and bytes; all task logic is in C behind sotto_request.
//
//   import createSottoModule from './sotto.mjs';
//   const engine = await SottoEngine.create(createSottoModule, { threads: 2 });
//   const reply = engine.request({ id: 'r1', op: 'capabilities' });
//
// Failures are SottoError {code, message, hint?}, the code one of the
// engine's status codes (engine/include/sotto.h, SOTTO_STATUS_LIST).

// Sizes from engine/include/sotto.h.
const ERROR_BYTES = 4 + 512; // struct sotto_error: int32 status, char message[SOTTO_ERROR_MESSAGE_BYTES]
const KEY_BYTES = 32;        // SOTTO_STORE_KEYBYTES
const SALT_BYTES = 16;       // SOTTO_STORE_SALTBYTES
const CHECK_BYTES = 16;      // SOTTO_STORE_CHECKBYTES
const MODEL_TAKE = 1;        // SOTTO_MODEL_TAKE
const CONFIG_BYTES = 8;      // struct sotto_config { int threads; size_t memory_budget; } in wasm32
const FEED_BYTES = 1 << 20;  // sealed or plain bytes copied into the heap at a time

// The one error class of sotto's JavaScript: the engine's, the host's and the
// extension's failures, each with a stable code and, where one helps, a hint
// for the user.
export class SottoError extends Error {
  constructor(code, message, hint) {
    super(message);
    this.name = 'SottoError';
    this.code = code || 'internal';
    if (hint) this.hint = hint;
  }

  // From a reply's {code, message, hint} or any thrown value; the code of a
  // coded error is kept, anything else becomes fallback.
  static from(e, fallback = 'internal') {
    if (e instanceof SottoError) return e;
    if (e && typeof e === 'object' && typeof e.code === 'string') return new SottoError(e.code, e.message ?? String(e.code), e.hint);
    return new SottoError(fallback, e?.message ?? String(e));
  }

  toJSON() {
    return this.hint ? { code: this.code, message: this.message, hint: this.hint } : { code: this.code, message: this.message };
  }
}

// Bytes to and from base64 (keys, hash states, native messaging's chunks).
export function base64(bytes) {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}
export function fromBase64(text) { return Uint8Array.from(atob(text), (c) => c.charCodeAt(0)); }

// Keys and salts come as base64 (extension storage) or bytes.
function bytesOf(v, n, what) {
  const b = typeof v === 'string' ? fromBase64(v) : v;
  if (!(b instanceof Uint8Array) || b.length !== n) throw new SottoError('bad_request', `${what} must be ${n} bytes`);
  return b;
}

export class SottoEngine {
  static async create(factory, { threads = 0, memoryBudget = 0, moduleArgs = {} } = {}) {
    const mod = await factory(moduleArgs);
    const cfg = mod._malloc(CONFIG_BYTES);
    const view = new DataView(mod.HEAPU8.buffer);
    view.setInt32(cfg, threads, true);
    view.setUint32(cfg + 4, memoryBudget, true);
    const ctx = mod._sotto_context_create(cfg);
    mod._free(cfg);
    if (!ctx) throw new SottoError('engine_failed', 'the engine could not start');
    return new SottoEngine(mod, ctx);
  }

  constructor(mod, ctx) {
    this.mod = mod;
    this.ctx = ctx;
  }

  // ---- heap helpers ----

  #alloc(n, what = 'the engine') {
    const p = this.mod._malloc(Math.max(1, n));
    if (!p) throw new SottoError('out_of_memory', `no wasm memory for ${what} (${n} bytes)`);
    return p;
  }

  #cstring(str) {
    const n = this.mod.lengthBytesUTF8(str) + 1;
    const p = this.#alloc(n, 'a string');
    this.mod.stringToUTF8(str, p, n);
    return p;
  }

  #take(p) { // reads and frees a string the engine returned
    if (!p) throw new SottoError('out_of_memory', 'the engine ran out of wasm memory');
    const s = this.mod.UTF8ToString(p);
    this.mod._sotto_string_free(p);
    return s;
  }

  #u32(p) { return new DataView(this.mod.HEAPU8.buffer).getUint32(p, true); }

  // A sotto_error struct at p as a SottoError.
  #error(p, fallback) {
    const status = new DataView(this.mod.HEAPU8.buffer).getInt32(p, true);
    const code = status ? this.mod.UTF8ToString(this.mod._sotto_status_code(status)) : fallback;
    return new SottoError(code, this.mod.UTF8ToString(p + 4) || fallback);
  }

  #withError(fn) {
    const errp = this.#alloc(ERROR_BYTES);
    this.mod.HEAPU8.fill(0, errp, errp + ERROR_BYTES);
    try { return fn(errp); } finally { this.mod._free(errp); }
  }

  // Runs fn(pointer) with secret bytes in the heap, wiped afterwards.
  #withSecret(bytes, fn) {
    const p = this.#alloc(bytes.length);
    try {
      this.mod.HEAPU8.set(bytes, p);
      return fn(p);
    } finally {
      this.mod.HEAPU8.fill(0, p, p + bytes.length);
      this.mod._free(p);
    }
  }

  // ---- requests ----

  // Runs one request (an object or JSON text); returns the parsed response.
  // onPartial, when given, receives each parsed partial message (sent when
  // the request says "stream": true); isCancelled, when given, is asked at
  // the engine's cancellation checkpoints. Either returning true cancels the
  // request: the response is then error "cancelled".
  request(req, onPartial, isCancelled) {
    const json = typeof req === 'string' ? req : JSON.stringify(req);
    const p = this.#cstring(json);
    let fn = 0;
    try {
      if (onPartial || isCancelled) {
        fn = this.mod.addFunction((user, msg) => {
          if (!msg) return isCancelled?.() ? 1 : 0;
          return onPartial?.(JSON.parse(this.mod.UTF8ToString(msg))) || isCancelled?.() ? 1 : 0;
        }, 'iii');
      }
      return JSON.parse(this.#take(fn ? this.mod._sotto_request_stream(this.ctx, p, fn, 0)
        : this.mod._sotto_request(this.ctx, p)));
    } finally {
      this.mod._free(p);
      if (fn) this.mod.removeFunction(fn);
    }
  }

  // ---- models ----

  // Registers a model from its plaintext bytes (Uint8Array); the format is
  // recognised from the bytes.
  addModel(id, bytes) {
    const data = this.#alloc(bytes.length, `a model of ${bytes.length} bytes`);
    this.mod.HEAPU8.set(bytes, data);
    this.addModelFromHeap(id, data, bytes.length);
  }

  // Registers a model whose bytes are already in the wasm heap at data
  // (from _malloc): the engine takes that buffer and frees it, also when it
  // refuses the model (SottoError with the engine's code: bad_model,
  // over_budget, unsupported_format, ...).
  addModelFromHeap(id, data, size) {
    let idp = 0;
    try {
      idp = this.#cstring(id);
    } catch (e) {
      this.mod._free(data);
      throw e;
    }
    try {
      this.#withError((errp) => {
        if (this.mod._sotto_model_add(this.ctx, idp, data, size, MODEL_TAKE, errp) !== 0) throw this.#error(errp, 'bad_model');
      });
    } finally {
      this.mod._free(idp);
    }
  }

  // Converts a Hugging Face model folder to GGUF (sotto_convert): files is
  // [{ name: 'config.json', bytes: Uint8Array }, ...], options { type,
  // name, weightsOnly }. onChunk receives the file in order (a copy of
  // each piece); onProgress(done, stage), when given, may return true to
  // cancel. Throws a SottoError with the engine's code on failure.
  convert(files, options, onChunk, onProgress) {
    const m = this.mod;
    const own = [];
    const alloc = (n) => { const p = m._malloc(Math.max(1, n)); if (!p) throw new SottoError('out_of_memory', 'out of wasm memory'); own.push(p); return p; };
    const str = (s) => { const n = m.lengthBytesUTF8(s) + 1; const p = alloc(n); m.stringToUTF8(s, p, n); return p; };
    let write = 0, progress = 0;
    try {
      const list = alloc(12 * files.length); // struct sotto_file { name, data, size }
      files.forEach((f, i) => {
        const data = alloc(f.bytes.length);
        m.HEAPU8.set(f.bytes, data);
        const view = new DataView(m.HEAPU8.buffer);
        view.setUint32(list + 12 * i, str(f.name), true);
        view.setUint32(list + 12 * i + 4, data, true);
        view.setUint32(list + 12 * i + 8, f.bytes.length, true);
      });
      const opt = alloc(16); // struct sotto_convert_options { type, name, weights_only, threads }
      const view = new DataView(m.HEAPU8.buffer);
      view.setUint32(opt, options?.type ? str(options.type) : 0, true);
      view.setUint32(opt + 4, options?.name ? str(options.name) : 0, true);
      view.setInt32(opt + 8, options?.weightsOnly ? 1 : 0, true);
      view.setInt32(opt + 12, 0, true);
      const errp = alloc(ERROR_BYTES);
      m.HEAPU8.fill(0, errp, errp + ERROR_BYTES);
      write = m.addFunction((user, data, len) => (onChunk(m.HEAPU8.slice(data, data + len)) ? 1 : 0), 'iiii');
      progress = m.addFunction((user, done, stage) => (onProgress?.(done, m.UTF8ToString(stage)) ? 1 : 0), 'iidi');
      const status = m._sotto_convert(list, files.length, opt, write, progress, 0, errp);
      if (status !== 0) {
        throw this.#error(errp, 'internal');
      }
    } finally {
      own.forEach((p) => m._free(p));
      if (write) m.removeFunction(write);
      if (progress) m.removeFunction(progress);
    }
  }

  // Opens a sealed model (the encrypted cache's bytes) and registers it: the
  // plaintext goes from the store straight to the engine inside the heap,
  // only after the whole entry has been authenticated. Returns its manifest.
  addModelSealed(id, key, sealed) {
    return this.#open(key, sealed, id, (p, n, manifest) => {
      this.addModelFromHeap(id, p, n);
      return manifest;
    }, true);
  }

  removeModel(id) {
    const idp = this.#cstring(id);
    try { return this.mod._sotto_model_remove(this.ctx, idp) === 0; } finally { this.mod._free(idp); }
  }

  // Later model loads are refused over this many bytes (0 = no limit).
  setMemoryBudget(bytes) { this.mod._sotto_context_set_memory_budget(this.ctx, bytes); }

  heapBytes() { return this.mod._sotto_wasm_heap_bytes(); }

  // ---- the encrypted store (sotto_store_*) ----

  // Incremental sealing: update() with the plaintext as it arrives, finish()
  // for the sealed parts (Uint8Array[]); finish fails with sha256_mismatch
  // when the bytes differ from the manifest's sha256.
  sealer(key, manifest) {
    const s = this.#withSecret(bytesOf(key, KEY_BYTES, 'the cache key'), (k) => {
      const mp = this.#cstring(JSON.stringify(manifest));
      try {
        return this.#withError((errp) => {
          const st = this.mod._sotto_store_seal_begin(k, mp, 0, errp);
          if (!st) throw this.#error(errp, 'bad_request');
          return st;
        });
      } finally {
        this.mod._free(mp);
      }
    });
    const parts = [];
    const collect = (p, n) => parts.push(this.mod.HEAPU8.slice(p, p + n));
    let live = s;
    const free = () => { if (live) this.mod._sotto_store_free(live); live = 0; };
    this.#output(s, collect);
    return {
      update: (bytes) => this.#feed(live, bytes, collect),
      finish: () => {
        try {
          if (this.mod._sotto_store_finish(live) !== 0) throw this.#storeError(live, 'sha256_mismatch');
          this.#output(live, collect);
          return parts;
        } finally {
          free();
        }
      },
      abort: free,
    };
  }

  // Opens sealed bytes: {bytes (a copy), manifest}. With id, an entry whose
  // manifest names another model is refused. Any failure is a SottoError
  // with the store's code: tampered, truncated, wrong_key, ...
  unseal(key, sealed, { id } = {}) {
    return this.#open(key, sealed, id, (p, n, manifest) => ({ bytes: this.mod.HEAPU8.slice(p, p + n), manifest }));
  }

  // Re-encrypts sealed bytes under another key (a passphrase set or dropped).
  reseal(fromKey, toKey, sealed) {
    return this.#open(fromKey, sealed, undefined, (p, n, manifest) => {
      const s = this.sealer(toKey, manifest);
      try {
        s.update(this.mod.HEAPU8.subarray(p, p + n));
        return s.finish();
      } finally {
        s.abort();
      }
    });
  }

  // A cache key from a passphrase: Argon2id (libsodium's INTERACTIVE limits)
  // over the passphrase and a 16-byte salt. Returns the key and its public
  // check value (sotto_store_key_check), both base64.
  deriveKey(passphrase, salt) {
    const saltBytes = bytesOf(salt, SALT_BYTES, 'the salt');
    const n = this.mod.lengthBytesUTF8(passphrase);
    const pp = this.#alloc(n + 1), sp = this.#alloc(SALT_BYTES), kp = this.#alloc(KEY_BYTES), cp = this.#alloc(CHECK_BYTES);
    try {
      this.mod.stringToUTF8(passphrase, pp, n + 1);
      this.mod.HEAPU8.set(saltBytes, sp);
      if (this.mod._sotto_store_key_from_passphrase(kp, pp, n, sp, 0, 0) !== 0) {
        throw new SottoError('out_of_memory', 'could not derive a key from the passphrase');
      }
      this.mod._sotto_store_key_check(kp, cp);
      return { key: base64(this.mod.HEAPU8.subarray(kp, kp + KEY_BYTES)), check: base64(this.mod.HEAPU8.subarray(cp, cp + CHECK_BYTES)) };
    } finally {
      this.mod.HEAPU8.fill(0, pp, pp + n + 1);
      this.mod.HEAPU8.fill(0, kp, kp + KEY_BYTES);
      for (const p of [pp, sp, kp, cp]) this.mod._free(p);
    }
  }

  #storeError(s, fallback) { return this.#error(this.mod._sotto_store_error(s), fallback); }

  // Output the store produced since the last call, to onOutput(pointer, n).
  #output(s, onOutput) {
    const lenp = this.#alloc(4);
    try {
      const p = this.mod._sotto_store_output(s, lenp);
      const n = this.#u32(lenp);
      if (n) onOutput(p, n);
    } finally {
      this.mod._free(lenp);
    }
  }

  // Copies bytes into the heap and feeds them to s a slice at a time.
  #feed(s, bytes, onOutput) {
    const buf = this.#alloc(Math.min(FEED_BYTES, bytes.length));
    try {
      for (let off = 0; off < bytes.length; off += FEED_BYTES) {
        const part = bytes.subarray(off, off + FEED_BYTES);
        this.mod.HEAPU8.set(part, buf);
        if (this.mod._sotto_store_update(s, buf, part.length) !== 0) throw this.#storeError(s, 'tampered');
        this.#output(s, onOutput);
      }
    } finally {
      this.mod.HEAPU8.fill(0, buf, buf + Math.min(FEED_BYTES, bytes.length));
      this.mod._free(buf);
    }
  }

  // Opens sealed bytes into a fresh heap buffer and hands (pointer, size,
  // manifest) to use() only once the whole entry has been authenticated.
  // The buffer is wiped and freed afterwards, unless take is set: then use()
  // hands it to the engine (SOTTO_MODEL_TAKE), which owns it from then on.
  #open(key, sealed, id, use, take = false) {
    let plain = 0, cap = 0;
    try {
      const { filled, manifest } = this.#openTo(key, sealed, (m) => {
        cap = m.size;
        plain = this.#alloc(cap, `a model of ${cap} bytes`);
        return plain;
      });
      if (id !== undefined && manifest.id !== id) throw new SottoError('tampered', `the cache entry for ${id} holds ${manifest.id}`);
      if (!plain) plain = this.#alloc(1); // an empty model
      const p = plain;
      if (take) plain = 0;
      return use(p, filled, manifest);
    } finally {
      if (plain) {
        this.mod.HEAPU8.fill(0, plain, plain + cap);
        this.mod._free(plain);
      }
    }
  }

  // Opens sealed bytes into heap memory that place(manifest) gives (called
  // once the manifest is read, with room for manifest.size bytes). Returns
  // {filled, manifest} once the whole entry has been authenticated; on any
  // failure throws, and what was written there must not be used.
  #openTo(key, sealed, place) {
    const s = this.#withSecret(bytesOf(key, KEY_BYTES, 'the cache key'), (k) => this.mod._sotto_store_open_begin(k));
    if (!s) throw new SottoError('out_of_memory', 'cannot open the model cache');
    let dst = 0, size = 0, filled = 0;
    try {
      this.#feed(s, sealed, (p, n) => {
        if (!dst) {
          const m = JSON.parse(this.mod.UTF8ToString(this.mod._sotto_store_manifest(s)));
          size = m.size;
          dst = place(m);
        }
        if (filled + n > size) throw new SottoError('tampered', 'more plaintext than the manifest says');
        this.mod.HEAPU8.copyWithin(dst + filled, p, p + n);
        filled += n;
      });
      if (this.mod._sotto_store_finish(s) !== 0) throw this.#storeError(s, 'tampered');
      const manifest = JSON.parse(this.mod.UTF8ToString(this.mod._sotto_store_manifest(s)));
      return { filled, manifest };
    } finally {
      this.mod._sotto_store_free(s);
    }
  }

  // ---- models sealed in parts (the extension's cache) ----

  // A model of `size` bytes sealed as `parts` store entries of consecutive
  // pieces, each with a manifest {id, install, part, offset, last?} (install:
  // the random id of the install that sealed them, so parts of two installs
  // of a model never mix). add(i, sealed) opens part i (in order) straight
  // into one heap buffer, authenticating it in full; finish() registers the
  // model from that buffer (the engine takes it: no second copy) and returns
  // the first part's manifest. A part of another model or install, out of
  // place, damaged, missing or after the last is refused (tampered,
  // truncated, wrong_key, ...) and nothing is loaded. So a 1 GB model needs
  // no 1 GB JavaScript buffer: only the engine's heap holds it.
  partsLoader(id, key, { size, parts, install }) {
    let plain = this.#alloc(size, `a model of ${size} bytes`);
    let filled = 0, next = 0, first = null, ended = false;
    const wipe = () => {
      if (!plain) return;
      this.mod.HEAPU8.fill(0, plain, plain + size);
      this.mod._free(plain);
      plain = 0;
    };
    return {
      add: (index, sealed) => {
        if (!plain) throw new SottoError('bad_request', 'this load was finished or aborted');
        const where = `part ${index} of ${id}`;
        try {
          if (index !== next || ended) throw new SottoError('tampered', `${where} is not the part expected next`);
          const { filled: n, manifest: m } = this.#openTo(key, sealed, (m) => {
            if (m.size > size - filled) throw new SottoError('tampered', `${where} runs past the model's ${size} bytes`);
            return plain + filled;
          });
          if (m.id !== id) throw new SottoError('tampered', `${where} holds ${m.id}`);
          if (m.install !== install) throw new SottoError('tampered', `${where} belongs to another install of the model`);
          if (m.part !== String(index) || m.offset !== String(filled)) {
            throw new SottoError('tampered', `${where} is out of place (its manifest says part ${m.part} at byte ${m.offset})`);
          }
          filled += n;
          next++;
          ended = m.last === '1';
          first ??= m;
        } catch (e) {
          wipe();
          throw e;
        }
      },
      // register false: only check that every part was there and intact.
      finish: (register = true) => {
        if (!plain) throw new SottoError('bad_request', 'this load was finished or aborted');
        if (next !== parts || filled !== size || !ended) {
          wipe();
          throw new SottoError('truncated', `${id}: ${next} of ${parts} parts, ${filled} of ${size} bytes${ended ? '' : ', no last part'}`);
        }
        if (!register) {
          wipe();
          return first;
        }
        const p = plain;
        plain = 0; // the engine owns it now, also when it refuses the model
        this.addModelFromHeap(id, p, size);
        return first;
      },
      abort: wipe,
    };
  }

  // ---- what a model file will need (sotto_model_estimate) ----

  // The engine's memory estimate from the first bytes of a file of fileSize
  // bytes (a GGUF file's header): {format, arch, bytes, resident_bytes,
  // weights_bytes, state_bytes, header_bytes, n_ctx_default, exact}. Throws
  // SottoError 'truncated' when the bytes end inside the header: call again
  // with more of the file.
  estimate(bytes, fileSize) {
    const p = this.#alloc(bytes.length, 'a model header');
    try {
      this.mod.HEAPU8.set(bytes, p);
      return this.#withError((errp) => {
        const out = this.mod._sotto_wasm_model_estimate(p, bytes.length, fileSize, errp);
        if (!out) throw this.#error(errp, 'internal');
        return JSON.parse(this.#take(out));
      });
    } finally {
      this.mod._free(p);
    }
  }

  // ---- split GGUF files (sotto_gguf_join) ----

  // Plans one GGUF file from gguf-split parts: heads [{name, bytes}] (the
  // first bytes of each part, at least its header), sizes (each part's
  // size). Returns {header: Uint8Array, parts: [{data_start, pad}]}: the
  // joined file is the header, then for each part its bytes from data_start
  // on and pad zero bytes. Throws 'truncated' when a head is too short.
  joinPlan(heads, sizes) {
    const m = this.mod;
    const own = [];
    const alloc = (n) => { const p = this.#alloc(n); own.push(p); return p; };
    try {
      const list = alloc(12 * heads.length); // struct sotto_file { name, data, size }
      const sz = alloc(8 * heads.length);
      heads.forEach((h, i) => {
        const name = this.#cstring(h.name ?? '');
        own.push(name);
        const data = alloc(h.bytes.length);
        m.HEAPU8.set(h.bytes, data);
        const view = new DataView(m.HEAPU8.buffer);
        view.setUint32(list + 12 * i, name, true);
        view.setUint32(list + 12 * i + 4, data, true);
        view.setUint32(list + 12 * i + 8, h.bytes.length, true);
        view.setFloat64(sz + 8 * i, sizes[i], true);
      });
      const out = alloc(8); // uint8_t *header; size_t header_len
      return this.#withError((errp) => {
        const json = m._sotto_wasm_gguf_join(list, sz, heads.length, out, out + 4, errp);
        if (!json) throw this.#error(errp, 'bad_model');
        const plan = JSON.parse(this.#take(json));
        const hp = this.#u32(out), hl = this.#u32(out + 4);
        plan.header = m.HEAPU8.slice(hp, hp + hl);
        m._free(hp);
        return plan;
      });
    } finally {
      own.forEach((p) => m._free(p));
    }
  }

  // ---- SHA-256 that can be saved and resumed (libsodium's) ----

  // sha256(saved?) -> {update(bytes), save() (the state's bytes, to resume
  // with sha256(saved) later), hex() (the digest; ends it), free()}.
  sha256(saved) {
    const n = this.mod._sotto_wasm_sha256_statebytes();
    let st = this.#alloc(n, 'a hash state');
    if (saved) {
      if (!(saved instanceof Uint8Array) || saved.length !== n) {
        this.mod._free(st);
        throw new SottoError('bad_request', `a saved hash state is ${n} bytes`);
      }
      this.mod.HEAPU8.set(saved, st);
    } else {
      this.mod._sotto_wasm_sha256_init(st);
    }
    const live = () => { if (!st) throw new SottoError('bad_request', 'the hash was finished'); return st; };
    const free = () => { if (st) this.mod._free(st); st = 0; };
    return {
      update: (bytes) => {
        const s = live();
        if (!bytes.length) return;
        const buf = this.#alloc(Math.min(FEED_BYTES, bytes.length));
        try {
          for (let off = 0; off < bytes.length; off += FEED_BYTES) {
            const part = bytes.subarray(off, off + FEED_BYTES);
            this.mod.HEAPU8.set(part, buf);
            this.mod._sotto_wasm_sha256_update(s, buf, part.length);
          }
        } finally {
          this.mod._free(buf);
        }
      },
      save: () => this.mod.HEAPU8.slice(live(), live() + n),
      hex: () => {
        const out = this.#alloc(32);
        try {
          this.mod._sotto_wasm_sha256_final(live(), out);
          return [...this.mod.HEAPU8.subarray(out, out + 32)].map((b) => b.toString(16).padStart(2, '0')).join('');
        } finally {
          this.mod._free(out);
          free();
        }
      },
      free,
    };
  }

  destroy() {
    if (this.ctx) this.mod._sotto_context_destroy(this.ctx);
    this.ctx = 0;
    // Threaded builds keep worker threads alive; let the process exit.
    this.mod.PThread?.terminateAllThreads?.();
  }
}
