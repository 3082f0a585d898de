// The extension in real Firefox (Debian's firefox-esr, headless, through
// puppeteer-core over WebDriver BiDi): the single-threaded engine in a worker
// of the background page, the context menu handler called with a real tab
// (Firefox has no onClicked.dispatch), the native host, installs and the
// encrypted cache.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launchFirefox, startServer, hostBinary, hostManifest, FIREFOX, dist, tmpdir } from './helpers.mjs';
import * as flows from './flows.mjs';

const ready = fs.existsSync(FIREFOX) && fs.existsSync(path.join(dist, 'firefox/manifest.json'));
const skip = !ready && 'needs firefox-esr and make extension';
const skipModels = skip || (!flows.haveModels && 'needs the bundled models (make models)');

let browser, server, drv, ext, home;
const timings = {};

before(async () => {
  if (skip) return;
  server = await startServer(flows.routes());
  home = tmpdir('home');
  const manifestPath = path.join(home, '.mozilla/native-messaging-hosts/org.sotto.host.json');
  const t0 = Date.now();
  browser = await launchFirefox({ home });
  const page = await browser.browser.newPage();
  ext = await browser.extensionPage('src/results.html');
  timings.launch_ms = Date.now() - t0;
  // Runs fn({ sotto, api }, arg) against the background page, from an
  // extension page (results are copied out as JSON).
  const bg = (fn, arg) => ext.evaluate(new Function('arg', `return (async () => {
      const bg = await browser.runtime.getBackgroundPage();
      const r = await (${fn.toString()})({ sotto: bg.sotto, api: browser }, arg);
      return r === undefined ? null : JSON.parse(JSON.stringify(r));
    })()`), arg);
  drv = {
    page,
    base: server.base,
    bg,
    async menu(info) {
      await page.bringToFront();
      // The exported handler, with the real tab the page is in.
      await bg(async ({ sotto, api }, [info, url]) => {
        const tab = (await api.tabs.query({})).find((t) => t.url === url);
        if (!tab) throw new Error(`no tab for ${url}`);
        sotto.onMenuClick(info, tab); // not awaited, like the menu event
        return tab.id;
      }, [info, page.url()]);
    },
    async openExtensionPage(file) { return browser.extensionPage(file); },
    async setHost(on) {
      if (on) {
        fs.mkdirSync(path.dirname(manifestPath), { recursive: true });
        fs.writeFileSync(manifestPath, JSON.stringify(hostManifest('firefox', hostBinary)));
      } else {
        fs.rmSync(manifestPath, { force: true });
      }
      await bg(({ sotto }) => sotto.host.disconnect());
    },
  };
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
  const ids = await drv.bg(async ({ api }) => {
    const found = [];
    for (const id of ['summarize-selection', 'summarize-page', 'classify-selection']) {
      try { await api.contextMenus.update(id, {}); found.push(id); } catch { /* missing */ }
    }
    return found;
  });
  assert.deepEqual(ids.sort(), ['classify-selection', 'summarize-page', 'summarize-selection']);
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
