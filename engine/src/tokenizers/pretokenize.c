/*
 * pretokenize.c - the pre-tokenisers of Hugging Face's tokenizers
 * (pre_tokenizers/): BertPreTokenizer, ByteLevel (byte_level.rs: optional
 * prefix space, GPT-2's split regex, bytes to GPT-2's symbol alphabet),
 * Split (a regex or a literal, with its SplitDelimiterBehavior), Digits,
 * Metaspace, Whitespace, WhitespaceSplit and Punctuation.
 *
 * The split regexes of the models sotto knows are matched by hand, with
 * Oniguruma's semantics (the regex engine HF's tokenizers uses): \s is
 * White_Space, \p{L} and \p{N} the general categories, alternatives tried
 * in order, quantifiers greedy with backtracking. llama.cpp matches the
 * same patterns by hand too (unicode.cpp, unicode_regex_split_custom_*).
 */
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "tok.h"

/* A word decoded to code points, with each one's byte offset (off[m] = the
 * word's length); a short word's on the stack, a longer one's in one
 * allocation. */
#define SMALL 32
typedef struct cpword {
  sotto_cps c;
  size_t *off;
  size_t small_off[SMALL];
  uint32_t small_cp[SMALL];
} cpword;

static int cpword_init(cpword *w, const char *s, size_t n) {
  w->c.n = 0;
  if (n + 1 <= SMALL) {
    w->off = w->small_off, w->c.v = w->small_cp;
  } else {
    if (!(w->off = malloc((n + 1) * (sizeof *w->off + sizeof *w->c.v)))) return -1;
    w->c.v = (uint32_t *)(w->off + n + 1); /* n bytes hold at most n code points */
  }
  for (size_t i = 0; i < n; w->c.n++) {
    w->off[w->c.n] = i;
    i += sotto_utf8_next((const unsigned char *)s + i, n - i, &w->c.v[w->c.n]);
  }
  w->off[w->c.n] = n;
  return 0;
}

static void cpword_free(cpword *w) {
  if (w->off != w->small_off) free(w->off);
}

static int is_L(uint32_t c) { return sotto_uni_is_letter(c); }
static int is_N(uint32_t c) { return sotto_uni_is_number(c); }
static int is_S(uint32_t c) { return sotto_uni_is_space(c); }
static int is_other(uint32_t c) { return !is_S(c) && !is_L(c) && !is_N(c); }
static int is_crlf(uint32_t c) { return c == '\r' || c == '\n'; }

/* bert.rs / punctuation.rs is_bert_punc: ASCII punctuation or \p{P}. */
static int is_bert_punct(uint32_t c) {
  return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
         (c >= 123 && c <= 126) || sotto_uni_is_punct(c);
}

/* \w: letters, marks, decimal digits, connector punctuation. */
static int is_word(uint32_t c) {
  sotto_ucat k = sotto_ucat_of(c);
  return is_L(c) || sotto_uni_is_mark(c) || k == SOTTO_UCAT_ND || k == SOTTO_UCAT_PC;
}

/* 's 't 're 've 'm 'll 'd at i (case-insensitive with icase); length or 0. */
static size_t contraction(const uint32_t *c, size_t m, size_t i, int icase) {
  if (c[i] != '\'' || i + 1 >= m) return 0;
  uint32_t a = c[i + 1], b = i + 2 < m ? c[i + 2] : 0;
  if (icase) {
    if (a < 128) a |= 0x20 * (a >= 'A' && a <= 'Z');
    if (b < 128) b |= 0x20 * (b >= 'A' && b <= 'Z');
  }
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

/* \s+(?!\S) then \s+, at a white space character i. */
static size_t spaces(const uint32_t *c, size_t m, size_t i) {
  size_t k = i;
  while (k < m && is_S(c[k])) k++;
  if (k == m || k - i < 2) return k - i;
  return k - 1 - i;
}

/* The length of the match of regex r at i (i < m), or 0 for none. */
static size_t match_at(tok_regex r, const uint32_t *c, size_t m, size_t i) {
  size_t k;
  if (r == REGEX_DIGITS) return is_N(c[i]) ? 1 : 0;
  if (r == REGEX_GPT2) {
    if ((k = contraction(c, m, i, 0))) return k;
    size_t j = c[i] == ' ' && i + 1 < m ? i + 1 : i;
    int (*cls[3])(uint32_t) = {is_L, is_N, is_other};
    for (int a = 0; a < 3; a++) {
      size_t s = cls[a](c[j]) ? j : cls[a](c[i]) ? i : m;
      if (s == m) continue;
      for (k = s; k < m && cls[a](c[k]);) k++;
      return k - i;
    }
    return spaces(c, m, i);
  }
  /* LLAMA3, QWEN2 */
  if ((k = contraction(c, m, i, 1))) return k;
  if (!is_crlf(c[i]) && !is_L(c[i]) && !is_N(c[i]) && i + 1 < m && is_L(c[i + 1])) {
    for (k = i + 1; k < m && is_L(c[k]);) k++;
    return k - i;
  }
  if (is_L(c[i])) {
    for (k = i; k < m && is_L(c[k]);) k++;
    return k - i;
  }
  if (is_N(c[i])) {
    size_t most = r == REGEX_QWEN2 ? 1 : 3;
    for (k = i; k < m && k - i < most && is_N(c[k]);) k++;
    return k - i;
  }
  size_t j = c[i] == ' ' && i + 1 < m && is_other(c[i + 1]) ? i + 1 : i;
  if (is_other(c[j])) {
    for (k = j; k < m && is_other(c[k]);) k++;
    while (k < m && is_crlf(c[k])) k++;
    return k - i;
  }
  /* \s*[\r\n]+ : up to the last CR/LF of the white space run */
  size_t last = m;
  for (k = i; k < m && is_S(c[k]); k++)
    if (is_crlf(c[k])) last = k;
  if (last != m) return last + 1 - i;
  return spaces(c, m, i);
}

/* Splits one word by matches of `match` (spans [ms, me) in code points,
 * found left to right) with the behaviour b, appending to out. */
typedef size_t (*matcher)(const void *ctx, const uint32_t *c, size_t m, size_t i);

static int split_word(const char *s, const cpword *w, matcher f, const void *ctx, tok_split b,
                      tok_words *out) {
  size_t m = w->c.n, gap = 0, i = 0;
  int prev_match = 0; /* Contiguous: the last word added was a match */
  int pending_next = 0; /* MergedWithNext: a match waits for the next gap */
  size_t pend_b = 0, pend_e = 0;
#define BYTES(a, z) (s + w->off[a]), (w->off[z] - w->off[a])
  while (i <= m) {
    size_t len = i < m ? f(ctx, w->c.v, m, i) : 0;
    if (i < m && !len) {
      i++;
      continue;
    }
    /* the gap [gap, i) */
    if (i > gap) {
      if (pending_next) {
        if (tok_words_add(out, BYTES(pend_b, pend_e)) || tok_words_extend(out, BYTES(gap, i)))
          return -1;
        pending_next = 0;
      } else if (tok_words_add(out, BYTES(gap, i))) {
        return -1;
      }
      prev_match = 0;
    }
    if (i == m) break;
    size_t e = i + len;
    switch (b) {
    case SPLIT_REMOVED: break;
    case SPLIT_ISOLATED:
      if (tok_words_add(out, BYTES(i, e))) return -1;
      break;
    case SPLIT_CONTIGUOUS:
      if (prev_match ? tok_words_extend(out, BYTES(i, e)) : tok_words_add(out, BYTES(i, e)))
        return -1;
      prev_match = 1;
      break;
    case SPLIT_MERGED_PREV:
      if ((i > gap ? tok_words_extend(out, BYTES(i, e)) : tok_words_add(out, BYTES(i, e))))
        return -1;
      break;
    case SPLIT_MERGED_NEXT:
      if (pending_next && tok_words_add(out, BYTES(pend_b, pend_e))) return -1;
      pending_next = 1, pend_b = i, pend_e = e;
      break;
    }
    i = gap = e;
  }
  if (pending_next && tok_words_add(out, BYTES(pend_b, pend_e))) return -1;
#undef BYTES
  return 0;
}

static size_t m_regex(const void *ctx, const uint32_t *c, size_t m, size_t i) {
  return match_at(*(const tok_regex *)ctx, c, m, i);
}
static size_t m_space(const void *ctx, const uint32_t *c, size_t m, size_t i) {
  (void)ctx, (void)m;
  return is_S(c[i]) ? 1 : 0;
}
static size_t m_punct(const void *ctx, const uint32_t *c, size_t m, size_t i) {
  (void)ctx, (void)m;
  return is_bert_punct(c[i]) ? 1 : 0;
}
static size_t m_digits(const void *ctx, const uint32_t *c, size_t m, size_t i) {
  size_t k = i;
  if (*(const uint8_t *)ctx) return is_N(c[i]) ? 1 : 0;
  while (k < m && is_N(c[k])) k++;
  return k - i;
}
/* A literal string, as code points. */
typedef struct lit {
  const uint32_t *p;
  size_t n;
} lit;
static size_t m_literal(const void *ctx, const uint32_t *c, size_t m, size_t i) {
  const lit *l = ctx;
  if (!l->n || i + l->n > m || memcmp(c + i, l->p, l->n * sizeof *c)) return 0;
  return l->n;
}

/* Appends s[0..n) as a word of GPT-2's byte symbols (n = 0: none). */
static int add_byte_symbols(const char *s, size_t n, tok_words *out) {
  for (size_t j = 0; j < n; j++) {
    char u[4];
    size_t ul = sotto_utf8_put(tok_byte_to_cp((unsigned char)s[j]), u);
    if (j ? tok_words_extend(out, u, ul) : tok_words_add(out, u, ul)) return -1;
  }
  return 0;
}

static int step(const sotto_tokenizer *t, const tok_pre *p, const char *s, size_t n, int first,
                tok_words *out) {
  cpword w;
  int rc = cpword_init(&w, s, n);
  if (rc) goto done;
  switch (p->kind) {
  case PRE_BERT: {
    tok_words tmp = {0};
    rc = split_word(s, &w, m_space, NULL, SPLIT_REMOVED, &tmp);
    for (size_t i = 0; !rc && i < tmp.n; i++) {
      cpword x;
      const char *ws = tmp.buf.v + tmp.off[i];
      rc = cpword_init(&x, ws, tmp.len[i]) ||
           split_word(ws, &x, m_punct, NULL, SPLIT_ISOLATED, out);
      cpword_free(&x);
    }
    tok_words_free(&tmp);
    break;
  }
  case PRE_WHITESPACE_SPLIT: rc = split_word(s, &w, m_space, NULL, SPLIT_REMOVED, out); break;
  case PRE_WHITESPACE: {
    /* \w+|[^\w\s]+ : runs of word characters and runs of other
     * non-space characters; white space removed. */
    size_t m = w.c.n;
    for (size_t i = 0; !rc && i < m;) {
      if (is_S(w.c.v[i])) {
        i++;
        continue;
      }
      int wd = is_word(w.c.v[i]);
      size_t k = i;
      while (k < m && !is_S(w.c.v[k]) && is_word(w.c.v[k]) == wd) k++;
      rc = tok_words_add(out, s + w.off[i], w.off[k] - w.off[i]);
      i = k;
    }
    break;
  }
  case PRE_PUNCTUATION: rc = split_word(s, &w, m_punct, NULL, p->behavior, out); break;
  case PRE_DIGITS: rc = split_word(s, &w, m_digits, &p->individual, SPLIT_ISOLATED, out); break;
  case PRE_REGEX: rc = split_word(s, &w, m_regex, &p->regex, p->behavior, out); break;
  case PRE_SPLIT: {
    sotto_cps pat = {0};
    rc = sotto_cps_from_utf8(&pat, p->str, p->str_len);
    lit l = {pat.v, pat.n};
    if (!rc) rc = split_word(s, &w, m_literal, &l, p->behavior, out);
    sotto_cps_free(&pat);
    break;
  }
  case PRE_METASPACE: {
    tok_buf b = {0};
    /* the prefix unless the text, spaces replaced, starts with it */
    int prepend = (p->prefix == 1 || (p->prefix == 2 && first)) &&
                  !(n > 0 && s[0] == ' ') &&
                  !(n >= p->str_len && !memcmp(s, p->str, p->str_len));
    if (prepend) rc = tok_buf_add(&b, p->str, p->str_len);
    for (size_t i = 0; !rc && i < n; i++)
      rc = s[i] == ' ' ? tok_buf_add(&b, p->str, p->str_len) : tok_buf_add(&b, s + i, 1);
    if (!rc && b.n) {
      if (p->split) {
        cpword x;
        sotto_cps pat = {0};
        rc = cpword_init(&x, b.v, b.n) || sotto_cps_from_utf8(&pat, p->str, p->str_len);
        lit l = {pat.v, pat.n};
        if (!rc) rc = split_word(b.v, &x, m_literal, &l, SPLIT_MERGED_NEXT, out);
        cpword_free(&x);
        sotto_cps_free(&pat);
      } else {
        rc = tok_words_add(out, b.v, b.n);
      }
    }
    tok_buf_free(&b);
    break;
  }
  case PRE_BYTELEVEL: {
    tok_buf b = {0};
    const char *x = s;
    size_t xn = n;
    if (p->prefix && (n == 0 || s[0] != ' ')) {
      rc = tok_buf_add(&b, " ", 1) || tok_buf_add(&b, s, n);
      x = b.v, xn = b.n;
    }
    if (!rc && p->use_regex) {
      tok_words tmp = {0};
      cpword cx;
      tok_regex r = REGEX_GPT2;
      rc = cpword_init(&cx, x, xn) || split_word(x, &cx, m_regex, &r, SPLIT_ISOLATED, &tmp);
      cpword_free(&cx);
      for (size_t i = 0; !rc && i < tmp.n; i++) rc = add_byte_symbols(tmp.buf.v + tmp.off[i], tmp.len[i], out);
      tok_words_free(&tmp);
    } else if (!rc) {
      rc = add_byte_symbols(x, xn, out);
    }
    tok_buf_free(&b);
    break;
  }
  }
done:
  (void)t;
  cpword_free(&w);
  return rc ? -1 : 0;
}

int tok_pretokenize(const sotto_tokenizer *t, const char *s, size_t n, int first,
                    tok_words *out) {
  tok_words cur = {0};
  if (tok_words_add(&cur, s, n)) return -1;
  for (int k = 0; k < t->n_pre; k++) {
    tok_words next = {0};
    for (size_t i = 0; i < cur.n; i++)
      if (step(t, &t->pre[k], cur.buf.v + cur.off[i], cur.len[i], first && i == 0, &next)) {
        tok_words_free(&next);
        tok_words_free(&cur);
        return -1;
      }
    tok_words_free(&cur);
    cur = next;
  }
  *out = cur;
  return 0;
}
