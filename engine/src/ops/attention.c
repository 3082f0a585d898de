/*
 * attention.c - attention of SOTTO_ATTN_ROWS query rows at a time over
 * float keys and values (attention.h), as a prompt is read: the rows are
 * the lanes of 16-float vectors (gcc/clang vector extensions, so the same
 * code is SSE, AVX2, AVX-512 or wasm SIMD128), each key's scores for all
 * rows one vector of fused multiply-adds over the head's dimensions, the
 * softmax per lane with each row's own range of positions (the causal mask
 * and sliding windows), and the weighted sum of values a vector per
 * dimension. On x86-64 gcc builds the two hot loops are compiled for
 * AVX-512, AVX with FMA and the baseline, chosen at load (target_clones).
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "ops/attention.h"
#include "ops/vecmath.h"

#define R SOTTO_ATTN_ROWS
#define KEYS 8 /* keys (or values) per pass over the dimensions */

typedef float vf __attribute__((vector_size(4 * R)));

#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__)
#define CLONES __attribute__((target_clones("avx512f", "fma", "default")))
#else
#define CLONES
#endif

/* s[p] = q . key p for p < n, all rows at once (qt: the queries by
 * dimension). Past the last key the first one is read again, unused. */
CLONES static void scores(const float *k, size_t ks, int hd, const vf *qt, int n, vf *s) {
  for (int p = 0; p < n; p += KEYS) {
    const float *kr[KEYS];
    vf a[KEYS];
    for (int j = 0; j < KEYS; j++) {
      kr[j] = k + (size_t)(p + j < n ? p + j : p) * ks;
      a[j] = (vf){0};
    }
    for (int d = 0; d < hd; d++) {
      const vf q = qt[d];
#pragma GCC unroll 8
      for (int j = 0; j < KEYS; j++) a[j] += q * kr[j][d];
    }
    for (int j = 0; j < KEYS && p + j < n; j++) s[p + j] = a[j];
  }
}

/* o[d] = sum over p < n of s[p] * v[d * vs + p], all rows at once. */
CLONES static void values(const float *v, size_t vs, int hd, const vf *s, int n, vf *o) {
  for (int d = 0; d < hd; d++) o[d] = (vf){0};
  int p = 0;
  for (; p + KEYS <= n; p += KEYS) {
    vf w[KEYS];
    for (int j = 0; j < KEYS; j++) w[j] = s[p + j];
    for (int d = 0; d < hd; d++) {
      const float *vd = v + (size_t)d * vs + p;
      vf acc = o[d];
#pragma GCC unroll 8
      for (int j = 0; j < KEYS; j++) acc += w[j] * vd[j];
      o[d] = acc;
    }
  }
  for (; p < n; p++)
    for (int d = 0; d < hd; d++) o[d] += s[p] * v[(size_t)d * vs + p];
}

/* s[p] = exp(scale * s[p] - the lane's largest) at each lane's positions
 * first..last, 0 at the others; sum: each lane's total. (Loops over the
 * lanes, which compilers turn into vector compares and blends.) */
CLONES static void softmax(vf *s, int n, const int *first, const int *last, float scale,
                           float *sum) {
  float mx[R];
  for (int l = 0; l < R; l++) mx[l] = -INFINITY;
  for (int p = 0; p < n; p++) {
    float *sp = (float *)&s[p];
    for (int l = 0; l < R; l++) {
      const float x = p >= first[l] && p <= last[l] ? sp[l] * scale : -INFINITY;
      sp[l] = x;
      mx[l] = x > mx[l] ? x : mx[l];
    }
  }
  for (int l = 0; l < R; l++) mx[l] = mx[l] == -INFINITY ? 0 : mx[l];
  for (int p = 0; p < n; p++) {
    float *sp = (float *)&s[p];
    for (int l = 0; l < R; l++) sp[l] -= mx[l];
  }
  sotto_vexp((float *)s, (int64_t)n * R, 0);
  for (int l = 0; l < R; l++) sum[l] = 0;
  for (int p = 0; p < n; p++) {
    float *sp = (float *)&s[p];
    for (int l = 0; l < R; l++) {
      sp[l] = p >= first[l] && p <= last[l] ? sp[l] : 0;
      sum[l] += sp[l];
    }
  }
}

void sotto_attn_rows(const float *k, size_t k_stride, const float *v, size_t v_stride, int hd,
                     float scale, const float *const *q, float *const *out, const int *lo,
                     const int *hi, int rows, float *scratch) {
  int p0 = INT_MAX, p1 = INT_MIN;
  for (int r = 0; r < rows; r++) {
    p0 = lo[r] < p0 ? lo[r] : p0;
    p1 = hi[r] > p1 ? hi[r] : p1;
  }
  if (rows <= 0 || p1 < p0) return;
  const int n = p1 + 1 - p0;
  vf *qt = (vf *)(((uintptr_t)scratch + sizeof(vf) - 1) / sizeof(vf) * sizeof(vf));
  vf *o = qt + hd, *s = o + hd;
  int first[R], last[R]; /* each lane's positions, from p0; none for unused lanes */
  for (int r = 0; r < R; r++) {
    first[r] = r < rows ? lo[r] - p0 : 1;
    last[r] = r < rows ? hi[r] - p0 : 0;
    for (int d = 0; d < hd; d++) qt[d][r] = r < rows ? q[r][d] : 0;
  }
  scores(k + (size_t)p0 * k_stride, k_stride, hd, qt, n, s);

  float sum[R];
  softmax(s, n, first, last, scale, sum);
  values(v + p0, v_stride, hd, s, n, o);
  for (int r = 0; r < rows; r++)
    for (int d = 0; d < hd; d++) out[r][d] = o[d][r] / sum[r];
}
