/* SPDX-License-Identifier: MIT */
/*
 * op_norm.c - dropout and batch normalisation: the two operators whose behaviour depends on
 * the graph's training flag. Dropout saves its scaled mask; batch norm saves the per-channel
 * mean and 1/std it used plus the normalised input, which its backward needs.
 */
#include "graph.h"
#include "../ops/ops.h"

#include <math.h>
#include <string.h>

/* ---- dropout (inverted): y = x * mask, mask = 0 or 1/(1-p) */

static int dropout_infer(nb_graph *g, nb__node *nd)
{
    const nb__node *x = nb__in(g, nd, 0);
    if (!(nd->attr.p >= 0.0f && nd->attr.p < 1.0f)) return nb__shape_error(g, nd, "p must be in [0, 1)");
    return nb__set_shape(nd, x->rank, x->shape);
}

static size_t dropout_aux(const nb_graph *g, const nb__node *nd)
{
    (void)g;
    return nd->n * sizeof(float);
}

static int dropout_fwd(nb_graph *g, nb__node *nd)
{
    const float *x = nb__in(g, nd, 0)->val;
    float *mask = nd->aux, p = nd->attr.p, keep = 1.0f / (1.0f - p);
    for (size_t i = 0; i < nd->n; i++) {
        mask[i] = !g->training ? 1.0f : nb_rng_uniform(&g->rng) >= p ? keep : 0.0f;
        nd->val[i] = x[i] * mask[i];
    }
    return NB_OK;
}

static void dropout_bwd(nb_graph *g, nb__node *nd)
{
    nb__node *x = nb__in(g, nd, 0);
    const float *mask = nd->aux;
    if (x->grad)
        for (size_t i = 0; i < nd->n; i++) x->grad[i] += nd->grad[i] * mask[i];
}

/* ---- batch norm over axis 1 of (N, C) or (N, C, H, W) */

static int bn_infer(nb_graph *g, nb__node *nd)
{
    const nb__node *x = nb__in(g, nd, 0);
    if (x->rank != 2 && x->rank != 4) return nb__shape_error(g, nd, "input must be (N, C) or (N, C, H, W)");
    for (int i = 1; i < 5; i++) {
        const nb__node *p = nb__in(g, nd, i);
        if (p->rank != 1 || p->shape[0] != x->shape[1])
            return nb__shape_error(g, nd, "gamma, beta, running mean and running variance must be (C)");
    }
    if (nb__in(g, nd, 3)->op != NB_OP_CONST || nb__in(g, nd, 4)->op != NB_OP_CONST)
        return nb__shape_error(g, nd, "running mean and variance must be constants (updated in place)");
    if (!(nd->attr.eps > 0.0f) || !(nd->attr.momentum >= 0.0f && nd->attr.momentum <= 1.0f))
        return nb__shape_error(g, nd, "eps must be > 0 and momentum in [0, 1]");
    return nb__set_shape(nd, x->rank, x->shape);
}

static size_t bn_aux(const nb_graph *g, const nb__node *nd)
{
    size_t C = (size_t)g->nodes[nd->in[0]].shape[1];
    return (2 * C + nd->n) * sizeof(float); /* mean, 1/std, x_hat */
}

static void bn_dims(nb_graph *g, const nb__node *nd, size_t *N, size_t *C, size_t *S)
{
    const nb__node *x = nb__in(g, nd, 0);
    *N = (size_t)x->shape[0];
    *C = (size_t)x->shape[1];
    *S = x->rank == 4 ? (size_t)(x->shape[2] * x->shape[3]) : 1;
}

static int bn_fwd(nb_graph *g, nb__node *nd)
{
    size_t N, C, S;
    bn_dims(g, nd, &N, &C, &S);
    const float *x = nb__in(g, nd, 0)->val, *gam = nb__in(g, nd, 1)->val, *bet = nb__in(g, nd, 2)->val;
    float *rm = nb__in(g, nd, 3)->val, *rv = nb__in(g, nd, 4)->val;
    float *mean = nd->aux, *inv = mean + C, *xh = inv + C, mom = nd->attr.momentum;
    double m = (double)(N * S);
    /* one value per channel has variance 0: the output would be beta whatever the input, the
     * gradient 0 and the running variance pulled towards 0 (PyTorch refuses it too) */
    if (g->training && N * S == 1)
        return nb__shape_error(g, nd, "one value per channel in training mode (a batch of 1 sample of 1x1 "
                                      "channels); use a batch of >= 2 rows, or evaluation mode "
                                      "(nb_graph_set_training(g, 0)) to use the running statistics");
    for (size_t c = 0; c < C; c++) {
        if (g->training) { /* batch statistics in double: many elements per channel */
            double s = 0, s2 = 0;
            for (size_t n = 0; n < N; n++)
                for (size_t k = 0; k < S; k++) s += (double)x[(n * C + c) * S + k];
            double mu = s / m;
            for (size_t n = 0; n < N; n++)
                for (size_t k = 0; k < S; k++) {
                    double d = (double)x[(n * C + c) * S + k] - mu;
                    s2 += d * d;
                }
            double var = s2 / m;
            mean[c] = (float)mu;
            inv[c] = (float)(1.0 / sqrt(var + (double)nd->attr.eps));
            rm[c] = (1.0f - mom) * rm[c] + mom * (float)mu;
            rv[c] = (1.0f - mom) * rv[c] + mom * (float)(m > 1 ? var * m / (m - 1) : var);
        } else {
            mean[c] = rm[c];
            inv[c] = 1.0f / sqrtf(rv[c] + nd->attr.eps);
        }
        for (size_t n = 0; n < N; n++)
            for (size_t k = 0; k < S; k++) {
                size_t i = (n * C + c) * S + k;
                xh[i] = (x[i] - mean[c]) * inv[c];
                nd->val[i] = gam[c] * xh[i] + bet[c];
            }
    }
    return NB_OK;
}

static void bn_bwd(nb_graph *g, nb__node *nd)
{
    size_t N, C, S;
    bn_dims(g, nd, &N, &C, &S);
    nb__node *x = nb__in(g, nd, 0), *gam = nb__in(g, nd, 1), *bet = nb__in(g, nd, 2);
    const float *inv = (const float *)nd->aux + C, *xh = inv + C, *dy = nd->grad;
    float m = (float)(N * S);
    for (size_t c = 0; c < C; c++) {
        /* beta's and gamma's gradients sum N S terms (60k for a big batch of images):
         * blocked summation (ops.h), runs of NB__SUM_BLOCK in (n, k) order */
        nb__cascade cdy, cdyx;
        nb__cascade_init(&cdy);
        nb__cascade_init(&cdyx);
        float rdy = 0.0f, rdyx = 0.0f;
        size_t cnt = 0;
        for (size_t n = 0; n < N; n++)
            for (size_t k = 0; k < S; k++) {
                size_t i = (n * C + c) * S + k;
                rdy += dy[i];
                rdyx += dy[i] * xh[i];
                if (++cnt == NB__SUM_BLOCK) {
                    nb__cascade_push(&cdy, rdy);
                    nb__cascade_push(&cdyx, rdyx);
                    rdy = rdyx = 0.0f;
                    cnt = 0;
                }
            }
        if (cnt) {
            nb__cascade_push(&cdy, rdy);
            nb__cascade_push(&cdyx, rdyx);
        }
        float sdy = nb__cascade_total(&cdy), sdyx = nb__cascade_total(&cdyx);
        if (gam->grad) gam->grad[c] += sdyx;
        if (bet->grad) bet->grad[c] += sdy;
        if (!x->grad) continue;
        float gi = gam->val[c] * inv[c];
        for (size_t n = 0; n < N; n++)
            for (size_t k = 0; k < S; k++) {
                size_t i = (n * C + c) * S + k;
                if (g->training) /* through the batch mean and variance too */
                    x->grad[i] += gi * (dy[i] - sdy / m - xh[i] * sdyx / m);
                else
                    x->grad[i] += gi * dy[i];
            }
    }
}

const nb__op_def nb__op_dropout = {"dropout", 1, 1, dropout_infer, dropout_aux, dropout_fwd, dropout_bwd, NB__WRITES_NONE};
const nb__op_def nb__op_batchnorm = {"batchnorm", 5, 5, bn_infer, bn_aux, bn_fwd, bn_bwd, NB__WRITES_NONE};
