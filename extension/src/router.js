// router.js - decides where one request runs: in the browser's wasm engine or
// in the native host. Pure functions of the model's entry, the settings and
// what this browser offers, so the rules are easy to read and to test.

const MiB = 1024 * 1024;
// Until the engine has read a file's header, a GGUF model is taken to need
// its size and a quarter more (its KV cache and scratch at the default
// context are well under that for the models people run), a fastText model
// twice its size (it is copied while loading).
const GGUF_GUESS = 1.25;
const COPY_GUESS = 2;
// Firefox gives extension pages no SharedArrayBuffer, so its wasm engine has
// one thread: models over this run faster in the native host, when there is
// one.
export const FIREFOX_NATIVE_FROM = 192 * MiB;

// The memory a model needs once loaded: the engine's estimate from the
// file's header (resident: the file kept in memory + KV cache and scratch),
// else a guess from the file's size. Returns {bytes, from: 'engine'|'size'}.
export function memoryOf(entry) {
  const e = entry?.memory_bytes ?? entry?.estimate?.resident_bytes ?? entry?.memory;
  if (typeof e === 'number' && Number.isFinite(e) && e >= 0) return { bytes: e, from: 'engine' };
  const size = Number(entry?.bytes) || 0;
  return { bytes: Math.ceil(size * (entry?.format === 'gguf' ? GGUF_GUESS : COPY_GUESS)), from: 'size' };
}
export const memoryBytes = (entry) => memoryOf(entry).bytes;

export function mib(bytes) {
  return bytes >= 10 * 1024 * MiB ? `${(bytes / (1024 * MiB)).toFixed(1)} GiB` : `${Math.ceil(bytes / MiB)} MiB`;
}

// Returns { where: 'browser' | 'native', reason } for a model entry, or
// { where: null, reason } when the user's policy rules out the only place
// the model can run. env: { browser: 'chrome'|'firefox', heapMax (bytes the
// browser engine can hold), host (the native host answered) }.
export function route(entry, settings, env = {}) {
  const runsIn = entry?.origin === 'host' ? 'native' : entry?.runs_in ?? 'both';
  const canBrowser = runsIn === 'browser' || runsIn === 'both';
  const canNative = runsIn === 'native' || runsIn === 'both';
  const { bytes: mem, from } = memoryOf(entry);
  const userBudget = (settings.budgetMiB ?? 1024) * MiB;
  const budget = Math.min(userBudget, env.heapMax ?? Infinity);
  const needs = `${entry.id} needs about ${mib(mem)}${from === 'engine' ? '' : ' (from its size)'}`;
  const over = budget < userBudget
    ? `the browser engine holds at most ${mib(budget)} in ${env.browser === 'firefox' ? 'Firefox' : 'this browser'}`
    : `over the browser budget of ${settings.budgetMiB} MiB`;

  if (settings.routing === 'browser') {
    if (!canBrowser) return { where: null, reason: `${entry.id} is installed only in the native host, and routing is set to browser only` };
    return { where: 'browser', reason: 'routing is set to browser only' };
  }
  if (settings.routing === 'native') {
    if (!canNative) return { where: null, reason: `${entry.id} runs only in the browser, and routing is set to native only` };
    return { where: 'native', reason: 'routing is set to native only' };
  }
  if (!canBrowser) return { where: 'native', reason: entry.origin === 'host' ? `${entry.id} is installed in the native host` : `${entry.id} runs only in the native host` };
  if (!canNative) return { where: 'browser', reason: `${entry.id} runs only in the browser` };
  if ((settings.pinnedNative ?? []).includes(entry.id)) return { where: 'native', reason: `${entry.id} is pinned to native` };
  if (mem > budget) return { where: 'native', reason: `${needs}, ${over}` };
  if (env.browser === 'firefox' && env.host && mem > FIREFOX_NATIVE_FROM) {
    return { where: 'native', reason: `${needs}; Firefox runs extension engines on one thread, the native host on all cores` };
  }
  return { where: 'browser', reason: `${needs}, within the browser budget of ${mib(budget)}` };
}
