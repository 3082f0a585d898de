// catalogue.js - the models this extension knows: the bundled catalogue
// (models/catalogue.json, shipped in the package) plus what the user has
// installed (kept in extension storage, the sealed bytes in IndexedDB).
import { api } from './settings.js';

let bundled = null;

export async function bundledCatalogue() {
  if (!bundled) {
    const res = await fetch(api.runtime.getURL('models/catalogue.json'));
    const doc = await res.json();
    bundled = (Array.isArray(doc) ? doc : doc.models ?? []).map((m) => ({ ...m, origin: m.bundled || weightFree(m) ? 'bundled' : 'catalogue' }));
  }
  return bundled;
}

// Models built into the engine (the extractive summarizer): nothing to load.
function weightFree(m) {
  return m.format === 'builtin' || (!m.file && !m.url);
}

export async function installedModels() {
  const { installed = {} } = await api.storage.local.get('installed');
  return installed;
}

export async function setInstalled(id, meta) {
  const installed = await installedModels();
  if (meta) installed[id] = meta;
  else delete installed[id];
  await api.storage.local.set({ installed });
}

// Every known model with where its bytes are: 'bundled' (in the package),
// 'installed' (sealed in the cache) or 'catalogue' (known, not downloaded).
export async function allModels() {
  const [cat, inst] = await Promise.all([bundledCatalogue(), installedModels()]);
  const byId = new Map(cat.map((m) => [m.id, m]));
  for (const [id, meta] of Object.entries(inst)) {
    byId.set(id, { ...byId.get(id), ...meta, id, origin: byId.get(id)?.bundled ? 'bundled' : 'installed' });
  }
  return [...byId.values()];
}

// The task a model serves: summarize, language, sentiment (catalogue.json).
export function entryTask(m) {
  return m.task;
}

// The model for a task: the user's choice when it is still known, else the
// catalogue's default for the task, else the first usable one.
export function pickModel(models, task, settings) {
  const usable = models.filter((m) => entryTask(m) === task && m.origin !== 'catalogue');
  const chosen = settings.models?.[task];
  return usable.find((m) => m.id === chosen) ?? usable.find((m) => m.default) ?? usable[0] ?? null;
}

export async function modelFor(task, settings) {
  return pickModel(await allModels(), task, settings);
}

// How the engine worker gets a model's bytes.
export function engineSource(m, key) {
  if (m.origin !== 'installed' && weightFree(m)) return null;
  if (m.origin === 'bundled') return { id: m.id, format: m.format, source: 'bundled', file: m.file };
  return { id: m.id, format: m.format, source: 'store', key };
}
