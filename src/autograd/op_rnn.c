/* SPDX-License-Identifier: MIT */
/*
 * op_rnn.c - the fused recurrent layer (nb_rnn): inputs x, optionally lengths, then 4
 * parameters per direction; attr.rnn describes it. The kernels are src/ops/rnn.c. Saved
 * state: the kernels' floats (gates and states of every step, scratch), then the rows'
 * lengths as int32, read from the lengths node at each forward.
 */
#include "graph.h"
#include "../ops/ops.h"

static int dirs_of(const nb__node *nd) { return nd->attr.rnn.bidirectional ? 2 : 1; }
static int has_lengths(const nb__node *nd) { return nd->n_in == 2 + 4 * dirs_of(nd); }
static int first_param(const nb__node *nd) { return nd->n_in - 4 * dirs_of(nd); }

static nb__rnn desc_of(nb_graph *g, const nb__node *nd)
{
    const nb__node *x = nb__in(g, nd, 0);
    nb__rnn r;
    r.cell = (int)nd->attr.rnn.cell, r.output = (int)nd->attr.rnn.output, r.dirs = dirs_of(nd);
    r.B = (size_t)x->shape[0], r.T = (size_t)x->shape[1], r.F = (size_t)x->shape[2];
    r.H = (size_t)nd->attr.rnn.hidden;
    r.len = NULL;
    return r;
}

static int rnn_infer(nb_graph *g, nb__node *nd)
{
    const nb_rnn_desc *d = &nd->attr.rnn;
    if ((unsigned)d->cell > NB_CELL_GRU || (unsigned)d->output > NB_RNN_MEAN || d->hidden < 1 ||
        (d->bidirectional != 0 && d->bidirectional != 1))
        return nb__shape_error(g, nd, "cell must be NB_CELL_TANH/LSTM/GRU, output NB_RNN_LAST/SEQUENCE/MEAN, "
                                      "hidden >= 1 and bidirectional 0 or 1");
    int D = dirs_of(nd);
    if (nd->n_in != 1 + 4 * D && nd->n_in != 2 + 4 * D)
        return nb__shape_error(g, nd, "takes x, optionally lengths, and 4 parameters per direction");
    const nb__node *x = nb__in(g, nd, 0);
    if (x->rank != 3 || x->shape[1] < 1 || x->shape[2] < 1)
        return nb__shape_error(g, nd, "x must be (B, T, F) with T >= 1 and F >= 1");
    if (has_lengths(nd)) {
        const nb__node *l = nb__in(g, nd, 1);
        if (l->rank != 1 || l->shape[0] != x->shape[0]) return nb__shape_error(g, nd, "lengths must be (B), one per row of x");
    }
    int64_t H = d->hidden, G = d->cell == NB_CELL_LSTM ? 4 : d->cell == NB_CELL_GRU ? 3 : 1;
    if (H > ((int64_t)1 << 24)) return nb__shape_error(g, nd, "hidden size too large");
    for (int k = 0; k < 4 * D; k++) {
        const nb__node *p = nb__in(g, nd, first_param(nd) + k);
        int64_t want = k % 4 == 0 ? x->shape[2] : k % 4 == 1 ? H : 0;
        int ok = k % 4 < 2 ? p->rank == 2 && p->shape[0] == G * H && p->shape[1] == want
                           : p->rank == 1 && p->shape[0] == G * H;
        if (!ok)
            return nb__shape_error(g, nd, k % 4 == 0   ? "w_ih must be (G H, F) (G = 1 tanh, 4 LSTM, 3 GRU)"
                                          : k % 4 == 1 ? "w_hh must be (G H, H) (G = 1 tanh, 4 LSTM, 3 GRU)"
                                                       : "b_ih and b_hh must be (G H) (G = 1 tanh, 4 LSTM, 3 GRU)");
    }
    if (d->output == NB_RNN_SEQUENCE) {
        int64_t s[3] = {x->shape[0], x->shape[1], D * H};
        return nb__set_shape(nd, 3, s);
    }
    int64_t s[2] = {x->shape[0], D * H};
    return nb__set_shape(nd, 2, s);
}

static size_t rnn_aux(const nb_graph *gc, const nb__node *nd)
{
    nb__rnn r = desc_of((nb_graph *)gc, nd);
    size_t bt, f, bytes, lb;
    /* the kernels' count is at most 32 B T (H + 1) floats (20 B T H + 7 B H): bound it first */
    if (!nb__mul_size(r.B, r.T, &bt) || !nb__mul_size(bt, r.H + 1, &f) || !nb__mul_size(f, 32, &f)) return SIZE_MAX;
    f = nb__rnn_aux_floats(&r);
    if (!nb__mul_size(f, sizeof(float), &bytes) || !nb__mul_size(r.B, sizeof(int32_t), &lb) ||
        !nb__add_size(bytes, lb, &bytes))
        return SIZE_MAX;
    return bytes;
}

static void params_of(nb_graph *g, const nb__node *nd, const float **w, float **dw)
{
    for (int k = 0; k < 4 * dirs_of(nd); k++) {
        const nb__node *p = nb__in(g, nd, first_param(nd) + k);
        w[k] = p->val;
        if (dw) dw[k] = p->grad;
    }
}

static int rnn_fwd(nb_graph *g, nb__node *nd)
{
    nb__rnn r = desc_of(g, nd);
    float *aux = nd->aux;
    int32_t *len = (int32_t *)(void *)(aux + nb__rnn_aux_floats(&r));
    const float *lv = has_lengths(nd) ? nb__in(g, nd, 1)->val : NULL;
    for (size_t b = 0; b < r.B; b++) {
        float l = lv ? lv[b] : (float)r.T;
        if (!(l >= 0.0f && l <= (float)r.T) || l != (float)(int32_t)l)
            return nb__fail(NB_ERR_ARG, "rnn: row %zu: length %g is not an integer in [0, %zu] (T, the steps of x)",
                            b, (double)l, r.T);
        len[b] = (int32_t)l;
    }
    r.len = len;
    const float *w[8];
    params_of(g, nd, w, NULL);
    nb__rnn_fwd(&r, nb__in(g, nd, 0)->val, w, nd->val, aux);
    return NB_OK;
}

static void rnn_bwd(nb_graph *g, nb__node *nd)
{
    nb__rnn r = desc_of(g, nd);
    float *aux = nd->aux;
    r.len = (const int32_t *)(const void *)(aux + nb__rnn_aux_floats(&r));
    const float *w[8];
    float *dw[8];
    params_of(g, nd, w, dw);
    nb__node *x = nb__in(g, nd, 0);
    nb__rnn_bwd(&r, x->val, w, nd->grad, x->grad, dw, aux);
}

const nb__op_def nb__op_rnn = {"rnn", 5, 10, rnn_infer, rnn_aux, rnn_fwd, rnn_bwd, NB__WRITES_NONE};
