/*
 * ops.c - tensor primitives on XNNPACK.
 *
 * XNNPACK operators follow create -> reshape -> setup -> run. A linear layer
 * keeps its operator (the packed weights are the expensive part); one-shot
 * ops use XNNPACK's xnn_run_* helpers. An operator must not be run from two
 * threads at once: callers that share a model serialise on it.
 */
#include <math.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"
#include "ops/vecmath.h"
#include "xnnpack.h"

static int xnn_fail(sotto_error *err, const char *what, enum xnn_status s) {
  return sotto_error_set(err, s == xnn_status_out_of_memory ? SOTTO_OUT_OF_MEMORY : SOTTO_INTERNAL,
                         "XNNPACK %s failed (status %d)", what, (int)s);
}

int sotto_ops_init(sotto_error *err) {
  /* xnn_initialize is idempotent and thread-safe after the first call. */
  enum xnn_status s = xnn_initialize(NULL);
  if (s != xnn_status_success) return xnn_fail(err, "initialisation", s);
  return 0;
}

/* A linear layer's weights are split into blocks of output columns of
 * about LINEAR_BLOCK_BYTES, one XNNPACK operator each. XNNPACK runs an
 * operator row block by row block (4 to 7 rows) over all its output
 * columns, so a large layer's weights are read from memory again for every
 * row block; a block that stays in a core's L2 cache (1 MiB and more on
 * current x86 and ARM cores) is read once per run. This is 2-4x faster for
 * encoder-sized layers (128 rows, 768 x 3072) natively and in wasm. Blocks
 * of 64 KiB to 512 KiB run equally fast on one thread; 128 KiB makes
 * enough blocks (6 for a 384 x 384 layer) for threads to share them
 * evenly, each thread running whole blocks. */
#define LINEAR_BLOCK_BYTES (128u << 10)
#define LINEAR_BLOCK_ALIGN 64 /* columns: a multiple of every kernel's nr */
/* A block's packed weights come from memory once per run; its first row
 * tile waits for them (the kernel reads them faster than one core's
 * memory bandwidth). For runs of up to LINEAR_PREFETCH_ROWS rows, XNNPACK's
 * AVX-512 f32 kernel reads the next block's weights into L2 a cache line at a
 * time while it works on the current block (build/patches/
 * xnnpack-avx512-8x32.patch), so the next block starts with its weights in
 * L2: 4-10 % off a batch-1 BERT-base pass natively. With more rows the
 * weights' share of the time is small and the rows themselves need L2. */
#define LINEAR_PREFETCH_ROWS 256

struct sotto_linear {
  xnn_operator_t *ops;     /* one per block of output columns */
  atomic_int *busy;        /* per operator: a thread runs it (sotto_linear_run_part) */
  size_t n_ops, block;     /* block: columns per operator (the last may have fewer) */
  xnn_operator_t quantize; /* int8 layers: f32 rows -> qd8 */
  atomic_int quantize_busy;
  size_t n_in, n_out;
};

static size_t block_columns(size_t n_in, size_t n_out, size_t weight_bytes) {
  size_t b = LINEAR_BLOCK_BYTES / (n_in * weight_bytes) / LINEAR_BLOCK_ALIGN * LINEAR_BLOCK_ALIGN;
  if (b < LINEAR_BLOCK_ALIGN) b = LINEAR_BLOCK_ALIGN;
  return b < n_out ? b : n_out;
}

/* Allocates l with its operator arrays for blocks of block columns. */
static sotto_linear *linear_alloc(size_t n_in, size_t n_out, size_t block, sotto_error *err) {
  if (n_in == 0 || n_out == 0) {
    sotto_error_set(err, SOTTO_BAD_REQUEST, "linear layer with an empty dimension");
    return NULL;
  }
  sotto_linear *l = calloc(1, sizeof *l);
  if (l) {
    l->n_in = n_in, l->n_out = n_out, l->block = block;
    l->n_ops = (n_out + block - 1) / block;
    l->ops = calloc(l->n_ops, sizeof *l->ops);
    l->busy = calloc(l->n_ops, sizeof *l->busy);
  }
  if (!l || !l->ops || !l->busy) {
    if (l) free(l->ops), free(l->busy), free(l);
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
    return NULL;
  }
  return l;
}

static sotto_linear *linear_create(const float *w, const float *bias, size_t n_in,
                                   size_t n_out, uint32_t flags, sotto_error *err) {
  /* Transposed weights ([n_in x n_out]) cannot be cut by columns in place. */
  size_t block = flags & XNN_FLAG_TRANSPOSE_WEIGHTS ? n_out : block_columns(n_in, n_out, 4);
  sotto_linear *l = linear_alloc(n_in, n_out, block, err);
  for (size_t i = 0; l && i < l->n_ops; i++) {
    size_t off = i * block, n = n_out - off < block ? n_out - off : block;
    enum xnn_status s = xnn_create_fully_connected_nc_f32(
        n_in, n, n_in, n_out, w + off * n_in, bias ? bias + off : NULL, -INFINITY, INFINITY,
        flags, NULL, NULL, &l->ops[i]);
    if (s != xnn_status_success) {
      xnn_fail(err, "fully-connected create", s);
      sotto_linear_destroy(l);
      return NULL;
    }
  }
  return l;
}

sotto_linear *sotto_linear_create(const float *w, const float *bias, size_t n_in,
                                  size_t n_out, sotto_error *err) {
  return linear_create(w, bias, n_in, n_out, 0, err);
}

sotto_linear *sotto_linear_create_int8(const float *w, const float *bias, size_t n_in,
                                       size_t n_out, sotto_error *err) {
  sotto_linear *l = linear_alloc(n_in, n_out, block_columns(n_in, n_out, 1), err);
  int8_t *q = l ? malloc(n_in * n_out) : NULL;
  float *scale = l ? malloc(n_out * sizeof *scale) : NULL;
  if (!l) return NULL;
  if (!q || !scale) {
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
    goto fail;
  }
  /* Symmetric per-channel quantization: the row's largest magnitude maps
   * to 127, values round to nearest. */
  for (size_t o = 0; o < n_out; o++) {
    const float *row = w + o * n_in;
    float amax = 0;
    for (size_t i = 0; i < n_in; i++) amax = fmaxf(amax, fabsf(row[i]));
    scale[o] = amax > 0 ? amax / 127.0f : 1.0f;
    float inv = 1.0f / scale[o];
    for (size_t i = 0; i < n_in; i++) q[o * n_in + i] = (int8_t)lrintf(row[i] * inv);
  }
  enum xnn_status s = xnn_create_convert_nc_f32_qd8(0, &l->quantize);
  for (size_t i = 0; s == xnn_status_success && i < l->n_ops; i++) {
    size_t off = i * l->block, n = n_out - off < l->block ? n_out - off : l->block;
    s = xnn_create_fully_connected_nc_qd8_f32_qc8w(n_in, n, n_in, n_out, scale + off,
                                                    q + off * n_in, bias ? bias + off : NULL,
                                                    -INFINITY, INFINITY, 0, NULL, NULL,
                                                    &l->ops[i]);
  }
  if (s != xnn_status_success) {
    xnn_fail(err, "int8 fully-connected create", s);
    goto fail;
  }
  free(q);
  free(scale);
  return l;
fail:
  free(q);
  free(scale);
  sotto_linear_destroy(l);
  return NULL;
}

size_t sotto_linear_scratch_bytes(const sotto_linear *l, size_t rows) {
  if (!l->quantize) return 0;
  size_t params = (rows + XNN_EXTRA_QUANTIZATION_PARAMS) * sizeof(struct xnn_quantization_params);
  return params + rows * l->n_in + XNN_EXTRA_BYTES;
}

/* One block of output columns, run on one thread (pool NULL) or on the pool. */
typedef struct {
  sotto_linear *l;
  pthreadpool_t pool;
  const float *x;
  const int8_t *xq;
  const struct xnn_quantization_params *qp;
  float *y;
  size_t rows;
  enum xnn_status status; /* the first failure */
} linear_job;

static void linear_block(void *ctx, size_t i) {
  linear_job *j = ctx;
  sotto_linear *l = j->l;
  float *yb = j->y + i * l->block;
  enum xnn_status s;
  if (l->quantize) {
    s = xnn_reshape_fully_connected_nc_qd8_f32_qc8w(l->ops[i], j->rows, j->pool);
    if (s == xnn_status_success) s = xnn_setup_fully_connected_nc_qd8_f32_qc8w(l->ops[i], j->xq, yb, j->qp);
  } else {
    /* The next block's weights into L2 while this one runs (see
     * LINEAR_PREFETCH_ROWS); this thread most likely runs it next. */
    size_t bytes = 0;
    const void *next = i + 1 < l->n_ops && j->rows <= LINEAR_PREFETCH_ROWS
                           ? xnn_get_fully_connected_packed_weights(l->ops[i + 1], &bytes)
                           : NULL;
    xnn_set_f32_gemm_prefetch(next, bytes, j->rows);
    s = xnn_reshape_fully_connected_nc_f32(l->ops[i], j->rows, j->pool);
    if (s == xnn_status_success) s = xnn_setup_fully_connected_nc_f32(l->ops[i], j->x, yb);
  }
  if (s == xnn_status_success) s = xnn_run_operator(l->ops[i], j->pool);
  if (s != xnn_status_success) j->status = s;
}

int sotto_linear_run_scratch(sotto_linear *l, pthreadpool_t pool, const float *x, size_t rows,
                             float *y, void *scratch, sotto_error *err) {
  if (rows == 0) return 0;
  void *own = NULL;
  linear_job j = {l, pool, x, NULL, NULL, y, rows, xnn_status_success};
  if (l->quantize) {
    if (!scratch && !(scratch = own = malloc(sotto_linear_scratch_bytes(l, rows))))
      return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
    struct xnn_quantization_params *qp = scratch;
    int8_t *xq = (int8_t *)(qp + rows + XNN_EXTRA_QUANTIZATION_PARAMS);
    enum xnn_status s = xnn_reshape_convert_nc_f32_qd8(l->quantize, rows, l->n_in, l->n_in, l->n_in, pool);
    if (s == xnn_status_success) s = xnn_setup_convert_nc_f32_qd8(l->quantize, x, xq, qp);
    if (s == xnn_status_success) s = xnn_run_operator(l->quantize, pool);
    j.xq = xq, j.qp = qp, j.status = s;
  }
  /* With as many blocks as threads or more, each thread runs whole blocks
   * (one wake-up of the pool per layer, not one per block); otherwise each
   * block is spread over the pool. */
  size_t threads = pthreadpool_get_threads_count(pool);
  if (j.status == xnn_status_success && threads > 1 && l->n_ops >= threads) {
    j.pool = NULL;
    pthreadpool_parallelize_1d(pool, linear_block, &j, l->n_ops, 0);
  } else {
    for (size_t i = 0; j.status == xnn_status_success && i < l->n_ops; i++) linear_block(&j, i);
  }
  free(own);
  return j.status == xnn_status_success ? 0 : xnn_fail(err, "fully-connected run", j.status);
}

int sotto_linear_run(sotto_linear *l, pthreadpool_t pool, const float *x, size_t rows,
                     float *y, sotto_error *err) {
  return sotto_linear_run_scratch(l, pool, x, rows, y, NULL, err);
}

/* Takes operator flag f, giving way while another thread holds it. */
static void take(atomic_int *f) {
  while (atomic_exchange_explicit(f, 1, memory_order_acquire)) sched_yield();
}

int sotto_linear_run_part(sotto_linear *l, const float *x, size_t rows, float *y,
                          void *scratch, size_t part, size_t parts, sotto_error *err) {
  if (rows == 0) return 0;
  linear_job j = {l, NULL, x, NULL, NULL, y, rows, xnn_status_success};
  if (l->quantize) {
    struct xnn_quantization_params *qp = scratch;
    int8_t *xq = (int8_t *)(qp + rows + XNN_EXTRA_QUANTIZATION_PARAMS);
    take(&l->quantize_busy);
    enum xnn_status s = xnn_reshape_convert_nc_f32_qd8(l->quantize, rows, l->n_in, l->n_in, l->n_in, NULL);
    if (s == xnn_status_success) s = xnn_setup_convert_nc_f32_qd8(l->quantize, x, xq, qp);
    if (s == xnn_status_success) s = xnn_run_operator(l->quantize, NULL);
    atomic_store_explicit(&l->quantize_busy, 0, memory_order_release);
    j.xq = xq, j.qp = qp, j.status = s;
  }
  /* Each thread starts at its own share of the blocks, so that threads
   * running in step never meet; a block another thread holds is passed
   * over and taken on a later round. When every block left is held, the
   * thread gives way (the holder may be waiting for a core). */
  unsigned char *done = calloc(l->n_ops, 1);
  if (!done) return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
  size_t left = l->n_ops, i = part * l->n_ops / parts, passed = 0;
  while (left && j.status == xnn_status_success) {
    if (!done[i] && !atomic_exchange_explicit(&l->busy[i], 1, memory_order_acquire)) {
      linear_block(&j, i);
      atomic_store_explicit(&l->busy[i], 0, memory_order_release);
      done[i] = 1, left--, passed = 0;
    } else if (!done[i] && ++passed == left) {
      sched_yield();
      passed = 0;
    }
    i = i + 1 < l->n_ops ? i + 1 : 0;
  }
  free(done);
  return j.status == xnn_status_success ? 0 : xnn_fail(err, "fully-connected run", j.status);
}

void sotto_linear_destroy(sotto_linear *l) {
  if (!l) return;
  for (size_t i = 0; i < l->n_ops; i++)
    if (l->ops[i]) xnn_delete_operator(l->ops[i]);
  if (l->quantize) xnn_delete_operator(l->quantize);
  free(l->ops);
  free(l->busy);
  free(l);
}

struct sotto_bmm {
  xnn_operator_t op;
  void *workspace;
  size_t workspace_bytes;
};

sotto_bmm *sotto_bmm_create(int transpose_b, sotto_error *err) {
  sotto_bmm *b = calloc(1, sizeof *b);
  if (!b) {
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
    return NULL;
  }
  enum xnn_status s =
      xnn_create_batch_matrix_multiply_nc_f32(transpose_b ? XNN_FLAG_TRANSPOSE_B : 0, &b->op);
  if (s != xnn_status_success) {
    xnn_fail(err, "batch matrix multiply create", s);
    free(b);
    return NULL;
  }
  return b;
}

int sotto_bmm_run(sotto_bmm *b, pthreadpool_t pool, const float *a, const float *bm, float *c,
                  size_t batch, size_t m, size_t k, size_t n, sotto_error *err) {
  if (batch == 0 || m == 0 || n == 0) return 0;
  size_t bytes = 0, align = 0;
  enum xnn_status s = xnn_reshape_batch_matrix_multiply_nc_f32(b->op, 1, &batch, &batch, m, k,
                                                               n, &bytes, &align, pool);
  if (s != xnn_status_success) return xnn_fail(err, "batch matrix multiply reshape", s);
  if (bytes > b->workspace_bytes) {
    /* align is at most XNN_ALLOCATION_ALIGNMENT; over-allocate and align up. */
    free(b->workspace);
    b->workspace = malloc(bytes + align);
    b->workspace_bytes = b->workspace ? bytes : 0;
    if (!b->workspace) return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
  }
  void *ws = b->workspace;
  if (align > 1) ws = (void *)(((uintptr_t)ws + align - 1) / align * align);
  s = xnn_setup_batch_matrix_multiply_nc_f32(b->op, ws, a, bm, c);
  if (s == xnn_status_success) s = xnn_run_operator(b->op, pool);
  return s == xnn_status_success ? 0 : xnn_fail(err, "batch matrix multiply run", s);
}

void sotto_bmm_destroy(sotto_bmm *b) {
  if (!b) return;
  xnn_delete_operator(b->op);
  free(b->workspace);
  free(b);
}

int sotto_matmul(pthreadpool_t pool, const float *a, const float *b, float *c, size_t m,
                 size_t k, size_t n, sotto_error *err) {
  /* b is [k x n] = the transpose of XNNPACK's default weight layout. */
  sotto_linear *l = linear_create(b, NULL, k, n, XNN_FLAG_TRANSPOSE_WEIGHTS, err);
  if (!l) return -1;
  int rc = sotto_linear_run(l, pool, a, m, c, err);
  sotto_linear_destroy(l);
  return rc;
}

int sotto_softmax(pthreadpool_t pool, const float *x, float *y, size_t rows, size_t cols,
                  sotto_error *err) {
  if (rows == 0 || cols == 0) return 0;
  xnn_operator_t op = NULL;
  enum xnn_status s = xnn_create_softmax_nc_f32(0, &op);
  if (s == xnn_status_success) s = xnn_reshape_softmax_nc_f32(op, cols, cols, cols, rows, pool);
  if (s == xnn_status_success) s = xnn_setup_softmax_nc_f32(op, x, y);
  if (s == xnn_status_success) s = xnn_run_operator(op, pool);
  if (op) xnn_delete_operator(op);
  return s == xnn_status_success ? 0 : xnn_fail(err, "softmax", s);
}

void sotto_layernorm(const float *x, const float *gamma, const float *beta, float *y,
                     size_t rows, size_t cols, float eps) {
  for (size_t r = 0; r < rows; r++) {
    if (y != x) memcpy(y + r * cols, x + r * cols, cols * sizeof *y);
    sotto_vadd_layernorm(y + r * cols, NULL, gamma, beta, (int64_t)cols, eps);
  }
}

int sotto_unary(pthreadpool_t pool, sotto_unary_op op, const float *x, float *y, size_t n,
                sotto_error *err) {
  static const enum xnn_unary_operator map[] = {
      [SOTTO_UNARY_GELU] = xnn_unary_gelu,       [SOTTO_UNARY_TANH] = xnn_unary_tanh,
      [SOTTO_UNARY_SIGMOID] = xnn_unary_sigmoid, [SOTTO_UNARY_EXP] = xnn_unary_exp,
      [SOTTO_UNARY_SQRT] = xnn_unary_square_root, [SOTTO_UNARY_NEGATE] = xnn_unary_negate,
      [SOTTO_UNARY_ABS] = xnn_unary_abs,         [SOTTO_UNARY_SQUARE] = xnn_unary_square,
  };
  if (n == 0) return 0;
  enum xnn_status s = xnn_run_unary_elementwise_nc(
      map[op], xnn_datatype_fp32, xnn_datatype_fp32, NULL, NULL, NULL, 0,
      1, n, n, n, pool, x, y);
  return s == xnn_status_success ? 0 : xnn_fail(err, "unary elementwise", s);
}

int sotto_binary(pthreadpool_t pool, sotto_binary_op op, const float *a,
                 const size_t *shape_a, size_t rank_a, const float *b,
                 const size_t *shape_b, size_t rank_b, float *out, sotto_error *err) {
  static const enum xnn_binary_operator map[] = {
      [SOTTO_BINARY_ADD] = xnn_binary_add,      [SOTTO_BINARY_SUB] = xnn_binary_subtract,
      [SOTTO_BINARY_MUL] = xnn_binary_multiply, [SOTTO_BINARY_DIV] = xnn_binary_divide,
      [SOTTO_BINARY_MAX] = xnn_binary_maximum,  [SOTTO_BINARY_MIN] = xnn_binary_minimum,
  };
  if (rank_a > XNN_MAX_TENSOR_DIMS || rank_b > XNN_MAX_TENSOR_DIMS)
    return sotto_error_set(err, SOTTO_BAD_REQUEST, "at most %d dimensions", XNN_MAX_TENSOR_DIMS);
  enum xnn_status s = xnn_run_binary_elementwise_nd(
      map[op], xnn_datatype_fp32, NULL, NULL, NULL, 0, rank_a, shape_a, rank_b, shape_b,
      a, b, out, pool);
  return s == xnn_status_success ? 0 : xnn_fail(err, "binary elementwise", s);
}
