/*
 * attention.h - scaled dot-product attention of a block of query rows over
 * cached keys and values in floats, for reading a prompt: the rows (any
 * mix of tokens and query heads sharing one key-value head) are the lanes
 * of the vectors, so the scores, the softmax and the weighted sum of values
 * are all computed SOTTO_ATTN_ROWS rows at a time with no horizontal sums.
 */
#ifndef SOTTO_ATTENTION_H
#define SOTTO_ATTENTION_H

#include <stddef.h>

#define SOTTO_ATTN_ROWS 16 /* query rows per call */

/* For each row r < rows (<= SOTTO_ATTN_ROWS): out[r][0..hd) = sum over
 * positions p in lo[r]..hi[r] of softmax_p(scale * q[r] . key p) * value p.
 * Key p is hd floats at k + p * k_stride; value p's dimension d is
 * v[d * v_stride + p] (the transposed cache layout). scratch holds
 * sotto_attn_scratch(span, hd) floats, span = the largest hi + 1 - the
 * smallest lo. The sums run in another order than one dot per key would
 * take them; the exponentials are sotto_vexp's. */
void sotto_attn_rows(const float *k, size_t k_stride, const float *v, size_t v_stride, int hd,
                     float scale, const float *const *q, float *const *out, const int *lo,
                     const int *hi, int rows, float *scratch);

static inline size_t sotto_attn_scratch(size_t span, size_t hd) {
  return SOTTO_ATTN_ROWS * (span + 2 * hd + 1); /* scores, queries, sums, alignment */
}

#endif /* SOTTO_ATTENTION_H */
