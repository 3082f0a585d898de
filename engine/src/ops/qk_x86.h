/*
 * qk_x86.h - the x86 kernels of qkernels.h, written once and compiled twice:
 * qk_avx2.c (AVX2 + FMA + F16C; int8 products with vpmaddubsw) and
 * qk_avx512.c (AVX-512 VL/BW + VNNI: vpdpbusd, 32 vector registers). The
 * including file defines QK_FN(name) (the function name suffix), QK_VNNI
 * (1 when vpdpbusd is there) and QK_TARGET (the instruction sets), and
 * includes qk_x86_end.h after its last function. 256-bit vectors but for
 * tile8_q4_k's nibbles: the blocks are 32 bytes, and on AMD Zen 4 a 512-bit
 * op costs two 256-bit ones.
 *
 * Same integer sums as the scalar references (qk_scalar.c), after the
 * shapes of ggml-cpu's AVX2 vec_dot_<type>_q8_<x> functions.
 */
#include "ops/qk_target.h"
#include "ops/qkernels.h"

/* Loops over the rows of a tile must unroll, or their accumulators live in
 * memory instead of registers (gcc -O2 unrolls none). */
#define QK_UNROLL _Pragma("GCC unroll 4")

/* ---- primitives ---- */

/* Decoding streams each weight once from memory: software prefetches
 * ahead keep more of it in flight than the hardware prefetchers alone (the
 * weights are read in address order, the next row or 8-row group following
 * the last). Into L2 (T1): measured on 2 MiB pages, a streaming Q8_0 GEMV
 * reads about 5 % faster into L2 2 KiB ahead than into L1 1 KiB ahead; the
 * 0.5B model's Q8_0, Q4_0 and Q5_0 layer matrices 3-8 % faster again 3 KiB
 * ahead (3.5 and 4 KiB, or NTA, slower), while the K-quant kernels, with
 * more work per byte, are best 2 KiB ahead (1.5B Q4_K_M decoding 4 %
 * slower at 3 KiB). The prefetch loop is unrolled: a K-quant super-block
 * of 8 rows takes 18-27 lines, and the loop's own instructions made
 * tile8_q4_k about 9 % slower from L2. */
#ifndef QK_PREFETCH_AHEAD
#define QK_PREFETCH_AHEAD 3072   /* blocks of 32 */
#endif
#ifndef QK_PREFETCH_AHEAD_K
#define QK_PREFETCH_AHEAD_K 2048 /* K-quant super-blocks */
#endif
/* tile8_q6_k reads its 8 rows' scales (the last 10 % of the 1,680 bytes)
 * first: 3 KiB ahead streams 8 % faster than 2 (2.5 and 3.5 KiB less). */
#ifndef QK_PREFETCH_AHEAD_Q6K
#define QK_PREFETCH_AHEAD_Q6K 3072
#endif
#define QK_PREFETCH(p, ahead, bytes)                                                   \
  do {                                                                                 \
    if (ahead)                                                                         \
      _Pragma("GCC unroll 32")                                                         \
      for (int pf_ = 0; pf_ < (int)(bytes); pf_ += 64)                                 \
        _mm_prefetch((const char *)(p) + (ahead) + pf_, _MM_HINT_T1);                  \
  } while (0)

/* One half to float with F16C (vcvtph2ps). */
QK_INLINE float half_x86(sotto_half h) { return _cvtsh_ss(h); }

/* 8 x int32: each the sum of 4 products of unsigned u and signed s bytes
 * (u <= 128, so vpmaddubsw cannot saturate). */
QK_INLINE __m256i mul_u8s8(__m256i u, __m256i s) {
#if QK_VNNI
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
#else
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
#endif
}

/* Signed by signed: |a| times b with a's sign. */
QK_INLINE __m256i mul_s8s8(__m256i a, __m256i b) {
  return mul_u8s8(_mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a));
}

QK_INLINE float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

QK_INLINE int hsum8i(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}

/* 32 nibbles of 16 bytes: low nibbles in bytes 0..15, high in 16..31. */
QK_INLINE __m256i nibbles32(const uint8_t *p) {
  const __m128i b = _mm_loadu_si128((const __m128i *)p);
  const __m256i v = _mm256_set_m128i(_mm_srli_epi16(b, 4), b);
  return _mm256_and_si256(v, _mm256_set1_epi8(0x0F));
}

/* Byte k = 0xFF when bit k of the 32 bits at p is set (ggml's
 * bytes_from_bits_32). */
QK_INLINE __m256i bits32(const uint8_t *p) {
  uint32_t x;
  memcpy(&x, p, 4);
  const __m256i shuf = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
                                         0x0101010101010101, 0x0000000000000000);
  __m256i b = _mm256_shuffle_epi8(_mm256_set1_epi32((int)x), shuf);
  b = _mm256_or_si256(b, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe));
  return _mm256_cmpeq_epi8(b, _mm256_set1_epi64x(-1));
}

/* The dot kernels are written for a fixed row count NR (1..4) and
 * instantiated for each, so the accumulators stay in registers. */
#define QK_DISPATCH(name)                                                              \
  static void QK_FN(name)(int64_t n, const void *w, const void *x, size_t xs, int nr,  \
                          float *out) {                                                \
    switch (nr) {                                                                      \
      case 1: name##_n(n, w, x, xs, 1, out); break;                                    \
      case 2: name##_n(n, w, x, xs, 2, out); break;                                    \
      case 3: name##_n(n, w, x, xs, 3, out); break;                                    \
      default: name##_n(n, w, x, xs, 4, out); break;                                   \
    }                                                                                  \
  }

#define ROW(T, r) ((const T *)((const uint8_t *)x + (size_t)(r) * xs))

/* ---- float weights ---- */

QK_INLINE __m256 load_f16x8(const sotto_half *p) {
  return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}
QK_INLINE __m256 load_bf16x8(const uint16_t *p) {
  const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
  return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}
QK_INLINE __m256 load_f32x8(const float *p) { return _mm256_loadu_ps(p); }

#define QK_FLOAT_DOT(name, T, LOAD, SCALAR)                                            \
  QK_INLINE void name##_n(int64_t n, const void *w, const void *x, size_t xs, int nr,  \
                          float *out) {                                                \
    const T *a = w;                                                                    \
    __m256 acc[4][2];                                                                  \
    QK_UNROLL \
    for (int r = 0; r < nr; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();          \
    int64_t i = 0;                                                                     \
    for (; i + 16 <= n; i += 16) {                                                     \
      const __m256 w0 = LOAD(a + i), w1 = LOAD(a + i + 8);                             \
      QK_UNROLL \
      for (int r = 0; r < nr; r++) {                                                   \
        acc[r][0] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(ROW(float, r) + i), acc[r][0]); \
        acc[r][1] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(ROW(float, r) + i + 8), acc[r][1]); \
      }                                                                                \
    }                                                                                  \
    QK_UNROLL \
    for (int r = 0; r < nr; r++) {                                                     \
      float s = hsum8(_mm256_add_ps(acc[r][0], acc[r][1]));                            \
      for (int64_t j = i; j < n; j++) s += SCALAR(a[j]) * ROW(float, r)[j];            \
      out[r] = s;                                                                      \
    }                                                                                  \
  }                                                                                    \
  QK_DISPATCH(name)

static inline float f32_id(float v) { return v; }
QK_FLOAT_DOT(dot_f32, float, load_f32x8, f32_id)
QK_FLOAT_DOT(dot_f16, sotto_half, load_f16x8, half_x86)
QK_FLOAT_DOT(dot_bf16, uint16_t, load_bf16x8, qk_bf16)

/* ---- 32-blocks with Q8A activations ----
 * A block's weights as 32 bytes u (unsigned, with offset) or s (signed);
 * per row: p = int32 lanes of the block dot, then acc += d_w * d_x * p. An
 * offset o (q = u - o) is removed through the block sum: each of the 8 lanes
 * gives up o * sum / 8 (o is a multiple of 8). */
#define QK_BLOCK32_DOT(name, BLOCK, DECODE, PRODUCT, OFFSET, HAS_MIN, MIN)                \
  QK_INLINE void name##_n(int64_t n, const void *w, const void *x, size_t xs, int nr,  \
                          float *out) {                                                \
    const BLOCK *a = w;                                                                \
    __m256 acc[4];                                                                     \
    float accm[4] = {0, 0, 0, 0};                                                      \
    QK_UNROLL \
    for (int r = 0; r < nr; r++) acc[r] = _mm256_setzero_ps();                         \
    for (int64_t i = 0; i < n / SOTTO_QK; i++) {                                       \
      const float dw = half_x86(a[i].d);                                               \
      DECODE                                                                           \
      QK_UNROLL \
      for (int r = 0; r < nr; r++) {                                                   \
        const sotto_block_q8a *b = ROW(sotto_block_q8a, r) + i;                        \
        const __m256i y = _mm256_loadu_si256((const __m256i *)b->qs);                  \
        __m256i p = PRODUCT;                                                           \
        if (OFFSET) p = _mm256_sub_epi32(p, _mm256_set1_epi32((OFFSET) / 8 * b->sum)); \
        acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(dw * b->d), _mm256_cvtepi32_ps(p), acc[r]); \
        if (HAS_MIN) accm[r] += (MIN) * b->d * (float)b->sum;                          \
      }                                                                                \
    }                                                                                  \
    QK_UNROLL \
    for (int r = 0; r < nr; r++) out[r] = hsum8(acc[r]) + accm[r];                     \
  }                                                                                    \
  QK_DISPATCH(name)

#define DECODE_Q4 const __m256i q = nibbles32(a[i].qs);
#define DECODE_Q5                                                                      \
  const __m256i q = _mm256_or_si256(nibbles32(a[i].qs),                               \
                                    _mm256_and_si256(bits32(a[i].qh), _mm256_set1_epi8(0x10)));
#define DECODE_Q8 const __m256i q = _mm256_loadu_si256((const __m256i *)a[i].qs);

QK_BLOCK32_DOT(dot_q4_0, sotto_block_q4_0, DECODE_Q4, mul_u8s8(q, y), 8, 0, 0)
QK_BLOCK32_DOT(dot_q4_1, sotto_block_q4_1, DECODE_Q4, mul_u8s8(q, y), 0, 1, half_x86(a[i].m))
QK_BLOCK32_DOT(dot_q5_0, sotto_block_q5_0, DECODE_Q5, mul_u8s8(q, y), 16, 0, 0)
QK_BLOCK32_DOT(dot_q5_1, sotto_block_q5_1, DECODE_Q5, mul_u8s8(q, y), 0, 1, half_x86(a[i].m))
QK_BLOCK32_DOT(dot_q8_0, sotto_block_q8_0, DECODE_Q8, mul_s8s8(q, y), 0, 0, 0)

/* ---- GEMM tiles of 32-blocks (VNNI builds) ----
 * QK_TILE_M weight rows by QK_TILE_N activation rows per call: each weight
 * block is decoded once for QK_TILE_N rows and each activation block loaded
 * once for QK_TILE_M rows, the 16 accumulators in registers (llamafile's
 * tinyBLAS does the same for ggml). Weights are made unsigned (Q8_0: + 128)
 * so one vpdpbusd forms each block dot; its accumulator starts at the
 * offset's share of the block sum. */
#if QK_VNNI
#define QK_TILE_M 4
#define QK_TILE_N 4

#define QK_TILE32(name, TN, BLOCK, DECODE, OFFSET, HAS_MIN, MIN)                        \
  static void QK_FN(name)(int64_t n, const void *w, size_t ws, const void *x, size_t xs,  \
                          float *y, size_t ys) {                                          \
    __m256 acc[QK_TILE_M][TN];                                                     \
    float accm[QK_TILE_M][TN];                                                     \
    QK_UNROLL \
    for (int i = 0; i < QK_TILE_M; i++)                                                   \
      QK_UNROLL \
      for (int j = 0; j < TN; j++) acc[i][j] = _mm256_setzero_ps(), accm[i][j] = 0; \
    for (int64_t b = 0; b < n / SOTTO_QK; b++) {                                          \
      __m256i qv[QK_TILE_M];                                                              \
      __m256 dw[QK_TILE_M];                                                               \
      float mw[QK_TILE_M];                                                                \
      QK_UNROLL \
      for (int i = 0; i < QK_TILE_M; i++) {                                               \
        const BLOCK *a = (const BLOCK *)((const uint8_t *)w + (size_t)i * ws) + b;        \
        DECODE                                                                            \
        qv[i] = q;                                                                        \
        dw[i] = _mm256_set1_ps(half_x86(a->d));                                           \
        mw[i] = HAS_MIN ? (MIN) : 0;                                                      \
      }                                                                                   \
      QK_UNROLL \
      for (int j = 0; j < TN; j++) {                                               \
        const sotto_block_q8a *bx = ROW(sotto_block_q8a, j) + b;                          \
        const __m256i yv = _mm256_loadu_si256((const __m256i *)bx->qs);                   \
        const __m256i off = _mm256_set1_epi32(-(OFFSET) / 8 * bx->sum);                   \
        const __m256 dx = _mm256_set1_ps(bx->d);                                          \
        QK_UNROLL \
        for (int i = 0; i < QK_TILE_M; i++) {                                             \
          const __m256i p = _mm256_dpbusd_epi32(off, qv[i], yv);                          \
          acc[i][j] = _mm256_fmadd_ps(_mm256_mul_ps(dw[i], dx), _mm256_cvtepi32_ps(p), acc[i][j]); \
          if (HAS_MIN) accm[i][j] += mw[i] * bx->d * (float)bx->sum;                      \
        }                                                                                 \
      }                                                                                   \
    }                                                                                     \
    QK_UNROLL \
    for (int j = 0; j < TN; j++)                                                   \
      QK_UNROLL \
      for (int i = 0; i < QK_TILE_M; i++) y[(size_t)j * ys + i] = hsum8(acc[i][j]) + accm[i][j]; \
  }

#define DECODE_TQ4 const __m256i q = nibbles32(a->qs);
#define DECODE_TQ5                                                                        \
  const __m256i q = _mm256_or_si256(nibbles32(a->qs),                                     \
                                    _mm256_and_si256(bits32(a->qh), _mm256_set1_epi8(0x10)));
#define DECODE_TQ8                                                                        \
  const __m256i q = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)a->qs),          \
                                     _mm256_set1_epi8((char)0x80));

#define QK_TILES32(name, BLOCK, DECODE, OFFSET, HAS_MIN, MIN)                          \
  QK_TILE32(name, QK_TILE_N, BLOCK, DECODE, OFFSET, HAS_MIN, MIN)                      \
  QK_TILE32(name##_n1, 1, BLOCK, DECODE, OFFSET, HAS_MIN, MIN)

QK_TILES32(tile_q4_0, sotto_block_q4_0, DECODE_TQ4, 8, 0, 0)
QK_TILES32(tile_q4_1, sotto_block_q4_1, DECODE_TQ4, 0, 1, half_x86(a->m))
QK_TILES32(tile_q5_0, sotto_block_q5_0, DECODE_TQ5, 16, 0, 0)
QK_TILES32(tile_q5_1, sotto_block_q5_1, DECODE_TQ5, 0, 1, half_x86(a->m))
QK_TILES32(tile_q8_0, sotto_block_q8_0, DECODE_TQ8, 128, 0, 0)

/* ---- weights packed by 8 rows (qkernels.h, qk_tile8_fn) ---- */

#define QK_TILE8_DISPATCH(name)                                                        \
  static void QK_FN(name)(int64_t n, const void *w8, const void *x, size_t xs, int nr, \
                          float *y, size_t ys) {                                       \
    switch (nr) {                                                                      \
      case 1: name##_n(n, w8, x, xs, 1, y, ys); break;                                 \
      case 2: name##_n(n, w8, x, xs, 2, y, ys); break;                                 \
      case 3: name##_n(n, w8, x, xs, 3, y, ys); break;                                 \
      default: name##_n(n, w8, x, xs, 4, y, ys); break;                                \
    }                                                                                  \
  }

#define QK_TILE8(name, NK, BLOCK_BYTES, OFFSET, QS, BODY)                                \
  QK_INLINE void name##_n(int64_t n, const void *w8, const void *x, size_t xs, int nr, \
                          float *y, size_t ys) {                                       \
    __m256 acc[4];                                                                     \
    QK_UNROLL                                                                          \
    for (int j = 0; j < nr; j++) acc[j] = _mm256_setzero_ps();                         \
    for (int64_t b = 0; b < n / SOTTO_QK; b++) {                                       \
      const uint8_t *blk = (const uint8_t *)w8 + (size_t)b * (BLOCK_BYTES);            \
      QK_PREFETCH(blk, QK_PREFETCH_AHEAD, BLOCK_BYTES);                                \
      const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)blk));        \
      __m256i s[4];                                                                    \
      QK_UNROLL                                                                        \
      for (int j = 0; j < nr; j++)                                                     \
        s[j] = _mm256_set1_epi32(-(OFFSET) * ROW(sotto_block_q8a, j)[b].sum);          \
      QK_UNROLL                                                                        \
      for (int k = 0; k < (NK); k++) {                                                 \
        const __m256i v = _mm256_loadu_si256((const __m256i *)(blk + (QS) + 32 * k));  \
        BODY                                                                           \
      }                                                                                \
      QK_UNROLL                                                                        \
      for (int j = 0; j < nr; j++)                                                     \
        acc[j] = _mm256_fmadd_ps(_mm256_mul_ps(dw, _mm256_set1_ps(ROW(sotto_block_q8a, j)[b].d)), \
                                 _mm256_cvtepi32_ps(s[j]), acc[j]);                    \
    }                                                                                  \
    QK_UNROLL                                                                          \
    for (int j = 0; j < nr; j++) _mm256_storeu_ps(y + (size_t)j * ys, acc[j]);         \
  }                                                                                    \
  QK_TILE8_DISPATCH(name)

QK_INLINE int32_t load_i32(const void *p) {
  int32_t v;
  memcpy(&v, p, 4);
  return v;
}
/* 4 activation bytes of block b, row j, from byte o, in every lane */
#define XB(j, o) _mm256_set1_epi32(load_i32(ROW(sotto_block_q8a, j)[b].qs + (o)))

QK_TILE8(tile8_q8_0, 8, 8 * sizeof(sotto_block_q8_0), 128, 16,
         QK_UNROLL for (int j = 0; j < nr; j++) s[j] = _mm256_dpbusd_epi32(s[j], v, XB(j, 4 * k));)
/* Q4_0 and Q5_0 bodies, with HI(v) the high nibble of each byte of v */
#define HI_SHIFT(v) _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi8(0x0F))
#define Q4_0_BODY(HI)                                                    \
  const __m256i lo = _mm256_and_si256(v, _mm256_set1_epi8(0x0F));       \
  const __m256i hi = HI(v);                                             \
  QK_UNROLL for (int j = 0; j < nr; j++) {                              \
    s[j] = _mm256_dpbusd_epi32(s[j], lo, XB(j, 4 * k));                 \
    s[j] = _mm256_dpbusd_epi32(s[j], hi, XB(j, 16 + 4 * k));            \
  }
/* Q5_0: the fifth bits of chunk k's low and high nibbles are the bits of
 * high-bit words 2k and 2k + 1, one per byte: a masked add of 16 */
#define Q5_0_BODY(HI)                                                                          \
  const __m256i b5 = _mm256_set1_epi8(0x10);                                                  \
  __m256i lo = _mm256_and_si256(v, _mm256_set1_epi8(0x0F));                                   \
  __m256i hi = HI(v);                                                                         \
  lo = _mm256_mask_add_epi8(lo, _cvtu32_mask32((uint32_t)load_i32(blk + 16 + 8 * k)), lo, b5); \
  hi = _mm256_mask_add_epi8(hi, _cvtu32_mask32((uint32_t)load_i32(blk + 20 + 8 * k)), hi, b5); \
  QK_UNROLL for (int j = 0; j < nr; j++) {                                                    \
    s[j] = _mm256_dpbusd_epi32(s[j], lo, XB(j, 4 * k));                                       \
    s[j] = _mm256_dpbusd_epi32(s[j], hi, XB(j, 16 + 4 * k));                                  \
  }
QK_TILE8(tile8_q4_0, 4, 8 * sizeof(sotto_block_q4_0), 8, 16, Q4_0_BODY(HI_SHIFT))
QK_TILE8(tile8_q5_0, 4, 8 * sizeof(sotto_block_q5_0), 16, 48, Q5_0_BODY(HI_SHIFT))

/* The same on CPUs with GFNI (qk_fill_avx512_gfni): the high nibbles in one
 * vgf2p8affineqb (the bit matrix of x >> 4 in each byte) instead of a shift
 * and a mask; streamed from memory the 0.5B model's Q5_0 matrices read 7 %
 * faster. */
#if defined(__clang__) /* clang keeps one target per function: qk_target.h's region
                          is closed and reopened with the whole list */
#pragma clang attribute pop
QK_PRAGMA(clang attribute push(__attribute__((target(QK_TARGET ",gfni"))), apply_to = function))
#else
#pragma GCC push_options
#pragma GCC target("gfni")
#endif
#define HI_GFNI(v) _mm256_gf2p8affine_epi64_epi8(v, _mm256_set1_epi64x(0x1020408000000000), 0)
QK_TILE8(tile8_q5_0_gfni, 4, 8 * sizeof(sotto_block_q5_0), 16, 48, Q5_0_BODY(HI_GFNI))
QK_TILE8(tile8_q4_0_gfni, 4, 8 * sizeof(sotto_block_q4_0), 8, 16, Q4_0_BODY(HI_GFNI))
#if defined(__clang__)
#pragma clang attribute pop
QK_PRAGMA(clang attribute push(__attribute__((target(QK_TARGET))), apply_to = function))
#else
#pragma GCC pop_options
#endif

/* K-quants packed by 8 rows (qkernels.h): the sums of dot_q4_k and
 * dot_q6_k with the 8 rows in the 8 lanes. Per sub-block, vpdpbusd of 4
 * values of each row against 4 broadcast activation bytes gives the 8 rows'
 * int32 dots, then times each row's integer scale (vpmulld); the scales and
 * mins are unpacked once for 8 rows. */
#define KW(o) _mm256_loadu_si256((const __m256i *)(blk + 32 * (o))) /* word o of 8 rows */
/* 4 activation bytes of super-block i, row j, from value o, in every lane */
#define XK(j, o) _mm256_set1_epi32(load_i32(ROW(sotto_block_q8_k, j)[i].qs + (o)))

/* Byte k of each lane, zero- or sign-extended. */
QK_INLINE __m256i lane_byte_u(__m256i v, int k) {
  return _mm256_and_si256(_mm256_srli_epi32(v, 8 * k), _mm256_set1_epi32(0xFF));
}
QK_INLINE __m256i lane_byte_s(__m256i v, int k) {
  return _mm256_srai_epi32(_mm256_slli_epi32(v, 24 - 8 * k), 24);
}

/* 512-bit steps (tile8_q4_k): words o and o + 1 of 8 rows, word o in lanes
 * 0-7 and o + 1 in lanes 8-15; XK8: the 8 activation dwords of super-block
 * i, row j, from value o, of which X2K puts dword 2p in lanes 0-7 and 2p + 1
 * in lanes 8-15 (a vpermd with tile8_q4_k_n's pair_idx[p]); halves_sum adds
 * the two halves' int32 lanes, giving each row's sum over both words. */
#define KW2(o) _mm512_loadu_si512((const void *)(blk + 32 * (o)))
#define XK8(j, o) \
  _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(ROW(sotto_block_q8_k, j)[i].qs + (o))))
#define X2K(x8, p) _mm512_permutexvar_epi32(pair_idx[p], x8)
QK_INLINE __m256i halves_sum(__m512i v) {
  return _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1));
}

/* Q4_K: words 0 (d, dmin), 1-3 (scales and mins: qk_unpack_k4 lane by
 * lane), then chunk c's 8 words: low nibbles sub-block 2c, high 2c + 1.
 * With one activation row (decoding) the nibbles two words at a time in
 * 512-bit steps: half the vpdpbusd and mask ops per byte of 256-bit ones,
 * and streamed from memory the 1.5B model's Q4_K_M decoding ran 8 %
 * faster (fewer ops in flight per byte leave more room for the loads
 * ahead); the same integer sums. With 2-4 rows (prompts without AMX) the
 * 256-bit steps: the 512-bit ones, short of registers for 4 rows' sums,
 * made them 16 % slower. */
QK_INLINE void tile8_q4_k_n(int64_t n, const void *w8, const void *x, size_t xs, int nr,
                            float *y, size_t ys) {
  const __m256i low4 = _mm256_set1_epi8(0x0F), m1 = _mm256_set1_epi32(0x3f3f3f3f),
                m2 = _mm256_set1_epi32(0x0f0f0f0f), m3 = _mm256_set1_epi32(0x03030303),
                even = _mm256_set1_epi32(0x00FF00FF);
  /* the sums of 32 activations P0..P7 in the order of the mins' int16 pairs */
  const __m128i pair_order = _mm_setr_epi8(0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15);
  const __m512i low4x2 = _mm512_set1_epi8(0x0F);
  const __m512i pair_idx[4] = {_mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1),
                               _mm512_setr_epi32(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3),
                               _mm512_setr_epi32(4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5),
                               _mm512_setr_epi32(6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7)};
  __m256 acc[4];
  QK_UNROLL
  for (int j = 0; j < nr; j++) acc[j] = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / SOTTO_QK_K; i++) {
    const uint8_t *blk = (const uint8_t *)w8 + (size_t)i * 8 * sizeof(sotto_block_q4_k);
    QK_PREFETCH(blk, QK_PREFETCH_AHEAD_K, 8 * sizeof(sotto_block_q4_k));
    const __m256i dd = KW(0), u0 = KW(1), u1 = KW(2), u2 = KW(3);
    const __m256 d = _mm256_cvtph_ps(_mm256_cvtepi32_epi16(dd));
    const __m256 dmin = _mm256_cvtph_ps(_mm256_cvtepi32_epi16(_mm256_srli_epi32(dd, 16)));
    const __m256i sc_lo = _mm256_and_si256(u0, m1);
    const __m256i sc_hi = _mm256_or_si256(_mm256_and_si256(u2, m2),
        _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(u0, 6), m3), 4));
    const __m256i mn_lo = _mm256_and_si256(u1, m1);
    const __m256i mn_hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(u2, 4), m2),
        _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(u1, 6), m3), 4));
    /* mins as int16 pairs (m0, m2), (m1, m3), (m4, m6), (m5, m7) */
    const __m256i mp[4] = {_mm256_and_si256(mn_lo, even), _mm256_srli_epi16(mn_lo, 8),
                           _mm256_and_si256(mn_hi, even), _mm256_srli_epi16(mn_hi, 8)};
    /* isum: the low nibbles' scaled sums; isum16: the high nibbles', taken
     * in place (v & 0xF0, 16 times the value: one op fewer per word) */
    __m256i isum[4], isum16[4];
    QK_UNROLL
    for (int j = 0; j < nr; j++) isum[j] = isum16[j] = _mm256_setzero_si256();
    QK_UNROLL
    for (int c = 0; c < 4; c++) {
      /* s0, s1: chunk c's low and high nibbles' dots, 8 rows by nr */
      __m256i s0[4], s1[4];
      if (nr == 1) { /* 512-bit steps, two words at a time */
        const __m512i xlo = XK8(0, 64 * c), xhi = XK8(0, 64 * c + 32);
        __m512i t0 = _mm512_setzero_si512(), t1 = _mm512_setzero_si512();
        QK_UNROLL
        for (int k = 0; k < 8; k += 2) {
          const __m512i v = KW2(4 + 8 * c + k);
          t0 = _mm512_dpbusd_epi32(t0, _mm512_and_si512(v, low4x2), X2K(xlo, k / 2));
          t1 = _mm512_dpbusd_epi32(t1, _mm512_andnot_si512(low4x2, v), X2K(xhi, k / 2));
        }
        s0[0] = halves_sum(t0), s1[0] = halves_sum(t1);
      } else {
        QK_UNROLL
        for (int j = 0; j < nr; j++) s0[j] = s1[j] = _mm256_setzero_si256();
        QK_UNROLL
        for (int k = 0; k < 8; k++) {
          const __m256i v = KW(4 + 8 * c + k);
          const __m256i lo = _mm256_and_si256(v, low4), hi = _mm256_andnot_si256(low4, v);
          QK_UNROLL
          for (int j = 0; j < nr; j++) {
            s0[j] = _mm256_dpbusd_epi32(s0[j], lo, XK(j, 64 * c + 4 * k));
            s1[j] = _mm256_dpbusd_epi32(s1[j], hi, XK(j, 64 * c + 32 + 4 * k));
          }
        }
      }
      const __m256i sc = c < 2 ? sc_lo : sc_hi;
      const __m256i sc0 = lane_byte_u(sc, 2 * (c % 2)), sc1 = lane_byte_u(sc, 2 * (c % 2) + 1);
      QK_UNROLL
      for (int j = 0; j < nr; j++) {
        isum[j] = _mm256_add_epi32(isum[j], _mm256_mullo_epi32(s0[j], sc0));
        isum16[j] = _mm256_add_epi32(isum16[j], _mm256_mullo_epi32(s1[j], sc1));
      }
    }
    QK_UNROLL
    for (int j = 0; j < nr; j++) isum[j] = _mm256_add_epi32(isum[j], _mm256_srai_epi32(isum16[j], 4));
    QK_UNROLL
    for (int j = 0; j < nr; j++) {
      const sotto_block_q8_k *b = ROW(sotto_block_q8_k, j) + i;
      const __m128i p = _mm_shuffle_epi8(_mm_hadd_epi16(_mm_loadu_si128((const __m128i *)b->bsums),
                                                        _mm_loadu_si128((const __m128i *)(b->bsums + 8))),
                                         pair_order);
      const __m256i pp = _mm256_broadcastsi128_si256(p);
      __m256i m = _mm256_madd_epi16(mp[0], _mm256_shuffle_epi32(pp, 0x00));
      m = _mm256_dpwssd_epi32(m, mp[1], _mm256_shuffle_epi32(pp, 0x55));
      m = _mm256_dpwssd_epi32(m, mp[2], _mm256_shuffle_epi32(pp, 0xAA));
      m = _mm256_dpwssd_epi32(m, mp[3], _mm256_shuffle_epi32(pp, 0xFF));
      const __m256 v = _mm256_fnmadd_ps(dmin, _mm256_cvtepi32_ps(m),
                                        _mm256_mul_ps(d, _mm256_cvtepi32_ps(isum[j])));
      acc[j] = _mm256_fmadd_ps(_mm256_set1_ps(b->d), v, acc[j]);
    }
  }
  QK_UNROLL
  for (int j = 0; j < nr; j++) _mm256_storeu_ps(y + (size_t)j * ys, acc[j]);
}
QK_TILE8_DISPATCH(tile8_q4_k)

/* Q6_K: words 0-31 ql, 32-47 qh, 48-51 scales, then the 8 halves d. Value
 * 128h + 32k + 4i + t has its low bits in nibble k / 2 of word 16h + 8(k %
 * 2) + i, its high two at bit 2k of word 32 + 8h + i, and scale 8h + 2k +
 * i / 4 (byte t of word 48 + m is scale 4m + t); stored plus 32: the
 * super-block's sum starts at -32 times the sum over sub-blocks of scale
 * times the activations' sum (bsums), taken as int16 pairs with vpdpwssd,
 * as tile8_q4_k takes its mins. */
QK_INLINE void tile8_q6_k_n(int64_t n, const void *w8, const void *x, size_t xs, int nr,
                            float *y, size_t ys) {
  const __m256i low4 = _mm256_set1_epi8(0x0F), high2 = _mm256_set1_epi8(0x30);
  /* bsums in the order of the scales' int16 pairs: (b0, b2), (b1, b3), (b4, b6), ... */
  const __m256i pair_order = _mm256_broadcastsi128_si256(
      _mm_setr_epi8(0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15));
  __m256 acc[4];
  QK_UNROLL
  for (int j = 0; j < nr; j++) acc[j] = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / SOTTO_QK_K; i++) {
    const uint8_t *blk = (const uint8_t *)w8 + (size_t)i * 8 * sizeof(sotto_block_q6_k);
    QK_PREFETCH(blk, QK_PREFETCH_AHEAD_Q6K, 8 * sizeof(sotto_block_q6_k));
    __m256i isum[4];
    {
      /* scales 4m + t as int16 pairs: (t0, t2) and (t1, t3) of word 48 + m */
      __m256i sp[8];
      QK_UNROLL
      for (int m = 0; m < 4; m++) {
        const __m256i w = KW(48 + m);
        sp[2 * m] = _mm256_srai_epi16(_mm256_slli_epi16(w, 8), 8);
        sp[2 * m + 1] = _mm256_srai_epi16(w, 8);
      }
      QK_UNROLL
      for (int j = 0; j < nr; j++) {
        const __m256i bs = _mm256_shuffle_epi8(
            _mm256_loadu_si256((const __m256i *)ROW(sotto_block_q8_k, j)[i].bsums), pair_order);
        __m256i m = _mm256_setzero_si256();
        QK_UNROLL
        for (int p = 0; p < 8; p++)
          m = _mm256_dpwssd_epi32(m, sp[p], _mm256_permutevar8x32_epi32(bs, _mm256_set1_epi32(p)));
        isum[j] = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(m, 5));
      }
    }
    QK_UNROLL
    for (int h = 0; h < 2; h++)
      QK_UNROLL
      for (int half = 0; half < 2; half++) {
        __m256i s[4][4]; /* [k][j] */
        QK_UNROLL
        for (int k = 0; k < 4; k++)
          QK_UNROLL
          for (int j = 0; j < nr; j++) s[k][j] = _mm256_setzero_si256();
        QK_UNROLL
        for (int ii = 0; ii < 4; ii++) {
          const int w = 4 * half + ii;
          const __m256i l0 = KW(16 * h + w), l1 = KW(16 * h + 8 + w), qh = KW(32 + 8 * h + w);
          /* low | (high bits & 0x30): vpternlogd 0xF8 is a | (b & c) */
          const __m256i q[4] = {
              _mm256_ternarylogic_epi32(_mm256_and_si256(l0, low4), _mm256_slli_epi16(qh, 4), high2, 0xF8),
              _mm256_ternarylogic_epi32(_mm256_and_si256(l1, low4), _mm256_slli_epi16(qh, 2), high2, 0xF8),
              _mm256_ternarylogic_epi32(_mm256_and_si256(_mm256_srli_epi16(l0, 4), low4), qh, high2, 0xF8),
              _mm256_ternarylogic_epi32(_mm256_and_si256(_mm256_srli_epi16(l1, 4), low4),
                                        _mm256_srli_epi16(qh, 2), high2, 0xF8)};
          QK_UNROLL
          for (int k = 0; k < 4; k++)
            QK_UNROLL
            for (int j = 0; j < nr; j++)
              s[k][j] = _mm256_dpbusd_epi32(s[k][j], q[k], XK(j, 128 * h + 32 * k + 4 * w));
        }
        QK_UNROLL
        for (int k = 0; k < 4; k++) {
          /* scale 8h + 2k + half: byte 2(k % 2) + half of word 48 + 2h + k / 2 */
          const __m256i sc = lane_byte_s(KW(48 + 2 * h + k / 2), 2 * (k % 2) + half);
          QK_UNROLL
          for (int j = 0; j < nr; j++) isum[j] = _mm256_add_epi32(isum[j], _mm256_mullo_epi32(s[k][j], sc));
        }
      }
    const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(blk + 32 * 52)));
    QK_UNROLL
    for (int j = 0; j < nr; j++)
      acc[j] = _mm256_fmadd_ps(_mm256_mul_ps(d, _mm256_set1_ps(ROW(sotto_block_q8_k, j)[i].d)),
                               _mm256_cvtepi32_ps(isum[j]), acc[j]);
  }
  QK_UNROLL
  for (int j = 0; j < nr; j++) _mm256_storeu_ps(y + (size_t)j * ys, acc[j]);
}
QK_TILE8_DISPATCH(tile8_q6_k)
#endif

/* ---- K-quants with Q8_K activations ---- */

/* acc + 32 unsigned bytes q (small, <= 63) times 32 signed bytes y, summed
 * in pairs to int16 and then in pairs with the int16 scales sc: 8 x int32
 * (VNNI: vpdpwssd adds the pairs into acc in the same step). */
QK_INLINE __m256i acc_scaled(__m256i acc, __m256i q, __m256i y, __m256i sc) {
#if QK_VNNI
  return _mm256_dpwssd_epi32(acc, _mm256_maddubs_epi16(q, y), sc);
#else
  return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(q, y), sc));
#endif
}

/* Sum over 8 sub-blocks of min_j * (bsums[2j] + bsums[2j+1]). */
QK_INLINE int k4_min_sum(const uint8_t *mins, const int16_t *bsums) {
  const __m128i m = _mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)mins));
  const __m128i b0 = _mm_loadu_si128((const __m128i *)bsums);
  const __m128i b1 = _mm_loadu_si128((const __m128i *)(bsums + 8));
  const __m128i p = _mm_madd_epi16(m, _mm_hadd_epi16(b0, b1));
  __m128i s = _mm_add_epi32(p, _mm_shuffle_epi32(p, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}

#define QK_K4_DOT(name, BLOCK, FIFTH_BIT, QH)                                            \
  QK_INLINE void name##_n(int64_t n, const void *w, const void *x, size_t xs, int nr,  \
                          float *out) {                                                \
    const BLOCK *a = w;                                                                \
    __m256 acc[4];                                                                     \
    float accm[4] = {0, 0, 0, 0};                                                      \
    QK_UNROLL \
    for (int r = 0; r < nr; r++) acc[r] = _mm256_setzero_ps();                         \
    const __m256i low4 = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);            \
    for (int64_t i = 0; i < n / SOTTO_QK_K; i++) {                                     \
      QK_PREFETCH(a + i, QK_PREFETCH_AHEAD_K, sizeof(BLOCK));                          \
      uint8_t sm[16];                                                                  \
      qk_unpack_k4(a[i].scales, sm);                                                   \
      const float d = half_x86(a[i].d), dmin = half_x86(a[i].dmin);                    \
      __m256i sumi[4];                                                                 \
      QK_UNROLL \
      for (int r = 0; r < nr; r++) sumi[r] = _mm256_setzero_si256();                   \
      for (int c = 0; c < 4; c++) {                                                    \
        const __m256i raw = _mm256_loadu_si256((const __m256i *)(a[i].qs + 32 * c));   \
        __m256i lo = _mm256_and_si256(raw, low4);                                      \
        __m256i hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), low4);                \
        if (FIFTH_BIT) {                                                               \
          const __m256i h = _mm256_loadu_si256((const __m256i *)(QH));                 \
          lo = _mm256_or_si256(lo, _mm256_slli_epi16(                                  \
                   _mm256_and_si256(_mm256_srli_epi16(h, 2 * c), one), 4));            \
          hi = _mm256_or_si256(hi, _mm256_slli_epi16(                                  \
                   _mm256_and_si256(_mm256_srli_epi16(h, 2 * c + 1), one), 4));        \
        }                                                                              \
        const __m256i s0 = _mm256_set1_epi16(sm[2 * c]), s1 = _mm256_set1_epi16(sm[2 * c + 1]); \
        QK_UNROLL \
        for (int r = 0; r < nr; r++) {                                                 \
          const int8_t *y = ROW(sotto_block_q8_k, r)[i].qs + 64 * c;                   \
          sumi[r] = acc_scaled(sumi[r], lo, _mm256_loadu_si256((const __m256i *)y), s0);   \
          sumi[r] = acc_scaled(sumi[r], hi, _mm256_loadu_si256((const __m256i *)(y + 32)), s1); \
        }                                                                              \
      }                                                                                \
      QK_UNROLL \
      for (int r = 0; r < nr; r++) {                                                   \
        const sotto_block_q8_k *b = ROW(sotto_block_q8_k, r) + i;                      \
        acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(d * b->d), _mm256_cvtepi32_ps(sumi[r]), acc[r]); \
        accm[r] += dmin * b->d * (float)k4_min_sum(sm + 8, b->bsums);                  \
      }                                                                                \
    }                                                                                  \
    QK_UNROLL \
    for (int r = 0; r < nr; r++) out[r] = hsum8(acc[r]) - accm[r];                     \
  }                                                                                    \
  QK_DISPATCH(name)

QK_K4_DOT(dot_q4_k, sotto_block_q4_k, 0, a[i].qs)
QK_K4_DOT(dot_q5_k, sotto_block_q5_k, 1, a[i].qh)

QK_INLINE void dot_q6_k_n(int64_t n, const void *w, const void *x, size_t xs, int nr,
                          float *out) {
  const sotto_block_q6_k *a = w;
  __m256 acc[4];
  QK_UNROLL
  for (int r = 0; r < nr; r++) acc[r] = _mm256_setzero_ps();
  const __m256i low4 = _mm256_set1_epi8(0x0F), two = _mm256_set1_epi8(3);
  for (int64_t i = 0; i < n / SOTTO_QK_K; i++) {
    QK_PREFETCH(a + i, QK_PREFETCH_AHEAD_K, sizeof *a);
    __m256i sumi[4];
    QK_UNROLL
    for (int r = 0; r < nr; r++) sumi[r] = _mm256_setzero_si256();
    for (int h = 0; h < 2; h++) {
      const __m256i la = _mm256_loadu_si256((const __m256i *)(a[i].ql + 64 * h));
      const __m256i lb = _mm256_loadu_si256((const __m256i *)(a[i].ql + 64 * h + 32));
      const __m256i hb = _mm256_loadu_si256((const __m256i *)(a[i].qh + 32 * h));
      __m256i q[4];
      q[0] = _mm256_and_si256(la, low4);
      q[1] = _mm256_and_si256(lb, low4);
      q[2] = _mm256_and_si256(_mm256_srli_epi16(la, 4), low4);
      q[3] = _mm256_and_si256(_mm256_srli_epi16(lb, 4), low4);
      QK_UNROLL
      for (int k = 0; k < 4; k++) {
        const __m256i hk = _mm256_and_si256(_mm256_srli_epi16(hb, 2 * k), two);
        q[k] = _mm256_or_si256(q[k], _mm256_slli_epi16(hk, 4));
        const int8_t *sc = a[i].scales + 8 * h + 2 * k;
        const __m256i s = _mm256_set_m128i(_mm_set1_epi16(sc[1]), _mm_set1_epi16(sc[0]));
        QK_UNROLL
        for (int r = 0; r < nr; r++) {
          const int8_t *y = ROW(sotto_block_q8_k, r)[i].qs + 128 * h + 32 * k;
          sumi[r] = acc_scaled(sumi[r], q[k], _mm256_loadu_si256((const __m256i *)y), s);
        }
      }
    }
    /* minus 32 * sum_g scale_g * bsum_g */
    const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)a[i].scales));
    const float d = half_x86(a[i].d);
    QK_UNROLL
    for (int r = 0; r < nr; r++) {
      const sotto_block_q8_k *b = ROW(sotto_block_q8_k, r) + i;
      const __m256i bs = _mm256_loadu_si256((const __m256i *)b->bsums);
      const __m256i corr = _mm256_slli_epi32(_mm256_madd_epi16(sc16, bs), 5);
      acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(d * b->d),
                               _mm256_cvtepi32_ps(_mm256_sub_epi32(sumi[r], corr)), acc[r]);
    }
  }
  QK_UNROLL
  for (int r = 0; r < nr; r++) out[r] = hsum8(acc[r]);
}
QK_DISPATCH(dot_q6_k)

/* ---- activation quantization ---- */

/* 32 floats to 32 int8 with scale 1/d (rounded to nearest even); returns
 * the sum of the stored bytes (a NaN from a model whose values overflowed
 * is stored as -128, and the sum stays that of what was stored). */
QK_INLINE int quant32(const float *x, float id, int8_t *q) {
  const __m256 m = _mm256_set1_ps(id);
  __m256i i0 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x), m));
  __m256i i1 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 8), m));
  __m256i i2 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 16), m));
  __m256i i3 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 24), m));
  /* packs interleave the 128-bit lanes; the permute puts them back in order */
  __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
  p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  _mm256_storeu_si256((__m256i *)q, p);
  /* q + 128 as unsigned bytes, summed in four 64-bit lanes */
  const __m256i u = _mm256_sad_epu8(_mm256_xor_si256(p, _mm256_set1_epi8((char)0x80)),
                                    _mm256_setzero_si256());
  return hsum8i(u) - 32 * 128;
}

QK_INLINE float absmax(const float *x, int n) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 m = _mm256_setzero_ps();
  for (int j = 0; j < n; j += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + j)));
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

static void QK_FN(quant_q8a)(const float *x, void *out, int64_t n) {
  sotto_block_q8a *b = out;
  for (int64_t i = 0; i < n / SOTTO_QK; i++, x += SOTTO_QK) {
    const float d = absmax(x, SOTTO_QK) / 127, id = d ? 1 / d : 0;
    b[i].d = d;
    b[i].sum = quant32(x, id, b[i].qs);
  }
}

static void QK_FN(quant_q8k)(const float *x, void *out, int64_t n) {
  sotto_block_q8_k *b = out;
  for (int64_t i = 0; i < n / SOTTO_QK_K; i++, x += SOTTO_QK_K) {
    const float d = absmax(x, SOTTO_QK_K) / 127, id = d ? 1 / d : 0;
    b[i].d = d;
    for (int j = 0; j < SOTTO_QK_K; j += 32) quant32(x + j, id, b[i].qs + j);
    for (int g = 0; g < SOTTO_QK_K / 16; g++) {
      const __m128i v = _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(b[i].qs + 16 * g)));
      const __m128i u = _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(b[i].qs + 16 * g + 8)));
      __m128i s = _mm_madd_epi16(_mm_add_epi16(v, u), _mm_set1_epi16(1));
      s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
      s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
      b[i].bsums[g] = (int16_t)_mm_cvtsi128_si32(s);
    }
  }
}

static void QK_FN(fill)(qk_table *t) {
  t->quant[QK_ACT_Q8A] = QK_FN(quant_q8a);
  t->quant[QK_ACT_Q8K] = QK_FN(quant_q8k);
  t->dot[SOTTO_DTYPE_F32] = QK_FN(dot_f32);
  t->dot[SOTTO_DTYPE_F16] = QK_FN(dot_f16);
  t->dot[SOTTO_DTYPE_BF16] = QK_FN(dot_bf16);
  t->dot[SOTTO_DTYPE_Q4_0] = QK_FN(dot_q4_0);
  t->dot[SOTTO_DTYPE_Q4_1] = QK_FN(dot_q4_1);
  t->dot[SOTTO_DTYPE_Q5_0] = QK_FN(dot_q5_0);
  t->dot[SOTTO_DTYPE_Q5_1] = QK_FN(dot_q5_1);
  t->dot[SOTTO_DTYPE_Q8_0] = QK_FN(dot_q8_0);
  t->dot[SOTTO_DTYPE_Q4_K] = QK_FN(dot_q4_k);
  t->dot[SOTTO_DTYPE_Q5_K] = QK_FN(dot_q5_k);
  t->dot[SOTTO_DTYPE_Q6_K] = QK_FN(dot_q6_k);
#if QK_VNNI
  t->tile_m = QK_TILE_M, t->tile_n = QK_TILE_N;
  t->tile[SOTTO_DTYPE_Q4_0] = QK_FN(tile_q4_0);
  t->tile[SOTTO_DTYPE_Q4_1] = QK_FN(tile_q4_1);
  t->tile[SOTTO_DTYPE_Q5_0] = QK_FN(tile_q5_0);
  t->tile[SOTTO_DTYPE_Q5_1] = QK_FN(tile_q5_1);
  t->tile[SOTTO_DTYPE_Q8_0] = QK_FN(tile_q8_0);
  t->tile1[SOTTO_DTYPE_Q4_0] = QK_FN(tile_q4_0_n1);
  t->tile1[SOTTO_DTYPE_Q4_1] = QK_FN(tile_q4_1_n1);
  t->tile1[SOTTO_DTYPE_Q5_0] = QK_FN(tile_q5_0_n1);
  t->tile1[SOTTO_DTYPE_Q5_1] = QK_FN(tile_q5_1_n1);
  t->tile1[SOTTO_DTYPE_Q8_0] = QK_FN(tile_q8_0_n1);
  t->tile8[SOTTO_DTYPE_Q8_0] = QK_FN(tile8_q8_0);
  t->tile8[SOTTO_DTYPE_Q4_0] = QK_FN(tile8_q4_0);
  t->tile8[SOTTO_DTYPE_Q5_0] = QK_FN(tile8_q5_0);
  t->tile8[SOTTO_DTYPE_Q4_K] = QK_FN(tile8_q4_k);
  t->tile8[SOTTO_DTYPE_Q6_K] = QK_FN(tile8_q6_k);
#endif
}

#if QK_VNNI
static void QK_FN(fill_gfni)(qk_table *t) {
  t->tile8[SOTTO_DTYPE_Q4_0] = QK_FN(tile8_q4_0_gfni);
  t->tile8[SOTTO_DTYPE_Q5_0] = QK_FN(tile8_q5_0_gfni);
}
#endif
