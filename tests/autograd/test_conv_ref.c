/* SPDX-License-Identifier: MIT */
/*
 * test_conv_ref.c - conv2d, max pooling and average pooling against PyTorch: forward values
 * and the gradients of x, w and b for an upstream gradient dy, on the cases of
 * tests/ref/conv_ref.txt (made by tests/ref/make_conv_ref.py with python3-torch): batch > 1,
 * stride > 1, padding, dilation, non-square kernels.
 */
#include "nabla.h"
#include "check.h"
#include "ref_reader.h"

#include <stdlib.h>


static void compare(const char *cs, const char *what, const float *got, const ref_t *want)
{
    /* float32 sums of up to ~30 products in a different order: a few ulps of the magnitudes */
    int bad = 0;
    for (size_t i = 0; i < want->n && bad < 3; i++)
        if (!(fabsf(got[i] - want->v[i]) <= 1e-5f + 1e-5f * fabsf(want->v[i]))) {
            fprintf(stderr, "  %s %s[%zu]: nabla %.9g, pytorch %.9g\n", cs, what, i, (double)got[i], (double)want->v[i]);
            bad++;
        }
    CHECK(bad == 0);
}

static void run_case(FILE *f)
{
    char name[64], op[8];
    int k[2], s[2], p[2], d[2], bias;
    if (fscanf(f, " case %63s %7s %d %d %d %d %d %d %d %d %d", name, op, &k[0], &k[1], &s[0], &s[1], &p[0], &p[1], &d[0], &d[1], &bias) != 11) {
        CHECK(0);
        return;
    }
    int conv = strcmp(op, "conv") == 0;
    ref_t x = {0}, w = {0}, b = {0}, dy = {0}, y = {0}, dx = {0}, dw = {0}, db = {0};
    int ok = read_tensor(f, "x", &x) && (!conv || read_tensor(f, "w", &w)) && (!bias || read_tensor(f, "b", &b)) &&
             read_tensor(f, "dy", &dy) && read_tensor(f, "y", &y) && read_tensor(f, "dx", &dx) &&
             (!conv || read_tensor(f, "dw", &dw)) && (!bias || read_tensor(f, "db", &db));
    CHECK(ok);
    if (ok) {
        nb_graph *g;
        nb_graph_create(&g);
        nb_node xn = nb_param(g, "x", 4, x.shape), wn = -1, bn = -1, yn;
        if (conv) wn = nb_param(g, "w", 4, w.shape);
        if (bias) bn = nb_param(g, "b", 1, b.shape);
        if (conv) yn = bias ? nb_conv2d_bias(g, xn, wn, bn, s, p, d) : nb_conv2d(g, xn, wn, s, p, d);
        else if (op[0] == 'm') yn = nb_maxpool2d(g, xn, k, s, p);
        else yn = nb_avgpool2d(g, xn, k, s, p);
        nb_node L = nb_sum_all(g, nb_mul(g, yn, nb_const(g, "dy", dy.rank, dy.shape, dy.v)));
        CHECK_OK(nb_graph_compile(g));
        nb_view v;
        nb_graph_value(g, xn, &v), memcpy(v.data, x.v, x.n * sizeof(float));
        if (conv) nb_graph_value(g, wn, &v), memcpy(v.data, w.v, w.n * sizeof(float));
        if (bias) nb_graph_value(g, bn, &v), memcpy(v.data, b.v, b.n * sizeof(float));
        CHECK_OK(nb_graph_forward(g, L));
        CHECK_OK(nb_graph_backward(g, L));
        nb_graph_value(g, yn, &v);
        CHECK(v.n == y.n);
        if (v.n == y.n) compare(name, "y", v.data, &y);
        nb_graph_grad(g, xn, &v), compare(name, "dx", v.data, &dx);
        if (conv) nb_graph_grad(g, wn, &v), compare(name, "dw", v.data, &dw);
        if (bias) nb_graph_grad(g, bn, &v), compare(name, "db", v.data, &db);
        nb_graph_free(g);
    }
    free(x.v), free(w.v), free(b.v), free(dy.v), free(y.v), free(dx.v), free(dw.v), free(db.v);
}

int main(void)
{
    FILE *f = fopen("tests/ref/conv_ref.txt", "r");
    CHECK(f != NULL);
    if (!f) return check_exit("test_conv_ref");
    char line[256];
    CHECK(fgets(line, sizeof line, f) != NULL); /* header comment */
    for (int i = 0; i < 6; i++) run_case(f);
    fclose(f);
    return check_exit("test_conv_ref");
}
