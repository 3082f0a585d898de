/*
 * qk_wasm.c - the kernels of qkernels.h in WebAssembly SIMD128 (no relaxed
 * SIMD). Quantized products are taken in int16 pairs with i32x4.dot_i16x8_s
 * (one pmaddwd), weights and activations widened to int16 in matching lane
 * orders (see each section). BF16 weights keep the scalar kernels (a test
 * format in the browser); F16 has its own (the key and value cache).
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

/* ---- 32-blocks ----
 * A block's 32 values as four int16x8 vectors: its even and its odd values
 * of each half (values 2k, 2k+1, 16+2k, 17+2k in lane k), the order in which
 * a Q4/Q5 block's nibbles come out of its bytes read as 16-bit lanes; the
 * activations are widened to the same order and i32x4.dot_i16x8_s multiplies
 * and adds pairs. The dots of four blocks are reduced into one vector and
 * scaled there, with the four blocks' half scales converted together. The
 * offsets of Q4_0 and Q5_0 (8, 16) are taken off through the activation
 * block's sum: sum((q - o) x) = sum(q x) - o sum(x), exact in integers. */

enum { B_Q4_0, B_Q4_1, B_Q5_0, B_Q5_1, B_Q8_0 };

typedef struct { v128_t v[4]; } q16;

/* 32 signed bytes as int16, even and odd values of each half. */
QK_INLINE q16 widen8(const int8_t *q) {
  const v128_t a = wasm_v128_load(q), b = wasm_v128_load(q + 16);
  return (q16){{wasm_i16x8_shr(wasm_i16x8_shl(a, 8), 8), wasm_i16x8_shr(a, 8),
                wasm_i16x8_shr(wasm_i16x8_shl(b, 8), 8), wasm_i16x8_shr(b, 8)}};
}

/* 16 bytes of nibbles (value j low in byte j, value 16 + j high) as int16. */
QK_INLINE q16 nibbles16(const uint8_t *qs) {
  const v128_t raw = wasm_v128_load(qs), m = wasm_i16x8_splat(0x0F);
  return (q16){{wasm_v128_and(raw, m), wasm_v128_and(wasm_u16x8_shr(raw, 8), m),
                wasm_v128_and(wasm_u16x8_shr(raw, 4), m), wasm_u16x8_shr(raw, 12)}};
}

/* Adds 16 where bit j of qh (value j's fifth bit) is set: lane k of the
 * even values tests bit 2k, of the odd ones bit 2k + 1. */
QK_INLINE q16 fifth16(q16 q, const uint8_t *qh) {
  uint32_t h;
  memcpy(&h, qh, 4);
  const v128_t se = wasm_i16x8_make(1, 1 << 2, 1 << 4, 1 << 6, 1 << 8, 1 << 10, 1 << 12, 1 << 14);
  const v128_t so = wasm_i16x8_make(1 << 1, 1 << 3, 1 << 5, 1 << 7, 1 << 9, 1 << 11, 1 << 13, -32768);
  const v128_t lo = wasm_i16x8_splat((int16_t)h), hi = wasm_i16x8_splat((int16_t)(h >> 16));
  const v128_t s = wasm_i16x8_splat(16);
#define QK_BIT(v, sel) wasm_v128_and(wasm_i16x8_eq(wasm_v128_and(v, sel), sel), s)
  q.v[0] = wasm_v128_or(q.v[0], QK_BIT(lo, se));
  q.v[1] = wasm_v128_or(q.v[1], QK_BIT(lo, so));
  q.v[2] = wasm_v128_or(q.v[2], QK_BIT(hi, se));
  q.v[3] = wasm_v128_or(q.v[3], QK_BIT(hi, so));
#undef QK_BIT
  return q;
}

QK_INLINE size_t block_bytes(int kind) {
  switch (kind) {
    case B_Q4_0: return sizeof(sotto_block_q4_0);
    case B_Q4_1: return sizeof(sotto_block_q4_1);
    case B_Q5_0: return sizeof(sotto_block_q5_0);
    case B_Q5_1: return sizeof(sotto_block_q5_1);
    default: return sizeof(sotto_block_q8_0);
  }
}

/* A weight block's values, before the offset (Q4_0: 8, Q5_0: 16). */
QK_INLINE q16 decode32(int kind, const uint8_t *p) {
  switch (kind) {
    case B_Q4_0: return nibbles16(((const sotto_block_q4_0 *)p)->qs);
    case B_Q4_1: return nibbles16(((const sotto_block_q4_1 *)p)->qs);
    case B_Q5_0: {
      const sotto_block_q5_0 *b = (const sotto_block_q5_0 *)p;
      return fifth16(nibbles16(b->qs), b->qh);
    }
    case B_Q5_1: {
      const sotto_block_q5_1 *b = (const sotto_block_q5_1 *)p;
      return fifth16(nibbles16(b->qs), b->qh);
    }
    default: return widen8(((const sotto_block_q8_0 *)p)->qs);
  }
}

QK_INLINE int block_offset(int kind) { return kind == B_Q4_0 ? 8 : kind == B_Q5_0 ? 16 : 0; }
QK_INLINE int block_has_min(int kind) { return kind == B_Q4_1 || kind == B_Q5_1; }

/* 4 x int32: the dot of two blocks' values. */
QK_INLINE v128_t dot32(q16 w, q16 x) {
  return wasm_i32x4_add(
      wasm_i32x4_add(wasm_i32x4_dot_i16x8(w.v[0], x.v[0]), wasm_i32x4_dot_i16x8(w.v[1], x.v[1])),
      wasm_i32x4_add(wasm_i32x4_dot_i16x8(w.v[2], x.v[2]), wasm_i32x4_dot_i16x8(w.v[3], x.v[3])));
}

/* [a0 + a1, a2 + a3, b0 + b1, b2 + b3] */
QK_INLINE v128_t hadd(v128_t a, v128_t b) {
  return wasm_i32x4_add(wasm_i32x4_shuffle(a, b, 0, 2, 4, 6), wasm_i32x4_shuffle(a, b, 1, 3, 5, 7));
}

/* 4 x 32 bits from p, p + stride, ... */
QK_INLINE v128_t gather4(const uint8_t *p, size_t stride) {
  v128_t v = wasm_i32x4_splat(0);
  v = wasm_v128_load32_lane(p, v, 0);
  v = wasm_v128_load32_lane(p + stride, v, 1);
  v = wasm_v128_load32_lane(p + 2 * stride, v, 2);
  return wasm_v128_load32_lane(p + 3 * stride, v, 3);
}

/* qk_half's algorithm on 4 lanes, its constants in a struct (HALF_K2, each
 * passed through wrap: opaque in half_consts2, so that a loop makes them
 * once). Unlike half_hi_f32x4, no float operation sees a denormal (halves
 * below 2^-14 are common in a key and value cache, and a denormal operand
 * is slow on x86). */
typedef struct { v128_t bias, scale, magic, half, sub, sign; } half_k2;

#define HALF_K2(wrap)                                                                        \
  ((half_k2){wrap(wasm_i32x4_splat(0xE0 << 23)), wrap(wasm_f32x4_splat(0x1.0p-112f)),        \
             wrap(wasm_i32x4_splat(126 << 23)), wrap(wasm_f32x4_splat(0.5f)),                \
             wrap(wasm_i32x4_splat(1 << 27)), wrap(wasm_i32x4_splat((int32_t)0x80000000u))})

/* 4 halves in the high 16 bits of 32-bit lanes (the low ones zero) as floats. */
QK_INLINE v128_t half_f32x4_k(v128_t w, const half_k2 *k) {
  const v128_t two_w = wasm_i32x4_add(w, w);
  const v128_t normalized = wasm_f32x4_mul(wasm_i32x4_add(wasm_u32x4_shr(two_w, 4), k->bias), k->scale);
  const v128_t denormalized = wasm_f32x4_sub(wasm_v128_or(wasm_u32x4_shr(two_w, 17), k->magic), k->half);
  return wasm_v128_or(wasm_v128_bitselect(denormalized, normalized, wasm_u32x4_lt(two_w, k->sub)),
                      wasm_v128_and(w, k->sign));
}

/* 4 halves in the low 16 bits of 32-bit lanes as floats. */
QK_INLINE v128_t half_f32x4(v128_t h) {
  const half_k2 k = HALF_K2(/* plain */);
  return half_f32x4_k(wasm_i32x4_shl(h, 16), &k);
}

/* 4 halves from p, p + stride, ... as floats. */
QK_INLINE v128_t halves4(const uint8_t *p, size_t stride) {
  v128_t h = wasm_i32x4_splat(0);
  h = wasm_v128_load16_lane(p, h, 0);
  h = wasm_v128_load16_lane(p + stride, h, 2);
  h = wasm_v128_load16_lane(p + 2 * stride, h, 4);
  return half_f32x4(wasm_v128_load16_lane(p + 3 * stride, h, 6));
}

#define XB(c, i) ((const sotto_block_q8a *)((const uint8_t *)x + (size_t)(c) * xs) + (i))

/* y[c * ycs + r * yrs] = dot(weight row r, activation row c) for r < rw
 * (rows ws bytes apart), c < rx (xs bytes apart). The table's dots use one
 * weight row: tiles of 4 weight rows sharing the activations were faster on
 * weights in cache but 15% slower on a model's decode, whose weights stream
 * from memory. */
QK_INLINE void block32(int kind, int64_t n, const void *w, size_t ws, int rw, const void *x,
                       size_t xs, int rx, float *y, size_t yrs, size_t ycs) {
  const size_t bb = block_bytes(kind);
  const int64_t nb = n / SOTTO_QK;
  const int off = block_offset(kind), has_min = block_has_min(kind);
  v128_t acc[4][4], accm[4][4];
  float tail[4][4];
  for (int r = 0; r < rw; r++)
    for (int c = 0; c < rx; c++) acc[r][c] = accm[r][c] = wasm_f32x4_splat(0), tail[r][c] = 0;
  int64_t i = 0;
  for (; i + 4 <= nb; i += 4) {
    v128_t first[4][4], pair[2][4][4];
    for (int k = 0; k < 4; k++) {
      q16 xv[4];
      for (int c = 0; c < rx; c++) xv[c] = widen8(XB(c, i + k)->qs);
      for (int r = 0; r < rw; r++) {
        const q16 wv = decode32(kind, (const uint8_t *)w + (size_t)r * ws + (size_t)(i + k) * bb);
        for (int c = 0; c < rx; c++) {
          const v128_t s = dot32(wv, xv[c]);
          if (k & 1) pair[k / 2][r][c] = hadd(first[r][c], s);
          else first[r][c] = s;
        }
      }
    }
    for (int c = 0; c < rx; c++) {
      const uint8_t *b = (const uint8_t *)XB(c, i);
      const v128_t dx = gather4(b + offsetof(sotto_block_q8a, d), sizeof(sotto_block_q8a));
      const v128_t sx = off || has_min ? gather4(b + offsetof(sotto_block_q8a, sum), sizeof(sotto_block_q8a))
                                       : wasm_i32x4_splat(0);
      for (int r = 0; r < rw; r++) {
        const uint8_t *a = (const uint8_t *)w + (size_t)r * ws + (size_t)i * bb;
        v128_t t = hadd(pair[0][r][c], pair[1][r][c]);
        if (off) t = wasm_i32x4_sub(t, wasm_i32x4_mul(sx, wasm_i32x4_splat(off)));
        acc[r][c] = wasm_f32x4_add(acc[r][c], wasm_f32x4_mul(wasm_f32x4_mul(halves4(a, bb), dx),
                                                             wasm_f32x4_convert_i32x4(t)));
        if (has_min)
          accm[r][c] = wasm_f32x4_add(accm[r][c], wasm_f32x4_mul(wasm_f32x4_mul(halves4(a + 2, bb), dx),
                                                                 wasm_f32x4_convert_i32x4(sx)));
      }
    }
  }
  for (; i < nb; i++) {
    for (int r = 0; r < rw; r++) {
      const uint8_t *a = (const uint8_t *)w + (size_t)r * ws + (size_t)i * bb;
      const q16 wv = decode32(kind, a);
      sotto_half d, m;
      memcpy(&d, a, 2);
      memcpy(&m, a + 2, 2);
      for (int c = 0; c < rx; c++) {
        const sotto_block_q8a *b = XB(c, i);
        const int s = hsum4i(dot32(wv, widen8(b->qs))) - off * b->sum;
        tail[r][c] += qk_half(d) * b->d * (float)s;
        if (has_min) tail[r][c] += qk_half(m) * b->d * (float)b->sum;
      }
    }
  }
  for (int r = 0; r < rw; r++)
    for (int c = 0; c < rx; c++)
      y[(size_t)c * ycs + (size_t)r * yrs] = hsum4(wasm_f32x4_add(acc[r][c], accm[r][c])) + tail[r][c];
}

#define QK_BLOCK32(name, KIND)                                                         \
  static void dot_##name(int64_t n, const void *w, const void *x, size_t xs, int nr,  \
                         float *out) {                                                 \
    switch (nr) {                                                                      \
      case 1: block32(KIND, n, w, 0, 1, x, xs, 1, out, 0, 1); break;                   \
      case 2: block32(KIND, n, w, 0, 1, x, xs, 2, out, 0, 1); break;                   \
      case 3: block32(KIND, n, w, 0, 1, x, xs, 3, out, 0, 1); break;                   \
      default: block32(KIND, n, w, 0, 1, x, xs, 4, out, 0, 1); break;                  \
    }                                                                                  \
  }
QK_BLOCK32(q4_0, B_Q4_0)
QK_BLOCK32(q4_1, B_Q4_1)
QK_BLOCK32(q5_0, B_Q5_0)
QK_BLOCK32(q5_1, B_Q5_1)
QK_BLOCK32(q8_0, B_Q8_0)

/* ---- weights packed by 8 rows (qkernels.h, qk_tile8_fn) ----
 * A 16-byte load of a chunk holds 4 bytes of each of 4 rows: read as int16
 * lanes, the low bytes (Q8_0) or nibbles (Q4_0, Q5_0) of lanes 2r and
 * 2r + 1 are row r's values 4k and 4k + 2, the high ones 4k + 1 and
 * 4k + 3, so i32x4.dot_i16x8_s against those activation pairs, the same
 * in every 32-bit lane, adds 4 rows' products in the rows' own lanes. The
 * stored offsets (Q8_0 128, Q4_0 8, Q5_0 16) come off through the
 * activation block's sum, as in block32. */

/* v unchanged, but opaque to the compiler: LLVM rematerializes vector
 * constants inside loops (v128.const is cheap in its cost model), and V8
 * builds each from general registers in several instructions; a constant
 * passed through this is made once before the loop and kept in a local. */
QK_INLINE v128_t opaque(v128_t v) {
  __asm__("" : "+r"(v));
  return v;
}

/* The constants of half_hi_f32x4, made once per kernel call. */
typedef struct { v128_t scale, exp31, inf, sign; } half_k;

QK_INLINE half_k half_consts(void) {
  return (half_k){opaque(wasm_f32x4_splat(0x1.0p112f)), opaque(wasm_i32x4_splat(0x0F7FFFFF)),
                  opaque(wasm_i32x4_splat(0x7F800000)), opaque(wasm_i32x4_splat((int32_t)0x80000000u))};
}

/* 4 halves in the high 16 bits of 32-bit lanes (the low ones zero) as
 * floats, the values of qk_half: the half's exponent and mantissa moved to
 * a float's low bits (exponent 15 lower, denormals too) times 2^112 is exact
 * for every finite half; exponent 31 (infinities, NaNs) gets all exponent
 * bits set, the sign is copied. */
QK_INLINE v128_t half_hi_f32x4(v128_t w, const half_k *k) {
  const v128_t mag = wasm_u32x4_shr(wasm_i32x4_shl(w, 1), 4);
  const v128_t f = wasm_v128_or(wasm_f32x4_mul(mag, k->scale),
                                wasm_v128_and(wasm_i32x4_gt(mag, k->exp31), k->inf));
  return wasm_v128_or(f, wasm_v128_and(w, k->sign));
}

/* 32-bit lane k of v in every lane: with v an activation block's even (odd)
 * values of a half as int16 (widen8), the pair 4k, 4k + 2 (4k + 1, 4k + 3). */
QK_INLINE v128_t lane32(v128_t v, int k) {
  switch (k) {
    case 0: return wasm_i32x4_shuffle(v, v, 0, 0, 0, 0);
    case 1: return wasm_i32x4_shuffle(v, v, 1, 1, 1, 1);
    case 2: return wasm_i32x4_shuffle(v, v, 2, 2, 2, 2);
    default: return wasm_i32x4_shuffle(v, v, 3, 3, 3, 3);
  }
}

/* An activation block spread for the packed GEMV (qk_table's spread8), made
 * once per product and shared by every group of 8 weight rows: p[2k]
 * (p[2k + 1]) holds values 4k and 4k + 2 (4k + 1 and 4k + 3) as int16 in
 * every 32-bit lane, the pairs lane32 takes from widen8's vectors. */
typedef struct {
  v128_t p[16];
  float d;
  int32_t sum, pad[2];
} spread8;

static void spread_q8a(int64_t n, const void *x, void *out) {
  spread8 *o = out;
  for (int64_t b = 0; b < n / SOTTO_QK; b++) {
    const sotto_block_q8a *xb = (const sotto_block_q8a *)x + b;
    const q16 xw = widen8(xb->qs);
    for (int k = 0; k < 8; k++) {
      o[b].p[2 * k] = lane32(xw.v[k < 4 ? 0 : 2], k & 3);
      o[b].p[2 * k + 1] = lane32(xw.v[k < 4 ? 1 : 3], k & 3);
    }
    o[b].d = xb->d;
    o[b].sum = xb->sum;
    o[b].pad[0] = o[b].pad[1] = 0;
  }
}

/* The wasm heap is on 4 KiB pages (no huge pages in a browser's heap), and
 * the CPU's prefetcher follows a stream only within a page: the first
 * lines of each page are misses the GEMV's loads meet only when they get
 * there, the reorder window full of the products before them. One byte
 * read a page ahead when the weights enter a page starts the next one early
 * (its TLB entry, its first line, the prefetcher's stream): streamed Q8_0
 * weights run 8-10 % faster. Q4_0 and Q5_0 gain only together with
 * keep_order (below; alone it makes them 12-15 % slower). Nothing at or
 * past end is read. */
#define QK_PAGE 4096
QK_INLINE void page_ahead(const uint8_t *blk, size_t bytes, const uint8_t *end) {
  if (((uintptr_t)blk & (QK_PAGE - 1)) + bytes <= QK_PAGE) return;
  const uint8_t *next = (const uint8_t *)(((uintptr_t)blk + bytes) & ~(uintptr_t)(QK_PAGE - 1));
  if (next + QK_PAGE < end) (void)*(volatile const uint8_t *)(next + QK_PAGE);
}

/* The running sums stored to a volatile: V8 keeps a store in its place
 * among the loads, so the products before it are made before the loads
 * after it. Without it V8 takes all of a block's loads to the top of the
 * loop and spills most of them: packed Q8_0's GEMV has 2.5 times fewer
 * stack accesses with it and decodes 2-4 % faster. With page_ahead, the
 * Q5_0 GEMV (QK_QH_ROWS4) streams 1.2-1.27x faster, Q4_0's 1.15-1.17x;
 * either alone does little or harm there. */
QK_INLINE void keep_order(const v128_t (*s)[2], int nr) {
  volatile v128_t sink;
  for (int c = 0; c < nr; c++) sink = s[c][0], sink = s[c][1];
  (void)sink;
}

/* y[c * ys + r] = dot(row r of the 8 packed rows, activation row c), c < nr;
 * with spread, x holds one activation row of spread8 blocks (nr 1) and xs
 * is the weight bytes readable from w8 on. */
QK_INLINE void block32_p8(int kind, int spread, int64_t n, const void *w8, const void *x, size_t xs,
                          int nr, float *y, size_t ys) {
  const spread8 *sx = x;
  const size_t gb = 8 * block_bytes(kind); /* bytes of a block of 8 rows */
  const int off = kind == B_Q8_0 ? 128 : block_offset(kind);
  const int qs = kind == B_Q5_0 ? 48 : 16; /* the quants' offset in the block */
  const v128_t m8 = opaque(wasm_i16x8_splat(0xFF)), m4 = opaque(wasm_i8x16_splat(0x0F));
  const v128_t m4w = opaque(wasm_i16x8_splat(0x0F)), zero = wasm_i32x4_splat(0);
  /* bit 4 + i in 32-bit lane i: Q5_0's fifth bits of row 4h + i (QK_QH_ROWS4) */
  const v128_t rowbit = opaque(wasm_u8x16_make(16, 16, 16, 16, 32, 32, 32, 32, 64, 64, 64, 64, 128, 128, 128, 128));
  const v128_t sixteen = opaque(wasm_i8x16_splat(16));
  const half_k hk = half_consts();
  v128_t acc[4][2];
  for (int c = 0; c < nr; c++) acc[c][0] = acc[c][1] = wasm_f32x4_splat(0);
  for (int64_t b = 0; b < n / SOTTO_QK; b++) {
    const uint8_t *blk = (const uint8_t *)w8 + (size_t)b * gb;
    if (spread) page_ahead(blk, gb, (const uint8_t *)w8 + xs);
    v128_t s[4][2];
    for (int c = 0; c < nr; c++)
      s[c][0] = s[c][1] = wasm_i32x4_splat(-off * (spread ? sx[b].sum : XB(c, b)->sum));
    q16 xw[4]; /* the activation blocks widened once; lane32 picks a chunk's pairs */
    if (!spread)
      for (int c = 0; c < nr; c++) xw[c] = widen8(XB(c, b)->qs);
#define PAIR(c, i) (spread ? sx[b].p[i] : lane32(xw[c].v[((i) & 1) + ((i) >= 8 ? 2 : 0)], ((i) >> 1) & 3))
    if (kind == B_Q8_0) {
      for (int k = 0; k < 8; k++) {
        v128_t e[4], o[4];
        for (int c = 0; c < nr; c++) {
          e[c] = PAIR(c, 2 * k);
          o[c] = PAIR(c, 2 * k + 1);
        }
        for (int h = 0; h < 2; h++) { /* rows 4h..4h+3 */
          const v128_t v = wasm_v128_load(blk + qs + 32 * k + 16 * h);
          const v128_t ve = wasm_v128_and(v, m8), vo = wasm_u16x8_shr(v, 8);
          for (int c = 0; c < nr; c++)
            s[c][h] = wasm_i32x4_add(s[c][h], wasm_i32x4_add(wasm_i32x4_dot_i16x8(ve, e[c]),
                                                             wasm_i32x4_dot_i16x8(vo, o[c])));
        }
        if (spread && k % 2) keep_order((const v128_t (*)[2])s, nr);
      }
    } else {
      for (int k = 0; k < 4; k++) {
        v128_t e[4][2], o[4][2]; /* values 4k.. and 16 + 4k.. */
        for (int c = 0; c < nr; c++) {
          e[c][0] = PAIR(c, 2 * k), o[c][0] = PAIR(c, 2 * k + 1);
          e[c][1] = PAIR(c, 2 * k + 8), o[c][1] = PAIR(c, 2 * k + 9);
        }
        for (int h = 0; h < 2; h++) {
          const v128_t v = wasm_v128_load(blk + qs + 32 * k + 16 * h);
          v128_t le, lo_o, he, ho;
          if (kind == B_Q5_0) {
            /* word 2k + h in every 32-bit lane: the and with rowbit leaves in
             * byte t of lane i (row 4h + i's byte t) the fifth bit of its high
             * nibble's value as 16 << i, of its low one's after a shift by 4;
             * min with 16 makes it 16 */
            const v128_t qh = wasm_v128_load32_splat(blk + 16 + 8 * k + 4 * h);
            const v128_t lo = wasm_v128_or(wasm_v128_and(v, m4),
                                           wasm_u8x16_min(wasm_v128_and(wasm_i32x4_shl(qh, 4), rowbit), sixteen));
            const v128_t hi = wasm_v128_or(wasm_v128_and(wasm_u16x8_shr(v, 4), m4),
                                           wasm_u8x16_min(wasm_v128_and(qh, rowbit), sixteen));
            le = wasm_v128_and(lo, m8), lo_o = wasm_u16x8_shr(lo, 8);
            he = wasm_v128_and(hi, m8), ho = wasm_u16x8_shr(hi, 8);
          } else {
            le = wasm_v128_and(v, m4w), lo_o = wasm_v128_and(wasm_u16x8_shr(v, 8), m4w);
            he = wasm_v128_and(wasm_u16x8_shr(v, 4), m4w), ho = wasm_u16x8_shr(v, 12);
          }
          for (int c = 0; c < nr; c++)
            s[c][h] = wasm_i32x4_add(
                s[c][h], wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_dot_i16x8(le, e[c][0]),
                                                       wasm_i32x4_dot_i16x8(lo_o, o[c][0])),
                                        wasm_i32x4_add(wasm_i32x4_dot_i16x8(he, e[c][1]),
                                                       wasm_i32x4_dot_i16x8(ho, o[c][1]))));
        }
        if (spread && k % 2) keep_order((const v128_t (*)[2])s, nr);
      }
    }
    const v128_t h8 = wasm_v128_load(blk);
    const v128_t dw[2] = {
        half_hi_f32x4(wasm_i16x8_shuffle(zero, h8, 0, 8, 1, 9, 2, 10, 3, 11), &hk),
        half_hi_f32x4(wasm_i16x8_shuffle(zero, h8, 4, 12, 5, 13, 6, 14, 7, 15), &hk)};
    for (int c = 0; c < nr; c++) {
      const v128_t dx = wasm_f32x4_splat(spread ? sx[b].d : XB(c, b)->d);
      for (int h = 0; h < 2; h++)
        acc[c][h] = wasm_f32x4_add(acc[c][h], wasm_f32x4_mul(wasm_f32x4_mul(dw[h], dx),
                                                             wasm_f32x4_convert_i32x4(s[c][h])));
    }
  }
  for (int c = 0; c < nr; c++) {
    wasm_v128_store(y + (size_t)c * ys, acc[c][0]);
    wasm_v128_store(y + (size_t)c * ys + 4, acc[c][1]);
  }
#undef PAIR
}

#define QK_TILE8(name, KIND)                                                           \
  static void tile8_##name(int64_t n, const void *w8, const void *x, size_t xs, int nr, \
                           float *y, size_t ys) {                                      \
    switch (nr) {                                                                      \
      case 1: block32_p8(KIND, 0, n, w8, x, xs, 1, y, ys); break;                      \
      case 2: block32_p8(KIND, 0, n, w8, x, xs, 2, y, ys); break;                      \
      case 3: block32_p8(KIND, 0, n, w8, x, xs, 3, y, ys); break;                      \
      default: block32_p8(KIND, 0, n, w8, x, xs, 4, y, ys); break;                     \
    }                                                                                  \
  }                                                                                    \
  static void gemv8_##name(int64_t n, const void *w8, const void *x, size_t xs, int nr, \
                           float *y, size_t ys) {                                      \
    (void)nr;                                                                          \
    block32_p8(KIND, 1, n, w8, x, xs, 1, y, ys);                                       \
  }
QK_TILE8(q4_0, B_Q4_0)
QK_TILE8(q5_0, B_Q5_0)
QK_TILE8(q8_0, B_Q8_0)

/* ---- K-quants ----
 * The same int16 pairs: 16 quant bytes (unsigned, fifth and sixth bits
 * merged in with 16-bit shifts and byte masks) give their even and odd
 * values as v & 0xFF and v >> 8 in int16 lanes, the 16 activation bytes are
 * widened to the same order, i32x4.dot_i16x8_s adds the pairs, and a
 * sub-block's sum is scaled once by its integer scale. Q6_K's offset 32
 * comes off through the activation block's sums of 16 (bsums). */

/* 16 activation bytes as int16: even values in e, odd ones in o. */
QK_INLINE void act16(const int8_t *q, v128_t *e, v128_t *o) {
  const v128_t v = wasm_v128_load(q);
  *e = wasm_i16x8_shr(wasm_i16x8_shl(v, 8), 8);
  *o = wasm_i16x8_shr(v, 8);
}

/* 4 x int32: 16 unsigned weight bytes (< 128) times 16 activations, in pairs. */
QK_INLINE v128_t dot_u8(v128_t w, const int8_t *q) {
  v128_t e, o;
  act16(q, &e, &o);
  return wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_v128_and(w, wasm_i16x8_splat(0xFF)), e),
                        wasm_i32x4_dot_i16x8(wasm_u16x8_shr(w, 8), o));
}

/* Bits s and s + 1 (bits == 3) or bit s (bits == 1) of each byte of v,
 * moved to bits 4 and 5 of the byte (the rest zero). */
QK_INLINE v128_t bits_at4(v128_t v, int s, int bits) {
  const v128_t m = wasm_i8x16_splat((int8_t)(bits << 4));
  if (s < 4) return wasm_v128_and(wasm_i16x8_shl(v, 4 - s), m);
  return wasm_v128_and(wasm_u16x8_shr(v, s - 4), m);
}

QK_INLINE void dot_k4(int fifth, int64_t n, const void *w, const void *x, size_t xs, int nr,
                      float *out) {
  const size_t bb = fifth ? sizeof(sotto_block_q5_k) : sizeof(sotto_block_q4_k);
  const v128_t low4 = wasm_i8x16_splat(0x0F);
  float acc[4] = {0, 0, 0, 0};
  for (int64_t i = 0; i < n / SOTTO_QK_K; i++) {
    const uint8_t *blk = (const uint8_t *)w + (size_t)i * bb;
    /* Q4_K and Q5_K share d, dmin and scales; qh and qs follow */
    const sotto_block_q4_k *a = (const sotto_block_q4_k *)blk;
    const uint8_t *qh = ((const sotto_block_q5_k *)blk)->qh;
    const uint8_t *qs = fifth ? ((const sotto_block_q5_k *)blk)->qs : a->qs;
    uint8_t sm[16];
    qk_unpack_k4(a->scales, sm);
    v128_t sumi[4];
    for (int r = 0; r < nr; r++) sumi[r] = wasm_i32x4_splat(0);
    for (int c = 0; c < 4; c++) { /* values 64c..64c+31 (low nibbles), 64c+32.. (high) */
      v128_t slo[4], shi[4];
      for (int r = 0; r < nr; r++) slo[r] = shi[r] = wasm_i32x4_splat(0);
      for (int g = 0; g < 2; g++) {
        const v128_t raw = wasm_v128_load(qs + 32 * c + 16 * g);
        v128_t lo = wasm_v128_and(raw, low4), hi = wasm_v128_and(wasm_u16x8_shr(raw, 4), low4);
        if (fifth) {
          const v128_t h = wasm_v128_load(qh + 16 * g);
          lo = wasm_v128_or(lo, bits_at4(h, 2 * c, 1));
          hi = wasm_v128_or(hi, bits_at4(h, 2 * c + 1, 1));
        }
        for (int r = 0; r < nr; r++) {
          const int8_t *y = ROW(sotto_block_q8_k, r)[i].qs + 64 * c + 16 * g;
          slo[r] = wasm_i32x4_add(slo[r], dot_u8(lo, y));
          shi[r] = wasm_i32x4_add(shi[r], dot_u8(hi, y + 32));
        }
      }
      const v128_t s0 = wasm_i32x4_splat(sm[2 * c]), s1 = wasm_i32x4_splat(sm[2 * c + 1]);
      for (int r = 0; r < nr; r++)
        sumi[r] = wasm_i32x4_add(sumi[r], wasm_i32x4_add(wasm_i32x4_mul(slo[r], s0),
                                                         wasm_i32x4_mul(shi[r], s1)));
    }
    /* the mins times the sums of their 32 values: bsums pairs times mins twice over */
    const v128_t smv = wasm_v128_load(sm);
    const v128_t m03 = wasm_i8x16_shuffle(smv, wasm_i32x4_splat(0), 8, 16, 8, 16, 9, 16, 9, 16, 10, 16,
                                          10, 16, 11, 16, 11, 16);
    const v128_t m47 = wasm_i8x16_shuffle(smv, wasm_i32x4_splat(0), 12, 16, 12, 16, 13, 16, 13, 16, 14,
                                          16, 14, 16, 15, 16, 15, 16);
    const float d = qk_half(a->d), dmin = qk_half(a->dmin);
    for (int r = 0; r < nr; r++) {
      const sotto_block_q8_k *b = ROW(sotto_block_q8_k, r) + i;
      const int summ = hsum4i(wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_v128_load(b->bsums), m03),
                                             wasm_i32x4_dot_i16x8(wasm_v128_load(b->bsums + 8), m47)));
      acc[r] += b->d * (d * (float)hsum4i(sumi[r]) - dmin * (float)summ);
    }
  }
  for (int r = 0; r < nr; r++) out[r] = acc[r];
}

QK_INLINE void dot_q4_k_n(int64_t n, const void *w, const void *x, size_t xs, int nr, float *out) {
  dot_k4(0, n, w, x, xs, nr, out);
}
QK_INLINE void dot_q5_k_n(int64_t n, const void *w, const void *x, size_t xs, int nr, float *out) {
  dot_k4(1, n, w, x, xs, nr, out);
}
QK_DISPATCH(dot_q4_k)
QK_DISPATCH(dot_q5_k)

QK_INLINE void dot_q6_k_n(int64_t n, const void *w, const void *x, size_t xs, int nr,
                          float *out) {
  const sotto_block_q6_k *a = w;
  float acc[4] = {0, 0, 0, 0};
  const v128_t low4 = wasm_i8x16_splat(0x0F);
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
        q[2] = wasm_v128_and(wasm_u16x8_shr(la, 4), low4);
        q[3] = wasm_v128_and(wasm_u16x8_shr(lb, 4), low4);
        for (int k = 0; k < 4; k++) {
          const v128_t qk = wasm_v128_or(q[k], bits_at4(hb, 2 * k, 3));
          const v128_t s = wasm_i32x4_splat(a[i].scales[8 * h + 2 * k + g]);
          for (int r = 0; r < nr; r++) {
            const int8_t *y = ROW(sotto_block_q8_k, r)[i].qs + 128 * h + 32 * k + 16 * g;
            sumi[r] = wasm_i32x4_add(sumi[r], wasm_i32x4_mul(dot_u8(qk, y), s));
          }
        }
      }
    }
    /* the offset 32: the scales times the activations' sums of 16 */
    const v128_t sc = wasm_v128_load(a[i].scales);
    const v128_t sc0 = wasm_i16x8_extend_low_i8x16(sc), sc1 = wasm_i16x8_extend_high_i8x16(sc);
    const float d = qk_half(a[i].d);
    for (int r = 0; r < nr; r++) {
      const sotto_block_q8_k *b = ROW(sotto_block_q8_k, r) + i;
      const v128_t o = wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_v128_load(b->bsums), sc0),
                                      wasm_i32x4_dot_i16x8(wasm_v128_load(b->bsums + 8), sc1));
      acc[r] += d * b->d * (float)hsum4i(wasm_i32x4_sub(sumi[r], wasm_i32x4_shl(o, 5)));
    }
  }
  for (int r = 0; r < nr; r++) out[r] = acc[r];
}
QK_DISPATCH(dot_q6_k)

/* ---- F16 rows (the key and value cache): half_f32x4_k, its constants
 * made once per call ---- */
QK_INLINE half_k2 half_consts2(void) { return HALF_K2(opaque); }

QK_INLINE void dot_f16_n(int64_t n, const void *w, const void *x, size_t xs, int nr, float *out) {
  const uint8_t *a = w;
  const half_k2 hk = half_consts2();
  const v128_t zero = wasm_i32x4_splat(0);
  v128_t acc[4][2];
  for (int r = 0; r < nr; r++) acc[r][0] = acc[r][1] = wasm_f32x4_splat(0);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const v128_t h = wasm_v128_load(a + 2 * i);
    const v128_t w0 = half_f32x4_k(wasm_i16x8_shuffle(zero, h, 0, 8, 1, 9, 2, 10, 3, 11), &hk);
    const v128_t w1 = half_f32x4_k(wasm_i16x8_shuffle(zero, h, 4, 12, 5, 13, 6, 14, 7, 15), &hk);
    for (int r = 0; r < nr; r++) {
      acc[r][0] = wasm_f32x4_add(acc[r][0], wasm_f32x4_mul(w0, wasm_v128_load(ROW(float, r) + i)));
      acc[r][1] = wasm_f32x4_add(acc[r][1], wasm_f32x4_mul(w1, wasm_v128_load(ROW(float, r) + i + 4)));
    }
  }
  for (int r = 0; r < nr; r++) {
    float s = hsum4(wasm_f32x4_add(acc[r][0], acc[r][1]));
    for (int64_t j = i; j < n; j++) {
      sotto_half h;
      memcpy(&h, a + 2 * j, 2);
      s += qk_half(h) * ROW(float, r)[j];
    }
    out[r] = s;
  }
}
QK_DISPATCH(dot_f16)

/* ---- K-quants packed by 8 rows (qkernels.h: each super-block's 4-byte
 * words of the 8 rows side by side) ----
 * As in block32_p8: a 16-byte load of word w holds its 4 bytes of 4 rows;
 * read as int16 lanes, the values of bytes 0 and 2 (1 and 3) of row r sit
 * in lanes 2r and 2r + 1, multiplied by the activation pair of those values
 * splatted to every 32-bit lane. A sub-block's sums are scaled in the rows'
 * own lanes by their scales, the rows' 4-byte scale words unpacked lane by
 * lane (qk_unpack_k4). */

/* Byte i of each 32-bit lane of v, zero-extended. */
QK_INLINE v128_t byte32(v128_t v, int i, v128_t mask) {
  return i == 3 ? wasm_u32x4_shr(v, 24) : wasm_v128_and(wasm_u32x4_shr(v, 8 * i), mask);
}

/* The 16-bit lanes (0 2 0 2 ...) and (1 3 1 3 ...) of the four int32 sums
 * of pairs of v's int16 lanes: the pairs (s0, s2), (s1, s3) of a Q8_K
 * block's sums of 32. */
QK_INLINE void bsum_pairs(const int16_t *bsums, v128_t *p02, v128_t *p13) {
  const v128_t s = wasm_i32x4_extadd_pairwise_i16x8(wasm_v128_load(bsums));
  const v128_t n = wasm_i16x8_narrow_i32x4(s, s);
  *p02 = wasm_i16x8_shuffle(n, n, 0, 2, 0, 2, 0, 2, 0, 2);
  *p13 = wasm_i16x8_shuffle(n, n, 1, 3, 1, 3, 1, 3, 1, 3);
}

QK_INLINE void q4k_p8(int64_t n, const void *w8, const void *x, size_t xs, int nr, float *y,
                      size_t ys) {
  const size_t gb = 8 * sizeof(sotto_block_q4_k);
  const v128_t m4w = opaque(wasm_i16x8_splat(0x0F)), mb = opaque(wasm_i32x4_splat(0xFF));
  const v128_t m1 = opaque(wasm_i32x4_splat(0x3f3f3f3f)), m2 = opaque(wasm_i32x4_splat(0x0f0f0f0f));
  const v128_t m3 = opaque(wasm_i32x4_splat(0x03030303)), m16 = opaque(wasm_i32x4_splat(0x00FF00FF));
  const v128_t lo16 = opaque(wasm_i32x4_splat(0xFFFF)), zero = wasm_i32x4_splat(0);
  const half_k hk = half_consts();
  v128_t acc[4][2];
  for (int c = 0; c < nr; c++) acc[c][0] = acc[c][1] = wasm_f32x4_splat(0);
  for (int64_t i = 0; i < n / SOTTO_QK_K; i++) {
    const uint8_t *blk = (const uint8_t *)w8 + (size_t)i * gb;
    v128_t sc[2][2], mn[2][2]; /* [rows half][sub-blocks 0-3, 4-7]: 4 bytes per row lane */
    for (int h = 0; h < 2; h++) {
      const v128_t u0 = wasm_v128_load(blk + 32 + 16 * h), u1 = wasm_v128_load(blk + 64 + 16 * h);
      const v128_t u2 = wasm_v128_load(blk + 96 + 16 * h);
      sc[h][0] = wasm_v128_and(u0, m1);
      sc[h][1] = wasm_v128_or(wasm_v128_and(u2, m2), wasm_i32x4_shl(wasm_v128_and(wasm_u32x4_shr(u0, 6), m3), 4));
      mn[h][0] = wasm_v128_and(u1, m1);
      mn[h][1] = wasm_v128_or(wasm_v128_and(wasm_u32x4_shr(u2, 4), m2),
                              wasm_i32x4_shl(wasm_v128_and(wasm_u32x4_shr(u1, 6), m3), 4));
    }
    v128_t sumi[4][2];
    for (int c = 0; c < nr; c++) sumi[c][0] = sumi[c][1] = zero;
    for (int q = 0; q < 4; q++) { /* values 64q.. (low nibbles), 64q + 32.. (high) */
      q16 xl[4], xh[4];
      for (int c = 0; c < nr; c++) {
        const int8_t *a = ROW(sotto_block_q8_k, c)[i].qs + 64 * q;
        xl[c] = widen8(a), xh[c] = widen8(a + 32);
      }
      v128_t sl[4][2], sh[4][2];
      for (int c = 0; c < nr; c++) sl[c][0] = sl[c][1] = sh[c][0] = sh[c][1] = zero;
      for (int k = 0; k < 8; k++) {
        v128_t el[4], ol[4], eh[4], oh[4];
        for (int c = 0; c < nr; c++) {
          el[c] = lane32(xl[c].v[k < 4 ? 0 : 2], k & 3), ol[c] = lane32(xl[c].v[k < 4 ? 1 : 3], k & 3);
          eh[c] = lane32(xh[c].v[k < 4 ? 0 : 2], k & 3), oh[c] = lane32(xh[c].v[k < 4 ? 1 : 3], k & 3);
        }
        for (int h = 0; h < 2; h++) {
          const v128_t v = wasm_v128_load(blk + 32 * (4 + 8 * q + k) + 16 * h);
          const v128_t le = wasm_v128_and(v, m4w), lo = wasm_v128_and(wasm_u16x8_shr(v, 8), m4w);
          const v128_t he = wasm_v128_and(wasm_u16x8_shr(v, 4), m4w), ho = wasm_u16x8_shr(v, 12);
          for (int c = 0; c < nr; c++) {
            sl[c][h] = wasm_i32x4_add(sl[c][h], wasm_i32x4_add(wasm_i32x4_dot_i16x8(le, el[c]),
                                                               wasm_i32x4_dot_i16x8(lo, ol[c])));
            sh[c][h] = wasm_i32x4_add(sh[c][h], wasm_i32x4_add(wasm_i32x4_dot_i16x8(he, eh[c]),
                                                               wasm_i32x4_dot_i16x8(ho, oh[c])));
          }
        }
      }
      for (int h = 0; h < 2; h++) {
        const v128_t s0 = byte32(sc[h][q >> 1], (2 * q) & 3, mb);
        const v128_t s1 = byte32(sc[h][q >> 1], (2 * q + 1) & 3, mb);
        for (int c = 0; c < nr; c++)
          sumi[c][h] = wasm_i32x4_add(sumi[c][h], wasm_i32x4_add(wasm_i32x4_mul(sl[c][h], s0),
                                                                 wasm_i32x4_mul(sh[c][h], s1)));
      }
    }
    for (int h = 0; h < 2; h++) {
      const v128_t dd = wasm_v128_load(blk + 16 * h); /* d | dmin << 16 per row */
      const v128_t d = half_hi_f32x4(wasm_i32x4_shl(dd, 16), &hk);
      const v128_t dmin = half_hi_f32x4(wasm_v128_andnot(dd, lo16), &hk);
      /* the mins (bytes) as int16 pairs: sub-blocks (0, 2), (1, 3), (4, 6), (5, 7) */
      const v128_t me0 = wasm_v128_and(mn[h][0], m16), mo0 = wasm_v128_and(wasm_u32x4_shr(mn[h][0], 8), m16);
      const v128_t me1 = wasm_v128_and(mn[h][1], m16), mo1 = wasm_v128_and(wasm_u32x4_shr(mn[h][1], 8), m16);
      for (int c = 0; c < nr; c++) {
        const sotto_block_q8_k *b = ROW(sotto_block_q8_k, c) + i;
        v128_t p02, p13, p46, p57;
        bsum_pairs(b->bsums, &p02, &p13);
        bsum_pairs(b->bsums + 8, &p46, &p57);
        const v128_t summ = wasm_i32x4_add(
            wasm_i32x4_add(wasm_i32x4_dot_i16x8(me0, p02), wasm_i32x4_dot_i16x8(mo0, p13)),
            wasm_i32x4_add(wasm_i32x4_dot_i16x8(me1, p46), wasm_i32x4_dot_i16x8(mo1, p57)));
        const v128_t t = wasm_f32x4_sub(wasm_f32x4_mul(d, wasm_f32x4_convert_i32x4(sumi[c][h])),
                                        wasm_f32x4_mul(dmin, wasm_f32x4_convert_i32x4(summ)));
        acc[c][h] = wasm_f32x4_add(acc[c][h], wasm_f32x4_mul(wasm_f32x4_splat(b->d), t));
      }
    }
  }
  for (int c = 0; c < nr; c++) {
    wasm_v128_store(y + (size_t)c * ys, acc[c][0]);
    wasm_v128_store(y + (size_t)c * ys + 4, acc[c][1]);
  }
}

static void tile8_q4_k(int64_t n, const void *w8, const void *x, size_t xs, int nr, float *y,
                       size_t ys) {
  switch (nr) {
    case 1: q4k_p8(n, w8, x, xs, 1, y, ys); break;
    case 2: q4k_p8(n, w8, x, xs, 2, y, ys); break;
    case 3: q4k_p8(n, w8, x, xs, 3, y, ys); break;
    default: q4k_p8(n, w8, x, xs, 4, y, ys); break;
  }
}

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
  t->dot[SOTTO_DTYPE_F16] = dot_f16;
  t->dot[SOTTO_DTYPE_Q4_0] = dot_q4_0;
  t->dot[SOTTO_DTYPE_Q4_1] = dot_q4_1;
  t->dot[SOTTO_DTYPE_Q5_0] = dot_q5_0;
  t->dot[SOTTO_DTYPE_Q5_1] = dot_q5_1;
  t->dot[SOTTO_DTYPE_Q8_0] = dot_q8_0;
  t->dot[SOTTO_DTYPE_Q4_K] = dot_q4_k;
  t->dot[SOTTO_DTYPE_Q5_K] = dot_q5_k;
  t->dot[SOTTO_DTYPE_Q6_K] = dot_q6_k;
  t->tile8[SOTTO_DTYPE_Q4_0] = tile8_q4_0;
  t->tile8[SOTTO_DTYPE_Q5_0] = tile8_q5_0;
  t->tile8[SOTTO_DTYPE_Q8_0] = tile8_q8_0;
  t->tile8[SOTTO_DTYPE_Q4_K] = tile8_q4_k;
  t->spread8 = spread_q8a;
  t->spread8_bytes = sizeof(spread8);
  t->gemv8[SOTTO_DTYPE_Q4_0] = gemv8_q4_0;
  t->gemv8[SOTTO_DTYPE_Q5_0] = gemv8_q5_0;
  t->gemv8[SOTTO_DTYPE_Q8_0] = gemv8_q8_0;
  t->q5_0_qh = QK_QH_ROWS4;
}
#endif
