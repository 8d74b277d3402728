/* SPDX-License-Identifier: MIT */
/*
 * graph.c - building a graph: leaves (inputs, parameters, constants), the generic operator
 * builder with shape checking, the sticky builder error, and introspection.
 * A builder given a negative node returns it unchanged, so errors propagate through a chain
 * of builders and are reported once (nb_graph_status). This file knows nothing of plans:
 * nb_graph_free is the planner's (plan.c), which frees what compile made, then the nodes here.
 */
#include "graph.h"

#include <string.h>

int nb_graph_create(nb_graph **out)
{
    if (!out) return nb__fail(NB_ERR_ARG, "nb_graph_create: out is NULL");
    *out = nb__calloc(1, sizeof **out);
    if (!*out) return NB_ERR_NOMEM;
    (*out)->batch = 1;
    (*out)->training = 1;
    nb_rng_seed(&(*out)->rng, 0);
    return NB_OK;
}

void nb__graph_free_nodes(nb_graph *g)
{
    for (int i = 0; i < g->n_nodes; i++) {
        nb_free(g->nodes[i].name);
        nb_free(g->nodes[i].cdata);
    }
    nb_free(g->nodes);
    nb_free(g->customs);
    nb_free(g);
}

int nb_graph_status(const nb_graph *g) { return g ? g->status : nb__fail(NB_ERR_ARG, "graph is NULL"); }

void nb_graph_set_training(nb_graph *g, int training) { if (g) g->training = training != 0; }
int nb_graph_training(const nb_graph *g) { return g ? g->training : 0; }
void nb_graph_seed(nb_graph *g, uint64_t seed) { if (g) nb_rng_seed(&g->rng, seed); }
nb_rng *nb_graph_rng(nb_graph *g) { return g ? &g->rng : NULL; }

static nb_node latch(nb_graph *g, int status)
{
    if (!g->status) g->status = status;
    return -status;
}

int nb__shape_error(nb_graph *g, const nb__node *nd, const char *why)
{
    char buf[4][96];
    const char *op = nb__op_table[nd->op]->name;
    if (nd->op == NB_OP_CUSTOM) op = g->customs[nd->custom].name;
    char shapes[400] = "";
    size_t len = 0;
    for (int i = 0; i < nd->n_in && i < 4; i++) {
        const nb__node *x = nb__in(g, nd, i);
        len += (size_t)snprintf(shapes + len, sizeof shapes - len, "%s%s", i ? " and " : "",
                                nb__shape_str(x->rank, x->shape, buf[i], sizeof buf[i]));
        if (len >= sizeof shapes) break;
    }
    return nb__fail(NB_ERR_SHAPE, "%s: %s (input shapes %s)", op, why, shapes);
}

int nb__set_shape(nb__node *nd, int rank, const int64_t *shape)
{
    size_t n;
    if (rank < 0 || rank > NB_MAX_RANK)
        return nb__fail(NB_ERR_SHAPE, "rank %d is not in 0..%d", rank, NB_MAX_RANK);
    if (!nb__numel(rank, shape, &n))
        return nb__fail(NB_ERR_NOMEM, "element count of a tensor overflows");
    nd->rank = rank;
    for (int i = 0; i < NB_MAX_RANK; i++) nd->shape[i] = i < rank ? shape[i] : 0;
    nd->n = n;
    return NB_OK;
}

int nb__same_shape(const nb__node *a, const nb__node *b)
{
    if (a->rank != b->rank) return 0;
    for (int i = 0; i < a->rank; i++)
        if (a->shape[i] != b->shape[i]) return 0;
    return 1;
}

int nb__norm_axis(const nb__node *nd, int axis, int *out)
{
    int a = axis < 0 ? axis + nd->rank : axis;
    if (a < 0 || a >= nd->rank) return 0;
    *out = a;
    return 1;
}

void nb__split_axis(const nb__node *nd, int axis, size_t *outer, size_t *len, size_t *inner)
{
    *outer = *inner = 1;
    for (int i = 0; i < axis; i++) *outer *= (size_t)nd->shape[i];
    *len = (size_t)nd->shape[axis];
    for (int i = axis + 1; i < nd->rank; i++) *inner *= (size_t)nd->shape[i];
}

static nb__node *new_node(nb_graph *g, int *status)
{
    if (g->compiled) {
        *status = nb__fail(NB_ERR_STATE, "graph is compiled: no more nodes can be added");
        return NULL;
    }
    if (g->n_nodes == g->cap_nodes) {
        int cap = g->cap_nodes ? g->cap_nodes * 2 : 16;
        if (cap > INT32_MAX / 2) {
            *status = nb__fail(NB_ERR_NOMEM, "too many graph nodes");
            return NULL;
        }
        nb__node *p = nb__realloc(g->nodes, (size_t)cap * sizeof *p);
        if (!p) {
            *status = NB_ERR_NOMEM;
            return NULL;
        }
        g->nodes = p;
        g->cap_nodes = cap;
    }
    nb__node *nd = &g->nodes[g->n_nodes];
    memset(nd, 0, sizeof *nd);
    return nd;
}

/* A node's shape at the current batch size, from its declared shape (leaves only). */
int nb__leaf_infer(nb_graph *g, nb__node *nd)
{
    int64_t s[NB_MAX_RANK];
    for (int i = 0; i < nd->rank; i++) s[i] = nd->decl[i] == NB_BATCH ? g->batch : nd->decl[i];
    return nb__set_shape(nd, nd->rank, s);
}

static nb_node add_leaf(nb_graph *g, nb_op_type op, const char *name, int rank,
                        const int64_t *shape, const float *values)
{
    char buf[96];
    if (!g) return -nb__fail(NB_ERR_ARG, "graph is NULL");
    if (g->status) return -g->status;
    const char *kind = op == NB_OP_INPUT ? "input" : op == NB_OP_PARAM ? "param" : "const";
    if (rank > 0 && !shape) return latch(g, nb__fail(NB_ERR_ARG, "%s %s: shape is NULL", kind, name ? name : ""));
    if (rank < 0 || rank > NB_MAX_RANK)
        return latch(g, nb__fail(NB_ERR_SHAPE, "%s %s: rank %d is not in 0..%d", kind,
                                 name ? name : "", rank, NB_MAX_RANK));
    for (int i = 0; i < rank; i++)
        if (shape[i] < 1 && !(op == NB_OP_INPUT && i == 0 && shape[i] == NB_BATCH))
            return latch(g, nb__fail(NB_ERR_SHAPE, "%s %s: bad shape %s", kind,
                                     name ? name : "", nb__shape_str(rank, shape, buf, sizeof buf)));
    int st = NB_OK;
    nb__node *nd = new_node(g, &st);
    if (!nd) return latch(g, st);
    nd->op = op;
    nd->rank = rank;
    for (int i = 0; i < rank; i++) nd->decl[i] = shape[i];
    if (rank > 0 && shape[0] == NB_BATCH) nd->flags |= NB__BATCHED;
    if ((st = nb__leaf_infer(g, nd)) != NB_OK) return latch(g, nb__fail_prefix(st, "%s %s", kind, name ? name : ""));
    if (op == NB_OP_PARAM) nd->flags |= NB__NEED_GRAD | NB__LEAF_GRAD;
    if (name && !(nd->name = nb__strdup(name))) return latch(g, NB_ERR_NOMEM);
    if (op == NB_OP_CONST) {
        nd->cdata = nb__calloc(nd->n, sizeof(float));
        if (!nd->cdata) {
            nb_free(nd->name);
            return latch(g, NB_ERR_NOMEM);
        }
        if (values) memcpy(nd->cdata, values, nd->n * sizeof(float));
        nd->val = nd->cdata;
    }
    return g->n_nodes++;
}

nb_node nb_input(nb_graph *g, const char *name, int rank, const int64_t *shape)
{
    return add_leaf(g, NB_OP_INPUT, name, rank, shape, NULL);
}

nb_node nb_param(nb_graph *g, const char *name, int rank, const int64_t *shape)
{
    return add_leaf(g, NB_OP_PARAM, name, rank, shape, NULL);
}

nb_node nb_const(nb_graph *g, const char *name, int rank, const int64_t *shape,
                 const float *values)
{
    return add_leaf(g, NB_OP_CONST, name, rank, shape, values);
}

static int check_node(const nb_graph *g, nb_node x)
{
    if (!g) return nb__fail(NB_ERR_ARG, "graph is NULL");
    if (x < 0 || x >= g->n_nodes) return nb__fail(NB_ERR_ARG, "node %d is not in this graph", (int)x);
    return NB_OK;
}

int nb_require_grad(nb_graph *g, nb_node x)
{
    int st = check_node(g, x);
    if (st) return st;
    if (g->compiled) return nb__fail(NB_ERR_STATE, "nb_require_grad after compile");
    if (g->nodes[x].op != NB_OP_INPUT)
        return nb__fail(NB_ERR_ARG, "nb_require_grad: node %d is not an input", (int)x);
    g->nodes[x].flags |= NB__NEED_GRAD | NB__LEAF_GRAD;
    /* nodes built on x earlier need gradients too; creation order is topological */
    for (int i = x + 1; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++)
            if (g->nodes[g->nodes[i].in[j]].flags & NB__NEED_GRAD) g->nodes[i].flags |= NB__NEED_GRAD;
    return NB_OK;
}

nb_node nb_op(nb_graph *g, nb_op_type op, int n_in, const nb_node *in, const nb_attr *attr)
{
    if (!g) return -nb__fail(NB_ERR_ARG, "graph is NULL");
    for (int i = 0; i < n_in; i++)
        if (in && in[i] < 0) return in[i]; /* propagate an earlier builder's failure */
    if (g->status) return -g->status;
    if ((int)op <= NB_OP_CONST || op >= NB_OP_COUNT_ || op == NB_OP_CUSTOM || !nb__op_table[op])
        return latch(g, nb__fail(NB_ERR_ARG, "nb_op: %d is not a computing operator", (int)op));
    return nb__op_build(g, op, n_in, in, attr);
}

nb_node nb__op_build(nb_graph *g, nb_op_type op, int n_in, const nb_node *in, const nb_attr *attr)
{
    const nb__op_def *def = nb__op_table[op];
    if (n_in < def->min_in || n_in > def->max_in || !in)
        return latch(g, nb__fail(NB_ERR_ARG, "%s: takes %d..%d inputs, got %d", def->name,
                                 def->min_in, def->max_in, n_in));
    for (int i = 0; i < n_in; i++)
        if (in[i] >= g->n_nodes)
            return latch(g, nb__fail(NB_ERR_ARG, "%s: input %d is node %d, not in this graph",
                                     def->name, i, (int)in[i]));
    int st = NB_OK;
    nb__node *nd = new_node(g, &st);
    if (!nd) return latch(g, st);
    nd->op = op;
    nd->n_in = n_in;
    for (int i = 0; i < n_in; i++) {
        nd->in[i] = in[i];
        if (g->nodes[in[i]].flags & NB__NEED_GRAD) nd->flags |= NB__NEED_GRAD;
    }
    if (attr) nd->attr = *attr;
    if ((st = def->infer(g, nd)) != NB_OK) return latch(g, st);
    return g->n_nodes++;
}

/* ---- introspection */

/* Creation order is topological, so one backward scan over ids suffices: no recursion, no
 * stack. */
void nb__mark_ancestors(const nb_graph *g, nb_node target, unsigned char *mark)
{
    memset(mark, 0, (size_t)g->n_nodes);
    mark[target] = 1;
    for (int i = target; i >= 0; i--) {
        if (!mark[i]) continue;
        for (int j = 0; j < g->nodes[i].n_in; j++) mark[g->nodes[i].in[j]] = 1;
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

int nb_graph_node_count(const nb_graph *g) { return g ? g->n_nodes : 0; }

nb_op_type nb_graph_node_op(const nb_graph *g, nb_node x)
{
    return check_node(g, x) ? NB_OP_COUNT_ : g->nodes[x].op;
}

const char *nb_graph_node_name(const nb_graph *g, nb_node x)
{
    return check_node(g, x) ? NULL : g->nodes[x].name;
}

int nb_graph_node_inputs(const nb_graph *g, nb_node x, const nb_node **in)
{
    if (check_node(g, x)) {
        if (in) *in = NULL;
        return 0;
    }
    if (in) *in = g->nodes[x].in;
    return g->nodes[x].n_in;
}

nb_node nb_graph_find(const nb_graph *g, const char *name)
{
    if (!g) return -nb__fail(NB_ERR_ARG, "nb_graph_find: graph is NULL");
    if (!name) return -nb__fail(NB_ERR_ARG, "nb_graph_find: name is NULL");
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].name && strcmp(g->nodes[i].name, name) == 0) return i;
    return -nb__fail(NB_ERR_ARG, "no node named \"%s\"", name ? name : "(null)");
}

int nb_graph_node_shape(const nb_graph *g, nb_node x, int64_t shape[NB_MAX_RANK])
{
    int st = check_node(g, x);
    if (st) return -st;
    for (int i = 0; shape && i < NB_MAX_RANK; i++) shape[i] = g->nodes[x].shape[i];
    return g->nodes[x].rank;
}

const char *nb_op_name(nb_op_type op)
{
    return (int)op >= 0 && op < NB_OP_COUNT_ && nb__op_table[op] ? nb__op_table[op]->name : "?";
}
