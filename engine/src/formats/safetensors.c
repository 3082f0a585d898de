/*
 * safetensors.c - reads Hugging Face safetensors files in place
 * (safetensors.h; the format of huggingface/safetensors, whose Rust
 * reader's checks this follows: header length within the file and 100 MB,
 * a JSON object, known dtypes, sizes matching shapes, offsets inside the
 * data; here overlaps are refused too).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/quant.h"
#include "safetensors.h"

static const struct { const char *name; size_t size; } dtypes[SOTTO_ST_DTYPE_COUNT] = {
    [SOTTO_ST_BOOL] = {"BOOL", 1},   [SOTTO_ST_U8] = {"U8", 1},     [SOTTO_ST_I8] = {"I8", 1},
    [SOTTO_ST_F8_E5M2] = {"F8_E5M2", 1}, [SOTTO_ST_F8_E4M3] = {"F8_E4M3", 1},
    [SOTTO_ST_I16] = {"I16", 2},     [SOTTO_ST_U16] = {"U16", 2},   [SOTTO_ST_F16] = {"F16", 2},
    [SOTTO_ST_BF16] = {"BF16", 2},   [SOTTO_ST_I32] = {"I32", 4},   [SOTTO_ST_U32] = {"U32", 4},
    [SOTTO_ST_F32] = {"F32", 4},     [SOTTO_ST_F64] = {"F64", 8},   [SOTTO_ST_I64] = {"I64", 8},
    [SOTTO_ST_U64] = {"U64", 8},
};

const char *sotto_st_dtype_name(sotto_st_dtype t) {
  return (unsigned)t < SOTTO_ST_DTYPE_COUNT ? dtypes[t].name : "?";
}
size_t sotto_st_dtype_size(sotto_st_dtype t) {
  return (unsigned)t < SOTTO_ST_DTYPE_COUNT ? dtypes[t].size : 0;
}

struct sotto_safetensors {
  int64_t n;
  sotto_st_tensor *tensors; /* sorted by name */
  char *names;
};

static int cmp_name(const void *a, const void *b) {
  return strcmp(((const sotto_st_tensor *)a)->name, ((const sotto_st_tensor *)b)->name);
}

/* Tensors sorted by data offset, for the overlap check. */
static int cmp_data(const void *a, const void *b) {
  const uint8_t *x = (*(const sotto_st_tensor *const *)a)->data;
  const uint8_t *y = (*(const sotto_st_tensor *const *)b)->data;
  return (x > y) - (x < y);
}

/* A JSON number that is a whole number in [0, max]. */
static int whole(const cJSON *v, double max, uint64_t *out) {
  if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= max) ||
      v->valuedouble != floor(v->valuedouble))
    return 0;
  *out = (uint64_t)v->valuedouble;
  return 1;
}

static int parse_tensor(const cJSON *item, sotto_st_tensor *t, const uint8_t *base, size_t avail,
                        const char *file, sotto_error *err) {
  const char *nm = item->string;
  if (!cJSON_IsObject(item))
    return sotto_error_set(err, SOTTO_BAD_MODEL, "%s: tensor \"%.100s\" is not a JSON object",
                           file, nm);
  const cJSON *dt = cJSON_GetObjectItemCaseSensitive(item, "dtype");
  const cJSON *shape = cJSON_GetObjectItemCaseSensitive(item, "shape");
  const cJSON *offs = cJSON_GetObjectItemCaseSensitive(item, "data_offsets");
  if (!cJSON_IsString(dt) || !cJSON_IsArray(shape) || !cJSON_IsArray(offs) ||
      cJSON_GetArraySize(offs) != 2)
    return sotto_error_set(err, SOTTO_BAD_MODEL,
                           "%s: tensor \"%.100s\" needs \"dtype\", \"shape\" and two "
                           "\"data_offsets\"",
                           file, nm);
  int d = 0;
  while (d < SOTTO_ST_DTYPE_COUNT && strcmp(dtypes[d].name, dt->valuestring) != 0) d++;
  if (d == SOTTO_ST_DTYPE_COUNT)
    return sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL,
                           "%s: tensor \"%.100s\" has dtype \"%.20s\", which sotto does not read",
                           file, nm, dt->valuestring);
  t->dtype = (sotto_st_dtype)d;
  int nd = cJSON_GetArraySize(shape);
  if (nd > SOTTO_ST_MAX_DIMS)
    return sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL,
                           "%s: tensor \"%.100s\" has %d dimensions (at most %d)", file, nm, nd,
                           SOTTO_ST_MAX_DIMS);
  t->n_dims = nd;
  uint64_t n = 1;
  for (int i = 0; i < nd; i++) {
    uint64_t v;
    if (!whole(cJSON_GetArrayItem(shape, i), 9007199254740992.0, &v))
      return sotto_error_set(err, SOTTO_BAD_MODEL,
                             "%s: tensor \"%.100s\" has a dimension that is not a whole number "
                             "from 0 to 2^53",
                             file, nm);
    if (v && n > (uint64_t)INT64_MAX / v)
      return sotto_error_set(err, SOTTO_BAD_MODEL, "%s: tensor \"%.100s\" has too many elements",
                             file, nm);
    n *= v;
    t->shape[i] = (int64_t)v;
  }
  t->n = (int64_t)n;
  uint64_t begin, end;
  if (!whole(cJSON_GetArrayItem(offs, 0), (double)avail, &begin) ||
      !whole(cJSON_GetArrayItem(offs, 1), (double)avail, &end) || begin > end || end > avail)
    return sotto_error_set(err, SOTTO_BAD_MODEL,
                           "%s: tensor \"%.100s\" has data offsets outside the file's %zu bytes "
                           "of data",
                           file, nm, avail);
  if (n > (uint64_t)SIZE_MAX / dtypes[d].size || end - begin != n * dtypes[d].size)
    return sotto_error_set(err, SOTTO_BAD_MODEL,
                           "%s: tensor \"%.100s\" has %llu bytes of data, but its shape and "
                           "dtype need %.0f",
                           file, nm, (unsigned long long)(end - begin),
                           (double)n * (double)dtypes[d].size);
  t->data = base + begin;
  t->bytes = (size_t)(end - begin);
  return 0;
}

sotto_safetensors *sotto_safetensors_open(const uint8_t *data, size_t size, const char *name,
                                          sotto_error *err) {
  const char *file = name ? name : "safetensors";
  sotto_safetensors *st = calloc(1, sizeof *st);
  cJSON *root = NULL;
  const sotto_st_tensor **by_data = NULL;
  if (!st) {
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "%s: out of memory", file);
    return NULL;
  }
  if (!data || size < 8) {
    sotto_error_set(err, SOTTO_BAD_MODEL, "%s: too short for a safetensors file", file);
    goto fail;
  }
  uint64_t n = 0;
  for (int i = 7; i >= 0; i--) n = n << 8 | data[i];
  if (n > size - 8 || n > SOTTO_ST_MAX_HEADER || n < 2) {
    sotto_error_set(err, SOTTO_BAD_MODEL,
                    "%s: the header length %llu does not fit the file (%zu bytes)", file,
                    (unsigned long long)n, size);
    goto fail;
  }
  root = cJSON_ParseWithLength((const char *)data + 8, (size_t)n);
  if (!root || !cJSON_IsObject(root)) {
    sotto_error_set(err, SOTTO_BAD_MODEL, "%s: the header is not a JSON object", file);
    goto fail;
  }
  const uint8_t *base = data + 8 + n;
  size_t avail = size - 8 - (size_t)n, names = 0;
  int count = 0;
  for (const cJSON *it = root->child; it; it = it->next)
    if (strcmp(it->string, "__metadata__") != 0) count++, names += strlen(it->string) + 1;
  st->tensors = calloc((size_t)(count ? count : 1), sizeof *st->tensors);
  st->names = malloc(names ? names : 1);
  by_data = malloc((size_t)(count ? count : 1) * sizeof *by_data);
  if (!st->tensors || !st->names || !by_data) {
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "%s: out of memory", file);
    goto fail;
  }
  char *p = st->names;
  for (const cJSON *it = root->child; it; it = it->next) {
    if (strcmp(it->string, "__metadata__") == 0) {
      if (!cJSON_IsObject(it)) {
        sotto_error_set(err, SOTTO_BAD_MODEL, "%s: __metadata__ is not a JSON object", file);
        goto fail;
      }
      continue;
    }
    sotto_st_tensor *t = &st->tensors[st->n];
    if (parse_tensor(it, t, base, avail, file, err)) goto fail;
    size_t len = strlen(it->string) + 1;
    memcpy(p, it->string, len);
    t->name = p;
    p += len;
    by_data[st->n++] = t;
  }
  qsort(by_data, (size_t)st->n, sizeof *by_data, cmp_data);
  for (int64_t i = 1; i < st->n; i++)
    if (by_data[i - 1]->data + by_data[i - 1]->bytes > by_data[i]->data && by_data[i]->bytes) {
      sotto_error_set(err, SOTTO_BAD_MODEL, "%s: tensors \"%.100s\" and \"%.100s\" overlap", file,
                      by_data[i - 1]->name, by_data[i]->name);
      goto fail;
    }
  qsort(st->tensors, (size_t)st->n, sizeof *st->tensors, cmp_name);
  for (int64_t i = 1; i < st->n; i++)
    if (strcmp(st->tensors[i - 1].name, st->tensors[i].name) == 0) {
      sotto_error_set(err, SOTTO_BAD_MODEL, "%s: tensor \"%.100s\" appears twice", file,
                      st->tensors[i].name);
      goto fail;
    }
  cJSON_Delete(root);
  free(by_data);
  return st;
fail:
  cJSON_Delete(root);
  free(by_data);
  sotto_safetensors_close(st);
  return NULL;
}

void sotto_safetensors_close(sotto_safetensors *st) {
  if (!st) return;
  free(st->tensors);
  free(st->names);
  free(st);
}

int64_t sotto_safetensors_n_tensors(const sotto_safetensors *st) { return st->n; }

const sotto_st_tensor *sotto_safetensors_at(const sotto_safetensors *st, int64_t i) {
  return i >= 0 && i < st->n ? &st->tensors[i] : NULL;
}

const sotto_st_tensor *sotto_safetensors_find(const sotto_safetensors *st, const char *name) {
  sotto_st_tensor key = {.name = name};
  return name ? bsearch(&key, st->tensors, (size_t)st->n, sizeof key, cmp_name) : NULL;
}

int sotto_st_read_f32(const sotto_st_tensor *t, int64_t first, int64_t n, float *dst,
                      sotto_error *err) {
  if (first < 0 || n < 0 || first > t->n || n > t->n - first)
    return sotto_error_set(err, SOTTO_BAD_REQUEST, "tensor %.100s: values %lld..%lld out of range",
                           t->name, (long long)first, (long long)(first + n));
  const uint8_t *p = t->data + (size_t)first * sotto_st_dtype_size(t->dtype);
  switch (t->dtype) {
    case SOTTO_ST_F32:
      memcpy(dst, p, (size_t)n * 4);
      return 0;
    case SOTTO_ST_F16:
    case SOTTO_ST_BF16:
      for (int64_t i = 0; i < n; i++) {
        uint16_t h = (uint16_t)(p[2 * i] | p[2 * i + 1] << 8);
        dst[i] = t->dtype == SOTTO_ST_F16 ? sotto_half_to_float(h) : sotto_bf16_to_float(h);
      }
      return 0;
    default:
      return sotto_error_set(err, SOTTO_UNSUPPORTED_MODEL,
                             "tensor %.100s has dtype %s; the converter reads F32, F16 and BF16",
                             t->name, sotto_st_dtype_name(t->dtype));
  }
}
