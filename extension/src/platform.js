// platform.js - the one thin layer over the browsers' extension APIs. Chrome
// and Firefox differ in the API object's name (chrome / browser), in where
// the engine worker can live (Chrome's service worker cannot start workers,
// an offscreen document does; Firefox's background page can), in how they
// word native host failures, and in small ways around menus and messaging.
// Everything that depends on those differences is here; the rest of the
// extension imports what it needs from this file and never touches
// `chrome.*` or `browser.*` itself.
//
// Messages between the extension's parts and the native host are one
// vocabulary (README, "The request protocol"): a request {id, op, ...},
// answered by zero or more {id, partial} and one {id, result} or
// {id, error: {code, message, hint?}}; a notification {op, ...} has no id
// and no answer.
import { SottoEngine, SottoError } from '../engine/engine.mjs';
import createLightModule from '../engine/light/sotto.mjs';
import { EngineHost } from './engine-host.js';

export const api = globalThis.browser ?? globalThis.chrome;

// Which browser this is, and the most its wasm engine can hold: Chrome runs
// the threaded build, whose heap is a fixed 1 GiB, Firefox the
// single-threaded one, which grows to 2 GiB (engine/CMakeLists.txt).
export const browserName = globalThis.browser?.runtime?.getBrowserInfo ? 'firefox' : 'chrome';
export const ENGINE_HEAP_MAX = (browserName === 'chrome' ? 1024 : 2048) * 1024 * 1024;

// ---- storage: extension-local (survives restarts) and session (memory) ----
function area(name) {
  return {
    get: async (key) => (await api.storage[name].get(key))[key],
    getMany: (keys) => api.storage[name].get(keys),
    set: (key, value) => api.storage[name].set({ [key]: value }),
    remove: (key) => api.storage[name].remove(key),
  };
}
export const local = area('local');
export const session = area('session');
export function onStorageChanged(fn) { api.storage.onChanged.addListener((changes) => fn(changes)); }

// ---- messaging between the background and extension pages ----

// Serves requests {id, op, ...} from extension pages and content scripts:
// handler(msg, sender) returns the result (or a promise of it), throws for
// an error, or returns undefined when the message is not for it.
export function serve(handler) {
  api.runtime.onMessage.addListener((msg, sender, sendResponse) => {
    if (!msg || typeof msg.op !== 'string' || msg.to) return false;
    let out;
    try {
      out = handler(msg, sender);
    } catch (e) {
      out = Promise.reject(e);
    }
    if (out === undefined) return false;
    Promise.resolve(out).then((result) => sendResponse({ id: msg.id, result }),
      (e) => sendResponse({ id: msg.id, error: SottoError.from(e).toJSON() }));
    return true; // answers asynchronously
  });
}

// Sends a request to the background; resolves with its result, throws a
// SottoError for its error.
export async function request(msg) {
  const r = await api.runtime.sendMessage({ id: crypto.randomUUID(), ...msg });
  if (!r) throw new SottoError('internal', `nobody answered ${msg.op}`);
  if (r.error) throw SottoError.from(r.error);
  return r.result;
}

// Notifications to extension pages and to one tab's content scripts; nobody
// listening is fine.
export function notify(msg) { api.runtime.sendMessage(msg).catch(() => {}); }
export function notifyTab(tabId, msg) { api.tabs.sendMessage(tabId, msg).catch(() => {}); }
export function onNotify(fn) {
  api.runtime.onMessage.addListener((msg) => { if (msg && msg.op && msg.id === undefined && !msg.to) fn(msg); });
}

// True for the extension's own pages and workers (not content scripts in web
// pages, which may only read jobs).
export function fromExtension(sender) {
  return Boolean(sender.url?.startsWith(api.runtime.getURL(''))) && !sender.tab?.url?.startsWith('http');
}

// ---- content scripts ----

// Runs in a web page's isolated world before src/panel.js: the panel's only
// link to the extension (it is a classic script and cannot import this file).
// Extension pages that load panel.js call it directly.
export function contentPort() {
  const ext = globalThis.browser ?? globalThis.chrome;
  globalThis.sottoPort ??= {
    request: (msg) => ext.runtime.sendMessage({ id: crypto.randomUUID(), ...msg }),
    onNotify: (fn) => ext.runtime.onMessage.addListener((m) => { if (m && m.op && m.id === undefined && !m.to) fn(m); }),
    inPage: !/^(chrome|moz)-extension:$/.test(location.protocol),
    store: { get: (key) => ext.storage.local.get(key), set: (items) => ext.storage.local.set(items) },
  };
}

// Injects scripts into a tab; resolves with the last one's value. Rejects on
// pages the extension may not touch.
export async function inject(tabId, files) {
  await api.scripting.executeScript({ target: { tabId }, func: contentPort });
  const all = await api.scripting.executeScript({ target: { tabId }, files });
  return all.at(-1)?.result;
}

// ---- tabs, pages, menus, lifecycle ----
export const extensionUrl = (file) => api.runtime.getURL(file);
export const openTab = (url) => api.tabs.create({ url });
export const openOptions = () => api.runtime.openOptionsPage();
export const onActionClick = (fn) => api.action.onClicked.addListener(fn);

// Creates the context menus anew (removing any left from an older version);
// resolves once every item exists. Run at every start: Chrome keeps menus
// across service worker restarts, Firefox's event page does not always.
export async function createMenus(items) {
  await api.contextMenus.removeAll();
  await Promise.all(items.map((m) => new Promise((resolve) => {
    api.contextMenus.create(m, () => { void api.runtime.lastError; resolve(); });
  })));
}
export const onMenuClick = (fn) => api.contextMenus.onClicked.addListener(fn);
// When the user opens a context menu (Firefox only; Chrome has no such event).
export const onMenuShown = (fn) => (api.menus ?? api.contextMenus)?.onShown?.addListener(fn);

// ---- the browser engine: a worker, possibly behind an offscreen document ----

// Chrome: the service worker cannot start workers or share memory, so the
// engine lives in an offscreen document (cross-origin isolated, so the
// threaded build and shared-memory cancel work there); messages are relayed
// through runtime messaging, marked {to} so pages ignore them.
// Firefox (and extension pages): the engine worker is started right here.
class OffscreenEngine {
  static URL = 'src/offscreen.html';
  #creating = null;
  #partials = new Map(); // request id -> onPartial

  constructor() {
    api.runtime.onMessage.addListener((m) => {
      if (m?.to === 'background' && m.msg) this.#partials.get(m.msg.id)?.(m.msg);
    });
  }

  // The document serves once createDocument has resolved (Chrome resolves it
  // when the page has loaded), but hasDocument() is true from the moment
  // creation starts: a request that finds a document while another request's
  // creation is under way waits for that creation, or its message would find
  // no listener ("Receiving end does not exist"). Checked again after the
  // hasDocument() await, since a creation may start during it; two requests
  // racing here create one document, not two.
  async #ensure() {
    if (!this.#creating && !(await api.offscreen.hasDocument())) {
      this.#creating ??= api.offscreen.createDocument({
        url: OffscreenEngine.URL,
        reasons: ['WORKERS'],
        justification: 'Runs the on-device inference engine in a worker.',
      }).finally(() => { this.#creating = null; });
    }
    await this.#creating;
  }

  async request(msg, onPartial) {
    await this.#ensure();
    const id = msg.id ?? crypto.randomUUID();
    if (onPartial) this.#partials.set(id, onPartial);
    try {
      const r = await api.runtime.sendMessage({ to: 'offscreen', msg: { ...msg, id } });
      if (!r) throw new SottoError('engine_failed', 'the engine page did not answer');
      return r;
    } finally {
      this.#partials.delete(id);
    }
  }

  async op(msg) {
    const r = await this.request(msg);
    if (r.error) throw SottoError.from(r.error);
    return r.result;
  }

  async cancel(id) {
    if (!(await api.offscreen.hasDocument())) return false;
    return api.runtime.sendMessage({ to: 'offscreen', cancel: id });
  }

  async close() {
    if (await api.offscreen.hasDocument()) await api.offscreen.closeDocument();
  }
}

// Chrome's first answers: until the offscreen document is there (starting
// one takes a renderer process: 0.3-0.6 s), short text tasks on bundled
// models run in the service worker itself, on the single-threaded build: a
// few milliseconds of engine start, tens of milliseconds of work. The
// document is started meanwhile and takes everything after. Only short
// texts come here, since nothing can stop a request the service worker is
// busy with.
const LOCAL_MAX_BYTES = 256 * 1024;

class LocalEngine {
  #engine = null;
  #loaded = new Set();

  static takes(msg) {
    return lightFor(msg) && (msg.load ?? []).every((m) => m.source === 'bundled') &&
      JSON.stringify(msg.text ?? msg.blocks ?? '').length <= LOCAL_MAX_BYTES;
  }

  async request({ load = [], memory_budget: budget, ...req }, onPartial) {
    try {
      this.#engine ??= await SottoEngine.create(createLightModule, { threads: 1 });
      if (budget !== undefined) this.#engine.setMemoryBudget(budget);
      for (const m of load) {
        if (this.#loaded.has(m.id)) continue;
        const res = await fetch(extensionUrl(`models/${m.file}`));
        if (!res.ok) throw new SottoError('model_not_found', `the bundled model ${m.id} is missing from this build`);
        this.#engine.addModel(m.id, new Uint8Array(await res.arrayBuffer()));
        this.#loaded.add(m.id);
      }
      return this.#engine.request(req, (p) => { onPartial?.({ ...p, id: req.id }); return false; }, () => false);
    } catch (e) {
      return { id: req.id, error: SottoError.from(e, 'engine_failed').toJSON() };
    }
  }
}

class ChromeEngine {
  #offscreen = new OffscreenEngine();
  #local = new LocalEngine();

  async request(msg, onPartial) {
    if (LocalEngine.takes(msg) && !(await api.offscreen.hasDocument())) {
      this.#offscreen.request({ id: crypto.randomUUID(), op: 'browser.warm' }).catch(() => {});
      return this.#local.request(msg, onPartial);
    }
    return this.#offscreen.request(msg, onPartial);
  }

  op(msg) { return this.#offscreen.op(msg); }
  cancel(id) { return this.#offscreen.cancel(id); }
  close() { return this.#offscreen.close(); }
}

// The engine as the background sees it: request(msg, onPartial) -> final
// message, op(msg) -> result, cancel(id).
export function browserEngine() {
  return api.offscreen ? new ChromeEngine() : new EngineHost();
}

// Which of the offscreen document's two engines serves a message: the
// single-threaded one ("light") the text tasks on fastText and built-in
// models, and browser.warm; the threaded one everything else.
function lightFor(msg) {
  if (msg.op === 'browser.warm') return true;
  if (msg.op !== 'summarize' && msg.op !== 'classify') return false;
  if (msg.op === 'summarize' && msg.model && msg.model !== 'extractive') return false;
  return (msg.load ?? []).every((m) => m.format === 'fasttext');
}

// In Chrome's offscreen document: serves the background's engine messages
// with its EngineHosts ({light, full}).
export function serveOffscreen({ light, full }) {
  const both = async (msg, merge) => {
    const [a, b] = await Promise.all([light.request(msg), full.request(msg)]);
    return a.error ? a : b.error ? b : { id: msg.id, result: merge(a.result, b.result) };
  };
  api.runtime.onMessage.addListener((m, sender, sendResponse) => {
    if (m?.to !== 'offscreen') return false;
    if (m.cancel !== undefined) {
      sendResponse(light.cancel(m.cancel) || full.cancel(m.cancel));
      return false;
    }
    const onPartial = (p) => api.runtime.sendMessage({ to: 'background', msg: p }).catch(() => {});
    const msg = m.msg;
    const reply = msg.op === 'browser.status'
      ? both(msg, (a, b) => ({ ...b, models: [...a.models, ...b.models], heap_bytes: a.heap_bytes + b.heap_bytes }))
      : msg.op === 'browser.models.unload'
        ? both(msg, (a, b) => ({ removed: a.removed || b.removed }))
        : (lightFor(msg) ? light : full).request(msg, onPartial);
    reply.then(sendResponse, (e) => sendResponse({ id: msg.id, error: SottoError.from(e, 'engine_failed').toJSON() }));
    return true;
  });
}

// ---- the native host ----
const HOST_NAME = 'org.sotto.host';
export const INSTALL_HINT = 'Install the native host with one command from a sotto checkout: ' +
  '`make install-host` (or `native-host/install.sh`), then try again.';

export function connectHost() {
  try {
    return api.runtime.connectNative(HOST_NAME);
  } catch (e) {
    throw hostFailure(e.message);
  }
}

// Why a port closed, as Chrome or Firefox says it.
export function hostFailure(message) {
  const m = String(message ?? '');
  if (/not found|no such native application|not installed/i.test(m)) {
    return new SottoError('host_missing', 'The sotto native host is not installed.', INSTALL_HINT);
  }
  if (/forbidden|not allowed|permission/i.test(m)) {
    return new SottoError('host_forbidden', 'The sotto native host does not allow this extension.',
      'Reinstall it so it lists this extension: `make install-host` (or `native-host/install.sh`).');
  }
  return new SottoError('host_failed', `The sotto native host stopped: ${m || 'it exited'}.`,
    'Check that `sotto-host` runs, or reinstall it with `make install-host`.');
}

export function portError(port) { return hostFailure(port?.error?.message ?? api.runtime.lastError?.message); }
