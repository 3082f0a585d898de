/*
 * vecmath.c - elementwise exp, SiLU and GELU, residual + layer norm
 * (vecmath.h), 4 lanes at a time in SSE2 or wasm SIMD128 (exp and SiLU 16
 * at a time where x86-64 has AVX-512, to the same bits), the same
 * arithmetic in plain C for the rest.
 */
#include <math.h>
#include <string.h>

#include "ops/vecmath.h"

#define EXP_LO -87.33654f
#define EXP_HI 88.0f
#define LOG2E 1.44269504088896341f
#define ROUND 12582912.0f /* 1.5 * 2^23: x + ROUND - ROUND rounds x */
#define LN2_HI 0.693359375f
#define LN2_LO -2.12194440e-4f
#define P0 1.9875691500e-4f
#define P1 1.3981999507e-3f
#define P2 8.3334519073e-3f
#define P3 4.1665795894e-2f
#define P4 1.6666665459e-1f
#define P5 5.0000001201e-1f

static float expf1(float x) {
  x = x < EXP_LO ? EXP_LO : x > EXP_HI ? EXP_HI : x;
  const float n = (x * LOG2E + ROUND) - ROUND;
  const float r = (x - n * LN2_HI) - n * LN2_LO;
  float p = ((((P0 * r + P1) * r + P2) * r + P3) * r + P4) * r + P5;
  p = p * r * r + r + 1.0f;
  const int32_t e = ((n == n ? (int32_t)n : 0) + 127) << 23; /* NaN stays NaN, through p */
  float s;
  memcpy(&s, &e, 4);
  return p * s;
}

/* expf1's arithmetic on vectors of any width, one lane op at a time in
 * the same order (so every width gives the same bits). */
#define DEFINE_VEXP(name, T, SET, ADD, SUB, MUL, MIN, MAX, EXP2I)        \
  static inline T name(T x) {                                           \
    x = MIN(MAX(x, SET(EXP_LO)), SET(EXP_HI));                          \
    const T n = SUB(ADD(MUL(x, SET(LOG2E)), SET(ROUND)), SET(ROUND));   \
    const T r = SUB(SUB(x, MUL(n, SET(LN2_HI))), MUL(n, SET(LN2_LO)));  \
    T p = ADD(MUL(SET(P0), r), SET(P1));                                \
    p = ADD(MUL(p, r), SET(P2));                                        \
    p = ADD(MUL(p, r), SET(P3));                                        \
    p = ADD(MUL(p, r), SET(P4));                                        \
    p = ADD(MUL(p, r), SET(P5));                                        \
    p = ADD(ADD(MUL(MUL(p, r), r), r), SET(1.0f));                      \
    return MUL(p, EXP2I(n));                                            \
  }

#if defined(__SSE2__)
#include <emmintrin.h>
#define V __m128
#define VSET(x) _mm_set1_ps(x)
#define VLOAD(p) _mm_loadu_ps(p)
#define VSTORE(p, v) _mm_storeu_ps(p, v)
#define VADD _mm_add_ps
#define VSUB _mm_sub_ps
#define VMUL _mm_mul_ps
#define VDIV _mm_div_ps
#define VMIN _mm_min_ps
#define VMAX _mm_max_ps
#define VEXP2I(n) _mm_castsi128_ps(_mm_slli_epi32(_mm_add_epi32(_mm_cvttps_epi32(n), _mm_set1_epi32(127)), 23))
#define VSUM(v) (_mm_cvtss_f32(v) + _mm_cvtss_f32(_mm_shuffle_ps(v, v, 1)) + \
                 _mm_cvtss_f32(_mm_shuffle_ps(v, v, 2)) + _mm_cvtss_f32(_mm_shuffle_ps(v, v, 3)))
#elif defined(__wasm_simd128__)
#include <wasm_simd128.h>
#define V v128_t
#define VSET(x) wasm_f32x4_splat(x)
#define VLOAD(p) wasm_v128_load(p)
#define VSTORE(p, v) wasm_v128_store(p, v)
#define VADD wasm_f32x4_add
#define VSUB wasm_f32x4_sub
#define VMUL wasm_f32x4_mul
#define VDIV wasm_f32x4_div
#define VMIN wasm_f32x4_pmin
#define VMAX wasm_f32x4_pmax
#define VEXP2I(n) wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(n), wasm_i32x4_splat(127)), 23)
#define VSUM(v) (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1) + \
                 wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3))
#endif

/* x86-64 (gcc): the same arithmetic 16 lanes at a time where AVX-512 is
 * there, without fused multiply-adds, so every result is the SSE2 one to the
 * bit; sotto_vexp's sum still adds 4 lanes in the SSE2 order. */
#if defined(__SSE2__) && defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define AVX512_PATH 1
#pragma GCC push_options
#pragma GCC target("avx512f")
#pragma GCC optimize("fp-contract=off")
#include <immintrin.h>

#define V16EXP2I(n) \
  _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_cvttps_epi32(n), _mm512_set1_epi32(127)), 23))
DEFINE_VEXP(vexp16, __m512, _mm512_set1_ps, _mm512_add_ps, _mm512_sub_ps, _mm512_mul_ps, _mm512_min_ps,
            _mm512_max_ps, V16EXP2I)

/* The first n / 16 * 16 elements; *s: the 4-lane sums as SSE2 adds them. */
static int64_t vexp_avx512(float *x, int64_t n, float sub, __m128 *s) {
  int64_t i = 0;
  __m128 acc = *s;
  for (; i + 16 <= n; i += 16) {
    const __m512 e = vexp16(_mm512_sub_ps(_mm512_loadu_ps(x + i), _mm512_set1_ps(sub)));
    _mm512_storeu_ps(x + i, e);
    acc = _mm_add_ps(acc, _mm512_extractf32x4_ps(e, 0));
    acc = _mm_add_ps(acc, _mm512_extractf32x4_ps(e, 1));
    acc = _mm_add_ps(acc, _mm512_extractf32x4_ps(e, 2));
    acc = _mm_add_ps(acc, _mm512_extractf32x4_ps(e, 3));
  }
  *s = acc;
  return i;
}

static int64_t silu_mul_avx512(float *a, const float *b, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 x = _mm512_loadu_ps(a + i);
    const __m512 e = vexp16(_mm512_sub_ps(_mm512_setzero_ps(), x));
    _mm512_storeu_ps(a + i, _mm512_mul_ps(_mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), e)),
                                          _mm512_loadu_ps(b + i)));
  }
  return i;
}
#pragma GCC pop_options
#endif

#ifdef V
DEFINE_VEXP(vexp, V, VSET, VADD, VSUB, VMUL, VMIN, VMAX, VEXP2I)
#endif

float sotto_vexp(float *x, int64_t n, float sub) {
  int64_t i = 0;
  float sum = 0;
#ifdef V
  V s = VSET(0);
#ifdef AVX512_PATH
  if (__builtin_cpu_supports("avx512f")) i = vexp_avx512(x, n, sub, &s);
#endif
  for (; i + 4 <= n; i += 4) {
    const V e = vexp(VSUB(VLOAD(x + i), VSET(sub)));
    VSTORE(x + i, e);
    s = VADD(s, e);
  }
  sum = VSUM(s);
#endif
  for (; i < n; i++) sum += x[i] = expf1(x[i] - sub);
  return sum;
}

void sotto_vsilu_mul(float *a, const float *b, int64_t n) {
  int64_t i = 0;
#ifdef AVX512_PATH
  if (__builtin_cpu_supports("avx512f")) i = silu_mul_avx512(a, b, n);
#endif
#ifdef V
  for (; i + 4 <= n; i += 4) {
    const V x = VLOAD(a + i);
    const V e = vexp(VSUB(VSET(0), x));
    VSTORE(a + i, VMUL(VDIV(x, VADD(VSET(1.0f), e)), VLOAD(b + i)));
  }
#endif
  for (; i < n; i++) a[i] = a[i] / (1.0f + expf1(-a[i])) * b[i];
}

void sotto_vgelu_mul(float *a, const float *b, int64_t n) {
  const float k = 0.7978845608028654f, c = 0.044715f;
  int64_t i = 0;
#ifdef V
  for (; i + 4 <= n; i += 4) {
    const V x = VLOAD(a + i);
    const V u = VMUL(VSET(k), VADD(x, VMUL(VSET(c), VMUL(x, VMUL(x, x)))));
    const V e = vexp(VADD(u, u));
    VSTORE(a + i, VMUL(VSUB(x, VDIV(x, VADD(e, VSET(1.0f)))), VLOAD(b + i)));
  }
#endif
  for (; i < n; i++) {
    const float x = a[i], u = k * (x + c * x * x * x);
    a[i] = (x - x / (expf1(2 * u) + 1.0f)) * b[i];
  }
}

/* Sums in 16 lanes (lane j adds elements 16k + j) kept as four 4-lane
 * sums, so that four additions are in flight at once instead of one chain;
 * then the four added pairwise, (0 + 1) + (2 + 3), their lanes
 * 0 + 1 + 2 + 3, then the tail one by one: the same order with and without
 * SIMD, so native and wasm agree to the last bit. */
#ifdef V
#define SUM16(s0, s1, s2, s3) VSUM(VADD(VADD(s0, s1), VADD(s2, s3)))
#else
static float sum16(const float *lane) {
  float t[4];
  for (int j = 0; j < 4; j++) t[j] = (lane[j] + lane[4 + j]) + (lane[8 + j] + lane[12 + j]);
  return t[0] + t[1] + t[2] + t[3];
}
#endif

void sotto_vadd_layernorm(float *x, const float *y, const float *gamma, const float *beta,
                          int64_t n, float eps) {
  int64_t i = 0, body = n / 16 * 16;
  float sum = 0, var = 0;
#ifdef V
  V s0 = VSET(0), s1 = s0, s2 = s0, s3 = s0;
  if (y)
    for (; i < body; i += 16) {
      const V v0 = VADD(VLOAD(x + i), VLOAD(y + i)), v1 = VADD(VLOAD(x + i + 4), VLOAD(y + i + 4));
      const V v2 = VADD(VLOAD(x + i + 8), VLOAD(y + i + 8));
      const V v3 = VADD(VLOAD(x + i + 12), VLOAD(y + i + 12));
      VSTORE(x + i, v0), VSTORE(x + i + 4, v1), VSTORE(x + i + 8, v2), VSTORE(x + i + 12, v3);
      s0 = VADD(s0, v0), s1 = VADD(s1, v1), s2 = VADD(s2, v2), s3 = VADD(s3, v3);
    }
  else
    for (; i < body; i += 16) {
      s0 = VADD(s0, VLOAD(x + i)), s1 = VADD(s1, VLOAD(x + i + 4));
      s2 = VADD(s2, VLOAD(x + i + 8)), s3 = VADD(s3, VLOAD(x + i + 12));
    }
  sum = SUM16(s0, s1, s2, s3);
#else
  float lane[16] = {0};
  for (; i < body; i++) lane[i % 16] += y ? (x[i] += y[i]) : x[i];
  sum = sum16(lane);
#endif
  for (; i < n; i++) sum += y ? (x[i] += y[i]) : x[i];
  const float mean = sum / (float)n;
  i = 0;
#ifdef V
  const V m = VSET(mean);
  s0 = s1 = s2 = s3 = VSET(0);
  for (; i < body; i += 16) {
    const V d0 = VSUB(VLOAD(x + i), m), d1 = VSUB(VLOAD(x + i + 4), m);
    const V d2 = VSUB(VLOAD(x + i + 8), m), d3 = VSUB(VLOAD(x + i + 12), m);
    s0 = VADD(s0, VMUL(d0, d0)), s1 = VADD(s1, VMUL(d1, d1));
    s2 = VADD(s2, VMUL(d2, d2)), s3 = VADD(s3, VMUL(d3, d3));
  }
  var = SUM16(s0, s1, s2, s3);
#else
  for (int k = 0; k < 16; k++) lane[k] = 0;
  for (; i < body; i++) lane[i % 16] += (x[i] - mean) * (x[i] - mean);
  var = sum16(lane);
#endif
  for (; i < n; i++) var += (x[i] - mean) * (x[i] - mean);
  const float inv = 1.0f / sqrtf(var / (float)n + eps);
  i = 0;
#ifdef V
  const V r = VSET(inv);
  for (; i < n / 4 * 4; i += 4) {
    V v = VMUL(VSUB(VLOAD(x + i), m), r);
    if (gamma) v = VMUL(v, VLOAD(gamma + i));
    if (beta) v = VADD(v, VLOAD(beta + i));
    VSTORE(x + i, v);
  }
#endif
  for (; i < n; i++) {
    float v = (x[i] - mean) * inv;
    x[i] = v * (gamma ? gamma[i] : 1.0f) + (beta ? beta[i] : 0.0f);
  }
}

int sotto_vfinite(const float *x, int64_t n) {
  for (int64_t i = 0; x && i < n; i++)
    if (!isfinite(x[i])) return 0;
  return 1;
}
