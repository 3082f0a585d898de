/*
 * text.c - UTF-8 decoding, sentence splitting and word tokens.
 *
 * The sentence splitter is rule based, in the spirit of the Punkt and
 * "golden rules" splitters but without trained data, and runs in one linear
 * pass. A sentence ends:
 *   - after '.', '!', '?', '...' or '…' (any run of them, e.g. "?!"), plus
 *     what stays with it: closing quotes and brackets (."  .)  ?»), French
 *     closing guillemets after a space (« Oui. ») and footnote markers
 *     (.[1]  .²), when white space or the end of the text follows and the
 *     next word does not start in lower case;
 *     a '.' after an abbreviation (Mr., e.g., U.S., Inc., z. B., bzw., M.,
 *     single initials) or an ordinal ("am 3. Oktober", "im 19. Jahrhundert")
 *     ends a sentence only when a capitalised function word of English,
 *     German or French follows ("The", "Die", "Il"), and never before a
 *     digit ("No. 5", "Jan. 26");
 *   - right after the sentence marks of scripts written without spaces after
 *     them: CJK 。！？, Devanagari danda । ॥, Arabic ؟ ۔, Armenian ։,
 *     Ethiopic ። ፧, Myanmar ။, Khmer ។, Greek ;
 *   - at a blank line, form feed or U+2029 (paragraph breaks), always;
 *   - at a single line break unless it is a wrap. Line breaks need not mean
 *     anything: hard-wrapped text splits as the same text unwrapped does.
 *     A break is a wrap when the next line starts in lower case, or the line
 *     ends in a comma, an article, a preposition or a conjunction (English,
 *     German, French: "the", "und", "de"), or, in a hard-wrapped block of
 *     lines (e-mail, wire copy, HTML source), when the next line's first
 *     word would not have fitted on the line before. It is never one before
 *     a list item ("- ", "• ", "1. ", "a) ") or after a ':'. So headings,
 *     list items and table rows on lines of their own stay apart.
 * Decimals (3.14), numbers with dots (1.000.000), host names and dotted
 * acronyms need no rule of their own: no space follows their dots.
 */
#include "tokenizers/text.h"

#include <stdlib.h>
#include <string.h>

/* ---- UTF-8 ---- */

size_t sotto_utf8_next(const unsigned char *s, size_t n, uint32_t *cp) {
  unsigned c = s[0];
  size_t len;
  uint32_t v, min;
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  if (c >= 0xC2 && c <= 0xDF) len = 2, min = 0x80, v = c & 0x1F;
  else if (c >= 0xE0 && c <= 0xEF) len = 3, min = 0x800, v = c & 0x0F;
  else if (c >= 0xF0 && c <= 0xF4) len = 4, min = 0x10000, v = c & 0x07;
  else goto bad;
  if (n < len) goto bad;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) goto bad;
    v = v << 6 | (s[i] & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) goto bad;
  *cp = v;
  return len;
bad:
  *cp = SOTTO_UTF8_BAD;
  return 1;
}

size_t sotto_utf8_put(uint32_t cp, char *out) {
  unsigned char *o = (unsigned char *)out;
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = SOTTO_UTF8_BAD;
  if (cp < 0x80) {
    o[0] = (unsigned char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (unsigned char)(0xC0 | cp >> 6);
    o[1] = (unsigned char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (unsigned char)(0xE0 | cp >> 12);
    o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    o[2] = (unsigned char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (unsigned char)(0xF0 | cp >> 18);
  o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
  o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
  o[3] = (unsigned char)(0x80 | (cp & 0x3F));
  return 4;
}

/* ---- character classes ---- */

/* Upper-case ranges: code points lo..hi, every step-th one, lower-case to
 * cp + delta. Enough for the alphabets of Europe (Latin, Greek, Cyrillic),
 * Armenian and Georgian; Unicode's full table is not needed for term
 * statistics. */
static const struct {
  uint32_t lo, hi;
  int32_t delta;
  uint32_t step;
} cases[] = {
    {0x41, 0x5A, 32, 1},        {0xC0, 0xD6, 32, 1},       {0xD8, 0xDE, 32, 1},
    {0x100, 0x12F, 1, 2},       {0x132, 0x137, 1, 2},      {0x139, 0x148, 1, 2},
    {0x14A, 0x177, 1, 2},       {0x178, 0x178, -121, 1},   {0x179, 0x17E, 1, 2},
    {0x1CD, 0x1DC, 1, 2},       {0x1DE, 0x1EF, 1, 2},      {0x1F8, 0x21F, 1, 2},
    {0x222, 0x233, 1, 2},       {0x386, 0x386, 38, 1},     {0x388, 0x38A, 37, 1},
    {0x38C, 0x38C, 64, 1},      {0x38E, 0x38F, 63, 1},     {0x391, 0x3A1, 32, 1},
    {0x3A3, 0x3AB, 32, 1},      {0x3D8, 0x3EF, 1, 2},      {0x400, 0x40F, 80, 1},
    {0x410, 0x42F, 32, 1},      {0x460, 0x481, 1, 2},      {0x48A, 0x4BF, 1, 2},
    {0x4C0, 0x4C0, 15, 1},      {0x4C1, 0x4CE, 1, 2},      {0x4D0, 0x52F, 1, 2},
    {0x531, 0x556, 48, 1},      {0x10A0, 0x10C5, 7264, 1}, {0x1E00, 0x1E95, 1, 2},
    {0x1EA0, 0x1EFF, 1, 2},     {0x1F08, 0x1F0F, -8, 1},   {0x1F18, 0x1F1D, -8, 1},
    {0x1F28, 0x1F2F, -8, 1},    {0x1F38, 0x1F3F, -8, 1},   {0x1F48, 0x1F4D, -8, 1},
    {0x1F68, 0x1F6F, -8, 1},    {0xFF21, 0xFF3A, 32, 1},
    /* as glibc's towlower, which R's tolower() uses (sentiment normalisation) */
    {0x1C4, 0x1C4, 2, 1},       {0x1C5, 0x1C5, 1, 1},      {0x1C7, 0x1C7, 2, 1},
    {0x1C8, 0x1C8, 1, 1},       {0x1CA, 0x1CA, 2, 1},      {0x1CB, 0x1CB, 1, 1},
    {0x1F1, 0x1F1, 2, 1},       {0x1F2, 0x1F2, 1, 1},      {0x1E9E, 0x1E9E, -7615, 1},
    {0x13A0, 0x13EF, 38864, 1}, {0x13F0, 0x13F5, 8, 1},    {0x2160, 0x216F, 16, 1},
    {0x24B6, 0x24CF, 26, 1},    {0x2C00, 0x2C2F, 48, 1},   {0x2C80, 0x2CE3, 1, 2},
    {0x10400, 0x10427, 40, 1},  {0x1E900, 0x1E921, 34, 1},
};

uint32_t sotto_unicode_fold(uint32_t cp) {
  if (cp < 0x80) return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
  if (cp == 0x212A) return 'k';     /* Kelvin sign */
  if (cp == 0x2126) return 0x3C9;   /* Ohm sign */
  if (cp == 0x212B) return 0xE5;    /* Angstrom sign */
  if (cp == 0x130) return 'i';      /* Turkish dotted capital I */
  if (cp == 0x3C2) return 0x3C3;    /* Greek final sigma: same letter */
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    if (cp >= cases[i].lo && cp <= cases[i].hi && (cp - cases[i].lo) % cases[i].step == 0)
      return (uint32_t)((int32_t)cp + cases[i].delta);
  return cp;
}

int sotto_unicode_is_upper(uint32_t cp) {
  return cp == 0x130 || (cp != 0x3C2 && sotto_unicode_fold(cp) != cp);
}

int sotto_unicode_is_lower(uint32_t cp) {
  if (cp < 0x80) return cp >= 'a' && cp <= 'z';
  /* lower-case letters without a capital in the table */
  if (cp == 0xDF || cp == 0x138 || cp == 0x149 || cp == 0x17F || cp == 0x390 || cp == 0x3B0 ||
      cp == 0x3C2)
    return 1;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uint32_t up = (uint32_t)((int32_t)cp - cases[i].delta);
    if (up >= cases[i].lo && up <= cases[i].hi && (up - cases[i].lo) % cases[i].step == 0)
      return 1;
  }
  return 0;
}

int sotto_unicode_is_space(uint32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

static int is_newline(uint32_t c) {
  return (c >= 0x0A && c <= 0x0D) || c == 0x85 || c == 0x2028 || c == 0x2029;
}

/* Punctuation inside the blocks of alphabetic scripts below U+2000. */
static int is_script_punct(uint32_t c) {
  static const uint32_t ranges[][2] = {
      {0x37E, 0x37E},   {0x387, 0x387},   {0x482, 0x482},   {0x55A, 0x55F},   {0x589, 0x58A},
      {0x58D, 0x58F},   {0x5BE, 0x5BE},   {0x5C0, 0x5C0},   {0x5C3, 0x5C3},   {0x5C6, 0x5C6},
      {0x5F3, 0x5F4},   {0x600, 0x60F},   {0x61B, 0x61F},   {0x66A, 0x66D},   {0x6D4, 0x6D4},
      {0x6DD, 0x6DE},   {0x6E9, 0x6E9},   {0x6FD, 0x6FE},   {0x700, 0x70F},   {0x964, 0x965},
      {0x970, 0x970},   {0xDF4, 0xDF4},   {0xE3F, 0xE3F},   {0xE4F, 0xE4F},   {0xE5A, 0xE5B},
      {0xF04, 0xF14},   {0xF3A, 0xF3D},   {0xF85, 0xF85},   {0xFD0, 0xFD4},   {0x104A, 0x104F},
      {0x10FB, 0x10FB}, {0x1360, 0x1368}, {0x166D, 0x166E}, {0x1680, 0x1680}, {0x169B, 0x169C},
      {0x16EB, 0x16ED}, {0x17D4, 0x17DB}, {0x1800, 0x180F},
  };
  for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
    if (c >= ranges[i][0] && c <= ranges[i][1]) return 1;
  return 0;
}

int sotto_unicode_is_word(uint32_t c) {
  if (c < 0x80) return (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z');
  if (c < 0xC0) return c == 0xAA || c == 0xB5 || c == 0xBA; /* controls, Latin-1 signs */
  if (c == 0xD7 || c == 0xF7) return 0;                      /* multiplication, division */
  if (c < 0x2000) return !is_script_punct(c);
  if (c < 0x2C00) return 0; /* punctuation, symbols, arrows, maths, boxes, dingbats */
  if (c < 0x2E00) return 1; /* Glagolitic, Coptic, Tifinagh, Ethiopic and Cyrillic ext. */
  if (c < 0x2E80) return 0; /* supplemental punctuation */
  if (c < 0x3000) return 1; /* CJK radicals */
  if (c < 0x3040)           /* CJK symbols and punctuation: a few are letters */
    return (c >= 0x3005 && c <= 0x3007) || (c >= 0x3021 && c <= 0x3029) ||
           (c >= 0x3031 && c <= 0x3035) || c == 0x303B || c == 0x303C;
  if (c == 0x30FB) return 0; /* katakana middle dot */
  if (c < 0xD800) return 1;  /* kana, CJK, Yi, Hangul and more */
  if (c < 0xF900) return 0;  /* surrogates, private use */
  if (c < 0xFE00) return c != 0xFD3E && c != 0xFD3F;
  if (c < 0xFE70) return 0;  /* variation selectors, vertical and small forms */
  if (c < 0xFF00) return c != 0xFEFF;
  if (c < 0xFFF0)
    return (c >= 0xFF10 && c <= 0xFF19) || (c >= 0xFF21 && c <= 0xFF3A) ||
           (c >= 0xFF41 && c <= 0xFF5A) || (c >= 0xFF66 && c <= 0xFFDC);
  if (c < 0x10000) return 0;                   /* specials, U+FFFD */
  if (c >= 0x1F000 && c < 0x1FC00) return 0;   /* emoji and pictographs */
  return c < 0xE0000;                          /* not tags */
}

int sotto_unicode_is_ideograph(uint32_t c) {
  return (c >= 0x2E80 && c <= 0x2FDF) || (c >= 0x3005 && c <= 0x3007) ||
         (c >= 0x3021 && c <= 0x3029) || (c >= 0x3031 && c <= 0x3035) ||
         (c >= 0x3040 && c <= 0x30FF && c != 0x30FB) || (c >= 0x3100 && c <= 0x312F) ||
         (c >= 0x3190 && c <= 0x31BF) || (c >= 0x31F0 && c <= 0x31FF) ||
         (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x4E00 && c <= 0x9FFF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFF66 && c <= 0xFF9F) ||
         (c >= 0x20000 && c <= 0x3FFFF);
}

/* 1: ends a sentence when white space follows ('.', '!', '?', '…', '‼');
 * 2: ends a sentence by itself (scripts that need no space after it). */
static int terminal_kind(uint32_t c) {
  switch (c) {
  case '.': case '!': case '?': case 0x2026: case 0x203C: case 0x2047: case 0x2048:
  case 0x2049: case 0xFE52: case 0xFE56: case 0xFE57:
    return 1;
  case 0x3002: case 0xFF01: case 0xFF0E: case 0xFF1F: case 0xFF61: /* CJK */
  case 0x0964: case 0x0965:                                        /* Devanagari danda */
  case 0x061F: case 0x06D4:                                        /* Arabic, Urdu */
  case 0x0589:                                                     /* Armenian */
  case 0x1362: case 0x1367: case 0x1368:                           /* Ethiopic */
  case 0x104B: case 0x17D4: case 0x17D5: case 0x037E: case 0x0700: case 0x1803:
    return 2;
  default:
    return 0;
  }
}

/* Closing quotes and brackets that stay with the sentence they end. */
static int is_closer(uint32_t c) {
  switch (c) {
  case '"': case '\'': case ')': case ']': case '}':
  case 0x2019: case 0x201D: case 0x2018: case 0x201C: case 0xBB: case 0xAB: case 0x203A:
  case 0x3009: case 0x300B: case 0x300D: case 0x300F: case 0x3011: case 0x3015: case 0x3017:
  case 0xFF09: case 0xFF3D: case 0xFF63:
    return 1;
  default:
    return 0;
  }
}

/* ---- the English function words ---- */

/* Sorted (strcmp order) for binary search. */
static const char *const stopwords[] = {
    "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and",
    "any", "are", "as", "at", "be", "because", "been", "before", "being", "below", "between",
    "both", "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during",
    "each", "few", "for", "from", "further", "had", "has", "have", "having", "he", "her",
    "here", "hers", "herself", "him", "himself", "his", "how", "however", "i", "if", "in",
    "into", "is", "it", "its", "itself", "just", "me", "might", "more", "most", "must", "my",
    "myself", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other",
    "our", "ours", "ourselves", "out", "over", "own", "said", "same", "say", "says", "she",
    "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them",
    "themselves", "then", "there", "these", "they", "this", "those", "through", "to", "too",
    "under", "until", "up", "upon", "us", "very", "was", "we", "were", "what", "when",
    "where", "which", "while", "who", "whom", "why", "will", "with", "would", "yet", "you",
    "your", "yours", "yourself", "yourselves",
};

int sotto_text_is_stopword(const char *token, size_t len) {
  size_t lo = 0, hi = sizeof stopwords / sizeof stopwords[0];
  if (len == 0 || len > 12) return 0;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = strncmp(stopwords[mid], token, len);
    if (c == 0) c = stopwords[mid][len] ? 1 : 0;
    if (c == 0) return 1;
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return 0;
}

/* ---- sentences ---- */

/* Abbreviations that never end a sentence and ones that may (before a
 * capitalised function word). Lower case, without the final dot; English,
 * German and French. */
static const char *const abbrev_never[] = {
    "adm", "approx", "bzgl", "bzw", "ca", "capt", "cf", "cmdr", "col", "cpl", "dipl", "dr",
    "e.g", "env", "evtl", "gen", "ggf", "gov", "hon", "hrsg", "i.e", "inkl", "lt", "maj",
    "messrs", "mlle", "mme", "mr", "mrs", "ms", "prof", "rep", "rev", "sen", "sgt", "sog",
    "supt", "vgl", "viz", "vs", "zzgl",
};
static const char *const abbrev_maybe[] = {
    "al", "apr", "assn", "aufl", "aug", "av", "ave", "blvd", "bros", "co", "corp", "dec",
    "dept", "est", "etc", "ex", "feb", "fri", "inc", "jan", "jh", "jr", "jul", "jun", "llc",
    "ltd", "mar", "mio", "mon", "mrd", "mt", "nov", "oct", "plc", "pt", "rd", "sat", "sep",
    "sept", "sr", "st", "ste", "str", "thu", "tue", "univ", "usw", "wed", "yr", "yrs",
    "\303\251d", /* éd */
};
/* Abbreviations that stand before a number ("No. 5", "Fig. 3", "Art. 9",
 * "Abs. 2"): a sentence goes on when a digit follows and ends otherwise
 * (French "vol" is a theft, English "no" an answer). */
static const char *const abbrev_number[] = {
    "abb", "abs", "art", "bd", "ch", "chap", "fig", "figs", "kap", "no", "nos", "nr", "op",
    "pp", "sec", "tab", "tel", "vol", "vols",
};

/* German and French words that, capitalised, open sentences (English: the
 * function words of sotto_text_is_stopword). After an abbreviation or an
 * ordinal ("am 3. Oktober"), only such a word ends the sentence. */
static const char *const openers[] = {
    /* German */
    "aber", "alle", "als", "also", "am", "an", "auch", "auf", "aus", "au\303\237erdem", "bei",
    "bis", "da", "dabei", "daher", "damit", "danach", "dann", "das", "dass", "dem", "den",
    "denn", "der", "des", "deshalb", "die", "dies", "diese", "diesem", "diesen", "dieser",
    "dieses", "doch", "dort", "du", "durch", "ein", "eine", "einem", "einen", "einer",
    "eines", "er", "es", "f\xC3\xBCr", "heute", "hier", "ich", "ihr", "im", "in", "jedoch",
    "jetzt", "man", "mit", "nach", "nun", "nur", "ob", "oder", "ohne", "seit", "sie", "so",
    "sonst", "trotzdem", "um", "und", "unter", "vor", "w\xC3\xA4hrend", "wenn", "wie", "wir",
    "zudem", "zum", "zur",
    /* French */
    "\xC3\xA0", "ainsi", "alors", "apr\xC3\xA8s", "au", "aux", "avec", "ce", "ceci", "cela",
    "cependant", "ces", "cet", "cette", "chaque", "comme", "dans", "de", "depuis", "des",
    "donc", "du", "elle", "elles", "en", "enfin", "ensuite", "et", "ici", "il", "ils", "je",
    "la", "le", "les", "leur", "lorsque", "mais", "nous", "on", "ou", "par", "pour",
    "pourtant", "puis", "quand", "sa", "ses", "si", "son", "sur", "toutefois", "tous", "un",
    "une", "vous",
};

/* German words before an ordinal number ("am 3. Oktober", "im 19.
 * Jahrhundert", "die 2. Auflage"). */
static const char *const ordinal_before[] = {
    "ab", "am", "bis", "das", "dem", "den", "der", "des", "die", "im", "jede", "jeden",
    "jeder", "jedes", "seit", "sein", "seine", "seinem", "seinen", "seiner", "vom", "zum",
    "zur",
};

/* Words a line cannot end with unless the text goes on: articles,
 * prepositions, conjunctions and auxiliaries of English, German and French.
 * A line break after one is a wrap, never the end of a heading or an item. */
static const char *const joiners[] = {
    /* English */
    "a", "about", "an", "and", "are", "as", "at", "be", "been", "between", "both", "but",
    "by", "can", "could", "each", "every", "for", "from", "had", "has", "have", "if", "in", "into", "is",
    "its", "may", "might", "must", "nor", "of", "on", "or", "over", "per", "should", "than",
    "that", "the", "their", "these", "this", "those", "through", "to", "under", "via", "was",
    "were", "when", "whether", "which", "while", "who", "whose", "will", "with", "would",
    /* German */
    "als", "am", "auf", "aus", "beim", "bzw", "dass", "dem", "den", "der", "des", "die",
    "durch", "ein", "eine", "einem", "einen", "einer", "eines", "f\xC3\xBCr", "gegen", "im",
    "ins", "ist", "kann", "mit", "nach", "ob", "oder", "ohne", "sind", "sondern", "sowie",
    "um", "und", "vom", "von", "weil", "wenn", "werden", "wird", "wurde", "zu", "zum", "zur",
    "zwischen", "\303\274ber", "dasselbe", "dieselbe", "dieselben", "derselbe", "diese",
    "dieser", "dieses", "diesem", "diesen", "jede", "jedem", "jeden", "jeder", "jedes", "kein",
    "keine", "keinem", "keinen", "keiner", "keines", "welche", "welchem", "welchen", "welcher",
    "welches", "seine", "seinen", "ihre", "ihren", "unsere", "mehrere", "einige", "viele",
    /* French */
    "\xC3\xA0", "au", "aux", "avec", "ces", "cette", "chez", "dans", "de", "des", "dont", "du",
    "elle", "entre", "est", "et", "il", "la", "le", "les", "leur", "leurs", "mais", "ne",
    "ou", "o\xC3\xB9", "par", "pour", "que", "qui", "sa", "sans", "se", "ses", "son", "sont",
    "sous", "sur", "un", "une", "vers",
};

static int in_list(const char *w, size_t len, const char *const *list, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (strncmp(list[i], w, len) == 0 && list[i][len] == 0) return 1;
  return 0;
}
#define IN_LIST(w, len, list) in_list(w, len, list, sizeof list / sizeof list[0])

enum { WORD_PLAIN, WORD_NEVER, WORD_MAYBE, WORD_INITIAL, WORD_NUMBER, WORD_LIST };

typedef struct {
  const unsigned char *s;
  size_t n;
  /* the block (lines between blank lines) being split */
  int wrapped;     /* hard-wrapped: single line breaks are mostly wraps */
  size_t width;    /* its longest line, in code points */
  sotto_span *spans;
  long count, cap;
} splitter;

static uint32_t at(const splitter *sp, size_t pos, size_t *len) {
  uint32_t c;
  *len = sotto_utf8_next(sp->s + pos, sp->n - pos, &c);
  return c;
}

static int is_ascii_alpha(unsigned c) { return (c | 32) >= 'a' && (c | 32) <= 'z'; }
static int is_ascii_digit(unsigned c) { return c >= '0' && c <= '9'; }

/* The lower-cased word of letters at s[pos..] (UTF-8, apostrophes and
 * dots not included) into w[0..cap); its length in bytes of w, 0 when there
 * is none or it does not fit. *end gets where it ends in s. */
static size_t fold_word(const splitter *sp, size_t pos, char *w, size_t cap, size_t *end) {
  size_t o = 0, len;
  while (pos < sp->n) {
    uint32_t c = at(sp, pos, &len);
    if (!sotto_unicode_is_word(c) || sotto_unicode_is_ideograph(c)) break;
    char b[4];
    size_t k = sotto_utf8_put(sotto_unicode_fold(c), b);
    if (o + k >= cap) return 0;
    memcpy(w + o, b, k), o += k, pos += len;
  }
  if (end) *end = pos;
  return o;
}

/* A footnote marker at pos: "[1]", "[12]", "[a]", "[3, 4]", "[2-5]". Returns
 * its length in bytes, 0 when there is none. */
static size_t footnote_marker(const unsigned char *s, size_t n, size_t pos) {
  if (pos >= n || s[pos] != '[') return 0;
  size_t p = pos + 1, digits = 0, letters = 0;
  for (; p < n && p - pos <= 12 && s[p] != ']'; p++) {
    if (is_ascii_digit(s[p])) digits++;
    else if (s[p] >= 'a' && s[p] <= 'z') letters++;
    else if (s[p] != ',' && s[p] != '-' && s[p] != ' ') return 0;
  }
  if (p >= n || s[p] != ']' || (digits == 0 && letters != 1) || (digits && letters)) return 0;
  return p + 1 - pos;
}

static int is_superscript_digit(uint32_t c) {
  return c == 0xB9 || c == 0xB2 || c == 0xB3 || (c >= 0x2070 && c <= 0x2079);
}

/* Classifies the word ending at the '.' at dot (the sentence began at
 * start): an abbreviation, a list marker ("1." or "a." opening the
 * sentence), or a plain word. Ordinals ("am 3. Oktober", "the 2. edition")
 * count as abbreviations that may end a sentence. */
static int word_before(const splitter *sp, size_t start, size_t dot) {
  const unsigned char *s = sp->s;
  size_t ws = dot;
  while (ws > start && dot - ws < 32 && s[ws - 1] != ' ' && s[ws - 1] != '\t' &&
         s[ws - 1] != '\n' && s[ws - 1] != '\r')
    ws--;
  if (ws > start && dot - ws >= 32) return WORD_PLAIN;
  while (ws < dot && (s[ws] == '"' || s[ws] == '\'' || s[ws] == '(' || s[ws] == '[' ||
                      s[ws] == '{'))
    ws++;
  size_t len = dot - ws;
  if (len == 0) return WORD_PLAIN;
  /* Does the word open the sentence (nothing but white space before it)? */
  size_t b = ws;
  while (b > start && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\n' ||
                       s[b - 1] == '\r'))
    b--;
  int opens = b == start;
  int digits = 1;
  for (size_t i = ws; i < dot; i++) digits &= is_ascii_digit(s[i]);
  if (digits) {
    if (opens) return len <= 3 ? WORD_LIST : WORD_PLAIN;
    /* an ordinal: a German article or preposition before the number */
    size_t pe = ws;
    while (pe > start && (s[pe - 1] == ' ' || s[pe - 1] == '\t')) pe--;
    size_t pw = pe;
    while (pw > start && pe - pw < 12 && s[pw - 1] != ' ' && s[pw - 1] != '\t' &&
           s[pw - 1] != '\n')
      pw--;
    char w[16];
    size_t wend, wl = len <= 3 && pe > start ? fold_word(sp, pw, w, sizeof w, &wend) : 0;
    return wl && wend == pe && IN_LIST(w, wl, ordinal_before) ? WORD_MAYBE : WORD_PLAIN;
  }
  /* Letters and inner dots, lower-cased: "u.s", "z.b", "éd" */
  char w[32];
  size_t o = 0, seg = 0, dots = 0, letters = 0, short_segs = 1;
  for (size_t p = ws; p < dot;) {
    if (s[p] == '.') {
      if (seg == 0 || seg > 2) short_segs = 0;
      dots++, seg = 0, p++;
      if (o + 1 >= sizeof w) return WORD_PLAIN;
      w[o++] = '.';
      continue;
    }
    size_t end, k = fold_word(sp, p, w + o, sizeof w - o, &end);
    if (k == 0 || end > dot) return WORD_PLAIN;
    for (size_t q = p, l; q < end; q += l, seg++, letters++) {
      uint32_t c = at(sp, q, &l);
      if (c < 0x80 && !is_ascii_alpha(c)) return WORD_PLAIN; /* digits */
    }
    o += k, p = end;
  }
  w[o] = 0;
  if (seg > 2) short_segs = 0;
  if (IN_LIST(w, o, abbrev_never)) return WORD_NEVER;
  if (letters == 1 && !dots) return opens ? WORD_LIST : WORD_INITIAL; /* "F.", or "a." */
  if (dots) return short_segs ? WORD_INITIAL : WORD_PLAIN; /* U.S., a.m., Ph.D., z.B. */
  if (IN_LIST(w, o, abbrev_maybe)) return WORD_MAYBE;
  if (IN_LIST(w, o, abbrev_number)) return WORD_NUMBER;
  return WORD_PLAIN;
}

/* Whether the word at pos is a function word of English, or (any_language)
 * of English, German or French. After initials only English ones count:
 * names go on with "La Roche", "Le Pen", "Van Dyke". */
static int starts_with_function_word(const splitter *sp, size_t pos, int any_language) {
  char w[32];
  size_t len = fold_word(sp, pos, w, sizeof w, NULL);
  return len && (sotto_text_is_stopword(w, len) || (any_language && IN_LIST(w, len, openers)));
}

static size_t skip_space(const splitter *sp, size_t pos, int newlines) {
  while (pos < sp->n) {
    size_t len;
    uint32_t c = at(sp, pos, &len);
    if (!sotto_unicode_is_space(c) || (!newlines && is_newline(c))) break;
    pos += len;
  }
  return pos;
}

/* What stays with a sentence after its final marks: closing quotes and
 * brackets (."  .)  ?»), footnote markers (.[1]  .²) and, as French sets
 * them, a closing guillemet after a space (« Oui. »). Returns where that
 * ends. */
static size_t after_closers(const splitter *sp, size_t p) {
  while (p < sp->n) {
    size_t len, l2, m;
    uint32_t c = at(sp, p, &len);
    if (is_closer(c) || is_superscript_digit(c)) {
      p += len;
    } else if ((m = footnote_marker(sp->s, sp->n, p)) != 0) {
      p += m;
    } else if (sotto_unicode_is_space(c) && !is_newline(c)) {
      size_t q = skip_space(sp, p, 0);
      if (q == sp->n) return p;
      uint32_t d = at(sp, q, &len);
      if ((d != 0xBB && d != 0x201D) ||
          (q + len < sp->n && !sotto_unicode_is_space(at(sp, q + len, &l2)) &&
           !is_closer(at(sp, q + len, &l2))))
        return p;
      p = q + len;
    } else {
      return p;
    }
  }
  return p;
}

/* The run of terminal marks at pos ends a sentence: returns the end of the
 * sentence (after the marks and closers), or 0 when it does not end one.
 * *run_end gets the end of the marks, so the caller looks at a run once. */
static size_t sentence_end(const splitter *sp, size_t start, size_t pos, size_t *run_end) {
  size_t p = pos, len, run = 0;
  int kind = 1, only_dots = 1;
  uint32_t c;
  while (p < sp->n && (c = at(sp, p, &len), terminal_kind(c))) {
    if (terminal_kind(c) == 2) kind = 2;
    if (c != '.') only_dots = 0;
    run++, p += len;
  }
  *run_end = p;
  p = after_closers(sp, p);
  if (kind == 2 || p == sp->n) return p;
  if (!sotto_unicode_is_space(at(sp, p, &len))) return 0; /* 3.14, U.S.A, a.php?x */
  size_t q = skip_space(sp, p, 1);
  if (q == sp->n) return p;
  uint32_t next = at(sp, q, &len);
  if (sotto_unicode_is_lower(next)) return 0; /* "U.S. oil", "Why?" he asked */
  if (!only_dots || run != 1) return p;
  int word = word_before(sp, start, pos);
  if (word == WORD_NEVER || word == WORD_LIST) return 0;
  if (word == WORD_PLAIN) return p;
  /* after an abbreviation: look past opening quotes and brackets (z. B. »Nr. 17«) */
  while (q < sp->n && (is_closer(next) || next == 0x201E || next == 0x201A || next == '(' ||
                       next == '[')) {
    q += len;
    if (q == sp->n) return p;
    next = at(sp, q, &len);
  }
  if (next < 0x80 && is_ascii_digit(next)) return 0;
  if (word == WORD_NUMBER) return p;
  if (sotto_unicode_is_lower(next)) return 0;
  if (sotto_unicode_is_upper(next)) return starts_with_function_word(sp, q, word == WORD_MAYBE) ? p : 0;
  return p;
}

/* A list item starts at pos: a bullet or dash, "1." "12)" "(3)" "a)" "(iv)",
 * then a space and the item's text on the same line. */
static int is_list_start(const splitter *sp, size_t pos) {
  const unsigned char *s = sp->s;
  size_t len, l2, p = pos;
  uint32_t c = at(sp, p, &len);
  if (c == 0x2022 || c == 0x2023 || c == 0x25E6 || c == 0x25AA || c == 0x25CF || c == 0x25A0 ||
      c == '-' || c == '*' || c == '+' || c == 0x2013 || c == 0x2014)
    return pos + len < sp->n && sotto_unicode_is_space(at(sp, pos + len, &l2));
  if (c == '(') p++;
  size_t q = p, digits = 0, roman = 0;
  for (; q < sp->n && q - p < 4 && (is_ascii_digit(s[q]) || is_ascii_alpha(s[q])); q++) {
    digits += is_ascii_digit(s[q]);
    roman += s[q] == 'i' || s[q] == 'v' || s[q] == 'x';
  }
  size_t k = q - p;
  if (k == 0 || k > 3 || q + 1 >= sp->n) return 0;
  /* numbers "1." "12)"; letters and roman numerals only as "a)" "iv)": "p. ex.",
   * "z. B.", "it." and "ist." go on a sentence */
  if (digits != k && !(s[q] == ')' && (k == 1 || roman == k))) return 0;
  if (s[q] != '.' && s[q] != ')') return 0;
  size_t r = q + 1; /* a space, then the item's text on the same line ("19." alone is a wrap) */
  if (!sotto_unicode_is_space(at(sp, r, &l2)) || is_newline(at(sp, r, &l2))) return 0;
  r = skip_space(sp, r, 0);
  return r < sp->n && !is_newline(at(sp, r, &l2));
}

/* Does the line [line, end) end with a word or mark after which text must
 * go on: a comma, an opening bracket, a hyphen, an elided article (l', d')
 * or a word of joiners[]? */
static int ends_open(const splitter *sp, size_t line, size_t end) {
  const unsigned char *s = sp->s;
  while (end > line && sotto_unicode_is_space(s[end - 1])) end--;
  if (end == line) return 0;
  unsigned c = s[end - 1];
  if (c == ',' || c == ';' || c == '(' || c == '[' || c == '/' || c == '&') return 1;
  if (c == '-') /* a hyphenated word: "Bundes-", not a dash */
    return end - line >= 2 && (is_ascii_alpha(s[end - 2]) || s[end - 2] >= 0x80);
  size_t quote = c == '\'' ? 1
                 : end - line >= 3 && s[end - 3] == 0xE2 && s[end - 2] == 0x80 && c == 0x99 ? 3
                                                                                          : 0;
  if (quote) /* l', d' */
    return end - line > quote && is_ascii_alpha(s[end - quote - 1]);
  size_t ws = end;
  while (ws > line && end - ws < 24 && s[ws - 1] != ' ' && s[ws - 1] != '\t') ws--;
  char w[32];
  size_t wend, len = fold_word(sp, ws, w, sizeof w, &wend);
  return len && wend == end && IN_LIST(w, len, joiners);
}

/* The end of the line that starts at pos. */
static size_t line_end_at(const splitter *sp, size_t pos) {
  size_t len;
  while (pos < sp->n && !is_newline(at(sp, pos, &len))) pos += len;
  return pos;
}

/* A row of a table set as text: cells apart with " | ", a tab or a run of
 * three or more spaces (aligned columns). */
static int is_table_row(const splitter *sp, size_t line, size_t end) {
  const unsigned char *s = sp->s;
  while (line < end && (s[line] == ' ' || s[line] == '\t')) line++;
  if (line < end && (s[line] == '-' || s[line] == '*')) line++; /* "-   an item" */
  while (line < end && (s[line] == ' ' || s[line] == '\t')) line++;
  while (end > line && (s[end - 1] == ' ' || s[end - 1] == '\t' || s[end - 1] == '\r')) end--;
  for (size_t p = line + 1; p + 1 < end; p++)
    if (s[p] == '\t' || (s[p] == '|' && s[p - 1] == ' ' && s[p + 1] == ' ') ||
        (s[p] == ' ' && s[p - 1] == ' ' && s[p + 1] == ' '))
      return 1;
  return 0;
}

/* Measures the block that starts at pos (its lines up to a blank line, a
 * form feed or U+2029): is it hard-wrapped? Its longest line is 40 to 120
 * characters and at least half of its lines are over 60 % of that. */
static void measure_block(splitter *sp, size_t pos) {
  size_t hist[122] = {0}, lines = 0, col = 0, last = 0, width = 0, len;
  for (size_t p = pos; p <= sp->n; p += len) {
    uint32_t c = p < sp->n ? at(sp, p, &len) : (len = 1, '\n');
    if (is_newline(c)) {
      if (!last) break; /* a blank line ends the block */
      lines++;
      hist[last > 121 ? 121 : last]++;
      if (last > width) width = last;
      if (c == 0x0C || c == 0x2029) break;
      if (c == '\r' && p + 1 < sp->n && sp->s[p + 1] == '\n') p++;
      col = last = 0;
    } else {
      col++;
      if (!sotto_unicode_is_space(c)) last = col;
    }
  }
  sp->width = width;
  sp->wrapped = 0;
  if (lines < 2 || width < 40 || width > 120) return;
  size_t long_lines = 0;
  for (size_t w = width * 6 / 10; w <= width; w++) long_lines += hist[w];
  sp->wrapped = long_lines * 2 >= lines;
}

/* The indentation of the line at pos, in code points. */
static size_t indent_of(const splitter *sp, size_t pos) {
  size_t n = 0, len;
  while (pos < sp->n) {
    uint32_t c = at(sp, pos, &len);
    if (!sotto_unicode_is_space(c) || is_newline(c)) break;
    n++, pos += len;
  }
  return n;
}

static int is_opening_quote(uint32_t c) {
  return c == '"' || c == 0xAB || c == 0xBB || c == 0x201C || c == 0x201E || c == 0x201A ||
         c == 0x2018 || c == 0x2039 || c == 0x203A;
}

/* Is the single line break ending the line [line, end) (line_len code
 * points up to its last character last_c other than space) a wrap, the next
 * line starting at next? A wrap joins the lines with a space; otherwise the
 * break ends a sentence (a heading, a list item, a line of a table). */
static int is_wrap(const splitter *sp, size_t line, size_t end, size_t line_len,
                   uint32_t last_c, size_t next) {
  size_t p = skip_space(sp, next, 0), len, word = 0;
  if (line_len == 0 || p == sp->n) return 0;
  uint32_t c = at(sp, p, &len);
  if (is_newline(c) || is_list_start(sp, p)) return 0;
  if (is_table_row(sp, line, end) || is_table_row(sp, p, line_end_at(sp, p))) return 0;
  if (sotto_unicode_is_lower(c)) return 1;
  if (last_c == ':') return is_opening_quote(c); /* a list or a table follows; a quote goes on */
  if (ends_open(sp, line, end)) return 1;
  if (!sp->wrapped) return 0;
  /* Paragraphs that start with an indented line (wire copy, e-mail): a line
   * indented further begins one, a line indented less continues one. */
  size_t here = indent_of(sp, line), there = indent_of(sp, next);
  if (there > here) return 0;
  if (there < here && !terminal_kind(last_c) && !is_closer(last_c)) return 1;
  for (size_t q = p; q < sp->n; q += len, word++) {
    c = at(sp, q, &len);
    if (sotto_unicode_is_space(c)) break;
  }
  /* A wrap, when the next word would not have fitted on the line (as fmt
   * and editors wrap), or the line is well filled and ends in a word in
   * lower case (as people wrap by hand). Headings, table rows and
   * signatures are short or end otherwise. */
  return line_len + 1 + word > sp->width ||
         (sotto_unicode_is_lower(last_c) && line_len * 10 >= sp->width * 6);
}

static int push(splitter *sp, size_t start, size_t end) {
  if (sp->count == sp->cap) {
    long cap = sp->cap ? sp->cap * 2 : 64;
    sotto_span *grown = realloc(sp->spans, (size_t)cap * sizeof *grown);
    if (!grown) return -1;
    sp->spans = grown, sp->cap = cap;
  }
  sp->spans[sp->count].start = start;
  sp->spans[sp->count].end = end;
  sp->count++;
  return 0;
}

/* Adds text[start, end) as sentences: trimmed, a leading bullet dropped,
 * kept only with a word character, and cut when too long. */
static int emit(splitter *sp, size_t start, size_t end) {
  while (start < end) {
    size_t len, p;
    uint32_t c;
    start = skip_space(sp, start, 1);
    if (start >= end) return 0;
    c = at(sp, start, &len);
    if ((c == 0x2022 || c == 0x2023 || c == 0x25E6 || c == 0x25AA || c == 0x25CF ||
         c == 0x25A0 || c == '-' || c == '*' || c == 0x2013 || c == 0x2014) &&
        start + len < end && sotto_unicode_is_space(at(sp, start + len, &p)))
      start = skip_space(sp, start + len, 1);
    size_t stop = end, cut = 0, last = start;
    int word = 0;
    for (p = start; p < end; p += len) {
      c = at(sp, p, &len);
      if (p + len - start > SOTTO_SENTENCE_MAX) { /* too long: cut at a space */
        stop = cut > start ? cut : p > start ? p : p + len;
        break;
      }
      if (sotto_unicode_is_space(c)) {
        cut = p;
      } else {
        last = p + len;
        word |= sotto_unicode_is_word(c);
      }
    }
    if (stop == end && word && push(sp, start, last) != 0) return -1;
    if (stop != end) {
      size_t e = start; /* trim the cut piece */
      int w = 0;
      for (p = start; p < stop; p += len) {
        c = at(sp, p, &len);
        if (!sotto_unicode_is_space(c)) e = p + len, w |= sotto_unicode_is_word(c);
      }
      if (w && push(sp, start, e) != 0) return -1;
    }
    start = stop;
  }
  return 0;
}

long sotto_text_sentences(const char *text, size_t n, sotto_span **spans) {
  splitter sp = {(const unsigned char *)text, n, 0, 0, NULL, 0, 0};
  *spans = NULL;
  if (!text) return 0;
  measure_block(&sp, 0);
  size_t start = 0, pos = 0, line = 0, col = 0, last = 0, line_end = 0, len;
  uint32_t last_c = 0; /* the line's last character other than space */
  while (pos < n) {
    uint32_t c = at(&sp, pos, &len);
    if (is_newline(c)) {
      size_t after = pos + len;
      if (c == '\r' && after < n && text[after] == '\n') after++;
      size_t q = skip_space(&sp, after, 0);
      int paragraph = c == 0x0C || c == 0x2029 || (q < n && is_newline(at(&sp, q, &len)));
      if (paragraph || !is_wrap(&sp, line, line_end, last, last_c, after)) {
        if (emit(&sp, start, pos) != 0) goto oom;
        start = after;
      }
      if (last == 0 || c == 0x0C || c == 0x2029) measure_block(&sp, after); /* a new block */
      pos = line = after, col = last = 0, last_c = 0;
      continue;
    }
    if (terminal_kind(c)) {
      size_t run_end, end = sentence_end(&sp, start, pos, &run_end);
      if (end && emit(&sp, start, end) != 0) goto oom;
      if (end) start = end;
      else end = run_end;
      for (; pos < end; pos += len) { /* marks, closers */
        c = at(&sp, pos, &len);
        if (is_newline(c)) break; /* (a closing quote after a space never spans lines) */
        col++;
        if (!sotto_unicode_is_space(c)) last = col, last_c = c, line_end = pos + len;
      }
      continue;
    }
    col++;
    if (!sotto_unicode_is_space(c)) last = col, last_c = c, line_end = pos + len;
    pos += len;
  }
  if (emit(&sp, start, n) != 0) goto oom;
  *spans = sp.spans;
  return sp.count;
oom:
  free(sp.spans);
  return -1;
}

/* The start of the last code point of s[0..n), n > 0; *c gets it. */
static size_t last_code_point(const unsigned char *s, size_t n, uint32_t *c) {
  size_t p = n - 1;
  while (p > 0 && n - p < 4 && (s[p] & 0xC0) == 0x80) p--;
  if (p + sotto_utf8_next(s + p, n - p, c) != n) *c = SOTTO_UTF8_BAD, p = n - 1;
  return p;
}

int sotto_text_is_complete(const char *s, size_t n) {
  const unsigned char *u = (const unsigned char *)s;
  while (n) { /* back over white space, closers and footnote markers */
    uint32_t c;
    size_t p = last_code_point(u, n, &c), b = p;
    if (c == ']')
      while (b > 0 && p - b < 14 && u[b] != '[') b--;
    if (c == ']' && footnote_marker(u, n, b) == n - b) n = b;
    else if (is_closer(c) || is_superscript_digit(c) || sotto_unicode_is_space(c)) n = p;
    else return terminal_kind(c) != 0;
  }
  return 0;
}

/* ---- cleaned copies and tokens ---- */

static char *clean(const char *s, size_t n, int sentence, size_t *out_len) {
  char *out = malloc(3 * n + 1); /* a bad byte grows to U+FFFD's 3 bytes */
  size_t o = 0, len, m;
  int space = 0;
  if (!out) return NULL;
  for (size_t p = 0; p < n; p += len) {
    uint32_t c;
    len = sotto_utf8_next((const unsigned char *)s + p, n - p, &c);
    if (c == 0x200B || c == 0xFEFF || c == 0xAD) continue; /* invisible: ZWSP, BOM, soft hyphen */
    if (sentence && (m = footnote_marker((const unsigned char *)s, n, p)) != 0) {
      len = m;
      continue;
    }
    if (sotto_unicode_is_space(c) || c < 0x20 || c == 0x7F || (c >= 0x80 && c < 0xA0)) {
      space = 1;
      continue;
    }
    if (space && o) out[o++] = ' ';
    space = 0;
    o += sotto_utf8_put(c, out + o);
  }
  out[o] = 0;
  if (out_len) *out_len = o;
  return out;
}

char *sotto_text_clean(const char *s, size_t n, size_t *out_len) {
  return clean(s, n, 0, out_len);
}

char *sotto_text_clean_sentence(const char *s, size_t n, size_t *out_len) {
  return clean(s, n, 1, out_len);
}

int sotto_text_tokens(const char *s, size_t n, sotto_token_fn fn, void *user) {
  char tok[SOTTO_TOKEN_MAX + 4];
  size_t t = 0, len;
  int rc, digit = 0; /* the last character taken was an ASCII digit */
  const unsigned char *u = (const unsigned char *)s;
  for (size_t p = 0; p < n; p += len) {
    uint32_t c;
    len = sotto_utf8_next(u + p, n - p, &c);
    if (sotto_unicode_is_ideograph(c)) {
      if (t && (rc = fn(user, tok, t)) != 0) return rc;
      t = sotto_utf8_put(c, tok);
      if ((rc = fn(user, tok, t)) != 0) return rc;
      t = 0, digit = 0;
    } else if (sotto_unicode_is_word(c)) {
      char b[4];
      size_t k = sotto_utf8_put(sotto_unicode_fold(c), b);
      if (t + k <= SOTTO_TOKEN_MAX) memcpy(tok + t, b, k), t += k;
      digit = c < 0x80 && is_ascii_digit(c);
    } else if ((c == '.' || c == ',') && digit && p + 1 < n && is_ascii_digit(u[p + 1])) {
      if (t + 1 <= SOTTO_TOKEN_MAX) tok[t++] = (char)c; /* 3.14, 155,221 */
    } else {
      if (t && (rc = fn(user, tok, t)) != 0) return rc;
      t = 0, digit = 0;
    }
  }
  return t ? fn(user, tok, t) : 0;
}

/* ---- the sentiment model's normalisation ----
 *
 * normalise() of models/sentiment/normalise.R, step by step (the R function
 * is the reference; tests compare the two on the model's 5,000 reviews and
 * on hard cases). Its regular expressions are PCRE's: \p{L} and \p{N} are
 * letters and numbers of any script, \s is ASCII white space, \p{Z} the
 * Unicode separators, \p{Cc} the control characters. */

typedef struct {
  char *s;
  size_t n, cap;
  int oom;
} strbuf;

static void sb_put(strbuf *b, const void *p, size_t n) {
  if (b->oom) return;
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + n + 1) cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) {
      b->oom = 1;
      return;
    }
    b->s = s, b->cap = cap;
  }
  memcpy(b->s + b->n, p, n);
  b->n += n;
  b->s[b->n] = 0;
}

static void sb_reset(strbuf *b) {
  b->n = 0;
  if (b->s) b->s[0] = 0;
}

static void sb_cp(strbuf *b, uint32_t c) {
  char u[4];
  sb_put(b, u, sotto_utf8_put(c, u));
}

/* Unicode general category Mn, Mc or Me: combining marks (the common
 * blocks), which sotto_unicode_is_word counts as part of words. */
static int is_mark(uint32_t c) {
  static const uint32_t ranges[][2] = {
      {0x300, 0x36F},   {0x483, 0x489},   {0x591, 0x5BD},   {0x5BF, 0x5BF},   {0x5C1, 0x5C2},
      {0x5C4, 0x5C5},   {0x5C7, 0x5C7},   {0x610, 0x61A},   {0x64B, 0x65F},   {0x670, 0x670},
      {0x6D6, 0x6DC},   {0x6DF, 0x6E4},   {0x6E7, 0x6E8},   {0x6EA, 0x6ED},   {0x711, 0x711},
      {0x730, 0x74A},   {0x900, 0x903},   {0x93A, 0x93C},   {0x93E, 0x94F},   {0x951, 0x957},
      {0x962, 0x963},   {0x981, 0x983},   {0x9BC, 0x9BC},   {0x9BE, 0x9CD},   {0xA01, 0xA03},
      {0xA3C, 0xA51},   {0xA81, 0xA83},   {0xABC, 0xACD},   {0xB01, 0xB03},   {0xB3C, 0xB57},
      {0xBBE, 0xBCD},   {0xC00, 0xC04},   {0xC3E, 0xC56},   {0xCBC, 0xCD6},   {0xD00, 0xD03},
      {0xD3E, 0xD57},   {0xE31, 0xE31},   {0xE34, 0xE3A},   {0xE47, 0xE4E},   {0xEB1, 0xEB1},
      {0xEB4, 0xEBC},   {0xEC8, 0xECD},   {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF}, {0x3099, 0x309A},
      {0xFE20, 0xFE2F},
  };
  for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
    if (c >= ranges[i][0] && c <= ranges[i][1]) return 1;
  return 0;
}

/* \p{L} or \p{N}: a letter or a number of any script. */
static int is_letter_or_number(uint32_t c) {
  if (c == 0xB2 || c == 0xB3 || c == 0xB9 || (c >= 0xBC && c <= 0xBE)) return 1; /* ² ³ ¹ ¼ */
  if ((c >= 0x2C2 && c <= 0x2C5) || (c >= 0x2D2 && c <= 0x2DF) || (c >= 0x2E5 && c <= 0x2EB) ||
      c == 0x2ED || (c >= 0x2EF && c <= 0x2FF) || c == 0x375 || c == 0x384 || c == 0x385 ||
      c == 0x3F6)
    return 0; /* modifier symbols */
  if (c >= 0x2000 && c < 0x2C00) {
    static const uint32_t ranges[][2] = {
        {0x2070, 0x2071}, {0x2074, 0x2079}, {0x207F, 0x2089}, {0x2090, 0x209C},
        {0x2102, 0x2102}, {0x2107, 0x2107}, {0x210A, 0x2113}, {0x2115, 0x2115},
        {0x2119, 0x211D}, {0x2124, 0x2124}, {0x2126, 0x2126}, {0x2128, 0x2128},
        {0x212A, 0x212D}, {0x212F, 0x2139}, {0x213C, 0x213F}, {0x2145, 0x2149},
        {0x214E, 0x214E}, {0x2150, 0x2189}, {0x2460, 0x249B}, {0x24EA, 0x24FF},
        {0x2776, 0x2793},
    };
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
      if (c >= ranges[i][0] && c <= ranges[i][1]) return 1;
    return 0;
  }
  return sotto_unicode_is_word(c) && !is_mark(c);
}

/* \s (ASCII white space), \p{Z} (separators) or \p{Cc} (controls). */
static int is_blank_class(uint32_t c, int controls) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000 || (controls && (c < 0x20 || (c >= 0x7F && c <= 0x9F)));
}

/* decode_entities(): numeric ones, a short list of named ones, the rest of
 * the named ones as spaces. */
static void decode_entities(strbuf *out, const char *s, size_t n) {
  static const char *const named[][2] = {
      {"quot", "\""}, {"apos", "'"}, {"lt", "<"}, {"gt", ">"}, {"nbsp", " "},
      {"eacute", "\303\251"}, {"egrave", "\303\250"}, {"ecirc", "\303\252"},
      {"aacute", "\303\241"}, {"agrave", "\303\240"}, {"ntilde", "\303\261"},
      {"uuml", "\303\274"}, {"ouml", "\303\266"}, {"auml", "\303\244"},
      {"ccedil", "\303\247"}, {"rsquo", "'"}, {"lsquo", "'"}, {"rdquo", "\""}, {"ldquo", "\""},
      {"mdash", "-"}, {"ndash", "-"}, {"hellip", "..."},
  };
  strbuf a = {0}, b = {0};
  /* &#NN; -> the character (as.integer, intToUtf8); out of range -> space */
  for (size_t i = 0; i < n;) {
    size_t j = i + 2;
    while (j < n && is_ascii_digit((unsigned char)s[j])) j++;
    if (s[i] == '&' && i + 2 < n && s[i + 1] == '#' && j > i + 2 && j < n && s[j] == ';') {
      uint64_t v = 0;
      size_t k = i + 2;
      while (k < j && s[k] == '0') k++;
      int big = j - k > 10;
      for (; !big && k < j; k++) v = v * 10 + (uint64_t)(s[k] - '0');
      if (big || v > 0x7FFFFFFF || v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        sb_put(&a, " ", 1);
      else
        sb_cp(&a, (uint32_t)v);
      i = j + 1;
    } else {
      sb_put(&a, s + i, 1), i++;
    }
  }
  /* the named ones, one list entry after the other (gsub, fixed) */
  for (size_t e = 0; e < sizeof named / sizeof named[0]; e++) {
    char pat[16] = "&";
    size_t pl = strlen(named[e][0]) + 2;
    memcpy(pat + 1, named[e][0], pl - 2);
    pat[pl - 1] = ';';
    sb_reset(&b);
    for (size_t i = 0; i < a.n;) {
      if (a.s[i] == '&' && i + pl <= a.n && memcmp(a.s + i, pat, pl) == 0) {
        sb_put(&b, named[e][1], strlen(named[e][1]));
        i += pl;
      } else {
        sb_put(&b, a.s + i, 1), i++;
      }
    }
    strbuf t = a;
    a = b, b = t;
  }
  /* &[A-Za-z][A-Za-z0-9]*; -> space (&amp; among them: R's last step,
   * &amp; -> &, finds none left) */
  for (size_t i = 0; i < a.n;) {
    size_t j = i + 1;
    if (a.s[i] == '&' && j < a.n && is_ascii_alpha((unsigned char)a.s[j])) {
      while (j < a.n && (is_ascii_alpha((unsigned char)a.s[j]) || is_ascii_digit((unsigned char)a.s[j])))
        j++;
      if (j < a.n && a.s[j] == ';') {
        sb_put(out, " ", 1);
        i = j + 1;
        continue;
      }
    }
    sb_put(out, a.s + i, 1), i++;
  }
  out->oom |= a.oom | b.oom;
  free(a.s), free(b.s);
}

char *sotto_text_normalise(const char *s, size_t n, size_t *out_len) {
  strbuf a = {0}, b = {0};
  /* valid UTF-8 first (R's strings are; bad bytes become U+FFFD) */
  for (size_t p = 0, len; p < n; p += len) {
    uint32_t c;
    len = sotto_utf8_next((const unsigned char *)s + p, n - p, &c);
    sb_cp(&a, c);
  }
  /* 1. <[^>]*> -> space */
  for (size_t i = 0; i < a.n;) {
    const char *gt = a.s[i] == '<' ? memchr(a.s + i + 1, '>', a.n - i - 1) : NULL;
    if (gt) {
      sb_put(&b, " ", 1);
      i = (size_t)(gt - a.s) + 1;
    } else {
      sb_put(&b, a.s + i, 1), i++;
    }
  }
  /* 2. entities */
  sb_reset(&a);
  if (b.n) decode_entities(&a, b.s, b.n);
  /* 3-5. lower case; typographic apostrophes; U+FFFD -> space */
  sb_reset(&b);
  for (size_t p = 0, len; p < a.n; p += len) {
    uint32_t c;
    len = sotto_utf8_next((const unsigned char *)a.s + p, a.n - p, &c);
    c = sotto_unicode_fold(c);
    if (c == 0x2018 || c == 0x2019) c = '\'';
    if (c == SOTTO_UTF8_BAD) c = ' ';
    sb_cp(&b, c);
  }
  /* 6. an apostrophe between two letters or numbers stays; others stand alone */
  sb_reset(&a);
  uint32_t prev = 0;
  for (size_t p = 0, len; p < b.n; p += len) {
    uint32_t c, next = 0;
    len = sotto_utf8_next((const unsigned char *)b.s + p, b.n - p, &c);
    if (p + len < b.n) sotto_utf8_next((const unsigned char *)b.s + p + len, b.n - p - len, &next);
    if (c == '\'' && !(is_letter_or_number(prev) && p + len < b.n && is_letter_or_number(next)))
      sb_put(&a, " ' ", 3);
    else
      sb_cp(&a, c);
    prev = c;
  }
  /* 7. any other character that is not a letter, number or space is set apart */
  sb_reset(&b);
  for (size_t p = 0, len; p < a.n; p += len) {
    uint32_t c;
    len = sotto_utf8_next((const unsigned char *)a.s + p, a.n - p, &c);
    int apart = !is_letter_or_number(c) && !is_blank_class(c, 0) && c != '\'';
    if (apart) sb_put(&b, " ", 1);
    sb_cp(&b, c);
    if (apart) sb_put(&b, " ", 1);
  }
  /* 8. runs of white space, separators and controls -> one space; trimmed */
  sb_reset(&a);
  int blank = 0;
  for (size_t p = 0, len; p < b.n; p += len) {
    uint32_t c;
    len = sotto_utf8_next((const unsigned char *)b.s + p, b.n - p, &c);
    if (is_blank_class(c, 1)) {
      blank = 1;
      continue;
    }
    if (blank && a.n) sb_put(&a, " ", 1);
    blank = 0;
    sb_cp(&a, c);
  }
  int oom = a.oom || b.oom;
  free(b.s);
  if (oom) {
    free(a.s);
    return NULL;
  }
  if (!a.s) a.s = calloc(1, 1);
  if (out_len) *out_len = a.n;
  return a.s;
}
