/* SPDX-License-Identifier: MIT */
/*
 * builders.c - the named graph builders of nabla.h: thin wrappers that fill an nb_attr and
 * call nb_op, so every operator is built, shape-checked and error-latched one way.
 */
#include "graph.h"

#include <string.h>

static nb_node op1(nb_graph *g, nb_op_type op, nb_node a, const nb_attr *attr)
{
    return nb_op(g, op, 1, &a, attr);
}

/* A NULL array the builder needs: NB_ERR_ARG naming it, latched like any builder error. */
static nb_node null_arg(nb_graph *g, const char *what)
{
    if (!g) return -nb__fail(NB_ERR_ARG, "graph is NULL");
    if (g->status) return -g->status;
    g->status = nb__fail(NB_ERR_ARG, "%s is NULL", what);
    return -g->status;
}

static nb_node op2(nb_graph *g, nb_op_type op, nb_node a, nb_node b)
{
    nb_node in[2] = {a, b};
    return nb_op(g, op, 2, in, NULL);
}

static nb_attr attr_zero(void)
{
    nb_attr a;
    memset(&a, 0, sizeof a);
    return a;
}

nb_node nb_add(nb_graph *g, nb_node a, nb_node b) { return op2(g, NB_OP_ADD, a, b); }
nb_node nb_sub(nb_graph *g, nb_node a, nb_node b) { return op2(g, NB_OP_SUB, a, b); }
nb_node nb_mul(nb_graph *g, nb_node a, nb_node b) { return op2(g, NB_OP_MUL, a, b); }
nb_node nb_div(nb_graph *g, nb_node a, nb_node b) { return op2(g, NB_OP_DIV, a, b); }
nb_node nb_neg(nb_graph *g, nb_node a) { return op1(g, NB_OP_NEG, a, NULL); }
nb_node nb_exp(nb_graph *g, nb_node a) { return op1(g, NB_OP_EXP, a, NULL); }
nb_node nb_log(nb_graph *g, nb_node a) { return op1(g, NB_OP_LOG, a, NULL); }
nb_node nb_square(nb_graph *g, nb_node a) { return op1(g, NB_OP_SQUARE, a, NULL); }
nb_node nb_sqrt(nb_graph *g, nb_node a) { return op1(g, NB_OP_SQRT, a, NULL); }
nb_node nb_sigmoid(nb_graph *g, nb_node a) { return op1(g, NB_OP_SIGMOID, a, NULL); }
nb_node nb_tanh(nb_graph *g, nb_node a) { return op1(g, NB_OP_TANH, a, NULL); }
nb_node nb_relu(nb_graph *g, nb_node a) { return op1(g, NB_OP_RELU, a, NULL); }
nb_node nb_softplus(nb_graph *g, nb_node a) { return op1(g, NB_OP_SOFTPLUS, a, NULL); }
nb_node nb_silu(nb_graph *g, nb_node a) { return op1(g, NB_OP_SILU, a, NULL); }
nb_node nb_identity(nb_graph *g, nb_node a) { return op1(g, NB_OP_IDENTITY, a, NULL); }
nb_node nb_step(nb_graph *g, nb_node a) { return op1(g, NB_OP_STEP, a, NULL); }
nb_node nb_sum_all(nb_graph *g, nb_node a) { return op1(g, NB_OP_SUM_ALL, a, NULL); }
nb_node nb_mean_all(nb_graph *g, nb_node a) { return op1(g, NB_OP_MEAN_ALL, a, NULL); }
nb_node nb_softmax_ce(nb_graph *g, nb_node x, nb_node t) { return op2(g, NB_OP_SOFTMAX_CE, x, t); }
nb_node nb_bce_logits(nb_graph *g, nb_node x, nb_node t) { return op2(g, NB_OP_BCE_LOGITS, x, t); }
nb_node nb_mse(nb_graph *g, nb_node p, nb_node t) { return op2(g, NB_OP_MSE, p, t); }

static nb_node with_alpha(nb_graph *g, nb_op_type op, nb_node a, float alpha)
{
    nb_attr at = attr_zero();
    at.alpha = alpha;
    return op1(g, op, a, &at);
}

nb_node nb_scale(nb_graph *g, nb_node a, float s) { return with_alpha(g, NB_OP_SCALE, a, s); }
nb_node nb_leaky_relu(nb_graph *g, nb_node a, float slope) { return with_alpha(g, NB_OP_LEAKY_RELU, a, slope); }
nb_node nb_elu(nb_graph *g, nb_node a, float alpha) { return with_alpha(g, NB_OP_ELU, a, alpha); }

static nb_node with_axis(nb_graph *g, nb_op_type op, nb_node a, int axis)
{
    nb_attr at = attr_zero();
    at.axis = axis;
    return op1(g, op, a, &at);
}

nb_node nb_sum(nb_graph *g, nb_node a, int axis) { return with_axis(g, NB_OP_SUM, a, axis); }
nb_node nb_mean(nb_graph *g, nb_node a, int axis) { return with_axis(g, NB_OP_MEAN, a, axis); }
nb_node nb_max(nb_graph *g, nb_node a, int axis) { return with_axis(g, NB_OP_MAX, a, axis); }
nb_node nb_softmax(nb_graph *g, nb_node a, int axis) { return with_axis(g, NB_OP_SOFTMAX, a, axis); }
nb_node nb_log_softmax(nb_graph *g, nb_node a, int axis) { return with_axis(g, NB_OP_LOG_SOFTMAX, a, axis); }

nb_node nb_maxout(nb_graph *g, nb_node a, int k)
{
    nb_attr at = attr_zero();
    at.k = k;
    return op1(g, NB_OP_MAXOUT, a, &at);
}

nb_node nb_matmul(nb_graph *g, nb_node a, nb_node b, int trans_a, int trans_b)
{
    nb_attr at = attr_zero();
    nb_node in[2] = {a, b};
    at.trans_a = trans_a;
    at.trans_b = trans_b;
    return nb_op(g, NB_OP_MATMUL, 2, in, &at);
}

nb_node nb_reshape(nb_graph *g, nb_node a, int rank, const int64_t *shape)
{
    nb_attr at = attr_zero();
    if (rank > 0 && !shape) return null_arg(g, "reshape: shape");
    if (rank < 0 || rank > NB_MAX_RANK) rank = -1; /* infer reports it */
    at.rank = rank;
    for (int i = 0; i < rank; i++) at.shape[i] = shape[i];
    return op1(g, NB_OP_RESHAPE, a, &at);
}

nb_node nb_flatten(nb_graph *g, nb_node a)
{
    if (!g || a < 0 || a >= g->n_nodes) return op1(g, NB_OP_RESHAPE, a, NULL);
    const nb__node *x = &g->nodes[a];
    int64_t rest = 1;
    for (int i = 1; i < x->rank; i++) rest *= x->shape[i];
    int64_t s[2] = {NB_BATCH, rest};
    /* a tensor without a batch dimension flattens to (d0, rest) */
    if (x->rank == 0 || !(x->rank > 0 && x->shape[0] == g->batch)) s[0] = x->rank ? x->shape[0] : 1;
    return nb_reshape(g, a, 2, s);
}

/* ---- convolution, pooling, dropout, batch norm */

static void set_pair(int dst[2], const int *src, int dflt)
{
    dst[0] = src ? src[0] : dflt;
    dst[1] = src ? src[1] : dflt;
}

nb_node nb_conv2d(nb_graph *g, nb_node x, nb_node w, const int stride[2], const int pad[2],
                  const int dilation[2])
{
    nb_attr at = attr_zero();
    nb_node in[2] = {x, w};
    set_pair(at.stride, stride, 1);
    set_pair(at.pad, pad, 0);
    set_pair(at.dilation, dilation, 1);
    return nb_op(g, NB_OP_CONV2D, 2, in, &at);
}

nb_node nb_conv2d_bias(nb_graph *g, nb_node x, nb_node w, nb_node b, const int stride[2],
                       const int pad[2], const int dilation[2])
{
    nb_attr at = attr_zero();
    nb_node in[3] = {x, w, b};
    set_pair(at.stride, stride, 1);
    set_pair(at.pad, pad, 0);
    set_pair(at.dilation, dilation, 1);
    return nb_op(g, NB_OP_CONV2D, 3, in, &at);
}

static nb_node pool(nb_graph *g, nb_op_type op, nb_node x, const int kernel[2], const int stride[2],
                    const int pad[2])
{
    nb_attr at = attr_zero();
    if (!kernel) return null_arg(g, op == NB_OP_MAXPOOL2D ? "maxpool2d: kernel" : "avgpool2d: kernel");
    set_pair(at.kernel, kernel, 0);
    set_pair(at.stride, stride ? stride : kernel, 1);
    set_pair(at.pad, pad, 0);
    set_pair(at.dilation, NULL, 1);
    return op1(g, op, x, &at);
}

nb_node nb_maxpool2d(nb_graph *g, nb_node x, const int kernel[2], const int stride[2], const int pad[2])
{
    return pool(g, NB_OP_MAXPOOL2D, x, kernel, stride, pad);
}

nb_node nb__maxpool2d_relu(nb_graph *g, nb_node x, const int kernel[2], const int stride[2], const int pad[2])
{
    nb_node y = nb_maxpool2d(g, x, kernel, stride, pad);
    int fuse = kernel && kernel[0] == 2 && kernel[1] == 2 && (!stride || (stride[0] == 2 && stride[1] == 2)) &&
               (!pad || (pad[0] == 0 && pad[1] == 0));
    if (y < 0 || !fuse) return nb_relu(g, y);
    g->nodes[y].flags |= NB__RELU_AFTER;
    return y;
}

nb_node nb_avgpool2d(nb_graph *g, nb_node x, const int kernel[2], const int stride[2], const int pad[2])
{
    return pool(g, NB_OP_AVGPOOL2D, x, kernel, stride, pad);
}

nb_node nb_global_avgpool(nb_graph *g, nb_node x) { return op1(g, NB_OP_GLOBAL_AVGPOOL, x, NULL); }

nb_node nb_dropout(nb_graph *g, nb_node x, float p)
{
    nb_attr at = attr_zero();
    at.p = p;
    return op1(g, NB_OP_DROPOUT, x, &at);
}

nb_node nb_batchnorm(nb_graph *g, nb_node x, nb_node gamma, nb_node beta, nb_node running_mean,
                     nb_node running_var, float momentum, float eps)
{
    nb_attr at = attr_zero();
    nb_node in[5] = {x, gamma, beta, running_mean, running_var};
    at.momentum = momentum;
    at.eps = eps;
    return nb_op(g, NB_OP_BATCHNORM, 5, in, &at);
}

nb_node nb_embedding(nb_graph *g, nb_node ids, nb_node table, int padding_idx)
{
    nb_attr at = attr_zero();
    nb_node in[2] = {ids, table};
    at.k = padding_idx;
    return nb_op(g, NB_OP_EMBEDDING, 2, in, &at);
}

nb_node nb_seq_lengths(nb_graph *g, nb_node ids) { return op1(g, NB_OP_SEQ_LENGTHS, ids, NULL); }

nb_node nb_rnn(nb_graph *g, const nb_rnn_desc *d, nb_node x, nb_node lengths, const nb_node *params)
{
    if (!d) return null_arg(g, "rnn: desc");
    if (!params) return null_arg(g, "rnn: params");
    if (!g) return -nb__fail(NB_ERR_ARG, "graph is NULL");
    if (g->status) return -g->status;
    if (lengths < -1) return lengths; /* an earlier builder's failure; -1 means "no lengths" */
    nb_attr at = attr_zero();
    at.rnn = *d;
    int np = d->bidirectional ? 8 : 4, n = 0;
    nb_node in[NB__MAX_IN];
    in[n++] = x;
    if (lengths != -1) in[n++] = lengths;
    for (int k = 0; k < np; k++) in[n++] = params[k];
    return nb_op(g, NB_OP_RNN, n, in, &at);
}
