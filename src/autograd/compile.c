/*
 * compile.c - turning a built graph into something runnable: the memory plan, batch-size
 * changes, feeding inputs, and the forward and backward sweeps.
 * Plan: parameters sit in one flat buffer and their gradients in another (creation order);
 * every other node's value, gradient and saved state get 64-byte aligned offsets in one
 * arena. The arena only grows, so after the largest batch has been seen, changing batch size
 * and running steps allocates nothing.
 */
#include "graph.h"

#include <string.h>

#define ALIGN 64

static int plan_add(size_t *used, size_t bytes, size_t *off)
{
    size_t a = (*used + ALIGN - 1) / ALIGN * ALIGN, end;
    if (a < *used || !nb__add_size(a, bytes, &end))
        return nb__fail(NB_ERR_NOMEM, "graph memory plan overflows");
    *off = a;
    *used = end;
    return NB_OK;
}

/* Re-infer every shape at the current batch size, then lay out and (if needed) grow the
 * arena. Parameters do not depend on the batch size. */
static int plan(nb_graph *g)
{
    int st;
    for (int i = 0; i < g->n_nodes; i++) {
        nb__node *nd = &g->nodes[i];
        if ((st = nb__op_table[nd->op]->infer(g, nd)) != NB_OK) return st;
    }
    size_t used = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        nb__node *nd = &g->nodes[i];
        const nb__op_def *def = nb__op_table[nd->op];
        size_t bytes;
        if (!nb__mul_size(nd->n, sizeof(float), &bytes))
            return nb__fail(NB_ERR_NOMEM, "tensor size overflows");
        if (nd->op != NB_OP_PARAM && nd->op != NB_OP_CONST)
            if ((st = plan_add(&used, bytes, &nd->val_off))) return st;
        if ((nd->flags & NB__NEED_GRAD) && nd->op != NB_OP_PARAM)
            if ((st = plan_add(&used, bytes, &nd->grad_off))) return st;
        nd->aux_bytes = def->aux_bytes ? def->aux_bytes(g, nd) : 0;
        if (nd->aux_bytes && (st = plan_add(&used, nd->aux_bytes, &nd->aux_off))) return st;
    }
    if (used > g->arena_cap) {
        unsigned char *p = nb__alloc(used + ALIGN);
        if (!p) return NB_ERR_NOMEM;
        nb_free(g->arena);
        g->arena = p;
        g->arena_cap = used;
    }
    g->arena_used = used;
    if (g->arena) memset(g->arena, 0, used + ALIGN); /* allocated: arena_cap + ALIGN >= used + ALIGN */
    /* the arena itself is only malloc-aligned: shift every offset to a 64-byte boundary */
    size_t shift = (ALIGN - (uintptr_t)g->arena % ALIGN) % ALIGN;
    for (int i = 0; i < g->n_nodes; i++) {
        nb__node *nd = &g->nodes[i];
        if (nd->op == NB_OP_PARAM) {
            nd->val = g->params + nd->val_off;
            nd->grad = g->pgrads + nd->val_off;
        } else {
            if (nd->op != NB_OP_CONST) nd->val = (float *)(void *)(g->arena + shift + nd->val_off);
            nd->grad = (nd->flags & NB__NEED_GRAD) ? (float *)(void *)(g->arena + shift + nd->grad_off) : NULL;
        }
        nd->aux = nd->aux_bytes ? g->arena + shift + nd->aux_off : NULL;
    }
    return NB_OK;
}

int nb_graph_compile(nb_graph *g)
{
    if (!g) return nb__fail(NB_ERR_ARG, "graph is NULL");
    if (g->status) return nb__fail(g->status, "graph has a failed builder (status %s); see its earlier message", nb_status_name(g->status));
    if (g->compiled) return nb__fail(NB_ERR_STATE, "graph is already compiled");
    size_t np = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        nb__node *nd = &g->nodes[i];
        if (nd->op != NB_OP_PARAM) continue;
        nd->val_off = np;
        if (!nb__add_size(np, nd->n, &np)) return nb__fail(NB_ERR_NOMEM, "parameter count overflows");
    }
    g->params = nb__calloc(np ? np : 1, sizeof(float));
    g->pgrads = nb__calloc(np ? np : 1, sizeof(float));
    g->mark = nb__calloc((size_t)g->n_nodes + 1, 1);
    if (!g->params || !g->pgrads || !g->mark) goto nomem;
    g->n_params = np;
    int st = plan(g);
    if (st) {
        nb_free(g->params);
        nb_free(g->pgrads);
        nb_free(g->mark);
        g->params = g->pgrads = NULL;
        g->mark = NULL;
        return st;
    }
    g->compiled = 1;
    return NB_OK;
nomem:
    nb_free(g->params);
    nb_free(g->pgrads);
    nb_free(g->mark);
    g->params = g->pgrads = NULL;
    g->mark = NULL;
    return NB_ERR_NOMEM;
}

int nb_graph_set_batch(nb_graph *g, int64_t batch)
{
    if (!g) return nb__fail(NB_ERR_ARG, "graph is NULL");
    if (batch < 1) return nb__fail(NB_ERR_ARG, "batch size %lld must be >= 1", (long long)batch);
    if (batch == g->batch && g->compiled) return NB_OK;
    int64_t old = g->batch;
    g->batch = batch;
    if (!g->compiled) return NB_OK;
    int st = plan(g);
    if (st) { /* restore the previous, valid plan */
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", nb_errmsg());
        g->batch = old;
        plan(g);
        return nb__fail(st, "batch size %lld: %s", (long long)batch, msg);
    }
    return NB_OK;
}

int64_t nb_graph_batch(const nb_graph *g) { return g ? g->batch : 0; }

static int check_run(const nb_graph *g, nb_node x, const char *what)
{
    if (!g) return nb__fail(NB_ERR_ARG, "%s: graph is NULL", what);
    if (!g->compiled) return nb__fail(NB_ERR_STATE, "%s: graph is not compiled", what);
    if (x < 0 || x >= g->n_nodes) return nb__fail(NB_ERR_ARG, "%s: node %d is not in this graph", what, (int)x);
    return NB_OK;
}

int nb_graph_feed(nb_graph *g, nb_node x, const float *data, size_t n)
{
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
    memcpy(nd->val, data, n * sizeof(float));
    return NB_OK;
}

/* Mark target and everything it depends on. Creation order is topological, so one backward
 * scan over ids suffices: no recursion, no stack. */
static void mark_ancestors(nb_graph *g, nb_node target)
{
    memset(g->mark, 0, (size_t)g->n_nodes);
    g->mark[target] = 1;
    for (int i = target; i >= 0; i--) {
        if (!g->mark[i]) continue;
        for (int j = 0; j < g->nodes[i].n_in; j++) g->mark[g->nodes[i].in[j]] = 1;
    }
}

int nb_graph_forward(nb_graph *g, nb_node target)
{
    int st = check_run(g, target, "forward");
    if (st) return st;
    mark_ancestors(g, target);
    for (int i = 0; i <= target; i++) {
        nb__node *nd = &g->nodes[i];
        if (!g->mark[i] || nd->op <= NB_OP_CONST) continue;
        if ((st = nb__op_table[nd->op]->forward(g, nd)) != NB_OK) return st;
    }
    return NB_OK;
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
    if (!(L->flags & NB__NEED_GRAD)) return NB_OK; /* nothing upstream wants a gradient */
    mark_ancestors(g, loss);
    /* intermediate gradients restart from zero each call; only leaves accumulate */
    for (int i = 0; i <= loss; i++) {
        nb__node *nd = &g->nodes[i];
        if (g->mark[i] && nd->grad && !(nd->flags & NB__LEAF_GRAD)) memset(nd->grad, 0, nd->n * sizeof(float));
    }
    L->grad[0] += 1.0f;
    for (int i = loss; i >= 0; i--) {
        nb__node *nd = &g->nodes[i];
        if (!g->mark[i] || !nd->grad || nd->op <= NB_OP_CONST) continue;
        const nb__op_def *def = nb__op_table[nd->op];
        if (def->backward) def->backward(g, nd);
    }
    return NB_OK;
}

void nb_graph_zero_grad(nb_graph *g)
{
    if (!g || !g->compiled) return;
    memset(g->pgrads, 0, (g->n_params ? g->n_params : 1) * sizeof(float));
    /* only leaves accumulate: backward restarts every intermediate gradient from zero itself,
     * so clearing them here too would be a second memset per node on every training step */
    for (int i = 0; i < g->n_nodes; i++) {
        nb__node *nd = &g->nodes[i];
        if ((nd->flags & NB__LEAF_GRAD) && nd->op != NB_OP_PARAM) memset(nd->grad, 0, nd->n * sizeof(float));
    }
}

nb_view nb__node_view(const nb__node *nd, float *data)
{
    nb_view v;
    memset(&v, 0, sizeof v);
    v.rank = nd->rank;
    for (int i = 0; i < nd->rank; i++) v.shape[i] = nd->shape[i];
    v.n = nd->n;
    v.data = data;
    return v;
}

int nb_graph_value(const nb_graph *g, nb_node x, nb_view *out)
{
    memset(out, 0, sizeof *out);
    if (!g || x < 0 || x >= g->n_nodes) return nb__fail(NB_ERR_ARG, "value: node %d is not in this graph", (int)x);
    const nb__node *nd = &g->nodes[x];
    if (!g->compiled && nd->op != NB_OP_CONST)
        return nb__fail(NB_ERR_STATE, "value: graph is not compiled");
    *out = nb__node_view(nd, nd->val);
    return NB_OK;
}

int nb_graph_grad(const nb_graph *g, nb_node x, nb_view *out)
{
    int st = check_run(g, x, "grad");
    memset(out, 0, sizeof *out);
    if (st) return st;
    *out = nb__node_view(&g->nodes[x], g->nodes[x].grad);
    return NB_OK;
}

float *nb_graph_params(nb_graph *g, size_t *n)
{
    *n = g && g->compiled ? g->n_params : 0;
    return g && g->compiled ? g->params : NULL;
}

float *nb_graph_grads(nb_graph *g, size_t *n)
{
    *n = g && g->compiled ? g->n_params : 0;
    return g && g->compiled ? g->pgrads : NULL;
}
