/* SPDX-License-Identifier: MIT */
/*
 * exec.c - the executor: feeding inputs, the forward and backward sweeps, zeroing gradients
 * and the getters. It runs what the planner (plan.c) decided and decides nothing itself:
 * which layout a sweep needs comes from the mode, which gradients backward writes, adds to
 * or zeroes from the plan's gradient rule. The executor owns all zeroing of gradients.
 * Getters only read: no call here that returns a pointer or a view changes a buffer.
 */
#include "autograd.h"
#include "plan.h"
#include "mutant.h"

#include <string.h>

static int check_run(const nb_graph *g, nb_node x, const char *what)
{
    if (!g) return nb__fail(NB_ERR_ARG, "%s: graph is NULL", what);
    if (!g->compiled) return nb__fail(NB_ERR_STATE, "%s: graph is not compiled", what);
    if (x < 0 || x >= g->n_nodes) return nb__fail(NB_ERR_ARG, "%s: node %d is not in this graph", what, (int)x);
    return NB_OK;
}

int nb__graph_input(nb_graph *g, nb_node x, size_t n, float **buf)
{
    *buf = NULL;
    int st = check_run(g, x, "feed");
    if (st) return st;
    nb__node *nd = &g->nodes[x];
    if (nd->op != NB_OP_INPUT)
        return nb__fail(NB_ERR_ARG, "feed: node %d (%s) is not an input", (int)x, nd->name ? nd->name : nb_op_name(nd->op));
    if (nd->flags & NB__BATCHED) {
        size_t row = nd->n / (size_t)nd->shape[0];
        if (row == 0 || n % row != 0 || n == 0)
            return nb__fail(NB_ERR_SHAPE, "feed %s: %zu values are not a whole number of rows of %zu", nd->name ? nd->name : "input", n, row);
        if ((st = nb_graph_set_batch(g, (int64_t)(n / row)))) return st;
    } else if (n != nd->n) {
        return nb__fail(NB_ERR_SHAPE, "feed %s: %zu values given for %zu elements", nd->name ? nd->name : "input", n, nd->n);
    }
    /* inputs live in the arena's prefix, which later plans at this batch size keep */
    *buf = nd->val;
    return NB_OK;
}

int nb_graph_feed(nb_graph *g, nb_node x, const float *data, size_t n)
{
    float *buf;
    if (g && !data && n) return nb__fail(NB_ERR_ARG, "feed: data is NULL");
    int st = nb__graph_input(g, x, n, &buf);
    if (!st) memcpy(buf, data, n * sizeof(float));
    return st;
}

static int run_forward(nb_graph *g, nb_node target)
{
    int st;
    nb__mark_ancestors(g, target, g->mark);
    for (int i = 0; i <= target; i++) {
        nb__node *nd = &g->nodes[i];
        if (!g->mark[i] || nd->op <= NB_OP_CONST) continue;
        if ((st = nb__op_table[nd->op]->forward(g, nd)) != NB_OK) return st;
    }
    return NB_OK;
}

static int forward_in(nb_graph *g, nb_node target, int kind)
{
    int st = check_run(g, target, "forward");
    if (st) return st;
    if ((st = nb__plan_use(g, kind))) return st;
    return run_forward(g, target);
}

int nb_graph_forward(nb_graph *g, nb_node target)
{
    return forward_in(g, target, g && g->training ? NB__PLAN_FULL : NB__PLAN_FORWARD);
}

int nb__graph_forward_full(nb_graph *g, nb_node target)
{
    return forward_in(g, target, NB__PLAN_FULL);
}

int nb_graph_backward(nb_graph *g, nb_node loss)
{
    int st = check_run(g, loss, "backward");
    if (st) return st;
    nb__node *L = &g->nodes[loss];
    if (L->n != 1) {
        char buf[96];
        return nb__fail(NB_ERR_SHAPE, "backward: loss must be a scalar, node %d has shape %s", (int)loss, nb__shape_str(L->rank, L->shape, buf, sizeof buf));
    }
    nb__plan_grad_rule(g, loss, g->zero_next);
    if (!(L->flags & NB__NEED_GRAD)) return NB_OK; /* nothing upstream wants a gradient */
    /* the forward layout has no gradients and may have recycled the values backward reads:
     * running that forward again here would hide a second forward in every such backward */
    if (g->plan_kind != NB__PLAN_FULL)
        return nb__fail(NB_ERR_STATE, "backward: the last forward of this graph ran in evaluation mode (nb_graph_set_training(g, 0)); run nb_graph_forward in training mode before nb_graph_backward");
    g->zero_next = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        nb__node *nd = &g->nodes[i];
        if (nd->grad_zero) memset(nd->grad, 0, nd->n * sizeof(float));
    }
    L->grad[0] += 1.0f;
    for (int i = loss; i >= 0; i--) {
        nb__node *nd = &g->nodes[i];
        if (!nd->in_sweep || !nd->grad || nd->op <= NB_OP_CONST) continue;
        const nb__op_def *def = nb__op_table[nd->op];
        if (!def->backward) continue;
        NB__MUTANT_BEFORE(g, nd);
        def->backward(g, nd);
        NB__MUTANT_AFTER(g, nd);
        if (g->bwd_hook) g->bwd_hook(g->bwd_ud, i);
    }
    return NB_OK;
}

void nb__graph_set_backward_hook(nb_graph *g, void (*fn)(void *ud, int node), void *ud)
{
    g->bwd_hook = fn;
    g->bwd_ud = ud;
}

nb__param_span *nb__graph_param_spans_new(const nb_graph *g, int *n)
{
    *n = nb__graph_param_spans(g, NULL, 0);
    nb__param_span *sp = nb__alloc_array((size_t)(*n > 0 ? *n : 1), sizeof *sp);
    if (sp) nb__graph_param_spans(g, sp, *n);
    return sp;
}

int nb__graph_param_spans(const nb_graph *g, nb__param_span *out, int cap)
{
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const nb__node *nd = &g->nodes[i];
        if (nd->op != NB_OP_PARAM) continue;
        if (n < cap) out[n] = (nb__param_span){nd->val_off, nd->n, -1};
        n++;
    }
    /* the smallest consumer: backward runs from the loss down, so once it has visited that
     * node every node that reads the parameter, or a view of it, has added its share. The
     * spans are in node order, which is offset order: a parameter is found by its offset. */
    for (int j = 0; j < g->n_nodes && n <= cap; j++) {
        const nb__node *nd = &g->nodes[j];
        for (int s = 0; s < nd->n_in; s++) {
            const nb__node *p = &g->nodes[nd->in[s]];
            if (p->op != NB_OP_PARAM) continue;
            int lo = 0, hi = n - 1;
            while (lo < hi) {
                int mid = (lo + hi) / 2;
                if (out[mid].off < p->val_off) lo = mid + 1;
                else hi = mid;
            }
            if (out[lo].ready < 0 || j < out[lo].ready) out[lo].ready = j;
        }
    }
    return n;
}

/* the accumulating gradients: every parameter's (one flat buffer) and every nb_require_grad
 * input's */
static void zero_leaf_grads(nb_graph *g)
{
    memset(g->pgrads, 0, (g->n_params ? g->n_params : 1) * sizeof(float));
    for (int i = 0; i < g->n_nodes; i++) {
        nb__node *nd = &g->nodes[i];
        if ((nd->flags & NB__LEAF_GRAD) && nd->op != NB_OP_PARAM) memset(nd->grad, 0, nd->n * sizeof(float));
    }
    g->zero_next = 0;
}

void nb_graph_zero_grad(nb_graph *g)
{
    if (g && g->compiled) zero_leaf_grads(g);
}

void nb__graph_defer_zero_grad(nb_graph *g)
{
    if (g && g->compiled) g->zero_next = 1;
}

void nb__graph_flush_zero_grad(nb_graph *g)
{
    if (g && g->compiled && g->zero_next) zero_leaf_grads(g);
}

int nb_graph_value(const nb_graph *g, nb_node x, nb_view *out)
{
    if (!out) return nb__fail(NB_ERR_ARG, "value: out is NULL");
    memset(out, 0, sizeof *out);
    if (!g) return nb__fail(NB_ERR_ARG, "value: graph is NULL");
    if (x < 0 || x >= g->n_nodes) return nb__fail(NB_ERR_ARG, "value: node %d is not in this graph", (int)x);
    const nb__node *nd = &g->nodes[x];
    if (!g->compiled && nd->op != NB_OP_CONST)
        return nb__fail(NB_ERR_STATE, "value: graph is not compiled");
    *out = nb__node_view(nd, nd->val);
    return NB_OK;
}

int nb_graph_grad(const nb_graph *g, nb_node x, nb_view *out)
{
    if (!out) return nb__fail(NB_ERR_ARG, "grad: out is NULL");
    int st = check_run(g, x, "grad");
    memset(out, 0, sizeof *out);
    if (st) return st;
    *out = nb__node_view(&g->nodes[x], g->nodes[x].grad);
    return NB_OK;
}

float *nb_graph_params(nb_graph *g, size_t *n)
{
    if (n) *n = g && g->compiled ? g->n_params : 0;
    return g && g->compiled ? g->params : NULL;
}

float *nb_graph_grads(nb_graph *g, size_t *n)
{
    if (n) *n = g && g->compiled ? g->n_params : 0;
    return g && g->compiled ? g->pgrads : NULL;
}
