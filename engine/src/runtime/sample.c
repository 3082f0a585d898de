/*
 * sample.c - choosing the next token from logits, in the order of
 * llama.cpp's default sampler chain (common/sampling.cpp): repetition
 * penalty, top-k, top-p, min-p, temperature, then a draw. Temperature 0 is
 * greedy: the largest logit, ties to the lowest id. Draws come from a
 * seeded generator (splitmix64), so a seed repeats a generation.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime.h"

typedef struct {
  int32_t id;
  float v;
} cand;

struct sotto_sampler {
  sotto_sampling p;
  int32_t n_vocab;
  uint64_t state;
  cand *c;
};

sotto_sampler *sotto_sampler_create(const sotto_sampling *p, int32_t n_vocab) {
  sotto_sampler *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->p = *p;
  s->n_vocab = n_vocab;
  s->state = p->seed;
  s->c = malloc((size_t)n_vocab * sizeof *s->c);
  if (!s->c) {
    free(s);
    return NULL;
  }
  return s;
}

void sotto_sampler_free(sotto_sampler *s) {
  if (s) free(s->c);
  free(s);
}

static double next_unit(sotto_sampler *s) { /* splitmix64, 53 bits in [0, 1) */
  uint64_t z = (s->state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return (double)(z >> 11) / 9007199254740992.0;
}

/* Larger first; equal values by lower id. */
static int cand_cmp(const void *a, const void *b) {
  const cand *x = a, *y = b;
  if (x->v != y->v) return x->v < y->v ? 1 : -1;
  return x->id < y->id ? -1 : x->id > y->id;
}

/* Keeps the k best of c[0..n) in c[0..k), sorted (a bounded insertion
 * that touches each candidate once). */
static int32_t top_k(cand *c, int32_t n, int32_t k) {
  int32_t m = 0;
  for (int32_t i = 0; i < n; i++) {
    if (m == k && cand_cmp(&c[i], &c[m - 1]) >= 0) continue;
    const cand x = c[i];
    int32_t j = m < k ? m++ : m - 1;
    while (j > 0 && cand_cmp(&x, &c[j - 1]) < 0) {
      c[j] = c[j - 1];
      j--;
    }
    c[j] = x;
  }
  return m;
}

/* The first index of the largest logit: where a scan from x[0] that keeps
 * each strictly larger value ends (NaNs never taken; a NaN first logit
 * stays). Run as ARGMAX_LANES interleaved scans so that a comparison need
 * not wait for the one before (a single scan waited a load and a compare
 * per logit: 0.5 ms of a 150k vocabulary, per token); the lanes' results
 * merge by value, then by the lower index. */
#define ARGMAX_LANES 8
static int32_t argmax(const float *x, int32_t n) {
  if (isnan(x[0])) return 0;
  float bv[ARGMAX_LANES];
  int32_t bi[ARGMAX_LANES];
  for (int l = 0; l < ARGMAX_LANES; l++) bv[l] = -INFINITY, bi[l] = -1;
  int32_t i = 0;
  for (; i + ARGMAX_LANES <= n; i += ARGMAX_LANES)
    for (int l = 0; l < ARGMAX_LANES; l++)
      if (x[i + l] > bv[l]) bv[l] = x[i + l], bi[l] = i + l;
  for (; i < n; i++)
    if (x[i] > bv[0]) bv[0] = x[i], bi[0] = i;
  int32_t best = 0;
  float v = -INFINITY;
  for (int l = 0; l < ARGMAX_LANES; l++)
    if (bi[l] >= 0 && (bv[l] > v || (bv[l] == v && bi[l] < best))) v = bv[l], best = bi[l];
  return best;
}

int32_t sotto_sampler_pick(sotto_sampler *s, float *logits, const int32_t *history, int64_t n) {
  const sotto_sampling *p = &s->p;
  /* repetition penalty over the last repeat_last_n ids (llama.cpp's
   * llama_sampler_penalties: divide positive logits, multiply negative) */
  if (p->repeat_penalty != 1 && p->repeat_last_n > 0) {
    const int64_t from = n > p->repeat_last_n ? n - p->repeat_last_n : 0;
    for (int64_t i = from; i < n; i++) {
      const int32_t id = history[i];
      if (id < 0 || id >= s->n_vocab) continue;
      int seen = 0; /* each id once */
      for (int64_t j = from; j < i && !seen; j++) seen = history[j] == id;
      if (seen) continue;
      logits[id] = logits[id] > 0 ? logits[id] / p->repeat_penalty : logits[id] * p->repeat_penalty;
    }
  }
  if (p->temperature <= 0) return argmax(logits, s->n_vocab);
  cand *c = s->c;
  for (int32_t i = 0; i < s->n_vocab; i++) c[i].id = i, c[i].v = logits[i];
  int32_t m = s->n_vocab;
  if (p->top_k > 0 && p->top_k < m) m = top_k(c, m, p->top_k);
  else qsort(c, (size_t)m, sizeof *c, cand_cmp);
  /* probabilities at temperature 1 for top-p and min-p, as llama.cpp's
   * chain applies temperature last */
  double sum = 0;
  for (int32_t i = 0; i < m; i++) sum += exp((double)c[i].v - c[0].v);
  if (p->top_p < 1) {
    double cum = 0;
    for (int32_t i = 0; i < m; i++) {
      cum += exp((double)c[i].v - c[0].v) / sum;
      if (cum >= p->top_p) {
        m = i + 1;
        break;
      }
    }
  }
  if (p->min_p > 0) {
    /* keep tokens with probability >= min_p times the best one's */
    const double cut = (double)c[0].v + log(p->min_p);
    int32_t k = 1;
    while (k < m && (double)c[k].v >= cut) k++;
    m = k;
  }
  double total = 0;
  for (int32_t i = 0; i < m; i++) total += exp(((double)c[i].v - c[0].v) / p->temperature);
  const double r = next_unit(s) * total;
  double acc = 0;
  for (int32_t i = 0; i < m; i++) {
    acc += exp(((double)c[i].v - c[0].v) / p->temperature);
    if (r < acc) return c[i].id;
  }
  return c[m - 1].id;
}
