// engine-worker.js - the wasm engine in a dedicated worker. The build puts
// the right flavour beside it: Chrome gets the threaded build (its offscreen
// document is cross-origin isolated), Firefox the single-threaded SIMD one.
// The single-threaded build is engine/light/ (Firefox's only one); Chrome's
// offscreen document also runs this worker as "engine-worker.js?light" with
// it: no thread pool to start and 64 MB instead of 1 GB, for the text tasks
// (extractive summaries, fastText), which gain nothing from threads.
//
// It speaks the message vocabulary (README, "The request protocol"): every
// message is {id, op, ...}, answered by {id, partial}... then {id, result}
// or {id, error}. Engine ops (capabilities, summarize, classify, ...) go to
// the engine, after two fields only this worker reads are taken off:
//   load: [{id, format, source:'bundled', file}
//          | {id, format, source:'store', key, size, parts, install}]
//         the models the request needs, loaded first when not loaded yet
//         (cache entries part by part, each authenticated: store.js)
//   memory_budget: bytes; a model over it is refused (over_budget)
// The worker's own ops:
//   browser.init {cancel_flags}      a SharedArrayBuffer of cancel flags, or null
//   cancel {target}                  skip a queued request
//   browser.status                   loaded models, heap size, isolation, cancel mode
//   browser.warm                     starts the engine, so the first request finds it ready
//   browser.request {json, load?}    JSON text run as it is (tools and tests)
//   browser.models.unload {model}
//   browser.cache.part.put {key, manifest, bytes, hash?}   seals one part and stores it
//   browser.cache.hash.begin {state?} -> {hash}   a SHA-256 (resumable: .save)
//   browser.cache.hash.update {hash, bytes}   .save {hash} -> {state}
//   browser.cache.hash.end {hash} -> {sha256}  .free {hash}
//   browser.cache.estimate {bytes, file_size} -> the engine's memory estimate
//   browser.cache.join {heads, sizes} -> {header, parts}   split GGUF (sotto_gguf_join)
//   browser.cache.convert {files, options, key, manifest, hash} -> {size, parts}
//   browser.cache.verify {model, key, meta}    opens every part without loading
//   browser.cache.read {model, key, meta, index} -> {chunks: [base64], bytes, last}
//   browser.cache.delete {model, from?}
//   browser.cache.key {passphrase, salt}     -> {key, check}
//   browser.cache.reseal {model, meta, from, to}   re-encrypts every part
import { SottoEngine, SottoError, base64, fromBase64 } from '../engine/engine.mjs';
import { PART_BYTES, partBytes, partPut, partsDelete } from './store.js';

let engine = null;          // created on the first request, then kept
let flags = null;           // Int32Array over the host's SharedArrayBuffer
const loaded = new Map();   // model id -> { source, format, bytes, install }
const hashes = new Map();   // hash id -> resumable SHA-256
const skip = new Set();     // queued requests cancelled before they ran
let queue = Promise.resolve();
let nextHash = 1;
const HOST_CHUNK_BYTES = 1 << 20; // plaintext per native-messaging install chunk
const HEADER_BYTES = 32 << 20;    // a GGUF header is well within this (vocabularies of 250k tokens)

// The single-threaded build when asked for, and where the threaded one
// cannot run (pages that are not cross-origin isolated: Firefox).
const LIGHT = new URL(import.meta.url).searchParams.has('light') || !self.crossOriginIsolated;

async function getEngine() {
  if (!engine) {
    const { default: createSottoModule } = await (LIGHT ? import('../engine/light/sotto.mjs') : import('../engine/sotto.mjs'));
    engine ??= await SottoEngine.create(createSottoModule, { threads: LIGHT ? 1 : 0 });
  }
  return engine;
}

// A request is cancelled when the host flagged its slot with its own number
// (EngineHost.cancel): a slot reused by a later request holds that one's
// number, so an old flag never stops a new request.
function isCancelled(seq) {
  return skip.has(seq) || (flags !== null && Atomics.load(flags, seq % flags.length) === seq);
}

async function sealedPart(id, index) {
  const bytes = await partBytes(id, index);
  if (!bytes) {
    throw new SottoError(index === 0 ? 'model_not_installed' : 'truncated',
      index === 0 ? `${id} is not in the model cache` : `part ${index} of ${id} is missing from the model cache`);
  }
  return bytes;
}

// Opens every part of a cache entry into the engine's heap, in order;
// register false only checks them.
async function openParts(eng, id, key, meta, register = true) {
  const loader = eng.partsLoader(id, key, meta);
  try {
    for (let i = 0; i < meta.parts; i++) loader.add(i, await sealedPart(id, i));
  } catch (e) {
    loader.abort();
    throw e;
  }
  return loader.finish(register);
}

// Loads a model the request needs; true when it had to be loaded now.
async function ensureModel(eng, m) {
  const have = loaded.get(m.id);
  if (have && have.source === m.source && have.install === m.install) return false;
  let bytes;
  if (m.source === 'bundled') {
    const res = await fetch(new URL(`../models/${m.file}`, import.meta.url));
    if (!res.ok) throw new SottoError('model_not_found', `the bundled model ${m.id} is missing from this build`);
    const plain = new Uint8Array(await res.arrayBuffer());
    eng.addModel(m.id, plain);
    bytes = plain.length;
  } else if (m.source === 'store') {
    if (have) { eng.removeModel(m.id); loaded.delete(m.id); }
    await openParts(eng, m.id, m.key, m);
    bytes = m.size;
  } else {
    throw new SottoError('bad_request', `unknown model source ${m.source}`);
  }
  loaded.set(m.id, { source: m.source, format: m.format, bytes, install: m.install });
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

function hash(id) {
  const h = hashes.get(id);
  if (!h) throw new SottoError('bad_request', 'no such hash in progress');
  return h;
}

// Seals one part (its own sha256 computed here) and stores it.
async function putPart(eng, key, manifest, bytes) {
  const part = eng.sha256();
  part.update(bytes);
  const s = eng.sealer(key, { ...manifest, size: bytes.length, sha256: part.hex() });
  let sealed;
  try {
    s.update(bytes);
    sealed = new Blob(s.finish());
  } finally {
    s.abort();
  }
  await partPut(manifest.id, Number(manifest.part), sealed);
  return sealed.size;
}

const ops = {
  'browser.warm': () => ({ ready: true, light: LIGHT }),
  'browser.status': () => ({
    models: [...loaded].map(([id, v]) => ({ id, ...v })), heap_bytes: engine?.heapBytes() ?? 0,
    crossOriginIsolated: self.crossOriginIsolated, cancel: flags ? 'shared-flag' : 'restart',
  }),
  'browser.models.unload': (eng, msg) => {
    loaded.delete(msg.model);
    return { removed: eng.removeModel(msg.model) };
  },
  'browser.cache.hash.begin': (eng, msg) => {
    const id = nextHash++;
    hashes.set(id, eng.sha256(msg.state ? fromBase64(msg.state) : undefined));
    return { hash: id };
  },
  'browser.cache.hash.update': (eng, msg) => { hash(msg.hash).update(new Uint8Array(msg.bytes)); return { ok: true }; },
  'browser.cache.hash.save': (eng, msg) => ({ state: base64(hash(msg.hash).save()) }),
  'browser.cache.hash.end': (eng, msg) => {
    const sha256 = hash(msg.hash).hex();
    hashes.delete(msg.hash);
    return { sha256 };
  },
  'browser.cache.hash.free': (eng, msg) => {
    hashes.get(msg.hash)?.free();
    hashes.delete(msg.hash);
    return { ok: true };
  },
  'browser.cache.part.put': async (eng, msg) => {
    const bytes = new Uint8Array(msg.bytes);
    if (msg.hash) hash(msg.hash).update(bytes);
    loaded.delete(msg.manifest.id); // a reinstall replaces what the engine holds
    eng.removeModel(msg.manifest.id);
    return { sealed_bytes: await putPart(eng, msg.key, msg.manifest, bytes) };
  },
  'browser.cache.estimate': (eng, msg) => eng.estimate(new Uint8Array(msg.bytes), msg.file_size),
  'browser.cache.join': (eng, msg) => {
    const plan = eng.joinPlan(msg.heads.map((h) => ({ name: h.name, bytes: new Uint8Array(h.bytes) })), msg.sizes);
    return { ...plan, header: plan.header.buffer };
  },
  // A Hugging Face folder converted to GGUF (sotto_convert), sealed in parts
  // as the file comes out; the whole output passes through msg.hash.
  'browser.cache.convert': async (eng, msg) => {
    const files = msg.files.map((f) => ({ name: f.name, bytes: new Uint8Array(f.bytes) }));
    const h = hash(msg.hash);
    const parts = [];
    let buf = new Uint8Array(PART_BYTES), used = 0, size = 0;
    const head = []; // the file's first HEADER_BYTES, for the memory estimate
    const seal = (last) => {
      const bytes = buf.subarray(0, used);
      const ph = eng.sha256();
      ph.update(bytes);
      const manifest = { ...msg.manifest, part: String(parts.length), offset: String(size - used), ...(last ? { last: '1' } : {}) };
      const s = eng.sealer(msg.key, { ...manifest, size: bytes.length, sha256: ph.hex() });
      try {
        s.update(bytes);
        parts.push(new Blob(s.finish()));
      } finally {
        s.abort();
      }
      used = 0;
    };
    eng.convert(files, msg.options ?? {}, (chunk) => {
      h.update(chunk);
      if (size < HEADER_BYTES) head.push(chunk.slice(0, HEADER_BYTES - size));
      for (let off = 0; off < chunk.length;) {
        if (used === PART_BYTES) seal(false); // full, and more is coming
        const n = Math.min(PART_BYTES - used, chunk.length - off);
        buf.set(chunk.subarray(off, off + n), used);
        used += n;
        off += n;
        size += n;
      }
    });
    seal(true);
    buf = null;
    await partsDelete(msg.manifest.id);
    for (let i = 0; i < parts.length; i++) await partPut(msg.manifest.id, i, parts[i]);
    let estimate = null;
    try {
      estimate = eng.estimate(new Uint8Array(await new Blob(head).arrayBuffer()), size);
    } catch { /* a header over HEADER_BYTES: the router falls back to the size */ }
    return { size, parts: parts.length, sealed_bytes: parts.reduce((a, p) => a + p.size, 0), estimate };
  },
  'browser.cache.verify': async (eng, msg) => ({ ok: true, manifest: await openParts(eng, msg.model, msg.key, msg.meta, false) }),
  // One part's plaintext, in chunks ready for the native host's install.
  'browser.cache.read': async (eng, msg) => {
    const { bytes, manifest } = eng.unseal(msg.key, await sealedPart(msg.model, msg.index), { id: msg.model });
    if (manifest.install !== msg.meta.install || manifest.part !== String(msg.index)) {
      throw new SottoError('tampered', `part ${msg.index} of ${msg.model} is out of place`);
    }
    const chunks = [];
    for (let off = 0; off < bytes.length; off += HOST_CHUNK_BYTES) chunks.push(base64(bytes.subarray(off, off + HOST_CHUNK_BYTES)));
    bytes.fill(0);
    return { chunks, bytes: bytes.length, last: manifest.last === '1' };
  },
  'browser.cache.delete': async (eng, msg) => {
    await partsDelete(msg.model, msg.from ?? 0);
    if ((msg.from ?? 0) === 0) {
      loaded.delete(msg.model);
      eng.removeModel(msg.model);
    }
    return { ok: true };
  },
  'browser.cache.key': (eng, msg) => eng.deriveKey(msg.passphrase, msg.salt),
  'browser.cache.reseal': async (eng, msg) => {
    for (let i = 0; i < msg.meta.parts; i++) {
      await partPut(msg.model, i, new Blob(eng.reseal(msg.from, msg.to, await sealedPart(msg.model, i))));
    }
    return { ok: true };
  },
};

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
