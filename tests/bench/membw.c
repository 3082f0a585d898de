/*
 * membw.c - the machine's memory read bandwidth, the bound of LLM decoding:
 * each thread sums its share of a 1 GiB buffer (far larger than any cache)
 * with 32-byte loads; the best of several passes is reported. The buffer
 * asks for 2 MiB transparent huge pages (Linux), as the engine does for
 * its packed weights, so the bound is what the memory system gives, not
 * what 4 KiB page walks leave of it.
 *
 *   sotto-membw [THREADS...]   ->   {"threads":1,"gb_s":37.1} per line
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define MEMBW_BYTES (1u << 30)
#define MEMBW_PASSES 7
#define MEMBW_HUGE_PAGE (2u << 20)

typedef struct {
  const uint64_t *p;
  size_t n;
  uint64_t sum;
} part;

#if defined(__x86_64__)
__attribute__((target("avx2")))
#endif
static void *sum_part(void *arg) {
  part *t = arg;
  uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (size_t i = 0; i + 4 <= t->n; i += 4) s0 += t->p[i], s1 += t->p[i + 1], s2 += t->p[i + 2], s3 += t->p[i + 3];
  t->sum = s0 + s1 + s2 + s3;
  return NULL;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  uint64_t *buf = aligned_alloc(MEMBW_HUGE_PAGE, MEMBW_BYTES);
  if (!buf) return 1;
#ifdef MADV_HUGEPAGE
  madvise(buf, MEMBW_BYTES, MADV_HUGEPAGE); /* a hint: without it, 4 KiB pages */
#endif
  memset(buf, 1, MEMBW_BYTES);
  const size_t n = MEMBW_BYTES / sizeof *buf;
  for (int a = 1; a < argc || a == 1; a++) {
    int threads = a < argc ? atoi(argv[a]) : 1;
    if (threads < 1 || threads > 64) threads = 1;
    double best = 1e30;
    uint64_t check = 0;
    for (int pass = 0; pass < MEMBW_PASSES; pass++) {
      part parts[64];
      pthread_t th[64];
      const double t0 = now();
      for (int t = 0; t < threads; t++) {
        parts[t] = (part){buf + n / threads * t, n / threads, 0};
        pthread_create(&th[t], NULL, sum_part, &parts[t]);
      }
      for (int t = 0; t < threads; t++) pthread_join(th[t], NULL), check += parts[t].sum;
      const double dt = now() - t0;
      if (dt < best) best = dt;
    }
    printf("{\"threads\":%d,\"gb_s\":%.2f,\"check\":%llu}\n", threads, MEMBW_BYTES / best / 1e9,
           (unsigned long long)(check & 1));
  }
  free(buf);
  return 0;
}
