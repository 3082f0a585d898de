// The model manager's rules without a browser: the catalogue of real models
// (every model the extension offers has its Hugging Face URL and licence,
// and no size or sha256 that was not read from the file), the router with
// the engine's estimates (the browser's budget and heap, Firefox's one
// thread), label sets as the user types them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { root } from './helpers.mjs';
import { route, memoryOf, FIREFOX_NATIVE_FROM } from '../../extension/src/router.js';

const MiB = 1 << 20;
const catalogue = JSON.parse(fs.readFileSync(path.join(root, 'models/catalogue.json'), 'utf8'));
const settings = (s = {}) => ({ routing: 'auto', budgetMiB: 1024, pinnedNative: [], ...s });

test('the catalogue offers the real models, with their Hugging Face URLs and licences', () => {
  const byName = Object.fromEntries(catalogue.models.map((m) => [m.name ?? m.id, m]));
  for (const [name, repo, quant] of [
    ['SmolLM2-360M-Instruct', 'SmolLM2-360M-Instruct', 'Q4_K_M'], ['Qwen2.5-0.5B-Instruct', 'Qwen2.5-0.5B-Instruct', 'Q4_K_M'],
    ['Qwen3-0.6B', 'Qwen3-0.6B', 'Q4_K_M'], ['Llama-3.2-1B-Instruct', 'Llama-3.2-1B-Instruct', 'Q4_K_M'], ['Gemma-3-1B-it', 'gemma-3-1b-it', 'Q4_K_M'],
  ]) {
    const m = byName[name];
    assert.ok(m, name);
    assert.equal(m.task, 'summarize');
    assert.equal(m.kind, 'llm');
    assert.equal(m.quantization, quant);
    assert.match(m.url, new RegExp(`^https://huggingface\\.co/[^/]+/[^/]*${repo}[^/]*-GGUF/resolve/main/[^/]*${quant}\\.gguf$`, 'i'));
    assert.ok(m.licence && m.licence_url, `${name}: licence`);
  }
  const folders = catalogue.models.filter((m) => m.install === 'folder');
  for (const repo of ['sentence-transformers/all-MiniLM-L6-v2', 'sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2',
    'distilbert/distilbert-base-uncased-finetuned-sst-2-english']) {
    assert.ok(folders.some((m) => m.repo === repo && m.url === `https://huggingface.co/${repo}`), repo);
  }
  assert.ok(folders.some((m) => m.kind === 'nli' && m.task === 'labels'), 'an NLI model for zero-shot labels');
  assert.ok(folders.some((m) => m.kind === 'classifier' && m.task === 'sentiment'), 'a sentiment classifier');
  for (const m of catalogue.models.filter((x) => x.url)) {
    // nothing pinned that was not measured: the extension reads both from Hugging Face
    assert.equal(m.sha256, null, `${m.id}: sha256`);
    assert.equal(m.bytes, null, `${m.id}: bytes`);
    assert.equal(m.bundled, false);
  }
});

test('the router uses the engine\'s estimate, the browser\'s heap and Firefox\'s single thread', () => {
  const llm = (mem, extra = {}) => ({ id: 'm', format: 'gguf', bytes: mem, memory_bytes: mem, runs_in: 'both', ...extra });
  const chrome = { browser: 'chrome', heapMax: 1024 * MiB, host: true };
  const firefox = { browser: 'firefox', heapMax: 2048 * MiB, host: true };
  assert.equal(route(llm(500 * MiB), settings(), chrome).where, 'browser');
  let r = route(llm(1500 * MiB), settings({ budgetMiB: 4096 }), chrome);
  assert.equal(r.where, 'native');
  assert.match(r.reason, /needs about 1500 MiB, the browser engine holds at most 1024 MiB/);
  r = route(llm(300 * MiB), settings(), firefox);
  assert.equal(r.where, 'native', 'Firefox: a large model goes to the host when it is there');
  assert.match(r.reason, /one thread/);
  assert.equal(route(llm(300 * MiB), settings(), { ...firefox, host: false }).where, 'browser', 'no host: the browser does it');
  assert.equal(route(llm(FIREFOX_NATIVE_FROM - 1), settings(), firefox).where, 'browser', 'small models stay in Firefox');
  assert.equal(route(llm(300 * MiB, { origin: 'host' }), settings(), chrome).where, 'native', 'a model only the host has');
  assert.equal(route(llm(300 * MiB, { origin: 'host' }), settings({ routing: 'browser' }), chrome).where, null);
  // without the engine's estimate: the size, with a quarter more for a GGUF file
  assert.deepEqual(memoryOf({ format: 'gguf', bytes: 400 }), { bytes: 500, from: 'size' });
  assert.deepEqual(memoryOf({ format: 'gguf', bytes: 400, estimate: { resident_bytes: 450 } }), { bytes: 450, from: 'engine' });
  assert.match(route({ id: 'x', format: 'gguf', bytes: 1000 * MiB }, settings(), chrome).reason, /from its size/);
});

test('label sets as the user types them', async () => {
  // settings.js imports the platform layer, which needs an extension: its
  // parser is checked through a copy of the module without that import.
  const src = fs.readFileSync(path.join(root, 'extension/src/settings.js'), 'utf8')
    .replace(/^import .*platform\.js';$/m, 'const local = {}, session = {};')
    .replace("from '../engine/engine.mjs'", `from '${pathToFileURL(path.join(root, 'engine/wasm/engine.mjs')).href}'`);
  const mod = await import(`data:text/javascript,${encodeURIComponent(src)}`);
  assert.deepEqual(mod.parseLabelSet('Topic: sports, politics, science, business'),
    { name: 'Topic', labels: ['sports', 'politics', 'science', 'business'] });
  assert.deepEqual(mod.parseLabelSet('  Mood :happy,sad , happy ').labels, ['happy', 'sad']);
  assert.throws(() => mod.parseLabelSet('no colon here'), (e) => e.code === 'bad_request');
  assert.throws(() => mod.parseLabelSet('One: only'), (e) => e.code === 'bad_request' && /2 to/.test(e.message));
});

test('sotto-host models catalogue: the same models, and which the store holds', async () => {
  const { makeHome, hostCli, hostBin } = await import('./host-client.mjs');
  if (!fs.existsSync(hostBin)) return;
  const h = makeHome('sotto-catalogue-');
  const env = { ...h.env, SOTTO_CATALOGUE: path.join(root, 'models/catalogue.json') };
  const lid = path.join(root, 'out/models/lid176.ftz');
  if (fs.existsSync(lid)) hostCli(env, ['models', 'add', lid, '--id', 'qwen3-0.6b', '--format', 'fasttext']); // any file, under a catalogue id
  const list = JSON.parse(hostCli(env, ['models', 'catalogue', '--json']));
  assert.deepEqual(list.map((m) => m.id), catalogue.models.filter((m) => m.url).map((m) => m.id));
  assert.equal(list.find((m) => m.id === 'qwen3-0.6b').installed, fs.existsSync(lid));
  assert.equal(list.find((m) => m.id === 'gemma-3-1b-it').installed, false);
  const text = hostCli(env, ['models', 'catalogue']);
  assert.match(text, /huggingface\.co\/bartowski\/Llama-3\.2-1B-Instruct-GGUF/);
  assert.match(text, /sotto-host models add FILE/);
  // without $SOTTO_CATALOGUE: the copy the build puts beside the binary
  assert.deepEqual(JSON.parse(hostCli(h.env, ['models', 'catalogue', '--json'])), list);
});
