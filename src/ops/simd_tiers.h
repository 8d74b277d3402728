/* SPDX-License-Identifier: MIT */
/*
 * simd_tiers.h - compiles a file's SIMD kernels once per CPU tier (simd.h says how they are
 * written). A kernel file defines NB__SIMD_BODY, the header holding its kernels (a path from
 * src/ops/), includes this once, then names each kernel's copies with NB__SIMD_PICK. This
 * file includes itself once per tier (NB__TIER_PASS: 2 AVX-512, 1 AVX2, 0 generic), and each
 * pass defines NB__VL (floats per register), NB__TIER_NAME, NB__TIER_ATTR, nb__tier (the
 * pass's tier, a constant) and the only intrinsics of the kernels, for what vector extensions
 * cannot say (see below).
 */
#ifndef NB__TIER_PASS
#ifndef NB__SIMD_BODY
#error "simd_tiers.h: define NB__SIMD_BODY, the header of the kernels"
#endif
#ifdef NB__HAVE_X86_VARIANTS
#include <immintrin.h>
#define NB__TIER_PASS 2
#include "simd_tiers.h"
#undef NB__TIER_PASS
#define NB__TIER_PASS 1
#include "simd_tiers.h"
#undef NB__TIER_PASS
#endif
#define NB__TIER_PASS 0
#include "simd_tiers.h"
#undef NB__TIER_PASS

#else /* one pass. The tier's operations:
 * NB__VSQRT(v): the square root of each lane (no vector operator, and sqrtf's errno keeps
 *     compilers from vectorising a per-lane loop);
 * NB__VNLE_BITS(a, b): the lanes where !(a <= b), a > b or either NaN, as the bits of an
 *     unsigned, lane 0 lowest (vector extensions have no mask-to-bits operation);
 * NB__VMASK_OF_BITS(b): back, lane l all ones where bit l of b is set (GCC does not see that
 *     a test of lane bits is one AVX-512 mask move);
 * NB__VF_OF_BYTES(p): the NB__VL bytes at p as floats (GCC 12 widens a byte vector lane by
 *     lane, however written);
 * NB__VF_LOAD_N(v, p, n), NB__VI_LOAD_N: the first n (<= NB__VL) floats or int32 at p into v,
 *     the other lanes 0, reading nothing past them (masked where the tier has it);
 *     NB__VF_STORE_N(p, v, n), NB__VI_STORE_N: v's first n lanes to p, writing nothing else;
 * NB__VD_FMA(x, y, a): doubles x y + a, fused where the tier has FMA, which -ffp-contract=off
 *     forbids the compilers to form: only for products exact in double (as of two floats),
 *     where fused and unfused give the same bits. */
#if NB__TIER_PASS == 2
#define NB__VL 16
#define NB__TIER_NAME avx512
#define NB__TIER_ATTR NB__TARGET_AVX512
#define nb__tier NB__ISA_AVX512
#define NB__VSQRT(v) ((nb__vf16)_mm512_sqrt_ps((__m512)(v)))
#define NB__VNLE_BITS(a, b) ((unsigned)_mm512_cmp_ps_mask((__m512)(a), (__m512)(b), _CMP_NLE_UQ))
#define NB__VMASK_OF_BITS(b) ((nb__vi16)_mm512_movm_epi32((__mmask16)(b)))
#define NB__VF_OF_BYTES(p) ((nb__vf16)_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(const void *)(p)))))
#define NB__VD_FMA(x, y, a) ((nb__vd16)_mm512_fmadd_pd((__m512d)(x), (__m512d)(y), (__m512d)(a)))
#define NB__VK16(n) ((__mmask16)((1u << (n)) - 1))
#define NB__VF_LOAD_N(v, p, n) ((v) = (nb__vf16)_mm512_maskz_loadu_ps(NB__VK16(n), p))
#define NB__VI_LOAD_N(v, p, n) ((v) = (nb__vi16)_mm512_maskz_loadu_epi32(NB__VK16(n), p))
#define NB__VF_STORE_N(p, v, n) _mm512_mask_storeu_ps(p, NB__VK16(n), (__m512)(v))
#define NB__VI_STORE_N(p, v, n) _mm512_mask_storeu_epi32(p, NB__VK16(n), (__m512i)(v))

#elif NB__TIER_PASS == 1
#define NB__VL 8
#define NB__TIER_NAME avx2
#define NB__TIER_ATTR NB__TARGET_AVX2
#define nb__tier NB__ISA_AVX2
#define NB__VSQRT(v) ((nb__vf8)_mm256_sqrt_ps((__m256)(v)))
#define NB__VNLE_BITS(a, b) ((unsigned)_mm256_movemask_ps(_mm256_cmp_ps((__m256)(a), (__m256)(b), _CMP_NLE_UQ)))
#define NB__VMASK_OF_BITS(b) (((nb__vi8){1, 2, 4, 8, 16, 32, 64, 128} & (int32_t)(b)) != 0)
#define NB__VF_OF_BYTES(p) ((nb__vf8)_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)(p)))))
#define NB__VD_FMA(x, y, a) ((nb__vd8)_mm256_fmadd_pd((__m256d)(x), (__m256d)(y), (__m256d)(a)))
#define NB__VK8(n) ((__m256i)((nb__vi8){0, 1, 2, 3, 4, 5, 6, 7} < (int32_t)(n)))
#define NB__VF_LOAD_N(v, p, n) ((v) = (nb__vf8)_mm256_maskload_ps(p, NB__VK8(n)))
#define NB__VI_LOAD_N(v, p, n) ((v) = (nb__vi8)_mm256_maskload_epi32((const int *)(const void *)(p), NB__VK8(n)))
#define NB__VF_STORE_N(p, v, n) _mm256_maskstore_ps(p, NB__VK8(n), (__m256)(v))
#define NB__VI_STORE_N(p, v, n) _mm256_maskstore_epi32((int *)(void *)(p), NB__VK8(n), (__m256i)(v))

#else /* the generic tier (x86-64's baseline SSE2, or the build's own elsewhere), no FMA */
#define NB__VL 4
#define NB__TIER_NAME generic
#define NB__TIER_ATTR
#define nb__tier NB__ISA_GENERIC
#define NB__VMASK_OF_BITS(b) (((nb__vi4){1, 2, 4, 8} & (int32_t)(b)) != 0)
#define NB__VD_FMA(x, y, a) ((x) * (y) + (a))
/* lanes by constant index (a variable one goes through memory: a stalled wide load), float or
 * int32 as v and p are; n is the same for every row of a plane, so its tests predict well */
#define NB__VF_LOAD_N(v, p, n)                                                                                       \
    ((v) = (__typeof__(v)){(n) > 0 ? (p)[0] : 0, (n) > 1 ? (p)[1] : 0, (n) > 2 ? (p)[2] : 0, (n) > 3 ? (p)[3] : 0})
#define NB__VI_LOAD_N(v, p, n) NB__VF_LOAD_N(v, p, n)
#define NB__VF_STORE_N(p, v, n)                                                                                      \
    do {                                                                                                             \
        if ((n) > 0) (p)[0] = (v)[0];                                                                                \
        if ((n) > 1) (p)[1] = (v)[1];                                                                                \
        if ((n) > 2) (p)[2] = (v)[2];                                                                                \
        if ((n) > 3) (p)[3] = (v)[3];                                                                                \
    } while (0)
#define NB__VI_STORE_N(p, v, n) NB__VF_STORE_N(p, v, n)
#ifdef NB__HAVE_X86_VARIANTS
NB__INLINE nb__vf4 nb__vf4_of_bytes(const uint8_t *p)
{
    int32_t w;
    memcpy(&w, p, sizeof w);
    __m128i z = _mm_setzero_si128(), b = _mm_cvtsi32_si128(w);
    return (nb__vf4)_mm_cvtepi32_ps(_mm_unpacklo_epi16(_mm_unpacklo_epi8(b, z), z));
}
#define NB__VSQRT(v) ((nb__vf4)_mm_sqrt_ps((__m128)(v)))
#define NB__VNLE_BITS(a, b) ((unsigned)_mm_movemask_ps(_mm_cmpnle_ps((__m128)(a), (__m128)(b))))
#define NB__VF_OF_BYTES(p) nb__vf4_of_bytes(p)
#else /* lane by lane where no operator exists */
#include <math.h>
NB__INLINE nb__vf4 nb__vf4_sqrt(nb__vf4 v)
{
    for (int l = 0; l < 4; l++) v[l] = sqrtf(v[l]);
    return v;
}
NB__INLINE unsigned nb__vf4_nle_bits(nb__vf4 a, nb__vf4 b)
{
    unsigned m = 0;
    for (int l = 0; l < 4; l++) m |= (unsigned)!(a[l] <= b[l]) << l;
    return m;
}
#define NB__VSQRT(v) nb__vf4_sqrt(v)
#define NB__VNLE_BITS(a, b) nb__vf4_nle_bits(a, b)
#define NB__VF_OF_BYTES(p) ((nb__vf4){(float)(p)[0], (float)(p)[1], (float)(p)[2], (float)(p)[3]})
#endif
#endif

#include NB__SIMD_BODY
#undef NB__VL
#undef NB__TIER_NAME
#undef NB__TIER_ATTR
#undef nb__tier
#undef NB__VSQRT
#undef NB__VNLE_BITS
#undef NB__VMASK_OF_BITS
#undef NB__VF_OF_BYTES
#undef NB__VD_FMA
#undef NB__VF_LOAD_N
#undef NB__VI_LOAD_N
#undef NB__VF_STORE_N
#undef NB__VI_STORE_N
#endif
