/* qk_x86_end.h - closes the target region that qk_x86.h opened. */
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
