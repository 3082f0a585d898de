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
  sotto_error err = {0};
  /* A copy of exactly size bytes, so ASan sees any read past the end. */
  uint8_t *copy = malloc(size ? size : 1);
  if (!copy) return 0;
  memcpy(copy, data, size);
  sotto_status rc = sotto_model_add(ctx, "m", copy, size, SOTTO_MODEL_TAKE, &err);
  if (rc != SOTTO_OK) {
    /* Every rejection must say why; only these codes are expected. */
    if (rc != err.status || !err.message[0] ||
        (rc != SOTTO_BAD_MODEL && rc != SOTTO_UNSUPPORTED_MODEL &&
         rc != SOTTO_UNSUPPORTED_FORMAT && rc != SOTTO_OUT_OF_MEMORY))
      abort();
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
