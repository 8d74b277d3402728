/* SPDX-License-Identifier: MIT */
/*
 * test_compact.c - compact (byte) storage of IDX images gives exactly what float storage
 * gives: the same rows after split and scaling (minmax and standard), and the same trained
 * weights, at a quarter of the memory; many rows at once (split over the thread pool, on
 * every instruction set) give the bits of one row at a time; predicting from the compact
 * set gives the bits predicting from the floats gives. Uses the Fashion-MNIST test images
 * (10000 x 784).
 */
#include "nabla.h"
#include "check.h"
#include "../../src/ops/simd.h"
#include "../../src/data/data_internal.h" /* to see that compact storage is bytes */

#include <stdlib.h>

#define DATA "/usr/share/datasets/fashion-mnist"

static void compare(nb_scaling mode)
{
    nb_preproc *p1, *p2;
    nb_dataset *f = NULL, *c = NULL, *ft, *fv, *ct, *cv;
    nb_data_opts o = nb_data_opts_default();
    o.split = NB_SPLIT_TEST;
    nb_preproc_create(&p1), nb_preproc_create(&p2);
    CHECK_OK(nb_dataset_load(DATA, &o, p1, &f));
    o.compact = 1;
    CHECK_OK(nb_dataset_load(DATA, &o, p2, &c));
    if (!f || !c) return;
    CHECK(f->x && !f->x8 && c->x8 && !c->x);
    CHECK_OK(nb_dataset_split(f, 0.2, 5, &ft, &fv));
    CHECK_OK(nb_dataset_split(c, 0.2, 5, &ct, &cv));
    CHECK_OK(nb_preproc_fit_scaling(p1, mode, ft));
    CHECK_OK(nb_preproc_fit_scaling(p2, mode, ct));
    nb_dataset *fs[2] = {ft, fv}, *cs[2] = {ct, cv};
    size_t nf = 784;
    float *row = malloc(nf * sizeof *row);
    for (int k = 0; k < 2; k++) {
        CHECK_OK(nb_preproc_apply_scaling(p1, fs[k]));
        CHECK_OK(nb_preproc_apply_scaling(p2, cs[k]));
        CHECK(nb_dataset_n_rows(fs[k]) == nb_dataset_n_rows(cs[k]));
        int same = 1;
        for (int64_t i = 0; i < nb_dataset_n_rows(cs[k]) && same; i++) {
            nb_dataset_rows(cs[k], i, 1, row, NULL);
            same = memcmp(row, fs[k]->x + (size_t)i * nf, nf * sizeof(float)) == 0;
        }
        CHECK(same);
        CHECK(memcmp(nb_dataset_targets(fs[k]), nb_dataset_targets(cs[k]), (size_t)nb_dataset_n_rows(fs[k]) * sizeof(float)) == 0);
    }
    /* all rows at once and gathered in reverse, pooled and vectorised by every instruction
     * set: the bits of the float set */
    static const nb__isa isas[] = {NB__ISA_GENERIC, NB__ISA_AVX2, NB__ISA_AVX512};
    size_t n = (size_t)nb_dataset_n_rows(cv);
    float *all = malloc(n * nf * sizeof *all);
    int64_t *rev = malloc(n * sizeof *rev);
    for (size_t i = 0; i < n; i++) rev[i] = (int64_t)(n - 1 - i);
    for (int ii = 0; ii < 3; ii++) {
        if (nb__cpu_use(isas[ii]) != NB_OK) continue;
        for (int t = 1; t <= 2; t++) {
            nb_set_threads(t);
            memset(all, 0xff, n * nf * sizeof *all);
            CHECK_OK(nb_dataset_rows(cv, 0, (int64_t)n, all, NULL));
            CHECK(memcmp(all, fv->x, n * nf * sizeof *all) == 0);
            memset(all, 0xff, n * nf * sizeof *all);
            CHECK_OK(nb_dataset_gather(cv, rev, (int64_t)n, all, NULL));
            CHECK(memcmp(all + (n - 1) * nf, fv->x, nf * sizeof *all) == 0 && memcmp(all, fv->x + (n - 1) * nf, nf * sizeof *all) == 0);
        }
    }
    nb__cpu_use(NB__ISA_AUTO);
    nb_set_threads(1);
    free(rev);
    /* the same training on both gives the same weights */
    nb_model *a, *b;
    nb_train_config cfg = nb_train_config_default();
    cfg.epochs = 1;
    cfg.optim.lr = 0.05f;
    nb_model_parse("dense 32; relu; dense 10", NB_TASK_CLASSIFY, &a);
    nb_model_parse("dense 32; relu; dense 10", NB_TASK_CLASSIFY, &b);
    nb_model_build(a, 3, nb_dataset_sample_shape(ft), 10);
    nb_model_build(b, 3, nb_dataset_sample_shape(ct), 10);
    CHECK_OK(nb_model_train(a, ft, fv, &cfg, NULL));
    CHECK_OK(nb_model_train(b, ct, cv, &cfg, NULL));
    CHECK(memcmp(nb_model_params(a), nb_model_params(b), nb_model_param_count(a) * sizeof(float)) == 0);
    nb_metrics ma, mb;
    CHECK_OK(nb_model_evaluate(a, fv, &ma));
    CHECK_OK(nb_model_evaluate(b, cv, &mb));
    CHECK(ma.loss == mb.loss && ma.accuracy == mb.accuracy);
    nb_metrics_free(&ma), nb_metrics_free(&mb);
    /* predictions straight from the compact rows are those from the floats */
    float *pa = malloc(n * 10 * sizeof *pa), *pb = malloc(n * 10 * sizeof *pb);
    CHECK_OK(nb_model_predict(a, fv->x, (int64_t)n, pa));
    CHECK_OK(nb_model_predict_data(b, cv, 0, (int64_t)n, pb));
    CHECK(memcmp(pa, pb, n * 10 * sizeof *pa) == 0);
    CHECK_OK(nb_model_predict_data(b, cv, 5, 3, pb)); /* a range: rows 5..7 */
    CHECK(memcmp(pa + 50, pb, 30 * sizeof *pa) == 0);
    CHECK_ERR(nb_model_predict_data(b, cv, (int64_t)n - 2, 3, pb), NB_ERR_ARG, "are not in a dataset");
    CHECK_ERR(nb_model_predict_data(b, cv, 0, 0, pb), NB_ERR_ARG, "are not in a dataset");
    free(pa), free(pb), free(all);
    nb_model_free(a), nb_model_free(b);
    free(row);
    nb_dataset_free(f), nb_dataset_free(c), nb_dataset_free(ft), nb_dataset_free(fv), nb_dataset_free(ct), nb_dataset_free(cv);
    nb_preproc_free(p1), nb_preproc_free(p2);
}

int main(void)
{
    compare(NB_SCALE_MINMAX);
    compare(NB_SCALE_STANDARD);
    return check_exit("test_compact");
}
