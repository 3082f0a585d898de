// router.js - decides where one request runs: in the browser's wasm engine or
// in the native host. Pure functions of the catalogue entry and the
// settings, so the rules are easy to read and to test.

const MiB = 1024 * 1024;

// The memory a model needs once loaded, from its catalogue entry. Entries
// without an estimate are assumed to need about their file size twice over
// (the bytes plus the engine's copy while loading).
export function memoryBytes(entry) {
  const m = entry?.memory_bytes ?? entry?.memory;
  if (typeof m === 'number' && Number.isFinite(m) && m >= 0) return m;
  return 2 * (Number(entry?.bytes) || 0);
}

// Returns { where: 'browser' | 'native', reason } for a model entry, or
// { where: null, reason } when the user's policy rules out the only place
// the model can run.
export function route(entry, settings) {
  const runsIn = entry?.runs_in ?? 'both';
  const canBrowser = runsIn === 'browser' || runsIn === 'both';
  const canNative = runsIn === 'native' || runsIn === 'both';
  const mem = memoryBytes(entry);
  const budget = (settings.budgetMiB ?? 1024) * MiB;

  if (settings.routing === 'browser') {
    if (!canBrowser) return { where: null, reason: `${entry.id} runs only in the native host, and routing is set to browser only` };
    return { where: 'browser', reason: 'routing is set to browser only' };
  }
  if (settings.routing === 'native') {
    if (!canNative) return { where: null, reason: `${entry.id} runs only in the browser, and routing is set to native only` };
    return { where: 'native', reason: 'routing is set to native only' };
  }
  if (!canBrowser) return { where: 'native', reason: `${entry.id} runs only in the native host` };
  if (!canNative) return { where: 'browser', reason: `${entry.id} runs only in the browser` };
  if ((settings.pinnedNative ?? []).includes(entry.id)) return { where: 'native', reason: `${entry.id} is pinned to native` };
  if (mem > budget) {
    return { where: 'native', reason: `${entry.id} needs about ${Math.ceil(mem / MiB)} MiB, over the browser budget of ${settings.budgetMiB} MiB` };
  }
  return { where: 'browser', reason: 'fits the browser memory budget' };
}
