/* SPDX-License-Identifier: MIT */
/*
 * gemm_pack.c - copying blocks of A and B into the panel layout the micro-kernels read
 * (gemm.h): row r of a panel at dst + r * width, padded with zeros to the panel's width, so
 * kernels never test for ragged edges inside their loops. Portable code; a kernel file may
 * supply a vectorised transposing packer and fall back to these for the edges.
 */
#include "gemm.h"

#include <string.h>

void nb__gemm_pack_rows(const float *src, size_t ld, size_t rows, size_t cols, size_t width, float *dst)
{
    for (size_t r = 0; r < rows; r++) {
        memcpy(dst + r * width, src + r * ld, cols * sizeof(float));
        if (width > cols) memset(dst + r * width + cols, 0, (width - cols) * sizeof(float));
    }
}

void nb__gemm_pack_cols_part(const float *src, size_t ld, size_t rows, size_t cols, size_t fill, float *dst,
                             size_t stride)
{
    if (cols <= 16) {
        /* narrow panels (A's, mr wide; B's last): a row of dst per step, gathered from cols
         * streams, zeros included; column-at-a-time writes would hit the same lines over
         * and over */
        for (size_t r = 0; r < rows; r++) {
            float *d = dst + r * stride;
            for (size_t c = 0; c < cols; c++) d[c] = src[c * ld + r];
            for (size_t c = cols; c < fill; c++) d[c] = 0.0f;
        }
        return;
    }
    /* wide panels: read along the source rows (contiguous); the strided writes stay inside
     * the panel, small enough to sit in L1/L2 */
    for (size_t c = 0; c < cols; c++) {
        const float *s = src + c * ld;
        for (size_t r = 0; r < rows; r++) dst[r * stride + c] = s[r];
    }
    if (fill > cols)
        for (size_t r = 0; r < rows; r++) memset(dst + r * stride + cols, 0, (fill - cols) * sizeof(float));
}

void nb__gemm_pack_cols(const float *src, size_t ld, size_t rows, size_t cols, size_t width, float *dst)
{
    nb__gemm_pack_cols_part(src, ld, rows, cols, width, dst, width);
}
