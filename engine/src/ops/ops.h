/*
 * ops.h - tensor primitives for model code, run through XNNPACK where it has
 * the operator and in plain C (vecmath.h) where it does not (layer norm).
 *
 * All tensors are dense row-major f32. Functions return 0 on success and -1
 * with *err set on failure (bad shape, out of memory, XNNPACK refusal).
 * pool may be NULL (single thread).
 *
 * XNNPACK kernels may read (never write) up to 16 bytes past the end of an
 * input: allocate inputs with SOTTO_PAD_FLOATS extra floats.
 */
#ifndef SOTTO_OPS_H
#define SOTTO_OPS_H

#include <stddef.h>
#include "core/core.h"

#define SOTTO_PAD_FLOATS 4

/* Must be called once before any other op (sotto_context_create does). */
int sotto_ops_init(sotto_error *err);

/* A linear layer y = x W^T + b with W stored [n_out x n_in] (PyTorch and GGUF
 * layout). XNNPACK packs the weights once at creation; run it many times. */
typedef struct sotto_linear sotto_linear;
sotto_linear *sotto_linear_create(const float *w, const float *bias, size_t n_in,
                                  size_t n_out, sotto_error *err);
int sotto_linear_run(sotto_linear *l, pthreadpool_t pool, const float *x,
                     size_t rows, float *y, sotto_error *err);
void sotto_linear_destroy(sotto_linear *l);

/* The same layer on XNNPACK's int8 path (qd8-f32-qc8w): the weights are
 * quantized here to int8 with one symmetric scale per output channel, and
 * each run quantizes the input rows dynamically (one scale and zero point
 * per row) before an int8 product with f32 output. */
sotto_linear *sotto_linear_create_int8(const float *w, const float *bias, size_t n_in,
                                       size_t n_out, sotto_error *err);
/* Bytes of scratch memory a run over rows needs (0 for f32 layers). */
size_t sotto_linear_scratch_bytes(const sotto_linear *l, size_t rows);
/* sotto_linear_run with caller-owned scratch of sotto_linear_scratch_bytes
 * (NULL: allocated for the call). */
int sotto_linear_run_scratch(sotto_linear *l, pthreadpool_t pool, const float *x, size_t rows,
                             float *y, void *scratch, sotto_error *err);
/* The layer over rows of x on the calling thread, while up to parts threads
 * (part = this one's index) run it at the same time over other rows, each
 * with its own scratch: the threads take its column blocks one at a time. */
int sotto_linear_run_part(sotto_linear *l, const float *x, size_t rows, float *y,
                          void *scratch, size_t part, size_t parts, sotto_error *err);

/* Batched matrix products c[i] = a[i] b[i] for i < batch, all contiguous:
 * a[i] is [m x k]; b[i] is [k x n], or [n x k] when created with
 * transpose_b (c = a b^T). The operator and its workspace are kept between
 * runs of any shape. */
typedef struct sotto_bmm sotto_bmm;
sotto_bmm *sotto_bmm_create(int transpose_b, sotto_error *err);
int sotto_bmm_run(sotto_bmm *op, pthreadpool_t pool, const float *a, const float *b, float *c,
                  size_t batch, size_t m, size_t k, size_t n, sotto_error *err);
void sotto_bmm_destroy(sotto_bmm *op);

/* c[m x n] = a[m x k] b[k x n]; one-shot (packs b every call). */
int sotto_matmul(pthreadpool_t pool, const float *a, const float *b, float *c,
                 size_t m, size_t k, size_t n, sotto_error *err);

/* Row-wise softmax over [rows x cols]; y may equal x. */
int sotto_softmax(pthreadpool_t pool, const float *x, float *y, size_t rows,
                  size_t cols, sotto_error *err);

/* Row-wise layer norm: y = (x - mean) / sqrt(var + eps) * gamma + beta.
 * gamma/beta may be NULL (1 and 0). y may equal x. */
void sotto_layernorm(const float *x, const float *gamma, const float *beta,
                     float *y, size_t rows, size_t cols, float eps);

typedef enum {
  SOTTO_UNARY_GELU, SOTTO_UNARY_TANH, SOTTO_UNARY_SIGMOID, SOTTO_UNARY_EXP,
  SOTTO_UNARY_SQRT, SOTTO_UNARY_NEGATE, SOTTO_UNARY_ABS, SOTTO_UNARY_SQUARE
} sotto_unary_op;
int sotto_unary(pthreadpool_t pool, sotto_unary_op op, const float *x, float *y,
                size_t n, sotto_error *err);

typedef enum {
  SOTTO_BINARY_ADD, SOTTO_BINARY_SUB, SOTTO_BINARY_MUL, SOTTO_BINARY_DIV,
  SOTTO_BINARY_MAX, SOTTO_BINARY_MIN
} sotto_binary_op;
/* out = a (op) b with numpy broadcasting; shapes have at most 6 dims. */
int sotto_binary(pthreadpool_t pool, sotto_binary_op op, const float *a,
                 const size_t *shape_a, size_t rank_a, const float *b,
                 const size_t *shape_b, size_t rank_b, float *out, sotto_error *err);

#endif /* SOTTO_OPS_H */
