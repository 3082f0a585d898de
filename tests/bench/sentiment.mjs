// Sentiment, sotto against a peer: sentiment-en through the engine (wasm,
// as the extension runs it, with lid.176 for the language rule) and the
// rule-based VADER (npm vader-sentiment 1.1.3, its standard thresholds:
// compound >= 0.05 positive, <= -0.05 negative, between them neutral), side
// by side on the same texts in one run:
//   - the 1,000 held-out reviews of the model's data (the raw text; label:
//     5-star review or not): accuracy when each must pick a side
//     (sotto: its best label; VADER: compound >= 0.05), the share answered
//     (not neutral), accuracy of those answers, and the expected calibration
//     error of P(positive) (VADER: (compound + 1) / 2, the only probability
//     it offers);
//   - neutral news sentences (Reuters-21578, Debian's r-cran-tm): the share
//     each labels neutral;
//   - the time per text, median of 5 passes over the reviews.
// Run: node --no-experimental-fetch --no-liftoff tests/bench/sentiment.mjs
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { loadEngine } from '../js/helpers.mjs';
import * as S from '../sentiment/sentiment-common.mjs';

const vader = createRequire(import.meta.url)('vader-sentiment').SentimentIntensityAnalyzer;
const reviews = S.reviews().filter((r) => r.set === 'test');
const news = S.newsSentences();
const labels = reviews.map((r) => r.label);

const engine = await loadEngine('wasm-simd', { threads: 1 });
engine.addModel('sentiment-en', fs.readFileSync(S.model));
engine.addModel('lid176', fs.readFileSync(S.lidModel));
const sotto = (text) => engine.request({ op: 'classify', task: 'sentiment', text, top_k: 2 }).result;
const vaderOf = (text) => {
  const c = vader.polarity_scores(text).compound;
  return { compound: c, label: c >= 0.05 ? 'positive' : c <= -0.05 ? 'negative' : 'neutral' };
};

function measure(name, run, pick, prob) {
  const r = reviews.map((x) => run(x.raw));
  const forced = r.filter((x, i) => pick(x) === labels[i]).length / r.length;
  const answered = r.map((x, i) => [x, i]).filter(([x]) => x.label !== 'neutral' && x.label !== null);
  const right = answered.filter(([x, i]) => x.label === labels[i]).length;
  const n = news.map(run);
  const times = [];
  for (let pass = 0; pass < 5; pass++) {
    const t0 = performance.now();
    for (const x of reviews) run(x.raw);
    times.push((performance.now() - t0) / reviews.length);
  }
  times.sort((a, b) => a - b);
  return {
    name, forced, answered: answered.length / r.length, rightAnswered: right / answered.length,
    ece: S.ece(r.map(prob), labels), newsNeutral: n.filter((x) => x.label === 'neutral').length / n.length,
    ms: times[2], refused: r.filter((x) => x.label === null).length,
  };
}

const rows = [
  measure('sotto sentiment-en (wasm)', sotto, (x) => (x.labels[0] ? x.labels[0].label : 'none'), S.positiveOf),
  measure('VADER (vader-sentiment)', vaderOf, (x) => (x.compound >= 0.05 ? 'positive' : 'negative'), (x) => (x.compound + 1) / 2),
];
engine.destroy();
const pct = (x) => `${(100 * x).toFixed(1)} %`;
console.log(`${reviews.length} held-out reviews (${pct(labels.filter((l) => l === 'positive').length / labels.length)} 5-star), ${news.length} Reuters sentences`);
console.log('| | accuracy (forced) | answered | right when answered | ECE | news neutral | time per text |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.name} | ${pct(r.forced)} | ${pct(r.answered)} | ${pct(r.rightAnswered)} | ${r.ece.toFixed(3)} | ${pct(r.newsNeutral)} | ${(r.ms * 1000).toFixed(0)} µs |`);
}
console.log(`sotto refused ${rows[0].refused} reviews as not English (the language model's reading); they count as wrong above`);
console.log(`time ratio sotto/VADER: ${(rows[0].ms / rows[1].ms).toFixed(2)}`);
