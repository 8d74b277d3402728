/*
 * compile.c - turning a built graph into something runnable: the memory plan, batch-size
 * changes, feeding inputs, and the forward and backward sweeps.
 * Plan: parameters sit in one flat buffer and their gradients in another (creation order);
 * every other node's value, gradient and saved state get 64-byte aligned offsets in one
 * arena, in one of two layouts (graph.h): FULL for training-mode forwards and every
 * backward, FORWARD for evaluation-mode forwards, which need no gradients, use saved state
 * only as scratch during the node's own forward, and (nb_graph_set_reuse) recycle a value's
 * buffer once its last reader has run. Inputs come first and sit at the same offsets in
 * both layouts, so a switch keeps what was fed. The arena only grows, so after the largest
 * batch has been seen in each mode, changing batch size or mode allocates nothing.
 */
#include "graph.h"
#include "grad_assign.h"
#include "mutant.h"

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

/* Switch to layout kind (or re-plan a stale forward layout) at the same batch size, keeping
 * the inputs; on failure the previous layout is restored (it fits: the arena never shrinks). */
static int use_plan(nb_graph *g, int kind)
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

/* Each node's last reader, for the forward layout's lifetimes (the graph is frozen). */
/* the readers of every value: the last one (memory reuse) and the only one, when there is
 * exactly one (grad_assign.h); found once here rather than by a scan in every backward */
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

void nb__graph_free_plan(nb_graph *g)
{
    nb_free(g->params);
    nb_free(g->pgrads);
    nb_free(g->mark);
    nb_free(g->last_use);
    nb_free(g->sole_reader);
    nb_free(g->blk);
    g->params = g->pgrads = NULL;
    g->mark = NULL;
    g->last_use = g->sole_reader = NULL;
    g->blk = NULL;
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
        nb__graph_free_plan(g);
        return NB_ERR_NOMEM;
    }
    g->n_params = np;
    find_readers(g);
    int st = plan(g, g->training ? NB__PLAN_FULL : NB__PLAN_FORWARD, 0);
    if (st) {
        nb__graph_free_plan(g);
        return st;
    }
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
    int st = nb__graph_input(g, x, n, &buf);
    if (!st) memcpy(buf, data, n * sizeof(float));
    return st;
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

static int run_forward(nb_graph *g, nb_node target)
{
    int st;
    mark_ancestors(g, target);
    for (int i = 0; i <= target; i++) {
        nb__node *nd = &g->nodes[i];
        if (!g->mark[i] || nd->op <= NB_OP_CONST) continue;
        if ((st = nb__op_table[nd->op]->forward(g, nd)) != NB_OK) return st;
    }
    return NB_OK;
}

int nb_graph_forward(nb_graph *g, nb_node target)
{
    int st = check_run(g, target, "forward");
    if (st) return st;
    if ((st = use_plan(g, g->training ? NB__PLAN_FULL : NB__PLAN_FORWARD))) return st;
    return run_forward(g, target);
}

/* Backward needs the full layout. After an evaluation-mode forward (forward layout: no
 * gradients, saved state overwritten, values maybe recycled) lay it out and run that forward
 * again; evaluation mode draws no dropout masks and updates no running statistics, so the
 * second run computes exactly the values the first did. */
static int full_for_backward(nb_graph *g, nb_node loss)
{
    if (g->plan_kind == NB__PLAN_FULL) return NB_OK;
    int st = use_plan(g, NB__PLAN_FULL), training = g->training;
    if (st) return st;
    g->training = 0;
    st = run_forward(g, loss);
    g->training = training;
    return st;
}

/* A zeroing owed to the parameters' gradients (nb__graph_zero_grad_lazy) is paid here: a
 * parameter whose only reader is a matrix product in this sweep gets its gradient written by
 * that product (beta 0: the same values as zeros plus the product, up to the sign of a zero
 * sum), so neither a memset nor the product's read of the old gradient touches it; every
 * other parameter is zeroed. Which happens is a function of the graph alone. */
static void settle_param_grads(nb_graph *g, nb_node loss)
{
    int lazy = g->pgrads_pending;
    g->pgrads_pending = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        nb__node *nd = &g->nodes[i];
        if (nd->op != NB_OP_PARAM) continue;
        int r = g->sole_reader[i];
        int write = lazy && r >= 0 && r <= loss && g->mark[r] && g->nodes[r].grad && g->nodes[r].op == NB_OP_MATMUL;
#ifdef NB_MUTANTS /* mutant.h: every gradient is added to, so the hook sees what backward added */
        write = 0;
#endif
        nd->flags = write ? nd->flags | NB__WRITE_GRAD : nd->flags & ~(unsigned)NB__WRITE_GRAD;
        if (lazy && !write) memset(nd->grad, 0, nd->n * sizeof(float));
    }
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
    if ((st = full_for_backward(g, loss))) return st;
    mark_ancestors(g, loss);
    /* intermediate gradients restart from zero each call; only leaves accumulate. A gradient
     * whose only reader runs in this sweep and writes all of it (grad_assign.h) is not
     * zeroed: that would be one more pass over memory for every big activation. */
    for (int i = 0; i <= loss; i++) {
        nb__node *nd = &g->nodes[i];
        if (!g->mark[i] || !nd->grad || (nd->flags & NB__LEAF_GRAD)) continue;
        int r = nb__sole_reader(g, i);
        if (r >= 0 && r <= loss && g->mark[r] && g->nodes[r].grad && nb__op_writes_whole_grad(g->nodes[r].op)) continue;
        memset(nd->grad, 0, nd->n * sizeof(float));
    }
    settle_param_grads(g, loss);
    L->grad[0] += 1.0f;
    for (int i = loss; i >= 0; i--) {
        nb__node *nd = &g->nodes[i];
        if (!g->mark[i] || !nd->grad || nd->op <= NB_OP_CONST) continue;
        const nb__op_def *def = nb__op_table[nd->op];
        NB__MUTANT_BEFORE(g, nd);
        if (def->backward) def->backward(g, nd);
        NB__MUTANT_AFTER(g, nd);
    }
    return NB_OK;
}

void nb__graph_zero_grad_lazy(nb_graph *g)
{
    if (!g || !g->compiled) return;
    g->pgrads_pending = 1;
    /* only leaves accumulate: backward restarts every intermediate gradient from zero itself,
     * so clearing them here too would be a second memset per node on every training step */
    for (int i = 0; i < g->n_nodes; i++) {
        nb__node *nd = &g->nodes[i];
        if ((nd->flags & NB__LEAF_GRAD) && nd->op != NB_OP_PARAM) memset(nd->grad, 0, nd->n * sizeof(float));
    }
}

void nb__graph_settle_grads(nb_graph *g)
{
    if (!g || !g->compiled || !g->pgrads_pending) return;
    memset(g->pgrads, 0, (g->n_params ? g->n_params : 1) * sizeof(float));
    g->pgrads_pending = 0;
}

void nb_graph_zero_grad(nb_graph *g)
{
    nb__graph_zero_grad_lazy(g);
    nb__graph_settle_grads(g);
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
    nb__graph_settle_grads(g);
    *n = g && g->compiled ? g->n_params : 0;
    return g && g->compiled ? g->pgrads : NULL;
}
