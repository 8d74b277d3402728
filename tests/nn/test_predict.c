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

#include <stdlib.h>

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

int main(void)
{
    test_chunks(CNN);
    test_chunks("flatten; dense 16; relu; dropout 0.2; dense 16; relu; dense 5");
    for (int t = 1; t <= 2; t++) { /* and with the thread pool: the same bits */
        nb_set_threads(t * 2);
        test_chunks(CNN);
    }
    nb_set_threads(1);
    return check_exit("test_predict");
}
