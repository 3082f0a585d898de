// Tokenizer agreement with independent references on >= 2,000 strings per
// vocabulary (tests/tokenizers/), for sotto's native build and both wasm
// builds:
// - Hugging Face's tokenizers (npm @anush008/tokenizers, the Rust library):
//   every vocabulary, loaded from tokenizer.json and after a round trip
//   through GGUF metadata (sotto_tokenizer_to_gguf, then
//   sotto_tokenizer_from_gguf): the same ids, and for pairs and truncation
//   the same type ids;
// - transformers.js (npm @huggingface/transformers, offline from the same
//   folder) on the LLM vocabularies: the same ids wherever the two Hugging
//   Face implementations agree, and they must agree on >= 2,000 strings;
// - llama.cpp (npm node-llama-cpp) on a vocabulary-only GGUF file sotto
//   wrote for each LLM vocabulary, read by both: the same ids except where
//   llama.cpp is known to differ from Hugging Face (agreement.mjs,
//   llamaDifference: each such string is proven to be that case).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NAMES } from '../tokenizers/vocabs.mjs';
import {
  vocabCases, reference, runTokcheck, compare, root, LLM_ARCH, transformersReference,
  writeVocabGguf, llamaTokenizer, llamaDifference,
} from '../tokenizers/agreement.mjs';

const node = [process.execPath, '--no-experimental-fetch'];
const builds = {
  native: [path.join(root, 'out/native/tests/tokcheck')],
  'wasm-simd': [...node, path.join(root, 'out/wasm/engine/tokcheck.js')],
  'wasm-simd-threads': [...node, path.join(root, 'out/wasm-mt/engine/tokcheck.js')],
};
const skipOf = (cmd) => !fs.existsSync(cmd[cmd.length - 1]) && `${cmd[cmd.length - 1]} not built`;
const first = (bad) => JSON.stringify(bad.slice(0, 3)).slice(0, 1500);

// Each vocabulary's cases and the Rust library's ids, computed once.
const vocabs = new Map();
async function vocab(name) {
  if (!vocabs.has(name)) {
    const { dir, cases } = vocabCases(name);
    vocabs.set(name, { dir, cases, want: await reference(dir, cases) });
  }
  return vocabs.get(name);
}

for (const name of NAMES) {
  test(`tokenizer ${name}: same ids as Hugging Face's tokenizers`, async (t) => {
    const { dir, cases, want } = await vocab(name);
    assert.ok(cases.length >= 2000, `${cases.length} cases`);
    // the reference itself is not degenerate: many ids, many distinct ones
    const all = want.flatMap((w) => w.ids);
    assert.ok(all.length > 5 * cases.length && new Set(all).size > 300,
      `${all.length} ids, ${new Set(all).size} distinct`);
    for (const [build, cmd] of Object.entries(builds)) {
      // from tokenizer.json, and written to GGUF metadata and read back
      for (const via of [[], ['--via-gguf']]) {
        const label = via.length ? `${build}, through GGUF` : build;
        await t.test(label, { skip: skipOf(cmd) }, () => {
          const bad = compare(cases, want, runTokcheck([...cmd, ...via], dir, cases));
          assert.equal(bad.length, 0, `${bad.length} of ${cases.length} differ; first: ${first(bad)}`);
        });
      }
    }
  });
}

for (const name of Object.keys(LLM_ARCH)) {
  test(`tokenizer ${name}: same ids as transformers.js`, async (t) => {
    const { dir, cases, want } = await vocab(name);
    const tf = transformersReference(dir, cases);
    // where the two Hugging Face implementations disagree, the Rust one is
    // the reference (and sotto matches it, above)
    const disagree = compare(cases, want, tf);
    for (const d of disagree.slice(0, 10)) t.diagnostic(`HF Rust and transformers.js differ: ${JSON.stringify(d)}`);
    t.diagnostic(`transformers.js = HF Rust on ${cases.length - disagree.length} of ${cases.length}`);
    const got = runTokcheck(builds.native, dir, cases);
    const bad = compare(cases, tf, got).filter((b) => JSON.stringify(b.got) !== JSON.stringify(want[b.i]));
    assert.equal(bad.length, 0, `${bad.length} differ from both references; first: ${first(bad)}`);
    assert.ok(cases.length - compare(cases, tf, got).length >= 2000, 'identical on >= 2,000 strings');
  });

  test(`tokenizer ${name}: same ids as llama.cpp on the GGUF file sotto writes`, async (t) => {
    const { dir, cases, want } = await vocab(name);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vocab-gguf-'));
    const gguf = path.join(tmp, `${name}.gguf`);
    writeVocabGguf(dir, LLM_ARCH[name], gguf);
    const llama = await llamaTokenizer(gguf);
    try {
      const ll = cases.map((c) => ({ ids: llama.encode(c.text) }));
      const known = new Map();
      for (const d of compare(cases, want, ll)) {
        const why = llamaDifference(name, d.case.text, d.want.ids, llama);
        assert.ok(why, `llama.cpp differs from Hugging Face unexplained: ${JSON.stringify(d).slice(0, 800)}`);
        known.set(d.i, why);
      }
      for (const [i, why] of [...known].slice(0, 3)) {
        t.diagnostic(`known: ${why}: ${JSON.stringify(cases[i].text)} HF ${JSON.stringify(want[i].ids)} llama.cpp ${JSON.stringify(ll[i].ids)}`);
      }
      t.diagnostic(`llama.cpp = HF on ${cases.length - known.size} of ${cases.length}; ${known.size} known differences`);
      assert.ok(cases.length - known.size >= 2000, 'llama.cpp agrees on >= 2,000 strings');
      // sotto reading the same file: HF's ids everywhere, hence llama.cpp's
      // wherever llama.cpp is not known to differ
      for (const [build, cmd] of Object.entries(builds)) {
        await t.test(build, { skip: skipOf(cmd) }, () => {
          const got = runTokcheck([...cmd, '--gguf'], dir, cases, [gguf, '-']);
          const bad = compare(cases, want, got);
          assert.equal(bad.length, 0, `${bad.length} of ${cases.length} differ; first: ${first(bad)}`);
          const vsLlama = compare(cases, ll, got).filter((b) => !known.has(b.i));
          assert.equal(vsLlama.length, 0, `differs from llama.cpp: ${first(vsLlama)}`);
        });
      }
    } finally {
      await llama.dispose();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
}
