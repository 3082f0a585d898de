/*
 * fuzz_model.h - what fuzz_encoder.c and fuzz_llm.c share: the input
 * registered as a model (a copy), then each request asked of it; a model
 * that does not load must say why, and every request must be answered
 * with a result or an error reply.
 */
#ifndef FUZZ_MODEL_H
#define FUZZ_MODEL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sotto.h"

static int fuzz_model_requests(const uint8_t *data, size_t size, const char *const *requests,
                               size_t n) {
  static sotto_context *ctx;
  if (!ctx) {
    sotto_config cfg = {.threads = 1};
    ctx = sotto_context_create(&cfg);
    if (!ctx) abort();
  }
  sotto_error err = {0};
  if (sotto_model_add(ctx, "m", (void *)data, size, SOTTO_MODEL_COPY, &err) != SOTTO_OK) {
    if (!err.message[0]) abort(); /* every failure says why */
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    char *reply = sotto_request(ctx, requests[i]);
    if (!reply || (!strstr(reply, "\"result\"") && !strstr(reply, "\"error\""))) abort();
    sotto_string_free(reply);
  }
  sotto_model_remove(ctx, "m");
  return 0;
}

#endif /* FUZZ_MODEL_H */
