/*
 * fuzz_tokenizer_json.c - libFuzzer target: any bytes as a Hugging Face
 * tokenizer.json (the loader of tokenizers/load_json.c), and, when they
 * load, every stage of encoding on a few texts and on the input itself.
 * Nothing may crash, leak or read outside the buffer; a damaged file is a
 * clear error; ids stay inside the vocabulary; the count an encoding
 * returns does not depend on the buffer it is given.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizers/tokenizer.h"

static void check_encode(const sotto_tokenizer *t, const char *s, size_t n) {
  int32_t ids[512], types[512], few[3];
  sotto_error err = {0};
  int32_t nv = sotto_tokenizer_n_vocab(t);
  int64_t k = sotto_tokenizer_encode(t, s, n, 1, 1, ids, 512, &err);
  if (k < 0 && err.status != SOTTO_OUT_OF_MEMORY) abort();
  for (int64_t i = 0; i < k && i < 512; i++)
    if (ids[i] < 0 || ids[i] >= nv) abort();
  if (k >= 0 && sotto_tokenizer_encode(t, s, n, 1, 1, few, 3, &err) != k) abort();
  k = sotto_tokenizer_encode_pair(t, s, n, "pair b", 6, 16, ids, types, 512, &err);
  if (k > 16) abort();
  for (int64_t i = 0; i < k; i++)
    if (ids[i] < 0 || ids[i] >= nv || types[i] < 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *json = malloc(size ? size : 1);
  if (!json) return 0;
  memcpy(json, data, size);
  sotto_error err = {0};
  sotto_tokenizer *t = sotto_tokenizer_from_json(json, size, NULL, 0, &err);
  if (!t) {
    if (err.status == SOTTO_OK || !err.message[0]) abort();
    free(json);
    return 0;
  }
  static const char *const texts[] = {
      "Hello world, caf\xc3\xa9 123!  a\tb\n\nc \xe4\xb8\xad\xf0\x9f\x98\x80 \xff\xfe",
      "<s>[CLS]<|endoftext|></s>"};
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
    check_encode(t, texts[i], strlen(texts[i]));
  check_encode(t, json, size < 300 ? size : 300);
  char piece[64];
  int32_t nv = sotto_tokenizer_n_vocab(t);
  for (int32_t id = 0; id < nv; id += 1 + nv / 128)
    if (sotto_tokenizer_piece(t, id, id & 1, piece, sizeof piece) < 0) abort();
  sotto_tokenizer_free(t);
  free(json);
  return 0;
}
