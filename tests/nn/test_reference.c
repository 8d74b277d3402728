/* SPDX-License-Identifier: MIT */
/*
 * test_reference.c - nabla against PyTorch on the reference MLP recipe: the same initial
 * weights (nabla's seeded NB_INIT_TORCH, regenerated independently by the reference script)
 * and the first 10 mini-batches of Fashion-MNIST in file order must give PyTorch's per-step
 * losses (tests/ref/mlp_steps.txt, made by tests/ref/make_mlp_ref.py with python3-torch).
 * Needs the dataset-fashion-mnist package (scripts/deps.sh installs it); fails without it.
 */
#include "nabla.h"
#include "check.h"

#define DATA "/usr/share/datasets/fashion-mnist"

static double losses[10];
static int n_losses;

static int record(void *ud, const nb_progress *p)
{
    (void)ud;
    if (!p->stats && n_losses < 10) losses[n_losses++] = p->step_loss;
    return 0;
}

int main(void)
{
    FILE *f = fopen("tests/ref/mlp_steps.txt", "r");
    CHECK(f != NULL);
    if (!f) return check_exit("test_reference");
    char line[256];
    double ref_sum = 0, ref[10];
    int got = 0;
    if (fgets(line, sizeof line, f) && fscanf(f, "%lf", &ref_sum) == 1)
        while (got < 10 && fscanf(f, "%lf", &ref[got]) == 1) got++;
    fclose(f);
    CHECK(got == 10);

    nb_dataset *all = NULL, *train = NULL;
    nb_preproc *pp = NULL;
    nb_model *m = NULL;
    nb_data_opts opts = nb_data_opts_default();
    CHECK_OK(nb_preproc_create(&pp));
    int st = nb_dataset_load(DATA, &opts, pp, &all);
    CHECK_OK(st);
    if (st) {
        fprintf(stderr, "test_reference needs %s (Debian package dataset-fashion-mnist; run scripts/deps.sh)\n", DATA);
        nb_preproc_free(pp);
        return check_exit("test_reference");
    }
    /* the first 640 images, in file order */
    CHECK_OK(nb_dataset_truncate(all, 640));
    train = all;
    all = NULL;
    CHECK_OK(nb_preproc_fit_scaling(pp, NB_SCALE_MINMAX, train));
    CHECK_OK(nb_preproc_apply_scaling(pp, train));
    CHECK_OK(nb_model_parse("dense 256; relu; dense 128; relu; dense 10", NB_TASK_CLASSIFY, &m));
    CHECK_OK(nb_model_build(m, 1, (int64_t[]){784}, 10));
    CHECK_OK(nb_model_init(m, NB_INIT_TORCH, 0, 1));
    double sum = 0;
    float *p = nb_model_params(m);
    for (size_t i = 0; i < nb_model_param_count(m); i++) sum += (double)p[i];
    /* the same bits summed in a different order: agreement to ~1e-12 relative */
    CHECK_NEAR(sum, ref_sum, 1e-6, 1e-8);
    nb_train_config cfg = nb_train_config_default();
    cfg.epochs = 1;
    cfg.batch_size = 64;
    cfg.shuffle = 0;
    cfg.optim = nb_optim_config_default(NB_OPTIM_MOMENTUM);
    cfg.optim.lr = 0.05f;
    cfg.optim.momentum = 0.9f;
    cfg.progress = record;
    CHECK_OK(nb_model_train(m, train, NULL, &cfg, NULL));
    CHECK(n_losses == 10);
    /* float32 both sides; BLAS summation order differs, and differences grow over 10 steps of
     * momentum SGD: 1e-4 relative is far below the loss changes between steps (~1e-2) */
    for (int i = 0; i < n_losses; i++) {
        CHECK_NEAR(losses[i], ref[i], 0, 1e-4);
        printf("step %2d  nabla %.7f  pytorch %.7f\n", i + 1, losses[i], ref[i]);
    }
    nb_model_free(m);
    nb_preproc_free(pp);
    nb_dataset_free(all);
    nb_dataset_free(train);
    return check_exit("test_reference");
}
