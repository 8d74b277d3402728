/*
 * grad_assign.h - when a backward may WRITE an input's gradient instead of adding to it.
 * The contract (graph.h) is that backward adds, since a value read twice gets both
 * contributions. But nb_graph_backward zeroes every intermediate gradient before any backward
 * runs, so when node nd is the only reader of x (one input slot of one node in the whole
 * graph) and x is not a leaf whose gradient accumulates across calls, x's gradient is all
 * zeros when nd's backward runs and nothing else adds to it: "dx = v" then equals "dx += v"
 * (up to the sign of a zero: 0 + -0 is +0), and saves reading dx - a pass over memory for
 * the big activations of a CNN. Every graph counts readers the same way, so whether a
 * backward writes or adds never depends on the thread count.
 */
#ifndef NB_GRAD_ASSIGN_H
#define NB_GRAD_ASSIGN_H

#include "graph.h"

/* the node that reads x through exactly one input slot, when it is x's only reader in the
 * whole graph and x's gradient may be written (not an accumulating leaf); else -1 */
static inline int nb__sole_reader(const nb_graph *g, nb_node x)
{
#ifdef NB_MUTANTS /* mutant.h: every backward adds, so the hook sees what each one added */
    return -1;
#endif
    const nb__node *xn = &g->nodes[x];
    if (!xn->grad || (xn->flags & NB__LEAF_GRAD) || xn->op <= NB_OP_CONST) return -1;
    if (g->sole_reader) return g->sole_reader[x]; /* found by nb_graph_compile */
    int readers = 0, reader = -1;
    for (int i = x + 1; i < g->n_nodes && readers < 2; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++)
            if (g->nodes[i].in[j] == x) readers++, reader = i;
    return readers == 1 ? reader : -1;
}

/* 1 when input slot `slot` of nd may be written rather than added to (see above) */
static inline int nb__grad_assignable(const nb_graph *g, const nb__node *nd, int slot)
{
    return nb__sole_reader(g, nd->in[slot]) >= 0;
}

/* 1 when op's backward writes EVERY element of its input's gradient whenever
 * nb__grad_assignable holds: nb_graph_backward then need not zero that gradient first. The
 * elementwise ops and reshape qualify; max-pool does not (its generic path scatter-adds, and
 * inputs outside every window get nothing). */
static inline int nb__op_writes_whole_grad(nb_op_type op)
{
    switch (op) {
    case NB_OP_NEG: case NB_OP_SCALE: case NB_OP_EXP: case NB_OP_LOG: case NB_OP_SQUARE:
    case NB_OP_SQRT: case NB_OP_SIGMOID: case NB_OP_TANH: case NB_OP_RELU:
    case NB_OP_LEAKY_RELU: case NB_OP_ELU: case NB_OP_SOFTPLUS: case NB_OP_IDENTITY:
    case NB_OP_RESHAPE: case NB_OP_MATMUL: /* a product with beta 0 writes all of C */
        return 1;
    default:
        return 0;
    }
}

#endif
