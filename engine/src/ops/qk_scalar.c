/*
 * qk_scalar.c - reference kernels in plain C: activation quantization and
 * the dot product of each weight type with its activation format
 * (qkernels.h). They mirror ggml-cpu's generic vec_dot_<type>_q8_<x>
 * functions (ggml-quants.c / arch-fallback): integer sums per block, scaled
 * in float. Every SIMD kernel is tested against these.
 */
#include <string.h>

#include "ops/qkernels.h"

/* ---- activations ---- */

static void quant_f32(const float *x, void *out, int64_t n) {
  memcpy(out, x, (size_t)n * sizeof(float));
}

/* x rounded to nearest even as an int8 (|x| <= 127); NaN, from a model
 * whose values overflowed, as 0 rather than an undefined conversion. */
static int8_t q8_round(float x) { return x == x ? (int8_t)nearbyintf(x) : 0; }

/* Symmetric 8-bit blocks: d = max|x| / 127, q = x / d rounded to nearest even (ggml's
 * quantize_row_q8_0_ref, with a float scale). */
static void quant_q8a(const float *x, void *out, int64_t n) {
  sotto_block_q8a *b = out;
  for (int64_t i = 0; i < n / SOTTO_QK; i++, x += SOTTO_QK) {
    float amax = 0;
    for (int j = 0; j < SOTTO_QK; j++) amax = fmaxf(amax, fabsf(x[j]));
    const float d = amax / 127, id = d ? 1 / d : 0;
    int sum = 0;
    for (int j = 0; j < SOTTO_QK; j++) {
      b[i].qs[j] = q8_round(x[j] * id);
      sum += b[i].qs[j];
    }
    b[i].d = d;
    b[i].sum = sum;
  }
}

/* ggml's quantize_row_q8_K_ref (scale by max|x| / 127, block sums of 16). */
static void quant_q8k(const float *x, void *out, int64_t n) {
  sotto_block_q8_k *b = out;
  for (int64_t i = 0; i < n / SOTTO_QK_K; i++, x += SOTTO_QK_K) {
    float amax = 0;
    for (int j = 0; j < SOTTO_QK_K; j++) amax = fmaxf(amax, fabsf(x[j]));
    const float d = amax / 127, id = d ? 1 / d : 0;
    for (int j = 0; j < SOTTO_QK_K; j++) b[i].qs[j] = q8_round(x[j] * id);
    for (int g = 0; g < SOTTO_QK_K / 16; g++) {
      int sum = 0;
      for (int j = 0; j < 16; j++) sum += b[i].qs[g * 16 + j];
      b[i].bsums[g] = (int16_t)sum;
    }
    b[i].d = d;
  }
}

/* ---- dots ---- */

#define FOR_ROWS(...)                                                   \
  for (int r = 0; r < nr; r++) {                                        \
    const void *xr = (const uint8_t *)x + (size_t)r * x_stride;         \
    __VA_ARGS__                                                         \
  }

static void dot_f32(int64_t n, const void *w, const void *x, size_t x_stride, int nr, float *out) {
  const float *a = w;
  FOR_ROWS({
    const float *b = xr;
    float s = 0;
    for (int64_t i = 0; i < n; i++) s += a[i] * b[i];
    out[r] = s;
  })
}

static void dot_f16(int64_t n, const void *w, const void *x, size_t x_stride, int nr, float *out) {
  const sotto_half *a = w;
  FOR_ROWS({
    const float *b = xr;
    float s = 0;
    for (int64_t i = 0; i < n; i++) s += qk_half(a[i]) * b[i];
    out[r] = s;
  })
}

static void dot_bf16(int64_t n, const void *w, const void *x, size_t x_stride, int nr,
                     float *out) {
  const uint16_t *a = w;
  FOR_ROWS({
    const float *b = xr;
    float s = 0;
    for (int64_t i = 0; i < n; i++) s += qk_bf16(a[i]) * b[i];
    out[r] = s;
  })
}

/* ggml_vec_dot_q4_0_q8_0 */
static void dot_q4_0(int64_t n, const void *w, const void *x, size_t x_stride, int nr,
                     float *out) {
  FOR_ROWS({
    const sotto_block_q4_0 *a = w;
    const sotto_block_q8a *b = xr;
    float s = 0;
    for (int64_t i = 0; i < n / SOTTO_QK; i++) {
      int sum = 0;
      for (int j = 0; j < SOTTO_QK / 2; j++)
        sum += ((a[i].qs[j] & 0xF) - 8) * b[i].qs[j] + ((a[i].qs[j] >> 4) - 8) * b[i].qs[j + 16];
      s += qk_half(a[i].d) * b[i].d * (float)sum;
    }
    out[r] = s;
  })
}

/* ggml_vec_dot_q4_1_q8_1 */
static void dot_q4_1(int64_t n, const void *w, const void *x, size_t x_stride, int nr,
                     float *out) {
  FOR_ROWS({
    const sotto_block_q4_1 *a = w;
    const sotto_block_q8a *b = xr;
    float s = 0;
    for (int64_t i = 0; i < n / SOTTO_QK; i++) {
      int sum = 0;
      for (int j = 0; j < SOTTO_QK / 2; j++)
        sum += (a[i].qs[j] & 0xF) * b[i].qs[j] + (a[i].qs[j] >> 4) * b[i].qs[j + 16];
      s += qk_half(a[i].d) * b[i].d * (float)sum + qk_half(a[i].m) * b[i].d * (float)b[i].sum;
    }
    out[r] = s;
  })
}

static inline uint32_t load_u32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

/* ggml_vec_dot_q5_0_q8_0 */
static void dot_q5_0(int64_t n, const void *w, const void *x, size_t x_stride, int nr,
                     float *out) {
  FOR_ROWS({
    const sotto_block_q5_0 *a = w;
    const sotto_block_q8a *b = xr;
    float s = 0;
    for (int64_t i = 0; i < n / SOTTO_QK; i++) {
      const uint32_t qh = load_u32(a[i].qh);
      int sum = 0;
      for (int j = 0; j < SOTTO_QK / 2; j++) {
        const int x0 = (int)((a[i].qs[j] & 0xF) | ((qh >> j) & 1) << 4) - 16;
        const int x1 = (int)((a[i].qs[j] >> 4) | ((qh >> (j + 16)) & 1) << 4) - 16;
        sum += x0 * b[i].qs[j] + x1 * b[i].qs[j + 16];
      }
      s += qk_half(a[i].d) * b[i].d * (float)sum;
    }
    out[r] = s;
  })
}

/* ggml_vec_dot_q5_1_q8_1 */
static void dot_q5_1(int64_t n, const void *w, const void *x, size_t x_stride, int nr,
                     float *out) {
  FOR_ROWS({
    const sotto_block_q5_1 *a = w;
    const sotto_block_q8a *b = xr;
    float s = 0;
    for (int64_t i = 0; i < n / SOTTO_QK; i++) {
      const uint32_t qh = load_u32(a[i].qh);
      int sum = 0;
      for (int j = 0; j < SOTTO_QK / 2; j++) {
        const int x0 = (int)((a[i].qs[j] & 0xF) | ((qh >> j) & 1) << 4);
        const int x1 = (int)((a[i].qs[j] >> 4) | ((qh >> (j + 16)) & 1) << 4);
        sum += x0 * b[i].qs[j] + x1 * b[i].qs[j + 16];
      }
      s += qk_half(a[i].d) * b[i].d * (float)sum + qk_half(a[i].m) * b[i].d * (float)b[i].sum;
    }
    out[r] = s;
  })
}

/* ggml_vec_dot_q8_0_q8_0 */
static void dot_q8_0(int64_t n, const void *w, const void *x, size_t x_stride, int nr,
                     float *out) {
  FOR_ROWS({
    const sotto_block_q8_0 *a = w;
    const sotto_block_q8a *b = xr;
    float s = 0;
    for (int64_t i = 0; i < n / SOTTO_QK; i++) {
      int sum = 0;
      for (int j = 0; j < SOTTO_QK; j++) sum += a[i].qs[j] * b[i].qs[j];
      s += qk_half(a[i].d) * b[i].d * (float)sum;
    }
    out[r] = s;
  })
}

/* ggml_vec_dot_q4_K_q8_K: per 32-value sub-block j, d*sc_j*sum(q*y) -
 * dmin*m_j*sum(y). */
static void dot_q4_k(int64_t n, const void *w, const void *x, size_t x_stride, int nr,
                     float *out) {
  FOR_ROWS({
    const sotto_block_q4_k *a = w;
    const sotto_block_q8_k *b = xr;
    float s = 0;
    for (int64_t i = 0; i < n / SOTTO_QK_K; i++) {
      int sumq = 0, summ = 0;
      for (int j = 0; j < 8; j++) {
        uint8_t sc, m;
        qk_scale_min_k4(j, a[i].scales, &sc, &m);
        const uint8_t *q = a[i].qs + (j / 2) * 32;
        const int8_t *y = b[i].qs + j * 32;
        int sub = 0;
        for (int l = 0; l < 32; l++) sub += (j & 1 ? q[l] >> 4 : q[l] & 0xF) * y[l];
        sumq += sc * sub;
        summ += m * (b[i].bsums[2 * j] + b[i].bsums[2 * j + 1]);
      }
      s += b[i].d * (qk_half(a[i].d) * (float)sumq - qk_half(a[i].dmin) * (float)summ);
    }
    out[r] = s;
  })
}

/* ggml_vec_dot_q5_K_q8_K */
static void dot_q5_k(int64_t n, const void *w, const void *x, size_t x_stride, int nr,
                     float *out) {
  FOR_ROWS({
    const sotto_block_q5_k *a = w;
    const sotto_block_q8_k *b = xr;
    float s = 0;
    for (int64_t i = 0; i < n / SOTTO_QK_K; i++) {
      int sumq = 0, summ = 0;
      for (int j = 0; j < 8; j++) {
        uint8_t sc, m;
        qk_scale_min_k4(j, a[i].scales, &sc, &m);
        const uint8_t *q = a[i].qs + (j / 2) * 32;
        const int8_t *y = b[i].qs + j * 32;
        int sub = 0;
        for (int l = 0; l < 32; l++) {
          const int lo = j & 1 ? q[l] >> 4 : q[l] & 0xF;
          sub += (lo | ((a[i].qh[l] >> j) & 1) << 4) * y[l];
        }
        sumq += sc * sub;
        summ += m * (b[i].bsums[2 * j] + b[i].bsums[2 * j + 1]);
      }
      s += b[i].d * (qk_half(a[i].d) * (float)sumq - qk_half(a[i].dmin) * (float)summ);
    }
    out[r] = s;
  })
}

/* ggml_vec_dot_q6_K_q8_K: in each 128-value half, quarter k takes the low
 * (k < 2) or high nibbles of ql[32 * (k & 1) ..], bits 2k..2k+1 of qh, minus
 * 32; one int8 scale per 16 values. */
static void dot_q6_k(int64_t n, const void *w, const void *x, size_t x_stride, int nr,
                     float *out) {
  FOR_ROWS({
    const sotto_block_q6_k *a = w;
    const sotto_block_q8_k *b = xr;
    float s = 0;
    for (int64_t i = 0; i < n / SOTTO_QK_K; i++) {
      int sum = 0;
      for (int h = 0; h < 2; h++) {
        const uint8_t *ql = a[i].ql + 64 * h, *qh = a[i].qh + 32 * h;
        const int8_t *sc = a[i].scales + 8 * h, *y = b[i].qs + 128 * h;
        for (int k = 0; k < 4; k++) {
          for (int g = 0; g < 2; g++) {
            int sub = 0;
            for (int l = 16 * g; l < 16 * g + 16; l++) {
              const uint8_t v = ql[l + 32 * (k & 1)];
              const int lo = k >= 2 ? v >> 4 : v & 0xF;
              const int q = (lo | ((qh[l] >> (2 * k)) & 3) << 4) - 32;
              sub += q * y[32 * k + l];
            }
            sum += sc[2 * k + g] * sub;
          }
        }
      }
      s += qk_half(a[i].d) * b[i].d * (float)sum;
    }
    out[r] = s;
  })
}

void qk_fill_scalar(qk_table *t) {
  memset(t, 0, sizeof *t);
  t->isa = "scalar";
  t->quant[QK_ACT_F32] = quant_f32;
  t->quant[QK_ACT_Q8A] = quant_q8a;
  t->quant[QK_ACT_Q8K] = quant_q8k;
  t->dot[SOTTO_DTYPE_F32] = dot_f32;
  t->dot[SOTTO_DTYPE_F16] = dot_f16;
  t->dot[SOTTO_DTYPE_BF16] = dot_bf16;
  t->dot[SOTTO_DTYPE_Q4_0] = dot_q4_0;
  t->dot[SOTTO_DTYPE_Q4_1] = dot_q4_1;
  t->dot[SOTTO_DTYPE_Q5_0] = dot_q5_0;
  t->dot[SOTTO_DTYPE_Q5_1] = dot_q5_1;
  t->dot[SOTTO_DTYPE_Q8_0] = dot_q8_0;
  t->dot[SOTTO_DTYPE_Q4_K] = dot_q4_k;
  t->dot[SOTTO_DTYPE_Q5_K] = dot_q5_k;
  t->dot[SOTTO_DTYPE_Q6_K] = dot_q6_k;
}
