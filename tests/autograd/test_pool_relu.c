/* SPDX-License-Identifier: MIT */
/*
 * test_pool_relu.c - the commutation that model building relies on (src/nn/layers.c): a ReLU
 * then a max pool gives the same bits as the max pool then the ReLU, forward (the pooled
 * values) and backward (the input's gradient), on inputs full of ties, zeros of both signs,
 * negatives and NaNs, for 2x2 pools (even and odd sizes) and overlapping, padded windows;
 * the fused node (nb__maxpool2d_relu: one node for a 2x2 pool, the two nodes otherwise) gives
 * those bits too, in a training forward and backward and in an evaluation forward; and a
 * model built from "...; relu; maxpool 2; ..." has one fused node per ReLU and 2x2 pool.
 */
#include "nabla.h"
#include "check.h"
#include "../../src/autograd/autograd.h"

#include <math.h>
#include <string.h>

typedef struct geom {
    int h, w, k, s, p;
} geom;

/* y and dx of sum(dy * f(x)) with f = maxpool(relu(x)) (order 1), relu(maxpool(x)) (0) or
 * the fused node (2); ye: y from an evaluation forward */
static void run(const geom *c, int order, const float *x, const float *dy, float *y, float *dx, float *ye, size_t *ny)
{
    nb_graph *g;
    CHECK_OK(nb_graph_create(&g));
    int64_t xs[4] = {2, 3, c->h, c->w};
    int k[2] = {c->k, c->k}, s[2] = {c->s, c->s}, p[2] = {c->p, c->p};
    nb_node xn = nb_param(g, "x", 4, xs), yn;
    if (order == 1) yn = nb_maxpool2d(g, nb_relu(g, xn), k, s, p);
    else if (order == 0) yn = nb_relu(g, nb_maxpool2d(g, xn, k, s, p));
    else yn = nb__maxpool2d_relu(g, xn, k, s, p);
    int64_t ys[NB_MAX_RANK];
    nb_graph_node_shape(g, yn, ys);
    *ny = (size_t)(ys[0] * ys[1] * ys[2] * ys[3]);
    nb_node L = nb_sum_all(g, nb_mul(g, yn, nb_const(g, "dy", 4, ys, dy)));
    CHECK_OK(nb_graph_compile(g));
    nb_view v;
    nb_graph_value(g, xn, &v);
    memcpy(v.data, x, v.n * sizeof(float));
    CHECK_OK(nb_graph_forward(g, L));
    CHECK_OK(nb_graph_backward(g, L));
    nb_graph_value(g, yn, &v);
    memcpy(y, v.data, v.n * sizeof(float));
    nb_graph_grad(g, xn, &v);
    memcpy(dx, v.data, v.n * sizeof(float));
    nb_graph_set_training(g, 0);
    CHECK_OK(nb_graph_forward(g, L));
    nb_graph_value(g, yn, &v);
    memcpy(ye, v.data, v.n * sizeof(float));
    nb_graph_free(g);
}

static void test_commute(void)
{
    enum { MAX = 2 * 3 * 15 * 15 };
    static float x[MAX], dy[MAX], y0[MAX], y1[MAX], y2[MAX], d0[MAX], d1[MAX], d2[MAX], e0[MAX], e1[MAX], e2[MAX];
    /* 2x2 windows on planes 8 and 15 wide (two output rows to a vector) and 9 and 36 (one) */
    const geom cases[] = {{8, 8, 2, 2, 0}, {7, 9, 2, 2, 0}, {11, 13, 3, 2, 1}, {6, 6, 3, 1, 1}, {15, 15, 2, 2, 0}, {5, 36, 2, 2, 0}};
    const float vals[] = {-2.0f, -1.0f, -0.0f, 0.0f, 1.0f, 2.0f};
    nb_rng r;
    nb_rng_seed(&r, 19);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t n = (size_t)(2 * 3 * cases[c].h * cases[c].w), ny, ny1;
        for (size_t i = 0; i < n; i++) x[i] = vals[nb_rng_below(&r, 6)];
        for (size_t i = 0; i < n / 2; i++) x[i] = -x[i] - 1.0f; /* whole windows <= 0 */
        x[5] = NAN, x[n - 3] = NAN;
        for (size_t i = 0; i < MAX; i++) dy[i] = nb_rng_normal(&r);
        run(&cases[c], 1, x, dy, y0, d0, e0, &ny);
        run(&cases[c], 0, x, dy, y1, d1, e1, &ny1);
        CHECK(ny == ny1);
        CHECK(memcmp(y0, y1, ny * sizeof(float)) == 0);
        CHECK(memcmp(d0, d1, n * sizeof(float)) == 0);
        run(&cases[c], 2, x, dy, y2, d2, e2, &ny1);
        CHECK(ny == ny1);
        CHECK(memcmp(y0, y2, ny * sizeof(float)) == 0);
        CHECK(memcmp(d0, d2, n * sizeof(float)) == 0);
        CHECK(memcmp(e0, e1, ny * sizeof(float)) == 0 && memcmp(e0, e2, ny * sizeof(float)) == 0);
        CHECK(memcmp(y0, e0, ny * sizeof(float)) == 0);
        /* the cases are in the data: NaN windows, positive maxima, and maxima <= 0 (+0 out) */
        int nan = 0, pos = 0, zero = 0;
        for (size_t i = 0; i < ny; i++) nan += isnan(y0[i]), pos += y0[i] > 0.0f, zero += y0[i] == 0.0f;
        CHECK(nan > 0 && pos > 0 && zero > 0);
    }
}

/* a model's graph: each max pool reads the convolution and applies the ReLU itself (one node,
 * "maxpool2d+relu" in the graph's DOT text); no ReLU node is left */
static void test_model_order(void)
{
    nb_model *m;
    CHECK_OK(nb_model_parse("conv 4 3x3 pad 1; relu; maxpool 2; conv 4 3x3; relu; maxpool 2; flatten; dense 3",
                            NB_TASK_CLASSIFY, &m));
    CHECK_OK(nb_model_build(m, 3, (int64_t[]){1, 12, 12}, 3));
    nb_graph *g = nb_model_graph(m);
    int pools = 0, bad = 0;
    for (int i = 0; i < nb_graph_node_count(g); i++) {
        const nb_node *in;
        if (nb_graph_node_op(g, i) == NB_OP_MAXPOOL2D) {
            pools++;
            bad += nb_graph_node_inputs(g, i, &in) != 1 || nb_graph_node_op(g, in[0]) != NB_OP_CONV2D;
        }
        bad += nb_graph_node_op(g, i) == NB_OP_RELU;
    }
    CHECK(pools == 2);
    CHECK(bad == 0);
    char *dot = NULL;
    CHECK_OK(nb_graph_dot(g, 0, &dot));
    int fused = 0;
    for (const char *q = dot; q && (q = strstr(q, "maxpool2d+relu")); q++) fused++;
    CHECK(fused == 2);
    nb_free(dot);
    nb_model_free(m);
}

int main(void)
{
    test_commute();
    test_model_order();
    return check_exit("test_pool_relu");
}
