/*
 * qk_amx.c - GEMM tiles on Intel AMX-INT8 (Advanced Matrix Extensions:
 * Sapphire Rapids and later) for prompt batches: 32 weight rows by any
 * multiple of 16 activation rows per call (qkernels.h, qk_gemm_fn), for the
 * 32-blocks without a min (Q8_0, Q4_0, Q5_0) with Q8A activations, and for
 * Q4_K and Q6_K with Q8_K activations, each in the plain and the 8-row
 * packed layout.
 *
 * Intel's Architecture Instruction Set Extensions Programming Reference
 * (ch. 3, "Intel AMX") defines the tiles: 8 registers of up to 16 rows x 64
 * bytes, shaped by a tile configuration (ldtilecfg), and tdpbssd, which adds
 * to each int32 of C[16 x 16] the dot of a row of A (signed bytes) with a
 * column of B (signed bytes, stored 4 at a time: "VNNI layout", B row k
 * holding bytes 4k..4k+3 of each of the 16 columns). Linux hands out the
 * tile data state only to processes that ask (arch_prctl
 * ARCH_REQ_XCOMP_PERM, Documentation/arch/x86/xstate.rst); without it the
 * first tile instruction faults, so qk_fill_amx asks first and fills nothing
 * when refused.
 *
 * Each weight block of 32 carries its own scale, as does each activation
 * block, so the int32 sums cannot run over blocks: per block, tdpbssd with
 * K = 32 (A 16 rows x 32 bytes straight from the Q8A activation rows, B 8
 * rows x 64 bytes), the C tiles stored, and AVX-512 adds
 * C * d_w * d_x to the float outputs. Per block the 32 weight rows are
 * decoded once to signed bytes in the VNNI layout (two B tiles) and reused
 * for every activation row; the tile products of one step run while the
 * float work of the step before is done (C double-buffered in memory, the
 * structure of ggml-cpu's amx/mmq.cpp tinygemm_kernel_amx). The integer
 * block sums are those of the scalar references (qk_scalar.c); only the
 * float summation order differs.
 */
#define _GNU_SOURCE
#include "ops/qkernels.h"

#if defined(__x86_64__)
#include <stddef.h>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18

/* The tile data permission for this process (all its threads). */
static int amx_permitted(void) {
#if defined(__linux__)
  return syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
#else
  return 0;
#endif
}

#define QK_TARGET "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni,amx-tile,amx-int8"
#include "ops/qk_target.h"

#define AMX_B_BYTES 512 /* one B tile: 8 rows x 64 bytes (16 weight rows x 32 values) */

/* The tile shapes (palette 1): tmm0-1 B (weights), tmm2-3 A (16
 * activation rows x 32 bytes), tmm4-7 C (16 x 16 int32). */
typedef struct {
  uint8_t palette, start_row, reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
} amx_config;

/* (A constant: gcc's _tile_loadconfig names only the first 8 bytes as its
 * operand, so a configuration built on the stack would be half stored.) */
static const amx_config amx_shapes __attribute__((aligned(64))) = {
    .palette = 1,
    .colsb = {64, 64, 32, 32, 64, 64, 64, 64},
    .rows = {8, 8, 16, 16, 16, 16, 16, 16},
};

/* ---- weight blocks to the VNNI layout ----
 * An unpacker writes block b of 32 weight rows as two B tiles, q[t * 512 +
 * k * 64 + c * 4 + u] = value 4k + u of row 16t + c (signed), and the rows'
 * scales d[0..32). */
typedef void (*amx_unpack_fn)(const uint8_t *w, size_t ws, int64_t b, int8_t *q, float *d);

/* Two 32-byte chunks side by side. */
QK_INLINE __m512i join256(const uint8_t *lo, const uint8_t *hi) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)lo)),
                            _mm256_loadu_si256((const __m256i *)hi), 1);
}

/* The 8 half scales that open a packed block of each of two 8-row groups,
 * as 16 floats. */
QK_INLINE void scales_p8(const uint8_t *g0, const uint8_t *g1, float *d) {
  _mm256_store_ps(d, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)g0)));
  _mm256_store_ps(d + 8, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)g1)));
}

/* Packed by 8 rows (qkernels.h): per group and block the 8 half scales, then
 * 4 bytes of each row at a time: chunk k of two groups is B row k as is. */
QK_INLINE void unpack_q8_0_p8(const uint8_t *w, size_t ws, int64_t b, int8_t *q, float *d) {
  const size_t gs = 8 * ws, bb = 8 * sizeof(sotto_block_q8_0);
  const __m512i bias = _mm512_set1_epi8((char)0x80); /* stored + 128 */
  for (int t = 0; t < 2; t++) {
    const uint8_t *g0 = w + (size_t)(2 * t) * gs + (size_t)b * bb, *g1 = g0 + gs;
    scales_p8(g0, g1, d + 16 * t);
    for (int k = 0; k < 8; k++)
      _mm512_store_si512(q + t * AMX_B_BYTES + 64 * k,
                         _mm512_xor_si512(join256(g0 + 16 + 32 * k, g1 + 16 + 32 * k), bias));
  }
}

/* Q4_0 packed: chunk k holds values 4k.. in its low nibbles and 16 + 4k..
 * in its high ones (B rows k and 4 + k). */
QK_INLINE void unpack_q4_0_p8(const uint8_t *w, size_t ws, int64_t b, int8_t *q, float *d) {
  const size_t gs = 8 * ws, bb = 8 * sizeof(sotto_block_q4_0);
  const __m512i low4 = _mm512_set1_epi8(0x0F), eight = _mm512_set1_epi8(8);
  for (int t = 0; t < 2; t++) {
    const uint8_t *g0 = w + (size_t)(2 * t) * gs + (size_t)b * bb, *g1 = g0 + gs;
    scales_p8(g0, g1, d + 16 * t);
    for (int k = 0; k < 4; k++) {
      const __m512i v = join256(g0 + 16 + 32 * k, g1 + 16 + 32 * k);
      _mm512_store_si512(q + t * AMX_B_BYTES + 64 * k,
                         _mm512_sub_epi8(_mm512_and_si512(v, low4), eight));
      _mm512_store_si512(q + t * AMX_B_BYTES + 64 * (4 + k),
                         _mm512_sub_epi8(_mm512_and_si512(_mm512_srli_epi16(v, 4), low4), eight));
    }
  }
}

/* Q5_0 packed: as Q4_0, with 8 words of fifth bits after the scales, bit
 * 4r + t of word 2k (2k + 1) for byte 4r + t of chunk k's low (high)
 * nibbles: as byte masks, value - 16 where the bit is clear. */
QK_INLINE void unpack_q5_0_p8(const uint8_t *w, size_t ws, int64_t b, int8_t *q, float *d) {
  const size_t gs = 8 * ws, bb = 8 * sizeof(sotto_block_q5_0);
  const __m512i low4 = _mm512_set1_epi8(0x0F), sixteen = _mm512_set1_epi8(16);
  for (int t = 0; t < 2; t++) {
    const uint8_t *g0 = w + (size_t)(2 * t) * gs + (size_t)b * bb, *g1 = g0 + gs;
    scales_p8(g0, g1, d + 16 * t);
    uint32_t h0[8], h1[8];
    memcpy(h0, g0 + 16, 32);
    memcpy(h1, g1 + 16, 32);
    for (int k = 0; k < 4; k++) {
      const __m512i v = join256(g0 + 48 + 32 * k, g1 + 48 + 32 * k);
      const __mmask64 mlo = h0[2 * k] | (uint64_t)h1[2 * k] << 32;
      const __mmask64 mhi = h0[2 * k + 1] | (uint64_t)h1[2 * k + 1] << 32;
      const __m512i lo = _mm512_and_si512(v, low4), hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), low4);
      _mm512_store_si512(q + t * AMX_B_BYTES + 64 * k, _mm512_mask_sub_epi8(lo, ~mlo, lo, sixteen));
      _mm512_store_si512(q + t * AMX_B_BYTES + 64 * (4 + k), _mm512_mask_sub_epi8(hi, ~mhi, hi, sixteen));
    }
  }
}

/* Plain rows: the 32-bit word at byte o of block b in 16 rows (from row
 * 16t), one per lane. Every word read lies inside its block. */
QK_INLINE __m512i gather16(const uint8_t *w, size_t ws, size_t bytes, int64_t b, int t, int o) {
  const __m512i rows = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                                                            12, 13, 14, 15),
                                          _mm512_set1_epi32((int)ws));
  return _mm512_i32gather_epi32(rows, w + (size_t)(16 * t) * ws + (size_t)b * bytes + (size_t)o, 1);
}

/* The half scale at the start of each row's block. */
QK_INLINE void gather_scales(const uint8_t *w, size_t ws, size_t bytes, int64_t b, float *d) {
  for (int t = 0; t < 2; t++)
    _mm512_store_ps(d + 16 * t, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(gather16(w, ws, bytes, b, t, 0))));
}

QK_INLINE void unpack_q8_0(const uint8_t *w, size_t ws, int64_t b, int8_t *q, float *d) {
  const size_t bytes = sizeof(sotto_block_q8_0);
  gather_scales(w, ws, bytes, b, d);
  for (int t = 0; t < 2; t++)
    for (int k = 0; k < 8; k++)
      _mm512_store_si512(q + t * AMX_B_BYTES + 64 * k,
                         gather16(w, ws, bytes, b, t, offsetof(sotto_block_q8_0, qs) + 4 * k));
}

QK_INLINE void unpack_q4_0(const uint8_t *w, size_t ws, int64_t b, int8_t *q, float *d) {
  const size_t bytes = sizeof(sotto_block_q4_0);
  const __m512i low4 = _mm512_set1_epi8(0x0F), eight = _mm512_set1_epi8(8);
  gather_scales(w, ws, bytes, b, d);
  for (int t = 0; t < 2; t++)
    for (int k = 0; k < 4; k++) {
      const __m512i v = gather16(w, ws, bytes, b, t, offsetof(sotto_block_q4_0, qs) + 4 * k);
      _mm512_store_si512(q + t * AMX_B_BYTES + 64 * k,
                         _mm512_sub_epi8(_mm512_and_si512(v, low4), eight));
      _mm512_store_si512(q + t * AMX_B_BYTES + 64 * (4 + k),
                         _mm512_sub_epi8(_mm512_and_si512(_mm512_srli_epi16(v, 4), low4), eight));
    }
}

/* Bits 4k..4k+3 of each lane's word h as 0x10 or 0 in its 4 bytes: the
 * product with 2^0 + 2^7 + 2^14 + 2^21 moves bit u to bit 8u. */
QK_INLINE __m512i high_bits(__m512i h, int k) {
  const __m512i nib = _mm512_and_si512(_mm512_srl_epi32(h, _mm_cvtsi32_si128(4 * k)), _mm512_set1_epi32(0xF));
  const __m512i spread = _mm512_and_si512(_mm512_mullo_epi32(nib, _mm512_set1_epi32(0x00204081)),
                                          _mm512_set1_epi32(0x01010101));
  return _mm512_slli_epi32(spread, 4);
}

/* Q5_0: value j (< 16) the low nibble of qs[j] with bit j of qh as its
 * fifth, value 16 + j the high nibble with bit 16 + j; minus 16. */
QK_INLINE void unpack_q5_0(const uint8_t *w, size_t ws, int64_t b, int8_t *q, float *d) {
  const size_t bytes = sizeof(sotto_block_q5_0);
  const __m512i low4 = _mm512_set1_epi8(0x0F), sixteen = _mm512_set1_epi8(16);
  gather_scales(w, ws, bytes, b, d);
  for (int t = 0; t < 2; t++) {
    const __m512i h = gather16(w, ws, bytes, b, t, offsetof(sotto_block_q5_0, qh));
    for (int k = 0; k < 4; k++) {
      const __m512i v = gather16(w, ws, bytes, b, t, offsetof(sotto_block_q5_0, qs) + 4 * k);
      const __m512i lo = _mm512_or_si512(_mm512_and_si512(v, low4), high_bits(h, k));
      const __m512i hi = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(v, 4), low4), high_bits(h, 4 + k));
      _mm512_store_si512(q + t * AMX_B_BYTES + 64 * k, _mm512_sub_epi8(lo, sixteen));
      _mm512_store_si512(q + t * AMX_B_BYTES + 64 * (4 + k), _mm512_sub_epi8(hi, sixteen));
    }
  }
}

/* ---- the GEMM ---- */

/* acc rows [i, i + rows) += C * d_w * d_x, d_x the activation scale at xd
 * in row 0 (xs bytes a row; the first field of sotto_block_q8a and
 * sotto_block_q8_k), d_w in d (32 weight rows): c holds the C tiles
 * (rows 0-15 by weight rows 0-15, rows 16-31 by 0-15, rows 0-15 by 16-31,
 * rows 16-31 by 16-31), 16 int32 a row; acc has 32 floats a row. */
QK_INLINE void amx_scale(const uint8_t *xd, size_t xs, size_t i, size_t rows,
                         const int32_t *c, const float *d, float *acc) {
  const __m512 d0 = _mm512_load_ps(d), d1 = _mm512_load_ps(d + 16);
  for (size_t r = 0; r < rows; r++) {
    const __m512 dx = _mm512_set1_ps(*(const float *)(xd + (i + r) * xs));
    const int32_t *c0 = c + (r / 16) * 256 + (r % 16) * 16;
    float *ar = acc + (i + r) * 32;
    _mm512_store_ps(ar, _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(c0)),
                                        _mm512_mul_ps(d0, dx), _mm512_load_ps(ar)));
    _mm512_store_ps(ar + 16, _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(c0 + 512)),
                                             _mm512_mul_ps(d1, dx), _mm512_load_ps(ar + 16)));
  }
}

/* C for 16 or 32 activation rows (A: 32 bytes a row at a, xs apart) by the
 * two B tiles in tmm0-1, stored to c (amx_scale's layout). */
QK_INLINE void amx_products(const uint8_t *a, size_t xs, size_t rows, int32_t *c) {
  _tile_zero(4);
  _tile_zero(6);
  _tile_loadd(2, a, xs);
  _tile_dpbssd(4, 2, 0);
  _tile_dpbssd(6, 2, 1);
  _tile_stored(4, c, 64);
  _tile_stored(6, c + 512, 64);
  if (rows == 32) {
    _tile_zero(5);
    _tile_zero(7);
    _tile_loadd(3, a + 16 * xs, xs);
    _tile_dpbssd(5, 3, 0);
    _tile_dpbssd(7, 3, 1);
    _tile_stored(5, c + 256, 64);
    _tile_stored(7, c + 768, 64);
  }
}

/* Up to AMX_ROWS activation rows at a time: their sums stay in L1 (output
 * rows a whole matrix row apart would fall into a few cache sets). */
#define AMX_ROWS 64

QK_INLINE void amx_gemm(int64_t n, const uint8_t *w, size_t ws, const uint8_t *x, size_t xs,
                        size_t m, float *y, size_t ys, amx_unpack_fn unpack) {
  int8_t q[2 * AMX_B_BYTES] __attribute__((aligned(64)));
  float d[2][32] __attribute__((aligned(64)));
  int32_t c[2][4 * 256] __attribute__((aligned(64)));
  float acc[AMX_ROWS * 32] __attribute__((aligned(64)));
  _tile_loadconfig(&amx_shapes);
  for (size_t i0 = 0; i0 < m; i0 += AMX_ROWS, x += AMX_ROWS * xs, y += AMX_ROWS * ys) {
    const size_t mc = m - i0 < AMX_ROWS ? m - i0 : AMX_ROWS;
    memset(acc, 0, mc * 32 * sizeof(float));
    int s = 0, pending = 0;
    int64_t pb = 0;
    size_t pi = 0, prows = 0;
    for (int64_t b = 0; b < n / SOTTO_QK; b++) {
      unpack(w, ws, b, q, d[b & 1]);
      _tile_loadd(0, q, 64);
      _tile_loadd(1, q + AMX_B_BYTES, 64);
      for (size_t i = 0; i < mc; i += 32) {
        const size_t rows = mc - i >= 32 ? 32 : 16;
        const uint8_t *a = x + i * xs + (size_t)b * sizeof(sotto_block_q8a) + offsetof(sotto_block_q8a, qs);
        amx_products(a, xs, rows, c[s]);
        /* the float work of the step before, while these products run */
        if (pending) amx_scale(x + (size_t)pb * sizeof(sotto_block_q8a), xs, pi, prows, c[s ^ 1], d[pb & 1], acc);
        pending = 1, pb = b, pi = i, prows = rows;
        s ^= 1;
      }
    }
    amx_scale(x + (size_t)pb * sizeof(sotto_block_q8a), xs, pi, prows, c[s ^ 1], d[pb & 1], acc);
    for (size_t i = 0; i < mc; i++) memcpy(y + i * ys, acc + i * 32, 32 * sizeof(float));
  }
  _tile_release();
}

#define AMX_GEMM(name, unpack)                                                               \
  static void name(int64_t n, const void *w, size_t ws, const void *x, size_t xs, size_t m,  \
                   float *y, size_t ys) {                                                    \
    amx_gemm(n, w, ws, x, xs, m, y, ys, unpack);                                             \
  }
AMX_GEMM(gemm_q8_0, unpack_q8_0)
AMX_GEMM(gemm_q4_0, unpack_q4_0)
AMX_GEMM(gemm_q5_0, unpack_q5_0)
AMX_GEMM(gemm8_q8_0, unpack_q8_0_p8)
AMX_GEMM(gemm8_q4_0, unpack_q4_0_p8)
AMX_GEMM(gemm8_q5_0, unpack_q5_0_p8)

/* ---- K-quants: super-blocks of 256 with Q8_K activations ----
 * A super-block is cut into sub-blocks of 32 activations (Q4_K: its 8
 * sub-blocks; Q6_K: each 32 values twice, once with the first 16 and once
 * with the last 16 weights zeroed, for its 16 scales of 16). Per sub-block
 * the tile products, times the integer scale, are summed in int32 as the
 * scalar kernels sum them; once per super-block the sums are scaled by d
 * and d_x, less Q4_K's mins (from the activations' sums of 16, vpdpwssd). */
typedef struct {
  int8_t q[16][2 * AMX_B_BYTES]; /* per sub-block: two B tiles */
  int32_t sc[16][32];            /* per sub-block: its scale, per weight row */
  int32_t mins[2][4][16];        /* [16 rows][pair p][row]: m_2p | m_2p+1 << 16 */
  float d[32], dmin[32];
} amx_super;

typedef void (*amx_kunpack_fn)(const uint8_t *w, size_t ws, int64_t i, amx_super *u);

/* Byte k of each lane of v, zero- or sign-extended. */
QK_INLINE __m512i byte_u(__m512i v, int k) {
  return _mm512_and_si512(_mm512_srli_epi32(v, 8 * k), _mm512_set1_epi32(0xFF));
}
QK_INLINE __m512i byte_s(__m512i v, int k) {
  return _mm512_srai_epi32(_mm512_slli_epi32(v, 24 - 8 * k), 24);
}

/* The 32-bit word at byte o (a multiple of 4) of super-block i of 16 rows
 * (from row 16t), one per lane: plain rows (gather16), or packed by 8 rows
 * (qkernels.h: word o / 4 of 8 rows side by side; two 8-row groups). */
QK_INLINE __m512i kword16(const uint8_t *w, size_t ws, size_t bytes, int64_t i, int t, int o,
                          int packed) {
  if (!packed) return gather16(w, ws, bytes, i, t, o);
  const uint8_t *g0 = w + (size_t)(2 * t) * 8 * ws + (size_t)i * 8 * bytes + 8 * (size_t)o;
  return join256(g0, g0 + 8 * ws);
}

/* Q4_K: sub-block 2c (2c + 1) is the low (high) nibbles of the 32 bytes of
 * chunk c; scales and mins unpacked as qk_unpack_k4 does, in every lane. */
QK_INLINE void kunpack_q4_k(const uint8_t *w, size_t ws, int64_t i, amx_super *u, int packed) {
  const size_t bytes = sizeof(sotto_block_q4_k);
  const __m512i low4 = _mm512_set1_epi8(0x0F), m1 = _mm512_set1_epi32(0x3f3f3f3f),
                m2 = _mm512_set1_epi32(0x0f0f0f0f), m3 = _mm512_set1_epi32(0x03030303);
  for (int t = 0; t < 2; t++) {
    const __m512i dd = kword16(w, ws, bytes, i, t, 0, packed);
    _mm512_store_ps(u->d + 16 * t, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(dd)));
    _mm512_store_ps(u->dmin + 16 * t, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(dd, 16))));
    const __m512i u0 = kword16(w, ws, bytes, i, t, 4, packed), u1 = kword16(w, ws, bytes, i, t, 8, packed),
                  u2 = kword16(w, ws, bytes, i, t, 12, packed);
    const __m512i sc_lo = _mm512_and_si512(u0, m1);
    const __m512i sc_hi = _mm512_or_si512(_mm512_and_si512(u2, m2),
                                          _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(u0, 6), m3), 4));
    const __m512i mn_lo = _mm512_and_si512(u1, m1);
    const __m512i mn_hi = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi32(u2, 4), m2),
                                          _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(u1, 6), m3), 4));
    for (int j = 0; j < 8; j++) _mm512_store_si512(u->sc[j] + 16 * t, byte_u(j < 4 ? sc_lo : sc_hi, j % 4));
    for (int p = 0; p < 4; p++) {
      const __m512i m = p < 2 ? mn_lo : mn_hi;
      const int k = 2 * (p % 2);
      _mm512_store_si512(u->mins[t][p], _mm512_or_si512(byte_u(m, k), _mm512_slli_epi32(byte_u(m, k + 1), 16)));
    }
    for (int c = 0; c < 4; c++)
      for (int k = 0; k < 8; k++) {
        const __m512i v = kword16(w, ws, bytes, i, t, offsetof(sotto_block_q4_k, qs) + 32 * c + 4 * k, packed);
        _mm512_store_si512(u->q[2 * c] + t * AMX_B_BYTES + 64 * k, _mm512_and_si512(v, low4));
        _mm512_store_si512(u->q[2 * c + 1] + t * AMX_B_BYTES + 64 * k,
                           _mm512_and_si512(_mm512_srli_epi16(v, 4), low4));
      }
  }
}

/* Q6_K (ggml's dequantize_row_q6_K): value 128h + 32k + l has the low bits
 * in nibble k / 2 of ql[64h + 32(k % 2) + l], the high two at bit 2k of
 * qh[32h + l], minus 32, and scale 8h + 2k + l / 16. Sub-block 2g (2g + 1)
 * of g = 4h + k keeps l < 16 (l >= 16). */
QK_INLINE void kunpack_q6_k(const uint8_t *w, size_t ws, int64_t i, amx_super *u, int packed) {
  const size_t bytes = sizeof(sotto_block_q6_k);
  const __m512i low4 = _mm512_set1_epi8(0x0F), three = _mm512_set1_epi8(3),
                bias = _mm512_set1_epi8(32), zero = _mm512_setzero_si512();
  for (int t = 0; t < 2; t++) {
    if (packed) { /* the 8 rows' halves d after the words */
      const uint8_t *g0 = w + (size_t)(2 * t) * 8 * ws + (size_t)i * 8 * bytes + 8 * offsetof(sotto_block_q6_k, d);
      _mm512_store_ps(u->d + 16 * t, _mm512_cvtph_ps(_mm256_set_m128i(
          _mm_loadu_si128((const __m128i *)(g0 + 8 * ws)), _mm_loadu_si128((const __m128i *)g0))));
    } else { /* d is the last 2 bytes: read with the 2 scales before it */
      _mm512_store_ps(u->d + 16 * t, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(
          gather16(w, ws, bytes, i, t, offsetof(sotto_block_q6_k, d) - 2), 16))));
    }
    for (int q4 = 0; q4 < 4; q4++) {
      const __m512i sc = kword16(w, ws, bytes, i, t, offsetof(sotto_block_q6_k, scales) + 4 * q4, packed);
      for (int k = 0; k < 4; k++) {
        const int j = 4 * q4 + k;                              /* scale 8h + 2k' + half */
        const int s = 2 * (4 * (j / 8) + (j % 8) / 2) + j % 2; /* its sub-block */
        _mm512_store_si512(u->sc[s] + 16 * t, byte_s(sc, k));
      }
    }
    for (int h = 0; h < 2; h++)
      for (int r = 0; r < 8; r++) {
        const __m512i qh = kword16(w, ws, bytes, i, t, offsetof(sotto_block_q6_k, qh) + 32 * h + 4 * r, packed);
        for (int p = 0; p < 2; p++) {
          const __m512i ql = kword16(w, ws, bytes, i, t, 64 * h + 32 * p + 4 * r, packed);
          for (int nib = 0; nib < 2; nib++) {
            const int k = p + 2 * nib, g = 4 * h + k;
            const __m512i lo = _mm512_and_si512(_mm512_srli_epi16(ql, 4 * nib), low4);
            const __m512i hi = _mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(qh, 2 * k), three), 4);
            const __m512i v = _mm512_sub_epi8(_mm512_or_si512(lo, hi), bias);
            _mm512_store_si512(u->q[2 * g] + t * AMX_B_BYTES + 64 * r, r < 4 ? v : zero);
            _mm512_store_si512(u->q[2 * g + 1] + t * AMX_B_BYTES + 64 * r, r < 4 ? zero : v);
          }
        }
      }
  }
}

/* isum rows [i, i + rows) += C * sc (amx_scale's C layout, int32). */
QK_INLINE void amx_scale_int(size_t i, size_t rows, const int32_t *c, const int32_t *sc, int32_t *isum) {
  const __m512i s0 = _mm512_load_si512(sc), s1 = _mm512_load_si512(sc + 16);
  for (size_t r = 0; r < rows; r++) {
    const int32_t *c0 = c + (r / 16) * 256 + (r % 16) * 16;
    int32_t *ir = isum + (i + r) * 32;
    _mm512_store_si512(ir, _mm512_add_epi32(_mm512_load_si512(ir),
                                            _mm512_mullo_epi32(_mm512_load_si512(c0), s0)));
    _mm512_store_si512(ir + 16, _mm512_add_epi32(_mm512_load_si512(ir + 16),
                                                 _mm512_mullo_epi32(_mm512_load_si512(c0 + 512), s1)));
  }
}

/* acc rows [0, rows) += d_x * (d * isum - dmin * sum_j m_j * (bsums[2j] +
 * bsums[2j+1])) (qk_scalar.c's dot_q4_k; no mins: dot_q6_k), xk at row
 * 0's super-block. */
QK_INLINE void amx_finish(const uint8_t *xk, size_t xs, size_t rows, const amx_super *u,
                          const int32_t *isum, int mins, float *acc) {
  for (size_t r = 0; r < rows; r++) {
    const sotto_block_q8_k *b = (const sotto_block_q8_k *)(xk + r * xs);
    __m512i m[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()};
    if (mins) {
      int32_t pairs[4]; /* (bs_2p, bs_2p+1) as int16 pairs */
      _mm_storeu_si128((__m128i *)pairs, _mm_hadd_epi16(_mm_loadu_si128((const __m128i *)b->bsums),
                                                        _mm_loadu_si128((const __m128i *)(b->bsums + 8))));
      for (int p = 0; p < 4; p++)
        for (int h = 0; h < 2; h++)
          m[h] = _mm512_dpwssd_epi32(m[h], _mm512_load_si512(u->mins[h][p]), _mm512_set1_epi32(pairs[p]));
    }
    const __m512 dx = _mm512_set1_ps(b->d);
    for (int h = 0; h < 2; h++) {
      float *ar = acc + r * 32 + 16 * h;
      const __m512 q = _mm512_mul_ps(_mm512_load_ps(u->d + 16 * h),
                                     _mm512_cvtepi32_ps(_mm512_load_si512(isum + r * 32 + 16 * h)));
      const __m512 v = _mm512_fnmadd_ps(_mm512_load_ps(u->dmin + 16 * h), _mm512_cvtepi32_ps(m[h]), q);
      _mm512_store_ps(ar, _mm512_fmadd_ps(dx, mins ? v : q, _mm512_load_ps(ar)));
    }
  }
}

QK_INLINE void amx_gemm_k(int64_t n, const uint8_t *w, size_t ws, const uint8_t *x, size_t xs,
                          size_t m, float *y, size_t ys, amx_kunpack_fn unpack, int nsub, int mins) {
  amx_super u __attribute__((aligned(64)));
  int32_t c[2][4 * 256] __attribute__((aligned(64)));
  int32_t isum[AMX_ROWS * 32] __attribute__((aligned(64)));
  float acc[AMX_ROWS * 32] __attribute__((aligned(64)));
  const size_t kb = sizeof(sotto_block_q8_k);
  _tile_loadconfig(&amx_shapes);
  for (size_t i0 = 0; i0 < m; i0 += AMX_ROWS, x += AMX_ROWS * xs, y += AMX_ROWS * ys) {
    const size_t mc = m - i0 < AMX_ROWS ? m - i0 : AMX_ROWS;
    memset(acc, 0, mc * 32 * sizeof(float));
    for (int64_t ib = 0; ib < n / SOTTO_QK_K; ib++) {
      unpack(w, ws, ib, &u);
      memset(isum, 0, mc * 32 * sizeof(int32_t));
      const uint8_t *xk = x + (size_t)ib * kb;
      int s = 0, pending = 0, psub = 0;
      size_t pi = 0, prows = 0;
      for (int j = 0; j < nsub; j++) {
        _tile_loadd(0, u.q[j], 64);
        _tile_loadd(1, u.q[j] + AMX_B_BYTES, 64);
        const uint8_t *a = xk + offsetof(sotto_block_q8_k, qs) + 32 * (j * 8 / nsub);
        for (size_t i = 0; i < mc; i += 32) {
          const size_t rows = mc - i >= 32 ? 32 : 16;
          amx_products(a + i * xs, xs, rows, c[s]);
          if (pending) amx_scale_int(pi, prows, c[s ^ 1], u.sc[psub], isum);
          pending = 1, psub = j, pi = i, prows = rows;
          s ^= 1;
        }
      }
      amx_scale_int(pi, prows, c[s ^ 1], u.sc[psub], isum);
      amx_finish(xk, xs, mc, &u, isum, mins, acc);
    }
    for (size_t i = 0; i < mc; i++) memcpy(y + i * ys, acc + i * 32, 32 * sizeof(float));
  }
  _tile_release();
}

#define AMX_GEMM_K(name, unpack, packed, nsub, mins)                                              \
  static void kunpack_##name(const uint8_t *w, size_t ws, int64_t i, amx_super *u) {              \
    unpack(w, ws, i, u, packed);                                                                  \
  }                                                                                               \
  static void name(int64_t n, const void *w, size_t ws, const void *x, size_t xs, size_t m,       \
                   float *y, size_t ys) {                                                         \
    amx_gemm_k(n, w, ws, x, xs, m, y, ys, kunpack_##name, nsub, mins);                            \
  }
AMX_GEMM_K(gemm_q4_k, kunpack_q4_k, 0, 8, 1)
AMX_GEMM_K(gemm_q6_k, kunpack_q6_k, 0, 16, 0)
AMX_GEMM_K(gemm8_q4_k, kunpack_q4_k, 1, 8, 1)
AMX_GEMM_K(gemm8_q6_k, kunpack_q6_k, 1, 16, 0)

#include "ops/qk_x86_end.h"

int qk_fill_amx(qk_table *t) {
  if (!amx_permitted()) return 0;
  t->isa = "amx-int8";
  t->gemm[SOTTO_DTYPE_Q8_0] = gemm_q8_0;
  t->gemm[SOTTO_DTYPE_Q4_0] = gemm_q4_0;
  t->gemm[SOTTO_DTYPE_Q5_0] = gemm_q5_0;
  t->gemm8[SOTTO_DTYPE_Q8_0] = gemm8_q8_0;
  t->gemm8[SOTTO_DTYPE_Q4_0] = gemm8_q4_0;
  t->gemm8[SOTTO_DTYPE_Q5_0] = gemm8_q5_0;
  t->gemm[SOTTO_DTYPE_Q4_K] = gemm_q4_k;
  t->gemm[SOTTO_DTYPE_Q6_K] = gemm_q6_k;
  t->gemm8[SOTTO_DTYPE_Q4_K] = gemm8_q4_k;
  t->gemm8[SOTTO_DTYPE_Q6_K] = gemm8_q6_k;
  return 1;
}
#endif
