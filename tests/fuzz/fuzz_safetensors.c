/*
 * fuzz_safetensors.c - libFuzzer target: any byte string as a
 * model.safetensors must open or fail with bad_model / unsupported_model
 * and a message; a file that opens hands out only tensors whose bytes lie
 * inside the buffer, match their shape, and read as floats without
 * complaint.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/safetensors.h"

static volatile float sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *copy = malloc(size ? size : 1);
  if (!copy) return 0;
  memcpy(copy, data, size);
  sotto_error err = {0};
  sotto_safetensors *st = sotto_safetensors_open(copy, size, "fuzz.safetensors", &err);
  if (!st) {
    if (!err.message[0] || (err.status != SOTTO_BAD_MODEL && err.status != SOTTO_UNSUPPORTED_MODEL &&
                            err.status != SOTTO_OUT_OF_MEMORY))
      abort();
    free(copy);
    return 0;
  }
  float buf[256];
  for (int64_t i = 0; i < sotto_safetensors_n_tensors(st); i++) {
    const sotto_st_tensor *t = sotto_safetensors_at(st, i);
    if (sotto_safetensors_find(st, t->name) != t) abort();
    if (t->bytes != (size_t)t->n * sotto_st_dtype_size(t->dtype)) abort();
    if (t->bytes && (t->data < copy || t->data + t->bytes > copy + size)) abort();
    int64_t n = t->n < 256 ? t->n : 256;
    int floats = t->dtype == SOTTO_ST_F32 || t->dtype == SOTTO_ST_F16 || t->dtype == SOTTO_ST_BF16;
    if (sotto_st_read_f32(t, t->n - n, n, buf, &err) != (floats ? 0 : -1)) abort();
    if (floats && n) sink += buf[0] + buf[n - 1];
  }
  sotto_safetensors_close(st);
  free(copy);
  return 0;
}
