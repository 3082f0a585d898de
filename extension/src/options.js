// options.js - the options page: the model manager (what is installed in
// the browser and in the native host, the catalogue of real models, installs
// from a URL, a file or a model folder with the user's consent first,
// downloads with progress, cancel and resume, the cache's storage and its
// least recently used models), the summary style and model, the user's
// label sets, routing, the memory budget and the native host's state.
// Installs seal the model in parts with the engine (engine-worker.js) as it
// arrives, so its plaintext is never stored.
import { SottoError } from '../engine/engine.mjs';
import { local, session, request, onStorageChanged, onNotify, browserName, ENGINE_HEAP_MAX, INSTALL_HINT } from './platform.js';
import {
  getSettings, setSettings, cacheKey, parseLabelSet, STYLES, LENGTHS, KEY_BYTES, SALT_BYTES, PASSPHRASE_MIN,
} from './settings.js';
import { allModels, bundledCatalogue, installedModels, setInstalled, pickModel } from './catalogue.js';
import { EngineHost } from './engine-host.js';
import { memoryOf, route, mib } from './router.js';
import { describe, install as installPlan, discard, unfinished, unfinishedOne, storageInfo, storageNeed, persist } from './download.js';

const $ = (sel) => document.querySelector(sel);
const MiB = 1024 * 1024;
const ID_RE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const KIND_OF_TASK = { summarize: 'llm', labels: 'nli', sentiment: 'classifier', language: 'fasttext' };
// What the browser engine can convert: the folder's files and the GGUF
// file it makes are all in its heap at once.
const CONVERT_MAX = Math.floor(ENGINE_HEAP_MAX * 0.45);
const engine = new EngineHost();
const running = new Map(); // model id -> AbortController of its download
let host = null;           // the native host's status, once asked

function size(n) {
  if (!Number.isFinite(n)) return '–';
  if (n < 1024) return `${n} B`;
  if (n < MiB) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * MiB) return `${(n / MiB).toFixed(1)} MiB`;
  if (n < 1024 ** 4) return `${(n / (1024 * MiB)).toFixed(2)} GiB`;
  return `${(n / 1024 ** 4).toFixed(1)} TiB`;
}

function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v === true) e.setAttribute(k, '');
    else if (v !== false && v !== undefined && v !== null) e.setAttribute(k, v);
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined && k !== false) e.append(k);
  return e;
}

// Text with `code` spans.
const withCode = (text) => String(text).split('`').map((p, i) => (i % 2 ? el('code', {}, p) : p));

function status(sel, text, kind = '') {
  const s = $(sel);
  s.replaceChildren(...withCode(text));
  s.className = `status ${kind}`;
}

const ago = (t) => {
  if (!t) return 'never used';
  const s = (Date.now() - t) / 1000;
  return s < 90 ? 'used just now' : s < 5400 ? `used ${Math.round(s / 60)} min ago` : s < 129600 ? `used ${Math.round(s / 3600)} h ago` : `used ${Math.round(s / 86400)} days ago`;
};

// ---- install events, for the progress bar and for anyone watching ----
globalThis.sottoInstallEvents = [];
function progress(detail) {
  globalThis.sottoInstallEvents.push(detail);
  dispatchEvent(new CustomEvent('sotto-install', { detail }));
  if (detail.phase === 'estimate') return;
  const bar = $('#install-progress');
  bar.hidden = ['done', 'error', 'interrupted', 'cancelled'].includes(detail.phase);
  if (detail.total) { bar.max = detail.total; bar.value = detail.done; } else bar.removeAttribute('value');
  const pct = detail.total ? ` ${Math.floor((100 * detail.done) / detail.total)}% (${size(detail.done)} of ${size(detail.total)})` : '';
  const text = {
    download: `Downloading ${detail.id}…${pct}`, read: `Reading ${detail.id}…${pct}`, seal: `Encrypting ${detail.id}…${pct}`,
    convert: `Converting ${detail.id} to GGUF…`, retry: `The connection dropped; resuming ${detail.id} at ${size(detail.done)}…`,
    done: `Installed ${detail.id} (${size(detail.total)}${detail.checked ? ', sha256 checked' : ''}).`,
    interrupted: `The download of ${detail.id} stopped at ${size(detail.done)}: ${detail.message}. Resume it below.`,
    cancelled: `Cancelled: nothing of ${detail.id} was kept.`,
    error: `Could not install ${detail.id}: ${detail.message}`,
  }[detail.phase];
  status('#install-status', text ?? '', ['error', 'interrupted'].includes(detail.phase) ? 'bad' : detail.phase === 'done' ? 'good' : '');
}

// ---- where a model would run, and whether it fits ----

async function hostStatus(fresh = false) {
  if (!host || fresh) host = await request({ op: 'ext.host.status' }).catch((e) => ({ ok: false, error: SottoError.from(e).toJSON() }));
  return host;
}

async function placement(entry) {
  const settings = await getSettings();
  const env = { browser: browserName, heapMax: ENGINE_HEAP_MAX, host: host?.ok ?? false };
  return route(entry, settings, env);
}

// Whether a plan fits the browser's storage quota, and which least
// recently used models would make room when it does not.
async function room(plan) {
  const info = await storageInfo();
  const need = storageNeed(plan);
  const free = Math.max(0, info.quota - info.usage);
  if (need <= free) return { ok: true, need, free, info };
  const inst = Object.values(await installedModels()).sort((a, b) => (a.last_used ?? 0) - (b.last_used ?? 0));
  const lru = [];
  let freed = 0;
  for (const m of inst) {
    if (free + freed >= need) break;
    lru.push(m);
    freed += m.bytes ?? 0;
  }
  return { ok: false, need, free, info, lru: free + freed >= need ? lru : [] };
}

// ---- installs: describe, consent, download ----

// Everything the consent dialog shows about a source, before any of the
// model is downloaded: {plan, spec, estimate, place, room}.
async function prepare({ entry, url, file, folder, id, task, kind, convert, sha256 }) {
  sha256 = sha256?.trim().toLowerCase() || null;
  if (sha256 && !/^[0-9a-f]{64}$/.test(sha256)) throw new SottoError('bad_request', 'the sha256 must be 64 hex digits');
  if (!entry && !url && !file && !folder?.length) throw new SottoError('bad_request', 'choose a URL, a file or a folder');
  const plan = await describe(file ? { files: [file] } : folder?.length ? { files: folder } : {
    url: entry?.url ?? url, known: { size: entry?.bytes ?? undefined, sha256: entry?.sha256 ?? sha256 ?? undefined },
  });
  // a sha256 the user gives is the one the file must have
  if ((plan.kind === 'file' || plan.kind === 'local') && sha256 && plan.files[0].sha256 !== sha256) Object.assign(plan.files[0], { sha256, sha256_from: 'you' });
  id = (entry?.id ?? id ?? '').trim();
  if (!ID_RE.test(id)) throw new SottoError('bad_request', 'the model id must match [a-z0-9][a-z0-9._-]{0,63}');
  task = entry?.task ?? task;
  kind = entry?.kind ?? (kind || KIND_OF_TASK[task]);
  const meta = { name: entry?.name ?? plan.name, kind, licence: entry?.licence ?? null, licence_url: entry?.licence_url ?? null,
    runs_in: entry?.runs_in ?? 'both', ...(entry ? { catalogue: entry.id } : {}) };
  const spec = { id, task, meta, convert: entry?.convert ?? (plan.kind === 'folder' ? { type: convert || 'f16' } : undefined) };
  let estimate = null;
  if (plan.kind === 'local' && plan.format === 'gguf') estimate = await localEstimate(plan.local[0]);
  const entryFor = { id, format: plan.format === 'hf' ? 'gguf' : plan.format, bytes: plan.bytes, memory_bytes: estimate?.resident_bytes ?? null };
  await hostStatus();
  const offer = { plan, spec, estimate, place: await placement(entryFor), memory: memoryOf(entryFor), room: await room(plan) };
  if (plan.kind === 'folder' && plan.bytes > CONVERT_MAX) {
    offer.refused = `This folder holds ${size(plan.bytes)}; the browser can convert up to ${size(CONVERT_MAX)}. ` +
      'Convert it on your computer with `sotto convert DIR model.gguf` and install the GGUF file instead.';
  } else if (!offer.room.ok) {
    offer.refused = `This model needs ${size(offer.room.need)} of storage, but only ${size(offer.room.free)} of the ` +
      `${size(offer.room.info.quota)} the browser allows this extension are free. Nothing was downloaded.`;
  } else if (plan.bytes == null) {
    offer.note = 'The server does not say how large the file is.';
  }
  return offer;
}

// A local GGUF file's memory estimate, from its header (read from the disk).
async function localEstimate(file) {
  for (let n = 1 << 20; ; n *= 4) {
    const head = new Uint8Array(await file.slice(0, n).arrayBuffer());
    try {
      return await engine.op({ op: 'browser.cache.estimate', bytes: head.buffer, file_size: file.size }, [head.buffer]);
    } catch (e) {
      if (e.code !== 'truncated' || n >= file.size) return null;
    }
  }
}

const facts = (pairs) => pairs.filter(([, v]) => v !== null && v !== undefined && v !== '').flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]);

function showConsent(offer) {
  const { plan, spec, place, memory, room: r } = offer;
  const box = $('#consent');
  box.hidden = false;
  box.dataset.model = spec.id;
  $('#consent-title').textContent = `Install ${spec.meta.name ?? spec.id}?`;
  const file = plan.files[0];
  const shaText = plan.kind === 'file'
    ? (file.sha256 ? `${file.sha256} (${{ huggingface: 'published by Hugging Face', catalogue: "from sotto's catalogue", you: 'as you gave it', server: 'published by the server' }[file.sha256_from] ?? 'published'}; checked after the download)`
      : 'not published: the file is checked only by HTTPS')
    : plan.kind === 'folder' && !plan.local ? `${plan.files.filter((f) => f.sha256).length} of ${plan.files.length} files have a sha256 published by Hugging Face, checked after the download` : null;
  $('#consent-facts').replaceChildren(...facts([
    ['From', plan.local ? `${plan.name} (on this computer: nothing is downloaded)` : plan.kind === 'folder' ? `${plan.origin}/${plan.repo} (${plan.files.length} files)` : plan.kind === 'split' ? `${plan.files.length} parts, joined: ${plan.files[0].url}…` : file.url],
    ['Download', plan.local ? null : plan.bytes != null ? size(plan.bytes) : 'unknown size'],
    ['Size', plan.local ? size(plan.bytes) : null],
    ['sha256', shaText],
    ['Licence', spec.meta.licence ? el('span', {}, spec.meta.licence, spec.meta.licence_url ? [' (', el('a', { href: spec.meta.licence_url, target: '_blank', rel: 'noreferrer' }, 'terms'), ')'] : null) : 'see the model\'s page'],
    ['Becomes', plan.kind === 'folder' ? `a GGUF file, converted in this browser (${spec.convert.type})` : null],
    ['Runs', place.where ? el('span', { class: 'where', 'data-where': place.where }, place.where === 'native' ? 'in the native host' : 'in this browser', `: ${place.reason}`) : place.reason],
    ['Memory', `about ${mib(memory.bytes)}${memory.from === 'engine' ? ' (from the file\'s header)' : ' (from its size; read from its header as it arrives)'}`],
    ['Stored', 'encrypted in this browser\'s storage, in 4 MiB parts'],
  ]));
  const lruBox = $('#consent-lru');
  lruBox.replaceChildren();
  const dl = $('#consent-download');
  dl.disabled = Boolean(offer.refused);
  dl.textContent = plan.local ? 'Install' : `Download ${plan.bytes != null ? size(plan.bytes) : ''}`.trim();
  if (offer.refused) {
    status('#consent-room', offer.refused, 'bad');
    if (r.lru?.length) {
      lruBox.append(el('p', {}, 'Removing the least recently used models would make room:'),
        el('ul', {}, r.lru.map((m) => el('li', {}, `${m.id} (${size(m.bytes)}, ${ago(m.last_used)})`))),
        el('button', { class: 'lru-remove', onclick: async () => {
          for (const m of r.lru) await deleteModel(m.id);
          const again = await prepare(offer.source);
          again.source = offer.source;
          showConsent(again);
        } }, `Remove ${r.lru.length === 1 ? 'it' : `these ${r.lru.length}`} and check again`));
    }
  } else {
    status('#consent-room', `${size(r.need)} of the ${size(r.free)} of storage free for the extension.${offer.note ? ` ${offer.note}` : ''}`);
  }
  globalThis.sottoConsent = offer;
  return offer;
}

function hideConsent() {
  $('#consent').hidden = true;
  globalThis.sottoConsent = null;
}

// The user agreed: download (or read), seal and record the model.
async function start(offer) {
  hideConsent();
  const { plan, spec } = offer;
  const ctl = new AbortController();
  running.set(spec.id, ctl);
  renderDownloads();
  try {
    await persist();
    // a reinstall (a re-download, another version) replaces the old copy
    if ((await installedModels())[spec.id]) await deleteModel(spec.id);
    else await engine.op({ op: 'browser.cache.delete', model: spec.id });
    const meta = await installPlan(engine, plan, { ...spec, key: await cacheKey(), signal: ctl.signal, onProgress: progress });
    await setInstalled(spec.id, meta);
    await unload(spec.id);
    progress({ id: spec.id, phase: 'done', done: meta.bytes, total: meta.bytes, checked: meta.sha256_checked });
    return meta;
  } catch (e) {
    const err = SottoError.from(e);
    if (err.code === 'cancelled') progress({ id: spec.id, phase: 'cancelled' });
    else if (!(err.code === 'io_error' && plan.kind === 'file' && !plan.local)) progress({ id: spec.id, phase: 'error', message: err.message, code: err.code });
    throw err;
  } finally {
    running.delete(spec.id);
    await Promise.all([renderModels(), renderDownloads(), renderStorage()]);
  }
}

// Goes on with a download that stopped (a dropped connection that did not
// come back, a closed page, a browser restart), from its last stored part.
async function resume(id) {
  const rec = await unfinishedOne(id);
  if (!rec) throw new SottoError('bad_request', `no unfinished download of ${id}`);
  const ctl = new AbortController();
  running.set(id, ctl);
  renderDownloads();
  try {
    const meta = await installPlan(engine, rec.plan, { id, task: rec.task, meta: rec.meta, key: await cacheKey(), signal: ctl.signal, onProgress: progress, resume: rec });
    await setInstalled(id, meta);
    await unload(id);
    progress({ id, phase: 'done', done: meta.bytes, total: meta.bytes, checked: meta.sha256_checked });
    return meta;
  } catch (e) {
    const err = SottoError.from(e);
    if (err.code !== 'io_error') progress({ id, phase: err.code === 'cancelled' ? 'cancelled' : 'error', message: err.message, code: err.code });
    throw err;
  } finally {
    running.delete(id);
    await Promise.all([renderModels(), renderDownloads(), renderStorage()]);
  }
}

function cancel(id) {
  running.get(id)?.abort();
}

async function discardDownload(id) {
  await discard(engine, id);
  await renderDownloads();
}

// Without the dialog (tools and tests): describe, check and install.
async function install(spec) {
  const offer = await prepare(spec);
  if (offer.refused) throw new SottoError(offer.room.ok ? 'too_large' : 'no_space', offer.refused);
  return start(offer);
}

async function check(spec) {
  try {
    const offer = await prepare(spec);
    offer.source = spec;
    return showConsent(offer);
  } catch (e) {
    hideConsent();
    progress({ id: spec.entry?.id ?? spec.id ?? '', phase: 'error', message: e.message, code: e.code });
    return null;
  }
}

// The background's engine drops its copy of a model that changed.
const unload = (model) => request({ op: 'ext.models.unload', model }).catch(() => {});

async function deleteModel(id) {
  await engine.op({ op: 'browser.cache.delete', model: id });
  await setInstalled(id, null);
  await unload(id);
  await Promise.all([renderModels(), renderStorage()]);
}

const metaOf = (m) => ({ size: m.bytes, parts: m.parts, install: m.install });

// Opens every part of a cache entry (authenticating each) without loading it.
async function verify(id) {
  try {
    const inst = await installedModels();
    await engine.op({ op: 'browser.cache.verify', model: id, key: await cacheKey(), meta: metaOf(inst[id]) });
    if (inst[id]?.damaged) await setInstalled(id, { ...inst[id], damaged: false });
    status('#models-status', `${id}: the cached copy is intact.`, 'good');
  } catch (e) {
    const inst = await installedModels();
    if (inst[id]) await setInstalled(id, { ...inst[id], damaged: e.code });
    status('#models-status', `${id}: ${e.message} (${e.code}). Re-download it.`, 'bad');
  }
  await renderModels();
}

async function copyToHost(id) {
  status('#models-status', `Copying ${id} to the native host…`);
  try {
    const r = await request({ op: 'ext.host.copy', model: id });
    status('#models-status', r.copied ? `${id} is now in the native host's store too.` : `The native host already has ${id}.`, 'good');
    await hostStatus(true);
  } catch (e) {
    status('#models-status', `${e.message}${e.hint ? ` ${e.hint}` : ''}`, 'bad');
  }
  await renderModels();
}

onNotify((m) => {
  if (m.op === 'ext.host.copy') status('#models-status', `Copying ${m.model} to the native host… ${Math.floor((100 * m.done) / m.total)}%`);
});

// ---- the cache key: random, or derived from a passphrase ----
function b64(bytes) { return btoa(String.fromCharCode(...bytes)); }

// Re-encrypts every cache entry from one key to another; an entry that
// cannot be opened is marked damaged and left as it is.
async function resealAll(from, to) {
  const inst = await installedModels();
  for (const [id, m] of Object.entries(inst)) {
    try {
      await engine.op({ op: 'browser.cache.reseal', model: id, meta: metaOf(m), from, to });
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
  const { key, check: kc } = await engine.op({ op: 'browser.cache.key', passphrase, salt });
  await resealAll(old, key);
  await session.set('cacheKey', key);
  await local.set('cacheLock', { salt, check: kc, kdf: 'argon2id-interactive' });
  await local.remove('cacheKey');
}

async function unlock(passphrase) {
  const cacheLock = await local.get('cacheLock');
  if (!cacheLock) return true;
  const { key, check: kc } = await engine.op({ op: 'browser.cache.key', passphrase, salt: cacheLock.salt });
  if (kc !== cacheLock.check) throw new SottoError('wrong_passphrase', 'wrong passphrase');
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

// ---- label sets ----
async function addLabelSet(line, hypothesis) {
  const set = parseLabelSet(line);
  if (hypothesis?.trim()) set.hypothesis = hypothesis.trim();
  const s = await getSettings();
  await setSettings({ labelSets: [...s.labelSets.filter((x) => x.name.toLowerCase() !== set.name.toLowerCase()), set] });
  return set;
}

async function removeLabelSet(name) {
  const s = await getSettings();
  await setSettings({ labelSets: s.labelSets.filter((x) => x.name !== name) });
}

// ---- rendering ----
const STORED = {
  bundled: (m) => (m.file ? 'in the extension' : 'in the engine'),
  installed: (m) => `encrypted cache${m.parts ? ` (${m.parts} part${m.parts > 1 ? 's' : ''})` : ''}`,
  host: () => 'native host\'s store',
};

async function renderModels() {
  const hostModels = host?.ok ? host.hello.models ?? [] : [];
  const [models, settings, { defaults }] = await Promise.all([allModels(hostModels), getSettings(), bundledCatalogue()]);
  const inHost = new Set(hostModels.filter((h) => !h.error).map((h) => h.id));
  const env = { browser: browserName, heapMax: ENGINE_HEAP_MAX, host: host?.ok ?? false };
  const body = $('#models tbody');
  body.replaceChildren();
  for (const m of models.filter((x) => x.origin !== 'catalogue')) {
    const task = m.task;
    const isDefault = pickModel(models, task, settings, defaults)?.id === m.id;
    const place = route(m, settings, env);
    const mem = memoryOf(m);
    const actions = [];
    if (m.origin === 'installed') {
      if (m.damaged && m.source && !m.source.startsWith('file:')) {
        actions.push(el('button', { class: 'redownload', onclick: () => check({ id: m.id, url: m.source, task: m.task, kind: m.kind }) }, 'Re-download'));
      }
      actions.push(el('button', { class: 'verify', onclick: () => verify(m.id) }, 'Verify'));
      if (host?.ok && !inHost.has(m.id)) actions.push(el('button', { class: 'to-host', onclick: () => copyToHost(m.id) }, 'Copy to native host'));
      actions.push(el('button', { class: 'delete', onclick: () => deleteModel(m.id) }, 'Delete'));
    }
    if (m.origin === 'host') {
      actions.push(el('button', { class: 'delete-host', onclick: async () => { await request({ op: 'ext.host.delete', model: m.id }); await hostStatus(true); await renderModels(); } }, 'Delete from host'));
    }
    body.append(el('tr', { 'data-model': m.id },
      el('td', {}, el('b', {}, m.name ?? m.id), m.name && m.name !== m.id ? el('div', { class: 'status' }, m.id) : null,
        m.licence ? el('div', { class: 'status', title: m.attribution ?? '' }, `licence: ${m.licence}`) : null),
      el('td', {}, task),
      el('td', {}, m.origin === 'bundled' && !m.file ? 'built in' : size(Number(m.bytes))),
      el('td', { title: mem.from === 'engine' ? 'the engine\'s estimate from the file\'s header' : 'a guess from the file\'s size' }, size(mem.bytes)),
      el('td', {}, el('span', { class: `tag ${m.damaged ? 'damaged' : ''}` }, m.damaged ? `damaged (${m.damaged})` : STORED[m.origin](m)),
        inHost.has(m.id) && m.origin !== 'host' ? el('div', { class: 'status' }, 'also in the native host') : null),
      el('td', { class: 'runs', title: place.reason, 'data-where': place.where ?? '' }, place.where === 'native' ? 'native host' : place.where === 'browser' ? 'browser' : '–'),
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
  renderCatalogue(models);
  renderTaskChoices(models, settings, defaults);
}

function renderCatalogue(models) {
  const box = $('#catalogue');
  box.replaceChildren(el('h3', {}, 'From the catalogue'));
  const available = models.filter((m) => m.origin === 'catalogue' && m.url);
  const table = el('table', { class: 'catalogue' }, el('thead', {}, el('tr', {}, ['Model', 'For', 'Licence', 'Size', ''].map((h) => el('th', {}, h)))));
  const tb = el('tbody');
  for (const m of available) {
    tb.append(el('tr', { 'data-catalogue': m.id },
      el('td', {}, el('b', {}, m.name ?? m.id), el('div', { class: 'status' }, el('a', { href: m.url, target: '_blank', rel: 'noreferrer' }, m.repo ?? m.url))),
      el('td', {}, { summarize: 'summaries', labels: `your labels (${m.kind})`, sentiment: 'sentiment', language: 'language' }[m.task] ?? m.task,
        m.install === 'folder' ? el('div', { class: 'status' }, 'converted to GGUF here') : el('div', { class: 'status' }, m.quantization ?? '')),
      el('td', {}, m.licence_url ? el('a', { href: m.licence_url, target: '_blank', rel: 'noreferrer' }, m.licence) : m.licence),
      el('td', {}, m.bytes ? size(m.bytes) : el('span', { class: 'status' }, 'asked when you click')),
      el('td', {}, el('button', { class: 'install', onclick: () => check({ entry: m }) }, 'Install…'))));
  }
  table.append(tb);
  box.append(table, el('p', { class: 'status' }, 'Install asks Hugging Face for the file\'s size and sha256, shows them with where the model will run, and downloads only when you agree.'));
}

function renderTaskChoices(models, settings, defaults) {
  const fill = (sel, task, extra = []) => {
    const usable = models.filter((m) => m.task === task && m.origin !== 'catalogue');
    const cur = pickModel(models, task, settings, defaults)?.id ?? '';
    $(sel).replaceChildren(...extra, ...usable.map((m) => el('option', { value: m.id, selected: m.id === cur }, `${m.name ?? m.id}${m.origin === 'host' ? ' (native host)' : ''}`)));
    if (!usable.length && !extra.length) $(sel).append(el('option', { value: '' }, 'none installed: get one above'));
  };
  fill('#summarize-model', 'summarize');
  fill('#labels-model', 'labels');
  fill('#sentiment-model', 'sentiment');
}

async function renderDownloads() {
  const box = $('#downloads');
  const list = await unfinished();
  const ids = new Set([...list.map((r) => r.id), ...running.keys()]);
  box.replaceChildren();
  if (!ids.size) return;
  box.append(el('h3', {}, 'Downloads'));
  for (const id of ids) {
    const rec = list.find((r) => r.id === id);
    const live = running.has(id);
    const total = rec?.plan?.bytes;
    box.append(el('div', { class: 'download', 'data-download': id },
      el('b', {}, id), ' ',
      live ? 'downloading… ' : `stopped at ${size(rec?.offset ?? 0)}${total ? ` of ${size(total)}` : ''} `,
      live ? el('button', { class: 'cancel', onclick: () => cancel(id) }, 'Cancel')
        : [el('button', { class: 'resume', onclick: () => resume(id).catch(() => {}) }, 'Resume'), ' ',
          el('button', { class: 'discard', onclick: () => discardDownload(id) }, 'Discard')]));
  }
}

async function renderStorage() {
  const info = await storageInfo();
  const inst = Object.values(await installedModels());
  const cached = inst.reduce((a, m) => a + (m.bytes ?? 0), 0);
  status('#storage-status', `Models in this browser: ${size(cached)}. The extension uses ${size(info.usage)} of the ${size(info.quota)} the browser allows it` +
    ` (${size(Math.max(0, info.quota - info.usage))} free). ${info.persisted ? 'Storage is persistent: the browser will not evict it.' : 'Storage is not marked persistent yet: it will be at the first install.'}`);
  const lru = inst.sort((a, b) => (a.last_used ?? 0) - (b.last_used ?? 0));
  $('#storage-lru').replaceChildren(...(lru.length ? [el('p', {}, 'Least recently used first:'), el('ul', {}, lru.map((m) =>
    el('li', { 'data-lru': m.id }, `${m.id}: ${size(m.bytes)}, ${ago(m.last_used)} `, el('button', { onclick: () => deleteModel(m.id) }, 'Remove'))))] : []));
}

async function renderSettings() {
  const s = await getSettings();
  for (const [sel, list, cur] of [['#style', STYLES, s.style], ['#length', LENGTHS, s.length]]) {
    $(sel).replaceChildren(...list.map((v) => el('option', { value: v, selected: v === cur }, v)));
  }
  for (const r of document.querySelectorAll('input[name=routing]')) r.checked = r.value === s.routing;
  $('#budget').value = s.budgetMiB;
  $('#max-tokens').value = s.maxTokens;
  $('#label-sets').replaceChildren(...s.labelSets.map((set) => el('li', { 'data-set': set.name },
    el('b', {}, set.name), `: ${set.labels.join(', ')}`, set.hypothesis ? el('span', { class: 'status' }, ` (“${set.hypothesis}”)`) : null, ' ',
    el('button', { class: 'remove-set', onclick: () => removeLabelSet(set.name) }, 'Remove'))));
}

async function checkHost() {
  status('#host-status', 'Checking…');
  const h = await hostStatus(true);
  const box = $('#host-status');
  if (h.ok) {
    const c = h.hello.capabilities ?? {};
    box.className = 'status good';
    box.replaceChildren(`Connected: sotto-host ${h.hello.version} (${c.flavour ?? 'native'}, ${c.threads ?? '?'} threads, ${c.simd ?? ''}); ` +
      `its store holds ${(h.hello.models ?? []).length} model(s)${h.hello.store?.locked ? ' and is locked (passphrase)' : ''}.`);
  } else {
    box.className = 'status bad';
    box.replaceChildren(`${h.error?.message ?? 'The native host did not answer.'} `, ...withCode(h.error?.hint ?? INSTALL_HINT));
    box.dataset.code = h.error?.code ?? '';
  }
  await renderModels();
  return h;
}

// ---- wiring ----
$('#install').addEventListener('submit', (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  const from = f.get('from');
  const file = from === 'file' ? f.get('file') : null;
  check({
    id: f.get('id').trim(), task: f.get('task'), kind: f.get('kind'), sha256: f.get('sha256'), convert: f.get('convert'),
    url: from === 'url' ? f.get('url').trim() : null, file: file?.name ? file : null,
    folder: from === 'folder' ? [...e.target.folder.files] : null,
  });
});
$('#consent-download').addEventListener('click', () => { const o = globalThis.sottoConsent; if (o) start(o).catch(() => {}); });
$('#consent-cancel').addEventListener('click', hideConsent);
$('#label-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    const set = await addLabelSet(e.target.set.value, e.target.hypothesis.value);
    e.target.reset();
    status('#labels-status', `Added "${set.name}": select text and right-click Classify: ${set.name}.`, 'good');
  } catch (err) {
    status('#labels-status', err.message, 'bad');
  }
});
for (const [sel, task] of [['#summarize-model', 'summarize'], ['#labels-model', 'labels'], ['#sentiment-model', 'sentiment']]) {
  $(sel).addEventListener('change', (e) => setSettings({ models: { [task]: e.target.value } }));
}
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
$('#max-tokens').addEventListener('change', async (e) => {
  try {
    await setSettings({ maxTokens: Number(e.target.value) });
  } catch (err) {
    e.target.value = (await getSettings()).maxTokens;
    alert(err.message);
  }
});
$('#host-check').addEventListener('click', checkHost);
$('#cache-set').addEventListener('click', () => cacheAction(setPassphrase, 'Passphrase set; installed models re-encrypted.'));
$('#cache-unlock').addEventListener('click', () => cacheAction(unlock, 'Unlocked.'));
$('#cache-random').addEventListener('click', () => cacheAction(useRandomKey, 'Back to a random key; installed models re-encrypted.'));
onStorageChanged((changes) => {
  if (changes.installed || changes.settings) renderModels();
  if (changes.settings) renderSettings();
});

await Promise.all([renderModels(), renderSettings(), renderCache(), renderDownloads(), renderStorage()]);
checkHost(); // the host's state and models; the page works without it
globalThis.sottoOptions = {
  check, prepare, start, install, resume, cancel, discard: discardDownload, deleteModel, verify, checkHost, copyToHost,
  setPassphrase, unlock, useRandomKey, addLabelSet, removeLabelSet, room, ready: true,
};
