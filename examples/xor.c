/* SPDX-License-Identifier: MIT */
/*
 * xor.c - XOR with a 2-2-1 sigmoid network: the classic problem no linear classifier solves.
 * Full-batch gradient descent with momentum on the four points, binary cross-entropy on one
 * sigmoid output. Prints the learned probabilities; exits non-zero if XOR was not learned.
 */
#include <nabla.h>
#include <stdio.h>

int main(void)
{
    const float x[8] = {0, 0, 0, 1, 1, 0, 1, 1}, y[4] = {0, 1, 1, 0};
    nb_dataset *d;
    if (nb_dataset_create_from(x, 4, 2, y, 1, NB_TASK_BINARY, 2, &d)) return 1;

    nb_model *m = NULL;
    int st = nb_model_create(NB_TASK_BINARY, &m);
    if (!st) st = nb_model_add_dense(m, 2, 1);
    if (!st) st = nb_model_add_activation(m, NB_OP_SIGMOID, 0);
    if (!st) st = nb_model_add_dense(m, 1, 1);
    if (!st) st = nb_model_add_activation(m, NB_OP_SIGMOID, 0); /* the output unit */
    if (!st) st = nb_model_build(m, 1, (int64_t[]){2}, 1);
    if (!st) st = nb_model_init(m, NB_INIT_XAVIER_NORMAL, 0, 3);
    nb_train_config cfg = nb_train_config_default();
    cfg.epochs = 2000;
    cfg.batch_size = 4; /* full batch: plain gradient descent */
    cfg.optim = nb_optim_config_default(NB_OPTIM_MOMENTUM);
    cfg.optim.lr = 0.5f;
    cfg.optim.momentum = 0.9f;
    nb_history h = {0};
    if (!st) st = nb_model_train(m, d, NULL, &cfg, &h);
    float p[4];
    if (!st) st = nb_model_predict(m, x, 4, p);
    int ok = !st;
    if (!st) {
        printf("XOR after %d epochs (loss %.4f):\n", h.n, h.epochs[h.n - 1].train_loss);
        for (int i = 0; i < 4; i++) {
            printf("  %g xor %g = %g   p = %.3f\n", (double)x[2 * i], (double)x[2 * i + 1], (double)y[i], (double)p[i]);
            ok &= (p[i] > 0.5f) == (y[i] > 0.5f);
        }
        printf("%s\n", ok ? "learned" : "NOT learned");
    } else {
        fprintf(stderr, "xor: %s\n", nb_errmsg());
    }
    nb_history_free(&h);
    nb_model_free(m);
    nb_dataset_free(d);
    return ok ? 0 : 1;
}
