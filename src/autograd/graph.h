/* SPDX-License-Identifier: MIT */
/*
 * graph.h - internal structure of a computational graph and the operator table.
 * Nodes are stored in creation order, which is a topological order (a node's inputs exist
 * before it); the planner (plan.c) lays out memory for every value, gradient and saved-state
 * buffer and decides the gradient rule, the executor (exec.c) runs the sweeps.
 * Invariants: after compile, every node's val points at n floats; in the full layout grad is
 * non-NULL exactly when the node needs a gradient; params' val/grad live in the flat buffers.
 */
#ifndef NB_GRAPH_H
#define NB_GRAPH_H

#include "autograd.h"

#define NB__MAX_IN 10 /* rnn: x, lengths and 4 parameters per direction */

enum {
    NB__NEED_GRAD = 1u << 0, /* d(loss)/d(node) is computed (a param or require-grad input is upstream) */
    NB__LEAF_GRAD = 1u << 1, /* a leaf whose gradient accumulates across backward calls */
    NB__BATCHED = 1u << 2,   /* input whose declared shape[0] is NB_BATCH */
    NB__KEEP = 1u << 3,      /* nb_graph_keep: the value survives buffer reuse */
    NB__RELU_AFTER = 1u << 4 /* a 2x2 max pool whose pooled values go through a ReLU (nb__maxpool2d_relu) */
};

typedef struct nb__node {
    nb_op_type op;
    int n_in;
    nb_node in[NB__MAX_IN];
    nb_attr attr;
    int custom;        /* NB_OP_CUSTOM: the index of its definition in g->customs */
    int rank;
    int64_t shape[NB_MAX_RANK];
    int64_t decl[NB_MAX_RANK]; /* leaves: the shape as declared (NB_BATCH kept) */
    size_t n;
    unsigned flags;
    char *name;
    float *val, *grad;
    void *aux;         /* state forward saves for backward (arg-max indices, probabilities) */
    size_t aux_bytes;
    size_t val_off, grad_off, aux_off; /* arena offsets (params: offsets in the flat buffers) */
    float *cdata;      /* constants: owned copy of the values */
    /* the gradient rule of the backward it was decided for (plan.c, nb__plan_grad_rule) */
    unsigned char in_sweep;   /* the loss or one of its ancestors */
    unsigned char grad_zero;  /* the executor zeroes this gradient before the sweep */
    unsigned char grad_write; /* bit j: backward WRITES input j's gradient, else ADDS to it */
} nb__node;

/* One operator: shape inference and checking, saved-state size, forward, backward.
 * infer sets nd->rank/shape/n from the inputs or fails with a message naming the op and shapes.
 * backward ADDS into the gradients of inputs whose grad pointer is non-NULL, except on the
 * edges the plan marks WRITE (nb__grad_write), where it may store instead; which operators
 * honour WRITE, and whether they then store every element, is the planner's table. */
typedef struct nb__op_def {
    const char *name;
    int min_in, max_in;
    int (*infer)(nb_graph *g, nb__node *nd);
    size_t (*aux_bytes)(const nb_graph *g, const nb__node *nd);
    int (*forward)(nb_graph *g, nb__node *nd);
    void (*backward)(nb_graph *g, nb__node *nd);
    int grad_writes;    /* NB__WRITES_*: what backward stores on a WRITE edge (plan.c's rule) */
} nb__op_def;

/* How an operator's backward honours a WRITE edge (nb__grad_write): NONE, it always adds (the
 * planner then never gives it one); ALL, it stores every element of that input's gradient
 * (elementwise ops, reshape, a matrix product with beta 0, max pooling, which stores +0 where
 * no window took its maximum), so the gradient needs no zeroing pass. */
enum { NB__WRITES_NONE = 0, NB__WRITES_ALL = 2 };

struct nb_graph {
    nb__node *nodes;
    int n_nodes, cap_nodes;
    int status;      /* sticky builder error */
    int compiled;
    int64_t batch;
    float *params, *pgrads; /* flat parameter values and gradients */
    int borrowed;           /* a clone (nb__graph_clone): params, pgrads and the constants'
                             * values are its source's, not freed with it */
    struct nb__wpack *wpack; /* a clone's weights packed for its products, per node, or NULL */
    unsigned weights_epoch; /* a clone: bumped whenever the source's weights may have changed */
    int zero_next;          /* the next backward starts the accumulating gradients from zero
                             * (nb__graph_defer_zero_grad, exec.c) */
    size_t n_params;
    unsigned char *arena;   /* values, gradients and saved state of non-parameter nodes */
    size_t arena_cap, arena_used;
    unsigned char *mark;    /* per-node scratch: a forward's and the rule's ancestors */
    nb_custom_op *customs;  /* custom operator definitions, indexed by nb__node.custom */
    int n_customs, cap_customs;
    int training;           /* dropout and batch norm behave as in training (1) or evaluation */
    int plan_kind;          /* NB__PLAN_* (plan.h): the layout the arena holds now */
    int plan_stale;         /* reuse or keep changed: re-plan before the next forward */
    int reuse;              /* nb_graph_set_reuse */
    size_t prefix;          /* bytes of the inputs' values and gradients at the arena's start */
    int *last_use;          /* per node: the last node reading its value (itself if none) */
    int *sole_reader;       /* per node: its only reader (one input slot of one node), else -1 */
    nb_node rule_loss;      /* the gradient rule in the nodes is for this loss (-1: none) */
    int rule_fresh;         /* ... and for accumulating gradients starting from zero (1) */
    struct nb__blk *blk;    /* scratch of the forward layout's packer, n_nodes + 1 entries */
    nb_rng rng;             /* dropout masks */
    /* called after backward has visited each node, from the loss down to node 0 (dist.c
     * hands finished gradient buckets to the all-reduce this way); NULL: none */
    void (*bwd_hook)(void *ud, int node);
    void *bwd_ud;
};

/* A parameter packed once for a clone's evaluation products (op_matmul.c): valid while
 * epoch equals the graph's weights_epoch; tag: nb__gemm_prepack's */
typedef struct nb__wpack {
    float *buf;
    size_t cap;
    unsigned epoch;
    int tag;
} nb__wpack;

extern const nb__op_def *const nb__op_table[NB_OP_COUNT_];

static inline nb__node *nb__in(nb_graph *g, const nb__node *nd, int i)
{
    return &g->nodes[nd->in[i]];
}

/* The edge rule as an operator's backward reads it: 1 when it WRITES the gradient of input
 * `slot` (nothing else contributes to it in this sweep), 0 when it ADDS to it; and the same
 * as a GEMM beta. Decided by the planner (nb__plan_grad_rule), never by the operator. */
static inline int nb__grad_write(const nb__node *nd, int slot)
{
    return (nd->grad_write >> slot) & 1;
}
static inline float nb__grad_beta(const nb__node *nd, int slot)
{
    return nb__grad_write(nd, slot) ? 0.0f : 1.0f;
}

/* A view of a node's shape over data (its value, its gradient, or NULL). */
NB_HIDDEN nb_view nb__node_view(const nb__node *nd, float *data);
/* Set mark[i] to 1 for target and every node it depends on, 0 for the rest (n_nodes bytes). */
NB_HIDDEN void nb__mark_ancestors(const nb_graph *g, nb_node target, unsigned char *mark);
/* Free the nodes, custom definitions and g itself (nb_graph_free, after the plan's part). */
NB_HIDDEN void nb__graph_free_nodes(nb_graph *g);

/* Shape helpers shared by the operator files. */
NB_HIDDEN int nb__set_shape(nb__node *nd, int rank, const int64_t *shape);
NB_HIDDEN int nb__same_shape(const nb__node *a, const nb__node *b);
NB_HIDDEN int nb__norm_axis(const nb__node *nd, int axis, int *out);
NB_HIDDEN int nb__shape_error(nb_graph *g, const nb__node *nd, const char *why);
/* (outer, len, inner) view of a tensor around axis */
NB_HIDDEN void nb__split_axis(const nb__node *nd, int axis, size_t *outer, size_t *len,
                              size_t *inner);

/* Add an operator node (no checks of op itself; nb_op and nb_custom do those). */
NB_HIDDEN nb_node nb__op_build(nb_graph *g, nb_op_type op, int n_in, const nb_node *in,
                               const nb_attr *attr);

/* Leaves: shape from the declared shape at the current batch size. */
NB_HIDDEN int nb__leaf_infer(nb_graph *g, nb__node *nd);

#endif
