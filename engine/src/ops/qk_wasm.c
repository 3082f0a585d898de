/*
 * qk_wasm.c - the kernels of qkernels.h in WebAssembly SIMD128 (no relaxed
 * SIMD). int8 products use i16x8.extmul (|q| <= 127 on one side, so a sum
 * of two products fits int16) and i32x4.extadd_pairwise. Float weights
 * other than F32 keep the scalar kernels (they have no wasm conversion
 * instruction and are test formats in the browser).
 */
#include "ops/qkernels.h"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

#define QK_INLINE static inline __attribute__((always_inline))
#define ROW(T, r) ((const T *)((const uint8_t *)x + (size_t)(r) * xs))

#define QK_DISPATCH(name)                                                              \
  static void name(int64_t n, const void *w, const void *x, size_t xs, int nr,         \
                   float *out) {                                                       \
    switch (nr) {                                                                      \
      case 1: name##_n(n, w, x, xs, 1, out); break;                                    \
      case 2: name##_n(n, w, x, xs, 2, out); break;                                    \
      case 3: name##_n(n, w, x, xs, 3, out); break;                                    \
      default: name##_n(n, w, x, xs, 4, out); break;                                   \
    }                                                                                  \
  }

/* 4 x int32: sums of products of 16 signed bytes a and b (|b| <= 127). */
QK_INLINE v128_t dot16(v128_t a, v128_t b) {
  const v128_t p = wasm_i16x8_add(wasm_i16x8_extmul_low_i8x16(a, b),
                                  wasm_i16x8_extmul_high_i8x16(a, b));
  return wasm_i32x4_extadd_pairwise_i16x8(p);
}

QK_INLINE float hsum4(v128_t v) {
  return wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1) +
         wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3);
}

QK_INLINE int hsum4i(v128_t v) {
  return wasm_i32x4_extract_lane(v, 0) + wasm_i32x4_extract_lane(v, 1) +
         wasm_i32x4_extract_lane(v, 2) + wasm_i32x4_extract_lane(v, 3);
}

QK_INLINE void dot_f32_n(int64_t n, const void *w, const void *x, size_t xs, int nr,
                         float *out) {
  const float *a = w;
  v128_t acc[4][2];
  for (int r = 0; r < nr; r++) acc[r][0] = acc[r][1] = wasm_f32x4_splat(0);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const v128_t w0 = wasm_v128_load(a + i), w1 = wasm_v128_load(a + i + 4);
    for (int r = 0; r < nr; r++) {
      acc[r][0] = wasm_f32x4_add(acc[r][0], wasm_f32x4_mul(w0, wasm_v128_load(ROW(float, r) + i)));
      acc[r][1] =
          wasm_f32x4_add(acc[r][1], wasm_f32x4_mul(w1, wasm_v128_load(ROW(float, r) + i + 4)));
    }
  }
  for (int r = 0; r < nr; r++) {
    float s = hsum4(wasm_f32x4_add(acc[r][0], acc[r][1]));
    for (int64_t j = i; j < n; j++) s += a[j] * ROW(float, r)[j];
    out[r] = s;
  }
}
QK_DISPATCH(dot_f32)

/* ---- 32-blocks: the weights as two signed 16-byte halves (values 0..15 and
 * 16..31), offsets applied before the product. */
#define QK_BLOCK32_DOT(name, BLOCK, DECODE, HAS_MIN, MIN)                               \
  QK_INLINE void name##_n(int64_t n, const void *w, const void *x, size_t xs, int nr,  \
                          float *out) {                                                \
    const BLOCK *a = w;                                                                \
    v128_t acc[4];                                                                     \
    float accm[4] = {0, 0, 0, 0};                                                      \
    for (int r = 0; r < nr; r++) acc[r] = wasm_f32x4_splat(0);                         \
    for (int64_t i = 0; i < n / SOTTO_QK; i++) {                                       \
      const float dw = qk_half(a[i].d);                                                \
      v128_t q0, q1;                                                                   \
      DECODE                                                                           \
      for (int r = 0; r < nr; r++) {                                                   \
        const sotto_block_q8a *b = ROW(sotto_block_q8a, r) + i;                        \
        const v128_t p = wasm_i32x4_add(dot16(q0, wasm_v128_load(b->qs)),              \
                                        dot16(q1, wasm_v128_load(b->qs + 16)));        \
        acc[r] = wasm_f32x4_add(acc[r], wasm_f32x4_mul(wasm_f32x4_splat(dw * b->d),     \
                                                       wasm_f32x4_convert_i32x4(p)));  \
        if (HAS_MIN) accm[r] += (MIN) * b->d * (float)b->sum;                          \
      }                                                                                \
    }                                                                                  \
    for (int r = 0; r < nr; r++) out[r] = hsum4(acc[r]) + accm[r];                     \
  }                                                                                    \
  QK_DISPATCH(name)

/* Byte k = 0x10 when bit k of the 16 bits is set. */
QK_INLINE v128_t bits16(uint32_t bits) {
  const v128_t sel = wasm_i8x16_make(1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128);
  const v128_t b = wasm_i8x16_make((int8_t)bits, (int8_t)bits, (int8_t)bits, (int8_t)bits,
                                   (int8_t)bits, (int8_t)bits, (int8_t)bits, (int8_t)bits,
                                   (int8_t)(bits >> 8), (int8_t)(bits >> 8), (int8_t)(bits >> 8),
                                   (int8_t)(bits >> 8), (int8_t)(bits >> 8), (int8_t)(bits >> 8),
                                   (int8_t)(bits >> 8), (int8_t)(bits >> 8));
  const v128_t set = wasm_i8x16_eq(wasm_v128_and(b, sel), sel);
  return wasm_v128_and(set, wasm_i8x16_splat(0x10));
}

#define NIBBLES                                                                        \
  const v128_t raw = wasm_v128_load(a[i].qs);                                          \
  q0 = wasm_v128_and(raw, wasm_i8x16_splat(0x0F));                                     \
  q1 = wasm_u8x16_shr(raw, 4);
#define FIFTH_BITS                                                                     \
  uint32_t qh;                                                                         \
  memcpy(&qh, a[i].qh, 4);                                                             \
  q0 = wasm_v128_or(q0, bits16(qh & 0xFFFF));                                          \
  q1 = wasm_v128_or(q1, bits16(qh >> 16));
#define OFFSET(o)                                                                      \
  q0 = wasm_i8x16_sub(q0, wasm_i8x16_splat(o));                                        \
  q1 = wasm_i8x16_sub(q1, wasm_i8x16_splat(o));

QK_BLOCK32_DOT(dot_q4_0, sotto_block_q4_0, NIBBLES OFFSET(8), 0, 0)
QK_BLOCK32_DOT(dot_q4_1, sotto_block_q4_1, NIBBLES, 1, qk_half(a[i].m))
QK_BLOCK32_DOT(dot_q5_0, sotto_block_q5_0, NIBBLES FIFTH_BITS OFFSET(16), 0, 0)
QK_BLOCK32_DOT(dot_q5_1, sotto_block_q5_1, NIBBLES FIFTH_BITS, 1, qk_half(a[i].m))
QK_BLOCK32_DOT(dot_q8_0, sotto_block_q8_0,
               q0 = wasm_v128_load(a[i].qs); q1 = wasm_v128_load(a[i].qs + 16);, 0, 0)

/* ---- K-quants ---- */

#define QK_K4_DOT(name, BLOCK, FIFTH_BIT, QH)                                            \
  QK_INLINE void name##_n(int64_t n, const void *w, const void *x, size_t xs, int nr,  \
                          float *out) {                                                \
    const BLOCK *a = w;                                                                \
    float acc[4] = {0, 0, 0, 0};                                                       \
    const v128_t low4 = wasm_i8x16_splat(0x0F), one = wasm_i8x16_splat(1);             \
    for (int64_t i = 0; i < n / SOTTO_QK_K; i++) {                                     \
      uint8_t sm[16];                                                                  \
      qk_unpack_k4(a[i].scales, sm);                                                   \
      const float d = qk_half(a[i].d), dmin = qk_half(a[i].dmin);                      \
      v128_t sumi[4];                                                                  \
      for (int r = 0; r < nr; r++) sumi[r] = wasm_i32x4_splat(0);                      \
      for (int c = 0; c < 4; c++) {                                                    \
        for (int half = 0; half < 2; half++) {                                         \
          const v128_t raw = wasm_v128_load(a[i].qs + 32 * c + 16 * half);             \
          v128_t lo = wasm_v128_and(raw, low4), hi = wasm_u8x16_shr(raw, 4);           \
          if (FIFTH_BIT) {                                                             \
            const v128_t h = wasm_v128_load((QH) + 16 * half);                         \
            lo = wasm_v128_or(lo, wasm_i8x16_shl(wasm_v128_and(wasm_u8x16_shr(h, 2 * c), one), 4)); \
            hi = wasm_v128_or(hi, wasm_i8x16_shl(wasm_v128_and(wasm_u8x16_shr(h, 2 * c + 1), one), 4)); \
          }                                                                            \
          const v128_t s0 = wasm_i32x4_splat(sm[2 * c]), s1 = wasm_i32x4_splat(sm[2 * c + 1]); \
          for (int r = 0; r < nr; r++) {                                               \
            const int8_t *y = ROW(sotto_block_q8_k, r)[i].qs + 64 * c + 16 * half;     \
            sumi[r] = wasm_i32x4_add(sumi[r], wasm_i32x4_mul(dot16(lo, wasm_v128_load(y)), s0)); \
            sumi[r] = wasm_i32x4_add(sumi[r], wasm_i32x4_mul(dot16(hi, wasm_v128_load(y + 32)), s1)); \
          }                                                                            \
        }                                                                              \
      }                                                                                \
      for (int r = 0; r < nr; r++) {                                                   \
        const sotto_block_q8_k *b = ROW(sotto_block_q8_k, r) + i;                      \
        int summ = 0;                                                                  \
        for (int j = 0; j < 8; j++) summ += sm[8 + j] * (b->bsums[2 * j] + b->bsums[2 * j + 1]); \
        acc[r] += b->d * (d * (float)hsum4i(sumi[r]) - dmin * (float)summ);            \
      }                                                                                \
    }                                                                                  \
    for (int r = 0; r < nr; r++) out[r] = acc[r];                                      \
  }                                                                                    \
  QK_DISPATCH(name)

QK_K4_DOT(dot_q4_k, sotto_block_q4_k, 0, a[i].qs)
QK_K4_DOT(dot_q5_k, sotto_block_q5_k, 1, a[i].qh)

QK_INLINE void dot_q6_k_n(int64_t n, const void *w, const void *x, size_t xs, int nr,
                          float *out) {
  const sotto_block_q6_k *a = w;
  float acc[4] = {0, 0, 0, 0};
  const v128_t low4 = wasm_i8x16_splat(0x0F), three = wasm_i8x16_splat(3);
  const v128_t m32 = wasm_i8x16_splat(32);
  for (int64_t i = 0; i < n / SOTTO_QK_K; i++) {
    v128_t sumi[4];
    for (int r = 0; r < nr; r++) sumi[r] = wasm_i32x4_splat(0);
    for (int h = 0; h < 2; h++) {
      for (int g = 0; g < 2; g++) { /* 16 of the 32 values of each quarter */
        const v128_t la = wasm_v128_load(a[i].ql + 64 * h + 16 * g);
        const v128_t lb = wasm_v128_load(a[i].ql + 64 * h + 32 + 16 * g);
        const v128_t hb = wasm_v128_load(a[i].qh + 32 * h + 16 * g);
        v128_t q[4];
        q[0] = wasm_v128_and(la, low4);
        q[1] = wasm_v128_and(lb, low4);
        q[2] = wasm_u8x16_shr(la, 4);
        q[3] = wasm_u8x16_shr(lb, 4);
        for (int k = 0; k < 4; k++) {
          const v128_t hk = wasm_v128_and(wasm_u8x16_shr(hb, 2 * k), three);
          const v128_t qk = wasm_i8x16_sub(wasm_v128_or(q[k], wasm_i8x16_shl(hk, 4)), m32);
          const v128_t s = wasm_i32x4_splat(a[i].scales[8 * h + 2 * k + g]);
          for (int r = 0; r < nr; r++) {
            const int8_t *y = ROW(sotto_block_q8_k, r)[i].qs + 128 * h + 32 * k + 16 * g;
            sumi[r] = wasm_i32x4_add(sumi[r], wasm_i32x4_mul(dot16(qk, wasm_v128_load(y)), s));
          }
        }
      }
    }
    const float d = qk_half(a[i].d);
    for (int r = 0; r < nr; r++)
      acc[r] += d * ROW(sotto_block_q8_k, r)[i].d * (float)hsum4i(sumi[r]);
  }
  for (int r = 0; r < nr; r++) out[r] = acc[r];
}
QK_DISPATCH(dot_q6_k)

/* ---- activations ---- */

QK_INLINE float absmax(const float *x, int n) {
  v128_t m = wasm_f32x4_splat(0);
  for (int j = 0; j < n; j += 4) m = wasm_f32x4_max(m, wasm_f32x4_abs(wasm_v128_load(x + j)));
  return fmaxf(fmaxf(wasm_f32x4_extract_lane(m, 0), wasm_f32x4_extract_lane(m, 1)),
               fmaxf(wasm_f32x4_extract_lane(m, 2), wasm_f32x4_extract_lane(m, 3)));
}

/* 16 floats times id, rounded to nearest even, to 16 int8; returns the sum. */
QK_INLINE int quant16(const float *x, float id, int8_t *q) {
  const v128_t m = wasm_f32x4_splat(id);
  v128_t i[4];
  for (int k = 0; k < 4; k++)
    i[k] = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_f32x4_mul(wasm_v128_load(x + 4 * k), m)));
  const v128_t s = wasm_i32x4_add(wasm_i32x4_add(i[0], i[1]), wasm_i32x4_add(i[2], i[3]));
  wasm_v128_store(q, wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(i[0], i[1]),
                                             wasm_i16x8_narrow_i32x4(i[2], i[3])));
  return hsum4i(s);
}

static void quant_q8a(const float *x, void *out, int64_t n) {
  sotto_block_q8a *b = out;
  for (int64_t i = 0; i < n / SOTTO_QK; i++, x += SOTTO_QK) {
    const float d = absmax(x, SOTTO_QK) / 127, id = d ? 1 / d : 0;
    b[i].d = d;
    b[i].sum = quant16(x, id, b[i].qs) + quant16(x + 16, id, b[i].qs + 16);
  }
}

static void quant_q8k(const float *x, void *out, int64_t n) {
  sotto_block_q8_k *b = out;
  for (int64_t i = 0; i < n / SOTTO_QK_K; i++, x += SOTTO_QK_K) {
    const float d = absmax(x, SOTTO_QK_K) / 127, id = d ? 1 / d : 0;
    b[i].d = d;
    for (int g = 0; g < SOTTO_QK_K / 16; g++)
      b[i].bsums[g] = (int16_t)quant16(x + 16 * g, id, b[i].qs + 16 * g);
  }
}

void qk_fill_wasm(qk_table *t) {
  t->isa = "wasm-simd128";
  t->quant[QK_ACT_Q8A] = quant_q8a;
  t->quant[QK_ACT_Q8K] = quant_q8k;
  t->dot[SOTTO_DTYPE_F32] = dot_f32;
  t->dot[SOTTO_DTYPE_Q4_0] = dot_q4_0;
  t->dot[SOTTO_DTYPE_Q4_1] = dot_q4_1;
  t->dot[SOTTO_DTYPE_Q5_0] = dot_q5_0;
  t->dot[SOTTO_DTYPE_Q5_1] = dot_q5_1;
  t->dot[SOTTO_DTYPE_Q8_0] = dot_q8_0;
  t->dot[SOTTO_DTYPE_Q4_K] = dot_q4_k;
  t->dot[SOTTO_DTYPE_Q5_K] = dot_q5_k;
  t->dot[SOTTO_DTYPE_Q6_K] = dot_q6_k;
}
#endif
