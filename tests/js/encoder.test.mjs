// encoder.test.mjs - BERT-family encoders against PyTorch. Random-weight
// BERT, DistilBERT, RoBERTa and XLM-RoBERTa models (base models and
// classifiers, several shapes) are written as Hugging Face folders by
// PyTorch, converted to GGUF by `sotto convert` (f32, f16, q8_0), and run by
// the native CLI and both wasm builds through the "embed", "classify" and
// "tokenize" ops. The expected outputs come from an independent PyTorch
// implementation of Hugging Face's modeling code (tests/models/bert_reference.py)
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
// The builds against each other on the same file: the same computation up
// to the order of float additions, and on the int8 path an activation that
// rounds to the other side now and then (measured at most 1.3e-3).
const AGREE = { f32: 1e-5, f16: 1e-5, q8_0: 5e-3 };
// Label probabilities: native's and wasm's int8 kernels round a few
// activations differently, and a classifier's logits pass that on (measured
// at most 1.4e-2 between native and wasm, q8_0).
const AGREE_PROBS = { f32: 1e-5, f16: 1e-5, q8_0: 3e-2 };
const HYPOTHESIS = 'This text is about {}.';
const LABELS = ['sports', 'politics', 'cooking', 'music'];

// A runner answers a list of requests: the native CLI (one process, every
// request a line) or a wasm engine. The model file is loaded as "m" (or
// models: {id: file, ..}); requests name "m" unless they say otherwise
// (model: undefined names none).
const modelsOf = (model) => (typeof model === 'string' ? { m: model } : model);
function nativeRunner(threads) {
  return {
    name: `native (${threads} threads)`,
    run(model, requests) {
      const lines = requests.map((r, i) => JSON.stringify({ id: i, model: 'm', ...r })).join('\n');
      const args = Object.entries(modelsOf(model)).flatMap(([id, f]) => ['--model', `${id}=${f}`]);
      const res = spawnSync(nativeCli, ['--threads', String(threads), ...args, 'request'],
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
      const models = modelsOf(model);
      for (const [id, f] of Object.entries(models)) engine.addModel(id, fs.readFileSync(f));
      try {
        return requests.map((r, i) => engine.request({ id: i, model: 'm', ...r }));
      } finally {
        for (const id of Object.keys(models)) engine.removeModel(id);
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
      let first;
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
        const all = [...r[0].result.embeddings, ...r[3].result.embeddings];
        first ??= all;
        const agree = maxDiff(all, first);
        assert.ok(agree <= AGREE[type], `${what}: ${agree.toExponential(1)} from ${runners[0].name}`);
      }
    }
  }
});

test('classifiers: label probabilities match PyTorch (texts, pairs, multi-label)', async (t) => {
  for (const name of Object.keys(MODELS).filter((n) => !MODELS[n].base && !MODELS[n].bow)) {
    const labels = labelsOf(name);
    const single = await Promise.all(TEXTS.map((x) => hfEncode(name, x)));
    const pairs = await Promise.all(PAIRS.map(([a, b]) => hfEncode(name, a, b)));
    const all = [...single, ...pairs];
    const want = reference(name, all.map((e) => ({ ids: [e.ids], type_ids: [e.type_ids] })));
    for (const type of Object.keys(TOL)) {
      let first;
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
        const got = r.map((x) => probsOf(x.result, labels));
        first ??= got;
        const agree = maxDiff(got, first);
        t.diagnostic(`${what}: max |diff| from ${runners[0].name} ${agree.toExponential(1)}`);
        assert.ok(agree <= AGREE_PROBS[type], `${what}: ${agree.toExponential(1)} from ${runners[0].name}`);
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
      let first;
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
        const got = r.map((x) => probsOf(x.result, LABELS));
        first ??= got;
        const agree = maxDiff(got, first);
        t.diagnostic(`${what}: max |diff| from ${runners[0].name} ${agree.toExponential(1)}`);
        assert.ok(agree <= AGREE_PROBS[type], `${what}: ${agree.toExponential(1)} from ${runners[0].name}`);
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

// A text whose most central sentence in meaning (index 1) shares no word
// with the others, only synonyms (tests/encoder/make_models.py, bert-bow: a
// bag of words that gives synonyms one vector). TF-IDF cannot see it and
// the lead prior picks the first sentence; the embedding model's graph
// makes it the headline. With the hub in the others' own words, TF-IDF
// picks it too.
const summarizeText = (hub) => ['Officials met on Monday to discuss the annual report of the region.',
  hub,
  'Weather was mild and dry across the northern hills today.',
  'Families in the city want a big road near the sea.',
  'Many children buy a film at the shop every weekend.',
  'A fast car can reach the city before noon on the road.',
  'The price of a big car is high for many children.',
  'Rich families buy a house near the sea and the road.',
  'The shop sells a fast film about the sea and the city.'].join(' ');
const SYNONYM_HUB = 'Wealthy kids purchase a large vehicle and a movie from the store by the ocean in town.';
const LITERAL_HUB = 'Rich children buy a big car and a film from the shop by the sea in the city.';

test('summarize ranks sentences with an embedding model (embedding_model)', () => {
  const synonyms = summarizeText(SYNONYM_HUB), literal = summarizeText(LITERAL_HUB);
  const headline = (text, extra) => ({ op: 'summarize', model: undefined, text, style: 'headline', ...extra });
  for (const runner of runners) {
    const r = runner.run({ bow: gguf('bert-bow', 'f32'), cls: gguf('bert-cls', 'f32') }, [
      headline(synonyms), headline(synonyms, { embedding_model: 'bow' }),
      headline(literal), headline(literal, { embedding_model: 'bow' }),
      { op: 'summarize', model: undefined, text: synonyms, style: 'key-points', embedding_model: 'bow' },
      headline(synonyms, { embedding_model: 'nope' }), headline(synonyms, { embedding_model: 'cls' }),
      headline(synonyms, { embedding_model: 42 })]);
    const picks = r.slice(0, 5).map((x) => ok(x, runner.name).sentences.map((s) => s.index));
    assert.deepEqual(picks.slice(0, 4), [[0], [1], [1], [1]], runner.name);
    assert.ok(picks[4].includes(1) && picks[4].length === 3, `${runner.name}: key-points ${picks[4]}`);
    assert.deepEqual(r.slice(0, 5).map((x) => x.result.embedding_model),
      [undefined, 'bow', undefined, 'bow', 'bow'], runner.name);
    assert.deepEqual(r.slice(5).map((x) => x.error?.code), ['model_not_found', 'unsupported_model', 'bad_request'],
      runner.name);
    // false (or no field): TF-IDF's ranking; the model's vectors make synonyms one word
    const d = runner.run({ bow: gguf('bert-bow', 'f32') }, [
      headline(synonyms, { embedding_model: false }),
      { op: 'embed', model: 'bow', texts: ['a big city', 'a large town'] }]);
    assert.equal(ok(d[0], runner.name).sentences[0].index, 0);
    assert.equal(d[0].result.embedding_model, undefined);
    const [a, b] = ok(d[1], runner.name).embeddings;
    assert.ok(Math.abs(a.reduce((s, x, i) => s + x * b[i], 0) - 1) < 1e-5, 'synonyms: one vector');
  }
});
