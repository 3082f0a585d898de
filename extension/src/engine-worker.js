// engine-worker.js - the wasm engine in a dedicated worker. The build puts
// the right flavour beside it: Chrome gets the threaded build (its offscreen
// document is cross-origin isolated), Firefox the single-threaded SIMD one.
//
// Messages in (each with an id):
//   {type:'request', req, models:[{id, format, source:'bundled', file} |
//                                  {id, format, source:'store', key}]}
//   {type:'unload', model}   {type:'status'}
//   {type:'seal.begin', key, manifest} -> {sid}; {type:'seal.update', sid, bytes};
//   {type:'seal.finish', sid, record} (seals and stores in the cache);
//   {type:'seal.abort', sid}; {type:'verify', model, key} (opens without loading)
//   {type:'key.derive', passphrase, salt} -> {key, check};
//   {type:'reseal', model, from, to} (re-encrypts one cache entry)
// Messages out: {id, partial} while a request streams, then {id, reply} or
// {id, error:{code, message}}.
import createSottoModule from '../engine/sotto.mjs';
import { SottoEngine } from '../engine/engine.mjs';
import { storeGet, storePut } from './store.js';
import { Sealer, openSealed, StoreError, deriveKey, reseal } from './sealer.js';

let engine = null;          // created on the first message, then kept
const loaded = new Map();   // model id -> { source, format }
const sealers = new Map();  // sid -> Sealer
let queue = Promise.resolve();
let nextSid = 1;

async function getEngine() {
  if (!engine) {
    engine = await SottoEngine.create(createSottoModule, { threads: 0 });
  }
  return engine;
}

function sealer(sid) {
  const s = sealers.get(sid);
  if (!s) throw new WorkerError('bad_request', 'no such sealing in progress');
  return s;
}

class WorkerError extends Error {
  constructor(code, message) { super(message); this.code = code; }
}

async function ensureModel(eng, m) {
  const have = loaded.get(m.id);
  if (have && have.source === m.source) return false;
  let size;
  if (m.source === 'bundled') {
    const res = await fetch(new URL(`../models/${m.file}`, import.meta.url));
    if (!res.ok) throw new WorkerError('model_not_found', `the bundled model ${m.id} is missing from this build`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    try {
      eng.addModel(m.id, bytes);
    } catch (e) {
      throw new WorkerError(e.code ?? 'bad_model', e.message);
    }
    size = bytes.length;
  } else if (m.source === 'store') {
    size = await openStored(eng, m, (plain, n) => addFromHeap(eng, m, plain, n), { take: true });
  } else {
    throw new WorkerError('bad_request', `unknown model source ${m.source}`);
  }
  loaded.set(m.id, { source: m.source, format: m.format, bytes: size });
  return true;
}

// Opens a sealed cache entry; use(pointer, size, manifest) runs only when the
// whole entry has been authenticated. A tampered entry is refused.
async function openStored(eng, m, use, options = {}) {
  const rec = await storeGet(m.id);
  if (!rec) throw new WorkerError('model_not_installed', `${m.id} is not in the model cache`);
  const sealed = new Uint8Array(rec.sealed instanceof Blob ? await rec.sealed.arrayBuffer() : rec.sealed);
  return openSealed(eng.mod, m.key, sealed, use, { ...options, id: m.id });
}

// Registers a model straight from plaintext already in the wasm heap.
function addFromHeap(eng, m, plain, n) {
  try {
    eng.addModelFromHeap(m.id, plain, n);
  } catch (e) {
    throw new WorkerError(e.code ?? 'bad_model', e.message);
  }
  return n;
}

async function handle(msg, post) {
  const eng = await getEngine();
  switch (msg.type) {
    case 'request': {
      const t0 = performance.now();
      let loadedNow = 0;
      for (const m of msg.models ?? []) if (await ensureModel(eng, m)) loadedNow++;
      const tLoad = performance.now() - t0;
      const reply = eng.request(msg.req, (partial) => { post({ partial }); return false; });
      reply.stats = { ...reply.stats, load_ms: Math.round(tLoad * 10) / 10, models_loaded: loadedNow };
      return reply;
    }
    case 'unload': {
      loaded.delete(msg.model);
      return { removed: eng.removeModel(msg.model) };
    }
    case 'seal.begin': {
      const sid = nextSid++;
      sealers.set(sid, new Sealer(eng.mod, msg.key, msg.manifest));
      return { sid };
    }
    case 'seal.update': {
      sealer(msg.sid).update(new Uint8Array(msg.bytes));
      return { ok: true };
    }
    case 'seal.finish': {
      const parts = sealer(msg.sid).finish();
      sealers.delete(msg.sid);
      const sealed = new Blob(parts);
      await storePut({ ...msg.record, sealed });
      loaded.delete(msg.record.id); // a reinstall replaces what the engine holds
      eng.removeModel(msg.record.id);
      return { stored: true, sealed_bytes: sealed.size };
    }
    case 'seal.abort': {
      sealers.get(msg.sid)?.free();
      sealers.delete(msg.sid);
      return { ok: true };
    }
    case 'verify': {
      const manifest = await openStored(eng, { id: msg.model, key: msg.key }, (p, n, man) => man);
      return { ok: true, manifest };
    }
    case 'key.derive':
      return deriveKey(eng.mod, msg.passphrase, msg.salt);
    case 'reseal': {
      const rec = await storeGet(msg.model);
      if (!rec) throw new WorkerError('model_not_installed', `${msg.model} is not in the model cache`);
      const sealed = new Uint8Array(rec.sealed instanceof Blob ? await rec.sealed.arrayBuffer() : rec.sealed);
      const parts = reseal(eng.mod, msg.from, msg.to, sealed);
      await storePut({ ...rec, sealed: new Blob(parts) });
      return { ok: true };
    }
    case 'status':
      return { models: [...loaded].map(([id, v]) => ({ id, ...v })), heap_bytes: eng.heapBytes(), crossOriginIsolated: self.crossOriginIsolated };
    default:
      throw new WorkerError('bad_request', `unknown message type ${msg.type}`);
  }
}

self.onmessage = (e) => {
  const msg = e.data;
  const post = (m, transfer) => self.postMessage({ id: msg.id, ...m }, transfer ?? []);
  // One message at a time: the engine is not reentrant and model loads must
  // not race each other.
  queue = queue.then(() => handle(msg, post)).then(
    (reply) => post({ reply }),
    (err) => post({ error: { code: err.code ?? 'engine_failed', message: err.message ?? String(err) } }));
};
