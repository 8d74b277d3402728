/* SPDX-License-Identifier: MIT */
/*
 * test_kernels.c - the tensor layer and raw kernels against their references: the RNG's
 * stream (golden values, so any machine producing a different stream fails), the version
 * and status names, and the matrix product (CBLAS and nabla's own kernel) against the naive
 * triple loop on awkward shapes: 1, primes, non-multiples of any tile, all four transpose
 * combinations.
 */
#include "nabla.h"
#include "check.h"
#include "../../src/ops/ops.h"

#include <stdlib.h>

static void test_rng(void)
{
    nb_rng r;
    nb_rng_seed(&r, 42);
    /* golden values: xoshiro256** seeded through splitmix64(42) */
    uint64_t first = nb_rng_u64(&r);
    nb_rng r2;
    nb_rng_seed(&r2, 42);
    CHECK(nb_rng_u64(&r2) == first);
    nb_rng_seed(&r, 0);
    uint64_t a = nb_rng_u64(&r), b = nb_rng_u64(&r);
    CHECK(a != b);
    /* statistics of 200k draws: mean and variance within 5 standard errors */
    nb_rng_seed(&r, 1);
    double su = 0, su2 = 0, sn = 0, sn2 = 0;
    int n = 200000;
    for (int i = 0; i < n; i++) {
        double u = (double)nb_rng_uniform(&r), z = (double)nb_rng_normal(&r);
        CHECK(u >= 0.0 && u < 1.0);
        su += u, su2 += u * u, sn += z, sn2 += z * z;
    }
    CHECK_NEAR(su / n, 0.5, 5 * 0.2887 / sqrt(n), 0);
    CHECK_NEAR(su2 / n - (su / n) * (su / n), 1.0 / 12, 0.002, 0);
    CHECK_NEAR(sn / n, 0.0, 5 / sqrt(n), 0);
    CHECK_NEAR(sn2 / n, 1.0, 0.01, 0);
    /* below: unbiased and in range */
    int counts[3] = {0};
    for (int i = 0; i < 30000; i++) counts[nb_rng_below(&r, 3)]++;
    for (int i = 0; i < 3; i++) CHECK(abs(counts[i] - 10000) < 500);
    CHECK(nb_rng_below(&r, 0) == 0);
}

/* The stream is part of nabla's reproducibility promise: pin it. */
static void test_rng_golden(void)
{
    nb_rng r;
    nb_rng_seed(&r, 2026);
    float u[3], z[3];
    for (int i = 0; i < 3; i++) u[i] = nb_rng_uniform(&r);
    for (int i = 0; i < 3; i++) z[i] = nb_rng_normal(&r);
    FILE *f = fopen("tests/ref/rng_golden.txt", "r");
    CHECK(f != NULL);
    if (!f) return;
    float gu[3], gz[3];
    int got = fscanf(f, "%a %a %a %a %a %a", &gu[0], &gu[1], &gu[2], &gz[0], &gz[1], &gz[2]);
    fclose(f);
    CHECK(got == 6);
    for (int i = 0; i < 3; i++) {
        CHECK(u[i] == gu[i]);
        CHECK(z[i] == gz[i]);
    }
}

/* The base layer's scalars: uniform draws stay in [lo, hi) and spread over it (the range
 * test the removed nb_tensor fill ran, now over a plain array), and the version and status
 * names. */
static void test_base(void)
{
    float x[120];
    nb_rng r;
    nb_rng_seed(&r, 5);
    for (int i = 0; i < 120; i++) x[i] = -2.0f + 4.0f * nb_rng_uniform(&r);
    float lo = 9, hi = -9;
    for (int i = 0; i < 120; i++) {
        lo = fminf(lo, x[i]);
        hi = fmaxf(hi, x[i]);
    }
    CHECK(lo >= -2.0f && hi < 2.0f && hi - lo > 3.0f);
    CHECK(strcmp(nb_version(), NB_VERSION_STRING) == 0);
    CHECK(strcmp(nb_status_name(NB_ERR_FORMAT), "NB_ERR_FORMAT") == 0);
}

static void test_gemm(void)
{
    const size_t dims[] = {1, 2, 3, 7, 17, 64, 65, 130};
    nb_rng r;
    nb_rng_seed(&r, 9);
    int nd = (int)(sizeof dims / sizeof dims[0]);
    for (int mi = 0; mi < nd; mi += 1)
        for (int ni = 0; ni < nd; ni += 2)
            for (int ki = 0; ki < nd; ki += 3)
                for (int t = 0; t < 4; t++) {
                    size_t M = dims[mi], N = dims[(ni + mi) % nd], K = dims[(ki + 1) % nd];
                    int ta = t & 1, tb = t >> 1;
                    float *A = malloc(M * K * sizeof *A), *B = malloc(K * N * sizeof *B);
                    float *C0 = malloc(M * N * sizeof *C0), *C1 = malloc(M * N * sizeof *C1), *C2 = malloc(M * N * sizeof *C2);
                    for (size_t i = 0; i < M * K; i++) A[i] = nb_rng_normal(&r);
                    for (size_t i = 0; i < K * N; i++) B[i] = nb_rng_normal(&r);
                    for (size_t i = 0; i < M * N; i++) C0[i] = C1[i] = C2[i] = nb_rng_normal(&r);
                    size_t lda = ta ? M : K, ldb = tb ? K : N;
                    nb__gemm_ref(ta, tb, M, N, K, 0.5f, A, lda, B, ldb, 1.0f, C0, N);
                    nb__gemm(ta, tb, M, N, K, 0.5f, A, lda, B, ldb, 1.0f, C1, N);
                    nb__gemm_builtin(ta, tb, M, N, K, 0.5f, A, lda, B, ldb, 1.0f, C2, N);
                    /* float accumulation of K products of N(0,1) values: error ~ K * 2^-24 * sqrt(K) */
                    double tol = 1e-5 * (double)K;
                    int bad = 0;
                    for (size_t i = 0; i < M * N && !bad; i++)
                        bad = fabs((double)C1[i] - (double)C0[i]) > tol || fabs((double)C2[i] - (double)C0[i]) > tol;
                    CHECK(!bad);
                    if (bad) fprintf(stderr, "  gemm M=%zu N=%zu K=%zu ta=%d tb=%d\n", M, N, K, ta, tb);
                    free(A), free(B), free(C0), free(C1), free(C2);
                }
}

/* Max pooling's 2 x 2 / stride 2 fast path against the rule written out: of the window's
 * (0,0), (0,1), (1,0), (1,1) the first maximum wins, a NaN wins and stays. Ties and NaNs on
 * purpose; odd sizes leave a row and a column out and exercise the vector loop's tail. */
static void test_maxpool_2x2(void)
{
    enum { PL = 5, H = 9, W = 21, OH = 4, OW = 10 };
    static float x[PL * H * W], y[PL * OH * OW];
    static int32_t arg[PL * OH * OW];
    nb_rng r;
    nb_rng_seed(&r, 4);
    for (int i = 0; i < PL * H * W; i++) x[i] = (float)nb_rng_below(&r, 4); /* many ties */
    for (int i = 0; i < 40; i++) x[nb_rng_below(&r, PL * H * W)] = NAN;
    nb__conv_geom g = {1, H, W, OH, OW, 2, 2, 2, 2, 0, 0, 1, 1};
    nb__maxpool_fwd(&g, PL, x, y, arg, 0);
    int bad = 0;
    for (int p = 0; p < PL; p++)
        for (int oh = 0; oh < OH; oh++)
            for (int ow = 0; ow < OW; ow++) {
                const float *xp = x + p * H * W;
                int at[4] = {2 * oh * W + 2 * ow, 2 * oh * W + 2 * ow + 1, (2 * oh + 1) * W + 2 * ow, (2 * oh + 1) * W + 2 * ow + 1};
                int best = at[0];
                for (int k = 1; k < 4; k++) {
                    float v = xp[at[k]], m = xp[best];
                    if (v > m || (isnan(v) && !isnan(m))) best = at[k];
                }
                int o = (p * OH + oh) * OW + ow;
                float want = xp[best];
                bad += arg[o] != best || !(y[o] == want || (isnan(y[o]) && isnan(want)));
            }
    CHECK(bad == 0);
}

/* im2col / col2im against their definitions with a bounds test per element, over strides,
 * paddings (wider than the kernel too), dilations; exact, as both add in the same order */
static void test_im2col(void)
{
    nb_rng r;
    nb_rng_seed(&r, 6);
    int bad = 0;
    for (int trial = 0; trial < 300; trial++) {
        nb__conv_geom g;
        g.c = 1 + nb_rng_below(&r, 3), g.h = 1 + nb_rng_below(&r, 9), g.w = 1 + nb_rng_below(&r, 9);
        g.kh = 1 + (int)nb_rng_below(&r, 4), g.kw = 1 + (int)nb_rng_below(&r, 4);
        g.sh = 1 + (int)nb_rng_below(&r, 3), g.sw = 1 + (int)nb_rng_below(&r, 3);
        g.ph = (int)nb_rng_below(&r, 5), g.pw = (int)nb_rng_below(&r, 5);
        g.dh = 1 + (int)nb_rng_below(&r, 2), g.dw = 1 + (int)nb_rng_below(&r, 2);
        g.oh = nb__conv_out(g.h, g.kh, g.sh, g.ph, g.dh), g.ow = nb__conv_out(g.w, g.kw, g.sw, g.pw, g.dw);
        if (!g.oh || !g.ow) continue;
        size_t nx = g.c * g.h * g.w, K = g.c * (size_t)g.kh * (size_t)g.kw, P = g.oh * g.ow;
        float *x = malloc(nx * sizeof *x), *col = malloc(K * P * sizeof *col), *dx = calloc(nx, sizeof *dx);
        float *dx0 = calloc(nx, sizeof *dx0);
        for (size_t i = 0; i < nx; i++) x[i] = nb_rng_normal(&r);
        nb__im2col(&g, x, col);
        for (size_t c = 0; c < g.c; c++)
            for (int i = 0; i < g.kh; i++)
                for (int j = 0; j < g.kw; j++)
                    for (size_t oh = 0; oh < g.oh; oh++)
                        for (size_t ow = 0; ow < g.ow; ow++) {
                            long h = (long)oh * g.sh - g.ph + (long)i * g.dh, w = (long)ow * g.sw - g.pw + (long)j * g.dw;
                            int in = h >= 0 && h < (long)g.h && w >= 0 && w < (long)g.w;
                            size_t at = (((c * (size_t)g.kh + (size_t)i) * (size_t)g.kw + (size_t)j) * g.oh + oh) * g.ow + ow;
                            float want = in ? x[(c * g.h + (size_t)h) * g.w + (size_t)w] : 0.0f;
                            bad += col[at] != want;
                            if (in) dx0[(c * g.h + (size_t)h) * g.w + (size_t)w] += col[at] * 0.5f + 1.0f;
                            col[at] = col[at] * 0.5f + 1.0f; /* what col2im scatters back */
                        }
        nb__col2im(&g, col, dx);
        bad += memcmp(dx, dx0, nx * sizeof *dx) != 0;
        free(x), free(col), free(dx), free(dx0);
    }
    CHECK(bad == 0);
}

int main(void)
{
    test_rng();
    test_rng_golden();
    test_base();
    test_gemm();
    test_maxpool_2x2();
    test_im2col();
    return check_exit("test_kernels");
}
