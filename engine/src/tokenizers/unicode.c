/*
 * unicode.c - table lookups over unicode_data.h and the normal forms NFD
 * and NFC (Unicode Standard Annex #15: full canonical decomposition,
 * canonical ordering by combining class, canonical composition with the
 * blocking rule; Hangul syllables by the arithmetic of section 3.12).
 */
#include "unicode.h"

#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "unicode_data.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Hangul syllable arithmetic (Unicode 3.12). */
#define HANGUL_S 0xAC00u
#define HANGUL_L 0x1100u
#define HANGUL_V 0x1161u
#define HANGUL_T 0x11A7u
#define HANGUL_LN 19u
#define HANGUL_VN 21u
#define HANGUL_TN 28u
#define HANGUL_SN (HANGUL_LN * HANGUL_VN * HANGUL_TN)

/* Index of the last start <= cp in a sorted start table. */
static size_t range_index(const uint32_t *start, size_t n, uint32_t cp) {
  size_t lo = 0, hi = n;
  while (hi - lo > 1) {
    size_t mid = (lo + hi) / 2;
    if (start[mid] <= cp) lo = mid;
    else hi = mid;
  }
  return lo;
}

sotto_ucat sotto_ucat_of(uint32_t cp) {
  if (cp >= 0x110000) return SOTTO_UCAT_CN;
  return (sotto_ucat)cat_value[range_index(cat_start, COUNT(cat_start), cp)];
}

int sotto_uni_ccc(uint32_t cp) {
  if (cp < 0x300 || cp >= 0x110000) return 0;
  return ccc_value[range_index(ccc_start, COUNT(ccc_start), cp)];
}

int sotto_uni_is_letter(uint32_t cp) {
  sotto_ucat c = sotto_ucat_of(cp);
  return c >= SOTTO_UCAT_LU && c <= SOTTO_UCAT_LO;
}
int sotto_uni_is_number(uint32_t cp) {
  sotto_ucat c = sotto_ucat_of(cp);
  return c >= SOTTO_UCAT_ND && c <= SOTTO_UCAT_NO;
}
int sotto_uni_is_punct(uint32_t cp) {
  sotto_ucat c = sotto_ucat_of(cp);
  return c >= SOTTO_UCAT_PC && c <= SOTTO_UCAT_PO;
}
int sotto_uni_is_mark(uint32_t cp) {
  sotto_ucat c = sotto_ucat_of(cp);
  return c >= SOTTO_UCAT_MN && c <= SOTTO_UCAT_ME;
}
int sotto_uni_is_space(uint32_t cp) {
  if (cp < 0x80) return cp == ' ' || (cp >= 9 && cp <= 13);
  if (cp > 0x3000) return 0;
  for (size_t i = 0; i < COUNT(white_space); i++)
    if (white_space[i] == cp) return 1;
  return 0;
}

/* Binary search over rows of `width` uint32s keyed by the first. */
static const uint32_t *find_row(const uint32_t *rows, size_t n_rows, size_t width, uint32_t key) {
  size_t lo = 0, hi = n_rows;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    uint32_t k = rows[mid * width];
    if (k == key) return rows + mid * width;
    if (k < key) lo = mid + 1;
    else hi = mid;
  }
  return NULL;
}

int sotto_uni_lower(uint32_t cp, uint32_t *out) {
  if (cp < 0x80) {
    out[0] = cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
    return 1;
  }
  const uint32_t *r = find_row(lower_map, COUNT(lower_map) / 2, 2, cp);
  if (r) {
    out[0] = r[1];
    return 1;
  }
  r = find_row(lower_multi, COUNT(lower_multi) / 5, 5, cp);
  if (r) {
    for (uint32_t i = 0; i < r[1]; i++) out[i] = r[2 + i];
    return (int)r[1];
  }
  out[0] = cp;
  return 1;
}

int sotto_uni_decompose(uint32_t cp, uint32_t *out) {
  if (cp >= HANGUL_S && cp < HANGUL_S + HANGUL_SN) {
    uint32_t s = cp - HANGUL_S, t = s % HANGUL_TN;
    out[0] = HANGUL_L + s / (HANGUL_VN * HANGUL_TN);
    out[1] = HANGUL_V + (s % (HANGUL_VN * HANGUL_TN)) / HANGUL_TN;
    if (!t) return 2;
    out[2] = HANGUL_T + t;
    return 3;
  }
  if (cp >= 0xC0) {
    const uint32_t *r = find_row(decomp_map, COUNT(decomp_map) / 3, 3, cp);
    if (r) {
      memcpy(out, decomp_pool + r[1], r[2] * sizeof *out);
      return (int)r[2];
    }
  }
  out[0] = cp;
  return 1;
}

static uint32_t compose_pair(uint32_t a, uint32_t b) {
  if (a >= HANGUL_L && a < HANGUL_L + HANGUL_LN && b >= HANGUL_V && b < HANGUL_V + HANGUL_VN)
    return HANGUL_S + ((a - HANGUL_L) * HANGUL_VN + (b - HANGUL_V)) * HANGUL_TN;
  if (a >= HANGUL_S && a < HANGUL_S + HANGUL_SN && (a - HANGUL_S) % HANGUL_TN == 0 &&
      b > HANGUL_T && b < HANGUL_T + HANGUL_TN)
    return a + (b - HANGUL_T);
  size_t lo = 0, hi = COUNT(compose_map) / 3;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    const uint32_t *r = compose_map + mid * 3;
    if (r[0] == a && r[1] == b) return r[2];
    if (r[0] < a || (r[0] == a && r[1] < b)) lo = mid + 1;
    else hi = mid;
  }
  return 0;
}

int sotto_cps_push(sotto_cps *c, uint32_t cp) {
  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 64;
    uint32_t *v = realloc(c->v, cap * sizeof *v);
    if (!v) return -1;
    c->v = v;
    c->cap = cap;
  }
  c->v[c->n++] = cp;
  return 0;
}

void sotto_cps_free(sotto_cps *c) {
  free(c->v);
  memset(c, 0, sizeof *c);
}

int sotto_cps_from_utf8(sotto_cps *c, const char *s, size_t n) {
  for (size_t i = 0; i < n;) {
    uint32_t cp;
    i += sotto_utf8_next((const unsigned char *)s + i, n - i, &cp);
    if (sotto_cps_push(c, cp)) return -1;
  }
  return 0;
}

int sotto_cps_nfd(sotto_cps *c) {
  sotto_cps out = {0};
  uint32_t d[4];
  for (size_t i = 0; i < c->n; i++) {
    int k = sotto_uni_decompose(c->v[i], d);
    for (int j = 0; j < k; j++)
      if (sotto_cps_push(&out, d[j])) {
        sotto_cps_free(&out);
        return -1;
      }
  }
  /* Canonical ordering: a stable sort of each run of non-starters. */
  for (size_t i = 1; i < out.n; i++) {
    int cc = sotto_uni_ccc(out.v[i]);
    if (!cc) continue;
    for (size_t j = i; j > 0; j--) {
      int pc = sotto_uni_ccc(out.v[j - 1]);
      if (pc <= cc) break;
      uint32_t t = out.v[j];
      out.v[j] = out.v[j - 1];
      out.v[j - 1] = t;
    }
  }
  free(c->v);
  *c = out;
  return 0;
}

int sotto_cps_nfc(sotto_cps *c) {
  if (sotto_cps_nfd(c)) return -1;
  size_t n = c->n, w = 0;
  long starter = -1; /* output index of the last starter */
  int last_cc = 0;   /* class of the last character kept after it */
  for (size_t i = 0; i < n; i++) {
    uint32_t cp = c->v[i];
    int cc = sotto_uni_ccc(cp);
    if (starter >= 0) {
      int blocked = w != (size_t)starter + 1 && (last_cc == 0 || last_cc >= cc);
      uint32_t comp = blocked ? 0 : compose_pair(c->v[starter], cp);
      if (comp) {
        c->v[starter] = comp;
        continue;
      }
    }
    if (cc == 0) starter = (long)w;
    last_cc = cc;
    c->v[w++] = cp;
  }
  c->n = w;
  return 0;
}
