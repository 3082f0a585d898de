// A long text for cancel tests and timings: n sentences of 14 words from a
// small vocabulary, in paragraphs of five (deterministic).
const WORDS = ('the ship sailed past the lighthouse while keepers watched storms roll over ' +
  'rocks and harbours near the coast of many towns').split(' ');

export function longText(sentences) {
  const out = [];
  let seed = 1;
  for (let i = 0; i < sentences; i++) {
    const w = [];
    for (let j = 0; j < 14; j++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      w.push(WORDS[seed % WORDS.length] + (seed % 7 === 0 ? 's' : ''));
    }
    out.push(`${w.join(' ')}.`);
    if (i % 5 === 4) out.push('\n\n');
  }
  return out.join(' ');
}
