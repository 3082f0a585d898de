// @wllama/wllama (llama.cpp compiled to wasm) as the browser peer of sotto's
// wasm engine: it runs only in a browser, so this serves its files and a GGUF
// from 127.0.0.1 (with the COOP/COEP headers its threaded build needs) to
// Debian's Chromium, headless through playwright-core, and reads llama.cpp's
// own timings (prompt_per_second, predicted_per_second) from its replies.
// The same page runs sotto's threaded wasm build (out/wasm-mt) in a
// dedicated worker, as the extension does, with its own timings
// (prefill_tok_s, decode_tok_s). Used by tests/bench/llm.mjs.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { out, root } from '../js/helpers.mjs';

const esm = path.join(root, 'node_modules/@wllama/wllama/esm');

const page = `<!doctype html><meta charset="utf-8"><script type="module">
import { Wllama } from '/wllama/index.js';
window.bench = async (threads, prompt, decodePrompt, decode, ban) => {
  const w = new Wllama({ default: '/wllama/wasm/wllama.wasm' }, window.wllamaConfig);
  const blob = await (await fetch('/model.gguf')).blob();
  await w.loadModel([blob], { n_ctx: 1024, n_batch: 512, n_threads: threads });
  const logit_bias = Object.fromEntries(ban.map((id) => [id, -1000]));
  const ask = (p, n) => w.createCompletion({ prompt: p, max_tokens: n, temperature: 0, ignore_eos: true, cache_prompt: false, logit_bias });
  const pre = await ask(prompt, 1);
  const dec = await ask(decodePrompt, decode);
  const out = { threads: w.getNumThreads(), multithread: w.isMultithread(),
    prompt_n: pre.timings.prompt_n, prefill_tok_s: pre.timings.prompt_per_second,
    decode_n: dec.timings.predicted_n, decode_tok_s: dec.timings.predicted_per_second };
  await w.exit();
  return out;
};
window.wllamaConfig = location.hash === '#debug' ? {} : { suppressNativeLog: true, logger: { debug() {}, log() {}, warn() {}, error: console.error } };
window.sotto = (threads, tokens, decode) => new Promise((resolve, reject) => {
  const worker = new Worker('/sotto-worker.mjs', { type: 'module' });
  worker.onmessage = (e) => (worker.terminate(), e.data.error ? reject(new Error(e.data.error)) : resolve(e.data));
  worker.onerror = (e) => (worker.terminate(), reject(new Error(e.message)));
  worker.postMessage({ threads, tokens, decode });
});
window.ready = true;
</script>`;

// sotto's engine in a worker: the model fetched as bytes, a warm-up, then
// the prompt (prefill) and decoding after one token, greedy.
const sottoWorker = `import { SottoEngine } from '/sotto/engine.mjs';
import createSottoModule from '/sotto/build/sotto.mjs';
onmessage = async ({ data: { threads, tokens, decode } }) => {
  try {
    const engine = await SottoEngine.create(createSottoModule, { threads });
    engine.addModel('m', new Uint8Array(await (await fetch('/model.gguf')).arrayBuffer()));
    const gen = (t, n) => {
      const r = engine.request({ op: 'generate', model: 'm', tokens: t, max_tokens: n, temperature: 0, ignore_eos: true });
      if (r.error) throw new Error(JSON.stringify(r.error));
      return r.result.timings;
    };
    gen(tokens.slice(0, 32), 8);
    const pre = gen(tokens, 1), dec = gen(tokens.slice(0, 1), decode);
    postMessage({ threads, isolated: crossOriginIsolated, prompt_n: tokens.length,
      prefill_tok_s: pre.prefill_tok_s, decode_tok_s: dec.decode_tok_s });
    engine.destroy();
  } catch (e) {
    postMessage({ error: String(e?.message ?? e) });
  }
};`;

function serve(file) {
  const server = http.createServer((req, res) => {
    const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
    const url = new URL(req.url, 'http://x').pathname;
    let f, type;
    if (url === '/') return res.writeHead(200, { ...headers, 'Content-Type': 'text/html' }).end(page);
    if (url === '/sotto-worker.mjs') return res.writeHead(200, { ...headers, 'Content-Type': 'text/javascript' }).end(sottoWorker);
    const under = (dir, prefix) => path.join(dir, path.normalize(url.slice(prefix.length)).replace(/^(\.\.[/\\])+/, ''));
    if (url === '/model.gguf') f = file, type = 'application/octet-stream';
    else if (url.startsWith('/wllama/')) f = under(esm, '/wllama/');
    else if (url === '/sotto/engine.mjs') f = path.join(root, 'engine/wasm/engine.mjs');
    else if (url.startsWith('/sotto/build/')) f = under(path.join(out, 'wasm-mt/engine'), '/sotto/build/');
    if (f && !type) type = f.endsWith('.wasm') ? 'application/wasm' : 'text/javascript';
    if (!f || !fs.existsSync(f)) return res.writeHead(404, headers).end();
    res.writeHead(200, { ...headers, 'Content-Type': type, 'Content-Length': fs.statSync(f).size });
    fs.createReadStream(f).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// The ids of a byte-level BPE vocabulary (tokenizer.json) whose bytes are not
// whole UTF-8 characters. A random-weight model picks such fragments, and
// wllama fails on a reply whose text ends in a broken character, so they are
// biased away (a table of ~1,500 entries applied per token: no measurable cost).
export function fragmentIds(tokenizerJson) {
  const vocab = JSON.parse(fs.readFileSync(tokenizerJson, 'utf8')).model.vocab;
  const bs = [];
  for (let i = 33; i <= 126; i++) bs.push(i);
  for (let i = 161; i <= 172; i++) bs.push(i);
  for (let i = 174; i <= 255; i++) bs.push(i);
  const cs = [...bs];
  for (let b = 0, n = 0; b < 256; b++) if (!bs.includes(b)) bs.push(b), cs.push(256 + n++);
  const byte = new Map(cs.map((c, i) => [String.fromCodePoint(c), bs[i]]));
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  return Object.entries(vocab).filter(([t]) => {
    try {
      utf8.decode(Uint8Array.from([...t], (ch) => byte.get(ch) ?? 0));
      return false;
    } catch {
      return true;
    }
  }).map(([, id]) => id);
}

// Runs fn(page) on the bench page, served with `file` as its model, in a fresh
// headless Chromium (WLLAMA_DEBUG=1: the page's console and wllama's log).
async function onPage(file, fn) {
  const { chromium } = await import('playwright-core');
  const server = await serve(file);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
  try {
    const p = await browser.newPage();
    if (process.env.WLLAMA_DEBUG) p.on('console', (m) => console.log('page:', m.text().slice(0, 300)));
    await p.goto(`http://127.0.0.1:${server.address().port}/${process.env.WLLAMA_DEBUG ? '#debug' : ''}`);
    await p.waitForFunction(() => window.ready === true);
    return await fn(p);
  } finally {
    await browser.close();
    server.close();
  }
}

// Prefill of the text prompt (its token count is reported back) and decoding
// of `decode` tokens after a short prompt, in one fresh page per call.
export function wllamaSpeed(file, { threads = 1, prompt, decodePrompt = 'Once', decode = 128, ban = [] }) {
  return onPage(file, (p) => p.evaluate(([t, pr, dp, n, b]) => window.bench(t, pr, dp, n, b),
    [threads, prompt, decodePrompt, decode, ban]));
}

// sotto's threaded wasm build in the same page: prefill of the token ids
// `tokens`, decoding of `decode` tokens after the first one.
export function sottoBrowserSpeed(file, { threads = 1, tokens, decode = 128 }) {
  return onPage(file, (p) => p.evaluate(([t, ids, n]) => window.sotto(t, ids, n), [threads, tokens, decode]));
}

// As a process (playwright-core needs node's fetch, which the wasm engine's
// node glue must run without):
//   node tests/bench/wllama.mjs FILE THREADS DECODE TOKENIZER_JSON < prompt.txt  ->  one JSON line
//   node tests/bench/wllama.mjs --sotto FILE THREADS DECODE < token-ids.json     ->  one JSON line
if (import.meta.url === `file://${process.argv[1]}` && process.argv[2] === '--sotto') {
  const [file, threads, decode] = process.argv.slice(3);
  const tokens = JSON.parse(fs.readFileSync(0, 'utf8'));
  console.log(JSON.stringify(await sottoBrowserSpeed(file, { threads: +threads, tokens, decode: +decode })));
} else if (import.meta.url === `file://${process.argv[1]}`) {
  const prompt = fs.readFileSync(0, 'utf8');
  const [file, threads, decode, tokenizerJson] = process.argv.slice(2);
  const ban = tokenizerJson ? fragmentIds(tokenizerJson) : [];
  console.log(JSON.stringify(await wllamaSpeed(file, { threads: +threads, prompt, decode: +decode, ban })));
}
