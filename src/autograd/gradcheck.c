/* SPDX-License-Identifier: MIT */
/*
 * gradcheck.c - compare backward's gradients with central finite differences,
 * (L(x + eps) - L(x - eps)) / 2 eps, element by element, for every parameter and every
 * input given nb_require_grad. Values are restored after each probe, so the graph is left
 * as it was (with the analytic gradients in the gradient buffers). In evaluation mode the
 * analytic forward runs in the layout a backward needs (nb__graph_forward_full), the probes
 * in the evaluation layout: both compute the evaluation-mode function.
 */
#include "autograd.h"
#include "graph.h"

#include <math.h>

/* every forward starts from the same generator state, so dropout draws the same mask and
 * the loss is a deterministic function of the probed value */
static int loss_at(nb_graph *g, nb_node loss, const nb_rng *rng, double *out)
{
    g->rng = *rng;
    int st = nb_graph_forward(g, loss);
    if (st) return st;
    *out = (double)g->nodes[loss].val[0];
    return NB_OK;
}

int nb_gradcheck(nb_graph *g, nb_node loss, float eps, nb_gradcheck_entry *out, int cap,
                 int *n_out)
{
    int n_found = 0; /* n_out may be NULL */
    if (!n_out) n_out = &n_found;
    *n_out = 0;
    if (!g) return nb__fail(NB_ERR_ARG, "gradcheck: graph is NULL");
    if (!out && cap > 0) return nb__fail(NB_ERR_ARG, "gradcheck: out is NULL with cap %d", cap);
    if (!g->compiled) return nb__fail(NB_ERR_STATE, "gradcheck: graph is not compiled");
    if (loss < 0 || loss >= g->n_nodes || g->nodes[loss].n != 1)
        return nb__fail(NB_ERR_ARG, "gradcheck: loss must be a scalar node of the graph");
    if (!(eps > 0.0f)) return nb__fail(NB_ERR_ARG, "gradcheck: eps must be > 0");
    int st;
    nb_rng rng0 = g->rng;
    nb_graph_zero_grad(g);
    if ((st = nb__graph_forward_full(g, loss)) || (st = nb_graph_backward(g, loss))) return st;
    for (int i = 0; i < g->n_nodes; i++) {
        nb__node *nd = &g->nodes[i];
        if (!(nd->flags & NB__LEAF_GRAD) || !nd->in_sweep) continue; /* backward's rule for loss */
        nb_gradcheck_entry e = {i, 0.0, 0, 0.0, 0.0};
        for (size_t j = 0; j < nd->n; j++) {
            float saved = nd->val[j];
            double lp, lm;
            nd->val[j] = saved + eps;
            st = loss_at(g, loss, &rng0, &lp);
            nd->val[j] = saved - eps;
            if (!st) st = loss_at(g, loss, &rng0, &lm);
            nd->val[j] = saved;
            if (st) return st;
            /* the step actually taken, after float rounding of saved +- eps */
            double h = (double)(saved + eps) - (double)(saved - eps);
            double num = (lp - lm) / h, ana = (double)nd->grad[j];
            /* below 1e-2 the comparison becomes absolute: float32 central differences carry
             * ~1e-5 of rounding and truncation noise, which must not dominate tiny gradients */
            double rel = fabs(ana - num) / fmax(fabs(ana) + fabs(num), 1e-2);
            if (!(rel <= e.max_rel_err)) { /* also catches NaN */
                e.max_rel_err = isnan(rel) ? (double)INFINITY : rel;
                e.worst_index = j;
                e.analytic = ana;
                e.numeric = num;
            }
        }
        if (*n_out < cap && out) out[*n_out] = e;
        (*n_out)++;
    }
    return loss_at(g, loss, &rng0, &(double){0.0});
}
