// The model manager and language-model summaries in real Chromium
// (model-flows.mjs): install with consent and progress, a dropped connection
// resumed, a GGUF split in parts joined, a quota too small refused up
// front, a streamed summary in the browser with the native engine's tokens,
// Stop, a 20,000-word page through map-reduce, the model moved to the real
// sotto-host once and used there, a tampered cached part refused.
import { before, after } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import { chromiumDriver, CHROMIUM, dist } from './helpers.mjs';
import { routes as pageRoutes } from './flows.mjs';
import { startHfServer } from './hf-server.mjs';
import * as mf from './model-flows.mjs';

const ready = fs.existsSync(CHROMIUM) && fs.existsSync(path.join(dist, 'chrome/manifest.json'));
const skip = !ready && 'needs chromium and make extension';
let browser, srv, drv, models, enc;
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

mf.suite('chromium', () => ({ drv, srv, models, enc }), skip, figures);
