/* SPDX-License-Identifier: MIT */
/*
 * gemm_avx512.c - the AVX-512 micro-kernel: an 8 x 48 tile of C in 24 zmm accumulators; per k
 * three vectors of B are loaded and each of the 8 values of A is broadcast into three FMAs
 * (24 FMAs to 11 loads keeps both FMA ports busy). Narrower panels (16 or 32 columns) use the
 * same code with fewer vectors; the last vector's columns and the rows beyond m are masked.
 * Compiled for AVX-512 by function attributes only (cpu.h), so the build stays portable; the
 * driver runs it on the AVX512 tier. Why intrinsics here, not simd.h's vector extensions:
 * each element of C is an FMA chain (gemm.h) and the extensions have no fused multiply-add
 * (-ffp-contract=off, which keeps the other kernels' bits fixed, forbids the compiler to
 * fuse); the micro-kernels (this file, gemm_avx2.c, gemm_small.c) are the one place they are
 * used for that.
 */
#include "gemm.h"

#ifdef NB__HAVE_X86_VARIANTS
#include <immintrin.h>
#include <stdint.h>

#define NB_AVX512 NB__TARGET_AVX512
#define MR 8
#define VW 16
#define PF_ROWS 8 /* B rows fetched ahead: the panels stream from L2 faster than the
                   * hardware prefetcher alone brings them (measured: ~10% on 1024^3) */

/* the tile with NV vectors per row (a constant after inlining, so the accumulators stay in
 * registers); one FMA chain per element, in k order: see gemm.h */
static inline __attribute__((always_inline)) NB_AVX512 void tile(size_t kc, const float *a, const float *b,
                                                               size_t ldb, float *c, size_t ldc, size_t m,
                                                               size_t n, float alpha, float beta, const int NV)
{
    __m512 acc[MR][3];
    for (int r = 0; r < MR; r++)
        for (int v = 0; v < NV; v++) acc[r][v] = _mm512_setzero_ps();
    /* the C tile's lines are needed only at the end: start fetching them now */
    for (int r = 0; r < MR && (size_t)r < m; r++)
        for (int v = 0; v < NV; v++) _mm_prefetch((const char *)(c + (size_t)r * ldc + v * VW), _MM_HINT_T0);
    /* an address, not a pointer into the panel: it may lie past its end (prefetches of any
     * address are harmless; pointer arithmetic past an array is not) */
    const uintptr_t pf = PF_ROWS * ldb * sizeof(float);
    for (size_t k = 0; k < kc; k++) {
        __m512 bv[3];
        for (int v = 0; v < NV; v++) _mm_prefetch((const char *)((uintptr_t)(b + v * VW) + pf), _MM_HINT_T0);
        for (int v = 0; v < NV; v++) bv[v] = _mm512_loadu_ps(b + v * VW);
        for (int r = 0; r < MR; r++) {
            __m512 ar = _mm512_set1_ps(a[r]);
            for (int v = 0; v < NV; v++) acc[r][v] = _mm512_fmadd_ps(ar, bv[v], acc[r][v]);
        }
        a += MR;
        b += ldb;
    }
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    size_t rest = n - (size_t)(NV - 1) * VW; /* 1..16 columns in the last vector */
    const __mmask16 last = (__mmask16)(rest >= 16 ? 0xFFFFu : (1u << rest) - 1u);
    for (int r = 0; r < MR; r++) { /* no early exit: constant indices keep acc in registers */
        if ((size_t)r >= m) continue;
        float *cr = c + (size_t)r * ldc;
        for (int v = 0; v < NV; v++) {
            __mmask16 mk = v == NV - 1 ? last : (__mmask16)0xFFFF;
            __m512 t = _mm512_mul_ps(va, acc[r][v]);
            if (beta != 0.0f) {
                __m512 cv = _mm512_maskz_loadu_ps(mk, cr + v * VW);
                if (beta != 1.0f) cv = _mm512_mul_ps(vb, cv);
                t = _mm512_add_ps(cv, t);
            }
            _mm512_mask_storeu_ps(cr + v * VW, mk, t);
        }
    }
}

static NB_AVX512 void ukernel(size_t kc, const float *a, const float *b, size_t ldb, float *c, size_t ldc,
                              size_t m, size_t n, float alpha, float beta)
{
    if (n > 2 * VW) tile(kc, a, b, ldb, c, ldc, m, n, alpha, beta, 3);
    else if (n > VW) tile(kc, a, b, ldb, c, ldc, m, n, alpha, beta, 2);
    else tile(kc, a, b, ldb, c, ldc, m, n, alpha, beta, 1);
}

/* Row pack (panel row r = src row r): masked loads give the zero padding for free. Widths
 * 16, 32, 48 (B's panels) and 8 (A's panels); others take the generic code. */
static NB_AVX512 void pack_rows(const float *src, size_t ld, size_t rows, size_t cols, size_t width, float *dst)
{
    if (width == MR) {
        __mmask8 mk = (__mmask8)((1u << cols) - 1u); /* cols <= 8 */
        for (size_t r = 0; r < rows; r++) _mm256_storeu_ps(dst + r * MR, _mm256_maskz_loadu_ps(mk, src + r * ld));
        return;
    }
    if (width % VW != 0 || width > 3 * VW) {
        nb__gemm_pack_rows(src, ld, rows, cols, width, dst);
        return;
    }
    size_t nv = width / VW;
    for (size_t r = 0; r < rows; r++)
        for (size_t v = 0; v < nv; v++) {
            size_t c0 = v * VW, n = cols > c0 ? cols - c0 : 0;
            __mmask16 mk = (__mmask16)(n >= VW ? 0xFFFFu : (1u << n) - 1u);
            _mm512_storeu_ps(dst + r * width + c0, _mm512_maskz_loadu_ps(mk, src + r * ld + c0));
        }
}

/* Transposing pack (panel row r, column c = src[c * ld + r]) by 16 x 16 blocks: 16 row loads,
 * an in-register transpose, 16 row stores; the ragged edges go through the generic code. */
static NB_AVX512 void transpose16(const float *src, size_t ld, float *dst, size_t width)
{
    __m512 r[16], t[16];
    for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(src + (size_t)i * ld);
    for (int i = 0; i < 16; i += 2) { /* interleave pairs of rows: 32-bit elements */
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) /* 64-bit elements */
        for (int j = 0; j < 2; j++) {
            __m512d x = _mm512_castps_pd(t[i + j]), y = _mm512_castps_pd(t[i + j + 2]);
            r[i + j] = _mm512_castpd_ps(_mm512_unpacklo_pd(x, y));
            r[i + j + 2] = _mm512_castpd_ps(_mm512_unpackhi_pd(x, y));
        }
    for (int i = 0; i < 16; i += 8) /* 128-bit lanes */
        for (int j = 0; j < 4; j++) {
            t[i + j] = _mm512_shuffle_f32x4(r[i + j], r[i + j + 4], 0x88);
            t[i + j + 4] = _mm512_shuffle_f32x4(r[i + j], r[i + j + 4], 0xDD);
        }
    for (int j = 0; j < 8; j++) { /* 256-bit halves */
        r[j] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0x88);
        r[j + 8] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0xDD);
    }
    /* r[q] now holds element order[q] of the 16 source rows (the pairs 1,2 of each group of
     * four come out swapped by the 64-bit stage) */
    static const int order[16] = {0, 2, 1, 3, 4, 6, 5, 7, 8, 10, 9, 11, 12, 14, 13, 15};
    for (int q = 0; q < 16; q++) _mm512_storeu_ps(dst + (size_t)order[q] * width, r[q]);
}

/* A's panels: 8 source rows (panel columns) into rows of 8, by 8 x 8 in-register transposes */
static NB_AVX512 void pack_cols8(const float *src, size_t ld, size_t rows, float *dst)
{
    size_t r8 = rows & ~(size_t)7;
    for (size_t r = 0; r < r8; r += 8) {
        __m256 x[8], t[8], s[8];
        for (int i = 0; i < 8; i++) x[i] = _mm256_loadu_ps(src + (size_t)i * ld + r);
        for (int i = 0; i < 8; i += 2) {
            t[i] = _mm256_unpacklo_ps(x[i], x[i + 1]);
            t[i + 1] = _mm256_unpackhi_ps(x[i], x[i + 1]);
        }
        for (int i = 0; i < 8; i += 4) {
            s[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
            s[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
            s[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
            s[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
        }
        for (int i = 0; i < 4; i++) { /* row r+i and r+4+i: low and high 128-bit halves */
            _mm256_storeu_ps(dst + (r + (size_t)i) * 8, _mm256_permute2f128_ps(s[i], s[i + 4], 0x20));
            _mm256_storeu_ps(dst + (r + 4 + (size_t)i) * 8, _mm256_permute2f128_ps(s[i], s[i + 4], 0x31));
        }
    }
    for (size_t r = r8; r < rows; r++)
        for (size_t c = 0; c < 8; c++) dst[r * 8 + c] = src[c * ld + r];
}

static NB_AVX512 void pack_cols(const float *src, size_t ld, size_t rows, size_t cols, size_t width,
                                float *dst)
{
    if (cols == 8 && width == 8) {
        pack_cols8(src, ld, rows, dst);
        return;
    }
    size_t r16 = rows & ~(size_t)15, c16 = cols & ~(size_t)15;
    for (size_t c = 0; c < c16; c += 16)
        for (size_t r = 0; r < r16; r += 16) transpose16(src + c * ld + r, ld, dst + r * width + c, width);
    if (c16 < width) /* right columns and the zero padding, all rows */
        nb__gemm_pack_cols_part(src + c16 * ld, ld, rows, cols - c16, width - c16, dst + c16, width);
    if (r16 < rows) /* bottom rows of the full 16-column blocks */
        for (size_t r = r16; r < rows; r++)
            for (size_t c = 0; c < c16; c++) dst[r * width + c] = src[c * ld + r];
}

static const nb__gemm_kernel K512 = {"avx512", MR, 3 * VW, VW, 960, ukernel, pack_rows, pack_cols};

const nb__gemm_kernel *nb__gemm_kernel_avx512(void)
{
    return &K512;
}

#else

const nb__gemm_kernel *nb__gemm_kernel_avx512(void)
{
    return NULL;
}

#endif
