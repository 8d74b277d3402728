/* SPDX-License-Identifier: MIT */
/*
 * test_rnn_model.c - the recurrent layers in whole models: PyTorch parity of embedding + LSTM
 * and embedding + bidirectional GRU over padded id sequences (weights and probabilities from
 * tests/ref/make_rnn_model_ref.py); models that learn sequence rules through nb_model_train
 * (which of two tokens comes first, over padded ids; the sign of a sum over steps of (T, F)
 * data and of a one-channel image read as rows); gradients of stacked layers against
 * finite differences; parameters and FLOPs in the layer info;
 * byte-identical model files for 1 and 2 threads; a checkpoint resume of an LSTM run equal
 * to the uninterrupted run; spec, builder and shape errors.
 */
#include "nabla.h"
#include "check.h"
#include "fault_alloc.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[] = "/tmp/nabla-rnn-model-XXXXXX";
static int verbose_;

/* ---------------------------------------------------------------- PyTorch parity */

/* the line of tests/ref/rnn_model_ref.txt starting with key: its values (hex floats) into v */
static int ref_line(const char *key, float *v, int cap)
{
    FILE *f = fopen("tests/ref/rnn_model_ref.txt", "r");
    static char line[1 << 14];
    int n = 0;
    while (f && fgets(line, sizeof line, f)) {
        size_t k = strlen(key);
        if (strncmp(line, key, k) != 0 || line[k] != ' ') continue;
        char *p = line + k, *end;
        long a = strtol(p, &end, 10), b = strtol(end, &end, 10);
        p = end;
        for (n = 0; n < a * b && n < cap; n++) {
            v[n] = (float)strtod(p, &end);
            if (end == p) break;
            p = end;
        }
        break;
    }
    if (f) fclose(f);
    return n;
}

static void test_torch_parity(void)
{
    static const struct {
        const char *spec, *file, *key;
    } c[] = {
        {"embedding 8 vocab 11; lstm 16; dense 3", "tests/ref/rnn_model_lstm.safetensors", "proba lstm"},
        {"embedding 8 vocab 11; gru 16 bidirectional; dense 3", "tests/ref/rnn_model_gru.safetensors", "proba gru"},
    };
    enum { N = 5, T = 7 };
    float ids[N * T], ref[N * 3], p[N * 3];
    CHECK(ref_line("ids", ids, N * T) == N * T);
    for (int k = 0; k < 2; k++) {
        nb_model *m;
        CHECK_OK(nb_model_parse(c[k].spec, NB_TASK_CLASSIFY, &m));
        CHECK_OK(nb_model_build(m, 1, (int64_t[]){T}, 3));
        CHECK_OK(nb_model_load_weights(m, c[k].file));
        CHECK(ref_line(c[k].key, ref, N * 3) == N * 3);
        CHECK_OK(nb_model_predict(m, ids, N, p));
        double worst = 0;
        for (int i = 0; i < N * 3; i++) {
            CHECK_NEAR(p[i], ref[i], 1e-5, 0);
            double d = fabs((double)p[i] - (double)ref[i]);
            if (d > worst) worst = d;
        }
        if (verbose_) printf("%s: largest difference from PyTorch %.3g\n", c[k].key, worst);
        /* rows in another batch predict the same: lengths are per row, never the batch's */
        float one[2 * T + 2 * T], q[2 * 3];
        for (int j = 0; j < T; j++) one[j] = ids[1 * T + j], one[T + j] = ids[3 * T + j];
        CHECK_OK(nb_model_predict(m, one, 2, q));
        for (int j = 0; j < 3; j++) {
            CHECK_NEAR(q[j], p[1 * 3 + j], 1e-6, 0);
            CHECK_NEAR(q[3 + j], p[3 * 3 + j], 1e-6, 0);
        }
        nb_model_free(m);
    }
}

/* ---------------------------------------------------------------- learning */

/* n right-padded sequences of T ids: fillers 3..5 with one 1 and one 2; class 0 when the 1
 * comes first */
static nb_dataset *order_data(int n, int T, uint64_t seed)
{
    float *x = calloc((size_t)n * (size_t)T, sizeof *x), *y = malloc((size_t)n * sizeof *y);
    nb_dataset *ds = NULL;
    nb_rng r;
    nb_rng_seed(&r, seed);
    for (int i = 0; x && y && i < n; i++) {
        int len = 2 + (int)nb_rng_below(&r, (uint64_t)(T - 1));
        for (int k = 0; k < len; k++) x[i * T + k] = (float)(3 + nb_rng_below(&r, 3));
        int a = (int)nb_rng_below(&r, (uint64_t)len), b = (int)nb_rng_below(&r, (uint64_t)(len - 1));
        if (b >= a) b++;
        x[i * T + a] = 1, x[i * T + b] = 2;
        y[i] = a < b ? 0.0f : 1.0f;
    }
    if (x && y && nb_dataset_create_from(x, n, T, y, 1, NB_TASK_CLASSIFY, 2, &ds)) ds = NULL;
    free(x), free(y);
    return ds;
}

/* n samples (T, F) of normal noise; class 1 when the sum of feature 0 over the steps is > 0 */
static nb_dataset *sum_data(int n, int rank, const int64_t *shape, int T, int F, uint64_t seed)
{
    float *x = malloc((size_t)n * (size_t)(T * F) * sizeof *x), *y = malloc((size_t)n * sizeof *y);
    nb_dataset *ds = NULL;
    nb_rng r;
    nb_rng_seed(&r, seed);
    for (int i = 0; x && y && i < n; i++) {
        float s = 0;
        for (int k = 0; k < T * F; k++) {
            x[i * T * F + k] = nb_rng_normal(&r);
            if (k % F == 0) s += x[i * T * F + k];
        }
        y[i] = s > 0 ? 1.0f : 0.0f;
    }
    if (x && y && nb_dataset_create_from(x, n, T * F, y, 1, NB_TASK_CLASSIFY, 2, &ds)) ds = NULL;
    if (ds && nb_dataset_set_sample_shape(ds, rank, shape)) {
        nb_dataset_free(ds);
        ds = NULL;
    }
    free(x), free(y);
    return ds;
}

static void learns(const char *spec, nb_dataset *ds, int rank, const int64_t *shape, int64_t vocab, int epochs, float lr)
{
    nb_model *m;
    CHECK(ds != NULL);
    CHECK_OK(nb_model_parse(spec, NB_TASK_CLASSIFY, &m));
    if (vocab) CHECK_OK(nb_model_set_vocab(m, vocab));
    CHECK_OK(nb_model_build(m, rank, shape, 2));
    nb_train_config cfg = nb_train_config_default();
    cfg.epochs = epochs;
    cfg.batch_size = 16;
    cfg.optim = nb_optim_config_default(NB_OPTIM_ADAM);
    cfg.optim.lr = lr;
    nb_history h = {0};
    CHECK_OK(nb_model_train(m, ds, NULL, &cfg, &h));
    CHECK(h.n == epochs);
    if (h.n == epochs) {
        double l0 = h.epochs[0].train_loss, l1 = h.epochs[epochs - 1].train_loss, acc = h.epochs[epochs - 1].train_acc;
        CHECK(l1 < 0.25 * l0);
        CHECK(acc > 0.97);
        if (verbose_ || !(l1 < 0.25 * l0 && acc > 0.97)) printf("%s: loss %.4f -> %.4f, accuracy %.3f\n", spec, l0, l1, acc);
    }
    nb_history_free(&h);
    nb_model_free(m);
}

static void test_learns(void)
{
    nb_dataset *ds = order_data(256, 8, 3);
    learns("embedding 8; lstm 16; dense 2", ds, 1, (int64_t[]){8}, 6, 25, 0.02f);
    nb_dataset_free(ds);
    ds = sum_data(256, 2, (int64_t[]){6, 2}, 6, 2, 4);
    learns("gru 8; dense 2", ds, 2, (int64_t[]){6, 2}, 0, 25, 0.02f);
    nb_dataset_free(ds);
    ds = sum_data(256, 3, (int64_t[]){1, 6, 2}, 6, 2, 5); /* a one-channel image: 6 rows of 2 */
    learns("rnn 8 sequence; rnn 8 mean; dense 2", ds, 3, (int64_t[]){1, 6, 2}, 0, 25, 0.02f);
    nb_dataset_free(ds);
}

/* ---------------------------------------------------------------- gradients */

/* the loss's gradient through stacked recurrent layers with per-row lengths (embedding
 * first: padded ids) and without (a one-channel image), against float32 central
 * differences (agreeing to ~1e-3 with eps 1e-2, as in test_ops.c) */
static void test_gradients(void)
{
    static const struct {
        const char *spec;
        int rank;
        int64_t shape[3];
    } c[] = {
        {"embedding 3 vocab 6; lstm 4 sequence; gru 3 mean bidirectional; dense 2", 1, {5}},
        {"rnn 3 sequence bidirectional; lstm 3; dense 2", 3, {1, 4, 3}},
    };
    for (int k = 0; k < 2; k++) {
        enum { N = 4 };
        int64_t f = c[k].rank == 1 ? 5 : 12;
        float x[N * 12], y[N] = {0, 1, 1, 0};
        nb_rng r;
        nb_rng_seed(&r, 21);
        for (int i = 0; i < N; i++)
            for (int j = 0; j < f; j++)
                x[i * f + j] = c[k].rank == 1 ? (j < 2 + i % 3 ? (float)(1 + nb_rng_below(&r, 5)) : 0.0f) : nb_rng_normal(&r);
        nb_model *m;
        CHECK_OK(nb_model_parse(c[k].spec, NB_TASK_CLASSIFY, &m));
        CHECK_OK(nb_model_build(m, c[k].rank, c[k].shape, 2));
        nb_graph *g = nb_model_graph(m);
        CHECK_OK(nb_graph_feed(g, nb_graph_find(g, "x"), x, (size_t)(N * f)));
        CHECK_OK(nb_graph_feed(g, nb_graph_find(g, "target"), y, N));
        nb_node loss = -1;
        int n_lengths = 0; /* one lengths node serves both recurrent layers; none without ids */
        for (nb_node i = 0; i < nb_graph_node_count(g); i++) {
            if (nb_graph_node_op(g, i) == NB_OP_SOFTMAX_CE) loss = i;
            n_lengths += nb_graph_node_op(g, i) == NB_OP_SEQ_LENGTHS;
        }
        CHECK(n_lengths == (k == 0 ? 1 : 0));
        nb_gradcheck_entry e[24];
        int n_e = 0;
        CHECK_OK(nb_gradcheck(g, loss, 1e-2f, e, 24, &n_e));
        CHECK(n_e == nb_model_n_param_tensors(m));
        for (int i = 0; i < n_e && i < 24; i++) {
            CHECK(e[i].max_rel_err < 1e-2);
            if (!(e[i].max_rel_err < 1e-2) || verbose_)
                printf("  %s: node %d rel err %g (analytic %g, numeric %g)\n", c[k].spec, (int)e[i].node, e[i].max_rel_err,
                       e[i].analytic, e[i].numeric);
        }
        nb_model_free(m);
    }
}

/* ---------------------------------------------------------------- summary, errors */

static void test_info_and_errors(void)
{
    nb_model *m;
    CHECK_OK(nb_model_parse("lstm 4 sequence; gru 3 bidirectional mean; rnn 2 last; dense 2", NB_TASK_CLASSIFY, &m));
    CHECK(strcmp(nb_model_spec(m), "lstm 4 sequence; gru 3 mean bidirectional; rnn 2; dense 2") == 0);
    CHECK_ERR(nb_model_build(m, 1, (int64_t[]){5}, 2), NB_ERR_SHAPE, "layer 0 (lstm): needs a sequence (T, F) per sample");
    CHECK_ERR(nb_model_plan(m, 2, (int64_t[]){5, 3}, 2), NB_ERR_SHAPE, "layer 2 (rnn): needs a sequence (T, F) per sample");
    CHECK_ERR(nb_model_build(m, 3, (int64_t[]){2, 5, 3}, 2), NB_ERR_SHAPE, "got (2, 5, 3)");
    nb_model_free(m);
    /* T = 5, F = 3: lstm 4 (G 4): params 16*3 + 16*4 + 2*16 = 144; flops 5 (2*16*7 + 32 + 20) */
    CHECK_OK(nb_model_parse("lstm 4 sequence; gru 3 mean bidirectional; dense 2", NB_TASK_CLASSIFY, &m));
    CHECK_OK(nb_model_plan(m, 2, (int64_t[]){5, 3}, 2));
    nb_layer_info li;
    CHECK_OK(nb_model_layer_info(m, 0, &li));
    CHECK(li.type == NB_LAYER_LSTM && li.units == 4 && li.n_params == 144 && li.flops == 1380.0);
    CHECK(li.out_rank == 2 && li.out_shape[0] == 5 && li.out_shape[1] == 4);
    /* gru 3 bidirectional over (5, 4): 2 (9*4 + 9*3 + 18) = 162; flops 5*2 (2*9*7 + 18 + 15) = 1590 */
    CHECK_OK(nb_model_layer_info(m, 1, &li));
    CHECK(li.type == NB_LAYER_GRU && li.n_params == 162 && li.flops == 1590.0);
    CHECK(li.out_rank == 1 && li.out_shape[0] == 6 && strcmp(li.text, "gru 3 mean bidirectional") == 0);
    nb_model_free(m);
    /* PyTorch's names, shapes and initialisation range */
    CHECK_OK(nb_model_create(NB_TASK_CLASSIFY, &m));
    CHECK_OK(nb_model_add_rnn(m, NB_CELL_GRU, 4, NB_RNN_LAST, 1));
    CHECK_OK(nb_model_add_dense(m, 2, 1));
    CHECK(strcmp(nb_model_spec(m), "gru 4 bidirectional; dense 2") == 0);
    CHECK_OK(nb_model_build(m, 2, (int64_t[]){3, 5}, 2));
    static const char *names[8] = {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                                   "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse"};
    CHECK(nb_model_n_param_tensors(m) == 10);
    for (int k = 0; k < 8; k++) {
        nb_param_info pi;
        char want[48];
        snprintf(want, sizeof want, "layers.0.%s", names[k]);
        CHECK_OK(nb_model_param_info(m, k, &pi));
        CHECK(strcmp(pi.name, want) == 0 && pi.shape[0] == 12 && (k % 4 >= 2 ? pi.rank == 1 : pi.shape[1] == (k % 4 ? 4 : 5)));
        float lo = 1, hi = -1;
        for (size_t j = 0; j < pi.n; j++) lo = pi.data[j] < lo ? pi.data[j] : lo, hi = pi.data[j] > hi ? pi.data[j] : hi;
        CHECK(lo >= -0.5f && hi <= 0.5f && hi - lo > 0.5f); /* U(+-1/sqrt(4)) */
    }
    CHECK_ERR(nb_model_add_rnn(m, (nb_rnn_cell)3, 4, NB_RNN_LAST, 0), NB_ERR_ARG, "cell must be NB_CELL_TANH, NB_CELL_LSTM or NB_CELL_GRU");
    nb_model_free(m);
    CHECK_OK(nb_model_create(NB_TASK_CLASSIFY, &m));
    CHECK_ERR(nb_model_add_rnn(m, NB_CELL_LSTM, 0, NB_RNN_LAST, 0), NB_ERR_ARG, "lstm: hidden must be in 1..2^24, got 0");
    CHECK_ERR(nb_model_add_rnn(m, NB_CELL_TANH, 4, (nb_rnn_output)3, 0), NB_ERR_ARG, "rnn: output must be NB_RNN_LAST");
    CHECK_ERR(nb_model_add_rnn(m, NB_CELL_GRU, 4, NB_RNN_MEAN, 2), NB_ERR_ARG, "gru: bidirectional must be 0 or 1, got 2");
    nb_model_free(m);
    CHECK_ERR(nb_model_parse("lstm", NB_TASK_CLASSIFY, &m), NB_ERR_FORMAT, "spec:1: 'lstm' takes a whole number of hidden units");
    CHECK_ERR(nb_model_parse("gru 0", NB_TASK_CLASSIFY, &m), NB_ERR_FORMAT, "got '0'");
    CHECK_ERR(nb_model_parse("rnn 4 sequence last", NB_TASK_CLASSIFY, &m), NB_ERR_FORMAT, "takes one of sequence, last and mean, got a second ('last')");
    CHECK_ERR(nb_model_parse("lstm 4 both", NB_TASK_CLASSIFY, &m), NB_ERR_FORMAT,
              "spec:1: unexpected 'both' after lstm (options: sequence, last or mean; bidirectional)");
}

/* ---------------------------------------------------------------- determinism */

static const char *DSPEC = "embedding 8; lstm 12 sequence; lstm 8; dense 2";

static nb_model *fresh(void)
{
    nb_model *m;
    if (nb_model_parse(DSPEC, NB_TASK_CLASSIFY, &m)) return NULL;
    if (nb_model_set_vocab(m, 6) || nb_model_build(m, 1, (int64_t[]){8}, 2) || nb_model_init(m, NB_INIT_TORCH, 0, 4)) {
        nb_model_free(m);
        return NULL;
    }
    return m;
}

static void config(nb_train_config *cfg)
{
    *cfg = nb_train_config_default();
    cfg->epochs = 2;
    cfg->batch_size = 16; /* 100 rows: 7 steps per epoch, the last one short */
    cfg->optim = nb_optim_config_default(NB_OPTIM_ADAM);
    cfg->optim.lr = 0.01f;
    cfg->seed = 11;
}

static unsigned char *slurp(const char *path, long *n)
{
    FILE *f = fopen(path, "rb");
    unsigned char *b = NULL;
    *n = -1;
    if (f && fseek(f, 0, SEEK_END) == 0 && (*n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 && (b = malloc((size_t)*n + 1)) &&
        fread(b, 1, (size_t)*n, f) != (size_t)*n) {
        free(b);
        b = NULL;
    }
    if (f) fclose(f);
    return b;
}

static void test_threads(void)
{
    nb_dataset *ds = order_data(100, 8, 7);
    char path[2][300];
    for (int t = 0; t < 2; t++) {
        nb_set_threads(t + 1);
        nb_model *m = fresh();
        nb_train_config cfg;
        config(&cfg);
        CHECK(m != NULL);
        CHECK_OK(nb_model_train(m, ds, NULL, &cfg, NULL));
        snprintf(path[t], sizeof path[t], "%s/threads%d.safetensors", dir, t + 1);
        CHECK_OK(nb_model_save(m, path[t], NULL));
        nb_model_free(m);
    }
    nb_set_threads(1);
    long n1, n2;
    unsigned char *a = slurp(path[0], &n1), *b = slurp(path[1], &n2);
    CHECK(a && b && n1 == n2 && n1 > 0 && memcmp(a, b, (size_t)n1) == 0);
    free(a), free(b);
    unlink(path[0]), unlink(path[1]);
    nb_dataset_free(ds);
}

static int stop_after, steps_seen;
static int stopper(void *ud, const nb_progress *p)
{
    (void)ud;
    if (p->stats) return 0;
    return ++steps_seen == stop_after;
}

static void test_resume(void)
{
    nb_dataset *ds = order_data(100, 8, 7);
    nb_train_config cfg;
    config(&cfg);
    nb_model *ref = fresh();
    CHECK(ref != NULL);
    if (!ref) return;
    CHECK_OK(nb_model_train(ref, ds, NULL, &cfg, NULL));
    size_t np = nb_model_param_count(ref);
    for (stop_after = 3; stop_after <= 10; stop_after += 7) { /* mid-epoch 1, mid-epoch 2 */
        nb_model *a = fresh();
        nb_train_config c1 = cfg;
        c1.checkpoint_dir = dir;
        c1.checkpoint_keep = 1;
        c1.progress = stopper;
        steps_seen = 0;
        CHECK_ERR(nb_model_train(a, ds, NULL, &c1, NULL), NB_ERR_INTERRUPTED, "interrupted");
        nb_model_free(a);
        char path[600] = "";
        DIR *d = opendir(dir);
        struct dirent *de;
        while (d && (de = readdir(d)))
            if (strncmp(de->d_name, "ckpt-", 5) == 0) snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (d) closedir(d);
        CHECK(path[0] != '\0');
        nb_model *b = fresh();
        nb_train_config c2 = cfg;
        c2.resume = path;
        CHECK_OK(nb_model_train(b, ds, NULL, &c2, NULL));
        CHECK(memcmp(nb_model_params(b), nb_model_params(ref), np * sizeof(float)) == 0);
        nb_model_free(b);
        unlink(path);
    }
    nb_model_free(ref);
    nb_dataset_free(ds);
}

/* ---------------------------------------------------------------- no allocation per step */

/* the allocations counted at every step of an epoch (the callback runs after each) */
typedef struct step_calls {
    long first[8], last[8];
    int64_t steps[8];
} step_calls;

static int count_calls(void *ud, const nb_progress *p)
{
    step_calls *c = ud;
    if (p->stats || p->epoch < 1 || p->epoch > 8) return 0;
    if (c->steps[p->epoch - 1]++ == 0) c->first[p->epoch - 1] = fa_calls;
    c->last[p->epoch - 1] = fa_calls;
    return 0;
}

/* Once the first step has sized the arena, the steps of an epoch allocate nothing, the
 * shorter last batch included (250 rows in batches of 16), with per-row lengths (embedding
 * first) and without, stacked and bidirectional. */
static void test_no_alloc(void)
{
    const char *specs[] = {"embedding 8; lstm 16 sequence; gru 8 bidirectional; dense 2", "embedding 8; rnn 8 mean; dense 2"};
    for (int k = 0; k < 2; k++) {
        nb_dataset *ds = order_data(250, 8, 11);
        nb_model *m;
        CHECK(ds != NULL);
        CHECK_OK(nb_model_parse(specs[k], NB_TASK_CLASSIFY, &m));
        CHECK_OK(nb_model_set_vocab(m, 6));
        CHECK_OK(nb_model_build(m, 1, (int64_t[]){8}, 2));
        nb_train_config cfg = nb_train_config_default();
        cfg.epochs = 3;
        cfg.batch_size = 16;
        step_calls c = {0};
        cfg.progress = count_calls;
        cfg.progress_ud = &c;
        fa_begin(0);
        CHECK_OK(nb_model_train(m, ds, NULL, &cfg, NULL));
        fa_end();
        CHECK(c.first[0] > 0); /* the hook saw the run's allocations (the arena among them) */
        for (int e = 0; e < 3; e++) {
            CHECK(c.steps[e] == 16);
            CHECK(c.last[e] == c.first[e]);
            if (c.last[e] != c.first[e])
                printf("%s: epoch %d allocated %ld times after its first step\n", specs[k], e + 1, c.last[e] - c.first[e]);
        }
        nb_model_free(m);
        nb_dataset_free(ds);
    }
}

int main(int argc, char **argv)
{
    verbose_ = argc > 1 && strcmp(argv[1], "-v") == 0;
    if (!mkdtemp(dir)) return 1;
    test_torch_parity();
    test_info_and_errors();
    test_gradients();
    test_learns();
    test_threads();
    test_resume();
    test_no_alloc();
    rmdir(dir);
    return check_exit("test_rnn_model");
}
