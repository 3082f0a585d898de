// lid.test.mjs - fastText models in the engine agree with Debian's fastText
// 0.9.2, run live as the reference: lid.176 on >= 200 real sentences in >= 20
// languages (translated debconf templates from installed Debian packages),
// and small models of every loss and quantization trained here with Debian's
// fasttext. Checked for the native CLI and both wasm flavours.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { flavours, root, out } from './helpers.mjs';
import {
  lidModel, setDir, makeSet, debianPredict, nativePredict, wasmEngine, wasmLoad, wasmPredict, compare,
} from '../lid/lid-common.mjs';

const K = 3;
const runners = ['native', ...Object.keys(flavours)];

// One engine per wasm flavour for the whole file; each model replaces the last.
const engines = {};
after(() => { for (const e of Object.values(engines)) e.destroy(); });

async function predictAll(model, texts, k) {
  const out = { native: nativePredict(model, texts, k).preds };
  for (const flavour of Object.keys(flavours)) {
    if (engines[flavour]) wasmLoad(engines[flavour], model);
    else engines[flavour] = await wasmEngine(flavour, model);
    out[flavour] = wasmPredict(engines[flavour], texts, k).preds;
  }
  return out;
}

test('lid.176 agrees with Debian fastText (native, wasm, wasm threads)', async (t) => {
  assert.ok(fs.existsSync(lidModel), `${lidModel} missing: run make models`);
  const set = makeSet();
  const languages = new Set(set.langs);
  t.diagnostic(`test set: ${set.sentences.length} sentences in ${languages.size} languages`);
  assert.ok(set.sentences.length >= 200, 'at least 200 sentences');
  assert.ok(languages.size >= 20, 'at least 20 languages');

  const ref = debianPredict(lidModel, set.file, K);
  assert.equal(ref.length, set.sentences.length);
  const correct = ref.filter((p, i) => p[0]?.label === set.langs[i]).length;
  t.diagnostic(`Debian fastText: top label is the translation's language for ${correct}/${ref.length}`);

  const got = await predictAll(lidModel, set.sentences, K);
  for (const runner of runners) {
    const c = compare(ref, got[runner]);
    t.diagnostic(`${runner}: top-1 agreement ${c.same}/${c.n} (${(100 * c.top1).toFixed(2)} %), ` +
      `max |prob diff| ${c.maxDiff.toExponential(2)} over ${c.compared} probabilities`);
    assert.ok(c.top1 >= 0.99, `${runner}: top-1 agreement ${c.top1}`);
    assert.ok(c.maxDiff <= 1e-3, `${runner}: probability differs by ${c.maxDiff} (sentence ${c.worst})`);
    assert.ok(c.compared >= 2 * c.n, `${runner}: compared ${c.compared} probabilities`);
  }
});

// Models trained on the same sentences cover what lid.176 does not: softmax,
// one-vs-all, negative sampling, word n-grams, dense .bin files, quantized
// outputs, and an output layer large enough to run through XNNPACK.
test('every fastText model kind agrees with Debian fastText', async (t) => {
  const set = makeSet();
  const dir = path.join(setDir, 'models');
  fs.mkdirSync(dir, { recursive: true });
  const train = path.join(dir, 'train.txt'), train5 = path.join(dir, 'train5.txt');
  fs.writeFileSync(train, set.sentences.map((s, i) => `__label__${set.langs[i]} ${s}\n`).join(''));
  // five labels per language: enough labels (> 256) to quantize the output
  fs.writeFileSync(train5, set.sentences.map((s, i) => `__label__${set.langs[i]}_${i % 5} ${s}\n`).join(''));
  const ft = (...args) => execFileSync('fasttext', args, { stdio: 'ignore' });
  const sup = (name, input, ...args) => {
    ft('supervised', '-input', input, '-output', path.join(dir, name), '-thread', '1',
      '-verbose', '0', '-bucket', '20000', ...args);
    return path.join(dir, `${name}.bin`);
  };
  const quant = (name, input, ...args) => {
    ft('quantize', '-input', input, '-output', path.join(dir, name), '-thread', '1',
      '-verbose', '0', ...args);
    return path.join(dir, `${name}.ftz`);
  };
  // The engine runs output layers of >= 65536 weights through XNNPACK.
  assert.ok(new Set(set.langs).size * 5 * 256 >= 65536, 'enough labels for the XNNPACK path');
  const models = {
    softmax: sup('softmax', train, '-loss', 'softmax', '-dim', '8', '-epoch', '5'),
    'hs, word and char n-grams': sup('hs', train, '-loss', 'hs', '-dim', '10', '-wordNgrams', '2', '-minn', '2', '-maxn', '4'),
    'one-vs-all, 3-grams': sup('ova', train, '-loss', 'ova', '-dim', '6', '-wordNgrams', '3'),
    'negative sampling, no subwords': sup('ns', train, '-loss', 'ns', '-neg', '3', '-dim', '6', '-maxn', '0'),
    'softmax, 5 labels per language x 256 (XNNPACK)': sup('wide', train5, '-loss', 'softmax', '-dim', '256', '-epoch', '10', '-lr', '0.5', '-bucket', '2000'),
  };
  models['quantized, norms, pruned'] = quant('softmax', train, '-qnorm', '-cutoff', '2000', '-retrain', '-epoch', '1', '-dsub', '3');
  sup('ova5', train5, '-loss', 'ova', '-dim', '12', '-minn', '3', '-maxn', '3', '-wordNgrams', '2');
  models['quantized output, one-vs-all'] = quant('ova5', train5, '-qnorm', '-qout', '-dsub', '5', '-cutoff', '3000');
  sup('hs5', train5, '-loss', 'hs', '-dim', '7');
  models['quantized output, hs'] = quant('hs5', train5, '-qout', '-dsub', '2');

  for (const [kind, model] of Object.entries(models)) {
    const ref = debianPredict(model, set.file, 5);
    const got = await predictAll(model, set.sentences, 5);
    for (const runner of runners) {
      // Weakly trained models have near-ties; a swap within 1e-5 is a tie.
      const c = compare(ref, got[runner], { tie: 1e-5 });
      t.diagnostic(`${kind}, ${runner}: top-1 ${c.same}/${c.n} (+${c.ties} ties), max diff ${c.maxDiff.toExponential(1)}`);
      assert.equal(c.same + c.ties, c.n, `${kind}, ${runner}: top-1 agreement`);
      assert.ok(c.maxDiff <= 1e-4, `${kind}, ${runner}: probability differs by ${c.maxDiff}`);
    }
  }
});

// The project's sentiment model (one-vs-all style negative sampling, word
// bigrams) on English text: the debconf templates' English originals.
test('sentiment-en agrees with Debian fastText', async (t) => {
  const model = path.join(out, 'models/sentiment-en.ftz');
  if (!fs.existsSync(model)) {
    t.skip('out/models/sentiment-en.ftz not built (models/sentiment/train.sh, make models)');
    return;
  }
  const set = makeSet();
  assert.ok(set.english.length >= 40, `${set.english.length} English texts`);
  for (const [name, texts, file] of [['English', set.english, set.englishFile], ['multilingual', set.sentences, set.file]]) {
    const ref = debianPredict(model, file, 2);
    const got = await predictAll(model, texts, 2);
    for (const runner of runners) {
      const c = compare(ref, got[runner]);
      t.diagnostic(`${name} (${c.n}), ${runner}: top-1 ${c.same}/${c.n}, max diff ${c.maxDiff.toExponential(1)}`);
      assert.equal(c.same, c.n, `${runner}: top-1 agreement`);
      assert.ok(c.maxDiff <= 2e-5, `${runner}: probability differs by ${c.maxDiff}`);
    }
  }
});

test('the catalogue describes the bundled model files', () => {
  const catalogue = JSON.parse(fs.readFileSync(path.join(root, 'models/catalogue.json'), 'utf8'));
  const ids = catalogue.models.map((m) => m.id);
  for (const id of ['lid176', 'sentiment-en', 'extractive']) assert.ok(ids.includes(id), id);
  for (const m of catalogue.models) {
    assert.ok(['both', 'browser', 'native'].includes(m.runs_in), `${m.id}: runs_in`);
    if (!m.file) continue;
    const file = path.join(out, 'models', m.file);
    if (!fs.existsSync(file)) {
      assert.notEqual(m.id, 'lid176', 'out/models/lid176.ftz missing: run make models');
      continue;
    }
    const data = fs.readFileSync(file);
    assert.equal(data.length, m.bytes, `${m.id}: bytes`);
    assert.equal(createHash('sha256').update(data).digest('hex'), m.sha256, `${m.id}: sha256`);
  }
});
