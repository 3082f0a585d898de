// Seeds for the tokenizer fuzz targets, small so that each input runs in
// well under a millisecond:
//   node tests/tokenizers/fuzz-seeds.mjs json DIR      the test vocabularies
//                                                     (vocabs.mjs), shrunk
//   node tests/tokenizers/fuzz-seeds.mjs charsmap DIR  a small precompiled
//                                                     charsmap (make-unigram.py) + texts
//   node tests/tokenizers/fuzz-seeds.mjs chat DIR      the vocabularies' chat
//                                                     templates + conversations
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { NAMES, makeVocab } from './vocabs.mjs';
import { root, LLM_ARCH } from './agreement.mjs';

const [what, dir] = process.argv.slice(2);
fs.mkdirSync(dir, { recursive: true });

function shrink(tj, keep = 80) {
  const m = tj.model;
  const unigram = m.type === 'Unigram';
  const entries = unigram ? m.vocab.map(([s, sc], i) => [s, i, sc])
    : Object.entries(m.vocab).map(([s, i]) => [s, i]);
  entries.sort((a, b) => a[1] - b[1]);
  const kept = entries.filter(([, i]) => i < keep || (m.type === 'WordPiece' && i >= 2000 && i < 2040));
  const added = tj.added_tokens.slice(0, 6);
  const newId = new Map();
  const vocab = unigram ? [] : {};
  for (const [s, , sc] of kept) {
    newId.set(s, newId.size);
    if (unigram) vocab.push([s, sc]); else vocab[s] = newId.get(s);
  }
  for (const a of added) if (!newId.has(a.content)) newId.set(a.content, newId.size);
  const out = { ...tj, added_tokens: added.map((a) => ({ ...a, id: newId.get(a.content) })) };
  out.model = { ...m, vocab };
  if (unigram) out.model.unk_id = Math.min(m.unk_id ?? 0, kept.length - 1);
  if (m.merges) {
    const pair = (x) => (typeof x === 'string' ? x.split(' ') : x);
    out.model.merges = m.merges.filter((x) => {
      const [a, b] = pair(x);
      return newId.has(a) && newId.has(b) && newId.has(a + b);
    });
  }
  const fix = (o) => {
    if (!o || typeof o !== 'object') return;
    if (o.type === 'Precompiled') o.precompiled_charsmap = null;
    if (o.special_tokens) {
      for (const v of Object.values(o.special_tokens)) {
        v.ids = v.tokens.map((t) => newId.get(t) ?? 0);
      }
    }
    for (const k of ['sep', 'cls']) if (Array.isArray(o[k])) o[k][1] = newId.get(o[k][0]) ?? 0;
    for (const v of Object.values(o)) fix(v);
  };
  fix(out.normalizer);
  fix(out.post_processor);
  return out;
}

if (what === 'charsmap') {
  // layout of fuzz_charsmap: uint32 map length, the map, then the text
  const mapFile = path.join(dir, 'small.map');
  execFileSync('/usr/bin/python3', [path.join(root, 'tests/tokenizers/make-unigram.py'), '--charsmap', mapFile]);
  const map = fs.readFileSync(mapFile);
  fs.rmSync(mapFile);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(map.length);
  for (const [i, text] of ['Ａａ ﬁ① x\u200by', 'cafe\u0301 \u1100\u1161 1\ufe0f\u20e3', 'ｶ \r\n\t 😀 abc'].entries()) {
    fs.writeFileSync(path.join(dir, `seed-small-${i}`), Buffer.concat([len, map, Buffer.from(text)]));
  }
}

for (const name of what === 'json' ? NAMES : what === 'chat' ? Object.keys(LLM_ARCH) : []) {
  const vdir = makeVocab(path.join(root, 'out/tokenizers'), name);
  if (what === 'json') {
    const tj = JSON.parse(fs.readFileSync(path.join(vdir, 'tokenizer.json'), 'utf8'));
    fs.writeFileSync(path.join(dir, `seed-${name}.json`), JSON.stringify(shrink(tj)));
  } else if (what === 'chat') {
    // layout of fuzz_chat: template, then role and content, NUL-separated
    const tpl = JSON.parse(fs.readFileSync(path.join(vdir, 'tokenizer_config.json'), 'utf8')).chat_template;
    if (!tpl) continue;
    const fields = [tpl, '\x01', 'Be brief.', '\x02', ' Hi ', '\x03', 'Hello', '\x02', 'Sum up: caf\u00e9 \u4e2d'];
    fs.writeFileSync(path.join(dir, `seed-${name}`), fields.join('\0'));
  }
}
