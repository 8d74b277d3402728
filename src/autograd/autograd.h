/* SPDX-License-Identifier: MIT */
/*
 * autograd.h - the autograd layer's internal header: the public graph API (nabla/graph.h)
 * over the shared helpers (internal.h), plus what the layers above (nn) need beyond it:
 * the executor's entry points for a training loop that must not pay a copy or a memory
 * pass the public calls would. All of them live in exec.c and keep the public calls' checks.
 * Never exported.
 */
#ifndef NB_AUTOGRAD_H
#define NB_AUTOGRAD_H

#include "internal.h"
#include "nabla/graph.h"

/* nb_graph_feed without its copy: checks n and sets the batch as feed does, then *buf is the
 * input's own buffer of n floats, for the caller to fill before the next forward (a gather or
 * a conversion writes straight into it, not into a buffer that feed would copy again). */
NB_HIDDEN int nb__graph_input(nb_graph *g, nb_node x, size_t n, float **buf);

/* nb_graph_zero_grad paid by the next backward instead of now: that backward starts the
 * accumulating gradients from zero, writing them on WRITE edges and zeroing the rest (the
 * planner's rule), so a training step makes no separate pass over the weights' gradients.
 * Until then they keep their old values; nb__graph_flush_zero_grad zeroes them now if that
 * backward never came (a step that stopped early), and does nothing otherwise. */
NB_HIDDEN void nb__graph_defer_zero_grad(nb_graph *g);
NB_HIDDEN void nb__graph_flush_zero_grad(nb_graph *g);

/* relu(maxpool2d(x)) as one node where the window is 2x2 with stride 2 and no padding: the
 * pool's kernels put each window's maximum through the ReLU before they store it, and mark a
 * window whose maximum the ReLU stops (<= 0) with arg-max -1, which backward routes to no
 * element - the bits of the two nodes (relu_fwd_gate's select; a stopped window's four input
 * gradients +0 either way), without the ReLU's passes over the pooled values and its gate.
 * Other windows: the two nodes. The model builds a ReLU before a 2x2 max pool so (layers.c). */
NB_HIDDEN nb_node nb__maxpool2d_relu(nb_graph *g, nb_node x, const int kernel[2], const int stride[2], const int pad[2]);

/* nb_graph_forward laid out for a backward whatever the mode: an evaluation-mode forward
 * whose gradients nb_gradcheck compares (nb_graph_backward refuses to follow a plain
 * evaluation-mode forward, whose layout keeps no gradients). */
NB_HIDDEN int nb__graph_forward_full(nb_graph *g, nb_node target);

/* A hook called after backward visits each node (index node, from the loss down to 0): dist.c
 * starts reducing a bucket of parameter gradients as soon as backward has finished them. fn
 * NULL removes it. */
NB_HIDDEN void nb__graph_set_backward_hook(nb_graph *g, void (*fn)(void *ud, int node), void *ud);

/* Each parameter node's place in the flat buffers and the node after whose backward its
 * gradient is final (its first consumer; -1 when nothing reads it), in node order (which is
 * nb_model's parameter order). Fills at most cap and returns the count. */
typedef struct nb__param_span {
    size_t off, n;
    int ready;
} nb__param_span;
NB_HIDDEN int nb__graph_param_spans(const nb_graph *g, nb__param_span *out, int cap);
/* all of them in a new array (nb_free it; at least one element, so NULL means out of memory),
 * their count in *n */
NB_HIDDEN nb__param_span *nb__graph_param_spans_new(const nb_graph *g, int *n);

/* An evaluation-only copy of a compiled graph: the same nodes over src's parameters and
 * constants (borrowed: the copy must be freed before src, and sees src's values as they are
 * at each of its forwards), with an arena of its own - one graph per thread runs forwards
 * on different rows at once. NB_ERR_STATE for a graph with custom operators. */
NB_HIDDEN int nb__graph_clone(const nb_graph *src, nb_graph **out);
/* A clone packs the weights its products read once and reuses them until this is called:
 * call it whenever the source's parameters may have changed since the clone's last forward
 * (nb_model_predict does, at every call). */
NB_HIDDEN void nb__graph_weights_changed(nb_graph *g);

#endif
