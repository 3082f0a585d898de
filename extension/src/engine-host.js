// engine-host.js - owns the engine worker (engine-worker.js) on a page that
// may start workers: Chrome's offscreen document, Firefox's background page,
// the options page. The engine blocks while it computes, so it never runs on
// a page's own thread.
//
//   const host = new EngineHost();
//   const reply = await host.call({ type: 'request', req, models }, onPartial);

export class EngineHost {
  #worker = null;
  #pending = new Map();
  #seq = 0;

  #start() {
    const w = new Worker(new URL('./engine-worker.js', import.meta.url), { type: 'module', name: 'sotto-engine' });
    w.onmessage = (e) => {
      const { id, partial, progress, reply, error } = e.data;
      const p = this.#pending.get(id);
      if (!p) return;
      if (partial !== undefined) return void p.onEvent?.({ partial });
      if (progress !== undefined) return void p.onEvent?.({ progress });
      this.#pending.delete(id);
      if (error) p.reject(Object.assign(new Error(error.message), { code: error.code }));
      else p.resolve(reply);
    };
    // A worker that fails to start or dies takes its requests with it; the
    // next call starts a fresh one.
    w.onerror = (e) => {
      e.preventDefault?.();
      this.#fail({ code: 'engine_failed', message: `the engine worker failed: ${e.message || 'could not start'}` });
    };
    this.#worker = w;
    return w;
  }

  #fail(error) {
    this.#worker?.terminate();
    this.#worker = null;
    for (const p of this.#pending.values()) p.reject(Object.assign(new Error(error.message), { code: error.code }));
    this.#pending.clear();
  }

  // Sends one message to the worker; onEvent receives {partial} and
  // {progress} events. transfer lists ArrayBuffers to move, not copy.
  call(msg, onEvent, transfer = []) {
    const w = this.#worker ?? this.#start();
    const id = ++this.#seq;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, onEvent });
      w.postMessage({ ...msg, id }, transfer);
    });
  }

  get running() { return this.#worker !== null; }

  terminate() {
    this.#fail({ code: 'engine_stopped', message: 'the engine was stopped' });
  }
}
