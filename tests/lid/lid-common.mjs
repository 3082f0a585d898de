// lid-common.mjs - the language-ID test set and the three ways of running a
// fastText model over it (Debian's fasttext CLI, the native sotto CLI, the
// wasm engine), shared by tests/js/lid.test.mjs and tests/bench/lid.mjs.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { root, out, nativeCli, loadEngine } from '../js/helpers.mjs';

export const lidModel = path.join(out, 'models/lid176.ftz');
export const setDir = path.join(out, 'lid');

// Builds out/lid/{sentences,langs}.txt from installed Debian packages.
export function makeSet() {
  execFileSync('/usr/bin/python3', [path.join(root, 'tests/lid/make-lid-set.py'), setDir],
    { stdio: ['ignore', 'ignore', 'inherit'] });
  const lines = (f) => fs.readFileSync(path.join(setDir, f), 'utf8').split('\n').slice(0, -1);
  const sentences = lines('sentences.txt'), langs = lines('langs.txt');
  if (sentences.length !== langs.length) throw new Error('lid set: files disagree');
  return {
    sentences, langs, file: path.join(setDir, 'sentences.txt'),
    english: lines('english.txt'), englishFile: path.join(setDir, 'english.txt'),
  };
}

// A prediction is [{label, prob}, ...] best first, labels without "__label__".
function parseFastText(line) {
  const f = line.trim().split(/\s+/).filter(Boolean), preds = [];
  for (let i = 0; i + 1 < f.length; i += 2) {
    preds.push({ label: f[i].replace(/^__label__/, ''), prob: Number(f[i + 1]) });
  }
  return preds;
}

// Debian's `fasttext predict-prob MODEL FILE k` (one prediction per line).
export function debianPredict(model, file, k) {
  const stdout = execFileSync('fasttext', ['predict-prob', model, file, String(k)],
    { encoding: 'utf8', maxBuffer: 1 << 28 });
  return stdout.split('\n').slice(0, -1).map(parseFastText);
}

function request(i, texts, k, id) {
  return { id: i, op: 'classify', model: id, text: texts[i], top_k: k };
}

// The native CLI: one "classify" request per text through `sotto request`.
// Returns the predictions and each request's engine time (stats.ms).
export function nativePredict(model, texts, k, { passes = 1, threads = 0 } = {}) {
  const reqFile = path.join(setDir, `requests-${process.pid}.jsonl`);
  const lines = [];
  for (let p = 0; p < passes; p++) {
    for (let i = 0; i < texts.length; i++) lines.push(JSON.stringify(request(i, texts, k, 'm')));
  }
  fs.writeFileSync(reqFile, lines.join('\n') + '\n');
  const args = ['--model', `m=${model}`, 'request', reqFile];
  if (threads) args.unshift('--threads', String(threads));
  const t0 = performance.now();
  const stdout = execFileSync(nativeCli, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  const wallMs = performance.now() - t0;
  fs.rmSync(reqFile);
  const replies = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  if (replies.length !== lines.length) throw new Error(`native: ${replies.length} replies`);
  for (const r of replies) if (r.error) throw new Error(`native: ${JSON.stringify(r.error)}`);
  return {
    preds: replies.slice(0, texts.length).map((r) => r.result.labels),
    ms: replies.map((r) => r.stats.ms),
    wallMs,
  };
}

// The wasm engine of one flavour, the model loaded from its bytes (a later
// wasmLoad replaces it).
export async function wasmEngine(flavour, model, options = {}) {
  const engine = await loadEngine(flavour, options);
  wasmLoad(engine, model);
  return engine;
}

export function wasmLoad(engine, model) {
  engine.addModel('m', fs.readFileSync(model));
}

export function wasmPredict(engine, texts, k) {
  const preds = [], ms = [];
  const t0 = performance.now();
  for (let i = 0; i < texts.length; i++) {
    const r = engine.request(request(i, texts, k, 'm'));
    if (r.error) throw new Error(`wasm: ${JSON.stringify(r.error)}`);
    preds.push(r.result.labels);
    ms.push(r.stats.ms);
  }
  return { preds, ms, wallMs: performance.now() - t0 };
}

// Agreement of predictions with the reference: top-1 labels and the largest
// probability difference over labels both list. A differing top label on a
// reference tie (the two best within `tie`) counts as a tie, not a miss.
export function compare(ref, got, { tie = 0 } = {}) {
  if (ref.length !== got.length) throw new Error(`${got.length} predictions for ${ref.length}`);
  let same = 0, ties = 0, maxDiff = 0, compared = 0, worst = null;
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i], g = got[i];
    if (r[0]?.label === g[0]?.label) same++;
    else if (r.length > 1 && r[0].prob - r[1].prob <= tie) ties++;
    const probs = new Map(r.map((p) => [p.label, p.prob]));
    for (const p of g) {
      if (!probs.has(p.label)) continue;
      compared++;
      const d = Math.abs(p.prob - probs.get(p.label));
      if (d > maxDiff) { maxDiff = d; worst = i; }
    }
  }
  return { n: ref.length, same, ties, top1: same / ref.length, maxDiff, compared, worst };
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
