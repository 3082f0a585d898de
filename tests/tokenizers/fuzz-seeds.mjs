// Seeds for the tokenizer fuzz targets, from the test vocabularies
// (vocabs.mjs), shrunk so each input loads in well under a millisecond:
//   node tests/tokenizers/fuzz-seeds.mjs json DIR      tokenizer.json files
//   node tests/tokenizers/fuzz-seeds.mjs charsmap DIR  precompiled charsmaps + text
import fs from 'node:fs';
import path from 'node:path';
import { NAMES, makeVocab } from './vocabs.mjs';
import { root } from './agreement.mjs';

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

for (const name of NAMES) {
  const vdir = makeVocab(path.join(root, 'out/tokenizers'), name);
  const tj = JSON.parse(fs.readFileSync(path.join(vdir, 'tokenizer.json'), 'utf8'));
  if (what === 'json') {
    fs.writeFileSync(path.join(dir, `seed-${name}.json`), JSON.stringify(shrink(tj)));
  } else if (what === 'charsmap') {
    const walk = (o) => (o && typeof o === 'object'
      ? (o.type === 'Precompiled' ? o.precompiled_charsmap : Object.values(o).map(walk).find((x) => x)) : null);
    const b64 = walk(tj.normalizer);
    if (!b64) continue;
    // layout of fuzz_charsmap: uint32 map length, the map, then the text
    const map = Buffer.from(b64, 'base64');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(map.length);
    for (const [i, text] of ['Ｈｅｌｌｏ　ｗｏｒｌｄ ①½ ﬁ', 'cafe\u0301 \r\n\t x', '한국어 ｶﾀｶﾅ 😀'].entries()) {
      fs.writeFileSync(path.join(dir, `seed-${name}-${i}`), Buffer.concat([len, map, Buffer.from(text)]));
    }
  }
}
