/* SPDX-License-Identifier: MIT */
/*
 * test_predict.c - inference through a model: nb_model_predict runs the graph in chunks in
 * the evaluation layout (recycled activation buffers, no gradients), and its outputs must be
 * bit-identical to one forward over all rows with every buffer kept, whatever the chunks, and
 * stay so after training steps and evaluation passes at other batch sizes.
 * Bits, not tolerances: every row is computed by the same kernels in the same order whatever
 * the batch size, so any difference is a buffer overwritten too early or read too late.
 */
#include "nabla.h"
#include "check.h"
#include "ds_fixture.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* more than two of predict's chunks (NB__EVAL_ROWS_MAX = 1024 rows for models this small,
 * src/nn/nn.h), and a partial one */
#define N 2100
#define CNN "conv 4 3x3 pad 1; batchnorm; relu; maxpool 2; dropout 0.3; conv 6 3x3; relu; flatten; dense 12; relu; dense 5"

static nb_dataset *images(void)
{
    static float x[(size_t)N * 100], y[N];
    nb_rng r;
    nb_rng_seed(&r, 5);
    for (size_t i = 0; i < (size_t)N * 100; i++) x[i] = nb_rng_normal(&r);
    for (int i = 0; i < N; i++) y[i] = (float)(i % 5);
    nb_dataset *d;
    return nb_dataset_create_from(x, N, 100, y, 1, NB_TASK_CLASSIFY, 5, &d) ? NULL : d;
}

/* the probabilities of all rows from one evaluation-mode forward over them, with every value
 * buffer kept (reuse 0) or recycled (reuse 1) */
static void one_forward(nb_model *m, const float *x, int reuse, float *out)
{
    nb_graph *g = nb_model_graph(m);
    nb_node xn = nb_graph_find(g, "x"), pred = nb_graph_node_count(g) - 1;
    nb_graph_set_training(g, 0);
    CHECK_OK(nb_graph_set_reuse(g, reuse));
    CHECK_OK(nb_graph_feed(g, xn, x, (size_t)N * 100));
    CHECK_OK(nb_graph_forward(g, pred));
    nb_view v;
    CHECK_OK(nb_graph_value(g, pred, &v));
    CHECK(v.n == (size_t)N * 5);
    memcpy(out, v.data, (size_t)N * 5 * sizeof(float));
    CHECK_OK(nb_graph_set_reuse(g, 1)); /* the model's default */
}

static int differ(const float *a, const float *b, size_t n)
{
    return memcmp(a, b, n * sizeof(float)) != 0;
}

static void test_chunks(const char *spec)
{
    nb_dataset *d = images();
    nb_model *m;
    CHECK(d != NULL);
    if (!d) return;
    float *x = ds_x_copy(d); /* the same rows as plain floats, for nb_model_predict */
    CHECK_OK(nb_model_parse(spec, NB_TASK_CLASSIFY, &m));
    CHECK_OK(nb_model_build(m, 3, (int64_t[]){1, 10, 10}, 5));
    CHECK_OK(nb_model_init(m, NB_INIT_TORCH, 0, 3));
    float *chunked = malloc((size_t)N * 5 * sizeof(float)), *whole = malloc((size_t)N * 5 * sizeof(float));
    float *again = malloc((size_t)N * 5 * sizeof(float));
    for (int round = 0; round < 2; round++) {
        CHECK_OK(nb_model_predict(m, x, N, chunked));
        one_forward(m, x, 0, whole);
        CHECK(!differ(chunked, whole, (size_t)N * 5));
        one_forward(m, x, 1, again); /* recycled buffers, one chunk */
        CHECK(!differ(again, whole, (size_t)N * 5));
        /* the first rows alone, then the rest: a row's output does not depend on its chunk */
        CHECK_OK(nb_model_predict(m, x, 7, again));
        CHECK_OK(nb_model_predict(m, x + 7 * 100, N - 7, again + 7 * 5));
        CHECK(!differ(again, whole, (size_t)N * 5));
        /* 1025 rows would leave a last chunk of one row, which a one-row product computes
         * with other last bits (src/ops/gemm.h); predict splits them 513 + 512 instead */
        CHECK_OK(nb_model_predict(m, x, 1025, again));
        CHECK(!differ(again, whole, (size_t)1025 * 5));
        float s = 0;
        for (int c = 0; c < 5; c++) s += chunked[(N - 1) * 5 + c];
        CHECK_NEAR(s, 1.0, 1e-5, 0); /* real probabilities: float rounding of a sum of 5 */
        /* train a little (training layout at batch 32, validation and an evaluation in the
         * evaluation layout at other sizes), then compare again with the new weights */
        nb_train_config cfg = nb_train_config_default();
        cfg.epochs = 1;
        cfg.batch_size = 32;
        CHECK_OK(nb_model_train(m, d, d, &cfg, NULL));
        nb_metrics mt;
        CHECK_OK(nb_model_evaluate(m, d, &mt));
        CHECK(mt.n == N && mt.loss > 0 && mt.loss < 10);
        nb_metrics_free(&mt);
        CHECK_OK(nb_model_predict(m, x, N, again));
        CHECK(differ(again, chunked, (size_t)N * 5)); /* training changed the weights */
    }
    /* the evaluation loss equals the loss computed from predict's probabilities */
    nb_metrics mt;
    CHECK_OK(nb_model_evaluate(m, d, &mt));
    CHECK_OK(nb_model_predict(m, x, N, chunked));
    double ce = 0;
    for (int i = 0; i < N; i++) ce -= log((double)chunked[i * 5 + (int)ds_y(d, i)]);
    CHECK_NEAR(mt.loss, ce / N, 1e-5, 1e-5); /* softmax vs log-softmax: float rounding */
    nb_metrics_free(&mt);
    free(chunked);
    free(whole);
    free(x);
    free(again);
    nb_model_free(m);
    nb_dataset_free(d);
}

/* On several threads predict runs pieces of the rows through copies of the graph, one per
 * thread (src/nn/batch.c): the same bits as on one thread, from floats and from a dataset
 * range, for a CNN with batch norm, an MLP and an LSTM; the copies read the model's current
 * weights (after nb_model_init and after training), and the models's graph still works. */
static void test_threads(const char *spec, int rank, const int64_t *shape)
{
    nb_dataset *d = images();
    nb_model *m;
    CHECK(d != NULL);
    if (!d) return;
    float *x = ds_x_copy(d);
    size_t n = (size_t)N * 5;
    float *one = malloc(n * sizeof(float)), *many = malloc(n * sizeof(float)), *part = malloc(n * sizeof(float));
    CHECK_OK(nb_model_parse(spec, NB_TASK_CLASSIFY, &m));
    CHECK_OK(nb_model_build(m, rank, shape, 5));
    for (int round = 0; round < 3; round++) {
        if (round == 1) CHECK_OK(nb_model_init(m, NB_INIT_TORCH, 0, 11)); /* new weights */
        if (round == 2) { /* a little training (batch norm's running statistics move too) */
            nb_set_threads(1);
            nb_train_config cfg = nb_train_config_default();
            cfg.epochs = 1;
            cfg.batch_size = 64;
            CHECK_OK(nb_model_train(m, d, NULL, &cfg, NULL));
        }
        nb_set_threads(1);
        CHECK_OK(nb_model_predict(m, x, N, one));
        for (int t = 2; t <= 3; t++) {
            nb_set_threads(t);
            memset(many, 0xff, n * sizeof(float));
            CHECK_OK(nb_model_predict(m, x, N, many));
            CHECK(!differ(many, one, n));
            CHECK_OK(nb_model_predict_data(m, d, 300, N - 300, part)); /* a range of the dataset */
            CHECK(!differ(part, one + 300 * 5, (size_t)(N - 300) * 5));
            CHECK_OK(nb_model_predict(m, x + 100 * 100, 129, part)); /* 7 pieces of 17, one of 10 */
            CHECK(!differ(part, one + 100 * 5, (size_t)129 * 5));
            memset(part, 0xff, n * sizeof(float));
            CHECK_OK(nb_model_predict(m, x + 100 * 100, 49, part)); /* 16 + 16 + 8 + 9: no piece of one row */
            CHECK(!differ(part, one + 100 * 5, (size_t)49 * 5));
        }
        if (round == 0) { /* the copies are made once and freed with the model; the model's own
                           * graph gives the same bits */
            nb_set_threads(2);
            one_forward(m, x, 1, many);
            CHECK(!differ(many, one, n));
        }
    }
    nb_set_threads(1);
    free(one);
    free(many);
    free(part);
    free(x);
    nb_model_free(m);
    nb_dataset_free(d);
}

/* More rows than one job of pieces holds (batch.c's PIECE_BLOCK pieces of 128 rows for this
 * MLP): blocks of pieces, the last one's final row riding with the piece before it, the
 * same bits as one thread. */
static void test_blocks(void)
{
    const size_t n = 4 * 256 * 128 + 1, F = 20;
    float *x = malloc(n * F * sizeof(float)), *one = malloc(n * 3 * sizeof(float)), *many = malloc(n * 3 * sizeof(float));
    nb_model *m;
    nb_rng r;
    nb_rng_seed(&r, 9);
    for (size_t i = 0; i < n * F; i++) x[i] = nb_rng_normal(&r);
    CHECK_OK(nb_model_parse("dense 8; relu; dense 3", NB_TASK_CLASSIFY, &m));
    CHECK_OK(nb_model_build(m, 1, (int64_t[]){(int64_t)F}, 3));
    nb_set_threads(1);
    CHECK_OK(nb_model_predict(m, x, (int64_t)n, one));
    nb_set_threads(2);
    memset(many, 0xff, n * 3 * sizeof(float));
    CHECK_OK(nb_model_predict(m, x, (int64_t)n, many));
    CHECK(!differ(many, one, n * 3));
    CHECK_OK(nb_model_predict(m, x + F, (int64_t)n - 2, many)); /* four blocks, the last one row short */
    CHECK(!differ(many, one + 3, (n - 2) * 3));
    nb_set_threads(1);
    nb_model_free(m);
    free(x);
    free(one);
    free(many);
}

/* Regression targets of about 1e3: standardized with the training statistics, trained, saved
 * with the preprocessing, loaded, predicted and mapped back to the original units. */
static void test_target_scaling(void)
{
    char dir[] = "/tmp/nb_tscale_XXXXXX", csv[64], model[64];
    if (!mkdtemp(dir)) return;
    snprintf(csv, sizeof csv, "%s/lin.csv", dir);
    snprintf(model, sizeof model, "%s/m.safetensors", dir);
    FILE *f = fopen(csv, "w");
    CHECK(f != NULL);
    if (!f) return;
    fprintf(f, "a,b,y\n");
    for (int i = 0; i < 200; i++) { /* y = 300 a - 200 b + 1000 */
        double a = (double)(i % 10), b = (double)((i * 7) % 13);
        fprintf(f, "%g,%g,%g\n", a, b, 300 * a - 200 * b + 1000);
    }
    fclose(f);
    nb_preproc *pp;
    nb_dataset *d;
    CHECK_OK(nb_preproc_create(&pp));
    nb_data_opts o = nb_data_opts_default();
    o.task = NB_TASK_REGRESS;
    CHECK_OK(nb_dataset_load(csv, &o, pp, &d));
    double mean, sd, y_raw0 = (double)nb_dataset_targets(d)[0];
    CHECK(nb_preproc_target_scaling(pp) == NB_SCALE_NONE);
    CHECK_ERR(nb_preproc_target_stats(pp, 0, &mean, &sd), NB_ERR_ARG, "no statistics for target 0");
    CHECK_OK(nb_preproc_fit_scaling(pp, NB_SCALE_STANDARD, d));
    CHECK_OK(nb_preproc_fit_target_scaling(pp, NB_SCALE_STANDARD, d));
    CHECK_OK(nb_preproc_target_stats(pp, 0, &mean, &sd));
    double sum = 0, ss = 0;
    for (int i = 0; i < 200; i++) sum += (double)nb_dataset_targets(d)[i];
    for (int i = 0; i < 200; i++) ss += pow((double)nb_dataset_targets(d)[i] - sum / 200, 2);
    CHECK_NEAR(mean, sum / 200, 0, 1e-6);
    CHECK_NEAR(sd, sqrt(ss / 200), 0, 1e-6);
    CHECK_OK(nb_preproc_apply_scaling(pp, d));
    CHECK_OK(nb_preproc_apply_target_scaling(pp, d));
    CHECK_NEAR(nb_dataset_targets(d)[0], (y_raw0 - mean) / sd, 1e-6, 1e-5);
    nb_model *m;
    CHECK_OK(nb_model_parse("dense 1", NB_TASK_REGRESS, &m));
    CHECK_OK(nb_model_build(m, 1, (int64_t[]){2}, 1));
    nb_train_config cfg = nb_train_config_default(); /* Adam, automatic epochs */
    CHECK_OK(nb_model_train(m, d, NULL, &cfg, NULL));
    CHECK_OK(nb_model_save(m, model, pp));
    nb_model_free(m);
    nb_dataset_free(d);
    nb_preproc_free(pp);
    /* load: the statistics come back with the model, predictions map to original units */
    nb_preproc *pp2;
    CHECK_OK(nb_model_load(model, &m, &pp2));
    CHECK(pp2 && nb_preproc_target_scaling(pp2) == NB_SCALE_STANDARD);
    double mean2, sd2;
    CHECK_OK(nb_preproc_target_stats(pp2, 0, &mean2, &sd2));
    CHECK(mean2 == (double)(float)mean && sd2 == (double)(float)sd);
    CHECK_OK(nb_dataset_load(csv, &o, pp2, &d));
    CHECK_OK(nb_preproc_apply_scaling(pp2, d));
    float out[200];
    CHECK_OK(nb_model_predict_data(m, d, 0, 200, out));
    nb_preproc_unscale_targets(pp2, out, 200);
    double worst = 0;
    for (int i = 0; i < 200; i++) {
        double e = fabs((double)out[i] - (double)nb_dataset_targets(d)[i]);
        worst = e > worst ? e : worst;
    }
    CHECK(worst < 50); /* within 2% of the targets' spread (about 2500): the linear fit */
    /* classification targets are class indices: not scaled */
    CHECK_ERR(nb_preproc_fit_target_scaling(pp2, NB_SCALE_MINMAX, d), NB_ERR_ARG, "not none or standard");
    CHECK_OK(nb_preproc_fit_target_scaling(pp2, NB_SCALE_NONE, d));
    CHECK(nb_preproc_target_scaling(pp2) == NB_SCALE_NONE);
    char *json;
    CHECK_OK(nb_preproc_to_json(pp2, &json));
    CHECK(strstr(json, "target_scaling") == NULL); /* none: the bytes of files before it */
    nb_free(json);
    nb_dataset_free(d);
    nb_preproc_free(pp2);
    nb_model_free(m);
    remove(model);
    remove(csv);
    rmdir(dir);
}

int main(void)
{
    test_target_scaling();
    test_chunks(CNN);
    test_chunks("flatten; dense 16; relu; dropout 0.2; dense 16; relu; dense 5");
    for (int t = 1; t <= 2; t++) { /* and with the thread pool: the same bits */
        nb_set_threads(t * 2);
        test_chunks(CNN);
    }
    nb_set_threads(1);
    test_threads(CNN, 3, (int64_t[]){1, 10, 10});
    test_threads("flatten; dense 16; relu; dense 5", 3, (int64_t[]){1, 10, 10});
    test_threads("lstm 8; dense 5", 2, (int64_t[]){10, 10});
    test_blocks();
    return check_exit("test_predict");
}
