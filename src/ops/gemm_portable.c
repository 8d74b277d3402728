/* SPDX-License-Identifier: MIT */
/*
 * gemm_portable.c - the micro-kernel in plain C for CPUs without AVX2 / AVX-512: a 6 x 8
 * tile the compiler vectorises with whatever the baseline offers. Where the target has a
 * hardware fused multiply-add (FP_FAST_FMAF, e.g. AArch64) it uses fmaf and gives exactly the
 * bits of the SIMD kernels; elsewhere fmaf would be a slow library call, so it multiplies and
 * adds (deterministic still, but not bit-identical to the FMA kernels).
 */
#include "gemm.h"

#include <math.h>

#define MR 6
#define NR 8

#ifdef FP_FAST_FMAF
#define MADD(a, b, c) fmaf((a), (b), (c))
#else
#define MADD(a, b, c) ((c) + (a) * (b))
#endif

static void ukernel(size_t kc, const float *a, const float *b, size_t ldb, float *c, size_t ldc, size_t m,
                    size_t n, float alpha, float beta)
{
    float acc[MR][NR] = {{0.0f}};
    /* n <= NR: padded panels let every row run to the full width for free */
    for (size_t k = 0; k < kc; k++) {
        for (int r = 0; r < MR; r++)
            for (int j = 0; j < NR; j++) acc[r][j] = MADD(a[r], b[j], acc[r][j]);
        a += MR;
        b += ldb;
    }
    for (size_t r = 0; r < m; r++) {
        float *cr = c + r * ldc;
        for (size_t j = 0; j < n; j++) {
            float t = alpha * acc[r][j];
            if (beta == 0.0f) cr[j] = t;
            else if (beta == 1.0f) cr[j] = cr[j] + t;
            else cr[j] = beta * cr[j] + t;
        }
    }
}

/* vw = NR: every panel is a full 8 wide (zero-padded), so the kernel can always read 8; 6 x 8
 * accumulators fit the 16 SSE registers with room for B and A (measured: 4x faster than 4 x 16) */
static const nb__gemm_kernel KPORT = {"portable", MR, NR, NR, 960, ukernel, nb__gemm_pack_rows, nb__gemm_pack_cols};

const nb__gemm_kernel *nb__gemm_kernel_portable(void)
{
    return &KPORT;
}
