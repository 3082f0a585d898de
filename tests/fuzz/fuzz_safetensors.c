/*
 * fuzz_safetensors.c - libFuzzer target for what the converter reads from
 * a Hugging Face folder. An input is config.json's text, a NUL byte, then
 * a model.safetensors (without a NUL: the safetensors alone). The
 * safetensors must open or fail with bad_model / unsupported_model and a
 * message, and hand out only tensors whose bytes lie inside the buffer,
 * match their shape and read as floats; and sotto_convert on the pair must
 * write a GGUF that sotto reads back, or fail with a message, never crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/gguf.h"
#include "formats/safetensors.h"

static volatile float sink;

static void check_status(sotto_status st, const sotto_error *err) {
  if (st != err->status || !err->message[0] ||
      (st != SOTTO_BAD_MODEL && st != SOTTO_UNSUPPORTED_MODEL && st != SOTTO_OUT_OF_MEMORY &&
       st != SOTTO_BAD_REQUEST))
    abort();
}

static void check_safetensors(const uint8_t *data, size_t size) {
  sotto_error err = {0};
  sotto_safetensors *st = sotto_safetensors_open(data, size, "fuzz.safetensors", &err);
  if (!st) {
    check_status(err.status, &err);
    return;
  }
  float buf[256];
  for (int64_t i = 0; i < sotto_safetensors_n_tensors(st); i++) {
    const sotto_st_tensor *t = sotto_safetensors_at(st, i);
    if (sotto_safetensors_find(st, t->name) != t) abort();
    if (t->bytes != (size_t)t->n * sotto_st_dtype_size(t->dtype)) abort();
    if (t->bytes && (t->data < data || t->data + t->bytes > data + size)) abort();
    int64_t n = t->n < 256 ? t->n : 256;
    int floats = t->dtype == SOTTO_ST_F32 || t->dtype == SOTTO_ST_F16 || t->dtype == SOTTO_ST_BF16;
    if (sotto_st_read_f32(t, t->n - n, n, buf, &err) != (floats ? 0 : -1)) abort();
    if (floats && n) sink += buf[0] + buf[n - 1];
  }
  sotto_safetensors_close(st);
}

typedef struct out {
  uint8_t *p;
  size_t len, cap;
} out;

static int write_out(void *user, const void *data, size_t len) {
  out *o = user;
  if (o->len + len > o->cap) {
    size_t cap = (o->len + len) * 2;
    uint8_t *p = realloc(o->p, cap);
    if (!p) return 1;
    o->p = p, o->cap = cap;
  }
  memcpy(o->p + o->len, data, len);
  o->len += len;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *nul = memchr(data, 0, size);
  size_t config_len = nul ? (size_t)(nul - data) : 0;
  size_t st_off = nul ? config_len + 1 : 0, st_len = size - st_off;
  /* Exact-size copies, so ASan sees any read past either end. */
  uint8_t *config = malloc(config_len ? config_len : 1), *st = malloc(st_len ? st_len : 1);
  if (!config || !st) abort();
  memcpy(config, data, config_len);
  memcpy(st, data + st_off, st_len);
  if (!nul) check_safetensors(st, st_len);
  else {
    static const char *const types[] = {"f32", "q8_0", "q4_k_m", "q5_1"};
    sotto_file files[2] = {{"config.json", config, config_len}, {"model.safetensors", st, st_len}};
    sotto_convert_options opt = {.type = types[config_len % 4], .weights_only = 1};
    out o = {0};
    sotto_error err = {0};
    sotto_status rc = sotto_convert(files, 2, &opt, write_out, NULL, &o, &err);
    if (rc != SOTTO_OK) {
      check_status(rc, &err);
    } else {
      sotto_gguf *g = sotto_gguf_open(o.p, o.len, &err);
      if (!g) abort(); /* what sotto writes, sotto reads */
      sotto_gguf_close(g);
    }
    free(o.p);
  }
  free(config);
  free(st);
  return 0;
}
