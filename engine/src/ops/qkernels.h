/*
 * qkernels.h - the kernel table behind qmatmul.c (internal to ops/).
 *
 * A weight row of a GGUF tensor type is multiplied with an activation row
 * prepared in the type's "activation format", as ggml pairs them
 * (ggml-cpu's type_traits[].vec_dot_type):
 *
 *   weights                      activations
 *   F32, F16, BF16               F32 (exact; ggml converts to F16/BF16)
 *   Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 Q8A: blocks of 32 int8 with a float scale and
 *                                the block's integer sum (ggml's Q8_0 / Q8_1)
 *   Q4_K, Q5_K, Q6_K             Q8_K: ggml's block_q8_K (quant.h)
 *
 * Each ISA file (qk_scalar.c, qk_avx2.c, qk_avx512.c, qk_amx.c, qk_wasm.c)
 * fills a table of these functions; qmatmul.c picks the best one the CPU runs.
 * The scalar file is the reference the tests compare the others with.
 */
#ifndef SOTTO_QKERNELS_H
#define SOTTO_QKERNELS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ops/quant.h"

/* One block of 32 activations: x[i] ~ d * qs[i]; sum = sum of qs. */
typedef struct {
  float d;
  int32_t sum;
  int8_t qs[SOTTO_QK];
} sotto_block_q8a;

typedef enum { QK_ACT_F32, QK_ACT_Q8A, QK_ACT_Q8K, QK_ACT_COUNT } qk_act;

/* out[r] = dot(weight row w, activation row x + r * x_stride), r < nr (1..4). */
typedef void (*qk_dot_fn)(int64_t n, const void *w, const void *x, size_t x_stride, int nr,
                          float *out);
/* Prepares n activations (n a multiple of the format's block). */
typedef void (*qk_quant_fn)(const float *x, void *out, int64_t n);

/* A GEMM tile: y[j * ys + i] = dot(weight row i, activation row j) for
 * i < tile_m (rows ws bytes apart), j < tile_n (xs bytes apart). */
typedef void (*qk_tile_fn)(int64_t n, const void *w, size_t ws, const void *x, size_t xs,
                           float *y, size_t ys);

/* Weights packed 8 rows at a time (qmatmul.c's sotto_qmat_pack), per block
 * the 8 rows' half scales, then the quants 4 bytes at a time, row after
 * row, so one 32-byte load holds 4 bytes of each of 8 rows and a vpdpbusd
 * against 4 broadcast activation bytes yields 8 rows' partial dots in its 8
 * lanes (the layout of ggml's q4_0_8x8 repacking). Q8_0 quants are stored
 * plus 128 (unsigned). Q5_0 has 8 words of fifth bits between the scales
 * and the quants: bit 4r + t of word 2k (2k + 1) is the fifth bit of row
 * r's value 4k + t (16 + 4k + t), the value in the low (high) nibble of
 * row r's byte t of 4-byte chunk k (QK_QH_ROWS8; with QK_QH_ROWS4, word
 * 2k + h holds rows 4h..4h + 3's bits of chunk k instead: bit 8t + i
 * (8t + 4 + i) is the fifth bit of row 4h + i's value 4k + t (16 + 4k + t),
 * so a word's byte t sits at the byte of its rows' quants it belongs to
 * when splatted to every 32-bit lane). K-quants (Q4_K, Q6_K) keep each
 * super-block's bytes as they are, 4 at a time: word w of the 8 rows side
 * by side (row r's at byte 32w + 4r), and a last 2 bytes (Q6_K's d) as the
 * 8 rows' halves; so a 32-byte load holds the same 4 bytes of 8 rows.
 * y[j * ys + r] = dot(row r, activation row j), r < 8, j < nr (1..4). */
typedef void (*qk_tile8_fn)(int64_t n, const void *w8, const void *x, size_t xs, int nr,
                            float *y, size_t ys);

/* Optional: one activation row of n values in the Q8A format made into the
 * ISA's own layout for the packed GEMV (spread8_bytes per block of 32),
 * once per input (sotto_qact keeps it) and shared by every group of 8
 * weight rows of every product on it. */
typedef void (*qk_spread_fn)(int64_t n, const void *x, void *out);

/* A GEMM of QK_GEMM_N weight rows by m activation rows (m a multiple of
 * QK_GEMM_M): y[i * ys + j] = dot(weight row j, activation row i). Weight
 * rows ws bytes apart (gemm), or packed by 8 rows, the 4 groups 8 * ws bytes
 * apart (gemm8). For prompt batches (AMX tiles). */
#define QK_GEMM_N 32
#define QK_GEMM_M 16
typedef void (*qk_gemm_fn)(int64_t n, const void *w, size_t ws, const void *x, size_t xs,
                           size_t m, float *y, size_t ys);

typedef struct qk_table {
  const char *isa;
  qk_dot_fn dot[SOTTO_DTYPE_LIMIT];    /* by weight type; NULL: not in this ISA */
  qk_quant_fn quant[QK_ACT_COUNT];
  qk_tile_fn tile[SOTTO_DTYPE_LIMIT];  /* optional, for GEMMs */
  qk_tile_fn tile1[SOTTO_DTYPE_LIMIT]; /* optional: tile_m weight rows by 1 activation row */
  int tile_m, tile_n;
  qk_tile8_fn tile8[SOTTO_DTYPE_LIMIT]; /* optional: for weights packed by 8 rows */
  qk_spread_fn spread8;                 /* optional, with gemv8: */
  size_t spread8_bytes;
  /* packed weights by one spread row (nr 1); xs: the weight bytes
   * readable from w8 on (the rest of the matrix), which it may read ahead */
  qk_tile8_fn gemv8[SOTTO_DTYPE_LIMIT];
  qk_gemm_fn gemm[SOTTO_DTYPE_LIMIT];   /* optional: batches, plain weight rows */
  qk_gemm_fn gemm8[SOTTO_DTYPE_LIMIT];  /* optional: batches, weights packed by 8 rows */
  int q5_0_qh;                          /* packed Q5_0's fifth bits: QK_QH_ROWS8 (0) or 4 */
} qk_table;

enum { QK_QH_ROWS8, QK_QH_ROWS4 };

void qk_fill_scalar(qk_table *t);
void qk_fill_avx2(qk_table *t);   /* x86-64 builds only */
void qk_fill_avx512(qk_table *t); /* x86-64 builds only */
/* On top of qk_fill_avx512, on CPUs with GFNI (x86-64 builds only). */
void qk_fill_avx512_gfni(qk_table *t);
/* On top of qk_fill_avx512, on CPUs with AMX-INT8 (x86-64 builds only):
 * 0 when the OS does not grant the tiles (then nothing is filled). */
int qk_fill_amx(qk_table *t);
void qk_fill_wasm(qk_table *t);   /* wasm SIMD128 builds only */

/* The activation format of a weight type; -1 when the type is no weight. */
static inline int qk_act_of(sotto_dtype t) {
  switch (t) {
    case SOTTO_DTYPE_F32: case SOTTO_DTYPE_F16: case SOTTO_DTYPE_BF16: return QK_ACT_F32;
    case SOTTO_DTYPE_Q4_0: case SOTTO_DTYPE_Q4_1: case SOTTO_DTYPE_Q5_0:
    case SOTTO_DTYPE_Q5_1: case SOTTO_DTYPE_Q8_0: return QK_ACT_Q8A;
    case SOTTO_DTYPE_Q4_K: case SOTTO_DTYPE_Q5_K: case SOTTO_DTYPE_Q6_K: return QK_ACT_Q8K;
    default: return -1;
  }
}

/* Bytes of an activation row of n values in format a. */
static inline size_t qk_act_row_bytes(int a, int64_t n) {
  if (a == QK_ACT_F32) return (size_t)n * sizeof(float);
  if (a == QK_ACT_Q8A) return (size_t)(n / SOTTO_QK) * sizeof(sotto_block_q8a);
  return (size_t)(n / SOTTO_QK_K) * sizeof(sotto_block_q8_k);
}

/* IEEE binary16 to float by bit manipulation (ggml's
 * ggml_compute_fp16_to_fp32 fallback), for the block scales. */
static inline float qk_half(sotto_half h) {
  union { uint32_t u; float f; } v;
  const uint32_t w = (uint32_t)h << 16;
  const uint32_t two_w = w + w;
  v.u = (two_w >> 4) + (0xE0u << 23);
  const float normalized = v.f * 0x1.0p-112f;
  v.u = (two_w >> 17) | (126u << 23);
  const float denormalized = v.f - 0.5f;
  v.f = two_w < (1u << 27) ? denormalized : normalized;
  v.u |= w & 0x80000000u;
  return v.f;
}

static inline float qk_bf16(uint16_t b) {
  union { uint32_t u; float f; } v = {(uint32_t)b << 16};
  return v.f;
}

/* The 6-bit scale and min of sub-block j of a Q4_K/Q5_K super-block
 * (ggml-quants.c, get_scale_min_k4). */
static inline void qk_scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m) {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

/* The 8 scales and 8 mins of a Q4_K/Q5_K super-block as bytes: out[0..8)
 * scales, out[8..16) mins (the unpacking of ggml's AVX2 vec_dot_q4_K). */
static inline void qk_unpack_k4(const uint8_t *scales, uint8_t out[16]) {
  uint32_t u[4];
  memcpy(u, scales, 12);
  const uint32_t m1 = 0x3f3f3f3fu, m2 = 0x0f0f0f0fu, m3 = 0x03030303u;
  u[3] = ((u[2] >> 4) & m2) | (((u[1] >> 6) & m3) << 4);
  const uint32_t mins_lo = u[1] & m1;
  u[1] = (u[2] & m2) | (((u[0] >> 6) & m3) << 4);
  u[2] = mins_lo;
  u[0] &= m1;
  memcpy(out, u, 16);
}

#endif /* SOTTO_QKERNELS_H */
