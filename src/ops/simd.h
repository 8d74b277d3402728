/* SPDX-License-Identifier: MIT */
/*
 * simd.h - nabla's one way of writing a SIMD kernel: GCC / Clang vector extensions over
 * nb__vf, a float vector as wide as the CPU tier's registers (cpu.h; NB__VL = 16 lanes on
 * AVX-512, 8 on AVX2, 4 on the generic tier), kernels written once in a header that
 * simd_tiers.h compiles once per tier, NB__SIMD_PICK choosing the copy of the tier in force.
 * Register-wide, not a fixed 16 lanes: GCC 12 cannot keep a vector wider than the registers
 * in them (it goes through the stack and compares lane by lane: 2-15x slower).
 * Intrinsics only where the extensions cannot say it: the few per-tier operations of
 * simd_tiers.h, the GEMM micro-kernels' fused multiply-add chains, and the 2 x 2 max pooling
 * of narrow planes on AVX-512 (pool.c: a permute whose lanes depend on the plane's width).
 * Why every tier gives the same bits: lanes are independent IEEE single operations, each
 * rounded (-ffp-contract=off forbids fusing a multiply into an add), and a kernel fixes which
 * lane accumulates what independently of NB__VL (a sum of 16 lanes is 16 / NB__VL vectors),
 * so only the speed depends on the CPU.
 */
#ifndef NB_SIMD_H
#define NB_SIMD_H

#include "cpu.h"
#include "ops.h"

#include <string.h>

/* Vectors pass by pointer, never by value: a by-value vector changes the calling convention
 * between instruction sets (GCC's -Wpsabi), and these are always inlined. */
#define NB__INLINE static inline __attribute__((always_inline))

/* ---- the register-wide vectors, one set per width W (floats per vector): nb__vfW (W
 * floats), nb__viW (W int32), nb__vdW (W / 2 doubles: as many bytes), nb__vhW (W / 2 floats:
 * what converts to nb__vdW), nb__vbW (W bytes: what widens to nb__viW), nb__vfuW (W floats at
 * any address, aligned to 4, may alias floats), nb__viuW (the same for int32). A kernel
 * names them through the tier's nb__vf, nb__vi, nb__vd, nb__vh, nb__vb below. */
#define NB__VTYPES(W)                                                                       \
    typedef float nb__vf##W __attribute__((vector_size(4 * W)));                            \
    typedef int32_t nb__vi##W __attribute__((vector_size(4 * W)));                          \
    typedef double nb__vd##W __attribute__((vector_size(4 * W)));                           \
    typedef float nb__vh##W __attribute__((vector_size(2 * W)));                            \
    typedef uint8_t nb__vb##W __attribute__((vector_size(W)));                              \
    typedef float nb__vfu##W __attribute__((vector_size(4 * W), aligned(4), may_alias));   \
    typedef int32_t nb__viu##W __attribute__((vector_size(4 * W), aligned(4), may_alias))
NB__VTYPES(4);
NB__VTYPES(8);
NB__VTYPES(16);

#define NB__CAT_(a, b) a##b
#define NB__CAT(a, b) NB__CAT_(a, b)
/* Inside a kernel header (simd_tiers.h defines NB__VL and NB__TIER_NAME for each pass): */
#define nb__vf NB__CAT(nb__vf, NB__VL)
#define nb__vi NB__CAT(nb__vi, NB__VL)
#define nb__vd NB__CAT(nb__vd, NB__VL)
#define nb__vh NB__CAT(nb__vh, NB__VL)
#define nb__vb NB__CAT(nb__vb, NB__VL)
/* NB__VL floats at p as an lvalue to read or assign: the form compilers keep in registers */
#define NB__VF(p) (*(NB__CAT(nb__vfu, NB__VL) *)(void *)(p))
#define NB__VFC(p) (*(const NB__CAT(nb__vfu, NB__VL) *)(const void *)(p))
#define NB__VI(p) (*(NB__CAT(nb__viu, NB__VL) *)(void *)(p)) /* the same for NB__VL int32 */
#define NB__VIC(p) (*(const NB__CAT(nb__viu, NB__VL) *)(const void *)(p))
/* v (a float vector) where mask m's lanes are all ones, +0 where they are 0: bits, no arithmetic */
#define NB__VAND(v, m) ((nb__vf)((nb__vi)(v) & (m)))
/* the first n (<= NB__VL) floats (or int32: typed by v and p) at p into v, the other lanes
 * 0; and back. Lane by lane, not through a buffer (a wide load of narrow stores stalls store
 * forwarding): for ragged ends. */
#define NB__VF_LOAD_PART(v, p, n)                                                           \
    do {                                                                                    \
        __typeof__(v) t_ = {0};                                                                  \
        for (size_t l_ = 0; l_ < (n); l_++) t_[l_] = (p)[l_];                               \
        (v) = t_;                                                                           \
    } while (0)
#define NB__VF_STORE_PART(p, v, n)                                                          \
    do {                                                                                    \
        for (size_t l_ = 0; l_ < (n); l_++) (p)[l_] = (v)[l_];                              \
    } while (0)
/* Lanes of two vectors a, b (a's lanes first) by constant shuffles: the even ones, the odd
 * ones; and back, a and b interleaved, the lower NB__VL lanes then the upper */
#define NB__VEVEN(a, b) NB__CAT(NB__VEVEN, NB__VL)(a, b)
#define NB__VODD(a, b) NB__CAT(NB__VODD, NB__VL)(a, b)
#define NB__VZIPLO(a, b) NB__CAT(NB__VZIPLO, NB__VL)(a, b)
#define NB__VZIPHI(a, b) NB__CAT(NB__VZIPHI, NB__VL)(a, b)
#define NB__VEVEN4(a, b) __builtin_shufflevector(a, b, 0, 2, 4, 6)
#define NB__VODD4(a, b) __builtin_shufflevector(a, b, 1, 3, 5, 7)
#define NB__VZIPLO4(a, b) __builtin_shufflevector(a, b, 0, 4, 1, 5)
#define NB__VZIPHI4(a, b) __builtin_shufflevector(a, b, 2, 6, 3, 7)
#define NB__VEVEN8(a, b) __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14)
#define NB__VODD8(a, b) __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15)
#define NB__VZIPLO8(a, b) __builtin_shufflevector(a, b, 0, 8, 1, 9, 2, 10, 3, 11)
#define NB__VZIPHI8(a, b) __builtin_shufflevector(a, b, 4, 12, 5, 13, 6, 14, 7, 15)
#define NB__VEVEN16(a, b) __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30)
#define NB__VODD16(a, b) __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31)
#define NB__VZIPLO16(a, b) __builtin_shufflevector(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23)
#define NB__VZIPHI16(a, b) __builtin_shufflevector(a, b, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31)
/* the NB__VL / 2 floats at p as doubles: an initializer, which GCC 12 compiles to one
 * conversion (its __builtin_convertvector splits a widening into halves and inserts) */
#define NB__VD_LOAD(p) NB__CAT(NB__VD_LOAD, NB__VL)(p)
#define NB__VD_LOAD4(p) ((nb__vd4){(double)(p)[0], (double)(p)[1]})
#define NB__VD_LOAD8(p) ((nb__vd8){(double)(p)[0], (double)(p)[1], (double)(p)[2], (double)(p)[3]})
#define NB__VD_LOAD16(p)                                                                    \
    ((nb__vd16){(double)(p)[0], (double)(p)[1], (double)(p)[2], (double)(p)[3],             \
                (double)(p)[4], (double)(p)[5], (double)(p)[6], (double)(p)[7]})
/* name##_avx512, name##_avx2 or name##_generic: a kernel function's name in this pass */
#define NB__T(name) NB__CAT(name##_, NB__TIER_NAME)
/* a kernel (NB__TIER_FN) and its helpers (NB__TIER_INLINE), compiled for the pass's tier */
#define NB__TIER_FN static NB__TIER_ATTR
#define NB__TIER_INLINE static inline __attribute__((always_inline)) NB__TIER_ATTR

/* NB__SIMD_PICK(name), after simd_tiers.h: name##_fn, a pointer to the kernel, and
 * name##_pick() returning the copy of the tier in force */
#ifdef NB__HAVE_X86_VARIANTS
#define NB__SIMD_PICK(name)                                                                 \
    typedef __typeof__(&name##_generic) name##_fn;                                          \
    static name##_fn name##_pick(void)                                                      \
    {                                                                                       \
        nb__isa i_ = nb__cpu_isa();                                                         \
        return i_ == NB__ISA_AVX512 ? name##_avx512 : i_ == NB__ISA_AVX2 ? name##_avx2 : name##_generic; \
    }
#else
#define NB__SIMD_PICK(name)                                                                 \
    typedef __typeof__(&name##_generic) name##_fn;                                          \
    static name##_fn name##_pick(void) { return name##_generic; }
#endif

#endif
