// settings.js - the user's choices, kept in extension storage so they outlive
// the background service worker and browser restarts.
import { SottoError } from '../engine/engine.mjs';
import { local, session } from './platform.js';

export const DEFAULTS = Object.freeze({
  routing: 'auto',        // auto | browser | native
  budgetMiB: 1024,        // models whose memory estimate exceeds this run natively
  style: 'key-points',    // summary style: key-points | tldr | headline
  length: 'short',        // summary length: short | medium | long
  models: {},             // task -> model id chosen by the user (else the engine's default)
  pinnedNative: [],       // model ids the user always wants run by the native host
  labelSets: [],          // [{name, labels: [..], hypothesis?}]: a Classify menu entry each
  maxTokens: 0,           // longest text a language model writes per call (0: the engine's choice per style and length)
});

export const ROUTING = ['auto', 'browser', 'native'];
export const STYLES = ['key-points', 'tldr', 'headline']; // as the engine's summarize op takes them
export const LENGTHS = ['short', 'medium', 'long'];
export const KEY_BYTES = 32;  // the cache key (SOTTO_STORE_KEYBYTES)
export const SALT_BYTES = 16; // a passphrase's salt (SOTTO_STORE_SALTBYTES)
export const PASSPHRASE_MIN = 8;
export const BUDGET_MAX_MIB = 4096; // wasm32's whole address space
export const LABEL_SETS_MAX = 12;   // menu entries
export const LABELS_MAX = 32;       // labels in one set
export const DEFAULT_HYPOTHESIS = 'This text is about {}.';

// A label set as the user typed it: "Topic: sports, politics, science".
export function parseLabelSet(line) {
  const m = /^\s*([^:]{1,40}?)\s*:\s*(.+)$/.exec(line ?? '');
  if (!m) throw new SottoError('bad_request', 'write a label set as "Name: label, label, ..."');
  return checkLabelSet({ name: m[1], labels: m[2].split(',') });
}

function checkLabelSet(set) {
  const name = String(set?.name ?? '').trim();
  const labels = [...new Set((set?.labels ?? []).map((l) => String(l).trim()).filter(Boolean))];
  if (!name || name.length > 40) throw new SottoError('bad_request', 'a label set needs a name of 1 to 40 characters');
  if (labels.length < 2 || labels.length > LABELS_MAX) throw new SottoError('bad_request', `"${name}" needs 2 to ${LABELS_MAX} labels`);
  if (labels.some((l) => l.length > 60)) throw new SottoError('bad_request', 'labels are at most 60 characters');
  const hypothesis = set.hypothesis ? String(set.hypothesis) : undefined;
  if (hypothesis && !hypothesis.includes('{}')) throw new SottoError('bad_request', 'the hypothesis must contain {} where the label goes');
  return { name, labels, ...(hypothesis ? { hypothesis } : {}) };
}

export async function getSettings() {
  const settings = (await local.get('settings')) ?? {};
  return { ...DEFAULTS, ...settings, models: { ...DEFAULTS.models, ...settings.models }, labelSets: settings.labelSets ?? [] };
}

// Merges patch into the stored settings after checking every field, so a bad
// value from a page or an old version can never reach the router.
export async function setSettings(patch) {
  const s = await getSettings();
  if ('routing' in patch) {
    if (!ROUTING.includes(patch.routing)) throw new SottoError('bad_request', `routing must be one of ${ROUTING.join(', ')}`);
    s.routing = patch.routing;
  }
  if ('budgetMiB' in patch) {
    const n = Number(patch.budgetMiB);
    if (!Number.isFinite(n) || n < 0 || n > BUDGET_MAX_MIB) throw new SottoError('bad_request', `the browser memory budget must be 0 to ${BUDGET_MAX_MIB} MiB`);
    s.budgetMiB = n; // 0: every model with weights runs natively
  }
  if ('style' in patch) {
    if (!STYLES.includes(patch.style)) throw new SottoError('bad_request', `style must be one of ${STYLES.join(', ')}`);
    s.style = patch.style;
  }
  if ('length' in patch) {
    if (!LENGTHS.includes(patch.length)) throw new SottoError('bad_request', `length must be one of ${LENGTHS.join(', ')}`);
    s.length = patch.length;
  }
  if ('models' in patch) s.models = { ...s.models, ...patch.models };
  if ('pinnedNative' in patch) s.pinnedNative = [...new Set(patch.pinnedNative.map(String))];
  if ('maxTokens' in patch) {
    const n = Number(patch.maxTokens);
    if (!Number.isInteger(n) || n < 0 || n > 4096) throw new SottoError('bad_request', 'the longest summary must be 0 (automatic) to 4096 tokens');
    s.maxTokens = n;
  }
  if ('labelSets' in patch) {
    const sets = (patch.labelSets ?? []).map(checkLabelSet);
    if (sets.length > LABEL_SETS_MAX) throw new SottoError('bad_request', `at most ${LABEL_SETS_MAX} label sets`);
    if (new Set(sets.map((x) => x.name.toLowerCase())).size !== sets.length) throw new SottoError('bad_request', 'two label sets have the same name');
    s.labelSets = sets;
  }
  await local.set('settings', s);
  return s;
}

// The model cache key (base64), by default 32 random bytes made at install
// and kept in local extension storage. With a passphrase set, local storage
// keeps only its salt and check value ("cacheLock"); the derived key lives in
// session storage, in memory, until the browser closes. Whoever holds the key
// can open the cache, so it never leaves the extension's pages and workers.
export async function cacheKey() {
  const { cacheKey: k, cacheLock } = await local.getMany(['cacheKey', 'cacheLock']);
  if (cacheLock) {
    const unlocked = await session.get('cacheKey');
    if (unlocked) return unlocked;
    throw new SottoError('cache_locked', 'The model cache is locked.', 'Unlock it with your passphrase in the options page.');
  }
  if (k) return k;
  const bytes = crypto.getRandomValues(new Uint8Array(KEY_BYTES));
  const b64 = btoa(String.fromCharCode(...bytes));
  await local.set('cacheKey', b64);
  return b64;
}
