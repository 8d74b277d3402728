/* SPDX-License-Identifier: MIT */
/*
 * plan.c - the planner: what nb_graph_compile decides, re-decided only when the batch size,
 * the mode or the loss changes. Memory: parameters and their gradients in two flat buffers,
 * every other value, gradient and saved state at a 64-byte aligned offset of one arena, in
 * the FULL or FORWARD layout (plan.h), inputs first at the same offsets in both; the arena
 * only grows. Gradients: the reader tables and the one gradient rule (nb__plan_grad_rule):
 * for every edge whether backward writes or adds, for every gradient whether it is zeroed.
 */
#include "plan.h"

#include <limits.h>
#include <string.h>

#define ALIGN 64

/* A live buffer of the forward layout: bytes [off, end) used until node `until` has run. */
struct nb__blk {
    size_t off, end;
    int until;
};

static int plan_add(size_t *used, size_t bytes, size_t *off)
{
    size_t a = (*used + ALIGN - 1) / ALIGN * ALIGN, end;
    if (a < *used || !nb__add_size(a, bytes, &end))
        return nb__fail(NB_ERR_NOMEM, "graph memory plan overflows");
    *off = a;
    *used = end;
    return NB_OK;
}

/* Place `bytes` in the first gap between the live blocks b[0..*n) (sorted by offset) at or
 * after base that holds them, else after the last; record the block, raise *high. First fit
 * suits the mostly chain-shaped lifetimes of layer graphs: a layer's output lands where the
 * layer before the previous one was. */
static int pack(struct nb__blk *b, int *n, size_t base, size_t bytes, int until, size_t *off,
                size_t *high)
{
    size_t at = base;
    for (int pos = 0;; pos++) {
        size_t a = at, end;
        if (plan_add(&a, bytes, off)) return NB_ERR_NOMEM;
        end = a;
        if (pos == *n || end <= b[pos].off) {
            memmove(b + pos + 1, b + pos, (size_t)(*n - pos) * sizeof *b);
            b[pos] = (struct nb__blk){*off, end, until};
            (*n)++;
            if (end > *high) *high = end;
            return NB_OK;
        }
        at = b[pos].end;
    }
}

/* Drop the blocks whose last reader ran before node `now`. */
static void release(struct nb__blk *b, int *n, int now)
{
    int k = 0;
    for (int i = 0; i < *n; i++)
        if (b[i].until >= now) b[k++] = b[i];
    *n = k;
}

/* Offsets of the forward layout after the inputs (prefix bytes): nodes in creation order,
 * each value alive from its node until its last reader (for ever when reuse is off, for kept
 * nodes and for the nodes nobody reads), its saved state only during its own forward. The
 * lifetimes do not depend on the forward's target: a node's buffer overlaps no buffer of a
 * node that runs while it is alive, whichever subset of nodes a forward runs. */
static int plan_forward(nb_graph *g, size_t prefix, size_t *used)
{
    int nb = 0, st;
    size_t high = prefix;
    for (int i = 0; i < g->n_nodes; i++) {
        nb__node *nd = &g->nodes[i];
        const nb__op_def *def = nb__op_table[nd->op];
        nd->aux_bytes = 0;
        if (nd->op <= NB_OP_CONST) continue;
        release(g->blk, &nb, i);
        int until = g->reuse && !(nd->flags & NB__KEEP) && g->last_use[i] > i ? g->last_use[i] : INT_MAX;
        if ((st = pack(g->blk, &nb, prefix, nd->n * sizeof(float), until, &nd->val_off, &high))) return st;
        nd->aux_bytes = def->aux_bytes ? def->aux_bytes(g, nd) : 0;
        if (nd->aux_bytes && (st = pack(g->blk, &nb, prefix, nd->aux_bytes, i, &nd->aux_off, &high))) return st;
    }
    *used = high;
    return NB_OK;
}

static size_t arena_shift(const unsigned char *arena)
{
    return (ALIGN - (uintptr_t)arena % ALIGN) % ALIGN; /* the arena is only malloc-aligned */
}

/* Re-infer every shape at the current batch size, lay out the arena in layout `kind` and grow
 * it if needed. keep_inputs: the batch size is unchanged, so the inputs' bytes (the prefix)
 * are kept; otherwise they restart at zero. Parameters do not depend on the batch size. */
static int plan(nb_graph *g, int kind, int keep_inputs)
{
    int st;
    for (int i = 0; i < g->n_nodes; i++) {
        nb__node *nd = &g->nodes[i];
        if ((st = nb__op_table[nd->op]->infer(g, nd)) != NB_OK) return st;
    }
    size_t used = 0;
    for (int i = 0; i < g->n_nodes; i++) { /* inputs first: the same in both layouts */
        nb__node *nd = &g->nodes[i];
        if (nd->op != NB_OP_INPUT) continue;
        if ((st = plan_add(&used, nd->n * sizeof(float), &nd->val_off))) return st;
        if ((nd->flags & NB__NEED_GRAD) && (st = plan_add(&used, nd->n * sizeof(float), &nd->grad_off))) return st;
    }
    size_t prefix = used;
    if (kind == NB__PLAN_FORWARD) {
        if ((st = plan_forward(g, prefix, &used))) return st;
    } else {
        for (int i = 0; i < g->n_nodes; i++) {
            nb__node *nd = &g->nodes[i];
            const nb__op_def *def = nb__op_table[nd->op];
            size_t bytes = nd->n * sizeof(float); /* nb__set_shape keeps this representable */
            nd->aux_bytes = 0;
            if (nd->op <= NB_OP_CONST) continue;
            if ((st = plan_add(&used, bytes, &nd->val_off))) return st;
            if ((nd->flags & NB__NEED_GRAD) && (st = plan_add(&used, bytes, &nd->grad_off))) return st;
            nd->aux_bytes = def->aux_bytes ? def->aux_bytes(g, nd) : 0;
            if (nd->aux_bytes && (st = plan_add(&used, nd->aux_bytes, &nd->aux_off))) return st;
        }
    }
    size_t old_shift = g->arena ? arena_shift(g->arena) : 0;
    if (used > g->arena_cap || !g->arena) {
        /* realloc keeps the inputs, and the kernel can move a large block's pages instead of
         * holding old and new at once (peak memory) */
        size_t old_bytes = g->arena ? g->arena_cap + ALIGN : 0, bytes;
        if (!nb__add_size(used, ALIGN, &bytes)) return nb__fail(NB_ERR_NOMEM, "graph memory plan overflows");
        unsigned char *p = nb__realloc(g->arena, bytes);
        if (!p) return NB_ERR_NOMEM;
        memset(p + old_bytes, 0, bytes - old_bytes); /* nothing ever reads uninitialised bytes */
        g->arena = p;
        g->arena_cap = used;
        if (keep_inputs && arena_shift(p) != old_shift) memmove(p + arena_shift(p), p + old_shift, prefix);
    }
    g->arena_used = used;
    g->prefix = prefix;
    unsigned char *base = g->arena + arena_shift(g->arena);
    /* a new batch size restarts the inputs (and their accumulated gradients) at zero; the full
     * layout also zeroes the rest, so intermediate gradients read as zero until a backward.
     * The forward layout skips it: every forward writes all it reads (prediction changes the
     * batch size on its last chunk, and a memset of the arena there would cost a pass). */
    if (!keep_inputs) memset(base, 0, prefix);
    if (kind == NB__PLAN_FULL) memset(base + prefix, 0, used - prefix);
    for (int i = 0; i < g->n_nodes; i++) {
        nb__node *nd = &g->nodes[i];
        if (nd->op == NB_OP_PARAM) {
            nd->val = g->params + nd->val_off;
            nd->grad = g->pgrads + nd->val_off;
        } else {
            int has_grad = (nd->flags & NB__NEED_GRAD) && (kind == NB__PLAN_FULL || nd->op == NB_OP_INPUT);
            if (nd->op != NB_OP_CONST) nd->val = (float *)(void *)(base + nd->val_off);
            nd->grad = has_grad ? (float *)(void *)(base + nd->grad_off) : NULL;
        }
        nd->aux = nd->aux_bytes ? base + nd->aux_off : NULL;
    }
    g->plan_kind = kind;
    g->plan_stale = 0;
    return NB_OK;
}

/* A switch of layout keeps the batch size and the inputs; on failure the previous layout is
 * restored (it fits: the arena never shrinks). */
int nb__plan_use(nb_graph *g, int kind)
{
    if (g->plan_kind == kind && !(g->plan_stale && kind == NB__PLAN_FORWARD)) return NB_OK;
    int old = g->plan_kind, st = plan(g, kind, 1);
    if (st) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", nb_errmsg());
        plan(g, old, 1);
        return nb__fail(st, "%s", msg);
    }
    return NB_OK;
}

/* The readers of every value, found once: the last one (the forward layout's lifetimes) and
 * the only one, when exactly one input slot of one node reads it (the gradient rule). */
static void find_readers(nb_graph *g)
{
    for (int i = 0; i < g->n_nodes; i++) g->last_use[i] = i, g->sole_reader[i] = -1;
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++) {
            nb_node x = g->nodes[i].in[j];
            g->sole_reader[x] = g->last_use[x] == x ? i : -1; /* a second reader: none is sole */
            g->last_use[x] = i;
        }
}

/* The one gradient rule. Backward adds into input gradients, so a value read twice gets both
 * contributions; but a gradient that starts this sweep from zero (every intermediate one, and
 * the accumulating ones when fresh) and has exactly one reader, which runs in this sweep, gets
 * exactly one contribution: that edge is WRITE ("dx = v" equals "dx = 0; dx += v" up to the
 * sign of a zero, 0 + -0 being +0): the reader stores every element, which saves reading dx
 * and zeroing it first, two passes over memory for the big activations of a CNN. Every
 * other gradient that starts from zero is zeroed by the executor; accumulating ones (when not
 * fresh) and those outside the sweep are left alone. A fresh sweep thus costs the weights of
 * a dense layer no pass besides the product that computes their gradient. */
void nb__plan_grad_rule(nb_graph *g, nb_node loss, int fresh)
{
    if (g->rule_loss == loss && g->rule_fresh == fresh) return;
    nb__mark_ancestors(g, loss, g->mark);
    for (int i = 0; i < g->n_nodes; i++) {
        nb__node *nd = &g->nodes[i];
        nd->in_sweep = g->mark[i];
        nd->grad_zero = nd->grad_write = 0;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        nb__node *nd = &g->nodes[i];
        int leaf = (nd->flags & NB__LEAF_GRAD) != 0;
        if (!(nd->flags & NB__NEED_GRAD) || (leaf && !fresh) || (!leaf && !nd->in_sweep)) continue;
        int r = g->sole_reader[i], writes = NB__WRITES_NONE;
        if (r >= 0 && g->nodes[r].in_sweep) writes = nb__op_table[g->nodes[r].op]->grad_writes; /* graph.h */
#ifdef NB_MUTANTS
        writes = NB__WRITES_NONE; /* mutation tests: every edge adds, a backward's part is new - old */
#endif
        for (int j = 0; writes != NB__WRITES_NONE && j < g->nodes[r].n_in; j++)
            if (g->nodes[r].in[j] == i) g->nodes[r].grad_write |= (unsigned char)(1u << j);
        nd->grad_zero = writes != NB__WRITES_ALL;
    }
    g->rule_loss = loss;
    g->rule_fresh = fresh;
}

/* What nb_graph_compile allocated besides the arena (parameters, gradients, reader tables,
 * planner scratch), leaving NULLs: compile's failure path and nb_graph_free. */
static void free_plan(nb_graph *g)
{
    if (!g->borrowed) {
        nb_free(g->params);
        nb_free(g->pgrads);
    }
    nb_free(g->mark);
    nb_free(g->last_use);
    nb_free(g->sole_reader);
    nb_free(g->blk);
    g->params = g->pgrads = NULL;
    g->mark = NULL;
    g->last_use = g->sole_reader = NULL;
    g->blk = NULL;
}

void nb_graph_free(nb_graph *g)
{
    if (!g) return;
    for (int i = 0; g->wpack && i < g->n_nodes; i++) nb_free(g->wpack[i].buf);
    nb_free(g->wpack);
    free_plan(g);
    nb_free(g->arena);
    nb__graph_free_nodes(g);
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
    g->last_use = nb__calloc((size_t)g->n_nodes + 1, sizeof *g->last_use);
    g->sole_reader = nb__calloc((size_t)g->n_nodes + 1, sizeof *g->sole_reader);
    g->blk = nb__calloc((size_t)g->n_nodes + 1, sizeof *g->blk);
    if (!g->params || !g->pgrads || !g->mark || !g->last_use || !g->sole_reader || !g->blk) {
        free_plan(g);
        return NB_ERR_NOMEM;
    }
    g->n_params = np;
    find_readers(g);
    int st = plan(g, g->training ? NB__PLAN_FULL : NB__PLAN_FORWARD, 0);
    if (st) {
        free_plan(g);
        return st;
    }
    /* the rule for the usual loss, the last node built; a backward from another re-decides */
    g->rule_loss = -1;
    if (g->n_nodes) nb__plan_grad_rule(g, g->n_nodes - 1, 0);
    g->compiled = 1;
    return NB_OK;
}

int nb_graph_set_reuse(nb_graph *g, int on)
{
    if (!g) return nb__fail(NB_ERR_ARG, "graph is NULL");
    g->reuse = on != 0;
    g->plan_stale = 1; /* takes effect at the next evaluation-mode forward */
    return NB_OK;
}

int nb_graph_keep(nb_graph *g, nb_node x)
{
    if (!g) return nb__fail(NB_ERR_ARG, "graph is NULL");
    if (x < 0 || x >= g->n_nodes) return nb__fail(NB_ERR_ARG, "keep: node %d is not in this graph", (int)x);
    g->nodes[x].flags |= NB__KEEP;
    g->plan_stale = 1;
    return NB_OK;
}

int nb_graph_set_batch(nb_graph *g, int64_t batch)
{
    if (!g) return nb__fail(NB_ERR_ARG, "graph is NULL");
    if (batch < 1) return nb__fail(NB_ERR_ARG, "batch size %lld must be >= 1", (long long)batch);
    if (batch == g->batch && g->compiled) return NB_OK;
    int64_t old = g->batch;
    g->batch = batch;
    if (!g->compiled) return NB_OK;
    /* lay out what the next forward uses: evaluation at a large batch must not first grow
     * the arena to the training layout */
    int old_kind = g->plan_kind, st = plan(g, g->training ? NB__PLAN_FULL : NB__PLAN_FORWARD, 0);
    if (st) { /* restore the previous, valid plan */
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", nb_errmsg());
        g->batch = old;
        plan(g, old_kind, 0);
        return nb__fail(st, "batch size %lld: %s", (long long)batch, msg);
    }
    return NB_OK;
}

int64_t nb_graph_batch(const nb_graph *g) { return g ? g->batch : 0; }


/* The nodes replayed through the builders (same indices, so the same shapes, flags and
 * operator paths), compiled for evaluation, then the flat parameters and the constants'
 * values pointed at src's: a copy costs its arena and tables, never the weights, and always
 * sees src's current values. */
int nb__graph_clone(const nb_graph *src, nb_graph **out)
{
    *out = NULL;
    if (!src->compiled || src->borrowed) return nb__fail(NB_ERR_STATE, "graph clone: the source is not a compiled graph of its own");
    if (src->n_customs) return nb__fail(NB_ERR_STATE, "graph clone: custom operators are not copied");
    nb_graph *c;
    int st = nb_graph_create(&c);
    for (int i = 0; !st && i < src->n_nodes; i++) {
        const nb__node *nd = &src->nodes[i];
        nb_node k = nd->op == NB_OP_INPUT   ? nb_input(c, nd->name, nd->rank, nd->decl)
                    : nd->op == NB_OP_PARAM ? nb_param(c, nd->name, nd->rank, nd->decl)
                    : nd->op == NB_OP_CONST ? nb_const(c, nd->name, nd->rank, nd->decl, NULL)
                                            : nb__op_build(c, nd->op, nd->n_in, nd->in, &nd->attr);
        if (k < 0) st = -k;
        else c->nodes[k].flags = nd->flags;
    }
    if (!st) {
        c->reuse = src->reuse;
        c->training = 0;
        st = nb_graph_compile(c);
    }
    if (st) {
        nb_graph_free(c);
        return st;
    }
    nb_free(c->params);
    nb_free(c->pgrads);
    c->params = src->params;
    c->pgrads = src->pgrads;
    c->borrowed = 1;
    for (int i = 0; i < c->n_nodes; i++)
        if (c->nodes[i].op == NB_OP_CONST) c->nodes[i].val = src->nodes[i].val;
    c->plan_stale = 1; /* the next forward's plan points the parameters at src's */
    c->weights_epoch = 1;
    *out = c;
    return NB_OK;
}

void nb__graph_weights_changed(nb_graph *g)
{
    g->weights_epoch++;
}
