// background.js - Chrome's service worker and Firefox's background page.
// It owns the context menus, turns a click into engine requests, routes each
// one to the browser engine or the native host, and streams the answers to
// the results panel. It holds no task logic: it moves text and JSON.
import { api, getSettings, cacheKey } from './settings.js';
import { createBrowserEngine } from './engine-client.js';
import { NativeHost, HostError } from './native.js';
import { route } from './router.js';
import { modelFor, engineSource, installedModels, setInstalled } from './catalogue.js';

const MENUS = [
  { id: 'summarize-selection', title: 'Summarize selection', contexts: ['selection'] },
  { id: 'summarize-page', title: 'Summarize page', contexts: ['page'] },
  { id: 'classify-selection', title: 'Classify selection (language, sentiment)', contexts: ['selection'] },
];

// What each menu item asks the engine for: one request per task.
const PLANS = {
  'summarize-selection': [{ task: 'summarize', title: 'Summary' }],
  'summarize-page': [{ task: 'summarize', title: 'Summary' }],
  'classify-selection': [{ task: 'language', title: 'Language', top_k: 3 },
    { task: 'sentiment', title: 'Sentiment', top_k: 2 }],
};

const MAX_TEXT = 4 << 20; // bytes of page text handed to the engine

const engine = createBrowserEngine();
const host = new NativeHost();
const jobs = new Map(); // job id -> job (this background's lifetime; the last ones are in session storage)

// ---- install / menus ----
api.runtime.onInstalled.addListener(async () => {
  await api.contextMenus.removeAll();
  for (const m of MENUS) api.contextMenus.create(m);
  await cacheKey().catch(() => {}); // created once, before anything is cached (locked: kept)
});

api.contextMenus.onClicked.addListener((info, tab) => { onMenuClick(info, tab); });
api.action.onClicked.addListener(() => api.tabs.create({ url: api.runtime.getURL('src/results.html') }));

// ---- running requests where the router says ----
async function runBrowser(req, model, onPartial) {
  const key = model && model.origin !== 'bundled' ? await cacheKey() : null;
  const src = model ? engineSource(model, key) : null;
  return engine.call({ type: 'request', req, models: src ? [src] : [] },
    (ev) => { if (ev.partial !== undefined) onPartial?.(ev.partial); });
}

// The host keeps its own encrypted store. A model the extension ships is
// copied there the first time a request for it goes native.
async function runNative(req, model, onPartial) {
  if (model && model.origin === 'bundled' && model.file) {
    await host.ensureModel(model, async () => {
      const res = await fetch(api.runtime.getURL(`models/${model.file}`));
      if (!res.ok) throw Object.assign(new Error(`the bundled model ${model.id} is missing from this build`), { code: 'model_not_found' });
      return new Uint8Array(await res.arrayBuffer());
    });
  }
  return host.request(req, onPartial);
}

// Runs one engine request for a task. Returns the step record shown in the
// results view: {task, title, model, where, reason, result|error, stats, ms}.
export async function runTask(step, text, settings, onUpdate) {
  const rec = { task: step.task, title: step.title, status: 'running', partials: [] };
  const t0 = performance.now();
  const model = await modelFor(step.task, settings);
  if (!model) {
    return { ...rec, status: 'error', error: { code: 'no_model', message: `No model is installed for ${step.task}.`, hint: 'Install one in the options page.' } };
  }
  rec.model = model.id;
  const r = route(model, settings);
  rec.where = r.where;
  rec.reason = r.reason;
  if (!r.where) return { ...rec, status: 'error', error: { code: 'no_route', message: r.reason, hint: 'Change the routing policy in the options page.' } };
  const req = step.task === 'summarize'
    ? { id: crypto.randomUUID(), op: 'summarize', model: model.id, text, style: settings.style, length: settings.length, stream: true }
    : { id: crypto.randomUUID(), op: 'classify', model: model.id, task: step.task, text, top_k: step.top_k,
      ...(step.language ? { language: step.language } : {}) };
  onUpdate(rec);
  try {
    const onPartial = (p) => { rec.partials.push(p.partial ?? p); onUpdate(rec); };
    const reply = r.where === 'browser' ? await runBrowser(req, model, onPartial) : await runNative(req, model, onPartial);
    rec.ms = Math.round(performance.now() - t0);
    rec.stats = reply.stats;
    if (reply.error) {
      if (TAMPERED.includes(reply.error.code) && model.origin === 'installed') {
        await setInstalled(model.id, { ...(await installedModels())[model.id], damaged: reply.error.code });
      }
      return { ...rec, status: 'error', error: withHint(reply.error, model) };
    }
    return { ...rec, status: 'done', result: reply.result };
  } catch (e) {
    rec.ms = Math.round(performance.now() - t0);
    if (TAMPERED.includes(e.code) && model.origin === 'installed') {
      await setInstalled(model.id, { ...(await installedModels())[model.id], damaged: e.code });
    }
    return { ...rec, status: 'error', error: withHint({ code: e.code ?? 'failed', message: e.message, hint: e.hint }, model) };
  }
}

// Codes of a cache entry that failed authentication (sotto.h, encrypted store).
const TAMPERED = ['tampered', 'truncated', 'wrong_key', 'sha256_mismatch', 'not_a_store_file', 'unsupported_version'];

function withHint(error, model) {
  if (error.hint) return error;
  if (TAMPERED.includes(error.code)) {
    return { ...error, message: `Refused the cached copy of ${model.id}: ${error.message}.`,
      hint: `The cached copy of ${model.id} failed its integrity check and was not used. Re-download it.`, redownload: model.id };
  }
  return error;
}

// ---- page text ----
async function pageText(tabId) {
  const [res] = await api.scripting.executeScript({ target: { tabId }, files: ['vendor/Readability.js', 'src/extract.js'] })
    .then((all) => all.slice(-1));
  const page = res?.result;
  if (!page?.text) throw Object.assign(new Error('Could not find the text of this page.'), { code: 'no_text' });
  return page;
}

// ---- the results panel in the page ----
async function showPanel(tabId) {
  try {
    await api.scripting.executeScript({ target: { tabId }, files: ['src/panel.js'] });
    return true;
  } catch {
    return false; // pages the extension may not touch: the results page shows the job instead
  }
}

function publish(job) {
  const copy = { ...job, input: undefined };
  if (job.panel) api.tabs.sendMessage(job.tabId, { type: 'sotto-job', job: copy }).catch(() => {});
  api.runtime.sendMessage({ type: 'sotto-job', job: copy }).catch(() => {});
}

async function remember(job) {
  const { recent = [] } = await api.storage.session.get('recent');
  const next = [{ ...job, input: undefined }, ...recent.filter((j) => j.id !== job.id)].slice(0, 20);
  await api.storage.session.set({ recent: next });
}

// ---- a click ----
export async function onMenuClick(info, tab) {
  const plan = PLANS[info.menuItemId];
  if (!plan) return null;
  const job = {
    id: crypto.randomUUID(), kind: info.menuItemId, tabId: tab?.id, url: tab?.url, title: tab?.title,
    started: Date.now(), status: 'running', steps: [],
  };
  jobs.set(job.id, job);
  for (const id of [...jobs.keys()].slice(0, -20)) jobs.delete(id); // keep the last 20 (with their text)
  const t0 = performance.now();
  job.panel = tab?.id !== undefined && await showPanel(tab.id);
  if (!job.panel) api.tabs.create({ url: api.runtime.getURL(`src/results.html#${job.id}`) });
  publish(job);
  try {
    const settings = await getSettings();
    let text;
    if (info.menuItemId === 'summarize-page') {
      const page = await pageText(tab.id);
      text = page.text;
      job.source = { kind: 'page', title: page.title, words: page.words };
    } else {
      text = info.selectionText ?? '';
      job.source = { kind: 'selection', words: text.split(/\s+/).filter(Boolean).length };
    }
    if (!text.trim()) throw Object.assign(new Error('There is no text to work on.'), { code: 'no_text' });
    if (new TextEncoder().encode(text).length > MAX_TEXT) text = text.slice(0, MAX_TEXT / 4);
    job.input = text;
    for (const step of plan) {
      const idx = job.steps.length;
      job.steps.push({ task: step.task, title: step.title, status: 'running' });
      // The language found first goes with the sentiment request: the engine
      // answers only for languages the sentiment model covers.
      const language = job.steps.find((s) => s.task === 'language')?.result?.labels?.[0]?.label;
      const rec = await runTask({ ...step, language }, text, settings, (r) => { job.steps[idx] = { ...r, partials: [...r.partials] }; publish(job); });
      job.steps[idx] = rec;
      if (idx === 0) job.first_ms = Math.round(performance.now() - t0);
      publish(job);
    }
    job.status = job.steps.every((s) => s.status === 'done') ? 'done' : 'error';
  } catch (e) {
    job.status = 'error';
    job.error = { code: e.code ?? 'failed', message: e.message, hint: e instanceof HostError ? e.hint : undefined };
  }
  job.ms = Math.round(performance.now() - t0);
  publish(job);
  await remember(job);
  return job;
}

// ---- messages from the panel, the results page and the options page ----
api.runtime.onMessage.addListener((m, sender, sendResponse) => {
  const handlers = {
    'get-job': async () => jobs.get(m.id) ? { ...jobs.get(m.id), input: undefined }
      : (await api.storage.session.get('recent')).recent?.find((j) => j.id === m.id) ?? null,
    'recent-jobs': async () => (await api.storage.session.get('recent')).recent ?? [],
    'open-options': async () => { await api.runtime.openOptionsPage(); return true; },
    'engine-status': () => engine.call({ type: 'status' }),
    'engine-request': () => engine.call({ type: 'request', req: m.req, models: m.models ?? [] }),
    'host-status': async () => {
      try {
        const r = await host.request({ id: 'status', op: 'capabilities' });
        return { ok: !r.error, capabilities: r.result, error: r.error };
      } catch (e) {
        return { ok: false, error: { code: e.code, message: e.message, hint: e.hint } };
      }
    },
    'unload-model': () => engine.call({ type: 'unload', model: m.model }),
  };
  const h = handlers[m?.type];
  if (!h || m.to) return false;
  // Content scripts run in web pages: they may only read jobs and open the
  // options page, never drive the engine or the host.
  const fromExtension = sender.url?.startsWith(api.runtime.getURL('')) && !sender.tab?.url?.startsWith('http');
  if (!fromExtension && !['get-job', 'open-options'].includes(m.type)) return false;
  Promise.resolve().then(h).then(sendResponse, (e) => sendResponse({ error: { code: e.code ?? 'failed', message: e.message } }));
  return true;
});

// For the end-to-end tests and for debugging from the browser's console.
globalThis.sotto = { onMenuClick, runTask, engine, host, jobs, cacheKey, started: Date.now() };
