/*
 * autograd.h - the autograd layer's internal header: the public graph API (nabla/graph.h)
 * over the shared helpers (internal.h), plus the few graph calls the layers above use that
 * are not public: nn's training step feeds a batch in place and lets backward write the
 * parameters' gradients instead of zeroing them first. Never exported.
 */
#ifndef NB_AUTOGRAD_H
#define NB_AUTOGRAD_H

#include "internal.h"
#include "nabla/graph.h"

/* nb_graph_feed without its copy (autograd/compile.c): checks n and sets the batch as feed
 * does, then *buf is the input's own buffer of n floats, for the caller to fill before the
 * next forward (a gather or a conversion writes straight into it, not into a buffer that
 * feed would copy again) */
NB_HIDDEN int nb__graph_input(nb_graph *g, nb_node x, size_t n, float **buf);
/* nb_graph_zero_grad with the parameters' part owed (autograd/compile.c): the next backward
 * writes those gradients instead of adding to them where it can, and zeroes the rest, so a
 * training step makes no separate pass over them. Until then they read as before: a caller
 * that may not reach backward calls nb__graph_settle_grads, which zeroes them now. */
NB_HIDDEN void nb__graph_zero_grad_lazy(nb_graph *g);
NB_HIDDEN void nb__graph_settle_grads(nb_graph *g);

#endif
