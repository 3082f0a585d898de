/*
 * fuzz_charsmap.c - libFuzzer target: SentencePiece's precompiled_charsmap
 * (tokenizers/precompiled.c), the double-array trie and replacement strings
 * of a Unigram model's normaliser. Input: uint32 little-endian map length,
 * the map, then text to normalise. Every trie index and string offset comes
 * from the file: nothing may read outside it, crash or loop; a map that
 * passes the check normalises any text to valid output.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizers/tok.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 4) return 0;
  size_t n = (size_t)data[0] | (size_t)data[1] << 8 | (size_t)data[2] << 16 |
             (size_t)data[3] << 24;
  if (n > size - 4) n = size - 4;
  /* exact-size copies, so ASan sees any read past either end */
  uint8_t *map = malloc(n ? n : 1);
  size_t tl = size - 4 - n;
  char *text = malloc(tl ? tl : 1);
  if (!map || !text) abort();
  memcpy(map, data + 4, n);
  memcpy(text, data + 4 + n, tl);
  sotto_error err = {0};
  if (tok_precompiled_check(map, n, &err) == 0) {
    tok_buf out = {0};
    if (tok_precompiled(map, n, text, tl, &out)) abort();
    tok_buf_free(&out);
  } else if (err.status != SOTTO_BAD_MODEL) {
    abort();
  }
  free(map);
  free(text);
  return 0;
}
