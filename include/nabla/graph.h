/* SPDX-License-Identifier: MIT */
/*
 * nabla/graph.h - computational graphs (src/autograd): building them from operators and their
 * attributes (nb_attr), custom operators, compiling, forward and backward, gradient checking
 * and DOT output. Includes only nabla/base.h.
 */
#ifndef NABLA_GRAPH_H
#define NABLA_GRAPH_H

#include "base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nb_graph nb_graph;

/* A node of a graph: an index >= 0, or a negative status when the builder failed. */
typedef int32_t nb_node;

/* In an input's shape, NB_BATCH as the first dimension marks the batch dimension, whose size
 * is chosen at run time (nb_graph_set_batch / nb_graph_feed). */
#define NB_BATCH (-1)

/* Operator identifiers. Values are explicit and append-only: they are written into files. */
typedef enum nb_op_type {
    NB_OP_INPUT = 0, NB_OP_PARAM = 1, NB_OP_CONST = 2,
    NB_OP_ADD = 3, NB_OP_SUB = 4, NB_OP_MUL = 5, NB_OP_DIV = 6,
    NB_OP_NEG = 7, NB_OP_SCALE = 8, NB_OP_EXP = 9, NB_OP_LOG = 10,
    NB_OP_SQUARE = 11, NB_OP_SQRT = 12, NB_OP_MATMUL = 13,
    NB_OP_SUM = 14, NB_OP_MEAN = 15, NB_OP_SUM_ALL = 16, NB_OP_MEAN_ALL = 17,
    NB_OP_MAX = 18, NB_OP_RESHAPE = 19,
    NB_OP_SIGMOID = 20, NB_OP_TANH = 21, NB_OP_RELU = 22, NB_OP_LEAKY_RELU = 23,
    NB_OP_ELU = 24, NB_OP_SOFTPLUS = 25, NB_OP_MAXOUT = 26, NB_OP_IDENTITY = 27,
    NB_OP_STEP = 28, NB_OP_SOFTMAX = 29, NB_OP_LOG_SOFTMAX = 30,
    NB_OP_SOFTMAX_CE = 31, NB_OP_BCE_LOGITS = 32, NB_OP_MSE = 33,
    NB_OP_CUSTOM = 34,
    NB_OP_CONV2D = 35, NB_OP_MAXPOOL2D = 36, NB_OP_AVGPOOL2D = 37, NB_OP_GLOBAL_AVGPOOL = 38,
    NB_OP_DROPOUT = 39, NB_OP_BATCHNORM = 40, NB_OP_SILU = 41,
    NB_OP_EMBEDDING = 42, NB_OP_SEQ_LENGTHS = 43, NB_OP_RNN = 44,
    NB_OP_COUNT_ = 45 /* number of operator types; not an operator */
} nb_op_type;

/* The recurrent layer nb_rnn runs (values are explicit: they may be written into files).
 *  cell           NB_CELL_TANH (G = 1 gate), NB_CELL_LSTM (G = 4: i, f, g, o) or NB_CELL_GRU
 *                 (G = 3: r, z, n), PyTorch's nn.RNN / nn.LSTM / nn.GRU formulas and layouts
 *  hidden         H, the state size (>= 1)
 *  bidirectional  0: one direction; 1: a second one running from each row's last valid step
 *                 back to step 0, its H values after the forward direction's ([fwd, rev])
 *  output         NB_RNN_LAST (B, D H): the final states, PyTorch's h_n as [fwd, rev];
 *                 NB_RNN_SEQUENCE (B, T, D H): every step's state, steps t >= the row's length 0;
 *                 NB_RNN_MEAN (B, D H): the mean of the sequence over the row's valid steps */
typedef enum nb_rnn_cell { NB_CELL_TANH = 0, NB_CELL_LSTM = 1, NB_CELL_GRU = 2 } nb_rnn_cell;
typedef enum nb_rnn_output { NB_RNN_LAST = 0, NB_RNN_SEQUENCE = 1, NB_RNN_MEAN = 2 } nb_rnn_output;
typedef struct nb_rnn_desc {
    nb_rnn_cell cell;
    int hidden;
    int bidirectional;
    nb_rnn_output output;
} nb_rnn_desc;

/* Operator attributes for nb_op. Each field has one meaning, and each operator reads only the
 * fields listed for it here (the others are ignored; zero them, e.g. with a designated
 * initializer). The named builders fill them as their paragraphs below describe.
 *  SCALE                  alpha (the factor s)
 *  LEAKY_RELU             alpha (the slope for x <= 0)
 *  ELU                    alpha (alpha of alpha (e^x - 1) for x <= 0)
 *  SUM, MEAN, MAX         axis
 *  SOFTMAX, LOG_SOFTMAX   axis
 *  MAXOUT                 k (pieces per unit)
 *  MATMUL                 trans_a, trans_b
 *  RESHAPE                rank, shape
 *  CONV2D                 stride, pad, dilation (the kernel size comes from the weights)
 *  MAXPOOL2D, AVGPOOL2D   kernel, stride, pad, dilation (the builders set dilation (1, 1))
 *  DROPOUT                p
 *  BATCHNORM              momentum, eps
 *  RNN                    rnn (the layer's description, nb_rnn_desc)
 * Every other operator reads none. */
typedef struct nb_attr {
    float alpha;        /* scale factor, leaky-ReLU slope or ELU alpha */
    int axis;           /* reduction / softmax axis; negative counts from the end */
    int k;              /* maxout pieces; embedding: the padding id (-1 for none) */
    int trans_a, trans_b; /* matmul transposes */
    int rank;           /* reshape target rank */
    int64_t shape[NB_MAX_RANK]; /* reshape target shape; NB_BATCH keeps the batch size */
    int kernel[2];      /* pooling window (height, width); conv takes it from the weights */
    int stride[2], pad[2], dilation[2]; /* conv / pooling, per axis (height, width) */
    float p;            /* dropout: the probability of zeroing an element, in [0, 1) */
    float momentum;     /* batch norm: weight of the batch statistic in the running ones */
    float eps;          /* batch norm: added to the variance before the square root */
    nb_rnn_desc rnn;    /* recurrent layer: cell, hidden size, directions, output */
} nb_attr;

/* nb_graph_create: an empty graph. nb_graph_free releases it and everything it owns. */
NB_API int nb_graph_create(nb_graph **out);
NB_API void nb_graph_free(nb_graph *g);

/* nb_graph_status: the first error a builder latched in g (NB_OK when none); nb_errmsg() after
 * a failed builder names the operator and shapes. */
NB_API int nb_graph_status(const nb_graph *g);

/* nb_input: a value fed at every run, e.g. a batch of features (shape[0] may be NB_BATCH).
 * name is copied; it may be NULL. Inputs get no gradient unless nb_require_grad is called. */
NB_API nb_node nb_input(nb_graph *g, const char *name, int rank, const int64_t *shape);

/* nb_param: a trainable parameter (no NB_BATCH dimension). Its values live in the graph's flat
 * parameter buffer, zero until set (nb_graph_value / nb_graph_params); its gradient in the flat
 * gradient buffer, in creation order. */
NB_API nb_node nb_param(nb_graph *g, const char *name, int rank, const int64_t *shape);

/* nb_const: a constant with the given values (numel floats, copied; NULL means zeros). */
NB_API nb_node nb_const(nb_graph *g, const char *name, int rank, const int64_t *shape,
                        const float *values);

/* nb_require_grad: ask backward to compute d(loss)/d(input) for an input node (parameters
 * always get gradients). Must precede nb_graph_compile. */
NB_API int nb_require_grad(nb_graph *g, nb_node input);

/* nb_op: the generic builder behind every named one below: operator op over n_in inputs, with
 * attributes attr (NULL means all zero). Shapes are checked here; the node's shape is known
 * as soon as it returns (with the batch dimension at its current size). */
NB_API nb_node nb_op(nb_graph *g, nb_op_type op, int n_in, const nb_node *in, const nb_attr *attr);

/* Elementwise arithmetic with broadcasting: shapes are aligned on the right, and each pair of
 * dimensions must be equal or one of them 1 (so a scalar, or a bias row (1, C) / (C), combines
 * with an (N, C) matrix). Backward sums the gradient over broadcast dimensions. */
NB_API nb_node nb_add(nb_graph *g, nb_node a, nb_node b);
NB_API nb_node nb_sub(nb_graph *g, nb_node a, nb_node b);
NB_API nb_node nb_mul(nb_graph *g, nb_node a, nb_node b);
NB_API nb_node nb_div(nb_graph *g, nb_node a, nb_node b);

/* Elementwise unary operators: -a, s*a, e^a, ln a (a > 0), a^2, sqrt a (a > 0). */
NB_API nb_node nb_neg(nb_graph *g, nb_node a);
NB_API nb_node nb_scale(nb_graph *g, nb_node a, float s);
NB_API nb_node nb_exp(nb_graph *g, nb_node a);
NB_API nb_node nb_log(nb_graph *g, nb_node a);
NB_API nb_node nb_square(nb_graph *g, nb_node a);
NB_API nb_node nb_sqrt(nb_graph *g, nb_node a);

/* nb_matmul: C = op(A) op(B) for 2-D a and b (see the convention in nabla.h). */
NB_API nb_node nb_matmul(nb_graph *g, nb_node a, nb_node b, int trans_a, int trans_b);

/* Reductions. nb_sum / nb_mean / nb_max reduce along axis (negative counts from the end) and
 * drop it; nb_sum_all / nb_mean_all give a scalar. nb_max routes the whole gradient to the
 * first arg-max ("the max gate routes the gradient"). */
NB_API nb_node nb_sum(nb_graph *g, nb_node a, int axis);
NB_API nb_node nb_mean(nb_graph *g, nb_node a, int axis);
NB_API nb_node nb_max(nb_graph *g, nb_node a, int axis);
NB_API nb_node nb_sum_all(nb_graph *g, nb_node a);
NB_API nb_node nb_mean_all(nb_graph *g, nb_node a);

/* nb_reshape: the same elements in a new shape (element counts must match; NB_BATCH as a
 * dimension stands for the batch size). nb_flatten: (N, d1, d2, ...) -> (N, d1*d2*...). */
NB_API nb_node nb_reshape(nb_graph *g, nb_node a, int rank, const int64_t *shape);
NB_API nb_node nb_flatten(nb_graph *g, nb_node a);

/* Activations, elementwise unless stated:
 *  sigmoid 1/(1+e^-x); tanh; relu max(0,x) (gradient 0 at 0; a NaN
 *  propagates, as in PyTorch); leaky_relu x or slope*x;
 *  elu x or alpha(e^x - 1); softplus ln(1+e^x) (stable for large |x|); silu (swish)
 *  x sigmoid(x), PyTorch's nn.SiLU (finite for any finite x); identity;
 *  step: 1 if x > 0 else 0 - forward only: it is not differentiable (its derivative is 0
 *  almost everywhere and undefined at 0), so its backward passes no gradient, and the
 *  gradient check skips it;
 *  maxout: a (N, C*k) input gives (N, C): output j is the max over inputs j*k .. j*k+k-1
 *  (k consecutive pieces per unit), the gradient routed to the arg-max;
 *  softmax / log_softmax along axis (row max subtracted first, so no overflow). */
NB_API nb_node nb_sigmoid(nb_graph *g, nb_node a);
NB_API nb_node nb_tanh(nb_graph *g, nb_node a);
NB_API nb_node nb_relu(nb_graph *g, nb_node a);
NB_API nb_node nb_leaky_relu(nb_graph *g, nb_node a, float slope);
NB_API nb_node nb_elu(nb_graph *g, nb_node a, float alpha);
NB_API nb_node nb_softplus(nb_graph *g, nb_node a);
NB_API nb_node nb_silu(nb_graph *g, nb_node a);
NB_API nb_node nb_identity(nb_graph *g, nb_node a);
NB_API nb_node nb_step(nb_graph *g, nb_node a);
NB_API nb_node nb_maxout(nb_graph *g, nb_node a, int k);
NB_API nb_node nb_softmax(nb_graph *g, nb_node a, int axis);
NB_API nb_node nb_log_softmax(nb_graph *g, nb_node a, int axis);

/* Fused, numerically stable losses; each returns a scalar, averaged over the batch.
 *  nb_softmax_ce(logits (N, C), target): target is (N) holding class indices 0..C-1 as floats,
 *    or (N, C) holding one-hot or soft probabilities. Loss = mean over rows of
 *    -sum_c t_c log softmax(logits)_c; d/dlogits = (p - t) / N.
 *  nb_bce_logits(logits, target): same shapes; one sigmoid per output, so it serves binary and
 *    multi-label tasks: mean over all elements of -(t log s + (1-t) log(1-s)), computed as
 *    max(x,0) - x t + ln(1 + e^-|x|); d/dx = (s - t) / numel.
 *  nb_mse(pred, target): same shapes; mean over all elements of 1/2 (p - t)^2, the lecture
 *    notes' 1/2 convention, so d/dp = (p - t) / numel. PyTorch's MSELoss is twice this value.
 * Logits of +-1000 give finite losses and gradients. A class index out of range makes
 * nb_graph_forward fail with NB_ERR_ARG naming the row. */
NB_API nb_node nb_softmax_ce(nb_graph *g, nb_node logits, nb_node target);
NB_API nb_node nb_bce_logits(nb_graph *g, nb_node logits, nb_node target);
NB_API nb_node nb_mse(nb_graph *g, nb_node pred, nb_node target);

/* Convolution and pooling over NCHW tensors (N samples, C channels, H x W).
 *  nb_conv2d(x (N, C, H, W), w (O, C, kh, kw)): the cross-correlation PyTorch's Conv2d computes,
 *    y (N, O, OH, OW) with OH = (H + 2 pad - dilation (kh - 1) - 1) / stride + 1 (likewise OW).
 *    stride, pad, dilation are (height, width) pairs; NULL means 1, 0, 1. nb_conv2d_bias adds
 *    b (O) to every output channel. Lowered to one matrix product per sample (im2col).
 *  nb_maxpool2d / nb_avgpool2d: windows of kernel (kh, kw), stride (NULL: the kernel), zero
 *    padding (NULL: 0; max pooling never picks padding, average pooling counts it as
 *    PyTorch's default does). Max pooling routes each gradient to its window's arg-max.
 *  nb_global_avgpool: (N, C, H, W) -> (N, C), the mean of each plane. */
NB_API nb_node nb_conv2d(nb_graph *g, nb_node x, nb_node w, const int stride[2], const int pad[2],
                         const int dilation[2]);
NB_API nb_node nb_conv2d_bias(nb_graph *g, nb_node x, nb_node w, nb_node b, const int stride[2],
                              const int pad[2], const int dilation[2]);
NB_API nb_node nb_maxpool2d(nb_graph *g, nb_node x, const int kernel[2], const int stride[2],
                            const int pad[2]);
NB_API nb_node nb_avgpool2d(nb_graph *g, nb_node x, const int kernel[2], const int stride[2],
                            const int pad[2]);
NB_API nb_node nb_global_avgpool(nb_graph *g, nb_node x);

/* nb_dropout: in training mode (nb_graph_set_training) each element is zeroed with
 * probability p (0 <= p < 1) and the survivors scaled by 1/(1-p) ("inverted" dropout, so
 * evaluation is the identity); masks come from the graph's generator (nb_graph_seed). */
NB_API nb_node nb_dropout(nb_graph *g, nb_node x, float p);

/* nb_batchnorm: per-channel normalisation of x (N, C) or (N, C, H, W) over all axes but 1:
 * y = gamma (x - mean) / sqrt(var + eps) + beta, gamma and beta (C) trainable. In training
 * mode mean and var are the batch's (biased variance) and the constants running_mean and
 * running_var (C) are updated in place: r = (1 - momentum) r + momentum batch_stat, with the
 * unbiased variance, as PyTorch's BatchNorm; in evaluation mode the running statistics are
 * used. momentum and eps are typically 0.1 and 1e-5. */
NB_API nb_node nb_batchnorm(nb_graph *g, nb_node x, nb_node gamma, nb_node beta,
                            nb_node running_mean, nb_node running_var, float momentum, float eps);

/* nb_embedding: rows of table (V, D), a parameter, picked by ids, a tensor of any shape holding
 * whole-number ids in [0, V) as floats (a batch of token sequences (N, T)); the output has
 * ids' shape followed by D, as PyTorch's nn.Embedding. An id that is not a whole number in
 * [0, V) makes nb_graph_forward fail with NB_ERR_ARG naming the id and its position. Backward
 * adds each output row's gradient into its id's row of the table's gradient (an id used
 * twice gets both; the same bits for any thread count); ids get no gradient. padding_idx in
 * [0, V) names an id whose row never gets a gradient (PyTorch's padding_idx, for the padding
 * token of right-padded sequences), -1 none. Through nb_op the padding id is nb_attr.k (a
 * NULL attr means 0).
 * nb_seq_lengths: ids (N, T) of right-padded sequences (id 0 is padding) -> (N) lengths, each
 * 1 + the position of the row's last non-zero id (0 for a row of padding only). No gradient. */
NB_API nb_node nb_embedding(nb_graph *g, nb_node ids, nb_node table, int padding_idx);
NB_API nb_node nb_seq_lengths(nb_graph *g, nb_node ids);

/* nb_rnn: a whole recurrent layer (every step, one or both directions) as one operator over
 * x (B, T, F) (B may be NB_BATCH; T >= 1), described by d (above). lengths is -1 (every row
 * has T steps) or a (B) node holding each row's length as an integer-valued float in [0, T]
 * (forward fails with NB_ERR_ARG naming the row otherwise): a row runs its first length steps
 * only, as PyTorch's pack_padded_sequence (enforce_sorted=False) - padded steps never change
 * the state nor get a gradient, a row's result never depends on other rows' lengths, and a
 * row of length 0 gives zeros. params: 4 nodes w_ih (G H, F), w_hh (G H, H), b_ih (G H),
 * b_hh (G H) in PyTorch's layouts and gate order, and when bidirectional 4 more for the
 * reverse direction (PyTorch's *_reverse). Initial states are zero. The input products of
 * all steps are one matrix product per direction, the recurrent one one product per step
 * over the batch; backward is backpropagation through time, into x and every parameter. */
NB_API nb_node nb_rnn(nb_graph *g, const nb_rnn_desc *d, nb_node x, nb_node lengths, const nb_node *params);

/* nb_graph_set_training: 1 (the default) for training behaviour of dropout and batch norm, 0
 * for evaluation. nb_graph_training reads it. nb_graph_seed reseeds the graph's generator
 * (used by dropout); nb_graph_rng gives it (borrowed) so checkpoints can save its state.
 * Memory: an evaluation-mode forward uses a forward-only layout of the graph's arena: no
 * intermediate gradients (nb_graph_grad gives NULL data for them until a training-mode
 * forward lays them out again) and saved state only as scratch, so inference at a large
 * batch needs a fraction of what training at that batch does; nb_graph_backward refuses to
 * follow it (NB_ERR_STATE). Values of inputs survive the switch between layouts; other
 * nodes' view pointers may move. */
NB_API void nb_graph_set_training(nb_graph *g, int training);
NB_API int nb_graph_training(const nb_graph *g);
NB_API void nb_graph_seed(nb_graph *g, uint64_t seed);
NB_API nb_rng *nb_graph_rng(nb_graph *g);

/* Custom operators: the caller's own forward and backward over float32 views.
 *  infer(ud, n_in, in, out): set out->rank and out->shape from the inputs (data pointers are
 *    NULL then), or return NB_ERR_SHAPE (and the message nabla reports names op->name). NULL
 *    means "same shape as in[0]".
 *  forward(ud, n_in, in, out): compute out->data from in[i].data.
 *  backward(ud, n_in, in, out, dout, din): ADD d(loss)/d(in[i]) into din[i].data, whose data is
 *    NULL for inputs that need no gradient. NULL backward makes the op non-differentiable.
 * Each returns NB_OK or a status. The struct is copied; name and ud must outlive the graph. */
typedef struct nb_custom_op {
    const char *name;
    int (*infer)(void *ud, int n_in, const nb_view *in, nb_view *out);
    int (*forward)(void *ud, int n_in, const nb_view *in, nb_view *out);
    int (*backward)(void *ud, int n_in, const nb_view *in, const nb_view *out,
                    const nb_view *dout, nb_view *din);
    void *ud;
} nb_custom_op;

/* nb_custom: a node running op over n_in (1..4) inputs. */
NB_API nb_node nb_custom(nb_graph *g, const nb_custom_op *op, int n_in, const nb_node *in);

/* nb_graph_compile: freeze g (no more nodes), work out which nodes need gradients, and plan and
 * allocate the memory of every value and gradient for the current batch size. Call once;
 * afterwards forward/backward run any number of times without allocating. */
NB_API int nb_graph_compile(nb_graph *g);

/* nb_graph_set_batch: set the batch size of every NB_BATCH input and re-infer all shapes.
 * Memory is re-planned; it is reallocated only when the new plan is larger than any before,
 * so alternating batch sizes allocate once. Values of inputs are undefined afterwards. */
NB_API int nb_graph_set_batch(nb_graph *g, int64_t batch);

/* nb_graph_batch: the current batch size (1 until set). */
NB_API int64_t nb_graph_batch(const nb_graph *g);

/* nb_graph_feed: copy n floats into input node x (setting the batch size from n first when x
 * has a batch dimension). NB_ERR_SHAPE when n does not fit x's shape. */
NB_API int nb_graph_feed(nb_graph *g, nb_node x, const float *data, size_t n);

/* nb_graph_forward: compute the value of target and of every node it depends on, in
 * topological order. Fails with NB_ERR_STATE before compile. */
NB_API int nb_graph_forward(nb_graph *g, nb_node target);

/* nb_graph_backward: with loss a scalar node whose value forward computed, ADD d(loss)/d(node)
 * into the gradient of every node that needs one (parameters, inputs given nb_require_grad,
 * and the nodes between). Their gradients accumulate across calls: call nb_graph_zero_grad
 * first; the nodes between restart from zero in every call. NB_ERR_STATE when the last
 * forward ran in evaluation mode (nb_graph_set_training(g, 0)), which keeps no gradients: run
 * nb_graph_forward in training mode first. */
NB_API int nb_graph_backward(nb_graph *g, nb_node loss);

/* nb_graph_zero_grad: set the accumulating gradients to zero now: every parameter's and every
 * input's given nb_require_grad. (Intermediate gradients are not accumulated: each backward
 * recomputes them from zero.) */
NB_API void nb_graph_zero_grad(nb_graph *g);

/* nb_graph_value / nb_graph_grad: a view of a node's value or gradient (grad data is NULL when
 * the node needs no gradient). Valid until the next compile/set_batch/free, and for nodes
 * other than inputs, parameters and constants until the next forward or backward that
 * switches between the training and evaluation layouts (nb_graph_set_training). Parameter
 * and constant values may be written through the view. */
NB_API int nb_graph_value(const nb_graph *g, nb_node node, nb_view *out);
NB_API int nb_graph_grad(const nb_graph *g, nb_node node, nb_view *out);

/* nb_graph_set_reuse: 1 lets evaluation-mode forwards recycle a node's value buffer once
 * every node reading it has run, so inference holds a few layers' activations at a time
 * instead of all of them. The value of a forward's target is always complete afterwards, as
 * are inputs, parameters, constants and nodes given nb_graph_keep; other nodes' values are
 * then undefined (they may hold later layers' data). 0 (the default) keeps every value.
 * Training-mode forwards never recycle. Either may be called before or after compile.
 * NB_ERR_ARG for a NULL graph or a node not in it. */
NB_API int nb_graph_set_reuse(nb_graph *g, int on);
NB_API int nb_graph_keep(nb_graph *g, nb_node node);

/* nb_graph_params / nb_graph_grads: the flat parameter and gradient buffers (all parameters in
 * creation order); *n receives their length. Valid until nb_graph_free. Pure getters: calling
 * them changes no buffer (the gradients are what the last backward or zero_grad left). */
NB_API float *nb_graph_params(nb_graph *g, size_t *n);
NB_API float *nb_graph_grads(nb_graph *g, size_t *n);

/* Introspection: node count, a node's operator, name (NULL if none), inputs, and the node named
 * name (a negative status when absent); nb_op_name gives an operator's table name. */
NB_API int nb_graph_node_count(const nb_graph *g);
NB_API nb_op_type nb_graph_node_op(const nb_graph *g, nb_node node);
NB_API const char *nb_graph_node_name(const nb_graph *g, nb_node node);
NB_API int nb_graph_node_inputs(const nb_graph *g, nb_node node, const nb_node **in);
NB_API nb_node nb_graph_find(const nb_graph *g, const char *name);
/* nb_graph_node_shape: copy node's current shape (batch dimension at its current size) into
 * shape and return its rank, or a negative status for a bad node. Works before compile. */
NB_API int nb_graph_node_shape(const nb_graph *g, nb_node node, int64_t shape[NB_MAX_RANK]);
NB_API const char *nb_op_name(nb_op_type op);

/* nb_graph_dot: the graph as Graphviz DOT text, each node labelled with its operator, name and
 * shape and, for tensors of at most max_show elements, its value and gradient as last computed.
 * *out receives a NUL-terminated string to release with nb_free. nb_graph_save_dot writes the
 * same text to path (atomically). */
NB_API int nb_graph_dot(const nb_graph *g, size_t max_show, char **out);
NB_API int nb_graph_save_dot(const nb_graph *g, size_t max_show, const char *path);

/* Gradient checking: for each parameter (and each input given nb_require_grad), compare the
 * analytic d(loss)/d(element) from backward with the central difference
 * (L(x+eps) - L(x-eps)) / 2eps, over every element. The relative error of an element is
 * |a - n| / max(|a| + |n|, 1e-2) (absolute below 1e-2, where float32 differences are noise);
 * the worst per node is reported. Inputs must have been fed;
 * the graph's values are restored afterwards. out receives at most cap entries; *n_out the
 * number of nodes checked. */
typedef struct nb_gradcheck_entry {
    nb_node node;
    double max_rel_err;
    size_t worst_index;
    double analytic, numeric; /* at worst_index */
} nb_gradcheck_entry;
NB_API int nb_gradcheck(nb_graph *g, nb_node loss, float eps, nb_gradcheck_entry *out, int cap,
                        int *n_out);

#ifdef __cplusplus
}
#endif
#endif /* NABLA_GRAPH_H */
