// engine-host.js - owns the engine worker (engine-worker.js) on a page that
// may start workers: Chrome's offscreen document, Firefox's background page,
// the options page. The engine blocks while it computes, so it never runs on
// a page's own thread.
//
//   const host = new EngineHost();
//   const reply = await host.request({ id, op: 'summarize', text, load: [...] }, onPartial);
//   host.cancel(id);   // the reply is then error "cancelled"
//
// Cancel has two ways, chosen by what the page can do:
//  - shared memory (cross-origin isolated pages: Chrome's offscreen
//    document): a flag per request in a SharedArrayBuffer, read by the
//    worker at the engine's cancellation checkpoints; the engine stops at
//    the next one and keeps its models;
//  - restart (Firefox: extension pages have no SharedArrayBuffer): the
//    running request's worker is terminated and a fresh one started; the
//    requests queued behind it are sent again, and models load again on
//    first use.
import { SottoError } from '../engine/engine.mjs';

// Requests that can be flagged at once (more than the background ever has in
// flight); see the worker's isCancelled for why slots never give a false
// positive.
export const CANCEL_SLOTS = 256;

export class EngineHost {
  #light;
  #worker = null;
  #pending = new Map(); // seq -> {msg, resolve, onPartial}, in the order sent
  #seq = 0;
  #flags = globalThis.crossOriginIsolated === true
    ? new Int32Array(new SharedArrayBuffer(4 * CANCEL_SLOTS)) : null;

  // light: the single-threaded build (Chrome's offscreen document runs one
  // of each; see engine-worker.js).
  constructor({ light = false } = {}) { this.#light = light; }

  // 'shared-flag' or 'restart'.
  get cancelMode() { return this.#flags ? 'shared-flag' : 'restart'; }

  #start() {
    const w = new Worker(new URL(this.#light ? './engine-worker.js?light' : './engine-worker.js', import.meta.url),
      { type: 'module', name: this.#light ? 'sotto-engine-light' : 'sotto-engine' });
    w.onmessage = (e) => this.#receive(e.data);
    // A worker that fails to start or dies takes its requests with it; the
    // next request starts a fresh one.
    w.onerror = (e) => {
      e.preventDefault?.();
      this.#fail(new SottoError('engine_failed', `the engine worker failed: ${e.message || 'could not start'}`));
    };
    w.postMessage({ id: 0, op: 'browser.init', cancel_flags: this.#flags });
    this.#worker = w;
    return w;
  }

  #receive(m) {
    const p = this.#pending.get(m?.id);
    if (!p) return;
    if ('partial' in m) return void p.onPartial?.({ ...m, id: p.msg.id });
    this.#pending.delete(m.id);
    p.resolve({ ...m, id: p.msg.id });
  }

  #fail(error) {
    this.#worker?.terminate();
    this.#worker = null;
    for (const p of this.#pending.values()) p.resolve({ id: p.msg.id, error: error.toJSON() });
    this.#pending.clear();
  }

  // Sends one message; resolves with its final message (result or error,
  // the caller's id restored). onPartial receives each partial. transfer
  // lists ArrayBuffers to move, not copy.
  request(msg, onPartial, transfer = []) {
    const w = this.#worker ?? this.#start();
    const seq = ++this.#seq;
    return new Promise((resolve) => {
      this.#pending.set(seq, { msg, resolve, onPartial });
      w.postMessage({ ...msg, id: seq }, transfer);
    });
  }

  // A message that must succeed: resolves with its result, throws its error.
  async op(msg, transfer) {
    const r = await this.request(msg, null, transfer);
    if (r.error) throw SottoError.from(r.error);
    return r.result;
  }

  // Stops the request with this id; returns whether it was in flight.
  cancel(id) {
    const entry = [...this.#pending].find(([, p]) => p.msg.id === id);
    if (!entry) return false;
    const [seq, p] = entry;
    if (this.#flags) {
      Atomics.store(this.#flags, seq % CANCEL_SLOTS, seq);
      return true;
    }
    if (this.#pending.keys().next().value !== seq) { // queued: the worker skips it
      this.#worker.postMessage({ id: 0, op: 'cancel', target: seq });
      return true;
    }
    // Running: stop the worker and start another for the rest.
    this.#worker.terminate();
    this.#worker = null;
    this.#pending.delete(seq);
    p.resolve({ id: id, error: { code: 'cancelled', message: 'the request was cancelled' } });
    const rest = [...this.#pending];
    if (rest.length) {
      const w = this.#start();
      for (const [s, q] of rest) w.postMessage({ ...q.msg, id: s });
    }
    return true;
  }

  get running() { return this.#worker !== null; }

  terminate() {
    this.#fail(new SottoError('engine_failed', 'the engine was stopped'));
  }
}
