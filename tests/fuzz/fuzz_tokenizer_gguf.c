/*
 * fuzz_tokenizer_gguf.c - libFuzzer target: any bytes as a GGUF file whose
 * tokenizer.ggml.* metadata configures a tokenizer (tokenizers/load_gguf.c,
 * over the GGUF reader): token arrays of any type and length, merges that
 * are not "a b", ids out of range, huge counts, a damaged
 * precompiled_charsmap. A bad file is a clear error; a good one encodes
 * with every id inside the vocabulary, and writes back to GGUF.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/gguf.h"
#include "tokenizers/tokenizer.h"

static int discard(void *user, const void *data, size_t len) {
  (void)user, (void)data, (void)len;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *copy = malloc(size ? size : 1);
  if (!copy) return 0;
  memcpy(copy, data, size);
  sotto_error err = {0};
  sotto_gguf *g = sotto_gguf_open(copy, size, &err);
  sotto_tokenizer *t = g ? sotto_tokenizer_from_gguf(g, &err) : NULL;
  if (g && !t && (err.status == SOTTO_OK || !err.message[0])) abort();
  if (t) {
    static const char *const texts[] = {"Hello world, caf\xc3\xa9 123!\n\n  \xe4\xb8\xad\xf0\x9f\x98\x80",
                                        "<s>[CLS]<|im_start|></s> x"};
    int32_t ids[256], types[256], nv = sotto_tokenizer_n_vocab(t);
    for (int i = 0; i < 2; i++) {
      int64_t k = sotto_tokenizer_encode(t, texts[i], strlen(texts[i]), 1, 1, ids, 256, &err);
      for (int64_t j = 0; j < k && j < 256; j++)
        if (ids[j] < 0 || ids[j] >= nv) abort();
      k = sotto_tokenizer_encode_pair(t, texts[i], strlen(texts[i]), "b", 1, 12, ids, types, 256,
                                      &err);
      if (k > 12) abort();
    }
    char piece[32];
    for (int32_t id = 0; id < nv; id += 1 + nv / 64)
      if (sotto_tokenizer_piece(t, id, 1, piece, sizeof piece) < 0) abort();
    sotto_gguf_writer *w = sotto_gguf_writer_create();
    if (w && sotto_tokenizer_to_gguf(t, nv + (nv & 3), w, &err) == 0) sotto_gguf_write(w, discard, NULL, &err);
    sotto_gguf_writer_free(w);
  }
  sotto_tokenizer_free(t);
  sotto_gguf_close(g);
  free(copy);
  return 0;
}
