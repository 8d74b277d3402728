/* SPDX-License-Identifier: MIT */
/* quickstart.c - the README's example: train a small classifier on two blobs, save it. */
#include <nabla.h>
#include <stdio.h>

int main(void)
{
    float x[200 * 2], y[200];            /* 200 points in 2-D, two classes */
    nb_rng r;
    nb_rng_seed(&r, 1);
    for (int i = 0; i < 200; i++) {
        int c = i % 2;
        x[2 * i] = (c ? 1.0f : -1.0f) + 0.5f * nb_rng_normal(&r);
        x[2 * i + 1] = (c ? -1.0f : 1.0f) + 0.5f * nb_rng_normal(&r);
        y[i] = (float)c;
    }
    nb_dataset *d;                       /* a copy: 200 rows, 2 features, 1 target */
    if (nb_dataset_create_from(x, 200, 2, y, 1, NB_TASK_CLASSIFY, 2, &d)) return 1;

    nb_model *m;
    nb_train_config cfg = nb_train_config_default(); /* Adam lr 1e-3, batch 64, auto epochs */
    nb_metrics mt;
    if (nb_model_parse("dense 8; relu; dense 2", NB_TASK_CLASSIFY, &m) ||
        nb_model_build(m, 1, (int64_t[]){2}, 2) ||
        nb_model_train(m, d, NULL, &cfg, NULL) ||
        nb_model_evaluate(m, d, &mt) ||
        nb_model_save(m, "blobs.safetensors", NULL)) {
        fprintf(stderr, "error: %s\n", nb_errmsg());
        return 1;
    }
    printf("accuracy %.1f%%, %zu parameters, saved blobs.safetensors\n",
           100 * mt.accuracy, nb_model_param_count(m));
    nb_metrics_free(&mt);
    nb_model_free(m);
    nb_dataset_free(d);
    return 0;
}
