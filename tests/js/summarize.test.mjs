// The "summarize" op in both wasm builds against the native CLI: for the
// Reuters articles (tests/summarize/extract-reuters.py), the long test pages
// in English, German and French as text and as blocks (tests/pages/), a few
// texts in other scripts and a 100,000-word text, every style and length
// must choose the very same sentences. Exact equality is expected, not a tolerance: the
// summarizer quantises its term weights so that the similarity matrix is
// exact in f32 whatever the SIMD kernel's order of additions, and the rest is
// plain C in double (see engine/src/task_summarize.c).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { root, out, nativeCli, loadEngine } from './helpers.mjs';

const dir = path.join(out, 'summarize/js');
execFileSync('/usr/bin/python3', [path.join(root, 'tests/summarize/extract-reuters.py'), dir]);
const names = readFileSync(path.join(dir, 'index.txt'), 'utf8').trim().split('\n');
const articles = names.map((n) => [n, readFileSync(path.join(dir, n), 'utf8')]);

const texts = [
  ...articles,
  ['japanese', '東京は日本の首都です。東京の人口は多いです。大阪は日本の大きな都市です。'
    + '京都には古い寺がたくさんあります。東京と大阪は新幹線で結ばれています。'],
  ['hindi', 'भारत एक विशाल देश है। भारत की राजधानी नई दिल्ली है। मुंबई भारत का सबसे बड़ा शहर है। '
    + 'दिल्ली में बहुत से ऐतिहासिक स्मारक हैं। गंगा भारत की सबसे लंबी नदी है।'],
  ['russian', 'Москва — столица России. В Москве живёт много людей. Санкт-Петербург — второй '
    + 'город России. Москва и Санкт-Петербург связаны железной дорогой. Зимой в России холодно.'],
  // all articles twice: more sentences than the summarizer ranks at once
  ['all-twice', articles.map(([, t]) => t).join('\n\n').repeat(2)],
];

const pageDir = path.join(out, 'summarize/js-pages');
execFileSync('/usr/bin/python3', [path.join(root, 'tests/pages/make-pages.py'), pageDir]);
const pages = readFileSync(path.join(pageDir, 'index.txt'), 'utf8').trim().split('\n');
for (const p of pages) texts.push([`${p} (text)`, readFileSync(path.join(pageDir, `${p}.w72.txt`), 'utf8')]);
const KIND = { footnote: 'note' };
const blockDocs = pages.map((p) => [`${p} (blocks)`, JSON.parse(readFileSync(path.join(pageDir, `${p}.json`), 'utf8'))
  .blocks.map((b) => ({ kind: KIND[b.kind] ?? b.kind, text: b.text }))]);

const styles = ['key-points', 'tldr', 'headline'];
const lengths = ['short', 'medium', 'long'];
const requests = [];
for (const [name, text] of texts)
  for (const style of styles)
    for (const length of lengths)
      requests.push({ id: `${name} ${style}/${length}`, op: 'summarize', text, style, length });
for (const [name, blocks] of blockDocs)
  for (const style of styles)
    for (const length of lengths)
      requests.push({ id: `${name} ${style}/${length}`, op: 'summarize', blocks, style, length });

// The CLI's replies, one per request (its exit status is 1 after an error
// reply, which some of these requests are meant to get).
function runNative(reqs, threads = 1) {
  const lines = reqs.map((r) => JSON.stringify(r)).join('\n');
  const run = spawnSync(nativeCli, ['--threads', String(threads), 'request'], { input: lines, maxBuffer: 1 << 28 });
  assert.ok(run.status === 0 || run.status === 1, `native CLI: status ${run.status} ${run.stderr}`);
  return run.stdout.toString().trim().split('\n').map((l) => JSON.parse(l))
    .filter((r) => !('partial' in r)); // long texts stream progress first
}

const native = new Map(runNative(requests).map((r) => [r.id, r]));

// 100,000 words from the articles, repeated; as in tests/c/test_summarize.c
// each later round suffixes words of six or more letters ("q" + a letter),
// so the rounds are new sentences (exact repeats would be dropped) and the
// summarizer's candidate cap and largest matrix are exercised.
let big = '';
for (let words = 0, round = 0; words < 100000; round++) {
  for (const [, t] of articles) {
    const suffix = round ? 'q' + String.fromCharCode(97 + (round - 1) % 26) : '';
    big += t.replace(/[A-Za-z]{6,}/g, (w) => w + suffix) + '\n\n';
    words += t.split(/\s+/).filter(Boolean).length;
    if (words >= 100000) break;
  }
}
const bigReq = { id: 'big', op: 'summarize', text: big, style: 'key-points', length: 'long', stream: true };
const nativeBig = runNative([bigReq])[0];

test('native summaries are well formed', () => {
  assert.equal(native.size, requests.length);
  for (const [id, r] of native) {
    assert.ok(r.result, `${id}: ${JSON.stringify(r.error)}`);
    assert.ok(r.result.sentences.length >= 1, id);
  }
  assert.equal(nativeBig.result.sentences.length, 7);
});

for (const [flavour, threads] of [['wasm-simd', 1], ['wasm-simd-threads', 2]]) {
  test(`${flavour} (${threads} thread${threads > 1 ? 's' : ''}) chooses the same sentences as native`, async () => {
    const engine = await loadEngine(flavour, { threads });
    try {
      let same = 0;
      for (const req of requests) {
        const r = engine.request(req);
        const n = native.get(req.id);
        assert.equal(r.stats.ran, 'wasm');
        assert.ok(r.result, `${req.id}: ${JSON.stringify(r.error)}`);
        assert.deepEqual(r.result.sentences, n.result.sentences, `${req.id}: sentences`);
        assert.equal(r.result.summary, n.result.summary, `${req.id}: summary`);
        assert.equal(r.result.input_sentences, n.result.input_sentences, `${req.id}: input sentences`);
        same++;
      }
      assert.equal(same, requests.length);

      const partials = [];
      const t0 = performance.now();
      const r = engine.request(bigReq, (p) => { partials.push(p); });
      const ms = performance.now() - t0;
      assert.ok(partials.length >= 2 && partials.every((p) => p.id === 'big' && p.partial.progress > 0),
        `progress partials: ${JSON.stringify(partials)}`);
      console.log(`# ${flavour}: 100k words in ${ms.toFixed(0)} ms (native ${nativeBig.stats.ms.toFixed(0)} ms)`);
      assert.deepEqual(r.result.sentences, nativeBig.result.sentences, '100k words: sentences');
      assert.ok(ms < 30000, `100k words in ${ms} ms`);

      // errors are the same codes as native's
      for (const [req, code] of [
        [{ op: 'summarize', text: ' \n\t ' }, 'empty_text'],
        [{ op: 'summarize', text: 'Hi.', style: 'poem' }, 'bad_request'],
        [{ op: 'summarize', text: 'Hi.', model: 'nope' }, 'model_not_found'],
      ]) {
        assert.equal(engine.request(req).error?.code, code);
        assert.equal(runNative([req])[0].error?.code, code);
      }
    } finally {
      engine.destroy();
    }
  });
}
