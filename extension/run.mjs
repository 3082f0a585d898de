#!/usr/bin/env node
// run.mjs - `make run`: Chromium with the extension (out/extension/dist/chrome)
// and the native host registered in a throwaway profile, on the bundled demo
// article served from 127.0.0.1. It summarizes the page and classifies a
// paragraph through the real context-menu handlers, prints the answers and
// saves a screenshot to out/artifacts/run-demo.png. With a display the
// browser stays open for you to try (select text, right-click); without one
// (or with SOTTO_HEADLESS=1) it runs headless and exits, with status 1 unless
// both answers came out (`make test` runs it so).
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ext = path.join(root, 'out/extension/dist/chrome');
const hostBin = path.join(root, 'out/native/native-host/sotto-host');
const shot = path.join(root, 'out/artifacts/run-demo.png');
const ids = JSON.parse(fs.readFileSync(path.join(root, 'extension/ids.json'), 'utf8'));
const headed = Boolean(process.env.DISPLAY) && process.env.SOTTO_HEADLESS !== '1';

if (!fs.existsSync(path.join(ext, 'manifest.json'))) {
  console.error('run: no extension build; run `make extension` first');
  process.exit(1);
}

const article = fs.readFileSync(path.join(root, 'extension/demo/article.html'));
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(article);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}/article.html`;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sotto-run-'));
const profile = path.join(tmp, 'profile');
const allowed = path.join(tmp, 'sotto-host.allowed');
fs.writeFileSync(allowed, `chrome-extension://${ids.chrome}/\n`);
if (fs.existsSync(hostBin)) {
  // The same registration `make install-host` writes, into this profile only.
  fs.mkdirSync(path.join(profile, 'NativeMessagingHosts'), { recursive: true });
  fs.writeFileSync(path.join(profile, 'NativeMessagingHosts/org.sotto.host.json'), JSON.stringify({
    name: 'org.sotto.host', description: 'sotto native engine', path: hostBin, type: 'stdio',
    allowed_origins: [`chrome-extension://${ids.chrome}/`],
  }, null, 2));
} else {
  console.log('run: no native host build; requests run in the browser only');
}

const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: !headed,
  viewport: { width: 1280, height: 860 },
  args: [`--disable-extensions-except=${ext}`, `--load-extension=${ext}`, '--no-sandbox',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  // The host checks its caller against an allow-list; name this profile's.
  env: { ...process.env, HOME: tmp, SOTTO_HOST_ALLOWED: allowed },
});
// Ctrl-C (or a timeout) still leaves no profile behind.
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    await ctx.close().catch(() => {});
    fs.rmSync(tmp, { recursive: true, force: true });
    process.exit(130);
  });
}
const t0 = Date.now();
// Headless runs are checks: they must end.
const deadline = headed ? null : setTimeout(() => { console.error('run: no answer within 180 s'); process.exit(1); }, 180000);
const sw = ctx.serviceWorkers()[0] ?? await ctx.waitForEvent('serviceworker');
const page = ctx.pages()[0] ?? await ctx.newPage();
await page.goto(url);

// The real menu handlers, as a right-click would fire them.
async function click(info) {
  const tab = await sw.evaluate(async (u) => (await chrome.tabs.query({})).find((t) => t.url === u), url);
  const before = await sw.evaluate(() => [...globalThis.sotto.jobs.keys()]);
  await sw.evaluate(([info, tab]) => chrome.contextMenus.onClicked.dispatch(info, tab), [{ ...info, pageUrl: url }, tab]);
  for (;;) {
    const job = await sw.evaluate((b) => {
      const j = [...globalThis.sotto.jobs.values()].find((x) => !b.includes(x.id));
      return j && j.status !== 'running' ? { ...j, input: undefined } : null;
    }, before);
    if (job) return job;
    await new Promise((r) => setTimeout(r, 100));
  }
}

let failed = 0;
function report(job) {
  if (job.status !== 'done') failed++;
  if (job.error) console.log(`\n== ${job.error.code}: ${job.error.message}`);
  for (const s of job.steps) {
    const where = s.where === 'native' ? 'native host' : 'browser';
    console.log(`\n== ${s.title} (model ${s.model ?? '-'}, ran in ${where}, ${s.ms ?? '?'} ms)`);
    if (s.error) console.log(`   ${s.error.message}${s.error.hint ? `\n   ${s.error.hint}` : ''}`);
    else if (s.result?.sentences) for (const x of s.result.sentences) console.log(`  • ${x.text}`);
    else if (s.result?.labels) console.log(`   ${s.result.labels.map((l) => `${l.label} ${(l.prob * 100).toFixed(1)}%`).join(', ')}`);
  }
}

const summary = await click({ menuItemId: 'summarize-page' });
console.log(`sotto demo: "${summary.source?.title}" (${summary.source?.words} words), ` +
  `first summary ${Date.now() - t0} ms after the browser started`);
report(summary);
const para = await page.evaluate(() => {
  const p = document.querySelectorAll('article p')[3];
  const r = document.createRange();
  r.selectNodeContents(p);
  getSelection().removeAllRanges();
  getSelection().addRange(r);
  return getSelection().toString();
});
report(await click({ menuItemId: 'classify-selection', selectionText: para }));
fs.mkdirSync(path.dirname(shot), { recursive: true });
await page.screenshot({ path: shot });
console.log(`\nscreenshot: ${path.relative(root, shot)}`);

if (headed) {
  console.log('The browser stays open: select text on the page and right-click for sotto. Close it to finish.');
  await new Promise((r) => ctx.on('close', r));
} else {
  await ctx.close();
}
clearTimeout(deadline);
server.close();
fs.rmSync(tmp, { recursive: true, force: true });
if (failed) {
  console.error(`run: ${failed} of the demo's requests failed`);
  process.exit(1);
}
