// native.js - the client of sotto-host, the native engine, over native
// messaging. The protocol is the message vocabulary: requests with an id,
// answered by {"id","partial"} messages and one {"id","result"|"error"}.
// Engine ops run in the host's engine; the host's own ops are host.* (its
// encrypted store). Replies too big for one native message (1 MB
// host->browser) arrive as {"id","chunk":"<part of the reply's JSON>","last"}
// pieces.
import { SottoError } from '../engine/engine.mjs';
import { connectHost, portError } from './platform.js';

const IDLE_MS = 30_000;          // an open port keeps Chrome's service worker alive
const INSTALL_CHUNK_MAX = 1 << 20; // raw bytes per install chunk, at most

function base64(bytes) {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

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
  // installing it from bytes the extension has (getBytes) when it does not.
  // Chunks follow the host's own size limit. Returns true when it installed.
  async ensureModel(m, getBytes, onProgress) {
    const hello = await this.hello();
    if ((hello.models ?? []).some((x) => x.id === m.id && !x.error && (!m.sha256 || x.sha256 === m.sha256))) return false;
    const bytes = await getBytes();
    const sha256 = m.sha256 ?? await sha256Hex(bytes);
    const step = Math.min(hello.limits?.install_chunk_bytes ?? INSTALL_CHUNK_MAX, INSTALL_CHUNK_MAX);
    await this.op({ op: 'host.models.install.begin', model: m.id, format: m.format, sha256, size: bytes.length,
      task: m.task, source: 'sotto extension', runs_in: m.runs_in });
    try {
      const chunks = Math.max(1, Math.ceil(bytes.length / step));
      for (let seq = 0; seq < chunks; seq++) {
        const part = bytes.subarray(seq * step, (seq + 1) * step);
        await this.op({ op: 'host.models.install.chunk', model: m.id, seq, data: base64(part) });
        onProgress?.(Math.min((seq + 1) * step, bytes.length), bytes.length);
      }
      await this.op({ op: 'host.models.install.end', model: m.id });
    } catch (e) {
      await this.op({ op: 'host.models.install.abort', model: m.id }).catch(() => {});
      throw e;
    }
    this.#hello = null; // its model list changed
    return true;
  }

  disconnect() {
    clearTimeout(this.#idle);
    this.#port?.disconnect();
    this.#port = null;
    this.#hello = null;
  }
}
