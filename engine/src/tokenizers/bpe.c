/*
 * bpe.c - byte-pair encoding of one word, for byte-level BPE (GPT-2,
 * RoBERTa, Llama 3, Qwen) and SentencePiece BPE (Llama 2, Mistral, Gemma).
 *
 * From tokenizer.json, merges by rank, as Hugging Face's tokenizers does
 * (models/bpe/model.rs merge_word and word.rs merge_all): the word's
 * characters are the first symbols (an unknown character becomes its
 * <0xNN> bytes with byte_fallback, else the unknown token, fused with the
 * previous unknown under fuse_unk); then the pair of lowest rank is merged
 * again and again, the leftmost first among equals. With ignore_merges, a
 * word that is a token is that token.
 *
 * From GGUF (tokenizer.ggml.model "llama"), merges by score, as llama.cpp
 * does (llama-vocab.cpp, llm_tokenizer_spm): any adjacent pair whose text
 * is a token may merge, the highest score first, the leftmost first among
 * equals; a final symbol that is no token becomes its <0xNN> bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "tok.h"

typedef struct sym {
  int32_t id;
  uint32_t start, len; /* bytes of the word; len 0: merged away */
  int32_t prev, next;
} sym;

typedef struct cand {
  double key; /* lower merges first */
  int32_t left, right;
  int32_t a, b;       /* the ids merged (rank mode) */
  uint32_t len;       /* the bytes merged (score mode) */
  int32_t out;
} cand;

/* A short word's symbols and candidates live on the stack. */
#define SMALL 32

typedef struct heap {
  cand *v;
  size_t n, cap;
  cand small[SMALL];
} heap;

static int before(const cand *x, const cand *y) {
  return x->key < y->key || (x->key == y->key && x->left < y->left);
}

static int heap_push(heap *h, cand c) {
  if (h->n == h->cap) {
    size_t cap = h->cap * 2;
    cand *v = h->v == h->small ? malloc(cap * sizeof *v) : realloc(h->v, cap * sizeof *v);
    if (!v) return -1;
    if (h->v == h->small) memcpy(v, h->small, sizeof h->small);
    h->v = v, h->cap = cap;
  }
  size_t i = h->n++;
  while (i > 0 && before(&c, &h->v[(i - 1) / 2])) {
    h->v[i] = h->v[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  h->v[i] = c;
  return 0;
}

static cand heap_pop(heap *h) {
  cand top = h->v[0], last = h->v[--h->n];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= h->n) break;
    if (c + 1 < h->n && before(&h->v[c + 1], &h->v[c])) c++;
    if (!before(&h->v[c], &last)) break;
    h->v[i] = h->v[c];
    i = c;
  }
  if (h->n) h->v[i] = last;
  return top;
}

/* Queues the merge of symbols l and r when there is one. */
static int consider(const sotto_tokenizer *t, const char *w, const sym *s, int32_t l, int32_t r,
                    heap *h) {
  if (l < 0 || r < 0) return 0;
  cand c = {0, l, r, s[l].id, s[r].id, s[l].len + s[r].len, -1};
  if (t->use_scores) {
    c.out = tok_find(t, w + s[l].start, c.len);
    if (c.out < 0) return 0;
    c.key = -(double)t->scores[c.out];
  } else {
    uint32_t rank;
    if (s[l].id < 0 || s[r].id < 0 || !tok_merge_get(t, s[l].id, s[r].id, &rank, &c.out))
      return 0;
    c.key = rank;
  }
  return heap_push(h, c);
}

static int push_bytes(const sotto_tokenizer *t, const char *s, size_t n, tok_ids *out) {
  for (size_t i = 0; i < n; i++) {
    int32_t b = t->byte_token[(unsigned char)s[i]];
    if (b < 0) b = t->unk; /* and with no unknown token, nothing */
    if (b >= 0 && tok_ids_push(out, b)) return -1;
  }
  return 0;
}

static size_t char_len(unsigned char c) {
  return c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
}

int tok_bpe(const sotto_tokenizer *t, const char *w, size_t n, tok_ids *out) {
  if (t->ignore_merges) {
    int32_t id = tok_find(t, w, n);
    if (id >= 0) return tok_ids_push(out, id);
  }
  sym small[SMALL], *s = n + 1 <= SMALL ? small : malloc((n + 1) * sizeof *s);
  heap h;
  h.v = h.small, h.n = 0, h.cap = SMALL;
  int rc = 0;
  if (!s) return -1;
  /* The first symbols: characters (or their bytes, or unknown). */
  int32_t m = 0;
  int pending_unk = 0;
  for (size_t i = 0; i < n;) {
    size_t cl = char_len((unsigned char)w[i]);
    if (cl > n - i) cl = n - i;
    int32_t id = tok_find(t, w + i, cl);
    if (id >= 0 || t->use_scores) {
      s[m++] = (sym){id, (uint32_t)i, (uint32_t)cl, 0, 0};
      pending_unk = 0;
    } else {
      int bytes_ok = t->byte_fallback;
      for (size_t k = 0; bytes_ok && k < cl; k++)
        bytes_ok = t->byte_token[(unsigned char)w[i + k]] >= 0;
      if (bytes_ok) {
        for (size_t k = 0; k < cl; k++)
          s[m++] = (sym){t->byte_token[(unsigned char)w[i + k]], (uint32_t)(i + k), 1, 0, 0};
        pending_unk = 0;
      } else if (t->unk < 0) {
        /* no unknown token: the character is dropped, as HF does */
      } else if (pending_unk && t->fuse_unk) {
        s[m - 1].len += (uint32_t)cl;
      } else {
        s[m++] = (sym){t->unk, (uint32_t)i, (uint32_t)cl, 0, 0};
        pending_unk = 1;
      }
    }
    i += cl;
  }
  for (int32_t i = 0; i < m; i++) {
    s[i].prev = i - 1;
    s[i].next = i + 1 < m ? i + 1 : -1;
  }
  for (int32_t i = 0; i + 1 < m && !rc; i++) rc = consider(t, w, s, i, i + 1, &h);
  while (!rc && h.n) {
    cand c = heap_pop(&h);
    sym *l = &s[c.left], *r = &s[c.right];
    /* stale: a side merged away or changed since the pair was queued */
    if (!l->len || !r->len || l->next != c.right) continue;
    if (t->use_scores ? l->len + r->len != c.len : (l->id != c.a || r->id != c.b)) continue;
    l->id = c.out;
    l->len += r->len;
    r->len = 0;
    l->next = r->next;
    if (r->next >= 0) s[r->next].prev = c.left;
    rc = consider(t, w, s, l->prev, c.left, &h) || consider(t, w, s, c.left, l->next, &h);
  }
  for (int32_t i = m ? 0 : -1; !rc && i >= 0; i = s[i].next) {
    if (s[i].id >= 0) rc = tok_ids_push(out, s[i].id);
    else rc = push_bytes(t, w + s[i].start, s[i].len, out); /* score mode */
  }
  if (s != small) free(s);
  if (h.v != h.small) free(h.v);
  return rc;
}
