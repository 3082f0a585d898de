// engine.mjs - the JavaScript face of the wasm engine, shared by the
// extension's engine worker and the node tests. It only moves strings and
// bytes: all task logic is in C behind sotto_request.
//
//   import createSottoModule from './sotto.mjs';
//   const engine = await SottoEngine.create(createSottoModule, { threads: 2 });
//   const reply = engine.request({ id: 'r1', op: 'capabilities' });

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
  // receives each parsed partial message and may return true to cancel.
  request(req, onPartial) {
    const json = typeof req === 'string' ? req : JSON.stringify(req);
    const p = this.#cstring(json);
    let fn = 0;
    try {
      if (onPartial) {
        fn = this.mod.addFunction((user, msg) => (onPartial(JSON.parse(this.mod.UTF8ToString(msg))) ? 1 : 0), 'iii');
      }
      return JSON.parse(this.#take(fn ? this.mod._sotto_request_stream(this.ctx, p, fn, 0)
        : this.mod._sotto_request(this.ctx, p)));
    } finally {
      this.mod._free(p);
      if (fn) this.mod.removeFunction(fn);
    }
  }

  // Registers a model from its plaintext bytes (Uint8Array).
  addModel(id, format, bytes) {
    const idp = this.#cstring(id), fp = this.#cstring(format);
    const data = this.mod._malloc(Math.max(1, bytes.length));
    const errp = this.mod._malloc(4);
    try {
      if (!data || !errp) throw new Error(`sotto: no wasm memory for a model of ${bytes.length} bytes`);
      this.mod.HEAPU8.set(bytes, data);
      const rc = this.mod._sotto_model_add(this.ctx, idp, fp, data, bytes.length, errp);
      if (rc !== 0) {
        const ep = new DataView(this.mod.HEAPU8.buffer).getUint32(errp, true);
        throw new Error(ep ? this.#take(ep) : `sotto: cannot load model ${id}`);
      }
    } finally {
      for (const p of [idp, fp, data, errp]) if (p) this.mod._free(p);
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
