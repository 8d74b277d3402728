/* SPDX-License-Identifier: MIT */
/*
 * nabla/optim.h - optimizers (src/optim): their settings, the update rules over flat parameter
 * and gradient buffers, learning-rate schedules and the state arrays checkpoints save.
 * Includes only nabla/base.h.
 */
#ifndef NABLA_OPTIM_H
#define NABLA_OPTIM_H

#include "base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Optimizers update the flat parameter buffer (nb_graph_params) from the flat gradient buffer
 * (nb_graph_grads) in one loop; their state lives in parallel flat arrays of the same length,
 * so a checkpoint is a few single writes. Every rule follows PyTorch's (torch.optim), in
 * float32 with the same operation order, so runs match PyTorch to about 1e-6 relative. */

/* Optimizer kinds. Values are explicit and append-only: they are written into files. */
typedef enum nb_optim_type {
    NB_OPTIM_SGD = 0, NB_OPTIM_MOMENTUM = 1, NB_OPTIM_NESTEROV = 2,
    NB_OPTIM_ADAM = 3, NB_OPTIM_ADAMW = 4, NB_OPTIM_RMSPROP = 5
} nb_optim_type;

/* Learning-rate schedules (explicit, append-only values). */
typedef enum nb_schedule {
    NB_SCHED_CONSTANT = 0, NB_SCHED_STEP = 1, NB_SCHED_COSINE = 2
} nb_schedule;

/* Optimizer settings. Start from nb_optim_config_default, then change fields. Error messages
 * name a field as nb_optim_config.<field> (e.g. nb_optim_config.lr).
 *  type          the update rule.
 *  lr            base learning rate, >= 0.
 *  momentum      tau in [0, 1): MOMENTUM and NESTEROV (NESTEROV needs > 0), and
 *                RMSPROP's optional momentum; must be 0 for SGD, ADAM and ADAMW.
 *  l2            L2 penalty alpha >= 0, added to the gradient (g += l2 * w) for every
 *                type: PyTorch's `weight_decay` argument of SGD, Adam and RMSprop.
 *  weight_decay  ADAMW's decoupled decay w -= lr * weight_decay * w, >= 0;
 *                must be 0 for the other types (use l2).
 *  beta1, beta2  ADAM/ADAMW moment decay rates in [0, 1).
 *  eps           >= 0, added to the denominator of ADAM, ADAMW and RMSPROP.
 *  rms_alpha     RMSPROP's square-average decay in [0, 1).
 *  clip_norm     > 0 clips the gradient by its global L2 norm (0: off).
 *  schedule      how nb_optim_set_epoch changes the learning rate.
 *  step_epochs   STEP: decay every step_epochs epochs (>= 1; 0 = unset).
 *  gamma         STEP: decay factor in (0, 1].
 *  total_epochs  COSINE: epochs of the half cosine (>= 1; 0 = unset).
 *  min_lr        COSINE: the final learning rate, in [0, lr].
 * Every float must be finite (NaN and infinity are rejected). */
typedef struct nb_optim_config {
    nb_optim_type type;
    float lr;
    float momentum;
    float l2;
    float weight_decay;
    float beta1, beta2, eps;
    float rms_alpha;
    float clip_norm;
    nb_schedule schedule;
    int step_epochs;
    float gamma;
    int total_epochs;
    float min_lr;
} nb_optim_config;

/* An optimizer: its settings, step count, scheduled learning rate and state arrays. */
typedef struct nb_optim nb_optim;

/* nb_optim_config_default: PyTorch's defaults for type, by value: lr 0.01 for SGD,
 * MOMENTUM and NESTEROV, 1e-3 for ADAM, ADAMW and RMSPROP; momentum 0.9 for MOMENTUM and
 * NESTEROV, else 0; weight_decay 0.01 for ADAMW, else 0; and for every type beta1 0.9,
 * beta2 0.999, eps 1e-8, rms_alpha 0.99, l2 0, clip_norm 0, a constant schedule, gamma 0.1,
 * step_epochs, total_epochs and min_lr 0. An unknown type is stored as given (create rejects
 * it). */
NB_API nb_optim_config nb_optim_config_default(nb_optim_type type);

/* nb_optim_config_check: validate every field of *cfg as nb_optim_create does, without
 * allocating. NB_OK, or NB_ERR_ARG with a message naming the field and value, e.g.
 * "optimizer: nb_optim_config.momentum 1.5 is not in [0, 1)". */
NB_API int nb_optim_config_check(const nb_optim_config *cfg);

/* nb_optim_create: an optimizer for n_params parameters (0 allowed), settings copied from
 * *cfg, step count 0, epoch 0 (learning rate cfg->lr), state arrays zero. *out receives it,
 * to release with nb_optim_free. NB_ERR_ARG on a bad setting (see nb_optim_config_check) or a
 * NULL pointer; NB_ERR_NOMEM when the state does not fit in memory. */
NB_API int nb_optim_create(const nb_optim_config *cfg, size_t n_params, nb_optim **out);

/* nb_optim_free: release o and its state arrays; NULL is a no-op. */
NB_API void nb_optim_free(nb_optim *o);

/* nb_optim_step: one update of params (n floats, in/out) from grads (n floats, read only),
 * n equal to n_params. In order: (1) the global gradient L2 norm, accumulated in double
 * when clip_norm > 0 (in a fixed order, independent of the thread count), else in float (it
 * is then only reported; a sum that overflows float is redone in double); a NaN or infinite
 * norm fails with NB_ERR_NUMERIC ("non-finite gradient (norm = nan) at element 3") and
 * leaves params, state and step count untouched; (2) when
 * clip_norm > 0, gradients are scaled by clip_norm / (norm + 1e-6) if that is < 1 (PyTorch's
 * clip_grad_norm_; grads itself is not written); (3) g += l2 * w; (4) the rule, with the
 * learning rate of the current epoch:
 *  SGD       w -= lr g
 *  MOMENTUM  v = tau v + g; w -= lr v           (PyTorch SGD(momentum=tau); v starts at 0,
 *                                                so the first step gives v = g, as PyTorch)
 *  NESTEROV  v = tau v + g; w -= lr (g + tau v) (PyTorch SGD(nesterov=True))
 *  ADAM      t = steps + 1; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 *            w -= lr/(1-b1^t) m / (sqrt(v)/sqrt(1-b2^t) + eps)   (PyTorch Adam)
 *  ADAMW     w *= 1 - lr weight_decay, then the ADAM rule (PyTorch AdamW)
 *  RMSPROP   s = alpha s + (1-alpha) g^2; w -= lr g / (sqrt(s) + eps); with momentum tau > 0:
 *            b = tau b + g / (sqrt(s) + eps); w -= lr b   (PyTorch RMSprop)
 * and (5) the step count goes up by one. NB_ERR_SHAPE when n != n_params; NB_ERR_ARG on a
 * NULL pointer (params and grads may be NULL when n is 0); NB_ERR_STATE if the step count
 * would pass INT64_MAX. Never allocates. */
NB_API int nb_optim_step(nb_optim *o, float *params, const float *grads, size_t n);

/* nb_optim_grad_norm: the global gradient norm (before clipping) seen by the last call of
 * nb_optim_step, successful or not (NaN or infinity after a non-finite gradient); 0 before
 * the first call. For logging; without clipping it was summed in float (about 1e-6
 * relative), with clipping in double. */
NB_API double nb_optim_grad_norm(const nb_optim *o);

/* nb_optim_set_epoch: select the learning rate for epoch (0-based), from the base rate lr:
 *  CONSTANT  lr
 *  STEP      lr * gamma^floor(epoch / step_epochs)           (PyTorch StepLR)
 *  COSINE    min_lr + (lr - min_lr) (1 + cos(pi epoch / total_epochs)) / 2 for
 *            epoch <= total_epochs, min_lr after (PyTorch CosineAnnealingLR's closed form,
 *            held at its end rather than rising again).
 * Computed in double from the epoch alone, so restoring a checkpoint only needs the epoch.
 * NB_ERR_ARG when epoch < 0 (the rate is then unchanged). */
NB_API int nb_optim_set_epoch(nb_optim *o, int epoch);

/* nb_optim_lr: the learning rate the next step uses. */
NB_API float nb_optim_lr(const nb_optim *o);

/* nb_optim_config_get: o's settings; borrowed, valid while o lives. */
NB_API const nb_optim_config *nb_optim_config_get(const nb_optim *o);

/* nb_optim_steps: the number of successful steps so far (ADAM's bias correction uses it). */
NB_API int64_t nb_optim_steps(const nb_optim *o);

/* nb_optim_set_steps: set the step count, to restore a checkpoint together with the state
 * arrays. NB_ERR_ARG when steps < 0. */
NB_API int nb_optim_set_steps(nb_optim *o, int64_t steps);

/* nb_optim_state_count: how many state arrays o has: SGD 0; MOMENTUM, NESTEROV 1 ("momentum");
 * ADAM, ADAMW 2 ("adam.m", "adam.v"); RMSPROP 1 ("rmsprop.square_avg") or, with momentum > 0,
 * 2 (then also "rmsprop.momentum"). */
NB_API int nb_optim_state_count(const nb_optim *o);

/* nb_optim_state: the i-th state array (0 <= i < nb_optim_state_count): *name its static name,
 * *data its n_params floats (read and written in place to save or restore a checkpoint), *n
 * its length. The arrays are contiguous, in index order: state i starts at i * n_params
 * floats from state 0. Borrowed; valid while o lives. All state is zero at step 0, so a
 * zero-filled state with steps 0 is a fresh optimizer. NB_ERR_ARG when i is out of range or a
 * pointer is NULL (outputs are then untouched). */
NB_API int nb_optim_state(nb_optim *o, int i, const char **name, float **data, size_t *n);

/* nb_optim_type_parse / nb_schedule_parse: "sgd", "momentum", "nesterov", "adam", "adamw",
 * "rmsprop" / "constant", "step", "cosine" (exact, lower case) into *out. NB_ERR_ARG naming
 * the string and the choices otherwise (*out untouched). nb_optim_type_name /
 * nb_schedule_name: the same names back, static storage; "unknown" for other values. */
NB_API int nb_optim_type_parse(const char *s, nb_optim_type *out);
NB_API int nb_schedule_parse(const char *s, nb_schedule *out);
NB_API const char *nb_optim_type_name(nb_optim_type type);
NB_API const char *nb_schedule_name(nb_schedule schedule);

#ifdef __cplusplus
}
#endif
#endif /* NABLA_OPTIM_H */
