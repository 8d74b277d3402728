/* SPDX-License-Identifier: MIT */
/*
 * op_softmax.c - softmax and log-softmax along an axis, and the fused losses: softmax
 * cross-entropy, binary cross-entropy with logits and the halved mean squared error.
 * Fusing is for numerics: log-sum-exp with the row max subtracted and ln(1 + e^-|x|) keep
 * logits of +-1000 finite, and the backward passes are the clean p - t forms (p * sum(t) - t for
 * soft targets whose rows do not sum to 1).
 */
#include "graph.h"
#include "../ops/ops.h"

#include <math.h>
#include <string.h>

static int softmax_infer(nb_graph *g, nb__node *nd)
{
    const nb__node *x = nb__in(g, nd, 0);
    int ax;
    if (!nb__norm_axis(x, nd->attr.axis, &ax)) return nb__shape_error(g, nd, "axis out of range");
    return nb__set_shape(nd, x->rank, x->shape);
}

static void softmax_split(nb_graph *g, const nb__node *nd, size_t *o, size_t *l, size_t *in)
{
    const nb__node *x = nb__in(g, nd, 0);
    int ax = 0;
    nb__norm_axis(x, nd->attr.axis, &ax);
    nb__split_axis(x, ax, o, l, in);
}

static int softmax_fwd(nb_graph *g, nb__node *nd)
{
    size_t o, l, in;
    softmax_split(g, nd, &o, &l, &in);
    nb__softmax_fwd(nd->op == NB_OP_LOG_SOFTMAX, o, l, in, nb__in(g, nd, 0)->val, nd->val);
    return NB_OK;
}

static void softmax_bwd(nb_graph *g, nb__node *nd)
{
    nb__node *x = nb__in(g, nd, 0);
    if (!x->grad) return;
    size_t o, l, in;
    softmax_split(g, nd, &o, &l, &in);
    nb__softmax_bwd(nd->op == NB_OP_LOG_SOFTMAX, o, l, in, nd->val, nd->grad, x->grad);
}

/* ---- softmax cross-entropy: logits (N, C); target (N) class indices or (N, C) probabilities */

static int ce_infer(nb_graph *g, nb__node *nd)
{
    const nb__node *x = nb__in(g, nd, 0), *t = nb__in(g, nd, 1);
    if (x->rank != 2) return nb__shape_error(g, nd, "logits must be 2-D (N, classes)");
    int idx = t->rank == 1 && t->shape[0] == x->shape[0];
    if (!idx && !nb__same_shape(x, t))
        return nb__shape_error(g, nd, "target must be (N) class indices or (N, classes) like the logits");
    return nb__set_shape(nd, 0, NULL);
}

static size_t ce_aux(const nb_graph *g, const nb__node *nd)
{
    return g->nodes[nd->in[0]].n * sizeof(float); /* the probabilities, for backward */
}

static int ce_fwd(nb_graph *g, nb__node *nd)
{
    const nb__node *x = nb__in(g, nd, 0), *t = nb__in(g, nd, 1);
    size_t N = (size_t)x->shape[0], C = (size_t)x->shape[1];
    int idx = t->rank == 1;
    float *p = nd->aux;
    double total = 0.0;
    for (size_t i = 0; i < N; i++) {
        const float *xr = x->val + i * C;
        float m = xr[0];
        for (size_t c = 1; c < C; c++) m = fmaxf(m, xr[c]);
        float s = 0.0f;
        for (size_t c = 0; c < C; c++) s += expf(xr[c] - m);
        float lse = m + logf(s); /* log sum exp, exact to rounding for any finite logits */
        for (size_t c = 0; c < C; c++) p[i * C + c] = expf(xr[c] - lse);
        if (idx) {
            float y = t->val[i];
            if (!(y >= 0.0f && y < (float)C && y == floorf(y)))
                return nb__fail(NB_ERR_ARG, "softmax_ce: row %zu: class index %g is not an integer in [0, %zu)", i, (double)y, C);
            total += (double)(lse - xr[(size_t)y]);
        } else {
            for (size_t c = 0; c < C; c++) {
                float tc = t->val[i * C + c];
                if (tc != 0.0f) total += (double)(tc * (lse - xr[c]));
            }
        }
    }
    nd->val[0] = (float)(total / (double)N);
    return NB_OK;
}

static void ce_bwd(nb_graph *g, nb__node *nd)
{
    nb__node *x = nb__in(g, nd, 0), *t = nb__in(g, nd, 1);
    size_t N = (size_t)x->shape[0], C = (size_t)x->shape[1];
    const float *p = nd->aux;
    float d = nd->grad[0] / (float)N;
    if (x->grad) {
        for (size_t i = 0; i < N; i++) {
            /* The loss of a row is sum_c t_c (lse - x_c), so d/dx_c = p_c * sum(t) - t_c: the
             * famous p - y only when the targets sum to 1. Soft targets need not (two ones in
             * multi-label use, an all-zero row for a masked sample), so take the row's sum,
             * in double so a row meant to sum to 1 rounds to exactly 1.0f and keeps the
             * p - y form bit for bit. */
            float st = 1.0f;
            if (t->rank == 2) {
                double s = 0.0;
                for (size_t c = 0; c < C; c++) s += (double)t->val[i * C + c];
                st = (float)s;
            }
            for (size_t c = 0; c < C; c++) {
                float tc = t->rank == 1 ? ((size_t)t->val[i] == c ? 1.0f : 0.0f) : t->val[i * C + c];
                float pc = st == 1.0f ? p[i * C + c] : p[i * C + c] * st;
                x->grad[i * C + c] += d * (pc - tc);
            }
        }
    }
    if (t->grad && t->rank == 2) /* soft targets: d/dt_c = -log p_c */
        for (size_t i = 0; i < N * C; i++)
            t->grad[i] -= d * logf(fmaxf(p[i], 1e-30f));
}

/* ---- binary cross-entropy with logits, one sigmoid per output */

static int same_infer(nb_graph *g, nb__node *nd)
{
    if (!nb__same_shape(nb__in(g, nd, 0), nb__in(g, nd, 1)))
        return nb__shape_error(g, nd, "prediction and target shapes differ");
    return nb__set_shape(nd, 0, NULL);
}

static int bce_fwd(nb_graph *g, nb__node *nd)
{
    const nb__node *x = nb__in(g, nd, 0), *t = nb__in(g, nd, 1);
    double total = 0.0;
    for (size_t i = 0; i < x->n; i++) {
        float v = x->val[i];
        /* -(t log s + (1-t) log(1-s)) = max(x,0) - x t + ln(1 + e^-|x|) */
        total += (double)(fmaxf(v, 0.0f) - v * t->val[i] + log1pf(expf(-fabsf(v))));
    }
    nd->val[0] = (float)(total / (double)x->n);
    return NB_OK;
}

static void bce_bwd(nb_graph *g, nb__node *nd)
{
    nb__node *x = nb__in(g, nd, 0), *t = nb__in(g, nd, 1);
    float d = nd->grad[0] / (float)x->n;
    if (x->grad)
        for (size_t i = 0; i < x->n; i++) x->grad[i] += d * (nb__sigmoidf(x->val[i]) - t->val[i]);
    if (t->grad)
        for (size_t i = 0; i < x->n; i++) t->grad[i] -= d * x->val[i];
}

/* ---- mean squared error with the lecture notes' 1/2: mean of 1/2 (p - t)^2 */

static int mse_fwd(nb_graph *g, nb__node *nd)
{
    const nb__node *p = nb__in(g, nd, 0), *t = nb__in(g, nd, 1);
    double total = 0.0;
    for (size_t i = 0; i < p->n; i++) {
        double e = (double)p->val[i] - (double)t->val[i];
        total += 0.5 * e * e;
    }
    nd->val[0] = (float)(total / (double)p->n);
    return NB_OK;
}

static void mse_bwd(nb_graph *g, nb__node *nd)
{
    nb__node *p = nb__in(g, nd, 0), *t = nb__in(g, nd, 1);
    float d = nd->grad[0] / (float)p->n;
    for (size_t i = 0; i < p->n; i++) {
        float e = p->val[i] - t->val[i];
        if (p->grad) p->grad[i] += d * e;
        if (t->grad) t->grad[i] -= d * e;
    }
}

const nb__op_def nb__op_softmax = {"softmax", 1, 1, softmax_infer, NULL, softmax_fwd, softmax_bwd, NB__WRITES_NONE};
const nb__op_def nb__op_log_softmax = {"log_softmax", 1, 1, softmax_infer, NULL, softmax_fwd, softmax_bwd, NB__WRITES_NONE};
const nb__op_def nb__op_softmax_ce = {"softmax_ce", 2, 2, ce_infer, ce_aux, ce_fwd, ce_bwd, NB__WRITES_NONE};
const nb__op_def nb__op_bce_logits = {"bce_logits", 2, 2, same_infer, NULL, bce_fwd, bce_bwd, NB__WRITES_NONE};
const nb__op_def nb__op_mse = {"mse", 2, 2, same_infer, NULL, mse_fwd, mse_bwd, NB__WRITES_NONE};
