/* SPDX-License-Identifier: MIT */
/*
 * test_nn.c - models end to end on small synthetic data: the spec format, parameter names
 * and counts, training for every task, determinism, early stopping restoring the best
 * weights, the stop on a non-finite loss, metrics on hand-checkable predictions, and model
 * files (round trip with identical predictions; corrupted or mismatched files rejected).
 */
#include "nabla.h"
#include "check.h"
#include "ds_fixture.h"

#include <stdlib.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/nabla-nn-XXXXXX";

/* n points of k Gaussian blobs in d dimensions; targets by task */
static nb_dataset *blobs(int64_t n, int d, int k, nb_task task, uint64_t seed)
{
    nb_dataset *ds = NULL;
    int64_t nt = task == NB_TASK_CLASSIFY || task == NB_TASK_BINARY ? 1 : k;
    float *x = malloc((size_t)(n * d) * sizeof *x), *y = malloc((size_t)(n * nt) * sizeof *y);
    nb_rng r;
    nb_rng_seed(&r, seed);
    for (int64_t i = 0; x && y && i < n; i++) {
        int c = (int)(i % k);
        for (int j = 0; j < d; j++) x[i * d + j] = (j % k == c ? 2.0f : -0.5f) + 0.5f * nb_rng_normal(&r);
        if (task == NB_TASK_CLASSIFY) y[i] = (float)c;
        else if (task == NB_TASK_BINARY) y[i] = (float)(c % 2);
        else if (task == NB_TASK_MULTILABEL) for (int j = 0; j < k; j++) y[i * k + j] = (float)(j == c || j == (c + 1) % k);
        else for (int j = 0; j < k; j++) y[i * k + j] = 0.5f * x[i * d + j] - 0.25f * x[i * d + (j + 1) % d];
    }
    int n_classes = task == NB_TASK_CLASSIFY ? k : task == NB_TASK_BINARY ? 2 : task == NB_TASK_MULTILABEL ? k : 0;
    if (x && y && nb_dataset_create_from(x, n, d, y, nt, task, n_classes, &ds)) ds = NULL;
    free(x), free(y);
    return ds;
}

static void test_spec(void)
{
    nb_model *m;
    CHECK_OK(nb_model_parse("dense 256; relu\n# hidden\n dense 128 ;relu;dense 10", NB_TASK_CLASSIFY, &m));
    CHECK(strcmp(nb_model_spec(m), "dense 256; relu; dense 128; relu; dense 10") == 0);
    CHECK_OK(nb_model_build(m, 3, (int64_t[]){1, 28, 28}, 10));
    CHECK(nb_model_param_count(m) == 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10);
    CHECK(nb_model_n_param_tensors(m) == 6);
    nb_param_info pi;
    CHECK_OK(nb_model_param_info(m, 2, &pi));
    CHECK(strcmp(pi.name, "layers.2.weight") == 0 && pi.rank == 2 && pi.shape[0] == 128 && pi.shape[1] == 256);
    CHECK(pi.offset == 784 * 256 + 256);
    nb_layer_info li;
    CHECK_OK(nb_model_layer_info(m, 4, &li));
    CHECK(li.type == NB_LAYER_DENSE && li.units == 10 && li.n_params == 1290 && li.out_rank == 1 && li.out_shape[0] == 10);
    CHECK(strcmp(li.text, "dense 10") == 0);
    nb_model_free(m);

    CHECK_OK(nb_model_parse("dense 8 nobias; leaky_relu 0.2; maxout 2; elu; task regress; dense 3", NB_TASK_CLASSIFY, &m));
    CHECK(nb_model_task(m) == NB_TASK_REGRESS);
    CHECK(strcmp(nb_model_spec(m), "dense 8 nobias; leaky_relu 0.2; maxout 2; elu 1; dense 3") == 0);
    CHECK_OK(nb_model_build(m, 1, (int64_t[]){5}, 3));
    CHECK(nb_model_param_count(m) == 5 * 8 + 4 * 3 + 3);
    nb_model_free(m);

    CHECK_ERR(nb_model_parse("dense 10; relu;\ndense2 4", NB_TASK_CLASSIFY, &m), NB_ERR_FORMAT, "spec:2: unknown layer 'dense2'");
    CHECK(m == NULL);
    CHECK_ERR(nb_model_parse("dense -3", NB_TASK_CLASSIFY, &m), NB_ERR_FORMAT, "spec:1: 'dense' takes a whole number");
    /* layers run together: the missing separator is named, not the '8' */
    CHECK_ERR(nb_model_parse("dense 8 relu dense 3", NB_TASK_CLASSIFY, &m), NB_ERR_FORMAT,
              "spec:1: layer 'relu' follows 'dense' without a ';' or a new line between them");
    CHECK_ERR(nb_model_parse("relu\nrelu dense 3", NB_TASK_CLASSIFY, &m), NB_ERR_FORMAT,
              "spec:2: layer 'dense' follows 'relu' without");
    /* a line of only spaces and tabs is a blank line */
    CHECK_OK(nb_model_parse("dense 4\n  \t \n\t\nrelu\n \n", NB_TASK_CLASSIFY, &m));
    CHECK(m && nb_model_n_layers(m) == 2);
    nb_model_free(m);
    CHECK_ERR(nb_model_parse("maxout", NB_TASK_CLASSIFY, &m), NB_ERR_FORMAT, "spec:1: 'maxout' takes one whole number");
    CHECK_ERR(nb_model_parse("# nothing\n", NB_TASK_CLASSIFY, &m), NB_ERR_FORMAT, "no layers");
    CHECK_ERR(nb_model_parse("relu x", NB_TASK_CLASSIFY, &m), NB_ERR_FORMAT, "'relu' takes no argument");
    CHECK_OK(nb_model_parse("dense 4; relu; dense 5", NB_TASK_CLASSIFY, &m));
    CHECK_ERR(nb_model_build(m, 1, (int64_t[]){3}, 10), NB_ERR_SHAPE, "needs 10 outputs");
    nb_model_free(m);
}

static nb_model *train_task(nb_task task, int k, const char *spec, nb_dataset *tr, nb_dataset *va, int epochs, uint64_t seed, nb_history *h)
{
    nb_model *m;
    if (nb_model_parse(spec, task, &m)) return NULL;
    int outs = task == NB_TASK_BINARY ? 1 : k;
    nb_train_config cfg = nb_train_config_default();
    cfg.epochs = epochs;
    cfg.batch_size = 16;
    cfg.optim = nb_optim_config_default(NB_OPTIM_ADAM);
    cfg.optim.lr = 0.01f;
    cfg.seed = seed;
    if (nb_model_build(m, 1, (int64_t[]){nb_dataset_n_features(tr)}, outs) || nb_model_init(m, NB_INIT_HE_UNIFORM, 0, seed) ||
        nb_model_train(m, tr, va, &cfg, h)) {
        fprintf(stderr, "train_task: %s\n", nb_errmsg());
        nb_model_free(m);
        return NULL;
    }
    return m;
}

static void test_tasks(void)
{
    const nb_task tasks[4] = {NB_TASK_CLASSIFY, NB_TASK_BINARY, NB_TASK_MULTILABEL, NB_TASK_REGRESS};
    for (int t = 0; t < 4; t++) {
        nb_dataset *tr = blobs(300, 6, 3, tasks[t], 1), *va = blobs(90, 6, 3, tasks[t], 2);
        nb_history h;
        /* binary: one logit, with the lecture notes' sigmoid output unit written out */
        const char *spec = tasks[t] == NB_TASK_BINARY ? "dense 16; tanh; dense 1; sigmoid" : "dense 16; relu; dense 3";
        nb_model *m = train_task(tasks[t], 3, spec, tr, va, 15, 5, &h);
        CHECK(m != NULL);
        if (!m) continue;
        CHECK(h.n == 15 && h.epochs[14].epoch == 15);
        CHECK(h.epochs[14].train_loss < h.epochs[0].train_loss);
        nb_metrics mt;
        CHECK_OK(nb_model_evaluate(m, va, &mt));
        CHECK_NEAR(mt.loss, h.epochs[14].val_loss, 1e-9, 1e-6);
        if (tasks[t] == NB_TASK_REGRESS) {
            CHECK(mt.r2 > 0.9);
            CHECK(mt.mse < 0.1 && mt.mae < 0.3);
            CHECK_NEAR(mt.loss, mt.mse / 2, 1e-6, 1e-4); /* the loss is the halved MSE */
        } else {
            CHECK(mt.accuracy > 0.9);
            CHECK_NEAR(mt.accuracy, h.epochs[14].val_acc, 1e-12, 0);
        }
        if (tasks[t] == NB_TASK_MULTILABEL) CHECK_NEAR(mt.hamming_loss, 1 - mt.accuracy, 1e-12, 0);
        if (tasks[t] == NB_TASK_CLASSIFY) {
            int64_t sum = 0;
            for (int i = 0; i < 9; i++) sum += mt.confusion[i];
            CHECK(sum == 90);
        }
        nb_metrics_free(&mt);
        nb_history_free(&h);
        nb_model_free(m);
        nb_dataset_free(tr);
        nb_dataset_free(va);
    }
}

/* Metrics by hand: a fixed 1-feature "identity" classifier. Logits (x, -x): class 0 when x>0. */
static void test_metrics_by_hand(void)
{
    nb_model *m;
    CHECK_OK(nb_model_parse("dense 2 nobias", NB_TASK_CLASSIFY, &m));
    CHECK_OK(nb_model_build(m, 1, (int64_t[]){1}, 2));
    float *w = nb_model_params(m);
    w[0] = 1, w[1] = -1;
    nb_dataset *d;
    const float x[5] = {1, 2, -1, -2, 3}, y[5] = {0, 0, 1, 0, 1}; /* preds 0 0 1 1 0 */
    CHECK_OK(nb_dataset_create_from(x, 5, 1, y, 1, NB_TASK_CLASSIFY, 2, &d));
    nb_metrics mt;
    CHECK_OK(nb_model_evaluate(m, d, &mt));
    CHECK_NEAR(mt.accuracy, 3.0 / 5, 1e-12, 0);
    CHECK(mt.confusion[0] == 2 && mt.confusion[1] == 1 && mt.confusion[2] == 1 && mt.confusion[3] == 1);
    CHECK_NEAR(mt.precision[0], 2.0 / 3, 1e-12, 0);
    CHECK_NEAR(mt.recall[0], 2.0 / 3, 1e-12, 0);
    CHECK_NEAR(mt.precision[1], 0.5, 1e-12, 0);
    CHECK_NEAR(mt.recall[1], 0.5, 1e-12, 0);
    CHECK_NEAR(mt.f1[1], 0.5, 1e-12, 0);
    double loss = 0; /* softmax of (x, -x): -log p_y */
    for (int i = 0; i < 5; i++) loss += log1p(exp(y[i] > 0 ? 2.0 * (double)x[i] : -2.0 * (double)x[i]));
    CHECK_NEAR(mt.loss, loss / 5, 1e-6, 1e-6);
    nb_metrics_free(&mt);
    nb_dataset_free(d);
    nb_model_free(m);
}

static void test_determinism_and_early_stop(void)
{
    nb_dataset *tr = blobs(200, 4, 2, NB_TASK_CLASSIFY, 3), *va = blobs(60, 4, 2, NB_TASK_CLASSIFY, 4);
    nb_model *a = train_task(NB_TASK_CLASSIFY, 2, "dense 8; relu; dense 2", tr, va, 5, 9, NULL);
    nb_model *b = train_task(NB_TASK_CLASSIFY, 2, "dense 8; relu; dense 2", tr, va, 5, 9, NULL);
    nb_model *c = train_task(NB_TASK_CLASSIFY, 2, "dense 8; relu; dense 2", tr, va, 5, 10, NULL);
    CHECK(a && b && c);
    if (a && b && c) {
        size_t n = nb_model_param_count(a);
        CHECK(memcmp(nb_model_params(a), nb_model_params(b), n * sizeof(float)) == 0);
        CHECK(memcmp(nb_model_params(a), nb_model_params(c), n * sizeof(float)) != 0);
    }
    nb_model_free(a), nb_model_free(b), nb_model_free(c);

    /* early stopping: validation labels are the training labels flipped, so validation loss
     * rises as training fits; training stops after `patience` epochs without improvement and
     * restores the best epoch's weights */
    {
        int64_t nv = nb_dataset_n_rows(va);
        float *vx = ds_x_copy(va), vy[60];
        for (int64_t i = 0; i < nv; i++) vy[i] = 1.0f - ds_y(va, i);
        nb_dataset *flipped = NULL;
        CHECK(vx && nv == 60);
        CHECK_OK(nb_dataset_create_from(vx, nv, 4, vy, 1, NB_TASK_CLASSIFY, 2, &flipped));
        free(vx);
        nb_dataset_free(va);
        va = flipped;
    }
    nb_model *m;
    CHECK_OK(nb_model_parse("dense 32; relu; dense 2", NB_TASK_CLASSIFY, &m));
    CHECK_OK(nb_model_build(m, 1, (int64_t[]){4}, 2));
    nb_train_config cfg = nb_train_config_default();
    cfg.epochs = 40;
    cfg.batch_size = 8;
    cfg.early_stop = 2;
    cfg.optim = nb_optim_config_default(NB_OPTIM_SGD);
    cfg.optim.lr = 0.05f;
    nb_history h;
    CHECK_OK(nb_model_train(m, tr, va, &cfg, &h));
    CHECK(h.stopped_early == 1);
    CHECK(h.n == h.best_epoch + 2);
    double best = h.epochs[h.best_epoch - 1].val_loss;
    for (int i = 0; i < h.n; i++) CHECK(h.epochs[i].val_loss >= best);
    nb_metrics mt;
    CHECK_OK(nb_model_evaluate(m, va, &mt));
    CHECK_NEAR(mt.loss, best, 1e-9, 1e-6); /* the restored weights are the best epoch's */
    nb_metrics_free(&mt);
    nb_history_free(&h);

    /* a learning rate that blows up: stop with NB_ERR_NUMERIC naming epoch and step */
    cfg.optim.lr = 1e30f;
    cfg.optim.clip_norm = 0;
    cfg.early_stop = 0;
    CHECK_ERR(nb_model_train(m, tr, va, &cfg, &h), NB_ERR_NUMERIC, "epoch 1, step ");
    /* messages name the API field a C caller sets, not a CLI option */
    CHECK(strstr(nb_errmsg(), "try a smaller nb_optim_config.lr or nb_optim_config.clip_norm") != NULL);
    nb_history_free(&h);
    cfg.batch_size = 0;
    CHECK_ERR(nb_model_train(m, tr, va, &cfg, &h), NB_ERR_ARG, "train: nb_train_config.batch_size 0 must be >= 1");
    nb_history_free(&h);
    nb_model_free(m);
    nb_dataset_free(tr);
    nb_dataset_free(va);
}

static void test_model_files(void)
{
    char path[256], bad[256];
    snprintf(path, sizeof path, "%s/m.safetensors", tmpdir);
    snprintf(bad, sizeof bad, "%s/bad.safetensors", tmpdir);
    nb_dataset *tr = blobs(120, 5, 3, NB_TASK_CLASSIFY, 7);
    nb_model *m = train_task(NB_TASK_CLASSIFY, 3, "dense 7; tanh; dense 3", tr, NULL, 3, 1, NULL);
    CHECK(m != NULL);
    if (!m) return;
    CHECK_OK(nb_model_save(m, path, NULL));
    nb_model *l;
    nb_preproc *pp;
    CHECK_OK(nb_model_load(path, &l, &pp));
    CHECK(pp == NULL);
    float p1[360], p2[360], *trx = ds_x_copy(tr);
    CHECK_OK(nb_model_predict(m, trx, 120, p1));
    CHECK_OK(nb_model_predict(l, trx, 120, p2));
    free(trx);
    CHECK(memcmp(p1, p2, sizeof p1) == 0); /* saved then loaded predicts exactly as before */
    CHECK(strcmp(nb_model_spec(l), "dense 7; tanh; dense 3") == 0);
    nb_st *st;
    CHECK_OK(nb_st_load(path, &st));
    nb_view v;
    CHECK_OK(nb_st_find(st, "layers.0.weight", &v));
    CHECK(v.rank == 2 && v.shape[0] == 7 && v.shape[1] == 5);
    CHECK(strcmp(nb_st_meta(st, "architecture"), "dense 7; tanh; dense 3") == 0);
    CHECK(strcmp(nb_st_meta(st, "input_shape"), "[5]") == 0);
    CHECK(strcmp(nb_st_meta(st, "format"), "nabla") == 0);
    /* plain weights (another tool's state_dict) load into a built model */
    nb_st_entry e[4];
    const char *names[4] = {"layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"};
    for (int i = 0; i < 4; i++) {
        e[i].name = names[i];
        CHECK_OK(nb_st_find(st, names[i], &e[i].view));
    }
    CHECK_OK(nb_st_save(bad, e, 4, NULL, NULL, 0));
    nb_model *w;
    CHECK_OK(nb_model_parse("dense 7; tanh; dense 3", NB_TASK_CLASSIFY, &w));
    CHECK_OK(nb_model_build(w, 1, (int64_t[]){5}, 3));
    CHECK_OK(nb_model_load_weights(w, bad));
    CHECK(memcmp(nb_model_params(w), nb_model_params(m), nb_model_param_count(m) * sizeof(float)) == 0);
    nb_model_free(l); /* the model loaded above; l is reused for the failing loads below */
    CHECK_ERR(nb_model_load(bad, &l, NULL), NB_ERR_FORMAT, "not a nabla model");
    CHECK(l == NULL);
    /* a missing tensor and a wrong shape are named */
    CHECK_OK(nb_st_save(bad, e, 3, NULL, NULL, 0));
    CHECK_ERR(nb_model_load_weights(w, bad), NB_ERR_FORMAT, "tensor 'layers.2.bias' is missing");
    e[3].view.shape[0] = 1, e[3].view.n = 1;
    CHECK_OK(nb_st_save(bad, e, 4, NULL, NULL, 0));
    CHECK_ERR(nb_model_load_weights(w, bad), NB_ERR_FORMAT, "tensor 'layers.2.bias' has shape (1,), the model needs (3,)");
    nb_st_free(st);
    /* truncated and corrupted files are rejected cleanly */
    FILE *f = fopen(path, "rb");
    unsigned char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    f = fopen(bad, "wb");
    fwrite(buf, 1, n - 7, f);
    fclose(f);
    CHECK_ERR(nb_model_load(bad, &l, NULL), NB_ERR_FORMAT, bad);
    nb_model_free(m);
    nb_model_free(w);
    nb_dataset_free(tr);
    unlink(path);
    unlink(bad);
}

/* (N, 1, 8, 8) images: class 1 has a bright 3x3 blob in the top half, class 0 in the bottom */
static nb_dataset *blob_images(int64_t n, uint64_t seed)
{
    nb_dataset *ds = NULL;
    float *x = malloc((size_t)n * 64 * sizeof *x), *y = malloc((size_t)n * sizeof *y);
    nb_rng r;
    nb_rng_seed(&r, seed);
    for (int64_t i = 0; x && y && i < n; i++) {
        int c = (int)(i % 2), top = c ? (int)nb_rng_below(&r, 2) : 4 + (int)nb_rng_below(&r, 2), left = (int)nb_rng_below(&r, 6);
        for (int k = 0; k < 64; k++) x[i * 64 + k] = 0.1f * nb_rng_normal(&r);
        for (int a = 0; a < 3; a++)
            for (int b = 0; b < 3; b++) x[i * 64 + (top + a) * 8 + left + b] += 1.0f;
        y[i] = (float)c;
    }
    if (x && y && (nb_dataset_create_from(x, n, 64, y, 1, NB_TASK_CLASSIFY, 2, &ds) ||
                   nb_dataset_set_sample_shape(ds, 3, (int64_t[]){1, 8, 8}))) {
        nb_dataset_free(ds);
        ds = NULL;
    }
    free(x), free(y);
    return ds;
}

static void test_cnn(void)
{
    nb_model *m;
    const char *ref = "conv 16 3x3 pad 1; relu; maxpool 2; conv 32 3x3 pad 1; relu; maxpool 2; flatten; dense 128; relu; dense 10";
    CHECK_OK(nb_model_parse("conv 16 3 pad 1 ; relu; maxpool 2x2; conv 32 3x3 pad 1; relu; maxpool 2; flatten; dense 128; relu; dense 10", NB_TASK_CLASSIFY, &m));
    CHECK(strcmp(nb_model_spec(m), ref) == 0);
    CHECK_OK(nb_model_build(m, 3, (int64_t[]){1, 28, 28}, 10));
    CHECK(nb_model_param_count(m) == 160 + 4640 + 200832 + 1290);
    nb_layer_info li;
    CHECK_OK(nb_model_layer_info(m, 0, &li));
    CHECK(li.out_rank == 3 && li.out_shape[0] == 16 && li.out_shape[1] == 28 && li.out_shape[2] == 28);
    CHECK(li.flops == 28.0 * 28 * 16 * (2 * 9 + 1));
    CHECK_OK(nb_model_layer_info(m, 5, &li));
    CHECK(li.out_shape[0] == 32 && li.out_shape[1] == 7 && li.out_shape[2] == 7);
    nb_param_info pi;
    CHECK_OK(nb_model_param_info(m, 2, &pi));
    CHECK(strcmp(pi.name, "layers.3.weight") == 0 && pi.rank == 4 && pi.shape[0] == 32 && pi.shape[1] == 16 && pi.shape[3] == 3);
    nb_model_free(m);
    CHECK_OK(nb_model_parse("conv 4 5x3 stride 2x1 pad 1 dilation 2 nobias; avgpool 3 stride 1 pad 1; gap", NB_TASK_REGRESS, &m));
    CHECK(strcmp(nb_model_spec(m), "conv 4 5x3 stride 2x1 pad 1 dilation 2 nobias; avgpool 3 stride 1 pad 1; gap") == 0);
    CHECK_OK(nb_model_build(m, 3, (int64_t[]){2, 11, 9}, 0)); /* 0: whatever the last layer gives */
    CHECK(nb_model_n_outputs(m) == 4 && nb_model_param_count(m) == 4 * 2 * 5 * 3);
    nb_model_free(m);
    CHECK_ERR(nb_model_parse("conv 16", NB_TASK_CLASSIFY, &m), NB_ERR_FORMAT, "spec:1: 'conv' takes output channels and a kernel size");
    CHECK_ERR(nb_model_parse("maxpool 2 stride", NB_TASK_CLASSIFY, &m), NB_ERR_FORMAT, "'maxpool stride' needs a size");
    CHECK_ERR(nb_model_parse("dropout 1.5", NB_TASK_CLASSIFY, &m), NB_ERR_FORMAT, "probability");
    CHECK_OK(nb_model_parse("conv 4 3x3; relu; dense 2", NB_TASK_CLASSIFY, &m));
    CHECK_ERR(nb_model_build(m, 1, (int64_t[]){64}, 2), NB_ERR_SHAPE, "needs image input (C, H, W)");
    nb_model_free(m);

    /* batch norm and dropout: train, compare modes, save and reload */
    nb_dataset *tr = blob_images(256, 1), *va = blob_images(64, 2);
    CHECK_OK(nb_model_parse("conv 4 3x3 pad 1; batchnorm; relu; maxpool 2; flatten; dense 16; relu; dropout 0.5; dense 2", NB_TASK_CLASSIFY, &m));
    CHECK_OK(nb_model_build(m, 3, (int64_t[]){1, 8, 8}, 2));
    CHECK(nb_model_n_param_tensors(m) == 2 + 5 + 2 + 2); /* conv w/b; bn w/b/mean/var/count; two dense */
    CHECK_OK(nb_model_param_info(m, 5, &pi));
    CHECK(strcmp(pi.name, "layers.1.running_var") == 0 && !pi.trainable && pi.data[0] == 1.0f);
    nb_train_config cfg = nb_train_config_default();
    cfg.epochs = 8;
    cfg.batch_size = 16;
    cfg.optim = nb_optim_config_default(NB_OPTIM_ADAM);
    cfg.optim.lr = 0.01f;
    nb_history h;
    CHECK_OK(nb_model_train(m, tr, va, &cfg, &h));
    CHECK(h.epochs[h.n - 1].val_acc > 0.9);
    nb_history_free(&h);
    CHECK_OK(nb_model_param_info(m, 4, &pi)); /* running_mean moved away from 0 */
    CHECK(strcmp(pi.name, "layers.1.running_mean") == 0 && pi.data[0] != 0.0f);
    CHECK_OK(nb_model_param_info(m, 6, &pi));
    CHECK(strcmp(pi.name, "layers.1.num_batches_tracked") == 0 && pi.data[0] == 8 * 16);
    /* evaluation mode is deterministic; training mode differs (dropout masks, batch stats) */
    float p1[128], p2[128], p3[128], *vax = ds_x_copy(va);
    CHECK_OK(nb_model_predict(m, vax, 64, p1));
    CHECK_OK(nb_model_predict(m, vax, 64, p2));
    CHECK(memcmp(p1, p2, sizeof p1) == 0);
    nb_graph *g = nb_model_graph(m);
    nb_graph_set_training(g, 1);
    nb_graph_feed(g, nb_graph_find(g, "x"), vax, 64 * 64);
    int64_t n_nodes = nb_graph_node_count(g);
    nb_node last = (nb_node)(n_nodes - 1); /* the prediction node (softmax) */
    CHECK_OK(nb_graph_forward(g, last));
    nb_view tv;
    nb_graph_value(g, last, &tv);
    memcpy(p3, tv.data, sizeof p3);
    CHECK(memcmp(p1, p3, sizeof p1) != 0);
    /* that training-mode forward also moved the running statistics, as in PyTorch */
    CHECK_OK(nb_model_predict(m, vax, 64, p1));
    /* save, load: identical predictions */
    char path[256];
    snprintf(path, sizeof path, "%s/cnn.safetensors", tmpdir);
    CHECK_OK(nb_model_save(m, path, NULL));
    nb_model *l;
    CHECK_OK(nb_model_load(path, &l, NULL));
    CHECK_OK(nb_model_predict(l, vax, 64, p2));
    CHECK(memcmp(p1, p2, sizeof p1) == 0);
    free(vax);
    nb_model_free(l);
    nb_model_free(m);
    nb_dataset_free(tr);
    nb_dataset_free(va);
    unlink(path);
}

/* the defaults: Adam lr 1e-3 and NB_EPOCHS_AUTO, resolved from the training rows */
static void test_defaults(void)
{
    nb_train_config cfg = nb_train_config_default();
    CHECK(cfg.epochs == NB_EPOCHS_AUTO && cfg.batch_size == 64);
    CHECK(cfg.optim.type == NB_OPTIM_ADAM && cfg.optim.lr == 1e-3f);
    CHECK(nb_train_auto_epochs(100, 64) == 1000);  /* 2 steps an epoch: the cap */
    CHECK(nb_train_auto_epochs(400, 64) == 286);   /* 7 steps: ceil(2000 / 7) */
    CHECK(nb_train_auto_epochs(60000, 64) == 10);  /* 938 steps: the floor */
    CHECK(nb_train_auto_epochs(10000, 64) == 13);  /* 157 steps */
    CHECK(nb_train_auto_epochs(0, 64) == 10 && nb_train_auto_epochs(5, 0) == 10);
    /* the history has the resolved count; a cosine schedule gets it as total_epochs */
    float x[40 * 2], y[40];
    for (int i = 0; i < 40; i++) x[2 * i] = (float)(i % 2), x[2 * i + 1] = (float)(i % 5), y[i] = (float)(i % 2);
    nb_dataset *d;
    CHECK_OK(nb_dataset_create_from(x, 40, 2, y, 1, NB_TASK_CLASSIFY, 2, &d));
    nb_model *m;
    CHECK_OK(nb_model_parse("dense 2", NB_TASK_CLASSIFY, &m));
    CHECK_OK(nb_model_build(m, 1, (int64_t[]){2}, 2));
    cfg.batch_size = 20; /* 2 steps an epoch: 1000 epochs */
    cfg.optim.schedule = NB_SCHED_COSINE;
    nb_history h;
    CHECK_OK(nb_model_train(m, d, NULL, &cfg, &h));
    CHECK(h.n == 1000);
    CHECK(h.epochs[999].lr > 0 && h.epochs[999].lr < 1e-7); /* cosine over the 1000 epochs */
    CHECK(h.epochs[999].train_acc == 1.0);
    nb_history_free(&h);
    cfg.epochs = -2;
    CHECK_ERR(nb_model_train(m, d, NULL, &cfg, &h), NB_ERR_ARG, "nb_train_config.epochs -2 must be >= 0 (or NB_EPOCHS_AUTO)");
    nb_model_free(m);
    nb_dataset_free(d);
}

int main(void)
{
    test_defaults();
    if (!mkdtemp(tmpdir)) return 1;
    test_cnn();
    test_spec();
    test_tasks();
    test_metrics_by_hand();
    test_determinism_and_early_stop();
    test_model_files();
    rmdir(tmpdir);
    return check_exit("test_nn");
}
