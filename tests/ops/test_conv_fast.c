/* SPDX-License-Identifier: MIT */
/*
 * test_conv_fast.c - the fast paths of the convolution layers against their references:
 * the direct convolution (conv_direct.c) against nb__conv2d_ref and sums in double, the flat
 * im2col / col2im against the row by row code, the chunk passes' permutes and plane sums,
 * max pooling's 2 x 2 backward and ReLU's vector loops against scalar rules, and a backward
 * that writes its input's gradient (a WRITE edge, plan.c) against one that adds. Every fast path
 * must give the same bits for 1, 2 and 3 threads and for every instruction set this CPU runs.
 */
#include "nabla.h"
#include "check.h"
#include "../../src/ops/ops.h"
#include "../../src/ops/simd.h"

/* the oracle sums in double on purpose */
#pragma GCC diagnostic ignored "-Wdouble-promotion"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static float *randv(nb_rng *r, size_t n, float scale)
{
    float *v = malloc((n ? n : 1) * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = scale * nb_rng_normal(r);
    return v;
}

static nb__conv_geom geom(size_t c, size_t h, size_t w, int k, int s, int p, int d)
{
    nb__conv_geom g = {c, h, w, 0, 0, k, k, s, s, p, p, d, d};
    g.oh = nb__conv_out(h, k, s, p, d), g.ow = nb__conv_out(w, k, s, p, d);
    return g;
}

static const nb__isa isas[3] = {NB__ISA_GENERIC, NB__ISA_AVX2, NB__ISA_AVX512};

/* ---- the direct convolution: values against the double oracle, dW and db against sums in
 * double, and the same bits for every thread count and instruction set */
static void test_direct(void)
{
    struct { size_t n, c, h, w, o; int k, s, p, d, bias; } cs[] = {
        {5, 1, 28, 28, 16, 3, 1, 1, 1, 1}, /* the reference CNN's first layer (P = 784 = 49 x 16) */
        {3, 3, 9, 11, 5, 3, 1, 1, 1, 0},   /* RGB, ragged P = 99, channels not a multiple of 4 */
        {2, 1, 13, 7, 7, 5, 1, 2, 1, 1},   /* 5 x 5 */
        {2, 2, 10, 9, 3, 3, 2, 0, 1, 1},   /* stride 2: not the flat lowering */
        {4, 1, 12, 12, 18, 3, 1, 2, 2, 1}, /* dilation 2, 18 channels: a 16 block and a rest */
        {12, 1, 28, 28, 18, 3, 1, 1, 1, 1}, /* backward in tasks of 4 channels and a last of 2 */
    };
    nb_rng r;
    nb_rng_seed(&r, 12);
    for (size_t ci = 0; ci < sizeof cs / sizeof cs[0]; ci++) {
        nb__conv_geom g = geom(cs[ci].c, cs[ci].h, cs[ci].w, cs[ci].k, cs[ci].s, cs[ci].p, cs[ci].d);
        CHECK(nb__conv_direct_ok(&g));
        size_t n = cs[ci].n, O = cs[ci].o, K = g.c * (size_t)g.kh * (size_t)g.kw, P = g.oh * g.ow, nx = n * g.c * g.h * g.w;
        float *x = randv(&r, nx, 1.0f), *w = randv(&r, O * K, 0.5f), *b = cs[ci].bias ? randv(&r, O, 1.0f) : NULL;
        float *dy = randv(&r, n * O * P, 1.0f), *y = malloc(n * O * P * sizeof *y), *yr = malloc(n * O * P * sizeof *yr);
        nb__conv2d_ref(&g, n, O, x, w, b, yr);
        /* every thread count and instruction set gives the same bits */
        float *y0 = NULL, *dw0 = NULL, *db0 = NULL;
        int bad = 0, nbits = 0;
        for (int th = 1; th <= 3; th++)
            for (int ii = 0; ii < 3; ii++) {
                if (nb__cpu_use(isas[ii]) != NB_OK) continue;
                nb_set_threads(th);
                float *dw = calloc(O * K, sizeof *dw), *db = calloc(O, sizeof *db);
                for (size_t i = 0; i < O * K; i++) dw[i] = 0.25f; /* backward adds */
                nb__conv_direct_fwd(&g, n, O, x, w, b, y);
                nb__conv_direct_bwd(&g, n, O, x, dy, dw, db);
                if (!y0) { /* the first run: against the references */
                    for (size_t i = 0; i < n * O * P; i++) bad += !(fabsf(y[i] - yr[i]) <= 1e-5f * (1.0f + fabsf(yr[i])));
                    for (size_t o = 0; o < O; o++) {
                        double sb = 0;
                        for (size_t s = 0; s < n; s++)
                            for (size_t p = 0; p < P; p++) sb += dy[(s * O + o) * P + p];
                        bad += !(fabs(db[o] - sb) <= 1e-4 * (1.0 + fabs(sb)));
                        for (size_t c = 0; c < g.c; c++)
                            for (int i = 0; i < g.kh; i++)
                                for (int j = 0; j < g.kw; j++) {
                                    double sw = 0.25;
                                    for (size_t s = 0; s < n; s++)
                                        for (size_t oh = 0; oh < g.oh; oh++)
                                            for (size_t ow = 0; ow < g.ow; ow++) {
                                                long h = (long)oh * g.sh - g.ph + (long)i * g.dh, v = (long)ow * g.sw - g.pw + (long)j * g.dw;
                                                if (h < 0 || v < 0 || h >= (long)g.h || v >= (long)g.w) continue;
                                                sw += (double)dy[(s * O + o) * P + oh * g.ow + ow] * x[((s * g.c + c) * g.h + (size_t)h) * g.w + (size_t)v];
                                            }
                                    float got = dw[(o * g.c + c) * (size_t)(g.kh * g.kw) + (size_t)(i * g.kw + j)];
                                    bad += !(fabs(got - sw) <= 1e-4 * (1.0 + fabs(sw)));
                                }
                    }
                    y0 = malloc(n * O * P * sizeof *y0), dw0 = dw, db0 = db;
                    memcpy(y0, y, n * O * P * sizeof *y);
                    continue;
                }
                nbits += memcmp(y, y0, n * O * P * sizeof *y) != 0 || memcmp(dw, dw0, O * K * sizeof *dw) != 0 ||
                         memcmp(db, db0, O * sizeof *db) != 0;
                free(dw), free(db);
            }
        CHECK(bad == 0);
        CHECK(nbits == 0);
        if (bad || nbits) fprintf(stderr, "  direct conv case %zu: %d wrong, %d runs with other bits\n", ci, bad, nbits);
        /* db alone */
        float *db1 = calloc(O, sizeof *db1);
        nb__conv_direct_bwd(&g, n, O, x, dy, NULL, db1);
        CHECK(memcmp(db1, db0, O * sizeof *db1) == 0);
        free(x), free(w), free(b), free(dy), free(y), free(yr), free(db1), free(y0), free(dw0), free(db0);
    }
    nb__cpu_use(NB__ISA_AUTO);
    nb_set_threads(1);
}

/* A ragged plane (P = 99) reads a vector past each sample's end: those lanes must add
 * nothing, even where the next sample holds an inf (0 inf is NaN). With dy > 0 every sum is
 * finite or +inf, never NaN. */
static void test_direct_inf(void)
{
    nb__conv_geom g = geom(3, 9, 11, 3, 1, 1, 1);
    size_t n = 2, O = 4, K = 27, P = 99, chw = 3 * 99;
    float *x = calloc(n * chw, sizeof *x), *dy = malloc(n * O * P * sizeof *dy), *dw = calloc(O * K, sizeof *dw);
    float *db = calloc(O, sizeof *db);
    for (size_t i = 0; i < n * chw; i++) x[i] = 0.5f;
    x[chw] = INFINITY; /* sample 1, channel 0, row 0, column 0 */
    for (size_t i = 0; i < n * O * P; i++) dy[i] = 1.0f;
    for (int ii = 0; ii < 3; ii++) {
        if (nb__cpu_use(isas[ii]) != NB_OK) continue;
        memset(dw, 0, O * K * sizeof *dw);
        nb__conv_direct_bwd(&g, n, O, x, dy, dw, db);
        int nans = 0, infs = 0;
        for (size_t i = 0; i < O * K; i++) nans += isnan(dw[i]), infs += isinf(dw[i]);
        CHECK(nans == 0 && infs == 4 * (int)O); /* the 4 taps of channel 0 that see x's corner */
    }
    nb__cpu_use(NB__ISA_AUTO);
    free(x), free(dy), free(dw), free(db);
}

/* ---- im2col / col2im of n samples (the flat path for "same" geometries) against the row by
 * row code of one sample at a time: exact, as both copy and add in the same order */
static void test_lowering(void)
{
    struct { size_t c, h, w; int k, s, p, d; } cs[] = {
        {16, 14, 14, 3, 1, 1, 1}, {1, 28, 28, 3, 1, 1, 1}, {3, 5, 17, 5, 1, 2, 1}, {2, 9, 6, 3, 1, 2, 2},
        {2, 7, 7, 1, 1, 0, 1},    {2, 6, 8, 3, 2, 1, 1},   {1, 3, 3, 3, 1, 1, 1},   {2, 4, 20, 3, 1, 1, 1},
    };
    nb_rng r;
    nb_rng_seed(&r, 13);
    for (size_t ci = 0; ci < sizeof cs / sizeof cs[0]; ci++)
        for (int ii = 0; ii < 3; ii++) {
            if (nb__cpu_use(isas[ii]) != NB_OK) continue;
            nb__conv_geom g = geom(cs[ci].c, cs[ci].h, cs[ci].w, cs[ci].k, cs[ci].s, cs[ci].p, cs[ci].d);
            size_t n = 3, chw = g.c * g.h * g.w, K = g.c * (size_t)g.kh * (size_t)g.kw, P = g.oh * g.ow, ld = n * P + 5;
            float *x = randv(&r, n * chw, 1.0f), *col = malloc(K * ld * sizeof *col), *ref = malloc(K * P * sizeof *ref);
            float *dx = calloc(n * chw, sizeof *dx), *dxr = calloc(n * chw, sizeof *dxr), *one = malloc(K * P * sizeof *one);
            x[1] = -0.0f;
            nb__im2col_n(&g, n, 0, g.c, x, col, ld);
            int bad = 0;
            for (size_t s = 0; s < n; s++) {
                nb__im2col(&g, x + s * chw, ref);
                for (size_t k = 0; k < K; k++) bad += memcmp(col + k * ld + s * P, ref + k * P, P * sizeof *ref) != 0;
            }
            for (size_t i = 0; i < K * ld; i++) col[i] = col[i] * 0.5f + 1.0f; /* something to scatter */
            nb__col2im_n(&g, n, 0, g.c, col, ld, dx);
            for (size_t s = 0; s < n; s++) {
                for (size_t k = 0; k < K; k++) memcpy(one + k * P, col + k * ld + s * P, P * sizeof *one);
                nb__col2im(&g, one, dxr + s * chw); /* the row by row code for other geometries */
                /* and against the definition, element by element in (c, i, j) order */
                float *want = calloc(chw, sizeof *want);
                for (size_t c = 0; c < g.c; c++)
                    for (int i = 0; i < g.kh; i++)
                        for (int j = 0; j < g.kw; j++)
                            for (size_t oh = 0; oh < g.oh; oh++)
                                for (size_t ow = 0; ow < g.ow; ow++) {
                                    long h = (long)oh * g.sh - g.ph + (long)i * g.dh, v = (long)ow * g.sw - g.pw + (long)j * g.dw;
                                    if (h < 0 || v < 0 || h >= (long)g.h || v >= (long)g.w) continue;
                                    want[(c * g.h + (size_t)h) * g.w + (size_t)v] += one[((c * (size_t)g.kh + (size_t)i) * (size_t)g.kw + (size_t)j) * P + oh * g.ow + ow];
                                }
                bad += memcmp(want, dx + s * chw, chw * sizeof *want) != 0;
                free(want);
            }
            bad += memcmp(dx, dxr, n * chw * sizeof *dx) != 0;
            /* by channel ranges (a pass split by input channels): each call writes its planes
             * only, and together they give the same bits */
            memset(dxr, 0, n * chw * sizeof *dxr);
            for (size_t c0 = 0, step = g.c > 1 ? g.c / 2 : 1; c0 < g.c; c0 += step)
                nb__col2im_n(&g, n, c0, c0 + step < g.c ? c0 + step : g.c, col, ld, dxr);
            bad += memcmp(dx, dxr, n * chw * sizeof *dx) != 0;
            CHECK(bad == 0);
            if (bad) fprintf(stderr, "  lowering case %zu, isa %d: %d mismatches\n", ci, ii, bad);
            free(x), free(col), free(ref), free(dx), free(dxr), free(one);
        }
    nb__cpu_use(NB__ISA_AUTO);
}

/* ---- the product that packs its operand straight from x (nb__conv_gemm_fwd) against im2col
 * then the GEMM: the same bits, for several K blocks (K > NB__GEMM_KC), samples straddling
 * the kernel's panels and blocks, ragged last panels, -0 and NaN inputs, every instruction
 * set and 1 to 3 threads; geometries outside the flat one decline */
static void test_packed_product(void)
{
    struct { size_t c, h, w, o, n; int k, p, d; } cs[] = {
        {16, 14, 14, 32, 9, 3, 1, 1}, {40, 7, 7, 5, 3, 3, 1, 1}, {3, 5, 17, 7, 4, 5, 2, 1}, {2, 9, 6, 3, 5, 3, 2, 2},
        {30, 6, 6, 9, 11, 1, 0, 1},   {1, 3, 3, 17, 7, 3, 1, 1}, {2, 4, 20, 8, 2, 3, 1, 1}, {1, 28, 28, 16, 3, 3, 1, 1},
    };
    nb_rng r;
    nb_rng_seed(&r, 17);
    for (size_t ci = 0; ci < sizeof cs / sizeof cs[0]; ci++) {
        nb__conv_geom g = geom(cs[ci].c, cs[ci].h, cs[ci].w, cs[ci].k, 1, cs[ci].p, cs[ci].d);
        size_t n = cs[ci].n, O = cs[ci].o, chw = g.c * g.h * g.w, K = g.c * (size_t)g.kh * (size_t)g.kw, P = g.oh * g.ow;
        float *x = randv(&r, n * chw, 1.0f), *w = randv(&r, O * K, 0.3f), *col = malloc(K * n * P * sizeof *col);
        float *want = malloc(O * n * P * sizeof *want), *got = malloc(O * n * P * sizeof *got);
        x[1] = -0.0f, x[chw + 2] = NAN;
        for (int ii = 0; ii < 3; ii++) {
            if (nb__cpu_use(isas[ii]) != NB_OK) continue;
            nb_set_threads(1);
            nb__im2col_n(&g, n, 0, g.c, x, col, n * P);
            nb__gemm_builtin(0, 0, O, n * P, K, 1.0f, w, K, col, n * P, 0.0f, want, n * P);
            for (int t = 1; t <= 3; t++) {
                nb_set_threads(t);
                memset(got, 0xff, O * n * P * sizeof *got);
                int done = nb__conv_gemm_fwd(&g, n, O, x, w, got);
                CHECK(done == 1 || strcmp(nb__gemm_name(), "cblas") == 0);
                if (done && memcmp(got, want, O * n * P * sizeof *got) != 0) {
                    CHECK(0);
                    fprintf(stderr, "  packed product case %zu, isa %d, %d threads: other bits than im2col + gemm\n", ci, ii, t);
                }
            }
        }
        free(x), free(w), free(col), free(want), free(got);
    }
    nb__conv_geom strided = geom(2, 8, 8, 3, 2, 1, 1);
    float x[128] = {0}, w[18] = {0}, y[32];
    CHECK(nb__conv_gemm_fwd(&strided, 1, 1, x, w, y) == 0);
    nb_set_threads(1);
    nb__cpu_use(NB__ISA_AUTO);
}

/* ---- max pooling without the arg-max (an evaluation forward, pool.c's vmaxps path): the
 * bits of the forward that saves it, where windows tie between +0 and -0 and hold NaNs of
 * different payloads (the first NaN wins), on wide, narrow and odd planes, every ISA */
static void test_pool_values(void)
{
    enum { PL = 4, MAXHW = 40 * 40 };
    static float x[PL * MAXHW], y[PL * MAXHW], v[PL * MAXHW];
    static int32_t arg[PL * MAXHW];
    const int hw[][2] = {{9, 37}, {14, 14}, {15, 15}, {28, 28}, {5, 3}, {3, 17}, {2, 2}, {7, 16}, {4, 66}};
    nb_rng r;
    nb_rng_seed(&r, 19);
    for (size_t gi = 0; gi < sizeof hw / sizeof hw[0]; gi++) {
        int H = hw[gi][0], W = hw[gi][1], OH = H / 2, OW = W / 2;
        const float vals[4] = {-0.0f, 0.0f, -1.0f, 0.5f};
        for (int i = 0; i < PL * H * W; i++) x[i] = vals[nb_rng_below(&r, 4)];
        for (int i = 0; i < 6; i++) { /* quiet NaNs told apart by their payloads and signs */
            uint32_t b = 0x7fc00000u | (uint32_t)(i + 1) | (i % 2 ? 0x80000000u : 0);
            memcpy(&x[nb_rng_below(&r, (uint64_t)(PL * H * W))], &b, 4);
        }
        nb__conv_geom g = {1, (size_t)H, (size_t)W, (size_t)OH, (size_t)OW, 2, 2, 2, 2, 0, 0, 1, 1};
        for (int ii = 0; ii < 3; ii++) {
            if (nb__cpu_use(isas[ii]) != NB_OK) continue;
            nb__maxpool_fwd(&g, PL, x, y, arg, 0);
            memset(v, 0xff, sizeof v);
            nb__maxpool_fwd(&g, PL, x, v, NULL, 0);
            int bad = memcmp(y, v, (size_t)(PL * OH * OW) * sizeof *y) != 0;
            CHECK(!bad);
            if (bad) fprintf(stderr, "  pool values %dx%d, isa %d: other bits than with the arg-max\n", H, W, ii);
        }
    }
    nb__cpu_use(NB__ISA_AUTO);
}

/* ---- a chunk pass: the permutes with the bias, the plane sums in their documented order */
static void test_pass(void)
{
    nb_rng r;
    nb_rng_seed(&r, 14);
    nb__conv_geom g = geom(2, 7, 5, 3, 1, 1, 1); /* P = 35: two full vectors and a ragged end */
    size_t n = 3, O = 4, P = g.oh * g.ow, K = 18;
    float *yc = randv(&r, O * n * P, 1.0f), *bias = randv(&r, O, 1.0f), *y = malloc(n * O * P * sizeof *y);
    float *dy = randv(&r, n * O * P, 1.0f), *dyc = malloc(O * n * P * sizeof *dyc), *sums = malloc(n * O * sizeof *sums);
    float *x = randv(&r, n * 70, 1.0f), *col = malloc(K * n * P * sizeof *col), *ref = malloc(K * n * P * sizeof *ref);
    for (int th = 1; th <= 2; th++) {
        nb_set_threads(th);
        nb__conv_pass p = {&g, O, n, yc, bias, y, NULL, NULL, n, x, col, dy, dyc, sums, th == 2};
        nb__conv_pass_run(&p);
        int bad = 0;
        for (size_t s = 0; s < n; s++)
            for (size_t o = 0; o < O; o++) {
                float lane[16] = {0}, sum = 0.0f;
                for (size_t k = 0; k < P; k++) {
                    bad += y[(s * O + o) * P + k] != yc[o * n * P + s * P + k] + bias[o];
                    bad += dyc[o * n * P + s * P + k] != dy[(s * O + o) * P + k];
                    lane[k % 16] += dy[(s * O + o) * P + k];
                }
                for (int l = 0; l < 16; l++) sum += lane[l];
                bad += sums[s * O + o] != sum; /* the order of ops.h, bit for bit */
            }
        nb__im2col_n(&g, n, 0, g.c, x, ref, n * P);
        bad += memcmp(col, ref, K * n * P * sizeof *col) != 0;
        CHECK(bad == 0);
    }
    nb_set_threads(1);
    free(yc), free(bias), free(y), free(dy), free(dyc), free(sums), free(x), free(col), free(ref);
}

/* ---- max pooling 2 x 2: forward against the rule (of (0,0), (0,1), (1,0), (1,1) the first
 * maximum wins, a NaN wins and stays), backward (adding and storing) against the arg-max,
 * on wide and narrow planes (OW <= 8: two rows to a vector), odd sizes (a row and a column in
 * no window), every instruction set; the pool with its fused ReLU (nb__maxpool2d_relu) against
 * the plain pool's values through ReLU's select and its arg-max with -1 where the ReLU stops
 * the window, with and without the arg-max, and backward routing those windows nothing; and
 * ReLU's vector loops against the scalar rule (PyTorch's: NaN passes forward and passes dy
 * back; -0, +0 and negatives give +0) */
static void test_pool_relu(void)
{
    enum { PL = 3, MAXHW = 40 * 40 };
    static float x[PL * MAXHW], y[PL * MAXHW], dy[PL * MAXHW], dx[PL * MAXHW], want[PL * MAXHW];
    static int32_t arg[PL * MAXHW], argr[PL * MAXHW];
    static float yf[PL * MAXHW], yv[PL * MAXHW], ywant[PL * MAXHW];
    const int hw[][2] = {{9, 37}, {14, 14}, {15, 15}, {28, 28}, {5, 3}, {3, 17}, {2, 2}, {7, 16}};
    nb_rng r;
    nb_rng_seed(&r, 15);
    int bad = 0, stopped = 0, passed = 0;
    for (size_t gi = 0; gi < sizeof hw / sizeof hw[0]; gi++) {
        int H = hw[gi][0], W = hw[gi][1], OH = H / 2, OW = W / 2;
        /* many ties; windows whose maximum is 0, -0 or negative (the fused ReLU stops them) */
        for (int i = 0; i < PL * H * W; i++) x[i] = (float)nb_rng_below(&r, 5) - 3.0f;
        for (int i = 0; i < PL * H * W / 7; i++) x[nb_rng_below(&r, (uint64_t)(PL * H * W))] = -0.0f;
        for (int i = 0; i < 5; i++) x[nb_rng_below(&r, (uint64_t)(PL * H * W))] = NAN;
        for (int i = 0; i < PL * OH * OW; i++) dy[i] = nb_rng_normal(&r);
        nb__conv_geom g = {1, (size_t)H, (size_t)W, (size_t)OH, (size_t)OW, 2, 2, 2, 2, 0, 0, 1, 1};
        for (int ii = 0; ii < 3; ii++) {
            if (nb__cpu_use(isas[ii]) != NB_OK) continue;
            nb__maxpool_fwd(&g, PL, x, y, arg, 0);
            for (int p = 0; p < PL; p++)
                for (int oh = 0; oh < OH; oh++)
                    for (int ow = 0; ow < OW; ow++) {
                        const float *xp = x + p * H * W;
                        int at[4] = {2 * oh * W + 2 * ow, 2 * oh * W + 2 * ow + 1, (2 * oh + 1) * W + 2 * ow, (2 * oh + 1) * W + 2 * ow + 1};
                        int best = at[0];
                        for (int k = 1; k < 4; k++)
                            if (xp[at[k]] > xp[best] || (isnan(xp[at[k]]) && !isnan(xp[best]))) best = at[k];
                        int o = (p * OH + oh) * OW + ow;
                        bad += arg[o] != best || !(y[o] == xp[best] || (isnan(y[o]) && isnan(xp[best])));
                    }
            for (int assign = 0; assign <= 1; assign++) {
                /* storing: whatever dx held (here 9) is overwritten, +0 where no window's
                 * maximum was, the odd row and column included */
                for (int i = 0; i < PL * H * W; i++) dx[i] = assign ? 9.0f : 0.5f, want[i] = assign ? 0.0f : 0.5f;
                for (int p = 0; p < PL; p++)
                    for (int o = 0; o < OH * OW; o++) want[p * H * W + arg[p * OH * OW + o]] += dy[p * OH * OW + o];
                nb__maxpool_bwd(&g, PL, arg, dy, dx, assign);
                bad += memcmp(dx, want, (size_t)(PL * H * W) * sizeof *dx) != 0;
            }
            /* the fused ReLU: relu's select of each maximum (+0 for <= 0, NaN passes) and
             * arg-max -1 where it stops the window; without the arg-max the same values */
            for (int o = 0; o < PL * OH * OW; o++) {
                int stop = y[o] <= 0.0f;
                ywant[o] = stop ? 0.0f : y[o];
                stopped += stop, passed += !stop;
            }
            nb__maxpool_fwd(&g, PL, x, yf, argr, 1);
            nb__maxpool_fwd(&g, PL, x, yv, NULL, 1);
            bad += memcmp(yf, ywant, (size_t)(PL * OH * OW) * sizeof *yf) != 0;
            bad += memcmp(yv, ywant, (size_t)(PL * OH * OW) * sizeof *yv) != 0;
            for (int o = 0; o < PL * OH * OW; o++) bad += argr[o] != (y[o] <= 0.0f ? -1 : arg[o]);
            for (int assign = 0; assign <= 1; assign++) { /* a stopped window's inputs get +0 */
                for (int i = 0; i < PL * H * W; i++) dx[i] = assign ? 9.0f : 0.5f, want[i] = assign ? 0.0f : 0.5f;
                for (int p = 0; p < PL; p++)
                    for (int o = 0; o < OH * OW; o++)
                        if (argr[p * OH * OW + o] >= 0) want[p * H * W + argr[p * OH * OW + o]] += dy[p * OH * OW + o];
                nb__maxpool_bwd(&g, PL, argr, dy, dx, assign);
                bad += memcmp(dx, want, (size_t)(PL * H * W) * sizeof *dx) != 0;
            }
        }
    }
    CHECK(bad == 0);
    CHECK(stopped > 100 && passed > 100); /* the data holds both */
    /* overlapping windows (3 x 3, stride 2, padding 1): storing gives what adding into zeros
     * gives, whatever dx held */
    {
        int H = 11, W = 13, OH = 6, OW = 7;
        nb__conv_geom g = {1, (size_t)H, (size_t)W, (size_t)OH, (size_t)OW, 3, 3, 2, 2, 1, 1, 1, 1};
        for (int i = 0; i < PL * H * W; i++) x[i] = nb_rng_normal(&r), dx[i] = NAN, want[i] = 0.0f;
        for (int i = 0; i < PL * OH * OW; i++) dy[i] = nb_rng_normal(&r);
        nb__maxpool_fwd(&g, PL, x, y, arg, 0);
        nb__maxpool_bwd(&g, PL, arg, dy, want, 0);
        nb__maxpool_bwd(&g, PL, arg, dy, dx, 1);
        CHECK(memcmp(dx, want, (size_t)(PL * H * W) * sizeof *dx) == 0);
        int nonzero = 0;
        for (int i = 0; i < PL * H * W; i++) nonzero += want[i] != 0.0f;
        CHECK(nonzero > PL * OH * OW / 2); /* the windows' maxima got their gradients */
    }
    enum { N = 1000 + 7 };
    static float a[N], da[N], out[N], d1[N], d2[N];
    for (int i = 0; i < N; i++) a[i] = nb_rng_normal(&r), da[i] = nb_rng_normal(&r), d1[i] = 1.5f;
    /* NaN in a vector body and in the scalar tail of every tier, signed zeros, negatives */
    a[5] = NAN, a[6] = -0.0f, a[7] = 0.0f, a[N - 1] = -0.0f, a[N - 2] = NAN, a[N - 3] = -2.0f;
    for (int ii = 0; ii < 3; ii++) {
        if (nb__cpu_use(isas[ii]) != NB_OK) continue;
        nb__act_fwd(NB__ACT_RELU, 0.0f, N, a, out);
        bad = 0;
        for (int i = 0; i < N; i++) {
            /* PyTorch's rule: NaN passes bit for bit (a diverging run shows), else max(x, +0) */
            float want_y = !(a[i] <= 0.0f) ? a[i] : 0.0f;
            bad += memcmp(&out[i], &want_y, sizeof want_y) != 0; /* +0, never -0 */
        }
        bad += !isnan(out[5]) + !isnan(out[N - 2]) + (out[N - 3] != 0.0f) + (signbit(out[6]) != 0);
        for (int i = 0; i < N; i++) d1[i] = 1.5f, d2[i] = 7.0f;
        nb__act_bwd(NB__ACT_RELU, 0.0f, N, a, out, da, d1);
        nb__act_bwd_assign(NB__ACT_RELU, 0.0f, N, a, out, da, d2);
        for (int i = 0; i < N; i++) {
            float gate = !(a[i] <= 0.0f) ? da[i] : 0.0f; /* NaN passes dy, as PyTorch's */
            bad += d1[i] != 1.5f + gate || d2[i] != gate;
        }
        CHECK(bad == 0);
    }
    /* ReLU with its gate kept as bits: the same values, the gate bit by bit, backward from the
     * bits alone; big enough to be split over threads (ranges at multiples of 16) */
    enum { M = 40000 + 9 };
    static float b_[M], yb[M], yr[M], db_[M], g1[M], g2[M];
    static uint16_t gate[(M + 15) / 16];
    for (int i = 0; i < M; i++) b_[i] = nb_rng_normal(&r), db_[i] = nb_rng_normal(&r);
    b_[3] = NAN, b_[4] = -0.0f, b_[M - 2] = 0.0f, b_[M - 3] = NAN, b_[100] = NAN;
    nb__act_fwd(NB__ACT_RELU, 0.0f, M, b_, yr);
    for (int th = 1; th <= 3; th++)
        for (int ii = 0; ii < 3; ii++) {
            if (nb__cpu_use(isas[ii]) != NB_OK) continue;
            nb_set_threads(th);
            memset(gate, 0xa5, sizeof gate);
            nb__relu_fwd_gate(M, b_, yb, gate);
            bad = memcmp(yb, yr, sizeof yb) != 0;
            bad += !isnan(yb[3]) + !isnan(yb[100]) + !isnan(yb[M - 3]);
            for (int i = 0; i < M; i++) bad += (gate[i / 16] >> (i % 16) & 1) != !(b_[i] <= 0.0f);
            for (int i = 0; i < M; i++) g1[i] = 0.25f, g2[i] = -3.0f;
            nb__relu_bwd_gate(M, gate, db_, g1, 0);
            nb__relu_bwd_gate(M, gate, db_, g2, 1);
            for (int i = 0; i < M; i++) {
                float gv = !(b_[i] <= 0.0f) ? db_[i] : 0.0f;
                bad += g1[i] != 0.25f + gv || memcmp(&g2[i], &gv, sizeof gv) != 0;
            }
            CHECK(bad == 0);
        }
    nb_set_threads(1);
    nb__cpu_use(NB__ISA_AUTO);
}

/* ---- graphs: the direct path (input without gradient) against the lowered one (the same
 * convolution with the input as a parameter), bit-identical over thread counts; and a value
 * read twice, where no backward may write instead of add */
static void conv_graph(int x_is_param, int threads, const float *xv, const float *wv, const float *bv, float *out)
{
    nb_set_threads(threads);
    nb_graph *g;
    nb_graph_create(&g);
    int64_t xs[4] = {NB_BATCH, 1, 12, 12};
    nb_node x = x_is_param ? nb_param(g, "x", 4, (int64_t[]){5, 1, 12, 12}) : nb_input(g, "x", 4, xs);
    nb_node w = nb_param(g, "w", 4, (int64_t[]){6, 1, 3, 3}), b = nb_param(g, "b", 1, (int64_t[]){6});
    nb_node y = nb_relu(g, nb_conv2d_bias(g, x, w, b, NULL, (int[]){1, 1}, NULL));
    nb_node m = nb_maxpool2d(g, y, (int[]){2, 2}, NULL, NULL);
    nb_node L = nb_sum_all(g, nb_square(g, m));
    CHECK_OK(nb_graph_compile(g));
    nb_view v;
    if (x_is_param) {
        nb_graph_value(g, x, &v);
        memcpy(v.data, xv, 720 * sizeof(float));
    } else {
        CHECK_OK(nb_graph_feed(g, x, xv, 720));
    }
    nb_graph_value(g, w, &v), memcpy(v.data, wv, 54 * sizeof(float));
    nb_graph_value(g, b, &v), memcpy(v.data, bv, 6 * sizeof(float));
    nb_graph_zero_grad(g);
    CHECK_OK(nb_graph_forward(g, L));
    CHECK_OK(nb_graph_backward(g, L));
    nb_graph_value(g, y, &v), memcpy(out, v.data, 720 * 6 * sizeof(float));
    nb_graph_grad(g, w, &v), memcpy(out + 4320, v.data, 54 * sizeof(float));
    nb_graph_grad(g, b, &v), memcpy(out + 4374, v.data, 6 * sizeof(float));
    nb_graph_free(g);
}

static void test_graphs(void)
{
    nb_rng r;
    nb_rng_seed(&r, 16);
    float *x = randv(&r, 720, 1.0f), *w = randv(&r, 54, 0.4f), *b = randv(&r, 6, 0.2f);
    static float direct[3][4380], lowered[4380];
    conv_graph(1, 1, x, w, b, lowered);
    for (int th = 1; th <= 3; th++) conv_graph(0, th, x, w, b, direct[th - 1]);
    CHECK(memcmp(direct[0], direct[1], sizeof direct[0]) == 0 && memcmp(direct[0], direct[2], sizeof direct[0]) == 0);
    int bad = 0;
    for (int i = 0; i < 4380; i++) bad += !(fabsf(direct[0][i] - lowered[i]) <= 1e-4f * (1.0f + fabsf(lowered[i])));
    CHECK(bad == 0);
    nb_set_threads(1);
    free(x), free(w), free(b);

    /* L = sum(relu(a) * a): a is read by relu and by mul, so relu's backward must add to a's
     * gradient what mul already put there: dL/da = relu(a) + a [a > 0] */
    nb_graph *g;
    nb_graph_create(&g);
    nb_node a = nb_param(g, "a", 1, (int64_t[]){40});
    nb_node h = nb_scale(g, a, 1.0f); /* an intermediate (non-leaf) value read twice */
    nb_node L = nb_sum_all(g, nb_mul(g, nb_relu(g, h), h));
    CHECK_OK(nb_graph_compile(g));
    nb_view v;
    nb_graph_value(g, a, &v);
    for (int i = 0; i < 40; i++) v.data[i] = (float)(i - 20) * 0.25f;
    CHECK_OK(nb_graph_forward(g, L));
    CHECK_OK(nb_graph_backward(g, L));
    nb_graph_grad(g, a, &v);
    bad = 0;
    for (int i = 0; i < 40; i++) {
        float av = (float)(i - 20) * 0.25f, want = av > 0 ? 2 * av : 0.0f;
        bad += v.data[i] != want;
    }
    CHECK(bad == 0);
    nb_graph_free(g);
}

int main(void)
{
    test_direct();
    test_direct_inf();
    test_lowering();
    test_packed_product();
    test_pass();
    test_pool_relu();
    test_pool_values();
    test_graphs();
    return check_exit("test_conv_fast");
}
