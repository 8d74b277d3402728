/* SPDX-License-Identifier: MIT */
/*
 * op_binary.c - add, sub, mul, div with broadcasting. Shapes align on the right; each pair of
 * dimensions must be equal or one of them 1. The padded 4-d strides computed here let one
 * kernel serve scalars, bias rows and equal shapes.
 */
#include "graph.h"
#include "../ops/ops.h"

static nb__binop binop_of(nb_op_type op)
{
    return op == NB_OP_ADD ? NB__BIN_ADD : op == NB_OP_SUB ? NB__BIN_SUB : op == NB_OP_MUL ? NB__BIN_MUL : NB__BIN_DIV;
}

static int binary_infer(nb_graph *g, nb__node *nd)
{
    const nb__node *a = nb__in(g, nd, 0), *b = nb__in(g, nd, 1);
    int rank = a->rank > b->rank ? a->rank : b->rank;
    int64_t s[NB_MAX_RANK];
    for (int i = 0; i < rank; i++) { /* i counts from the right */
        int64_t da = i < a->rank ? a->shape[a->rank - 1 - i] : 1;
        int64_t db = i < b->rank ? b->shape[b->rank - 1 - i] : 1;
        if (da != db && da != 1 && db != 1) return nb__shape_error(g, nd, "shapes do not broadcast");
        s[rank - 1 - i] = da > db ? da : db;
    }
    return nb__set_shape(nd, rank, s);
}

static void pad_strides(const nb__node *x, const nb__node *out, size_t *st)
{
    size_t stride = 1;
    for (int i = 3; i >= 0; i--) { /* padded dimension i corresponds to x's (i - (4 - rank)) */
        int xi = i - (4 - x->rank);
        size_t dim = xi >= 0 ? (size_t)x->shape[xi] : 1;
        int oi = i - (4 - out->rank);
        size_t odim = oi >= 0 ? (size_t)out->shape[oi] : 1;
        st[i] = (dim == 1 && odim != 1) ? 0 : stride;
        stride *= dim;
    }
}

static void make_bcast(nb_graph *g, const nb__node *nd, nb__bcast *bc)
{
    for (int i = 0; i < 4; i++) {
        int oi = i - (4 - nd->rank);
        bc->shape[i] = oi >= 0 ? (size_t)nd->shape[oi] : 1;
    }
    pad_strides(nb__in(g, nd, 0), nd, bc->sa);
    pad_strides(nb__in(g, nd, 1), nd, bc->sb);
}

static int binary_fwd(nb_graph *g, nb__node *nd)
{
    nb__bcast bc;
    make_bcast(g, nd, &bc);
    nb__binary_fwd(binop_of(nd->op), &bc, nb__in(g, nd, 0)->val, nb__in(g, nd, 1)->val, nd->val);
    return NB_OK;
}

static void binary_bwd(nb_graph *g, nb__node *nd)
{
    nb__bcast bc;
    nb__node *a = nb__in(g, nd, 0), *b = nb__in(g, nd, 1);
    make_bcast(g, nd, &bc);
    /* a value used twice (x * x) gets both contributions: da and db are the same buffer */
    nb__binary_bwd(binop_of(nd->op), &bc, a->val, b->val, nd->val, nd->grad, a->grad, NULL);
    nb__binary_bwd(binop_of(nd->op), &bc, a->val, b->val, nd->val, nd->grad, NULL, b->grad);
}

const nb__op_def nb__op_add = {"add", 2, 2, binary_infer, NULL, binary_fwd, binary_bwd, NB__WRITES_NONE};
const nb__op_def nb__op_sub = {"sub", 2, 2, binary_infer, NULL, binary_fwd, binary_bwd, NB__WRITES_NONE};
const nb__op_def nb__op_mul = {"mul", 2, 2, binary_infer, NULL, binary_fwd, binary_bwd, NB__WRITES_NONE};
const nb__op_def nb__op_div = {"div", 2, 2, binary_infer, NULL, binary_fwd, binary_bwd, NB__WRITES_NONE};
