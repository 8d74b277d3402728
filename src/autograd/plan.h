/* SPDX-License-Identifier: MIT */
/*
 * plan.h - the planner's interface to the executor (plan.c -> exec.c): memory layouts and the
 * gradient rule. The planner depends on the graph (graph.h) only; the executor on both.
 * Invariant: whatever the planner decides is a function of the graph, the batch size, the
 * mode and (for the gradient rule) the loss node, never of timing or the thread count.
 */
#ifndef NB_PLAN_H
#define NB_PLAN_H

#include "graph.h"

/* Memory layouts. FULL: every value, gradient and saved state has its own buffer, as
 * backward needs. FORWARD: evaluation-mode forwards keep no gradients, saved state is scratch
 * for the node's own forward, and (with reuse) a value's buffer is recycled once its last
 * reader has run. Inputs (values and accumulated gradients) sit at the same place in both, so
 * switching layouts keeps what was fed. */
enum { NB__PLAN_FULL = 0, NB__PLAN_FORWARD = 1 };

/* Lay the arena out as `kind` at the current batch size, keeping the inputs (a no-op when it
 * already is, unless reuse or keep changed the forward layout). On failure the previous layout
 * is restored. */
NB_HIDDEN int nb__plan_use(nb_graph *g, int kind);

/* Decide the gradient rule of a backward from `loss` into the nodes (in_sweep, grad_zero,
 * grad_write: graph.h); fresh: the accumulating gradients (parameters, nb_require_grad inputs)
 * start from zero in this sweep instead of accumulating. Kept until loss or fresh change. */
NB_HIDDEN void nb__plan_grad_rule(nb_graph *g, nb_node loss, int fresh);

#endif
