/*
 * simd.h - nabla's one way of writing a SIMD kernel: 16-lane float vectors (GCC / Clang
 * vector extensions), the body written once as an always-inline function over nb__v16 and
 * compiled for every CPU tier (cpu.h) by NB__SIMD_VARIANTS, the tier in force picking the
 * copy at run time; the compiler maps each 16-lane operation to one AVX-512, two AVX2 or four
 * SSE2 instructions. (Intrinsics only where the extensions cannot say it: a fused multiply-add
 * chain in the GEMM micro-kernels, AVX-512 mask registers in a few kernels that keep a
 * generic body beside them; each chosen by the same tier.)
 * Why this gives the same bits everywhere: lanes are independent IEEE single operations,
 * each rounded (-ffp-contract=off forbids fusing a multiply into an add), and a kernel fixes
 * which lane accumulates what, so only the speed depends on the CPU (tests/ops/test_conv_fast.c
 * compares the variants bit for bit).
 */
#ifndef NB_SIMD_H
#define NB_SIMD_H

#include "cpu.h"
#include "ops.h"

#include <string.h>

typedef float nb__v16 __attribute__((vector_size(64)));
typedef int32_t nb__v16i __attribute__((vector_size(64)));

/* Vectors pass by pointer, never by value: a by-value 64-byte vector changes the calling
 * convention between instruction sets (GCC's -Wpsabi), and these are always inlined. */
#define NB__INLINE static inline __attribute__((always_inline))

/* 16 floats at any address (aligned to 4, may alias floats): NB__V16(p) is an lvalue to
 * read or assign - the form the compilers keep in registers best */
typedef float nb__v16u __attribute__((vector_size(64), aligned(4), may_alias));
#define NB__V16(p) (*(nb__v16u *)(void *)(p))
#define NB__V16C(p) (*(const nb__v16u *)(const void *)(p))
typedef int32_t nb__v16iu __attribute__((vector_size(64), aligned(4), may_alias));
#define NB__V16IC(p) (*(const nb__v16iu *)(const void *)(p))
/* v where mask lanes are all ones, +0 where they are 0 (a select by bits: no arithmetic) */
#define NB__V16_AND(v, m) ((nb__v16)((nb__v16i)(v) & (m)))

NB__INLINE void nb__v16_load(nb__v16 *v, const float *p) { memcpy(v, p, sizeof *v); }
NB__INLINE void nb__v16_store(float *p, const nb__v16 *v) { memcpy(p, v, sizeof *v); }
/* the first n (< 16) lanes only: loads fill the rest with 0. Lane by lane, not through a
 * memcpy to a buffer: a wide load of narrow stores stalls store forwarding. Slow all the same
 * - for ragged ends, not inner loops. */
NB__INLINE void nb__v16_load_part(nb__v16 *v, const float *p, size_t n)
{
    nb__v16 t = {0};
    for (size_t l = 0; l < n; l++) t[l] = p[l];
    *v = t;
}
NB__INLINE void nb__v16_store_part(float *p, const nb__v16 *v, size_t n)
{
    for (size_t l = 0; l < n; l++) p[l] = (*v)[l];
}
/* lanes 0 + 1 + ... + 15, left to right: a fixed order */
NB__INLINE float nb__v16_sum(const nb__v16 *v)
{
    float t[16], s = 0.0f;
    memcpy(t, v, sizeof t);
    for (int i = 0; i < 16; i++) s += t[i];
    return s;
}

/* NB__SIMD_VARIANTS(name, params, call): static void name(params) compiled once per tier of
 * cpu.h (name##_avx512, name##_avx2, name##_generic), and name##_pick() returning the one of
 * the tier in force. call is the body, usually an NB__INLINE function's call, e.g.
 * NB__SIMD_VARIANTS(k, (int n, float *y), k_body(n, y)); it may use nb__tier, the variant's
 * tier as a constant, to size its blocking to the registers (the results must not depend on
 * it). */
#ifdef NB__HAVE_X86_VARIANTS
#define NB__SIMD_VARIANTS(name, params, call)                                               \
    NB__TARGET_AVX512 static void name##_avx512 params                                      \
    {                                                                                       \
        const nb__isa nb__tier = NB__ISA_AVX512;                                            \
        (void)nb__tier;                                                                     \
        call;                                                                               \
    }                                                                                       \
    NB__TARGET_AVX2 static void name##_avx2 params                                          \
    {                                                                                       \
        const nb__isa nb__tier = NB__ISA_AVX2;                                              \
        (void)nb__tier;                                                                     \
        call;                                                                               \
    }                                                                                       \
    static void name##_generic params                                                       \
    {                                                                                       \
        const nb__isa nb__tier = NB__ISA_GENERIC;                                           \
        (void)nb__tier;                                                                     \
        call;                                                                               \
    }                                                                                       \
    typedef void (*name##_fn) params;                                                       \
    static name##_fn name##_pick(void)                                                      \
    {                                                                                       \
        nb__isa i_ = nb__cpu_isa();                                                         \
        return i_ == NB__ISA_AVX512 ? name##_avx512 : i_ == NB__ISA_AVX2 ? name##_avx2 : name##_generic; \
    }
#else
#define NB__SIMD_VARIANTS(name, params, call)                                               \
    static void name##_generic params                                                       \
    {                                                                                       \
        const nb__isa nb__tier = NB__ISA_GENERIC;                                           \
        (void)nb__tier;                                                                     \
        call;                                                                               \
    }                                                                                       \
    typedef void (*name##_fn) params;                                                       \
    static name##_fn name##_pick(void) { return name##_generic; }
#endif

#endif
