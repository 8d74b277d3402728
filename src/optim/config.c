/* SPDX-License-Identifier: MIT */
/*
 * config.c - optimizer settings: PyTorch's defaults, validation of every field (each error
 * names the field as nb_optim_config.<field>, and its value: the CLI maps that name to its
 * option), and the names of optimizers and schedules.
 * Invariant: a config accepted by nb_optim_config_check makes every update rule and schedule
 * well defined (finite hyper-parameters, decay rates in [0, 1), no setting silently ignored).
 */
#include "optim_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const g_type_names[] = {"sgd", "momentum", "nesterov", "adam", "adamw",
                                           "rmsprop"};
static const char *const g_sched_names[] = {"constant", "step", "cosine"};
#define N_TYPES ((int)(sizeof g_type_names / sizeof g_type_names[0]))
#define N_SCHEDS ((int)(sizeof g_sched_names / sizeof g_sched_names[0]))

nb_optim_config nb_optim_config_default(nb_optim_type type)
{
    /* Defaults of torch.optim (SGD, Adam, AdamW, RMSprop) and of StepLR's gamma. */
    nb_optim_config cfg;
    memset(&cfg, 0, sizeof cfg); /* what is not set below is 0 */
    cfg.type = type;
    int adaptive = type == NB_OPTIM_ADAM || type == NB_OPTIM_ADAMW || type == NB_OPTIM_RMSPROP;
    cfg.lr = adaptive ? 1e-3f : 0.01f;
    cfg.momentum = (type == NB_OPTIM_MOMENTUM || type == NB_OPTIM_NESTEROV) ? 0.9f : 0.0f;
    cfg.weight_decay = type == NB_OPTIM_ADAMW ? 0.01f : 0.0f;
    cfg.beta1 = 0.9f;
    cfg.beta2 = 0.999f;
    cfg.eps = 1e-8f;
    cfg.rms_alpha = 0.99f;
    cfg.schedule = NB_SCHED_CONSTANT;
    cfg.gamma = 0.1f;
    return cfg;
}

/* v as "%g", but NaN always as "nan" (glibc would print a negative NaN as "-nan"). */
static const char *num(char *buf, size_t cap, float v)
{
    if (isnan(v)) return "nan";
    nb__snprintf(buf, cap, "%g", (double)v);
    return buf;
}

/* v must be finite and >= 0. */
static int check_nonneg(const char *opt, float v)
{
    char b[32];
    if (isfinite(v) && v >= 0.0f) return NB_OK;
    return nb__fail(NB_ERR_ARG, "optimizer: %s %s is not a finite number >= 0", opt,
                    num(b, sizeof b, v));
}

/* v must be in [0, 1) (false for NaN, so NaN is rejected too). */
static int check_unit(const char *opt, float v)
{
    char b[32];
    if (v >= 0.0f && v < 1.0f) return NB_OK;
    return nb__fail(NB_ERR_ARG, "optimizer: %s %s is not in [0, 1)", opt, num(b, sizeof b, v));
}

int nb_optim_config_check(const nb_optim_config *cfg)
{
    char b[32], b2[32];
    int rc;
    if (!cfg) return nb__fail(NB_ERR_ARG, "optimizer: config is NULL");
    if ((int)cfg->type < 0 || (int)cfg->type >= N_TYPES)
        return nb__fail(NB_ERR_ARG, "optimizer: unknown optimizer type %d", (int)cfg->type);
    if ((rc = check_nonneg("nb_optim_config.lr", cfg->lr))) return rc;
    if ((rc = check_unit("nb_optim_config.momentum", cfg->momentum))) return rc;
    if ((rc = check_nonneg("nb_optim_config.l2", cfg->l2))) return rc;
    if ((rc = check_nonneg("nb_optim_config.weight_decay", cfg->weight_decay))) return rc;
    if ((rc = check_unit("nb_optim_config.beta1", cfg->beta1))) return rc;
    if ((rc = check_unit("nb_optim_config.beta2", cfg->beta2))) return rc;
    if ((rc = check_nonneg("nb_optim_config.eps", cfg->eps))) return rc;
    if ((rc = check_unit("nb_optim_config.rms_alpha", cfg->rms_alpha))) return rc;
    if ((rc = check_nonneg("nb_optim_config.clip_norm", cfg->clip_norm))) return rc;
    if ((int)cfg->schedule < 0 || (int)cfg->schedule >= N_SCHEDS)
        return nb__fail(NB_ERR_ARG, "optimizer: unknown schedule %d", (int)cfg->schedule);
    if (cfg->step_epochs < 0)
        return nb__fail(NB_ERR_ARG, "optimizer: nb_optim_config.step_epochs %d is negative", cfg->step_epochs);
    if (!(cfg->gamma > 0.0f && cfg->gamma <= 1.0f))
        return nb__fail(NB_ERR_ARG, "optimizer: nb_optim_config.gamma %s is not in (0, 1]",
                        num(b, sizeof b, cfg->gamma));
    if (cfg->total_epochs < 0)
        return nb__fail(NB_ERR_ARG, "optimizer: nb_optim_config.total_epochs %d is negative",
                        cfg->total_epochs);
    if ((rc = check_nonneg("nb_optim_config.min_lr", cfg->min_lr))) return rc;

    /* Settings the chosen rule would silently ignore are errors, so a typo cannot go unseen. */
    const char *tname = g_type_names[cfg->type];
    int has_momentum = cfg->type == NB_OPTIM_MOMENTUM || cfg->type == NB_OPTIM_NESTEROV ||
                       cfg->type == NB_OPTIM_RMSPROP;
    if (!has_momentum && cfg->momentum != 0.0f)
        return nb__fail(NB_ERR_ARG,
                        "optimizer: nb_optim_config.momentum %s has no effect with %s (choose momentum, "
                        "nesterov or rmsprop)", num(b, sizeof b, cfg->momentum), tname);
    if (cfg->type == NB_OPTIM_NESTEROV && cfg->momentum == 0.0f)
        return nb__fail(NB_ERR_ARG, "optimizer: nesterov needs nb_optim_config.momentum > 0 (got 0)");
    if (cfg->type != NB_OPTIM_ADAMW && cfg->weight_decay != 0.0f)
        return nb__fail(NB_ERR_ARG,
                        "optimizer: nb_optim_config.weight_decay %s applies only to adamw (use "
                        "nb_optim_config.l2 with %s)",
                        num(b, sizeof b, cfg->weight_decay), tname);
    if (cfg->schedule == NB_SCHED_STEP && cfg->step_epochs < 1)
        return nb__fail(NB_ERR_ARG, "optimizer: nb_optim_config.schedule step needs "
                        "nb_optim_config.step_epochs >= 1 (got %d)", cfg->step_epochs);
    if (cfg->schedule == NB_SCHED_COSINE && cfg->total_epochs < 1)
        return nb__fail(NB_ERR_ARG,
                        "optimizer: nb_optim_config.schedule cosine needs "
                        "nb_optim_config.total_epochs >= 1 (got %d)",
                        cfg->total_epochs);
    if (cfg->schedule == NB_SCHED_COSINE && cfg->min_lr > cfg->lr)
        return nb__fail(NB_ERR_ARG, "optimizer: nb_optim_config.min_lr %s is greater than "
                        "nb_optim_config.lr %s",
                        num(b, sizeof b, cfg->min_lr), num(b2, sizeof b2, cfg->lr));
    return NB_OK;
}

int nb_optim_type_parse(const char *s, nb_optim_type *out)
{
    if (!s || !out) return nb__fail(NB_ERR_ARG, "nb_optim_type_parse: %s is NULL", !s ? "name" : "out");
    for (int i = 0; i < N_TYPES; i++)
        if (strcmp(s, g_type_names[i]) == 0) {
            *out = (nb_optim_type)i;
            return NB_OK;
        }
    return nb__fail(NB_ERR_ARG,
                    "optimizer: unknown optimizer '%.64s' (choose sgd, momentum, nesterov, adam, "
                    "adamw or rmsprop)", s);
}

int nb_schedule_parse(const char *s, nb_schedule *out)
{
    if (!s || !out) return nb__fail(NB_ERR_ARG, "nb_schedule_parse: %s is NULL", !s ? "name" : "out");
    for (int i = 0; i < N_SCHEDS; i++)
        if (strcmp(s, g_sched_names[i]) == 0) {
            *out = (nb_schedule)i;
            return NB_OK;
        }
    return nb__fail(NB_ERR_ARG,
                    "optimizer: unknown schedule '%.64s' (choose constant, step or cosine)", s);
}

const char *nb_optim_type_name(nb_optim_type type)
{
    return (int)type >= 0 && (int)type < N_TYPES ? g_type_names[type] : "unknown";
}

const char *nb_schedule_name(nb_schedule schedule)
{
    return (int)schedule >= 0 && (int)schedule < N_SCHEDS ? g_sched_names[schedule] : "unknown";
}
