// What a reader gets, checked in both browsers (chromium.test.mjs and
// firefox.test.mjs run these with their driver, see flows.mjs): long
// documentation pages in English, German and French whose HTML source is
// hard-wrapped (tests/pages/, built by make-pages.py from a markup in which
// their author marked every sentence), summarized from the page and from a
// selection:
//   - every summary item is one of the sentences the author marked in the
//     page's paragraphs and list items: never a fragment, a heading, a
//     caption, a table cell, a footnote or navigation;
//   - long pages are summarized from across their sections, not the opening;
//   - the browser and the native engine choose the same sentences;
//   - a select-all longer than the 16,384 characters Firefox gives a menu
//     click is read whole from the page;
//   - the panel stands beside or below the selection, never over it; dragged
//     by its title it moves, and the next page's panel comes where it was put.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { root, out, artifacts, nativeRequest, waitFor } from './helpers.mjs';
import { runMenu, setSettings, panelOf } from './flows.mjs';

const pagesDir = path.join(out, 'e2e-pages');
execFileSync('/usr/bin/python3', [path.join(root, 'tests/pages/make-pages.py'), pagesDir], { stdio: 'ignore' });
export const PAGES = fs.readFileSync(path.join(pagesDir, 'index.txt'), 'utf8').trim().split('\n');

export function pageRoutes() {
  return Object.fromEntries(PAGES.map((p) => [`/pages/${p}.html`, path.join(pagesDir, `${p}.html`)]));
}

const squeeze = (s) => s.replace(/[\s\u00a0\u202f]+/g, ' ').trim();

// The author's sentences of a page, with their section and position, and
// the texts that must never be chosen (headings, captions, cells, notes).
function marked(name) {
  const info = JSON.parse(fs.readFileSync(path.join(pagesDir, `${name}.json`), 'utf8'));
  const sentences = [], never = new Set();
  for (const b of info.blocks) {
    if (b.sentences) for (const s of b.sentences) sentences.push({ text: squeeze(s), section: b.section });
    else for (const t of b.cells ?? [b.text]) never.add(squeeze(t));
  }
  return { info, sentences, never };
}

// Checks a summary's sentences against the page's marked ones; returns the
// sections they come from and the position of the last one (0..1).
function checkAgainstPage(name, what, result) {
  const { sentences, never } = marked(name);
  const sections = new Set();
  let last = 0;
  for (const s of result.sentences) {
    const text = squeeze(s.text);
    assert.ok(!never.has(text), `${name} ${what}: "${text}" is a heading, caption, cell or note`);
    assert.doesNotMatch(text, /\[\d+\]/, `${name} ${what}: no footnote marker`);
    const i = sentences.findIndex((m) => m.text === text);
    assert.ok(i >= 0, `${name} ${what}: "${text}" is a whole sentence of the page's text`);
    sections.add(sentences[i].section);
    last = Math.max(last, i / sentences.length);
  }
  return { sections: sections.size, last };
}

// Summarize page on each test page, short and long key points.
export async function checkPageSummaries(drv, name) {
  const coverage = [];
  try {
    for (const page of PAGES) {
      for (const length of ['short', 'long']) {
        await setSettings(drv, { style: 'key-points', length });
        await drv.page.goto(`${drv.base}/pages/${page}.html`);
        const job = await runMenu(drv, 'summarize-page', { pageUrl: `${drv.base}/pages/${page}.html` });
        const step = job.steps[0];
        assert.equal(job.status, 'done', JSON.stringify(job.error ?? step.error));
        const { sections, last } = checkAgainstPage(page, `page ${length}`, step.result);
        coverage.push(`${page} ${length}: ${sections} sections, last at ${last.toFixed(2)}`);
        assert.ok(sections >= 3 && last >= 0.5, `${page} ${length}: from ${sections} sections, the last at ${last.toFixed(2)}`);
        // the page's structure went to the engine: the native engine agrees
        assert.ok(Array.isArray(job.blocks) && job.blocks.some((b) => b.kind === 'heading'), 'the page went as blocks');
        const native = nativeRequest({ id: 'n', op: 'summarize', blocks: job.blocks, style: 'key-points', length });
        assert.deepEqual(step.result.sentences.map((s) => s.text), native.result.sentences.map((s) => s.text));
      }
    }
  } finally {
    await setSettings(drv, { style: 'key-points', length: 'short' });
  }
  console.log(`${name} page summaries: ${coverage.join('; ')}`);
}

// Selects the nodes from the element with id `from` to the one with id `to`.
async function selectRange(page, from, to) {
  return page.evaluate(([from, to]) => {
    document.getElementById(from).scrollIntoView(); // as a reader sees what they select
    const r = document.createRange();
    r.setStartBefore(document.getElementById(from));
    r.setEndAfter(document.getElementById(to).nextElementSibling ?? document.getElementById(to));
    getSelection().removeAllRanges();
    getSelection().addRange(r);
    return getSelection().toString();
  }, [from, to]);
}

// Summarize selection over three sections of each page, from the page's
// own selection; the panel beside or below it (screenshot).
export async function checkSelectionSummaries(drv, name) {
  for (const page of PAGES) {
    await drv.page.goto(`${drv.base}/pages/${page}.html`);
    const text = await selectRange(drv.page, 's3', 's5');
    const job = await runMenu(drv, 'summarize-selection', { selectionText: text, pageUrl: `${drv.base}/pages/${page}.html` });
    assert.equal(job.status, 'done', JSON.stringify(job.error ?? job.steps[0].error));
    checkAgainstPage(page, 'selection', job.steps[0].result);
    if (page.startsWith('en')) {
      await checkPanelPlacement(drv, `${name}-panel-beside-selection`);
      await checkPanelDrag(drv, `${drv.base}/pages/${page}.html`);
    }
  }
}

// The user drags the panel by its title (real pointer events); on the page
// loaded again, with nothing selected, the next panel stands where it was put.
async function checkPanelDrag(drv, url) {
  const p = (await panelOf(drv)).rect;
  const to = { left: 24, top: 32 };
  await drv.page.mouse.move(p.left + 30, p.top + 15);
  await drv.page.mouse.down();
  await drv.page.mouse.move((p.left + 30 + to.left + 30) / 2, (p.top + 15 + to.top + 15) / 2);
  await drv.page.mouse.move(to.left + 30, to.top + 15);
  await drv.page.mouse.up();
  const moved = (await panelOf(drv)).rect;
  assert.ok(Math.abs(moved.left - to.left) <= 2 && Math.abs(moved.top - to.top) <= 2, `dragged to ${JSON.stringify(moved)}`);
  try {
    await drv.page.goto(url);
    await drv.page.evaluate(() => getSelection().removeAllRanges());
    const job = await runMenu(drv, 'summarize-page', { pageUrl: url });
    assert.equal(job.status, 'done', JSON.stringify(job.error ?? job.steps[0].error));
    const again = (await waitFor(async () => { const x = await panelOf(drv); return x?.status === 'done' ? x : null; }, 10000, 'the panel')).rect;
    assert.ok(Math.abs(again.left - to.left) <= 2 && Math.abs(again.top - to.top) <= 2, `remembered: ${JSON.stringify(again)}`);
  } finally {
    await drv.bg(({ api }) => api.storage.local.remove('panelPlace'));
  }
}

// The panel's box never meets the selection's boxes.
async function checkPanelPlacement(drv, shotName) {
  const panel = await waitFor(async () => { const p = await panelOf(drv); return p?.status === 'done' ? p : null; }, 10000, 'the panel');
  const rects = await drv.page.evaluate(() => [...getSelection().getRangeAt(0).getClientRects()]
    .filter((r) => r.width > 0 && r.bottom > 0 && r.top < innerHeight)
    .map((r) => ({ left: r.left, top: r.top, right: r.right, bottom: r.bottom })));
  // the page's own scripts see the panel's element, not what it shows
  const open = await drv.page.evaluate(() => { const h = document.querySelector('sotto-results'); return h ? Boolean(h.shadowRoot) : null; });
  assert.equal(open, false, 'the panel is closed to page scripts');
  const p = panel.rect;
  for (const r of rects) {
    const overlap = p.left < r.right && r.left < p.right && p.top < r.bottom && r.top < p.bottom;
    assert.ok(!overlap, `the panel ${JSON.stringify(p)} covers the selection ${JSON.stringify(r)}`);
  }
  await drv.page.screenshot({ path: path.join(artifacts, `${shotName}.png`) });
}

// A select-all of the English page: more than Firefox's 16,384 characters
// of selectionText, summarized whole.
export async function checkSelectAll(drv, name) {
  const page = PAGES.find((p) => p.startsWith('en'));
  await drv.page.goto(`${drv.base}/pages/${page}.html`);
  const all = await drv.page.evaluate(() => {
    getSelection().selectAllChildren(document.body);
    return getSelection().toString();
  });
  assert.ok(all.length > 16384, `the selection has ${all.length} characters`);
  // what a menu click hands over in Firefox
  const job = await runMenu(drv, 'summarize-selection', { selectionText: all.slice(0, 16384), pageUrl: `${drv.base}/pages/${page}.html` });
  assert.equal(job.status, 'done', JSON.stringify(job.error ?? job.steps[0].error));
  const { sentences, info } = marked(page);
  // the page's words outside its notes (footnotes are read apart)
  const words = info.blocks.filter((b) => b.kind !== 'footnote').reduce((n, b) => n + b.text.split(/\s+/).filter(Boolean).length, 0);
  assert.ok(job.source.words >= words, `read ${job.source.words} of the page's ${words} words`);
  assert.equal(job.source.cut, undefined, 'nothing cut');
  const input = squeeze(job.blocks.map((b) => b.text).join(' '));
  const lastSentence = sentences.at(-1).text;
  assert.ok(input.includes(lastSentence), 'the last sentence of the page was read');
  assert.ok(all.slice(0, 16384).indexOf(lastSentence.slice(0, 40)) < 0, 'which Firefox\'s selectionText lacks');
  const { last } = checkAgainstPage(page, 'select-all', job.steps[0].result);
  console.log(`${name} select-all: ${all.length} characters selected, ${job.source.words} words read, last summary sentence at ${last.toFixed(2)}`);
}
