// The first answer of a browser session: right-click "Summarize page" on the
// 2,366-word demo article (extension/demo/article.html) in a fresh browser
// profile, to the summary showing in the page's panel, in Chromium and
// Firefox with the built extension (make extension), headless. Two cases:
//   "at once"   the click as soon as the page has loaded after the browser
//               started: the engine is not loaded, nothing was prepared;
//   "after 6 s" the click 6 s later: the background has prepared the engine
//               (it starts it 5 s after it starts itself), no model loaded.
// Five fresh browsers per case; the figures are medians. "click" is the
// menu event (Chromium: contextMenus.onClicked.dispatch; Firefox: the same
// handler with the real tab); "shown" is when the panel had the summary
// (its Date.now(), the same clock). The browser's own start is timed too:
// the extension starts nothing heavy with it.
// Run: node tests/bench/coldstart.mjs   (plain node: the drivers need fetch)
import { chromiumDriver, firefoxDriver, startServer, tmpdir, waitFor } from '../e2e/helpers.mjs';
import { routes, runMenu, panelOf } from '../e2e/flows.mjs';
import fs from 'node:fs';

const RUNS = Number(process.env.RUNS ?? 5);
const server = await startServer(routes());
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
for (const name of ['chromium', 'firefox']) {
  for (const wait of [0, 6000]) {
    const shownMs = [], firstMs = [], launchMs = [];
    for (let run = 0; run < RUNS; run++) {
      const home = name === 'firefox' ? tmpdir('home') : null;
      const t0 = Date.now();
      const { browser, drv } = name === 'chromium' ? await chromiumDriver(server) : await firefoxDriver(server, { home });
      launchMs.push(Date.now() - t0);
      try {
        await drv.page.goto(`${server.base}/article.html`);
        if (wait) await new Promise((r) => setTimeout(r, wait));
        const job = await runMenu(drv, 'summarize-page', { pageUrl: `${server.base}/article.html` });
        if (job.status !== 'done') throw new Error(JSON.stringify(job.error ?? job.steps[0].error));
        const panel = await waitFor(async () => { const p = await panelOf(drv); return p?.answeredAt ? p : null; }, 10000, 'the panel');
        shownMs.push(panel.answeredAt - job.started);
        firstMs.push(job.first_ms);
      } finally {
        await browser.close();
        if (home) fs.rmSync(home, { recursive: true, force: true });
      }
    }
    rows.push({ name, wait, shown: median(shownMs), first: median(firstMs), launch: median(launchMs), all: shownMs });
  }
}
await server.close();
console.log('| browser | click | click to summary shown (median) | click to summary computed | runs (shown) | browser launch |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.name} | ${r.wait ? `after ${r.wait / 1000} s` : 'at once'} | ${r.shown} ms | ${r.first} ms | ${r.all.join(', ')} | ${r.launch} ms |`);
}
