/*
 * normalize.c - the normalisers of Hugging Face's tokenizers
 * (normalizers/): BertNormalizer (bert.rs: clean_text, handle_chinese_chars,
 * strip_accents, lowercase), Lowercase, StripAccents, NFD, NFC, Replace (a
 * literal pattern), Prepend, Strip and Precompiled (precompiled.c), run in
 * the order the tokenizer declares them.
 */
#include <string.h>

#include "text.h"
#include "tok.h"

/* bert.rs is_chinese_char: the CJK Unified Ideographs blocks. */
static int is_chinese(uint32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

/* bert.rs is_control: the "Other" categories, less tab, newline, return. */
static int is_control(uint32_t c) {
  if (c == '\t' || c == '\n' || c == '\r') return 0;
  sotto_ucat k = sotto_ucat_of(c);
  return k == SOTTO_UCAT_CC || k == SOTTO_UCAT_CF || k == SOTTO_UCAT_CN ||
         k == SOTTO_UCAT_CO || k == SOTTO_UCAT_CS;
}

static int to_utf8(const sotto_cps *c, tok_buf *out) {
  out->n = 0;
  if (tok_buf_add(out, "", 0)) return -1;
  for (size_t i = 0; i < c->n; i++)
    if (tok_buf_cp(out, c->v[i])) return -1;
  return 0;
}

static int strip_marks(sotto_cps *c) {
  if (sotto_cps_nfd(c)) return -1;
  size_t w = 0;
  for (size_t i = 0; i < c->n; i++)
    if (sotto_ucat_of(c->v[i]) != SOTTO_UCAT_MN) c->v[w++] = c->v[i];
  c->n = w;
  return 0;
}

static int lowercase(sotto_cps *c) {
  sotto_cps o = {0};
  uint32_t l[3];
  for (size_t i = 0; i < c->n; i++) {
    int k = sotto_uni_lower(c->v[i], l);
    for (int j = 0; j < k; j++)
      if (sotto_cps_push(&o, l[j])) {
        sotto_cps_free(&o);
        return -1;
      }
  }
  sotto_cps_free(c);
  *c = o;
  return 0;
}

static int bert(const tok_norm *s, sotto_cps *c) {
  sotto_cps o = {0};
  for (size_t i = 0; i < c->n; i++) {
    uint32_t cp = c->v[i];
    int rc = 0;
    if (s->clean_text) {
      if (cp == 0 || cp == 0xFFFD || is_control(cp)) continue;
      if (cp == '\t' || cp == '\n' || cp == '\r' || sotto_uni_is_space(cp)) cp = ' ';
    }
    if (s->chinese && is_chinese(cp))
      rc = sotto_cps_push(&o, ' ') || sotto_cps_push(&o, cp) || sotto_cps_push(&o, ' ');
    else
      rc = sotto_cps_push(&o, cp);
    if (rc) {
      sotto_cps_free(&o);
      return -1;
    }
  }
  sotto_cps_free(c);
  *c = o;
  if (s->strip_accents && strip_marks(c)) return -1;
  if (s->lowercase && lowercase(c)) return -1;
  return 0;
}

/* Steps on code points. */
static int cps_step(const tok_norm *s, sotto_cps *c) {
  switch (s->kind) {
  case NORM_BERT: return bert(s, c);
  case NORM_LOWERCASE: return lowercase(c);
  case NORM_STRIP_ACCENTS: {
    size_t w = 0;
    for (size_t i = 0; i < c->n; i++)
      if (sotto_ucat_of(c->v[i]) != SOTTO_UCAT_MN) c->v[w++] = c->v[i];
    c->n = w;
    return 0;
  }
  case NORM_NFD: return sotto_cps_nfd(c);
  case NORM_NFC: return sotto_cps_nfc(c);
  case NORM_STRIP: {
    size_t b = 0, e = c->n;
    if (s->left)
      while (b < e && sotto_uni_is_space(c->v[b])) b++;
    if (s->right)
      while (e > b && sotto_uni_is_space(c->v[e - 1])) e--;
    memmove(c->v, c->v + b, (e - b) * sizeof *c->v);
    c->n = e - b;
    return 0;
  }
  default: return 0;
  }
}

static int replace(const tok_norm *s, const tok_buf *in, tok_buf *out) {
  out->n = 0;
  if (tok_buf_add(out, "", 0)) return -1;
  for (size_t i = 0; i < in->n;) {
    if (s->a_len && i + s->a_len <= in->n && !memcmp(in->v + i, s->a, s->a_len)) {
      if (tok_buf_add(out, s->b, s->b_len)) return -1;
      i += s->a_len;
    } else {
      if (tok_buf_add(out, in->v + i, 1)) return -1;
      i++;
    }
  }
  return 0;
}

/* Runs of two or more spaces become content. */
static int spaces(const tok_norm *s, const tok_buf *in, tok_buf *out) {
  out->n = 0;
  if (tok_buf_add(out, "", 0)) return -1;
  for (size_t i = 0; i < in->n;) {
    size_t k = i;
    while (k < in->n && in->v[k] == ' ') k++;
    if (k - i >= 2) {
      if (tok_buf_add(out, s->b, s->b_len)) return -1;
      i = k;
    } else {
      if (tok_buf_add(out, in->v + i, 1)) return -1;
      i++;
    }
  }
  return 0;
}

int tok_normalize(const sotto_tokenizer *t, const char *s, size_t n, tok_buf *out) {
  /* The text as valid UTF-8 (bad bytes become U+FFFD). */
  sotto_cps c = {0};
  tok_buf cur = {0}, tmp = {0};
  int rc = sotto_cps_from_utf8(&c, s, n) || to_utf8(&c, &cur);
  for (int i = 0; !rc && i < t->n_norm; i++) {
    const tok_norm *st = &t->norm[i];
    switch (st->kind) {
    case NORM_REPLACE: rc = replace(st, &cur, &tmp); break;
    case NORM_SPACES: rc = spaces(st, &cur, &tmp); break;
    case NORM_PREPEND:
      tmp.n = 0;
      rc = tok_buf_add(&tmp, "", 0) ||
           (cur.n && (tok_buf_add(&tmp, st->a, st->a_len) || tok_buf_add(&tmp, cur.v, cur.n)));
      break;
    case NORM_PRECOMPILED:
      tmp.n = 0;
      rc = tok_buf_add(&tmp, "", 0) || tok_precompiled(t->charsmap, t->charsmap_len, cur.v,
                                                       cur.n, &tmp);
      break;
    default:
      c.n = 0;
      rc = sotto_cps_from_utf8(&c, cur.v, cur.n) || cps_step(st, &c) || to_utf8(&c, &tmp);
      break;
    }
    tok_buf x = cur;
    cur = tmp;
    tmp = x;
  }
  sotto_cps_free(&c);
  tok_buf_free(&tmp);
  if (rc) {
    tok_buf_free(&cur);
    return -1;
  }
  *out = cur;
  return 0;
}
