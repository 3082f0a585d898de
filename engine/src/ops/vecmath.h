/*
 * vecmath.h - elementwise math for model code that compilers vectorize:
 * no calls, no branches. sotto_expf is Cephes' expf (range reduction by
 * ln 2, degree-5 minimax polynomial, exponent by bit assembly), relative
 * error below 2e-7 for x in [-87.3, 88] (inputs outside are clamped to it).
 */
#ifndef SOTTO_VECMATH_H
#define SOTTO_VECMATH_H

#include <stdint.h>
#include <string.h>

static inline float sotto_expf(float x) {
  x = x < -87.33654f ? -87.33654f : x > 88.0f ? 88.0f : x;
  /* n = round(x / ln 2): adding 1.5 * 2^23 rounds to an integer (and
   * vectorizes where a call to floorf would not) */
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = x - n * 0.693359375f;
  r -= n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t e = ((int32_t)n + 127) << 23;
  float s;
  memcpy(&s, &e, 4);
  return p * s;
}

/* SiLU, x * sigmoid(x). */
static inline float sotto_silu(float x) { return x / (1.0f + sotto_expf(-x)); }

/* GELU with the tanh approximation (PyTorch's approximate="tanh"), tanh(u)
 * as 1 - 2 / (exp(2u) + 1). */
static inline float sotto_gelu_tanh(float x) {
  const float u = 0.7978845608028654f * (x + 0.044715f * x * x * x);
  return x - x / (sotto_expf(2 * u) + 1.0f);
}

#endif /* SOTTO_VECMATH_H */
