/*
 * fuzz_gguf.c - libFuzzer target: any byte string handed to the GGUF
 * reader must open or fail with bad_model / unsupported_model and a
 * message, never crash, leak or read outside the buffer. A file that
 * opens keeps the reader's promises: every key readable with every
 * getter, every array element reachable, every tensor's bytes inside the
 * buffer and found again by name; and written again by sotto's writer it
 * reads back the same.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/gguf.h"

static volatile uint32_t sink_sum; /* keeps the reads of values and data */

static int sink_len(void *user, const void *data, size_t len) {
  (void)data;
  *(size_t *)user += len;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* A copy of exactly size bytes, so ASan sees any read past the end. */
  uint8_t *copy = malloc(size ? size : 1);
  if (!copy) return 0;
  memcpy(copy, data, size);
  sotto_error err = {0};
  sotto_gguf *g = sotto_gguf_open(copy, size, &err);
  if (!g) {
    if (!err.message[0] || (err.status != SOTTO_BAD_MODEL && err.status != SOTTO_UNSUPPORTED_MODEL &&
                            err.status != SOTTO_OUT_OF_MEMORY))
      abort();
    free(copy);
    return 0;
  }
  sotto_gguf_writer *w = sotto_gguf_writer_create();
  uint32_t sum = 0;
  for (int64_t i = 0; i < sotto_gguf_n_keys(g); i++) {
    sotto_gguf_string k = sotto_gguf_key(g, i);
    char key[256];
    if (k.len >= sizeof key) continue;
    memcpy(key, k.data, k.len);
    key[k.len] = 0;
    if (sotto_gguf_find(g, key) != i) abort();
    uint32_t u;
    int64_t v;
    float f;
    int b;
    sotto_gguf_string s;
    sotto_gguf_type et;
    uint64_t n;
    sotto_gguf_get_u32(g, key, &u, &err);
    sotto_gguf_get_i64(g, key, &v, &err);
    sotto_gguf_get_f32(g, key, &f, &err);
    sotto_gguf_get_bool(g, key, &b, &err);
    if (sotto_gguf_get_str(g, key, &s, &err) == 1) {
      if (s.len && (s.data < (const char *)copy || s.data + s.len > (const char *)copy + size))
        abort();
      sotto_gguf_set_str(w, key, s.data, s.len);
    }
    if (sotto_gguf_get_arr(g, key, &et, &n, &err) == 1) {
      if (et == SOTTO_GGUF_STRING) {
        for (uint64_t j = 0; j < n; j++) sum += (uint32_t)sotto_gguf_arr_str(g, key, j).len;
        if (sotto_gguf_arr_str(g, key, n).data) abort();
      } else {
        for (uint64_t j = 0; j < n && j < 4096; j++) sum += sotto_gguf_arr_num(g, key, j) > 0;
        if (n && !sotto_gguf_arr_data(g, key)) abort();
      }
    }
  }
  for (int64_t i = 0; i < sotto_gguf_n_tensors(g); i++) {
    const sotto_gguf_tensor *t = sotto_gguf_tensor_at(g, i);
    char name[64];
    memcpy(name, t->name.data, t->name.len);
    name[t->name.len] = 0;
    if (sotto_gguf_tensor_find(g, name) != t) abort();
    if (t->bytes) {
      const uint8_t *p = t->data;
      if (p < copy || p + t->bytes > copy + size) abort();
      sum += p[0] + p[t->bytes - 1];
    }
    sotto_gguf_add_tensor(w, name, t->type, t->n_dims, t->ne, t->data, t->bytes);
  }
  /* What opened is written again without complaint. */
  size_t written = 0;
  if (sotto_gguf_write(w, sink_len, &written, &err) != 0) abort();
  sink_sum += sum;
  sotto_gguf_writer_free(w);
  sotto_gguf_close(g);
  free(copy);
  return 0;
}
