// options.js - the options page: model manager (list, install from a URL
// or a file with progress and a sha256 check, delete, defaults), summary
// style, routing policy, memory budget and the native host's status.
// Installs seal the model with the engine (engine-worker.js) as it arrives,
// so its plaintext is never stored.
import { SottoError } from '../engine/engine.mjs';
import { local, session, request, onStorageChanged } from './platform.js';
import { getSettings, setSettings, cacheKey, STYLES, LENGTHS, KEY_BYTES, SALT_BYTES, PASSPHRASE_MIN } from './settings.js';
import { allModels, bundledCatalogue, installedModels, setInstalled, pickModel } from './catalogue.js';
import { EngineHost } from './engine-host.js';
import { storeDelete } from './store.js';
import { memoryBytes } from './router.js';

const $ = (sel) => document.querySelector(sel);
const MiB = 1024 * 1024;
const TASKS = ['summarize', 'language', 'sentiment'];
const ID_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const engine = new EngineHost();

function size(n) {
  if (!Number.isFinite(n)) return '–';
  if (n < 1024) return `${n} B`;
  if (n < MiB) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / MiB).toFixed(1)} MiB`;
}

function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v === true) e.setAttribute(k, '');
    else if (v !== false && v !== undefined) e.setAttribute(k, v);
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined) e.append(k);
  return e;
}

function status(sel, text, kind = '') {
  const s = $(sel);
  s.textContent = text;
  s.className = `status ${kind}`;
}

// ---- install events, for the progress bar and for anyone watching ----
globalThis.sottoInstallEvents = [];
function progress(detail) {
  globalThis.sottoInstallEvents.push(detail);
  dispatchEvent(new CustomEvent('sotto-install', { detail }));
  const bar = $('#install-progress');
  bar.hidden = detail.phase === 'done' || detail.phase === 'error';
  if (detail.total) { bar.max = detail.total; bar.value = detail.done; } else bar.removeAttribute('value');
  const pct = detail.total ? ` ${Math.floor((100 * detail.done) / detail.total)}%` : '';
  const text = { download: `Downloading ${detail.id}…${pct}`, hash: `Checking ${detail.id}…`, seal: `Encrypting ${detail.id}…${pct}`,
    done: `Installed ${detail.id} (${size(detail.total)}, sha256 checked).`, error: `Could not install ${detail.id}: ${detail.message}` }[detail.phase];
  status('#install-status', text, detail.phase === 'error' ? 'bad' : detail.phase === 'done' ? 'good' : '');
}

async function sha256Hex(bytes) {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return [...d].map((b) => b.toString(16).padStart(2, '0')).join('');
}

// Streams the source through the sealer; returns the plaintext size. With
// the size and sha256 known up front nothing is buffered; otherwise the
// whole file is read first to learn them.
async function install({ id, task, format, url, file, sha256, memory, runs_in }) {
  if (!ID_RE.test(id ?? '')) throw new SottoError('bad_request', 'the model id must match [a-z0-9][a-z0-9._-]{0,63}');
  if (!url && !file) throw new SottoError('bad_request', 'choose a URL or a file');
  sha256 = sha256?.trim().toLowerCase() || null;
  if (sha256 && !/^[0-9a-f]{64}$/.test(sha256)) throw new SottoError('bad_request', 'the sha256 must be 64 hex digits');
  if (url && !sha256) throw new SottoError('bad_request', 'a download needs its sha256, to check what arrives');
  const key = await cacheKey();
  let reader, total;
  if (url) {
    const u = new URL(url);
    if (!['https:', 'http:'].includes(u.protocol)) throw new SottoError('bad_request', 'only http(s) URLs can be downloaded');
    const res = await fetch(u, { credentials: 'omit', cache: 'no-store' });
    if (!res.ok) throw new SottoError('io_error', `the server answered ${res.status} ${res.statusText}`);
    total = Number(res.headers.get('content-length')) || undefined;
    reader = res.body.getReader();
  } else {
    total = file.size;
    reader = file.stream().getReader();
    if (!sha256) {
      progress({ id, phase: 'hash', done: 0, total });
      sha256 = await sha256Hex(await file.arrayBuffer());
    }
  }
  let buffered = null;
  if (!total) { // no length from the server: read it all first
    const parts = [];
    let done = 0;
    for (let r; !(r = await reader.read()).done;) {
      parts.push(r.value);
      done += r.value.length;
      progress({ id, phase: 'download', done, total: 0 });
    }
    buffered = new Blob(parts);
    total = buffered.size;
    reader = buffered.stream().getReader();
  }
  const source = url ?? `file:${file.name}`;
  const manifest = { id, format, task, size: total, sha256, source };
  const { sid } = await engine.op({ op: 'browser.cache.seal.begin', key, manifest });
  let done = 0;
  try {
    progress({ id, phase: url ? 'download' : 'seal', done, total });
    for (let r; !(r = await reader.read()).done;) {
      const chunk = r.value.slice(); // its own buffer, moved to the worker
      done += chunk.length;
      if (done > total) throw new SottoError('size_mismatch', `the download is longer than its announced ${total} bytes`);
      await engine.op({ op: 'browser.cache.seal.update', sid, bytes: chunk.buffer }, [chunk.buffer]);
      progress({ id, phase: url ? 'download' : 'seal', done, total });
    }
    if (done !== total) throw new SottoError('size_mismatch', `got ${done} of ${total} bytes`);
    const meta = { id, task, format, bytes: total, sha256, source, runs_in: runs_in ?? 'both',
      memory_bytes: memory ?? null, installed_at: new Date().toISOString() };
    await engine.op({ op: 'browser.cache.seal.finish', sid, record: meta });
    await setInstalled(id, meta);
    await unload(id);
    progress({ id, phase: 'done', done, total });
    return meta;
  } catch (e) {
    await engine.op({ op: 'browser.cache.seal.abort', sid }).catch(() => {});
    if (e.code === 'sha256_mismatch') throw new SottoError('sha256_mismatch', `the file's sha256 differs from ${sha256}: refused`);
    throw e;
  }
}

async function installAndReport(spec) {
  try {
    return await install(spec);
  } catch (e) {
    progress({ id: spec.id, phase: 'error', message: e.message });
    return null;
  } finally {
    await renderModels();
  }
}

// The background's engine drops its copy of a model that changed.
const unload = (model) => request({ op: 'ext.models.unload', model }).catch(() => {});

async function deleteModel(id) {
  await storeDelete(id);
  await setInstalled(id, null);
  await unload(id);
  await renderModels();
}

// Opens a cache entry (authenticating every chunk) without loading it.
async function verify(id) {
  try {
    await engine.op({ op: 'browser.cache.verify', model: id, key: await cacheKey() });
    const inst = await installedModels();
    if (inst[id]?.damaged) await setInstalled(id, { ...inst[id], damaged: false });
    status('#models-status', `${id}: the cached copy is intact.`, 'good');
  } catch (e) {
    const inst = await installedModels();
    if (inst[id]) await setInstalled(id, { ...inst[id], damaged: e.code });
    status('#models-status', `${id}: ${e.message} (${e.code}). Re-download it.`, 'bad');
  }
  await renderModels();
}

// ---- the cache key: random, or derived from a passphrase ----
function b64(bytes) { return btoa(String.fromCharCode(...bytes)); }

// Re-encrypts every cache entry from one key to another; an entry that
// cannot be opened is marked damaged and left as it is.
async function resealAll(from, to) {
  const inst = await installedModels();
  for (const id of Object.keys(inst)) {
    try {
      await engine.op({ op: 'browser.cache.reseal', model: id, from, to });
    } catch (e) {
      await setInstalled(id, { ...inst[id], damaged: e.code ?? 'tampered' });
    }
    await unload(id);
  }
}

async function setPassphrase(passphrase) {
  if (!passphrase || passphrase.length < PASSPHRASE_MIN) throw new SottoError('bad_request', `use a passphrase of at least ${PASSPHRASE_MIN} characters`);
  const old = await cacheKey(); // throws when locked: unlock first
  const salt = b64(crypto.getRandomValues(new Uint8Array(SALT_BYTES)));
  const { key, check } = await engine.op({ op: 'browser.cache.key', passphrase, salt });
  await resealAll(old, key);
  await session.set('cacheKey', key);
  await local.set('cacheLock', { salt, check, kdf: 'argon2id-interactive' });
  await local.remove('cacheKey');
}

async function unlock(passphrase) {
  const cacheLock = await local.get('cacheLock');
  if (!cacheLock) return true;
  const { key, check } = await engine.op({ op: 'browser.cache.key', passphrase, salt: cacheLock.salt });
  if (check !== cacheLock.check) throw new SottoError('wrong_passphrase', 'wrong passphrase');
  await session.set('cacheKey', key);
  return true;
}

async function useRandomKey() {
  const old = await cacheKey();
  const key = b64(crypto.getRandomValues(new Uint8Array(KEY_BYTES)));
  await resealAll(old, key);
  await local.set('cacheKey', key);
  await local.remove('cacheLock');
  await session.remove('cacheKey');
}

async function renderCache() {
  const cacheLock = await local.get('cacheLock');
  const unlocked = await session.get('cacheKey');
  status('#cache-status', !cacheLock ? 'Installed models are encrypted with a random key kept by this extension.'
    : `Installed models are encrypted with a key derived from your passphrase (Argon2id); ${unlocked ? 'unlocked until the browser closes.' : 'locked: enter the passphrase to use them.'}`,
  cacheLock && !unlocked ? 'bad' : '');
  $('#cache-unlock').hidden = !cacheLock || Boolean(unlocked);
  $('#cache-random').hidden = !cacheLock;
}

async function cacheAction(fn, done) {
  const input = $('#cache').passphrase;
  try {
    await fn(input.value);
    input.value = '';
    await renderCache();
    if (done) status('#cache-status', done, 'good');
  } catch (e) {
    status('#cache-status', e.message, 'bad');
  }
}

// ---- rendering ----
async function renderModels() {
  const [models, settings, { defaults }] = await Promise.all([allModels(), getSettings(), bundledCatalogue()]);
  const body = $('#models tbody');
  body.replaceChildren();
  for (const m of models.filter((x) => x.origin !== 'catalogue')) {
    const task = m.task;
    const isDefault = pickModel(models, task, settings, defaults)?.id === m.id;
    const actions = [];
    if (m.origin === 'installed') {
      if (m.damaged && m.source && !m.source.startsWith('file:')) {
        actions.push(el('button', { class: 'redownload', onclick: () => installAndReport({ ...m, url: m.source }) }, 'Re-download'));
      }
      actions.push(el('button', { class: 'verify', onclick: () => verify(m.id) }, 'Verify'));
      actions.push(el('button', { class: 'delete', onclick: () => deleteModel(m.id) }, 'Delete'));
    }
    body.append(el('tr', { 'data-model': m.id },
      el('td', {}, el('b', {}, m.id), m.licence ? el('div', { class: 'status', title: m.attribution ?? '' }, `licence: ${m.licence}`) : null),
      el('td', {}, task),
      el('td', {}, m.origin === 'bundled' && !m.file ? 'built in' : size(Number(m.bytes))),
      el('td', {}, size(memoryBytes(m))),
      el('td', {}, el('span', { class: `tag ${m.damaged ? 'damaged' : ''}` },
        m.damaged ? `damaged (${m.damaged})` : m.origin === 'bundled' ? (m.file ? 'in the extension' : 'in the engine') : 'encrypted cache')),
      el('td', {}, el('input', { type: 'radio', name: `default-${task}`, checked: isDefault,
        onchange: async () => { await setSettings({ models: { [task]: m.id } }); } })),
      el('td', {}, el('input', { type: 'checkbox', checked: settings.pinnedNative.includes(m.id),
        onchange: async (e) => {
          const s = await getSettings();
          const pins = new Set(s.pinnedNative);
          if (e.target.checked) pins.add(m.id); else pins.delete(m.id);
          await setSettings({ pinnedNative: [...pins] });
        } })),
      el('td', {}, actions)));
  }
  // Catalogue entries with a download URL that are not here yet.
  const box = $('#catalogue');
  box.replaceChildren();
  const available = models.filter((m) => m.origin === 'catalogue' && m.url && m.sha256);
  if (available.length) {
    box.append(el('h3', {}, 'From the catalogue'));
    for (const m of available) {
      box.append(el('div', {}, el('b', {}, m.id), ` ${m.task}, ${size(Number(m.bytes))} `,
        el('button', { onclick: () => installAndReport({ ...m, url: m.url, memory: m.memory_bytes ?? undefined }) }, 'Install')));
    }
  }
}

async function renderSettings() {
  const s = await getSettings();
  for (const [sel, list, cur] of [['#style', STYLES, s.style], ['#length', LENGTHS, s.length]]) {
    $(sel).replaceChildren(...list.map((v) => el('option', { value: v, selected: v === cur }, v)));
  }
  for (const r of document.querySelectorAll('input[name=routing]')) r.checked = r.value === s.routing;
  $('#budget').value = s.budgetMiB;
}

async function checkHost() {
  status('#host-status', 'Checking…');
  let error;
  try {
    const r = await request({ op: 'ext.request', where: 'native', request: { op: 'capabilities' } });
    if (!r.error) {
      const c = r.result ?? {};
      return status('#host-status', `Connected: sotto ${c.version ?? ''} (${c.flavour ?? 'native'}, ${c.threads ?? '?'} threads, ${c.simd ?? ''}).`, 'good');
    }
    error = r.error;
  } catch (e) {
    error = e;
  }
  const box = $('#host-status');
  box.className = 'status bad';
  box.replaceChildren(`${error?.message ?? 'The native host did not answer.'} `,
    ...String(error?.hint ?? '').split('`').map((p, i) => (i % 2 ? el('code', {}, p) : p)));
}

// ---- wiring ----
$('#install').addEventListener('submit', (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  const fromFile = f.get('from') === 'file';
  const file = fromFile ? f.get('file') : null;
  const mem = f.get('memory');
  installAndReport({
    id: f.get('id').trim(), task: f.get('task'), format: f.get('format'), sha256: f.get('sha256'),
    url: fromFile ? null : f.get('url').trim(), file: file?.size !== undefined && file.name ? file : null,
    memory: mem ? Number(mem) * MiB : undefined,
  });
});
$('#style').addEventListener('change', (e) => setSettings({ style: e.target.value }));
$('#length').addEventListener('change', (e) => setSettings({ length: e.target.value }));
for (const r of document.querySelectorAll('input[name=routing]')) {
  r.addEventListener('change', () => setSettings({ routing: r.value }));
}
$('#budget').addEventListener('change', async (e) => {
  try {
    await setSettings({ budgetMiB: e.target.value });
  } catch (err) {
    e.target.value = (await getSettings()).budgetMiB;
    alert(err.message);
  }
});
$('#host-check').addEventListener('click', checkHost);
$('#cache-set').addEventListener('click', () => cacheAction(setPassphrase, 'Passphrase set; installed models re-encrypted.'));
$('#cache-unlock').addEventListener('click', () => cacheAction(unlock, 'Unlocked.'));
$('#cache-random').addEventListener('click', () => cacheAction(useRandomKey, 'Back to a random key; installed models re-encrypted.'));
onStorageChanged((changes) => {
  if (changes.installed || changes.settings) renderModels();
});

await Promise.all([renderModels(), renderSettings(), renderCache()]);
globalThis.sottoOptions = { install, deleteModel, verify, checkHost, setPassphrase, unlock, useRandomKey, ready: true };
