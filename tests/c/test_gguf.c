/*
 * test_gguf.c - the GGUF reader and writer (formats/gguf.h): every value
 * type, arrays, alignment, tensors in place; files sotto writes read back
 * the same; damaged files (truncated at every byte, huge counts, bad
 * types, overlapping or misaligned tensors, bad names) fail with
 * bad_model and a message naming what is wrong; and both directions
 * against llama.cpp's own GGUF code (libggml-base from node-llama-cpp):
 * ggml reads what sotto writes, sotto reads what ggml writes.
 */
#include <stdint.h>
#include <unistd.h>

#include "check.h"
#include "formats/gguf.h"
#include "llama_ref.h"

/* ---- a byte builder for hand-made files ---- */

typedef struct buf {
  uint8_t *p;
  size_t len, cap;
} buf;

static void put(buf *b, const void *p, size_t n) {
  if (b->len + n > b->cap) {
    b->cap = (b->len + n) * 2 + 64;
    b->p = realloc(b->p, b->cap);
  }
  memcpy(b->p + b->len, p, n);
  b->len += n;
}
static void u8(buf *b, uint8_t v) { put(b, &v, 1); }
static void u32(buf *b, uint32_t v) {
  for (int i = 0; i < 4; i++) u8(b, (uint8_t)(v >> 8 * i));
}
static void u64(buf *b, uint64_t v) {
  for (int i = 0; i < 8; i++) u8(b, (uint8_t)(v >> 8 * i));
}
static void str(buf *b, const char *s) {
  u64(b, strlen(s));
  put(b, s, strlen(s));
}
static void pad_to(buf *b, size_t a) {
  while (b->len % a) u8(b, 0);
}

static void header(buf *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
  put(b, "GGUF", 4);
  u32(b, version);
  u64(b, n_tensors);
  u64(b, n_kv);
}

/* A tensor info: name, dims, type, offset. */
static void tinfo(buf *b, const char *name, int n_dims, const int64_t *ne, uint32_t type,
                  uint64_t off) {
  str(b, name);
  u32(b, (uint32_t)n_dims);
  for (int i = 0; i < n_dims; i++) u64(b, (uint64_t)ne[i]);
  u32(b, type);
  u64(b, off);
}

/* Opens b and expects status (SOTTO_OK: success) with message containing
 * text (when given). */
static sotto_gguf *expect(const buf *b, sotto_status status, const char *text, const char *what) {
  sotto_error err = {0};
  sotto_gguf *g = sotto_gguf_open(b->p, b->len, &err);
  if (status == SOTTO_OK) {
    CHECK(g != NULL, "%s: opens (%s)", what, err.message);
    return g;
  }
  CHECK(g == NULL && err.status == status && err.message[0], "%s: fails with %s (got %s: %s)",
        what, sotto_status_code(status), sotto_status_code(err.status), err.message);
  if (text) CHECK(strstr(err.message, text) != NULL, "%s: message \"%s\" names \"%s\"", what,
                  err.message, text);
  sotto_gguf_close(g);
  return NULL;
}

static int str_is(sotto_gguf_string s, const char *want) {
  return s.data && s.len == strlen(want) && memcmp(s.data, want, s.len) == 0;
}

/* ---- every value type, read from a hand-made file ---- */

static void test_value_types(void) {
  buf b = {0};
  header(&b, 3, 2, 18);
  str(&b, "v.u8"), u32(&b, SOTTO_GGUF_UINT8), u8(&b, 200);
  str(&b, "v.i8"), u32(&b, SOTTO_GGUF_INT8), u8(&b, (uint8_t)-5);
  str(&b, "v.u16"), u32(&b, SOTTO_GGUF_UINT16), u8(&b, 0x34), u8(&b, 0x12);
  str(&b, "v.i16"), u32(&b, SOTTO_GGUF_INT16), u8(&b, 0xff), u8(&b, 0xff);
  str(&b, "v.u32"), u32(&b, SOTTO_GGUF_UINT32), u32(&b, 4000000000u);
  str(&b, "v.i32"), u32(&b, SOTTO_GGUF_INT32), u32(&b, (uint32_t)-70000);
  float f = 0.15625f;
  uint32_t fb;
  memcpy(&fb, &f, 4);
  str(&b, "v.f32"), u32(&b, SOTTO_GGUF_FLOAT32), u32(&b, fb);
  str(&b, "v.bool"), u32(&b, SOTTO_GGUF_BOOL), u8(&b, 1);
  str(&b, "v.str"), u32(&b, SOTTO_GGUF_STRING), str(&b, "h\xc3\xa9llo");
  str(&b, "v.empty"), u32(&b, SOTTO_GGUF_STRING), str(&b, "");
  str(&b, "v.u64"), u32(&b, SOTTO_GGUF_UINT64), u64(&b, 18000000000000000000ull);
  str(&b, "v.i64"), u32(&b, SOTTO_GGUF_INT64), u64(&b, (uint64_t)-3);
  double d = -2.5e-300;
  uint64_t db;
  memcpy(&db, &d, 8);
  str(&b, "v.f64"), u32(&b, SOTTO_GGUF_FLOAT64), u64(&b, db);
  str(&b, "a.i16"), u32(&b, SOTTO_GGUF_ARRAY), u32(&b, SOTTO_GGUF_INT16), u64(&b, 3);
  u8(&b, 1), u8(&b, 0), u8(&b, 0xfe), u8(&b, 0xff), u8(&b, 0), u8(&b, 0x80);
  str(&b, "a.str"), u32(&b, SOTTO_GGUF_ARRAY), u32(&b, SOTTO_GGUF_STRING), u64(&b, 3);
  str(&b, "one"), str(&b, ""), u64(&b, 6), put(&b, "th\0ree", 6);
  str(&b, "a.empty"), u32(&b, SOTTO_GGUF_ARRAY), u32(&b, SOTTO_GGUF_FLOAT32), u64(&b, 0);
  str(&b, "a.bool"), u32(&b, SOTTO_GGUF_ARRAY), u32(&b, SOTTO_GGUF_BOOL), u64(&b, 2);
  u8(&b, 0), u8(&b, 1);
  str(&b, "general.alignment"), u32(&b, SOTTO_GGUF_UINT32), u32(&b, 64);
  int64_t ne_a[2] = {64, 3}, ne_b[1] = {32};
  tinfo(&b, "t.a", 2, ne_a, SOTTO_DTYPE_Q8_0, 0);
  tinfo(&b, "t.b", 1, ne_b, SOTTO_DTYPE_F32, 256);
  pad_to(&b, 64);
  size_t data_start = b.len;
  for (int i = 0; i < 256 + 128; i++) u8(&b, (uint8_t)i);

  sotto_gguf *g = expect(&b, SOTTO_OK, NULL, "every value type");
  if (!g) {
    free(b.p);
    return;
  }
  sotto_error err = {0};
  uint32_t u;
  int64_t i64;
  float fl;
  int bo;
  sotto_gguf_string s;
  CHECK(sotto_gguf_version(g) == 3 && sotto_gguf_alignment(g) == 64, "version and alignment");
  CHECK(sotto_gguf_n_keys(g) == 18 && sotto_gguf_n_tensors(g) == 2, "counts");
  CHECK(str_is(sotto_gguf_key(g, 0), "v.u8") && sotto_gguf_value_type(g, 12) == SOTTO_GGUF_FLOAT64,
        "keys in file order");
  CHECK(sotto_gguf_get_u32(g, "v.u8", &u, &err) == 1 && u == 200, "uint8");
  CHECK(sotto_gguf_get_i64(g, "v.i8", &i64, &err) == 1 && i64 == -5, "int8");
  CHECK(sotto_gguf_get_u32(g, "v.u16", &u, &err) == 1 && u == 0x1234, "uint16");
  CHECK(sotto_gguf_get_i64(g, "v.i16", &i64, &err) == 1 && i64 == -1, "int16");
  CHECK(sotto_gguf_get_u32(g, "v.u32", &u, &err) == 1 && u == 4000000000u, "uint32");
  CHECK(sotto_gguf_get_i64(g, "v.i32", &i64, &err) == 1 && i64 == -70000, "int32");
  CHECK(sotto_gguf_get_f32(g, "v.f32", &fl, &err) == 1 && fl == 0.15625f, "float32");
  CHECK(sotto_gguf_get_bool(g, "v.bool", &bo, &err) == 1 && bo == 1, "bool");
  CHECK(sotto_gguf_get_str(g, "v.str", &s, &err) == 1 && str_is(s, "h\xc3\xa9llo"), "string");
  CHECK(sotto_gguf_get_str(g, "v.empty", &s, &err) == 1 && s.len == 0, "empty string");
  CHECK(sotto_gguf_get_i64(g, "v.i64", &i64, &err) == 1 && i64 == -3, "int64");
  CHECK(sotto_gguf_get_f32(g, "v.f64", &fl, &err) == 1 && fl == (float)-2.5e-300, "float64");
  CHECK(sotto_gguf_get_f32(g, "v.i32", &fl, &err) == 1 && fl == -70000.f, "integer as float");
  /* out of range and wrong types: -1 naming the key; absent: 0 */
  err.message[0] = 0;
  CHECK(sotto_gguf_get_u32(g, "v.i8", &u, &err) == -1 && strstr(err.message, "v.i8") &&
            err.status == SOTTO_BAD_MODEL,
        "negative into uint32 is out of range (%s)", err.message);
  CHECK(sotto_gguf_get_u32(g, "v.u64", &u, &err) == -1, "uint64 too big for uint32");
  CHECK(sotto_gguf_get_i64(g, "v.u64", &i64, &err) == -1, "uint64 above 2^63 for int64");
  CHECK(sotto_gguf_get_str(g, "v.u32", &s, &err) == -1 && strstr(err.message, "uint32"),
        "a uint32 is not a string (%s)", err.message);
  CHECK(sotto_gguf_get_bool(g, "v.u8", &bo, &err) == -1, "a uint8 is not a bool");
  CHECK(sotto_gguf_get_f32(g, "v.str", &fl, &err) == -1, "a string is not a number");
  u = 7;
  CHECK(sotto_gguf_get_u32(g, "missing", &u, &err) == 0 && u == 7, "absent key untouched");
  CHECK(sotto_gguf_find(g, "v.str") == 8 && sotto_gguf_find(g, "v.st") == -1 &&
            sotto_gguf_find(g, "v.strx") == -1,
        "find");
  /* arrays */
  sotto_gguf_type et;
  uint64_t n;
  CHECK(sotto_gguf_get_arr(g, "a.i16", &et, &n, &err) == 1 && et == SOTTO_GGUF_INT16 && n == 3,
        "int16 array");
  CHECK(sotto_gguf_arr_num(g, "a.i16", 0) == 1 && sotto_gguf_arr_num(g, "a.i16", 1) == -2 &&
            sotto_gguf_arr_num(g, "a.i16", 2) == -32768,
        "int16 elements");
  const uint8_t *raw = sotto_gguf_arr_data(g, "a.i16");
  CHECK(raw && raw[0] == 1 && raw[5] == 0x80, "raw array data");
  CHECK(sotto_gguf_get_arr(g, "a.str", &et, &n, &err) == 1 && et == SOTTO_GGUF_STRING && n == 3,
        "string array");
  sotto_gguf_string s2 = sotto_gguf_arr_str(g, "a.str", 2);
  CHECK(str_is(sotto_gguf_arr_str(g, "a.str", 0), "one") &&
            sotto_gguf_arr_str(g, "a.str", 1).len == 0 && s2.len == 6 &&
            memcmp(s2.data, "th\0ree", 6) == 0,
        "string elements (with a NUL inside)");
  CHECK(sotto_gguf_arr_str(g, "a.str", 3).data == NULL && sotto_gguf_arr_data(g, "a.str") == NULL,
        "string array bounds");
  CHECK(sotto_gguf_get_arr(g, "a.empty", &et, &n, &err) == 1 && n == 0, "empty array");
  CHECK(sotto_gguf_arr_num(g, "a.bool", 1) == 1 && sotto_gguf_arr_num(g, "a.bool", 0) == 0,
        "bool array");
  CHECK(sotto_gguf_get_arr(g, "v.u8", &et, &n, &err) == -1, "a scalar is not an array");
  /* tensors in place */
  const sotto_gguf_tensor *ta = sotto_gguf_tensor_find(g, "t.a");
  const sotto_gguf_tensor *tb = sotto_gguf_tensor_at(g, 1);
  CHECK(ta && ta->type == SOTTO_DTYPE_Q8_0 && ta->n_dims == 2 && ta->ne[0] == 64 &&
            ta->ne[1] == 3 && ta->ne[2] == 1 && ta->bytes == 3 * 2 * 34 &&
            ta->data == b.p + data_start,
        "q8_0 tensor info and data in place");
  CHECK(tb && str_is(tb->name, "t.b") && tb->bytes == 128 &&
            tb->data == b.p + data_start + 256 && sotto_gguf_tensor_find(g, "t.c") == NULL &&
            sotto_gguf_tensor_at(g, 2) == NULL,
        "f32 tensor");
  sotto_gguf_close(g);

  /* Truncated at every byte before the end of the last tensor's data. */
  size_t needed = data_start + 256 + 128, bad = 0, silent = 0;
  for (size_t len = 0; len < needed; len++) {
    sotto_error e = {0};
    sotto_gguf *t = sotto_gguf_open(b.p, len, &e);
    if (t || e.status != SOTTO_BAD_MODEL) bad++;
    if (!e.message[0]) silent++;
    sotto_gguf_close(t);
  }
  CHECK(bad == 0 && silent == 0, "%zu truncations not refused as bad_model, %zu without message",
        bad, silent);
  /* Every byte changed: opens or fails with a message, never crashes. */
  size_t odd = 0;
  for (size_t i = 0; i < data_start; i++) {
    for (int v = 0; v < 3; v++) {
      uint8_t keep = b.p[i];
      b.p[i] = v == 0 ? 0xff : v == 1 ? 0 : (uint8_t)(keep ^ 0x41);
      sotto_error e = {0};
      sotto_gguf *t = sotto_gguf_open(b.p, b.len, &e);
      if (!t && (!e.message[0] || (e.status != SOTTO_BAD_MODEL &&
                                   e.status != SOTTO_UNSUPPORTED_MODEL)))
        odd++;
      sotto_gguf_close(t);
      b.p[i] = keep;
    }
  }
  CHECK(odd == 0, "%zu byte changes failed without a bad_model message", odd);
  free(b.p);
}

/* ---- damaged files ---- */

/* A file of one key and the tensors given by the caller's callback. */
static void damaged(void) {
  buf b = {0};
  int64_t ne[4] = {32, 2, 1, 1};
  header(&b, 3, UINT64_MAX, 0);
  expect(&b, SOTTO_BAD_MODEL, "tensors", "2^64-1 tensors");
  b.len = 0, header(&b, 3, 0, (uint64_t)1 << 62);
  expect(&b, SOTTO_BAD_MODEL, "metadata keys", "2^62 keys");
  b.len = 0, put(&b, "GGUF", 4);
  expect(&b, SOTTO_BAD_MODEL, "the header", "magic only");
  b.len = 0, put(&b, "GGML", 4), u32(&b, 3), u64(&b, 0), u64(&b, 0);
  expect(&b, SOTTO_BAD_MODEL, "GGUF", "bad magic");
  b.len = 0, header(&b, 1, 0, 0);
  expect(&b, SOTTO_UNSUPPORTED_MODEL, "version 1", "version 1");
  b.len = 0, header(&b, 4, 0, 0);
  expect(&b, SOTTO_UNSUPPORTED_MODEL, "version 4", "version 4");
  b.len = 0, header(&b, 0x03000000, 0, 0);
  expect(&b, SOTTO_UNSUPPORTED_MODEL, "big-endian", "big-endian");
  b.len = 0, header(&b, 2, 0, 0);
  sotto_gguf *g = expect(&b, SOTTO_OK, NULL, "empty version 2 file");
  sotto_gguf_close(g);

  /* strings */
  b.len = 0, header(&b, 3, 0, 1), u64(&b, UINT64_MAX - 3), u64(&b, 0);
  expect(&b, SOTTO_BAD_MODEL, "metadata key #0", "key of 2^64 bytes");
  b.len = 0, header(&b, 3, 0, 1), str(&b, ""), u32(&b, SOTTO_GGUF_UINT8), u8(&b, 1);
  expect(&b, SOTTO_BAD_MODEL, "empty", "empty key");
  b.len = 0, header(&b, 3, 0, 1), u64(&b, 3), put(&b, "a\0b", 3), u32(&b, 0), u8(&b, 1);
  expect(&b, SOTTO_BAD_MODEL, "NUL", "NUL in a key");
  b.len = 0, header(&b, 3, 0, 1), str(&b, "k"), u32(&b, SOTTO_GGUF_STRING), u64(&b, 1000);
  put(&b, "abc", 3);
  expect(&b, SOTTO_BAD_MODEL, "\"k\"", "string value past the end");
  /* types and arrays */
  b.len = 0, header(&b, 3, 0, 1), str(&b, "k"), u32(&b, 13), u8(&b, 1);
  expect(&b, SOTTO_BAD_MODEL, "unknown type 13", "value type 13");
  b.len = 0, header(&b, 3, 0, 1), str(&b, "k"), u32(&b, SOTTO_GGUF_ARRAY);
  u32(&b, SOTTO_GGUF_ARRAY), u64(&b, 1), u32(&b, SOTTO_GGUF_UINT8), u64(&b, 0);
  expect(&b, SOTTO_BAD_MODEL, "array of arrays", "nested array");
  b.len = 0, header(&b, 3, 0, 1), str(&b, "k"), u32(&b, SOTTO_GGUF_ARRAY);
  u32(&b, SOTTO_GGUF_UINT64), u64(&b, (uint64_t)1 << 61), u64(&b, 0);
  expect(&b, SOTTO_BAD_MODEL, "array of 2305843009213693952 uint64", "2^61 uint64 elements");
  b.len = 0, header(&b, 3, 0, 1), str(&b, "k"), u32(&b, SOTTO_GGUF_ARRAY);
  u32(&b, SOTTO_GGUF_STRING), u64(&b, UINT64_MAX), u64(&b, 0);
  expect(&b, SOTTO_BAD_MODEL, "strings", "2^64 strings");
  b.len = 0, header(&b, 3, 0, 1), str(&b, "k"), u32(&b, SOTTO_GGUF_ARRAY), u32(&b, 99);
  u64(&b, 0);
  expect(&b, SOTTO_BAD_MODEL, "unknown type 99", "array of type 99");
  b.len = 0, header(&b, 3, 0, 2), str(&b, "k"), u32(&b, 0), u8(&b, 1), str(&b, "k"), u32(&b, 0);
  u8(&b, 2);
  expect(&b, SOTTO_BAD_MODEL, "\"k\" appears twice", "duplicate key");
  /* alignment */
  static const struct { uint32_t type, v; const char *msg; } aligns[] = {
      {SOTTO_GGUF_UINT32, 0, "power of two"}, {SOTTO_GGUF_UINT32, 48, "power of two"},
      {SOTTO_GGUF_UINT64, 32, "uint32"}};
  for (int i = 0; i < 3; i++) {
    b.len = 0, header(&b, 3, 0, 1), str(&b, "general.alignment"), u32(&b, aligns[i].type);
    if (aligns[i].type == SOTTO_GGUF_UINT64) u64(&b, aligns[i].v);
    else u32(&b, aligns[i].v);
    expect(&b, SOTTO_BAD_MODEL, aligns[i].msg, "bad alignment");
  }
  /* tensor infos */
  struct { const char *name; int n_dims; int64_t ne0, ne1; uint32_t type; uint64_t off;
           sotto_status st; const char *msg; } cases[] = {
      {"", 1, 32, 1, 0, 0, SOTTO_BAD_MODEL, "empty"},
      {"0123456789012345678901234567890123456789012345678901234567890123", 1, 32, 1, 0, 0,
       SOTTO_BAD_MODEL, "63 bytes"},
      {"t", 0, 32, 1, 0, 0, SOTTO_BAD_MODEL, "0 dimensions"},
      {"t", 5, 32, 1, 0, 0, SOTTO_BAD_MODEL, "5 dimensions"},
      {"t", 2, 32, -1, 0, 0, SOTTO_BAD_MODEL, "negative dimension 1"},
      {"t", 2, (int64_t)1 << 40, (int64_t)1 << 40, 0, 0, SOTTO_BAD_MODEL, "2^63"},
      {"t", 2, (int64_t)1 << 31, (int64_t)1 << 31, 0, 0, SOTTO_BAD_MODEL, "larger than memory"},
      {"t", 2, (int64_t)1 << 20, (int64_t)1 << 20, 0, 0, SOTTO_BAD_MODEL, "runs past the end"},
      {"t", 1, 33, 1, SOTTO_DTYPE_Q8_0, 0, SOTTO_BAD_MODEL, "not a multiple of the q8_0 block"},
      {"t", 1, 256, 1, 11, 0, SOTTO_UNSUPPORTED_MODEL, "q3_K"},
      {"t", 1, 256, 1, 200, 0, SOTTO_UNSUPPORTED_MODEL, "ggml type 200"},
      {"t", 1, 32, 1, 0, 16, SOTTO_BAD_MODEL, "not aligned to 32"},
      {"t", 1, 32, 1, 0, 64, SOTTO_BAD_MODEL, "runs past the end"},
      {"t", 1, 32, 1, 0, UINT64_MAX - 31, SOTTO_BAD_MODEL, "runs past the end"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int64_t cne[5] = {cases[i].ne0, cases[i].ne1, 1, 1, 1};
    b.len = 0, header(&b, 3, 1, 0);
    tinfo(&b, cases[i].name, cases[i].n_dims, cne, cases[i].type, cases[i].off);
    pad_to(&b, 32);
    for (int k = 0; k < 128; k++) u8(&b, 0);
    expect(&b, cases[i].st, cases[i].msg, cases[i].msg);
  }
  /* two tensors: overlap, duplicate name, data section past the end */
  b.len = 0, header(&b, 3, 2, 0);
  tinfo(&b, "a", 2, ne, SOTTO_DTYPE_F32, 256), tinfo(&b, "b", 2, ne, SOTTO_DTYPE_F32, 0);
  pad_to(&b, 32);
  for (int k = 0; k < 512; k++) u8(&b, 0);
  g = expect(&b, SOTTO_OK, NULL, "two tensors, out of order but apart");
  sotto_gguf_close(g);
  b.len = 0, header(&b, 3, 2, 0);
  tinfo(&b, "a", 2, ne, SOTTO_DTYPE_F32, 224), tinfo(&b, "b", 2, ne, SOTTO_DTYPE_F32, 0);
  pad_to(&b, 32);
  for (int k = 0; k < 512; k++) u8(&b, 0);
  expect(&b, SOTTO_BAD_MODEL, "overlap", "overlapping tensors");
  b.len = 0, header(&b, 3, 2, 0);
  tinfo(&b, "a", 2, ne, SOTTO_DTYPE_F32, 0), tinfo(&b, "a", 2, ne, SOTTO_DTYPE_F32, 256);
  pad_to(&b, 32);
  for (int k = 0; k < 512; k++) u8(&b, 0);
  expect(&b, SOTTO_BAD_MODEL, "\"a\" appears twice", "duplicate tensor");
  b.len = 0, header(&b, 3, 1, 0), tinfo(&b, "a", 1, ne, SOTTO_DTYPE_F32, 0);
  expect(&b, SOTTO_BAD_MODEL, "past the end", "no data section");
  /* a tensor of zero elements is allowed (ggml allows it) */
  int64_t zero[2] = {32, 0};
  b.len = 0, header(&b, 3, 1, 0), tinfo(&b, "z", 2, zero, SOTTO_DTYPE_Q4_0, 0), pad_to(&b, 32);
  g = expect(&b, SOTTO_OK, NULL, "zero-size tensor");
  CHECK(g && sotto_gguf_tensor_at(g, 0)->bytes == 0, "zero-size tensor has no bytes");
  sotto_gguf_close(g);
  CHECK(!sotto_gguf_open(NULL, 0, NULL), "NULL buffer");
  free(b.p);
}

/* ---- the writer ---- */

static int sink_buf(void *user, const void *data, size_t len) {
  put(user, data, len);
  return 0;
}
static int sink_fail(void *user, const void *data, size_t len) {
  (void)data, (void)len;
  return --*(int *)user < 0;
}
static int fill_ramp(void *user, int64_t index, void *dst, size_t bytes, sotto_error *err) {
  (void)err;
  for (size_t i = 0; i < bytes; i++) ((uint8_t *)dst)[i] = (uint8_t)(i * 7 + (size_t)index + *(int *)user);
  return 0;
}
static int fill_fail(void *user, int64_t index, void *dst, size_t bytes, sotto_error *err) {
  (void)user, (void)index, (void)dst, (void)bytes;
  return sotto_error_set(err, SOTTO_BAD_MODEL, "source tensor damaged");
}

/* A writer with every kind of value and tensor. */
static sotto_gguf_writer *sample_writer(float *f32, uint8_t *q4k, int *seed) {
  sotto_gguf_writer *w = sotto_gguf_writer_create();
  static const char *const toks[] = {"<s>", "", "hello", "\xe4\xbd\xa0\xe5\xa5\xbd"};
  int32_t ints[5] = {-1, 0, 1, INT32_MAX, INT32_MIN};
  float scores[3] = {0.5f, -1e30f, 3.0f};
  int bad = sotto_gguf_set_str(w, "general.architecture", "llama", 5) ||
            sotto_gguf_set_u32(w, "llama.block_count", 2) ||
            sotto_gguf_set_u32(w, "llama.block_count", 4) || /* replaced */
            sotto_gguf_set_i32(w, "x.i32", -12) || sotto_gguf_set_u64(w, "x.u64", UINT64_MAX) ||
            sotto_gguf_set_f32(w, "x.f32", 1e-5f) || sotto_gguf_set_bool(w, "x.bool", 1) ||
            sotto_gguf_set_str(w, "x.empty", "", 0) ||
            sotto_gguf_set_arr(w, "x.ints", SOTTO_GGUF_INT32, ints, 5) ||
            sotto_gguf_set_arr(w, "x.scores", SOTTO_GGUF_FLOAT32, scores, 3) ||
            sotto_gguf_set_arr(w, "x.none", SOTTO_GGUF_UINT8, NULL, 0) ||
            sotto_gguf_set_arr_str(w, "x.tokens", toks, NULL, 4) ||
            sotto_gguf_set_u32(w, "general.alignment", 64);
  for (int i = 0; i < 96 * 5; i++) f32[i] = (float)i * 0.25f - 7;
  sotto_quantize_row(SOTTO_DTYPE_Q4_K, f32, q4k, 256);
  int64_t ne_f[2] = {96, 5}, ne_q[1] = {256}, ne_h[3] = {32, 2, 3};
  bad = bad || sotto_gguf_add_tensor(w, "a.weight", SOTTO_DTYPE_F32, 2, ne_f, f32, 96 * 5 * 4) ||
        sotto_gguf_add_tensor(w, "b.weight", SOTTO_DTYPE_Q4_K, 1, ne_q, q4k, 144) ||
        sotto_gguf_add_tensor_fill(w, "c.weight", SOTTO_DTYPE_F16, 3, ne_h, fill_ramp, seed);
  CHECK(!bad, "writer calls succeed");
  return w;
}

static void test_writer(void) {
  float f32[96 * 5];
  uint8_t q4k[144];
  int seed = 3;
  sotto_gguf_writer *w = sample_writer(f32, q4k, &seed);
  buf out = {0};
  sotto_error err = {0};
  CHECK(sotto_gguf_write(w, sink_buf, &out, &err) == 0, "write (%s)", err.message);
  sotto_gguf *g = sotto_gguf_open(out.p, out.len, &err);
  CHECK(g != NULL, "what sotto writes, sotto reads (%s)", err.message);
  if (g) {
    uint32_t u;
    int64_t i64;
    float f;
    int bo;
    sotto_gguf_string s;
    sotto_gguf_type et;
    uint64_t n;
    CHECK(sotto_gguf_version(g) == 3 && sotto_gguf_alignment(g) == 64 && sotto_gguf_n_keys(g) == 12,
          "header");
    CHECK(sotto_gguf_get_str(g, "general.architecture", &s, &err) == 1 && str_is(s, "llama"),
          "string");
    CHECK(sotto_gguf_get_u32(g, "llama.block_count", &u, &err) == 1 && u == 4, "replaced value");
    CHECK(sotto_gguf_get_i64(g, "x.i32", &i64, &err) == 1 && i64 == -12, "i32");
    CHECK(sotto_gguf_value_type(g, sotto_gguf_find(g, "x.u64")) == SOTTO_GGUF_UINT64 &&
              sotto_gguf_get_i64(g, "x.u64", &i64, &err) == -1,
          "u64");
    CHECK(sotto_gguf_get_f32(g, "x.f32", &f, &err) == 1 && f == 1e-5f, "f32");
    CHECK(sotto_gguf_get_bool(g, "x.bool", &bo, &err) == 1 && bo, "bool");
    CHECK(sotto_gguf_get_str(g, "x.empty", &s, &err) == 1 && s.len == 0, "empty string");
    CHECK(sotto_gguf_get_arr(g, "x.ints", &et, &n, &err) == 1 && et == SOTTO_GGUF_INT32 && n == 5 &&
              sotto_gguf_arr_num(g, "x.ints", 4) == INT32_MIN,
          "int array");
    CHECK(sotto_gguf_arr_num(g, "x.scores", 1) == -1e30f, "float array");
    CHECK(sotto_gguf_get_arr(g, "x.none", &et, &n, &err) == 1 && n == 0 && et == SOTTO_GGUF_UINT8,
          "empty array");
    CHECK(sotto_gguf_get_arr(g, "x.tokens", &et, &n, &err) == 1 && n == 4 &&
              str_is(sotto_gguf_arr_str(g, "x.tokens", 3), "\xe4\xbd\xa0\xe5\xa5\xbd") &&
              sotto_gguf_arr_str(g, "x.tokens", 1).len == 0,
          "string array");
    const sotto_gguf_tensor *a = sotto_gguf_tensor_find(g, "a.weight");
    const sotto_gguf_tensor *q = sotto_gguf_tensor_find(g, "b.weight");
    const sotto_gguf_tensor *c = sotto_gguf_tensor_find(g, "c.weight");
    CHECK(a && a->n_dims == 2 && a->ne[1] == 5 && memcmp(a->data, f32, sizeof f32) == 0,
          "f32 tensor");
    CHECK(q && q->type == SOTTO_DTYPE_Q4_K && memcmp(q->data, q4k, 144) == 0, "q4_K tensor");
    int ramp_ok = c && c->type == SOTTO_DTYPE_F16 && c->n_dims == 3 && c->bytes == 32 * 6 * 2;
    for (size_t i = 0; ramp_ok && i < c->bytes; i++)
      ramp_ok = ((const uint8_t *)c->data)[i] == (uint8_t)(i * 7 + 2 + 3);
    CHECK(ramp_ok, "filled tensor");
    for (int64_t i = 0; i < 3; i++)
      CHECK(((uintptr_t)sotto_gguf_tensor_at(g, i)->data - (uintptr_t)out.p) % 64 == 0,
            "tensor %d aligned to 64", (int)i);
    CHECK(out.len % 64 == 0, "file padded to the alignment");
    sotto_gguf_close(g);
  }
  /* the sink refuses; a fill fails; bad tensors */
  for (int k = 0; k < 4; k++) {
    int budget = k;
    err.status = SOTTO_OK;
    CHECK(sotto_gguf_write(w, sink_fail, &budget, &err) == -1 && err.status == SOTTO_IO_ERROR,
          "sink failing after %d chunks: io_error", k);
  }
  int64_t ne1[1] = {32};
  sotto_gguf_add_tensor_fill(w, "d.weight", SOTTO_DTYPE_F32, 1, ne1, fill_fail, NULL);
  out.len = 0;
  CHECK(sotto_gguf_write(w, sink_buf, &out, &err) == -1 && err.status == SOTTO_BAD_MODEL &&
            strstr(err.message, "source tensor damaged"),
        "a fill's error stops the write");
  sotto_gguf_writer_free(w);
  struct { const char *name; sotto_dtype t; int64_t ne0; size_t bytes; const char *msg; } bad[] = {
      {"0123456789012345678901234567890123456789012345678901234567890123", SOTTO_DTYPE_F32, 1, 4,
       "1 to 63"},
      {"t", SOTTO_DTYPE_Q8_0, 33, 34, "not a multiple"},
      {"t", SOTTO_DTYPE_F32, 4, 15, "needs 16"},
      {"t", (sotto_dtype)11, 256, 110, "unknown type"},
  };
  static uint8_t zeros[64];
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    w = sotto_gguf_writer_create();
    sotto_gguf_add_tensor(w, bad[i].name, bad[i].t, 1, &bad[i].ne0, zeros, bad[i].bytes);
    CHECK(sotto_gguf_write(w, sink_buf, &out, &err) == -1 && err.status == SOTTO_BAD_REQUEST &&
              strstr(err.message, bad[i].msg),
          "writer refuses: %s (%s)", bad[i].msg, err.message);
    sotto_gguf_writer_free(w);
  }
  w = sotto_gguf_writer_create();
  sotto_gguf_add_tensor(w, "t", SOTTO_DTYPE_F32, 1, ne1, zeros, 128);
  sotto_gguf_add_tensor(w, "t", SOTTO_DTYPE_F32, 1, ne1, zeros, 128);
  CHECK(sotto_gguf_write(w, sink_buf, &out, &err) == -1 && strstr(err.message, "twice"),
        "writer refuses duplicate tensors");
  sotto_gguf_set_u32(w, "general.alignment", 24);
  CHECK(sotto_gguf_write(w, sink_buf, &out, &err) == -1 && strstr(err.message, "power of two"),
        "writer refuses a bad alignment");
  sotto_gguf_writer_free(w);
  free(out.p);
  CHECK(strcmp(sotto_format_detect("GGUF\3\0\0\0", 8), "gguf") == 0, "format registry sniffs gguf");
}

/* ---- against llama.cpp's gguf ---- */

static void test_against_ggml(void) {
  void *h = llama_ref_open("libggml-base.so");
  CHECK(h != NULL, "llama.cpp's libggml-base.so loads");
  if (!h) return;
#define SYM(T, name) T name = LLAMA_REF_SYM(h, T, #name)
  typedef struct gguf_context *(*init_buffer_fn)(const void *, size_t, struct gguf_init_params);
  SYM(init_buffer_fn, gguf_init_from_buffer);
  SYM(gguf_free_fn, gguf_free);
  SYM(gguf_get_n_fn, gguf_get_n_kv);
  SYM(gguf_get_n_fn, gguf_get_n_tensors);
  SYM(gguf_find_fn, gguf_find_key);
  SYM(gguf_get_type_fn, gguf_get_kv_type);
  SYM(gguf_get_type_fn, gguf_get_arr_type);
  SYM(gguf_get_size_fn, gguf_get_arr_n);
  SYM(gguf_get_data_fn, gguf_get_arr_data);
  SYM(gguf_get_data_fn, gguf_get_val_data);
  SYM(gguf_get_val_str_fn, gguf_get_val_str);
  SYM(gguf_get_arr_str_fn, gguf_get_arr_str);
  SYM(gguf_get_name_fn, gguf_get_key);
  SYM(gguf_get_name_fn, gguf_get_tensor_name);
  SYM(gguf_get_type_fn, gguf_get_tensor_type);
  SYM(gguf_get_size_fn, gguf_get_tensor_offset);
  SYM(gguf_get_size_fn, gguf_get_tensor_size);
  SYM(gguf_get_offset_fn, gguf_get_data_offset);
  typedef struct gguf_context *(*init_empty_fn)(void);
  typedef void (*set_u8_fn)(struct gguf_context *, const char *, uint8_t);
  typedef void (*set_i8_fn)(struct gguf_context *, const char *, int8_t);
  typedef void (*set_u16_fn)(struct gguf_context *, const char *, uint16_t);
  typedef void (*set_i16_fn)(struct gguf_context *, const char *, int16_t);
  typedef void (*set_u32_fn)(struct gguf_context *, const char *, uint32_t);
  typedef void (*set_i32_fn)(struct gguf_context *, const char *, int32_t);
  typedef void (*set_f32_fn)(struct gguf_context *, const char *, float);
  typedef void (*set_u64_fn)(struct gguf_context *, const char *, uint64_t);
  typedef void (*set_i64_fn)(struct gguf_context *, const char *, int64_t);
  typedef void (*set_f64_fn)(struct gguf_context *, const char *, double);
  typedef void (*set_bool_fn)(struct gguf_context *, const char *, bool);
  typedef void (*set_str_fn)(struct gguf_context *, const char *, const char *);
  typedef void (*set_arr_fn)(struct gguf_context *, const char *, int, const void *, size_t);
  typedef void (*set_arr_str_fn)(struct gguf_context *, const char *, const char **, size_t);
  typedef bool (*write_fn)(const struct gguf_context *, const char *, bool);
  struct ggml_init_params { size_t mem_size; void *mem_buffer; bool no_alloc; };
  typedef void *(*ggml_init_fn)(struct ggml_init_params);
  typedef void *(*ggml_new_tensor_fn)(void *, int, int, const int64_t *);
  typedef void *(*ggml_set_name_fn)(void *, const char *);
  typedef void *(*ggml_get_data_fn)(const void *);
  typedef void (*ggml_free_fn)(void *);
  typedef void (*add_tensor_fn)(struct gguf_context *, const void *);
  SYM(init_empty_fn, gguf_init_empty);
  SYM(set_u8_fn, gguf_set_val_u8);
  SYM(set_i8_fn, gguf_set_val_i8);
  SYM(set_u16_fn, gguf_set_val_u16);
  SYM(set_i16_fn, gguf_set_val_i16);
  SYM(set_u32_fn, gguf_set_val_u32);
  SYM(set_i32_fn, gguf_set_val_i32);
  SYM(set_f32_fn, gguf_set_val_f32);
  SYM(set_u64_fn, gguf_set_val_u64);
  SYM(set_i64_fn, gguf_set_val_i64);
  SYM(set_f64_fn, gguf_set_val_f64);
  SYM(set_bool_fn, gguf_set_val_bool);
  SYM(set_str_fn, gguf_set_val_str);
  SYM(set_arr_fn, gguf_set_arr_data);
  SYM(set_arr_str_fn, gguf_set_arr_str);
  SYM(write_fn, gguf_write_to_file);
  SYM(ggml_init_fn, ggml_init);
  SYM(ggml_new_tensor_fn, ggml_new_tensor);
  SYM(ggml_set_name_fn, ggml_set_name);
  SYM(ggml_get_data_fn, ggml_get_data);
  SYM(ggml_free_fn, ggml_free);
  SYM(add_tensor_fn, gguf_add_tensor);
#undef SYM
  if (!gguf_init_from_buffer || !gguf_find_key || !gguf_get_arr_str || !gguf_write_to_file ||
      !ggml_new_tensor || !gguf_add_tensor || !gguf_get_tensor_size || !gguf_set_val_f64) {
    CHECK(0, "ggml's gguf functions found");
    return;
  }

  /* 1. ggml reads what sotto writes. */
  float f32[96 * 5];
  uint8_t q4k[144];
  int seed = 1;
  sotto_gguf_writer *w = sample_writer(f32, q4k, &seed);
  buf out = {0};
  sotto_error err = {0};
  sotto_gguf_write(w, sink_buf, &out, &err);
  sotto_gguf_writer_free(w);
  struct gguf_init_params params = {true, NULL};
  struct gguf_context *gc = gguf_init_from_buffer(out.p, out.len, params);
  CHECK(gc != NULL, "ggml's gguf reads what sotto writes");
  sotto_gguf *g = sotto_gguf_open(out.p, out.len, &err);
  if (gc && g) {
    CHECK(gguf_get_n_kv(gc) == sotto_gguf_n_keys(g) && gguf_get_n_tensors(gc) == 3, "counts");
    int64_t k = gguf_find_key(gc, "x.ints");
    CHECK(k >= 0 && gguf_get_kv_type(gc, k) == SOTTO_GGUF_ARRAY &&
              gguf_get_arr_type(gc, k) == SOTTO_GGUF_INT32 && gguf_get_arr_n(gc, k) == 5 &&
              ((const int32_t *)gguf_get_arr_data(gc, k))[4] == INT32_MIN,
          "ggml: int array");
    k = gguf_find_key(gc, "x.tokens");
    CHECK(k >= 0 && gguf_get_arr_n(gc, k) == 4 &&
              strcmp(gguf_get_arr_str(gc, k, 2), "hello") == 0,
          "ggml: string array");
    k = gguf_find_key(gc, "general.architecture");
    CHECK(k >= 0 && strcmp(gguf_get_val_str(gc, k), "llama") == 0, "ggml: string");
    k = gguf_find_key(gc, "x.f32");
    CHECK(k >= 0 && *(const float *)gguf_get_val_data(gc, k) == 1e-5f, "ggml: f32");
    for (int64_t i = 0; i < 3; i++) {
      const sotto_gguf_tensor *t = sotto_gguf_tensor_at(g, i);
      CHECK(strcmp(gguf_get_tensor_name(gc, i), "a.weight") == 0 || i > 0, "ggml: tensor order");
      CHECK(gguf_get_tensor_type(gc, i) == (int)t->type &&
                gguf_get_tensor_size(gc, i) == t->bytes &&
                out.p + gguf_get_data_offset(gc) + gguf_get_tensor_offset(gc, i) ==
                    (const uint8_t *)t->data,
            "ggml: tensor %d where sotto finds it", (int)i);
    }
  }
  if (gc) gguf_free(gc);
  sotto_gguf_close(g);
  free(out.p);

  /* 2. sotto reads what ggml writes: every value type and three tensors. */
  struct gguf_context *wc = gguf_init_empty();
  gguf_set_val_u8(wc, "t.u8", 250);
  gguf_set_val_i8(wc, "t.i8", -100);
  gguf_set_val_u16(wc, "t.u16", 60000);
  gguf_set_val_i16(wc, "t.i16", -30000);
  gguf_set_val_u32(wc, "t.u32", 3000000000u);
  gguf_set_val_i32(wc, "t.i32", -2000000000);
  gguf_set_val_f32(wc, "t.f32", 3.25f);
  gguf_set_val_u64(wc, "t.u64", 1ull << 60);
  gguf_set_val_i64(wc, "t.i64", -(1ll << 60));
  gguf_set_val_f64(wc, "t.f64", 0.1);
  gguf_set_val_bool(wc, "t.bool", true);
  gguf_set_val_str(wc, "t.str", "caf\xc3\xa9");
  const char *strs[3] = {"a", "bb", ""};
  gguf_set_arr_str(wc, "t.strs", strs, 3);
  double f64s[2] = {1.5, -2};
  gguf_set_arr_data(wc, "t.f64s", SOTTO_GGUF_FLOAT64, f64s, 2);
  struct ggml_init_params ip = {1 << 20, NULL, false};
  void *ctx = ggml_init(ip);
  int64_t ne_a[2] = {64, 3}, ne_b[1] = {256}, ne_c[2] = {32, 7};
  void *ta = ggml_new_tensor(ctx, SOTTO_DTYPE_F32, 2, ne_a);
  void *tb = ggml_new_tensor(ctx, SOTTO_DTYPE_Q6_K, 1, ne_b);
  void *tc = ggml_new_tensor(ctx, SOTTO_DTYPE_BF16, 2, ne_c);
  ggml_set_name(ta, "blk.0.attn_q.weight");
  ggml_set_name(tb, "output.weight");
  ggml_set_name(tc, "token_embd.weight");
  for (int i = 0; i < 64 * 3; i++) ((float *)ggml_get_data(ta))[i] = (float)i / 3;
  for (int i = 0; i < 210; i++) ((uint8_t *)ggml_get_data(tb))[i] = (uint8_t)(i * 13);
  for (int i = 0; i < 32 * 7; i++) ((uint16_t *)ggml_get_data(tc))[i] = (uint16_t)(i * 257);
  gguf_add_tensor(wc, ta);
  gguf_add_tensor(wc, tb);
  gguf_add_tensor(wc, tc);
  char path[] = "/tmp/sotto-test-gguf-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0 && gguf_write_to_file(wc, path, false), "ggml writes a GGUF file");
  size_t size = 0;
  FILE *fp = fopen(path, "rb");
  uint8_t *file = NULL;
  if (fp) {
    fseek(fp, 0, SEEK_END);
    size = (size_t)ftell(fp);
    fseek(fp, 0, SEEK_SET);
    file = malloc(size);
    if (fread(file, 1, size, fp) != size) size = 0;
    fclose(fp);
  }
  remove(path);
  g = file ? sotto_gguf_open(file, size, &err) : NULL;
  CHECK(g != NULL, "sotto reads what ggml writes (%s)", err.message);
  if (g) {
    uint32_t u;
    int64_t i64;
    float f;
    int bo;
    sotto_gguf_string s;
    CHECK(sotto_gguf_n_keys(g) == gguf_get_n_kv(wc) && sotto_gguf_n_tensors(g) == 3, "counts");
    for (int64_t i = 0; i < sotto_gguf_n_keys(g); i++)
      CHECK(str_is(sotto_gguf_key(g, i), gguf_get_key(wc, i)) &&
                (int)sotto_gguf_value_type(g, i) == gguf_get_kv_type(wc, i),
            "key %d name and type as ggml's", (int)i);
    CHECK(sotto_gguf_get_u32(g, "t.u8", &u, &err) == 1 && u == 250, "u8");
    CHECK(sotto_gguf_get_i64(g, "t.i8", &i64, &err) == 1 && i64 == -100, "i8");
    CHECK(sotto_gguf_get_u32(g, "t.u16", &u, &err) == 1 && u == 60000, "u16");
    CHECK(sotto_gguf_get_i64(g, "t.i16", &i64, &err) == 1 && i64 == -30000, "i16");
    CHECK(sotto_gguf_get_u32(g, "t.u32", &u, &err) == 1 && u == 3000000000u, "u32");
    CHECK(sotto_gguf_get_i64(g, "t.i32", &i64, &err) == 1 && i64 == -2000000000, "i32");
    CHECK(sotto_gguf_get_f32(g, "t.f32", &f, &err) == 1 && f == 3.25f, "f32");
    CHECK(sotto_gguf_get_i64(g, "t.u64", &i64, &err) == 1 && i64 == 1ll << 60, "u64");
    CHECK(sotto_gguf_get_i64(g, "t.i64", &i64, &err) == 1 && i64 == -(1ll << 60), "i64");
    CHECK(sotto_gguf_get_f32(g, "t.f64", &f, &err) == 1 && f == 0.1f, "f64");
    CHECK(sotto_gguf_get_bool(g, "t.bool", &bo, &err) == 1 && bo, "bool");
    CHECK(sotto_gguf_get_str(g, "t.str", &s, &err) == 1 && str_is(s, "caf\xc3\xa9"), "string");
    CHECK(str_is(sotto_gguf_arr_str(g, "t.strs", 1), "bb") &&
              sotto_gguf_arr_str(g, "t.strs", 2).len == 0,
          "string array");
    CHECK(sotto_gguf_arr_num(g, "t.f64s", 1) == -2, "f64 array");
    void *tensors[3] = {ta, tb, tc};
    for (int i = 0; i < 3; i++) {
      const sotto_gguf_tensor *t = sotto_gguf_tensor_at(g, i);
      CHECK(t && str_is(t->name, gguf_get_tensor_name(wc, i)) &&
                (int)t->type == gguf_get_tensor_type(wc, i) &&
                t->bytes == gguf_get_tensor_size(wc, i) &&
                memcmp(t->data, ggml_get_data(tensors[i]), t->bytes) == 0,
            "tensor %d: name, type and bytes as ggml wrote them", i);
    }
    sotto_gguf_close(g);
  }
  free(file);
  if (fd >= 0) close(fd);
  ggml_free(ctx);
  gguf_free(wc);
  dlclose(h);
}

int main(void) {
  test_value_types();
  damaged();
  test_writer();
  test_against_ggml();
  return check_finish();
}
