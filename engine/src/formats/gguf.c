/*
 * gguf.c - reads and writes GGUF files (gguf.h; ggml's docs/gguf.md,
 * versions 2 and 3, little-endian).
 *
 * Reading parses the header once, checking everything against the
 * buffer, and keeps pointers into it: metadata values and tensor data
 * are never copied. Lookups by name are binary searches over sorted
 * indexes, so files with hundreds of thousands of keys or tensors (or a
 * fuzzer's idea of one) open in O(n log n).
 *
 * What a file must satisfy (the rules of ggml's gguf.cpp, so what sotto
 * accepts llama.cpp accepts too, plus overlap checks): magic "GGUF";
 * version 2 or 3; no empty or duplicate keys; value types 0..12 and no
 * arrays of arrays; general.alignment, when present, a uint32 power of
 * two; tensor names 1..63 bytes and unique; 1..4 dimensions, none
 * negative, their product and byte size without overflow; rows a whole
 * number of blocks of a type sotto knows; each tensor's data aligned,
 * inside the file and not overlapping another.
 *
 * Writing collects keys and tensors, then streams the file to a sink in
 * llama.cpp's layout: tensors in the order added, each padded to the
 * alignment.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"

#define GGUF_MAX_NAME 64 /* GGML_MAX_NAME: tensor names are shorter */
#define GGUF_MAX_KEY 65535

/* The names of ggml's tensor types, for messages about the ones sotto
 * does not read (ggml.c, type_traits[].type_name). */
static const char *const ggml_type_names[] = {
    "f32",  "f16",     "q4_0",    "q4_1",   "q4_2",  "q4_3",  "q5_0",   "q5_1",  "q8_0",
    "q8_1", "q2_K",    "q3_K",    "q4_K",   "q5_K",  "q6_K",  "q8_K",   "iq2_xxs", "iq2_xs",
    "iq3_xxs", "iq1_s", "iq4_nl", "iq3_s",  "iq2_s", "iq4_xs", "i8",    "i16",   "i32",
    "i64",  "f64",     "iq1_m",   "bf16",   "q4_0_4_4", "q4_0_4_8", "q4_0_8_8", "tq1_0",
    "tq2_0", "iq4_nl_4_4", "iq4_nl_4_8", "iq4_nl_8_8", "mxfp4",
    "nvfp4", "q1_0", "q2_0",
};

static const char *type_name(uint32_t t) {
  return t < sizeof ggml_type_names / sizeof ggml_type_names[0] ? ggml_type_names[t] : "unknown";
}

static const char *const value_type_names[SOTTO_GGUF_TYPE_COUNT] = {
    "uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
    "bool",  "string", "array", "uint64", "int64", "float64"};

/* Bytes of one value of a fixed-size type; 0 for string and array. */
static size_t value_size(sotto_gguf_type t) {
  static const uint8_t sizes[SOTTO_GGUF_TYPE_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
  return (unsigned)t < SOTTO_GGUF_TYPE_COUNT ? sizes[t] : 0;
}

typedef struct kv {
  sotto_gguf_string key;
  sotto_gguf_type type;  /* of the value; SOTTO_GGUF_ARRAY for arrays */
  sotto_gguf_type elem;  /* arrays: the element type */
  uint64_t n;            /* arrays: element count */
  const uint8_t *value;  /* the value (arrays: the first element) */
  sotto_gguf_string *strs; /* arrays of strings: each element */
} kv;

struct sotto_gguf {
  const uint8_t *data;
  size_t size;
  uint32_t version;
  size_t alignment;
  int64_t n_kv, n_tensors;
  kv *kvs;
  sotto_gguf_tensor *tensors;
  int64_t *kv_order, *tensor_order; /* indexes sorted by name */
  uint64_t data_start;              /* where the tensor data begins */
};

/* ---- reading ---- */

typedef struct reader {
  const uint8_t *data;
  size_t size, pos;
  sotto_error *err;
  const char *what; /* what is being read, for messages */
} reader;

static int truncated(reader *r, uint64_t need) {
  return sotto_error_set(r->err, SOTTO_BAD_MODEL,
                         "GGUF: %s at byte %zu needs %" PRIu64 " bytes, but the file ends at %zu",
                         r->what, r->pos, need, r->size);
}

static int take(reader *r, uint64_t n, const uint8_t **out) {
  if (n > r->size - r->pos) return truncated(r, n);
  *out = r->data + r->pos;
  r->pos += (size_t)n;
  return 0;
}

static uint64_t le(const uint8_t *p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

static int read_u32(reader *r, uint32_t *v) {
  const uint8_t *p = NULL;
  if (take(r, 4, &p)) return -1;
  *v = (uint32_t)le(p, 4);
  return 0;
}

static int read_u64(reader *r, uint64_t *v) {
  const uint8_t *p = NULL;
  if (take(r, 8, &p)) return -1;
  *v = le(p, 8);
  return 0;
}

static int read_string(reader *r, sotto_gguf_string *s) {
  uint64_t len;
  size_t at = r->pos;
  if (read_u64(r, &len)) return -1;
  if (len > r->size - r->pos)
    return sotto_error_set(r->err, SOTTO_BAD_MODEL,
                           "GGUF: %s at byte %zu is a string of %" PRIu64
                           " bytes, but only %zu bytes follow",
                           r->what, at, len, r->size - r->pos);
  const uint8_t *p = NULL;
  take(r, len, &p);
  s->data = (const char *)p, s->len = len;
  return 0;
}

static int str_cmp(sotto_gguf_string a, sotto_gguf_string b) {
  int c = memcmp(a.data, b.data, a.len < b.len ? a.len : b.len);
  return c ? c : (a.len > b.len) - (a.len < b.len);
}

/* Reads a value of type t (the array header already read for arrays). */
static int read_value(reader *r, kv *e) {
  if (e->type == SOTTO_GGUF_ARRAY) {
    uint32_t elem;
    size_t at = r->pos;
    if (read_u32(r, &elem) || read_u64(r, &e->n)) return -1;
    if (elem >= SOTTO_GGUF_TYPE_COUNT)
      return sotto_error_set(r->err, SOTTO_BAD_MODEL,
                             "GGUF: %s at byte %zu is an array of unknown type %" PRIu32, r->what,
                             at, elem);
    if (elem == SOTTO_GGUF_ARRAY)
      return sotto_error_set(r->err, SOTTO_BAD_MODEL,
                             "GGUF: %s at byte %zu is an array of arrays, which GGUF does not allow",
                             r->what, at);
    e->elem = (sotto_gguf_type)elem;
    e->value = r->data + r->pos;
    if (e->elem != SOTTO_GGUF_STRING) {
      size_t sz = value_size(e->elem);
      if (e->n > (r->size - r->pos) / sz)
        return sotto_error_set(r->err, SOTTO_BAD_MODEL,
                               "GGUF: %s at byte %zu is an array of %" PRIu64
                               " %s values, more than the %zu bytes left hold",
                               r->what, at, e->n, value_type_names[elem], r->size - r->pos);
      r->pos += (size_t)e->n * sz;
      return 0;
    }
    /* Each string takes at least its 8-byte length. */
    if (e->n > (r->size - r->pos) / 8)
      return sotto_error_set(r->err, SOTTO_BAD_MODEL,
                             "GGUF: %s at byte %zu is an array of %" PRIu64
                             " strings, more than the %zu bytes left hold",
                             r->what, at, e->n, r->size - r->pos);
    e->strs = malloc((size_t)(e->n ? e->n : 1) * sizeof *e->strs);
    if (!e->strs) return sotto_error_set(r->err, SOTTO_OUT_OF_MEMORY, "GGUF: out of memory");
    for (uint64_t i = 0; i < e->n; i++)
      if (read_string(r, &e->strs[i])) return -1;
    return 0;
  }
  e->value = r->data + r->pos;
  if (e->type == SOTTO_GGUF_STRING) {
    sotto_gguf_string s;
    return read_string(r, &s);
  }
  const uint8_t *p = NULL;
  return take(r, value_size(e->type), &p);
}

/* Sorts idx[0..n) with cmp (a stable merge sort: qsort has no context
 * argument, and the reader must stay thread-safe). */
typedef int (*idx_cmp)(const void *ctx, int64_t a, int64_t b);
static void merge_sort(int64_t *idx, int64_t *tmp, int64_t n, idx_cmp cmp, const void *ctx) {
  if (n < 2) return;
  int64_t h = n / 2, i = 0, j = h, k = 0;
  merge_sort(idx, tmp, h, cmp, ctx);
  merge_sort(idx + h, tmp, n - h, cmp, ctx);
  while (i < h && j < n) tmp[k++] = cmp(ctx, idx[j], idx[i]) < 0 ? idx[j++] : idx[i++];
  while (i < h) tmp[k++] = idx[i++];
  while (j < n) tmp[k++] = idx[j++];
  memcpy(idx, tmp, (size_t)n * sizeof *idx);
}

/* 0..n-1 sorted by cmp; NULL when out of memory. */
static int64_t *sorted(int64_t n, idx_cmp cmp, const void *ctx) {
  int64_t *idx = malloc((size_t)(n ? n : 1) * sizeof *idx);
  int64_t *tmp = malloc((size_t)(n ? n : 1) * sizeof *tmp);
  if (idx && tmp) {
    for (int64_t i = 0; i < n; i++) idx[i] = i;
    merge_sort(idx, tmp, n, cmp, ctx);
  } else {
    free(idx), idx = NULL;
  }
  free(tmp);
  return idx;
}

typedef sotto_gguf_string (*name_fn)(const sotto_gguf *g, int64_t i);
static sotto_gguf_string kv_name(const sotto_gguf *g, int64_t i) { return g->kvs[i].key; }
static sotto_gguf_string tensor_name(const sotto_gguf *g, int64_t i) { return g->tensors[i].name; }
static int cmp_kv(const void *g, int64_t a, int64_t b) {
  return str_cmp(kv_name(g, a), kv_name(g, b));
}
static int cmp_tensor(const void *g, int64_t a, int64_t b) {
  return str_cmp(tensor_name(g, a), tensor_name(g, b));
}
static int cmp_offset(const void *offsets, int64_t a, int64_t b) {
  uint64_t x = ((const uint64_t *)offsets)[a], y = ((const uint64_t *)offsets)[b];
  return (x > y) - (x < y);
}

/* The first of two equal neighbours in a sorted index, or -1. */
static int64_t duplicate(const sotto_gguf *g, const int64_t *idx, int64_t n, name_fn name) {
  for (int64_t i = 1; i < n; i++)
    if (!str_cmp(name(g, idx[i - 1]), name(g, idx[i]))) return idx[i];
  return -1;
}

static int64_t search(const sotto_gguf *g, const int64_t *idx, int64_t n, name_fn name,
                      const char *s) {
  if (!s) return -1;
  sotto_gguf_string key = {s, strlen(s)};
  int64_t lo = 0, hi = n;
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    int c = str_cmp(name(g, idx[mid]), key);
    if (c == 0) return idx[mid];
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return -1;
}

int sotto_gguf_sniff(const uint8_t *data, size_t size) {
  return size >= 4 && memcmp(data, SOTTO_GGUF_MAGIC, 4) == 0;
}

static int read_header(sotto_gguf *g, reader *r) {
  uint32_t version;
  uint64_t n_tensors, n_kv;
  r->what = "the header";
  if (!sotto_gguf_sniff(r->data, r->size))
    return sotto_error_set(r->err, SOTTO_BAD_MODEL, "GGUF: the file does not start with \"GGUF\"");
  r->pos = 4;
  if (read_u32(r, &version)) return -1;
  if (version == 1)
    return sotto_error_set(r->err, SOTTO_UNSUPPORTED_MODEL,
                           "GGUF: version 1 files are not supported (convert them again)");
  if ((version & 0xffff) == 0 && version)
    return sotto_error_set(r->err, SOTTO_UNSUPPORTED_MODEL,
                           "GGUF: the file is big-endian (version field 0x%08" PRIx32
                           "); sotto reads little-endian GGUF",
                           version);
  if (version != 2 && version != 3)
    return sotto_error_set(r->err, SOTTO_UNSUPPORTED_MODEL,
                           "GGUF: version %" PRIu32 " is not supported (2 and 3 are)", version);
  if (read_u64(r, &n_tensors) || read_u64(r, &n_kv)) return -1;
  /* Each key takes at least 12 bytes, each tensor info at least 32. */
  if (n_kv > (r->size - r->pos) / 12)
    return sotto_error_set(r->err, SOTTO_BAD_MODEL,
                           "GGUF: the header announces %" PRIu64
                           " metadata keys, more than the file's %zu bytes can hold",
                           n_kv, r->size);
  if (n_tensors > (r->size - r->pos) / 32)
    return sotto_error_set(r->err, SOTTO_BAD_MODEL,
                           "GGUF: the header announces %" PRIu64
                           " tensors, more than the file's %zu bytes can hold",
                           n_tensors, r->size);
  g->version = version;
  g->n_kv = (int64_t)n_kv;
  g->n_tensors = (int64_t)n_tensors;
  return 0;
}

static int read_metadata(sotto_gguf *g, reader *r) {
  char what[160];
  g->kvs = calloc((size_t)(g->n_kv ? g->n_kv : 1), sizeof *g->kvs);
  if (!g->kvs) return sotto_error_set(r->err, SOTTO_OUT_OF_MEMORY, "GGUF: out of memory");
  for (int64_t i = 0; i < g->n_kv; i++) {
    kv *e = &g->kvs[i];
    snprintf(what, sizeof what, "the name of metadata key #%" PRId64, i);
    r->what = what;
    size_t at = r->pos;
    if (read_string(r, &e->key)) return -1;
    if (e->key.len == 0 || e->key.len > GGUF_MAX_KEY || memchr(e->key.data, 0, e->key.len))
      return sotto_error_set(r->err, SOTTO_BAD_MODEL,
                             "GGUF: metadata key #%" PRId64 " at byte %zu has a bad name (%s)", i,
                             at,
                             e->key.len == 0 ? "empty"
                             : e->key.len > GGUF_MAX_KEY ? "over 65535 bytes"
                                                         : "contains a NUL byte");
    snprintf(what, sizeof what, "the value of \"%.*s\"", (int)(e->key.len < 100 ? e->key.len : 100),
             e->key.data);
    uint32_t type;
    at = r->pos;
    if (read_u32(r, &type)) return -1;
    if (type >= SOTTO_GGUF_TYPE_COUNT)
      return sotto_error_set(r->err, SOTTO_BAD_MODEL, "GGUF: %s at byte %zu has unknown type %" PRIu32,
                             what, at, type);
    e->type = (sotto_gguf_type)type;
    if (read_value(r, e)) return -1;
  }
  g->kv_order = sorted(g->n_kv, cmp_kv, g);
  if (!g->kv_order) return sotto_error_set(r->err, SOTTO_OUT_OF_MEMORY, "GGUF: out of memory");
  int64_t dup = duplicate(g, g->kv_order, g->n_kv, kv_name);
  if (dup >= 0)
    return sotto_error_set(r->err, SOTTO_BAD_MODEL, "GGUF: metadata key \"%.*s\" appears twice",
                           (int)(g->kvs[dup].key.len < 200 ? g->kvs[dup].key.len : 200),
                           g->kvs[dup].key.data);
  g->alignment = SOTTO_GGUF_DEFAULT_ALIGNMENT;
  int64_t a = sotto_gguf_find(g, "general.alignment");
  if (a >= 0) {
    if (g->kvs[a].type != SOTTO_GGUF_UINT32)
      return sotto_error_set(r->err, SOTTO_BAD_MODEL,
                             "GGUF: general.alignment must be a uint32, not a %s",
                             value_type_names[g->kvs[a].type]);
    uint32_t v = (uint32_t)le(g->kvs[a].value, 4);
    if (v == 0 || (v & (v - 1)))
      return sotto_error_set(r->err, SOTTO_BAD_MODEL,
                             "GGUF: general.alignment %" PRIu32 " is not a power of two", v);
    g->alignment = v;
  }
  return 0;
}

/* Tensor infos; offsets are checked once the data section is known. */
static int read_tensor_infos(sotto_gguf *g, reader *r, uint64_t *offsets) {
  char what[96];
  g->tensors = calloc((size_t)(g->n_tensors ? g->n_tensors : 1), sizeof *g->tensors);
  if (!g->tensors) return sotto_error_set(r->err, SOTTO_OUT_OF_MEMORY, "GGUF: out of memory");
  for (int64_t i = 0; i < g->n_tensors; i++) {
    sotto_gguf_tensor *t = &g->tensors[i];
    snprintf(what, sizeof what, "tensor info #%" PRId64, i);
    r->what = what;
    size_t at = r->pos;
    if (read_string(r, &t->name)) return -1;
    int nl = (int)(t->name.len < 100 ? t->name.len : 100);
    const char *nm = t->name.data;
    if (t->name.len == 0 || t->name.len >= GGUF_MAX_NAME || memchr(nm, 0, t->name.len))
      return sotto_error_set(r->err, SOTTO_BAD_MODEL,
                             "GGUF: tensor #%" PRId64 " at byte %zu has a bad name \"%.*s\" (%s)", i,
                             at, nl, nm,
                             t->name.len == 0             ? "empty"
                             : t->name.len >= GGUF_MAX_NAME ? "63 bytes at most"
                                                            : "contains a NUL byte");
    uint32_t n_dims, type;
    if (read_u32(r, &n_dims)) return -1;
    if (n_dims < 1 || n_dims > SOTTO_GGUF_MAX_DIMS)
      return sotto_error_set(r->err, SOTTO_BAD_MODEL,
                             "GGUF: tensor \"%.*s\" has %" PRIu32 " dimensions (1 to 4 allowed)", nl,
                             nm, n_dims);
    t->n_dims = (int)n_dims;
    uint64_t elems = 1;
    for (int d = 0; d < SOTTO_GGUF_MAX_DIMS; d++) {
      uint64_t ne = 1;
      if (d < t->n_dims && read_u64(r, &ne)) return -1;
      if (ne > INT64_MAX)
        return sotto_error_set(r->err, SOTTO_BAD_MODEL,
                               "GGUF: tensor \"%.*s\" has a negative dimension %d", nl, nm, d);
      if (ne && elems > INT64_MAX / ne)
        return sotto_error_set(r->err, SOTTO_BAD_MODEL,
                               "GGUF: tensor \"%.*s\" has more than 2^63 elements", nl, nm);
      elems *= ne;
      t->ne[d] = (int64_t)ne;
    }
    if (read_u32(r, &type) || read_u64(r, &offsets[i])) return -1;
    const sotto_dtype_info *info = sotto_dtype_get(type);
    if (!info)
      return sotto_error_set(r->err, SOTTO_UNSUPPORTED_MODEL,
                             "GGUF: tensor \"%.*s\" has type %s (ggml type %" PRIu32
                             "), which sotto does not support",
                             nl, nm, type_name(type), type);
    t->type = (sotto_dtype)type;
    if (t->ne[0] % info->block)
      return sotto_error_set(r->err, SOTTO_BAD_MODEL,
                             "GGUF: tensor \"%.*s\" has rows of %" PRId64
                             " values, not a multiple of the %s block (%d)",
                             nl, nm, t->ne[0], info->name, info->block);
    uint64_t rows = elems && t->ne[0] ? elems / (uint64_t)t->ne[0] : 0;
    uint64_t row_bytes = (uint64_t)(t->ne[0] / info->block) * info->bytes;
    if (rows && row_bytes > SIZE_MAX / rows)
      return sotto_error_set(r->err, SOTTO_BAD_MODEL,
                             "GGUF: tensor \"%.*s\" is larger than memory can address", nl, nm);
    t->bytes = (size_t)(rows * row_bytes);
  }
  g->tensor_order = sorted(g->n_tensors, cmp_tensor, g);
  if (!g->tensor_order) return sotto_error_set(r->err, SOTTO_OUT_OF_MEMORY, "GGUF: out of memory");
  int64_t dup = duplicate(g, g->tensor_order, g->n_tensors, tensor_name);
  if (dup >= 0)
    return sotto_error_set(r->err, SOTTO_BAD_MODEL, "GGUF: tensor \"%.*s\" appears twice",
                           (int)g->tensors[dup].name.len, g->tensors[dup].name.data);
  return 0;
}

/* Places each tensor in the data section: aligned, inside, no overlap. A
 * header-only open (file_size > 0) checks against the file's size and
 * leaves the data pointers NULL. */
static int place_tensors(sotto_gguf *g, reader *r, uint64_t *offsets, uint64_t file_size) {
  uint64_t start = r->pos;
  if (start % g->alignment) start += g->alignment - start % g->alignment;
  g->data_start = start;
  if (g->n_tensors == 0) return 0;
  const uint64_t end = file_size ? file_size : r->size;
  if (start > end)
    return sotto_error_set(r->err, SOTTO_BAD_MODEL,
                           "GGUF: the tensor data should start at byte %" PRIu64 ", past the end of the "
                           "file (%" PRIu64 " bytes)",
                           start, end);
  uint64_t avail = end - start;
  int64_t *by_offset = sorted(g->n_tensors, cmp_offset, offsets);
  if (!by_offset) return sotto_error_set(r->err, SOTTO_OUT_OF_MEMORY, "GGUF: out of memory");
  int rc = 0;
  for (int64_t k = 0; k < g->n_tensors && !rc; k++) {
    int64_t i = by_offset[k];
    sotto_gguf_tensor *t = &g->tensors[i];
    int nl = (int)t->name.len;
    if (offsets[i] % g->alignment)
      rc = sotto_error_set(r->err, SOTTO_BAD_MODEL,
                           "GGUF: tensor \"%.*s\" at data offset %" PRIu64
                           " is not aligned to %zu bytes",
                           nl, t->name.data, offsets[i], g->alignment);
    else if (offsets[i] > avail || t->bytes > avail - offsets[i])
      rc = sotto_error_set(r->err, SOTTO_BAD_MODEL,
                           "GGUF: tensor \"%.*s\" (%zu bytes at data offset %" PRIu64
                           ") runs past the end of the file (%" PRIu64 " bytes of data)",
                           nl, t->name.data, t->bytes, offsets[i], avail);
    else if (k > 0) {
      const sotto_gguf_tensor *p = &g->tensors[by_offset[k - 1]];
      if (offsets[by_offset[k - 1]] + p->bytes > offsets[i])
        rc = sotto_error_set(r->err, SOTTO_BAD_MODEL,
                             "GGUF: tensors \"%.*s\" and \"%.*s\" overlap in the file",
                             (int)p->name.len, p->name.data, nl, t->name.data);
    }
    t->offset = offsets[i];
    if (!rc && !file_size) t->data = r->data + start + offsets[i];
  }
  free(by_offset);
  return rc;
}

static sotto_gguf *gguf_open(const uint8_t *data, size_t size, uint64_t file_size,
                             sotto_error *err) {
  sotto_gguf *g = calloc(1, sizeof *g);
  reader r = {data, data ? size : 0, 0, err, "the header"};
  uint64_t *offsets = NULL;
  if (!g) {
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "GGUF: out of memory");
    return NULL;
  }
  g->data = data, g->size = r.size;
  if (read_header(g, &r) || read_metadata(g, &r)) goto fail;
  offsets = malloc((size_t)(g->n_tensors ? g->n_tensors : 1) * sizeof *offsets);
  if (!offsets) {
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "GGUF: out of memory");
    goto fail;
  }
  if (read_tensor_infos(g, &r, offsets) || place_tensors(g, &r, offsets, file_size)) goto fail;
  free(offsets);
  return g;
fail:
  free(offsets);
  sotto_gguf_close(g);
  return NULL;
}

sotto_gguf *sotto_gguf_open(const uint8_t *data, size_t size, sotto_error *err) {
  return gguf_open(data, size, 0, err);
}

sotto_gguf *sotto_gguf_open_header(const uint8_t *data, size_t size, uint64_t file_size,
                                   sotto_error *err) {
  if (size > file_size) size = (size_t)file_size;
  sotto_gguf *g = gguf_open(data, size, file_size, err);
  /* what does not fit in a prefix may fit in the file: ask for more */
  if (!g && err && err->status == SOTTO_BAD_MODEL && size < file_size)
    sotto_error_set(err, SOTTO_TRUNCATED, "GGUF: the header does not end in the first %zu bytes",
                    size);
  return g;
}

uint64_t sotto_gguf_data_offset(const sotto_gguf *g) { return g->data_start; }

void sotto_gguf_close(sotto_gguf *g) {
  if (!g) return;
  for (int64_t i = 0; g->kvs && i < g->n_kv; i++) free(g->kvs[i].strs);
  free(g->kvs);
  free(g->tensors);
  free(g->kv_order);
  free(g->tensor_order);
  free(g);
}

uint32_t sotto_gguf_version(const sotto_gguf *g) { return g->version; }
size_t sotto_gguf_alignment(const sotto_gguf *g) { return g->alignment; }

/* ---- metadata ---- */

int64_t sotto_gguf_n_keys(const sotto_gguf *g) { return g->n_kv; }

int64_t sotto_gguf_find(const sotto_gguf *g, const char *key) {
  return search(g, g->kv_order, g->n_kv, kv_name, key);
}

sotto_gguf_string sotto_gguf_key(const sotto_gguf *g, int64_t i) {
  sotto_gguf_string none = {NULL, 0};
  return i >= 0 && i < g->n_kv ? g->kvs[i].key : none;
}

sotto_gguf_type sotto_gguf_value_type(const sotto_gguf *g, int64_t i) {
  return i >= 0 && i < g->n_kv ? g->kvs[i].type : SOTTO_GGUF_TYPE_COUNT;
}

static int is_int(sotto_gguf_type t) {
  return t <= SOTTO_GGUF_INT32 || t == SOTTO_GGUF_UINT64 || t == SOTTO_GGUF_INT64;
}
static int is_signed(sotto_gguf_type t) {
  return t == SOTTO_GGUF_INT8 || t == SOTTO_GGUF_INT16 || t == SOTTO_GGUF_INT32 ||
         t == SOTTO_GGUF_INT64;
}

/* One numeric value of type t at p, as int64 (integers; *big for a uint64
 * above INT64_MAX) or double. */
static int64_t int_at(sotto_gguf_type t, const uint8_t *p, int *big) {
  size_t n = value_size(t);
  uint64_t v = le(p, (int)n);
  *big = 0;
  if (is_signed(t) && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~(uint64_t)0 << (8 * n);
  if (t == SOTTO_GGUF_UINT64 && v > INT64_MAX) *big = 1;
  return (int64_t)v;
}

static double num_at(sotto_gguf_type t, const uint8_t *p) {
  int big;
  if (t == SOTTO_GGUF_FLOAT32) {
    uint32_t u = (uint32_t)le(p, 4);
    float f;
    memcpy(&f, &u, 4);
    return f;
  }
  if (t == SOTTO_GGUF_FLOAT64) {
    uint64_t u = le(p, 8);
    double d;
    memcpy(&d, &u, 8);
    return d;
  }
  if (t == SOTTO_GGUF_BOOL) return p[0] != 0;
  int64_t v = int_at(t, p, &big);
  return big ? (double)(uint64_t)v : (double)v;
}

/* The entry of key, or NULL (0 returned) when absent; -1 with *err when
 * its type is not accepted by ok(). */
static int lookup(const sotto_gguf *g, const char *key, int (*ok)(sotto_gguf_type),
                  const char *want, const kv **out, sotto_error *err) {
  int64_t i = sotto_gguf_find(g, key);
  if (i < 0) return 0;
  if (!ok(g->kvs[i].type))
    return sotto_error_set(err, SOTTO_BAD_MODEL, "GGUF: %.200s should be %s, not a %s", key, want,
                           value_type_names[g->kvs[i].type]);
  *out = &g->kvs[i];
  return 1;
}

static int get_int(const sotto_gguf *g, const char *key, int64_t lo, int64_t hi, int64_t *out,
                   sotto_error *err) {
  const kv *e = NULL;
  int rc = lookup(g, key, is_int, "an integer", &e, err);
  if (rc <= 0) return rc;
  int big;
  int64_t v = int_at(e->type, e->value, &big);
  if (big || v < lo || v > hi)
    return sotto_error_set(err, SOTTO_BAD_MODEL, "GGUF: %.200s = %s%" PRId64 " is out of range",
                           key, big ? "(over 2^63) " : "", v);
  *out = v;
  return 1;
}

int sotto_gguf_get_u32(const sotto_gguf *g, const char *key, uint32_t *out, sotto_error *err) {
  int64_t v = 0;
  int rc = get_int(g, key, 0, UINT32_MAX, &v, err);
  if (rc == 1) *out = (uint32_t)v;
  return rc;
}

int sotto_gguf_get_i64(const sotto_gguf *g, const char *key, int64_t *out, sotto_error *err) {
  return get_int(g, key, INT64_MIN, INT64_MAX, out, err);
}

static int is_number(sotto_gguf_type t) {
  return is_int(t) || t == SOTTO_GGUF_FLOAT32 || t == SOTTO_GGUF_FLOAT64;
}

int sotto_gguf_get_f32(const sotto_gguf *g, const char *key, float *out, sotto_error *err) {
  const kv *e = NULL;
  int rc = lookup(g, key, is_number, "a number", &e, err);
  if (rc == 1) *out = (float)num_at(e->type, e->value);
  return rc;
}

static int is_bool(sotto_gguf_type t) { return t == SOTTO_GGUF_BOOL; }

int sotto_gguf_get_bool(const sotto_gguf *g, const char *key, int *out, sotto_error *err) {
  const kv *e = NULL;
  int rc = lookup(g, key, is_bool, "a bool", &e, err);
  if (rc == 1) *out = e->value[0] != 0;
  return rc;
}

static int is_string(sotto_gguf_type t) { return t == SOTTO_GGUF_STRING; }

int sotto_gguf_get_str(const sotto_gguf *g, const char *key, sotto_gguf_string *out,
                       sotto_error *err) {
  const kv *e = NULL;
  int rc = lookup(g, key, is_string, "a string", &e, err);
  if (rc == 1) out->len = le(e->value, 8), out->data = (const char *)e->value + 8;
  return rc;
}

static int is_array(sotto_gguf_type t) { return t == SOTTO_GGUF_ARRAY; }

int sotto_gguf_get_arr(const sotto_gguf *g, const char *key, sotto_gguf_type *elem, uint64_t *n,
                       sotto_error *err) {
  const kv *e = NULL;
  int rc = lookup(g, key, is_array, "an array", &e, err);
  if (rc == 1) *elem = e->elem, *n = e->n;
  return rc;
}

static const kv *array_of(const sotto_gguf *g, const char *key, uint64_t i) {
  int64_t k = sotto_gguf_find(g, key);
  if (k < 0 || g->kvs[k].type != SOTTO_GGUF_ARRAY || i >= g->kvs[k].n) return NULL;
  return &g->kvs[k];
}

double sotto_gguf_arr_num(const sotto_gguf *g, const char *key, uint64_t i) {
  const kv *e = array_of(g, key, i);
  if (!e || (!is_number(e->elem) && e->elem != SOTTO_GGUF_BOOL)) return 0;
  return num_at(e->elem, e->value + i * value_size(e->elem));
}

sotto_gguf_string sotto_gguf_arr_str(const sotto_gguf *g, const char *key, uint64_t i) {
  const kv *e = array_of(g, key, i);
  sotto_gguf_string none = {NULL, 0};
  return e && e->elem == SOTTO_GGUF_STRING ? e->strs[i] : none;
}

const void *sotto_gguf_arr_data(const sotto_gguf *g, const char *key) {
  int64_t k = sotto_gguf_find(g, key);
  if (k < 0 || g->kvs[k].type != SOTTO_GGUF_ARRAY || !value_size(g->kvs[k].elem)) return NULL;
  return g->kvs[k].value;
}

/* ---- tensors ---- */

int64_t sotto_gguf_n_tensors(const sotto_gguf *g) { return g->n_tensors; }

const sotto_gguf_tensor *sotto_gguf_tensor_at(const sotto_gguf *g, int64_t i) {
  return i >= 0 && i < g->n_tensors ? &g->tensors[i] : NULL;
}

const sotto_gguf_tensor *sotto_gguf_tensor_find(const sotto_gguf *g, const char *name) {
  int64_t i = search(g, g->tensor_order, g->n_tensors, tensor_name, name);
  return i < 0 ? NULL : &g->tensors[i];
}

/* ---- writing ---- */

typedef struct wkv {
  char *key;
  sotto_gguf_type type, elem;
  uint64_t n;
  uint8_t *bytes; /* the value as it goes into the file (arrays: after type and count) */
  size_t len;
} wkv;

typedef struct wtensor {
  char *name;
  sotto_dtype type;
  int n_dims;
  int64_t ne[SOTTO_GGUF_MAX_DIMS];
  const void *data;
  size_t bytes;
  sotto_gguf_fill fill;
  void *user;
} wtensor;

struct sotto_gguf_writer {
  wkv *kvs;
  int64_t n_kv, cap_kv;
  wtensor *tensors;
  int64_t n_tensors, cap_tensors;
};

sotto_gguf_writer *sotto_gguf_writer_create(void) { return calloc(1, sizeof(sotto_gguf_writer)); }

void sotto_gguf_writer_free(sotto_gguf_writer *w) {
  if (!w) return;
  for (int64_t i = 0; i < w->n_kv; i++) free(w->kvs[i].key), free(w->kvs[i].bytes);
  for (int64_t i = 0; i < w->n_tensors; i++) free(w->tensors[i].name);
  free(w->kvs);
  free(w->tensors);
  free(w);
}

static int grow(void **p, int64_t *cap, int64_t need, size_t size) {
  if (need <= *cap) return 0;
  int64_t c = *cap ? *cap * 2 : 16;
  while (c < need) c *= 2;
  void *q = realloc(*p, (size_t)c * size);
  if (!q) return -1;
  *p = q, *cap = c;
  return 0;
}

/* Sets key to a value whose file bytes are bytes[0..len), taking them. */
static int set_kv(sotto_gguf_writer *w, const char *key, sotto_gguf_type type,
                  sotto_gguf_type elem, uint64_t n, uint8_t *bytes, size_t len) {
  if (!w || !key) return free(bytes), -1;
  wkv *e = NULL;
  for (int64_t i = 0; i < w->n_kv && !e; i++)
    if (strcmp(w->kvs[i].key, key) == 0) e = &w->kvs[i];
  if (!e) {
    char *k = strdup(key);
    if (!k || grow((void **)&w->kvs, &w->cap_kv, w->n_kv + 1, sizeof *w->kvs))
      return free(k), free(bytes), -1;
    e = &w->kvs[w->n_kv++];
    e->key = k;
  } else {
    free(e->bytes);
  }
  e->type = type, e->elem = elem, e->n = n, e->bytes = bytes, e->len = len;
  return 0;
}

static int set_fixed(sotto_gguf_writer *w, const char *key, sotto_gguf_type type, uint64_t v) {
  size_t n = value_size(type);
  uint8_t *b = malloc(n);
  if (!b) return -1;
  for (size_t i = 0; i < n; i++) b[i] = (uint8_t)(v >> (8 * i));
  return set_kv(w, key, type, type, 0, b, n);
}

int sotto_gguf_set_u32(sotto_gguf_writer *w, const char *key, uint32_t v) {
  return set_fixed(w, key, SOTTO_GGUF_UINT32, v);
}
int sotto_gguf_set_i32(sotto_gguf_writer *w, const char *key, int32_t v) {
  return set_fixed(w, key, SOTTO_GGUF_INT32, (uint32_t)v);
}
int sotto_gguf_set_u64(sotto_gguf_writer *w, const char *key, uint64_t v) {
  return set_fixed(w, key, SOTTO_GGUF_UINT64, v);
}
int sotto_gguf_set_f32(sotto_gguf_writer *w, const char *key, float v) {
  uint32_t u;
  memcpy(&u, &v, 4);
  return set_fixed(w, key, SOTTO_GGUF_FLOAT32, u);
}
int sotto_gguf_set_bool(sotto_gguf_writer *w, const char *key, int v) {
  return set_fixed(w, key, SOTTO_GGUF_BOOL, v != 0);
}

static void put_u64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

int sotto_gguf_set_str(sotto_gguf_writer *w, const char *key, const char *v, size_t len) {
  uint8_t *b = malloc(8 + len);
  if (!b || (len && !v)) return free(b), -1;
  put_u64(b, len);
  if (len) memcpy(b + 8, v, len);
  return set_kv(w, key, SOTTO_GGUF_STRING, SOTTO_GGUF_STRING, 0, b, 8 + len);
}

int sotto_gguf_set_arr(sotto_gguf_writer *w, const char *key, sotto_gguf_type elem,
                       const void *values, uint64_t n) {
  size_t sz = value_size(elem);
  if (!sz || n > SIZE_MAX / sz || (n && !values)) return -1;
  uint8_t *b = malloc(n ? (size_t)n * sz : 1);
  if (!b) return -1;
  if (n) memcpy(b, values, (size_t)n * sz);
  return set_kv(w, key, SOTTO_GGUF_ARRAY, elem, n, b, (size_t)n * sz);
}

int sotto_gguf_set_arr_str(sotto_gguf_writer *w, const char *key, const char *const *values,
                           const size_t *lens, uint64_t n) {
  size_t total = 0;
  for (uint64_t i = 0; i < n; i++) {
    size_t len = lens ? lens[i] : strlen(values[i]);
    if (len > SIZE_MAX - 8 - total) return -1;
    total += 8 + len;
  }
  uint8_t *b = malloc(total ? total : 1), *p = b;
  if (!b) return -1;
  for (uint64_t i = 0; i < n; i++) {
    size_t len = lens ? lens[i] : strlen(values[i]);
    put_u64(p, len);
    if (len) memcpy(p + 8, values[i], len);
    p += 8 + len;
  }
  return set_kv(w, key, SOTTO_GGUF_ARRAY, SOTTO_GGUF_STRING, n, b, total);
}

static int add_tensor(sotto_gguf_writer *w, const char *name, sotto_dtype type, int n_dims,
                      const int64_t *ne, const void *data, size_t bytes, sotto_gguf_fill fill,
                      void *user) {
  if (!w || !name || n_dims < 0 || n_dims > SOTTO_GGUF_MAX_DIMS || (n_dims && !ne)) return -1;
  char *nm = strdup(name);
  if (!nm || grow((void **)&w->tensors, &w->cap_tensors, w->n_tensors + 1, sizeof *w->tensors))
    return free(nm), -1;
  wtensor *t = &w->tensors[w->n_tensors++];
  memset(t, 0, sizeof *t);
  t->name = nm, t->type = type, t->n_dims = n_dims, t->data = data, t->bytes = bytes;
  t->fill = fill, t->user = user;
  for (int d = 0; d < SOTTO_GGUF_MAX_DIMS; d++) t->ne[d] = d < n_dims ? ne[d] : 1;
  return 0;
}

int sotto_gguf_add_tensor(sotto_gguf_writer *w, const char *name, sotto_dtype type, int n_dims,
                          const int64_t *ne, const void *data, size_t bytes) {
  return add_tensor(w, name, type, n_dims, ne, data, bytes, NULL, NULL);
}

int sotto_gguf_add_tensor_fill(sotto_gguf_writer *w, const char *name, sotto_dtype type,
                               int n_dims, const int64_t *ne, sotto_gguf_fill fill, void *user) {
  if (!fill) return -1;
  return add_tensor(w, name, type, n_dims, ne, NULL, 0, fill, user);
}

/* The bytes a tensor of this shape and type takes; 0 with *err set when
 * the shape does not fit the type. */
static size_t tensor_bytes(const wtensor *t, sotto_error *err) {
  const sotto_dtype_info *info = sotto_dtype_get(t->type);
  if (!info)
    return sotto_error_set(err, SOTTO_BAD_REQUEST, "GGUF writer: tensor %.100s has unknown type %d",
                           t->name, (int)t->type),
           0;
  uint64_t elems = 1;
  for (int d = 0; d < SOTTO_GGUF_MAX_DIMS; d++) {
    if (t->ne[d] < 0 || (t->ne[d] && elems > INT64_MAX / (uint64_t)t->ne[d]))
      return sotto_error_set(err, SOTTO_BAD_REQUEST, "GGUF writer: tensor %.100s has a bad shape",
                             t->name),
             0;
    elems *= (uint64_t)t->ne[d];
  }
  if (t->ne[0] % info->block)
    return sotto_error_set(err, SOTTO_BAD_REQUEST,
                           "GGUF writer: tensor %.100s has rows of %" PRId64
                           " values, not a multiple of the %s block (%d)",
                           t->name, t->ne[0], info->name, info->block),
           0;
  uint64_t rows = t->ne[0] ? elems / (uint64_t)t->ne[0] : 0;
  return (size_t)(rows * (uint64_t)sotto_dtype_row_bytes(t->type, t->ne[0]));
}

typedef struct out {
  uint8_t *buf;
  size_t len, cap;
} out;

static int out_put(out *o, const void *p, size_t n) {
  if (n > o->cap - o->len) {
    size_t c = o->cap ? o->cap : 4096;
    while (c - o->len < n) c *= 2;
    uint8_t *b = realloc(o->buf, c);
    if (!b) return -1;
    o->buf = b, o->cap = c;
  }
  memcpy(o->buf + o->len, p, n);
  o->len += n;
  return 0;
}

static int out_u32(out *o, uint32_t v) {
  uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
  return out_put(o, b, 4);
}

static int out_u64(out *o, uint64_t v) {
  uint8_t b[8];
  put_u64(b, v);
  return out_put(o, b, 8);
}

static int out_str(out *o, const char *s) {
  size_t n = strlen(s);
  return out_u64(o, n) || out_put(o, s, n);
}

static int sink_zeros(sotto_gguf_sink sink, void *user, size_t n) {
  static const uint8_t zeros[64];
  while (n) {
    size_t k = n < sizeof zeros ? n : sizeof zeros;
    if (sink(user, zeros, k)) return -1;
    n -= k;
  }
  return 0;
}

static int gguf_write(sotto_gguf_writer *w, sotto_gguf_sink sink, void *user, int header_only,
                      sotto_error *err);

int sotto_gguf_write(sotto_gguf_writer *w, sotto_gguf_sink sink, void *user, sotto_error *err) {
  return gguf_write(w, sink, user, 0, err);
}

int sotto_gguf_write_header(sotto_gguf_writer *w, sotto_gguf_sink sink, void *user,
                            sotto_error *err) {
  return gguf_write(w, sink, user, 1, err);
}

int sotto_gguf_copy_kv(sotto_gguf_writer *w, const sotto_gguf *g, int64_t i) {
  if (!g || i < 0 || i >= g->n_kv) return -1;
  const kv *e = &g->kvs[i];
  size_t len;
  if (e->type == SOTTO_GGUF_ARRAY && e->elem == SOTTO_GGUF_STRING)
    len = e->n ? (size_t)((const uint8_t *)e->strs[e->n - 1].data + e->strs[e->n - 1].len - e->value) : 0;
  else if (e->type == SOTTO_GGUF_ARRAY)
    len = (size_t)e->n * value_size(e->elem);
  else if (e->type == SOTTO_GGUF_STRING)
    len = 8 + (size_t)le(e->value, 8);
  else
    len = value_size(e->type);
  uint8_t *b = malloc(len ? len : 1);
  if (!b) return -1;
  if (len) memcpy(b, e->value, len);
  char *key = malloc(e->key.len + 1);
  if (!key) return free(b), -1;
  memcpy(key, e->key.data, e->key.len);
  key[e->key.len] = 0;
  const int rc = set_kv(w, key, e->type, e->type == SOTTO_GGUF_ARRAY ? e->elem : e->type, e->n, b, len);
  free(key);
  return rc;
}

static int gguf_write(sotto_gguf_writer *w, sotto_gguf_sink sink, void *user, int header_only,
                      sotto_error *err) {
  out o = {0};
  size_t alignment = SOTTO_GGUF_DEFAULT_ALIGNMENT;
  size_t *sizes = NULL;
  int rc = -1;
  sotto_error local;
  if (!err) err = &local;
  if (!w || !sink)
    return sotto_error_set(err, SOTTO_BAD_REQUEST, "GGUF writer: no writer or no sink");
  for (int64_t i = 0; i < w->n_kv; i++)
    if (strcmp(w->kvs[i].key, "general.alignment") == 0) {
      uint32_t a = w->kvs[i].type == SOTTO_GGUF_UINT32 ? (uint32_t)le(w->kvs[i].bytes, 4) : 0;
      if (!a || (a & (a - 1)))
        return sotto_error_set(err, SOTTO_BAD_REQUEST,
                               "GGUF writer: general.alignment must be a uint32 power of two");
      alignment = a;
    }
  sizes = malloc((size_t)(w->n_tensors ? w->n_tensors : 1) * sizeof *sizes);
  if (!sizes) return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "GGUF writer: out of memory");
  for (int64_t i = 0; i < w->n_tensors; i++) {
    wtensor *t = &w->tensors[i];
    size_t nl = strlen(t->name);
    if (nl == 0 || nl >= GGUF_MAX_NAME) {
      sotto_error_set(err, SOTTO_BAD_REQUEST,
                      "GGUF writer: tensor name \"%.100s\" must be 1 to 63 bytes", t->name);
      goto done;
    }
    for (int64_t j = 0; j < i; j++)
      if (strcmp(w->tensors[j].name, t->name) == 0) {
        sotto_error_set(err, SOTTO_BAD_REQUEST, "GGUF writer: tensor %s added twice", t->name);
        goto done;
      }
    err->status = SOTTO_OK;
    sizes[i] = tensor_bytes(t, err);
    if (err->status != SOTTO_OK) goto done;
    if (!t->fill && sizes[i] != t->bytes) {
      sotto_error_set(err, SOTTO_BAD_REQUEST,
                      "GGUF writer: tensor %s has %zu bytes of data, its shape needs %zu",
                      t->name, t->bytes, sizes[i]);
      goto done;
    }
  }
  /* the header, metadata and tensor infos */
  int bad = out_put(&o, SOTTO_GGUF_MAGIC, 4) || out_u32(&o, SOTTO_GGUF_VERSION) ||
            out_u64(&o, (uint64_t)w->n_tensors) || out_u64(&o, (uint64_t)w->n_kv);
  for (int64_t i = 0; i < w->n_kv && !bad; i++) {
    const wkv *e = &w->kvs[i];
    bad = out_str(&o, e->key) || out_u32(&o, e->type);
    if (!bad && e->type == SOTTO_GGUF_ARRAY) bad = out_u32(&o, e->elem) || out_u64(&o, e->n);
    if (!bad) bad = out_put(&o, e->bytes, e->len);
  }
  uint64_t offset = 0;
  for (int64_t i = 0; i < w->n_tensors && !bad; i++) {
    const wtensor *t = &w->tensors[i];
    bad = out_str(&o, t->name) || out_u32(&o, (uint32_t)t->n_dims);
    for (int d = 0; d < t->n_dims && !bad; d++) bad = out_u64(&o, (uint64_t)t->ne[d]);
    if (!bad) bad = out_u32(&o, (uint32_t)t->type) || out_u64(&o, offset);
    offset += sizes[i] + (alignment - sizes[i] % alignment) % alignment;
  }
  if (bad) {
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "GGUF writer: out of memory");
    goto done;
  }
  size_t pad = w->n_tensors ? (alignment - o.len % alignment) % alignment : 0;
  if (sink(user, o.buf, o.len) || sink_zeros(sink, user, pad)) {
    sotto_error_set(err, SOTTO_IO_ERROR, "GGUF writer: the output refused the header");
    goto done;
  }
  /* the tensor data, each padded to the alignment */
  for (int64_t i = 0; i < w->n_tensors && !header_only; i++) {
    wtensor *t = &w->tensors[i];
    const void *data = t->data;
    void *made = NULL;
    if (t->fill) {
      made = malloc(sizes[i] ? sizes[i] : 1);
      if (!made) {
        sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "GGUF writer: out of memory for tensor %s",
                        t->name);
        goto done;
      }
      err->status = SOTTO_OK;
      if (t->fill(t->user, i, made, sizes[i], err)) {
        if (err->status == SOTTO_OK)
          sotto_error_set(err, SOTTO_INTERNAL, "GGUF writer: making tensor %s failed", t->name);
        free(made);
        goto done;
      }
      data = made;
    }
    int fail = (sizes[i] && sink(user, data, sizes[i])) ||
               sink_zeros(sink, user, (alignment - sizes[i] % alignment) % alignment);
    free(made);
    if (fail) {
      sotto_error_set(err, SOTTO_IO_ERROR, "GGUF writer: the output refused tensor %s", t->name);
      goto done;
    }
  }
  rc = 0;
done:
  free(o.buf);
  free(sizes);
  return rc;
}
