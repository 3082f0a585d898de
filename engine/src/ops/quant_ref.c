/*
 * quant_ref.c - the reference (de)quantizers of quant.h: ggml's tensor
 * types, half and bfloat16 conversions, and row quantizers that produce
 * the same bytes as ggml's quantize_row_*_ref (ggml/src/ggml-quants.c),
 * which llama-quantize runs when no importance matrix is given.
 *
 * Byte-exact agreement needs the same float arithmetic as upstream: the
 * same operations in the same order, in single precision, with no fused
 * multiply-add (the build compiles this file with -ffp-contract=off).
 * These are plain loops for writing files and checking kernels; the fast
 * paths belong to the model code.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "quant.h"

/* ---- the type table ---- */

static const sotto_dtype_info dtypes[SOTTO_DTYPE_LIMIT] = {
    [SOTTO_DTYPE_F32] = {"f32", 1, 4},
    [SOTTO_DTYPE_F16] = {"f16", 1, 2},
    [SOTTO_DTYPE_Q4_0] = {"q4_0", SOTTO_QK, sizeof(sotto_block_q4_0)},
    [SOTTO_DTYPE_Q4_1] = {"q4_1", SOTTO_QK, sizeof(sotto_block_q4_1)},
    [SOTTO_DTYPE_Q5_0] = {"q5_0", SOTTO_QK, sizeof(sotto_block_q5_0)},
    [SOTTO_DTYPE_Q5_1] = {"q5_1", SOTTO_QK, sizeof(sotto_block_q5_1)},
    [SOTTO_DTYPE_Q8_0] = {"q8_0", SOTTO_QK, sizeof(sotto_block_q8_0)},
    [SOTTO_DTYPE_Q8_1] = {"q8_1", SOTTO_QK, sizeof(sotto_block_q8_1)},
    [SOTTO_DTYPE_Q4_K] = {"q4_K", SOTTO_QK_K, sizeof(sotto_block_q4_k)},
    [SOTTO_DTYPE_Q5_K] = {"q5_K", SOTTO_QK_K, sizeof(sotto_block_q5_k)},
    [SOTTO_DTYPE_Q6_K] = {"q6_K", SOTTO_QK_K, sizeof(sotto_block_q6_k)},
    [SOTTO_DTYPE_Q8_K] = {"q8_K", SOTTO_QK_K, sizeof(sotto_block_q8_k)},
    [SOTTO_DTYPE_BF16] = {"bf16", 1, 2},
};

/* The block layouts are ggml's, byte for byte. */
_Static_assert(sizeof(sotto_block_q4_0) == 18, "q4_0 block");
_Static_assert(sizeof(sotto_block_q4_1) == 20, "q4_1 block");
_Static_assert(sizeof(sotto_block_q5_0) == 22, "q5_0 block");
_Static_assert(sizeof(sotto_block_q5_1) == 24, "q5_1 block");
_Static_assert(sizeof(sotto_block_q8_0) == 34, "q8_0 block");
_Static_assert(sizeof(sotto_block_q8_1) == 36, "q8_1 block");
_Static_assert(sizeof(sotto_block_q4_k) == 144, "q4_K block");
_Static_assert(sizeof(sotto_block_q5_k) == 176, "q5_K block");
_Static_assert(sizeof(sotto_block_q6_k) == 210, "q6_K block");
_Static_assert(sizeof(sotto_block_q8_k) == 292, "q8_K block");

const sotto_dtype_info *sotto_dtype_get(uint32_t type) {
  return type < SOTTO_DTYPE_LIMIT && dtypes[type].name ? &dtypes[type] : NULL;
}

int sotto_dtype_from_name(const char *name) {
  for (int t = 0; name && t < SOTTO_DTYPE_LIMIT; t++) {
    const char *a = dtypes[t].name, *b = name;
    if (!a) continue;
    while (*a && *b && (*a | 0x20) == (*b | 0x20)) a++, b++;
    if (!*a && !*b) return t;
  }
  return -1;
}

size_t sotto_dtype_row_bytes(sotto_dtype type, int64_t n) {
  const sotto_dtype_info *t = sotto_dtype_get(type);
  if (!t || n < 0 || n % t->block) return 0;
  return (size_t)(n / t->block) * t->bytes;
}

/* ---- half and bfloat16 ---- */

static uint32_t f32_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

static float bits_f32(uint32_t u) {
  float f;
  memcpy(&f, &u, 4);
  return f;
}

float sotto_half_to_float(sotto_half h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff;
  if (exp == 0x1f) return bits_f32(sign | 0x7f800000 | man << 13); /* inf, nan */
  if (exp == 0) {                                                  /* zero, subnormal */
    float v = (float)man * 0x1p-24f;
    return sign ? -v : v;
  }
  return bits_f32(sign | (exp + 112) << 23 | man << 13);
}

sotto_half sotto_float_to_half(float f) {
  uint32_t u = f32_bits(f);
  uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
  uint32_t a = u & 0x7fffffff;
  if (a > 0x7f800000) return sign | 0x7e00;          /* nan: quiet */
  if (a >= 0x477ff000) return sign | 0x7c00;         /* rounds to inf */
  if (a < 0x38800000) {                              /* half subnormal or zero */
    if (a < 0x33000000) return sign;                 /* below half the smallest: 0 */
    uint32_t man = (a & 0x7fffff) | 0x800000;        /* value = man * 2^(e-150) */
    int shift = 126 - (int)(a >> 23);                /* to units of 2^-24 */
    uint32_t q = man >> shift, rem = man & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1))) q++;
    return sign | (uint16_t)q;
  }
  uint32_t q = (a >> 13) - (112u << 10), rem = a & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (q & 1))) q++;
  return sign | (uint16_t)q;
}

float sotto_bf16_to_float(uint16_t b) { return bits_f32((uint32_t)b << 16); }

/* As ggml_compute_fp32_to_bf16 (ggml-impl.h): round to nearest even, nan
 * made quiet. */
uint16_t sotto_float_to_bf16(float f) {
  uint32_t u = f32_bits(f);
  if ((u & 0x7fffffff) > 0x7f800000) return (uint16_t)((u >> 16) | 64);
  return (uint16_t)((u + (0x7fff + ((u >> 16) & 1))) >> 16);
}

#define H2F sotto_half_to_float
#define F2H sotto_float_to_half
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* ---- 32-value blocks ---- */

/* quantize_row_q4_0_ref: d = the value of largest magnitude / -8. */
static void quantize_q4_0(const float *x, sotto_block_q4_0 *y, int64_t nb) {
  for (int64_t i = 0; i < nb; i++, x += SOTTO_QK) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < SOTTO_QK; j++)
      if (amax < fabsf(x[j])) amax = fabsf(x[j]), max = x[j];
    const float d = max / -8, id = d ? 1.0f / d : 0.0f;
    y[i].d = F2H(d);
    for (int j = 0; j < SOTTO_QK / 2; j++) {
      uint8_t lo = (uint8_t)MIN(15, (int8_t)(x[j] * id + 8.5f));
      uint8_t hi = (uint8_t)MIN(15, (int8_t)(x[j + SOTTO_QK / 2] * id + 8.5f));
      y[i].qs[j] = (uint8_t)(lo | hi << 4);
    }
  }
}

/* quantize_row_q4_1_ref and quantize_row_q5_1_ref: d = (max - min) / nmax,
 * m = min. */
static void quantize_min_block(const float *x, int nmax, float *d_out, float *min_out,
                               uint8_t *q) {
  float min = FLT_MAX, max = -FLT_MAX;
  for (int j = 0; j < SOTTO_QK; j++) {
    if (x[j] < min) min = x[j];
    if (x[j] > max) max = x[j];
  }
  const float d = (max - min) / nmax, id = d ? 1.0f / d : 0.0f;
  for (int j = 0; j < SOTTO_QK; j++) {
    float v = (x[j] - min) * id;
    q[j] = nmax == 15 ? (uint8_t)MIN(15, (int8_t)(v + 0.5f)) : (uint8_t)(v + 0.5f);
  }
  *d_out = d, *min_out = min;
}

static void quantize_q4_1(const float *x, sotto_block_q4_1 *y, int64_t nb) {
  uint8_t q[SOTTO_QK];
  for (int64_t i = 0; i < nb; i++, x += SOTTO_QK) {
    float d, m;
    quantize_min_block(x, 15, &d, &m, q);
    y[i].d = F2H(d), y[i].m = F2H(m);
    for (int j = 0; j < SOTTO_QK / 2; j++) y[i].qs[j] = (uint8_t)(q[j] | q[j + 16] << 4);
  }
}

/* The 5-bit blocks: low nibbles as q4, the 5th bits of value j in bit j of
 * qh (little-endian uint32). */
static void pack_q5(const uint8_t *q, uint8_t qs[16], uint8_t qh[4]) {
  uint32_t h = 0;
  for (int j = 0; j < SOTTO_QK / 2; j++) {
    qs[j] = (uint8_t)((q[j] & 0x0f) | (q[j + 16] & 0x0f) << 4);
    h |= (uint32_t)((q[j] & 0x10) >> 4) << j;
    h |= (uint32_t)((q[j + 16] & 0x10) >> 4) << (j + 16);
  }
  for (int b = 0; b < 4; b++) qh[b] = (uint8_t)(h >> (8 * b));
}

/* quantize_row_q5_0_ref: d = the value of largest magnitude / -16. */
static void quantize_q5_0(const float *x, sotto_block_q5_0 *y, int64_t nb) {
  uint8_t q[SOTTO_QK];
  for (int64_t i = 0; i < nb; i++, x += SOTTO_QK) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < SOTTO_QK; j++)
      if (amax < fabsf(x[j])) amax = fabsf(x[j]), max = x[j];
    const float d = max / -16, id = d ? 1.0f / d : 0.0f;
    y[i].d = F2H(d);
    for (int j = 0; j < SOTTO_QK; j++) q[j] = (uint8_t)MIN(31, (int8_t)(x[j] * id + 16.5f));
    pack_q5(q, y[i].qs, y[i].qh);
  }
}

static void quantize_q5_1(const float *x, sotto_block_q5_1 *y, int64_t nb) {
  uint8_t q[SOTTO_QK];
  for (int64_t i = 0; i < nb; i++, x += SOTTO_QK) {
    float d, m;
    quantize_min_block(x, 31, &d, &m, q);
    y[i].d = F2H(d), y[i].m = F2H(m);
    pack_q5(q, y[i].qs, y[i].qh);
  }
}

/* quantize_row_q8_0_ref and quantize_row_q8_1_ref: d = amax / 127; q8_1
 * also stores s = d * the sum of the quants. */
static float quantize_q8_block(const float *x, int8_t *qs, int *sum) {
  float amax = 0.0f;
  for (int j = 0; j < SOTTO_QK; j++) amax = MAX(amax, fabsf(x[j]));
  const float d = amax / 127, id = d ? 1.0f / d : 0.0f;
  *sum = 0;
  for (int j = 0; j < SOTTO_QK; j++) {
    qs[j] = (int8_t)roundf(x[j] * id);
    *sum += qs[j];
  }
  return d;
}

static void quantize_q8_0(const float *x, sotto_block_q8_0 *y, int64_t nb) {
  int sum;
  for (int64_t i = 0; i < nb; i++, x += SOTTO_QK) y[i].d = F2H(quantize_q8_block(x, y[i].qs, &sum));
}

static void quantize_q8_1(const float *x, sotto_block_q8_1 *y, int64_t nb) {
  int sum;
  for (int64_t i = 0; i < nb; i++, x += SOTTO_QK) {
    float d = quantize_q8_block(x, y[i].qs, &sum);
    y[i].d = F2H(d), y[i].s = F2H((float)sum * d);
  }
}

static void dequantize_q4_0(const sotto_block_q4_0 *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; i++, y += SOTTO_QK) {
    const float d = H2F(x[i].d);
    for (int j = 0; j < SOTTO_QK / 2; j++) {
      y[j] = ((x[i].qs[j] & 0x0f) - 8) * d;
      y[j + 16] = ((x[i].qs[j] >> 4) - 8) * d;
    }
  }
}

static void dequantize_q4_1(const sotto_block_q4_1 *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; i++, y += SOTTO_QK) {
    const float d = H2F(x[i].d), m = H2F(x[i].m);
    for (int j = 0; j < SOTTO_QK / 2; j++) {
      y[j] = (x[i].qs[j] & 0x0f) * d + m;
      y[j + 16] = (x[i].qs[j] >> 4) * d + m;
    }
  }
}

/* The 32 5-bit values of a q5 block, 0..31. */
static void unpack_q5(const uint8_t qs[16], const uint8_t qh[4], int q[SOTTO_QK]) {
  uint32_t h = (uint32_t)qh[0] | (uint32_t)qh[1] << 8 | (uint32_t)qh[2] << 16 |
               (uint32_t)qh[3] << 24;
  for (int j = 0; j < SOTTO_QK / 2; j++) {
    q[j] = (qs[j] & 0x0f) | (int)((h >> j) & 1) << 4;
    q[j + 16] = (qs[j] >> 4) | (int)((h >> (j + 16)) & 1) << 4;
  }
}

static void dequantize_q5_0(const sotto_block_q5_0 *x, float *y, int64_t nb) {
  int q[SOTTO_QK];
  for (int64_t i = 0; i < nb; i++, y += SOTTO_QK) {
    const float d = H2F(x[i].d);
    unpack_q5(x[i].qs, x[i].qh, q);
    for (int j = 0; j < SOTTO_QK; j++) y[j] = (q[j] - 16) * d;
  }
}

static void dequantize_q5_1(const sotto_block_q5_1 *x, float *y, int64_t nb) {
  int q[SOTTO_QK];
  for (int64_t i = 0; i < nb; i++, y += SOTTO_QK) {
    const float d = H2F(x[i].d), m = H2F(x[i].m);
    unpack_q5(x[i].qs, x[i].qh, q);
    for (int j = 0; j < SOTTO_QK; j++) y[j] = q[j] * d + m;
  }
}

static void dequantize_q8_0(const sotto_block_q8_0 *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; i++, y += SOTTO_QK) {
    const float d = H2F(x[i].d);
    for (int j = 0; j < SOTTO_QK; j++) y[j] = x[i].qs[j] * d;
  }
}

static void dequantize_q8_1(const sotto_block_q8_1 *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; i++, y += SOTTO_QK) {
    const float d = H2F(x[i].d);
    for (int j = 0; j < SOTTO_QK; j++) y[j] = x[i].qs[j] * d;
  }
}

/* ---- K-quants: 256-value super-blocks ---- */

#define GROUP_MAX_EPS 1e-15f

/* nearest_int (ggml-quants.c): round half to even through the float
 * adder, for |v| <= 4194303. */
static int nearest_int(float v) {
  float f = v + 12582912.f;
  int32_t i;
  memcpy(&i, &f, 4);
  return (i & 0x007fffff) - 0x00400000;
}

/* make_qx_quants with rmse_type 1 and no importance weights: symmetric
 * quants L in 0..2*nmax-1 (bias nmax) and the scale that minimises the
 * x^2-weighted error over 19 candidate scales. */
static float make_qx_quants(int n, int nmax, const float *x, int8_t *L) {
  float max = 0, amax = 0;
  for (int i = 0; i < n; i++)
    if (fabsf(x[i]) > amax) amax = fabsf(x[i]), max = x[i];
  if (amax < GROUP_MAX_EPS) {
    memset(L, 0, (size_t)n);
    return 0.f;
  }
  float iscale = -nmax / max, sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; i++) {
    int l = MAX(-nmax, MIN(nmax - 1, nearest_int(iscale * x[i])));
    L[i] = (int8_t)(l + nmax);
    float w = x[i] * x[i];
    sumlx += w * x[i] * l;
    suml2 += w * l * l;
  }
  float scale = suml2 ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int is = -9; is <= 9; is++) {
    if (is == 0) continue;
    iscale = -(nmax + 0.1f * is) / max;
    sumlx = suml2 = 0;
    for (int i = 0; i < n; i++) {
      int l = MAX(-nmax, MIN(nmax - 1, nearest_int(iscale * x[i])));
      float w = x[i] * x[i];
      sumlx += w * x[i] * l;
      suml2 += w * l * l;
    }
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      for (int i = 0; i < n; i++)
        L[i] = (int8_t)(nmax + MAX(-nmax, MIN(nmax - 1, nearest_int(iscale * x[i]))));
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

/* make_qkx2_quants: asymmetric quants L in 0..nmax with a scale and a min
 * (returned negated in *the_min), searched over nstep+1 candidate scales
 * by weighted least squares. */
static float make_qkx2_quants(int n, int nmax, const float *x, const float *weights, uint8_t *L,
                              float *the_min, uint8_t *Laux, float rmin, float rdelta,
                              int nstep) {
  float min = x[0], max = x[0], sum_w = weights[0], sum_x = sum_w * x[0];
  for (int i = 1; i < n; i++) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    float w = weights[i];
    sum_w += w;
    sum_x += w * x[i];
  }
  if (min > 0) min = 0;
  if (max == min) {
    memset(L, 0, (size_t)n);
    *the_min = -min;
    return 0.f;
  }
  float iscale = nmax / (max - min), scale = 1 / iscale, best_error = 0;
  for (int i = 0; i < n; i++) {
    int l = nearest_int(iscale * (x[i] - min));
    L[i] = (uint8_t)MAX(0, MIN(nmax, l));
    float diff = scale * L[i] + min - x[i];
    best_error += weights[i] * (diff * diff);
  }
  for (int is = 0; is <= nstep; is++) {
    iscale = (rmin + rdelta * is + nmax) / (max - min);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; i++) {
      int l = MAX(0, MIN(nmax, nearest_int(iscale * (x[i] - min))));
      Laux[i] = (uint8_t)l;
      float w = weights[i];
      sum_l += w * l;
      sum_l2 += w * l * l;
      sum_xl += w * l * x[i];
    }
    float D = sum_w * sum_l2 - sum_l * sum_l;
    if (D > 0) {
      float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
      float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
      if (this_min > 0) {
        this_min = 0;
        this_scale = sum_xl / sum_l2;
      }
      float cur_error = 0;
      for (int i = 0; i < n; i++) {
        float diff = this_scale * Laux[i] + this_min - x[i];
        cur_error += weights[i] * (diff * diff);
      }
      if (cur_error < best_error) {
        memcpy(L, Laux, (size_t)n);
        best_error = cur_error;
        scale = this_scale;
        min = this_min;
      }
    }
  }
  *the_min = -min;
  return scale;
}

/* get_scale_min_k4: the 6-bit scale and min of sub-block j (0..7) of a
 * q4_K / q5_K block. */
static void scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m) {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = (uint8_t)((q[j + 4] & 0xf) | (q[j - 4] >> 6) << 4);
    *m = (uint8_t)((q[j + 4] >> 4) | (q[j] >> 6) << 4);
  }
}

/* The common part of quantize_row_q4_K_ref and quantize_row_q5_K_ref: per
 * 32-value sub-block a scale and a min (make_qkx2_quants), both quantized
 * to 6 bits against the block's d and dmin, then the values requantized
 * with the stored scales into L (0..nmax). */
static void quantize_k_scales(const float *x, int nmax, float rmin, float rdelta, int nstep,
                              sotto_half *d_out, sotto_half *dmin_out,
                              uint8_t scales_out[SOTTO_K_SCALE_BYTES], uint8_t L[SOTTO_QK_K]) {
  uint8_t Laux[32];
  float weights[32], mins[SOTTO_QK_K / 32], scales[SOTTO_QK_K / 32];
  float max_scale = 0, max_min = 0;
  for (int j = 0; j < SOTTO_QK_K / 32; j++) {
    const float *xb = x + 32 * j;
    float sum_x2 = 0;
    for (int l = 0; l < 32; l++) sum_x2 += xb[l] * xb[l];
    float av_x = sqrtf(sum_x2 / 32);
    for (int l = 0; l < 32; l++) weights[l] = av_x + fabsf(xb[l]);
    scales[j] = make_qkx2_quants(32, nmax, xb, weights, L + 32 * j, &mins[j], Laux, rmin, rdelta,
                                 nstep);
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }
  float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  uint8_t *sc = scales_out;
  for (int j = 0; j < SOTTO_QK_K / 32; j++) {
    uint8_t ls = (uint8_t)nearest_int(inv_scale * scales[j]);
    uint8_t lm = (uint8_t)nearest_int(inv_min * mins[j]);
    ls = MIN(63, ls);
    lm = MIN(63, lm);
    if (j < 4) {
      sc[j] = ls;
      sc[j + 4] = lm;
    } else {
      sc[j + 4] = (uint8_t)((ls & 0xf) | (lm & 0xf) << 4);
      sc[j - 4] |= (uint8_t)((ls >> 4) << 6);
      sc[j] |= (uint8_t)((lm >> 4) << 6);
    }
  }
  *d_out = F2H(max_scale / 63.f);
  *dmin_out = F2H(max_min / 63.f);
  for (int j = 0; j < SOTTO_QK_K / 32; j++) {
    uint8_t s, m;
    scale_min_k4(j, sc, &s, &m);
    const float d = H2F(*d_out) * s;
    if (!d) continue;
    const float dm = H2F(*dmin_out) * m;
    for (int ii = 0; ii < 32; ii++) {
      int l = nearest_int((x[32 * j + ii] + dm) / d);
      L[32 * j + ii] = (uint8_t)MAX(0, MIN(nmax, l));
    }
  }
}

static void quantize_q4_k(const float *x, sotto_block_q4_k *y, int64_t nb) {
  uint8_t L[SOTTO_QK_K];
  for (int64_t i = 0; i < nb; i++, x += SOTTO_QK_K) {
    memset(y[i].scales, 0, SOTTO_K_SCALE_BYTES);
    quantize_k_scales(x, 15, -1.f, 0.1f, 20, &y[i].d, &y[i].dmin, y[i].scales, L);
    uint8_t *q = y[i].qs;
    for (int j = 0; j < SOTTO_QK_K; j += 64, q += 32)
      for (int l = 0; l < 32; l++) q[l] = (uint8_t)(L[j + l] | L[j + l + 32] << 4);
  }
}

static void quantize_q5_k(const float *x, sotto_block_q5_k *y, int64_t nb) {
  uint8_t L[SOTTO_QK_K];
  for (int64_t i = 0; i < nb; i++, x += SOTTO_QK_K) {
    memset(y[i].scales, 0, SOTTO_K_SCALE_BYTES);
    quantize_k_scales(x, 31, -0.5f, 0.1f, 15, &y[i].d, &y[i].dmin, y[i].scales, L);
    uint8_t *qh = y[i].qh, *ql = y[i].qs;
    memset(qh, 0, SOTTO_QK_K / 8);
    uint8_t m1 = 1, m2 = 2;
    for (int n = 0; n < SOTTO_QK_K; n += 64, ql += 32, m1 <<= 2, m2 <<= 2) {
      for (int j = 0; j < 32; j++) {
        int l1 = L[n + j], l2 = L[n + j + 32];
        if (l1 > 15) l1 -= 16, qh[j] |= m1;
        if (l2 > 15) l2 -= 16, qh[j] |= m2;
        ql[j] = (uint8_t)(l1 | l2 << 4);
      }
    }
  }
}

/* quantize_row_q6_K_ref: 16 sub-blocks of 16 with an int8 scale each. */
static void quantize_q6_k(const float *x, sotto_block_q6_k *y, int64_t nb) {
  int8_t L[SOTTO_QK_K];
  float scales[SOTTO_QK_K / 16];
  for (int64_t i = 0; i < nb; i++, x += SOTTO_QK_K) {
    float max_scale = 0, max_abs_scale = 0;
    for (int ib = 0; ib < SOTTO_QK_K / 16; ib++) {
      scales[ib] = make_qx_quants(16, 32, x + 16 * ib, L + 16 * ib);
      if (fabsf(scales[ib]) > max_abs_scale) max_abs_scale = fabsf(scales[ib]), max_scale = scales[ib];
    }
    if (max_abs_scale < GROUP_MAX_EPS) {
      memset(&y[i], 0, sizeof y[i]);
      continue;
    }
    float iscale = -128.f / max_scale;
    y[i].d = F2H(1 / iscale);
    for (int ib = 0; ib < SOTTO_QK_K / 16; ib++)
      y[i].scales[ib] = (int8_t)MIN(127, nearest_int(iscale * scales[ib]));
    for (int j = 0; j < SOTTO_QK_K / 16; j++) {
      float d = H2F(y[i].d) * y[i].scales[j];
      if (!d) continue;
      for (int ii = 0; ii < 16; ii++) {
        int l = nearest_int(x[16 * j + ii] / d);
        L[16 * j + ii] = (int8_t)(MAX(-32, MIN(31, l)) + 32);
      }
    }
    uint8_t *ql = y[i].ql, *qh = y[i].qh;
    for (int j = 0; j < SOTTO_QK_K; j += 128, ql += 64, qh += 32) {
      for (int l = 0; l < 32; l++) {
        const uint8_t *v = (const uint8_t *)L + j + l;
        ql[l] = (uint8_t)((v[0] & 0xf) | (v[64] & 0xf) << 4);
        ql[l + 32] = (uint8_t)((v[32] & 0xf) | (v[96] & 0xf) << 4);
        qh[l] = (uint8_t)(v[0] >> 4 | (v[32] >> 4) << 2 | (v[64] >> 4) << 4 | (v[96] >> 4) << 6);
      }
    }
  }
}

/* quantize_row_q8_K_ref: d = max / -127 with the sign of the value of
 * largest magnitude; bsums hold the sums of each 16 quants. */
static void quantize_q8_k(const float *x, sotto_block_q8_k *y, int64_t nb) {
  for (int64_t i = 0; i < nb; i++, x += SOTTO_QK_K) {
    float max = 0, amax = 0;
    for (int j = 0; j < SOTTO_QK_K; j++)
      if (fabsf(x[j]) > amax) amax = fabsf(x[j]), max = x[j];
    if (!amax) {
      memset(&y[i], 0, sizeof y[i]);
      continue;
    }
    const float iscale = -127.f / max;
    for (int j = 0; j < SOTTO_QK_K; j++) y[i].qs[j] = (int8_t)MIN(127, nearest_int(iscale * x[j]));
    for (int j = 0; j < SOTTO_QK_K / 16; j++) {
      int sum = 0;
      for (int ii = 0; ii < 16; ii++) sum += y[i].qs[j * 16 + ii];
      y[i].bsums[j] = (int16_t)sum;
    }
    y[i].d = 1 / iscale;
  }
}

/* dequantize_row_q4_K and dequantize_row_q5_K: value = d * scale * q -
 * dmin * min, per 32-value sub-block; q5_K adds 16 where the high bit (qh)
 * is set (qh is NULL for q4_K). */
static void dequantize_k_block(sotto_half dh, sotto_half dminh, const uint8_t *scales,
                               const uint8_t *ql, const uint8_t *qh, float *y) {
  const float d = H2F(dh), min = H2F(dminh);
  uint8_t u1 = 1, u2 = 2;
  for (int j = 0, is = 0; j < SOTTO_QK_K; j += 64, ql += 32, is += 2, u1 <<= 2, u2 <<= 2) {
    uint8_t sc, m;
    scale_min_k4(is, scales, &sc, &m);
    const float d1 = d * sc, m1 = min * m;
    scale_min_k4(is + 1, scales, &sc, &m);
    const float d2 = d * sc, m2 = min * m;
    for (int l = 0; l < 32; l++) *y++ = d1 * ((ql[l] & 0xf) + (qh && qh[l] & u1 ? 16 : 0)) - m1;
    for (int l = 0; l < 32; l++) *y++ = d2 * ((ql[l] >> 4) + (qh && qh[l] & u2 ? 16 : 0)) - m2;
  }
}

static void dequantize_q4_k(const sotto_block_q4_k *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; i++, y += SOTTO_QK_K)
    dequantize_k_block(x[i].d, x[i].dmin, x[i].scales, x[i].qs, NULL, y);
}

static void dequantize_q5_k(const sotto_block_q5_k *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; i++, y += SOTTO_QK_K)
    dequantize_k_block(x[i].d, x[i].dmin, x[i].scales, x[i].qs, x[i].qh, y);
}

/* dequantize_row_q6_K: value = d * scale * (q - 32). */
static void dequantize_q6_k(const sotto_block_q6_k *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; i++) {
    const float d = H2F(x[i].d);
    const uint8_t *ql = x[i].ql, *qh = x[i].qh;
    const int8_t *sc = x[i].scales;
    for (int n = 0; n < SOTTO_QK_K; n += 128, y += 128, ql += 64, qh += 32, sc += 8) {
      for (int l = 0; l < 32; l++) {
        int is = l / 16;
        int q1 = ((ql[l] & 0xf) | ((qh[l] >> 0) & 3) << 4) - 32;
        int q2 = ((ql[l + 32] & 0xf) | ((qh[l] >> 2) & 3) << 4) - 32;
        int q3 = ((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4) - 32;
        int q4 = ((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4) - 32;
        y[l] = d * sc[is] * q1;
        y[l + 32] = d * sc[is + 2] * q2;
        y[l + 64] = d * sc[is + 4] * q3;
        y[l + 96] = d * sc[is + 6] * q4;
      }
    }
  }
}

static void dequantize_q8_k(const sotto_block_q8_k *x, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; i++, y += SOTTO_QK_K)
    for (int j = 0; j < SOTTO_QK_K; j++) y[j] = x[i].d * x[i].qs[j];
}

/* ---- rows ---- */

void sotto_dequantize_row(sotto_dtype type, const void *src, float *dst, int64_t n) {
  const sotto_dtype_info *t = sotto_dtype_get(type);
  if (!t || n <= 0 || n % t->block) return;
  const int64_t nb = n / t->block;
  const uint16_t *h = src;
  switch (type) {
    case SOTTO_DTYPE_F32: memcpy(dst, src, (size_t)n * 4); break;
    case SOTTO_DTYPE_F16: for (int64_t i = 0; i < n; i++) dst[i] = H2F(h[i]); break;
    case SOTTO_DTYPE_BF16: for (int64_t i = 0; i < n; i++) dst[i] = sotto_bf16_to_float(h[i]); break;
    case SOTTO_DTYPE_Q4_0: dequantize_q4_0(src, dst, nb); break;
    case SOTTO_DTYPE_Q4_1: dequantize_q4_1(src, dst, nb); break;
    case SOTTO_DTYPE_Q5_0: dequantize_q5_0(src, dst, nb); break;
    case SOTTO_DTYPE_Q5_1: dequantize_q5_1(src, dst, nb); break;
    case SOTTO_DTYPE_Q8_0: dequantize_q8_0(src, dst, nb); break;
    case SOTTO_DTYPE_Q8_1: dequantize_q8_1(src, dst, nb); break;
    case SOTTO_DTYPE_Q4_K: dequantize_q4_k(src, dst, nb); break;
    case SOTTO_DTYPE_Q5_K: dequantize_q5_k(src, dst, nb); break;
    case SOTTO_DTYPE_Q6_K: dequantize_q6_k(src, dst, nb); break;
    case SOTTO_DTYPE_Q8_K: dequantize_q8_k(src, dst, nb); break;
    default: break;
  }
}

size_t sotto_quantize_row(sotto_dtype type, const float *src, void *dst, int64_t n) {
  size_t bytes = sotto_dtype_row_bytes(type, n);
  if (!bytes) return 0;
  const int64_t nb = n / sotto_dtype_get(type)->block;
  uint16_t *h = dst;
  switch (type) {
    case SOTTO_DTYPE_F32: memcpy(dst, src, bytes); break;
    case SOTTO_DTYPE_F16: for (int64_t i = 0; i < n; i++) h[i] = F2H(src[i]); break;
    case SOTTO_DTYPE_BF16: for (int64_t i = 0; i < n; i++) h[i] = sotto_float_to_bf16(src[i]); break;
    case SOTTO_DTYPE_Q4_0: quantize_q4_0(src, dst, nb); break;
    case SOTTO_DTYPE_Q4_1: quantize_q4_1(src, dst, nb); break;
    case SOTTO_DTYPE_Q5_0: quantize_q5_0(src, dst, nb); break;
    case SOTTO_DTYPE_Q5_1: quantize_q5_1(src, dst, nb); break;
    case SOTTO_DTYPE_Q8_0: quantize_q8_0(src, dst, nb); break;
    case SOTTO_DTYPE_Q8_1: quantize_q8_1(src, dst, nb); break;
    case SOTTO_DTYPE_Q4_K: quantize_q4_k(src, dst, nb); break;
    case SOTTO_DTYPE_Q5_K: quantize_q5_k(src, dst, nb); break;
    case SOTTO_DTYPE_Q6_K: quantize_q6_k(src, dst, nb); break;
    case SOTTO_DTYPE_Q8_K: quantize_q8_k(src, dst, nb); break;
    default: return 0;
  }
  return bytes;
}
