// Tokenizer agreement: sotto's ids against independent references on the
// same vocabulary, for the cases of cases.mjs:
//   Hugging Face's tokenizers (npm @anush008/tokenizers, the Rust library as
//   a node binding) on tokenizer.json: the reference for ids;
//   transformers.js (npm @huggingface/transformers, offline) on the same
//   folder: Hugging Face's second implementation;
//   llama.cpp (npm node-llama-cpp) on a vocabulary-only GGUF file that sotto
//   wrote from the tokenizer.json (LLM vocabularies).
//   node tests/tokenizers/agreement.mjs NAME [TOKCHECK...]
// prints the mismatches with the Rust library; tests/js/tokenizers.test.mjs
// asserts on all three.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { makeVocab } from './vocabs.mjs';
import { makeCases } from './cases.mjs';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '../..');

// Vocabularies whose models take text pairs (cross-encoders, NLI).
const PAIRS = new Set(['bert-uncased', 'bert-cased', 'roberta', 'unigram']);

// The LLM vocabularies, with the architecture their GGUF files name.
export const LLM_ARCH = { qwen3: 'qwen3', llama3: 'llama', llama2: 'llama', gemma3: 'gemma3' };

export function specialsOf(dir) {
  const tj = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8'));
  const all = tj.added_tokens.map((a) => a.content);
  // a sample of a large added vocabulary (Gemma has thousands)
  return all.length > 40 ? all.filter((_, i) => i % Math.ceil(all.length / 40) === 0) : all;
}

export async function reference(dir, cases) {
  const { Tokenizer } = require('@anush008/tokenizers');
  const tok = Tokenizer.fromFile(path.join(dir, 'tokenizer.json'));
  const out = [];
  for (const c of cases) {
    if (c.max_len) tok.setTruncation(c.max_len, { strategy: 'LongestFirst' });
    else tok.disableTruncation();
    const enc = await tok.encode(c.text, c.pair ?? null, { addSpecialTokens: true });
    out.push(c.pair !== undefined || c.max_len !== undefined
      ? { ids: enc.getIds(), type_ids: enc.getTypeIds() } : { ids: enc.getIds() });
  }
  tok.disableTruncation();
  return out;
}

// transformers-ref.mjs (transformers.js) in a node with its fetch API:
// MODE ids or chat, on dir's files, for items; returns its answers.
export function transformersRun(mode, dir, items) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'transformers-'));
  try {
    const inFile = path.join(tmp, 'in.json'), outFile = path.join(tmp, 'out.json');
    fs.writeFileSync(inFile, JSON.stringify(items));
    const env = { ...process.env };
    delete env.NODE_OPTIONS; // may hold --no-experimental-fetch
    execFileSync(process.execPath, [path.join(here, 'transformers-ref.mjs'), mode, dir, inFile, outFile],
      { stdio: 'inherit', env });
    return JSON.parse(fs.readFileSync(outFile, 'utf8'));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

// transformers.js's ids (with the model's special tokens, as reference()).
export function transformersReference(dir, cases) {
  return transformersRun('ids', dir, cases.map((c) => ({ text: c.text })));
}

// Writes dir's tokenizer as a vocabulary-only GGUF file (sotto's
// sotto_tokenizer_to_gguf and GGUF writer, through the native tokcheck).
export function writeVocabGguf(dir, arch, out) {
  execFileSync(path.join(root, 'out/native/tests/tokcheck'), ['--to-gguf',
    path.join(dir, 'tokenizer.json'), path.join(dir, 'tokenizer_config.json'), out, arch],
  { stdio: 'inherit' });
}

// llama.cpp's tokenizer (the prebuilt library of node-llama-cpp) on a GGUF
// file loaded vocab_only: encode(text) is llama_tokenize with add_special
// and parse_special, i.e. BOS/EOS as the vocabulary's flags say.
let llamaLib;
export async function llamaTokenizer(gguf) {
  const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
  // (it also tries, and fails, to size the missing weights: not logged)
  llamaLib ??= getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.disabled });
  const model = await (await llamaLib).loadModel({ modelPath: gguf, vocabOnly: true });
  const bos = model.tokens.shouldPrependBosToken ? [model.tokens.bos] : [];
  const eos = model.tokens.shouldAppendEosToken ? [model.tokens.eos] : [];
  return {
    encode: (text) => [...bos, ...model.tokenize(text, true), ...eos],
    dispose: () => model.dispose(),
  };
}

// Where llama.cpp is known to tokenize differently from Hugging Face (whose
// Rust library is the reference), the reason for one string, proven by
// re-encoding: null when the difference is not one of them.
//   qwen2 pre-tokenizer (Qwen): tokenizer.json normalises to NFC first,
//   llama.cpp does not; so llama.cpp on the NFC form must give HF's ids.
export function llamaDifference(name, text, want, llama) {
  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  if (name === 'qwen3' && text.normalize('NFC') !== text && same(llama.encode(text.normalize('NFC')), want)) {
    return 'no NFC (qwen2 pre-tokenizer)';
  }
  return null;
}

// Runs a tokcheck program: [cmd, ...args] natively or under node, on dir's
// tokenizer.json and tokenizer_config.json, or with inputs: [file, config|'-'].
export function runTokcheck(cmd, dir, cases, inputs) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tokcheck-'));
  try {
    const inFile = path.join(tmp, 'cases.json');
    const outFile = path.join(tmp, 'out.json');
    // as hex: JSON strings in C end at the first NUL
    const hex = (s) => Buffer.from(s, 'utf8').toString('hex');
    fs.writeFileSync(inFile, JSON.stringify(cases.map((c) => {
      const o = { ...c, text_hex: hex(c.text) };
      delete o.text;
      if (c.pair !== undefined) {
        o.pair_hex = hex(c.pair);
        delete o.pair;
      }
      return o;
    })));
    const cfg = path.join(dir, 'tokenizer_config.json');
    const files = inputs ?? [path.join(dir, 'tokenizer.json'), fs.existsSync(cfg) ? cfg : '-'];
    execFileSync(cmd[0], [...cmd.slice(1), ...files, inFile, outFile],
      { stdio: 'inherit', maxBuffer: 1 << 28 });
    return JSON.parse(fs.readFileSync(outFile, 'utf8'));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export function compare(cases, want, got) {
  const bad = [];
  if (!Array.isArray(got)) return [{ error: got.error }];
  for (let i = 0; i < cases.length; i++) {
    const a = JSON.stringify(want[i]), b = JSON.stringify(got[i]);
    if (a !== b) bad.push({ i, case: cases[i], want: want[i], got: got[i] });
  }
  return bad;
}

export function vocabCases(name) {
  const dir = makeVocab(path.join(root, 'out/tokenizers'), name);
  return { dir, cases: makeCases(specialsOf(dir), { pairs: PAIRS.has(name) }) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const name = process.argv[2];
  const cmd = process.argv.length > 3 ? process.argv.slice(3)
    : [path.join(root, 'out/native/tests/tokcheck')];
  const { dir, cases } = vocabCases(name);
  const want = await reference(dir, cases);
  const got = runTokcheck(cmd, dir, cases);
  const bad = compare(cases, want, got);
  for (const b of bad.slice(0, 15)) console.log(JSON.stringify(b).slice(0, 600));
  console.log(`${name}: ${cases.length - bad.length} of ${cases.length} agree`);
}
