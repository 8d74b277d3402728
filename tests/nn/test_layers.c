/* SPDX-License-Identifier: MIT */
/*
 * test_layers.c - the layer table, driven by the table: every descriptor has its required
 * hooks and is found by its words; every layer kind and every activation word has a case
 * here (a kind or an activation without one fails the suite, as operators do in
 * test_ops.c), and each case goes spec -> canonical text -> the same text again -> build ->
 * layer info -> one training epoch -> save -> load -> bit-identical outputs and the same
 * info; an activation alias written back as its first word; shape errors named by each
 * kind's inference before any graph exists. Then prelu, the kind added through the table:
 * values, gradients against finite differences, PyTorch's tensor names and shapes, the
 * builder and its errors. The embedding: its spec and vocabulary binding, shapes, PyTorch's
 * initialisation with the padding row, its place and vocabulary errors, a model that learns.
 * Last, the docs: docs/SPEC.md and the SPEC section of docs/CLI.md
 * name every layer word and alias of the table and every activation word.
 */
#include "nabla.h"
#include "check.h"
#include "ds_fixture.h"
#include "../../src/nn/layer.h"

#include <stdlib.h>
#include <unistd.h>

/* lcase literals name vocab only for the token cases */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

static char tmpdir[] = "/tmp/nabla-layers-XXXXXX";
static int verbose_;

static void test_table(void)
{
    for (int k = 0; k < NB_LAYER_COUNT_; k++) {
        const nb__layer_def *d = nb__layer_table[k];
        CHECK(d != NULL);
        if (!d) {
            fprintf(stderr, "layer type %d has no descriptor in nb__layer_table\n", k);
            continue;
        }
        CHECK(d->parse && d->text && d->infer && d->build);
        CHECK(d->word || d->match); /* a kind is found by its word or by match */
        if (d->word) CHECK(nb__layer_find(d->word) == k);
        for (const char *const *a = d->aliases; a && *a; a++) CHECK(nb__layer_find(*a) == k);
        CHECK(!d->init || d->tensors); /* only a kind with tensors has anything to initialise */
    }
    CHECK(nb__layer_find("task") < 0 && nb__layer_find("dense2") < 0);
}

/* one case: a small model around the layer(s) under test */
typedef struct {
    const char *spec;
    int rank;
    int64_t shape[3];
    int vocab; /* > 0: samples are token ids in [0, vocab) (an embedding first), else noise */
} lcase;

static const lcase cases[] = {
    {"dense 6; relu; dense 3", 1, {5}},
    {"linear 4 nobias; sigmoid; dense 3", 1, {5}},
    {"dense 6; tanh; dense 3; softmax", 1, {5}}, /* the trailing output activation */
    {"dense 6; leaky_relu 0.2; dense 6; leaky_relu; dense 3", 1, {5}},
    {"dense 6; elu 0.5; dense 6; softplus; dense 3", 1, {5}},
    {"dense 6; silu; dense 6; swish; dense 3", 1, {5}}, /* swish reads as silu */
    {"dense 6; identity; dense 6; step; dense 3", 1, {5}},
    {"dense 6; softmax; dense 6; log_softmax; dense 3", 1, {5}},
    {"dense 8; maxout 2; dense 3", 1, {5}},
    {"dense 8; dropout 0.25; dense 3", 1, {5}},
    {"dense 8; batchnorm; relu; dense 6; bn; dense 3", 1, {5}},
    {"conv 2 3x3; flatten; dense 3", 3, {1, 6, 6}},
    {"conv2d 3 3x2 stride 2x1 pad 1 dilation 2 nobias; relu; dense 3", 3, {2, 7, 6}},
    {"conv 4 3 pad 1; batchnorm; relu; maxpool 2; flatten; dense 3", 3, {1, 6, 6}},
    {"conv 4 3; avgpool 2 stride 1 pad 1; global_avgpool; dense 3", 3, {1, 6, 6}},
    {"conv 2 3 pad 1; maxpool 3x2 stride 1 pad 1x0; gap; dense 3", 3, {1, 6, 6}},
    {"dense 6; prelu; dense 3", 1, {5}},
    {"dense 6; prelu 6; dense 3", 1, {5}},
    {"conv 3 3 pad 1; prelu 3; maxpool 2; prelu; dense 3", 3, {2, 6, 6}},
    {"embedding 4 vocab 10; flatten; dense 3", 1, {6}, 10},
    {"embedding 3 vocab 7 nopad; dense 3", 1, {5}, 7},
    {"rnn 4; dense 3", 2, {5, 3}},
    {"lstm 4 sequence; lstm 3 mean bidirectional; dense 3", 2, {5, 3}},
    {"gru 4 bidirectional; dense 3", 3, {1, 4, 3}}, /* a one-channel image: 4 steps of 3 */
    {"embedding 4 vocab 10; lstm 5; dense 3", 1, {6}, 10}, /* 0 ids pad: per-row lengths */
    {"embedding 3 vocab 10; gru 4 sequence bidirectional; dense 3", 1, {6}, 10}, /* dense flattens (T, 8) */
    {"embedding 3 vocab 7 nopad; rnn 4 mean; dense 3", 1, {5}, 7}, /* no padding: all T steps */
};
#define N_CASES ((int)(sizeof cases / sizeof cases[0]))

/* classify with 3 classes: rows of deterministic noise, labels 0 1 2 0 ... */
static nb_dataset *dataset(const lcase *c, int64_t n)
{
    nb_dataset *ds = NULL;
    int64_t f = 1;
    for (int i = 0; i < c->rank; i++) f *= c->shape[i];
    float *x = malloc((size_t)(n * f) * sizeof *x), *y = malloc((size_t)n * sizeof *y);
    if (x && y) {
        nb_rng r;
        nb_rng_seed(&r, 11);
        for (int64_t i = 0; i < n * f; i++)
            x[i] = c->vocab ? (float)nb_rng_below(&r, (uint64_t)c->vocab) : nb_rng_normal(&r);
        for (int64_t i = 0; i < n; i++) y[i] = (float)(i % 3);
        if (nb_dataset_create_from(x, n, f, y, 1, NB_TASK_CLASSIFY, 3, &ds) == NB_OK &&
            nb_dataset_set_sample_shape(ds, c->rank, c->shape) != NB_OK) {
            nb_dataset_free(ds);
            ds = NULL;
        }
    }
    free(x);
    free(y);
    return ds;
}

static int same_info(const nb_layer_info *a, const nb_layer_info *b)
{
    int same = a->type == b->type && a->op == b->op && a->units == b->units && a->bias == b->bias &&
               a->param == b->param && a->out_rank == b->out_rank && a->n_params == b->n_params &&
               a->flops == b->flops && strcmp(a->text, b->text) == 0;
    for (int d = 0; same && d < a->out_rank; d++) same = a->out_shape[d] == b->out_shape[d];
    return same;
}

static void run_case(const lcase *c, int covered[NB_LAYER_COUNT_], int covered_op[NB_OP_COUNT_])
{
    nb_model *m = NULL, *again = NULL, *l = NULL;
    enum { N = 12 };
    nb_dataset *ds = dataset(c, N);
    char path[300];
    snprintf(path, sizeof path, "%s/case.safetensors", tmpdir);
    /* spec -> canonical text -> the same text */
    CHECK_OK(nb_model_parse(c->spec, NB_TASK_CLASSIFY, &m));
    if (!m || !ds) goto done;
    CHECK_OK(nb_model_parse(nb_model_spec(m), NB_TASK_CLASSIFY, &again));
    CHECK(again && strcmp(nb_model_spec(again), nb_model_spec(m)) == 0);
    /* build and layer info: each layer's text is its part of the canonical spec */
    CHECK_OK(nb_model_build(m, c->rank, c->shape, 3));
    size_t params = 0;
    const char *spec = nb_model_spec(m);
    for (int i = 0; i < nb_model_n_layers(m); i++) {
        nb_layer_info li;
        CHECK_OK(nb_model_layer_info(m, i, &li));
        covered[li.type] = 1;
        if (li.type == NB_LAYER_ACTIVATION) covered_op[li.op] = 1;
        size_t n = strlen(li.text);
        CHECK(strncmp(spec, li.text, n) == 0 && (spec[n] == '\0' || spec[n] == ';'));
        spec += n + (spec[n] ? 2 : 0);
        CHECK(li.out_rank >= 1 && li.flops >= 0);
        params += li.n_params;
    }
    CHECK(params == nb_model_param_count(m));
    /* the rows' lengths are computed only for a model with a recurrent layer after padded ids */
    int n_lengths = 0, recurrent = strstr(c->spec, "rnn ") || strstr(c->spec, "lstm ") || strstr(c->spec, "gru ");
    nb_graph *g = nb_model_graph(m);
    for (nb_node i = 0; i < nb_graph_node_count(g); i++) n_lengths += nb_graph_node_op(g, i) == NB_OP_SEQ_LENGTHS;
    CHECK(n_lengths == (recurrent && c->vocab && !strstr(c->spec, "nopad")));
    /* an epoch moves every weight and buffer away from its initial value, then save, load */
    nb_train_config cfg = nb_train_config_default();
    cfg.epochs = 1;
    cfg.batch_size = 4;
    cfg.optim = nb_optim_config_default(NB_OPTIM_ADAM);
    CHECK_OK(nb_model_init(m, NB_INIT_HE_UNIFORM, 0, 3));
    CHECK_OK(nb_model_train(m, ds, NULL, &cfg, NULL));
    CHECK_OK(nb_model_save(m, path, NULL));
    CHECK_OK(nb_model_load(path, &l, NULL));
    if (!l) goto done;
    CHECK(strcmp(nb_model_spec(l), nb_model_spec(m)) == 0);
    CHECK(nb_model_n_layers(l) == nb_model_n_layers(m) && nb_model_n_param_tensors(l) == nb_model_n_param_tensors(m));
    for (int i = 0; i < nb_model_n_layers(m); i++) {
        nb_layer_info a, b;
        CHECK_OK(nb_model_layer_info(m, i, &a));
        CHECK_OK(nb_model_layer_info(l, i, &b));
        CHECK(same_info(&a, &b));
    }
    for (int i = 0; i < nb_model_n_param_tensors(m); i++) {
        nb_param_info a, b;
        CHECK_OK(nb_model_param_info(m, i, &a));
        CHECK_OK(nb_model_param_info(l, i, &b));
        CHECK(strcmp(a.name, b.name) == 0 && a.n == b.n && memcmp(a.data, b.data, a.n * sizeof(float)) == 0);
    }
    float p1[N * 3], p2[N * 3], *x = ds_x_copy(ds);
    CHECK(x != NULL);
    CHECK_OK(nb_model_predict(m, x, N, p1));
    CHECK_OK(nb_model_predict(l, x, N, p2));
    CHECK(memcmp(p1, p2, sizeof p1) == 0);
    free(x);
done:
    nb_model_free(m);
    nb_model_free(again);
    nb_model_free(l);
    nb_dataset_free(ds);
    unlink(path);
}

static void test_every_kind(void)
{
    int covered[NB_LAYER_COUNT_] = {0}, covered_op[NB_OP_COUNT_] = {0};
    for (int i = 0; i < N_CASES; i++) {
        int before = check_failures_;
        run_case(&cases[i], covered, covered_op);
        if (check_failures_ != before) fprintf(stderr, "  (layer case '%s')\n", cases[i].spec);
    }
    for (int k = 0; k < NB_LAYER_COUNT_; k++) {
        CHECK(covered[k]);
        if (!covered[k])
            fprintf(stderr, "layer kind %d (%s) has no case in test_layers.c\n", k,
                    nb__layer_table[k] && nb__layer_table[k]->word ? nb__layer_table[k]->word : "?");
    }
    /* every operator the activation layer accepts is an activation word with a case */
    for (int op = 0; op < NB_OP_COUNT_; op++) {
        nb_model *m;
        if (nb_model_create(NB_TASK_CLASSIFY, &m)) continue;
        int is_act = nb_model_add_activation(m, (nb_op_type)op, op == NB_OP_MAXOUT ? 2.0f : 0.0f) == NB_OK;
        if (is_act) {
            CHECK(covered_op[op]);
            if (!covered_op[op]) fprintf(stderr, "activation %s has no case in test_layers.c\n", nb_op_name((nb_op_type)op));
            /* and its canonical word leads back to the activation kind */
            char word[40];
            snprintf(word, sizeof word, "%.*s", (int)strcspn(nb_model_spec(m), " "), nb_model_spec(m));
            CHECK(nb__layer_find(word) == NB_LAYER_ACTIVATION);
        }
        nb_model_free(m);
    }
}

/* an activation alias (a later line of acts[] with the same operator) is written back as the
 * first word */
static void test_activation_alias(void)
{
    nb_model *m = NULL;
    CHECK_OK(nb_model_parse("swish; silu", NB_TASK_REGRESS, &m));
    CHECK(m && strcmp(nb_model_spec(m), "silu; silu") == 0);
    nb_model_free(m);
}

/* ---------------------------------------------------------------- prelu */

/* y = x (x > 0) or a x, exactly: relu(x) - a relu(-x) rounds only in the product a x */
static void test_prelu_values(void)
{
    nb_model *m;
    CHECK_OK(nb_model_parse("prelu 3", NB_TASK_REGRESS, &m));
    CHECK_OK(nb_model_build(m, 1, (int64_t[]){3}, 3));
    nb_param_info pi;
    CHECK(nb_model_n_param_tensors(m) == 1);
    CHECK_OK(nb_model_param_info(m, 0, &pi));
    CHECK(strcmp(pi.name, "layers.0.weight") == 0 && pi.rank == 1 && pi.shape[0] == 3 && pi.trainable);
    CHECK(pi.data[0] == 0.25f && pi.data[1] == 0.25f && pi.data[2] == 0.25f); /* PyTorch's init */
    CHECK_OK(nb_model_init(m, NB_INIT_NORMAL, 1.0f, 9)); /* initialisers leave the slopes at 0.25 */
    CHECK(pi.data[0] == 0.25f);
    float *a = nb_model_params(m);
    a[0] = 0.1f, a[1] = -0.5f, a[2] = 2.0f;
    const float x[6] = {-1.5f, -2.0f, -0.25f, 3.0f, 0.5f, 0.0f};
    float y[6];
    CHECK_OK(nb_model_predict(m, x, 2, y));
    for (int i = 0; i < 6; i++) CHECK(y[i] == (x[i] > 0 ? x[i] : a[i % 3] * x[i]));
    nb_model_free(m);
}

/* the loss's gradient through the model (one shared slope, per feature, per channel of
 * images) against central differences. Finite differences across the kink at 0 mean
 * nothing, so the layer before prelu gets small weights (U(+-0.05)) and biases of +-1: its
 * outputs, prelu's inputs, stay near +-1 while a weight moves by eps */
static void test_prelu_gradients(void)
{
    static const lcase g_cases[] = {
        {"dense 4; prelu; dense 3", 1, {5}},
        {"dense 4; prelu 4; dense 3", 1, {5}},
        {"conv 3 3 pad 1; prelu 3; flatten; dense 3", 3, {2, 4, 4}},
    };
    for (int c = 0; c < 3; c++) {
        nb_model *m;
        nb_dataset *ds = dataset(&g_cases[c], 6);
        CHECK_OK(nb_model_parse(g_cases[c].spec, NB_TASK_CLASSIFY, &m));
        CHECK_OK(nb_model_build(m, g_cases[c].rank, g_cases[c].shape, 3));
        CHECK_OK(nb_model_init(m, NB_INIT_UNIFORM, 0.05f, 5));
        nb_param_info pi;
        float *p = nb_model_params(m);
        CHECK_OK(nb_model_param_info(m, 1, &pi)); /* the first layer's bias: +1, -1, +1, ... */
        for (size_t k = 0; k < pi.n; k++) p[pi.offset + k] = k % 2 ? -1.0f : 1.0f;
        /* slopes away from 1, so a slope's gradient is not a plain relu's */
        CHECK_OK(nb_model_param_info(m, 2, &pi));
        CHECK(strcmp(pi.name, "layers.1.weight") == 0);
        for (size_t k = 0; k < pi.n; k++) p[pi.offset + k] = 0.2f + 0.3f * (float)k;
        nb_graph *g = nb_model_graph(m);
        float *x = ds_x_copy(ds);
        CHECK(x != NULL);
        CHECK_OK(nb_graph_feed(g, nb_graph_find(g, "x"), x, (size_t)(6 * nb_dataset_n_features(ds))));
        CHECK_OK(nb_graph_feed(g, nb_graph_find(g, "target"), nb_dataset_targets(ds), 6));
        free(x);
        nb_node loss = -1;
        for (nb_node i = 0; i < nb_graph_node_count(g); i++)
            if (nb_graph_node_op(g, i) == NB_OP_SOFTMAX_CE) loss = i;
        nb_gradcheck_entry e[8];
        int n_e = 0;
        CHECK_OK(nb_gradcheck(g, loss, 1e-2f, e, 8, &n_e));
        CHECK(n_e == nb_model_n_param_tensors(m));
        for (int i = 0; i < n_e && i < 8; i++) {
            /* as in test_ops.c: float32 central differences with eps 1e-2 agree to ~1e-3 */
            CHECK(e[i].max_rel_err < 1e-2);
            if (!(e[i].max_rel_err < 1e-2))
                fprintf(stderr, "  %s: node %d rel err %g (analytic %g, numeric %g)\n", g_cases[c].spec, (int)e[i].node,
                        e[i].max_rel_err, e[i].analytic, e[i].numeric);
        }
        nb_model_free(m);
        nb_dataset_free(ds);
    }
}

static void test_prelu_spec_and_builder(void)
{
    nb_model *m;
    CHECK_OK(nb_model_parse("prelu 1; dense 4; prelu 4", NB_TASK_CLASSIFY, &m));
    CHECK(strcmp(nb_model_spec(m), "prelu; dense 4; prelu 4") == 0);
    CHECK_OK(nb_model_build(m, 1, (int64_t[]){2}, 4));
    nb_layer_info li;
    CHECK_OK(nb_model_layer_info(m, 2, &li));
    CHECK(li.type == NB_LAYER_PRELU && li.units == 4 && li.n_params == 4 && strcmp(li.text, "prelu 4") == 0);
    CHECK(li.flops == 5.0 * 4);
    nb_param_info pi; /* PyTorch: Sequential(PReLU(), Linear(2, 4), PReLU(4)) */
    const char *names[4] = {"layers.0.weight", "layers.1.weight", "layers.1.bias", "layers.2.weight"};
    const int64_t dim0[4] = {1, 4, 4, 4};
    CHECK(nb_model_n_param_tensors(m) == 4);
    for (int i = 0; i < 4; i++) {
        CHECK_OK(nb_model_param_info(m, i, &pi));
        CHECK(strcmp(pi.name, names[i]) == 0 && pi.shape[0] == dim0[i]);
    }
    nb_model_free(m);
    /* the builder is the spec's twin */
    CHECK_OK(nb_model_create(NB_TASK_CLASSIFY, &m));
    CHECK_OK(nb_model_add_conv2d(m, 2, (int[]){3, 3}, NULL, NULL, NULL, 1));
    CHECK_OK(nb_model_add_prelu(m, 2));
    CHECK_OK(nb_model_add_prelu(m, 1));
    CHECK_ERR(nb_model_add_prelu(m, 0), NB_ERR_ARG, "prelu: the number of slopes must be in 1..10^6, got 0");
    CHECK(strcmp(nb_model_spec(m), "conv 2 3x3; prelu 2; prelu") == 0);
    nb_model_free(m);
    CHECK_ERR(nb_model_parse("prelu 0", NB_TASK_CLASSIFY, &m), NB_ERR_FORMAT,
              "spec:1: 'prelu' takes at most one whole number, the slopes (1, or its input's channels), got '0'");
    CHECK_ERR(nb_model_parse("relu\nprelu 2 3", NB_TASK_CLASSIFY, &m), NB_ERR_FORMAT, "spec:2: 'prelu' takes at most one whole number");
    CHECK_ERR(nb_model_parse("prelu 1.5", NB_TASK_CLASSIFY, &m), NB_ERR_FORMAT, "got '1.5'");
    /* one slope per channel: the count must be the input's channels */
    CHECK_OK(nb_model_parse("conv 3 3; prelu 4; gap; dense 2", NB_TASK_CLASSIFY, &m));
    CHECK_ERR(nb_model_build(m, 3, (int64_t[]){1, 5, 5}, 2), NB_ERR_SHAPE,
              "layer 1 (prelu): 4 slopes, one per channel, but the input has 3 channels ((3, 3, 3) per sample)");
    nb_model_free(m);
}

static void test_embedding_spec(void)
{
    nb_model *m, *again;
    /* no vocab in the spec: the model's, bound at build and written into the spec */
    CHECK_OK(nb_model_parse("embedding 4; flatten; dense 3", NB_TASK_CLASSIFY, &m));
    CHECK(strcmp(nb_model_spec(m), "embedding 4; flatten; dense 3") == 0);
    CHECK_ERR(nb_model_build(m, 1, (int64_t[]){6}, 3), NB_ERR_ARG,
              "layer 0 (embedding): no vocabulary size: give 'vocab V' in the spec, or set the model's with nb_model_set_vocab");
    CHECK_ERR(nb_model_set_vocab(m, 0), NB_ERR_ARG, "vocab must be in 1..2^24");
    CHECK_ERR(nb_model_set_vocab(m, 16777217), NB_ERR_ARG, "got 16777217");
    CHECK_OK(nb_model_set_vocab(m, 10));
    CHECK_OK(nb_model_build(m, 1, (int64_t[]){6}, 3));
    CHECK(strcmp(nb_model_spec(m), "embedding 4 vocab 10; flatten; dense 3") == 0);
    CHECK_ERR(nb_model_set_vocab(m, 12), NB_ERR_STATE, "the model is built");
    nb_layer_info li;
    CHECK_OK(nb_model_layer_info(m, 0, &li));
    CHECK(li.type == NB_LAYER_EMBEDDING && li.units == 4 && li.n_params == 40 && li.flops == 0);
    CHECK(li.out_rank == 2 && li.out_shape[0] == 6 && li.out_shape[1] == 4);
    CHECK(strcmp(li.text, "embedding 4 vocab 10") == 0);
    CHECK(nb_model_param_count(m) == 40 + 3 * 24 + 3);
    /* PyTorch: Sequential(Embedding(10, 4, padding_idx=0), Flatten(), Linear(24, 3)); weight
     * N(0, 1), row 0 zero */
    nb_param_info pi;
    CHECK_OK(nb_model_param_info(m, 0, &pi));
    CHECK(strcmp(pi.name, "layers.0.weight") == 0 && pi.rank == 2 && pi.shape[0] == 10 && pi.shape[1] == 4);
    double s = 0, s2 = 0;
    for (int k = 0; k < 4; k++) CHECK(pi.data[k] == 0.0f);
    for (size_t k = 4; k < pi.n; k++) s += (double)pi.data[k], s2 += (double)pi.data[k] * (double)pi.data[k];
    CHECK(fabs(s / 36) < 0.5 && s2 / 36 > 0.5 && s2 / 36 < 1.6); /* 36 draws of N(0, 1) */
    /* the built text alone rebuilds it */
    CHECK_OK(nb_model_parse(nb_model_spec(m), NB_TASK_CLASSIFY, &again));
    CHECK_OK(nb_model_build(again, 1, (int64_t[]){6}, 3));
    CHECK(nb_model_param_count(again) == nb_model_param_count(m));
    nb_model_free(again);
    nb_model_free(m);
    /* nopad: row 0 is drawn too; the spec's vocab wins over the model's */
    CHECK_OK(nb_model_parse("embedding 2 nopad vocab 5; dense 3", NB_TASK_CLASSIFY, &m));
    CHECK(strcmp(nb_model_spec(m), "embedding 2 vocab 5 nopad; dense 3") == 0);
    CHECK_OK(nb_model_set_vocab(m, 9));
    CHECK_OK(nb_model_build(m, 1, (int64_t[]){3}, 3));
    CHECK_OK(nb_model_param_info(m, 0, &pi));
    CHECK(pi.shape[0] == 5 && pi.data[0] != 0.0f && pi.data[1] != 0.0f);
    nb_model_free(m);
    /* the builder is the spec's twin */
    CHECK_OK(nb_model_create(NB_TASK_CLASSIFY, &m));
    CHECK_OK(nb_model_add_embedding(m, 8, 0, 1));
    CHECK_OK(nb_model_add_embedding(m, 3, 100, 0));
    CHECK(strcmp(nb_model_spec(m), "embedding 8; embedding 3 vocab 100 nopad") == 0);
    CHECK_ERR(nb_model_add_embedding(m, 0, 10, 1), NB_ERR_ARG, "embedding: dim must be >= 1, got 0");
    CHECK_ERR(nb_model_add_embedding(m, 4, -1, 1), NB_ERR_ARG, "embedding: vocab must be in 1..2^24");
    CHECK_OK(nb_model_set_vocab(m, 50));
    /* only the first layer reads ids */
    CHECK_ERR(nb_model_build(m, 1, (int64_t[]){4}, 0), NB_ERR_SHAPE,
              "layer 1 (embedding): must be the model's first layer: it reads the token ids");
    nb_model_free(m);
    CHECK_OK(nb_model_parse("embedding 4 vocab 10; dense 3", NB_TASK_CLASSIFY, &m));
    CHECK_ERR(nb_model_build(m, 3, (int64_t[]){1, 2, 2}, 3), NB_ERR_SHAPE,
              "layer 0 (embedding): needs token ids (T) per sample, got (1, 2, 2)");
    nb_model_free(m);
    CHECK_ERR(nb_model_parse("embedding", NB_TASK_CLASSIFY, &m), NB_ERR_FORMAT, "spec:1: 'embedding' takes a whole number of dimensions >= 1");
    CHECK_ERR(nb_model_parse("embedding 0", NB_TASK_CLASSIFY, &m), NB_ERR_FORMAT, "got '0'");
    CHECK_ERR(nb_model_parse("embedding 4 vocab", NB_TASK_CLASSIFY, &m), NB_ERR_FORMAT, "spec:1: 'vocab' takes the vocabulary size");
    CHECK_ERR(nb_model_parse("embedding 4 vocab 0", NB_TASK_CLASSIFY, &m), NB_ERR_FORMAT, "got '0'");
    CHECK_ERR(nb_model_parse("embedding 4 vocab 16777217", NB_TASK_CLASSIFY, &m), NB_ERR_FORMAT, "1..2^24");
    CHECK_ERR(nb_model_parse("embedding 4 pad", NB_TASK_CLASSIFY, &m), NB_ERR_FORMAT,
              "spec:1: unexpected 'pad' after embedding (only 'vocab V' and 'nopad')");
}

/* embedding 4 vocab 10; flatten; dense 3 learns a rule of the tokens: the loss falls, the
 * padding row stays 0, and an id outside the vocabulary fails with its position */
static void test_embedding_learns(void)
{
    enum { N = 60, T = 5 };
    float x[N * T], y[N];
    nb_rng r;
    nb_rng_seed(&r, 5);
    for (int i = 0; i < N; i++) {
        int len = 1 + (int)nb_rng_below(&r, T); /* right-padded with 0 */
        for (int k = 0; k < T; k++) x[i * T + k] = k < len ? (float)(1 + nb_rng_below(&r, 9)) : 0.0f;
        y[i] = (float)((int)x[i * T] % 3); /* the class is the first token's mod 3 */
    }
    nb_dataset *ds = NULL;
    CHECK_OK(nb_dataset_create_from(x, N, T, y, 1, NB_TASK_CLASSIFY, 3, &ds));
    nb_model *m;
    CHECK_OK(nb_model_parse("embedding 4 vocab 10; flatten; dense 3", NB_TASK_CLASSIFY, &m));
    CHECK_OK(nb_model_build(m, 1, (int64_t[]){T}, 3));
    nb_train_config cfg = nb_train_config_default();
    cfg.epochs = 30;
    cfg.batch_size = 10;
    cfg.optim = nb_optim_config_default(NB_OPTIM_ADAM);
    cfg.optim.lr = 0.05f;
    nb_history h = {0};
    CHECK_OK(nb_model_train(m, ds, NULL, &cfg, &h));
    CHECK(h.n == 30);
    if (h.n == 30) {
        CHECK(h.epochs[29].train_loss < 0.5 * h.epochs[0].train_loss);
        CHECK(h.epochs[29].train_acc > 0.9);
        if (verbose_) printf("embedding: loss %.4f -> %.4f, accuracy %.3f\n", h.epochs[0].train_loss, h.epochs[29].train_loss, h.epochs[29].train_acc);
    }
    nb_history_free(&h);
    nb_param_info pi;
    CHECK_OK(nb_model_param_info(m, 0, &pi));
    for (int k = 0; k < 4; k++) CHECK(pi.data[k] == 0.0f); /* padding never learns */
    float p[2 * 3], bad[2 * T] = {1, 2, 3, 0, 0, 4, 10, 0, 0, 0};
    CHECK_ERR(nb_model_predict(m, bad, 2, p), NB_ERR_ARG, "id 10 at position (1, 1)");
    nb_model_free(m);
    nb_dataset_free(ds);
}

/* shape errors come from each kind's infer and name the layer, before any graph exists */
static void test_shape_errors(void)
{
    static const struct {
        const char *spec;
        int rank;
        int64_t shape[3];
        const char *msg;
    } bad[] = {
        {"conv 4 3x3; relu; dense 2", 1, {64}, "layer 0 (conv): needs image input (C, H, W), got (64,) per sample"},
        {"conv 4 5x5; dense 2", 3, {1, 3, 3}, "layer 0 (conv): the 5x5 kernel (dilation 1x1) is larger than the padded input (1, 3, 3)"},
        {"maxpool 2; dense 2", 1, {8}, "layer 0 (maxpool): needs (C, H, W) input, got (8,) per sample"},
        {"avgpool 4; dense 2", 3, {1, 3, 3}, "layer 0 (avgpool): the 4x4 window is larger than the padded input (1, 3, 3)"},
        {"dense 4; gap", 1, {8}, "layer 1 (gap): needs (C, H, W) input, got (4,) per sample"},
        {"dense 5; maxout 2; dense 2", 1, {8}, "layer 1 (maxout): needs (units * 2) input, got (5,) per sample"},
        {"batchnorm; dense 2", 2, {3, 4}, "layer 0 (batchnorm): needs (C) or (C, H, W) input, got (3, 4) per sample"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nb_model *m;
        CHECK_OK(nb_model_parse(bad[i].spec, NB_TASK_CLASSIFY, &m));
        CHECK_ERR(nb_model_build(m, bad[i].rank, bad[i].shape, 2), NB_ERR_SHAPE, bad[i].msg);
        CHECK(nb_model_graph(m) == NULL);
        nb_model_free(m);
    }
}

/* the whole file, or the part from the line `from` up to the next "## " heading */
static char *read_doc(const char *path, const char *from)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    static char buf[1 << 18];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *s = buf;
    if (from) {
        if (!(s = strstr(buf, from))) return NULL;
        char *end = strstr(s + strlen(from), "\n## ");
        if (end) *end = '\0';
    }
    return strdup(s);
}

/* `word` appears as code: a backtick, the word, then a backtick or a blank */
static int names_word(const char *doc, const char *word)
{
    char pat[64];
    int n = snprintf(pat, sizeof pat, "`%s", word);
    for (const char *p = doc; (p = strstr(p, pat)); p += n)
        if (p[n] == '`' || p[n] == ' ') return 1;
    return 0;
}

static void check_doc_word(const char *doc, const char *name, const char *word)
{
    CHECK(names_word(doc, word));
    if (!names_word(doc, word)) fprintf(stderr, "%s does not name the layer word '%s'\n", name, word);
}

static void test_docs_name_every_layer(void)
{
    char *spec = read_doc("docs/SPEC.md", NULL), *cli = read_doc("docs/CLI.md", "## SPEC\n");
    CHECK(spec && cli);
    if (!spec || !cli) {
        fprintf(stderr, "docs/SPEC.md or the '## SPEC' section of docs/CLI.md is missing\n");
        free(spec);
        free(cli);
        return;
    }
    const char *docs[2] = {spec, cli}, *names[2] = {"docs/SPEC.md", "docs/CLI.md's SPEC section"};
    for (int d = 0; d < 2; d++) {
        for (int k = 0; k < NB_LAYER_COUNT_; k++) {
            const nb__layer_def *l = nb__layer_table[k];
            if (!l || !l->word) continue; /* the activation kind is found by match: below */
            check_doc_word(docs[d], names[d], l->word);
            for (const char *const *a = l->aliases; a && *a; a++) check_doc_word(docs[d], names[d], *a);
        }
        for (int op = 0; op < NB_OP_COUNT_; op++) {
            nb_model *m;
            if (nb_model_create(NB_TASK_CLASSIFY, &m)) continue;
            if (nb_model_add_activation(m, (nb_op_type)op, op == NB_OP_MAXOUT ? 2.0f : 0.0f) == NB_OK) {
                char word[40];
                snprintf(word, sizeof word, "%.*s", (int)strcspn(nb_model_spec(m), " "), nb_model_spec(m));
                check_doc_word(docs[d], names[d], word);
            }
            nb_model_free(m);
        }
    }
    free(spec);
    free(cli);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) return 1;
    verbose_ = getenv("TEST_LAYERS_VERBOSE") != NULL;
    test_table();
    test_every_kind();
    test_activation_alias();
    test_prelu_values();
    test_prelu_gradients();
    test_prelu_spec_and_builder();
    test_embedding_spec();
    test_embedding_learns();
    test_shape_errors();
    test_docs_name_every_layer();
    rmdir(tmpdir);
    return check_exit("test_layers");
}
