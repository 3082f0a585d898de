// engine-client.js - the background's handle on the browser engine.
// Chrome: the service worker cannot start workers or share memory, so the
// engine lives in an offscreen document (cross-origin isolated, so the
// threaded build runs there) and messages go through runtime messaging.
// Firefox: the background page starts the engine worker itself.
import { api } from './settings.js';
import { EngineHost } from './engine-host.js';

const OFFSCREEN = 'src/offscreen.html';

class OffscreenEngine {
  #creating = null;
  #listeners = new Map(); // request key -> onEvent

  constructor() {
    api.runtime.onMessage.addListener((m) => {
      if (m?.to === 'background' && m.rid) this.#listeners.get(m.rid)?.(m.event);
    });
  }

  async #ensure() {
    if (await api.offscreen.hasDocument()) return;
    // Two requests racing here must create one document, not two.
    this.#creating ??= api.offscreen.createDocument({
      url: OFFSCREEN,
      reasons: ['WORKERS'],
      justification: 'Runs the on-device inference engine in a worker.',
    }).finally(() => { this.#creating = null; });
    await this.#creating;
  }

  async call(msg, onEvent) {
    await this.#ensure();
    const rid = crypto.randomUUID();
    if (onEvent) this.#listeners.set(rid, onEvent);
    try {
      const r = await api.runtime.sendMessage({ to: 'offscreen', rid, msg });
      if (!r) throw Object.assign(new Error('the engine page did not answer'), { code: 'engine_failed' });
      if (r.error) throw Object.assign(new Error(r.error.message), { code: r.error.code });
      return r.reply;
    } finally {
      this.#listeners.delete(rid);
    }
  }

  async close() {
    if (await api.offscreen.hasDocument()) await api.offscreen.closeDocument();
  }
}

class LocalEngine {
  #host = new EngineHost();
  call(msg, onEvent) { return this.#host.call(msg, onEvent); }
  async close() { this.#host.terminate(); }
}

export function createBrowserEngine() {
  return api.offscreen ? new OffscreenEngine() : new LocalEngine();
}
