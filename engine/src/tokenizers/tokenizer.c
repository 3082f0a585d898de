/*
 * tokenizer.c - the encoding pipeline shared by every model kind, as
 * Hugging Face's tokenizers runs it (tokenizer/mod.rs:
 * encode_single_sequence, then post_process): added tokens are split out
 * of the raw text first (added_vocabulary.rs, leftmost-longest, with their
 * lstrip/rstrip flags), each piece between them is normalised,
 * pre-tokenised into words and run through the model, then the pair is
 * truncated (utils/truncation.rs, "longest_first") and framed by the
 * post-processor's template (processors/template.rs). Also: the small
 * containers, the vocabulary and merge tables, GPT-2's byte alphabet
 * (bytes_to_unicode) and the accessors of tokenizer.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "tok.h"

/* ---- containers ---- */
static int grow(void **v, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return 0;
  size_t c = *cap ? *cap : 16;
  while (c < need) {
    if (c > SIZE_MAX / 2 / elem) return -1;
    c *= 2;
  }
  void *p = realloc(*v, c * elem);
  if (!p) return -1;
  *v = p;
  *cap = c;
  return 0;
}

int tok_ids_push(tok_ids *a, int32_t id) {
  if (grow((void **)&a->v, &a->cap, a->n + 1, sizeof *a->v)) return -1;
  a->v[a->n++] = id;
  return 0;
}
void tok_ids_free(tok_ids *a) {
  free(a->v);
  memset(a, 0, sizeof *a);
}

int tok_buf_add(tok_buf *b, const void *s, size_t n) {
  if (grow((void **)&b->v, &b->cap, b->n + n + 1, 1)) return -1;
  if (n) memcpy(b->v + b->n, s, n);
  b->n += n;
  b->v[b->n] = 0;
  return 0;
}
int tok_buf_cp(tok_buf *b, uint32_t cp) {
  char u[4];
  return tok_buf_add(b, u, sotto_utf8_put(cp, u));
}
void tok_buf_free(tok_buf *b) {
  free(b->v);
  memset(b, 0, sizeof *b);
}

int tok_words_add(tok_words *w, const char *s, size_t n) {
  if (!n) return 0;
  size_t cap = w->cap;
  if (grow((void **)&w->off, &w->cap, w->n + 1, sizeof *w->off)) return -1;
  if (w->cap != cap || !w->len) { /* len follows off's capacity */
    size_t *l = realloc(w->len, w->cap * sizeof *l);
    if (!l) return -1;
    w->len = l;
  }
  w->off[w->n] = w->buf.n;
  w->len[w->n] = n;
  if (tok_buf_add(&w->buf, s, n)) return -1;
  w->n++;
  return 0;
}
int tok_words_extend(tok_words *w, const char *s, size_t n) {
  if (!w->n) return tok_words_add(w, s, n);
  if (tok_buf_add(&w->buf, s, n)) return -1;
  w->len[w->n - 1] += n;
  return 0;
}
void tok_words_free(tok_words *w) {
  tok_buf_free(&w->buf);
  free(w->off);
  free(w->len);
  memset(w, 0, sizeof *w);
}

int tok_set_bytes(char **dst, size_t *dst_len, const char *s, size_t n) {
  char *c = malloc(n + 1);
  if (!c) return -1;
  memcpy(c, s, n);
  c[n] = 0;
  free(*dst);
  *dst = c;
  if (dst_len) *dst_len = n;
  return 0;
}

/* ---- vocabulary ---- */
static uint64_t fnv1a(const char *s, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
  return h;
}

const char *tok_text(const sotto_tokenizer *t, int32_t id, size_t *len) {
  *len = t->len[id];
  return t->pool + t->off[id];
}

int tok_map_build(sotto_tokenizer *t, tok_map *m, const int32_t *ids, size_t n) {
  size_t cap = 16;
  while (cap < n * 2) cap *= 2;
  free(m->slot);
  m->slot = malloc(cap * sizeof *m->slot);
  if (!m->slot) return -1;
  memset(m->slot, 0xff, cap * sizeof *m->slot);
  m->mask = cap - 1;
  for (size_t k = 0; k < n; k++) {
    int32_t id = ids ? ids[k] : (int32_t)k;
    size_t len;
    const char *s = tok_text(t, id, &len);
    size_t i = (size_t)fnv1a(s, len) & m->mask;
    for (;; i = (i + 1) & m->mask) {
      int32_t o = m->slot[i];
      if (o < 0) {
        m->slot[i] = id;
        break;
      }
      if (t->len[o] == len && !memcmp(t->pool + t->off[o], s, len)) break;
    }
  }
  return 0;
}

int32_t tok_map_get(const sotto_tokenizer *t, const tok_map *m, const char *s, size_t n) {
  if (!m->slot) return -1;
  for (size_t i = (size_t)fnv1a(s, n) & m->mask;; i = (i + 1) & m->mask) {
    int32_t o = m->slot[i];
    if (o < 0) return -1;
    if (t->len[o] == n && !memcmp(t->pool + t->off[o], s, n)) return o;
  }
}

int32_t tok_find(const sotto_tokenizer *t, const char *s, size_t n) {
  return tok_map_get(t, &t->map, s, n);
}

/* ---- merges ---- */
static size_t merge_slot(uint64_t key, size_t mask) {
  key ^= key >> 33;
  key *= 0xff51afd7ed558ccdull;
  key ^= key >> 33;
  return (size_t)key & mask;
}

int tok_merge_add(sotto_tokenizer *t, int32_t a, int32_t b, uint32_t rank, int32_t out) {
  if ((t->n_merges + 1) * 2 > t->merge_mask + 1 || !t->merge_key) {
    size_t cap = t->merge_key ? (t->merge_mask + 1) * 2 : 1024;
    uint64_t *k = calloc(cap, sizeof *k);
    uint32_t *r = malloc(cap * sizeof *r);
    int32_t *o = malloc(cap * sizeof *o);
    if (!k || !r || !o) {
      free(k), free(r), free(o);
      return -1;
    }
    for (size_t i = 0; t->merge_key && i <= t->merge_mask; i++) {
      if (!t->merge_key[i]) continue;
      size_t j = merge_slot(t->merge_key[i], cap - 1);
      while (k[j]) j = (j + 1) & (cap - 1);
      k[j] = t->merge_key[i], r[j] = t->merge_rank[i], o[j] = t->merge_out[i];
    }
    free(t->merge_key), free(t->merge_rank), free(t->merge_out);
    t->merge_key = k, t->merge_rank = r, t->merge_out = o;
    t->merge_mask = cap - 1;
  }
  uint64_t key = ((uint64_t)(uint32_t)a << 32 | (uint32_t)b) + 1;
  size_t j = merge_slot(key, t->merge_mask);
  while (t->merge_key[j] && t->merge_key[j] != key) j = (j + 1) & t->merge_mask;
  if (t->merge_key[j]) return 0; /* a repeated merge keeps its first rank */
  t->merge_key[j] = key, t->merge_rank[j] = rank, t->merge_out[j] = out;
  t->n_merges++;
  return 0;
}

int tok_merge_get(const sotto_tokenizer *t, int32_t a, int32_t b, uint32_t *rank, int32_t *out) {
  if (!t->merge_key) return 0;
  uint64_t key = ((uint64_t)(uint32_t)a << 32 | (uint32_t)b) + 1;
  for (size_t j = merge_slot(key, t->merge_mask);; j = (j + 1) & t->merge_mask) {
    if (!t->merge_key[j]) return 0;
    if (t->merge_key[j] == key) {
      *rank = t->merge_rank[j];
      *out = t->merge_out[j];
      return 1;
    }
  }
}

/* ---- GPT-2's byte alphabet: printable Latin-1 bytes stand for
 * themselves, the others for U+0100 onwards in byte order. ---- */
static int byte_printable(int b) {
  return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

uint32_t tok_byte_to_cp(uint8_t b) {
  if (byte_printable(b)) return b;
  if (b <= 0x20) return 256u + b;
  if (b >= 0x7F && b <= 0xA0) return 256u + 33u + (b - 0x7Fu);
  return 256u + 67u; /* 0xAD, the soft hyphen */
}

int tok_cp_to_byte(uint32_t cp) {
  if (cp < 256) return byte_printable((int)cp) ? (int)cp : -1;
  if (cp < 256 + 33) return (int)(cp - 256);
  if (cp < 256 + 67) return (int)(cp - 256 - 33 + 0x7F);
  return cp == 256 + 67 ? 0xAD : -1;
}

/* ---- building ---- */
sotto_tokenizer *tok_alloc(void) {
  sotto_tokenizer *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  t->sp = (sotto_special_tokens){-1, -1, -1, -1, -1, -1, -1, -1};
  for (int i = 0; i < 256; i++) t->byte_token[i] = -1;
  t->unk = -1;
  return t;
}

static int cmp_added(const void *a, const void *b) {
  return ((const tok_added *)a)->id - ((const tok_added *)b)->id;
}

int tok_finish(sotto_tokenizer *t, sotto_error *err) {
  if (t->n_vocab <= 0) return sotto_error_set(err, SOTTO_BAD_MODEL, "tokenizer: empty vocabulary");
  if (!t->map.slot && tok_map_build(t, &t->map, NULL, (size_t)t->n_vocab)) goto oom;
  t->max_piece_len = 0;
  for (int32_t i = 0; i < t->n_vocab; i++)
    if (t->len[i] > t->max_piece_len) t->max_piece_len = t->len[i];
  if (t->unk < -1 || t->unk >= t->n_vocab)
    return sotto_error_set(err, SOTTO_BAD_MODEL, "tokenizer: unknown token id out of range");
  if ((t->kind == SOTTO_TOK_WORDPIECE || t->kind == SOTTO_TOK_UNIGRAM) && t->unk < 0)
    return sotto_error_set(err, SOTTO_BAD_MODEL, "tokenizer: no unknown token");
  if (t->kind == SOTTO_TOK_UNIGRAM && !t->scores)
    return sotto_error_set(err, SOTTO_BAD_MODEL, "tokenizer: Unigram without scores");
  int32_t *sp = &t->sp.bos;
  for (int i = 0; i < 8; i++)
    if (sp[i] < -1 || sp[i] >= t->n_vocab)
      return sotto_error_set(err, SOTTO_BAD_MODEL, "tokenizer: special token id %d out of range",
                             (int)sp[i]);
  for (int b = 0; b < 256; b++) {
    char name[8];
    snprintf(name, sizeof name, "<0x%02X>", b);
    t->byte_token[b] = tok_find(t, name, 6);
  }
  /* Added tokens: sorted by id, a map of their texts, their first bytes. */
  if (t->n_added) qsort(t->added, (size_t)t->n_added, sizeof *t->added, cmp_added);
  int32_t *ids = malloc(((size_t)t->n_added + 1) * sizeof *ids);
  if (!ids) goto oom;
  memset(t->added_first, 0, sizeof t->added_first);
  t->added_max_len = 0;
  int k = 0;
  for (int i = 0; i < t->n_added; i++) {
    int32_t id = t->added[i].id;
    if (id < 0 || id >= t->n_vocab) {
      free(ids);
      return sotto_error_set(err, SOTTO_BAD_MODEL, "tokenizer: added token id %d out of range",
                             (int)id);
    }
    if (!t->len[id]) continue;
    ids[k++] = id;
    unsigned char c0 = (unsigned char)t->pool[t->off[id]];
    t->added_first[c0 >> 3] |= (uint8_t)(1u << (c0 & 7));
    if (t->len[id] > t->added_max_len) t->added_max_len = t->len[id];
  }
  int rc = tok_map_build(t, &t->added_map, ids, (size_t)k);
  free(ids);
  if (rc) goto oom;
  for (int i = 0; i < t->n_single + t->n_pair; i++) {
    const tok_item *it = i < t->n_single ? &t->single[i] : &t->pair[i - t->n_single];
    if (it->id >= t->n_vocab || it->id < -2)
      return sotto_error_set(err, SOTTO_BAD_MODEL, "tokenizer: template token %d out of range",
                             (int)it->id);
  }
  return 0;
oom:
  return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "tokenizer: out of memory");
}

static const tok_added *added_of(const sotto_tokenizer *t, int32_t id) {
  size_t lo = 0, hi = (size_t)t->n_added;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (t->added[mid].id == id) return &t->added[mid];
    if (t->added[mid].id < id) lo = mid + 1;
    else hi = mid;
  }
  return NULL;
}

void sotto_tokenizer_free(sotto_tokenizer *t) {
  if (!t) return;
  free(t->pool), free(t->off), free(t->len), free(t->scores), free(t->type);
  free(t->map.slot), free(t->added_map.slot), free(t->added);
  free(t->merge_key), free(t->merge_rank), free(t->merge_out);
  free(t->subword_prefix);
  for (int i = 0; i < t->n_norm; i++) free(t->norm[i].a), free(t->norm[i].b);
  for (int i = 0; i < t->n_pre; i++) free(t->pre[i].str);
  free((void *)t->charsmap);
  free(t->pre_name), free(t->chat_template), free(t->hf_json);
  free(t);
}

/* ---- encoding ---- */

/* One piece of text between added tokens: normalise, split into words,
 * run the model on each. */
static int encode_piece(const sotto_tokenizer *t, const char *s, size_t n, int first,
                        tok_ids *out) {
  if (!n) return 0;
  tok_buf norm = {0};
  tok_words words = {0};
  int rc = tok_normalize(t, s, n, &norm);
  if (!rc && norm.n) rc = tok_pretokenize(t, norm.v, norm.n, first, &words);
  for (size_t i = 0; !rc && i < words.n; i++) {
    const char *w = words.buf.v + words.off[i];
    size_t wl = words.len[i];
    switch (t->kind) {
    case SOTTO_TOK_WORDPIECE: rc = tok_wordpiece(t, w, wl, out); break;
    case SOTTO_TOK_UNIGRAM: rc = tok_unigram(t, w, wl, out); break;
    default: rc = tok_bpe(t, w, wl, out); break;
    }
  }
  tok_buf_free(&norm);
  tok_words_free(&words);
  return rc;
}

static int is_ws_at(const char *s, size_t n, size_t i, size_t *len) {
  uint32_t cp;
  *len = sotto_utf8_next((const unsigned char *)s + i, n - i, &cp);
  return sotto_uni_is_space(cp);
}

/* The leftmost-longest added token in s[from..n) (special ones only with
 * parse_special); its span widened by lstrip/rstrip. 1 when found. */
static int next_added(const sotto_tokenizer *t, const char *s, size_t n, size_t from,
                      size_t floor, int parse_special, size_t *ms, size_t *me, int32_t *mid) {
  if (!t->added_max_len) return 0;
  for (size_t p = from; p < n; p++) {
    unsigned char c = (unsigned char)s[p];
    if (!(t->added_first[c >> 3] & (1u << (c & 7)))) continue;
    size_t maxl = n - p < t->added_max_len ? n - p : t->added_max_len;
    for (size_t l = maxl; l > 0; l--) {
      int32_t id = tok_map_get(t, &t->added_map, s + p, l);
      if (id < 0) continue;
      const tok_added *a = added_of(t, id);
      if (!a || (a->special && !parse_special)) continue;
      size_t b = p, e = p + l, wl;
      if (a->lstrip)
        while (b > floor) {
          size_t q = b - 1; /* step back one code point */
          while (q > floor && ((unsigned char)s[q] & 0xC0) == 0x80) q--;
          if (!is_ws_at(s, n, q, &wl) || q + wl != b) break;
          b = q;
        }
      if (a->rstrip)
        while (e < n && is_ws_at(s, n, e, &wl)) e += wl;
      *ms = b, *me = e, *mid = id;
      return 1;
    }
  }
  return 0;
}

static int encode_text(const sotto_tokenizer *t, const char *s, size_t n, int parse_special,
                       tok_ids *out) {
  size_t seg = 0, ms, me;
  int32_t id;
  while (next_added(t, s, n, seg, seg, parse_special, &ms, &me, &id)) {
    if (encode_piece(t, s + seg, ms - seg, seg == 0, out) || tok_ids_push(out, id)) return -1;
    seg = me;
  }
  return encode_piece(t, s + seg, n - seg, seg == 0, out);
}

/* Writes the framed sequence: template items with A and B. */
static int64_t emit(const tok_item *items, int n_items, const tok_ids *a, size_t na,
                    const tok_ids *b, size_t nb, int32_t *ids, int32_t *type_ids, int64_t cap) {
  int64_t k = 0;
  for (int i = 0; i < n_items; i++) {
    const tok_ids *seq = items[i].id == -1 ? a : items[i].id == -2 ? b : NULL;
    size_t cnt = items[i].id == -1 ? na : items[i].id == -2 ? nb : 1;
    for (size_t j = 0; j < cnt; j++, k++) {
      if (k >= cap) continue;
      if (ids) ids[k] = seq ? seq->v[j] : items[i].id;
      if (type_ids) type_ids[k] = items[i].type_id;
    }
  }
  return k;
}

static const tok_item plain_single[] = {{-1, 0}};
static const tok_item plain_pair[] = {{-1, 0}, {-2, 1}};

static int64_t encode_framed(const sotto_tokenizer *t, const char *a, size_t a_len,
                             const char *b, size_t b_len, int add_special, int parse_special,
                             int64_t max_len, int32_t *ids, int32_t *type_ids, int64_t cap,
                             sotto_error *err) {
  if ((!a && a_len) || cap < 0 || max_len < 0)
    return sotto_error_set(err, SOTTO_BAD_REQUEST, "tokenizer: bad arguments");
  tok_ids ea = {0}, eb = {0};
  if (encode_text(t, a ? a : "", a_len, parse_special, &ea) ||
      (b && encode_text(t, b, b_len, parse_special, &eb))) {
    tok_ids_free(&ea), tok_ids_free(&eb);
    return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "tokenizer: out of memory");
  }
  const tok_item *items = b ? plain_pair : plain_single;
  int n_items = b ? 2 : 1;
  if (add_special && (b ? t->n_pair : t->n_single)) {
    items = b ? t->pair : t->single;
    n_items = b ? t->n_pair : t->n_single;
  }
  size_t na = ea.n, nb = eb.n;
  if (max_len > 0) {
    int64_t added = 0;
    for (int i = 0; i < n_items; i++) added += items[i].id >= 0;
    if (added > max_len) {
      tok_ids_free(&ea), tok_ids_free(&eb);
      return sotto_error_set(err, SOTTO_BAD_REQUEST,
                             "tokenizer: max length %lld leaves no room for the text",
                             (long long)max_len);
    }
    size_t m = (size_t)(max_len - added);
    if (na + nb > m) {
      if (!b) {
        na = m;
      } else { /* longest_first (utils/truncation.rs, truncate_encodings) */
        size_t n1 = na, n2 = nb;
        int swap = n1 > n2;
        if (swap) n1 = nb, n2 = na;
        n2 = n1 > m ? n1 : (n1 > m - n1 ? n1 : m - n1);
        if (n1 + n2 > m) {
          n1 = m / 2;
          n2 = n1 + m % 2;
        }
        if (swap) {
          size_t x = n1;
          n1 = n2, n2 = x;
        }
        if (n1 < na) na = n1;
        if (n2 < nb) nb = n2;
      }
    }
  }
  int64_t k = emit(items, n_items, &ea, na, &eb, nb, ids, type_ids, cap);
  tok_ids_free(&ea), tok_ids_free(&eb);
  return k;
}

int64_t sotto_tokenizer_encode(const sotto_tokenizer *t, const char *text, size_t len,
                               int add_special, int parse_special, int32_t *ids, int64_t cap,
                               sotto_error *err) {
  return encode_framed(t, text, len, NULL, 0, add_special, parse_special, 0, ids, NULL, cap, err);
}

int32_t *sotto_tokenizer_encode_alloc(const sotto_tokenizer *t, const char *text, size_t len,
                                      int add_special, int parse_special, int64_t *n,
                                      sotto_error *err) {
  int64_t cap = (int64_t)len + 8, got = -1;
  int32_t *ids = NULL;
  for (int attempt = 0; attempt < 2; attempt++) {
    int32_t *more = realloc(ids, (size_t)cap * sizeof *ids);
    if (!more) {
      sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
      got = -1;
      break;
    }
    ids = more;
    got = sotto_tokenizer_encode(t, text, len, add_special, parse_special, ids, cap, err);
    if (got <= cap) break;
    cap = got;
  }
  if (got < 0 || got > cap) {
    if (got > cap) sotto_error_set(err, SOTTO_INTERNAL, "the tokenizer's length changed between calls");
    free(ids);
    return NULL;
  }
  *n = got;
  return ids;
}

int64_t sotto_tokenizer_encode_pair(const sotto_tokenizer *t, const char *a, size_t a_len,
                                    const char *b, size_t b_len, int64_t max_len, int32_t *ids,
                                    int32_t *type_ids, int64_t cap, sotto_error *err) {
  return encode_framed(t, a, a_len, b, b_len, 1, 1, max_len, ids, type_ids, cap, err);
}

/* ---- accessors ---- */
sotto_tokenizer_kind sotto_tokenizer_kind_of(const sotto_tokenizer *t) { return t->kind; }
int32_t sotto_tokenizer_n_vocab(const sotto_tokenizer *t) { return t->n_vocab; }
const sotto_special_tokens *sotto_tokenizer_special(const sotto_tokenizer *t) { return &t->sp; }
const char *sotto_tokenizer_chat_template(const sotto_tokenizer *t) { return t->chat_template; }

int sotto_tokenizer_piece(const sotto_tokenizer *t, int32_t id, int render_special, char *out,
                          int cap) {
  if (id < 0 || id >= t->n_vocab) return -1;
  size_t n;
  const char *s = tok_text(t, id, &n);
  tok_buf b = {0};
  int rc = 0;
  const tok_added *a = added_of(t, id);
  if (t->type[id] == TOK_TYPE_CONTROL || (a && a->special)) {
    if (render_special) rc = tok_buf_add(&b, s, n);
  } else if (t->type[id] == TOK_TYPE_BYTE && n == 6) {
    unsigned char c = (unsigned char)strtol(s + 3, NULL, 16);
    rc = tok_buf_add(&b, &c, 1);
  } else if (a) {
    rc = tok_buf_add(&b, s, n);
  } else if (t->byte_level) {
    for (size_t i = 0; i < n && !rc;) {
      uint32_t cp;
      size_t l = sotto_utf8_next((const unsigned char *)s + i, n - i, &cp);
      int by = tok_cp_to_byte(cp);
      unsigned char c = (unsigned char)by;
      rc = by >= 0 ? tok_buf_add(&b, &c, 1) : tok_buf_add(&b, s + i, l);
      i += l;
    }
  } else if (t->kind == SOTTO_TOK_WORDPIECE) {
    size_t pl = t->subword_prefix_len;
    if (pl && n >= pl && !memcmp(s, t->subword_prefix, pl)) rc = tok_buf_add(&b, s + pl, n - pl);
    else rc = tok_buf_add(&b, " ", 1) || tok_buf_add(&b, s, n);
  } else { /* SentencePiece: U+2581 stands for a space */
    for (size_t i = 0; i < n && !rc;) {
      if (i + 3 <= n && !memcmp(s + i, "\xE2\x96\x81", 3)) {
        rc = tok_buf_add(&b, " ", 1);
        i += 3;
      } else {
        rc = tok_buf_add(&b, s + i, 1);
        i++;
      }
    }
  }
  if (rc) {
    tok_buf_free(&b);
    return -1;
  }
  int len = (int)b.n;
  if (cap > 0 && len > 0) memcpy(out, b.v, (size_t)(len < cap ? len : cap));
  tok_buf_free(&b);
  return len;
}
