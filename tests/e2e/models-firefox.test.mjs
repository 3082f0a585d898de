// The model manager and language-model summaries in real Firefox ESR
// (model-flows.mjs): install with consent and progress, a dropped connection
// resumed, a GGUF split in parts joined, a quota too small refused up
// front, a streamed summary in the browser with the native engine's tokens,
// Stop, a 20,000-word page through map-reduce, the model moved to the real
// sotto-host once and used there, a tampered cached part refused.
import { before, after } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import { firefoxDriver, FIREFOX, dist, tmpdir } from './helpers.mjs';
import { routes as pageRoutes } from './flows.mjs';
import { startHfServer } from './hf-server.mjs';
import * as mf from './model-flows.mjs';

const ready = fs.existsSync(FIREFOX) && fs.existsSync(path.join(dist, 'firefox/manifest.json'));
const skip = !ready && 'needs firefox-esr and make extension';
let browser, srv, drv, models, enc, home;
const figures = {};

before(async () => {
  if (skip) return;
  models = mf.makeModels();
  enc = await mf.makeEncoders();
  srv = await startHfServer({ repos: { ...mf.repos(models), ...enc.repos }, routes: { ...pageRoutes(), ...mf.routes() } });
  home = tmpdir('home');
  ({ browser, drv } = await firefoxDriver(srv, { home }));
});

after(async () => {
  if (Object.keys(figures).length) console.log(`# firefox models: ${JSON.stringify(figures)}`);
  await browser?.close();
  await srv?.close();
  if (home) fs.rmSync(home, { recursive: true, force: true });
});

mf.suite('firefox', () => ({ drv, srv, models, enc }), skip, figures);
