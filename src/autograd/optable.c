/* SPDX-License-Identifier: MIT */
/*
 * optable.c - the operator table: one entry per nb_op_type, indexed by its explicit value.
 * Leaves have no forward or backward: inputs are fed, parameters and constants are set.
 * A new elementwise activation (SiLU was added so): include/nabla/graph.h (enum value,
 * builder declaration, its line in the activations' doc); src/ops/ops.h + activ.c (kernel
 * enum value, forward and derivative, a case in fwd_range and bwd_range); op_unary.c (act_of
 * case, UNARY line, which sets grad_writes); an extern and a line here; builders.c (builder);
 * tests/autograd/test_ops.c (case, oracle line, extreme-range list; the test fails for an
 * operator without a case). As a layer, see docs/ARCHITECTURE.md "Adding an activation".
 */
#include "graph.h"

/* the definitions, one per operator, in the op_*.c files (only this table names them) */
extern const nb__op_def nb__op_input, nb__op_param, nb__op_const, nb__op_add, nb__op_sub, nb__op_mul, nb__op_div, nb__op_neg,
    nb__op_scale, nb__op_exp, nb__op_log, nb__op_square, nb__op_sqrt, nb__op_matmul, nb__op_sum,
    nb__op_mean, nb__op_sum_all, nb__op_mean_all, nb__op_max, nb__op_reshape, nb__op_sigmoid,
    nb__op_tanh, nb__op_relu, nb__op_leaky_relu, nb__op_elu, nb__op_softplus, nb__op_maxout,
    nb__op_identity, nb__op_step, nb__op_softmax, nb__op_log_softmax, nb__op_softmax_ce,
    nb__op_bce_logits, nb__op_mse, nb__op_custom, nb__op_conv2d, nb__op_maxpool2d,
    nb__op_avgpool2d, nb__op_global_avgpool, nb__op_dropout, nb__op_batchnorm, nb__op_silu,
    nb__op_embedding, nb__op_seq_lengths, nb__op_rnn;

const nb__op_def nb__op_input = {"input", 0, 0, nb__leaf_infer, NULL, NULL, NULL, NB__WRITES_NONE};
const nb__op_def nb__op_param = {"param", 0, 0, nb__leaf_infer, NULL, NULL, NULL, NB__WRITES_NONE};
const nb__op_def nb__op_const = {"const", 0, 0, nb__leaf_infer, NULL, NULL, NULL, NB__WRITES_NONE};

const nb__op_def *const nb__op_table[NB_OP_COUNT_] = {
    [NB_OP_INPUT] = &nb__op_input,       [NB_OP_PARAM] = &nb__op_param,
    [NB_OP_CONST] = &nb__op_const,       [NB_OP_ADD] = &nb__op_add,
    [NB_OP_SUB] = &nb__op_sub,           [NB_OP_MUL] = &nb__op_mul,
    [NB_OP_DIV] = &nb__op_div,           [NB_OP_NEG] = &nb__op_neg,
    [NB_OP_SCALE] = &nb__op_scale,       [NB_OP_EXP] = &nb__op_exp,
    [NB_OP_LOG] = &nb__op_log,           [NB_OP_SQUARE] = &nb__op_square,
    [NB_OP_SQRT] = &nb__op_sqrt,         [NB_OP_MATMUL] = &nb__op_matmul,
    [NB_OP_SUM] = &nb__op_sum,           [NB_OP_MEAN] = &nb__op_mean,
    [NB_OP_SUM_ALL] = &nb__op_sum_all,   [NB_OP_MEAN_ALL] = &nb__op_mean_all,
    [NB_OP_MAX] = &nb__op_max,           [NB_OP_RESHAPE] = &nb__op_reshape,
    [NB_OP_SIGMOID] = &nb__op_sigmoid,   [NB_OP_TANH] = &nb__op_tanh,
    [NB_OP_RELU] = &nb__op_relu,         [NB_OP_LEAKY_RELU] = &nb__op_leaky_relu,
    [NB_OP_ELU] = &nb__op_elu,           [NB_OP_SOFTPLUS] = &nb__op_softplus,
    [NB_OP_MAXOUT] = &nb__op_maxout,     [NB_OP_IDENTITY] = &nb__op_identity,
    [NB_OP_STEP] = &nb__op_step,         [NB_OP_SOFTMAX] = &nb__op_softmax,
    [NB_OP_LOG_SOFTMAX] = &nb__op_log_softmax, [NB_OP_SOFTMAX_CE] = &nb__op_softmax_ce,
    [NB_OP_BCE_LOGITS] = &nb__op_bce_logits, [NB_OP_MSE] = &nb__op_mse,
    [NB_OP_CUSTOM] = &nb__op_custom,     [NB_OP_CONV2D] = &nb__op_conv2d,
    [NB_OP_MAXPOOL2D] = &nb__op_maxpool2d, [NB_OP_AVGPOOL2D] = &nb__op_avgpool2d,
    [NB_OP_GLOBAL_AVGPOOL] = &nb__op_global_avgpool, [NB_OP_DROPOUT] = &nb__op_dropout,
    [NB_OP_BATCHNORM] = &nb__op_batchnorm, [NB_OP_SILU] = &nb__op_silu,
    [NB_OP_EMBEDDING] = &nb__op_embedding, [NB_OP_SEQ_LENGTHS] = &nb__op_seq_lengths,
    [NB_OP_RNN] = &nb__op_rnn,
};
