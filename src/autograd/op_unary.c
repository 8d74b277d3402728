/* SPDX-License-Identifier: MIT */
/*
 * op_unary.c - every elementwise one-input operator: arithmetic (neg, scale, exp, log,
 * square, sqrt) and the activations (sigmoid, tanh, ReLU, leaky ReLU, ELU, softplus, SiLU,
 * step, identity). One infer/forward/backward triple serves them all through the kernel enum;
 * alpha carries the scale factor, leaky slope or ELU alpha.
 */
#include "graph.h"
#include "../ops/ops.h"

static nb__act act_of(nb_op_type op)
{
    switch (op) {
    case NB_OP_NEG: return NB__ACT_NEG;
    case NB_OP_SCALE: return NB__ACT_SCALE;
    case NB_OP_EXP: return NB__ACT_EXP;
    case NB_OP_LOG: return NB__ACT_LOG;
    case NB_OP_SQUARE: return NB__ACT_SQUARE;
    case NB_OP_SQRT: return NB__ACT_SQRT;
    case NB_OP_SIGMOID: return NB__ACT_SIGMOID;
    case NB_OP_TANH: return NB__ACT_TANH;
    case NB_OP_RELU: return NB__ACT_RELU;
    case NB_OP_LEAKY_RELU: return NB__ACT_LEAKY;
    case NB_OP_ELU: return NB__ACT_ELU;
    case NB_OP_SOFTPLUS: return NB__ACT_SOFTPLUS;
    case NB_OP_SILU: return NB__ACT_SILU;
    case NB_OP_STEP: return NB__ACT_STEP;
    default: return NB__ACT_IDENTITY;
    }
}

static int unary_infer(nb_graph *g, nb__node *nd)
{
    (void)g;
    const nb__node *x = nb__in(g, nd, 0);
    return nb__set_shape(nd, x->rank, x->shape);
}

static int unary_fwd(nb_graph *g, nb__node *nd)
{
    nb__act_fwd(act_of(nd->op), nd->attr.alpha, nd->n, nb__in(g, nd, 0)->val, nd->val);
    return NB_OK;
}

static void unary_bwd(nb_graph *g, nb__node *nd)
{
    nb__node *x = nb__in(g, nd, 0);
    if (!x->grad) return;
    /* on a WRITE edge (x's sole reader, plan.c) store: one pass over memory fewer */
    (nb__grad_write(nd, 0) ? nb__act_bwd_assign : nb__act_bwd)(act_of(nd->op), nd->attr.alpha, nd->n, x->val, nd->val,
                                                                       nd->grad, x->grad);
}

/* ReLU saves its gate (x > 0 as bits, ops.h): its backward then reads n / 8 bytes instead of
 * the n floats of x - the big activations of a CNN make that a pass over memory */
static size_t relu_aux(const nb_graph *g, const nb__node *nd)
{
    (void)g;
    return (nd->n + 15) / 16 * sizeof(uint16_t);
}

static int relu_fwd(nb_graph *g, nb__node *nd)
{
    nb__relu_fwd_gate(nd->n, nb__in(g, nd, 0)->val, nd->val, nd->aux);
    return NB_OK;
}

static void relu_bwd(nb_graph *g, nb__node *nd)
{
    nb__node *x = nb__in(g, nd, 0);
    if (x->grad) nb__relu_bwd_gate(nd->n, nd->aux, nd->grad, x->grad, nb__grad_write(nd, 0));
}

#define UNARY(sym, nm) const nb__op_def sym = {nm, 1, 1, unary_infer, NULL, unary_fwd, unary_bwd, NB__WRITES_ALL}
UNARY(nb__op_neg, "neg");
UNARY(nb__op_scale, "scale");
UNARY(nb__op_exp, "exp");
UNARY(nb__op_log, "log");
UNARY(nb__op_square, "square");
UNARY(nb__op_sqrt, "sqrt");
UNARY(nb__op_sigmoid, "sigmoid");
UNARY(nb__op_tanh, "tanh");
const nb__op_def nb__op_relu = {"relu", 1, 1, unary_infer, relu_aux, relu_fwd, relu_bwd, NB__WRITES_ALL};
UNARY(nb__op_leaky_relu, "leaky_relu");
UNARY(nb__op_elu, "elu");
UNARY(nb__op_softplus, "softplus");
UNARY(nb__op_silu, "silu");
UNARY(nb__op_identity, "identity");
/* step is not differentiable (derivative 0 almost everywhere, undefined at 0): no backward */
const nb__op_def nb__op_step = {"step", 1, 1, unary_infer, NULL, unary_fwd, NULL, NB__WRITES_NONE};
