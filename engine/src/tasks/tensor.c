/*
 * tensor.c - "tensor.*" ops: the engine's primitives reachable through
 * the request protocol, so one set of test vectors checks the native and the
 * wasm builds alike, and "tensor.bench" times the matmul in either build.
 *
 * A tensor in JSON is {"shape":[d0,d1,...],"data":[x0,x1,...]} (row-major).
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tasks.h"
#include "ops/ops.h"
#include "ops/vecmath.h"

#define MAX_ELEMS (16u << 20) /* 64 MiB of f32 per tensor */

typedef struct {
  size_t shape[6];
  size_t rank, n;
  float *data;
} tensor;

static int tensor_read(const cJSON *req, const char *key, tensor *t, int optional,
                       sotto_error *err) {
  memset(t, 0, sizeof *t);
  const cJSON *obj = cJSON_GetObjectItemCaseSensitive(req, key);
  if (!obj && optional) return 0;
  const cJSON *shape = cJSON_GetObjectItemCaseSensitive(obj, "shape");
  const cJSON *data = cJSON_GetObjectItemCaseSensitive(obj, "data");
  if (!cJSON_IsObject(obj) || !cJSON_IsArray(shape) || !cJSON_IsArray(data))
    return sotto_error_set(err, SOTTO_BAD_REQUEST, "\"%s\" must be {\"shape\":[...],\"data\":[...]}", key);
  int rank = cJSON_GetArraySize(shape);
  if (rank < 1 || rank > 6)
    return sotto_error_set(err, SOTTO_BAD_REQUEST, "\"%s\" must have 1 to 6 dimensions", key);
  t->rank = (size_t)rank;
  t->n = 1;
  const cJSON *d;
  size_t i = 0;
  cJSON_ArrayForEach(d, shape) {
    if (!cJSON_IsNumber(d) || d->valuedouble < 1 || d->valuedouble > MAX_ELEMS ||
        d->valuedouble != floor(d->valuedouble))
      return sotto_error_set(err, SOTTO_BAD_REQUEST, "\"%s\" has a bad dimension", key);
    t->shape[i++] = (size_t)d->valuedouble;
    t->n *= (size_t)d->valuedouble;
    if (t->n > MAX_ELEMS)
      return sotto_error_set(err, SOTTO_TOO_LARGE, "\"%s\" has more than %u elements", key, MAX_ELEMS);
  }
  if ((size_t)cJSON_GetArraySize(data) != t->n)
    return sotto_error_set(err, SOTTO_BAD_REQUEST, "\"%s\" data has %d values, shape needs %zu", key,
                           cJSON_GetArraySize(data), t->n);
  t->data = malloc((t->n + SOTTO_PAD_FLOATS) * sizeof(float));
  if (!t->data) return sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
  i = 0;
  cJSON_ArrayForEach(d, data) {
    if (!cJSON_IsNumber(d) || !(fabs(d->valuedouble) <= FLT_MAX)) {
      free(t->data);
      t->data = NULL;
      return sotto_error_set(err, SOTTO_BAD_REQUEST, "\"%s\" data must be numbers a float holds", key);
    }
    t->data[i++] = (float)d->valuedouble;
  }
  return 0;
}

/* The result as JSON; NULL with an error when it holds a NaN or an
 * infinity (from inputs near the float range), which JSON cannot carry. */
static cJSON *tensor_json(const size_t *shape, size_t rank, const float *data, sotto_error *err) {
  size_t count = 1;
  for (size_t i = 0; i < rank; i++) count *= shape[i];
  if (!sotto_vfinite(data, (int64_t)count)) {
    sotto_error_set(err, SOTTO_BAD_REQUEST, "the result holds values that are not numbers "
                    "(NaN or infinity): the inputs are too large for floats");
    return NULL;
  }
  cJSON *o = cJSON_CreateObject();
  cJSON *s = cJSON_AddArrayToObject(o, "shape");
  cJSON *d = cJSON_AddArrayToObject(o, "data");
  size_t n = 1;
  for (size_t i = 0; i < rank; i++) {
    cJSON_AddItemToArray(s, cJSON_CreateNumber((double)shape[i]));
    n *= shape[i];
  }
  for (size_t i = 0; i < n; i++) cJSON_AddItemToArray(d, cJSON_CreateNumber(data[i]));
  return o;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Times c = a b for the given shape; the median of the timed runs after two
 * warm-up runs (wasm code tiers up over the first runs). */
cJSON *sotto_task_tensor_bench(sotto_context *ctx, const cJSON *req, sotto_stream *st, sotto_error *err) {
  size_t m = (size_t)sotto_json_num(req, "m", 128, 1, 4096, err);
  size_t k = (size_t)sotto_json_num(req, "k", 768, 1, 8192, err);
  size_t n = (size_t)sotto_json_num(req, "n", 3072, 1, 16384, err);
  int iters = (int)sotto_json_num(req, "iterations", 10, 1, 1000, err);
  if (err->status) return NULL;
  float *a = malloc((m * k + SOTTO_PAD_FLOATS) * sizeof(float));
  float *b = malloc((k * n + SOTTO_PAD_FLOATS) * sizeof(float));
  float *c = malloc(m * n * sizeof(float));
  double *times = malloc((size_t)iters * sizeof(double));
  cJSON *out = NULL;
  sotto_linear *l = NULL;
  if (!a || !b || !c || !times) {
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
    goto done;
  }
  for (size_t i = 0; i < m * k; i++) a[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
  for (size_t i = 0; i < k * n; i++) b[i] = (float)((i * 104729) % 1000) / 1000.0f - 0.5f;
  /* Weights packed once, as model code does: this times the GEMM itself. */
  l = sotto_linear_create(b, NULL, k, n, err);
  if (!l) goto done;
  for (int i = -2; i < iters; i++) {
    double t0 = sotto_now_ms();
    if (sotto_linear_run(l, ctx->pool, a, m, c, err) != 0) goto done;
    if (i >= 0) times[i] = (sotto_now_ms() - t0) / 1e3;
    /* progress after each timed run; the caller may cancel */
    if (i >= 0 && sotto_stream_progress(st, (double)(i + 1) / iters, "bench")) goto done;
  }
  qsort(times, (size_t)iters, sizeof(double), cmp_double);
  double med = times[iters / 2];
  out = cJSON_CreateObject();
  cJSON_AddNumberToObject(out, "m", (double)m);
  cJSON_AddNumberToObject(out, "k", (double)k);
  cJSON_AddNumberToObject(out, "n", (double)n);
  cJSON_AddNumberToObject(out, "threads", ctx->threads);
  cJSON_AddNumberToObject(out, "median_ms", med * 1e3);
  cJSON_AddNumberToObject(out, "gflops", 2.0 * (double)m * (double)k * (double)n / med / 1e9);
done:
  sotto_linear_destroy(l);
  free(a), free(b), free(c), free(times);
  return out;
}

/* matmul and linear: c = a b, or y = x W^T + bias. */
static cJSON *product(sotto_context *ctx, const cJSON *req, int lin, sotto_error *err) {
  const char *op = lin ? "tensor.linear" : "tensor.matmul";
  tensor a, b, c;
  memset(&b, 0, sizeof b), memset(&c, 0, sizeof c);
  float *y = NULL;
  cJSON *out = NULL;
  if (tensor_read(req, lin ? "x" : "a", &a, 0, err) != 0) return NULL;
  if (tensor_read(req, lin ? "w" : "b", &b, 0, err) != 0) goto done;
  if (lin && tensor_read(req, "bias", &c, 1, err) != 0) goto done;
  if (a.rank != 2 || b.rank != 2) {
    sotto_error_set(err, SOTTO_BAD_REQUEST, "%s takes 2-D tensors", op);
    goto done;
  }
  size_t m = a.shape[0], k = a.shape[1];
  size_t n = lin ? b.shape[0] : b.shape[1];
  if ((lin ? b.shape[1] : b.shape[0]) != k || (c.data && (c.rank != 1 || c.shape[0] != n))) {
    sotto_error_set(err, SOTTO_BAD_REQUEST, "%s: shapes do not match", op);
    goto done;
  }
  if (!(y = malloc(m * n * sizeof(float)))) {
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "out of memory");
    goto done;
  }
  int rc;
  if (lin) {
    sotto_linear *l = sotto_linear_create(b.data, c.data, k, n, err);
    rc = l ? sotto_linear_run(l, ctx->pool, a.data, m, y, err) : -1;
    sotto_linear_destroy(l);
  } else {
    rc = sotto_matmul(ctx->pool, a.data, b.data, y, m, k, n, err);
  }
  if (rc == 0) out = tensor_json((size_t[]){m, n}, 2, y, err);
done:
  free(a.data), free(b.data), free(c.data), free(y);
  return out;
}

cJSON *sotto_task_tensor_matmul(sotto_context *ctx, const cJSON *req, sotto_stream *st,
                                sotto_error *err) {
  (void)st;
  return product(ctx, req, 0, err);
}

cJSON *sotto_task_tensor_linear(sotto_context *ctx, const cJSON *req, sotto_stream *st,
                                sotto_error *err) {
  (void)st;
  return product(ctx, req, 1, err);
}

cJSON *sotto_task_tensor_softmax(sotto_context *ctx, const cJSON *req, sotto_stream *st,
                                 sotto_error *err) {
  (void)st;
  tensor x;
  if (tensor_read(req, "x", &x, 0, err) != 0) return NULL;
  size_t cols = x.shape[x.rank - 1], rows = x.n / cols;
  cJSON *out = sotto_softmax(ctx->pool, x.data, x.data, rows, cols, err) == 0
                   ? tensor_json(x.shape, x.rank, x.data, err)
                   : NULL;
  free(x.data);
  return out;
}

cJSON *sotto_task_tensor_layernorm(sotto_context *ctx, const cJSON *req, sotto_stream *st,
                                   sotto_error *err) {
  (void)ctx, (void)st;
  tensor x, gamma, beta;
  memset(&gamma, 0, sizeof gamma), memset(&beta, 0, sizeof beta);
  cJSON *out = NULL;
  if (tensor_read(req, "x", &x, 0, err) != 0) return NULL;
  size_t cols = x.shape[x.rank - 1], rows = x.n / cols;
  if (tensor_read(req, "gamma", &gamma, 1, err) != 0 || tensor_read(req, "beta", &beta, 1, err) != 0)
    goto done;
  if ((gamma.data && gamma.n != cols) || (beta.data && beta.n != cols)) {
    sotto_error_set(err, SOTTO_BAD_REQUEST, "gamma and beta need %zu values", cols);
    goto done;
  }
  double eps = sotto_json_num(req, "eps", 1e-5, 0, 1, err);
  if (err->status) goto done;
  sotto_layernorm(x.data, gamma.data, beta.data, x.data, rows, cols, (float)eps);
  out = tensor_json(x.shape, x.rank, x.data, err);
done:
  free(x.data), free(gamma.data), free(beta.data);
  return out;
}

cJSON *sotto_task_tensor_unary(sotto_context *ctx, const cJSON *req, sotto_stream *st,
                               sotto_error *err) {
  (void)st;
  static const char *const names[] = {"gelu", "tanh", "sigmoid", "exp",
                                      "sqrt", "negate", "abs", "square"};
  tensor x;
  int f = sotto_json_enum(req, "fn", names, 8, -1, err);
  if (f < 0) {
    if (!err->status) sotto_error_set(err, SOTTO_BAD_REQUEST, "\"fn\" must name a unary function");
    return NULL;
  }
  if (tensor_read(req, "x", &x, 0, err) != 0) return NULL;
  cJSON *out = sotto_unary(ctx->pool, (sotto_unary_op)f, x.data, x.data, x.n, err) == 0
                   ? tensor_json(x.shape, x.rank, x.data, err)
                   : NULL;
  free(x.data);
  return out;
}

/* out = a (fn) b with numpy broadcasting. */
cJSON *sotto_task_tensor_binary(sotto_context *ctx, const cJSON *req, sotto_stream *st,
                                sotto_error *err) {
  (void)st;
  static const char *const names[] = {"add", "sub", "mul", "div", "max", "min"};
  tensor a, b;
  memset(&b, 0, sizeof b);
  float *y = NULL;
  cJSON *out = NULL;
  if (tensor_read(req, "a", &a, 0, err) != 0) return NULL;
  int f = sotto_json_enum(req, "fn", names, 6, -1, err);
  if (f < 0) {
    if (!err->status) sotto_error_set(err, SOTTO_BAD_REQUEST, "\"fn\" must name a binary function");
    goto done;
  }
  if (tensor_read(req, "b", &b, 0, err) != 0) goto done;
  size_t rank = a.rank > b.rank ? a.rank : b.rank, shape[6], n = 1;
  for (size_t i = 0; i < rank; i++) {
    size_t da = i < rank - a.rank ? 1 : a.shape[i - (rank - a.rank)];
    size_t db = i < rank - b.rank ? 1 : b.shape[i - (rank - b.rank)];
    if (da != db && da != 1 && db != 1) {
      sotto_error_set(err, SOTTO_BAD_REQUEST, "shapes do not broadcast");
      goto done;
    }
    shape[i] = da > db ? da : db;
    n *= shape[i];
  }
  if (n > MAX_ELEMS || !(y = malloc(n * sizeof(float)))) {
    sotto_error_set(err, SOTTO_OUT_OF_MEMORY, "result too large");
    goto done;
  }
  if (sotto_binary(ctx->pool, (sotto_binary_op)f, a.data, a.shape, a.rank, b.data, b.shape,
                   b.rank, y, err) == 0)
    out = tensor_json(shape, rank, y, err);
done:
  free(a.data), free(b.data), free(y);
  return out;
}
