// Encoder benchmark: sotto against onnxruntime on the same random weights.
//
// Two BERT shapes (all-MiniLM-L6-v2: 6 layers, hidden 384, 12 heads; and
// bert-base: 12 layers, hidden 768, 12 heads; vocabulary 30522), written as
// Hugging Face folders by tests/encoder/make_models.py, converted to GGUF by
// `sotto convert` (f32, and q8_0 for sotto's int8 path) and exported to ONNX
// by tests/encoder/export_onnx.py (torch.onnx, opset 14; and with --int8 as
// onnxruntime's dynamic quantization writes it, the peers' int8 path). Sequence 128,
// batch 1 and 8, mean-pooled embeddings from token ids (no tokenizer in the
// timing), 1 and 2 threads: sotto native (the CLI, a process per run),
// onnxruntime-node (f32 and int8), sotto wasm (SIMD; SIMD + threads) and onnxruntime-web's
// wasm backend (f32 and int8 with 1 thread here; f32 with 2 threads in a child process: its thread
// count is fixed when its wasm starts). The runners take turns run by run;
// each reports sotto's engine time (stats.ms) or onnxruntime's
// session.run(), after warm-up rounds: MiniLM 21 runs at batch 1 and 8 after
// two warm-ups (about 2 minutes on a quiet machine); BERT-base 5 runs at
// batch 1 and 3 at batch 8 after one (12 minutes in all on this project's
// 2-core machine at a load average of 9-11: 191 s for batch 1, 480 s for
// batch 8, where the wasm and onnxruntime-web runners take seconds a run and
// the native CLI loads the 0.4 GB model in every run). Each table prints the
// time it took. The tables give medians and minimums (on a loaded machine the
// minimum is the run least disturbed by other work), then every ratio of the
// issue's targets in one table.
//
//   node --no-experimental-fetch --no-liftoff tests/bench/encoder.mjs [minilm|bert-base]...
import { execFileSync, fork } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { out, root, nativeCli, loadEngine } from '../js/helpers.mjs';
import { makeVocab } from '../tokenizers/vocabs.mjs';

const require = createRequire(import.meta.url);
const dir = path.join(out, 'bench-models/encoder');
const SEQ = 128;
// Timed runs by batch size, after warm-up rounds.
const SHAPES = {
  minilm: { model: 'bench-minilm', runs: { 1: 21, 8: 21 }, warmup: 2 },
  'bert-base': { model: 'bench-bert-base', runs: { 1: 5, 8: 3 }, warmup: 1 },
};


function prepare(model) {
  const hf = path.join(dir, 'hf', model);
  if (!fs.existsSync(path.join(hf, 'model.safetensors'))) {
    const vocabs = path.join(dir, 'vocabs');
    makeVocab(vocabs, 'bert-uncased');
    execFileSync('/usr/bin/python3', [path.join(root, 'tests/encoder/make_models.py'),
      path.join(dir, 'hf'), vocabs, model], { stdio: 'inherit' });
  }
  const files = { onnx: path.join(dir, `${model}.onnx`), onnx8: path.join(dir, `${model}.int8.onnx`) };
  for (const [key, flags] of [['onnx', []], ['onnx8', ['--int8']]])
    if (!fs.existsSync(files[key]))
      execFileSync('/usr/bin/python3', [path.join(root, 'tests/encoder/export_onnx.py'), hf, files[key], ...flags],
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

async function ortRun(ort, session, ids) {
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
}

async function ortNodeRunner(file, threads) {
  const ort = require('onnxruntime-node');
  const session = await ort.InferenceSession.create(file, { intraOpNumThreads: threads, interOpNumThreads: 1 });
  return { run: (ids) => ortRun(ort, session, ids), close: () => session.release() };
}

// onnxruntime-web, 1 thread in this process (its first use fixes the count).
async function ortWebRunner(file) {
  const ort = require('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(file, { executionProviders: ['wasm'] });
  return { run: (ids) => ortRun(ort, session, ids), close: () => session.release() };
}

function ortWebChild(file, threads) {
  const child = fork(fileURLToPath(import.meta.url), ['--ort-web-child', String(threads), file],
    { execArgv: ['--no-experimental-fetch'] });
  return {
    run: (ids) => new Promise((resolve) => { child.once('message', resolve); child.send(ids); }),
    close: () => child.disconnect(),
  };
}

const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const min = (a) => Math.min(...a);
const maxDiff = (a, b) => Math.max(...a.flatMap((r, i) => r.map((x, k) => Math.abs(x - b[i][k]))));
const load = () => os.loadavg().map((x) => x.toFixed(1)).join(' ');

// The ratios the issue sets targets for: [label, sotto runner, peer runner].
const RATIOS = [
  ['native / ORT-node 1T', 'sotto native 1T', 'ORT-node 1T'],
  ['native / ORT-node 2T', 'sotto native 2T', 'ORT-node 2T'],
  ['native int8 / ORT-node 1T', 'sotto native int8 1T', 'ORT-node 1T'],
  ['native int8 / ORT-node 2T', 'sotto native int8 2T', 'ORT-node 2T'],
  ['wasm / ORT-web 1T', 'sotto wasm 1T', 'ORT-web 1T'],
  ['wasm int8 / ORT-web 1T', 'sotto wasm int8 1T', 'ORT-web 1T'],
  ['native int8 / ORT-node int8 1T', 'sotto native int8 1T', 'ORT-node int8 1T'],
  ['native int8 / ORT-node int8 2T', 'sotto native int8 2T', 'ORT-node int8 2T'],
  ['wasm int8 / ORT-web int8 1T', 'sotto wasm int8 1T', 'ORT-web int8 1T'],
  ['wasm / ORT-web 2T', 'sotto wasm 2T', 'ORT-web 2T'],
  ['wasm int8 / ORT-web 2T', 'sotto wasm int8 2T', 'ORT-web 2T'],
  ['wasm / native 1T', 'sotto wasm 1T', 'sotto native 1T'],
  ['wasm / native 2T', 'sotto wasm 2T', 'sotto native 2T'],
];

async function main() {
  const wanted = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(SHAPES);
  console.log(`${os.cpus()[0].model}, ${os.cpus().length} cores, node ${process.version}; load average ${load()} (1, 5, 15 min)`);
  const summary = [];
  for (const shape of wanted) {
    const { model, runs: runsOf, warmup } = SHAPES[shape];
    const f = prepare(model);
    const runners = {
      'sotto native 1T': nativeRunner(f.f32, 1),
      'sotto native 2T': nativeRunner(f.f32, 2),
      'sotto native int8 1T': nativeRunner(f.q8_0, 1),
      'sotto native int8 2T': nativeRunner(f.q8_0, 2),
      'ORT-node 1T': await ortNodeRunner(f.onnx, 1),
      'ORT-node 2T': await ortNodeRunner(f.onnx, 2),
      'ORT-node int8 1T': await ortNodeRunner(f.onnx8, 1),
      'ORT-node int8 2T': await ortNodeRunner(f.onnx8, 2),
      'sotto wasm 1T': await wasmRunner('wasm-simd', f.f32, 1),
      'sotto wasm int8 1T': await wasmRunner('wasm-simd', f.q8_0, 1),
      'sotto wasm 2T': await wasmRunner('wasm-simd-threads', f.f32, 2),
      'sotto wasm int8 2T': await wasmRunner('wasm-simd-threads', f.q8_0, 2),
      'ORT-web 1T': await ortWebRunner(f.onnx),
      'ORT-web int8 1T': await ortWebRunner(f.onnx8),
      'ORT-web 2T': ortWebChild(f.onnx, 2),
    };
    for (const batch of [1, 8]) {
      const runs = runsOf[batch], started = performance.now();
      const rounds = Array.from({ length: runs + warmup }, () => batchIds(batch));
      const times = Object.fromEntries(Object.keys(runners).map((k) => [k, []])), outs = {};
      const loadBefore = load();
      for (let r = 0; r < rounds.length; r++) {
        for (const [name, runner] of Object.entries(runners)) {
          const { ms, out: o } = await runner.run(rounds[r]);
          if (r >= warmup) times[name].push(ms);
          if (r === 0) outs[name] = o;
        }
      }
      const med = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
      const mn = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, min(v)]));
      const took = ((performance.now() - started) / 1000).toFixed(0);
      console.log(`\n${shape}, sequence ${SEQ}, batch ${batch}: ${runs} runs in ${took} s (load average ${loadBefore} before, ${load()} after)`);
      console.log('| runner | median ms | min ms | max abs diff from ORT-node 1T |\n|---|---|---|---|');
      for (const k of Object.keys(runners))
        console.log(`| ${k} | ${med[k].toFixed(1)} | ${mn[k].toFixed(1)} | ${maxDiff(outs[k], outs['ORT-node 1T']).toExponential(1)} |`);
      summary.push({ shape, batch, med, mn });
    }
    for (const r of Object.values(runners)) await r.close();
  }
  for (const [what, key] of [['medians', 'med'], ['minimums', 'mn']]) {
    console.log(`\nRatios of sotto's time to the peer's (below 1: sotto is faster), from the ${what}:`);
    console.log(`| shape, batch | ${RATIOS.map((r) => r[0]).join(' | ')} |\n|---|${RATIOS.map(() => '---|').join('')}`);
    for (const s of summary)
      console.log(`| ${s.shape}, ${s.batch} | ${RATIOS.map(([, a, b]) => (s[key][a] / s[key][b]).toFixed(2)).join(' | ')} |`);
  }
  console.log(`\nTargets: native / ORT-node at most 0.90 (1 and 2 threads); wasm / ORT-web at most 0.67 (1 thread); the int8 rows compare int8 with int8 at like accuracy (max abs diff column). Load average at the end ${load()}.`);
  process.exit(0);
}

// onnxruntime-web with 2 threads, in a child process of this script.
if (process.argv[2] === '--ort-web-child') {
  const ort = require('onnxruntime-web');
  ort.env.wasm.numThreads = Number(process.argv[3]);
  const session = await ort.InferenceSession.create(process.argv[4], { executionProviders: ['wasm'] });
  process.on('message', async (ids) => process.send(await ortRun(ort, session, ids)));
  process.on('disconnect', () => process.exit(0));
} else {
  await main();
}
