/* SPDX-License-Identifier: MIT */
/*
 * optim_internal.h - the optimizer object shared by the files of src/optim (never exported).
 * Invariants: state holds n_state * n floats in one allocation (state i at state + i * n),
 * all zero at steps == 0; lr is the learning rate of the current epoch, derived from cfg and
 * epoch alone (nb__optim_schedule_lr), so a checkpoint needs only cfg, epoch, steps, state.
 */
#ifndef NB_OPTIM_INTERNAL_H
#define NB_OPTIM_INTERNAL_H

#include "optim.h"

#define NB__OPTIM_MAX_STATE 2

/* A step over n parameters runs in P = clamp(n / NB__OPTIM_PART_MIN, 1, NB__OPTIM_MAX_PARTS)
 * parts, part p being [p n / P, (p + 1) n / P); the norm is the sum over p, in order, of the
 * parts' sums below. The parts go to the thread pool when n >= NB__OPTIM_THREAD_MIN, else
 * run in order in the caller: the same sums either way. Parts of 64 KiB split the benchmark
 * models (235k, 207k parameters) into 14 and 12: even shares for 2 threads. */
#define NB__OPTIM_PART_MIN ((size_t)1 << 14)
#define NB__OPTIM_MAX_PARTS 64
#define NB__OPTIM_THREAD_MIN ((size_t)1 << 16) /* below: waking a thread costs what it saves */

struct nb_optim {
    nb_optim_config cfg;
    size_t n;          /* parameter count */
    int n_state;       /* 0 .. NB__OPTIM_MAX_STATE */
    const char *state_name[NB__OPTIM_MAX_STATE];
    float *state;      /* n_state * n floats, NULL when n_state == 0 */
    int64_t steps;     /* successful steps */
    int epoch;         /* set by nb_optim_set_epoch */
    double lr;         /* scheduled learning rate, in double as PyTorch's Python floats */
    double grad_norm;  /* pre-clip norm seen by the last step */
    size_t order_n;    /* n when order holds the update's part order (nb__optim_set_spans), else 0 */
    uint8_t order[NB__OPTIM_MAX_PARTS]; /* the update's task t runs part order[t] */
};

/* The learning rate of epoch (>= 0) under cfg's schedule, in double. */
NB_HIDDEN double nb__optim_schedule_lr(const nb_optim_config *cfg, int epoch);

/* ---- the element kernels of a step (step_kernels.c), used by step.c */

/* One step's rule with every hyper-parameter already rounded to the float PyTorch hands its
 * kernel (step.c); the kernels apply it to elements [lo, hi) in the per-element operation
 * order documented in step.c, the same bits for every CPU tier (cpu.h) and every split. */
typedef struct nb__optim_rule {
    nb_optim_type type;
    float *w;          /* parameters */
    const float *g;    /* gradients */
    float *s0, *s1;    /* state arrays (NULL when the rule has none) */
    float scale;       /* clipping factor (1: none) */
    float l2;
    float neg_lr, tau; /* SGD family and RMSPROP: -lr, momentum */
    float b1, one_b1, b2, one_b2, eps, neg_step, bc2_sqrt, decay; /* ADAM, ADAMW; eps RMSPROP too */
    float alpha, one_alpha;                                       /* RMSPROP */
} nb__optim_rule;

NB_HIDDEN void nb__optim_apply(const nb__optim_rule *r, size_t lo, size_t hi);


/* The sum of g[i]^2 over [0, n) in double: each square is exact, element i goes to lane
 * i mod 32, lanes are added by s[l] += s[l + w] for w = 16, 8, 4, 2, 1. Finite exactly when
 * every g[i] is. */
NB_HIDDEN double nb__optim_sumsq(const float *g, size_t n);
/* The same in float, ~6x cheaper (no conversions): element i to lane i mod 64, s = s + g g
 * (rounded product, then sum), lanes added by the same tree from w = 32. Finite only when
 * every g[i] is; infinite also when a square or the sum overflows. */
NB_HIDDEN float nb__optim_sumsq_f(const float *g, size_t n);

#endif
