/*
 * test_qkernels.c - the SIMD kernels of ops/ (AVX2, AVX-512 VNNI natively;
 * wasm SIMD128 in the wasm builds, run by tests/js/qkernels-wasm.test.mjs)
 * against the scalar references (qk_scalar.c) on random blocks of every
 * weight type, for 1 to 4 activation rows and the GEMV and GEMM tiles of
 * several weight rows and of 8 rows packed (sotto_qmat_pack); activation
 * quantization against the
 * reference; sotto_qmatmul (tiled, threaded) against row-by-row dots; and
 * the scalar dots against float products of dequantized rows (quant.h's
 * reference dequantizers); sotto_qmatmul_many against sotto_qmatmul; the
 * greedy sampler (runtime/sample.c: the vocabulary-sized scan after each
 * decoded token's matrix products) against a plain scan.
 */
#include <math.h>

#include "check.h"
#include "cpuinfo.h"
#include "ops/qkernels.h"
#include "ops/qmatmul.h"
#include "runtime/runtime.h"

static uint32_t rng = 12345;
static uint32_t rnd(void) {
  rng ^= rng << 13, rng ^= rng >> 17, rng ^= rng << 5;
  return rng;
}
static float rndf(void) { return (float)(rnd() % 2000001) / 1000000.0f - 1.0f; }

static const sotto_dtype types[] = {
    SOTTO_DTYPE_F32, SOTTO_DTYPE_F16, SOTTO_DTYPE_BF16, SOTTO_DTYPE_Q4_0, SOTTO_DTYPE_Q4_1,
    SOTTO_DTYPE_Q5_0, SOTTO_DTYPE_Q5_1, SOTTO_DTYPE_Q8_0, SOTTO_DTYPE_Q4_K, SOTTO_DTYPE_Q5_K,
    SOTTO_DTYPE_Q6_K};

/* A positive half in [2^-7, 2^-4). */
static sotto_half rnd_scale(void) { return (sotto_half)(0x2000 + rnd() % 0x0C00); }

/* n values of type t with random quants and sane scales. */
static void *random_row(sotto_dtype t, int64_t n, size_t *bytes) {
  const size_t rb = sotto_dtype_row_bytes(t, n);
  uint8_t *p = malloc(rb);
  for (size_t i = 0; i < rb; i++) p[i] = (uint8_t)rnd();
  const sotto_dtype_info *info = sotto_dtype_get(t);
  const size_t nb = rb / info->bytes;
  for (size_t b = 0; b < nb; b++) {
    uint8_t *blk = p + b * info->bytes;
    sotto_half h[2] = {rnd_scale(), rnd_scale()};
    switch (t) {
      case SOTTO_DTYPE_F32: { float f = rndf(); memcpy(blk, &f, 4); break; }
      case SOTTO_DTYPE_F16: h[0] = (sotto_half)(rnd() % 0x3C00 | (rnd() & 0x8000)); memcpy(blk, h, 2); break;
      case SOTTO_DTYPE_BF16: { uint16_t v = (uint16_t)((0x3C00 + rnd() % 0x0400) | (rnd() & 0x8000)); memcpy(blk, &v, 2); break; }
      case SOTTO_DTYPE_Q6_K: /* scales of real files' size, so sums stay exact in float */
        for (int j = 0; j < 16; j++) blk[192 + j] = (uint8_t)(int8_t)((int)(rnd() % 65) - 32);
        memcpy(blk + 208, h, 2);
        break;
      case SOTTO_DTYPE_Q4_1: case SOTTO_DTYPE_Q5_1: case SOTTO_DTYPE_Q4_K: case SOTTO_DTYPE_Q5_K:
        memcpy(blk, h, 4); break;
      default: memcpy(blk, h, 2); break;
    }
  }
  *bytes = rb;
  return p;
}

/* count random rows of n values of type t, one after another. */
static uint8_t *random_rows(sotto_dtype t, int64_t n, size_t count) {
  const size_t rb = sotto_dtype_row_bytes(t, n);
  uint8_t *w = malloc(rb * count);
  for (size_t j = 0; j < count; j++) {
    size_t b;
    void *row = random_row(t, n, &b);
    memcpy(w + j * rb, row, rb);
    free(row);
  }
  return w;
}

/* The values a kernel multiplies: the activations as quantized (format f). */
static void act_values(int f, const uint8_t *xa, int64_t n, float *xd) {
  for (int64_t i = 0; i < n; i++) {
    if (f == QK_ACT_F32) memcpy(&xd[i], xa + 4 * i, 4);
    else if (f == QK_ACT_Q8A) {
      const sotto_block_q8a *b = (const sotto_block_q8a *)xa + i / SOTTO_QK;
      xd[i] = b->d * b->qs[i % SOTTO_QK];
    } else {
      const sotto_block_q8_k *b = (const sotto_block_q8_k *)xa + i / SOTTO_QK_K;
      xd[i] = b->d * b->qs[i % SOTTO_QK_K];
    }
  }
}

/* Where a block's quants lie (the rest are scales), and the byte that is
 * its lowest code: a row with every quant at it dequantizes to each value's
 * offset or min (Q4_0's -8 d, Q4_K's -dmin m, ...), which kernels may
 * subtract apart from the products of the unsigned quants. */
static void quant_bytes(sotto_dtype t, size_t *from, size_t *to, uint8_t *lowest) {
  *lowest = 0;
  switch (t) {
    case SOTTO_DTYPE_Q4_0: *from = 2, *to = 18; break;
    case SOTTO_DTYPE_Q5_0: *from = 2, *to = 22; break;
    case SOTTO_DTYPE_Q8_0: *from = 2, *to = 34, *lowest = 0x80; break;
    case SOTTO_DTYPE_Q4_1: *from = 4, *to = 20; break;
    case SOTTO_DTYPE_Q5_1: *from = 4, *to = 24; break;
    case SOTTO_DTYPE_Q4_K: *from = 16, *to = 144; break;
    case SOTTO_DTYPE_Q5_K: *from = 16, *to = 176; break;
    case SOTTO_DTYPE_Q6_K: *from = 0, *to = 192; break;
    default: *from = *to = 0; break; /* F32, F16, BF16: no offsets */
  }
}

/* How far a kernel's dot may be from the reference's. Both add the same
 * products in float, in other orders and groupings: integer sums of blocks,
 * scaled, then added (at most two float terms per 16 values: the unsigned
 * quants' products and the offsets' or mins'), or each F32, F16 or BF16
 * product on its own. m terms added in any order are within
 * (m - 1) 2^-24 sum|terms| of their exact sum (each partial sum is at most
 * sum|terms|), two orders within twice that, and scaling a term rounds it a
 * few times more. sum|terms| is at most sum (|w| + 2 |offset|) |x| over the
 * values. A result's own size is no measure: random products cancel, and a
 * small sum of large terms may differ by much more than its size allows. */
static float dot_tolerance(sotto_dtype t, const uint8_t *w, int f, const uint8_t *xa, int64_t n) {
  const sotto_dtype_info *info = sotto_dtype_get(t);
  const size_t rb = sotto_dtype_row_bytes(t, n), nb = rb / info->bytes;
  size_t from, to;
  uint8_t lowest;
  quant_bytes(t, &from, &to, &lowest);
  float *x = malloc((size_t)n * sizeof *x), *wd = malloc((size_t)n * sizeof *wd);
  float *off = malloc((size_t)n * sizeof *off);
  uint8_t *low = malloc(rb);
  memcpy(low, w, rb);
  for (size_t b = 0; b < nb; b++) memset(low + b * info->bytes + from, lowest, to - from);
  act_values(f, xa, n, x);
  sotto_dequantize_row(t, w, wd, n);
  sotto_dequantize_row(t, low, off, n);
  if (to == 0) memset(off, 0, (size_t)n * sizeof *off);
  double sum = 0;
  for (int64_t i = 0; i < n; i++) sum += (fabs(wd[i]) + 2 * fabs(off[i])) * fabs(x[i]);
  free(x), free(wd), free(off), free(low);
  const double terms = info->block == 1 ? (double)n : (double)(n / 8);
  return (float)((2 * terms + 8) * 0x1p-24 * sum);
}

static int close_to(float want, float got, float tolerance) {
  return fabsf(want - got) <= tolerance;
}

static void check_table(const qk_table *ref, const qk_table *k, int64_t n) {
  float *x = malloc(4 * (size_t)n * sizeof *x);
  for (int64_t i = 0; i < 4 * n; i++) x[i] = rndf() * (i % 7 == 0 ? 4 : 1);
  /* activation formats: same quants (nearest even both ways) */
  for (int f = QK_ACT_Q8A; f < QK_ACT_COUNT; f++) {
    if (!k->quant[f]) continue;
    const size_t rb = qk_act_row_bytes(f, n);
    uint8_t *a = malloc(rb), *b = malloc(rb);
    ref->quant[f](x, a, n);
    k->quant[f](x, b, n);
    CHECK(memcmp(a, b, rb) == 0, "%s: activation format %d differs from the reference", k->isa, f);
    free(a), free(b);
  }
  for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
    const sotto_dtype t = types[ti];
    if (!k->dot[t] || k->dot[t] == ref->dot[t]) continue;
    const int f = qk_act_of(t);
    if (n % (f == QK_ACT_Q8K ? SOTTO_QK_K : SOTTO_QK)) continue;
    size_t wb;
    void *w = random_row(t, n, &wb);
    const size_t stride = qk_act_row_bytes(f, n);
    uint8_t *xa = malloc(4 * stride);
    for (int r = 0; r < 4; r++) ref->quant[f](x + r * n, xa + r * stride, n);
    for (int nr = 1; nr <= 4; nr++) {
      float want[4], got[4];
      ref->dot[t](n, w, xa, stride, nr, want);
      k->dot[t](n, w, xa, stride, nr, got);
      for (int r = 0; r < nr; r++)
        CHECK(close_to(want[r], got[r], dot_tolerance(t, w, f, xa + r * stride, n)),
              "%s %s n=%lld nr=%d row %d: %g, reference %g",
              k->isa, sotto_dtype_get(t)->name, (long long)n, nr, r, got[r], want[r]);
    }
    if (k->tile[t]) { /* a GEMM tile of tile_m weight rows (copies of w, offset) */
      const int tm = k->tile_m, tn = k->tile_n;
      uint8_t *wt = random_rows(t, n, (size_t)tm);
      uint8_t *xt = malloc(stride * (size_t)tn);
      for (int j = 0; j < tn; j++) ref->quant[f](x + (j % 4) * n, xt + (size_t)j * stride, n);
      float *yt = malloc(sizeof(float) * (size_t)(tm * tn) * 2);
      k->tile[t](n, wt, wb, xt, stride, yt, (size_t)tm * 2);
      int bad = 0;
      for (int j = 0; j < tn; j++)
        for (int i = 0; i < tm; i++) {
          float want;
          ref->dot[t](n, wt + (size_t)i * wb, xt + (size_t)j * stride, 0, 1, &want);
          bad += !close_to(want, yt[(size_t)j * tm * 2 + i],
                           dot_tolerance(t, wt + (size_t)i * wb, f, xt + (size_t)j * stride, n));
        }
      CHECK(bad == 0, "%s %s n=%lld: %d of the %dx%d tile differ", k->isa,
            sotto_dtype_get(t)->name, (long long)n, bad, tm, tn);
      free(wt), free(xt), free(yt);
    }
    if (k->tile1[t]) { /* tile_m weight rows by one activation row (row 1) */
      const int tm = k->tile_m;
      uint8_t *wt = random_rows(t, n, (size_t)tm);
      float yt[16];
      k->tile1[t](n, wt, wb, xa + stride, stride, yt, 1);
      int bad = 0;
      for (int i = 0; i < tm; i++) {
        float want;
        ref->dot[t](n, wt + (size_t)i * wb, xa + stride, 0, 1, &want);
        bad += !close_to(want, yt[i], dot_tolerance(t, wt + (size_t)i * wb, f, xa + stride, n));
      }
      CHECK(bad == 0, "%s %s n=%lld: %d of the %dx1 tile differ", k->isa,
            sotto_dtype_get(t)->name, (long long)n, bad, tm);
      free(wt);
    }
    if (k->tile8[t]) { /* 8 weight rows packed (sotto_qmat_pack) by 1-4 activation rows */
      const uint32_t rng_after = rng; /* the checks after this one keep their data */
      const size_t rb = sotto_dtype_row_bytes(t, n);
      uint8_t *wt = random_rows(t, n, 8), *wp = malloc(8 * rb);
      memcpy(wp, wt, 8 * rb);
      sotto_qmat m;
      sotto_error err = {0};
      CHECK(sotto_qmat_init(&m, t, wp, n, 8, &err) == 0 && sotto_qmat_pack(&m, wp, &err) == 0,
            "pack: %s", err.message);
      /* the reference dots first: with the reference calls between the tile
       * and the comparison, the wasm build at -O3 (clang 14) counted equal
       * values as different */
      float want[4][8], tol[4][8];
      for (int j = 0; j < 4; j++)
        for (int i = 0; i < 8; i++) {
          ref->dot[t](n, wt + (size_t)i * rb, xa + (size_t)j * stride, 0, 1, &want[j][i]);
          tol[j][i] = dot_tolerance(t, wt + (size_t)i * rb, f, xa + (size_t)j * stride, n);
        }
      for (int nr = 1; nr <= 4; nr++) {
        float yt[4 * 10];
        k->tile8[t](n, wp, xa, stride, nr, yt, 10);
        int bad = 0;
        for (int j = 0; j < nr; j++)
          for (int i = 0; i < 8; i++) bad += !close_to(want[j][i], yt[j * 10 + i], tol[j][i]);
        CHECK(bad == 0, "%s %s n=%lld nr=%d: %d of the packed 8-row tile differ", k->isa,
              sotto_dtype_get(t)->name, (long long)n, nr, bad);
      }
      free(wt), free(wp);
      rng = rng_after;
    }
    free(xa), free(w);
  }
  free(x);
}

/* The F32, F16 and BF16 dots (the key and value cache's, over a head's
 * length) at every length up to 40 and a few more: their vector bodies and
 * the values left over after them. */
static void check_float_dots(const qk_table *ref, const qk_table *k) {
  static const sotto_dtype float_types[] = {SOTTO_DTYPE_F32, SOTTO_DTYPE_F16, SOTTO_DTYPE_BF16};
  float x[4 * 139];
  for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) x[i] = rndf();
  for (int64_t n = 1; n <= 139; n += n < 40 ? 1 : 33) {
    for (size_t ti = 0; ti < 3; ti++) {
      const sotto_dtype t = float_types[ti];
      if (!k->dot[t] || k->dot[t] == ref->dot[t]) continue;
      size_t wb;
      uint8_t *w = random_row(t, n, &wb);
      const size_t stride = (size_t)n * sizeof(float);
      for (int nr = 1; nr <= 4; nr++) {
        float want[4], got[4];
        ref->dot[t](n, w, x, stride, nr, want);
        k->dot[t](n, w, x, stride, nr, got);
        for (int r = 0; r < nr; r++)
          CHECK(close_to(want[r], got[r], dot_tolerance(t, w, QK_ACT_F32, (const uint8_t *)(x + r * n), n)),
                "%s %s n=%lld nr=%d row %d: %g, reference %g", k->isa, sotto_dtype_get(t)->name,
                (long long)n, nr, r, got[r], want[r]);
      }
      free(w);
    }
  }
}

/* The GEMM kernels (AMX) against the reference dots: 32 weight rows (plain,
 * and packed by 8 rows for gemm8) by 16, 32 and 48 activation rows, into an
 * output with a row stride wider than 32. */
static void check_gemm(const qk_table *ref, const qk_table *k, int64_t n) {
  for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
    const sotto_dtype t = types[ti];
    if (!k->gemm[t] && !k->gemm8[t]) continue;
    const int f = qk_act_of(t);
    if (n % (f == QK_ACT_Q8K ? SOTTO_QK_K : SOTTO_QK)) continue;
    const size_t rb = sotto_dtype_row_bytes(t, n), xs = qk_act_row_bytes(f, n);
    const size_t ys = QK_GEMM_N + 8;
    uint8_t *w = random_rows(t, n, QK_GEMM_N), *wp = malloc(rb * QK_GEMM_N), *xa = malloc(48 * xs);
    float *x = malloc((size_t)n * sizeof *x), *y = malloc(48 * ys * sizeof *y);
    float *want = malloc(48 * QK_GEMM_N * sizeof *want), *tol = malloc(48 * QK_GEMM_N * sizeof *tol);
    for (int i = 0; i < 48; i++) {
      for (int64_t v = 0; v < n; v++) x[v] = rndf() * (v % 5 == 0 ? 3 : 1);
      ref->quant[f](x, xa + (size_t)i * xs, n);
      for (int j = 0; j < QK_GEMM_N; j++) {
        ref->dot[t](n, w + j * rb, xa + (size_t)i * xs, 0, 1, &want[i * QK_GEMM_N + j]);
        tol[i * QK_GEMM_N + j] = dot_tolerance(t, w + j * rb, f, xa + (size_t)i * xs, n);
      }
    }
    if (k->gemm8[t]) {
      sotto_qmat m;
      sotto_error err = {0};
      CHECK(sotto_qmat_init(&m, t, wp, n, QK_GEMM_N, &err) == 0, "qmat_init: %s", err.message);
      memcpy(wp, w, rb * QK_GEMM_N);
      CHECK(sotto_qmat_pack(&m, wp, &err) == 0, "pack: %s", err.message);
    }
    for (int packed = 0; packed < 2; packed++) {
      const qk_gemm_fn gemm = packed ? k->gemm8[t] : k->gemm[t];
      if (!gemm) continue;
      for (size_t rows = 16; rows <= 48; rows += 16) {
        for (size_t i = 0; i < 48 * ys; i++) y[i] = NAN;
        gemm(n, packed ? wp : w, rb, xa, xs, rows, y, ys);
        int bad = 0;
        for (size_t i = 0; i < 48; i++)
          for (size_t j = 0; j < ys; j++) {
            const float got = y[i * ys + j];
            bad += i < rows && j < QK_GEMM_N
                       ? !close_to(want[i * QK_GEMM_N + j], got, tol[i * QK_GEMM_N + j])
                       : !isnan(got);
          }
        CHECK(bad == 0, "%s %s%s n=%lld rows %zu: %d values differ", k->isa,
              sotto_dtype_get(t)->name, packed ? " packed" : "", (long long)n, rows, bad);
      }
    }
    free(w), free(wp), free(xa), free(x), free(y), free(want), free(tol);
  }
}

/* The scalar dot of each quantized type against the float dot of the
 * dequantized weights with the dequantized activations. */
static void check_reference_decoding(const qk_table *ref, int64_t n) {
  float *x = malloc((size_t)n * sizeof *x), *wd = malloc((size_t)n * sizeof *wd);
  float *xd = malloc((size_t)n * sizeof *xd);
  for (int64_t i = 0; i < n; i++) x[i] = rndf();
  for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
    const sotto_dtype t = types[ti];
    const int f = qk_act_of(t);
    if (n % (f == QK_ACT_Q8K ? SOTTO_QK_K : SOTTO_QK)) continue;
    size_t wb;
    void *w = random_row(t, n, &wb);
    uint8_t *xa = malloc(qk_act_row_bytes(f, n) + 4 * (size_t)n);
    ref->quant[f](x, xa, n);
    act_values(f, xa, n, xd);
    sotto_dequantize_row(t, w, wd, n);
    double want = 0;
    for (int64_t i = 0; i < n; i++) want += (double)wd[i] * xd[i];
    float got;
    ref->dot[t](n, w, xa, 0, 1, &got);
    CHECK(close_to((float)want, got, dot_tolerance(t, w, f, xa, n)), "scalar %s n=%lld: %g, dequantized %g",
          sotto_dtype_get(t)->name, (long long)n, got, want);
    free(xa), free(w);
  }
  free(x), free(wd), free(xd);
}

/* sotto_qmatmul over threads and tiles against row-by-row reference dots. */
static void check_qmatmul(pthreadpool_t pool, sotto_dtype t, int64_t n_in, int64_t n_out,
                          size_t rows) {
  qk_table ref;
  qk_fill_scalar(&ref);
  const size_t rb = sotto_dtype_row_bytes(t, n_in);
  uint8_t *w = random_rows(t, n_in, (size_t)n_out);
  float *x = malloc(rows * (size_t)n_in * sizeof *x), *y = malloc(rows * (size_t)n_out * sizeof *y);
  for (size_t i = 0; i < rows * (size_t)n_in; i++) x[i] = rndf();
  sotto_qmat m;
  sotto_error err = {0};
  CHECK(sotto_qmat_init(&m, t, w, n_in, n_out, &err) == 0, "qmat_init: %s", err.message);
  sotto_qact a;
  CHECK(sotto_qact_init(&a, n_in, rows, &err) == 0, "qact_init: %s", err.message);
  sotto_qact_set(&a, x, rows, n_in);
  sotto_qmatmul(pool, &m, &a, y);
  const int f = qk_act_of(t);
  uint8_t *xa = malloc(qk_act_row_bytes(f, n_in));
  float *tol = malloc(rows * (size_t)n_out * sizeof *tol);
  int bad = 0;
  for (size_t r = 0; r < rows; r++) {
    ref.quant[f](x + r * (size_t)n_in, xa, n_in);
    for (int64_t j = 0; j < n_out; j++) {
      float want;
      ref.dot[t](n_in, w + (size_t)j * rb, xa, 0, 1, &want);
      tol[r * (size_t)n_out + (size_t)j] = dot_tolerance(t, w + (size_t)j * rb, f, xa, n_in);
      if (!close_to(want, y[r * (size_t)n_out + (size_t)j], tol[r * (size_t)n_out + (size_t)j])) {
        if (!bad) fprintf(stderr, "row %zu col %lld: %.9g, reference %.9g\n", r, (long long)j,
                          y[r * (size_t)n_out + (size_t)j], want);
        bad++;
      }
    }
  }
  CHECK(bad == 0, "qmatmul %s %lldx%lld rows %zu: %d values differ", sotto_dtype_get(t)->name,
        (long long)n_out, (long long)n_in, rows, bad);
  if (sotto_qmat_packable(&m)) { /* the same products from weights packed by 8 rows */
    sotto_qmat p = m;
    uint8_t *packed = malloc(rb * (size_t)n_out);
    CHECK(sotto_qmat_pack(&p, packed, &err) == 0, "pack: %s", err.message);
    float *y2 = malloc(rows * (size_t)n_out * sizeof *y2);
    sotto_qact_set(&a, x, rows, n_in);
    sotto_qmatmul(pool, &p, &a, y2);
    int bad2 = 0;
    for (size_t i = 0; i < rows * (size_t)n_out; i++) bad2 += !close_to(y[i], y2[i], tol[i]);
    CHECK(bad2 == 0, "packed qmatmul %s rows %zu: %d values differ", sotto_dtype_get(t)->name, rows, bad2);
    float *r1 = malloc((size_t)n_in * sizeof *r1), *r2 = malloc((size_t)n_in * sizeof *r2);
    for (int64_t j = 0; j < n_out; j += 7) {
      sotto_qmat_row(&m, j, r1);
      sotto_qmat_row(&p, j, r2);
      CHECK(memcmp(r1, r2, (size_t)n_in * sizeof *r1) == 0, "packed row %lld differs", (long long)j);
    }
    /* in place */
    memcpy(packed, w, rb * (size_t)n_out);
    p = m;
    p.data = packed;
    CHECK(sotto_qmat_pack(&p, packed, &err) == 0, "pack in place: %s", err.message);
    sotto_qmatmul(pool, &p, &a, y2);
    bad2 = 0;
    for (size_t i = 0; i < rows * (size_t)n_out; i++) bad2 += !close_to(y[i], y2[i], tol[i]);
    CHECK(bad2 == 0, "packed in place %s rows %zu: %d values differ", sotto_dtype_get(t)->name, rows, bad2);
    free(packed), free(y2), free(r1), free(r2);
  }
  sotto_qact_free(&a);
  free(xa), free(w), free(x), free(y), free(tol);
}

/* sotto_qmat_pack_all: matrices of one buffer (more than 2 MiB, so whole
 * huge pages lie inside) packed in place: each row reads back as before,
 * the bytes around and between the matrices are untouched. */
static void check_pack_all(sotto_dtype t) {
  const int64_t n_in = 512, n_out = 4096;
  const size_t rb = sotto_dtype_row_bytes(t, n_in), mat = rb * (size_t)n_out, gap = 4160;
  const size_t size = 3 * (mat + gap) + gap;
  uint8_t *buf = malloc(size), *copy = malloc(size);
  for (size_t i = 0; i < size; i++) buf[i] = (uint8_t)rnd();
  sotto_qmat m[3], plain[3], *all[3];
  sotto_error err = {0};
  for (int i = 0; i < 3; i++) {
    uint8_t *rows = random_rows(t, n_in, (size_t)n_out);
    memcpy(buf + gap + (size_t)i * (mat + gap), rows, mat);
    free(rows);
  }
  memcpy(copy, buf, size);
  for (int i = 0; i < 3; i++) {
    sotto_qmat_init(&m[i], t, buf + gap + (size_t)i * (mat + gap), n_in, n_out, &err);
    sotto_qmat_init(&plain[i], t, copy + gap + (size_t)i * (mat + gap), n_in, n_out, &err);
    all[i] = &m[i];
  }
  CHECK(sotto_qmat_pack_all(all, 3, &err) == 0, "pack_all: %s", err.message);
  float *r1 = malloc((size_t)n_in * sizeof *r1), *r2 = malloc((size_t)n_in * sizeof *r2);
  int bad = 0;
  for (int i = 0; i < 3; i++) {
    CHECK(m[i].packed == sotto_qmat_packable(&plain[i]), "%s: matrix %d not packed", sotto_dtype_get(t)->name, i);
    for (int64_t j = 0; j < n_out; j++) {
      sotto_qmat_row(&m[i], j, r1);
      sotto_qmat_row(&plain[i], j, r2);
      bad += memcmp(r1, r2, (size_t)n_in * sizeof *r1) != 0;
    }
    for (size_t g = 0; g < gap; g++) bad += buf[(size_t)i * (mat + gap) + g] != copy[(size_t)i * (mat + gap) + g];
  }
  for (size_t g = size - gap; g < size; g++) bad += buf[g] != copy[g];
  CHECK(bad == 0, "pack_all %s: %d rows or bytes differ", sotto_dtype_get(t)->name, bad);
  free(r1), free(r2), free(buf), free(copy);
}

/* sotto_qmatmul_many (one parallel loop over several matrices' rows, for
 * decoding) gives each matrix exactly what sotto_qmatmul gives it: mixed
 * activation formats (Q8_0, Q5_0 and Q4_K rows), row counts that are not
 * a multiple of the tiles, plain and packed weights, 1 to 5 input rows. */
static void check_qmatmul_many(pthreadpool_t pool) {
  const int64_t n_in = 512, n_out[3] = {40, 13, 56};
  const sotto_dtype t[3] = {SOTTO_DTYPE_Q8_0, SOTTO_DTYPE_Q4_K, SOTTO_DTYPE_Q5_0};
  sotto_qmat m[3];
  const sotto_qmat *mp[3] = {&m[0], &m[1], &m[2]};
  uint8_t *w[3];
  sotto_error err = {0};
  for (int i = 0; i < 3; i++) {
    w[i] = random_rows(t[i], n_in, (size_t)n_out[i]);
    CHECK(sotto_qmat_init(&m[i], t[i], w[i], n_in, n_out[i], &err) == 0, "qmat_init: %s", err.message);
    if (i == 2) CHECK(sotto_qmat_pack(&m[i], w[i], &err) == 0, "pack: %s", err.message);
  }
  float x[5 * 512], want[5 * 56], got0[5 * 56], got1[5 * 13], got2[5 * 56];
  float *got[3] = {got0, got1, got2};
  for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) x[i] = rndf();
  sotto_qact a, b;
  CHECK(sotto_qact_init(&a, n_in, 5, &err) == 0 && sotto_qact_init(&b, n_in, 5, &err) == 0, "qact_init");
  for (size_t rows = 1; rows <= 5; rows++) {
    sotto_qact_set(&a, x, rows, n_in);
    sotto_qmatmul_many(pool, mp, got, 3, &a);
    for (int i = 0; i < 3; i++) {
      sotto_qact_set(&b, x, rows, n_in);
      sotto_qmatmul(pool, &m[i], &b, want);
      CHECK(memcmp(want, got[i], rows * (size_t)n_out[i] * sizeof(float)) == 0,
            "qmatmul_many %s rows %zu: equal to qmatmul", sotto_dtype_get(t[i])->name, rows);
    }
  }
  sotto_qact_free(&a), sotto_qact_free(&b);
  for (int i = 0; i < 3; i++) free(w[i]);
}

/* Greedy picks equal a plain scan keeping each strictly larger logit: ties
 * to the lowest id, NaNs never chosen unless first, -inf, odd lengths. */
static void check_greedy(void) {
  const sotto_sampling greedy = {0, 0, 1, 0, 1, 0, 0};
  static float x[1037];
  int bad = 0;
  for (int trial = 0; trial < 400; trial++) {
    const int32_t n = 1 + (int32_t)(rnd() % 1037);
    for (int32_t i = 0; i < n; i++) x[i] = (float)(rnd() % 7) - 3; /* many ties */
    const int special = trial % 5;
    for (int k = 0; k < 3 && special; k++) {
      const int32_t i = (int32_t)(rnd() % (uint32_t)n);
      x[i] = special == 1 ? NAN : special == 2 ? -INFINITY : special == 3 ? INFINITY : 3;
    }
    if (trial % 7 == 0) x[0] = NAN;
    if (trial % 11 == 0)
      for (int32_t i = 0; i < n; i++) x[i] = -INFINITY;
    int32_t want = 0;
    for (int32_t i = 1; i < n; i++)
      if (x[i] > x[want]) want = i;
    sotto_sampler *s = sotto_sampler_create(&greedy, n);
    const int32_t got = sotto_sampler_pick(s, x, NULL, 0);
    sotto_sampler_free(s);
    if (got != want && bad++ < 5) printf("greedy pick over %d logits: %d, want %d\n", n, got, want);
  }
  CHECK(bad == 0, "greedy pick equals a plain scan (%d of 400 differ)", bad);
}

int main(void) {
  qk_table ref, k;
  qk_fill_scalar(&ref);
  for (int64_t n = 256; n <= 1024; n += 768) check_reference_decoding(&ref, n);
  check_reference_decoding(&ref, 96);
  const int64_t sizes[] = {32, 96, 160, 256, 896, 4864};
  const size_t n_sizes = sizeof sizes / sizeof sizes[0];
#if defined(__wasm_simd128__)
  k = ref;
  qk_fill_wasm(&k);
  for (size_t i = 0; i < n_sizes; i++) check_table(&ref, &k, sizes[i]), check_gemm(&ref, &k, sizes[i]);
  check_float_dots(&ref, &k);
#else
  cpuinfo_initialize();
  if (cpuinfo_has_x86_avx2() && cpuinfo_has_x86_fma3() && cpuinfo_has_x86_f16c()) {
    k = ref;
    qk_fill_avx2(&k);
    for (size_t i = 0; i < n_sizes; i++) check_table(&ref, &k, sizes[i]);
    check_float_dots(&ref, &k);
  } else {
    printf("no AVX2 here: AVX2 kernels not tested\n");
  }
  if (cpuinfo_has_x86_avx512vnni() && cpuinfo_has_x86_avx512vl() && cpuinfo_has_x86_avx512bw()) {
    k = ref;
    qk_fill_avx512(&k);
    for (size_t i = 0; i < n_sizes; i++) check_table(&ref, &k, sizes[i]);
    check_float_dots(&ref, &k);
    if (cpuinfo_has_x86_gfni()) { /* the kernels that replace some of those with GFNI */
      k = ref;
      qk_fill_avx512(&k);
      qk_fill_avx512_gfni(&k);
      for (size_t i = 0; i < n_sizes; i++) check_table(&ref, &k, sizes[i]);
    } else {
      printf("no GFNI here: those kernels not tested\n");
    }
  } else {
    printf("no AVX-512 VNNI here: those kernels not tested\n");
  }
  k = ref;
  if (cpuinfo_has_x86_avx512vnni() && cpuinfo_has_x86_avx512vl() && cpuinfo_has_x86_avx512bw() &&
      cpuinfo_has_x86_amx_tile() && cpuinfo_has_x86_amx_int8() && (qk_fill_avx512(&k), qk_fill_amx(&k))) {
    for (size_t i = 0; i < n_sizes; i++) check_gemm(&ref, &k, sizes[i]);
  } else {
    printf("no AMX-INT8 here (or not granted): those kernels not tested\n");
  }
#endif
  printf("qmatmul kernels: %s\n", sotto_qmatmul_isa());
  pthreadpool_t pool = pthreadpool_create(3);
  for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
    const int64_t n_in = 512;
    check_qmatmul(NULL, types[ti], n_in, 40, 1);
    check_qmatmul(pool, types[ti], n_in, 37, 1);
    check_qmatmul(pool, types[ti], n_in, 53, 70);
    check_qmatmul(pool, types[ti], n_in, 56, 70); /* packable: rows a multiple of 8 */
    check_qmatmul(pool, types[ti], n_in, 40, 3);
    /* the GEMM kernels' tiles and the rows and columns they leave over */
    if (qk_act_of(types[ti]) == QK_ACT_Q8A) check_qmatmul(pool, types[ti], 896, 136, 67);
  }
  check_qmatmul_many(NULL);
  check_qmatmul_many(pool);
  pthreadpool_destroy(pool);
  check_pack_all(SOTTO_DTYPE_Q8_0);
  check_pack_all(SOTTO_DTYPE_Q4_K);
  check_greedy();
  return check_finish();
}
