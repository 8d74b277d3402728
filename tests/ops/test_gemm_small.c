/* SPDX-License-Identifier: MIT */
/*
 * test_gemm_small.c - the unpacked path for small products (src/ops/gemm_small.c): which
 * shapes take which form; the axpy form gives exactly the packed kernels' bits; the dot form
 * gives exactly its documented 16-lane sum (gemm.h), the same on AVX-512 and AVX2; both
 * against the double-precision oracle with every kernel this CPU runs, including the ragged
 * edges (columns beyond a vector, K beyond the 256 block, padded leading dimensions, alpha
 * and beta). test_gemm.c's shape table covers the small forms too, through nb__gemm_builtin.
 */
#include "nabla.h"
#include "check.h"
#include "../../src/ops/gemm.h"

#include <math.h>
#include <stdlib.h>

static const nb__isa IMPLS[] = {NB__ISA_GENERIC, NB__ISA_AVX2, NB__ISA_AVX512};
static const char *const IMPL_NAMES[] = {"portable", "avx2", "avx512"};

static float *randn(size_t n, nb_rng *r)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    for (size_t i = 0; i < n; i++) p[i] = nb_rng_normal(r);
    return p;
}

static void test_forms(void)
{
    /* the batch-1 shapes of a dense layer 784 -> 10: forward x W^T, weight gradient dy^T x */
    CHECK(nb__gemm_small_form(0, 1, 1, 10, 784) == NB__GEMM_DOT);
    CHECK(nb__gemm_small_form(1, 0, 10, 784, 1) == NB__GEMM_AXPY);
    CHECK(nb__gemm_small_form(0, 0, 1, 784, 10) == NB__GEMM_AXPY); /* the input's gradient */
    CHECK(nb__gemm_small_form(0, 1, 2, 10, 784) == NB__GEMM_PACKED); /* dot: one row only */
    CHECK(nb__gemm_small_form(0, 1, 64, 3, 20) == NB__GEMM_PACKED);
    CHECK(nb__gemm_small_form(0, 1, 64, 10, 128) == NB__GEMM_PACKED);
    CHECK(nb__gemm_small_form(0, 0, 64, 128, 10) == NB__GEMM_AXPY);   /* K <= 16 */
    CHECK(nb__gemm_small_form(0, 0, 32, 256, 100) == NB__GEMM_PACKED); /* packing pays */
    CHECK(nb__gemm_small_form(1, 1, 1, 10, 784) == NB__GEMM_PACKED);
    CHECK(nb__gemm_small_form(1, 0, 10, 784, 0) == NB__GEMM_PACKED);
    CHECK(nb__gemm_small_form(1, 0, 256, 784, 64) == NB__GEMM_PACKED); /* threaded work */
    CHECK(nb__gemm_small_form(0, 0, 1, 1024, 1024) == NB__GEMM_PACKED);  /* exactly 2^20 */
    CHECK(nb__gemm_small_form(0, 0, 1, 1023, 1024) == NB__GEMM_AXPY);
    CHECK(nb__gemm_small_form(0, 1, (size_t)1 << 40, (size_t)1 << 40, 1) == NB__GEMM_PACKED);
}

/* The axpy form keeps the packed chain: the first M rows of C for op(A) (M, K) equal those of
 * the product with Mbig >= M rows sharing them (big enough to be packed), bit for bit. */
static void test_axpy_bits(void)
{
    static const size_t shapes[][3] = {{1, 784, 1}, {10, 784, 1}, {4, 2, 1}, {3, 33, 7}, {5, 49, 300},
                                       {2, 130, 513}, {9, 16, 12}, {1, 1000, 20}, {40, 7, 16}};
    nb_rng r;
    nb_rng_seed(&r, 31);
    nb_set_threads(1);
    for (int ki = 0; ki < 3; ki++) {
        if (nb__cpu_use(IMPLS[ki]) != NB_OK) continue;
        int bad = 0;
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            for (int ta = 0; ta < 2; ta++) {
                size_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
                size_t Mb = M + NB__GEMM_SMALL_MAX_FMAS / (N * K) + 1, lda = ta ? Mb + 1 : K + 2, ldb = N + 3;
                CHECK(nb__gemm_small_form(ta, 0, M, N, K) == NB__GEMM_AXPY);
                CHECK(nb__gemm_small_form(ta, 0, Mb, N, K) == NB__GEMM_PACKED);
                float *A = randn((ta ? K : Mb) * lda, &r), *B = randn(K * ldb, &r);
                float *C0 = randn(Mb * N, &r), *Cs = malloc(Mb * N * sizeof *Cs), *Cb = malloc(Mb * N * sizeof *Cb);
                const float ab[3][2] = {{1.0f, 0.0f}, {0.5f, 1.0f}, {-2.0f, 0.25f}};
                float alpha = ab[s % 3][0], beta = ab[s % 3][1];
                memcpy(Cs, C0, Mb * N * sizeof *Cs), memcpy(Cb, C0, Mb * N * sizeof *Cb);
                nb__gemm_builtin(ta, 0, M, N, K, alpha, A, lda, B, ldb, beta, Cs, N);
                nb__gemm_builtin(ta, 0, Mb, N, K, alpha, A, lda, B, ldb, beta, Cb, N);
                int same = memcmp(Cs, Cb, M * N * sizeof *Cs) == 0;
                same &= memcmp(Cs + M * N, C0 + M * N, (Mb - M) * N * sizeof *Cs) == 0; /* rows below: untouched */
                if (!same && bad++ < 3)
                    fprintf(stderr, "  %s axpy ta=%d M=%zu N=%zu K=%zu differs from the packed path\n",
                            IMPL_NAMES[ki], ta, M, N, K);
                free(A), free(B), free(C0), free(Cs), free(Cb);
            }
        CHECK(bad == 0);
    }
    nb__cpu_use(NB__ISA_AUTO);
}

/* gemm.h's definition of the dot form, with the exact fmaf of libm */
static float dot_def(const float *a, const float *b, size_t K)
{
    float s[16] = {0.0f};
    for (size_t k = 0; k < K; k += 16)
        for (size_t l = 0; l < 16; l++) s[l] = k + l < K ? fmaf(a[k + l], b[k + l], s[l]) : fmaf(0.0f, 0.0f, s[l]);
    for (size_t w = 8; w >= 1; w /= 2)
        for (size_t l = 0; l < w; l++) s[l] = s[l] + s[l + w];
    return s[0];
}

static double dot_ref(const float *a, const float *b, size_t K, double *abs_sum)
{
    double s = 0.0, t = 0.0;
    for (size_t k = 0; k < K; k++) {
        s += (double)a[k] * (double)b[k];
        t += fabs((double)a[k] * (double)b[k]);
    }
    *abs_sum = t;
    return s;
}

/* The dot form: its definition bit for bit with the FMA kernels, and near the oracle with
 * every kernel (K + 2 roundings of u = 2^-24, doubled, as test_gemm.c bounds a sum). */
static void test_dot(void)
{
    static const size_t shapes[][3] = {{1, 10, 784}, {1, 4, 2}, {1, 1, 4}, {1, 17, 1}, {1, 9, 15},
                                       {1, 13, 16}, {1, 3, 17}, {1, 3, 33}, {1, 1, 300}, {1, 40, 1000},
                                       {1, 1000, 257}};
    nb_rng r;
    nb_rng_seed(&r, 32);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        size_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2], lda = K + s % 3, ldb = K + 1, ldc = N + 2;
        CHECK(nb__gemm_small_form(0, 1, M, N, K) == NB__GEMM_DOT);
        float *A = randn(M * lda, &r), *B = randn(N * ldb, &r), *C0 = randn(M * ldc, &r);
        float alpha = s % 2 ? 0.5f : 1.0f, beta = s % 3 == 0 ? 0.0f : s % 3 == 1 ? 1.0f : -0.75f;
        for (int ki = 0; ki < 3; ki++) {
            if (nb__cpu_use(IMPLS[ki]) != NB_OK) continue;
            float *C = malloc(M * ldc * sizeof *C);
            memcpy(C, C0, M * ldc * sizeof *C);
            nb__gemm(0, 1, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
            int exact = 0, near = 0, kept = 0;
            for (size_t i = 0; i < M; i++)
                for (size_t j = 0; j < ldc; j++) {
                    float c0 = C0[i * ldc + j], got = C[i * ldc + j];
                    if (j >= N) { /* beyond the row: untouched */
                        kept += got != c0;
                        continue;
                    }
                    float d = dot_def(A + i * lda, B + j * ldb, K), t = alpha * d;
                    float want = beta == 0.0f ? t : beta == 1.0f ? c0 + t : beta * c0 + t;
                    exact += memcmp(&got, &want, sizeof got) != 0;
                    double abs_sum, ref = (double)alpha * dot_ref(A + i * lda, B + j * ldb, K, &abs_sum);
                    ref += beta == 0.0f ? 0.0 : (double)beta * (double)c0;
                    double tol = 2.0 * ((double)K + 2.0) * 0x1p-24 * (fabs((double)alpha) * abs_sum + fabs((double)beta * (double)c0)) + 1e-30;
                    near += fabs((double)got - ref) > tol;
                }
            CHECK(near == 0 && kept == 0);
            if (IMPLS[ki] != NB__ISA_GENERIC) CHECK(exact == 0); /* FMA kernels: the definition itself */
#ifdef FP_FAST_FMAF
            else CHECK(exact == 0);
#endif
            if (near || kept || (exact && IMPLS[ki] != NB__ISA_GENERIC))
                fprintf(stderr, "  %s dot M=%zu N=%zu K=%zu: %d off the definition, %d off the oracle, %d outside C\n",
                        IMPL_NAMES[ki], M, N, K, exact, near, kept);
            free(C);
        }
        free(A), free(B), free(C0);
    }
    nb__cpu_use(NB__ISA_AUTO);
}

/* beta 0 ignores NaN in C; alpha 0 leaves the product to the driver (only scaling C) */
static void test_edges(void)
{
    float a[2] = {1.0f, 2.0f}, b[4] = {3.0f, 4.0f, 5.0f, 6.0f}, c[2] = {NAN, NAN};
    for (int ki = 0; ki < 3; ki++) {
        if (nb__cpu_use(IMPLS[ki]) != NB_OK) continue;
        c[0] = c[1] = NAN;
        nb__gemm(0, 1, 1, 2, 2, 1.0f, a, 2, b, 2, 0.0f, c, 2); /* dot: (1,2).(3,4), (1,2).(5,6) */
        CHECK(c[0] == 11.0f && c[1] == 17.0f);
        c[0] = c[1] = NAN;
        nb__gemm(0, 0, 1, 2, 2, 1.0f, a, 2, b, 2, 0.0f, c, 2); /* axpy: 1 (3,4) + 2 (5,6) */
        CHECK(c[0] == 13.0f && c[1] == 16.0f);
        nb__gemm(0, 0, 1, 2, 2, 0.0f, a, 2, b, 2, 2.0f, c, 2);
        CHECK(c[0] == 26.0f && c[1] == 32.0f);
        CHECK(nb__gemm_small(IMPLS[ki], 0, 0, 1, 2, 2, 0.0f, a, 2, b, 2, 2.0f, c, 2) == 0 && c[0] == 26.0f);
    }
    nb__cpu_use(NB__ISA_AUTO);
}

int main(void)
{
    test_forms();
    test_axpy_bits();
    test_dot();
    test_edges();
    nb_set_threads(1);
    return check_exit("test_gemm_small");
}
