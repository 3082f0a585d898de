/*
 * unicode.h - the Unicode facts the tokenizers need, from tables generated
 * by unicode_gen.py (Python's unicodedata; the version is
 * SOTTO_UNICODE_VERSION): general categories (the regex classes \p{L},
 * \p{N}, \p{P}, BERT's punctuation and control tests), White_Space (\s),
 * full lower-casing, canonical decomposition (NFD), composition (NFC) and
 * combining classes. No ICU: the same code builds to wasm.
 */
#ifndef SOTTO_UNICODE_H
#define SOTTO_UNICODE_H

#include <stddef.h>
#include <stdint.h>

/* General categories, in the order of unicode_gen.py's CATS. */
typedef enum sotto_ucat {
  SOTTO_UCAT_CN, SOTTO_UCAT_LU, SOTTO_UCAT_LL, SOTTO_UCAT_LT, SOTTO_UCAT_LM, SOTTO_UCAT_LO,
  SOTTO_UCAT_MN, SOTTO_UCAT_MC, SOTTO_UCAT_ME, SOTTO_UCAT_ND, SOTTO_UCAT_NL, SOTTO_UCAT_NO,
  SOTTO_UCAT_PC, SOTTO_UCAT_PD, SOTTO_UCAT_PS, SOTTO_UCAT_PE, SOTTO_UCAT_PI, SOTTO_UCAT_PF,
  SOTTO_UCAT_PO, SOTTO_UCAT_SM, SOTTO_UCAT_SC, SOTTO_UCAT_SK, SOTTO_UCAT_SO, SOTTO_UCAT_ZS,
  SOTTO_UCAT_ZL, SOTTO_UCAT_ZP, SOTTO_UCAT_CC, SOTTO_UCAT_CF, SOTTO_UCAT_CS, SOTTO_UCAT_CO,
} sotto_ucat;

sotto_ucat sotto_ucat_of(uint32_t cp);
int sotto_uni_is_letter(uint32_t cp);   /* \p{L} */
int sotto_uni_is_number(uint32_t cp);   /* \p{N} */
int sotto_uni_is_punct(uint32_t cp);    /* \p{P} */
int sotto_uni_is_mark(uint32_t cp);     /* \p{M} */
int sotto_uni_is_space(uint32_t cp);    /* White_Space, the regex \s */
int sotto_uni_ccc(uint32_t cp);         /* canonical combining class */

/* Full lower case of cp into out (room for 3); returns the count. */
int sotto_uni_lower(uint32_t cp, uint32_t *out);
/* Full canonical decomposition of cp into out (room for 4; Hangul by
 * rule); returns the count (1 when cp does not decompose). */
int sotto_uni_decompose(uint32_t cp, uint32_t *out);

/* Code point buffers: the normalisers work on arrays of code points. */
typedef struct sotto_cps {
  uint32_t *v;
  size_t n, cap;
} sotto_cps;

int sotto_cps_push(sotto_cps *c, uint32_t cp); /* 0, or -1 out of memory */
void sotto_cps_free(sotto_cps *c);
/* Decodes UTF-8 s[0..n) (bad bytes become U+FFFD) onto c. */
int sotto_cps_from_utf8(sotto_cps *c, const char *s, size_t n);
/* In place: canonical decomposition and ordering (NFD), then, with
 * compose, canonical composition (NFC). 0, or -1 out of memory. */
int sotto_cps_nfd(sotto_cps *c);
int sotto_cps_nfc(sotto_cps *c);

#endif /* SOTTO_UNICODE_H */
