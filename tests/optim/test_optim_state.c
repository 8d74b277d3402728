/* SPDX-License-Identifier: MIT */
/*
 * test_optim_state.c - optimizer state for checkpoints: the names and layout of the state
 * arrays, bit-exact continuation after copying steps and state into a fresh optimizer, and
 * allocation failures (every one returns NB_ERR_NOMEM and leaks nothing; a step allocates
 * nothing).
 */
#include "nabla.h"
#include "check.h"
#include "fault_alloc.h"

#include <stdint.h>
#include <stdlib.h>

/* Run two optimizers on the same gradients (which depend on the parameters). */
static void run_steps(nb_optim *o, float *w, size_t n, int first, int count)
{
    float g[8];
    for (int k = first; k < first + count; k++) {
        for (size_t j = 0; j < n; j++)
            g[j] = (w[j] * 2.0f - 1.0f) + 0.1f * (float)((k + (int)j) % 3);
        CHECK_OK(nb_optim_set_epoch(o, k));
        CHECK_OK(nb_optim_step(o, w, g, n));
    }
}

/* Checkpoint restore: 3 steps, copy steps and state into a fresh optimizer, then 2 more steps
 * in both must agree bit for bit; a fresh optimizer without the restore must not. */
static void test_restore(void)
{
    enum { N = 6 };
    for (int t = NB_OPTIM_SGD; t <= NB_OPTIM_RMSPROP; t++) {
        nb_optim_config c = nb_optim_config_default((nb_optim_type)t);
        c.lr = 0.05f;
        c.l2 = 0.01f;
        c.clip_norm = 2.0f;
        c.schedule = NB_SCHED_STEP;
        c.step_epochs = 2;
        c.gamma = 0.5f;
        if (t == NB_OPTIM_RMSPROP) c.momentum = 0.5f;
        nb_optim *a = NULL, *b = NULL, *fresh = NULL;
        CHECK_OK(nb_optim_create(&c, N, &a));
        CHECK_OK(nb_optim_create(&c, N, &b));
        CHECK_OK(nb_optim_create(&c, N, &fresh));
        if (!a || !b || !fresh) return;
        float wa[N] = {0.3f, -0.7f, 1.1f, 0.0f, -1.9f, 2.5f};
        run_steps(a, wa, N, 0, 3);
        float wb[N], wf[N];
        memcpy(wb, wa, sizeof wa);
        memcpy(wf, wa, sizeof wa);

        CHECK_OK(nb_optim_set_steps(b, nb_optim_steps(a)));
        CHECK(nb_optim_state_count(b) == nb_optim_state_count(a));
        for (int i = 0; i < nb_optim_state_count(a); i++) {
            const char *na, *nbn;
            float *da, *db;
            size_t la, lb;
            CHECK_OK(nb_optim_state(a, i, &na, &da, &la));
            CHECK_OK(nb_optim_state(b, i, &nbn, &db, &lb));
            CHECK(strcmp(na, nbn) == 0 && la == N && lb == N);
            memcpy(db, da, la * sizeof *da);
        }
        run_steps(a, wa, N, 3, 2);
        run_steps(b, wb, N, 3, 2);
        run_steps(fresh, wf, N, 3, 2);
        CHECK(memcmp(wa, wb, sizeof wa) == 0);
        CHECK(nb_optim_steps(a) == 5 && nb_optim_steps(b) == 5);
        for (int i = 0; i < nb_optim_state_count(a); i++) {
            const char *nm;
            float *da, *db;
            size_t len;
            CHECK_OK(nb_optim_state(a, i, &nm, &da, &len));
            CHECK_OK(nb_optim_state(b, i, &nm, &db, &len));
            CHECK(memcmp(da, db, len * sizeof *da) == 0);
        }
        /* Only SGD has no state: everywhere else forgetting it changes the result. */
        CHECK((memcmp(wa, wf, sizeof wa) != 0) == (t != NB_OPTIM_SGD));
        nb_optim_free(a);
        nb_optim_free(b);
        nb_optim_free(fresh);
    }
}

static void test_state_layout(void)
{
    const struct { nb_optim_type t; float momentum; int count; const char *n0, *n1; } cases[] = {
        {NB_OPTIM_SGD, 0.0f, 0, NULL, NULL},
        {NB_OPTIM_MOMENTUM, 0.9f, 1, "momentum", NULL},
        {NB_OPTIM_NESTEROV, 0.9f, 1, "momentum", NULL},
        {NB_OPTIM_ADAM, 0.0f, 2, "adam.m", "adam.v"},
        {NB_OPTIM_ADAMW, 0.0f, 2, "adam.m", "adam.v"},
        {NB_OPTIM_RMSPROP, 0.0f, 1, "rmsprop.square_avg", NULL},
        {NB_OPTIM_RMSPROP, 0.3f, 2, "rmsprop.square_avg", "rmsprop.momentum"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        nb_optim_config c = nb_optim_config_default(cases[k].t);
        c.momentum = cases[k].momentum;
        nb_optim *o = NULL;
        CHECK_OK(nb_optim_create(&c, 5, &o));
        if (!o) return;
        CHECK(nb_optim_state_count(o) == cases[k].count);
        const char *name = NULL;
        float *d0 = NULL, *d1 = NULL;
        size_t n = 0;
        for (int i = 0; i < cases[k].count; i++) {
            CHECK_OK(nb_optim_state(o, i, &name, i ? &d1 : &d0, &n));
            CHECK(n == 5 && strcmp(name, i ? cases[k].n1 : cases[k].n0) == 0);
        }
        if (cases[k].count == 2) CHECK(d1 == d0 + 5); /* contiguous: one write saves all */
        for (size_t j = 0; d0 && j < 5; j++) CHECK(d0[j] == 0.0f);
        CHECK_ERR(nb_optim_state(o, cases[k].count, &name, &d0, &n), NB_ERR_ARG,
                  "state index");
        CHECK_ERR(nb_optim_state(o, -1, &name, &d0, &n), NB_ERR_ARG, "not in [0,");
        CHECK_ERR(nb_optim_set_steps(o, -3), NB_ERR_ARG, "step count -3 is negative");
        CHECK_OK(nb_optim_set_steps(o, 12345678901LL));
        CHECK(nb_optim_steps(o) == 12345678901LL);
        nb_optim_free(o);
    }
    /* No parameters at all: a valid, empty optimizer. */
    nb_optim_config c = nb_optim_config_default(NB_OPTIM_ADAM);
    nb_optim *o = NULL;
    CHECK_OK(nb_optim_create(&c, 0, &o));
    CHECK_OK(nb_optim_step(o, NULL, NULL, 0));
    CHECK(nb_optim_steps(o) == 1 && nb_optim_grad_norm(o) == 0.0);
    nb_optim_free(o);
}

static void test_alloc_failures(void)
{
    nb_optim_config c = nb_optim_config_default(NB_OPTIM_ADAM);
    int failures = 0;
    for (long k = 1; k < 10; k++) {
        fa_begin(k);
        nb_optim *o = NULL;
        int rc = nb_optim_create(&c, 100, &o);
        if (rc == NB_OK) {
            /* A step allocates nothing. */
            float w[100] = {0}, g[100];
            for (int i = 0; i < 100; i++) g[i] = (float)i;
            long before = fa_calls;
            fa_fail_at = 0;
            CHECK_OK(nb_optim_step(o, w, g, 100));
            CHECK(fa_calls == before);
            nb_optim_free(o);
            CHECK(fa_live == 0);
            break;
        }
        failures++;
        CHECK(rc == NB_ERR_NOMEM && o == NULL && fa_live == 0);
        CHECK(strstr(nb_errmsg(), "optimizer") != NULL);
    }
    CHECK(failures == 2); /* the object and its state arrays */
    /* A state size that overflows is NB_ERR_NOMEM, not a wrapped small allocation. */
    nb_optim *o = NULL;
    fa_fail_at = 0;
    CHECK_ERR(nb_optim_create(&c, SIZE_MAX / 2, &o), NB_ERR_NOMEM, "optimizer");
    CHECK(o == NULL);
    fa_end();
}

int main(void)
{
    test_restore();
    test_state_layout();
    test_alloc_failures();
    return check_exit("test_optim_state");
}
