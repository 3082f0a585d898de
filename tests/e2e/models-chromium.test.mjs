// The model manager and language-model summaries in real Chromium
// (model-flows.mjs): install with consent and progress, a dropped connection
// resumed, a GGUF split in parts joined, a quota too small refused up
// front, a streamed summary in the browser with the native engine's tokens,
// Stop, a 20,000-word page through map-reduce, the model moved to the real
// sotto-host once and used there, a tampered cached part refused.
import { test, before, after } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import { chromiumDriver, CHROMIUM, dist } from './helpers.mjs';
import { routes as pageRoutes } from './flows.mjs';
import { startHfServer } from './hf-server.mjs';
import * as mf from './model-flows.mjs';

const ready = fs.existsSync(CHROMIUM) && fs.existsSync(path.join(dist, 'chrome/manifest.json'));
const skip = !ready && 'needs chromium and make extension';
let browser, srv, drv, models, enc, browserTokens;
const figures = {};

before(async () => {
  if (skip) return;
  models = mf.makeModels();
  enc = await mf.makeEncoders();
  srv = await startHfServer({ repos: { ...mf.repos(models), ...enc.repos }, routes: { ...pageRoutes(), ...mf.routes() } });
  ({ browser, drv } = await chromiumDriver(srv));
});

after(async () => {
  if (Object.keys(figures).length) console.log(`# chromium models: ${JSON.stringify(figures)}`);
  await browser?.close();
  await srv?.close();
});

test('chromium: a model from a Hugging Face URL: consent first, progress, a dropped connection resumed, sha256 checked', { skip }, async () => {
  await mf.checkConsentInstall(drv, srv, 'chromium', models);
});

test('chromium: a download stopped by closing the page resumes from its last stored part', { skip }, () => mf.checkResumeAfterClose(drv, srv, models));

test('chromium: a GGUF split in parts is downloaded part by part and joined into one file', { skip }, () => mf.checkSplit(drv, srv, models));

test('chromium: a download larger than the storage quota is refused before it starts', { skip }, () => mf.checkQuota(drv, srv));

test('chromium: an LLM summary streams into the results view with the native engine\'s tokens', { skip }, async () => {
  await drv.bg(async ({ api }) => { const { settings = {} } = await api.storage.local.get('settings'); await api.storage.local.set({ settings: { ...settings, models: { summarize: 'tiny-llm' } } }); });
  const r = await mf.checkLlmSummary(drv, 'chromium', models['tiny-llm']);
  browserTokens = r.job.steps[0].token_ids;
  figures.browser_tok_s = r.job.steps[0].tok_s;
});

test('chromium: Stop ends an LLM summary in the browser within 500 ms', { skip }, async () => {
  const r = await mf.checkStop(drv, 'chromium');
  figures.stop_browser_ms = Math.round(r.stop_ms);
});

test('chromium: a 20,000-word page is summarized through map-reduce, part by part', { skip }, async () => {
  await mf.installQuiet(drv, srv, mf.LLM1K_FILE, 'tiny-llm-1k');
  const r = await mf.checkLongPage(drv, 'chromium');
  figures.long_page = r;
});

test('chromium: a model installed in the browser is copied to sotto-host once and runs there', { skip: skip || (!mf.haveHostBinary && 'no sotto-host build') }, async () => {
  await mf.checkMoveToHost(drv, 'chromium', models['tiny-llm'], browserTokens);
  const r = await mf.checkStop(drv, 'chromium-native');
  figures.stop_native_ms = Math.round(r.stop_ms);
});

test('chromium: time from the right-click to the first token of an LLM summary of a 2,000-word page, browser and host', { skip: skip || (!mf.haveHostBinary && 'no sotto-host build') }, async () => {
  figures.first_token_browser = await mf.firstToken(drv);
  await drv.setHost(true);
  await mf.setSettings(drv, { pinnedNative: ['tiny-llm'] });
  try {
    figures.first_token_native = await mf.firstToken(drv);
  } finally {
    await mf.setSettings(drv, { pinnedNative: [] });
    await drv.setHost(false);
  }
});

test('chromium: your own labels, zero-shot by an NLI model converted from a Hugging Face folder; a sentiment classifier', { skip }, async () => {
  await drv.setHost(false);
  await mf.checkLabels(drv, srv, 'chromium', enc);
});

test('chromium: a tampered part of a cached model is refused', { skip }, async () => {
  await drv.setHost(false);
  await mf.checkTamperedPart(drv, 'chromium');
});
