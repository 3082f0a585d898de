// settings.js - the user's choices, kept in extension storage so they outlive
// the background service worker and browser restarts.

export const api = globalThis.browser ?? globalThis.chrome;

export const DEFAULTS = Object.freeze({
  routing: 'auto',        // auto | browser | native
  budgetMiB: 1024,        // models whose memory estimate exceeds this run natively
  style: 'key-points',    // summary style: key-points | tldr | headline
  length: 'short',        // summary length: short | medium | long
  models: {},             // task -> model id chosen by the user (else the catalogue default)
  pinnedNative: [],       // model ids the user always wants run by the native host
});

export const ROUTING = ['auto', 'browser', 'native'];
export const STYLES = ['key-points', 'tldr', 'headline']; // as the engine's summarize op takes them
export const LENGTHS = ['short', 'medium', 'long'];

export async function getSettings() {
  const { settings = {} } = await api.storage.local.get('settings');
  return { ...DEFAULTS, ...settings, models: { ...DEFAULTS.models, ...settings.models } };
}

// Merges patch into the stored settings after checking every field, so a bad
// value from a page or an old version can never reach the router.
export async function setSettings(patch) {
  const s = await getSettings();
  if ('routing' in patch) {
    if (!ROUTING.includes(patch.routing)) throw new Error(`routing must be one of ${ROUTING.join(', ')}`);
    s.routing = patch.routing;
  }
  if ('budgetMiB' in patch) {
    const n = Number(patch.budgetMiB);
    if (!Number.isFinite(n) || n < 0 || n > 4096) throw new Error('the browser memory budget must be 0 to 4096 MiB');
    s.budgetMiB = n; // 0: every model with weights runs natively
  }
  if ('style' in patch) {
    if (!STYLES.includes(patch.style)) throw new Error(`style must be one of ${STYLES.join(', ')}`);
    s.style = patch.style;
  }
  if ('length' in patch) {
    if (!LENGTHS.includes(patch.length)) throw new Error(`length must be one of ${LENGTHS.join(', ')}`);
    s.length = patch.length;
  }
  if ('models' in patch) s.models = { ...s.models, ...patch.models };
  if ('pinnedNative' in patch) s.pinnedNative = [...new Set(patch.pinnedNative.map(String))];
  await api.storage.local.set({ settings: s });
  return s;
}

// The model cache key (base64), by default 32 random bytes made at install
// and kept in local extension storage. With a passphrase set, local storage
// keeps only its salt and check value ("cacheLock"); the derived key lives in
// session storage, in memory, until the browser closes. Whoever holds the key
// can open the cache, so it never leaves the extension's pages and workers.
export async function cacheKey() {
  const { cacheKey: k, cacheLock } = await api.storage.local.get(['cacheKey', 'cacheLock']);
  if (cacheLock) {
    const { cacheKey: unlocked } = await api.storage.session.get('cacheKey');
    if (unlocked) return unlocked;
    throw Object.assign(new Error('The model cache is locked.'),
      { code: 'cache_locked', hint: 'Unlock it with your passphrase in the options page.' });
  }
  if (k) return k;
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const b64 = btoa(String.fromCharCode(...bytes));
  await api.storage.local.set({ cacheKey: b64 });
  return b64;
}
