// background.js - Chrome's service worker and Firefox's background page.
// It owns the context menus, turns a click into engine requests, routes each
// one to the browser engine or the native host, and streams the answers to
// the results view. It holds no task logic: it moves text and JSON.
//
// The results view gets notifications (README, "The request protocol"):
//   {op:'ext.job', job}                      a whole job (when it starts)
//   {op:'ext.job.set', job: id, step?, set}  fields of the job or of one step changed
//   {op:'ext.job.partial', job: id, step, partial}   one partial result
// so a stream of thousands of partials costs one small message each.
import { SottoError } from '../engine/engine.mjs';
import {
  browserEngine, browserName, createMenus, ENGINE_HEAP_MAX, extensionUrl, fromExtension, inject, local, notify,
  notifyTab, onActionClick, onMenuClick, onMenuShown, onStorageChanged, openOptions, openTab, serve, session,
} from './platform.js';
import { getSettings, cacheKey, DEFAULT_HYPOTHESIS } from './settings.js';
import { NativeHost, byteChunks } from './native.js';
import { route, memoryOf, FIREFOX_NATIVE_FROM } from './router.js';
import { modelFor, engineSource, installedModels, setInstalled, touch } from './catalogue.js';

// One layout wherever the user right-clicks: "sotto" and its items under it
// (a browser shows a lone item of an extension at the top level, so the
// parent is explicit).
const MENUS = [
  { id: 'sotto', title: 'sotto', contexts: ['page', 'selection'] },
  { id: 'summarize-selection', parentId: 'sotto', title: 'Summarize selection', contexts: ['selection'] },
  { id: 'classify-selection', parentId: 'sotto', title: 'Classify selection (language, sentiment)', contexts: ['selection'] },
  { id: 'summarize-page', parentId: 'sotto', title: 'Summarize page', contexts: ['page', 'selection'] },
];
const LABELS_MENU = 'classify-labels:'; // + the label set's position in the settings

// What each menu item asks the engine for: one request per task.
const PLANS = {
  'summarize-selection': [{ task: 'summarize', title: 'Summary' }],
  'summarize-page': [{ task: 'summarize', title: 'Summary' }],
  'classify-selection': [{ task: 'language', title: 'Language', top_k: 3 },
    { task: 'sentiment', title: 'Sentiment', top_k: 2 }],
};

// A label set's menu item, under "sotto" like the others: "Classify: Topic",
// zero-shot over its labels.
function labelMenus(settings) {
  return settings.labelSets.map((set, i) => ({ id: `${LABELS_MENU}${i}`, parentId: 'sotto', title: `Classify: ${set.name}`, contexts: ['selection'] }));
}
function planFor(menuItemId, settings) {
  if (menuItemId?.startsWith(LABELS_MENU)) {
    const set = settings.labelSets[Number(menuItemId.slice(LABELS_MENU.length))];
    return set ? [{ task: 'labels', title: set.name, set }] : null;
  }
  return PLANS[menuItemId] ?? null;
}

const MAX_TEXT = 4 << 20;   // bytes of page text handed to the engine
const SELECTION_TEXT_MAX = 16384; // characters of a menu click's selectionText in Firefox
const KEPT_JOBS = 20;       // jobs kept in memory (with their text) and in session storage
const MiB = 1024 * 1024;
const HOST_CHECK_MS = 60_000; // how long "the host answered" is believed

const engine = browserEngine();
const host = new NativeHost();
const jobs = new Map(); // job id -> job (this background's lifetime; the last ones are in session storage)

// ---- the engine, ready before the first click ----
// The quick engine (single-threaded: Chrome's "light" one, Firefox's only
// one) starts a few seconds after the background does, when the browser is
// done starting, and, in Firefox, as soon as the user opens a context menu.
// Nothing is loaded then but the engine itself; models load on first use.
const WARM_AFTER_MS = 5000;
let warmed = null;
function warm() {
  warmed ??= engine.request({ id: crypto.randomUUID(), op: 'browser.warm' }).catch(() => { warmed = null; });
  return warmed;
}
onMenuShown(() => { warm(); });
setTimeout(warm, WARM_AFTER_MS);

// ---- menus, created at every start and when the label sets change ----
async function makeMenus() {
  await createMenus([...MENUS, ...labelMenus(await getSettings())]);
}
let menusReady = makeMenus();
onStorageChanged((changes) => {
  const was = changes.settings?.oldValue?.labelSets, now = changes.settings?.newValue?.labelSets;
  if (changes.settings && JSON.stringify(was ?? []) !== JSON.stringify(now ?? [])) {
    menusReady = menusReady.then(makeMenus, makeMenus);
    globalThis.sotto.menusReady = menusReady;
  }
});
cacheKey().catch(() => {}); // made once, before anything is cached (locked: kept)
onMenuClick((info, tab) => { onMenuClickHandler(info, tab); });
onActionClick(() => openTab(extensionUrl('src/results.html')));

// ---- the native host: is it there (for routing), what it holds ----
let hostSeen = { at: 0, ok: false, models: [] };
async function hostState() {
  // a host that answered is believed for a minute; one that did not is
  // asked again (the user may have just installed it)
  if (hostSeen.ok && Date.now() - hostSeen.at < HOST_CHECK_MS) return hostSeen;
  const models = await host.models();
  hostSeen = { at: Date.now(), ok: models !== null, models: models ?? [] };
  return hostSeen;
}

// ---- running requests where the router says ----
async function runBrowser(req, model, settings, onPartial) {
  const key = model && model.origin === 'installed' ? await cacheKey() : null;
  const src = model ? engineSource(model, key) : null;
  return engine.request({ ...req, load: src ? [src] : [], memory_budget: Math.round(settings.budgetMiB * MiB) }, onPartial);
}

// The host keeps its own encrypted store. A model the extension has (in its
// package, or installed in the browser's cache) is copied there the first
// time a request for it goes native, and never again: onCopy(done, total)
// reports the copy.
async function runNative(req, model, onPartial, onCopy) {
  if (model?.origin === 'bundled' && model.file) {
    await host.ensureModel(model, async function* () {
      const res = await fetch(extensionUrl(`models/${model.file}`));
      if (!res.ok) throw new SottoError('model_not_found', `the bundled model ${model.id} is missing from this build`);
      yield* byteChunks(new Uint8Array(await res.arrayBuffer()))();
    }, onCopy);
  } else if (model?.origin === 'installed') {
    const key = await cacheKey();
    const meta = { size: model.bytes, parts: model.parts, install: model.install };
    const copied = await host.ensureModel(model, async function* () {
      for (let i = 0; i < model.parts; i++) {
        const r = await engine.op({ op: 'browser.cache.read', model: model.id, key, meta, index: i });
        yield* r.chunks;
      }
    }, onCopy);
    if (copied) hostSeen.at = 0;
  }
  return host.request(req, onPartial);
}

// Codes of a cache entry that failed authentication (sotto.h, encrypted store).
const TAMPERED = ['tampered', 'truncated', 'wrong_key', 'sha256_mismatch', 'not_a_store_file', 'unsupported_version'];

function withHint(error, model) {
  if (error.hint) return error;
  if (TAMPERED.includes(error.code)) {
    return { ...error, message: `Refused the cached copy of ${model.id}: ${error.message}.`,
      hint: `The cached copy of ${model.id} failed its integrity check and was not used. Re-download it.`, redownload: model.id };
  }
  if (error.code === 'over_budget') {
    return { ...error, hint: 'Raise the browser memory budget in the options page, or let the native host run it (routing: auto).' };
  }
  return error;
}

// The engine request for one step of a plan, by task and by the kind of
// model that serves it. input is {text} or, for a summary, the page's
// structure {blocks} (src/extract.js); the other tasks read its plain text.
function requestFor(step, model, input, settings, id) {
  const text = input.text ?? plainText(input.blocks);
  switch (step.task) {
    case 'summarize':
      return { id, op: 'summarize', model: model.id, ...input, style: settings.style, length: settings.length, stream: true,
        ...(model.kind === 'llm' && settings.maxTokens ? { max_tokens: settings.maxTokens } : {}) };
    case 'labels':
      return { id, op: 'classify', model: model.id, text, labels: step.set.labels,
        ...(model.kind === 'embedding' ? {} : { hypothesis: step.set.hypothesis ?? DEFAULT_HYPOTHESIS }) };
    default:
      if (model.format === 'gguf') return { id, op: 'classify', model: model.id, text }; // a transformer classifier
      return { id, op: 'classify', model: model.id, task: step.task, text, top_k: step.top_k,
        ...(step.language ? { language: step.language } : {}) };
  }
}

// Where a model runs: the router with what this browser offers; in Firefox
// a large model asks whether the native host is there.
async function placeOf(model, settings) {
  const env = { browser: browserName, heapMax: ENGINE_HEAP_MAX, host: false };
  if (browserName === 'firefox' && memoryOf(model).bytes > FIREFOX_NATIVE_FROM && settings.routing === 'auto') {
    env.host = (await hostState()).ok;
  }
  return route(model, settings, env);
}

// The model for a task: a model only the native host holds is found by
// asking it, when the user chose one the extension does not have.
async function chooseModel(task, settings) {
  const model = await modelFor(task, settings);
  const chosen = settings.models?.[task];
  if (!chosen || model?.id === chosen) return model;
  const { models } = await hostState();
  return (await modelFor(task, settings, models)) ?? model;
}

// Runs one engine request for a task. Returns the step record shown in the
// results view: {task, title, model, where, reason, result|error, stats, ms,
// first_token_ms, tokens, tok_s}. onStep(fields) reports changed fields,
// onPartial(partial) each partial; job.stop is set to a function that
// cancels the request while it runs.
export async function runTask(step, text, settings, { onStep = () => {}, onPartial = () => {}, job = {} } = {}) {
  // a summary takes the page's structure ({blocks}) or plain text
  const input = typeof text === 'string' ? { text } : text;
  const rec = { task: step.task, title: step.title, status: 'running' };
  const set = (fields) => { Object.assign(rec, fields); onStep(fields); };
  const t0 = performance.now();
  let model = await chooseModel(step.task, settings);
  if (!model) {
    const what = step.task === 'labels' ? 'zero-shot labels (an NLI or embedding model)' : step.task;
    return { ...rec, status: 'error', error: { code: 'no_model', message: `No model is installed for ${what}.`, hint: 'Install one in the options page.' } };
  }
  let r = await placeOf(model, settings);
  // A language model that cannot run here: the extractive summary instead.
  let fallback = null;
  if (step.task === 'summarize' && model.kind === 'llm' && (!r.where || (r.where === 'native' && !(await hostState()).ok))) {
    fallback = `${model.id} could not run (${r.where ? 'it needs the native host, which is not installed' : r.reason}): this is the extractive summary`;
    model = await modelFor('summarize', { ...settings, models: { ...settings.models, summarize: 'extractive' } });
    r = await placeOf(model, settings);
  }
  set({ model: model.id, kind: model.kind ?? null, where: r.where, reason: fallback ?? r.reason, ...(fallback ? { fallback: true } : {}) });
  if (!r.where) return { ...rec, status: 'error', error: { code: 'no_route', message: r.reason, hint: 'Change the routing policy in the options page.' } };
  const id = crypto.randomUUID();
  const req = requestFor(step, model, input, settings, id);
  job.stop = () => (r.where === 'browser' ? engine.cancel(id) : host.cancel(id));
  let tokens = 0, firstToken = null, lastToken = null;
  const ids = []; // the streamed token ids (a summary's, in order)
  try {
    const partial = (m) => {
      if (typeof m.partial?.token === 'number' || typeof m.partial?.text === 'string') {
        const now = performance.now();
        tokens++;
        if (typeof m.partial.token === 'number') ids.push(m.partial.token);
        lastToken = now;
        if (firstToken === null) {
          firstToken = now;
          set({ first_token_ms: Math.round(now - t0), first_token_at: Date.now() });
        }
      }
      onPartial(m.partial);
    };
    const onCopy = (done, total) => set({ copy: { done, total } });
    if (model.origin === 'installed') touch(model.id).catch(() => {});
    const reply = r.where === 'browser' ? await runBrowser(req, model, settings, partial) : await runNative(req, model, partial, onCopy);
    rec.ms = Math.round(performance.now() - t0);
    rec.stats = reply.stats;
    if (reply.error) throw SottoError.from(reply.error);
    const timings = reply.result?.timings;
    if (tokens) {
      rec.tokens = tokens;
      rec.token_ids = ids;
      rec.tok_s = timings?.decode_tok_s ?? (tokens > 1 ? Math.round(((tokens - 1) * 1000) / (lastToken - firstToken)) : null);
    }
    return { ...rec, status: 'done', result: reply.result };
  } catch (err) {
    const e = SottoError.from(err, 'engine_failed');
    rec.ms = Math.round(performance.now() - t0);
    if (TAMPERED.includes(e.code) && model.origin === 'installed') {
      await setInstalled(model.id, { ...(await installedModels())[model.id], damaged: e.code });
    }
    return { ...rec, status: e.code === 'cancelled' ? 'cancelled' : 'error', error: withHint(e.toJSON(), model) };
  } finally {
    job.stop = null;
  }
}

// ---- page text: blocks as a reader sees them (src/extract.js) ----
async function pageText(tabId) {
  let page = await inject(tabId, ['src/extract.js', 'src/extract-page.js']);
  if (page?.readability === 'needed') page = await inject(tabId, ['vendor/Readability.js', 'src/extract-page.js']);
  if (!page?.blocks?.length) throw new SottoError('no_text', 'Could not find the text of this page.');
  return page;
}

// The selection, read from the page itself (whole, with its structure).
// Where the extension may not read the page (or the selection is in a
// frame), the menu's selectionText, which Firefox cuts at 16,384
// characters: that cut is reported.
async function selectionText(tabId, info) {
  const read = await inject(tabId, ['src/extract.js', 'src/extract-selection.js']).catch(() => null);
  if (read?.blocks?.length) return read;
  const text = info.selectionText ?? '';
  const words = text.split(/\s+/).filter(Boolean).length;
  return { blocks: text.trim() ? [{ kind: 'text', text }] : [], words, chars: text.length,
    cut: text.length === SELECTION_TEXT_MAX ? { by: 'browser', chars: text.length } : undefined };
}

// The text of blocks for classification: the reader's text, notes and code left out.
const READ = new Set(['text', 'paragraph', 'item', 'quote', 'heading', 'caption', 'cell']);
const plainText = (blocks) => blocks.filter((b) => READ.has(b.kind)).map((b) => b.text).join('\n\n');

// Keeps the blocks within MAX_TEXT bytes; reports what was left out.
function withinLimit(blocks) {
  const enc = new TextEncoder();
  let bytes = 0, kept = 0;
  while (kept < blocks.length && bytes + enc.encode(blocks[kept].text).length + 2 <= MAX_TEXT) {
    bytes += enc.encode(blocks[kept].text).length + 2;
    kept++;
  }
  if (kept === blocks.length) return { blocks };
  const words = (list) => list.reduce((n, b) => n + b.text.split(/\s+/).filter(Boolean).length, 0);
  return { blocks: blocks.slice(0, kept), cut: { by: 'size', words: words(blocks.slice(0, kept)), of: words(blocks), bytes: MAX_TEXT } };
}

// ---- the results view: in the page, or the results page ----
async function showPanel(tabId) {
  try {
    await inject(tabId, ['src/panel-place.js', 'src/panel.js']);
    return true;
  } catch {
    return false; // pages the extension may not touch: the results page shows the job instead
  }
}

function view(job) {
  const { input, blocks, stop, ...shown } = job;
  return shown;
}

function send(job, msg) {
  if (job.panel) notifyTab(job.tabId, msg);
  notify(msg);
}

async function remember(job) {
  const recent = (await session.get('recent')) ?? [];
  await session.set('recent', [view(job), ...recent.filter((j) => j.id !== job.id)].slice(0, KEPT_JOBS));
}

// A partial changes the step's progress or appends its text; the job keeps
// the latest state, not every partial.
function applyPartial(step, p) {
  if (typeof p?.progress === 'number') step.progress = { progress: p.progress, stage: p.stage, part: p.part, parts: p.parts };
  if (typeof p?.text === 'string') step.text = (step.text ?? '') + p.text;
}

// ---- a click ----
export async function onMenuClickHandler(info, tab) {
  const settings = await getSettings();
  const plan = planFor(info.menuItemId, settings);
  if (!plan) return null;
  const job = {
    id: crypto.randomUUID(), kind: info.menuItemId.startsWith(LABELS_MENU) ? 'classify-labels' : info.menuItemId,
    tabId: tab?.id, url: tab?.url, title: tab?.title, started: Date.now(), status: 'running', steps: [],
  };
  jobs.set(job.id, job);
  for (const id of [...jobs.keys()].slice(0, -KEPT_JOBS)) jobs.delete(id);
  const t0 = performance.now();
  // The text first: the panel then stands clear of the selection it shows.
  const timing = (what) => { job.timing = { ...job.timing, [what]: Math.round(performance.now() - t0) }; };
  const read = (tab?.id === undefined ? Promise.resolve(null)
    : info.menuItemId === 'summarize-page' ? pageText(tab.id).catch((e) => e) : selectionText(tab.id, info))
    .finally(() => timing('read_ms'));
  job.panel = tab?.id !== undefined && await showPanel(tab.id);
  timing('panel_ms');
  if (!job.panel) openTab(extensionUrl(`src/results.html#${job.id}`));
  send(job, { op: 'ext.job', job: view(job) });
  const setJob = (fields) => { Object.assign(job, fields); send(job, { op: 'ext.job.set', job: job.id, set: fields }); };
  try {
    let got = await read;
    if (got instanceof Error) throw got;
    got ??= await selectionText(undefined, info);
    const { blocks, cut } = withinLimit(got.blocks);
    const text = plainText(blocks);
    setJob({ source: { kind: info.menuItemId === 'summarize-page' ? 'page' : 'selection', title: got.title,
      words: got.words, chars: got.chars, ...(cut ?? got.cut ? { cut: cut ?? got.cut } : {}) } });
    if (!text.trim()) throw new SottoError('no_text', 'There is no text to work on.');
    job.input = text;
    job.blocks = blocks;
    for (const step of plan) {
      if (job.cancelled) break;
      const idx = job.steps.length;
      job.steps.push({ task: step.task, title: step.title, status: 'running' });
      send(job, { op: 'ext.job.set', job: job.id, step: idx, set: job.steps[idx] });
      // The language found first goes with the sentiment request: the engine
      // answers only for languages the sentiment model covers.
      const language = job.steps.find((s) => s.task === 'language')?.result?.labels?.[0]?.label;
      const rec = await runTask({ ...step, language }, step.task === 'summarize' ? { blocks } : { text }, settings, {
        job,
        onStep: (fields) => { Object.assign(job.steps[idx], fields); send(job, { op: 'ext.job.set', job: job.id, step: idx, set: fields }); },
        onPartial: (partial) => { applyPartial(job.steps[idx], partial); send(job, { op: 'ext.job.partial', job: job.id, step: idx, partial }); },
      });
      job.steps[idx] = { ...job.steps[idx], ...rec };
      const { progress, text: streamed, ...fields } = job.steps[idx];
      send(job, { op: 'ext.job.set', job: job.id, step: idx, set: fields });
      if (idx === 0) setJob({ first_ms: Math.round(performance.now() - t0) });
    }
    const status = job.cancelled ? 'cancelled' : job.steps.every((s) => s.status === 'done') ? 'done' : 'error';
    setJob({ status, ms: Math.round(performance.now() - t0) });
  } catch (err) {
    setJob({ status: 'error', error: SottoError.from(err, 'engine_failed').toJSON(), ms: Math.round(performance.now() - t0) });
  }
  await remember(job);
  return job;
}

// Stops a running job: its current request is cancelled where it runs, and
// the steps after it are skipped.
async function cancelJob(id) {
  const job = jobs.get(id);
  if (!job || job.status !== 'running') return { target: id, cancelled: false };
  job.cancelled = true;
  await job.stop?.();
  return { target: id, cancelled: true };
}

// A raw engine request, run in the browser engine or the native host (the
// options page's host check, tools and tests). request is an object or JSON
// text; the result is the engine's final message.
async function engineRequest({ request, where = 'browser', load = [] }) {
  if (where === 'native') {
    if (typeof request === 'string') throw new SottoError('bad_request', 'native messaging carries objects, not JSON text');
    return host.request({ id: crypto.randomUUID(), ...request });
  }
  return engine.request(typeof request === 'string' ? { op: 'browser.request', json: request, load } : { id: crypto.randomUUID(), ...request, load });
}

// The native host's state for the options page: its hello (version, store,
// models) or why it cannot be reached.
async function hostStatus() {
  try {
    const hello = await host.hello();
    hostSeen = { at: Date.now(), ok: true, models: hello.models ?? [] };
    return { ok: true, hello };
  } catch (e) {
    hostSeen = { at: Date.now(), ok: false, models: [] };
    return { ok: false, error: SottoError.from(e, 'host_failed').toJSON() };
  }
}

// Copies a model installed in the browser to the native host now (the
// options page's "Move to native host"), with progress notifications.
async function copyToHost({ model: id }) {
  const model = (await installedModels())[id];
  if (!model) throw new SottoError('model_not_installed', `${id} is not installed in the browser`);
  const key = await cacheKey();
  const meta = { size: model.bytes, parts: model.parts, install: model.install };
  const copied = await host.ensureModel(model, async function* () {
    for (let i = 0; i < model.parts; i++) yield* (await engine.op({ op: 'browser.cache.read', model: id, key, meta, index: i })).chunks;
  }, (done, total) => notify({ op: 'ext.host.copy', model: id, done, total }));
  hostSeen.at = 0;
  return { model: id, copied };
}

// ---- requests from the results view, the results page and the options page ----
const handlers = {
  'ext.jobs.get': async (m) => (jobs.get(m.job) ? view(jobs.get(m.job)) : ((await session.get('recent')) ?? []).find((j) => j.id === m.job) ?? null),
  'ext.jobs.recent': async () => (await session.get('recent')) ?? [],
  'ext.options.open': async () => { await openOptions(); return true; },
  cancel: (m) => cancelJob(m.target),
  'ext.request': (m) => engineRequest(m),
  'ext.models.unload': (m) => engine.op({ op: 'browser.models.unload', model: m.model }),
  'ext.host.status': () => hostStatus(),
  'ext.host.copy': (m) => copyToHost(m),
  'ext.host.delete': async (m) => { const r = await host.op({ op: 'host.models.delete', model: m.model }); hostSeen.at = 0; return r; },
};
// Content scripts run in web pages: they may only read jobs, stop them and
// open the options page, never drive the engine or the host.
const FROM_PAGES = ['ext.jobs.get', 'ext.options.open', 'cancel'];

serve((m, sender) => {
  const h = handlers[m.op];
  if (!h || (!fromExtension(sender) && !FROM_PAGES.includes(m.op))) return undefined;
  return h(m);
});

// For the end-to-end tests and for debugging from the browser's console.
globalThis.sotto = {
  onMenuClick: onMenuClickHandler, runTask, engineRequest, cancelJob, engine, host, jobs, cacheKey, menusReady,
  local, started: Date.now(), hostStatus, copyToHost,
};
