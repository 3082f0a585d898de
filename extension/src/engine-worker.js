// engine-worker.js - the wasm engine in a dedicated worker. The build puts
// the right flavour beside it: Chrome gets the threaded build (its offscreen
// document is cross-origin isolated), Firefox the single-threaded SIMD one.
//
// It speaks the message vocabulary (README, "The request protocol"): every
// message is {id, op, ...}, answered by {id, partial}... then {id, result}
// or {id, error}. Engine ops (capabilities, summarize, classify, ...) go to
// the engine, after two fields only this worker reads are taken off:
//   load: [{id, format, source:'bundled', file} | {id, format, source:'store', key}]
//         the models the request needs, loaded first when not loaded yet
//   memory_budget: bytes; a model over it is refused (over_budget)
// The worker's own ops:
//   browser.init {cancel_flags}      a SharedArrayBuffer of cancel flags, or null
//   cancel {target}                  skip a queued request
//   browser.status                   loaded models, heap size, isolation, cancel mode
//   browser.request {json, load?}    JSON text run as it is (tools and tests)
//   browser.models.unload {model}
//   browser.cache.seal.begin {key, manifest} -> {sid}
//   browser.cache.seal.update {sid, bytes}   browser.cache.seal.abort {sid}
//   browser.cache.seal.finish {sid, record}  seals and stores in the cache
//   browser.cache.verify {model, key}        opens without loading -> {manifest}
//   browser.cache.key {passphrase, salt}     -> {key, check}
//   browser.cache.reseal {model, from, to}   re-encrypts one cache entry
import createSottoModule from '../engine/sotto.mjs';
import { SottoEngine, SottoError } from '../engine/engine.mjs';
import { storeGet, storePut } from './store.js';

let engine = null;          // created on the first request, then kept
let flags = null;           // Int32Array over the host's SharedArrayBuffer
const loaded = new Map();   // model id -> { source, format, bytes }
const sealers = new Map();  // sid -> sealer
const skip = new Set();     // queued requests cancelled before they ran
let queue = Promise.resolve();
let nextSid = 1;

async function getEngine() {
  engine ??= await SottoEngine.create(createSottoModule, { threads: 0 });
  return engine;
}

// A request is cancelled when the host flagged its slot with its own number
// (EngineHost.cancel): a slot reused by a later request holds that one's
// number, so an old flag never stops a new request.
function isCancelled(seq) {
  return skip.has(seq) || (flags !== null && Atomics.load(flags, seq % flags.length) === seq);
}

async function sealedBytes(id) {
  const rec = await storeGet(id);
  if (!rec) throw new SottoError('model_not_installed', `${id} is not in the model cache`);
  return { rec, sealed: new Uint8Array(rec.sealed instanceof Blob ? await rec.sealed.arrayBuffer() : rec.sealed) };
}

// Loads a model the request needs; true when it had to be loaded now.
async function ensureModel(eng, m) {
  const have = loaded.get(m.id);
  if (have && have.source === m.source) return false;
  let bytes;
  if (m.source === 'bundled') {
    const res = await fetch(new URL(`../models/${m.file}`, import.meta.url));
    if (!res.ok) throw new SottoError('model_not_found', `the bundled model ${m.id} is missing from this build`);
    const plain = new Uint8Array(await res.arrayBuffer());
    eng.addModel(m.id, plain);
    bytes = plain.length;
  } else if (m.source === 'store') {
    const { sealed } = await sealedBytes(m.id);
    bytes = eng.addModelSealed(m.id, m.key, sealed).size;
  } else {
    throw new SottoError('bad_request', `unknown model source ${m.source}`);
  }
  loaded.set(m.id, { source: m.source, format: m.format, bytes });
  return true;
}

// An engine request: models first, then the engine, streaming partials.
async function run(eng, seq, req, load, budget, post) {
  const t0 = performance.now();
  if (budget !== undefined) eng.setMemoryBudget(budget);
  let loadedNow = 0;
  for (const m of load ?? []) if (await ensureModel(eng, m)) loadedNow++;
  const loadMs = performance.now() - t0;
  if (isCancelled(seq)) return { id: seq, error: { code: 'cancelled', message: 'the request was cancelled' } };
  const reply = eng.request(req, (partial) => { post({ ...partial, id: seq }); return false; }, () => isCancelled(seq));
  reply.id = seq; // also when the engine could not read one (bad JSON)
  if (reply.result) reply.stats = { ...reply.stats, load_ms: Math.round(loadMs * 10) / 10, models_loaded: loadedNow };
  return reply;
}

const ops = {
  'browser.status': () => ({
    models: [...loaded].map(([id, v]) => ({ id, ...v })), heap_bytes: engine?.heapBytes() ?? 0,
    crossOriginIsolated: self.crossOriginIsolated, cancel: flags ? 'shared-flag' : 'restart',
  }),
  'browser.models.unload': (eng, msg) => {
    loaded.delete(msg.model);
    return { removed: eng.removeModel(msg.model) };
  },
  'browser.cache.seal.begin': (eng, msg) => {
    const sid = nextSid++;
    sealers.set(sid, eng.sealer(msg.key, msg.manifest));
    return { sid };
  },
  'browser.cache.seal.update': (eng, msg) => {
    sealer(msg.sid).update(new Uint8Array(msg.bytes));
    return { ok: true };
  },
  'browser.cache.seal.finish': async (eng, msg) => {
    const parts = sealer(msg.sid).finish();
    sealers.delete(msg.sid);
    const sealed = new Blob(parts);
    await storePut({ ...msg.record, sealed });
    loaded.delete(msg.record.id); // a reinstall replaces what the engine holds
    eng.removeModel(msg.record.id);
    return { stored: true, sealed_bytes: sealed.size };
  },
  'browser.cache.seal.abort': (eng, msg) => {
    sealers.get(msg.sid)?.abort();
    sealers.delete(msg.sid);
    return { ok: true };
  },
  'browser.cache.verify': async (eng, msg) => {
    const { sealed } = await sealedBytes(msg.model);
    return { ok: true, manifest: eng.unseal(msg.key, sealed, { id: msg.model }).manifest };
  },
  'browser.cache.key': (eng, msg) => eng.deriveKey(msg.passphrase, msg.salt),
  'browser.cache.reseal': async (eng, msg) => {
    const { rec, sealed } = await sealedBytes(msg.model);
    await storePut({ ...rec, sealed: new Blob(eng.reseal(msg.from, msg.to, sealed)) });
    return { ok: true };
  },
};

function sealer(sid) {
  const s = sealers.get(sid);
  if (!s) throw new SottoError('bad_request', 'no such sealing in progress');
  return s;
}

async function handle(msg, post) {
  const eng = await getEngine();
  const { id, op, load, memory_budget: budget, ...rest } = msg;
  if (skip.delete(id)) return { id, error: { code: 'cancelled', message: 'the request was cancelled' } };
  if (op === 'browser.request') return run(eng, id, msg.json, load, budget, post);
  if (typeof op === 'string' && op.startsWith('browser.')) {
    if (!ops[op]) throw new SottoError('unknown_op', `unknown op "${op}"`);
    return { id, result: await ops[op](eng, msg) };
  }
  return run(eng, id, { id, op, ...rest }, load, budget, post);
}

self.onmessage = (e) => {
  const msg = e.data;
  const post = (m) => self.postMessage(m);
  if (msg?.op === 'browser.init') {
    flags = msg.cancel_flags ?? null;
    return post({ id: msg.id, result: { cancel: flags ? 'shared-flag' : 'restart' } });
  }
  if (msg?.op === 'cancel') {
    skip.add(msg.target);
    return post({ id: msg.id, result: { target: msg.target, cancelled: true } });
  }
  // One message at a time: the engine is not reentrant and model loads must
  // not race each other.
  queue = queue.then(() => handle(msg, post)).then(post,
    (err) => post({ id: msg.id, error: SottoError.from(err, 'engine_failed').toJSON() }));
};
