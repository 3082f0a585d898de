// The project's sentiment model on its held-out set: the 1,000 test reviews
// of modeldata's small_fine_foods, exported (and normalised as for training)
// by models/sentiment/export-data.R. Accuracy is printed, checked against
// Debian's `fasttext test` on the same file and model, and must beat the
// majority class clearly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { root, out, nativeCli, loadEngine } from './helpers.mjs';

const model = path.join(out, 'models/sentiment-en.ftz');

test('sentiment-en accuracy on the held-out reviews', { skip: !existsSync(model) && 'make models first' }, async () => {
  const dir = path.join(out, 'sentiment-data');
  mkdirSync(dir, { recursive: true });
  execFileSync('Rscript', [path.join(root, 'models/sentiment/export-data.R'), dir, '2'], { stdio: 'ignore' });
  const file = path.join(dir, 'test.txt');
  const rows = readFileSync(file, 'utf8').trim().split('\n').map((l) => {
    const m = /^__label__(\S+) (.*)$/.exec(l);
    return { label: m[1], text: m[2] };
  });
  assert.equal(rows.length, 1000);

  const reqs = rows.map((r, i) => JSON.stringify({ id: i, op: 'classify', task: 'sentiment', text: r.text }));
  const run = spawnSync(nativeCli, ['--model', `sentiment-en=${model}`, 'request'],
    { input: reqs.join('\n'), encoding: 'utf8', maxBuffer: 1 << 26 });
  assert.equal(run.status, 0, run.stderr);
  const native = run.stdout.trim().split('\n').map((l) => JSON.parse(l).result.labels[0].label);

  const engine = await loadEngine('wasm-simd', { threads: 1 });
  let wasm;
  try {
    engine.addModel('sentiment-en', readFileSync(model));
    wasm = rows.map((r) => engine.request({ op: 'classify', task: 'sentiment', text: r.text }).result.labels[0].label);
  } finally {
    engine.destroy();
  }

  const accuracy = (pred) => pred.filter((p, i) => p === rows[i].label).length / rows.length;
  const positives = rows.filter((r) => r.label === 'positive').length / rows.length;
  const debian = Number(/P@1\s+([\d.]+)/.exec(execFileSync('fasttext', ['test', model, file], { encoding: 'utf8' }))[1]);
  console.log(`sentiment-en held-out accuracy: native ${accuracy(native).toFixed(3)}, wasm ${accuracy(wasm).toFixed(3)}, ` +
    `Debian fasttext ${debian.toFixed(3)}, majority class ${Math.max(positives, 1 - positives).toFixed(3)} (n=${rows.length})`);
  assert.equal(accuracy(native), debian, 'same accuracy as Debian fastText');
  assert.deepEqual(wasm, native, 'wasm and native predict the same labels');
  assert.ok(accuracy(native) > Math.max(positives, 1 - positives) + 0.1, 'clearly better than the majority class');
});
