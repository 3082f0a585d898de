/*
 * test_safetensors.c - the safetensors reader (formats/safetensors.h):
 * dtypes, shapes and values of a well-formed file, and damaged files
 * (truncated at every byte, bad header lengths, bad JSON, unknown dtypes,
 * offsets outside the data, sizes that do not match shapes, overlaps,
 * duplicates) refused with a message naming the tensor.
 */
#include <stdint.h>

#include "check.h"
#include "formats/safetensors.h"
#include "ops/quant.h"

/* A file from a JSON header and data bytes. */
static uint8_t *make(const char *json, const uint8_t *data, size_t n, size_t *size) {
  size_t h = strlen(json);
  uint8_t *f = malloc(8 + h + n + 1);
  for (int i = 0; i < 8; i++) f[i] = (uint8_t)((uint64_t)h >> (8 * i));
  memcpy(f + 8, json, h);
  if (n) memcpy(f + 8 + h, data, n);
  *size = 8 + h + n;
  return f;
}

static void expect_fail(const char *json, size_t n, sotto_status st, const char *text) {
  static uint8_t zeros[4096];
  size_t size;
  uint8_t *f = make(json, zeros, n, &size);
  sotto_error err = {0};
  sotto_safetensors *s = sotto_safetensors_open(f, size, "model.safetensors", &err);
  CHECK(!s && err.status == st && strstr(err.message, text),
        "%s: expected %s naming \"%s\", got %s: %s", json, sotto_status_code(st), text,
        sotto_status_code(err.status), err.message);
  sotto_safetensors_close(s);
  free(f);
}

int main(void) {
  /* a well-formed file: f32 [2,3], f16 [4], bf16 [1,2], i64 [3], and an empty tensor */
  uint8_t data[24 + 8 + 4 + 24];
  float f32[6] = {1, -2, 3.5f, 0, 1e-3f, -7};
  memcpy(data, f32, 24);
  float h[4] = {0.5f, -1, 65504, 6e-8f};
  for (int i = 0; i < 4; i++) {
    sotto_half v = sotto_float_to_half(h[i]);
    memcpy(data + 24 + 2 * i, &v, 2);
  }
  uint16_t b[2] = {sotto_float_to_bf16(3.0f), sotto_float_to_bf16(-0.25f)};
  memcpy(data + 32, b, 4);
  int64_t ids[3] = {0, 1, 2};
  memcpy(data + 36, ids, 24);
  const char *json =
      "{\"__metadata__\":{\"format\":\"pt\"},"
      "\"b.weight\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[24,32]},"
      "\"a.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
      "\"c\":{\"dtype\":\"BF16\",\"shape\":[1,2],\"data_offsets\":[32,36]},"
      "\"embeddings.position_ids\":{\"dtype\":\"I64\",\"shape\":[1,3],\"data_offsets\":[36,60]},"
      "\"empty\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[60,60]}}      ";
  size_t size;
  uint8_t *f = make(json, data, sizeof data, &size);
  sotto_error err = {0};
  sotto_safetensors *s = sotto_safetensors_open(f, size, NULL, &err);
  CHECK(s != NULL, "opens (%s)", err.message);
  if (s) {
    CHECK(sotto_safetensors_n_tensors(s) == 5, "five tensors");
    const sotto_st_tensor *a = sotto_safetensors_find(s, "a.weight");
    float v[6];
    CHECK(a && a->dtype == SOTTO_ST_F32 && a->n_dims == 2 && a->shape[0] == 2 &&
              a->shape[1] == 3 && a->n == 6 && a->bytes == 24,
          "f32 tensor info");
    CHECK(a && sotto_st_read_f32(a, 0, 6, v, &err) == 0 && memcmp(v, f32, 24) == 0, "f32 values");
    CHECK(a && sotto_st_read_f32(a, 4, 2, v, &err) == 0 && v[0] == 1e-3f && v[1] == -7,
          "f32 slice");
    CHECK(a && sotto_st_read_f32(a, 5, 2, v, &err) == -1 && err.status == SOTTO_BAD_REQUEST,
          "slice past the end");
    const sotto_st_tensor *t = sotto_safetensors_find(s, "b.weight");
    CHECK(t && sotto_st_read_f32(t, 0, 4, v, &err) == 0 && v[0] == 0.5f && v[1] == -1 &&
              v[2] == 65504 && v[3] == sotto_half_to_float(sotto_float_to_half(6e-8f)),
          "f16 values");
    t = sotto_safetensors_find(s, "c");
    CHECK(t && sotto_st_read_f32(t, 0, 2, v, &err) == 0 && v[0] == 3 && v[1] == -0.25f,
          "bf16 values");
    t = sotto_safetensors_find(s, "embeddings.position_ids");
    CHECK(t && t->dtype == SOTTO_ST_I64 && sotto_st_read_f32(t, 0, 1, v, &err) == -1 &&
              err.status == SOTTO_UNSUPPORTED_MODEL && strstr(err.message, "I64"),
          "i64 is listed but not read as floats");
    t = sotto_safetensors_find(s, "empty");
    CHECK(t && t->n == 0 && t->bytes == 0, "empty tensor");
    CHECK(!sotto_safetensors_find(s, "missing") && !sotto_safetensors_find(s, "__metadata__"),
          "absent names");
    CHECK(strcmp(sotto_safetensors_at(s, 0)->name, "a.weight") == 0, "sorted by name");
    sotto_safetensors_close(s);
  }
  /* truncated at every byte */
  int bad = 0;
  for (size_t n = 0; n < size; n++) {
    sotto_error e = {0};
    sotto_safetensors *t = sotto_safetensors_open(f, n, "x", &e);
    if (t || e.status != SOTTO_BAD_MODEL || !e.message[0]) bad++;
    sotto_safetensors_close(t);
  }
  CHECK(bad == 0, "%d truncations not refused", bad);
  free(f);

  /* damaged headers */
  uint8_t tiny[12] = {200, 0, 0, 0, 0, 0, 0, 0, '{', '}', 0, 0};
  s = sotto_safetensors_open(tiny, sizeof tiny, "m.safetensors", &err);
  CHECK(!s && strstr(err.message, "header length 200"), "header length past the end (%s)",
        err.message);
  uint8_t huge[16] = {0, 0, 0, 0, 0, 0, 0, 0x80};
  s = sotto_safetensors_open(huge, sizeof huge, "m", &err);
  CHECK(!s && err.status == SOTTO_BAD_MODEL, "2^63 header length");
  expect_fail("[1,2]", 0, SOTTO_BAD_MODEL, "not a JSON object");
  expect_fail("{\"a\":", 0, SOTTO_BAD_MODEL, "not a JSON object");
  expect_fail("{\"a\":3}", 0, SOTTO_BAD_MODEL, "\"a\" is not a JSON object");
  expect_fail("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, SOTTO_BAD_MODEL, "data_offsets");
  expect_fail("{\"a\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
              SOTTO_UNSUPPORTED_MODEL, "dtype \"Q4\"");
  expect_fail("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,2,3,4,5,6,7,8,9],\"data_offsets\":[0,4]}}",
              4, SOTTO_UNSUPPORTED_MODEL, "9 dimensions");
  expect_fail("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4,
              SOTTO_BAD_MODEL, "not a whole number");
  expect_fail("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4,
              SOTTO_BAD_MODEL, "not a whole number");
  expect_fail("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}",
              4, SOTTO_BAD_MODEL, "\"a\"");
  expect_fail("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 8,
              SOTTO_BAD_MODEL, "need 8");
  expect_fail("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4,
              SOTTO_BAD_MODEL, "outside");
  expect_fail("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8,
              SOTTO_BAD_MODEL, "outside");
  expect_fail("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
              "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
              12, SOTTO_BAD_MODEL, "overlap");
  expect_fail("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
              "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
              8, SOTTO_BAD_MODEL, "twice");
  expect_fail("{\"__metadata__\":[1]}", 0, SOTTO_BAD_MODEL, "__metadata__");
  return check_finish();
}
