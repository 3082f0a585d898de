/*
 * qk_avx512.c - the x86 kernels (qk_x86.h) for AVX-512 with VNNI (vpdpbusd
 * on 256-bit vectors: AVX512VL). The instruction sets
 * are enabled for this file's functions alone (target pragmas), so the
 * engine still runs on any x86-64; qmatmul.c calls them only on CPUs that
 * have them.
 */
#include "ops/qkernels.h"

#if defined(__x86_64__)
#define QK_FN(name) name##_avx512
#define QK_VNNI 1
#define QK_TARGET "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni"
#include "ops/qk_x86.h"

void qk_fill_avx512(qk_table *t) {
  t->isa = "avx512vnni";
  fill_avx512(t);
}
void qk_fill_avx512_gfni(qk_table *t) { fill_gfni_avx512(t); }
#include "ops/qk_x86_end.h"
#endif
