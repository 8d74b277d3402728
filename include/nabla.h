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
    NB_OP_COUNT_ = 35 /* number of operator types; not an operator */
} nb_op_type;

/* Operator attributes; each operator reads only the fields its builder documents. */
typedef struct nb_attr {
    float alpha;        /* scale factor, leaky-ReLU slope, ELU alpha */
    int axis;           /* reduction / softmax axis; negative counts from the end */
    int k;              /* maxout pieces */
    int trans_a, trans_b; /* matmul transposes */
    int rank;           /* reshape target rank */
    int64_t shape[NB_MAX_RANK]; /* reshape target shape; NB_BATCH keeps the batch size */
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

/* Custom operators: the caller's own forward and backward over float32 views.
 *  infer(ud, n_in, in, out): set out->rank and out->shape from the inputs (data pointers are
 *    NULL then), or return NB_ERR_SHAPE (and the message nabla reports names op->name). NULL
 *    means "same shape as in[0]".
 *  forward(ud, n_in, in, out): compute out->data from in[i].data.
 *  backward(ud, n_in, in, out, dout, din): ADD d(loss)/d(in[i]) into din[i].data, whose data is
 *    NULL for inputs that need no gradient. NULL backward makes the op non-differentiable.
 * Each returns NB_OK or a status. The struct is copied; ud is kept as is. */
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

/* nb_graph_zero_grad: set every gradient to zero. */
void nb_graph_zero_grad(nb_graph *g);

/* nb_graph_value / nb_graph_grad: a view of a node's value or gradient (grad data is NULL when
 * the node needs no gradient). Valid until the next compile/set_batch/free. Parameter and
 * constant values may be written through the view. */
int nb_graph_value(const nb_graph *g, nb_node node, nb_view *out);
int nb_graph_grad(const nb_graph *g, nb_node node, nb_view *out);

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
 * |a - n| / max(|a| + |n|, 1e-3); the worst per node is reported. Inputs must have been fed;
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

/* ================================================================ model files (src/io) */
/* @@IO@@ (section owned by the io layer) */

/* ================================================================ optimizers (src/optim) */
/* @@OPTIM@@ (section owned by the optim layer) */

/* ================================================================ networks (src/nn) */
/* @@NN@@ (section owned by the nn layer) */

#ifdef __cplusplus
}
#endif
#endif /* NABLA_H */
