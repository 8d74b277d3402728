/* SPDX-License-Identifier: MIT */
/*
 * test_optim.c - the optimizer API: defaults, names, validation of every setting, the lecture
 * notes' logistic-neuron step, clipping, schedules and non-finite gradients. Checkpoint state
 * is tested in test_optim_state.c, the comparison with PyTorch in test_optim_ref.c.
 */
#include "nabla.h"
#include "check.h"


static void test_defaults_and_names(void)
{
    nb_optim_config c = nb_optim_config_default(NB_OPTIM_SGD);
    CHECK(c.type == NB_OPTIM_SGD && c.lr == 0.01f && c.momentum == 0.0f && c.l2 == 0.0f);
    CHECK(c.weight_decay == 0.0f && c.clip_norm == 0.0f && c.schedule == NB_SCHED_CONSTANT);
    CHECK(c.beta1 == 0.9f && c.beta2 == 0.999f && c.eps == 1e-8f && c.rms_alpha == 0.99f);
    CHECK(c.gamma == 0.1f && c.step_epochs == 0 && c.total_epochs == 0 && c.min_lr == 0.0f);
    c = nb_optim_config_default(NB_OPTIM_MOMENTUM);
    CHECK(c.lr == 0.01f && c.momentum == 0.9f);
    c = nb_optim_config_default(NB_OPTIM_NESTEROV);
    CHECK(c.lr == 0.01f && c.momentum == 0.9f);
    c = nb_optim_config_default(NB_OPTIM_ADAM);
    CHECK(c.lr == 1e-3f && c.momentum == 0.0f && c.weight_decay == 0.0f);
    c = nb_optim_config_default(NB_OPTIM_ADAMW);
    CHECK(c.lr == 1e-3f && c.weight_decay == 0.01f);
    c = nb_optim_config_default(NB_OPTIM_RMSPROP);
    CHECK(c.lr == 1e-3f && c.momentum == 0.0f && c.rms_alpha == 0.99f && c.eps == 1e-8f);

    /* Every default is a valid configuration. */
    for (int t = NB_OPTIM_SGD; t <= NB_OPTIM_RMSPROP; t++) {
        c = nb_optim_config_default((nb_optim_type)t);
        CHECK_OK(nb_optim_config_check(&c));
    }

    const char *types[] = {"sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop"};
    for (int t = 0; t < 6; t++) {
        nb_optim_type got = NB_OPTIM_SGD;
        CHECK_OK(nb_optim_type_parse(types[t], &got));
        CHECK((int)got == t);
        CHECK(strcmp(nb_optim_type_name((nb_optim_type)t), types[t]) == 0);
    }
    const char *scheds[] = {"constant", "step", "cosine"};
    for (int s = 0; s < 3; s++) {
        nb_schedule got = NB_SCHED_CONSTANT;
        CHECK_OK(nb_schedule_parse(scheds[s], &got));
        CHECK((int)got == s);
        CHECK(strcmp(nb_schedule_name((nb_schedule)s), scheds[s]) == 0);
    }
    nb_optim_type t = NB_OPTIM_ADAM;
    CHECK_ERR(nb_optim_type_parse("Adam", &t), NB_ERR_ARG, "unknown optimizer 'Adam'");
    CHECK(t == NB_OPTIM_ADAM); /* untouched on failure */
    CHECK_ERR(nb_optim_type_parse(NULL, &t), NB_ERR_ARG, "NULL");
    nb_schedule s = NB_SCHED_STEP;
    CHECK_ERR(nb_schedule_parse("linear", &s), NB_ERR_ARG, "unknown schedule 'linear'");
    CHECK(s == NB_SCHED_STEP);
    CHECK(strcmp(nb_optim_type_name((nb_optim_type)42), "unknown") == 0);
    CHECK(strcmp(nb_schedule_name((nb_schedule)-1), "unknown") == 0);
}

/* cfg is default(type) changed by the statement `mutate`; create must fail with NB_ERR_ARG
 * and a message containing msg, and leave *out untouched. */
#define BAD(type, mutate, msg)                                                              \
    do {                                                                                    \
        nb_optim_config c_ = nb_optim_config_default(type);                                 \
        mutate;                                                                             \
        nb_optim *o_ = NULL;                                                                \
        CHECK_ERR(nb_optim_create(&c_, 3, &o_), NB_ERR_ARG, msg);                           \
        CHECK(o_ == NULL);                                                                  \
        CHECK_ERR(nb_optim_config_check(&c_), NB_ERR_ARG, msg);                             \
    } while (0)

/* Messages name the field as a C caller writes it (nb_optim_config.<field>), never a CLI
 * option: the CLI rewrites the names to its options (tests/cli/test_cli_units.c). */
static void test_invalid_configs(void)
{
    BAD(NB_OPTIM_SGD, c_.lr = -0.1f, "optimizer: nb_optim_config.lr -0.1 is not a finite number >= 0");
    BAD(NB_OPTIM_SGD, c_.lr = NAN, "nb_optim_config.lr nan is not");
    BAD(NB_OPTIM_SGD, c_.lr = INFINITY, "nb_optim_config.lr inf is not");
    BAD(NB_OPTIM_MOMENTUM, c_.momentum = 1.5f, "optimizer: nb_optim_config.momentum 1.5 is not in [0, 1)");
    BAD(NB_OPTIM_MOMENTUM, c_.momentum = 1.0f, "nb_optim_config.momentum 1 is not in [0, 1)");
    BAD(NB_OPTIM_NESTEROV, c_.momentum = -0.1f, "nb_optim_config.momentum -0.1 is not in [0, 1)");
    BAD(NB_OPTIM_MOMENTUM, c_.momentum = NAN, "nb_optim_config.momentum nan is not in [0, 1)");
    BAD(NB_OPTIM_SGD, c_.l2 = -0.5f, "nb_optim_config.l2 -0.5 is not a finite number >= 0");
    BAD(NB_OPTIM_ADAMW, c_.weight_decay = -1.0f, "nb_optim_config.weight_decay -1 is not");
    BAD(NB_OPTIM_ADAM, c_.beta1 = 1.0f, "nb_optim_config.beta1 1 is not in [0, 1)");
    BAD(NB_OPTIM_ADAM, c_.beta2 = NAN, "nb_optim_config.beta2 nan is not in [0, 1)");
    BAD(NB_OPTIM_ADAM, c_.beta2 = -0.5f, "nb_optim_config.beta2 -0.5 is not in [0, 1)");
    BAD(NB_OPTIM_ADAM, c_.eps = -1e-8f, "nb_optim_config.eps -1e-08 is not a finite number >= 0");
    BAD(NB_OPTIM_RMSPROP, c_.eps = INFINITY, "nb_optim_config.eps inf");
    BAD(NB_OPTIM_RMSPROP, c_.rms_alpha = 1.0f, "nb_optim_config.rms_alpha 1 is not in [0, 1)");
    BAD(NB_OPTIM_SGD, c_.clip_norm = -1.0f, "nb_optim_config.clip_norm -1 is not a finite number >= 0");
    BAD(NB_OPTIM_SGD, c_.clip_norm = INFINITY, "nb_optim_config.clip_norm inf");
    BAD(NB_OPTIM_SGD, c_.gamma = 0.0f, "nb_optim_config.gamma 0 is not in (0, 1]");
    BAD(NB_OPTIM_SGD, c_.gamma = 1.5f, "nb_optim_config.gamma 1.5 is not in (0, 1]");
    BAD(NB_OPTIM_SGD, c_.gamma = NAN, "nb_optim_config.gamma nan");
    BAD(NB_OPTIM_SGD, c_.step_epochs = -1, "nb_optim_config.step_epochs -1 is negative");
    BAD(NB_OPTIM_SGD, c_.total_epochs = -2, "nb_optim_config.total_epochs -2 is negative");
    BAD(NB_OPTIM_SGD, c_.min_lr = NAN, "nb_optim_config.min_lr nan");
    BAD(NB_OPTIM_SGD, c_.schedule = NB_SCHED_STEP, "nb_optim_config.schedule step needs nb_optim_config.step_epochs >= 1");
    BAD(NB_OPTIM_SGD, c_.schedule = NB_SCHED_COSINE, "nb_optim_config.schedule cosine needs nb_optim_config.total_epochs");
    BAD(NB_OPTIM_SGD, (c_.schedule = NB_SCHED_COSINE, c_.total_epochs = 10, c_.min_lr = 0.5f),
        "nb_optim_config.min_lr 0.5 is greater than nb_optim_config.lr 0.01");
    BAD(NB_OPTIM_SGD, c_.type = (nb_optim_type)99, "unknown optimizer type 99");
    BAD(NB_OPTIM_SGD, c_.schedule = (nb_schedule)7, "unknown schedule 7");
    /* Settings the rule would ignore. */
    BAD(NB_OPTIM_SGD, c_.momentum = 0.9f, "nb_optim_config.momentum 0.9 has no effect with sgd");
    BAD(NB_OPTIM_ADAM, c_.momentum = 0.5f, "nb_optim_config.momentum 0.5 has no effect with adam");
    BAD(NB_OPTIM_ADAM, c_.weight_decay = 0.01f, "nb_optim_config.weight_decay 0.01 applies only to adamw");
    BAD(NB_OPTIM_SGD, c_.weight_decay = 0.1f, "(use nb_optim_config.l2 with sgd)");
    BAD(NB_OPTIM_NESTEROV, c_.momentum = 0.0f, "nesterov needs nb_optim_config.momentum > 0");

    nb_optim_config c;
    nb_optim *o = NULL;
    c = nb_optim_config_default(NB_OPTIM_SGD);
    CHECK_ERR(nb_optim_create(NULL, 3, &o), NB_ERR_ARG, "config is NULL");
    CHECK_ERR(nb_optim_create(&c, 3, NULL), NB_ERR_ARG, "out is NULL");
    /* Boundary values that are valid. */
    c.lr = 0.0f;
    c.clip_norm = 0.0f;
    c.schedule = NB_SCHED_COSINE;
    c.total_epochs = 1;
    CHECK_OK(nb_optim_config_check(&c));
    c = nb_optim_config_default(NB_OPTIM_MOMENTUM);
    c.momentum = 0.0f; /* plain SGD through the momentum rule, as PyTorch allows */
    CHECK_OK(nb_optim_config_check(&c));
    nb_optim_free(NULL);
}

/* The lecture notes' logistic neuron: one gradient-descent step from w = (-3, 2, -3) with
 * gradient (-0.2689, 0.2689, 0.5379) and lr 0.001 gives (-2.99973, 1.99973, -3.00054). The
 * notes print 6 significant digits, so the tolerance is half a unit of the last: 5e-6. */
static void test_lecture_step(void)
{
    nb_optim_config c = nb_optim_config_default(NB_OPTIM_SGD);
    c.lr = 0.001f;
    nb_optim *o = NULL;
    CHECK_OK(nb_optim_create(&c, 3, &o));
    if (!o) return;
    float w[3] = {-3.0f, 2.0f, -3.0f};
    const float g[3] = {-0.2689f, 0.2689f, 0.5379f};
    CHECK_OK(nb_optim_step(o, w, g, 3));
    CHECK_NEAR(w[0], -2.99973, 5e-6, 0.0);
    CHECK_NEAR(w[1], 1.99973, 5e-6, 0.0);
    CHECK_NEAR(w[2], -3.00054, 5e-6, 0.0);
    CHECK(nb_optim_steps(o) == 1);
    CHECK(nb_optim_state_count(o) == 0);
    /* Without clipping the norm is only reported, summed in float: ~1e-7 relative here
     * (three float roundings); test_clipping checks the exact double sum used for clipping. */
    double want = sqrt((double)g[0] * (double)g[0] + (double)g[1] * (double)g[1] +
                       (double)g[2] * (double)g[2]);
    CHECK_NEAR(nb_optim_grad_norm(o), want, 0.0, 1e-6);
    CHECK_ERR(nb_optim_step(o, w, g, 2), NB_ERR_SHAPE, "step got 2 parameters, created for 3");
    CHECK_ERR(nb_optim_step(o, NULL, g, 3), NB_ERR_ARG, "params is NULL");
    CHECK(nb_optim_steps(o) == 1);
    nb_optim_free(o);
}

/* Clipping by the global norm: gradient (3, 4) has norm 5. With clip 1 and lr 1 from w = 0
 * the step is -(3, 4) / (5 + 1e-6); with clip 10 it is not clipped at all. */
static void test_clipping(void)
{
    nb_optim_config c = nb_optim_config_default(NB_OPTIM_SGD);
    c.lr = 1.0f;
    c.clip_norm = 1.0f;
    nb_optim *o = NULL;
    CHECK_OK(nb_optim_create(&c, 2, &o));
    if (!o) return;
    float w[2] = {0.0f, 0.0f};
    const float g[2] = {3.0f, 4.0f};
    CHECK_OK(nb_optim_step(o, w, g, 2));
    CHECK(nb_optim_grad_norm(o) == 5.0); /* reported before clipping */
    CHECK_NEAR(w[0], -0.6, 0.0, 1e-6); /* float rounding of 3 / (5 + 1e-6) */
    CHECK_NEAR(w[1], -0.8, 0.0, 1e-6);
    CHECK(w[0] > -0.6f && w[1] > -0.8f); /* the 1e-6 makes the step a hair smaller */
    CHECK(g[0] == 3.0f && g[1] == 4.0f); /* the caller's gradients are not written */
    nb_optim_free(o);

    c.clip_norm = 10.0f;
    CHECK_OK(nb_optim_create(&c, 2, &o));
    if (!o) return;
    w[0] = w[1] = 0.0f;
    CHECK_OK(nb_optim_step(o, w, g, 2));
    CHECK(w[0] == -3.0f && w[1] == -4.0f);
    nb_optim_free(o);

    /* With clipping the norm is the double sum of the exact squares (lanes of 32: with
     * fewer elements, the sum in index order); float would round 0.1^2 + 0.2^2 + 0.3^2. */
    const float g3[3] = {0.1f, 0.2f, 0.3f};
    float w3[3] = {0.0f, 0.0f, 0.0f};
    CHECK_OK(nb_optim_create(&c, 3, &o));
    if (!o) return;
    CHECK_OK(nb_optim_step(o, w3, g3, 3));
    double s01 = (double)g3[0] * (double)g3[0], s2 = (double)g3[2] * (double)g3[2];
    CHECK(nb_optim_grad_norm(o) == sqrt((s01 + s2) + (double)g3[1] * (double)g3[1])); /* the lane tree */
    float f = g3[0] * g3[0] + g3[1] * g3[1] + g3[2] * g3[2];
    CHECK(nb_optim_grad_norm(o) != sqrt((double)f)); /* so the check above could fail */
    nb_optim_free(o);
}

static void test_schedules(void)
{
    nb_optim_config c;
    nb_optim *o = NULL;
    c = nb_optim_config_default(NB_OPTIM_SGD);
    c.lr = 0.1f;
    CHECK_OK(nb_optim_create(&c, 1, &o));
    if (!o) return;
    CHECK(nb_optim_lr(o) == 0.1f);
    CHECK_OK(nb_optim_set_epoch(o, 50));
    CHECK(nb_optim_lr(o) == 0.1f);
    CHECK_ERR(nb_optim_set_epoch(o, -1), NB_ERR_ARG, "epoch -1 is negative");
    CHECK(nb_optim_lr(o) == 0.1f);
    nb_optim_free(o);

    /* Step decay: lr * gamma^floor(epoch / 3). */
    c.schedule = NB_SCHED_STEP;
    c.step_epochs = 3;
    c.gamma = 0.5f;
    CHECK_OK(nb_optim_create(&c, 1, &o));
    if (!o) return;
    const int ep[] = {0, 2, 3, 5, 6, 9};
    const double want_step[] = {0.1, 0.1, 0.05, 0.05, 0.025, 0.0125};
    for (int i = 0; i < 6; i++) {
        CHECK_OK(nb_optim_set_epoch(o, ep[i]));
        CHECK_NEAR(nb_optim_lr(o), want_step[i], 0.0, 1e-7); /* float rounding of the rate */
    }
    nb_optim_free(o);

    /* Cosine from 0.1 to 0.02 over 4 epochs, then held at 0.02. */
    c.schedule = NB_SCHED_COSINE;
    c.total_epochs = 4;
    c.min_lr = 0.02f;
    CHECK_OK(nb_optim_create(&c, 1, &o));
    if (!o) return;
    CHECK_NEAR(nb_optim_lr(o), 0.1, 0.0, 1e-7);
    CHECK_OK(nb_optim_set_epoch(o, 1));
    CHECK_NEAR(nb_optim_lr(o), 0.02 + 0.08 * (1.0 + sqrt(0.5)) / 2.0, 0.0, 1e-7);
    CHECK_OK(nb_optim_set_epoch(o, 2));
    CHECK_NEAR(nb_optim_lr(o), 0.06, 0.0, 1e-7);
    CHECK_OK(nb_optim_set_epoch(o, 4));
    CHECK_NEAR(nb_optim_lr(o), 0.02, 0.0, 1e-7);
    CHECK_OK(nb_optim_set_epoch(o, 7)); /* past the end: held, not rising again */
    CHECK_NEAR(nb_optim_lr(o), 0.02, 0.0, 1e-7);
    /* The step uses the scheduled rate: w = 1, g = 1 -> w = 1 - 0.02. */
    float w = 1.0f, g = 1.0f;
    CHECK_OK(nb_optim_step(o, &w, &g, 1));
    CHECK(w == 1.0f - 0.02f);
    CHECK(nb_optim_config_get(o)->total_epochs == 4);
    nb_optim_free(o);
}

static void test_nonfinite_gradient(void)
{
    nb_optim_config c = nb_optim_config_default(NB_OPTIM_ADAM);
    nb_optim *o = NULL;
    CHECK_OK(nb_optim_create(&c, 4, &o));
    if (!o) return;
    float w[4] = {1.0f, -2.0f, 3.0f, -4.0f};
    float g[4] = {0.5f, 0.25f, -1.0f, 2.0f};
    CHECK_OK(nb_optim_step(o, w, g, 4));
    float w_before[4], m_before[4], v_before[4];
    memcpy(w_before, w, sizeof w);
    const char *name;
    float *m, *v;
    size_t n;
    CHECK_OK(nb_optim_state(o, 0, &name, &m, &n));
    CHECK_OK(nb_optim_state(o, 1, &name, &v, &n));
    memcpy(m_before, m, sizeof m_before);
    memcpy(v_before, v, sizeof v_before);

    g[2] = NAN;
    CHECK_ERR(nb_optim_step(o, w, g, 4), NB_ERR_NUMERIC,
              "non-finite gradient (norm = nan) at element 2");
    CHECK(isnan(nb_optim_grad_norm(o)));
    g[2] = -INFINITY;
    CHECK_ERR(nb_optim_step(o, w, g, 4), NB_ERR_NUMERIC, "(norm = inf) at element 2");
    g[2] = -1.0f;
    g[0] = -NAN;
    CHECK_ERR(nb_optim_step(o, w, g, 4), NB_ERR_NUMERIC, "(norm = nan) at element 0");
    /* Nothing changed: parameters, state and step count, bit for bit. */
    CHECK(memcmp(w, w_before, sizeof w) == 0);
    CHECK(memcmp(m, m_before, sizeof m_before) == 0);
    CHECK(memcmp(v, v_before, sizeof v_before) == 0);
    CHECK(nb_optim_steps(o) == 1);
    /* Large but finite gradients are fine: their squares do not overflow in double. */
    g[0] = 3e38f;
    CHECK_OK(nb_optim_step(o, w, g, 4));
    CHECK(nb_optim_grad_norm(o) > 2.9e38);
    nb_optim_free(o);
}

int main(void)
{
    test_defaults_and_names();
    test_invalid_configs();
    test_lecture_step();
    test_clipping();
    test_schedules();
    test_nonfinite_gradient();
    return check_exit("test_optim");
}
