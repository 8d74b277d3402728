/* SPDX-License-Identifier: MIT */
/*
 * op_shape.c - reductions (sum, mean, max along an axis; sum and mean of all elements),
 * reshape, and maxout. max and maxout save the arg-max in their state so backward routes
 * the whole gradient to the winning input ("the max gate routes the gradient").
 */
#include "graph.h"
#include "../ops/ops.h"


/* ---- sum / mean / max along an axis: the axis is dropped from the shape */

static int axis_infer(nb_graph *g, nb__node *nd)
{
    const nb__node *x = nb__in(g, nd, 0);
    int ax;
    if (!nb__norm_axis(x, nd->attr.axis, &ax)) return nb__shape_error(g, nd, "axis out of range");
    int64_t s[NB_MAX_RANK];
    int r = 0;
    for (int i = 0; i < x->rank; i++)
        if (i != ax) s[r++] = x->shape[i];
    return nb__set_shape(nd, r, s);
}

static void axis_split(nb_graph *g, const nb__node *nd, size_t *o, size_t *l, size_t *in)
{
    const nb__node *x = nb__in(g, nd, 0);
    int ax = 0;
    nb__norm_axis(x, nd->attr.axis, &ax);
    nb__split_axis(x, ax, o, l, in);
}

static int sum_fwd(nb_graph *g, nb__node *nd)
{
    size_t o, l, in;
    axis_split(g, nd, &o, &l, &in);
    nb__sum_axis(o, l, in, nb__in(g, nd, 0)->val, nd->val);
    if (nd->op == NB_OP_MEAN)
        for (size_t i = 0; i < nd->n; i++) nd->val[i] /= (float)l;
    return NB_OK;
}

static void sum_bwd(nb_graph *g, nb__node *nd)
{
    nb__node *x = nb__in(g, nd, 0);
    if (!x->grad) return;
    size_t o, l, in;
    axis_split(g, nd, &o, &l, &in);
    float s = nd->op == NB_OP_MEAN ? 1.0f / (float)l : 1.0f;
    for (size_t a = 0; a < o; a++)
        for (size_t k = 0; k < l; k++)
            for (size_t i = 0; i < in; i++) x->grad[(a * l + k) * in + i] += s * nd->grad[a * in + i];
}

static size_t max_aux(const nb_graph *g, const nb__node *nd)
{
    (void)g;
    return nd->n * sizeof(int32_t);
}

static int max_fwd(nb_graph *g, nb__node *nd)
{
    size_t o, l, in;
    axis_split(g, nd, &o, &l, &in);
    nb__max_axis(o, l, in, nb__in(g, nd, 0)->val, nd->val, nd->aux);
    return NB_OK;
}

static void max_bwd(nb_graph *g, nb__node *nd)
{
    nb__node *x = nb__in(g, nd, 0);
    if (!x->grad) return;
    size_t o, l, in;
    axis_split(g, nd, &o, &l, &in);
    const int32_t *arg = nd->aux;
    for (size_t a = 0; a < o; a++)
        for (size_t i = 0; i < in; i++)
            x->grad[(a * l + (size_t)arg[a * in + i]) * in + i] += nd->grad[a * in + i];
}

/* ---- sum / mean of all elements: a scalar */

static int all_infer(nb_graph *g, nb__node *nd)
{
    (void)g;
    return nb__set_shape(nd, 0, NULL);
}

static int all_fwd(nb_graph *g, nb__node *nd)
{
    const nb__node *x = nb__in(g, nd, 0);
    double s = 0.0; /* double accumulator: the loss of a large batch stays accurate */
    for (size_t i = 0; i < x->n; i++) s += (double)x->val[i];
    nd->val[0] = (float)(nd->op == NB_OP_MEAN_ALL ? s / (double)x->n : s);
    return NB_OK;
}

static void all_bwd(nb_graph *g, nb__node *nd)
{
    nb__node *x = nb__in(g, nd, 0);
    if (!x->grad) return;
    float d = nd->op == NB_OP_MEAN_ALL ? nd->grad[0] / (float)x->n : nd->grad[0];
    for (size_t i = 0; i < x->n; i++) x->grad[i] += d;
}

/* ---- reshape: same elements, new shape; NB_BATCH stands for the batch size */

static int reshape_infer(nb_graph *g, nb__node *nd)
{
    const nb__node *x = nb__in(g, nd, 0);
    int64_t s[NB_MAX_RANK];
    if (nd->attr.rank < 0 || nd->attr.rank > NB_MAX_RANK) return nb__shape_error(g, nd, "target rank out of range");
    for (int i = 0; i < nd->attr.rank; i++) {
        s[i] = nd->attr.shape[i] == NB_BATCH ? g->batch : nd->attr.shape[i];
        if (s[i] < 1) return nb__shape_error(g, nd, "target dimensions must be >= 1");
    }
    size_t n;
    if (!nb__numel(nd->attr.rank, s, &n) || n != x->n) {
        char buf[96], msg[160];
        snprintf(msg, sizeof msg, "target shape %s holds a different number of elements",
                 nb__shape_str(nd->attr.rank, s, buf, sizeof buf));
        return nb__shape_error(g, nd, msg);
    }
    return nb__set_shape(nd, nd->attr.rank, s);
}

/* a copy each way, split over the thread pool when big (a CNN's flatten); on a WRITE edge
 * (plan.c) backward copies into x's gradient rather than adding */
static int reshape_fwd(nb_graph *g, nb__node *nd)
{
    nb__act_fwd(NB__ACT_IDENTITY, 0.0f, nd->n, nb__in(g, nd, 0)->val, nd->val);
    return NB_OK;
}

static void reshape_bwd(nb_graph *g, nb__node *nd)
{
    nb__node *x = nb__in(g, nd, 0);
    if (!x->grad) return;
    (nb__grad_write(nd, 0) ? nb__act_bwd_assign : nb__act_bwd)(NB__ACT_IDENTITY, 0.0f, nd->n, NULL, NULL, nd->grad,
                                                                       x->grad);
}

/* ---- maxout: (N, C*k) -> (N, C), unit j = max of inputs j*k .. j*k+k-1 */

static int maxout_infer(nb_graph *g, nb__node *nd)
{
    const nb__node *x = nb__in(g, nd, 0);
    int k = nd->attr.k;
    if (x->rank != 2) return nb__shape_error(g, nd, "input must be 2-D (N, units*k)");
    if (k < 1 || x->shape[1] % k != 0) return nb__shape_error(g, nd, "k must be >= 1 and divide the input width");
    int64_t s[2] = {x->shape[0], x->shape[1] / k};
    return nb__set_shape(nd, 2, s);
}

static int maxout_fwd(nb_graph *g, nb__node *nd)
{
    /* each unit's k pieces are consecutive: an (N*C, k, 1) max along the middle axis */
    nb__max_axis(nd->n, (size_t)nd->attr.k, 1, nb__in(g, nd, 0)->val, nd->val, nd->aux);
    return NB_OK;
}

static void maxout_bwd(nb_graph *g, nb__node *nd)
{
    nb__node *x = nb__in(g, nd, 0);
    if (!x->grad) return;
    const int32_t *arg = nd->aux;
    for (size_t i = 0; i < nd->n; i++) x->grad[i * (size_t)nd->attr.k + (size_t)arg[i]] += nd->grad[i];
}

const nb__op_def nb__op_sum = {"sum", 1, 1, axis_infer, NULL, sum_fwd, sum_bwd, NB__WRITES_NONE};
const nb__op_def nb__op_mean = {"mean", 1, 1, axis_infer, NULL, sum_fwd, sum_bwd, NB__WRITES_NONE};
const nb__op_def nb__op_max = {"max", 1, 1, axis_infer, max_aux, max_fwd, max_bwd, NB__WRITES_NONE};
const nb__op_def nb__op_sum_all = {"sum_all", 1, 1, all_infer, NULL, all_fwd, all_bwd, NB__WRITES_NONE};
const nb__op_def nb__op_mean_all = {"mean_all", 1, 1, all_infer, NULL, all_fwd, all_bwd, NB__WRITES_NONE};
const nb__op_def nb__op_reshape = {"reshape", 1, 1, reshape_infer, NULL, reshape_fwd, reshape_bwd, NB__WRITES_ALL};
const nb__op_def nb__op_maxout = {"maxout", 1, 1, maxout_infer, max_aux, maxout_fwd, maxout_bwd, NB__WRITES_NONE};
