/*
 * gemm.c - the matrix product C = alpha op(A) op(B) + beta C, row-major.
 * With CBLAS (OpenBLAS) it forwards to cblas_sgemm; otherwise a cache-blocked kernel whose
 * inner loop runs along contiguous rows of B and C so the compiler vectorises it. The naive
 * triple loop nb__gemm_ref is the oracle both are tested against.
 */
#include "ops.h"

#ifdef NB_HAVE_CBLAS
#include <cblas.h>
#endif

#define AT(P, ld, t, i, j) ((t) ? (P)[(size_t)(j) * (ld) + (i)] : (P)[(size_t)(i) * (ld) + (j)])

void nb__gemm_ref(int trans_a, int trans_b, size_t M, size_t N, size_t K, float alpha,
                  const float *A, size_t lda, const float *B, size_t ldb, float beta, float *C,
                  size_t ldc)
{
    for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j < N; j++) {
            double s = 0.0;
            for (size_t k = 0; k < K; k++)
                s += (double)AT(A, lda, trans_a, i, k) * (double)AT(B, ldb, trans_b, k, j);
            float c = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
            C[i * ldc + j] = c + alpha * (float)s;
        }
}

static void scale_c(size_t M, size_t N, float beta, float *C, size_t ldc)
{
    for (size_t i = 0; i < M; i++) {
        float *c = C + i * ldc;
        if (beta == 0.0f)
            for (size_t j = 0; j < N; j++) c[j] = 0.0f; /* beta 0 ignores NaN in C, as BLAS */
        else if (beta != 1.0f)
            for (size_t j = 0; j < N; j++) c[j] *= beta;
    }
}

/* Blocked fallback: for each block of k, C[i, :] += alpha A[i, k] * B[k, :]. B^T is handled
 * by the dot-product form, which reads both operands contiguously. */
static void gemm_blocked(int ta, int tb, size_t M, size_t N, size_t K, float alpha,
                         const float *A, size_t lda, const float *B, size_t ldb, float *C,
                         size_t ldc)
{
    enum { KB = 256 };
    if (tb && !ta) {
        for (size_t i = 0; i < M; i++)
            for (size_t j = 0; j < N; j++) {
                const float *a = A + i * lda, *b = B + j * ldb;
                float s = 0.0f;
                for (size_t k = 0; k < K; k++) s += a[k] * b[k];
                C[i * ldc + j] += alpha * s;
            }
        return;
    }
    for (size_t k0 = 0; k0 < K; k0 += KB) {
        size_t k1 = k0 + KB < K ? k0 + KB : K;
        for (size_t i = 0; i < M; i++) {
            float *c = C + i * ldc;
            for (size_t k = k0; k < k1; k++) {
                float a = alpha * AT(A, lda, ta, i, k);
                if (!tb) {
                    const float *b = B + k * ldb;
                    for (size_t j = 0; j < N; j++) c[j] += a * b[j];
                } else {
                    for (size_t j = 0; j < N; j++) c[j] += a * B[j * ldb + k];
                }
            }
        }
    }
}

void nb__gemm(int trans_a, int trans_b, size_t M, size_t N, size_t K, float alpha,
              const float *A, size_t lda, const float *B, size_t ldb, float beta, float *C,
              size_t ldc)
{
    if (M == 0 || N == 0) return;
#ifdef NB_HAVE_CBLAS
    if (K > 0 && M < INT32_MAX && N < INT32_MAX && K < INT32_MAX && lda < INT32_MAX &&
        ldb < INT32_MAX && ldc < INT32_MAX) {
        cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                    trans_b ? CblasTrans : CblasNoTrans, (int)M, (int)N, (int)K, alpha, A,
                    (int)lda, B, (int)ldb, beta, C, (int)ldc);
        return;
    }
#endif
    nb__gemm_builtin(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void nb__gemm_builtin(int trans_a, int trans_b, size_t M, size_t N, size_t K, float alpha,
                      const float *A, size_t lda, const float *B, size_t ldb, float beta,
                      float *C, size_t ldc)
{
    scale_c(M, N, beta, C, ldc);
    gemm_blocked(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, C, ldc);
}
