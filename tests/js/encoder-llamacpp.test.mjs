// encoder-llamacpp.test.mjs - encoder GGUF files written by llama.cpp's own
// converter (convert_hf_to_gguf.py, from the llama.cpp source that npm
// node-llama-cpp ships) load in sotto and give Hugging Face's token ids and
// PyTorch's outputs. The test folders are the encoder tests' random-weight
// BERT, DistilBERT and XLM-RoBERTa models (tests/encoder/fixtures.mjs);
// tests/encoder/llamacpp_convert.py runs the converter on them.
// Not among them: RoBERTa, because llama.cpp's converter recognises a
// byte-level BPE tokenizer by a hash of the ids it gives a fixed text and
// refuses the test vocabulary, which is no published model's; and BERT
// classifiers, because the converter drops BERT's pooler (llama.cpp applies
// the classifier to the [CLS] state directly, and so does sotto on such a
// file), so neither computes what Hugging Face's model does.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { root, out, nativeCli } from './helpers.mjs';
import { prepare, dir, config, hfEncode, reference, maxDiff, TEXTS, PAIRS } from '../encoder/fixtures.mjs';

const bundle = path.join(root, 'node_modules/node-llama-cpp/llama/gitRelease.bundle');
const src = path.join(out, 'llama.cpp-src');
const converted = path.join(dir, 'llamacpp');
const unigram = path.join(dir, 'vocabs/unigram/unigram.model');
const MODELS = { 'bert-tiny': 'base', 'distilbert-tiny': 'base', 'xlmr-tiny': 'base',
  'distilbert-nli': 'classifier', 'xlmr-nli': 'classifier' };

// llama.cpp's converter on a test folder, once per change of the folder.
function convert(name) {
  const file = path.join(converted, `${name}.gguf`);
  const weights = path.join(dir, 'hf', name, 'model.safetensors');
  if (fs.existsSync(file) && fs.statSync(file).mtimeMs > fs.statSync(weights).mtimeMs) return file;
  const args = [path.join(root, 'tests/encoder/llamacpp_convert.py'), src, path.join(dir, 'hf', name), file];
  if (name.startsWith('xlmr')) args.push(unigram);
  execFileSync('/usr/bin/python3', args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, NODE_PATH: path.join(root, 'node_modules') } });
  return file;
}

function run(file, requests) {
  const lines = requests.map((r, i) => JSON.stringify({ id: i, model: 'm', ...r })).join('\n');
  const res = spawnSync(nativeCli, ['--model', `m=${file}`, 'request'], { input: lines, encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  return res.stdout.trim().split('\n').map((l) => JSON.parse(l)).map((r) => {
    assert.ok(r.result, JSON.stringify(r.error));
    return r.result;
  });
}

before(() => {
  prepare();
  if (!fs.existsSync(path.join(src, 'convert_hf_to_gguf.py'))) {
    fs.rmSync(src, { recursive: true, force: true });
    execFileSync('git', ['clone', '--quiet', bundle, src], { stdio: 'ignore' });
  }
  fs.mkdirSync(converted, { recursive: true });
});

test("llama.cpp's converter writes what sotto reads: a GGUF of llama.cpp's bert architecture", () => {
  for (const name of Object.keys(MODELS)) {
    const [info] = run(convert(name), [{ op: 'models.list' }]);
    const m = info.models.find((x) => x.id === 'm');
    assert.deepEqual([m.format, m.arch], ['gguf', 'bert'], name);
  }
});

for (const [name, kind] of Object.entries(MODELS)) {
  test(`${name}, converted by llama.cpp: Hugging Face's ids, PyTorch's ${kind === 'base' ? 'embeddings' : 'probabilities'}`, async () => {
    const file = convert(name);
    const enc = await Promise.all(TEXTS.map((x) => hfEncode(name, x)));
    const ids = run(file, TEXTS.map((text) => ({ op: 'tokenize', text })));
    ids.forEach((r, i) => assert.deepEqual(r.ids, enc[i].ids, `${name}: ids of ${TEXTS[i]}`));
    if (kind === 'base') {
      const [want] = reference(name, [{ ids: enc.map((e) => e.ids), pooling: 'mean', normalize: true }]);
      const [got] = run(file, [{ op: 'embed', texts: TEXTS, pooling: 'mean' }]);
      const d = maxDiff(got.embeddings, want.embeddings);
      assert.ok(d <= 1e-4, `${name}: max |diff| ${d}`);
    } else {
      const pairs = await Promise.all(PAIRS.map(([a, b]) => hfEncode(name, a, b)));
      const want = reference(name, pairs.map((e) => ({ ids: [e.ids], type_ids: [e.type_ids] })));
      const got = run(file, PAIRS.map(([text, pair]) => ({ op: 'classify', text, pair })));
      const labels = Object.values(config(name).id2label);
      got.forEach((g, i) => {
        assert.deepEqual(g.labels.map((l) => l.label).sort(), [...labels].sort(), `${name}: id2label`);
        const probs = labels.map((l) => g.labels.find((x) => x.label === l).prob);
        const d = maxDiff(probs, want[i].probs[0]);
        assert.ok(d <= 1e-4, `${name} pair ${i}: max |diff| ${d}`);
      });
    }
  });
}
