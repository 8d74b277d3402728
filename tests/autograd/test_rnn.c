/* SPDX-License-Identifier: MIT */
/*
 * test_rnn.c - the fused recurrent operator (nb_rnn):
 *  - every cell x {one, two directions} x {LAST, SEQUENCE, MEAN} with lengths T, 0 and in
 *    between: forward against a double-precision oracle written here, backward (x and every
 *    parameter) against central finite differences of that oracle in double (GRAD_TOL, as
 *    test_ops.c: a backward off by 1% in any element fails);
 *  - PyTorch parity on tests/ref/rnn_ref.txt (tests/ref/make_rnn_ref.py: nn.RNN / LSTM / GRU
 *    over pack_padded_sequence): outputs and every gradient within 1e-5 relative;
 *  - 1 and 2 threads give the same bytes; a row's output and gradient are the same bytes
 *    when another row's length changes; bad lengths and shapes fail with clear messages.
 */
#include "nabla.h"
#include "check.h"
#include "ref_reader.h"

/* the oracle computes in double on purpose */
#pragma GCC diagnostic ignored "-Wdouble-promotion"

#include <stdlib.h>

#define GRAD_TOL 1e-4

static int gates(nb_rnn_cell c) { return c == NB_CELL_LSTM ? 4 : c == NB_CELL_GRU ? 3 : 1; }
static double sigm(double v) { return 1.0 / (1.0 + exp(-v)); }

typedef struct {
    nb_rnn_desc d;
    int B, T, F;
    const int *len;
} shape_t;

/* p[k]: 4 tensors per direction (w_ih, w_hh, b_ih, b_hh); y: the operator's output */
static void oracle(const shape_t *s, const double *x, double *const *p, double *y)
{
    int H = s->d.hidden, G = gates(s->d.cell), D = s->d.bidirectional ? 2 : 1, DH = D * H, T = s->T;
    size_t ny = (size_t)s->B * (s->d.output == NB_RNN_SEQUENCE ? (size_t)T : 1) * (size_t)DH;
    for (size_t i = 0; i < ny; i++) y[i] = 0;
    double h[16], c[16], a[64], hh[64];
    for (int b = 0; b < s->B; b++)
        for (int d = 0; d < D; d++) {
            const double *wih = p[4 * d], *whh = p[4 * d + 1], *bih = p[4 * d + 2], *bhh = p[4 * d + 3];
            int len = s->len[b];
            for (int j = 0; j < H; j++) h[j] = c[j] = 0;
            for (int st = 0; st < len; st++) {
                int t = d ? len - 1 - st : st;
                const double *xt = x + ((size_t)b * (size_t)T + (size_t)t) * (size_t)s->F;
                for (int k = 0; k < G * H; k++) {
                    double u = bih[k], v = bhh[k];
                    for (int f = 0; f < s->F; f++) u += wih[k * s->F + f] * xt[f];
                    for (int j = 0; j < H; j++) v += whh[k * H + j] * h[j];
                    a[k] = u, hh[k] = v;
                }
                for (int j = 0; j < H; j++) {
                    if (s->d.cell == NB_CELL_TANH) {
                        h[j] = tanh(a[j] + hh[j]);
                    } else if (s->d.cell == NB_CELL_LSTM) {
                        double i = sigm(a[j] + hh[j]), f = sigm(a[H + j] + hh[H + j]);
                        double g = tanh(a[2 * H + j] + hh[2 * H + j]), o = sigm(a[3 * H + j] + hh[3 * H + j]);
                        c[j] = f * c[j] + i * g;
                        h[j] = o * tanh(c[j]);
                    } else {
                        double r = sigm(a[j] + hh[j]), z = sigm(a[H + j] + hh[H + j]);
                        double n = tanh(a[2 * H + j] + r * hh[2 * H + j]);
                        hh[j] = (1 - z) * n + z * h[j]; /* the new state, kept apart until all j are done */
                    }
                }
                if (s->d.cell == NB_CELL_GRU)
                    for (int j = 0; j < H; j++) h[j] = hh[j];
                for (int j = 0; j < H; j++) {
                    if (s->d.output == NB_RNN_SEQUENCE) y[((size_t)b * (size_t)T + (size_t)t) * (size_t)DH + (size_t)(d * H + j)] = h[j];
                    if (s->d.output == NB_RNN_MEAN) y[(size_t)b * (size_t)DH + (size_t)(d * H + j)] += h[j] / len;
                }
            }
            if (s->d.output == NB_RNN_LAST)
                for (int j = 0; j < H; j++) y[(size_t)b * (size_t)DH + (size_t)(d * H + j)] = h[j];
        }
}

/* A graph computing y = nb_rnn(...) and L = sum(y * wy) with wy a constant. */
typedef struct {
    nb_graph *g;
    nb_node x, len, p[8], y, L;
    int np;
} net_t;

static void build(net_t *n, const shape_t *s, const float *wy, int with_len)
{
    int H = s->d.hidden, G = gates(s->d.cell), D = s->d.bidirectional ? 2 : 1;
    CHECK_OK(nb_graph_create(&n->g));
    n->x = nb_param(n->g, "x", 3, (int64_t[]){s->B, s->T, s->F});
    n->len = with_len ? nb_input(n->g, "len", 1, (int64_t[]){s->B}) : -1;
    n->np = 4 * D;
    for (int k = 0; k < n->np; k++) {
        int64_t sh[2] = {G * H, k % 4 == 0 ? s->F : H};
        n->p[k] = nb_param(n->g, NULL, k % 4 < 2 ? 2 : 1, sh);
    }
    n->y = nb_rnn(n->g, &s->d, n->x, n->len, n->p);
    int64_t ys[NB_MAX_RANK];
    int yr = nb_graph_node_shape(n->g, n->y, ys);
    CHECK(yr == (s->d.output == NB_RNN_SEQUENCE ? 3 : 2));
    n->L = nb_sum_all(n->g, nb_mul(n->g, n->y, nb_const(n->g, "wy", yr, ys, wy)));
    CHECK_OK(nb_graph_compile(n->g));
}

static void set(nb_graph *g, nb_node node, const float *v)
{
    nb_view vv;
    CHECK_OK(nb_graph_value(g, node, &vv));
    memcpy(vv.data, v, vv.n * sizeof(float));
}

static size_t numel_p(const shape_t *s, int k)
{
    size_t GH = (size_t)(gates(s->d.cell) * s->d.hidden);
    return k % 4 == 0 ? GH * (size_t)s->F : k % 4 == 1 ? GH * (size_t)s->d.hidden : GH;
}

static size_t numel_y(const shape_t *s)
{
    return (size_t)s->B * (s->d.output == NB_RNN_SEQUENCE ? (size_t)s->T : 1) * (size_t)(s->d.hidden * (s->d.bidirectional ? 2 : 1));
}

static double loss_of(const shape_t *s, const double *x, double *const *p, const double *wy, double *y)
{
    oracle(s, x, p, y);
    double L = 0;
    for (size_t i = 0; i < numel_y(s); i++) L += wy[i] * y[i];
    return L;
}

static double worst_;

/* gradient of one tensor (t: x when -1, else parameter t) by central differences of the oracle */
static void check_one(const char *where, const shape_t *s, double *x, double **p, const double *wy, double *y,
                      const float *got, int t, size_t n)
{
    double *v = t < 0 ? x : p[t], *e = malloc(n * sizeof *e), big = 1e-6;
    for (size_t i = 0; i < n; i++) {
        double keep = v[i], h = 1e-6;
        v[i] = keep + h;
        double lp = loss_of(s, x, p, wy, y);
        v[i] = keep - h;
        double lm = loss_of(s, x, p, wy, y);
        v[i] = keep;
        e[i] = (lp - lm) / (2 * h);
        big = fmax(big, fabs(e[i]));
    }
    int shown = 0;
    for (size_t i = 0; i < n; i++) {
        double err = fabs((double)got[i] - e[i]);
        worst_ = fmax(worst_, err / big);
        check_count_++;
        if (err <= GRAD_TOL * big) continue;
        check_failures_++;
        if (shown++ < 3)
            fprintf(stderr, "  %s: %s%d gradient [%zu] = %.9g, expected %.9g\n", where, t < 0 ? "x" : "param ", t, i,
                    (double)got[i], e[i]);
    }
    free(e);
}

static float frand(nb_rng *r, float scale) { return (nb_rng_uniform(r) * 2.0f - 1.0f) * scale; }

static void gradcheck_case(nb_rnn_cell cell, int bidir, nb_rnn_output out)
{
    static const int lens[4] = {4, 0, 2, 3};
    static const char *cn[] = {"tanh", "lstm", "gru"}, *on[] = {"last", "sequence", "mean"};
    shape_t s = {{cell, 3, bidir, out}, 4, 4, 3, lens};
    char where[64];
    snprintf(where, sizeof where, "%s %s %s", cn[cell], bidir ? "bi" : "uni", on[out]);
    nb_rng r;
    nb_rng_seed(&r, 15u + (unsigned)(cell * 6 + bidir * 3 + (int)out));
    size_t nx = (size_t)(s.B * s.T * s.F), ny = numel_y(&s);
    float *xf = malloc(nx * sizeof *xf), *wf = malloc(ny * sizeof *wf), *pf[8];
    double *xd = malloc(nx * sizeof *xd), *wd = malloc(ny * sizeof *wd), *yd = malloc(ny * sizeof *yd), *pd[8];
    for (size_t i = 0; i < nx; i++) xf[i] = frand(&r, 1.5f), xd[i] = xf[i];
    for (size_t i = 0; i < ny; i++) wf[i] = frand(&r, 1.0f), wd[i] = wf[i];
    net_t n;
    build(&n, &s, wf, 1);
    for (int k = 0; k < n.np; k++) {
        size_t m = numel_p(&s, k);
        pf[k] = malloc(m * sizeof(float)), pd[k] = malloc(m * sizeof(double));
        for (size_t i = 0; i < m; i++) pf[k][i] = frand(&r, 0.7f), pd[k][i] = pf[k][i];
        set(n.g, n.p[k], pf[k]);
    }
    float lf[4] = {4, 0, 2, 3};
    set(n.g, n.x, xf);
    set(n.g, n.len, lf);
    nb_graph_zero_grad(n.g);
    CHECK_OK(nb_graph_forward(n.g, n.L));
    CHECK_OK(nb_graph_backward(n.g, n.L));
    nb_view yv, gv;
    nb_graph_value(n.g, n.y, &yv);
    oracle(&s, xd, pd, yd);
    int bad = 0;
    for (size_t i = 0; i < ny; i++) {
        check_count_++;
        if (fabs((double)yv.data[i] - yd[i]) <= 1e-5 + 1e-5 * fabs(yd[i])) continue;
        check_failures_++;
        if (bad++ < 3) fprintf(stderr, "  %s: y[%zu] = %.9g, oracle %.9g\n", where, i, (double)yv.data[i], yd[i]);
    }
    worst_ = 0;
    CHECK_OK(nb_graph_grad(n.g, n.x, &gv));
    check_one(where, &s, xd, pd, wd, yd, gv.data, -1, nx);
    /* padded steps get no gradient: exactly 0 */
    for (int b = 0; b < s.B; b++)
        for (int t = lens[b]; t < s.T; t++)
            for (int f = 0; f < s.F; f++) CHECK(gv.data[(b * s.T + t) * s.F + f] == 0.0f);
    for (int k = 0; k < n.np; k++) {
        CHECK_OK(nb_graph_grad(n.g, n.p[k], &gv));
        check_one(where, &s, xd, pd, wd, yd, gv.data, k, numel_p(&s, k));
    }
    if (getenv("TEST_OPS_VERBOSE")) printf("  %-22s worst |error| / max|expected| = %.2e\n", where, worst_);
    nb_graph_free(n.g);
    for (int k = 0; k < n.np; k++) free(pf[k]), free(pd[k]);
    free(xf), free(wf), free(xd), free(wd), free(yd);
}

/* ---- PyTorch parity */


static double ref_worst_;

static void compare(const char *cs, const char *what, const float *got, const ref_t *want)
{
    /* float32 recurrences summed in another order than PyTorch's: 1e-5 relative to the
     * tensor's largest magnitude */
    double big = 1e-6;
    for (size_t i = 0; i < want->n; i++) big = fmax(big, fabs((double)want->v[i]));
    int bad = 0;
    for (size_t i = 0; i < want->n; i++) {
        double err = fabs((double)got[i] - (double)want->v[i]);
        ref_worst_ = fmax(ref_worst_, err / big);
        check_count_++;
        if (err <= 1e-5 * big) continue;
        check_failures_++;
        if (bad++ < 3) fprintf(stderr, "  %s %s[%zu]: nabla %.9g, pytorch %.9g\n", cs, what, i, (double)got[i], (double)want->v[i]);
    }
}

static int run_ref_case(FILE *f)
{
    char name[64], cell[8], out[16];
    int bidir, B, T, F, H;
    if (fscanf(f, " case %63s %7s %d %15s %d %d %d %d", name, cell, &bidir, out, &B, &T, &F, &H) != 8) return 0;
    int lens[8];
    if (B > 8 || fscanf(f, " lengths") != 0) return 0;
    for (int b = 0; b < B; b++)
        if (fscanf(f, "%d", &lens[b]) != 1) return 0;
    nb_rnn_desc d = {!strcmp(cell, "lstm") ? NB_CELL_LSTM : !strcmp(cell, "gru") ? NB_CELL_GRU : NB_CELL_TANH, H, bidir,
                     !strcmp(out, "sequence") ? NB_RNN_SEQUENCE : !strcmp(out, "mean") ? NB_RNN_MEAN : NB_RNN_LAST};
    shape_t s = {d, B, T, F, lens};
    int np = bidir ? 8 : 4, ok = 1;
    ref_t x = {0}, p[8] = {{0}}, dy = {0}, y = {0}, dx = {0}, dp[8] = {{0}};
    ok = read_tensor(f, "x", &x);
    for (int k = 0; k < np && ok; k++) ok = read_tensor(f, "p", &p[k]);
    ok = ok && read_tensor(f, "dy", &dy) && read_tensor(f, "y", &y) && read_tensor(f, "dx", &dx);
    for (int k = 0; k < np && ok; k++) ok = read_tensor(f, "dp", &dp[k]);
    CHECK(ok);
    if (ok) {
        net_t n;
        build(&n, &s, dy.v, 1);
        float lf[8];
        for (int b = 0; b < B; b++) lf[b] = (float)lens[b];
        set(n.g, n.x, x.v), set(n.g, n.len, lf);
        for (int k = 0; k < np; k++) set(n.g, n.p[k], p[k].v);
        CHECK_OK(nb_graph_forward(n.g, n.L));
        CHECK_OK(nb_graph_backward(n.g, n.L));
        nb_view v;
        nb_graph_value(n.g, n.y, &v);
        CHECK(v.n == y.n);
        if (v.n == y.n) compare(name, "y", v.data, &y);
        nb_graph_grad(n.g, n.x, &v), compare(name, "dx", v.data, &dx);
        for (int k = 0; k < np; k++) {
            char what[24];
            snprintf(what, sizeof what, "dparam%d", k);
            nb_graph_grad(n.g, n.p[k], &v), compare(name, what, v.data, &dp[k]);
        }
        nb_graph_free(n.g);
    }
    free(x.v), free(dy.v), free(y.v), free(dx.v);
    for (int k = 0; k < 8; k++) free(p[k].v), free(dp[k].v);
    return ok;
}

static void test_pytorch(void)
{
    FILE *f = fopen("tests/ref/rnn_ref.txt", "r");
    CHECK(f != NULL);
    if (!f) return;
    char line[256];
    CHECK(fgets(line, sizeof line, f) != NULL); /* header comment */
    int cases = 0;
    while (run_ref_case(f)) cases++;
    CHECK(cases == 18);
    fclose(f);
    if (getenv("TEST_OPS_VERBOSE")) printf("  pytorch: %d cases, worst |error| / max|expected| = %.2e\n", cases, ref_worst_);
}

/* ---- determinism and row independence, on a size where the products take the packed,
 * threaded GEMM (B T = 384 rows; B x G H x H = 128 x 384 x 96 per step) and the LSTM's and
 * GRU's rows are split over the threads (B G H >= NB__PARALLEL_MIN_FLOATS) */

enum { BIG_B = 128, BIG_T = 3 };

typedef struct {
    float *y, *dx, *dp[8];
} run_t;

static void run_big(const shape_t *s, int threads, const float *lens, run_t *out)
{
    nb_set_threads(threads);
    nb_rng r;
    nb_rng_seed(&r, 99);
    size_t nx = (size_t)(s->B * s->T * s->F), ny = numel_y(s);
    float *xf = malloc(nx * sizeof *xf), *wf = malloc(ny * sizeof *wf);
    for (size_t i = 0; i < nx; i++) xf[i] = frand(&r, 1.0f);
    for (size_t i = 0; i < ny; i++) wf[i] = frand(&r, 1.0f);
    net_t n;
    build(&n, s, wf, 1);
    for (int k = 0; k < n.np; k++) {
        size_t m = numel_p(s, k);
        float *pv = malloc(m * sizeof *pv);
        for (size_t i = 0; i < m; i++) pv[i] = frand(&r, 0.2f);
        set(n.g, n.p[k], pv);
        free(pv);
    }
    set(n.g, n.x, xf), set(n.g, n.len, lens);
    nb_graph_zero_grad(n.g);
    CHECK_OK(nb_graph_forward(n.g, n.L));
    CHECK_OK(nb_graph_backward(n.g, n.L));
    nb_view v;
    nb_graph_value(n.g, n.y, &v);
    out->y = malloc(v.n * sizeof(float)), memcpy(out->y, v.data, v.n * sizeof(float));
    nb_graph_grad(n.g, n.x, &v);
    out->dx = malloc(v.n * sizeof(float)), memcpy(out->dx, v.data, v.n * sizeof(float));
    for (int k = 0; k < n.np; k++) {
        nb_graph_grad(n.g, n.p[k], &v);
        out->dp[k] = malloc(v.n * sizeof(float)), memcpy(out->dp[k], v.data, v.n * sizeof(float));
    }
    nb_graph_free(n.g);
    free(xf), free(wf);
    nb_set_threads(1);
}

static void free_run(run_t *r, int np)
{
    free(r->y), free(r->dx);
    for (int k = 0; k < np; k++) free(r->dp[k]);
}

static void test_threads_and_rows(void)
{
    int lens[BIG_B];
    float la[BIG_B], lb[BIG_B];
    for (int b = 0; b < BIG_B; b++) lens[b] = (b * 7) % (BIG_T + 1), la[b] = lb[b] = (float)lens[b];
    lb[1] = 1; /* row 1: 3 steps in la, 1 in lb */
    for (int cell = 0; cell < 3; cell++)
        for (int out = 0; out < 3; out++) {
            shape_t s = {{(nb_rnn_cell)cell, 96, 1, (nb_rnn_output)out}, BIG_B, BIG_T, 16, lens};
            size_t ny = numel_y(&s), nx = (size_t)(s.B * s.T * s.F);
            run_t r2, r3;
            run_big(&s, 2, la, &r2);
            if (out == NB_RNN_SEQUENCE) { /* 1 and 2 threads: the same bytes */
                run_t r1;
                run_big(&s, 1, la, &r1);
                CHECK(memcmp(r1.y, r2.y, ny * sizeof(float)) == 0);
                CHECK(memcmp(r1.dx, r2.dx, nx * sizeof(float)) == 0);
                for (int k = 0; k < 8; k++) CHECK(memcmp(r1.dp[k], r2.dp[k], numel_p(&s, k) * sizeof(float)) == 0);
                free_run(&r1, 8);
            }
            run_big(&s, 2, lb, &r3);
            /* every other row: the same bytes in y and in d(loss)/dx (each row's own) */
            size_t yrow = ny / BIG_B, xrow = nx / BIG_B;
            int same = 1;
            for (int b = 0; b < BIG_B; b++)
                if (b != 1)
                    same &= !memcmp(r2.y + (size_t)b * yrow, r3.y + (size_t)b * yrow, yrow * sizeof(float)) &&
                            !memcmp(r2.dx + (size_t)b * xrow, r3.dx + (size_t)b * xrow, xrow * sizeof(float));
            CHECK(same);
            CHECK(memcmp(r2.y + yrow, r3.y + yrow, yrow * sizeof(float)) != 0); /* row 1 did change */
            free_run(&r2, 8), free_run(&r3, 8);
        }
}

/* ---- errors */

static void test_errors(void)
{
    int lens[2] = {3, 3};
    shape_t s = {{NB_CELL_GRU, 2, 0, NB_RNN_LAST}, 2, 3, 2, lens};
    float wy[4] = {1, 1, 1, 1};
    net_t n;
    build(&n, &s, wy, 1);
    float bad[3][2] = {{3, 4}, {1.5f, 2}, {-1, 0}};
    for (int i = 0; i < 3; i++) {
        set(n.g, n.len, bad[i]);
        CHECK_ERR(nb_graph_forward(n.g, n.L), NB_ERR_ARG, i == 0 ? "row 1" : "row 0");
    }
    nb_graph_free(n.g);
    /* shapes: wrong gate count in w_ih, lengths of the wrong size, x not rank 3 */
    nb_graph *g;
    CHECK_OK(nb_graph_create(&g));
    nb_node x = nb_input(g, "x", 3, (int64_t[]){NB_BATCH, 3, 2});
    nb_node p[4] = {nb_param(g, NULL, 2, (int64_t[]){4, 2}), nb_param(g, NULL, 2, (int64_t[]){6, 2}),
                    nb_param(g, NULL, 1, (int64_t[]){6}), nb_param(g, NULL, 1, (int64_t[]){6})};
    nb_rnn_desc d = {NB_CELL_GRU, 2, 0, NB_RNN_SEQUENCE};
    CHECK(nb_rnn(g, &d, x, -1, p) < 0);
    CHECK(strstr(nb_errmsg(), "rnn") && strstr(nb_errmsg(), "w_ih"));
    nb_graph_free(g);
    CHECK_OK(nb_graph_create(&g));
    x = nb_input(g, "x", 3, (int64_t[]){NB_BATCH, 3, 2});
    nb_node l = nb_input(g, "len", 1, (int64_t[]){5});
    p[0] = nb_param(g, NULL, 2, (int64_t[]){6, 2}), p[1] = nb_param(g, NULL, 2, (int64_t[]){6, 2});
    p[2] = nb_param(g, NULL, 1, (int64_t[]){6}), p[3] = nb_param(g, NULL, 1, (int64_t[]){6});
    CHECK(nb_rnn(g, &d, x, l, p) < 0);
    CHECK(strstr(nb_errmsg(), "lengths must be (B)") != NULL);
    nb_graph_free(g);
    CHECK_OK(nb_graph_create(&g));
    x = nb_input(g, "x", 2, (int64_t[]){3, 2});
    p[0] = nb_param(g, NULL, 2, (int64_t[]){6, 2}), p[1] = nb_param(g, NULL, 2, (int64_t[]){6, 2});
    p[2] = nb_param(g, NULL, 1, (int64_t[]){6}), p[3] = nb_param(g, NULL, 1, (int64_t[]){6});
    CHECK(nb_rnn(g, &d, x, -1, p) < 0);
    CHECK(strstr(nb_errmsg(), "(B, T, F)") != NULL);
    nb_graph_free(g);
    /* without lengths, and with a batch dimension: every row runs T steps */
    CHECK_OK(nb_graph_create(&g));
    x = nb_input(g, "x", 3, (int64_t[]){NB_BATCH, 3, 2});
    p[0] = nb_param(g, NULL, 2, (int64_t[]){6, 2}), p[1] = nb_param(g, NULL, 2, (int64_t[]){6, 2});
    p[2] = nb_param(g, NULL, 1, (int64_t[]){6}), p[3] = nb_param(g, NULL, 1, (int64_t[]){6});
    nb_node y = nb_rnn(g, &d, x, -1, p);
    CHECK(y >= 0);
    CHECK_OK(nb_graph_compile(g));
    CHECK_OK(nb_graph_set_batch(g, 5));
    int64_t ys[NB_MAX_RANK];
    CHECK(nb_graph_node_shape(g, y, ys) == 3 && ys[0] == 5 && ys[1] == 3 && ys[2] == 2);
    nb_graph_free(g);
}

int main(void)
{
    for (int cell = 0; cell < 3; cell++)
        for (int bidir = 0; bidir < 2; bidir++)
            for (int out = 0; out < 3; out++) gradcheck_case((nb_rnn_cell)cell, bidir, (nb_rnn_output)out);
    test_pytorch();
    test_threads_and_rows();
    test_errors();
    return check_exit("test_rnn");
}
