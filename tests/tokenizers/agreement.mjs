// Tokenizer agreement: sotto's ids against Hugging Face's tokenizers (npm
// @anush008/tokenizers, the Rust library as a node binding) on the same
// tokenizer.json, for the cases of cases.mjs.
//   node tests/tokenizers/agreement.mjs NAME [TOKCHECK...]
// prints the mismatches; tests/js/tokenizers.test.mjs asserts on it.
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

// Runs a tokcheck program: [cmd, ...args] natively or under node.
export function runTokcheck(cmd, dir, cases) {
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
    execFileSync(cmd[0], [...cmd.slice(1), path.join(dir, 'tokenizer.json'),
      fs.existsSync(cfg) ? cfg : '-', inFile, outFile], { stdio: 'inherit', maxBuffer: 1 << 28 });
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
