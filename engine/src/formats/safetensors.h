/*
 * safetensors.h - Hugging Face's safetensors weight files (the format of
 * model.safetensors; specification: huggingface/safetensors README),
 * read in place from a buffer, for the converter.
 *
 * Layout: uint64 little-endian N, then N bytes of a JSON object (UTF-8,
 * may end in spaces), then the data. The object maps each tensor name to
 * {"dtype": "F32"|"F16"|"BF16"|..., "shape": [d0, d1, ...] (row-major,
 * last dimension fastest), "data_offsets": [begin, end]} with offsets
 * relative to the data start; "__metadata__" maps strings to strings.
 *
 * Untrusted bytes: the header length, the JSON, every dtype, dimension and
 * offset are checked (a tensor's bytes must match its shape, lie inside
 * the file and overlap no other) before a tensor is handed out; damaged
 * files are SOTTO_BAD_MODEL naming the tensor and what is wrong.
 */
#ifndef SOTTO_SAFETENSORS_H
#define SOTTO_SAFETENSORS_H

#include "formats.h"

#define SOTTO_ST_MAX_DIMS 8
#define SOTTO_ST_MAX_HEADER (100u << 20) /* the reference library's limit */

typedef enum sotto_st_dtype {
  SOTTO_ST_BOOL, SOTTO_ST_U8, SOTTO_ST_I8, SOTTO_ST_F8_E5M2, SOTTO_ST_F8_E4M3,
  SOTTO_ST_I16, SOTTO_ST_U16, SOTTO_ST_F16, SOTTO_ST_BF16,
  SOTTO_ST_I32, SOTTO_ST_U32, SOTTO_ST_F32,
  SOTTO_ST_F64, SOTTO_ST_I64, SOTTO_ST_U64,
  SOTTO_ST_DTYPE_COUNT
} sotto_st_dtype;

typedef struct sotto_st_tensor {
  const char *name;       /* NUL-terminated (owned by the reader) */
  sotto_st_dtype dtype;
  int n_dims;
  int64_t shape[SOTTO_ST_MAX_DIMS];
  int64_t n;              /* elements */
  const uint8_t *data;    /* inside the buffer */
  size_t bytes;
} sotto_st_tensor;

typedef struct sotto_safetensors sotto_safetensors;

/* The dtype's name ("BF16") and bytes per element. */
const char *sotto_st_dtype_name(sotto_st_dtype t);
size_t sotto_st_dtype_size(sotto_st_dtype t);

/* Parses and checks a file; data must outlive the result. name (may be
 * NULL) is the file's name, used in messages. */
sotto_safetensors *sotto_safetensors_open(const uint8_t *data, size_t size, const char *name,
                                          sotto_error *err);
void sotto_safetensors_close(sotto_safetensors *st);

int64_t sotto_safetensors_n_tensors(const sotto_safetensors *st);
const sotto_st_tensor *sotto_safetensors_at(const sotto_safetensors *st, int64_t i);
const sotto_st_tensor *sotto_safetensors_find(const sotto_safetensors *st, const char *name);

/* Values [first, first + n) of a F32, F16 or BF16 tensor as f32 (the
 * data may be unaligned). Returns 0, or -1 with *err set
 * (SOTTO_UNSUPPORTED_MODEL for another dtype, SOTTO_BAD_REQUEST for a
 * range outside the tensor). */
int sotto_st_read_f32(const sotto_st_tensor *t, int64_t first, int64_t n, float *dst,
                      sotto_error *err);

#endif /* SOTTO_SAFETENSORS_H */
