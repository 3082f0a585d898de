// Encoder benchmark: sotto against onnxruntime on the same random weights.
//
// Two BERT shapes (all-MiniLM-L6-v2: 6 layers, hidden 384, 12 heads; and
// bert-base: 12 layers, hidden 768, 12 heads; vocabulary 30522), written as
// Hugging Face folders by tests/encoder/make_models.py, converted to GGUF by
// `sotto convert` (f32, and q8_0 for sotto's int8 path) and exported to ONNX
// by tests/encoder/export_onnx.py (torch.onnx, opset 14). Sequence 128,
// batch 1 and 8, mean-pooled embeddings from token ids (no tokenizer in the
// timing). The runners in this process (wasm engines, onnxruntime) take
// turns run by run (native sotto as a CLI process per run). Each reports
// the median: sotto's engine time (stats.ms) against the time of
// session.run().
//
//   node --no-experimental-fetch --no-liftoff tests/bench/encoder.mjs [minilm|bert-base]...
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { out, root, nativeCli, loadEngine } from '../js/helpers.mjs';
import { makeVocab } from '../tokenizers/vocabs.mjs';

const require = createRequire(import.meta.url);
const ortNode = require('onnxruntime-node');
const ortWeb = require('onnxruntime-web');

const dir = path.join(out, 'bench-models/encoder');
const SEQ = 128;
const SHAPES = { minilm: { model: 'bench-minilm', runs: 21 }, 'bert-base': { model: 'bench-bert-base', runs: 9 } };
const wanted = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(SHAPES);

function prepare(model) {
  const hf = path.join(dir, 'hf', model);
  if (!fs.existsSync(path.join(hf, 'model.safetensors'))) {
    const vocabs = path.join(dir, 'vocabs');
    makeVocab(vocabs, 'bert-uncased');
    execFileSync('/usr/bin/python3', [path.join(root, 'tests/encoder/make_models.py'),
      path.join(dir, 'hf'), vocabs, model], { stdio: 'inherit' });
  }
  const files = { onnx: path.join(dir, `${model}.onnx`) };
  if (!fs.existsSync(files.onnx))
    execFileSync('/usr/bin/python3', [path.join(root, 'tests/encoder/export_onnx.py'), hf, files.onnx],
      { stdio: ['ignore', 'ignore', 'ignore'] });
  for (const type of ['f32', 'q8_0']) {
    files[type] = path.join(dir, `${model}.${type}.gguf`);
    if (!fs.existsSync(files[type]) || fs.statSync(files[type]).mtimeMs < fs.statSync(nativeCli).mtimeMs)
      execFileSync(nativeCli, ['convert', hf, files[type], '--type', type], { stdio: 'inherit' });
  }
  return files;
}

// Random ids of a [CLS] ... [SEP] sequence, the same for every runner.
let seed = 12345;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
function batchIds(batch) {
  return Array.from({ length: batch }, () =>
    [101, ...Array.from({ length: SEQ - 2 }, () => 1000 + Math.floor(rand() * 28000)), 102]);
}
const request = (ids) => ({ op: 'embed', model: 'm', ids, pooling: 'mean', normalize: false });

// The native CLI, a process per run (it reads its requests to the end of
// input before it answers): the request runs twice and the second run's
// engine time counts, so loading and first-run costs stay out.
function nativeRunner(file, threads) {
  return {
    run: async (ids) => {
      const input = `${JSON.stringify(request(ids))}\n`.repeat(2);
      const res = execFileSync(nativeCli, ['--threads', String(threads), '--model', `m=${file}`, 'request'],
        { input, maxBuffer: 1 << 30 });
      const r = JSON.parse(res.toString().trim().split('\n')[1]);
      if (!r.result) throw new Error(JSON.stringify(r.error));
      return { ms: r.stats.ms, out: r.result.embeddings };
    },
    close() {},
  };
}

async function wasmRunner(flavour, file, threads) {
  const engine = await loadEngine(flavour, { threads });
  engine.addModel('m', fs.readFileSync(file));
  return {
    run: async (ids) => {
      const r = engine.request(request(ids));
      if (!r.result) throw new Error(JSON.stringify(r.error));
      return { ms: r.stats.ms, out: r.result.embeddings };
    },
    close: () => engine.destroy(),
  };
}

async function ortRunner(ort, file, threads) {
  const opts = ort === ortWeb ? { executionProviders: ['wasm'] } : { intraOpNumThreads: threads, interOpNumThreads: 1 };
  if (ort === ortWeb) ort.env.wasm.numThreads = threads;
  const session = await ort.InferenceSession.create(file, opts);
  return {
    run: async (ids) => {
      const flat = BigInt64Array.from(ids.flat().map(BigInt));
      const feeds = {
        input_ids: new ort.Tensor('int64', flat, [ids.length, SEQ]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(flat.length).fill(1n), [ids.length, SEQ]),
      };
      const t0 = performance.now();
      const r = await session.run(feeds);
      const ms = performance.now() - t0;
      const e = r.embeddings.data, H = e.length / ids.length;
      return { ms, out: Array.from({ length: ids.length }, (_, i) => Array.from(e.subarray(i * H, (i + 1) * H))) };
    },
    close: () => session.release(),
  };
}

const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const maxDiff = (a, b) => Math.max(...a.flatMap((r, i) => r.map((x, k) => Math.abs(x - b[i][k]))));

for (const shape of wanted) {
  const { model, runs } = SHAPES[shape];
  const f = prepare(model);
  const runners = {
    'sotto native 1T': nativeRunner(f.f32, 1),
    'sotto native 2T': nativeRunner(f.f32, 2),
    'sotto native int8 1T': nativeRunner(f.q8_0, 1),
    'sotto native int8 2T': nativeRunner(f.q8_0, 2),
    'ORT-node 1T': await ortRunner(ortNode, f.onnx, 1),
    'ORT-node 2T': await ortRunner(ortNode, f.onnx, 2),
    'sotto wasm 1T': await wasmRunner('wasm-simd', f.f32, 1),
    'sotto wasm int8 1T': await wasmRunner('wasm-simd', f.q8_0, 1),
    'ORT-web wasm 1T': await ortRunner(ortWeb, f.onnx, 1),
  };
  for (const batch of [1, 8]) {
    const rounds = Array.from({ length: runs + 2 }, () => batchIds(batch)); // two warm-up rounds
    const times = Object.fromEntries(Object.keys(runners).map((k) => [k, []])), outs = {};
    for (let r = 0; r < rounds.length; r++) {
      for (const [name, runner] of Object.entries(runners)) {
        const { ms, out } = await runner.run(rounds[r]);
        if (r >= 2) times[name].push(ms);
        if (r === 1) outs[name] = out;
      }
    }
    const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
    console.log(`\n${shape}, sequence ${SEQ}, batch ${batch}: median of ${runs} runs (ms)`);
    for (const [k, v] of Object.entries(m))
      console.log(`  ${k.padEnd(22)} ${v.toFixed(2).padStart(9)}   max |diff| vs ORT-node ${maxDiff(outs[k], outs['ORT-node 1T']).toExponential(1)}`);
    const ratio = (a, b) => (m[a] / m[b]).toFixed(2);
    console.log(`  sotto native / ORT-node: ${ratio('sotto native 1T', 'ORT-node 1T')} (1T), ${ratio('sotto native 2T', 'ORT-node 2T')} (2T);` +
      ` int8: ${ratio('sotto native int8 1T', 'ORT-node 1T')} (1T), ${ratio('sotto native int8 2T', 'ORT-node 2T')} (2T)`);
    console.log(`  sotto wasm / ORT-web wasm (1T): ${ratio('sotto wasm 1T', 'ORT-web wasm 1T')}; int8: ${ratio('sotto wasm int8 1T', 'ORT-web wasm 1T')}`);
    console.log(`  sotto wasm / sotto native (1T): ${ratio('sotto wasm 1T', 'sotto native 1T')}`);
  }
  for (const r of Object.values(runners)) await r.close();
}
process.exit(0);
