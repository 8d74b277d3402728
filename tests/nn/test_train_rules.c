/* SPDX-License-Identifier: MIT */
/*
 * test_train_rules.c - rules nb_model_train enforces around the data and the model: batch
 * norm never trains on one value per channel (the op refuses it, training skips a 1-row last
 * batch), and the running statistics are then those of the real batches; no activation after
 * the output layer.
 */
#include "nabla.h"
#include "check.h"

#include <stdlib.h>

/* n rows of f deterministic normal features, 3 classes */
static nb_dataset *noise(int64_t n, int64_t f)
{
    nb_dataset *ds = NULL;
    float *x = malloc((size_t)(n * f) * sizeof *x), *y = malloc((size_t)n * sizeof *y);
    if (x && y) {
        nb_rng r;
        nb_rng_seed(&r, 5);
        for (int64_t i = 0; i < n * f; i++) x[i] = 3.0f * nb_rng_normal(&r) + 1.0f;
        for (int64_t i = 0; i < n; i++) y[i] = (float)(i % 3);
        if (nb_dataset_create_from(x, n, f, y, 1, NB_TASK_CLASSIFY, 3, &ds) != NB_OK) ds = NULL;
    }
    free(x);
    free(y);
    return ds;
}

/* the op: one value per channel in training mode is NB_ERR_SHAPE and leaves the running
 * statistics alone; evaluation mode normalises with them */
static void test_op_refuses_one_value(void)
{
    const int64_t shape[2] = {1, 2}, cs[1] = {2};
    float ones[2] = {1.0f, 1.0f}, two[2] = {2.0f, 2.0f};
    nb_graph *g;
    CHECK_OK(nb_graph_create(&g));
    nb_node x = nb_param(g, "x", 2, shape), gam = nb_const(g, "gamma", 1, cs, two), bet = nb_const(g, "beta", 1, cs, ones);
    nb_node rm = nb_const(g, "rm", 1, cs, ones), rv = nb_const(g, "rv", 1, cs, two);
    nb_node y = nb_batchnorm(g, x, gam, bet, rm, rv, 0.1f, 1e-5f);
    nb_node loss = nb_sum_all(g, y);
    CHECK_OK(nb_graph_compile(g));
    nb_view xv, yv, rvv;
    CHECK_OK(nb_graph_value(g, x, &xv));
    xv.data[0] = 3.0f, xv.data[1] = -1.0f;
    CHECK_ERR(nb_graph_forward(g, loss), NB_ERR_SHAPE, "one value per channel in training mode");
    CHECK_ERR(nb_graph_forward(g, loss), NB_ERR_SHAPE, "batch of >= 2 rows, or evaluation mode");
    CHECK_OK(nb_graph_value(g, rv, &rvv));
    CHECK(rvv.data[0] == 2.0f && rvv.data[1] == 2.0f);
    nb_graph_set_training(g, 0);
    CHECK_OK(nb_graph_forward(g, loss));
    CHECK_OK(nb_graph_value(g, y, &yv));
    CHECK_NEAR(yv.data[0], 2.0 * (3.0 - 1.0) / sqrt(2.0 + 1e-5) + 1.0, 1e-6, 1e-6);
    CHECK_NEAR(yv.data[1], 2.0 * (-1.0 - 1.0) / sqrt(2.0 + 1e-5) + 1.0, 1e-6, 1e-6);
    nb_graph_free(g);
}

static const float *tensor(nb_model *m, const char *name)
{
    for (int i = 0; i < nb_model_n_param_tensors(m); i++) {
        nb_param_info pi;
        if (!nb_model_param_info(m, i, &pi) && !strcmp(pi.name, name)) return pi.data;
    }
    return NULL;
}

/* 65 rows, batch 64: the 1-row last batch is skipped, so the running variance converges to
 * the 64-row batch's (unbiased) variance instead of being pulled towards 0 */
static void test_last_row_skipped(void)
{
    const int64_t F = 5, H = 4, N = 65;
    nb_dataset *ds = noise(N, F);
    CHECK(ds != NULL);
    if (!ds) return;
    nb_model *m;
    CHECK_OK(nb_model_parse("dense 4; batchnorm; relu; dense 3", NB_TASK_CLASSIFY, &m));
    CHECK_OK(nb_model_build(m, 1, (int64_t[]){F}, 3));
    nb_train_config cfg = nb_train_config_default();
    cfg.epochs = 60;
    cfg.shuffle = 0;
    cfg.optim.lr = 0.0f; /* fixed weights: the batch statistics are the same every epoch */
    nb_history h;
    CHECK_OK(nb_model_train(m, ds, NULL, &cfg, &h));
    CHECK(h.n == 60);
    if (h.n == 60) {
        CHECK(h.epoch_steps == 1 && h.epoch_samples == 64);
        CHECK(isfinite(h.epochs[59].train_loss));
    }
    const float *w = tensor(m, "layers.0.weight"), *b = tensor(m, "layers.0.bias");
    const float *rv = tensor(m, "layers.1.running_var"), *rm = tensor(m, "layers.1.running_mean");
    const float *nbt = tensor(m, "layers.1.num_batches_tracked");
    CHECK(w && b && rv && rm && nbt);
    if (w && b && rv && rm && nbt) {
        CHECK(nbt[0] == 60.0f);
        float x[65 * 5];
        CHECK_OK(nb_dataset_rows(ds, 0, 64, x, NULL));
        for (int64_t j = 0; j < H; j++) {
            double s = 0, s2 = 0;
            for (int64_t i = 0; i < 64; i++) {
                double z = (double)b[j];
                for (int64_t k = 0; k < F; k++) z += (double)w[j * F + k] * (double)x[i * F + k];
                s += z, s2 += z * z;
            }
            double mu = s / 64, var = (s2 - 64 * mu * mu) / 63;
            /* 0.9^60 of the initial 1 is left: 0.2% */
            CHECK_NEAR(rv[j], var, 0.01, 0.01);
            CHECK_NEAR(rm[j], mu, 0.01, 0.01);
        }
    }
    nb_history_free(&h);
    nb_model_free(m);
    nb_dataset_free(ds);
}

/* batch 1, or one training row, with such a batch norm: nothing to train on */
static void test_one_row_batches_refused(void)
{
    nb_dataset *ds = noise(10, 5), *one = noise(1, 5);
    nb_model *m;
    CHECK_OK(nb_model_parse("dense 4; batchnorm; dense 3", NB_TASK_CLASSIFY, &m));
    CHECK_OK(nb_model_build(m, 1, (int64_t[]){5}, 3));
    nb_train_config cfg = nb_train_config_default();
    cfg.epochs = 10;
    cfg.batch_size = 1;
    CHECK_ERR(nb_model_train(m, ds, NULL, &cfg, NULL), NB_ERR_ARG, "set nb_train_config.batch_size >= 2");
    cfg.batch_size = 64;
    CHECK_ERR(nb_model_train(m, one, NULL, &cfg, NULL), NB_ERR_ARG, "layer 1 (batchnorm) would see one value per channel");
    /* evaluation mode still takes one row */
    float out[3], x1[5] = {1, 2, 3, 4, 5};
    CHECK_OK(nb_model_predict(m, x1, 1, out));
    CHECK(isfinite(out[0]) && isfinite(out[1]) && isfinite(out[2]));
    nb_model_free(m);
    /* a conv batch norm over 2x2 outputs has 4 values per channel in one row: allowed */
    CHECK_OK(nb_model_parse("conv 2 2; batchnorm; flatten; dense 3", NB_TASK_CLASSIFY, &m));
    CHECK_OK(nb_model_build(m, 3, (int64_t[]){1, 3, 3}, 3));
    nb_dataset *img = noise(3, 9);
    CHECK_OK(nb_dataset_set_sample_shape(img, 3, (int64_t[]){1, 3, 3}));
    cfg.batch_size = 2;
    nb_history h;
    CHECK_OK(nb_model_train(m, img, NULL, &cfg, &h));
    CHECK(h.n == 10 && h.epoch_steps == 2 && h.epoch_samples == 3);
    nb_history_free(&h);
    nb_model_free(m);
    nb_dataset_free(img);
    nb_dataset_free(ds);
    nb_dataset_free(one);
}

/* train spec for task on 12 rows of 5 features (classify: 3 classes; others: one target) */
static int train_spec(const char *spec, nb_task task)
{
    float x[12 * 5], y[12];
    for (int i = 0; i < 12 * 5; i++) x[i] = (float)((i * 7) % 11) - 5.0f;
    for (int i = 0; i < 12; i++) y[i] = task == NB_TASK_CLASSIFY ? (float)(i % 3) : task == NB_TASK_REGRESS ? 0.5f * (float)i : (float)(i % 2);
    nb_dataset *ds = NULL;
    nb_model *m = NULL;
    int st = nb_dataset_create_from(x, 12, 5, y, 1, task, task == NB_TASK_CLASSIFY ? 3 : task == NB_TASK_REGRESS ? 0 : 2, &ds);
    if (!st) st = nb_model_parse(spec, task, &m);
    if (!st) st = nb_model_build(m, 1, (int64_t[]){5}, task == NB_TASK_CLASSIFY ? 3 : 1);
    nb_train_config cfg = nb_train_config_default();
    cfg.epochs = 1;
    if (!st) st = nb_model_train(m, ds, NULL, &cfg, NULL);
    nb_model_free(m);
    nb_dataset_free(ds);
    return st;
}

/* an activation after the output layer is refused, naming both layers and what to do */
static void test_activation_after_output(void)
{
    CHECK_ERR(train_spec("dense 8; relu; dense 3; relu", NB_TASK_CLASSIFY), NB_ERR_FORMAT,
              "train: layer 3 (relu) follows the output layer 2 (dense 3): the classify task already applies softmax in its loss; remove 'relu' (an activation belongs between layers)");
    CHECK_ERR(train_spec("dense 8; relu; dense 3; dropout 0.5; leaky_relu 0.1", NB_TASK_CLASSIFY), NB_ERR_FORMAT,
              "layer 4 (leaky_relu 0.1) follows the output layer 2 (dense 3)");
    CHECK_ERR(train_spec("dense 3; prelu 3", NB_TASK_CLASSIFY), NB_ERR_FORMAT, "layer 1 (prelu 3) follows the output layer 0 (dense 3)");
    CHECK_ERR(train_spec("dense 6; maxout 2", NB_TASK_CLASSIFY), NB_ERR_FORMAT, "layer 1 (maxout 2) follows");
    CHECK_ERR(train_spec("dense 3; sigmoid", NB_TASK_CLASSIFY), NB_ERR_FORMAT, "remove 'sigmoid'");
    CHECK_ERR(train_spec("dense 3; log_softmax", NB_TASK_CLASSIFY), NB_ERR_FORMAT, "remove 'log_softmax'");
    CHECK_ERR(train_spec("dense 3; softmax; relu", NB_TASK_CLASSIFY), NB_ERR_FORMAT, "layer 1 (softmax) follows");
    CHECK_ERR(train_spec("dense 1; relu", NB_TASK_REGRESS), NB_ERR_FORMAT, "the regress task predicts the output layer's values as they are");
    CHECK_ERR(train_spec("dense 1; sigmoid", NB_TASK_REGRESS), NB_ERR_FORMAT, "remove 'sigmoid'");
    CHECK_ERR(train_spec("dense 1; tanh", NB_TASK_BINARY), NB_ERR_FORMAT, "the binary task already applies sigmoid in its loss");
    /* the task's own output activation as the last layer, identity, and activations between
     * layers are fine */
    CHECK_OK(train_spec("dense 8; relu; dense 3; softmax", NB_TASK_CLASSIFY));
    CHECK_OK(train_spec("dense 8; tanh; dense 1; sigmoid", NB_TASK_BINARY));
    CHECK_OK(train_spec("dense 3; identity", NB_TASK_CLASSIFY));
    CHECK_OK(train_spec("relu; dense 8; prelu; dense 1", NB_TASK_REGRESS));
}

/* the parameters after every step, from the progress callback */
typedef struct snap {
    nb_model *m;
    float p[64];
    int64_t steps;
} snap;

static int snap_cb(void *ud, const nb_progress *p)
{
    snap *s = ud;
    if (p->stats) return 0; /* the end of an epoch: no step */
    memcpy(s->p, nb_model_params(s->m), nb_model_param_count(s->m) * sizeof(float));
    s->steps++;
    return 0;
}

/* a run forced to diverge (a huge learning rate) stops with NB_ERR_NUMERIC and leaves the
 * weights of the last good step, all finite */
static void test_diverged_weights(float lr, const char *sub, int want_finite)
{
    float x[32 * 2], y[32];
    for (int i = 0; i < 32; i++) {
        x[2 * i] = (float)(i % 7) - 3.0f, x[2 * i + 1] = (float)(i % 5) - 2.0f;
        y[i] = 3.0f * x[2 * i] - 2.0f * x[2 * i + 1] + 1.0f;
    }
    nb_dataset *ds = NULL;
    nb_model *m = NULL;
    CHECK_OK(nb_dataset_create_from(x, 32, 2, y, 1, NB_TASK_REGRESS, 0, &ds));
    CHECK_OK(nb_model_parse("dense 4; tanh; dense 1", NB_TASK_REGRESS, &m));
    CHECK_OK(nb_model_build(m, 1, (int64_t[]){2}, 1));
    snap s = {m, {0}, 0};
    size_t np = nb_model_param_count(m);
    CHECK(np <= 64);
    memcpy(s.p, nb_model_params(m), np * sizeof(float));
    nb_train_config cfg = nb_train_config_default();
    cfg.optim = nb_optim_config_default(NB_OPTIM_SGD); /* plain SGD diverges at a huge lr; Adam's steps stay ~lr */
    cfg.epochs = 50;
    cfg.batch_size = 4;
    cfg.optim.lr = lr;
    cfg.progress = snap_cb, cfg.progress_ud = &s;
    nb_history h;
    CHECK_ERR(nb_model_train(m, ds, NULL, &cfg, &h), NB_ERR_NUMERIC, sub);
    const float *p = nb_model_params(m);
    CHECK(memcmp(p, s.p, np * sizeof(float)) == 0);
    int finite = 1;
    for (size_t i = 0; i < np; i++) finite &= isfinite(p[i]) != 0;
    CHECK(finite == want_finite);
    CHECK(s.steps >= 1);
    nb_history_free(&h);
    nb_model_free(m);
    nb_dataset_free(ds);
}

int main(void)
{
    test_diverged_weights(1e10f, "epoch 1, step 3: the loss is inf; training stopped (weights are those before this step", 1);
    test_diverged_weights(1e30f, "epoch 1, step 2: the loss is inf; training stopped (weights are those before this step", 1);
    /* an update that overflows a weight shows at the next step: said, not hidden */
    test_diverged_weights(3e38f, "nan: the previous step's update made layers.", 0);
    test_diverged_weights(3e38f, "training stopped (the weights are not finite;", 0);
    test_activation_after_output();
    test_op_refuses_one_value();
    test_last_row_skipped();
    test_one_row_batches_refused();
    return check_exit("test_train_rules");
}
