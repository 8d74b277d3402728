/*
 * nabla.h - the whole public API of nabla, a small deep-learning library in C11.
 *
 * Conventions used throughout:
 *  - Every fallible call returns an int status (NB_OK == 0, or an NB_ERR_* code) and leaves a
 *    message naming the file and line, tensor, operator or option, read with nb_errmsg().
 *  - Graph builders (nb_add, nb_matmul, ...) return an nb_node: an index >= 0, or a negative
 *    status (-NB_ERR_*) when they fail. A failed builder latches its error in the graph
 *    (nb_graph_status), and builders given a negative node return it unchanged, so a whole
 *    graph can be built and checked once at the end.
 *  - Opaque handles come from nb_<noun>_create and go back through nb_<noun>_free; free(NULL)
 *    is a no-op. Getters return borrowed pointers and say how long they live.
 *  - Matrix products: nb_matmul(a, b) is C = op(A) op(B) with A (M, K), B (K, N), C (M, N),
 *    row-major; trans_a / trans_b select A^T / B^T. No other convention is used anywhere.
 *  - Sizes are int64_t (shapes) and size_t (element counts); every size feeding an allocation
 *    is overflow-checked. All memory goes through one allocator hook (nb_set_allocator).
 *  - The library never prints, never exits, never aborts.
 */
#ifndef NABLA_H
#define NABLA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NB_VERSION_MAJOR 0
#define NB_VERSION_MINOR 2
#define NB_VERSION_PATCH 0
#define NB_VERSION_STRING "0.2.0"

/* nb_version: the library's version string, "MAJOR.MINOR.PATCH"; static storage. Compare it
 * with NB_VERSION_STRING to detect a header/library mismatch. */
const char *nb_version(void);

/* ---------------------------------------------------------------- status and errors */

/* Status codes. Values are stable (they are the CLI's exit codes too, see docs/CLI.md). */
enum nb_status {
    NB_OK = 0,
    NB_ERR_NOMEM = 1,   /* an allocation failed or a size overflowed */
    NB_ERR_ARG = 2,     /* a bad argument or option value */
    NB_ERR_SHAPE = 3,   /* tensor shapes do not fit the operator */
    NB_ERR_IO = 4,      /* a file could not be opened, read, written or synced */
    NB_ERR_FORMAT = 5,  /* a file's content is malformed */
    NB_ERR_NUMERIC = 6, /* a NaN or infinity where a finite number is required */
    NB_ERR_STATE = 7,   /* a call out of order (e.g. forward before compile) */
    NB_ERR_INTERRUPTED = 8 /* stopped on request (signal); state was saved */
};

/* nb_status_name: "NB_OK", "NB_ERR_NOMEM", ... for a status code; static storage. */
const char *nb_status_name(int status);

/* nb_errmsg: the message of the last failed call in this thread ("" when none). The pointer is
 * valid until the next nabla call in this thread. Messages never end with a newline. */
const char *nb_errmsg(void);

/* nb_error_clear: forget the current thread's message. */
void nb_error_clear(void);

/* ---------------------------------------------------------------- memory */

/* Allocator hook, as in Lua: fn(ud, NULL, n) allocates n bytes; fn(ud, p, n) with n > 0
 * reallocates p; fn(ud, p, 0) frees p and returns NULL. On failure it returns NULL and nabla
 * reports NB_ERR_NOMEM. All of nabla's heap memory goes through it. */
typedef void *(*nb_alloc_fn)(void *ud, void *ptr, size_t size);

/* nb_set_allocator: install fn (NULL restores the default built on malloc/realloc/free).
 * Not thread-safe: call it before any other nabla call, and free everything allocated with
 * one allocator before switching to another. */
void nb_set_allocator(nb_alloc_fn fn, void *ud);

/* nb_free: release a buffer nabla returned to the caller (e.g. from nb_graph_dot). NULL is
 * a no-op. */
void nb_free(void *ptr);

/* ---------------------------------------------------------------- random numbers */

/* A seeded generator (xoshiro256**, seeded through splitmix64). The stream depends only on
 * the seed: integers are exact and the float conversions use only IEEE-exact arithmetic plus
 * nabla's own logarithm, so every machine produces the same numbers. Plain data: copy it to
 * save it. */
typedef struct nb_rng {
    uint64_t s[4];
} nb_rng;

/* nb_rng_seed: start the stream for seed (any value, 0 included). */
void nb_rng_seed(nb_rng *rng, uint64_t seed);

/* nb_rng_u64: the next 64 random bits. */
uint64_t nb_rng_u64(nb_rng *rng);

/* nb_rng_below: a uniform integer in [0, n) without modulo bias; n == 0 gives 0. */
uint64_t nb_rng_below(nb_rng *rng, uint64_t n);

/* nb_rng_uniform: a uniform float in [0, 1), a multiple of 2^-24. */
float nb_rng_uniform(nb_rng *rng);

/* nb_rng_normal: a standard normal float (Marsaglia's polar method, no cached spare, so the
 * state is just the four words). */
float nb_rng_normal(nb_rng *rng);

/* ---------------------------------------------------------------- tensors */

#define NB_MAX_RANK 4

/* A borrowed view of a float32 row-major array: used for graph values and custom operators.
 * n is the element count (product of shape). data is not owned by the view. */
typedef struct nb_view {
    int rank;
    int64_t shape[NB_MAX_RANK];
    size_t n;
    float *data;
} nb_view;

/* An owned float32 row-major tensor of rank 0..NB_MAX_RANK. */
typedef struct nb_tensor nb_tensor;

/* nb_tensor_create: a zero-filled tensor of the given shape (rank 0 is a scalar; shape may be
 * NULL then). Every dimension must be >= 1. Fails with NB_ERR_SHAPE on a bad rank or dimension
 * and NB_ERR_NOMEM when the element count overflows or memory runs out. *out is set on success. */
int nb_tensor_create(int rank, const int64_t *shape, nb_tensor **out);

/* nb_tensor_free: release t; NULL is a no-op. */
void nb_tensor_free(nb_tensor *t);

/* nb_tensor_view: a view of t's shape and data, valid while t lives. */
nb_view nb_tensor_view(const nb_tensor *t);

/* nb_tensor_data: t's element array (numel floats), valid while t lives. */
float *nb_tensor_data(nb_tensor *t);

/* nb_tensor_numel: the number of elements of t. */
size_t nb_tensor_numel(const nb_tensor *t);

/* nb_tensor_fill: set every element of t to v. */
void nb_tensor_fill(nb_tensor *t, float v);

/* nb_tensor_copy_in / nb_tensor_copy_out: copy exactly n floats into / out of t; NB_ERR_SHAPE
 * when n differs from t's element count. */
int nb_tensor_copy_in(nb_tensor *t, const float *src, size_t n);
int nb_tensor_copy_out(const nb_tensor *t, float *dst, size_t n);

/* nb_tensor_rand_uniform: fill t with uniform values in [lo, hi) drawn from rng in row-major
 * order. nb_tensor_rand_normal: fill with mean + std * N(0,1). */
void nb_tensor_rand_uniform(nb_tensor *t, nb_rng *rng, float lo, float hi);
void nb_tensor_rand_normal(nb_tensor *t, nb_rng *rng, float mean, float std);

/* ---------------------------------------------------------------- graphs */

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
    NB_OP_DROPOUT = 39, NB_OP_BATCHNORM = 40,
    NB_OP_COUNT_ = 41 /* number of operator types; not an operator */
} nb_op_type;

/* Operator attributes; each operator reads only the fields its builder documents. */
typedef struct nb_attr {
    float alpha;        /* scale factor, leaky-ReLU slope, ELU alpha */
    int axis;           /* reduction / softmax axis; negative counts from the end */
    int k;              /* maxout pieces */
    int trans_a, trans_b; /* matmul transposes */
    int rank;           /* reshape target rank */
    int64_t shape[NB_MAX_RANK]; /* reshape target shape; NB_BATCH keeps the batch size */
    int kernel[2];      /* pooling window (height, width); conv takes it from the weights */
    int stride[2], pad[2], dilation[2]; /* conv / pooling, per axis (height, width) */
    float eps;          /* batch norm */
} nb_attr;

/* nb_graph_create: an empty graph. nb_graph_free releases it and everything it owns. */
int nb_graph_create(nb_graph **out);
void nb_graph_free(nb_graph *g);

/* nb_graph_status: the first error a builder latched in g (NB_OK when none); nb_errmsg() after
 * a failed builder names the operator and shapes. */
int nb_graph_status(const nb_graph *g);

/* nb_input: a value fed at every run, e.g. a batch of features (shape[0] may be NB_BATCH).
 * name is copied; it may be NULL. Inputs get no gradient unless nb_require_grad is called. */
nb_node nb_input(nb_graph *g, const char *name, int rank, const int64_t *shape);

/* nb_param: a trainable parameter (no NB_BATCH dimension). Its values live in the graph's flat
 * parameter buffer, zero until set (nb_graph_value / nb_graph_params); its gradient in the flat
 * gradient buffer, in creation order. */
nb_node nb_param(nb_graph *g, const char *name, int rank, const int64_t *shape);

/* nb_const: a constant with the given values (numel floats, copied; NULL means zeros). */
nb_node nb_const(nb_graph *g, const char *name, int rank, const int64_t *shape,
                 const float *values);

/* nb_require_grad: ask backward to compute d(loss)/d(input) for an input node (parameters
 * always get gradients). Must precede nb_graph_compile. */
int nb_require_grad(nb_graph *g, nb_node input);

/* nb_op: the generic builder behind every named one below: operator op over n_in inputs, with
 * attributes attr (NULL means all zero). Shapes are checked here; the node's shape is known
 * as soon as it returns (with the batch dimension at its current size). */
nb_node nb_op(nb_graph *g, nb_op_type op, int n_in, const nb_node *in, const nb_attr *attr);

/* Elementwise arithmetic with broadcasting: shapes are aligned on the right, and each pair of
 * dimensions must be equal or one of them 1 (so a scalar, or a bias row (1, C) / (C), combines
 * with an (N, C) matrix). Backward sums the gradient over broadcast dimensions. */
nb_node nb_add(nb_graph *g, nb_node a, nb_node b);
nb_node nb_sub(nb_graph *g, nb_node a, nb_node b);
nb_node nb_mul(nb_graph *g, nb_node a, nb_node b);
nb_node nb_div(nb_graph *g, nb_node a, nb_node b);

/* Elementwise unary operators: -a, s*a, e^a, ln a (a > 0), a^2, sqrt a (a > 0). */
nb_node nb_neg(nb_graph *g, nb_node a);
nb_node nb_scale(nb_graph *g, nb_node a, float s);
nb_node nb_exp(nb_graph *g, nb_node a);
nb_node nb_log(nb_graph *g, nb_node a);
nb_node nb_square(nb_graph *g, nb_node a);
nb_node nb_sqrt(nb_graph *g, nb_node a);

/* nb_matmul: C = op(A) op(B) for 2-D a and b (see the convention at the top). */
nb_node nb_matmul(nb_graph *g, nb_node a, nb_node b, int trans_a, int trans_b);

/* Reductions. nb_sum / nb_mean / nb_max reduce along axis (negative counts from the end) and
 * drop it; nb_sum_all / nb_mean_all give a scalar. nb_max routes the whole gradient to the
 * first arg-max ("the max gate routes the gradient"). */
nb_node nb_sum(nb_graph *g, nb_node a, int axis);
nb_node nb_mean(nb_graph *g, nb_node a, int axis);
nb_node nb_max(nb_graph *g, nb_node a, int axis);
nb_node nb_sum_all(nb_graph *g, nb_node a);
nb_node nb_mean_all(nb_graph *g, nb_node a);

/* nb_reshape: the same elements in a new shape (element counts must match; NB_BATCH as a
 * dimension stands for the batch size). nb_flatten: (N, d1, d2, ...) -> (N, d1*d2*...). */
nb_node nb_reshape(nb_graph *g, nb_node a, int rank, const int64_t *shape);
nb_node nb_flatten(nb_graph *g, nb_node a);

/* Activations, elementwise unless stated:
 *  sigmoid 1/(1+e^-x); tanh; relu max(0,x) (gradient 0 at 0); leaky_relu x or slope*x;
 *  elu x or alpha(e^x - 1); softplus ln(1+e^x) (stable for large |x|); identity;
 *  step: 1 if x > 0 else 0 - forward only: it is not differentiable (its derivative is 0
 *  almost everywhere and undefined at 0), so its backward passes no gradient, and the
 *  gradient check skips it;
 *  maxout: a (N, C*k) input gives (N, C): output j is the max over inputs j*k .. j*k+k-1
 *  (k consecutive pieces per unit), the gradient routed to the arg-max;
 *  softmax / log_softmax along axis (row max subtracted first, so no overflow). */
nb_node nb_sigmoid(nb_graph *g, nb_node a);
nb_node nb_tanh(nb_graph *g, nb_node a);
nb_node nb_relu(nb_graph *g, nb_node a);
nb_node nb_leaky_relu(nb_graph *g, nb_node a, float slope);
nb_node nb_elu(nb_graph *g, nb_node a, float alpha);
nb_node nb_softplus(nb_graph *g, nb_node a);
nb_node nb_identity(nb_graph *g, nb_node a);
nb_node nb_step(nb_graph *g, nb_node a);
nb_node nb_maxout(nb_graph *g, nb_node a, int k);
nb_node nb_softmax(nb_graph *g, nb_node a, int axis);
nb_node nb_log_softmax(nb_graph *g, nb_node a, int axis);

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
nb_node nb_softmax_ce(nb_graph *g, nb_node logits, nb_node target);
nb_node nb_bce_logits(nb_graph *g, nb_node logits, nb_node target);
nb_node nb_mse(nb_graph *g, nb_node pred, nb_node target);

/* Convolution and pooling over NCHW tensors (N samples, C channels, H x W).
 *  nb_conv2d(x (N, C, H, W), w (O, C, kh, kw)): the cross-correlation PyTorch's Conv2d computes,
 *    y (N, O, OH, OW) with OH = (H + 2 pad - dilation (kh - 1) - 1) / stride + 1 (likewise OW).
 *    stride, pad, dilation are (height, width) pairs; NULL means 1, 0, 1. nb_conv2d_bias adds
 *    b (O) to every output channel. Lowered to one matrix product per sample (im2col).
 *  nb_maxpool2d / nb_avgpool2d: windows of kernel (kh, kw), stride (NULL: the kernel), zero
 *    padding (NULL: 0; max pooling never picks padding, average pooling counts it as
 *    PyTorch's default does). Max pooling routes each gradient to its window's arg-max.
 *  nb_global_avgpool: (N, C, H, W) -> (N, C), the mean of each plane. */
nb_node nb_conv2d(nb_graph *g, nb_node x, nb_node w, const int stride[2], const int pad[2],
                  const int dilation[2]);
nb_node nb_conv2d_bias(nb_graph *g, nb_node x, nb_node w, nb_node b, const int stride[2],
                       const int pad[2], const int dilation[2]);
nb_node nb_maxpool2d(nb_graph *g, nb_node x, const int kernel[2], const int stride[2],
                     const int pad[2]);
nb_node nb_avgpool2d(nb_graph *g, nb_node x, const int kernel[2], const int stride[2],
                     const int pad[2]);
nb_node nb_global_avgpool(nb_graph *g, nb_node x);

/* nb_dropout: in training mode (nb_graph_set_training) each element is zeroed with
 * probability p (0 <= p < 1) and the survivors scaled by 1/(1-p) ("inverted" dropout, so
 * evaluation is the identity); masks come from the graph's generator (nb_graph_seed). */
nb_node nb_dropout(nb_graph *g, nb_node x, float p);

/* nb_batchnorm: per-channel normalisation of x (N, C) or (N, C, H, W) over all axes but 1:
 * y = gamma (x - mean) / sqrt(var + eps) + beta, gamma and beta (C) trainable. In training
 * mode mean and var are the batch's (biased variance) and the constants running_mean and
 * running_var (C) are updated in place: r = (1 - momentum) r + momentum batch_stat, with the
 * unbiased variance, as PyTorch's BatchNorm; in evaluation mode the running statistics are
 * used. momentum and eps are typically 0.1 and 1e-5. */
nb_node nb_batchnorm(nb_graph *g, nb_node x, nb_node gamma, nb_node beta, nb_node running_mean,
                     nb_node running_var, float momentum, float eps);

/* nb_graph_set_training: 1 (the default) for training behaviour of dropout and batch norm, 0
 * for evaluation. nb_graph_training reads it. nb_graph_seed reseeds the graph's generator
 * (used by dropout); nb_graph_rng gives it (borrowed) so checkpoints can save its state.
 * Memory: an evaluation-mode forward uses a forward-only layout of the graph's arena: no
 * intermediate gradients (nb_graph_grad gives NULL data for them until a backward) and
 * saved state only as scratch, so inference at a large batch needs a fraction of what
 * training at that batch does. A backward after it lays out the gradients and reruns that
 * forward first (same values: evaluation mode draws nothing and updates nothing). Values of
 * inputs survive the switch between layouts; other nodes' view pointers may move. */
void nb_graph_set_training(nb_graph *g, int training);
int nb_graph_training(const nb_graph *g);
void nb_graph_seed(nb_graph *g, uint64_t seed);
nb_rng *nb_graph_rng(nb_graph *g);

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
nb_node nb_custom(nb_graph *g, const nb_custom_op *op, int n_in, const nb_node *in);

/* nb_graph_compile: freeze g (no more nodes), work out which nodes need gradients, and plan and
 * allocate the memory of every value and gradient for the current batch size. Call once;
 * afterwards forward/backward run any number of times without allocating. */
int nb_graph_compile(nb_graph *g);

/* nb_graph_set_batch: set the batch size of every NB_BATCH input and re-infer all shapes.
 * Memory is re-planned; it is reallocated only when the new plan is larger than any before,
 * so alternating batch sizes allocate once. Values of inputs are undefined afterwards. */
int nb_graph_set_batch(nb_graph *g, int64_t batch);

/* nb_graph_batch: the current batch size (1 until set). */
int64_t nb_graph_batch(const nb_graph *g);

/* nb_graph_feed: copy n floats into input node x (setting the batch size from n first when x
 * has a batch dimension). NB_ERR_SHAPE when n does not fit x's shape. */
int nb_graph_feed(nb_graph *g, nb_node x, const float *data, size_t n);

/* nb_graph_forward: compute the value of target and of every node it depends on, in
 * topological order. Fails with NB_ERR_STATE before compile. */
int nb_graph_forward(nb_graph *g, nb_node target);

/* nb_graph_backward: with loss a scalar node whose value forward computed, ADD d(loss)/d(node)
 * into the gradient of every node that needs one (parameters, inputs given nb_require_grad,
 * and the nodes between). Gradients accumulate across calls: call nb_graph_zero_grad first. */
int nb_graph_backward(nb_graph *g, nb_node loss);

/* nb_graph_zero_grad: set the accumulating gradients to zero: every parameter's and every
 * input's given nb_require_grad. (Intermediate gradients are not accumulated: each backward
 * recomputes them from zero.) */
void nb_graph_zero_grad(nb_graph *g);

/* nb_graph_value / nb_graph_grad: a view of a node's value or gradient (grad data is NULL when
 * the node needs no gradient). Valid until the next compile/set_batch/free, and for nodes
 * other than inputs, parameters and constants until the next forward or backward that
 * switches between the training and evaluation layouts (nb_graph_set_training). Parameter
 * and constant values may be written through the view. */
int nb_graph_value(const nb_graph *g, nb_node node, nb_view *out);
int nb_graph_grad(const nb_graph *g, nb_node node, nb_view *out);

/* nb_graph_set_reuse: 1 lets evaluation-mode forwards recycle a node's value buffer once
 * every node reading it has run, so inference holds a few layers' activations at a time
 * instead of all of them. The value of a forward's target is always complete afterwards, as
 * are inputs, parameters, constants and nodes given nb_graph_keep; other nodes' values are
 * then undefined (they may hold later layers' data). 0 (the default) keeps every value.
 * Training-mode forwards never recycle. Either may be called before or after compile.
 * NB_ERR_ARG for a NULL graph or a node not in it. */
int nb_graph_set_reuse(nb_graph *g, int on);
int nb_graph_keep(nb_graph *g, nb_node node);

/* nb_graph_params / nb_graph_grads: the flat parameter and gradient buffers (all parameters in
 * creation order); *n receives their length. Valid until nb_graph_free. */
float *nb_graph_params(nb_graph *g, size_t *n);
float *nb_graph_grads(nb_graph *g, size_t *n);

/* Introspection: node count, a node's operator, name (NULL if none), inputs, and the node named
 * name (a negative status when absent); nb_op_name gives an operator's table name. */
int nb_graph_node_count(const nb_graph *g);
nb_op_type nb_graph_node_op(const nb_graph *g, nb_node node);
const char *nb_graph_node_name(const nb_graph *g, nb_node node);
int nb_graph_node_inputs(const nb_graph *g, nb_node node, const nb_node **in);
nb_node nb_graph_find(const nb_graph *g, const char *name);
/* nb_graph_node_shape: copy node's current shape (batch dimension at its current size) into
 * shape and return its rank, or a negative status for a bad node. Works before compile. */
int nb_graph_node_shape(const nb_graph *g, nb_node node, int64_t shape[NB_MAX_RANK]);
const char *nb_op_name(nb_op_type op);

/* nb_graph_dot: the graph as Graphviz DOT text, each node labelled with its operator, name and
 * shape and, for tensors of at most max_show elements, its value and gradient as last computed.
 * *out receives a NUL-terminated string to release with nb_free. nb_graph_save_dot writes the
 * same text to path (atomically). */
int nb_graph_dot(const nb_graph *g, size_t max_show, char **out);
int nb_graph_save_dot(const nb_graph *g, size_t max_show, const char *path);

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
int nb_gradcheck(nb_graph *g, nb_node loss, float eps, nb_gradcheck_entry *out, int cap,
                 int *n_out);

/* ================================================================ data (src/data) */
/* @@DATA@@ (section owned by the data layer) */

/* What a dataset's targets mean; values are stable (they are written into model files as
 * names, and the CLI's --task takes the names). */
typedef enum nb_task {
    NB_TASK_CLASSIFY = 0,   /* one class index 0..n_classes-1 per row (softmax output) */
    NB_TASK_BINARY = 1,     /* one 0/1 value per row (one sigmoid output) */
    NB_TASK_MULTILABEL = 2, /* k independent 0/1 values per row (k sigmoid outputs) */
    NB_TASK_REGRESS = 3     /* k real values per row */
} nb_task;

/* nb_task_parse: "classify", "binary", "multilabel" or "regress" into *out; NB_ERR_ARG (naming
 * the text) otherwise. nb_task_name: the name of a task, static storage ("?" if invalid). */
int nb_task_parse(const char *name, nb_task *out);
const char *nb_task_name(nb_task task);

/* A dataset in memory, an opaque handle owned as a whole by whoever got it from
 * nb_dataset_create_from / nb_dataset_load / nb_dataset_split and released with
 * nb_dataset_free. n rows (samples) of n_features features each, and per row n_targets
 * targets, or none (n_targets 0: unlabeled, prediction data). How the features are stored is
 * private (floats, or bytes for nb_data_opts.compact): rows are read as floats through
 * nb_dataset_rows and nb_dataset_gather. Datasets are not scaled by loading: see
 * nb_preproc_apply_scaling. */
typedef struct nb_dataset nb_dataset;

/* nb_dataset_create_from: a new dataset in *out holding copies of x (n * n_features floats,
 * row-major, one sample per row) and y (n * n_targets floats; NULL exactly when n_targets is
 * 0), with sample shape (n_features) (see nb_dataset_set_sample_shape) and no class names.
 * task and n_classes say what the targets mean: CLASSIFY, 1 target, the class index
 * 0..n_classes-1 as a float; BINARY, 1 target, 0 or 1, n_classes 2; MULTILABEL, k targets
 * each 0 or 1, n_classes k; REGRESS, k real values, n_classes 0. NB_ERR_ARG on a size < 1
 * (n_targets < 0), a NULL x, a y that does not match n_targets, or a task and class count
 * that do not fit; NB_ERR_NOMEM on overflow or when memory runs out; *out is NULL on
 * failure. */
int nb_dataset_create_from(const float *x, int64_t n, int64_t n_features, const float *y,
                           int64_t n_targets, nb_task task, int n_classes, nb_dataset **out);

/* Getters, valid while ds lives:
 *  nb_dataset_n_rows, nb_dataset_n_features, nb_dataset_n_targets: the sizes above.
 *  nb_dataset_sample_rank / nb_dataset_sample_shape: a sample's shape before flattening
 *    (sample_rank dimensions, borrowed, their product n_features): (n_features) for CSV and C
 *    data, (1, rows, cols) for IDX images ((c, rows, cols) for 4-D IDX files).
 *  nb_dataset_targets: the n_rows * n_targets targets, borrowed (NULL when unlabeled).
 *  nb_dataset_task, nb_dataset_n_classes: what the targets mean (nb_dataset_create_from).
 *  nb_dataset_class_name: the name of class i (MULTILABEL: of target i), borrowed; NULL when
 *    i is out of range or the dataset has no names (C data: names are then the indices).
 *    Loaded datasets carry the schema's classes even when unlabeled, so predictions can be
 *    named. */
int64_t nb_dataset_n_rows(const nb_dataset *ds);
int64_t nb_dataset_n_features(const nb_dataset *ds);
int64_t nb_dataset_n_targets(const nb_dataset *ds);
int nb_dataset_sample_rank(const nb_dataset *ds);
const int64_t *nb_dataset_sample_shape(const nb_dataset *ds);
const float *nb_dataset_targets(const nb_dataset *ds);
nb_task nb_dataset_task(const nb_dataset *ds);
int nb_dataset_n_classes(const nb_dataset *ds);
const char *nb_dataset_class_name(const nb_dataset *ds, int i);

/* nb_dataset_set_sample_shape: give the rows of ds a sample shape (e.g. (1, 28, 28) for
 * images stored one per row): rank 1..3 positive dimensions whose product is n_features.
 * NB_ERR_ARG otherwise (ds unchanged). */
int nb_dataset_set_sample_shape(nb_dataset *ds, int rank, const int64_t *shape);

/* nb_dataset_free: release ds, its arrays and class names; NULL is a no-op. */
void nb_dataset_free(nb_dataset *ds);

/* nb_dataset_split: split all's rows into a training and a validation set, both new datasets
 * (deep copies; all is untouched). The row indices are shuffled by Fisher-Yates with an nb_rng
 * seeded with seed; the first round(val_fraction * n) go to *val, the rest to *train, and
 * each part keeps the original row order. The same seed gives the same split on every
 * machine. NB_ERR_ARG when val_fraction is not in (0, 1) or a part would be empty;
 * NB_ERR_NOMEM. *train and *val are NULL on failure. */
int nb_dataset_split(const nb_dataset *all, double val_fraction, uint64_t seed,
                     nb_dataset **train, nb_dataset **val);

/* nb_shuffle_indices: permute idx[0..n) uniformly at random (Fisher-Yates from the end, each
 * swap partner drawn with nb_rng_below), advancing rng. n <= 1 leaves idx as it is. */
void nb_shuffle_indices(nb_rng *rng, int64_t *idx, int64_t n);

/* nb_dataset_truncate: keep only the first n rows of ds (1 <= n <= its row count); the
 * memory is not reallocated. NB_ERR_ARG otherwise. */
int nb_dataset_truncate(nb_dataset *ds, int64_t n);

/* nb_dataset_rows: rows first .. first+count-1 of ds as floats into x_out (count * n_features)
 * and, when y_out is not NULL, their targets into y_out: the contiguous case of
 * nb_dataset_gather, for float and compact datasets alike. NB_ERR_ARG outside 0..n-1. */
int nb_dataset_rows(const nb_dataset *ds, int64_t first, int64_t count, float *x_out,
                    float *y_out);

/* nb_dataset_gather: copy the rows rows[0..count) of ds, in that order, into x_out
 * (count * n_features floats) and, when y_out is not NULL, y_out (count * n_targets floats),
 * e.g. to build a mini-batch. NB_ERR_ARG (naming the position) when a row is outside 0..n-1,
 * or when y_out is given but ds has no targets. */
int nb_dataset_gather(const nb_dataset *ds, const int64_t *rows, int64_t count, float *x_out,
                      float *y_out);

/* nb_dataset_prefetch: a speed hint that changes no result: start moving rows rows[0..count)
 * of ds (their stored features and targets) towards the CPU cache, so that a later gather of
 * them does not wait on memory - e.g. the next mini-batch while this one computes. Each call
 * issues at most `lines` 64-byte cache-line loads, resuming where the last call with the same
 * *cursor stopped (set *cursor to 0 for a new set of rows); over all calls at most the first
 * 256 KiB of the rows are fetched, so a large batch does not flush the caller's own data.
 * Rows outside 0..n-1 are skipped (the gather reports them). A no-op on compilers without a
 * prefetch instruction. */
void nb_dataset_prefetch(const nb_dataset *ds, const int64_t *rows, int64_t count, int lines,
                         int64_t *cursor);

/* Feature scaling modes: none; minmax maps each feature's training range onto [0, 1];
 * standard subtracts the training mean and divides by the training (population) standard
 * deviation. */
typedef enum nb_scaling { NB_SCALE_NONE = 0, NB_SCALE_MINMAX = 1, NB_SCALE_STANDARD = 2 } nb_scaling;

/* nb_scale_parse: "none", "minmax" or "standard" into *out; NB_ERR_ARG otherwise.
 * nb_scale_name: the name of a mode, static storage ("?" if invalid). */
int nb_scale_parse(const char *name, nb_scaling *out);
const char *nb_scale_name(nb_scaling mode);

/* Everything needed to turn raw rows into network input identically at training and
 * prediction time: the data's schema (for CSV: column names, which columns are numeric or
 * categorical with each categorical column's vocabulary, the label column(s), the class names
 * and how label cells map to indices; for IDX: the image shape and element type) and the
 * feature scaling fitted on the training split. A fresh one holds no schema: the first
 * nb_dataset_load through it learns one; later loads enforce it. Stored in model files as
 * JSON (nb_preproc_to_json). */
typedef struct nb_preproc nb_preproc;

/* nb_preproc_create: an empty preprocessing state (no schema, scaling none) in *out.
 * NB_ERR_NOMEM. nb_preproc_free: release pp; NULL is a no-op. */
int nb_preproc_create(nb_preproc **out);
void nb_preproc_free(nb_preproc *pp);

/* Getters, valid while pp lives and until it learns a schema:
 *  nb_preproc_has_schema: 1 once a schema was learned or read from JSON, else 0.
 *  nb_preproc_task: the schema's task (NB_TASK_CLASSIFY when none).
 *  nb_preproc_n_features: features per row of x the schema produces (0 when none).
 *  nb_preproc_n_targets: y values per labeled row (1 for classify/binary, k for multilabel
 *    and regression; 0 when none).
 *  nb_preproc_n_classes / nb_preproc_class_name: the classes (multilabel: the labels); the name
 *    is borrowed, NULL when i is out of range. */
int nb_preproc_has_schema(const nb_preproc *pp);
nb_task nb_preproc_task(const nb_preproc *pp);
int64_t nb_preproc_n_features(const nb_preproc *pp);
int64_t nb_preproc_n_targets(const nb_preproc *pp);
int nb_preproc_n_classes(const nb_preproc *pp);
const char *nb_preproc_class_name(const nb_preproc *pp, int i);

/* nb_preproc_set_sample_shape: give CSV rows a sample shape (e.g. (1, 28, 28) for images
 * stored one per row), kept in the schema so every later load (validation, test, prediction)
 * produces it; its product must be the schema's feature count. Datasets loaded before keep
 * their shape: set theirs too. NB_ERR_STATE without a schema, NB_ERR_ARG otherwise. */
int nb_preproc_set_sample_shape(nb_preproc *pp, int rank, const int64_t *shape);

/* nb_preproc_fit_scaling: fit mode's per-feature offset and scale on train (the TRAINING split
 * only, so validation and test data are transformed with statistics they did not influence),
 * replacing any earlier fit. Features become x' = (x - offset) / scale: minmax offset = min,
 * scale = max - min; standard offset = mean, scale = standard deviation; a constant feature
 * gets scale 1 (no division by zero); one-hot columns of CSV data are left as 0/1. For IDX
 * images of unsigned bytes, minmax is the fixed offset 0, scale 255, independent of the data,
 * so pixels map exactly onto [0, 1]. Statistics are computed in double. NB_ERR_ARG when train
 * is empty or its feature count differs from pp's schema; NB_ERR_NUMERIC (naming row and
 * feature) on a NaN or infinite value; NB_ERR_NOMEM. On error pp's scaling is unchanged. */
int nb_preproc_fit_scaling(nb_preproc *pp, nb_scaling mode, const nb_dataset *train);

/* nb_preproc_apply_scaling: transform the features of ds in place with pp's fitted scaling (a
 * no-op for mode none). Call it once per dataset: a second call scales again (compact data
 * refuses it with NB_ERR_STATE). NB_ERR_ARG when the feature counts differ; NB_ERR_NUMERIC
 * (naming row and feature) when a result is not finite, in which case ds is partly
 * transformed. */
int nb_preproc_apply_scaling(const nb_preproc *pp, nb_dataset *ds);

/* nb_preproc_to_json: pp as a compact JSON object (format in docs/DATA.md) in *json,
 * NUL-terminated, released with nb_free. NB_ERR_NOMEM.
 * nb_preproc_from_json: a new preprocessing state read from JSON text, validated completely
 * (NB_ERR_FORMAT naming the field, e.g. "preproc: csv.columns[2].values: expected an array of
 * strings"); NB_ERR_NOMEM. *out is NULL on failure. */
int nb_preproc_to_json(const nb_preproc *pp, char **json);
int nb_preproc_from_json(const char *json, nb_preproc **out);

/* Which pair of the standard four IDX files a directory spec selects. */
typedef enum nb_split { NB_SPLIT_TRAIN = 0, NB_SPLIT_TEST = 1 } nb_split;

/* Options of nb_dataset_load; start from nb_data_opts_default() and change fields. */
typedef struct nb_data_opts {
    nb_task task;            /* CSV: meaning of the label column(s); default classify */
    const char *label;       /* CSV label column(s): a header name, a 0-based index as text
                                ("4"; "-1" is the last column), or for multilabel/regress a
                                comma-separated list "a,b,c"; NULL (default): the last column */
    int header;              /* CSV: 1 the first row is a header, 0 it is not, -1 (default)
                                auto-detect (docs/DATA.md) */
    nb_split split;          /* directory specs: NB_SPLIT_TRAIN (default) or NB_SPLIT_TEST */
    char delimiter;          /* CSV field separator; default ',' */
    const char *class_names; /* comma-separated names of integer class labels 0..K-1 (IDX or
                                CSV), used when a schema is learned; NULL: "0".."K-1" */
    size_t max_bytes;        /* largest file accepted, after decompression; default 1 GiB */
    int compact;             /* IDX images of unsigned bytes stay bytes: a quarter of the
                                memory; default 0 (floats) */
} nb_data_opts;

/* nb_data_opts_default: task classify, label NULL (last column), header -1 (auto), split
 * train, delimiter ',', class_names NULL, max_bytes 1 GiB. */
nb_data_opts nb_data_opts_default(void);

/* nb_dataset_load: load the dataset named by spec (docs/DATA.md):
 *  "PATH.csv" or "PATH.csv.gz" (or "csv:PATH" for any name): a CSV file;
 *  "idx:IMAGES,LABELS": an IDX image file and its label file (either may end in .gz);
 *  "idx:IMAGES" naming an existing file: images only, unlabeled;
 *  "idx:PREFIX": PREFIX-images-idx3-ubyte[.gz] and PREFIX-labels-idx1-ubyte[.gz];
 *  a directory DIR: DIR/train-* (opts->split NB_SPLIT_TRAIN) or DIR/t10k-* (NB_SPLIT_TEST)
 *    in the PREFIX form, as Fashion-MNIST and MNIST are distributed.
 * opts may be NULL (defaults). pp may be NULL (nothing is learned or enforced). When pp holds
 * no schema, the data's schema is learned into pp (training data; opts->task, label, class
 * names apply); when it holds one, the data must follow it: same columns (by name when both
 * have a header, else by position), known categories and classes; a CSV may lack all its
 * label columns (prediction data: no targets). On success *out is a new dataset (not scaled).
 * Errors: NB_ERR_IO (cannot open or read), NB_ERR_FORMAT (malformed content, or content that
 * does not fit pp's schema: unknown columns, categories or classes, images of another shape;
 * the message names the file and line and column, or the IDX field), NB_ERR_ARG (a bad spec
 * or option, CSV data for an IDX schema or the reverse), NB_ERR_NOMEM. On error pp is
 * unchanged and *out is NULL. */
int nb_dataset_load(const char *spec, const nb_data_opts *opts, nb_preproc *pp,
                    nb_dataset **out);

/* ================================================================ model files (src/io) */
/* @@IO@@ (section owned by the io layer) */

/* safetensors model files (https://github.com/huggingface/safetensors): an 8-byte little-endian
 * header length N, N bytes of UTF-8 JSON mapping each tensor name to {"dtype", "shape",
 * "data_offsets": [begin, end]} (offsets into the byte buffer after the header) plus an
 * optional "__metadata__" object of string -> string, then the tensors' raw little-endian bytes.
 * nabla writes F32 and reads F32, F64, F16 and BF16 (converted to float32). */

/* A loaded safetensors file: tensor names, float32 data and metadata, all owned by it. */
typedef struct nb_st nb_st;

/* The largest safetensors header (JSON) nabla reads or writes, in bytes. Parsing JSON costs up
 * to ~40 bytes of tree per byte of text, so this bounds a hostile header's memory (~320 MiB);
 * real headers take ~100 bytes per tensor plus the metadata (a model's preprocessing: ~25
 * bytes per scaled feature), a few KB to a few MB. */
#define NB_ST_MAX_HEADER 8388608

/* nb_st_load: read and fully validate the safetensors file at path (at most 4 GiB; header at
 * most NB_ST_MAX_HEADER bytes) into *out (NULL on failure; release with nb_st_free). Rejected with
 * NB_ERR_FORMAT and a message starting with path: a short or truncated file, a header length
 * beyond the file, JSON that is malformed or nested deeper than 8, a dtype other than F32/F64/
 * F16/BF16 (naming the tensor and dtype), a shape entry that is not an integer in 0..2^53 or
 * rank > NB_MAX_RANK, data_offsets whose span differs from numel * dtype size or that lie
 * outside the data, tensors that leave holes in, overlap, or fail to cover the data buffer,
 * duplicate names, missing or unknown fields of a tensor entry, and metadata values that are
 * not strings. NB_ERR_IO when the file cannot be read; NB_ERR_NOMEM. Non-finite values are
 * kept as they are. */
int nb_st_load(const char *path, nb_st **out);

/* nb_st_free: release st and everything borrowed from it; NULL is a no-op. */
void nb_st_free(nb_st *st);

/* nb_st_count: the number of tensors in st, in header (document) order. */
int nb_st_count(const nb_st *st);

/* nb_st_tensor: tensor i (0 <= i < nb_st_count) of st: *name (may be NULL) receives its name,
 * *view (may be NULL) its shape and float32 data. Both are borrowed from st and valid until
 * nb_st_free; the data may be written through the view. NB_ERR_ARG when i is out of range. */
int nb_st_tensor(const nb_st *st, int i, const char **name, nb_view *view);

/* nb_st_find: the view (borrowed as in nb_st_tensor) of the tensor named name; NB_ERR_ARG
 * "<path>: no tensor named 'name'" when there is none. */
int nb_st_find(const nb_st *st, const char *name, nb_view *view);

/* nb_st_meta: the "__metadata__" value of key, or NULL when absent; borrowed from st until
 * nb_st_free. */
const char *nb_st_meta(const nb_st *st, const char *key);

/* nb_st_meta_count / nb_st_meta_at: iterate over the metadata in header order. *key and
 * *value (each may be NULL) receive borrowed strings valid until nb_st_free; NB_ERR_ARG when i
 * is out of range. */
int nb_st_meta_count(const nb_st *st);
int nb_st_meta_at(const nb_st *st, int i, const char **key, const char **value);

/* A tensor to save: its name (non-empty UTF-8, unique, not "__metadata__") and a view of its
 * float32 data (view.n must equal the product of view.shape; dimensions may be 0). */
typedef struct nb_st_entry {
    const char *name;
    nb_view view;
} nb_st_entry;

/* nb_st_save: write the n tensors (copied, in the given order, as little-endian F32, with no
 * holes between them) and n_meta metadata pairs meta_keys[i] -> meta_values[i] (UTF-8; both
 * arrays may be NULL when n_meta is 0) to path as a safetensors file whose header is padded
 * with spaces to a multiple of 8 bytes. The file is written atomically (temp file, fsync,
 * rename): on failure the previous file at path is unchanged. NB_ERR_ARG for a bad entry
 * (missing, empty or duplicate name, bad rank, n not matching the shape, NULL data) or bad
 * metadata, or a header longer than NB_ST_MAX_HEADER (no reader of nabla's would accept the
 * file), NB_ERR_IO when writing fails, NB_ERR_NOMEM. */
int nb_st_save(const char *path, const nb_st_entry *tensors, int n,
               const char *const *meta_keys, const char *const *meta_values, int n_meta);

/* ================================================================ optimizers (src/optim) */
/* @@OPTIM@@ (section owned by the optim layer) */

/* Optimizers update the flat parameter buffer (nb_graph_params) from the flat gradient buffer
 * (nb_graph_grads) in one loop; their state lives in parallel flat arrays of the same length,
 * so a checkpoint is a few single writes. Every rule follows PyTorch's (torch.optim), in
 * float32 with the same operation order, so runs match PyTorch to about 1e-6 relative. */

/* Optimizer kinds. Values are explicit and append-only: they are written into files. */
typedef enum nb_optim_type {
    NB_OPTIM_SGD = 0, NB_OPTIM_MOMENTUM = 1, NB_OPTIM_NESTEROV = 2,
    NB_OPTIM_ADAM = 3, NB_OPTIM_ADAMW = 4, NB_OPTIM_RMSPROP = 5
} nb_optim_type;

/* Learning-rate schedules (explicit, append-only values). */
typedef enum nb_schedule {
    NB_SCHED_CONSTANT = 0, NB_SCHED_STEP = 1, NB_SCHED_COSINE = 2
} nb_schedule;

/* Optimizer settings. Start from nb_optim_config_default, then change fields. Error messages
 * name a field as nb_optim_config.<field> (e.g. nb_optim_config.lr).
 *  type          the update rule.
 *  lr            base learning rate, >= 0.
 *  momentum      tau in [0, 1): MOMENTUM and NESTEROV (NESTEROV needs > 0), and
 *                RMSPROP's optional momentum; must be 0 for SGD, ADAM and ADAMW.
 *  l2            L2 penalty alpha >= 0, added to the gradient (g += l2 * w) for every
 *                type: PyTorch's `weight_decay` argument of SGD, Adam and RMSprop.
 *  weight_decay  ADAMW's decoupled decay w -= lr * weight_decay * w, >= 0;
 *                must be 0 for the other types (use l2).
 *  beta1, beta2  ADAM/ADAMW moment decay rates in [0, 1).
 *  eps           >= 0, added to the denominator of ADAM, ADAMW and RMSPROP.
 *  rms_alpha     RMSPROP's square-average decay in [0, 1).
 *  clip_norm     > 0 clips the gradient by its global L2 norm (0: off).
 *  schedule      how nb_optim_set_epoch changes the learning rate.
 *  step_epochs   STEP: decay every step_epochs epochs (>= 1; 0 = unset).
 *  gamma         STEP: decay factor in (0, 1].
 *  total_epochs  COSINE: epochs of the half cosine (>= 1; 0 = unset).
 *  min_lr        COSINE: the final learning rate, in [0, lr].
 * Every float must be finite (NaN and infinity are rejected). */
typedef struct nb_optim_config {
    nb_optim_type type;
    float lr;
    float momentum;
    float l2;
    float weight_decay;
    float beta1, beta2, eps;
    float rms_alpha;
    float clip_norm;
    nb_schedule schedule;
    int step_epochs;
    float gamma;
    int total_epochs;
    float min_lr;
} nb_optim_config;

/* An optimizer: its settings, step count, scheduled learning rate and state arrays. */
typedef struct nb_optim nb_optim;

/* nb_optim_config_default: PyTorch's defaults for type, by value: lr 0.01 for SGD,
 * MOMENTUM and NESTEROV, 1e-3 for ADAM, ADAMW and RMSPROP; momentum 0.9 for MOMENTUM and
 * NESTEROV, else 0; weight_decay 0.01 for ADAMW, else 0; and for every type beta1 0.9,
 * beta2 0.999, eps 1e-8, rms_alpha 0.99, l2 0, clip_norm 0, a constant schedule, gamma 0.1,
 * step_epochs, total_epochs and min_lr 0. An unknown type is stored as given (create rejects
 * it). */
nb_optim_config nb_optim_config_default(nb_optim_type type);

/* nb_optim_config_check: validate every field of *cfg as nb_optim_create does, without
 * allocating. NB_OK, or NB_ERR_ARG with a message naming the field and value, e.g.
 * "optimizer: nb_optim_config.momentum 1.5 is not in [0, 1)". */
int nb_optim_config_check(const nb_optim_config *cfg);

/* nb_optim_create: an optimizer for n_params parameters (0 allowed), settings copied from
 * *cfg, step count 0, epoch 0 (learning rate cfg->lr), state arrays zero. *out receives it,
 * to release with nb_optim_free. NB_ERR_ARG on a bad setting (see nb_optim_config_check) or a
 * NULL pointer; NB_ERR_NOMEM when the state does not fit in memory. */
int nb_optim_create(const nb_optim_config *cfg, size_t n_params, nb_optim **out);

/* nb_optim_free: release o and its state arrays; NULL is a no-op. */
void nb_optim_free(nb_optim *o);

/* nb_optim_step: one update of params (n floats, in/out) from grads (n floats, read only),
 * n equal to n_params. In order: (1) the global gradient L2 norm, accumulated in double
 * when clip_norm > 0 (in a fixed order, independent of the thread count), else in float (it
 * is then only reported; a sum that overflows float is redone in double); a NaN or infinite
 * norm fails with NB_ERR_NUMERIC ("non-finite gradient (norm = nan) at element 3") and
 * leaves params, state and step count untouched; (2) when
 * clip_norm > 0, gradients are scaled by clip_norm / (norm + 1e-6) if that is < 1 (PyTorch's
 * clip_grad_norm_; grads itself is not written); (3) g += l2 * w; (4) the rule, with the
 * learning rate of the current epoch:
 *  SGD       w -= lr g
 *  MOMENTUM  v = tau v + g; w -= lr v           (PyTorch SGD(momentum=tau); v starts at 0,
 *                                                so the first step gives v = g, as PyTorch)
 *  NESTEROV  v = tau v + g; w -= lr (g + tau v) (PyTorch SGD(nesterov=True))
 *  ADAM      t = steps + 1; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 *            w -= lr/(1-b1^t) m / (sqrt(v)/sqrt(1-b2^t) + eps)   (PyTorch Adam)
 *  ADAMW     w *= 1 - lr weight_decay, then the ADAM rule (PyTorch AdamW)
 *  RMSPROP   s = alpha s + (1-alpha) g^2; w -= lr g / (sqrt(s) + eps); with momentum tau > 0:
 *            b = tau b + g / (sqrt(s) + eps); w -= lr b   (PyTorch RMSprop)
 * and (5) the step count goes up by one. NB_ERR_SHAPE when n != n_params; NB_ERR_ARG on a
 * NULL pointer (params and grads may be NULL when n is 0); NB_ERR_STATE if the step count
 * would pass INT64_MAX. Never allocates. */
int nb_optim_step(nb_optim *o, float *params, const float *grads, size_t n);

/* nb_optim_grad_norm: the global gradient norm (before clipping) seen by the last call of
 * nb_optim_step, successful or not (NaN or infinity after a non-finite gradient); 0 before
 * the first call. For logging; without clipping it was summed in float (about 1e-6
 * relative), with clipping in double. */
double nb_optim_grad_norm(const nb_optim *o);

/* nb_optim_set_epoch: select the learning rate for epoch (0-based), from the base rate lr:
 *  CONSTANT  lr
 *  STEP      lr * gamma^floor(epoch / step_epochs)           (PyTorch StepLR)
 *  COSINE    min_lr + (lr - min_lr) (1 + cos(pi epoch / total_epochs)) / 2 for
 *            epoch <= total_epochs, min_lr after (PyTorch CosineAnnealingLR's closed form,
 *            held at its end rather than rising again).
 * Computed in double from the epoch alone, so restoring a checkpoint only needs the epoch.
 * NB_ERR_ARG when epoch < 0 (the rate is then unchanged). */
int nb_optim_set_epoch(nb_optim *o, int epoch);

/* nb_optim_lr: the learning rate the next step uses. */
float nb_optim_lr(const nb_optim *o);

/* nb_optim_config_get: o's settings; borrowed, valid while o lives. */
const nb_optim_config *nb_optim_config_get(const nb_optim *o);

/* nb_optim_steps: the number of successful steps so far (ADAM's bias correction uses it). */
int64_t nb_optim_steps(const nb_optim *o);

/* nb_optim_set_steps: set the step count, to restore a checkpoint together with the state
 * arrays. NB_ERR_ARG when steps < 0. */
int nb_optim_set_steps(nb_optim *o, int64_t steps);

/* nb_optim_state_count: how many state arrays o has: SGD 0; MOMENTUM, NESTEROV 1 ("momentum");
 * ADAM, ADAMW 2 ("adam.m", "adam.v"); RMSPROP 1 ("rmsprop.square_avg") or, with momentum > 0,
 * 2 (then also "rmsprop.momentum"). */
int nb_optim_state_count(const nb_optim *o);

/* nb_optim_state: the i-th state array (0 <= i < nb_optim_state_count): *name its static name,
 * *data its n_params floats (read and written in place to save or restore a checkpoint), *n
 * its length. The arrays are contiguous, in index order: state i starts at i * n_params
 * floats from state 0. Borrowed; valid while o lives. All state is zero at step 0, so a
 * zero-filled state with steps 0 is a fresh optimizer. NB_ERR_ARG when i is out of range or a
 * pointer is NULL (outputs are then untouched). */
int nb_optim_state(nb_optim *o, int i, const char **name, float **data, size_t *n);

/* nb_optim_type_parse / nb_schedule_parse: "sgd", "momentum", "nesterov", "adam", "adamw",
 * "rmsprop" / "constant", "step", "cosine" (exact, lower case) into *out. NB_ERR_ARG naming
 * the string and the choices otherwise (*out untouched). nb_optim_type_name /
 * nb_schedule_name: the same names back, static storage; "unknown" for other values. */
int nb_optim_type_parse(const char *s, nb_optim_type *out);
int nb_schedule_parse(const char *s, nb_schedule *out);
const char *nb_optim_type_name(nb_optim_type type);
const char *nb_schedule_name(nb_schedule schedule);

/* ================================================================ networks (src/nn) */
/* @@NN@@ (section owned by the nn layer) */

/* nb_set_threads: the number of threads nabla's kernels run on, the caller included; 0 or less
 * means 1, more than 64 means 64. Until it is called, 1. Worker threads are started here (never
 * during a training step), sleep between jobs and are joined by the next call with another
 * count, so nb_set_threads(1) leaves none running; if the system refuses a thread, fewer run.
 * Threads split the outputs of a kernel (rows or columns of a matrix product, samples of a
 * convolution, planes of a pooling), never a sum: each number is computed by one thread in
 * the same order, so results are byte-identical for ANY thread count. That holds wherever
 * nabla's own matrix kernels run: x86-64 CPUs with AVX2 or AVX-512, and every CPU in builds
 * without BLAS; a BLAS build on other CPUs hands products to OpenBLAS, given n threads, whose
 * last bits may then depend on n. Calls from several application threads take turns. */
void nb_set_threads(int n);

/* A sequential model: layers applied in order, as PyTorch's nn.Sequential. Layers are
 * sub-graphs of operators; a model owns its compiled graph, whose flat parameter buffer holds
 * every weight (in layer order, weight before bias). */
typedef struct nb_model nb_model;

/* Layer kinds; values are stable. Activation layers carry an operator (NB_OP_RELU, ...). */
typedef enum nb_layer_type {
    NB_LAYER_DENSE = 0,      /* y = x W^T + b, W stored (out, in) as PyTorch's Linear */
    NB_LAYER_ACTIVATION = 1, /* an elementwise activation, softmax, log-softmax or maxout */
    NB_LAYER_FLATTEN = 2,    /* (N, d1, d2, ...) -> (N, d1*d2*...) */
    NB_LAYER_CONV2D = 3,     /* W (out_c, in_c, kh, kw) and b (out_c), as PyTorch's Conv2d */
    NB_LAYER_MAXPOOL = 4,    /* max pooling (MaxPool2d) */
    NB_LAYER_AVGPOOL = 5,    /* average pooling (AvgPool2d) */
    NB_LAYER_GLOBAL_AVGPOOL = 6, /* (N, C, H, W) -> (N, C) */
    NB_LAYER_DROPOUT = 7,    /* inverted dropout, active in training only */
    NB_LAYER_BATCHNORM = 8   /* BatchNorm1d after dense / BatchNorm2d after conv */
} nb_layer_type;

/* Weight initialisers; all draw from a seeded nb_rng in parameter order.
 *  TORCH: PyTorch's default for Linear: W and b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
 *  XAVIER_UNIFORM: U(-a, a), a = sqrt(6 / (fan_in + fan_out)); XAVIER_NORMAL: N(0, 2/(in+out)).
 *  HE_UNIFORM: U(-a, a), a = sqrt(6 / fan_in); HE_NORMAL: N(0, 2/fan_in).
 *  UNIFORM: U(-scale, scale); NORMAL: N(0, scale^2).
 * Biases are zero except with TORCH. */
typedef enum nb_init {
    NB_INIT_TORCH = 0, NB_INIT_XAVIER_UNIFORM = 1, NB_INIT_XAVIER_NORMAL = 2,
    NB_INIT_HE_UNIFORM = 3, NB_INIT_HE_NORMAL = 4, NB_INIT_UNIFORM = 5, NB_INIT_NORMAL = 6
} nb_init;

/* nb_init_parse: "torch", "xavier", "xavier-normal", "he", "he-normal", "uniform", "normal";
 * NB_ERR_ARG otherwise. */
int nb_init_parse(const char *name, nb_init *out);

/* nb_model_create: an empty model for task (the loss and output activation follow the task:
 * classify -> softmax cross-entropy, binary/multilabel -> one sigmoid per output with binary
 * cross-entropy, regress -> linear output with the halved mean squared error).
 * nb_model_free releases the model and its graph; NULL is a no-op. */
int nb_model_create(nb_task task, nb_model **out);
void nb_model_free(nb_model *m);

/* Adding layers (before nb_model_build): nb_model_add_dense (units >= 1, bias 0/1);
 * nb_model_add_activation (op one of sigmoid, tanh, relu, leaky_relu (param = slope, 0 means
 * 0.01), elu (param = alpha, 0 means 1), softplus, identity, step, softmax, log_softmax,
 * maxout (param = k pieces)); nb_model_add_flatten. NB_ERR_ARG naming the layer. */
int nb_model_add_dense(nb_model *m, int units, int bias);
int nb_model_add_activation(nb_model *m, nb_op_type op, float param);
int nb_model_add_flatten(nb_model *m);

/* nb_model_add_conv2d: out_channels filters of kernel (kh, kw); stride, pad, dilation are
 * (height, width) pairs, NULL meaning 1, 0, 1. nb_model_add_pool: type NB_LAYER_MAXPOOL or
 * NB_LAYER_AVGPOOL over kernel (kh, kw), stride NULL = the kernel, pad NULL = 0.
 * nb_model_add_global_avgpool, nb_model_add_dropout (0 <= p < 1), nb_model_add_batchnorm
 * (momentum 0.1, eps 1e-5; per channel after a conv, per feature after a dense layer).
 * NB_ERR_ARG naming the layer and value. */
int nb_model_add_conv2d(nb_model *m, int out_channels, const int kernel[2], const int stride[2],
                        const int pad[2], const int dilation[2], int bias);
int nb_model_add_pool(nb_model *m, nb_layer_type type, const int kernel[2], const int stride[2],
                      const int pad[2]);
int nb_model_add_global_avgpool(nb_model *m);
int nb_model_add_dropout(nb_model *m, float p);
int nb_model_add_batchnorm(nb_model *m);

/* nb_model_parse: a model from the spec text (docs/SPEC.md): layers separated by ';' or new
 * lines, '#' starts a comment, e.g. "dense 256; relu; dense 128; relu; dense 10". Layer words:
 * dense N [nobias], conv N KxK [stride S] [pad P] [dilation D] [nobias], maxpool KxK [stride S]
 * [pad P], avgpool KxK [stride S] [pad P], gap, dropout P, batchnorm, flatten, sigmoid, tanh,
 * relu, leaky_relu [slope], elu [alpha], softplus, identity, step, softmax, log_softmax,
 * maxout K (sizes "3" or "3x2" for height x width). A line "task classify|binary|multilabel|
 * regress" sets the task (else default_task). At most 4096 layers. Errors are NB_ERR_FORMAT
 * naming the line and word: "spec:2: unknown layer 'dense2'". */
int nb_model_parse(const char *spec, nb_task default_task, nb_model **out);

/* nb_model_spec: the model's canonical spec text (one layer per "; "), borrowed, valid while m
 * lives; nb_model_parse of it gives the same model. */
const char *nb_model_spec(const nb_model *m);

/* nb_model_build: create and compile the graph for samples of the given shape (rank 1..3,
 * e.g. (784) or (1, 28, 28)), checking that the last layer's width matches n_outputs (classes
 * for classify, 1 for binary, labels/targets for multilabel/regress; 0 accepts whatever the
 * last layer gives, e.g. for a summary): NB_ERR_SHAPE naming both numbers. Parameters are then initialised with nb_model_init(m, NB_INIT_TORCH, 0). Call once. */
int nb_model_build(nb_model *m, int sample_rank, const int64_t *sample_shape, int n_outputs);

/* nb_model_init: (re)initialise every parameter with init (scale for UNIFORM/NORMAL) from a
 * generator seeded with seed. The same seed gives the same weights on every machine. */
int nb_model_init(nb_model *m, nb_init init, float scale, uint64_t seed);

/* Introspection after build: the task, the graph (borrowed; for advanced use such as
 * nb_graph_dot or nb_gradcheck), parameter count and buffer, sample shape and output width.
 * The model's graph recycles activations in evaluation mode (nb_graph_set_reuse): after an
 * evaluation-mode forward only the input "x", the logits, the loss and the prediction (the
 * last node) keep their values; call nb_graph_set_reuse(g, 0) to read the others. */
nb_task nb_model_task(const nb_model *m);
nb_graph *nb_model_graph(nb_model *m);
size_t nb_model_param_count(const nb_model *m);
float *nb_model_params(nb_model *m);
int nb_model_n_outputs(const nb_model *m);
int nb_model_sample_shape(const nb_model *m, int64_t shape[3]);

/* Per-tensor and per-layer description (for summaries and model files): the PyTorch-style
 * name ("layers.0.weight"), shape and the offset in the flat buffer. nb_model_n_param_tensors
 * counts every tensor a model file holds, batch-norm buffers included. */
typedef struct nb_param_info {
    const char *name;
    int rank;
    int64_t shape[NB_MAX_RANK];
    size_t offset, n;   /* offset in the flat parameter buffer (trainable tensors only) */
    int trainable;      /* 0 for batch-norm buffers (running_mean, running_var,
                           num_batches_tracked), which model files carry too */
    const float *data;  /* the values, borrowed until nb_model_free */
} nb_param_info;
int nb_model_n_param_tensors(const nb_model *m);
int nb_model_param_info(const nb_model *m, int i, nb_param_info *out);

typedef struct nb_layer_info {
    nb_layer_type type;
    nb_op_type op;       /* activation layers */
    int units, bias;     /* dense */
    float param;         /* activation parameter */
    int out_rank;
    int64_t out_shape[NB_MAX_RANK]; /* per sample (without the batch dimension) */
    size_t n_params;
    double flops;        /* forward floating-point operations per sample (a multiply-add is 2) */
    char text[80];       /* the layer as spec text, e.g. "dense 256" */
} nb_layer_info;
int nb_model_n_layers(const nb_model *m);
int nb_model_layer_info(const nb_model *m, int i, nb_layer_info *out);

/* nb_model_predict: outputs for n samples x (n * features floats): class probabilities
 * (classify), sigmoid probabilities (binary, multilabel) or values (regress), n * n_outputs
 * floats into out. Runs in batches in evaluation mode (the graph's batch size and mode
 * change), in the forward-only layout with recycled activations: a batch is as many rows (64
 * to 1024) as keep its activations near 32 MiB, so memory stays bounded whatever n; each
 * row's output is the same bits as in one forward over all n rows. */
int nb_model_predict(nb_model *m, const float *x, int64_t n, float *out);
/* nb_model_predict_data: the same for rows first .. first + n - 1 of a dataset (its features;
 * targets, if any, are not read). Each batch's rows go straight from the dataset into the
 * model's input - compact (byte) rows converted on the way - with no float copy of the data
 * or of the batch in between; the outputs are the bits nb_model_predict gives for the same
 * rows as floats. */
int nb_model_predict_data(nb_model *m, const nb_dataset *d, int64_t first, int64_t n, float *out);

/* Metrics of a model on a labeled dataset. Fields by task:
 *  all: n, loss (the training objective, averaged over samples).
 *  classify/binary: accuracy, confusion[n_classes * n_classes] (row = true class, column =
 *    predicted), per-class precision/recall/f1 (0 when undefined), macro_f1.
 *  multilabel: accuracy (per-label, averaged), label_accuracy[n_classes], hamming_loss,
 *    exact_match.
 *  regress: mse (plain mean of squared errors, without the loss's 1/2), mae, r2.
 * Arrays are owned by the struct: release with nb_metrics_free. */
typedef struct nb_metrics {
    nb_task task;
    int64_t n;
    int n_classes;
    double loss, accuracy, macro_f1;
    int64_t *confusion;
    double *precision, *recall, *f1, *label_accuracy;
    double hamming_loss, exact_match;
    double mse, mae, r2;
} nb_metrics;
int nb_model_evaluate(nb_model *m, const nb_dataset *d, nb_metrics *out);
void nb_metrics_free(nb_metrics *mt);

/* One epoch of a training history. val_* are NaN without validation data. */
typedef struct nb_epoch_stats {
    int epoch;           /* 1-based */
    double train_loss, train_acc, val_loss, val_acc;
    double lr, seconds, samples_per_s;
} nb_epoch_stats;

/* Progress during training, passed to the callback after every step (done < total) and at the
 * end of each epoch (done == total, with stats filled). */
typedef struct nb_progress {
    int epoch, epochs;
    int64_t done, total;  /* samples of this epoch */
    double running_loss, seconds; /* mean loss so far this epoch; seconds since it began */
    const nb_epoch_stats *stats; /* non-NULL at the end of an epoch */
    double step_loss;     /* the loss of the step just taken (NaN at the end of an epoch) */
} nb_progress;

/* Training configuration; start from nb_train_config_default() (every *_default function
 * returns its struct by value: nb_train_config cfg = nb_train_config_default();). Error
 * messages name a field as nb_train_config.<field>. */
typedef struct nb_train_config {
    int epochs;               /* default 10 */
    int64_t batch_size;       /* default 64; the whole set when >= n (full-batch GD) */
    nb_optim_config optim;    /* default SGD lr 0.01 */
    int shuffle;              /* reshuffle the rows every epoch (default 1) */
    uint64_t seed;            /* shuffling (and dropout) generator seed; default 0 */
    int early_stop;           /* patience in epochs on validation loss; 0 = off. When it
                                 stops, the best epoch's weights are restored. */
    int (*progress)(void *ud, const nb_progress *p); /* optional; non-zero return stops
                                 training with NB_ERR_INTERRUPTED after the current step
                                 (writing a checkpoint first when checkpoint_dir is set) */
    void *progress_ud;
    /* Checkpoints (docs/RELIABILITY.md): with checkpoint_dir set, a checkpoint is written
     * after every checkpoint_every_epochs epochs and/or every checkpoint_every_steps steps,
     * and when the progress callback stops training; only the newest checkpoint_keep
     * (default 3) are kept. Each is a model file (it loads with nb_model_load) that also
     * holds the optimizer state, the generators, the position in the epoch, early-stopping
     * state and the history: "DIR/ckpt-<global step, 12 digits>.safetensors", written
     * atomically. resume names a checkpoint to continue from: the run then ends with exactly
     * the weights and history of an uninterrupted run with the same data, config, seed and
     * thread count. preproc (optional) is stored in checkpoints like nb_model_save does. */
    const char *checkpoint_dir;
    int checkpoint_every_epochs;
    int64_t checkpoint_every_steps;
    int checkpoint_keep;
    const char *resume;
    const nb_preproc *preproc;
} nb_train_config;
nb_train_config nb_train_config_default(void);

/* The history of a training run: one entry per epoch run, best_epoch (1-based, by validation
 * loss, or the last epoch without validation data) and whether early stopping fired. */
typedef struct nb_history {
    int n;
    nb_epoch_stats *epochs;
    int best_epoch;
    int stopped_early;
} nb_history;
void nb_history_free(nb_history *h);

/* nb_model_train: mini-batch training of a built model on train (its features scaled already),
 * scoring val after every epoch when given. Each epoch visits every row once, in a fresh
 * permutation drawn from the seeded generator (or in file order with shuffle 0); the last
 * batch may be smaller. The first non-finite loss or gradient stops training with
 * NB_ERR_NUMERIC naming the epoch, the step and (for a gradient) the parameter tensor; the
 * weights are those before that step and no checkpoint is written after it. hist (may be NULL)
 * receives every epoch; release it with nb_history_free. The same data, config, seed and
 * thread count give bit-identical weights. */
int nb_model_train(nb_model *m, const nb_dataset *train, const nb_dataset *val,
                   const nb_train_config *cfg, nb_history *hist);

/* Model files (safetensors, docs/MODEL_FORMAT.md). nb_model_save writes the parameters as
 * "layers.N.weight" / "layers.N.bias" F32 tensors (PyTorch's nn.Sequential names and (out, in)
 * layouts) and metadata: format "nabla", format_version "1", architecture (the spec), task,
 * input_shape, n_outputs, class_names (JSON array) and preprocessing (nb_preproc_to_json; pp
 * may be NULL). Atomic: temp file, fsync, rename. nb_model_load rebuilds the model from the
 * metadata, checks every tensor's name and shape (NB_ERR_FORMAT naming the tensor) and
 * returns the preprocessing (NULL when the file has none) in *pp (may be NULL). The file is
 * untrusted: before building, NB_ERR_FORMAT refuses an architecture that would need more than
 * 2^26 values (layer outputs and im2col matrices) per sample, or whose dense and conv weights
 * are more numbers than the file holds, so a small file cannot make the loader allocate
 * gigabytes. */
int nb_model_save(nb_model *m, const char *path, const nb_preproc *pp);
int nb_model_load(const char *path, nb_model **out, nb_preproc **pp);

/* nb_model_load_weights: copy the parameters of a built model from a safetensors file
 * written by any tool (e.g. PyTorch's state_dict of the same nn.Sequential): every parameter
 * must be present with the same shape; other tensors are ignored. NB_ERR_FORMAT naming the
 * missing or mismatched tensor. */
int nb_model_load_weights(nb_model *m, const char *path);

#ifdef __cplusplus
}
#endif
#endif /* NABLA_H */
