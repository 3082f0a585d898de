// Tokenizer agreement with Hugging Face's tokenizers (npm @anush008/tokenizers,
// the Rust library itself) on >= 2,000 strings per vocabulary (tests/tokenizers/),
// for sotto's native build and both wasm builds, loaded from tokenizer.json and
// after a round trip through GGUF metadata (sotto_tokenizer_to_gguf, then
// sotto_tokenizer_from_gguf): the same ids, and for pairs and truncation the
// same type ids.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { NAMES } from '../tokenizers/vocabs.mjs';
import { vocabCases, reference, runTokcheck, compare, root } from '../tokenizers/agreement.mjs';

const node = [process.execPath, '--no-experimental-fetch'];
const builds = {
  native: [path.join(root, 'out/native/tests/tokcheck')],
  'wasm-simd': [...node, path.join(root, 'out/wasm/engine/tokcheck.js')],
  'wasm-simd-threads': [...node, path.join(root, 'out/wasm-mt/engine/tokcheck.js')],
};

for (const name of NAMES) {
  test(`tokenizer ${name}: same ids as Hugging Face's tokenizers`, async (t) => {
    const { dir, cases } = vocabCases(name);
    assert.ok(cases.length >= 2000, `${cases.length} cases`);
    const want = await reference(dir, cases);
    // the reference itself is not degenerate: many ids, many distinct ones
    const all = want.flatMap((w) => w.ids);
    assert.ok(all.length > 5 * cases.length && new Set(all).size > 300,
      `${all.length} ids, ${new Set(all).size} distinct`);
    for (const [build, cmd] of Object.entries(builds)) {
      const bin = cmd[cmd.length - 1];
      // from tokenizer.json, and written to GGUF metadata and read back
      for (const via of [[], ['--via-gguf']]) {
        const label = via.length ? `${build}, through GGUF` : build;
        await t.test(label, { skip: !fs.existsSync(bin) && `${bin} not built` }, () => {
          const bad = compare(cases, want, runTokcheck([...cmd, ...via], dir, cases));
          assert.equal(bad.length, 0, `${bad.length} of ${cases.length} differ; first: ${
            JSON.stringify(bad.slice(0, 3)).slice(0, 1500)}`);
        });
      }
    }
  });
}
