/*
 * test_compact.c - compact (byte) storage of IDX images gives exactly what float storage
 * gives: the same rows after split and scaling (minmax and standard), and the same trained
 * weights, at a quarter of the memory. Uses the Fashion-MNIST test images (10000 x 784).
 */
#include "nabla.h"
#include "check.h"

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
        CHECK(fs[k]->n == cs[k]->n);
        int same = 1;
        for (int64_t i = 0; i < cs[k]->n && same; i++) {
            nb_dataset_rows(cs[k], i, 1, row, NULL);
            same = memcmp(row, fs[k]->x + (size_t)i * nf, nf * sizeof(float)) == 0;
        }
        CHECK(same);
        CHECK(memcmp(fs[k]->y, cs[k]->y, (size_t)fs[k]->n * sizeof(float)) == 0);
    }
    /* the same training on both gives the same weights */
    nb_model *a, *b;
    nb_train_config cfg;
    nb_train_config_default(&cfg);
    cfg.epochs = 1;
    cfg.optim.lr = 0.05f;
    nb_model_parse("dense 32; relu; dense 10", NB_TASK_CLASSIFY, &a);
    nb_model_parse("dense 32; relu; dense 10", NB_TASK_CLASSIFY, &b);
    nb_model_build(a, 3, ft->sample_shape, 10);
    nb_model_build(b, 3, ct->sample_shape, 10);
    CHECK_OK(nb_model_train(a, ft, fv, &cfg, NULL));
    CHECK_OK(nb_model_train(b, ct, cv, &cfg, NULL));
    CHECK(memcmp(nb_model_params(a), nb_model_params(b), nb_model_param_count(a) * sizeof(float)) == 0);
    nb_metrics ma, mb;
    CHECK_OK(nb_model_evaluate(a, fv, &ma));
    CHECK_OK(nb_model_evaluate(b, cv, &mb));
    CHECK(ma.loss == mb.loss && ma.accuracy == mb.accuracy);
    nb_metrics_free(&ma), nb_metrics_free(&mb);
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
