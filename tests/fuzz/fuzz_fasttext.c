/*
 * fuzz_fasttext.c - libFuzzer target: any byte string handed to the
 * fastText loader must load or fail with an error, never crash, leak or
 * read outside the buffer; a model that loads must also classify.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sotto.h"

static sotto_context *ctx;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!ctx) {
    sotto_config cfg = {.threads = 1};
    ctx = sotto_context_create(&cfg);
    if (!ctx) abort();
  }
  char *err = NULL;
  /* A copy of exactly size bytes, so ASan sees any read past the end. */
  uint8_t *copy = malloc(size ? size : 1);
  if (!copy) return 0;
  memcpy(copy, data, size);
  int rc = sotto_model_add(ctx, "m", "fasttext", copy, size, &err);
  free(copy);
  if (rc != 0) {
    if (!err || strncmp(err, "bad_model: ", 11) != 0) {
      /* Every rejection must say why; only these codes are expected. */
      if (!err || (strncmp(err, "unsupported_model: ", 19) != 0 &&
                   strncmp(err, "out_of_memory: ", 15) != 0))
        abort();
    }
    sotto_string_free(err);
    return 0;
  }
  static const char *const texts[] = {
      "{\"op\":\"classify\",\"model\":\"m\",\"text\":\"Hello world, this is a test.\",\"top_k\":5}",
      "{\"op\":\"classify\",\"model\":\"m\",\"text\":\"__label__x </s> \\u00e7a \\ud83d\\ude00 a b c d\",\"top_k\":1000000,\"threshold\":0.001}",
      "{\"op\":\"classify\",\"model\":\"m\",\"text\":\"\"}",
  };
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    char *out = sotto_request(ctx, texts[i]);
    if (!out || strstr(out, "\"internal\"")) abort();
    sotto_string_free(out);
  }
  sotto_model_remove(ctx, "m");
  return 0;
}
