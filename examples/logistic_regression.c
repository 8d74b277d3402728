/* SPDX-License-Identifier: MIT */
/*
 * logistic_regression.c - the lecture notes' logistic neuron f = sigmoid(w0 + w1 x1 + w2 x2)
 * trained by gradient descent on a small synthetic two-class problem (two Gaussian blobs),
 * then its single gradient step at (x1, x2, y) = (-1, -2, 1) from w = (-3, 2, -3).
 */
#include <nabla.h>
#include <stdio.h>

int main(void)
{
    /* 1. the notes' single step: one example, eta = 0.001 */
    nb_model *m = NULL;
    nb_dataset *one = NULL, *blobs = NULL;
    int st = nb_model_create(NB_TASK_BINARY, &m);
    if (!st) st = nb_model_add_dense(m, 1, 1);
    if (!st) st = nb_model_build(m, 1, (int64_t[]){2}, 1);
    const float x1[2] = {-1, -2}, y1[1] = {1};
    if (!st) st = nb_dataset_create_from(x1, 1, 2, y1, 1, NB_TASK_BINARY, 2, &one);
    if (st) goto fail;
    float *w = nb_model_params(m); /* layers.0.weight (1, 2) then layers.0.bias (1) */
    w[0] = 2, w[1] = -3, w[2] = -3; /* w1, w2, then the bias w0 */
    float f;
    if ((st = nb_model_predict(m, x1, 1, &f))) goto fail;
    printf("f(w = (-3, 2, -3), x = (-1, -2)) = %.4f\n", (double)f);
    nb_train_config cfg = nb_train_config_default();
    cfg.epochs = 1;
    cfg.optim = nb_optim_config_default(NB_OPTIM_SGD); /* the plain gradient step of the text */
    cfg.optim.lr = 0.001f;
    if ((st = nb_model_train(m, one, NULL, &cfg, NULL)) || (st = nb_model_predict(m, x1, 1, &f))) goto fail;
    printf("after one step with eta 0.001: w = (%.5f, %.5f, %.5f), f = %.4f\n", (double)w[2], (double)w[0], (double)w[1], (double)f);
    nb_model_free(m);
    m = NULL;

    /* 2. a logistic regression on 200 points of two blobs */
    float x[200 * 2], y[200];
    nb_rng r;
    nb_rng_seed(&r, 11);
    for (int i = 0; i < 200; i++) {
        float cls = (float)(i % 2);
        x[2 * i] = (cls ? 1.5f : -1.5f) + nb_rng_normal(&r);
        x[2 * i + 1] = (cls ? -1.0f : 1.0f) + nb_rng_normal(&r);
        y[i] = cls;
    }
    if ((st = nb_dataset_create_from(x, 200, 2, y, 1, NB_TASK_BINARY, 2, &blobs))) goto fail;
    if ((st = nb_model_parse("dense 1", NB_TASK_BINARY, &m)) || (st = nb_model_build(m, 1, (int64_t[]){2}, 1))) goto fail;
    cfg.epochs = 50;
    cfg.batch_size = 16;
    cfg.optim.lr = 0.1f;
    nb_metrics mt;
    if ((st = nb_model_train(m, blobs, NULL, &cfg, NULL)) || (st = nb_model_evaluate(m, blobs, &mt))) goto fail;
    printf("logistic regression on two blobs: training accuracy %.1f%%, loss %.4f\n", 100 * mt.accuracy, mt.loss);
    nb_metrics_free(&mt);
fail:
    if (st) fprintf(stderr, "logistic_regression: %s\n", nb_errmsg());
    nb_model_free(m);
    nb_dataset_free(one);
    nb_dataset_free(blobs);
    return st ? 1 : 0;
}
