/*
 * unigram.c - SentencePiece's Unigram model (XLM-RoBERTa, T5), as Hugging
 * Face's tokenizers runs it (models/unigram/model.rs, encode_optimized):
 * Viterbi over the bytes of the word, every vocabulary piece a candidate
 * with its score, a character no piece starts with scored as unknown
 * (the lowest score minus 10); consecutive unknowns fuse into one; pieces
 * not in the vocabulary fall back to <0xNN> bytes when the model has them.
 */
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "tok.h"

#define UNK_PENALTY 10.0f

typedef struct node {
  double score;
  size_t from; /* SIZE_MAX: not reached */
  int32_t id;
} node;

static size_t char_len(unsigned char c) {
  return c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
}

static int push_piece(const sotto_tokenizer *t, const char *s, size_t n, tok_ids *out) {
  int32_t id = tok_find(t, s, n);
  if (id >= 0) return tok_ids_push(out, id);
  if (t->byte_fallback) {
    int all = 1;
    for (size_t i = 0; i < n; i++) all &= t->byte_token[(unsigned char)s[i]] >= 0;
    if (all) {
      for (size_t i = 0; i < n; i++)
        if (tok_ids_push(out, t->byte_token[(unsigned char)s[i]])) return -1;
      return 0;
    }
  }
  return tok_ids_push(out, t->unk);
}

int tok_unigram(const sotto_tokenizer *t, const char *w, size_t n, tok_ids *out) {
  node *best = malloc((n + 1) * sizeof *best);
  size_t *cut = malloc((n + 1) * sizeof *cut);
  if (!best || !cut) {
    free(best), free(cut);
    return -1;
  }
  for (size_t i = 0; i <= n; i++) best[i] = (node){0, SIZE_MAX, t->unk};
  best[0].from = 0;
  float unk_score = t->unk_score - UNK_PENALTY;
  for (size_t s = 0; s < n;) {
    size_t cl = char_len((unsigned char)w[s]);
    if (cl > n - s) cl = n - s;
    double here = best[s].score;
    int single = 0;
    size_t maxl = n - s < t->max_piece_len ? n - s : t->max_piece_len;
    for (size_t l = 1; l <= maxl; l++) {
      if (s + l < n && ((unsigned char)w[s + l] & 0xC0) == 0x80) continue;
      int32_t id = tok_find(t, w + s, l);
      if (id < 0) continue;
      double cand = here + t->scores[id];
      node *e = &best[s + l];
      if (e->from == SIZE_MAX || cand > e->score) *e = (node){cand, s, id};
      if (l == cl) single = 1;
    }
    if (!single) {
      double cand = here + unk_score;
      node *e = &best[s + cl];
      if (e->from == SIZE_MAX || cand > e->score) *e = (node){cand, s, t->unk};
    }
    s += cl;
  }
  /* Back from the end; cut[] collects the piece boundaries in reverse. */
  size_t k = 0;
  for (size_t e = n; e > 0; e = best[e].from) cut[k++] = e;
  int rc = 0;
  size_t start = 0;
  for (size_t i = k; i-- > 0 && !rc;) {
    size_t e = cut[i];
    int unk = best[e].id == t->unk && t->fuse_unk;
    /* fuse this unknown with the following unknowns */
    while (unk && i > 0 && best[cut[i - 1]].id == t->unk) e = cut[--i];
    rc = push_piece(t, w + start, e - start, out);
    start = e;
  }
  free(best), free(cut);
  return rc;
}
