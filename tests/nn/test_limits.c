/* SPDX-License-Identifier: MIT */
/*
 * test_limits.c - sizes nabla must not turn into allocations: a history for a billion epochs
 * (issue 14, item 11), summaries and builds of huge specs (item 4), metadata too large to save
 * (item 7), evaluation of many classes (item 9). A byte-counting allocator hook measures the
 * peak and refuses anything past a cap, so "asked for 64 GB" shows as NB_ERR_NOMEM here
 * instead of swapping the machine.
 */
#include "nabla.h"
#include "check.h"
#include "alloc_fixture.h"

#include <stdlib.h>
#include <string.h>

#define MB ((size_t)1 << 20)

/* n rows of f features, classes i % k */
static nb_dataset *rows(int64_t n, int64_t f, int k)
{
    nb_dataset *ds = NULL;
    float *x = malloc((size_t)(n * f) * sizeof *x), *y = malloc((size_t)n * sizeof *y);
    if (x && y) {
        for (int64_t i = 0; i < n * f; i++) x[i] = (float)((i * 7) % 11) / 11.0f;
        for (int64_t i = 0; i < n; i++) y[i] = (float)(i % k);
        if (nb_dataset_create_from(x, n, f, y, 1, NB_TASK_CLASSIFY, k, &ds) != NB_OK) ds = NULL;
    }
    free(x);
    free(y);
    return ds;
}

static int stop_after_3(void *ud, const nb_progress *p)
{
    (void)ud;
    return p->stats && p->stats->epoch >= 3;
}

/* item 11: --epochs 1000000000 is in range; the history grows as epochs finish */
static void test_billion_epochs(void)
{
    track_begin_cap(64 * MB);
    nb_dataset *ds = rows(8, 3, 2);
    nb_model *m = NULL;
    CHECK(ds != NULL);
    CHECK_OK(nb_model_parse("dense 2", NB_TASK_CLASSIFY, &m));
    CHECK_OK(nb_model_build(m, 1, (int64_t[]){3}, 2));
    nb_train_config cfg = nb_train_config_default();
    cfg.epochs = 1000000000;
    cfg.progress = stop_after_3;
    nb_history h;
    CHECK_ERR(nb_model_train(m, ds, NULL, &cfg, &h), NB_ERR_INTERRUPTED, "interrupted");
    CHECK(h.n == 3);
    if (h.n == 3) CHECK(h.epochs[2].epoch == 3);
    CHECK(mem_peak < 4 * MB);
    nb_history_free(&h);
    nb_model_free(m);
    nb_dataset_free(ds);
    track_end();
}

/* item 4: a plan describes a model of any size and allocates nothing beyond the parse; a
 * build past the memory limit is NB_ERR_NOMEM before it allocates */
static void test_plan_huge(const char *spec, int rank, const int64_t *shape, size_t params)
{
    nb_model *m = NULL;
    CHECK_OK(nb_model_parse(spec, NB_TASK_CLASSIFY, &m));
    if (!m) return;
    track_begin_cap(1 * MB);
    CHECK_OK(nb_model_plan(m, rank, shape, 0));
    CHECK(nb_model_param_count(m) == params);
    size_t sum = 0;
    for (int i = 0; i < nb_model_n_layers(m); i++) {
        nb_layer_info li;
        CHECK_OK(nb_model_layer_info(m, i, &li));
        sum += li.n_params;
    }
    CHECK(sum == params);
    CHECK(mem_peak == 0);
    track_end();
    nb_model_free(m);
}

static void test_build_refused(void)
{
    nb_model *m = NULL;
    CHECK_OK(nb_model_parse("flatten; dense 100000000", NB_TASK_CLASSIFY, &m));
    if (!m) return;
    track_begin_cap(64 * MB);
    /* 6.7e15 weights: 54 PB with their gradients, on any machine */
    CHECK_ERR(nb_model_build(m, 3, (int64_t[]){1, 8192, 8192}, 0), NB_ERR_NOMEM, "parameters with their gradients");
    CHECK(mem_peak == 0);
    track_end();
    /* the same model at a small input still builds */
    CHECK_OK(nb_model_plan(m, 1, (int64_t[]){2}, 0));
    nb_model_free(m);
    CHECK_OK(nb_model_parse("dense 3", NB_TASK_CLASSIFY, &m));
    CHECK_OK(nb_model_plan(m, 1, (int64_t[]){4}, 3));
    CHECK(nb_model_param_count(m) == 15);
    CHECK_OK(nb_model_build(m, 1, (int64_t[]){4}, 3));
    CHECK(nb_model_param_count(m) == 15);
    nb_model_free(m);
}

/* item 9: evaluation at the 65536-class limit; the 32 GiB confusion matrix is not made, the
 * per-class figures come from counts */
static void test_many_classes(void)
{
    const int K = 65536;
    track_begin_cap(256 * MB); /* from the start: blocks must not cross allocators */
    nb_dataset *ds = rows(200, 2, K);
    nb_model *m = NULL;
    CHECK(ds != NULL);
    CHECK_OK(nb_model_parse("dense 65536", NB_TASK_CLASSIFY, &m));
    CHECK_OK(nb_model_build(m, 1, (int64_t[]){2}, K));
    size_t base = mem_live;
    mem_peak = base;
    nb_metrics mt;
    CHECK_OK(nb_model_evaluate(m, ds, &mt));
    CHECK(mt.n_classes == K && mt.confusion == NULL && mt.support && mt.f1);
    if (mt.support) CHECK(mt.support[0] == 1 && mt.support[199] == 1 && mt.support[200] == 0);
    CHECK(mem_peak - base < 128 * MB);
    nb_metrics_free(&mt);
    nb_model_free(m);
    nb_dataset_free(ds);
    track_end();
    /* a few classes still get the matrix, and support agrees with its rows */
    ds = rows(30, 2, 3);
    CHECK_OK(nb_model_parse("dense 3", NB_TASK_CLASSIFY, &m));
    CHECK_OK(nb_model_build(m, 1, (int64_t[]){2}, 3));
    CHECK_OK(nb_model_evaluate(m, ds, &mt));
    CHECK(mt.confusion != NULL);
    if (mt.confusion)
        for (int c = 0; c < 3; c++) CHECK(mt.support[c] == mt.confusion[c * 3] + mt.confusion[c * 3 + 1] + mt.confusion[c * 3 + 2]);
    nb_metrics_free(&mt);
    nb_model_free(m);
    nb_dataset_free(ds);
}

int main(void)
{
    test_plan_huge("conv 4 3x3; flatten; dense 10", 3, (int64_t[]){1, 8192, 8192}, 2683044050u);
    test_plan_huge("dense 100000000", 1, (int64_t[]){10}, 1100000000u);
    test_plan_huge("conv 8 3x3; batchnorm; flatten; dense 10", 3, (int64_t[]){1, 8, 8}, 80 + 16 + 2890);
    test_build_refused();
    test_many_classes();
    test_billion_epochs();
    return check_exit("test_limits");
}
