// download.js - installing a model from the network or from the user's
// files, into the encrypted cache (store.js), with the user's consent first.
//
//   const plan = await describe({ url })   // sizes and published sha256, no model bytes
//   ... the options page shows it, checks the quota, and the user agrees ...
//   const meta = await install(engine, plan, { id, task, key, onProgress, signal })
//
// describe() asks only for metadata: for a Hugging Face file URL
// (https://huggingface.co/OWNER/REPO/resolve/REV/PATH) the repository's file
// list from its API (/api/models/OWNER/REPO/tree/REV/DIR), which gives each
// file's size and, for large (LFS) files, the sha256 Hugging Face publishes;
// else a HEAD request (X-Linked-Size and X-Linked-ETag, the sha256 of LFS
// files, as Hugging Face's redirects carry them). A repository URL
// (https://huggingface.co/OWNER/REPO) is a model folder: its config,
// weights and tokenizer files are downloaded and converted to GGUF by the
// engine (sotto_convert, in wasm). GGUF files split in parts
// (NAME-00001-of-00003.gguf) are downloaded one after the other and joined
// into one GGUF file by the engine (sotto_gguf_join: the merged header, then
// each part's tensor data).
//
// install() streams the bytes through the engine worker: each PART_BYTES of
// the file is sealed and stored as it completes, and the whole file is
// hashed as it passes (libsodium's SHA-256, whose state is saved with each
// part). A connection that drops is resumed from the byte it reached (HTTP
// Range); a download interrupted by closing the page or the browser resumes
// from its last stored part (resume()). The sha256 is checked at the end
// against the one the catalogue or Hugging Face publishes; a mismatch
// removes every part. Cancel removes them too.
import { SottoError, base64, fromBase64 } from '../engine/engine.mjs';
import { PART_BYTES, downloadDelete, downloadGet, downloadPut, downloadsAll, partsDelete } from './store.js';

const RETRIES = 5;               // reconnects after a dropped connection, per file
const RETRY_MS = [250, 1000, 2000, 4000, 8000];
const HEADER_MAX = 32 << 20;     // bytes of a GGUF header kept for the memory estimate
const SEALED_OVERHEAD = 1.002;   // the store's headers and tags, generously
const HF_FILE = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/;
const HF_REPO = /^\/([^/]+\/[^/]+?)(?:\/tree\/([^/]+))?\/?$/;
const SPLIT = /^(.*)-(\d{5})-of-(\d{5})\.gguf$/;
const SHA = /^[0-9a-f]{64}$/;
// The files a Hugging Face model folder converts from (sotto_convert).
const FOLDER_FILES = /^(config\.json|tokenizer\.json|tokenizer_config\.json|modules\.json|1_Pooling\/config\.json|model(-\d{5}-of-\d{5})?\.safetensors|model\.safetensors\.index\.json)$/;

const fetchOpts = { credentials: 'omit', cache: 'no-store' };

function httpError(res, what) {
  return new SottoError('io_error', `${what}: the server answered ${res.status} ${res.statusText}`.trim());
}

// ---- metadata: what a source is, before anything is downloaded ----

async function hfTree(origin, repo, rev, dir) {
  const url = `${origin}/api/models/${repo}/tree/${encodeURIComponent(rev)}${dir ? `/${dir}` : ''}?recursive=true`;
  const res = await fetch(url, fetchOpts);
  if (!res.ok) throw httpError(res, `the file list of ${repo}`);
  const list = await res.json();
  if (!Array.isArray(list)) throw new SottoError('io_error', `the file list of ${repo} is not a list`);
  return list.filter((f) => f.type === 'file').map((f) => ({
    path: f.path, size: f.lfs?.size ?? f.size, sha256: SHA.test(f.lfs?.oid ?? '') ? f.lfs.oid : null,
  }));
}

// A HEAD request, redirects followed: size and a published sha256 where the
// server gives them (Hugging Face: X-Linked-Size, X-Linked-ETag on LFS files).
async function head(url) {
  const res = await fetch(url, { ...fetchOpts, method: 'HEAD' });
  if (!res.ok) throw httpError(res, url);
  const h = (k) => res.headers.get(k);
  const etag = (h('x-linked-etag') ?? '').replace(/^W\//, '').replace(/"/g, '').toLowerCase();
  return {
    size: Number(h('x-linked-size') ?? h('content-length')) || null,
    sha256: SHA.test(etag) ? etag : null,
    ranges: h('accept-ranges') === 'bytes',
  };
}

// One file of a plan: {url, path, size, sha256, sha256_from}.
async function fileInfo(url, known = {}) {
  const u = new URL(url);
  const m = HF_FILE.exec(u.pathname);
  let info = null;
  if (m) {
    const [, repo, rev, path] = m.map(decodeURIComponent);
    const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
    try {
      info = (await hfTree(u.origin, repo, rev, dir)).find((f) => f.path === path) ?? null;
      if (!info) throw new SottoError('model_not_found', `${repo} has no file ${path} (revision ${rev})`);
    } catch (e) {
      if (e.code === 'model_not_found') throw e;
      info = null; // no API here: ask the file itself
    }
  }
  info ??= await head(url);
  const sha256 = known.sha256 ?? info.sha256 ?? null;
  const size = known.size ?? info.size ?? null;
  return {
    url, path: m ? decodeURIComponent(m[3]) : decodeURIComponent(u.pathname.split('/').pop() || 'model'),
    size, sha256,
    sha256_from: known.sha256 ? 'catalogue' : info.sha256 ? (m ? 'huggingface' : 'server') : null,
    size_from: known.size ? 'catalogue' : info.size ? (m ? 'huggingface' : 'server') : null,
  };
}

// What installing a source means, without downloading it: {kind: 'file'
// (one model file), 'split' (GGUF parts, joined), 'folder' (a Hugging Face
// model folder, converted), 'local', files, bytes (to download), format, name}.
// known: sizes and digests the catalogue already has ({size, sha256}).
export async function describe({ url, files, known = {} }) {
  if (files) { // the user's own files: nothing goes over the network
    const list = [...files];
    const bytes = list.reduce((a, f) => a + f.size, 0);
    const folder = list.length > 1 || list.some((f) => /\.json$/.test(f.name));
    return {
      kind: folder ? 'folder' : 'local', local: list, bytes, network_bytes: 0,
      files: list.map((f) => ({ path: f.webkitRelativePath?.split('/').slice(1).join('/') || f.name, size: f.size, sha256: null })),
      name: folder ? (list[0].webkitRelativePath?.split('/')[0] || 'model folder') : list[0].name,
      format: folder ? 'hf' : (/\.gguf$/i.test(list[0].name) ? 'gguf' : 'fasttext'),
    };
  }
  let u;
  try {
    u = new URL(url);
  } catch {
    throw new SottoError('bad_request', 'that is not a URL');
  }
  if (!['https:', 'http:'].includes(u.protocol)) throw new SottoError('bad_request', 'only http(s) URLs can be downloaded');
  const repo = HF_REPO.exec(u.pathname);
  // a model folder on Hugging Face: OWNER/REPO with a file list behind it
  const all = repo && !HF_FILE.test(u.pathname) ? await hfTree(u.origin, repo[1], repo[2] ?? 'main', '').catch(() => null) : null;
  if (all) {
    const [, name, rev = 'main'] = repo;
    const wanted = all.filter((f) => FOLDER_FILES.test(f.path));
    if (!wanted.some((f) => f.path === 'config.json')) throw new SottoError('unsupported_format', `${name} has no config.json: not a model folder sotto can convert`);
    if (!wanted.some((f) => /\.safetensors$/.test(f.path))) {
      throw new SottoError('unsupported_format', `${name} has no model.safetensors (sotto converts safetensors weights, not PyTorch .bin files)`);
    }
    const files = wanted.map((f) => ({
      url: `${u.origin}/${name}/resolve/${encodeURIComponent(rev)}/${f.path}`, path: f.path, size: f.size,
      sha256: f.sha256, sha256_from: f.sha256 ? 'huggingface' : null, size_from: 'huggingface',
    }));
    const bytes = files.reduce((a, f) => a + (f.size ?? 0), 0);
    return { kind: 'folder', files, bytes, network_bytes: bytes, name, repo: name, revision: rev, format: 'hf', origin: u.origin };
  }
  const first = await fileInfo(url, known);
  const split = SPLIT.exec(first.path.split('/').pop());
  if (split && Number(split[2]) >= 1 && Number(split[3]) > 1) {
    const n = Number(split[3]);
    const files = [];
    for (let i = 1; i <= n; i++) {
      const name = `${split[1]}-${String(i).padStart(5, '0')}-of-${split[3]}.gguf`;
      const partUrl = url.replace(/[^/]*$/, name);
      files.push(i === Number(split[2]) ? { ...first, url: partUrl } : await fileInfo(partUrl));
    }
    const bytes = files.reduce((a, f) => a + (f.size ?? 0), 0);
    return { kind: 'split', files, bytes, network_bytes: bytes, name: `${split[1].split('/').pop()}.gguf`, format: 'gguf' };
  }
  return {
    kind: 'file', files: [first], bytes: first.size, network_bytes: first.size,
    name: first.path.split('/').pop(), format: /\.gguf$/i.test(first.path) ? 'gguf' : 'fasttext',
  };
}

// ---- storage: the quota, and whether a plan fits ----

export async function storageInfo() {
  const est = await navigator.storage?.estimate?.() ?? {};
  const persisted = await navigator.storage?.persisted?.().catch(() => false) ?? false;
  return { usage: est.usage ?? 0, quota: est.quota ?? Infinity, persisted };
}

// Asks the browser to keep the cache when storage runs low (never evicted
// without the user's say). Returns whether it is persistent.
export async function persist() {
  return (await navigator.storage?.persist?.().catch(() => false)) ?? false;
}

// What a plan will take in the cache: the model (a converted folder about
// its weights' size, which f16 halves at most) sealed.
export function storageNeed(plan) {
  return Math.ceil((plan.bytes ?? 0) * SEALED_OVERHEAD);
}

// ---- downloading ----

// Reads a response body into onBytes(chunk); resolves with the bytes read.
async function pump(res, onBytes, signal) {
  const reader = res.body.getReader();
  const stop = () => reader.cancel().catch(() => {});
  signal?.addEventListener('abort', stop, { once: true });
  let n = 0;
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) return n;
      n += r.value.length;
      await onBytes(r.value);
    }
  } finally {
    signal?.removeEventListener('abort', stop);
  }
}

// Fetches url from byte `from` on (HTTP Range); resolves with a response
// whose body starts exactly there. A server that ignores Range is read from
// the start and the first `from` bytes are dropped (skip).
async function fetchFrom(url, from, signal) {
  const headers = from > 0 ? { Range: `bytes=${from}-` } : {};
  const res = await fetch(url, { ...fetchOpts, headers, signal });
  if (from > 0 && res.status === 206) {
    const cr = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '');
    if (!cr || Number(cr[1]) !== from) throw new SottoError('io_error', `the server resumed at the wrong byte (${res.headers.get('content-range')})`);
    return { res, skip: 0 };
  }
  if (!res.ok) throw httpError(res, url.split('?')[0]);
  return { res, skip: from };
}

const sleep = (ms, signal) => new Promise((resolve, reject) => {
  const t = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => { clearTimeout(t); reject(new SottoError('cancelled', 'the download was cancelled')); }, { once: true });
});

// Downloads one file from byte `from`, handing each chunk to onBytes;
// reconnects (Range) where the connection drops. Resolves when size bytes
// have arrived.
async function fetchFile(file, from, onBytes, { signal, onRetry }) {
  let at = from, tries = 0;
  for (;;) {
    try {
      const { res, skip } = await fetchFrom(file.url, at, signal);
      let drop = skip;
      await pump(res, async (chunk) => {
        if (drop) {
          const n = Math.min(drop, chunk.length);
          drop -= n;
          chunk = chunk.subarray(n);
          if (!chunk.length) return;
        }
        if (file.size != null && at + chunk.length > file.size) throw new SottoError('size_mismatch', `${file.path} is longer than its announced ${file.size} bytes`);
        at += chunk.length;
        await onBytes(chunk);
      }, signal);
      if (file.size == null || at === file.size) return at;
      throw new SottoError('io_error', `the connection closed at byte ${at} of ${file.size}`);
    } catch (e) {
      if (signal?.aborted) throw new SottoError('cancelled', 'the download was cancelled');
      if (e instanceof SottoError && e.code !== 'io_error') throw e;
      if (tries >= RETRIES) {
        throw new SottoError('io_error', `${file.path}: ${e.message || 'the connection failed'} (after ${RETRIES} retries)`);
      }
      onRetry?.({ at, error: e.message });
      await sleep(RETRY_MS[tries++], signal);
    }
  }
}

// The sink of a model file: PART_BYTES at a time to the engine worker, which
// seals and stores each part and hashes it into the whole file's SHA-256.
class PartWriter {
  constructor(engine, { id, format, key, install, hash, index = 0, offset = 0 }) {
    Object.assign(this, { engine, id, format, key, install, hash, index, offset });
    this.buf = new Uint8Array(PART_BYTES);
    this.used = 0;
  }

  async write(chunk, onPart) {
    for (let off = 0; off < chunk.length;) {
      const n = Math.min(PART_BYTES - this.used, chunk.length - off);
      this.buf.set(chunk.subarray(off, off + n), this.used);
      this.used += n;
      off += n;
      if (this.used === PART_BYTES) await this.flush(false, onPart);
    }
  }

  async flush(last, onPart) {
    if (!this.used && !last) return;
    const bytes = this.buf.slice(0, this.used);
    const manifest = { id: this.id, format: this.format, install: this.install, part: String(this.index), offset: String(this.offset), ...(last ? { last: '1' } : {}) };
    await this.engine.op({ op: 'browser.cache.part.put', key: this.key, manifest, bytes: bytes.buffer, hash: this.hash }, [bytes.buffer]);
    this.offset += this.used;
    this.index++;
    this.used = 0;
    await onPart?.(this);
  }
}

function randomHex(n) {
  return [...crypto.getRandomValues(new Uint8Array(n))].map((b) => b.toString(16).padStart(2, '0')).join('');
}

// The download record that lets a download resume after a restart: the
// plan, where it is, and the hash state at the last stored part.
async function saveState(rec, writer) {
  const { state } = await writer.engine.op({ op: 'browser.cache.hash.save', hash: writer.hash });
  Object.assign(rec, { parts: writer.index, offset: writer.offset, hash_state: state, updated: Date.now() });
  await downloadPut(rec);
}

// Installs the plan's model under spec.id; resolves with the catalogue
// record (for extension storage). spec: {id, task, key, expected sha256?,
// convert options?, onProgress, signal, resume (a download record)}.
export async function install(engine, plan, spec) {
  const { id, key, signal } = spec;
  const progress = (p) => spec.onProgress?.({ id, ...p });
  const rec = spec.resume ?? {
    id, plan: { ...plan, local: undefined }, task: spec.task, install: randomHex(16), started: Date.now(),
    parts: 0, offset: 0, hash_state: null, meta: spec.meta ?? {}, format: plan.format === 'hf' ? 'gguf' : plan.format,
  };
  const { hash } = await engine.op({ op: 'browser.cache.hash.begin', state: rec.hash_state ?? undefined });
  try {
    let size, estimate = null, sha256;
    if (plan.kind === 'folder') {
      ({ size, estimate } = await installFolder(engine, plan, rec, { key, hash, signal, progress, convert: spec.convert }));
    } else if (plan.kind === 'split') {
      ({ size, estimate } = await installSplit(engine, plan, rec, { key, hash, signal, progress }));
    } else {
      ({ size, estimate } = await installFile(engine, plan, rec, { key, hash, signal, progress }));
    }
    sha256 = (await engine.op({ op: 'browser.cache.hash.end', hash })).sha256;
    const expected = plan.kind === 'file' || plan.kind === 'local' ? plan.files[0].sha256 : null;
    if (expected && expected !== sha256) {
      throw new SottoError('sha256_mismatch', `the file's sha256 differs from the expected ${expected} (it is ${sha256}): refused`);
    }
    await downloadDelete(id);
    return {
      id, task: rec.task, format: rec.format, bytes: size, sha256, install: rec.install,
      parts: Math.max(1, Math.ceil(size / PART_BYTES)), part_bytes: PART_BYTES,
      sha256_checked: Boolean(expected), sha256_from: expected ? plan.files[0].sha256_from : null,
      source: plan.kind === 'local' || (plan.kind === 'folder' && plan.local) ? `file:${plan.name}` : (plan.repo ? `${plan.origin}/${plan.repo}` : plan.files[0].url),
      memory_bytes: estimate?.resident_bytes ?? null, estimate, installed_at: new Date().toISOString(),
      ...rec.meta,
    };
  } catch (e) {
    await engine.op({ op: 'browser.cache.hash.free', hash }).catch(() => {});
    // An interrupted download keeps its parts to resume; anything else
    // (cancel, a wrong sha256, a bad file) leaves nothing behind.
    if (e.code === 'io_error' && plan.kind === 'file') {
      progress({ phase: 'interrupted', done: rec.offset, total: plan.bytes, message: e.message });
    } else {
      await discard(engine, id);
    }
    throw e;
  }
}

// Removes an unfinished or failed download.
export async function discard(engine, id) {
  await engine.op({ op: 'browser.cache.delete', model: id }).catch(() => partsDelete(id));
  await downloadDelete(id);
}

export const unfinished = () => downloadsAll();
export const unfinishedOne = (id) => downloadGet(id);

// Keeps the first bytes of a GGUF file until the engine can read its
// header; returns the engine's estimate once it can (null until then).
function estimator(engine, size) {
  const head = [];
  let have = 0, done = false, estimate = null;
  return {
    async add(chunk) {
      if (done || have >= HEADER_MAX) return null;
      head.push(chunk.slice(0, HEADER_MAX - have));
      have += Math.min(chunk.length, HEADER_MAX - have);
      try {
        const bytes = new Uint8Array(await new Blob(head).arrayBuffer());
        estimate = await engine.op({ op: 'browser.cache.estimate', bytes: bytes.buffer, file_size: size }, [bytes.buffer]);
        done = true;
      } catch (e) {
        if (e.code !== 'truncated') done = true; // not a model sotto estimates: the size will do
      }
      return estimate;
    },
    get estimate() { return estimate; },
  };
}

async function installFile(engine, plan, rec, { key, hash, signal, progress }) {
  const file = plan.files[0];
  const local = plan.local?.[0];
  const size = file.size ?? local?.size;
  const writer = new PartWriter(engine, { id: rec.id, format: rec.format, key, install: rec.install, hash, index: rec.parts, offset: rec.offset });
  const est = estimator(engine, size);
  if (rec.offset > 0) {
    // resumed after a restart: the header is in the stored parts; the
    // estimate was saved with them
    est.add = async () => null;
  }
  await downloadPut(rec);
  let done = rec.offset;
  const onBytes = async (chunk) => {
    await writer.write(chunk, (w) => saveState(rec, w));
    done += chunk.length;
    if (!rec.estimate) {
      const e = await est.add(chunk);
      if (e) { rec.estimate = e; progress({ phase: 'estimate', estimate: e }); }
    }
    progress({ phase: local ? 'seal' : 'download', done, total: size });
  };
  if (local) {
    await pump({ body: local.slice(rec.offset).stream() }, onBytes, signal);
  } else {
    // a dropped connection goes on from the byte it reached; the bytes of
    // the unfinished part are still here
    await fetchFile(file, rec.offset, onBytes, {
      signal, onRetry: ({ error }) => progress({ phase: 'retry', done, total: size, message: error }),
    });
  }
  await writer.flush(true);
  if (writer.offset !== size) throw new SottoError('size_mismatch', `got ${writer.offset} of ${size} bytes`);
  return { size, estimate: rec.estimate ?? est.estimate };
}

// A Hugging Face model folder: its files downloaded (each checked against
// the sha256 Hugging Face publishes for it, where it does) or read from the
// user's disk, then converted to GGUF by the engine and sealed in parts.
async function installFolder(engine, plan, rec, { key, hash, signal, progress, convert }) {
  const files = [];
  let done = 0;
  for (const f of plan.local ?? plan.files) {
    let bytes;
    if (plan.local) {
      bytes = new Uint8Array(await f.arrayBuffer());
      files.push({ name: f.webkitRelativePath?.split('/').slice(1).join('/') || f.name, bytes });
      done += bytes.length;
      progress({ phase: 'read', done, total: plan.bytes });
      continue;
    }
    const chunks = [];
    await fetchFile(f, 0, (chunk) => {
      chunks.push(chunk.slice());
      done += chunk.length;
      progress({ phase: 'download', done, total: plan.bytes, file: f.path });
    }, { signal, onRetry: ({ error }) => progress({ phase: 'retry', done, total: plan.bytes, message: error }) });
    bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
    if (f.sha256) {
      const { hash: h } = await engine.op({ op: 'browser.cache.hash.begin' });
      const copy = bytes.slice();
      await engine.op({ op: 'browser.cache.hash.update', hash: h, bytes: copy.buffer }, [copy.buffer]);
      const { sha256 } = await engine.op({ op: 'browser.cache.hash.end', hash: h });
      if (sha256 !== f.sha256) throw new SottoError('sha256_mismatch', `${f.path}: its sha256 differs from the published ${f.sha256} (it is ${sha256}): refused`);
    }
    files.push({ name: f.path, bytes });
  }
  if (signal?.aborted) throw new SottoError('cancelled', 'the download was cancelled');
  progress({ phase: 'convert', done, total: plan.bytes });
  const transfer = files.map((f) => f.bytes.buffer);
  const r = await engine.op({
    op: 'browser.cache.convert', files: files.map((f) => ({ name: f.name, bytes: f.bytes.buffer })),
    options: convert ?? { type: 'f16' }, key, hash,
    manifest: { id: rec.id, format: 'gguf', install: rec.install },
  }, transfer);
  return { size: r.size, estimate: r.estimate };
}

// Reads the first n bytes of a file (HTTP Range).
async function fetchHead(file, n, signal) {
  const res = await fetch(file.url, { ...fetchOpts, headers: { Range: `bytes=0-${n - 1}` }, signal });
  if (!res.ok) throw httpError(res, file.url.split('?')[0]);
  const bytes = new Uint8Array(await res.arrayBuffer());
  return res.status === 206 ? bytes : bytes.subarray(0, n); // a server without Range sent it all
}

// GGUF parts (gguf-split) joined into one file as they arrive: the parts'
// headers first (their first bytes, as many as the engine needs to plan the
// joined file), then the joined header and each part's tensor data in
// order. Each part is checked against its own published sha256; the whole
// joined file is hashed for the catalogue.
async function installSplit(engine, plan, rec, { key, hash, signal, progress }) {
  const files = plan.files;
  let n = 1 << 20, heads, layout;
  for (;;) {
    heads = [];
    for (const f of files) heads.push(await fetchHead(f, Math.min(n, f.size), signal));
    try {
      const copies = heads.map((h, i) => ({ name: files[i].path, bytes: h.slice().buffer }));
      layout = await engine.op({ op: 'browser.cache.join', heads: copies, sizes: files.map((f) => f.size) }, copies.map((c) => c.bytes));
      break;
    } catch (e) {
      if (e.code !== 'truncated' || n >= HEADER_MAX) throw e;
      n *= 4;
    }
  }
  const header = new Uint8Array(layout.header);
  const size = header.length + files.reduce((a, f, k) => a + f.size - layout.parts[k].data_start + layout.parts[k].pad, 0);
  const writer = new PartWriter(engine, { id: rec.id, format: 'gguf', key, install: rec.install, hash });
  const est = estimator(engine, size);
  let estimate = null, done = 0;
  const out = async (bytes) => {
    await writer.write(bytes);
    if (!estimate) estimate = await est.add(bytes);
  };
  await out(header);
  for (let k = 0; k < files.length; k++) {
    const f = files[k], head = heads[k], { data_start: start, pad } = layout.parts[k];
    const { hash: ph } = await engine.op({ op: 'browser.cache.hash.begin' });
    const hashed = async (bytes) => {
      const copy = bytes.slice();
      await engine.op({ op: 'browser.cache.hash.update', hash: ph, bytes: copy.buffer }, [copy.buffer]);
    };
    await hashed(head);
    done += head.length;
    if (head.length > start) await out(head.subarray(start));
    let pos = head.length; // where in part k the next byte is
    if (pos < f.size) {
      await fetchFile(f, pos, async (chunk) => {
        await hashed(chunk);
        const skip = Math.min(chunk.length, Math.max(0, start - pos)); // the header's padding
        pos += chunk.length;
        done += chunk.length;
        progress({ phase: 'download', done, total: plan.bytes, file: f.path });
        if (skip < chunk.length) await out(chunk.subarray(skip));
      }, { signal, onRetry: ({ error }) => progress({ phase: 'retry', done, total: plan.bytes, message: error }) });
    }
    if (pad) await out(new Uint8Array(pad));
    const { sha256 } = await engine.op({ op: 'browser.cache.hash.end', hash: ph });
    if (f.sha256 && sha256 !== f.sha256) throw new SottoError('sha256_mismatch', `${f.path}: its sha256 differs from the published ${f.sha256} (it is ${sha256}): refused`);
  }
  await writer.flush(true);
  if (writer.offset !== size) throw new SottoError('size_mismatch', `joined ${writer.offset} of ${size} bytes`);
  return { size, estimate };
}
