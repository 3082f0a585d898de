// The extension in real Chromium (Debian's, headless, through playwright-core):
// the engine in the offscreen document's worker with threads, the context
// menu handlers fired through contextMenus.onClicked.dispatch on a page from
// the local test server, the native host, installs and the encrypted cache.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromiumDriver, startServer, waitFor, sha256, nativeRequest, artifacts, CHROMIUM, dist } from './helpers.mjs';
import * as flows from './flows.mjs';
import * as reading from './reading.mjs';

const ready = fs.existsSync(CHROMIUM) && fs.existsSync(path.join(dist, 'chrome/manifest.json'));
const skip = !ready && 'needs chromium and make extension';
const skipModels = skip || (!flows.haveModels && 'needs the bundled models (make models)');

let browser, server, drv;
const timings = {};

before(async () => {
  if (skip) return;
  server = await startServer({ ...flows.routes(), ...reading.pageRoutes() });
  const t0 = Date.now();
  ({ browser, drv } = await chromiumDriver(server));
  timings.launch_ms = Date.now() - t0;
});

after(async () => {
  if (timings.cold_first_summary_ms !== undefined) {
    console.log(`chromium: cold start to first summary of a ${timings.words}-word page: ${timings.cold_first_summary_ms} ms ` +
      `(browser launch ${timings.launch_ms} ms, click to summary ${timings.click_to_summary_ms} ms, engine ${timings.engine_ms} ms)`);
  }
  await browser?.close();
  await server?.close();
});

test('chromium: the context menu items exist', { skip }, async () => {
  // The background creates them at every start; wait until it has.
  await drv.bg(({ sotto }) => sotto.menusReady);
  // a label set's entry joins them under "sotto" (update fails for an id that does not exist)
  const exists = (id) => drv.bg(({ api }, id) => new Promise((resolve) => {
    api.contextMenus.update(id, {}, () => resolve(!api.runtime.lastError));
  }), id);
  await flows.setSettings(drv, { labelSets: [{ name: 'Topic', labels: ['sports', 'science'] }] });
  try {
    await waitFor(() => exists('classify-labels:0'), 10000, 'the label set\'s menu entry');
    await drv.bg(({ sotto }) => sotto.menusReady);
  } finally {
    await flows.setSettings(drv, { labelSets: [] });
  }
  await waitFor(async () => !(await exists('classify-labels:0')), 10000, 'the entry removed');
  await drv.bg(({ sotto }) => sotto.menusReady); // made again without it
  const titles = await drv.bg(({ api }) => new Promise((resolve) => {
    // Chromium has no getAll for menus; creating an existing id fails, which proves it exists.
    const ids = ['sotto', 'summarize-selection', 'summarize-page', 'classify-selection'];
    const found = [];
    let n = 0;
    for (const id of ids) {
      api.contextMenus.create({ id, title: 'probe' }, () => {
        if (api.runtime.lastError) found.push(id); else api.contextMenus.remove(id);
        if (++n === ids.length) resolve(found);
      });
    }
  }));
  assert.deepEqual(titles.sort(), ['classify-selection', 'sotto', 'summarize-page', 'summarize-selection']);
});

test('chromium: summarize page, cold, in the browser (threads, offscreen)', { skip: skipModels }, async () => {
  const t0 = Date.now();
  const job = await flows.checkSummarizePage(drv, 'chromium');
  timings.words = job.source.words;
  timings.click_to_summary_ms = job.first_ms;
  timings.engine_ms = job.steps[0].stats?.ms;
  timings.cold_first_summary_ms = timings.launch_ms + (Date.now() - t0);
  assert.equal(job.steps[0].stats.ran, 'wasm');
});

test('chromium: the engine worker runs threaded in a cross-origin isolated document', { skip }, async () => {
  const { status } = await flows.checkCapabilities(drv, { flavour: 'wasm-simd-threads', threads: 2 });
  assert.equal(status.crossOriginIsolated, true);
});

test('chromium: a request sent while the engine page is still loading waits for it', { skip }, async () => {
  const reply = await drv.bg(async ({ sotto, api }) => {
    await sotto.engine.close();
    const warm = sotto.engine.request({ id: 'w1', op: 'browser.warm' }); // starts the document
    while (!(await api.offscreen.hasDocument())) await new Promise((r) => setTimeout(r, 2));
    const caps = await sotto.engine.request({ id: 'c2', op: 'capabilities' });
    await warm;
    return caps;
  });
  assert.equal(reply.id, 'c2', JSON.stringify(reply.error));
  assert.equal(reply.result.flavour, 'wasm-simd-threads');
});

test('chromium: summarize selection', { skip: skipModels }, () => flows.checkSummarizeSelection(drv, 'chromium'));

test('chromium: hard-wrapped pages in English, German and French: whole sentences of the main text, from across the page', { skip: skipModels },
  () => reading.checkPageSummaries(drv, 'chromium'));

test('chromium: selections read from the page, the panel beside them', { skip: skipModels },
  () => reading.checkSelectionSummaries(drv, 'chromium'));

test('chromium: a select-all longer than 16,384 characters is summarized whole', { skip: skipModels },
  () => reading.checkSelectAll(drv, 'chromium'));

let browserResults;
test('chromium: classify selection (language, sentiment) in the browser', { skip: skipModels }, async () => {
  browserResults = await flows.checkClassify(drv, 'chromium');
});

test('chromium: native routing with the host absent shows how to install it', { skip: skipModels }, () => flows.checkHostMissing(drv, 'chromium'));

test('chromium: a low memory budget sends the same requests to sotto-host', { skip: skipModels || flows.haveHostNote }, async () => {
  await flows.checkNativeRouting(drv, 'chromium', browserResults);
});

test('chromium: install a model with progress, then refuse a tampered cache entry', { skip: skipModels }, () => flows.checkInstallAndTamper(drv, 'chromium'));

test('chromium: a passphrase locks the model cache until it is given', { skip: skipModels }, () => flows.checkPassphrase(drv, 'chromium'));

test('chromium: stopping the service worker keeps the engine warm', { skip: skipModels }, async () => {
  await drv.page.goto(`${drv.base}/mixed.html`);
  const warm = await flows.runMenu(drv, 'classify-selection', { selectionText: await flows.select(drv.page, 'fr') });
  assert.equal(warm.status, 'done');
  const before = await browser.sw.evaluate(() => globalThis.sotto.started);
  const cdp = await browser.ctx.newCDPSession(drv.page);
  const versions = new Map();
  cdp.on('ServiceWorker.workerVersionUpdated', (e) => { for (const v of e.versions) versions.set(v.versionId, v); });
  await cdp.send('ServiceWorker.enable');
  const running = await waitFor(() => [...versions.values()].find((v) => v.scriptURL.includes(browser.id) && v.runningStatus === 'running'), 5000, 'the worker');
  await cdp.send('ServiceWorker.stopWorker', { versionId: running.versionId });
  await waitFor(() => versions.get(running.versionId)?.runningStatus === 'stopped', 5000, 'the worker to stop');
  // An extension page's message starts it again, fresh.
  const results = await drv.openExtensionPage('src/results.html');
  await waitFor(() => versions.get(running.versionId)?.runningStatus === 'running', 5000, 'the worker to restart');
  browser.sw = browser.ctx.serviceWorkers()[0];
  const after = await waitFor(() => browser.sw.evaluate(() => globalThis.sotto?.started).catch(() => null), 10000, 'the new worker');
  assert.ok(after > before, 'a new service worker instance');
  await results.close();
  // The offscreen engine kept its models: nothing is loaded again.
  const status = await drv.bg(({ sotto }) => sotto.engine.op({ op: 'browser.status' }));
  assert.ok(status.models.some((m) => m.id === 'lid176'), 'lid176 is still loaded');
  await drv.page.goto(`${drv.base}/mixed.html`);
  const text = await flows.select(drv.page, 'de');
  const job = await flows.runMenu(drv, 'classify-selection', { selectionText: text });
  assert.equal(job.status, 'done');
  assert.equal(job.steps[0].where, 'browser');
  assert.equal(job.steps[0].stats.models_loaded, 0, 'no model had to be loaded again');
});

test('chromium: install a model from a local file (its sha256 computed)', { skip: skipModels }, async () => {
  const opts = await drv.openExtensionPage('src/options.html');
  await waitFor(() => opts.evaluate(() => globalThis.sottoOptions?.ready === true), 15000, 'the options page');
  await opts.check('input[name=from][value=file]');
  await opts.setInputFiles('input[name=file]', flows.MODELS['sentiment-en']);
  await opts.fill('input[name=id]', 'sentiment-file');
  await opts.selectOption('select[name=task]', 'sentiment');
  await opts.click('button[type=submit]');
  await waitFor(() => opts.evaluate(() => !document.getElementById('consent').hidden), 15000, 'the consent dialog');
  await opts.click('#consent-download');
  const last = await waitFor(() => opts.evaluate(() => globalThis.sottoInstallEvents.find((e) => e.phase === 'done' || e.phase === 'error') ?? null), 30000, 'the install');
  assert.equal(last.phase, 'done', JSON.stringify(last));
  const meta = await drv.bg(async ({ api }) => (await api.storage.local.get('installed')).installed['sentiment-file']);
  assert.equal(meta.sha256, sha256(flows.MODELS['sentiment-en']));
  assert.equal(meta.bytes, fs.statSync(flows.MODELS['sentiment-en']).size);
  await opts.close();
  await flows.setSettings(drv, { models: { sentiment: 'sentiment-file' } });
  try {
    await drv.page.goto(`${drv.base}/mixed.html`);
    const text = await flows.select(drv.page, 'pos');
    const job = await flows.runMenu(drv, 'classify-selection', { selectionText: text });
    assert.equal(job.steps[1].model, 'sentiment-file');
    // the same file under another id: the same answers as the bundled model
    const native = nativeRequest({ op: 'classify', task: 'sentiment', text, top_k: 2, language: 'en' },
      [{ id: 'sentiment-en', file: flows.MODELS['sentiment-en'] }]).result;
    assert.deepEqual(job.steps[1].result.labels, native.labels);
    assert.equal(job.steps[1].result.calibrated, true);
  } finally {
    await flows.setSettings(drv, { models: {} });
  }
});

test('chromium: a page the extension cannot touch gets the results page instead', { skip: skipModels }, async () => {
  await drv.page.goto('chrome://version');
  const opened = browser.ctx.waitForEvent('page', { timeout: 15000 });
  const text = 'The lighthouse keeper trimmed the wicks every evening. Storms cut the rock off from the shore for weeks. ' +
    'Inspectors checked the lens, the brass and the log book. A light that failed could cost lives.';
  const job = await flows.runMenu(drv, 'summarize-selection', { selectionText: text });
  assert.equal(job.status, 'done');
  assert.equal(job.panel, false);
  const results = await opened;
  assert.match(results.url(), new RegExp(`/src/results\\.html#${job.id}$`));
  await results.waitForSelector('.panel[data-status=done]');
  const shown = await results.locator('.panel').innerText();
  assert.ok(shown.includes(job.steps[0].result.sentences[0].text));
  await results.screenshot({ path: path.join(artifacts, 'chromium-results-page.png') });
  await results.close();
});

test('chromium: a selection the extension cannot read from the page, cut by the browser: the cut is said', { skip: skipModels }, async () => {
  await drv.page.goto('chrome://version');
  const opened = browser.ctx.waitForEvent('page', { timeout: 15000 });
  const text = flows.longText(400).slice(0, 16384); // what a browser hands a menu click at most
  assert.equal(text.length, 16384);
  const job = await flows.runMenu(drv, 'summarize-selection', { selectionText: text });
  assert.equal(job.status, 'done');
  assert.deepEqual(job.source.cut, { by: 'browser', chars: 16384 });
  const results = await opened;
  await results.waitForSelector('.panel[data-status=done]');
  assert.match(await results.locator('.panel').innerText(), /Only the first 16,384 characters of the selection were read/);
  await results.close();
});

test('chromium: Stop in the results view cancels a long summarize; the engine goes on', { skip }, async () => {
  const r = await flows.checkCancel(drv, 'chromium', { mode: 'shared-flag', text: flows.longText(flows.CANCEL_SENTENCES) });
  console.log(`chromium: Stop clicked ${r.cancelled_after_ms} ms into a ${r.full_ms} ms summary; stopped ${r.stop_ms.toFixed(0)} ms after the click (shared-flag); ` +
    `the next summary took ${r.next_ms} ms`);
  assert.ok(r.stop_ms < flows.STOP_MS, `stopped ${r.stop_ms.toFixed(0)} ms after the click`);
});

