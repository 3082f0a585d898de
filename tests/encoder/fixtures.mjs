// The encoder tests' models and references, made once per change of their
// makers (cached under out/test-models/encoder):
//   - test vocabularies: tests/tokenizers/vocabs.mjs
//   - Hugging Face folders with random weights: make_models.py (PyTorch)
//   - GGUF files from them by the CLI's `sotto convert`, in f32, f16 and q8_0
//   - token ids from Hugging Face's tokenizers (npm @anush008/tokenizers,
//     the Rust library as a node binding)
//   - reference outputs from tests/models/bert_reference.py, an independent
//     PyTorch implementation of Hugging Face's modeling code
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { root, out, nativeCli } from '../js/helpers.mjs';
import { makeVocab } from '../tokenizers/vocabs.mjs';

const require = createRequire(import.meta.url);
const here = path.join(root, 'tests/encoder');
export const dir = path.join(out, 'test-models/encoder');
const PY = '/usr/bin/python3';
export const TYPES = ['f32', 'f16', 'q8_0'];

// name -> what the tests do with it
export const MODELS = {
  'bert-tiny': { base: true }, 'distilbert-tiny': { base: true }, 'roberta-tiny': { base: true },
  'xlmr-tiny': { base: true },
  'bert-cls': {}, 'bert-multilabel': {}, 'roberta-cls': {},
  'bert-nli': { nli: true }, 'distilbert-nli': { nli: true }, 'xlmr-nli': { nli: true },
  'bert-bow': { bow: true }, // a bag of words with synonyms: summarize's sentence embeddings
};

function stamp() {
  const h = createHash('sha256');
  for (const f of ['encoder/make_models.py', 'models/bert_reference.py', 'models/hf_reference.py',
    'models/make_hf_model.py', 'encoder/fixtures.mjs'])
    h.update(fs.readFileSync(path.join(root, 'tests', f)));
  h.update(fs.readFileSync(path.join(root, 'tests/tokenizers/vocabs.mjs')));
  return h.digest('hex');
}

// Makes the Hugging Face folders (when their makers changed) and converts
// them with the given CLI (when it is newer than the files).
export function prepare(cli = nativeCli) {
  const st = path.join(dir, '.stamp');
  const want = stamp();
  if (!fs.existsSync(st) || fs.readFileSync(st, 'utf8') !== want) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const vocabs = path.join(dir, 'vocabs');
    for (const v of ['bert-uncased', 'roberta', 'unigram']) makeVocab(vocabs, v);
    execFileSync(PY, [path.join(here, 'make_models.py'), path.join(dir, 'hf'), vocabs, ...Object.keys(MODELS)],
      { stdio: 'inherit' });
    fs.writeFileSync(st, want);
  }
  const cliTime = fs.statSync(cli).mtimeMs;
  for (const name of Object.keys(MODELS)) {
    for (const type of TYPES) {
      const file = gguf(name, type);
      if (fs.existsSync(file) && fs.statSync(file).mtimeMs > cliTime) continue;
      execFileSync(cli, ['convert', path.join(dir, 'hf', name), file, '--type', type],
        { stdio: 'inherit' });
    }
  }
}

export const gguf = (name, type) => path.join(dir, `${name}.${type}.gguf`);
export const config = (name) => JSON.parse(fs.readFileSync(path.join(dir, 'hf', name, 'config.json'), 'utf8'));

// Hugging Face's ids (with special tokens) of a text or a text pair.
const tokenizers = {};
export async function hfEncode(name, text, pair) {
  const { Tokenizer } = require('@anush008/tokenizers');
  tokenizers[name] ??= Tokenizer.fromFile(path.join(dir, 'hf', name, 'tokenizer.json'));
  const e = await tokenizers[name].encode(text, pair ?? null);
  return { ids: Array.from(e.getIds()), type_ids: Array.from(e.getTypeIds()) };
}

// bert_reference.py on a list of requests ({ids, type_ids, pooling, normalize,
// zero_shot}); one answer each.
export function reference(name, requests) {
  const res = execFileSync(PY, [path.join(root, 'tests/models/bert_reference.py'), path.join(dir, 'hf', name)],
    { input: JSON.stringify(requests), maxBuffer: 1 << 28 });
  return JSON.parse(res);
}

// The largest absolute difference between two equally shaped nested arrays.
export function maxDiff(a, b) {
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return Infinity;
    return a.reduce((m, x, i) => Math.max(m, maxDiff(x, b[i])), 0);
  }
  return Math.abs(a - b);
}

// Test texts: plain English, accents, CJK, emoji, numbers, a short one.
export const TEXTS = [
  'The quick brown fox jumps over the lazy dog.',
  'Héllo wörld, naïve café: déjà vu!',
  'Machine learning models run on the device, without sending one byte away.',
  '東京は日本の首都です。',
  'I love this product 😍 — 10/10, would buy again.',
  'ok',
  'Zürich, Ångström and the São Paulo résumé go to the Straße.',
];
export const PAIRS = [
  ['A man is playing a guitar on stage.', 'A person performs music.'],
  ['The cat sleeps on the sofa.', 'A dog barks loudly outside the house.'],
  ['Prices rose sharply in the third quarter.', 'Inflation went up.'],
];
// A text longer than the models' 512-token window.
export const LONG = Array.from({ length: 90 }, (_, i) =>
  `Sentence number ${i} talks about topic ${i % 7} in some detail.`).join(' ');
