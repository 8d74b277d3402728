/* SPDX-License-Identifier: MIT */
/*
 * mutant.c - the mutation hook behind mutant.h, for `make mutants` only: with -DNB_MUTANTS
 * it plants a 1% error in one operator's backward (chosen by NB_MUTANT=<op>:<scale|one>) so
 * the script can show that `make test` catches it; without it this file is empty. The
 * snapshots are per thread and live from one before to its after; allocation failure just
 * plants nothing (the mutant then survives, which the script reports).
 */
#ifdef NB_MUTANTS
#include "mutant.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { KIND_NONE, KIND_SCALE, KIND_ONE };

static _Thread_local struct {
    int kind, n;
    nb_node who[NB__MAX_IN];
    float *old[NB__MAX_IN];
} snap;

/* the mutation kind NB_MUTANT asks of op's backward, KIND_NONE if it names another op */
static int chosen_kind(nb_op_type op)
{
    const char *s = getenv("NB_MUTANT"), *colon = s ? strchr(s, ':') : NULL;
    if (!colon || !nb__op_table[op] || !nb__op_table[op]->backward) return KIND_NONE;
    const char *name = nb__op_table[op]->name;
    if (strlen(name) != (size_t)(colon - s) || strncmp(s, name, strlen(name))) return KIND_NONE;
    return !strcmp(colon + 1, "scale") ? KIND_SCALE : !strcmp(colon + 1, "one") ? KIND_ONE : KIND_NONE;
}

void nb__mutant_before(nb_graph *g, const nb__node *nd)
{
    snap.n = 0;
    snap.kind = chosen_kind(nd->op);
    if (!snap.kind) return;
    for (int i = 0; i < nd->n_in; i++) {
        const nb__node *x = nb__in(g, nd, i);
        int seen = 0; /* an input read through two slots gets one snapshot: one sum */
        for (int k = 0; k < snap.n; k++) seen |= snap.who[k] == nd->in[i];
        if (!x->grad || seen) continue;
        float *p = malloc(x->n * sizeof *p);
        if (!p) continue;
        memcpy(p, x->grad, x->n * sizeof *p);
        snap.who[snap.n] = nd->in[i];
        snap.old[snap.n++] = p;
    }
}

void nb__mutant_after(nb_graph *g, const nb__node *nd)
{
    (void)nd;
    for (int k = 0; k < snap.n; k++) {
        nb__node *x = &g->nodes[snap.who[k]];
        float *old = snap.old[k];
        double big = 0;
        for (size_t j = 0; j < x->n; j++) big = fmax(big, fabs((double)x->grad[j] - (double)old[j]));
        for (size_t j = 0; j < x->n; j++) {
            double c = (double)x->grad[j] - (double)old[j];
            if (snap.kind == KIND_SCALE) c *= 1.01;
            else if (j == x->n / 2) c += big > 0 ? 0.01 * big : 1e-3;
            x->grad[j] = (float)((double)old[j] + c);
        }
        free(old);
    }
    snap.n = 0;
}
#else
typedef int nb__mutant_none; /* ISO C wants a declaration in every translation unit */
#endif
