// The test strings of the tokenizer agreement tests: a fixed list of hard
// cases plus seeded random mixes of fragments, so every run checks the same
// >= 2,000 strings per vocabulary: accents (composed and decomposed), CJK,
// emoji (ZWJ sequences, skin tones, flags), very long words, control and
// format characters, empty strings, numbers, white space runs, code,
// contractions, many scripts, words a vocabulary holds whole, the
// vocabulary's own special-token text, and texts longer than a model's
// window (with pairs and truncation).
// Characters are limited to Unicode 14 (the version of sotto's tables).

export const FRAGMENTS = [
  'Hello world', 'The quick brown fox jumps over the lazy dog.', "don't", "I'M", "we'll", "they've",
  "'s", "'S", "it'd", "O'Neil's", 'café', 'naïve', 'Ångström', 'cafe\u0301', 'n\u0303o', 'Ünïcödé',
  'résumé', 'São Paulo', 'Œuvre', 'straße', 'İstanbul', 'ǅemal', 'ΣΊΣΥΦΟΣ', 'Ελληνικά', 'Привет, мир!',
  'Україна', 'שלום עולם', 'مرحبا بالعالم', 'हिन्दी भाषा', 'ภาษาไทย', 'ქართული', 'Հայերեն',
  '中文分词测试', '日本語のテキスト', 'カタカナとひらがな', '한국어 텍스트', '漢字', '𠀀𠀁', '々〆〤',
  '😀', '👍🏽', '👨‍👩‍👧‍👦', '🇫🇷🇩🇪', '❤️', '🏳️‍🌈', '✨🎉', '☕', '1️⃣',
  '0', '7', '42', '1234567890', '3.14159', '1,000,000', '-12.5e10', '٣٤٥', '१२३', '²³', '½', 'Ⅻ', '①',
  '\t', '\n', '\r\n', '  ', '   ', '\n\n\n', ' \t \n ', '\u00a0', '\u3000', '\u2003', '\u2028',
  '\u0000', '\u0007', '\u001b[0m', '\u007f', '\u200b', '\u200d', '\ufeff', '\u00ad', '\ufffd',
  '\u202e', '\u0301', '\ue000',
  'function add(a, b) {\n  return a + b;\n}', 'for (int i = 0; i < n; i++) x[i] *= 2;',
  'def f(x):\n\treturn x ** 2  # square', '<div class="x">&amp;</div>', 'SELECT * FROM t WHERE id=1;',
  'https://example.com/path?q=1&r=2', 'user@example.org', '#include <stdio.h>', '$HOME/.config',
  '...', '!!!', '???', '—', '–', '«»', '“quoted”', '‘single’', '(parens)', '[brackets]', '{braces}',
  '@#$%^&*', '~`|\\', 'a-b_c', 'snake_case_name', 'CamelCaseWord', 'ALLCAPS', 'MiXeD',
  'supercalifragilisticexpialidocious', 'pneumonoultramicroscopicsilicovolcanoconiosis',
  'unaffable', 'tokenization', 'Hugging Face', 'transformers', 'GPT-2', 'BERT', 'RoBERTa',
  // whole words of Llama 3's vocabulary that its merges alone would not build (ignore_merges)
  'Tiếng Việt: việc nhiều điều hợp', 'ektedir', 'ایران', 'değiş характ використ každ',
];

const WORDS = ('the of and to in is was for on that with as by at from it his an were are which ' +
  'this be or has had not but have first one their its new after who they two her she been other ' +
  'when time during there into school more may years over only year most would world city some ' +
  'where between later three state such then national used made known under many university ' +
  'united while part season team these american than film second born south became states war ' +
  'through being including both until north') .split(' ');

export function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function prose(r, n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    let w = WORDS[Math.floor(r() * WORDS.length)];
    if (r() < 0.1) w = w[0].toUpperCase() + w.slice(1);
    out.push(w);
    if (r() < 0.08) out.push(r() < 0.5 ? ',' : '.');
  }
  return out.join(' ').replace(/ ([,.])/g, '$1');
}

function randomWord(r, len) {
  let s = '';
  for (let i = 0; i < len; i++) s += String.fromCharCode(97 + Math.floor(r() * 26));
  return s;
}

// specials: the vocabulary's special and added token texts.
export function makeCases(specials, { pairs = false, seed = 1 } = {}) {
  const r = rng(seed);
  const pick = (a) => a[Math.floor(r() * a.length)];
  const texts = ['', ' ', '  ', '\n', 'a', 'A', '.', "'", '\u0000', '\ufeff'];
  for (const f of FRAGMENTS) texts.push(f, ` ${f}`, `${f} `, f.toUpperCase());
  texts.push('a'.repeat(99), 'a'.repeat(100), 'a'.repeat(101), 'a'.repeat(150),
    'é'.repeat(120), randomWord(r, 300), `${'ab'.repeat(500)} end`, '1'.repeat(50),
    ' '.repeat(40), '\n'.repeat(20), '😀'.repeat(30), '中'.repeat(200), `x${'\u0301'.repeat(10)}`);
  for (const s of specials) {
    texts.push(s, `${s}hello`, `hello ${s} world`, ` ${s} `, `${s}${s}`, `a${s}b`, `${s}\n`);
  }
  // prose at several lengths, including texts over a 512-token window
  for (const n of [5, 20, 80, 300, 700]) texts.push(prose(r, n));
  const SEPS = ['', ' ', '  ', '\n', '\t', ', ', ' - ', '\n\n', '\r\n'];
  while (texts.length < 2100) {
    const k = 1 + Math.floor(r() * 6);
    let s = '';
    for (let i = 0; i < k; i++) {
      const c = r();
      const frag = c < 0.5 ? pick(FRAGMENTS) : c < 0.75 ? prose(r, 1 + Math.floor(r() * 8))
        : c < 0.85 && specials.length ? pick(specials) : c < 0.95 ? randomWord(r, 1 + Math.floor(r() * 12))
          : String(Math.floor(r() * 1e6));
      s += (i ? pick(SEPS) : '') + frag;
    }
    texts.push(s);
  }
  const cases = texts.map((text) => ({ text }));
  if (pairs) {
    const lens = [0, 8, 16, 32, 64, 128, 512];
    for (let i = 0; i < 300; i++) {
      const a = texts[Math.floor(r() * texts.length)];
      const b = i % 10 === 0 ? prose(r, 400) : texts[Math.floor(r() * texts.length)];
      cases.push({ text: a, pair: b, max_len: lens[i % lens.length] });
    }
    for (let i = 0; i < 50; i++) {
      cases.push({ text: texts[Math.floor(r() * texts.length)], max_len: lens[1 + (i % 6)] });
    }
  }
  return cases;
}
