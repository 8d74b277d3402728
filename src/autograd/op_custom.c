/* SPDX-License-Identifier: MIT */
/*
 * op_custom.c - operators defined by the caller's own forward and backward functions.
 * The definition is copied into the graph; nodes refer to it by index (nb__node.custom).
 * Calls go through nb_view so user code never sees graph internals.
 */
#include "graph.h"

static int custom_infer(nb_graph *g, nb__node *nd)
{
    /* the node nb_custom is adding (not yet counted in n_nodes) runs the definition it has
     * just appended; nb__op_build takes no index, so the node learns it here, before the
     * shape error below may need its name */
    if (nd == &g->nodes[g->n_nodes]) nd->custom = g->n_customs - 1;
    const nb_custom_op *op = &g->customs[nd->custom];
    nb_view in[NB__MAX_IN], out;
    for (int i = 0; i < nd->n_in; i++) in[i] = nb__node_view(nb__in(g, nd, i), NULL);
    out = in[0];
    if (op->infer) {
        int st = op->infer(op->ud, nd->n_in, in, &out);
        if (st) return nb__shape_error(g, nd, "its shape function rejected the inputs");
    }
    return nb__set_shape(nd, out.rank, out.shape);
}

static int custom_fwd(nb_graph *g, nb__node *nd)
{
    const nb_custom_op *op = &g->customs[nd->custom];
    nb_view in[NB__MAX_IN], out = nb__node_view(nd, nd->val);
    for (int i = 0; i < nd->n_in; i++) in[i] = nb__node_view(nb__in(g, nd, i), nb__in(g, nd, i)->val);
    int st = op->forward(op->ud, nd->n_in, in, &out);
    return st ? nb__fail(st, "%s: forward failed with %s", op->name, nb_status_name(st)) : NB_OK;
}

static void custom_bwd(nb_graph *g, nb__node *nd)
{
    const nb_custom_op *op = &g->customs[nd->custom];
    if (!op->backward) return;
    nb_view in[NB__MAX_IN], din[NB__MAX_IN], out = nb__node_view(nd, nd->val), dout = nb__node_view(nd, nd->grad);
    for (int i = 0; i < nd->n_in; i++) {
        nb__node *x = nb__in(g, nd, i);
        in[i] = nb__node_view(x, x->val);
        din[i] = nb__node_view(x, x->grad);
    }
    op->backward(op->ud, nd->n_in, in, &out, &dout, din);
}

const nb__op_def nb__op_custom = {"custom", 1, 4, custom_infer, NULL, custom_fwd, custom_bwd, NB__WRITES_NONE};

nb_node nb_custom(nb_graph *g, const nb_custom_op *op, int n_in, const nb_node *in)
{
    if (!g) return -nb__fail(NB_ERR_ARG, "graph is NULL");
    for (int i = 0; in && i < n_in; i++)
        if (in[i] < 0) return in[i];
    if (g->status) return -g->status;
    if (!op || !in) {
        g->status = nb__fail(NB_ERR_ARG, "nb_custom: %s is NULL", !op ? "op" : "inputs");
        return -g->status;
    }
    if (!op->name || !op->forward || n_in < 1 || n_in > 4 || !in) {
        g->status = nb__fail(NB_ERR_ARG, "nb_custom: needs a name, a forward function and 1..4 inputs");
        return -g->status;
    }
    if (g->n_customs == g->cap_customs) {
        int cap = g->cap_customs ? g->cap_customs * 2 : 4;
        nb_custom_op *p = nb__realloc(g->customs, (size_t)cap * sizeof *p);
        if (!p) {
            g->status = NB_ERR_NOMEM;
            return -NB_ERR_NOMEM;
        }
        g->customs = p;
        g->cap_customs = cap;
    }
    g->customs[g->n_customs++] = *op;
    /* nb_op refuses NB_OP_CUSTOM from users (it needs a definition); same path otherwise */
    return nb__op_build(g, NB_OP_CUSTOM, n_in, in, NULL);
}
