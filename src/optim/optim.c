/* SPDX-License-Identifier: MIT */
/*
 * optim.c - the optimizer object: creation, the learning-rate schedule, and access to the
 * step count and state arrays for checkpoints. The update itself is in step.c.
 * Invariant: everything a step depends on is cfg, epoch (through lr), steps and the state
 * arrays, and all of it can be read and written through the public API, so a restored
 * optimizer continues bit-exactly.
 */
#include "optim_internal.h"

#include <math.h>

/* pi as Python's math.pi, so the cosine schedule is computed exactly as PyTorch computes it. */
#define NB_PI 3.141592653589793

double nb__optim_schedule_lr(const nb_optim_config *cfg, int epoch)
{
    double lr = (double)cfg->lr;
    switch (cfg->schedule) {
    case NB_SCHED_STEP:
        /* PyTorch StepLR's closed form: base_lr * gamma ** (last_epoch // step_size). */
        return lr * pow((double)cfg->gamma, (double)(epoch / cfg->step_epochs));
    case NB_SCHED_COSINE: {
        /* CosineAnnealingLR's closed form (Loshchilov & Hutter, SGDR, eq. 5 without restarts):
         * eta_min + (base_lr - eta_min) * (1 + cos(pi * last_epoch / T_max)) / 2, held at
         * eta_min once the half period is over instead of rising again. */
        double lo = (double)cfg->min_lr;
        if (epoch >= cfg->total_epochs) return lo;
        double c = cos(NB_PI * (double)epoch / (double)cfg->total_epochs);
        return lo + (lr - lo) * (1.0 + c) / 2.0;
    }
    case NB_SCHED_CONSTANT:
    default:
        return lr;
    }
}

int nb_optim_create(const nb_optim_config *cfg, size_t n_params, nb_optim **out)
{
    if (!out) return nb__fail(NB_ERR_ARG, "optimizer: out is NULL");
    int rc = nb_optim_config_check(cfg);
    if (rc) return rc;

    nb_optim *o = nb__calloc(1, sizeof *o);
    if (!o) return nb__fail_prefix(NB_ERR_NOMEM, "optimizer");
    o->cfg = *cfg;
    o->n = n_params;
    switch (cfg->type) {
    case NB_OPTIM_MOMENTUM:
    case NB_OPTIM_NESTEROV:
        o->state_name[o->n_state++] = "momentum";
        break;
    case NB_OPTIM_ADAM:
    case NB_OPTIM_ADAMW:
        o->state_name[o->n_state++] = "adam.m";
        o->state_name[o->n_state++] = "adam.v";
        break;
    case NB_OPTIM_RMSPROP:
        o->state_name[o->n_state++] = "rmsprop.square_avg";
        if (cfg->momentum > 0.0f) o->state_name[o->n_state++] = "rmsprop.momentum";
        break;
    case NB_OPTIM_SGD:
    default:
        break;
    }
    if (o->n_state > 0 && n_params > 0) {
        size_t total;
        if (!nb__mul_size((size_t)o->n_state, n_params, &total) ||
            !(o->state = nb__calloc(total, sizeof(float)))) {
            int n_state = o->n_state;
            nb_free(o);
            return nb__fail(NB_ERR_NOMEM, "optimizer: no memory for %d state arrays of %zu floats",
                            n_state, n_params);
        }
    }
    o->epoch = 0;
    o->lr = nb__optim_schedule_lr(cfg, 0);
    *out = o;
    return NB_OK;
}

void nb_optim_free(nb_optim *o)
{
    if (!o) return;
    nb_free(o->state);
    nb_free(o);
}

double nb_optim_grad_norm(const nb_optim *o) { return o ? o->grad_norm : 0.0; }

int nb_optim_set_epoch(nb_optim *o, int epoch)
{
    if (!o) return nb__fail(NB_ERR_ARG, "nb_optim_set_epoch: optimizer is NULL");
    if (epoch < 0) return nb__fail(NB_ERR_ARG, "optimizer: epoch %d is negative", epoch);
    o->epoch = epoch;
    o->lr = nb__optim_schedule_lr(&o->cfg, epoch);
    return NB_OK;
}

float nb_optim_lr(const nb_optim *o) { return o ? (float)o->lr : 0.0f; }

const nb_optim_config *nb_optim_config_get(const nb_optim *o) { return o ? &o->cfg : NULL; }

int64_t nb_optim_steps(const nb_optim *o) { return o ? o->steps : 0; }

int nb_optim_set_steps(nb_optim *o, int64_t steps)
{
    if (!o) return nb__fail(NB_ERR_ARG, "nb_optim_set_steps: optimizer is NULL");
    if (steps < 0)
        return nb__fail(NB_ERR_ARG, "optimizer: step count %lld is negative", (long long)steps);
    o->steps = steps;
    return NB_OK;
}

int nb_optim_state_count(const nb_optim *o) { return o ? o->n_state : 0; }

int nb_optim_state(nb_optim *o, int i, const char **name, float **data, size_t *n)
{
    if (!o || !name || !data || !n)
        return nb__fail(NB_ERR_ARG, "nb_optim_state: %s is NULL", !o ? "optimizer" : !name ? "name" : !data ? "data" : "n");
    if (i < 0 || i >= o->n_state)
        return nb__fail(NB_ERR_ARG, "optimizer: state index %d is not in [0, %d) for %s", i,
                        o->n_state, nb_optim_type_name(o->cfg.type));
    *name = o->state_name[i];
    /* With n == 0 there is no allocation; an empty array is still reported. */
    *data = o->state ? o->state + (size_t)i * o->n : NULL;
    *n = o->n;
    return NB_OK;
}
