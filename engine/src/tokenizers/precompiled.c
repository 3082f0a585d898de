/*
 * precompiled.c - SentencePiece's precompiled_charsmap normaliser (the
 * "nmt_nfkc" rules and custom ones compiled into the model file), read as
 * Hugging Face's tokenizers reads it (normalizers/precompiled.rs over the
 * spm_precompiled crate).
 *
 * Layout: uint32 trie_bytes (little-endian), the trie as trie_bytes / 4
 * uint32 units (a darts-clone double array: each unit holds a label, a
 * leaf flag and an offset to its children), then the replacement strings,
 * each ending in a NUL; a trie value is the offset of its replacement.
 *
 * Normalising, as HF does: the text is cut into grapheme clusters; a
 * cluster shorter than 6 bytes whose bytes start with a trie key is
 * replaced whole by that key's replacement (the shortest key wins);
 * otherwise each character that starts with a key is replaced, the others
 * kept. Every trie index and string offset is checked: the charsmap comes
 * from an untrusted file.
 */
#include <string.h>

#include "text.h"
#include "tok.h"

typedef struct trie {
  const uint8_t *units; /* n little-endian uint32 */
  size_t n;
  const char *strs;
  size_t strs_len;
} trie;

static uint32_t unit_at(const trie *t, size_t i) {
  const uint8_t *p = t->units + i * 4;
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static size_t unit_offset(uint32_t u) { return (size_t)(u >> 10) << ((u & (1u << 9)) >> 6); }
static uint32_t unit_label(uint32_t u) { return u & ((1u << 31) | 0xFF); }
static int unit_leaf(uint32_t u) { return (u >> 8) & 1; }
static uint32_t unit_value(uint32_t u) { return u & ((1u << 31) - 1); }

static int trie_open(trie *t, const uint8_t *map, size_t len) {
  if (len < 4) return -1;
  uint32_t tb = (uint32_t)map[0] | (uint32_t)map[1] << 8 | (uint32_t)map[2] << 16 |
                (uint32_t)map[3] << 24;
  if (tb % 4 || tb == 0 || tb > len - 4) return -1;
  t->units = map + 4;
  t->n = tb / 4;
  t->strs = (const char *)map + 4 + tb;
  t->strs_len = len - 4 - tb;
  return 0;
}

/* The value of the shortest key that prefixes s[0..n), or -1. */
static long first_prefix(const trie *t, const char *s, size_t n) {
  size_t pos = unit_offset(unit_at(t, 0));
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!c) break;
    pos ^= c;
    if (pos >= t->n) return -1;
    uint32_t u = unit_at(t, pos);
    if (unit_label(u) != c) return -1;
    pos ^= unit_offset(u);
    if (pos >= t->n) return -1;
    if (unit_leaf(u)) return (long)unit_value(unit_at(t, pos));
  }
  return -1;
}

/* The replacement for s[0..n), or NULL. */
static const char *transform(const trie *t, const char *s, size_t n, size_t *len) {
  long v = first_prefix(t, s, n);
  if (v < 0 || (size_t)v >= t->strs_len) return NULL;
  const char *r = t->strs + v;
  const char *z = memchr(r, 0, t->strs_len - (size_t)v);
  *len = z ? (size_t)(z - r) : t->strs_len - (size_t)v;
  return r;
}

/* ---- grapheme clusters (UAX #29), enough of them for the "< 6 bytes"
 * rule: CR LF, combining marks and joiners, Hangul syllable sequences;
 * controls always break. ---- */
enum { G_OTHER, G_CR, G_LF, G_CONTROL, G_EXTEND, G_ZWJ, G_SPACING, G_L, G_V, G_T, G_LV, G_LVT };

static int gclass(uint32_t c) {
  if (c == '\r') return G_CR;
  if (c == '\n') return G_LF;
  if (c == 0x200D) return G_ZWJ;
  if (c == 0x200C || (c >= 0x1F3FB && c <= 0x1F3FF) || (c >= 0xFE00 && c <= 0xFE0F) ||
      (c >= 0xE0020 && c <= 0xE007F))
    return G_EXTEND;
  if (c >= 0x1100 && c <= 0x115F) return G_L;
  if (c >= 0xA960 && c <= 0xA97C) return G_L;
  if (c >= 0x1160 && c <= 0x11A7) return G_V;
  if (c >= 0xD7B0 && c <= 0xD7C6) return G_V;
  if (c >= 0x11A8 && c <= 0x11FF) return G_T;
  if (c >= 0xD7CB && c <= 0xD7FB) return G_T;
  if (c >= 0xAC00 && c <= 0xD7A3) return (c - 0xAC00) % 28 ? G_LVT : G_LV;
  sotto_ucat k = sotto_ucat_of(c);
  if (k == SOTTO_UCAT_MN || k == SOTTO_UCAT_ME) return G_EXTEND;
  if (k == SOTTO_UCAT_MC) return G_SPACING;
  if (k == SOTTO_UCAT_CC || k == SOTTO_UCAT_ZL || k == SOTTO_UCAT_ZP ||
      (k == SOTTO_UCAT_CF && c != 0x200C && c != 0x200D))
    return G_CONTROL;
  return G_OTHER;
}

static int joins(int a, int b) {
  if (a == G_CR && b == G_LF) return 1;
  if (a == G_CR || a == G_LF || a == G_CONTROL || b == G_CR || b == G_LF || b == G_CONTROL)
    return 0;
  if (a == G_L && (b == G_L || b == G_V || b == G_LV || b == G_LVT)) return 1;
  if ((a == G_LV || a == G_V) && (b == G_V || b == G_T)) return 1;
  if ((a == G_LVT || a == G_T) && b == G_T) return 1;
  return b == G_EXTEND || b == G_ZWJ || b == G_SPACING;
}

int tok_precompiled_check(const uint8_t *map, size_t len, sotto_error *err) {
  trie t;
  if (trie_open(&t, map, len))
    return sotto_error_set(err, SOTTO_BAD_MODEL, "tokenizer: bad precompiled_charsmap header");
  return 0;
}

int tok_precompiled(const uint8_t *map, size_t map_len, const char *s, size_t n, tok_buf *out) {
  trie t;
  if (!map || trie_open(&t, map, map_len)) return tok_buf_add(out, s, n);
  for (size_t i = 0; i < n;) {
    /* the grapheme cluster [i, e) */
    uint32_t cp;
    size_t e = i + sotto_utf8_next((const unsigned char *)s + i, n - i, &cp);
    int prev = gclass(cp);
    while (e < n) {
      size_t l = sotto_utf8_next((const unsigned char *)s + e, n - e, &cp);
      int g = gclass(cp);
      if (!joins(prev, g)) break;
      prev = g;
      e += l;
    }
    size_t rl;
    const char *r = e - i < 6 ? transform(&t, s + i, e - i, &rl) : NULL;
    if (r) {
      if (tok_buf_add(out, r, rl)) return -1;
    } else {
      for (size_t j = i; j < e;) {
        size_t l = sotto_utf8_next((const unsigned char *)s + j, e - j, &cp);
        r = transform(&t, s + j, l, &rl);
        if (r ? tok_buf_add(out, r, rl) : tok_buf_add(out, s + j, l)) return -1;
        j += l;
      }
    }
    i = e;
  }
  return 0;
}
