/* SPDX-License-Identifier: MIT */
/*
 * gemm_avx2.c - the AVX2 + FMA micro-kernel: a 6 x 16 tile of C in 12 ymm accumulators; per k
 * two vectors of B are loaded and each of the 6 values of A broadcast into two FMAs. Panels of
 * 8 columns use one vector; the last vector's columns are masked. Compiled for AVX2/FMA by
 * function attributes only (cpu.h); the driver runs it on the AVX2 tier. Its arithmetic per
 * element is the AVX-512 kernel's, so both give the same bits (intrinsics: gemm_avx512.c
 * says why).
 */
#include "gemm.h"

#ifdef NB__HAVE_X86_VARIANTS
#include <immintrin.h>

#define NB_AVX2 NB__TARGET_AVX2
#define MR 6
#define VW 8
#define PF_ROWS 8 /* B rows fetched ahead, as in the AVX-512 kernel */

#include <stdint.h>

/* c = alpha t (+ beta c) for the m x n corner of a tile t held as MR rows of 2 VW floats */
static __attribute__((noinline)) NB_AVX2 void epilogue(const float *t, float *c, size_t ldc, size_t m, size_t n,
                                                     float alpha, float beta, int NV)
{
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    int rest = (int)(n - (size_t)(NV - 1) * VW); /* 1..8 columns in the last vector */
    const __m256i all = _mm256_set1_epi32(-1);
    const __m256i last = _mm256_cmpgt_epi32(_mm256_set1_epi32(rest), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    for (size_t r = 0; r < m; r++) {
        float *cr = c + r * ldc;
        for (int v = 0; v < NV; v++) {
            __m256i mk = v == NV - 1 ? last : all;
            __m256 x = _mm256_mul_ps(va, _mm256_loadu_ps(t + ((int)r * 2 + v) * VW));
            if (beta != 0.0f) {
                __m256 cv = _mm256_maskload_ps(cr + v * VW, mk);
                if (beta != 1.0f) cv = _mm256_mul_ps(vb, cv);
                x = _mm256_add_ps(cv, x);
            }
            _mm256_maskstore_ps(cr + v * VW, mk, x);
        }
    }
}

/* the tile with NV vectors per row (a constant after inlining). Named accumulators, not an
 * array: gcc kept an array's copy in memory, a store per FMA */
#define ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
static inline __attribute__((always_inline)) NB_AVX2 void tile(size_t kc, const float *a, const float *b,
                                                             size_t ldb, float *c, size_t ldc, size_t m,
                                                             size_t n, float alpha, float beta, const int NV)
{
#define DECL(r) __m256 c##r##0 = _mm256_setzero_ps(), c##r##1 = _mm256_setzero_ps();
    ROWS(DECL)
    for (int r = 0; r < MR && (size_t)r < m; r++) _mm_prefetch((const char *)(c + (size_t)r * ldc), _MM_HINT_T0);
    const uintptr_t pf = PF_ROWS * ldb * sizeof(float); /* an address only: see gemm_avx512.c */
    for (size_t k = 0; k < kc; k++) {
        _mm_prefetch((const char *)((uintptr_t)b + pf), _MM_HINT_T0);
        __m256 b0 = _mm256_loadu_ps(b), b1 = NV > 1 ? _mm256_loadu_ps(b + VW) : b0;
#define STEP(r)                                                                                    \
    {                                                                                              \
        __m256 ar = _mm256_broadcast_ss(a + r);                                                    \
        c##r##0 = _mm256_fmadd_ps(ar, b0, c##r##0);                                                \
        if (NV > 1) c##r##1 = _mm256_fmadd_ps(ar, b1, c##r##1);                                    \
    }
        ROWS(STEP)
        a += MR;
        b += ldb;
    }
    /* the epilogue in its own function, from memory: its constants would otherwise compete
     * for the 16 ymm registers */
    float tile_out[MR * 2 * VW];
#define SAVE(r)                                                                                    \
    _mm256_storeu_ps(tile_out + (r * 2) * VW, c##r##0);                                            \
    _mm256_storeu_ps(tile_out + (r * 2 + 1) * VW, c##r##1);
    ROWS(SAVE)
    epilogue(tile_out, c, ldc, m, n, alpha, beta, NV);
#undef DECL
#undef STEP
#undef SAVE
}

static NB_AVX2 void ukernel(size_t kc, const float *a, const float *b, size_t ldb, float *c, size_t ldc,
                            size_t m, size_t n, float alpha, float beta)
{
    if (n > VW) tile(kc, a, b, ldb, c, ldc, m, n, alpha, beta, 2);
    else tile(kc, a, b, ldb, c, ldc, m, n, alpha, beta, 1);
}

static const nb__gemm_kernel K2 = {"avx2", MR, 2 * VW, VW, 960, ukernel, nb__gemm_pack_rows, nb__gemm_pack_cols};

const nb__gemm_kernel *nb__gemm_kernel_avx2(void)
{
    return &K2;
}

#else

const nb__gemm_kernel *nb__gemm_kernel_avx2(void)
{
    return NULL;
}

#endif
