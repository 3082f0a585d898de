/*
 * gguf.h - GGUF, the self-describing model file of ggml and llama.cpp
 * (specification: ggml's docs/gguf.md, version 3; version 2 files read the
 * same way). Reading works in place on a buffer (the wasm heap, or a
 * mapped file): nothing of the file is copied, tensor data pointers point
 * into the buffer. Writing streams to a callback.
 *
 * Layout, all little-endian:
 *   uint32 magic "GGUF", uint32 version, uint64 tensor_count, uint64 kv_count
 *   kv_count x { string key, uint32 type, value }
 *   tensor_count x { string name, uint32 n_dims, uint64 ne[n_dims],
 *                    uint32 ggml type, uint64 offset (from the data start) }
 *   padding to general.alignment (default 32), then the tensor data
 *   string = uint64 length + bytes (no NUL); array = uint32 type, uint64 n,
 *   n values.
 *
 * Nothing in the file is trusted: every count, length, offset, dimension
 * and size is checked against the buffer (without overflow) before use;
 * tensors must lie inside the data section, aligned, and not overlap.
 */
#ifndef SOTTO_GGUF_H
#define SOTTO_GGUF_H

#include "formats.h"
#include "ops/quant.h"

#define SOTTO_GGUF_MAGIC "GGUF"
#define SOTTO_GGUF_VERSION 3
#define SOTTO_GGUF_DEFAULT_ALIGNMENT 32
#define SOTTO_GGUF_MAX_DIMS 4

typedef enum sotto_gguf_type {
  SOTTO_GGUF_UINT8 = 0,
  SOTTO_GGUF_INT8 = 1,
  SOTTO_GGUF_UINT16 = 2,
  SOTTO_GGUF_INT16 = 3,
  SOTTO_GGUF_UINT32 = 4,
  SOTTO_GGUF_INT32 = 5,
  SOTTO_GGUF_FLOAT32 = 6,
  SOTTO_GGUF_BOOL = 7,
  SOTTO_GGUF_STRING = 8,
  SOTTO_GGUF_ARRAY = 9,
  SOTTO_GGUF_UINT64 = 10,
  SOTTO_GGUF_INT64 = 11,
  SOTTO_GGUF_FLOAT64 = 12,
  SOTTO_GGUF_TYPE_COUNT
} sotto_gguf_type;

typedef struct sotto_gguf_string {
  const char *data; /* not NUL-terminated; points into the file */
  uint64_t len;
} sotto_gguf_string;

typedef struct sotto_gguf_tensor {
  sotto_gguf_string name;
  int n_dims;
  int64_t ne[SOTTO_GGUF_MAX_DIMS]; /* ne[0] = values per row (fastest); unused dims are 1 */
  sotto_dtype type;
  const void *data;                /* inside the buffer */
  size_t bytes;
  uint64_t offset;                 /* from the start of the data section */
} sotto_gguf_tensor;

typedef struct sotto_gguf sotto_gguf;

/* 1 when data starts with the GGUF magic (the format registry's sniff). */
int sotto_gguf_sniff(const uint8_t *data, size_t size);

/* Parses and checks a whole file; data must outlive the result. NULL with
 * SOTTO_BAD_MODEL (what is wrong, where), SOTTO_UNSUPPORTED_MODEL (a valid
 * file with a tensor type or version sotto cannot use) or
 * SOTTO_OUT_OF_MEMORY. */
sotto_gguf *sotto_gguf_open(const uint8_t *data, size_t size, sotto_error *err);
void sotto_gguf_close(sotto_gguf *g);
/* Parses the header only, from the first size bytes of a file of file_size
 * bytes: metadata and tensor infos as sotto_gguf_open reads them, tensors
 * checked against file_size, their data pointers NULL. A header that does
 * not end (or does not make sense) within the prefix is SOTTO_TRUNCATED:
 * call again with more of the file. */
sotto_gguf *sotto_gguf_open_header(const uint8_t *data, size_t size, uint64_t file_size,
                                   sotto_error *err);
/* Where the tensor data starts: the size of the header with its padding. */
uint64_t sotto_gguf_data_offset(const sotto_gguf *g);

uint32_t sotto_gguf_version(const sotto_gguf *g);
size_t sotto_gguf_alignment(const sotto_gguf *g);

/* ---- metadata ---- */
int64_t sotto_gguf_n_keys(const sotto_gguf *g);
/* Index of key, or -1. */
int64_t sotto_gguf_find(const sotto_gguf *g, const char *key);
sotto_gguf_string sotto_gguf_key(const sotto_gguf *g, int64_t i);
sotto_gguf_type sotto_gguf_value_type(const sotto_gguf *g, int64_t i);

/* Typed reads of the value of key. Each returns 1 when the key is present
 * with that type (any integer type fits an integer read when the value is
 * in range), 0 when absent (*out untouched), and -1 with *err set
 * (SOTTO_BAD_MODEL naming the key) when present with another type. */
int sotto_gguf_get_u32(const sotto_gguf *g, const char *key, uint32_t *out, sotto_error *err);
int sotto_gguf_get_i64(const sotto_gguf *g, const char *key, int64_t *out, sotto_error *err);
int sotto_gguf_get_f32(const sotto_gguf *g, const char *key, float *out, sotto_error *err);
int sotto_gguf_get_bool(const sotto_gguf *g, const char *key, int *out, sotto_error *err);
int sotto_gguf_get_str(const sotto_gguf *g, const char *key, sotto_gguf_string *out,
                       sotto_error *err);

/* Arrays: the element type and count of key's array value. */
int sotto_gguf_get_arr(const sotto_gguf *g, const char *key, sotto_gguf_type *elem,
                       uint64_t *n, sotto_error *err);
/* Element i of an array of numbers (converted), or of strings. i < n. */
double sotto_gguf_arr_num(const sotto_gguf *g, const char *key, uint64_t i);
sotto_gguf_string sotto_gguf_arr_str(const sotto_gguf *g, const char *key, uint64_t i);
/* Numeric arrays of one fixed-size type lie contiguous in the file: their
 * raw little-endian bytes (e.g. tokenizer.ggml.scores as float32). */
const void *sotto_gguf_arr_data(const sotto_gguf *g, const char *key);

/* ---- tensors ---- */
int64_t sotto_gguf_n_tensors(const sotto_gguf *g);
const sotto_gguf_tensor *sotto_gguf_tensor_at(const sotto_gguf *g, int64_t i);
/* The tensor named name, or NULL. */
const sotto_gguf_tensor *sotto_gguf_tensor_find(const sotto_gguf *g, const char *name);

/* ---- writing ----
 * Metadata and tensors are collected, then written in one pass to a sink
 * (a file natively, JavaScript chunks in wasm). Values are copied;
 * tensor data is referenced and must stay valid until write returns. */
typedef struct sotto_gguf_writer sotto_gguf_writer;
/* Receives the file in order; returns nonzero to stop with SOTTO_IO_ERROR. */
typedef int (*sotto_gguf_sink)(void *user, const void *data, size_t len);

sotto_gguf_writer *sotto_gguf_writer_create(void);
void sotto_gguf_writer_free(sotto_gguf_writer *w);
/* Setting a key again replaces its value. Return 0, or -1 when out of memory. */
int sotto_gguf_set_u32(sotto_gguf_writer *w, const char *key, uint32_t v);
int sotto_gguf_set_i32(sotto_gguf_writer *w, const char *key, int32_t v);
int sotto_gguf_set_u64(sotto_gguf_writer *w, const char *key, uint64_t v);
int sotto_gguf_set_f32(sotto_gguf_writer *w, const char *key, float v);
int sotto_gguf_set_bool(sotto_gguf_writer *w, const char *key, int v);
int sotto_gguf_set_str(sotto_gguf_writer *w, const char *key, const char *v, size_t len);
/* An array of n elements of a fixed-size type (raw little-endian values). */
int sotto_gguf_set_arr(sotto_gguf_writer *w, const char *key, sotto_gguf_type elem,
                       const void *values, uint64_t n);
int sotto_gguf_set_arr_str(sotto_gguf_writer *w, const char *key, const char *const *values,
                           const size_t *lens, uint64_t n);
/* A tensor of type with dims ne[0..n_dims) whose bytes (already in that
 * type) are data. */
int sotto_gguf_add_tensor(sotto_gguf_writer *w, const char *name, sotto_dtype type, int n_dims,
                          const int64_t *ne, const void *data, size_t bytes);
/* A tensor whose bytes are made only while the file is written, so a
 * converter holds one converted tensor at a time: fill(user, index, dst,
 * bytes, err) writes exactly bytes bytes (the size of the shape in that
 * type) into dst and returns 0, or -1 with *err set, which stops the
 * write with that error. index is the tensor's position in the file. */
typedef int (*sotto_gguf_fill)(void *user, int64_t index, void *dst, size_t bytes,
                               sotto_error *err);
int sotto_gguf_add_tensor_fill(sotto_gguf_writer *w, const char *name, sotto_dtype type,
                               int n_dims, const int64_t *ne, sotto_gguf_fill fill, void *user);
/* Writes the file: fails with SOTTO_BAD_REQUEST for what llama.cpp would
 * refuse (a tensor name over 63 bytes or given twice, rows that are not
 * whole blocks, data of the wrong size), SOTTO_IO_ERROR when the sink
 * stops, SOTTO_OUT_OF_MEMORY, or a fill function's error. */
int sotto_gguf_write(sotto_gguf_writer *w, sotto_gguf_sink sink, void *user, sotto_error *err);
/* Writes the header only (metadata, tensor infos, padding to the data):
 * what sotto_gguf_write writes before the first tensor's data. Fill
 * functions are not called. */
int sotto_gguf_write_header(sotto_gguf_writer *w, sotto_gguf_sink sink, void *user,
                            sotto_error *err);
/* Copies metadata key i of a file being read, with its value as it is. */
int sotto_gguf_copy_kv(sotto_gguf_writer *w, const sotto_gguf *g, int64_t i);

#endif /* SOTTO_GGUF_H */
