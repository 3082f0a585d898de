// Matmul micro-benchmark: the engine's XNNPACK fully-connected (weights packed
// once, as models use it) in the native build with 1 and 2 threads and in
// the wasm builds (SIMD128; SIMD128 + threads), all in this one run so the
// ratios compare like with like. Run: make bench (node --no-liftoff, so wasm
// is compiled fully optimised up front).
import { execFileSync } from 'node:child_process';
import { nativeCli, loadEngine } from '../js/helpers.mjs';

const shapes = [
  { m: 128, k: 768, n: 3072, iterations: 20 }, // encoder layer, 128 tokens
  { m: 1, k: 768, n: 3072, iterations: 200 },  // one token (decode-like)
];

function native(threads, shape) {
  const req = JSON.stringify({ op: 'tensor.bench', ...shape });
  const out = execFileSync(nativeCli, ['--threads', String(threads), 'request'], { input: req });
  return JSON.parse(out).result;
}

async function wasm(flavour, threads, shape) {
  const engine = await loadEngine(flavour, { threads });
  try {
    return engine.request({ op: 'tensor.bench', ...shape }).result;
  } finally {
    engine.destroy();
  }
}

console.log('| shape (m x k x n) | native 1T | native 2T | wasm SIMD 1T | wasm SIMD+threads 2T | wasm/native (1T) | wasm/native (2T) |');
console.log('|---|---|---|---|---|---|---|');
for (const s of shapes) {
  const r = [await native(1, s), await native(2, s), await wasm('wasm-simd', 1, s), await wasm('wasm-simd-threads', 2, s)];
  const g = r.map((x) => x.gflops);
  console.log(`| ${s.m} x ${s.k} x ${s.n} | ${g.map((x) => x.toFixed(1) + ' GFLOP/s').join(' | ')} | ${(g[2] / g[0]).toFixed(2)} | ${(g[3] / g[1]).toFixed(2)} |`);
}
process.exit(0);
