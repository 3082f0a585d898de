/*
 * vecmath.h - elementwise math over float arrays for model code: exp for
 * softmax, SiLU and GELU gates, residual + layer norm. One algorithm (Cephes' expf: range
 * reduction by ln 2, a degree-6 polynomial, the exponent assembled in the
 * bits; relative error below 2e-7, inputs clamped to [-87.3, 88]) in SSE2
 * (every x86-64; AVX-512 for exp and SiLU where there), wasm SIMD128 or plain
 * C (vecmath.c).
 */
#ifndef SOTTO_VECMATH_H
#define SOTTO_VECMATH_H

#include <stdint.h>

/* x[i] = exp(x[i] - sub); returns the sum of the results. */
float sotto_vexp(float *x, int64_t n, float sub);
/* a[i] = silu(a[i]) * b[i], silu(x) = x * sigmoid(x). */
void sotto_vsilu_mul(float *a, const float *b, int64_t n);
/* a[i] = gelu(a[i]) * b[i], GELU with the tanh approximation (PyTorch's
 * approximate="tanh"; tanh(u) = 1 - 2 / (exp(2u) + 1)). */
void sotto_vgelu_mul(float *a, const float *b, int64_t n);

/* x = LayerNorm(x + y): x[i] += y[i] (y may be NULL), then
 * (x[i] - mean) / sqrt(var + eps) * gamma[i] + beta[i] (gamma, beta may be
 * NULL: 1 and 0), as torch.nn.LayerNorm computes it (biased variance).
 * Float sums in 16 lanes, the same order in every build. */
void sotto_vadd_layernorm(float *x, const float *y, const float *gamma, const float *beta,
                          int64_t n, float eps);

/* 1 when every x[i] is a number (not NaN, not infinite); also for x NULL. */
int sotto_vfinite(const float *x, int64_t n);

#endif /* SOTTO_VECMATH_H */
