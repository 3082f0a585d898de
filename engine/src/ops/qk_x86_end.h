/* qk_x86_end.h - closes the target region that qk_target.h opened. */
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
