// Summarizer benchmark: "summarize" (key-points, long) on a 10,000-word text
// (Reuters articles from Debian's r-cran-tm, concatenated) and on a
// 100,000-word one (the articles repeated, each round's long words suffixed
// as in tests/c/test_summarize.c, so that it has ~4,300 distinct sentences:
// the summarizer's candidate cap and largest matrix). Native build with 1
// and 2 threads and both wasm builds, all in this one run so the ratios
// compare like with like. Times are the op's own (the response's stats.ms:
// no process start, no JSON transfer), median of the timed runs after
// warm-up runs.
//   node --no-experimental-fetch --no-liftoff tests/bench/summarize.mjs
// (--no-liftoff: wasm compiled fully optimised up front).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { root, out, nativeCli, loadEngine } from '../js/helpers.mjs';

const dir = path.join(out, 'summarize/bench');
execFileSync('/usr/bin/python3', [path.join(root, 'tests/summarize/extract-reuters.py'), dir]);
const articles = readFileSync(path.join(dir, 'index.txt'), 'utf8').trim().split('\n')
  .map((name) => readFileSync(path.join(dir, name), 'utf8'));
const countWords = (t) => t.split(/\s+/).filter(Boolean).length;

// Whole articles (later rounds varied) until `words`; the last one is cut at
// a line so the total stays at most `words`.
function buildText(words) {
  let text = '', n = 0;
  for (let round = 0; ; round++) {
    const suffix = round ? 'q' + String.fromCharCode(97 + (round - 1) % 26) : '';
    for (const a of articles) {
      const t = a.replace(/[A-Za-z]{6,}/g, (w) => w + suffix);
      if (n + countWords(t) <= words) {
        text += t + '\n\n', n += countWords(t);
        continue;
      }
      for (const line of t.split('\n')) {
        if (n + countWords(line) > words) break;
        text += line + '\n', n += countWords(line);
      }
      return { text, words: n };
    }
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function native(req, threads, warmup, runs) {
  const lines = Array(warmup + runs).fill(JSON.stringify(req)).join('\n');
  const res = execFileSync(nativeCli, ['--threads', String(threads), 'request'], { input: lines, maxBuffer: 1 << 28 })
    .toString().trim().split('\n').map((l) => JSON.parse(l)).filter((r) => !('partial' in r));
  return { ms: median(res.slice(warmup).map((r) => r.stats.ms)), result: res[0].result };
}

async function wasm(req, flavour, threads, warmup, runs) {
  const engine = await loadEngine(flavour, { threads });
  try {
    const times = [];
    let result;
    for (let i = 0; i < warmup + runs; i++) {
      const r = engine.request(req);
      result = r.result;
      if (i >= warmup) times.push(r.stats.ms);
    }
    return { ms: median(times), result };
  } finally {
    engine.destroy();
  }
}

let allSame = true;
console.log('| text | native 1T | native 2T | wasm SIMD 1T | wasm SIMD+threads 2T | wasm/native (1T) | wasm/native (2T) | same sentences |');
console.log('|---|---|---|---|---|---|---|---|');
for (const [target, warmup, runs] of [[10000, 3, 15], [100000, 2, 7]]) {
  const { text, words } = buildText(target);
  const req = { op: 'summarize', text, style: 'key-points', length: 'long' };
  const r = [
    native(req, 1, warmup, runs), native(req, 2, warmup, runs),
    await wasm(req, 'wasm-simd', 1, warmup, runs), await wasm(req, 'wasm-simd-threads', 2, warmup, runs),
  ];
  const same = r.every((x) => JSON.stringify(x.result.sentences) === JSON.stringify(r[0].result.sentences));
  allSame &&= same;
  const ms = r.map((x) => x.ms);
  console.log(`| ${words} words, ${r[0].result.input_sentences} sentences | ${ms.map((x) => x.toFixed(1) + ' ms').join(' | ')} | `
    + `${(ms[2] / ms[0]).toFixed(2)} | ${(ms[3] / ms[1]).toFixed(2)} | ${same ? 'yes' : 'NO'} |`);
}
process.exit(allSame ? 0 : 1);
