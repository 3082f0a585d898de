/*
 * qk_avx2.c - the x86 kernels (qk_x86.h) for AVX2 + FMA + F16C. The instruction sets
 * are enabled for this file's functions alone (target pragmas), so the
 * engine still runs on any x86-64; qmatmul.c calls them only on CPUs that
 * have them.
 */
#include "ops/qkernels.h"

#if defined(__x86_64__)
#define QK_FN(name) name##_avx2
#define QK_VNNI 0
#define QK_TARGET "avx2,fma,f16c"
#include "ops/qk_x86.h"

void qk_fill_avx2(qk_table *t) {
  t->isa = "avx2";
  fill_avx2(t);
}
#include "ops/qk_x86_end.h"
#endif
