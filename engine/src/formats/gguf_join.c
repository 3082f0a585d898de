/*
 * gguf_join.c - one GGUF file from the parts llama.cpp's gguf-split writes
 * (NAME-00001-of-0000N.gguf), planned from the parts' headers alone, so a
 * caller can stream the joined file without holding any part in memory.
 *
 * Each part is a GGUF file of its own (gguf.h) whose metadata carries
 * split.no (0-based), split.count and split.tensors.count, the first part
 * all the model's other metadata too; each holds some of the tensors, laid
 * out as ggml writes them: in the order of their infos, each padded to the
 * alignment. The joined file is the first part's metadata without the split.*
 * keys and every part's tensor infos in part order, written by the GGUF
 * writer (which lays tensors out the same way), then each part's data
 * section as it is: so tensor k of the joined file is byte for byte the
 * tensor of its part. llama.cpp's `gguf-split --merge` writes the same
 * layout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/gguf.h"

#define SPLIT_PREFIX "split."

static int is_split_key(sotto_gguf_string k) {
  return k.len >= sizeof SPLIT_PREFIX - 1 && memcmp(k.data, SPLIT_PREFIX, sizeof SPLIT_PREFIX - 1) == 0;
}

/* Never called: sotto_gguf_write_header writes no tensor data. */
static int no_fill(void *user, int64_t index, void *dst, size_t bytes, sotto_error *err) {
  (void)user, (void)index, (void)dst, (void)bytes;
  return sotto_error_set(err, SOTTO_INTERNAL, "GGUF join: tensor data asked for");
}

typedef struct buf {
  uint8_t *p;
  size_t len, cap;
} buf;

static int buf_put(void *user, const void *data, size_t len) {
  buf *b = user;
  if (b->len + len > b->cap) {
    size_t cap = b->cap ? b->cap : 1 << 16;
    while (cap < b->len + len) cap *= 2;
    uint8_t *q = realloc(b->p, cap);
    if (!q) return -1;
    b->p = q, b->cap = cap;
  }
  memcpy(b->p + b->len, data, len);
  b->len += len;
  return 0;
}

static uint64_t padded(uint64_t n, uint64_t a) { return n + (a - n % a) % a; }

sotto_status sotto_gguf_join(const sotto_file *heads, const uint64_t *sizes, int n,
                             uint8_t **header, size_t *header_len, uint64_t *data_start,
                             uint64_t *pad, sotto_error *err) {
  sotto_error local = {0};
  if (!err) err = &local;
  *header = NULL, *header_len = 0;
  if (n < 1 || n > 9999 || !heads || !sizes) {
    sotto_error_set(err, SOTTO_BAD_REQUEST, "GGUF join: 1 to 9999 parts");
    return err->status;
  }
  sotto_gguf **g = calloc((size_t)n, sizeof *g);
  sotto_gguf_writer *w = sotto_gguf_writer_create();
  buf out = {0};
  int64_t n_tensors = 0;
  size_t alignment = 0;
  if (!g || !w) {
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
    goto done;
  }
  for (int k = 0; k < n; k++) {
    const char *name = heads[k].name ? heads[k].name : "";
    g[k] = sotto_gguf_open_header(heads[k].data, heads[k].size, sizes[k], err);
    if (!g[k]) {
      char m[SOTTO_ERROR_MESSAGE_BYTES];
      snprintf(m, sizeof m, "%s", err->message);
      sotto_error_set(err, err->status, "part %d (%.100s): %s", k + 1, name, m);
      goto done;
    }
    uint32_t no = 0, count = 0;
    if (sotto_gguf_get_u32(g[k], "split.no", &no, err) != 1 ||
        sotto_gguf_get_u32(g[k], "split.count", &count, err) != 1) {
      if (!err->status) sotto_error_set(err, SOTTO_BAD_MODEL, "part %d (%.100s) has no split.no and split.count: not a gguf-split part", k + 1, name);
      goto done;
    }
    if (no != (uint32_t)k || count != (uint32_t)n) {
      sotto_error_set(err, SOTTO_BAD_MODEL, "part %d (%.100s) says it is part %u of %u", k + 1, name, no + 1, count);
      goto done;
    }
    if (k == 0) alignment = sotto_gguf_alignment(g[0]);
    else if (sotto_gguf_alignment(g[k]) != alignment) {
      sotto_error_set(err, SOTTO_BAD_MODEL, "part %d has another alignment than part 1", k + 1);
      goto done;
    }
    /* the tensors as ggml lays them out: in order, each padded */
    uint64_t at = 0;
    for (int64_t i = 0; i < sotto_gguf_n_tensors(g[k]); i++) {
      const sotto_gguf_tensor *t = sotto_gguf_tensor_at(g[k], i);
      if (t->offset != at) {
        sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL, "part %d: tensor %.*s is not where gguf-split puts it", k + 1,
                        (int)t->name.len, t->name.data);
        goto done;
      }
      at = padded(at + t->bytes, alignment);
      char tname[64];
      snprintf(tname, sizeof tname, "%.*s", (int)t->name.len, t->name.data);
      if (sotto_gguf_add_tensor_fill(w, tname, t->type, t->n_dims, t->ne, no_fill, NULL)) {
        sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
        goto done;
      }
      n_tensors++;
    }
    data_start[k] = sotto_gguf_data_offset(g[k]);
    const uint64_t have = sizes[k] - data_start[k];
    /* the last tensor's padding may be missing at the end of a part */
    if (have > at || at - have >= alignment) {
      sotto_error_set(err, SOTTO_BAD_MODEL, "part %d holds %llu bytes of tensor data, its tensors need %llu",
                      k + 1, (unsigned long long)have, (unsigned long long)at);
      goto done;
    }
    pad[k] = at - have;
  }
  uint32_t total = 0;
  if (sotto_gguf_get_u32(g[0], "split.tensors.count", &total, err) == 1 && total != (uint64_t)n_tensors) {
    sotto_error_set(err, SOTTO_BAD_MODEL, "the parts hold %lld tensors, split.tensors.count says %u",
                    (long long)n_tensors, total);
    goto done;
  }
  if (err->status) goto done;
  for (int64_t i = 0; i < sotto_gguf_n_keys(g[0]); i++) {
    if (is_split_key(sotto_gguf_key(g[0], i))) continue;
    if (sotto_gguf_copy_kv(w, g[0], i)) {
      sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
      goto done;
    }
  }
  if (sotto_gguf_write_header(w, buf_put, &out, err) == 0) {
    *header = out.p, *header_len = out.len;
    out.p = NULL;
  }
done:
  for (int k = 0; g && k < n; k++) sotto_gguf_close(g[k]);
  free(g);
  free(out.p);
  sotto_gguf_writer_free(w);
  return err->status;
}
