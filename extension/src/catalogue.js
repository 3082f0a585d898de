// catalogue.js - the models this extension knows: the bundled catalogue
// (models/catalogue.json, shipped in the package: bundled models and the
// real models it offers to download), what the user has installed (kept in
// extension storage, the sealed parts in IndexedDB: store.js), and what the
// native host's own store holds.
//
// Which model a task uses is the engine's decision (its table of defaults,
// sotto_model_default, published by the "capabilities" op and written into
// the shipped catalogue by build.mjs from the engine it packages); the
// extension only puts the user's explicit choice on top. Tasks:
//   summarize  the extractive summarizer, or a language model (kind llm)
//   language   fastText language identification
//   sentiment  fastText sentiment, or a sequence classifier (kind classifier)
//   labels     the user's own labels, zero-shot: an NLI model (kind nli) or
//              an embedding model (kind embedding)
import { extensionUrl, local } from './platform.js';

let bundled = null;

export async function bundledCatalogue() {
  if (!bundled) {
    const res = await fetch(extensionUrl('models/catalogue.json'));
    const doc = await res.json();
    bundled = {
      models: (doc.models ?? []).map((m) => ({ ...m, origin: m.bundled || weightFree(m) ? 'bundled' : 'catalogue' })),
      defaults: doc.defaults ?? {}, // task -> model id, the engine's
    };
  }
  return bundled;
}

// Models built into the engine (the extractive summarizer): nothing to load.
function weightFree(m) {
  return m.format === 'builtin' || (!m.file && !m.url);
}

export async function installedModels() {
  return (await local.get('installed')) ?? {};
}

export async function setInstalled(id, meta) {
  const installed = await installedModels();
  if (meta) installed[id] = meta;
  else delete installed[id];
  await local.set('installed', installed);
}

// Records that a model was just used (for "remove the least recently used").
export async function touch(id) {
  const installed = await installedModels();
  if (!installed[id]) return;
  installed[id] = { ...installed[id], last_used: Date.now() };
  await local.set('installed', installed);
}

// Every known model with where its bytes are: 'bundled' (in the package),
// 'installed' (sealed in the browser's cache), 'host' (only in the native
// host's store; hostModels from its host.models.list) or 'catalogue'
// (known, not downloaded).
export async function allModels(hostModels = []) {
  const [cat, inst] = await Promise.all([bundledCatalogue(), installedModels()]);
  const byId = new Map(cat.models.map((m) => [m.id, m]));
  for (const [id, meta] of Object.entries(inst)) {
    byId.set(id, { ...byId.get(id), ...meta, id, origin: byId.get(id)?.bundled ? 'bundled' : 'installed' });
  }
  for (const h of hostModels) {
    if (h.error || !h.task) continue;
    const have = byId.get(h.id);
    if (have && have.origin !== 'catalogue') continue;
    byId.set(h.id, { ...have, id: h.id, task: h.task, format: h.format, bytes: h.size, sha256: h.sha256,
      kind: h.kind ?? have?.kind, memory_bytes: h.memory_bytes ?? null, origin: 'host', runs_in: 'native' });
  }
  return [...byId.values()];
}

// The model for a task: the user's choice when it is still there, else the
// engine's default; null when neither is available.
export function pickModel(models, task, settings, defaults) {
  const usable = models.filter((m) => m.task === task && m.origin !== 'catalogue' && !m.damaged);
  const chosen = settings.models?.[task];
  return usable.find((m) => m.id === chosen) ?? usable.find((m) => m.id === defaults[task]) ??
    (task === 'labels' ? usable[0] ?? null : null);
}

export async function modelFor(task, settings, hostModels) {
  const [models, { defaults }] = await Promise.all([allModels(hostModels), bundledCatalogue()]);
  return pickModel(models, task, settings, defaults);
}

// How the engine worker gets a model's bytes (an entry of a request's "load").
export function engineSource(m, key) {
  if (m.origin !== 'installed' && weightFree(m)) return null;
  if (m.origin === 'bundled') return { id: m.id, format: m.format, source: 'bundled', file: m.file };
  return { id: m.id, format: m.format, source: 'store', key, size: m.bytes, parts: m.parts, install: m.install };
}
