/*
 * wordpiece.c - BERT's WordPiece model, as Hugging Face's tokenizers runs
 * it (models/wordpiece/mod.rs, WordPiece::tokenize): greedy longest match
 * first from the start of the word, pieces after the first looked up with
 * the continuing-subword prefix ("##"); a word with a part that no piece
 * matches, or longer than max_input_chars_per_word characters, is one
 * unknown token.
 */
#include <string.h>

#include "text.h"
#include "tok.h"

int tok_wordpiece(const sotto_tokenizer *t, const char *w, size_t n, tok_ids *out) {
  size_t chars = 0;
  for (size_t i = 0; i < n; i++) chars += ((unsigned char)w[i] & 0xC0) != 0x80;
  if (t->max_chars_per_word > 0 && chars > (size_t)t->max_chars_per_word)
    return tok_ids_push(out, t->unk);
  size_t mark = out->n;
  tok_buf key = {0};
  int rc = 0;
  for (size_t start = 0; start < n && !rc;) {
    int32_t found = -1;
    size_t end = n;
    while (end > start) {
      key.n = 0;
      if (start > 0) rc = tok_buf_add(&key, t->subword_prefix, t->subword_prefix_len);
      if (rc || tok_buf_add(&key, w + start, end - start)) {
        rc = -1;
        break;
      }
      found = tok_find(t, key.v, key.n);
      if (found >= 0) break;
      do end--; /* back to the previous character boundary */
      while (end > start && ((unsigned char)w[end] & 0xC0) == 0x80);
    }
    if (rc) break;
    if (found < 0) { /* the whole word is unknown */
      out->n = mark;
      rc = tok_ids_push(out, t->unk);
      break;
    }
    rc = tok_ids_push(out, found);
    start = end;
  }
  tok_buf_free(&key);
  return rc;
}
