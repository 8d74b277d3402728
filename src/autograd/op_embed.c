/* SPDX-License-Identifier: MIT */
/*
 * op_embed.c - embedding (rows of a table picked by integer ids) and sequence lengths of
 * right-padded id sequences. Ids are floats holding whole numbers, as class labels are: the
 * forward checks every one against the table before any row is read and saves them as int32
 * for the backward, which scatter-adds into the table's gradient (src/ops/embed.c). Neither
 * operator gives ids a gradient: ids are not differentiable.
 */
#include "graph.h"
#include "../ops/ops.h"

#include <stdio.h>

/* ---- embedding: ids (any shape S), table (V, D) -> (S..., D) */

static int embed_infer(nb_graph *g, nb__node *nd)
{
    const nb__node *ids = nb__in(g, nd, 0), *t = nb__in(g, nd, 1);
    if (t->rank != 2) return nb__shape_error(g, nd, "the table must be (V, D)");
    if (t->shape[0] > INT32_MAX) /* ids are saved as int32 */
        return nb__shape_error(g, nd, "the table has more than 2^31 - 1 rows");
    if (ids->rank < 1 || ids->rank >= NB_MAX_RANK)
        return nb__shape_error(g, nd, "ids must have rank 1 to 3 (the output adds D)");
    if (nd->attr.k < -1 || (int64_t)nd->attr.k >= t->shape[0])
        return nb__fail(NB_ERR_ARG, "embedding: padding id %d is not in [0, %lld) nor -1 (none); pass an id of the table's rows or -1",
                        nd->attr.k, (long long)t->shape[0]);
    int64_t s[NB_MAX_RANK];
    for (int i = 0; i < ids->rank; i++) s[i] = ids->shape[i];
    s[ids->rank] = t->shape[1];
    return nb__set_shape(nd, ids->rank + 1, s);
}

static size_t embed_aux(const nb_graph *g, const nb__node *nd)
{
    return g->nodes[nd->in[0]].n * sizeof(int32_t); /* the ids as row numbers */
}

/* "(1, 3)": the position of flat element i in a tensor of x's shape */
static void position_str(const nb__node *x, size_t i, char *buf, size_t cap)
{
    size_t idx[NB_MAX_RANK] = {0};
    for (int d = x->rank - 1; d >= 0; d--) {
        idx[d] = i % (size_t)x->shape[d];
        i /= (size_t)x->shape[d];
    }
    size_t len = (size_t)snprintf(buf, cap, "(");
    for (int d = 0; d < x->rank && len < cap; d++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%zu", d ? ", " : "", idx[d]);
    if (len < cap) snprintf(buf + len, cap - len, ")");
}

static int embed_fwd(nb_graph *g, nb__node *nd)
{
    const nb__node *ids = nb__in(g, nd, 0), *t = nb__in(g, nd, 1);
    int32_t *row = nd->aux;
    int64_t V = t->shape[0];
    for (size_t i = 0; i < ids->n; i++) {
        float v = ids->val[i];
        /* in double: V above 2^24 has no exact float, and NaN fails both comparisons */
        if (!((double)v >= 0.0 && (double)v < (double)V) || (double)(int32_t)v != (double)v) {
            char pos[64];
            position_str(ids, i, pos, sizeof pos);
            return nb__fail(NB_ERR_ARG, "embedding: id %g at position %s of the ids is not a whole number in [0, %lld), the table's rows; check the vocabulary size against the data",
                            (double)v, pos, (long long)V);
        }
        row[i] = (int32_t)v;
    }
    nb__embed_fwd(ids->n, (size_t)t->shape[1], row, t->val, nd->val);
    return NB_OK;
}

static void embed_bwd(nb_graph *g, nb__node *nd)
{
    const nb__node *ids = nb__in(g, nd, 0);
    nb__node *t = nb__in(g, nd, 1);
    if (!t->grad) return;
    /* always adds (NB__WRITES_NONE): rows no id picks keep what they hold */
    nb__embed_bwd(ids->n, (size_t)t->shape[1], nd->aux, nd->attr.k, nd->grad, t->grad);
}

/* ---- sequence lengths: ids (N, T), right-padded with 0 -> (N) */

static int seqlen_infer(nb_graph *g, nb__node *nd)
{
    const nb__node *ids = nb__in(g, nd, 0);
    if (ids->rank != 2) return nb__shape_error(g, nd, "ids must be (N, T)");
    return nb__set_shape(nd, 1, ids->shape);
}

static int seqlen_fwd(nb_graph *g, nb__node *nd)
{
    const nb__node *ids = nb__in(g, nd, 0);
    size_t N = (size_t)ids->shape[0], T = (size_t)ids->shape[1];
    for (size_t r = 0; r < N; r++) {
        size_t len = T; /* 1 + the last non-zero position: padding inside a row still counts */
        while (len > 0 && ids->val[r * T + len - 1] == 0.0f) len--;
        nd->val[r] = (float)len;
    }
    return NB_OK;
}

const nb__op_def nb__op_embedding = {"embedding", 2, 2, embed_infer, embed_aux, embed_fwd, embed_bwd, NB__WRITES_NONE};
/* no backward: lengths are whole numbers, constant under small changes of anything */
const nb__op_def nb__op_seq_lengths = {"seq_lengths", 1, 1, seqlen_infer, NULL, seqlen_fwd, NULL, NB__WRITES_NONE};
