/*
 * qmatmul.h - matrix products with weights in any GGUF tensor type, used in
 * place from the model file: y[rows x n_out] = x[rows x n_in] W^T, with W
 * stored as n_out rows of n_in values (GGUF's [ne0 = n_in, ne1 = n_out]).
 * One row of x is a GEMV (decoding a token); many rows a GEMM (reading a
 * prompt), tiled so that a block of weight rows is reused from cache across
 * all activation rows.
 *
 * Activations are quantized on the fly to the format each weight type pairs
 * with (qkernels.h, as ggml does: Q8_0/Q8_1-like blocks for the 32-block
 * types, Q8_K for the K-quants, none for F32/F16/BF16). A sotto_qact holds
 * one input prepared in each format it has been asked for, so q, k and v
 * (or gate and up) share one quantization.
 *
 * Kernels are chosen once at run time: AVX-512 VNNI (with AMX-INT8 tiles
 * for batches of rows where the CPU and the OS allow them), AVX2 or scalar
 * on x86-64, SIMD128 in wasm. The environment variable SOTTO_ISA=scalar,
 * avx2 or avx512 (no AMX) caps the choice, to compare kernels.
 */
#ifndef SOTTO_QMATMUL_H
#define SOTTO_QMATMUL_H

#include "core/core.h"
#include "ops/quant.h"

typedef struct sotto_qmat {
  sotto_dtype type;
  const void *data;   /* n_out rows of row_bytes each */
  int64_t n_in, n_out;
  size_t row_bytes;
  int packed;         /* rows packed by 8 for the kernels (sotto_qmat_pack) */
} sotto_qmat;

/* Describes data (not copied) as a matrix; fails with SOTTO_UNSUPPORTED_MODEL
 * for a type without kernels or an n_in that is not a whole number of blocks. */
int sotto_qmat_init(sotto_qmat *m, sotto_dtype type, const void *data, int64_t n_in,
                    int64_t n_out, sotto_error *err);

/* Kernels that multiply faster from weights packed 8 rows at a time
 * (qkernels.h, Q8_0, Q4_0, Q5_0, Q4_K and Q6_K on AVX-512 VNNI; Q8_0, Q4_0,
 * Q5_0 and Q4_K in wasm SIMD128) can have them in that layout,
 * same size; the rows past the last whole group of 8 (a vocabulary of
 * 151,669 leaves 5) stay as they are. 1 when this matrix can be packed. */
int sotto_qmat_packable(const sotto_qmat *m);
/* Packs the matrix into dst (n_out * row_bytes bytes; dst may be m->data,
 * then packing is in place) and points m at it. */
int sotto_qmat_pack(sotto_qmat *m, void *dst, sotto_error *err);
/* Packs in place each of the n matrices that can be packed, all inside one
 * buffer the caller owns (a model's bytes); the whole 2 MiB pages between
 * the first and the last of them are first moved to memory that may be
 * backed by transparent huge pages (Linux), holding the same bytes. */
int sotto_qmat_pack_all(sotto_qmat *const *m, int n, sotto_error *err);

/* An input of up to max_rows rows of max_n values, prepared per format. */
typedef struct sotto_qact {
  const float *x;
  size_t rows;
  int64_t n;
  void *buf[3];
  void *spread;   /* one row in the kernels' spread8 layout (qkernels.h), or NULL */
  unsigned ready; /* bit per format; bit 3 (QM_SPREAD_READY): spread */
  size_t max_rows;
  int64_t max_n;
} sotto_qact;

/* Bytes the buffers of sotto_qact_init take (for memory estimates). */
size_t sotto_qact_bytes(int64_t max_n, size_t max_rows);
int sotto_qact_init(sotto_qact *a, int64_t max_n, size_t max_rows, sotto_error *err);
void sotto_qact_free(sotto_qact *a);
/* The next input: rows x n floats at x (kept by pointer; must not change
 * while in use). */
void sotto_qact_set(sotto_qact *a, const float *x, size_t rows, int64_t n);

/* y[r * n_out + j] = dot(row r of the input, row j of w). n must equal
 * w->n_in. pool may be NULL. */
void sotto_qmatmul(pthreadpool_t pool, const sotto_qmat *w, sotto_qact *a, float *y);

/* sotto_qmatmul of n <= SOTTO_QMATMUL_MANY_MAX matrices on the same input
 * (a layer's q, k and v; gate and up) into y[i]: for an input of a few
 * rows (decoding), one parallel loop over all their rows. */
#define SOTTO_QMATMUL_MANY_MAX 4
void sotto_qmatmul_many(pthreadpool_t pool, const sotto_qmat *const *w, float *const *y, int n,
                        sotto_qact *a);

/* Row i of w as floats (the embedding lookup). */
void sotto_qmat_row(const sotto_qmat *w, int64_t i, float *out);

/* Dots of nx inputs with many rows, for attention over a cache: rows of
 * type F32, F16 or Q8_0 (then n a multiple of 32, at most
 * SOTTO_VEC_DOTS_MAX_Q8; the inputs are quantized to 8 bits as for a
 * matrix), n values each, stride bytes apart; inputs x + i * n.
 * out[i * n_rows + r] = dot(row r, input i). */
#define SOTTO_VEC_DOTS_MAX_Q8 512
void sotto_vec_dots(sotto_dtype type, const void *rows, size_t stride, int64_t n_rows, int64_t n,
                    const float *x, int nx, float *out);

/* The instruction set the kernels use ("amx-int8", "avx512vnni", "avx2", "scalar",
 * "wasm-simd128"). */
const char *sotto_qmatmul_isa(void);

#endif /* SOTTO_QMATMUL_H */
