/* SPDX-License-Identifier: MIT */
/*
 * test_graph.c - the graph machinery: gradients add at branches, explicit zeroing, the
 * gradient rule (which edges write, which gradients are zeroed, getters that only read), no
 * heap allocation after the first step (counted through the allocator hook), batch-size
 * changes, builder errors that name the operator and shapes, custom operators (ReLU written
 * by hand against the built-in one), allocation failure at every step of build/compile/run,
 * DOT, and the evaluation layout (no gradients, recycled values, same bits, no backward).
 */
#include "nabla.h"
#include "check.h"
#include "fault_alloc.h"
#include "../../src/autograd/autograd.h"
#include "../../src/autograd/graph.h"

#include <stdlib.h>


static float v0(nb_graph *g, nb_node x, int grad)
{
    nb_view v;
    if (grad) nb_graph_grad(g, x, &v);
    else nb_graph_value(g, x, &v);
    return v.data ? v.data[0] : NAN;
}

/* f = x*x + x*y: df/dx = 2x + y sums three paths into x */
static void test_branches(void)
{
    nb_graph *g;
    CHECK_OK(nb_graph_create(&g));
    nb_node x = nb_param(g, "x", 0, NULL), y = nb_param(g, "y", 0, NULL);
    nb_node f = nb_add(g, nb_mul(g, x, x), nb_mul(g, x, y));
    CHECK_OK(nb_graph_compile(g));
    size_t n;
    float *p = nb_graph_params(g, &n);
    CHECK(n == 2);
    p[0] = 3, p[1] = -5;
    CHECK_OK(nb_graph_forward(g, f));
    CHECK_OK(nb_graph_backward(g, f));
    CHECK(v0(g, f, 0) == 9.0f - 15.0f);
    CHECK(v0(g, x, 1) == 2 * 3.0f - 5.0f);
    CHECK(v0(g, y, 1) == 3.0f);
    /* gradients accumulate until zeroed explicitly */
    CHECK_OK(nb_graph_backward(g, f));
    CHECK(v0(g, x, 1) == 2.0f);
    nb_graph_zero_grad(g);
    CHECK(v0(g, x, 1) == 0.0f && v0(g, y, 1) == 0.0f);
    CHECK_OK(nb_graph_backward(g, f));
    CHECK(v0(g, x, 1) == 1.0f);
    nb_graph_free(g);
}

/* ---- the gradient rule (plan.c): per edge WRITE or ADD, per gradient whether the executor
 * zeroes it, a function of the graph and the loss alone. A -DNB_MUTANTS build records ADD for
 * every edge and zeroes every gradient that starts from zero. */
#ifdef NB_MUTANTS
#define RULE_WRITE(bits) 0
#define RULE_ZERO(flag) 1
#else
#define RULE_WRITE(bits) (bits)
#define RULE_ZERO(flag) (flag)
#endif

static const nb__node *node_of(const nb_graph *g, nb_node x) { return &g->nodes[x]; }

/* the parameters' gradients equal want within rtol (0: by value, so a written -0 and an added
 * +0 are equal) */
static int grads_near(nb_graph *g, const float *want, float rtol)
{
    size_t n;
    const float *d = nb_graph_grads(g, &n);
    for (size_t i = 0; i < n; i++)
        if (!(fabsf(d[i] - want[i]) <= rtol * fabsf(want[i]))) {
            fprintf(stderr, "  gradient %zu: expected %.9g, got %.9g\n", i, (double)want[i], (double)d[i]);
            return 0;
        }
    return 1;
}
/* a second backward adds its sums into the first's (a broadcast operand's row by row), so the
 * total is twice the first up to rounding */
#define TWICE_RTOL 1e-6f

static void test_grad_rule(void)
{
    nb_graph *g;
    CHECK_OK(nb_graph_create(&g));
    nb_node x = nb_input(g, "x", 2, (int64_t[]){2, 3});
    nb_node w = nb_param(g, "w", 2, (int64_t[]){4, 3}); /* read by a matmul alone */
    nb_node b = nb_param(g, "b", 1, (int64_t[]){4});    /* read by an add alone */
    nb_node h = nb_matmul(g, x, w, 0, 1);               /* read by an add alone */
    nb_node z = nb_add(g, h, b);                        /* read by a tanh alone */
    nb_node t = nb_tanh(g, z);                          /* read twice, by one mul */
    nb_node sq = nb_mul(g, t, t), L = nb_sum_all(g, sq);
    nb_node p = nb_param(g, "p", 1, (int64_t[]){3});    /* a second loss, away from w and b */
    nb_node M = nb_sum_all(g, nb_tanh(g, p));
    CHECK_OK(nb_graph_compile(g));
    size_t np;
    float *pv = nb_graph_params(g, &np);
    CHECK(np == 12 + 4 + 3);
    for (size_t i = 0; i < np; i++) pv[i] = (float)((int)(i * 5 % 7) - 3) / 4.0f;
    CHECK_OK(nb_graph_feed(g, x, (float[]){0.5f, -1, 2, 1.5f, 0.25f, -0.75f}, 6));
    CHECK_OK(nb_graph_forward(g, L));
    CHECK_OK(nb_graph_forward(g, M));

    /* a plain backward: accumulating gradients add, never zeroed by it */
    nb_graph_zero_grad(g);
    CHECK_OK(nb_graph_backward(g, L));
    CHECK(node_of(g, t)->grad_zero == 1 && node_of(g, sq)->grad_write == 0); /* read twice: ADD */
    CHECK(node_of(g, z)->grad_zero == RULE_ZERO(0) && node_of(g, t)->grad_write == RULE_WRITE(1));
    CHECK(node_of(g, h)->grad_zero == 1 && node_of(g, z)->grad_write == 0); /* add always adds */
    CHECK(node_of(g, h)->grad_write == 0 && node_of(g, w)->grad_zero == 0 && node_of(g, b)->grad_zero == 0);
    CHECK(node_of(g, p)->in_sweep == 0 && node_of(g, w)->in_sweep == 1);
    nb_view tv, tg, zg;
    nb_graph_value(g, t, &tv);
    nb_graph_grad(g, t, &tg);
    nb_graph_grad(g, z, &zg);
    float z_ref[8];
    memcpy(z_ref, zg.data, sizeof z_ref);
    for (int i = 0; i < 8; i++) CHECK(tg.data[i] == 2 * tv.data[i]); /* both contributions */
    static float g1[19], g2[19];
    size_t n;
    memcpy(g1, nb_graph_grads(g, &n), sizeof g1);
    CHECK(n == 19 && g1[0] != 0 && g1[12] != 0);

    /* a second backward: intermediates restart (the written and the zeroed one alike), the
     * parameters' gradients accumulate */
    CHECK_OK(nb_graph_backward(g, L));
    for (int i = 0; i < 8; i++) CHECK(tg.data[i] == 2 * tv.data[i] && zg.data[i] == z_ref[i]);
    for (int i = 0; i < 19; i++) g2[i] = 2 * g1[i];
    CHECK(grads_near(g, g2, TWICE_RTOL));
    float *d = nb_graph_grads(g, &n);
    memcpy(g2, d, sizeof g2);

    /* getters only read: asking twice, or after deferring the zeroing, changes nothing */
    CHECK(nb_graph_grads(g, &n) == d && memcmp(d, g2, sizeof g2) == 0);
    nb__graph_defer_zero_grad(g);
    CHECK(nb_graph_grads(g, &n) == d && memcmp(d, g2, sizeof g2) == 0 && nb_graph_params(g, &n) == pv);

    /* the deferred zeroing is paid by the backward: the matmul writes w's gradient, which is
     * not zeroed; b's (read by an add) is zeroed; the values are a fresh backward's */
    CHECK_OK(nb_graph_backward(g, L));
    CHECK(node_of(g, h)->grad_write == RULE_WRITE(2) && node_of(g, w)->grad_zero == RULE_ZERO(0));
    CHECK(node_of(g, b)->grad_zero == 1 && node_of(g, z)->grad_write == 0);
    CHECK(grads_near(g, g1, 0));
    /* ... and only by the next one: this backward adds again */
    CHECK_OK(nb_graph_backward(g, L));
    CHECK(node_of(g, h)->grad_write == 0 && node_of(g, w)->grad_zero == 0 && grads_near(g, g2, 0));

    /* the rule follows the loss: from M, w's matmul does not run, so a deferred zeroing
     * zeroes w (and b) instead of leaving them to a writer */
    nb__graph_defer_zero_grad(g);
    CHECK_OK(nb_graph_backward(g, M));
    CHECK(node_of(g, w)->in_sweep == 0 && node_of(g, p)->in_sweep == 1);
    CHECK(node_of(g, w)->grad_zero == 1 && node_of(g, b)->grad_zero == 1);
    CHECK(node_of(g, p)->grad_zero == RULE_ZERO(0)); /* its tanh writes it */
    for (int i = 0; i < 16; i++) CHECK(d[i] == 0);
    CHECK(d[16] != 0);

    /* a deferred zeroing no backward took is paid on request; without one that is a no-op */
    CHECK_OK(nb_graph_backward(g, L));
    memcpy(g2, d, sizeof g2);
    nb__graph_flush_zero_grad(g);
    CHECK(memcmp(d, g2, sizeof g2) == 0);
    nb__graph_defer_zero_grad(g);
    nb__graph_flush_zero_grad(g);
    for (int i = 0; i < 19; i++) CHECK(d[i] == 0);
    /* nb_graph_zero_grad zeroes at once */
    CHECK_OK(nb_graph_backward(g, L));
    nb_graph_zero_grad(g);
    for (int i = 0; i < 19; i++) CHECK(d[i] == 0);

    /* no backward after an evaluation-mode forward (no gradients laid out, values maybe
     * recycled): a clear error, and a training-mode forward makes it work again */
    nb_graph_set_training(g, 0);
    CHECK_OK(nb_graph_forward(g, L));
    CHECK_ERR(nb_graph_backward(g, L), NB_ERR_STATE, "backward: the last forward of this graph ran in evaluation mode");
    nb_graph_set_training(g, 1);
    CHECK_OK(nb_graph_forward(g, L));
    CHECK_OK(nb_graph_backward(g, L));
    CHECK(grads_near(g, g1, 0));
    nb_graph_free(g);
}

/* A small MLP step, built once: after the first step at a batch size, further steps (and
 * returning to an already-seen batch size) allocate nothing. */
static nb_graph *mlp(nb_node *x, nb_node *t, nb_node *loss, nb_node *logits)
{
    nb_graph *g;
    if (nb_graph_create(&g)) return NULL;
    *x = nb_input(g, "x", 2, (int64_t[]){NB_BATCH, 6});
    *t = nb_input(g, "t", 1, (int64_t[]){NB_BATCH});
    nb_node w1 = nb_param(g, "w1", 2, (int64_t[]){8, 6}), b1 = nb_param(g, "b1", 1, (int64_t[]){8});
    nb_node w2 = nb_param(g, "w2", 2, (int64_t[]){3, 8}), b2 = nb_param(g, "b2", 1, (int64_t[]){3});
    nb_node h = nb_relu(g, nb_add(g, nb_matmul(g, *x, w1, 0, 1), b1));
    *logits = nb_add(g, nb_matmul(g, h, w2, 0, 1), b2);
    *loss = nb_softmax_ce(g, *logits, *t);
    if (nb_graph_status(g) || nb_graph_compile(g)) {
        nb_graph_free(g);
        return NULL;
    }
    size_t n;
    float *p = nb_graph_params(g, &n);
    nb_rng r;
    nb_rng_seed(&r, 7);
    for (size_t i = 0; i < n; i++) p[i] = 0.3f * nb_rng_normal(&r);
    return g;
}

static int step(nb_graph *g, nb_node x, nb_node t, nb_node loss, int batch)
{
    float xs[64 * 6], ts[64];
    for (int i = 0; i < batch * 6; i++) xs[i] = (float)((i * 7) % 11) / 11.0f - 0.5f;
    for (int i = 0; i < batch; i++) ts[i] = (float)(i % 3);
    int st;
    if ((st = nb_graph_feed(g, x, xs, (size_t)batch * 6))) return st;
    if ((st = nb_graph_feed(g, t, ts, (size_t)batch))) return st;
    nb_graph_zero_grad(g);
    if ((st = nb_graph_forward(g, loss))) return st;
    if ((st = nb_graph_backward(g, loss))) return st;
    size_t n;
    float *p = nb_graph_params(g, &n), *d = nb_graph_grads(g, &n);
    for (size_t i = 0; i < n; i++) p[i] -= 0.1f * d[i];
    return NB_OK;
}

static void test_no_alloc_and_batches(void)
{
    fa_begin(0);
    nb_node x, t, loss, logits;
    nb_graph *g = mlp(&x, &t, &loss, &logits);
    CHECK(g != NULL);
    CHECK_OK(step(g, x, t, loss, 32));
    long after_first = fa_calls;
    for (int i = 0; i < 20; i++) CHECK_OK(step(g, x, t, loss, 32));
    CHECK(fa_calls == after_first); /* the steady state allocates nothing */
    CHECK_OK(step(g, x, t, loss, 5)); /* a smaller last batch fits the plan */
    CHECK_OK(step(g, x, t, loss, 32));
    CHECK(fa_calls == after_first);
    CHECK_OK(step(g, x, t, loss, 64)); /* a larger batch grows the arena once */
    long grown = fa_calls;
    CHECK(grown > after_first);
    CHECK_OK(step(g, x, t, loss, 17));
    CHECK_OK(step(g, x, t, loss, 64));
    CHECK(fa_calls == grown);
    int64_t shape[NB_MAX_RANK];
    CHECK(nb_graph_node_shape(g, logits, shape) == 2 && shape[0] == 64 && shape[1] == 3);
    /* a partial row is a clear error, not a crash */
    CHECK_ERR(nb_graph_feed(g, x, (float[7]){0}, 7), NB_ERR_SHAPE, "whole number of rows");
    nb_graph_free(g);
    CHECK(fa_live == 0);
    fa_end();
}

/* Allocation failure at every point of build + compile + two steps: clean status, no leak. */
static void test_alloc_failures(void)
{
    long total;
    { /* count the allocations of a full run */
        fa_begin(0);
        nb_node x, t, loss, logits;
        nb_graph *g = mlp(&x, &t, &loss, &logits);
        step(g, x, t, loss, 8);
        step(g, x, t, loss, 16);
        nb_graph_free(g);
        total = fa_calls;
    }
    CHECK(total > 5);
    for (long k = 1; k <= total; k++) {
        fa_begin(k);
        nb_node x, t, loss, logits;
        nb_graph *g = mlp(&x, &t, &loss, &logits);
        int st = NB_OK;
        if (g) {
            st = step(g, x, t, loss, 8);
            if (!st) st = step(g, x, t, loss, 16);
            nb_graph_free(g);
        } else {
            st = NB_ERR_NOMEM;
        }
        CHECK(st == NB_ERR_NOMEM);
        CHECK(fa_live == 0);
    }
    fa_end();
}

/* ---- memory layouts: evaluation-mode forwards lay out no gradients (a training-mode forward
 * lays them out again) and, with reuse, recycle value buffers; values must not change by a
 * bit. */

static size_t big_alloc; /* the largest request seen: the arena, in these graphs */
static void *track_alloc(void *ud, void *ptr, size_t size)
{
    (void)ud;
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    if (size > big_alloc) big_alloc = size;
    return realloc(ptr, size);
}

/* x (B, 24) through six residual tanh layers of width 24 (one kept midway) to a scalar loss; the
 * parameters are seeded, the input filled for batch B */
static nb_graph *chain(int64_t B, nb_node *x, nb_node *mid, nb_node *top, nb_node *loss)
{
    nb_graph *g;
    if (nb_graph_create(&g)) return NULL;
    *x = nb_input(g, "x", 2, (int64_t[]){NB_BATCH, 24});
    nb_node h = *x;
    for (int i = 0; i < 6; i++) {
        /* residual: h is read again after two later nodes, so a buffer freed too early
         * would be overwritten before that read */
        h = nb_add(g, nb_tanh(g, nb_matmul(g, h, nb_param(g, NULL, 2, (int64_t[]){24, 24}), 0, 1)), h);
        if (i == 2) *mid = h;
    }
    *top = h;
    *loss = nb_mean_all(g, nb_square(g, h));
    if (nb_graph_status(g) || nb_graph_compile(g)) {
        nb_graph_free(g);
        return NULL;
    }
    size_t n;
    float *p = nb_graph_params(g, &n);
    nb_rng r;
    nb_rng_seed(&r, 11);
    for (size_t i = 0; i < n; i++) p[i] = 0.4f * nb_rng_normal(&r);
    float *xs = malloc((size_t)B * 24 * sizeof *xs);
    for (int64_t i = 0; i < B * 24; i++) xs[i] = nb_rng_normal(&r);
    int st = nb_graph_feed(g, *x, xs, (size_t)B * 24);
    free(xs);
    if (st) {
        nb_graph_free(g);
        return NULL;
    }
    return g;
}

static int same_value(nb_graph *g, nb_node a, const float *want, size_t n)
{
    nb_view v;
    nb_graph_value(g, a, &v);
    return v.n == n && v.data && memcmp(v.data, want, n * sizeof(float)) == 0;
}

static void test_forward_layout(void)
{
    enum { B = 40 };
    nb_node x = -1, mid = -1, top = -1, loss = -1;
    nb_graph *g = chain(B, &x, &mid, &top, &loss);
    CHECK(g != NULL);
    /* the training layout's results are the reference */
    static float top_ref[B * 24], mid_ref[B * 24], grad_ref[6 * 24 * 24];
    size_t np;
    float *grads = nb_graph_grads(g, &np);
    nb_view v;
    CHECK_OK(nb_graph_forward(g, loss));
    CHECK_OK(nb_graph_backward(g, loss));
    nb_graph_value(g, top, &v);
    memcpy(top_ref, v.data, sizeof top_ref);
    nb_graph_value(g, mid, &v);
    memcpy(mid_ref, v.data, sizeof mid_ref);
    memcpy(grad_ref, grads, sizeof grad_ref);
    CHECK(nb_graph_grad(g, mid, &v) == NB_OK && v.data != NULL);
    float loss_ref = v0(g, loss, 0);

    /* evaluation: same bits, no intermediate gradients, nothing allocated (the forward
     * layout fits in the training one) */
    fa_begin(0);
    nb_graph_set_training(g, 0);
    CHECK_OK(nb_graph_forward(g, loss));
    CHECK(fa_calls == 0);
    fa_end();
    CHECK(v0(g, loss, 0) == loss_ref);
    CHECK(same_value(g, top, top_ref, B * 24) && same_value(g, mid, mid_ref, B * 24));
    CHECK(nb_graph_grad(g, mid, &v) == NB_OK && v.data == NULL);
    CHECK(nb_graph_grad(g, x, &v) == NB_OK && v.data == NULL); /* x wants no gradient */

    /* a backward after it is refused with what to do; a training-mode forward lays the
     * gradients out again and the backward after it gets the training gradients */
    nb_graph_zero_grad(g);
    CHECK_ERR(nb_graph_backward(g, loss), NB_ERR_STATE, "ran in evaluation mode (nb_graph_set_training(g, 0)); run nb_graph_forward in training mode");
    nb_graph_set_training(g, 1);
    CHECK_OK(nb_graph_forward(g, loss));
    CHECK_OK(nb_graph_backward(g, loss));
    CHECK(memcmp(grads, grad_ref, sizeof grad_ref) == 0);
    CHECK(nb_graph_grad(g, mid, &v) == NB_OK && v.data != NULL);
    nb_graph_set_training(g, 0);

    /* reuse: the target and the kept node stay exact; a forward to an intermediate target
     * gets it exact too */
    CHECK_OK(nb_graph_set_reuse(g, 1));
    CHECK_OK(nb_graph_keep(g, mid));
    CHECK_ERR(nb_graph_keep(g, 999), NB_ERR_ARG, "not in this graph");
    CHECK_OK(nb_graph_forward(g, loss));
    CHECK(v0(g, loss, 0) == loss_ref && same_value(g, mid, mid_ref, B * 24));
    CHECK_OK(nb_graph_forward(g, top));
    CHECK(same_value(g, top, top_ref, B * 24));
    /* a new batch size: the evaluation layout (re-planned by the feed) gives the training
     * layout's bits at that size, and switching back and forth keeps the fed rows */
    static float xs[3 * 24], ref3[3 * 24];
    nb_graph_value(g, x, &v);
    memcpy(xs, v.data, sizeof xs);
    nb_graph_set_training(g, 1);
    CHECK_OK(nb_graph_feed(g, x, xs, 3 * 24));
    CHECK_OK(nb_graph_forward(g, top));
    nb_graph_value(g, top, &v);
    memcpy(ref3, v.data, sizeof ref3);
    nb_graph_set_training(g, 0);
    CHECK_OK(nb_graph_forward(g, top)); /* a switch: the rows fed in training mode stay */
    CHECK(same_value(g, top, ref3, 3 * 24));
    CHECK_OK(nb_graph_feed(g, x, xs, 3 * 24));
    CHECK_OK(nb_graph_forward(g, top));
    CHECK(same_value(g, top, ref3, 3 * 24));
    /* gradient checking in evaluation mode: its analytic forward runs in the training layout,
     * each probe's forward recycles buffers again */
    nb_gradcheck_entry e[8];
    int ne;
    CHECK_OK(nb_gradcheck(g, loss, 1e-2f, e, 8, &ne));
    CHECK(ne == 6);
    for (int i = 0; i < ne; i++) CHECK(e[i].max_rel_err < 1e-2);
    nb_graph_free(g);

    /* the arena each way at batch 512: reuse < forward layout < training layout */
    size_t sz[3];
    for (int k = 0; k < 3; k++) {
        g = chain(1, &x, &mid, &top, &loss);
        nb_graph_set_training(g, k == 2);
        nb_graph_set_reuse(g, k == 0);
        big_alloc = 0;
        nb_set_allocator(track_alloc, NULL);
        static float xb[512 * 24];
        CHECK_OK(nb_graph_feed(g, x, xb, 512 * 24));
        CHECK_OK(nb_graph_forward(g, loss));
        nb_set_allocator(NULL, NULL);
        sz[k] = big_alloc;
        nb_graph_free(g);
    }
    /* 20 activations of 48 KiB: reuse holds 3 at a time, the forward layout all 20, the
     * training layout 20 values and 20 gradients */
    CHECK(sz[0] * 4 < sz[1] && sz[1] * 3 / 2 < sz[2]);
}

/* The switch to the training layout can fail (the arena grows); the graph keeps its
 * evaluation layout and inputs, and works afterwards. */
static void test_layout_faults(void)
{
    static float xs[60 * 24];
    for (int i = 0; i < 60 * 24; i++) xs[i] = (float)(i % 13) / 13.0f - 0.5f;
    long before, total;
    nb_node x = -1, mid = -1, top = -1, loss = -1;
    fa_begin(0);
    nb_graph *g = chain(1, &x, &mid, &top, &loss);
    nb_graph_set_training(g, 0);
    CHECK_OK(nb_graph_feed(g, x, xs, 60 * 24)); /* lays out (and grows to) the forward layout */
    CHECK_OK(nb_graph_forward(g, loss));
    before = fa_calls;
    nb_graph_set_training(g, 1);
    CHECK_OK(nb_graph_forward(g, loss));
    total = fa_calls;
    CHECK(total > before); /* the training-mode forward grew the arena */
    nb_graph_free(g);
    fa_end();
    for (long k = before + 1; k <= total; k++) {
        fa_begin(k);
        g = chain(1, &x, &mid, &top, &loss);
        nb_graph_set_training(g, 0);
        CHECK_OK(nb_graph_feed(g, x, xs, 60 * 24));
        CHECK_OK(nb_graph_forward(g, loss));
        float l = v0(g, loss, 0);
        nb_graph_set_training(g, 1);
        CHECK_ERR(nb_graph_forward(g, loss), NB_ERR_NOMEM, NULL);
        nb_graph_set_training(g, 0);
        CHECK_OK(nb_graph_forward(g, loss)); /* the inputs survived */
        CHECK(v0(g, loss, 0) == l);
        nb_graph_free(g);
        CHECK(fa_live == 0);
        fa_end();
    }
}

static void test_builder_errors(void)
{
    nb_graph *g;
    CHECK_OK(nb_graph_create(&g));
    nb_node a = nb_param(g, "a", 2, (int64_t[]){3, 4});
    nb_node b = nb_param(g, "b", 2, (int64_t[]){5, 4});
    nb_node m = nb_matmul(g, a, b, 0, 0);
    CHECK(m == -NB_ERR_SHAPE);
    CHECK(strstr(nb_errmsg(), "matmul") && strstr(nb_errmsg(), "(3, 4) and (5, 4)"));
    /* the error is latched and propagates through later builders */
    nb_node r = nb_relu(g, m);
    CHECK(r == -NB_ERR_SHAPE);
    CHECK(nb_graph_status(g) == NB_ERR_SHAPE);
    CHECK_ERR(nb_graph_compile(g), NB_ERR_SHAPE, "failed builder");
    nb_graph_free(g);

    CHECK_OK(nb_graph_create(&g));
    a = nb_param(g, "a", 2, (int64_t[]){3, 4});
    b = nb_param(g, "b", 1, (int64_t[]){3});
    CHECK(nb_add(g, a, b) == -NB_ERR_SHAPE);
    CHECK(strstr(nb_errmsg(), "add: shapes do not broadcast (input shapes (3, 4) and (3,))"));
    nb_graph_free(g);

    CHECK_OK(nb_graph_create(&g));
    a = nb_param(g, "a", 2, (int64_t[]){3, 4});
    CHECK(nb_sum(g, a, 2) == -NB_ERR_SHAPE);
    CHECK(strstr(nb_errmsg(), "sum: axis out of range"));
    nb_graph_free(g);

    CHECK_OK(nb_graph_create(&g));
    a = nb_param(g, "a", 2, (int64_t[]){3, 4});
    CHECK(nb_maxout(g, a, 3) == -NB_ERR_SHAPE && strstr(nb_errmsg(), "maxout"));
    nb_graph_free(g);

    CHECK_OK(nb_graph_create(&g));
    a = nb_param(g, "a", 2, (int64_t[]){2, 3});
    nb_node t = nb_input(g, "t", 1, (int64_t[]){2});
    nb_node L = nb_softmax_ce(g, a, t);
    CHECK_OK(nb_graph_compile(g));
    CHECK_ERR(nb_graph_forward(g, -3), NB_ERR_ARG, "not in this graph");
    CHECK_OK(nb_graph_feed(g, t, (float[]){1, 3}, 2));
    CHECK_ERR(nb_graph_forward(g, L), NB_ERR_ARG, "row 1: class index 3 is not an integer in [0, 3)");
    CHECK_ERR(nb_graph_backward(g, a), NB_ERR_SHAPE, "scalar");
    CHECK(nb_param(g, "late", 0, NULL) < 0); /* compiled: frozen */
    nb_graph_free(g);

    nb_graph *u;
    CHECK_OK(nb_graph_create(&u));
    CHECK_ERR(nb_graph_forward(u, 0), NB_ERR_STATE, "not compiled");
    CHECK(nb_input(u, "bad", 2, (int64_t[]){3, 0}) == -NB_ERR_SHAPE);
    nb_graph_free(u);
}

/* ---- the seeds' "write your own activation": ReLU as a custom operator */
static int relu_fwd(void *ud, int n, const nb_view *in, nb_view *out)
{
    (void)ud; (void)n;
    for (size_t i = 0; i < out->n; i++) out->data[i] = in[0].data[i] > 0 ? in[0].data[i] : 0;
    return NB_OK;
}

static int relu_bwd(void *ud, int n, const nb_view *in, const nb_view *out, const nb_view *dout, nb_view *din)
{
    (void)ud; (void)n; (void)out;
    if (!din[0].data) return NB_OK;
    for (size_t i = 0; i < dout->n; i++) din[0].data[i] += in[0].data[i] > 0 ? dout->data[i] : 0;
    return NB_OK;
}

static void test_custom_relu(void)
{
    nb_graph *g;
    CHECK_OK(nb_graph_create(&g));
    nb_custom_op my_relu = {"my_relu", NULL, relu_fwd, relu_bwd, NULL};
    nb_node x = nb_param(g, "x", 2, (int64_t[]){4, 5});
    nb_node w = nb_const(g, "w", 2, (int64_t[]){4, 5}, NULL);
    nb_node y1 = nb_custom(g, &my_relu, 1, &x), y2 = nb_relu(g, x);
    nb_node L1 = nb_sum_all(g, nb_mul(g, y1, w)), L2 = nb_sum_all(g, nb_mul(g, y2, w));
    CHECK_OK(nb_graph_compile(g));
    nb_view xv, wv, a, b;
    nb_graph_value(g, x, &xv);
    nb_graph_value(g, w, &wv);
    nb_rng r;
    nb_rng_seed(&r, 3);
    for (size_t i = 0; i < xv.n; i++) {
        xv.data[i] = nb_rng_normal(&r);
        wv.data[i] = nb_rng_normal(&r);
    }
    CHECK_OK(nb_graph_forward(g, L1));
    CHECK_OK(nb_graph_forward(g, L2));
    nb_graph_value(g, y1, &a);
    nb_graph_value(g, y2, &b);
    CHECK(memcmp(a.data, b.data, a.n * sizeof(float)) == 0);
    float g1[20], g2[20];
    nb_graph_zero_grad(g);
    CHECK_OK(nb_graph_backward(g, L1));
    nb_graph_grad(g, x, &a);
    memcpy(g1, a.data, sizeof g1);
    nb_graph_zero_grad(g);
    CHECK_OK(nb_graph_backward(g, L2));
    memcpy(g2, a.data, sizeof g2);
    CHECK(memcmp(g1, g2, sizeof g1) == 0);
    int nonzero = 0;
    for (int i = 0; i < 20; i++) nonzero += g1[i] != 0;
    CHECK(nonzero > 5 && nonzero < 20);
    nb_gradcheck_entry e;
    int ne;
    CHECK_OK(nb_gradcheck(g, L1, 1e-3f, &e, 1, &ne));
    CHECK(ne == 1 && e.max_rel_err < 1e-2);
    nb_graph_free(g);
}

/* rejects batches of more than 4 rows, so a re-inference at set_batch can fail */
static int small_infer(void *ud, int n, const nb_view *in, nb_view *out)
{
    (void)ud; (void)n;
    *out = in[0];
    return in[0].shape[0] > 4 ? NB_ERR_SHAPE : NB_OK;
}

/* Each custom node keeps the index of its own definition (nb__node.custom): with two
 * definitions, a re-inference at a new batch size and the DOT text name the right one. */
static void test_custom_index(void)
{
    nb_graph *g;
    CHECK_OK(nb_graph_create(&g));
    nb_custom_op first = {"first_op", NULL, relu_fwd, relu_bwd, NULL};
    nb_custom_op second = {"second_op", small_infer, relu_fwd, relu_bwd, NULL};
    nb_node x = nb_input(g, "x", 2, (int64_t[]){NB_BATCH, 3});
    nb_node y = nb_custom(g, &second, 1, (nb_node[]){nb_custom(g, &first, 1, &x)});
    CHECK(y >= 0);
    CHECK_OK(nb_graph_compile(g));
    char *dot = NULL;
    CHECK_OK(nb_graph_dot(g, 0, &dot));
    CHECK(dot && strstr(dot, "first_op") && strstr(dot, "second_op"));
    nb_free(dot);
    CHECK_ERR(nb_graph_set_batch(g, 8), NB_ERR_SHAPE, "second_op");
    nb_graph_free(g);
}

static void test_dot(void)
{
    nb_graph *g;
    CHECK_OK(nb_graph_create(&g));
    nb_node x = nb_input(g, "x", 0, NULL), y = nb_input(g, "y", 0, NULL), z = nb_input(g, "z", 0, NULL);
    nb_require_grad(g, x);
    nb_require_grad(g, y);
    nb_require_grad(g, z);
    nb_node f = nb_mul(g, nb_add(g, x, y), z);
    CHECK_OK(nb_graph_compile(g));
    nb_graph_feed(g, x, (float[]){-2}, 1);
    nb_graph_feed(g, y, (float[]){5}, 1);
    nb_graph_feed(g, z, (float[]){-4}, 1);
    nb_graph_forward(g, f);
    nb_graph_backward(g, f);
    char *dot;
    CHECK_OK(nb_graph_dot(g, 16, &dot));
    CHECK(strstr(dot, "digraph nabla") != NULL);
    CHECK(strstr(dot, "n0 -> n3 [label=<<font color=\"darkgreen\">-2</font><br/><font color=\"red\">-4</font>>]") != NULL);
    CHECK(strstr(dot, "n3 -> n4 [label=<<font color=\"darkgreen\">3</font><br/><font color=\"red\">-4</font>>]") != NULL);
    CHECK(strstr(dot, "mul ()<br/><font color=\"darkgreen\">-12</font>") != NULL);
    nb_free(dot);
    CHECK_ERR(nb_graph_save_dot(g, 16, "/nonexistent-dir/x.dot"), NB_ERR_IO, "/nonexistent-dir/x.dot");
    nb_graph_free(g);
}

int main(void)
{
    test_branches();
    test_grad_rule();
    test_no_alloc_and_batches();
    test_alloc_failures();
    test_forward_layout();
    test_layout_faults();
    test_builder_errors();
    test_custom_relu();
    test_custom_index();
    test_dot();
    return check_exit("test_graph");
}
