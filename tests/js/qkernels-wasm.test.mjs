// The wasm SIMD128 quantized kernels (engine/src/ops/qk_wasm.c) against the
// scalar references, in both wasm builds: tests/c/test_qkernels.c built
// with Emscripten (out/wasm*/engine/qkcheck.js) checks every weight type's
// dot for 1 to 4 activation rows, the GEMV tiles of several weight rows,
// activation quantization byte for byte, and sotto_qmatmul (tiled; threaded
// in the threads build) against row-by-row reference dots.
import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { out } from './helpers.mjs';

for (const [flavour, dir] of [['wasm-simd', 'wasm'], ['wasm-simd-threads', 'wasm-mt']]) {
  test(`${flavour}: quantized kernels equal the scalar references`, () => {
    const r = spawnSync(process.execPath, ['--no-experimental-fetch', path.join(out, dir, 'engine/qkcheck.js')],
      { encoding: 'utf8', timeout: 120000 });
    assert.match(r.stdout, /qmatmul kernels: wasm-simd128/, r.stdout + r.stderr);
    assert.match(r.stdout, /^[1-9]\d* passed, 0 failed$/m, r.stdout + r.stderr);
    assert.equal(r.status, 0, r.stderr);
  });
}
