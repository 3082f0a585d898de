// encoder.test.mjs - BERT-family encoders against PyTorch. Random-weight
// BERT, DistilBERT, RoBERTa and XLM-RoBERTa models (base models and
// classifiers, several shapes) are written as Hugging Face folders by
// PyTorch, converted to GGUF by `sotto convert` (f32, f16, q8_0), and run by
// the native CLI and both wasm builds through the "embed", "classify" and
// "tokenize" ops. The expected outputs come from an independent PyTorch
// implementation of Hugging Face's modeling code (tests/encoder/reference.py)
// on the ids Hugging Face's tokenizers give (npm @anush008/tokenizers).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { flavours, nativeCli, loadEngine } from './helpers.mjs';
import {
  prepare, gguf, config, hfEncode, reference, maxDiff, MODELS, TEXTS, PAIRS, LONG,
} from '../encoder/fixtures.mjs';

// Largest difference from PyTorch (f32) allowed per file type, for
// embeddings (unit vectors) and probabilities. f16 and q8_0 weights are
// rounded, so their bound is the rounding's effect on these random models,
// measured at most 6e-4 (f16) and 3.8e-2 (q8_0, on XNNPACK's int8 path)
// with about 2x to spare.
const TOL = { f32: 1e-4, f16: 2e-3, q8_0: 8e-2 };
const HYPOTHESIS = 'This text is about {}.';
const LABELS = ['sports', 'politics', 'cooking', 'music'];

// A runner answers a list of requests: the native CLI (one process, every
// request a line) or a wasm engine.
function nativeRunner(threads) {
  return {
    name: `native (${threads} threads)`,
    run(model, requests) {
      const lines = requests.map((r, i) => JSON.stringify({ id: i, model: 'm', ...r })).join('\n');
      const res = spawnSync(nativeCli, ['--threads', String(threads), '--model', `m=${model}`, 'request'],
        { input: lines, encoding: 'utf8', maxBuffer: 1 << 28 });
      assert.equal(res.status === null, false, res.stderr);
      return res.stdout.trim().split('\n').map((l) => JSON.parse(l));
    },
  };
}

function wasmRunner(engine, name) {
  return {
    name,
    run(model, requests) {
      engine.addModel('m', fs.readFileSync(model));
      try {
        return requests.map((r, i) => engine.request({ id: i, model: 'm', ...r }));
      } finally {
        engine.removeModel('m');
      }
    },
  };
}

const runners = [nativeRunner(2)];
const engines = [];
before(async () => {
  prepare();
  for (const [flavour, threads] of [['wasm-simd', 1], ['wasm-simd-threads', 2]]) {
    const e = await loadEngine(flavour, { threads });
    engines.push(e);
    runners.push(wasmRunner(e, `${flavour} (${threads} thread${threads > 1 ? 's' : ''})`));
  }
});
after(() => { for (const e of engines) e.destroy(); });

const ok = (r, what) => { assert.ok(r.result, `${what}: ${JSON.stringify(r.error)}`); return r.result; };
const labelsOf = (name) => Object.values(config(name).id2label);
// label probabilities in the model's label order
const probsOf = (result, labels) => labels.map((l) => result.labels.find((x) => x.label === l).prob);

// Windows of a long text as the engine makes them: the text's tokens
// (without the special tokens) in runs of the model's window minus the
// frame, each next run starting three quarters of a window further, the
// last one ending at the text's end.
function windows(ids, room) {
  const body = ids.slice(1, -1), out = [];
  const step = room - Math.floor(room / 4);
  const count = body.length <= room ? 1 : 1 + Math.ceil((body.length - room) / step);
  for (let w = 0; w < count; w++) {
    const from = Math.min(w * step, body.length - room);
    out.push([ids[0], ...body.slice(from, from + room), ids[ids.length - 1]]);
  }
  return out;
}

const normalize = (v) => { const n = Math.hypot(...v); return v.map((x) => x / Math.max(n, 1e-12)); };

test('base models: embeddings match PyTorch (mean and cls pooling, batched, long texts)', async (t) => {
  for (const name of Object.keys(MODELS).filter((n) => MODELS[n].base)) {
    const enc = await Promise.all(TEXTS.map((x) => hfEncode(name, x)));
    const long = await hfEncode(name, LONG);
    const wins = windows(long.ids, 510);
    assert.ok(wins.length >= 2, `${name}: the long text spans ${wins.length} windows`);
    const ids = enc.map((e) => e.ids);
    const [mean, cls, meanRaw, win] = reference(name, [
      { ids, pooling: 'mean', normalize: true }, { ids, pooling: 'cls', normalize: true },
      { ids, pooling: 'mean', normalize: false }, { ids: wins, pooling: 'mean', normalize: false }]);
    const longWant = normalize(win.embeddings[0].map((_, k) =>
      win.embeddings.reduce((s, e) => s + e[k], 0) / win.embeddings.length));
    for (const type of Object.keys(TOL)) {
      for (const runner of runners) {
        const r = runner.run(gguf(name, type), [
          { op: 'embed', texts: TEXTS, pooling: 'mean' },
          { op: 'embed', texts: TEXTS, pooling: 'cls' },
          { op: 'embed', texts: TEXTS, pooling: 'mean', normalize: false },
          { op: 'embed', text: LONG, pooling: 'mean' },
          { op: 'embed', ids, pooling: 'mean' }]);
        const what = `${name} ${type} ${runner.name}`;
        const d = [maxDiff(ok(r[0], what).embeddings, mean.embeddings),
          maxDiff(ok(r[1], what).embeddings, cls.embeddings),
          maxDiff(ok(r[2], what).embeddings, meanRaw.embeddings) / 4, // not unit vectors
          maxDiff(ok(r[3], what).embeddings[0], longWant),
          maxDiff(ok(r[4], what).embeddings, mean.embeddings)];
        assert.equal(r[0].result.dim, config(name).hidden_size ?? config(name).dim);
        assert.equal(r[3].result.windows, wins.length, `${what}: windows reported`);
        t.diagnostic(`${what}: max |diff| ${Math.max(...d).toExponential(1)}`);
        for (const x of d) assert.ok(x <= TOL[type], `${what}: ${d.map((v) => v.toExponential(1))}`);
      }
    }
  }
});

test('classifiers: label probabilities match PyTorch (texts, pairs, multi-label)', async (t) => {
  for (const name of Object.keys(MODELS).filter((n) => !MODELS[n].base)) {
    const labels = labelsOf(name);
    const single = await Promise.all(TEXTS.map((x) => hfEncode(name, x)));
    const pairs = await Promise.all(PAIRS.map(([a, b]) => hfEncode(name, a, b)));
    const all = [...single, ...pairs];
    const want = reference(name, all.map((e) => ({ ids: [e.ids], type_ids: [e.type_ids] })));
    for (const type of Object.keys(TOL)) {
      for (const runner of runners) {
        const r = runner.run(gguf(name, type), [
          ...TEXTS.map((text) => ({ op: 'classify', text })),
          ...PAIRS.map(([text, pair]) => ({ op: 'classify', text, pair }))]);
        const what = `${name} ${type} ${runner.name}`;
        let worst = 0;
        r.forEach((x, i) => {
          const res = ok(x, what);
          assert.equal(res.labels.length, labels.length, `${what}: every label`);
          for (let k = 1; k < res.labels.length; k++)
            assert.ok(res.labels[k - 1].prob >= res.labels[k].prob, `${what}: best first`);
          worst = Math.max(worst, maxDiff(probsOf(res, labels), want[i].probs[0]));
        });
        t.diagnostic(`${what}: max |diff| ${worst.toExponential(1)}`);
        assert.ok(worst <= TOL[type], `${what}: ${worst}`);
      }
    }
    if (config(name).problem_type === 'multi_label_classification') {
      const sums = want.map((w) => w.probs[0].reduce((a, b) => a + b, 0));
      assert.ok(sums.some((s) => Math.abs(s - 1) > 0.05), `${name}: sigmoid outputs, not a softmax`);
    }
  }
});

test('zero-shot labels match the zero-shot pipeline formula (single and multi-label)', async (t) => {
  for (const name of Object.keys(MODELS).filter((n) => MODELS[n].nli)) {
    const text = TEXTS[2];
    const enc = await Promise.all(LABELS.map((l) => hfEncode(name, text, HYPOTHESIS.replace('{}', l))));
    const ids = enc.map((e) => e.ids), type_ids = enc.map((e) => e.type_ids);
    const [one, multi] = reference(name, [{ ids, type_ids, zero_shot: { multi_label: false } },
      { ids, type_ids, zero_shot: { multi_label: true } }]);
    for (const type of Object.keys(TOL)) {
      for (const runner of runners) {
        const r = runner.run(gguf(name, type), [
          { op: 'classify', text, labels: LABELS, hypothesis: HYPOTHESIS },
          { op: 'classify', text, labels: LABELS, hypothesis: HYPOTHESIS, multi_label: true }]);
        const what = `${name} ${type} ${runner.name}`;
        const d = [maxDiff(probsOf(ok(r[0], what), LABELS), one.zero_shot),
          maxDiff(probsOf(ok(r[1], what), LABELS), multi.zero_shot)];
        assert.equal(r[0].result.zero_shot, 'entailment');
        t.diagnostic(`${what}: max |diff| ${Math.max(...d).toExponential(1)}`);
        for (const x of d) assert.ok(x <= TOL[type], `${what}: ${d}`);
      }
    }
  }
});

test('zero-shot with an embedding model ranks labels by cosine similarity', async () => {
  const name = 'bert-tiny', text = TEXTS[0];
  const enc = await Promise.all([text, ...LABELS].map((x) => hfEncode(name, x)));
  const [want] = reference(name, [{ ids: enc.map((e) => e.ids), pooling: 'mean', normalize: true }]);
  const cos = LABELS.map((_, i) => want.embeddings[0].reduce((s, x, k) => s + x * want.embeddings[i + 1][k], 0));
  for (const runner of runners) {
    const [r] = runner.run(gguf(name, 'f32'), [{ op: 'classify', text, labels: LABELS }]);
    const res = ok(r, runner.name);
    assert.equal(res.zero_shot, 'similarity');
    const got = LABELS.map((l) => res.labels.find((x) => x.label === l).similarity);
    assert.ok(maxDiff(got, cos) <= 1e-4, `${runner.name}: ${got} vs ${cos}`);
    const z = cos.map((c) => Math.exp(20 * (c - Math.max(...cos))));
    const probs = z.map((x) => x / z.reduce((a, b) => a + b, 0));
    assert.ok(maxDiff(probsOf(res, LABELS), probs) <= 1e-4);
  }
});

test('tokenize gives Hugging Face\'s ids for texts and pairs', async () => {
  for (const name of ['bert-tiny', 'roberta-tiny', 'xlmr-tiny']) {
    const want = [...await Promise.all(TEXTS.map((x) => hfEncode(name, x))),
      ...await Promise.all(PAIRS.map(([a, b]) => hfEncode(name, a, b)))];
    for (const runner of runners) {
      const r = runner.run(gguf(name, 'f32'), [...TEXTS.map((text) => ({ op: 'tokenize', text })),
        ...PAIRS.map(([text, pair]) => ({ op: 'tokenize', text, pair }))]);
      r.forEach((x, i) => {
        assert.deepEqual(ok(x, name).ids, want[i].ids, `${name} ${runner.name}: text ${i}`);
        if (i >= TEXTS.length) assert.deepEqual(x.result.type_ids, want[i].type_ids);
      });
    }
  }
});

test('encoder requests fail with clear errors', () => {
  for (const runner of runners) {
    const base = runner.run(gguf('bert-tiny', 'f32'), [
      { op: 'classify', text: 'x' },
      { op: 'embed', texts: [] },
      { op: 'embed', texts: ['a', 3] },
      { op: 'embed', ids: [[101, 999999, 102]] },
      { op: 'embed', texts: ['ok'], pooling: 'max' }]);
    assert.deepEqual(base.map((r) => r.error?.code),
      ['unsupported_model', 'bad_request', 'bad_request', 'bad_request', 'bad_request'], runner.name);
    const nli = runner.run(gguf('bert-nli', 'f32'), [
      { op: 'classify', text: 'x', labels: ['a'], hypothesis: 'no placeholder' },
      { op: 'embed', texts: ['fine'] }]);
    assert.equal(nli[0].error?.code, 'bad_request', runner.name);
    assert.ok(nli[1].result, 'a classifier embeds too');
  }
});
