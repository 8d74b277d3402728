/*
 * optim_internal.h - the optimizer object shared by the files of src/optim (never exported).
 * Invariants: state holds n_state * n floats in one allocation (state i at state + i * n),
 * all zero at steps == 0; lr is the learning rate of the current epoch, derived from cfg and
 * epoch alone (nb__optim_schedule_lr), so a checkpoint needs only cfg, epoch, steps, state.
 */
#ifndef NB_OPTIM_INTERNAL_H
#define NB_OPTIM_INTERNAL_H

#include "../tensor/internal.h"

#define NB__OPTIM_MAX_STATE 2

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
};

/* The learning rate of epoch (>= 0) under cfg's schedule, in double. */
NB_HIDDEN double nb__optim_schedule_lr(const nb_optim_config *cfg, int epoch);

#endif
