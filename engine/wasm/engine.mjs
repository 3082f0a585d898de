// engine.mjs - the JavaScript face of the wasm engine, shared by the
// extension's engine worker and the node tests. It only moves strings and
// bytes: all task logic is in C behind sotto_request.
//
//   import createSottoModule from './sotto.mjs';
//   const engine = await SottoEngine.create(createSottoModule, { threads: 2 });
//   const reply = engine.request({ id: 'r1', op: 'capabilities' });

const ERROR_BYTES = 4 + 512; // struct sotto_error: int32 status, message[SOTTO_ERROR_MESSAGE_BYTES]
const MODEL_TAKE = 1;       // SOTTO_MODEL_TAKE

export class SottoEngine {
  static async create(factory, { threads = 0, memoryBudget = 0, moduleArgs = {} } = {}) {
    const mod = await factory(moduleArgs);
    const cfg = mod._malloc(8); // struct sotto_config { int threads; size_t memory_budget; }
    const view = new DataView(mod.HEAPU8.buffer);
    view.setInt32(cfg, threads, true);
    view.setUint32(cfg + 4, memoryBudget, true);
    const ctx = mod._sotto_context_create(cfg);
    mod._free(cfg);
    if (!ctx) throw new Error('sotto: engine initialisation failed');
    return new SottoEngine(mod, ctx);
  }

  constructor(mod, ctx) {
    this.mod = mod;
    this.ctx = ctx;
  }

  #cstring(str) {
    const n = this.mod.lengthBytesUTF8(str) + 1;
    const p = this.mod._malloc(n);
    if (!p) throw new Error('sotto: out of wasm memory');
    this.mod.stringToUTF8(str, p, n);
    return p;
  }

  #take(p) { // reads and frees a string the engine returned
    if (!p) throw new Error('sotto: out of wasm memory');
    const s = this.mod.UTF8ToString(p);
    this.mod._sotto_string_free(p);
    return s;
  }

  // Runs one request; returns the parsed response. onPartial, when given,
  // receives each parsed partial message (sent when the request says
  // "stream": true); isCancelled, when given, is asked at the engine's
  // cancellation checkpoints. Either returning true cancels the request.
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

  // Registers a model from its plaintext bytes (Uint8Array); the format is
  // recognised from the bytes.
  addModel(id, bytes) {
    const data = this.mod._malloc(Math.max(1, bytes.length));
    if (!data) throw Object.assign(new Error(`no wasm memory for a model of ${bytes.length} bytes`), { code: 'out_of_memory' });
    this.mod.HEAPU8.set(bytes, data);
    this.addModelFromHeap(id, data, bytes.length);
  }

  // Registers a model whose bytes are already in the wasm heap at data
  // (from _malloc): the engine takes that buffer and frees it.
  addModelFromHeap(id, data, size) {
    const idp = this.#cstring(id);
    const errp = this.mod._malloc(ERROR_BYTES);
    try {
      this.mod.HEAPU8.fill(0, errp, errp + ERROR_BYTES);
      const status = this.mod._sotto_model_add(this.ctx, idp, data, size, MODEL_TAKE, errp);
      if (status !== 0) {
        const code = this.mod.UTF8ToString(this.mod._sotto_status_code(status));
        throw Object.assign(new Error(this.mod.UTF8ToString(errp + 4)), { code });
      }
    } finally {
      this.mod._free(idp);
      this.mod._free(errp);
    }
  }

  // Converts a Hugging Face model folder to GGUF (sotto_convert): files is
  // [{ name: 'config.json', bytes: Uint8Array }, ...], options { type,
  // name, weightsOnly }. onChunk receives the file in order (a copy of
  // each piece); onProgress(done, stage), when given, may return true to
  // cancel. Throws an Error with the status code on failure.
  convert(files, options, onChunk, onProgress) {
    const m = this.mod;
    const own = [];
    const alloc = (n) => { const p = m._malloc(Math.max(1, n)); if (!p) throw Object.assign(new Error('out of wasm memory'), { code: 'out_of_memory' }); own.push(p); return p; };
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
        const code = m.UTF8ToString(m._sotto_status_code(status));
        throw Object.assign(new Error(m.UTF8ToString(errp + 4)), { code });
      }
    } finally {
      own.forEach((p) => m._free(p));
      if (write) m.removeFunction(write);
      if (progress) m.removeFunction(progress);
    }
  }

  removeModel(id) {
    const idp = this.#cstring(id);
    try { return this.mod._sotto_model_remove(this.ctx, idp) === 0; } finally { this.mod._free(idp); }
  }

  heapBytes() { return this.mod._sotto_wasm_heap_bytes(); }

  destroy() {
    if (this.ctx) this.mod._sotto_context_destroy(this.ctx);
    this.ctx = 0;
    // Threaded builds keep worker threads alive; let the process exit.
    this.mod.PThread?.terminateAllThreads?.();
  }
}
