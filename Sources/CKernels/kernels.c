// Runtime choice between the AVX-512, AVX2 and baseline builds of the kernels in kernels_impl.h.
#include "CKernels.h"
#include <stdlib.h>   // defines __GLIBC__ where the C library is glibc
#if defined(__GLIBC__)
#include <malloc.h>
#endif

// The vector helpers are static and inlined; passing wide vectors between them in the narrower
// builds is no ABI concern.
#pragma clang diagnostic ignored "-Wpsabi"
#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)

// Eight lanes for the baseline (two SSE registers per vector) and AVX2, sixteen for AVX-512.
typedef float v8f __attribute__((vector_size(32)));
typedef int v8i __attribute__((vector_size(32)));
typedef unsigned v8u __attribute__((vector_size(32)));
typedef float v16f __attribute__((vector_size(64)));
typedef int v16i __attribute__((vector_size(64)));
typedef unsigned v16u __attribute__((vector_size(64)));
// A scalar broadcast to every lane (0 + x is x for every constant used here).
#define SPLAT(x) ((VF){0} + (x))

#define VW 8
#define VF v8f
#define VI v8i
#define VU v8u
#define RK_NAME(f) rk_base_##f
#define RK_TARGET
#include "kernels_impl.h"
#undef RK_NAME
#undef RK_TARGET

#if defined(__x86_64__)
#define RK_NAME(f) rk_avx2_##f
#define RK_TARGET __attribute__((target("avx2")))
#include "kernels_impl.h"
#undef RK_NAME
#undef RK_TARGET
#undef VW
#undef VF
#undef VI
#undef VU

#define VW 16
#define VF v16f
#define VI v16i
#define VU v16u
#define RK_NAME(f) rk_avx512_##f
#define RK_TARGET __attribute__((target("avx512f")))
#include "kernels_impl.h"
#undef RK_NAME
#undef RK_TARGET

// 0 baseline, 1 AVX2, 2 AVX-512; -1 until first use (a benign race: every thread computes the
// same answer).
static int chosen = -1;

static int rk_cpu_level(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ? 2 : __builtin_cpu_supports("avx2") ? 1 : 0;
}
static int rk_level(void) {
    if (chosen < 0) chosen = rk_cpu_level();
    return chosen;
}
int rk_select(int level) {
    int best = rk_cpu_level();
    chosen = level < 0 ? 0 : level > best ? best : level;
    return chosen;
}
#define DISPATCH(f, ...) do { \
    switch (rk_level()) { \
    case 2: rk_avx512_##f(__VA_ARGS__); break; \
    case 1: rk_avx2_##f(__VA_ARGS__); break; \
    default: rk_base_##f(__VA_ARGS__); } \
} while (0)
const char *rk_variant(void) { static const char *names[] = {"baseline", "avx2", "avx512"}; return names[rk_level()]; }
#else
#define DISPATCH(f, ...) rk_base_##f(__VA_ARGS__)
const char *rk_variant(void) { return "baseline"; }
int rk_select(int level) { (void)level; return 0; }
#endif

void rk_exp(float *p, long count) { DISPATCH(exp_inplace, p, count); }
void rk_sigmoid(float *p, long count) { DISPATCH(sigmoid_inplace, p, count); }
void rk_tanh(float *p, long count) { DISPATCH(tanh_inplace, p, count); }

void rk_gru_step_forward(long B, long H, long t, const long *lengths,
                         const float *gi, const float *gi_step, const float *alphas,
                         const float *gh, const float *bhh, const float *h_prev,
                         float *r, float *z, float *n, float *ghn, float *h) {
    DISPATCH(gru_step_forward, B, H, t, lengths, gi, gi_step, alphas, gh, bhh, h_prev, r, z, n, ghn, h);
}

void rk_gru_step_backward(long B, long H, long t, const long *lengths,
                          const float *r, const float *z, const float *n, const float *ghn,
                          const float *h_prev, const float *dh,
                          float *dgi, int sum_dgi, float *dgh, float *dprev) {
    DISPATCH(gru_step_backward, B, H, t, lengths, r, z, n, ghn, h_prev, dh, dgi, sum_dgi, dgh, dprev);
}

void rk_keep_buffers_in_heap(void) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
}
