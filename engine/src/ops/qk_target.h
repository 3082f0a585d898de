/*
 * qk_target.h - opens a region of functions compiled for the instruction
 * sets in QK_TARGET (a gcc/clang target string the including file defines),
 * so that one file can hold kernels for a CPU the rest of the build does not
 * assume; qk_x86_end.h closes it. Included by qk_x86.h (AVX2, AVX-512) and
 * qk_amx.c (AMX).
 */
#define QK_STR(x) #x
#define QK_PRAGMA(x) _Pragma(QK_STR(x))
#if defined(__clang__)
QK_PRAGMA(clang attribute push(__attribute__((target(QK_TARGET))), apply_to = function))
#else
#pragma GCC push_options
QK_PRAGMA(GCC target(QK_TARGET))
#endif
#include <immintrin.h>

#define QK_INLINE static inline __attribute__((always_inline))
