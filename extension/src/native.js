// native.js - the client of sotto-host, the native engine, over native
// messaging. The protocol is the message vocabulary: requests with an id,
// answered by {"id","partial"} messages and one {"id","result"|"error"}.
// Engine ops run in the host's engine; the host's own ops are host.* (its
// encrypted store). Replies too big for one native message (1 MB
// host->browser) arrive as {"id","chunk":"<part of the reply's JSON>","last"}
// pieces.
import { SottoError, base64 } from '../engine/engine.mjs';
import { connectHost, portError } from './platform.js';

const IDLE_MS = 30_000;          // an open port keeps Chrome's service worker alive
const INSTALL_CHUNK_MAX = 1 << 20; // raw bytes per install chunk, at most

export async function sha256Hex(bytes) {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return [...d].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export class NativeHost {
  #port = null;
  #pending = new Map(); // port id -> {id, resolve, reject, onPartial, chunks}
  #seq = 0;
  #idle = null;
  #hello = null; // the host's hello (version, models) for the open port

  #connect() {
    const port = connectHost();
    port.onMessage.addListener((m) => this.#onMessage(m));
    port.onDisconnect.addListener((p) => {
      const err = portError(p ?? port);
      if (this.#port === port) {
        this.#port = null;
        this.#hello = null;
      }
      for (const req of this.#pending.values()) req.reject(err);
      this.#pending.clear();
    });
    this.#port = port;
    return port;
  }

  #onMessage(m) {
    const req = this.#pending.get(m?.id);
    if (!req) return;
    if ('partial' in m) return void req.onPartial?.({ ...m, id: req.id });
    if ('chunk' in m) {
      req.chunks.push(m.chunk);
      if (!m.last) return;
      try {
        m = JSON.parse(req.chunks.join(''));
      } catch {
        m = { error: { code: 'host_failed', message: 'the host sent a broken chunked reply' } };
      }
    }
    this.#pending.delete(req.port_id);
    this.#armIdle();
    req.resolve({ ...m, id: req.id });
  }

  #armIdle() {
    clearTimeout(this.#idle);
    if (this.#pending.size === 0) this.#idle = setTimeout(() => this.disconnect(), IDLE_MS);
  }

  // Sends one request; resolves with the host's final message (which may
  // carry an error from the engine), its id the caller's; rejects with a
  // SottoError when the host cannot be reached or dies.
  request(req, onPartial) {
    clearTimeout(this.#idle);
    const port = this.#port ?? this.#connect();
    const portId = `n${++this.#seq}`;
    return new Promise((resolve, reject) => {
      this.#pending.set(portId, { id: req.id, port_id: portId, resolve, reject, onPartial, chunks: [] });
      try {
        port.postMessage({ ...req, id: portId });
      } catch (e) {
        this.#pending.delete(portId);
        reject(portError({ error: e }));
      }
    });
  }

  // Stops the request with this id (the caller's); the request's own reply
  // is then error "cancelled".
  async cancel(id) {
    const req = [...this.#pending.values()].find((r) => r.id === id);
    if (!req || !this.#port) return false;
    const r = await this.request({ id: `cancel-${req.port_id}`, op: 'cancel', target: req.port_id });
    return Boolean(r.result?.cancelled);
  }

  // A request that must succeed: resolves with its result, throws its error.
  async op(req) {
    const r = await this.request({ id: req.op, ...req });
    if (r.error) throw SottoError.from(r.error);
    return r.result;
  }

  async hello() {
    this.#hello ??= this.op({ op: 'host.hello' }).catch((e) => { this.#hello = null; throw e; });
    return this.#hello;
  }

  // Makes sure the host's store holds this exact model (same id and sha256),
  // copying it there when it does not: chunks() yields the model's bytes in
  // order, as base64 pieces of at most the host's chunk size (the bundled
  // file, or the browser cache's parts opened one at a time), so a model is
  // never whole in memory on its way. onProgress(done, total) after each
  // chunk. Returns true when it copied the model. Done once: the host keeps
  // it sealed in its own store, under its own key.
  async ensureModel(m, chunks, onProgress) {
    const hello = await this.hello();
    if ((hello.models ?? []).some((x) => x.id === m.id && !x.error && (!m.sha256 || x.sha256 === m.sha256))) return false;
    if (!m.sha256 || !Number.isFinite(m.bytes)) throw new SottoError('bad_request', `${m.id}: its size and sha256 are needed to copy it to the native host`);
    await this.op({ op: 'host.models.install.begin', model: m.id, format: m.format, sha256: m.sha256, size: m.bytes,
      task: m.task, source: typeof m.source === 'string' ? m.source : 'sotto extension', runs_in: m.runs_in ?? 'both' });
    let done = 0, seq = 0;
    try {
      for await (const data of chunks()) {
        const r = await this.op({ op: 'host.models.install.chunk', model: m.id, seq: seq++, data });
        done = r.done;
        onProgress?.(done, m.bytes);
      }
      await this.op({ op: 'host.models.install.end', model: m.id });
    } catch (e) {
      await this.op({ op: 'host.models.install.abort', model: m.id }).catch(() => {});
      throw e;
    }
    this.#hello = null; // its model list changed
    return true;
  }

  // The host's store, or null when there is no host (not installed,
  // refused): for the options page and the router.
  async models() {
    try {
      return (await this.hello()).models ?? [];
    } catch {
      return null;
    }
  }

  disconnect() {
    clearTimeout(this.#idle);
    this.#port?.disconnect();
    this.#port = null;
    this.#hello = null;
  }
}

// The bytes of a model in memory as the base64 pieces ensureModel wants.
export function byteChunks(bytes, step = INSTALL_CHUNK_MAX) {
  return async function* () {
    for (let off = 0; off < bytes.length || off === 0; off += step) {
      yield base64(bytes.subarray(off, off + step));
      if (bytes.length === 0) break;
    }
  };
}
