// sentiment-common.mjs - the data and measures of the sentiment checks,
// shared by tests/js/sentiment.test.mjs and tests/bench/sentiment.mjs:
// the model's reviews (raw and normalised by R, export-reviews.R), neutral
// news sentences (the Reuters-21578 articles Debian's r-cran-tm ships, cut
// into sentences here by a plain rule of their own), Debian's fastText on
// the normalised text, the calibration the model card states, and the
// expected calibration error.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { root, out, nativeCli } from '../js/helpers.mjs';

export const model = path.join(out, 'models/sentiment-en.ftz');
export const lidModel = path.join(out, 'models/lid176.ftz');
export const haveModels = fs.existsSync(model) && fs.existsSync(lidModel);
const dir = path.join(out, 'sentiment/js');

const unescape = (s) => s.replace(/\\(.)/g, (_, c) => ({ t: '\t', n: '\n', r: '\r' }[c] ?? c));

// [{set, label, raw, norm}] for the 4,000 training, 1,000 test reviews and
// the normaliser's hard cases.
export function reviews() {
  execFileSync('Rscript', [path.join(root, 'tests/sentiment/export-reviews.R'), dir], { stdio: 'ignore' });
  return fs.readFileSync(path.join(dir, 'reviews.tsv'), 'utf8').split('\n').filter(Boolean).map((l) => {
    const [set, label, raw, norm = ''] = l.split('\t');
    return { set, label, raw: unescape(raw), norm: unescape(norm) };
  });
}

// Sentences of the Reuters news: complete, six words or more, not tables.
export function newsSentences() {
  const rdir = path.join(out, 'summarize/sentiment');
  execFileSync('/usr/bin/python3', [path.join(root, 'tests/summarize/extract-reuters.py'), rdir], { stdio: 'ignore' });
  const names = fs.readFileSync(path.join(rdir, 'index.txt'), 'utf8').trim().split('\n');
  const sentences = [];
  for (const n of names) {
    const text = fs.readFileSync(path.join(rdir, n), 'utf8').replace(/\s+/g, ' ').trim();
    for (const s of text.split(/(?<=[a-z0-9%)][.!?]["']?) (?=["(]?[A-Z])/)) {
      const words = s.split(' ');
      const numbers = words.filter((w) => /\d/.test(w)).length;
      if (words.length >= 6 && /[.!?]["']?$/.test(s) && numbers * 3 <= words.length) sentences.push(s);
    }
  }
  return sentences;
}

// Debian's fastText: the probability of "positive" for each line.
export function fasttextPositive(lines) {
  const outp = execFileSync('fasttext', ['predict-prob', model, '-', '2'],
    { input: lines.map((l) => l.replace(/\s+/g, ' ')).join('\n') + '\n', encoding: 'utf8', maxBuffer: 1 << 26 });
  return outp.trim().split('\n').map((l) => {
    const f = l.split(' ');
    const i = f.indexOf('__label__positive');
    return i >= 0 ? Number(f[i + 1]) : 1 - Number(f[f.indexOf('__label__negative') + 1]);
  });
}

// The calibration the model card states (models/sentiment/MODEL_CARD.md).
export function cardCalibration() {
  const card = fs.readFileSync(path.join(root, 'models/sentiment/MODEL_CARD.md'), 'utf8');
  const num = (name) => Number(new RegExp(`${name} = (-?\\d+\\.\\d+)`).exec(card)[1]);
  return { a: num('a'), b: num('b') };
}

export function platt({ a, b }, p) {
  const q = Math.min(Math.max(p, 1e-5), 1 - 1e-5);
  return 1 / (1 + Math.exp(-(a * Math.log(q / (1 - q)) + b)));
}

// Expected calibration error of P(positive) against labels: 10 equal bins
// of the chosen label's probability.
export function ece(probs, labels) {
  const bins = Array.from({ length: 10 }, () => ({ n: 0, conf: 0, right: 0 }));
  probs.forEach((p, i) => {
    const conf = Math.max(p, 1 - p);
    const b = bins[Math.min(9, Math.floor(conf * 10))];
    b.n++, b.conf += conf, b.right += (p >= 0.5) === (labels[i] === 'positive');
  });
  return bins.reduce((s, b) => s + (b.n ? (b.n / probs.length) * Math.abs(b.conf / b.n - b.right / b.n) : 0), 0);
}

// The native engine's answers to sentiment requests (one per text).
export function nativeSentiment(texts, extra = {}) {
  const reqs = texts.map((text, i) => JSON.stringify({ id: i, op: 'classify', task: 'sentiment', text, top_k: 2, ...extra }));
  const run = spawnSync(nativeCli, ['--model', `sentiment-en=${model}`, '--model', `lid176=${lidModel}`, 'request'],
    { input: reqs.join('\n'), encoding: 'utf8', maxBuffer: 1 << 28 });
  if (run.status !== 0) throw new Error(`sotto: ${run.stderr}`);
  return run.stdout.trim().split('\n').map((l) => JSON.parse(l));
}

// P(positive) from a sentiment result's labels (0.5 when it has none:
// another language).
export function positiveOf(result) {
  const pos = result.labels.find((l) => l.label === 'positive');
  const neg = result.labels.find((l) => l.label === 'negative');
  return pos ? pos.prob : neg ? 1 - neg.prob : 0.5;
}
