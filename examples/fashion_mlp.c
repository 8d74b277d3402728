/* SPDX-License-Identifier: MIT */
/*
 * fashion_mlp.c - the reference MLP on Fashion-MNIST from C: 784 -> 256 ReLU -> 128 ReLU -> 10,
 * softmax cross-entropy, SGD lr 0.05 momentum 0.9, batch 64, pixels scaled to [0, 1].
 * Usage: fashion_mlp [DIR [EPOCHS [MODEL.safetensors]]]  (DIR defaults to the Debian
 * package's /usr/share/datasets/fashion-mnist). Prints each epoch and the test accuracy.
 * NB_THREADS=N in the environment runs the kernels on N threads (default: nabla's, one).
 */
#include <nabla.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int show(void *ud, const nb_progress *p)
{
    (void)ud;
    if (p->stats)
        printf("epoch %2d/%d  train loss %.4f acc %.2f%%  val loss %.4f acc %.2f%%  %.1f s\n", p->epoch, p->epochs,
               p->stats->train_loss, 100 * p->stats->train_acc, p->stats->val_loss, 100 * p->stats->val_acc, p->stats->seconds);
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
    int epochs = argc > 2 ? atoi(argv[2]) : 10;
    const char *out = argc > 3 ? argv[3] : NULL;
    nb_dataset *all = NULL, *train = NULL, *val = NULL, *test = NULL;
    nb_preproc *pp = NULL;
    nb_model *m = NULL;
    nb_metrics mt = {0};
    nb_data_opts opts = nb_data_opts_default();
    if (getenv("NB_THREADS")) nb_set_threads(atoi(getenv("NB_THREADS")));
    int st;
    if ((st = nb_preproc_create(&pp)) || (st = nb_dataset_load(dir, &opts, pp, &all))) goto fail;
    opts.split = NB_SPLIT_TEST;
    if ((st = nb_dataset_load(dir, &opts, pp, &test))) goto fail;
    /* 10% of the training images for validation; the test set is scored once at the end */
    if ((st = nb_dataset_split(all, 0.1, 1, &train, &val))) goto fail;
    if ((st = nb_preproc_fit_scaling(pp, NB_SCALE_MINMAX, train)) || (st = nb_preproc_apply_scaling(pp, train)) ||
        (st = nb_preproc_apply_scaling(pp, val)) || (st = nb_preproc_apply_scaling(pp, test)))
        goto fail;
    if ((st = nb_model_parse("dense 256; relu; dense 128; relu; dense 10", NB_TASK_CLASSIFY, &m)) ||
        (st = nb_model_build(m, nb_dataset_sample_rank(train), nb_dataset_sample_shape(train),
                             nb_dataset_n_classes(train))) ||
        (st = nb_model_init(m, NB_INIT_TORCH, 0, 1)))
        goto fail;
    nb_train_config cfg = nb_train_config_default();
    cfg.epochs = epochs;
    cfg.batch_size = 64;
    cfg.optim = nb_optim_config_default(NB_OPTIM_MOMENTUM);
    cfg.optim.lr = 0.05f;
    cfg.optim.momentum = 0.9f;
    cfg.seed = 1;
    cfg.progress = show;
    printf("%zu parameters\n", nb_model_param_count(m));
    if ((st = nb_model_train(m, train, val, &cfg, NULL))) goto fail;
    if ((st = nb_model_evaluate(m, test, &mt))) goto fail;
    printf("test loss %.4f  test accuracy %.2f%%\n", mt.loss, 100 * mt.accuracy);
    if (out && (st = nb_model_save(m, out, pp))) goto fail;
fail:
    if (st) fprintf(stderr, "fashion_mlp: %s\n", nb_errmsg());
    nb_metrics_free(&mt);
    nb_model_free(m);
    nb_preproc_free(pp);
    nb_dataset_free(all), nb_dataset_free(train), nb_dataset_free(val), nb_dataset_free(test);
    return st ? 1 : 0;
}
