// Language-ID benchmark: lid.176 on 1,000 sentences (the lid test set) in
// the native engine and both wasm builds, side by side in one run. The
// builds take turns, one pass over the sentences each, PASSES rounds after a
// warm-up round, so load from other processes falls on all of them; the
// figure is the median pass. "engine" time is the sum of the requests'
// stats.ms (the classify op alone, measured the same way in every build);
// "end to end" adds JSON in and out (for wasm the JS <-> wasm copies, for
// native a CLI process that also loads the model). Debian's fastText CLI on
// the same file is shown for scale (a process that also loads the model).
// Run: node --no-experimental-fetch --no-liftoff tests/bench/lid.mjs
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { flavours } from '../js/helpers.mjs';
import {
  lidModel, setDir, makeSet, nativePredict, wasmEngine, wasmPredict, median,
} from '../lid/lid-common.mjs';

const N = 1000, PASSES = 11;
const set = makeSet();
const texts = Array.from({ length: N }, (_, i) => set.sentences[i % set.sentences.length]);
const sum = (xs) => xs.reduce((a, b) => a + b, 0);
const builds = ['native', ...Object.keys(flavours)];
const engines = {};
for (const f of Object.keys(flavours)) engines[f] = await wasmEngine(f, lidModel, { threads: 1 });
const times = Object.fromEntries(builds.map((b) => [b, { engine: [], wall: [] }]));
for (let round = 0; round <= PASSES; round++) {
  for (const b of builds) {
    let engineMs, wallMs;
    if (b === 'native') {
      // two passes in one process; the second is timed (caches warm)
      const r = nativePredict(lidModel, texts, 1, { passes: 2, threads: 1 });
      engineMs = sum(r.ms.slice(N));
      wallMs = r.wallMs;
    } else {
      const r = wasmPredict(engines[b], texts, 1);
      engineMs = sum(r.ms);
      wallMs = r.wallMs;
    }
    if (round > 0) {
      times[b].engine.push(engineMs);
      times[b].wall.push(wallMs);
    }
  }
}
for (const e of Object.values(engines)) e.destroy();
const rows = builds.map((b) => ({ build: b, engine: median(times[b].engine), wall: median(times[b].wall) }));
const file = path.join(setDir, 'bench-1000.txt');
fs.writeFileSync(file, texts.join('\n') + '\n');
const debian = [];
for (let p = 0; p < PASSES; p++) {
  const t0 = performance.now();
  execFileSync('fasttext', ['predict-prob', lidModel, file, '1'], { stdio: 'ignore' });
  debian.push(performance.now() - t0);
}

const native = rows[0];
console.log(`lid.176, ${N} sentences, 1 thread, median of ${PASSES} passes`);
console.log('| build | engine ms / 1,000 | µs / sentence | vs native | end to end ms / 1,000 |');
console.log('|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.build} | ${r.engine.toFixed(1)} | ${(1000 * r.engine / N).toFixed(1)} | ` +
    `${(r.engine / native.engine).toFixed(2)}x | ${r.wall.toFixed(1)}${r.build === 'native' ? ' (CLI process, 2 passes + model load)' : ''} |`);
}
console.log(`| Debian fasttext predict-prob (process, model load included) | | | | ${median(debian).toFixed(1)} |`);
process.exit(0);
