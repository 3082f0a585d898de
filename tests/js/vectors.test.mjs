// The shared test vectors (tests/vectors/ops.json, double-precision expected
// values) on both wasm builds, and the wasm answers checked against the
// native engine's answers to the very same requests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { root, nativeCli, loadEngine } from './helpers.mjs';

const doc = JSON.parse(readFileSync(path.join(root, 'tests/vectors/ops.json'), 'utf8'));
const { abs, rel } = doc.tolerance;

function compare(name, got, want) {
  assert.deepEqual(got.shape, want.shape, `${name}: shape`);
  assert.equal(got.data.length, want.data.length, `${name}: length`);
  let bad = 0, worst = 0;
  got.data.forEach((g, i) => {
    const d = Math.abs(g - want.data[i]);
    if (d > abs + rel * Math.abs(want.data[i])) bad++;
    worst = Math.max(worst, d);
  });
  assert.equal(bad, 0, `${name}: ${bad} values off, worst ${worst}`);
}

// Native answers to every case, from the real CLI over the same dispatcher
// (it exits 1 because some cases are meant to be errors).
const lines = doc.cases.map((c) => JSON.stringify(c.request)).join('\n');
const nativeRun = spawnSync(nativeCli, ['--threads', '1', 'request'], { input: lines, maxBuffer: 1 << 28, encoding: 'utf8' });
const nativeOut = nativeRun.stdout.trim().split('\n').map((l) => JSON.parse(l));
const native = new Map(nativeOut.map((r) => [r.id, r]));

for (const [flavour, threads] of [['wasm-simd', 1], ['wasm-simd-threads', 2]]) {
  test(`${flavour} (${threads} thread${threads > 1 ? 's' : ''}) passes the shared vectors and matches native`, async () => {
    const engine = await loadEngine(flavour, { threads });
    try {
      const caps = engine.request({ op: 'capabilities' }).result;
      assert.equal(caps.flavour, flavour);
      assert.equal(caps.threads, threads, 'the engine runs with the threads asked for');
      assert.equal(caps.simd, 'wasm-simd128');
      for (const c of doc.cases) {
        const r = engine.request(c.request);
        assert.equal(r.id, c.request.id);
        if (c.error) {
          assert.equal(r.error?.code, c.error, `${c.name}: error code`);
          assert.equal(native.get(c.name).error?.code, c.error, `${c.name}: native error code`);
          continue;
        }
        assert.ok(r.result, `${c.name}: ${JSON.stringify(r.error)}`);
        compare(`${c.name} vs double reference`, r.result, c.expect);
        compare(`${c.name} vs native`, r.result, native.get(c.name).result);
      }
    } finally {
      engine.destroy();
    }
  });
}
