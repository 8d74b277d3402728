/* SPDX-License-Identifier: MIT */
/*
 * test_long_sums.c - sums along long axes against double references: a plain float loop over
 * 10^6 terms drifts by ~1e-5 relative, blocked summation (src/ops/ops.h) stays near 1e-7.
 * Covers the sum kernel (nb_sum, nb_mean along an axis, strided or not) and batch norm's
 * beta and gamma gradients over 60k rows.
 */
#include "nabla.h"
#include "check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* a fixed positive pattern: every term adds rounding error of the same sign's magnitude */
static float pattern(size_t i) { return 0.1f + 0.37f * (float)(i % 7) + 1e-3f * (float)(i % 101); }

static double rel(double got, double want) { return fabs(got - want) / fabs(want); }

/* nb_sum / nb_mean of (L) along axis 0, and of (L, 3) along axis 0 (stride 3) */
static void test_sum_axis(void)
{
    const int64_t L = 1000000;
    for (int strided = 0; strided < 2; strided++)
        for (int mean = 0; mean < 2; mean++) {
            int64_t in = strided ? 3 : 1, shape[2] = {L, in};
            nb_graph *g;
            CHECK_OK(nb_graph_create(&g));
            nb_node x = nb_param(g, "x", strided ? 2 : 1, shape);
            nb_node y = mean ? nb_mean(g, x, 0) : nb_sum(g, x, 0);
            nb_node loss = nb_sum_all(g, y);
            CHECK_OK(nb_graph_compile(g));
            nb_view xv, yv;
            CHECK_OK(nb_graph_value(g, x, &xv));
            for (size_t i = 0; i < xv.n; i++) xv.data[i] = pattern(i);
            CHECK_OK(nb_graph_forward(g, loss));
            CHECK_OK(nb_graph_value(g, y, &yv));
            CHECK(yv.n == (size_t)in);
            for (int64_t j = 0; j < in && yv.n == (size_t)in; j++) {
                double want = 0;
                for (int64_t k = 0; k < L; k++) want += (double)xv.data[k * in + j];
                if (mean) want /= (double)L;
                double e = rel((double)yv.data[j], want);
                CHECK(e < 1e-6);
                if (!(e < 1e-6))
                    fprintf(stderr, "  %s of 10^6 (stride %lld): relative error %.3g\n", mean ? "mean" : "sum", (long long)in, e);
            }
            nb_graph_free(g);
        }
}

/* batch norm over (60000, 2): dL/dbeta = sum_n dy, dL/dgamma = sum_n dy x_hat, with dy = R */
static void test_batchnorm_grads(void)
{
    const int64_t N = 60000, C = 2, shape[2] = {N, C}, cs[1] = {C};
    float *r = malloc((size_t)(N * C) * sizeof *r);
    for (size_t i = 0; i < (size_t)(N * C); i++) r[i] = pattern(i);
    float ones[2] = {1.0f, 1.0f};
    nb_graph *g;
    CHECK_OK(nb_graph_create(&g));
    nb_node x = nb_param(g, "x", 2, shape), gam = nb_param(g, "gamma", 1, cs), bet = nb_param(g, "beta", 1, cs);
    nb_node rm = nb_const(g, "rm", 1, cs, NULL), rv = nb_const(g, "rv", 1, cs, ones);
    nb_node y = nb_batchnorm(g, x, gam, bet, rm, rv, 0.1f, 1e-5f);
    nb_node loss = nb_sum_all(g, nb_mul(g, y, nb_const(g, "R", 2, shape, r)));
    CHECK_OK(nb_graph_compile(g));
    nb_view xv, gv, bg, gg;
    CHECK_OK(nb_graph_value(g, x, &xv));
    for (size_t i = 0; i < xv.n; i++) xv.data[i] = pattern(3 * i + 1) - 1.0f;
    CHECK_OK(nb_graph_value(g, gam, &gv));
    gv.data[0] = gv.data[1] = 1.0f;
    CHECK_OK(nb_graph_forward(g, loss));
    nb_graph_zero_grad(g);
    CHECK_OK(nb_graph_backward(g, loss));
    CHECK_OK(nb_graph_grad(g, bet, &bg));
    CHECK_OK(nb_graph_grad(g, gam, &gg));
    for (int64_t c = 0; c < C; c++) {
        /* x_hat in double from the same float inputs */
        double mu = 0, var = 0, sb = 0, sg = 0;
        for (int64_t n = 0; n < N; n++) mu += (double)xv.data[n * C + c];
        mu /= (double)N;
        for (int64_t n = 0; n < N; n++) var += ((double)xv.data[n * C + c] - mu) * ((double)xv.data[n * C + c] - mu);
        double inv = 1.0 / sqrt(var / (double)N + 1e-5);
        for (int64_t n = 0; n < N; n++) {
            sb += (double)r[n * C + c];
            sg += (double)r[n * C + c] * ((double)xv.data[n * C + c] - mu) * inv;
        }
        double eb = rel((double)bg.data[c], sb), eg = fabs((double)gg.data[c] - sg) / sb;
        CHECK(eb < 1e-6);
        CHECK(eg < 1e-6); /* gamma's terms cancel: relative to the sum of |dy| */
        if (!(eb < 1e-6 && eg < 1e-6))
            fprintf(stderr, "  batch norm over 60k rows, channel %lld: beta grad rel error %.3g, gamma %.3g\n", (long long)c, eb, eg);
    }
    nb_graph_free(g);
    free(r);
}

int main(void)
{
    test_sum_axis();
    test_batchnorm_grads();
    return check_exit("test_long_sums");
}
