/* SPDX-License-Identifier: MIT */
/*
 * api_null_graph.h - test_api_null.c's cases for the functions of include/nabla/graph.h
 * (graph building, running, reading), kept apart so each file holds one part of the API.
 * Included once by test_api_null.c after its macros (ARG, VAL, RUNS, FRESH, NODE) and
 * valid handles; not a header of its own.
 */
#ifndef NB_API_NULL_GRAPH_H
#define NB_API_NULL_GRAPH_H

/* ---------------------------------------------------------------- graph.h */

static void c_nb_graph_create(void) { ARG(nb_graph_create(NULL), "out"); }
static void c_nb_graph_free(void) { RUNS(nb_graph_free(NULL)); }
static void c_nb_graph_status(void) { ARG(nb_graph_status(NULL), "graph"); }

static void c_nb_input(void)
{
    FRESH(nb_input(NULL, "a", 1, (int64_t[]){2}), "graph");
    FRESH(nb_input(g, "a", 1, NULL), "shape");
}

static void c_nb_param(void)
{
    FRESH(nb_param(NULL, "a", 1, (int64_t[]){2}), "graph");
    FRESH(nb_param(g, "a", 1, NULL), "shape");
}

static void c_nb_const(void)
{
    FRESH(nb_const(NULL, "a", 1, (int64_t[]){2}, NULL), "graph");
    FRESH(nb_const(g, "a", 1, NULL, NULL), "shape");
    nb_graph *g;
    nb_graph_create(&g);
    VAL(nb_const(g, NULL, 1, (int64_t[]){2}, NULL) >= 0, 1); /* NULL name and values: documented */
    nb_graph_free(g);
}

static void c_nb_require_grad(void) { ARG(nb_require_grad(NULL, 0), "graph"); }

static void c_nb_op(void)
{
    FRESH(nb_op(NULL, NB_OP_NEG, 1, &x, NULL), "graph");
    FRESH(nb_op(g, NB_OP_NEG, 1, NULL, NULL), "inputs");
}

#define UNARY(name, ...)                                                                       \
    static void c_##name(void) { NODE(name(NULL, 0, ##__VA_ARGS__), "graph"); }
#define BINARY(name, ...)                                                                      \
    static void c_##name(void) { NODE(name(NULL, 0, 0, ##__VA_ARGS__), "graph"); }
BINARY(nb_add)
BINARY(nb_sub)
BINARY(nb_mul)
BINARY(nb_div)
UNARY(nb_neg)
UNARY(nb_scale, 2.0f)
UNARY(nb_exp)
UNARY(nb_log)
UNARY(nb_square)
UNARY(nb_sqrt)
BINARY(nb_matmul, 0, 0)
UNARY(nb_sum, 0)
UNARY(nb_mean, 0)
UNARY(nb_max, 0)
UNARY(nb_sum_all)
UNARY(nb_mean_all)
UNARY(nb_flatten)
UNARY(nb_sigmoid)
UNARY(nb_tanh)
UNARY(nb_relu)
UNARY(nb_leaky_relu, 0.1f)
UNARY(nb_elu, 1.0f)
UNARY(nb_softplus)
UNARY(nb_silu)
UNARY(nb_identity)
UNARY(nb_step)
UNARY(nb_maxout, 2)
UNARY(nb_softmax, 0)
UNARY(nb_log_softmax, 0)
BINARY(nb_softmax_ce)
BINARY(nb_bce_logits)
BINARY(nb_mse)
UNARY(nb_global_avgpool)
UNARY(nb_dropout, 0.5f)

static void c_nb_reshape(void)
{
    FRESH(nb_reshape(NULL, x, 1, (int64_t[]){4}), "graph");
    FRESH(nb_reshape(g, x, 1, NULL), "shape");
}

static void c_nb_rnn(void)
{
    static const nb_rnn_desc d = {NB_CELL_LSTM, 2, 0, NB_RNN_LAST};
    static const nb_node p[4] = {0, 0, 0, 0};
    NODE(nb_rnn(NULL, &d, 0, -1, p), "graph");
    FRESH(nb_rnn(g, NULL, x, -1, p), "desc");
    FRESH(nb_rnn(g, &d, x, -1, NULL), "params");
}

static void c_nb_conv2d(void) { NODE(nb_conv2d(NULL, 0, 0, NULL, NULL, NULL), "graph"); }
static void c_nb_conv2d_bias(void) { NODE(nb_conv2d_bias(NULL, 0, 0, 0, NULL, NULL, NULL), "graph"); }

static void c_nb_maxpool2d(void)
{
    FRESH(nb_maxpool2d(NULL, x, (int[]){2, 2}, NULL, NULL), "graph");
    FRESH(nb_maxpool2d(g, x, NULL, NULL, NULL), "kernel");
}

static void c_nb_avgpool2d(void)
{
    FRESH(nb_avgpool2d(NULL, x, (int[]){2, 2}, NULL, NULL), "graph");
    FRESH(nb_avgpool2d(g, x, NULL, NULL, NULL), "kernel");
}

static void c_nb_embedding(void) { NODE(nb_embedding(NULL, 0, 0, -1), "graph"); }
UNARY(nb_seq_lengths)
static void c_nb_batchnorm(void) { NODE(nb_batchnorm(NULL, 0, 0, 0, 0, 0, 0.1f, 1e-5f), "graph"); }
static void c_nb_graph_set_training(void) { RUNS(nb_graph_set_training(NULL, 1)); }
static void c_nb_graph_training(void) { VAL(nb_graph_training(NULL), 0); }
static void c_nb_graph_seed(void) { RUNS(nb_graph_seed(NULL, 1)); }
static void c_nb_graph_rng(void) { VAL(nb_graph_rng(NULL) == NULL, 1); }

static void c_nb_custom(void)
{
    nb_custom_op op = {"c", NULL, NULL, NULL, NULL};
    FRESH(nb_custom(NULL, &op, 1, &x), "graph");
    FRESH(nb_custom(g, NULL, 1, &x), "op");
    FRESH(nb_custom(g, &op, 1, NULL), "inputs");
}

static void c_nb_graph_compile(void) { ARG(nb_graph_compile(NULL), "graph"); }
static void c_nb_graph_set_batch(void) { ARG(nb_graph_set_batch(NULL, 2), "graph"); }
static void c_nb_graph_batch(void) { VAL(nb_graph_batch(NULL), 0); }

static void c_nb_graph_feed(void)
{
    nb_graph *g;
    nb_graph_create(&g);
    nb_node x = nb_input(g, "x", 1, (int64_t[]){2});
    nb_graph_compile(g);
    static const float d[2];
    ARG(nb_graph_feed(NULL, x, d, 2), "graph");
    ARG(nb_graph_feed(g, x, NULL, 2), "data");
    nb_graph_free(g);
}

static void c_nb_graph_forward(void) { ARG(nb_graph_forward(NULL, 0), "graph"); }
static void c_nb_graph_backward(void) { ARG(nb_graph_backward(NULL, 0), "graph"); }
static void c_nb_graph_zero_grad(void) { RUNS(nb_graph_zero_grad(NULL)); }

static void c_nb_graph_value(void)
{
    nb_node x;
    nb_graph *g = graph(&x);
    nb_view v;
    ARG(nb_graph_value(NULL, x, &v), "graph");
    ARG(nb_graph_value(g, x, NULL), "out");
    nb_graph_free(g);
}

static void c_nb_graph_grad(void)
{
    nb_node x;
    nb_graph *g = graph(&x);
    nb_view v;
    ARG(nb_graph_grad(NULL, x, &v), "graph");
    ARG(nb_graph_grad(g, x, NULL), "out");
    nb_graph_free(g);
}

static void c_nb_graph_set_reuse(void) { ARG(nb_graph_set_reuse(NULL, 1), "graph"); }
static void c_nb_graph_keep(void) { ARG(nb_graph_keep(NULL, 0), "graph"); }

static void c_nb_graph_params(void)
{
    nb_node x;
    nb_graph *g = graph(&x);
    size_t n = 7;
    VAL(nb_graph_params(NULL, &n) == NULL && n == 0, 1);
    RUNS(nb_graph_params(g, NULL)); /* n is optional */
    nb_graph_free(g);
}

static void c_nb_graph_grads(void)
{
    nb_node x;
    nb_graph *g = graph(&x);
    size_t n = 7;
    VAL(nb_graph_grads(NULL, &n) == NULL && n == 0, 1);
    RUNS(nb_graph_grads(g, NULL));
    nb_graph_free(g);
}

static void c_nb_graph_node_count(void) { VAL(nb_graph_node_count(NULL), 0); }
static void c_nb_graph_node_op(void) { VAL(nb_graph_node_op(NULL, 0), NB_OP_COUNT_); }
static void c_nb_graph_node_name(void) { VAL(nb_graph_node_name(NULL, 0) == NULL, 1); }

static void c_nb_graph_node_inputs(void)
{
    nb_node x;
    nb_graph *g = graph(&x);
    const nb_node *in = &x;
    VAL(nb_graph_node_inputs(NULL, x, &in) == 0 && in == NULL, 1); /* no inputs */
    VAL(nb_graph_node_inputs(g, x, NULL), 0); /* the inputs pointer is optional: the count */
    nb_graph_free(g);
}

static void c_nb_graph_find(void)
{
    nb_node x;
    nb_graph *g = graph(&x);
    NODE(nb_graph_find(NULL, "x"), "graph");
    NODE(nb_graph_find(g, NULL), "name");
    nb_graph_free(g);
}

static void c_nb_graph_node_shape(void)
{
    nb_node x;
    nb_graph *g = graph(&x);
    int64_t s[NB_MAX_RANK];
    NODE(nb_graph_node_shape(NULL, x, s), "graph"); /* -NB_ERR_ARG */
    VAL(nb_graph_node_shape(g, x, NULL), 2); /* shape is optional: the rank */
    nb_graph_free(g);
}

static void c_nb_op_name(void) { VAL(nb_op_name(NB_OP_ADD) != NULL, 1); }

static void c_nb_graph_dot(void)
{
    nb_node x;
    nb_graph *g = graph(&x);
    char *s = NULL;
    ARG(nb_graph_dot(NULL, 10, &s), "graph");
    ARG(nb_graph_dot(g, 10, NULL), "out");
    nb_graph_free(g);
}

static void c_nb_graph_save_dot(void)
{
    nb_node x;
    nb_graph *g = graph(&x);
    ARG(nb_graph_save_dot(NULL, 10, path("g.dot")), "graph");
    ARG(nb_graph_save_dot(g, 10, NULL), "path");
    nb_graph_free(g);
}

static void c_nb_gradcheck(void)
{
    nb_graph *g;
    nb_graph_create(&g);
    nb_node p = nb_param(g, "p", 1, (int64_t[]){2});
    nb_node l = nb_sum_all(g, nb_square(g, p));
    nb_graph_compile(g);
    nb_gradcheck_entry e[2];
    int n;
    ARG(nb_gradcheck(NULL, l, 1e-3f, e, 2, &n), "graph");
    VAL(nb_gradcheck(g, l, 1e-3f, NULL, 0, NULL), NB_OK); /* out (cap 0) and n_out optional */
    ARG(nb_gradcheck(g, l, 1e-3f, NULL, 2, &n), "out");
    nb_graph_free(g);
}

#endif
