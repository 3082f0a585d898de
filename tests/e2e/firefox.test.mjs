// The extension in real Firefox (Debian's firefox-esr, headless, through
// puppeteer-core over WebDriver BiDi): the single-threaded engine in a worker
// of the background page, the context menu handler called with a real tab
// (Firefox has no onClicked.dispatch), the native host, installs and the
// encrypted cache.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { firefoxDriver, startServer, waitFor, FIREFOX, dist, tmpdir } from './helpers.mjs';
import * as flows from './flows.mjs';
import * as reading from './reading.mjs';

const ready = fs.existsSync(FIREFOX) && fs.existsSync(path.join(dist, 'firefox/manifest.json'));
const skip = !ready && 'needs firefox-esr and make extension';
const skipModels = skip || (!flows.haveModels && 'needs the bundled models (make models)');

let browser, server, drv, home;
const timings = {};

before(async () => {
  if (skip) return;
  server = await startServer({ ...flows.routes(), ...reading.pageRoutes() });
  home = tmpdir('home');
  const t0 = Date.now();
  ({ browser, drv } = await firefoxDriver(server, { home }));
  timings.launch_ms = Date.now() - t0;
});

after(async () => {
  if (home) process.on('exit', () => fs.rmSync(home, { recursive: true, force: true }));
  if (timings.cold_first_summary_ms !== undefined) {
    console.log(`firefox: cold start to first summary of a ${timings.words}-word page: ${timings.cold_first_summary_ms} ms ` +
      `(browser launch ${timings.launch_ms} ms, click to summary ${timings.click_to_summary_ms} ms, engine ${timings.engine_ms} ms)`);
  }
  await browser?.close();
  await server?.close();
});

test('firefox: the context menu items exist', { skip }, async () => {
  await drv.bg(({ sotto }) => sotto.menusReady);
  const ids = await drv.bg(async ({ api }) => {
    const found = [];
    for (const id of ['sotto', 'summarize-selection', 'summarize-page', 'classify-selection']) {
      try { await api.contextMenus.update(id, {}); found.push(id); } catch { /* missing */ }
    }
    return found;
  });
  assert.deepEqual(ids.sort(), ['classify-selection', 'sotto', 'summarize-page', 'summarize-selection']);
  // a label set's entry joins them under "sotto"
  const entry = () => drv.bg(({ api }) => api.contextMenus.update('classify-labels:0', {}).then(() => true, () => false));
  await flows.setSettings(drv, { labelSets: [{ name: 'Topic', labels: ['sports', 'science'] }] });
  try {
    await waitFor(() => entry(), 10000, 'the label set\'s menu entry');
    await drv.bg(({ sotto }) => sotto.menusReady);
  } finally {
    await flows.setSettings(drv, { labelSets: [] });
  }
  await waitFor(async () => !(await entry()), 10000, 'the entry removed');
  await drv.bg(({ sotto }) => sotto.menusReady); // made again without it
});

test('firefox: summarize page, cold, in the browser (background page worker)', { skip: skipModels }, async () => {
  const t0 = Date.now();
  const job = await flows.checkSummarizePage(drv, 'firefox');
  timings.words = job.source.words;
  timings.click_to_summary_ms = job.first_ms;
  timings.engine_ms = job.steps[0].stats?.ms;
  timings.cold_first_summary_ms = timings.launch_ms + (Date.now() - t0);
});

test('firefox: the engine worker runs the single-threaded SIMD build', { skip }, async () => {
  const { caps } = await flows.checkCapabilities(drv, { flavour: 'wasm-simd', threads: 1 });
  assert.equal(caps.threads, 1);
});

test('firefox: summarize selection', { skip: skipModels }, () => flows.checkSummarizeSelection(drv, 'firefox'));

test('firefox: hard-wrapped pages in English, German and French: whole sentences of the main text, from across the page', { skip: skipModels },
  () => reading.checkPageSummaries(drv, 'firefox'));

test('firefox: selections read from the page, the panel beside them', { skip: skipModels },
  () => reading.checkSelectionSummaries(drv, 'firefox'));

test('firefox: a select-all longer than 16,384 characters is summarized whole', { skip: skipModels },
  () => reading.checkSelectAll(drv, 'firefox'));

let browserResults;
test('firefox: classify selection (language, sentiment) in the browser', { skip: skipModels }, async () => {
  browserResults = await flows.checkClassify(drv, 'firefox');
});

test('firefox: native routing with the host absent shows how to install it', { skip: skipModels }, () => flows.checkHostMissing(drv, 'firefox'));

test('firefox: a low memory budget sends the same requests to sotto-host', { skip: skipModels || flows.haveHostNote }, async () => {
  await flows.checkNativeRouting(drv, 'firefox', browserResults);
});

test('firefox: install a model with progress, then refuse a tampered cache entry', { skip: skipModels }, () => flows.checkInstallAndTamper(drv, 'firefox'));

test('firefox: a passphrase locks the model cache until it is given', { skip: skipModels }, () => flows.checkPassphrase(drv, 'firefox'));

test('firefox: Stop in the results view cancels a long summarize; the engine goes on', { skip }, async () => {
  const r = await flows.checkCancel(drv, 'firefox', { mode: 'restart', text: flows.longText(flows.CANCEL_SENTENCES) });
  console.log(`firefox: Stop clicked ${r.cancelled_after_ms} ms into a ${r.full_ms} ms summary; stopped ${r.stop_ms.toFixed(0)} ms after the click (restart); ` +
    `the next summary took ${r.next_ms} ms`);
  assert.ok(r.stop_ms < flows.STOP_MS, `stopped ${r.stop_ms.toFixed(0)} ms after the click`);
});

// Chromium's background is checked in errors.test.mjs, with the other surfaces.
test('firefox: the same bad requests get the same codes as everywhere else', { skip: skipModels }, async () => {
  const got = await flows.errorCodes(drv, `${drv.base}/models/damaged.ftz`, flows.damagedSha256());
  assert.deepEqual(got, flows.ERROR_CASES.map((c) => c.code));
});
