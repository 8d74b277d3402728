/* SPDX-License-Identifier: MIT */
/*
 * mutant.h - the mutation hook of `make mutants` (scripts/mutants.sh), compiled only when
 * the library is built with -DNB_MUTANTS. nb_graph_backward (exec.c) brackets each operator's
 * backward with the two macros; in every other build they are empty, so a normal library
 * holds no trace of the hook (mutant.c compiles to nothing). With NB_MUTANTS the planner
 * adds into every gradient (plan.c's nb__plan_grad_rule), so what a backward adds is exactly
 * its gradient after minus before.
 */
#ifndef NB_MUTANT_H
#define NB_MUTANT_H

#ifdef NB_MUTANTS
#include "graph.h"

/* NB_MUTANT=<op name>:<kind> in the environment picks the operator whose backward is
 * mutated. before: snapshot the gradients of nd's inputs when nd is that operator; after:
 * rewrite each as old + mutated(new - old). kind scale: the contribution times 1.01; kind
 * one: its middle element moved by 1% of its largest |value| (1e-3 when all are zero). */
NB_HIDDEN void nb__mutant_before(nb_graph *g, const nb__node *nd);
NB_HIDDEN void nb__mutant_after(nb_graph *g, const nb__node *nd);
#define NB__MUTANT_BEFORE(g, nd) nb__mutant_before(g, nd)
#define NB__MUTANT_AFTER(g, nd) nb__mutant_after(g, nd)
#else
#define NB__MUTANT_BEFORE(g, nd) ((void)0)
#define NB__MUTANT_AFTER(g, nd) ((void)0)
#endif

#endif
