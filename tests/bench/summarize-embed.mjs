// The extractive summarizer with sentence embeddings for its ranking
// ("embedding_model") against its TF-IDF ranking, on the Reuters-21578
// articles Debian's r-cran-tm ships (tests/summarize/extract-reuters.py):
// the share of the editors' title words each summary holds, as
// tests/c/test_summarize.c measures it (here with a plain word match:
// lower-cased letters and digits, a short list of function words, no
// numbers, so the figures differ a little from the C test's).
//
// Embedding models: any GGUF files given on the command line (a real
// sentence-transformers model converted with `sotto convert`), else the
// random-weight test models: the MiniLM-L6 benchmark shape (random
// weights: its vectors mean nothing, so neither does its effect) and
// bert-bow (a bag of words with a few synonyms: lexical vectors like
// TF-IDF's, without IDF).
//
//   node --no-experimental-fetch tests/bench/summarize-embed.mjs [ID=MODEL.gguf ...]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { out, root, nativeCli } from '../js/helpers.mjs';
import { prepare, gguf } from '../encoder/fixtures.mjs';

const STOP = new Set(('a an and are as at be by for from has have he in is it its of on or that the to was were ' +
  'will with said says would after over up down new more than not but this they their which').split(' '));
const words = (s) => (s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((w) => !STOP.has(w) && !/\d/.test(w));
function recall(title, text) {
  const want = [...new Set(words(title))], have = new Set(words(text));
  return want.length ? want.filter((w) => have.has(w)).length / want.length : -1;
}

let models = process.argv.slice(2).map((a) => a.split('='));
if (!models.length) {
  prepare();
  models = [['bow', gguf('bert-bow', 'f32')]];
  const bench = path.join(out, 'bench-models/encoder/bench-minilm.f32.gguf'); // tests/bench/encoder.mjs makes it
  if (fs.existsSync(bench)) models.unshift(['minilm-random', bench]);
  else console.log(`(${bench} is missing: run tests/bench/encoder.mjs minilm first)`);
}
const dir = path.join(out, 'summarize/bench-embed');
execFileSync('/usr/bin/python3', [path.join(root, 'tests/summarize/extract-reuters.py'), dir]);
const titles = new Map(fs.readFileSync(path.join(dir, 'titles.txt'), 'utf8').trim().split('\n').map((l) => l.split('\t')));
const articles = fs.readFileSync(path.join(dir, 'index.txt'), 'utf8').trim().split('\n')
  .filter((n) => titles.has(n) && words(titles.get(n)).length);

const styles = ['headline', 'tldr', 'key-points'];
const rankings = [false, ...models.map(([id]) => id)];
const requests = [];
for (const a of articles) {
  const text = fs.readFileSync(path.join(dir, a), 'utf8');
  for (const style of styles)
    for (const embedding_model of rankings) requests.push({ a, style, embedding_model, text });
}
const args = models.flatMap(([id, file]) => ['--model', `${id}=${file}`]);
const lines = requests.map(({ style, embedding_model, text }, id) =>
  JSON.stringify({ id, op: 'summarize', text, style, length: 'short', embedding_model })).join('\n');
const replies = execFileSync(nativeCli, [...args, 'request'], { input: lines, maxBuffer: 1 << 28 })
  .toString().trim().split('\n').map((l) => JSON.parse(l));

const sum = {}, same = {};
replies.forEach((r, i) => {
  const q = requests[i];
  if (!r.result) throw new Error(`${q.a}: ${JSON.stringify(r.error)}`);
  const key = `${q.embedding_model || 'tf-idf'}|${q.style}`;
  sum[key] = (sum[key] ?? 0) + recall(titles.get(q.a), r.result.summary);
  if (q.embedding_model) {
    const base = replies[i - rankings.indexOf(q.embedding_model)].result.summary;
    same[key] = (same[key] ?? 0) + (base === r.result.summary);
  }
});
console.log(`${articles.length} Reuters articles with titles: share of title words in the summary (short)`);
console.log(`| ranking | ${styles.join(' | ')} | same summary as TF-IDF |`);
console.log(`|---|${styles.map(() => '---|').join('')}---|`);
for (const m of rankings) {
  const name = m || 'tf-idf';
  const row = styles.map((s) => (sum[`${name}|${s}`] / articles.length).toFixed(3));
  const kept = m ? styles.map((s) => `${same[`${name}|${s}`]}`).join(' / ') : '-';
  console.log(`| ${name} | ${row.join(' | ')} | ${kept} |`);
}
