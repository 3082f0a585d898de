// The end-to-end checks both browsers go through, written once against a
// small driver (chromium.test.mjs and firefox.test.mjs make one):
//   drv.bg(fn, arg)     runs fn({ sotto, api }, arg) in the background
//   drv.menu(info)      fires the context-menu handler for the test page's tab
//   drv.page            the test page (a real tab)
//   drv.openExtensionPage(file)   an extension page (options, results)
//   drv.setHost(on)     registers or removes the native host for this profile
// Expected answers come from independent tools: Debian's fasttext for
// classification, the native CLI for summaries (same request, other build),
// sha256 from node's crypto for downloads.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { artifacts, out, root, fasttextPredict, nativeRequest, sha256, waitFor, hostBinary } from './helpers.mjs';
export { longText } from '../js/long-text.mjs';

export const MODELS = {
  lid176: path.join(out, 'models/lid176.ftz'),
  'sentiment-en': path.join(out, 'models/sentiment-en.ftz'),
};
// SOTTO_E2E_TRACE=1 prints when each step of a check starts.
const t0 = Date.now();
const trace = (what) => { if (process.env.SOTTO_E2E_TRACE) console.log(`# ${Date.now() - t0} ms: ${what}`); };

export const haveModels = Object.values(MODELS).every((f) => fs.existsSync(f));
export const haveHost = fs.existsSync(hostBinary);

// A page with text to select in several languages and moods.
export const MIXED_PAGE = `<!doctype html><meta charset="utf-8"><title>Mixed texts</title>
<body style="font: 17px/1.5 Georgia, serif; max-width: 640px; margin: 40px">
<h1>Letters to the editor</h1>
<p id="fr">Le petit village se trouve au bord de la rivière, entre les collines couvertes de vignes. Chaque matin, les habitants se retrouvent au marché pour acheter du pain frais et discuter des nouvelles de la semaine.</p>
<p id="de">Die Bibliothek der Stadt wurde im letzten Jahr renoviert und bietet jetzt einen großen Lesesaal, in dem Schüler und Studenten bis spät in den Abend hinein arbeiten können.</p>
<p id="pos">I absolutely loved this film. The acting was wonderful, the story was moving and beautifully told, and the music was perfect. One of the best movies I have seen in years, and I would happily watch it again.</p>
<p id="neg">This was a terrible movie. The plot made no sense, the dialogue was awful and boring, and the acting was the worst I have seen in a long time. A complete waste of two hours and I regret paying for it.</p>
</body>`;

export function routes(base = {}) {
  return {
    '/article.html': path.join(root, 'extension/demo/article.html'),
    '/mixed.html': () => Buffer.from(MIXED_PAGE),
    '/models/lid-copy.ftz': MODELS.lid176,
    '/models/damaged.ftz': () => damagedBytes(),
    ...base,
  };
}

// Selects the element's text in the page and returns it, as the browser
// would pass it as info.selectionText.
export async function select(page, id) {
  return page.evaluate((id) => {
    const r = document.createRange();
    r.selectNodeContents(document.getElementById(id));
    const s = getSelection();
    s.removeAllRanges();
    s.addRange(r);
    return s.toString();
  }, id);
}

// Fires a menu item and waits for its job to finish; returns the job with
// its input text.
export async function runMenu(drv, menuItemId, info = {}, ms = 120000) {
  const before = await drv.bg(({ sotto }) => [...sotto.jobs.keys()]);
  const t0 = Date.now();
  await drv.menu({ menuItemId, ...info });
  const job = await waitFor(() => drv.bg(({ sotto }, before) => {
    const j = [...sotto.jobs.values()].find((x) => !before.includes(x.id));
    return j && j.status !== 'running' ? j : null;
  }, before), ms, `${menuItemId} to finish`);
  job.wall_ms = Date.now() - t0;
  return job;
}

// Runs func(...args) where the extension's content scripts run in the test
// page (where the panel's snapshot is: the page's own scripts never see it), by
// the background's scripting.executeScript. func is sent as source text,
// written into the background's code (no eval anywhere).
export async function inPanelWorld(drv, func, args = []) {
  const outer = new Function('ctx', 'arg', `return (async ({ api }, [url, args]) => {
    const tab = (await api.tabs.query({})).find((t) => t.url === url);
    if (!tab) return null;
    const [r] = await api.scripting.executeScript({ target: { tabId: tab.id }, args, func: ${func.toString()} });
    return r?.result ?? null;
  })(ctx, arg);`);
  return drv.bg(outer, [drv.page.url(), args]);
}

// What the panel shows, read through the extension.
export async function panelOf(drv) {
  return inPanelWorld(drv, () => globalThis.sottoPanel?.snapshot?.() ?? null);
}

export async function shot(page, name) {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`) });
}

function labels(step) {
  return step.result.labels.map((l) => ({ label: l.label, prob: l.prob }));
}

function assertLabelsMatch(got, want, what) {
  assert.equal(got.length, want.length, `${what}: label count`);
  got.forEach((g, i) => {
    assert.equal(g.label, want[i].label, `${what}: label ${i}`);
    // fasttext prints six significant digits
    assert.ok(Math.abs(g.prob - want[i].prob) <= 1e-4, `${what}: prob ${g.prob} vs ${want[i].prob}`);
  });
}

export async function setSettings(drv, patch) {
  await drv.bg(async ({ api }, patch) => {
    const { settings = {} } = await api.storage.local.get('settings');
    await api.storage.local.set({ settings: { ...settings, ...patch } });
  }, patch);
}

// ---- the checks ----

export async function checkCapabilities(drv, { flavour, threads }) {
  const reply = await drv.bg(({ sotto }) => sotto.engine.request({ id: 'c1', op: 'capabilities' }));
  assert.equal(reply.id, 'c1');
  assert.equal(reply.result.engine, 'sotto');
  assert.equal(reply.result.flavour, flavour);
  assert.equal(reply.result.simd, 'wasm-simd128');
  assert.ok(reply.result.threads >= threads, `threads ${reply.result.threads} >= ${threads}`);
  assert.ok(reply.result.ops.includes('summarize') && reply.result.ops.includes('classify'), 'the engine has the text ops');
  const status = await drv.bg(({ sotto }) => sotto.engine.op({ op: 'browser.status' }));
  return { caps: reply.result, status };
}

export async function checkSummarizePage(drv, name) {
  await drv.page.goto(`${drv.base}/article.html`);
  const job = await runMenu(drv, 'summarize-page', { pageUrl: `${drv.base}/article.html` });
  const step = job.steps[0];
  assert.equal(job.status, 'done', JSON.stringify(job.error ?? step.error));
  assert.equal(step.where, 'browser');
  assert.ok(job.source.words >= 2000, `a 2,000-word page (${job.source.words})`);
  // Readability kept the article and dropped the navigation and sidebar;
  // the page went to the engine as blocks (headings, paragraphs).
  assert.match(job.input, /^(.*\n\n){0,3}For most of history, a ship approaching a coast/);
  assert.doesNotMatch(job.input, /Subscribe|Newsletter|Most read/);
  assert.ok(job.blocks.some((b) => b.kind === 'heading' && b.text === 'The problem of wasted light'));
  // The same request to the native engine picks the same sentences.
  const native = nativeRequest({ id: 'n', op: 'summarize', blocks: job.blocks, style: 'key-points', length: 'short' });
  assert.deepEqual(step.result.sentences.map((s) => s.text), native.result.sentences.map((s) => s.text));
  const html = fs.readFileSync(path.join(root, 'extension/demo/article.html'), 'utf8').replace(/\s+/g, ' ');
  for (const s of step.result.sentences) assert.ok(html.includes(s.text.slice(0, 60)), `from the article: ${s.text}`);
  const panel = await waitFor(async () => { const p = await panelOf(drv); return p?.status === 'done' ? p : null; }, 10000, 'the panel');
  assert.match(panel.text, /model extractive/);
  assert.match(panel.text, /ran in browser \(sotto's WebAssembly engine/);
  assert.match(panel.text, /nothing left this device/);
  assert.ok(panel.text.includes(step.result.sentences[0].text));
  await shot(drv.page, `${name}-summarize-page`);
  return job;
}

export async function checkSummarizeSelection(drv, name) {
  await drv.page.goto(`${drv.base}/article.html`);
  const text = await drv.page.evaluate(() => {
    const ps = [...document.querySelectorAll('article p')].slice(8, 14);
    const r = document.createRange();
    r.setStartBefore(ps[0]);
    r.setEndAfter(ps.at(-1));
    getSelection().removeAllRanges();
    getSelection().addRange(r);
    return getSelection().toString();
  });
  const job = await runMenu(drv, 'summarize-selection', { selectionText: text, pageUrl: `${drv.base}/article.html` });
  assert.equal(job.status, 'done', JSON.stringify(job.steps[0].error));
  // read from the page: its paragraphs and headings
  assert.ok(job.blocks.length >= 6 && job.blocks.some((b) => b.kind === 'heading'), JSON.stringify(job.blocks.map((b) => b.kind)));
  const native = nativeRequest({ id: 'n', op: 'summarize', blocks: job.blocks, style: 'key-points', length: 'short' });
  assert.deepEqual(job.steps[0].result.sentences.map((s) => s.text), native.result.sentences.map((s) => s.text));
  for (const s of job.steps[0].result.sentences) assert.ok(text.replace(/\s+/g, ' ').includes(s.text), 'from the selection');
  await shot(drv.page, `${name}-summarize-selection`);
}

export async function checkClassify(drv, name, { where = 'browser', shotName = `${name}-classify-selection` } = {}) {
  await drv.page.goto(`${drv.base}/mixed.html`);
  const results = {};
  for (const [id, lang] of [['fr', 'fr'], ['de', 'de'], ['pos', 'en'], ['neg', 'en']]) {
    const text = await select(drv.page, id);
    const job = await runMenu(drv, 'classify-selection', { selectionText: text, pageUrl: `${drv.base}/mixed.html` });
    assert.equal(job.status, 'done', JSON.stringify(job.steps.map((s) => s.error)));
    const [language, sentiment] = job.steps;
    assert.equal(language.where, where);
    assert.equal(sentiment.where, where);
    assert.equal(language.model, 'lid176');
    assert.equal(language.result.labels[0].label, lang, `${id} is ${lang}`);
    assertLabelsMatch(labels(language), fasttextPredict(MODELS.lid176, text, 3), `${id} language`);
    // Sentiment: English text gets the calibrated labels the native engine
    // gives (tests/js/sentiment.test.mjs holds those against Debian's
    // fastText); other languages get none from the English-only model.
    const native = nativeRequest({ id: 'n', op: 'classify', task: 'sentiment', text, top_k: 2, language: lang },
      [{ id: 'sentiment-en', file: MODELS['sentiment-en'] }]).result;
    assertLabelsMatch(labels(sentiment), native.labels, `${id} sentiment`);
    assert.equal(sentiment.result.label, native.label, `${id} sentiment verdict`);
    if (lang === 'en') assert.equal(sentiment.result.label, id === 'pos' ? 'positive' : 'negative', `${id} sentiment`);
    else assert.deepEqual([sentiment.result.label, sentiment.result.reason], [null, 'unsupported_language'], `${id}: no sentiment label`);
    results[id] = { language: labels(language), sentiment: labels(sentiment), stats: [language.stats, sentiment.stats] };
    if (id === 'pos') {
      const panel = await waitFor(async () => { const p = await panelOf(drv); return p?.status === 'done' ? p : null; }, 10000, 'the panel');
      assert.match(panel.text, where === 'native' ? /ran in native host \(sotto-host on this computer/ : /ran in browser \(sotto's WebAssembly engine/);
      assert.match(panel.text, /English \(en\)/);
      await shot(drv.page, shotName);
    }
    if (id === 'de') {
      const panel = await waitFor(async () => { const p = await panelOf(drv); return p?.status === 'done' ? p : null; }, 10000, 'the panel');
      assert.match(panel.text, /German \(de\)/);
      assert.match(panel.text, /sentiment model covers English \(en\) only/);
    }
  }
  assert.notEqual(results.pos.sentiment[0].label, results.neg.sentiment[0].label, 'opposite reviews get opposite sentiments');
  return results;
}

export async function checkHostMissing(drv, name) {
  await drv.setHost(false);
  await setSettings(drv, { routing: 'native' });
  try {
    await drv.page.goto(`${drv.base}/mixed.html`);
    const text = await select(drv.page, 'fr');
    const job = await runMenu(drv, 'classify-selection', { selectionText: text, pageUrl: `${drv.base}/mixed.html` });
    assert.equal(job.status, 'error');
    assert.equal(job.steps[0].error.code, 'host_missing');
    assert.match(job.steps[0].error.hint, /make install-host/);
    const panel = await waitFor(async () => { const p = await panelOf(drv); return p?.status === 'error' ? p : null; }, 10000, 'the panel');
    assert.match(panel.text, /native host is not installed/);
    assert.match(panel.text, /make install-host/);
    assert.doesNotMatch(panel.text, /at \w+ \(|Error:|stack/i, 'no stack trace');
    await shot(drv.page, `${name}-host-missing`);
  } finally {
    await setSettings(drv, { routing: 'auto' });
  }
}

// With a budget too small for the classifiers, the same requests go to
// the real sotto-host and give the same answers as in the browser.
export async function checkNativeRouting(drv, name, browserResults) {
  await drv.setHost(true);
  await setSettings(drv, { budgetMiB: 0.01 });
  try {
    const nativeResults = await checkClassify(drv, name, { where: 'native', shotName: `${name}-classify-native` });
    for (const id of Object.keys(browserResults)) {
      assertLabelsMatch(nativeResults[id].language, browserResults[id].language, `${id}: native vs browser language`);
      assertLabelsMatch(nativeResults[id].sentiment, browserResults[id].sentiment, `${id}: native vs browser sentiment`);
      assert.equal(nativeResults[id].stats[0].ran, 'native');
    }
  } finally {
    await setSettings(drv, { budgetMiB: 1024 });
  }
}

// Installs a model from the test server through the options page: progress
// events, sha256 check, sealed into the cache; then uses it; then tampers
// with the cache entry and expects it refused with a re-download offer.
export async function checkInstallAndTamper(drv, name) {
  trace('open options');
  const opts = await drv.openExtensionPage('src/options.html');
  await waitFor(() => opts.evaluate(() => globalThis.sottoOptions?.ready === true), 15000, 'the options page');
  const url = `${drv.base}/models/lid-copy.ftz`;
  const want = sha256(MODELS.lid176);
  const size = fs.statSync(MODELS.lid176).size;

  trace('wrong sha');
  // A wrong sha256 is refused and nothing is installed.
  const bad = await opts.evaluate(async ([url]) => {
    const r = await globalThis.sottoOptions.install({ id: 'lid-bad', task: 'language', format: 'fasttext', url, sha256: '0'.repeat(64) })
      .then(() => 'installed', (e) => e.message);
    const api = globalThis.browser ?? globalThis.chrome;
    return { r, installed: Object.keys((await api.storage.local.get('installed')).installed ?? {}) };
  }, [url]);
  assert.match(bad.r, /sha256 differs/);
  assert.ok(!bad.installed.includes('lid-bad'));

  trace('form install');
  // Through the form, as a user would: check, then agree in the dialog.
  await opts.evaluate(([url, want]) => {
    const f = document.getElementById('install');
    f.url.value = url;
    f.id.value = 'lid-copy';
    f.task.value = 'language';
    f.sha256.value = want;
    globalThis.sottoInstallEvents.length = 0;
    f.querySelector('button[type=submit]').click();
  }, [url, want]);
  await waitFor(() => opts.evaluate(() => !document.getElementById('consent').hidden), 15000, 'the consent dialog');
  await opts.click('#consent-download');
  const events = await waitFor(() => opts.evaluate(() => {
    const ev = globalThis.sottoInstallEvents;
    return ev.some((e) => e.phase === 'done' || e.phase === 'error') ? ev : null;
  }), 60000, 'the install');
  assert.equal(events.at(-1).phase, 'done', JSON.stringify(events.at(-1)));
  const dl = events.filter((e) => e.phase === 'download');
  assert.ok(dl.length >= 3, `progress events (${dl.length})`);
  for (let i = 1; i < dl.length; i++) assert.ok(dl[i].done >= dl[i - 1].done, 'progress only grows');
  assert.equal(dl.at(-1).done, size);
  assert.equal(dl.at(-1).total, size);
  await waitFor(() => opts.evaluate(() => document.querySelector('tr[data-model="lid-copy"]') !== null), 5000, 'the model list');
  await opts.screenshot({ path: path.join(artifacts, `${name}-options-installed.png`), fullPage: true });

  trace('check ciphertext');
  // The cache holds ciphertext, not the model.
  const stored = await opts.evaluate(async () => {
    const db = await new Promise((res, rej) => { const r = indexedDB.open('sotto-models'); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
    const rec = await new Promise((res) => { const r = db.transaction('parts').objectStore('parts').get(['lid-copy', 0]); r.onsuccess = () => res(r.result); });
    const bytes = new Uint8Array(await rec.sealed.arrayBuffer());
    db.close();
    return { magic: String.fromCharCode(...bytes.slice(0, 8)), size: bytes.length, head: [...bytes.slice(68, 68 + 64)] };
  });
  assert.equal(stored.magic, 'SOTTOSTR');
  assert.ok(stored.size > size);
  const plainHead = [...fs.readFileSync(MODELS.lid176).subarray(0, 64)];
  assert.notDeepEqual(stored.head, plainHead);

  trace('classify installed');
  // Classify with the installed copy: the same answer as the bundled model.
  await setSettings(drv, { models: { language: 'lid-copy' } });
  await drv.page.goto(`${drv.base}/mixed.html`);
  const text = await select(drv.page, 'de');
  let job = await runMenu(drv, 'classify-selection', { selectionText: text, pageUrl: `${drv.base}/mixed.html` });
  assert.equal(job.steps[0].model, 'lid-copy');
  assert.equal(job.steps[0].status, 'done', JSON.stringify(job.steps[0].error));
  assertLabelsMatch(labels(job.steps[0]), fasttextPredict(MODELS.lid176, text, 3), 'installed copy');

  trace('tamper');
  // Flip one byte of ciphertext in the middle of the entry.
  await opts.evaluate(async () => {
    const db = await new Promise((res, rej) => { const r = indexedDB.open('sotto-models'); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
    const rec = await new Promise((res) => { const r = db.transaction('parts').objectStore('parts').get(['lid-copy', 0]); r.onsuccess = () => res(r.result); });
    const bytes = new Uint8Array(await rec.sealed.arrayBuffer());
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    rec.sealed = new Blob([bytes]);
    await new Promise((res, rej) => { const t = db.transaction('parts', 'readwrite'); t.objectStore('parts').put(rec); t.oncomplete = res; t.onerror = () => rej(t.error); });
    db.close();
  });
  await drv.bg(({ sotto }) => sotto.engine.op({ op: 'browser.models.unload', model: 'lid-copy' }));
  job = await runMenu(drv, 'classify-selection', { selectionText: text, pageUrl: `${drv.base}/mixed.html` });
  assert.equal(job.steps[0].status, 'error');
  assert.equal(job.steps[0].error.code, 'tampered');
  assert.equal(job.steps[0].error.redownload, 'lid-copy');
  const panel = await waitFor(async () => { const p = await panelOf(drv); return p?.status === 'error' ? p : null; }, 10000, 'the panel');
  const step = panel.steps.find((s) => s.task === 'language');
  assert.equal(step.errorCode, 'tampered');
  assert.ok(step.redownload, 'a re-download button');
  assert.match(step.text, /integrity check/);
  await shot(drv.page, `${name}-tampered`);

  trace('redownload');
  // The options page marks it damaged and re-downloads it.
  await opts.evaluate(() => { globalThis.sottoOptions = null; setTimeout(() => location.reload(), 0); });
  await waitFor(() => opts.evaluate(() => globalThis.sottoOptions?.ready === true).catch(() => false), 15000, 'the options page');
  const row = await waitFor(() => opts.evaluate(() => document.querySelector('tr[data-model="lid-copy"]')?.innerText ?? null), 5000, 'the row');
  assert.match(row, /damaged \(tampered\)/);
  await opts.evaluate(() => { globalThis.sottoInstallEvents.length = 0; document.querySelector('tr[data-model="lid-copy"] button.redownload').click(); });
  await waitFor(() => opts.evaluate(() => !document.getElementById('consent').hidden), 15000, 'the consent dialog');
  await opts.click('#consent-download');
  const again = await waitFor(() => opts.evaluate(() => globalThis.sottoInstallEvents.find((e) => e.phase === 'done' || e.phase === 'error') ?? null), 60000, 'the re-download');
  assert.equal(again.phase, 'done');
  job = await runMenu(drv, 'classify-selection', { selectionText: text, pageUrl: `${drv.base}/mixed.html` });
  assert.equal(job.steps[0].status, 'done', 'works again after the re-download');
  await setSettings(drv, { models: {} });
  await opts.close();
}

export const haveHostNote = haveHost ? false : `no native host build at ${path.relative(root, hostBinary)}`;

// A passphrase protects the cache: entries are re-encrypted under the
// derived key, the key is forgotten when the browser session ends (session
// storage cleared here), requests then ask for the passphrase, a wrong one
// is refused and the right one unlocks.
export async function checkPassphrase(drv, name) {
  const opts = await drv.openExtensionPage('src/options.html');
  await waitFor(() => opts.evaluate(() => globalThis.sottoOptions?.ready === true), 15000, 'the options page');
  const url = `${drv.base}/models/lid-copy.ftz`;
  await opts.evaluate(([url, sha]) => globalThis.sottoOptions.install({ id: 'lid-pass', task: 'language', format: 'fasttext', url, sha256: sha }),
    [url, sha256(MODELS.lid176)]);
  const randomKey = await drv.bg(async ({ api }) => (await api.storage.local.get('cacheKey')).cacheKey);
  assert.ok(randomKey);
  await opts.evaluate(() => globalThis.sottoOptions.setPassphrase('correct horse battery'));
  const stored = await drv.bg(async ({ api }) => ({ ...(await api.storage.local.get(['cacheKey', 'cacheLock'])), session: (await api.storage.session.get('cacheKey')).cacheKey }));
  assert.equal(stored.cacheKey, undefined, 'no key left in local storage');
  assert.ok(stored.cacheLock.salt && stored.cacheLock.check);
  assert.ok(stored.session && stored.session !== randomKey);

  await setSettings(drv, { models: { language: 'lid-pass' } });
  try {
    await drv.page.goto(`${drv.base}/mixed.html`);
    const text = await select(drv.page, 'fr');
    await drv.bg(({ sotto }) => sotto.engine.op({ op: 'browser.models.unload', model: 'lid-pass' }));
    let job = await runMenu(drv, 'classify-selection', { selectionText: text });
    assert.equal(job.steps[0].model, 'lid-pass');
    assert.equal(job.steps[0].status, 'done', JSON.stringify(job.steps[0].error));

    // The browser restarts: the session key is gone.
    await drv.bg(async ({ api, sotto }) => { await api.storage.session.remove('cacheKey'); await sotto.engine.op({ op: 'browser.models.unload', model: 'lid-pass' }); });
    job = await runMenu(drv, 'classify-selection', { selectionText: text });
    assert.equal(job.steps[0].error?.code, 'cache_locked');
    assert.match(job.steps[0].error.hint, /passphrase/);
    const panel = await waitFor(async () => { const p = await panelOf(drv); return p?.status === 'error' ? p : null; }, 10000, 'the panel');
    assert.match(panel.text, /model cache is locked/);
    await shot(drv.page, `${name}-cache-locked`);

    const wrong = await opts.evaluate(() => globalThis.sottoOptions.unlock('wrong horse battery').then(() => 'unlocked', (e) => e.message));
    assert.equal(wrong, 'wrong passphrase');
    await opts.evaluate(() => globalThis.sottoOptions.unlock('correct horse battery'));
    job = await runMenu(drv, 'classify-selection', { selectionText: text });
    assert.equal(job.steps[0].status, 'done', 'unlocked');
    assertLabelsMatch(labels(job.steps[0]), fasttextPredict(MODELS.lid176, text, 3), 'after unlocking');

    // And back to a random key, entries re-encrypted again.
    await opts.evaluate(() => globalThis.sottoOptions.useRandomKey());
    await drv.bg(({ sotto }) => sotto.engine.op({ op: 'browser.models.unload', model: 'lid-pass' }));
    job = await runMenu(drv, 'classify-selection', { selectionText: text });
    assert.equal(job.steps[0].status, 'done', 'random key again');
  } finally {
    await setSettings(drv, { models: {} });
    await opts.close();
  }
}

// ---- the same failures everywhere ----

// The impossible requests tests/e2e/errors.test.mjs sends to every surface,
// with the one code each must get.
export const ERROR_CASES = [
  { name: 'bad JSON', code: 'bad_json' },
  { name: 'unknown op', code: 'unknown_op' },
  { name: 'unknown model', code: 'model_not_found' },
  { name: 'damaged model file', code: 'bad_model' },
  { name: 'over-budget model', code: 'over_budget' },
];
export const BUDGET_BYTES = 500000; // under lid176.ftz's 938,013 bytes

// A damaged model file: lid176 cut short (the test server has it as
// /models/damaged.ftz).
export const damagedBytes = () => fs.readFileSync(MODELS.lid176).subarray(0, 300000);
export const damagedSha256 = () => crypto.createHash('sha256').update(damagedBytes()).digest('hex');
export function damagedModel(dir) {
  const file = path.join(dir, 'damaged.ftz');
  fs.writeFileSync(file, damagedBytes());
  return file;
}

// The extension's background: raw requests to its browser engine, and the
// real menu path for a damaged installed model and a model over the memory
// budget. Returns the codes in ERROR_CASES order.
export async function errorCodes(drv, damagedUrl, damagedSha) {
  const raw = (request) => drv.bg(async ({ sotto }, request) => (await sotto.engineRequest({ request })).error?.code ?? 'none', request);
  const codes = [
    await raw('{"id":1,"op":'),
    await raw({ op: 'nope' }),
    await raw({ op: 'classify', model: 'nope', text: 'x' }),
  ];
  const opts = await drv.openExtensionPage('src/options.html');
  await waitFor(() => opts.evaluate(() => globalThis.sottoOptions?.ready === true), 15000, 'the options page');
  await opts.evaluate(([url, sha]) => globalThis.sottoOptions.install({ id: 'damaged', task: 'language', format: 'fasttext', url, sha256: sha }),
    [damagedUrl, damagedSha]);
  await opts.close();
  await drv.page.goto(`${drv.base}/mixed.html`);
  const text = await select(drv.page, 'fr');
  try {
    await setSettings(drv, { models: { language: 'damaged' } });
    codes.push((await runMenu(drv, 'classify-selection', { selectionText: text })).steps[0].error?.code ?? 'none');
    // The user insists on the browser with a budget lid176 does not fit.
    await setSettings(drv, { models: {}, routing: 'browser', budgetMiB: BUDGET_BYTES / (1024 * 1024) });
    await drv.bg(({ sotto }) => sotto.engine.op({ op: 'browser.models.unload', model: 'lid176' }));
    const job = await runMenu(drv, 'classify-selection', { selectionText: text });
    codes.push(job.steps[0].error?.code ?? 'none');
    assert.match(job.steps[0].error.hint, /memory budget/);
  } finally {
    await setSettings(drv, { models: {}, routing: 'auto', budgetMiB: 1024 });
  }
  return codes;
}

// ---- cancel from the results view ----

export const CANCEL_SENTENCES = 24000; // about 2 MB of selected text: a summary of about half a second
export const STOP_MS = 200;           // from the Stop button to the view saying so

// A long summarize (about 1 MB of selected text) is stopped with the
// panel's Stop button while the engine works on it: the job ends
// "cancelled", the time from the click to the panel saying so is returned,
// and the engine then answers the next request. mode is how the browser
// engine cancels ('shared-flag' in Chrome's isolated offscreen document,
// 'restart' in Firefox).
export async function checkCancel(drv, name, { mode, text }) {
  await drv.page.goto(`${drv.base}/article.html`);
  // How long the whole summary takes (warm: the second run), to stop it
  // well inside that time.
  let full;
  for (let i = 0; i < 2; i++) {
    full = await runMenu(drv, 'summarize-selection', { selectionText: text });
    assert.equal(full.status, 'done', JSON.stringify(full.steps[0].error));
  }
  const before = await drv.bg(({ sotto }) => [...sotto.jobs.keys()]);
  const delay = Math.round(full.steps[0].ms * 0.4);
  // In the page: as soon as the panel shows the summary running in the
  // browser engine, wait delay ms, click Stop, and time until the panel
  // says the job stopped.
  const stopped = inPanelWorld(drv, (done, delay) => new Promise((resolve) => {
    const poll = setInterval(() => {
      const root = globalThis.sottoPanel?.root();
      const panel = root?.querySelector('.panel');
      if (!panel || panel.dataset.job === done || panel.dataset.status !== 'running' ||
          !panel.querySelector('section.step[data-where=browser]')) return;
      clearInterval(poll);
      setTimeout(() => {
        const stop = root.querySelector('.panel[data-status=running] button.stop');
        if (!stop) return resolve({ ms: 0, status: `${root.querySelector('.panel')?.dataset.status} before the click` });
        const t0 = performance.now();
        new MutationObserver(() => {
          const status = root.querySelector('.panel')?.dataset.status;
          if (status && status !== 'running') resolve({ ms: performance.now() - t0, status });
        }).observe(root, { subtree: true, childList: true, attributes: true });
        stop.click();
      }, delay);
    }, 2);
  }), [full.id, delay]);
  await drv.menu({ menuItemId: 'summarize-selection', selectionText: text });
  const stopMs = await stopped;
  assert.equal(stopMs.status, 'cancelled', `Stop clicked ${delay} ms into a ${full.steps[0].ms} ms summary`);
  const job = await waitFor(() => drv.bg(({ sotto }, before) => {
    const j = [...sotto.jobs.values()].find((x) => !before.includes(x.id));
    return j && j.status !== 'running' ? j : null;
  }, before), 10000, 'the job to end');
  assert.equal(job.status, 'cancelled');
  assert.equal(job.steps[0].error.code, 'cancelled');
  const status = await drv.bg(({ sotto }) => sotto.engine.op({ op: 'browser.status' }));
  assert.equal(status.cancel, mode);
  await shot(drv.page, `${name}-cancelled`);
  // The engine is still there: the next summary comes out.
  const t0 = Date.now();
  const next = await runMenu(drv, 'summarize-selection', { selectionText: text.slice(0, 20000) });
  assert.equal(next.status, 'done', JSON.stringify(next.steps[0].error));
  return { stop_ms: stopMs.ms, next_ms: Date.now() - t0, full_ms: full.steps[0].ms, cancelled_after_ms: job.steps[0].ms };
}
