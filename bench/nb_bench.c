/* SPDX-License-Identifier: MIT */
/*
 * nb_bench.c - nabla's side of `make bench`: one measurement per subcommand, printed on stdout
 * as one line "NAME VALUE UNIT key=value ...", the last key always peak_rss_kb (this
 * process's peak resident memory, getrusage at the end). bench/torch_bench.py measures the
 * same things in PyTorch with the same output; bench/run.sh runs both and prints the table.
 * Uses only nabla.h (and nb__gemm_name, below). Not library code: it prints, and it exits non-zero on any failure.
 * Every timed section is preceded by one untimed warm-up step (or batch) and timed with
 * clock_gettime(CLOCK_MONOTONIC). See bench/README.md for what each row means.
 * Under bench/profile.sh, NB_BENCH_PERF_CTL names perf record's control FIFO: the timed
 * section alone is sampled (perf_mark), not the data loading and warm-up around it.
 */
#include <nabla.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define MLP_SPEC "dense 256; relu; dense 128; relu; dense 10"
#define CNN_SPEC "conv 16 3x3 pad 1; relu; maxpool 2; conv 32 3x3 pad 1; relu; maxpool 2; flatten; dense 128; relu; dense 10"
#define LSTM_SPEC "lstm 128; dense 10"              /* Fashion-MNIST as 28 steps of 28 features */
#define WORDS_SPEC "embedding 32; lstm 128; dense 9" /* issue 15's recipe 2 (bench/torch_words.py) */
#define BATCH 64          /* training batch of the reference recipes */
#define INFER_BATCH 1000  /* inference batch */
#define CHECK_STEPS 10    /* steps of the correctness check (first 640 images, file order) */

typedef struct options {
    const char *cmd, *data, *init;
    const char *words; /* words-epoch: the directory of `make words` (train.csv) */
    int threads;
    int64_t rows;    /* epoch rows (0: the whole training set); the time is scaled to it */
    int64_t steps;   /* tiny, logreg: batch-1 steps */
    int64_t batches; /* inference batches of INFER_BATCH rows */
} options;

/* per-step losses of a training run, recorded by the progress callback */
typedef struct loss_log {
    double *v;
    int64_t n, cap;
} loss_log;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static long peak_rss_kb(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) ? -1 : ru.ru_maxrss; /* kilobytes on Linux */
}

/* "enable" / "disable" to perf record's control FIFO (NB_BENCH_PERF_CTL), if any: the
 * profile covers the timed section only. perf acts on it within a millisecond or so. */
static void perf_mark(int on)
{
    const char *path = getenv("NB_BENCH_PERF_CTL");
    FILE *f = path && *path ? fopen(path, "w") : NULL;
    if (!f) return;
    fputs(on ? "enable\n" : "disable\n", f);
    fclose(f);
}

static int fail(const char *what)
{
    fprintf(stderr, "nb_bench %s: %s\n", what, nb_errmsg());
    return 1;
}

static int record(void *ud, const nb_progress *p)
{
    loss_log *l = ud;
    if (!p->stats && l->n < l->cap) l->v[l->n++] = p->step_loss;
    return 0;
}

/* mean of the first and of the last tenth of the recorded losses: a run that learns has
 * last < first (compared by run.sh); both finite, or training would have stopped */
static void loss_ends(const loss_log *l, double *first, double *last)
{
    int64_t k = l->n / 10 > 0 ? l->n / 10 : 1;
    double a = 0, b = 0;
    if (l->n == 0) {
        *first = *last = (double)NAN;
        return;
    }
    for (int64_t i = 0; i < k; i++) a += l->v[i], b += l->v[l->n - 1 - i];
    *first = a / (double)k, *last = b / (double)k;
}

/* Fashion-MNIST as the library's users hold it (the CLI does the same): images kept as bytes
 * (nb_data_opts.compact, a quarter of the memory of floats) and read as floats through the
 * min-max scaling, which for byte images is the fixed offset 0, scale 255: (b - 0) / 255 in
 * float, exactly the reference recipes' pixel / 255. */
static int load_fashion(const options *o, nb_split split, nb_dataset **out)
{
    nb_data_opts opts = nb_data_opts_default();
    opts.split = split;
    opts.compact = 1;
    nb_preproc *pp = NULL;
    *out = NULL;
    int st = nb_preproc_create(&pp);
    if (!st) st = nb_dataset_load(o->data, &opts, pp, out);
    if (!st) st = nb_preproc_fit_scaling(pp, NB_SCALE_MINMAX, *out);
    if (!st) st = nb_preproc_apply_scaling(pp, *out);
    nb_preproc_free(pp);
    if (st) {
        nb_dataset_free(*out);
        *out = NULL;
    }
    return st;
}

/* a new (float) dataset holding the first n rows of d (the warm-up batch) */
static int head_copy(const nb_dataset *d, int64_t n, nb_dataset **out)
{
    int64_t nf = nb_dataset_n_features(d), nt = nb_dataset_n_targets(d);
    float *x = malloc((size_t)(n * nf) * sizeof *x), *y = nt ? malloc((size_t)(n * nt) * sizeof *y) : NULL;
    int st = x && (y || !nt) ? nb_dataset_rows(d, 0, n, x, y) : NB_ERR_NOMEM;
    if (!st) st = nb_dataset_create_from(x, n, nf, y, nt, nb_dataset_task(d), nb_dataset_n_classes(d), out);
    free(x);
    free(y);
    return st;
}

/* the model kind of a command: 0 the MLP, 1 the CNN, 2 the Fashion LSTM */
static int kind_of(const char *cmd) { return !strncmp(cmd, "cnn", 3) ? 1 : !strncmp(cmd, "lstm", 4) ? 2 : 0; }

/* the reference MLP (samples (784)), CNN or LSTM (samples (1, 28, 28): the recurrent layer
 * reads a one-channel image as 28 steps of 28 features), PyTorch's default init */
static int build_reference(int kind, nb_model **m)
{
    int st = nb_model_parse(kind == 1 ? CNN_SPEC : kind == 2 ? LSTM_SPEC : MLP_SPEC, NB_TASK_CLASSIFY, m);
    if (!st) st = kind ? nb_model_build(*m, 3, (int64_t[]){1, 28, 28}, 10) : nb_model_build(*m, 1, (int64_t[]){784}, 10);
    if (!st) st = nb_model_init(*m, NB_INIT_TORCH, 0, 1);
    return st;
}

/* SGD with momentum for the MLP, Adam 1e-3 for the others (kind 1, 2; the words recipe too) */
static void reference_optim(int kind, nb_train_config *cfg)
{
    *cfg = nb_train_config_default();
    cfg->epochs = 1;
    cfg->batch_size = BATCH;
    cfg->seed = 1;
    if (kind) {
        cfg->optim = nb_optim_config_default(NB_OPTIM_ADAM);
        cfg->optim.lr = 1e-3f;
    } else {
        cfg->optim = nb_optim_config_default(NB_OPTIM_MOMENTUM);
        cfg->optim.lr = 0.05f;
        cfg->optim.momentum = 0.9f;
    }
}

/* Train m for one epoch over train after one untimed warm-up step; *seconds is the timed
 * epoch's wall-clock time, log receives its per-step losses. */
static int timed_epoch(nb_model *m, const nb_dataset *train, nb_train_config *cfg, loss_log *log,
                       double *seconds)
{
    nb_dataset *warm = NULL;
    int64_t B = cfg->batch_size;
    int64_t n = nb_dataset_n_rows(train);
    int st = head_copy(train, B < n ? B : n, &warm);
    if (!st) st = nb_model_train(m, warm, NULL, cfg, NULL);
    nb_dataset_free(warm);
    if (st) return st;
    log->cap = (n + B - 1) / B;
    log->n = 0;
    log->v = malloc((size_t)log->cap * sizeof *log->v);
    if (!log->v) return NB_ERR_NOMEM;
    cfg->progress = record;
    cfg->progress_ud = log;
    perf_mark(1);
    double t0 = now_s();
    st = nb_model_train(m, train, NULL, cfg, NULL);
    *seconds = now_s() - t0;
    perf_mark(0);
    cfg->progress = NULL;
    return st;
}

static void print_train(const char *name, double value, const char *unit, const loss_log *log,
                        int64_t rows, double seconds)
{
    double first, last;
    loss_ends(log, &first, &last);
    printf("%s %.6g %s steps=%lld rows=%lld measured_s=%.4f loss_first=%.6g loss_last=%.6g peak_rss_kb=%ld\n",
           name, value, unit, (long long)log->n, (long long)rows, seconds, first, last, peak_rss_kb());
}

/* mlp-epoch, cnn-epoch, lstm-epoch: seconds per epoch of the reference recipe on the training set (or its
 * first o->rows images, the time scaled to the whole set) */
static int cmd_epoch(const options *o)
{
    int cnn = kind_of(o->cmd), st;
    nb_dataset *train = NULL;
    nb_model *m = NULL;
    loss_log log = {0};
    double secs = 0;
    if ((st = load_fashion(o, NB_SPLIT_TRAIN, &train))) return fail(o->cmd);
    int64_t full = nb_dataset_n_rows(train);
    if (o->rows > 0 && o->rows < full) st = nb_dataset_truncate(train, o->rows);
    nb_train_config cfg;
    reference_optim(cnn, &cfg);
    if (!st) st = build_reference(cnn, &m);
    if (!st) st = timed_epoch(m, train, &cfg, &log, &secs);
    if (!st) print_train(o->cmd, secs * (double)full / (double)nb_dataset_n_rows(train), "s/epoch", &log,
                         nb_dataset_n_rows(train), secs);
    else fail(o->cmd);
    free(log.v);
    nb_model_free(m);
    nb_dataset_free(train);
    return st ? 1 : 0;
}

/* mlp-infer, cnn-infer, lstm-infer: samples/s of class probabilities (evaluation mode) for batches of
 * INFER_BATCH test images through the library's inference entry point for a dataset,
 * nb_model_predict_data (which runs the graph in chunks of its own size, or on 2+ threads in
 * pieces, each a whole forward on one thread's copy of the graph); each batch's rows
 * are converted from the compact (byte) test set into the model's input inside the timed
 * loop, as for a user holding bytes */
static int cmd_infer(const options *o)
{
    int cnn = kind_of(o->cmd), st;
    nb_dataset *test = NULL;
    nb_model *m = NULL;
    float *pb = NULL;
    if ((st = load_fashion(o, NB_SPLIT_TEST, &test))) return fail(o->cmd);
    if (nb_dataset_n_rows(test) < INFER_BATCH) {
        fprintf(stderr, "nb_bench %s: the test set has fewer than %d images\n", o->cmd, INFER_BATCH);
        nb_dataset_free(test);
        return 1;
    }
    if ((st = build_reference(cnn, &m))) goto done;
    size_t C = (size_t)nb_model_n_outputs(m);
    int64_t nb = nb_dataset_n_rows(test) / INFER_BATCH;
    pb = malloc(INFER_BATCH * C * sizeof *pb);
    if (!pb) {
        st = NB_ERR_NOMEM;
        goto done;
    }
    st = nb_model_predict_data(m, test, 0, INFER_BATCH, pb); /* warm-up batch */
    perf_mark(1);
    double t0 = now_s();
    for (int64_t b = 0; b < o->batches && !st; b++) st = nb_model_predict_data(m, test, (b % nb) * INFER_BATCH, INFER_BATCH, pb);
    double secs = now_s() - t0;
    perf_mark(0);
    if (st) goto done;
    /* a cheap sanity figure: the first probability row of the last batch sums to 1 */
    double sum = 0;
    for (size_t c = 0; c < C; c++) sum += (double)pb[c];
    printf("%s %.6g samples/s batch=%d batches=%lld measured_s=%.4f prob_row_sum=%.6f peak_rss_kb=%ld\n", o->cmd,
           (double)(o->batches * INFER_BATCH) / secs, INFER_BATCH, (long long)o->batches, secs, sum, peak_rss_kb());
done:
    if (st) fail(o->cmd);
    free(pb);
    nb_model_free(m);
    nb_dataset_free(test);
    return st ? 1 : 0;
}

/* words-epoch: seconds per epoch of issue 15's recipe 2 (bench/torch_words.py): the characters
 * of o->words/train.csv as token ids (the vocabulary from that file, nb_data_opts.tokens), an
 * embedding with padding, so the LSTM skips each word's padded steps, Adam 1e-3, batch 64; on
 * the first o->rows words, the time scaled to the whole file. mean_len (the mean word length in
 * characters, the LSTM steps per sample) and epoch_rows let table.py count the arithmetic. */
static int cmd_words(const options *o)
{
    char path[4096];
    nb_dataset *train = NULL;
    nb_model *m = NULL;
    nb_preproc *pp = NULL;
    loss_log log = {0};
    double secs = 0;
    float *ids = NULL;
    snprintf(path, sizeof path, "%s/train.csv", o->words);
    nb_data_opts opts = nb_data_opts_default();
    opts.tokens = NB_TOKENS_CHARS;
    int st = nb_preproc_create(&pp);
    if (!st) st = nb_dataset_load(path, &opts, pp, &train);
    if (st) {
        fail(path);
        goto done;
    }
    int64_t full = nb_dataset_n_rows(train), T = nb_dataset_n_features(train);
    if (o->rows > 0 && o->rows < full) st = nb_dataset_truncate(train, o->rows);
    int64_t n = nb_dataset_n_rows(train), chars = 0;
    /* the mean length, outside the timing: ids are right-padded with 0 */
    if (!st && !(ids = malloc((size_t)(n * T) * sizeof *ids))) st = NB_ERR_NOMEM;
    if (!st) st = nb_dataset_rows(train, 0, n, ids, NULL);
    for (int64_t i = 0; !st && i < n * T; i++) chars += ids[i] != 0.0f;
    nb_train_config cfg;
    reference_optim(1, &cfg);
    if (!st) st = nb_model_parse(WORDS_SPEC, NB_TASK_CLASSIFY, &m);
    if (!st) st = nb_model_set_vocab(m, nb_preproc_vocab_size(pp));
    if (!st) st = nb_model_build(m, nb_dataset_sample_rank(train), nb_dataset_sample_shape(train), nb_dataset_n_classes(train));
    if (!st) st = nb_model_init(m, NB_INIT_TORCH, 0, 1);
    if (!st) st = timed_epoch(m, train, &cfg, &log, &secs);
    if (st) {
        fail(o->cmd);
        goto done;
    }
    double first, last;
    loss_ends(&log, &first, &last);
    printf("%s %.6g s/epoch steps=%lld rows=%lld epoch_rows=%lld mean_len=%.4f max_len=%lld vocab=%lld "
           "measured_s=%.4f loss_first=%.6g loss_last=%.6g peak_rss_kb=%ld\n",
           o->cmd, secs * (double)full / (double)n, (long long)log.n, (long long)n, (long long)full,
           (double)chars / (double)n, (long long)T, (long long)nb_preproc_vocab_size(pp), secs, first, last,
           peak_rss_kb());
done:
    free(ids);
    free(log.v);
    nb_model_free(m);
    nb_preproc_free(pp);
    nb_dataset_free(train);
    return st ? 1 : 0;
}

/* batch-1 SGD steps per second over o->steps rows (one epoch, shuffled) of d */
static int batch1_steps(const options *o, nb_model *m, const nb_dataset *d, float lr)
{
    nb_train_config cfg = nb_train_config_default();
    cfg.epochs = 1;
    cfg.batch_size = 1;
    cfg.seed = 1;
    cfg.optim = nb_optim_config_default(NB_OPTIM_SGD); /* plain SGD, as torch_bench.py (the default is Adam) */
    cfg.optim.lr = lr;
    loss_log log = {0};
    double secs = 0;
    int st = timed_epoch(m, d, &cfg, &log, &secs);
    if (!st) print_train(o->cmd, (double)log.n / secs, "steps/s", &log, nb_dataset_n_rows(d), secs);
    free(log.v);
    return st;
}

/* tiny: the 2-4-1 network (sigmoid hidden layer, one logit, binary cross-entropy), SGD lr
 * 0.5, batch 1, on points of a grid-like sequence labelled by which side of x0 = x1 they are
 * (the same integer formula in torch_bench.py gives the same data) */
static int cmd_tiny(const options *o)
{
    nb_dataset *d = NULL;
    nb_model *m = NULL;
    float *x = o->steps > 0 ? malloc((size_t)o->steps * 2 * sizeof *x) : NULL, *y = x ? malloc((size_t)o->steps * sizeof *y) : NULL;
    for (int64_t i = 0; y && i < o->steps; i++) {
        float x0 = (float)((i * 37) % 101) / 50.0f - 1.0f, x1 = (float)((i * 53) % 97) / 48.0f - 1.0f;
        x[2 * i] = x0, x[2 * i + 1] = x1;
        y[i] = x0 > x1 ? 1.0f : 0.0f;
    }
    int st = y ? nb_dataset_create_from(x, o->steps, 2, y, 1, NB_TASK_BINARY, 2, &d) : NB_ERR_NOMEM;
    free(x);
    free(y);
    if (st) return fail(o->cmd);
    st = nb_model_create(NB_TASK_BINARY, &m);
    if (!st) st = nb_model_add_dense(m, 4, 1);
    if (!st) st = nb_model_add_activation(m, NB_OP_SIGMOID, 0);
    if (!st) st = nb_model_add_dense(m, 1, 1);
    if (!st) st = nb_model_build(m, 1, (int64_t[]){2}, 1);
    if (!st) st = nb_model_init(m, NB_INIT_TORCH, 0, 1);
    if (!st) st = batch1_steps(o, m, d, 0.5f);
    if (st) fail(o->cmd);
    nb_model_free(m);
    nb_dataset_free(d);
    return st ? 1 : 0;
}

/* logreg: 784 -> 10 softmax regression, SGD lr 0.01, batch 1, on the first o->steps training
 * images */
static int cmd_logreg(const options *o)
{
    nb_dataset *d = NULL;
    nb_model *m = NULL;
    int st = load_fashion(o, NB_SPLIT_TRAIN, &d);
    if (!st && o->steps < nb_dataset_n_rows(d)) st = nb_dataset_truncate(d, o->steps);
    if (!st) st = nb_model_parse("dense 10", NB_TASK_CLASSIFY, &m);
    if (!st) st = nb_model_build(m, 1, (int64_t[]){784}, 10);
    if (!st) st = nb_model_init(m, NB_INIT_TORCH, 0, 1);
    if (!st) st = batch1_steps(o, m, d, 0.01f);
    if (st) fail(o->cmd);
    nb_model_free(m);
    nb_dataset_free(d);
    return st ? 1 : 0;
}

/* mlp-check, cnn-check: save the seeded initial weights to o->init (PyTorch's state_dict
 * names), then train CHECK_STEPS steps of the recipe on the first images in file order and
 * print every step's loss; torch_bench.py loads the same file and does the same. */
static int cmd_check(const options *o)
{
    int cnn = kind_of(o->cmd), st;
    nb_dataset *train = NULL;
    nb_model *m = NULL;
    loss_log log = {0};
    if (!o->init) {
        fprintf(stderr, "nb_bench %s: --init FILE is required\n", o->cmd);
        return 1;
    }
    if ((st = load_fashion(o, NB_SPLIT_TRAIN, &train))) return fail(o->cmd);
    st = nb_dataset_truncate(train, CHECK_STEPS * BATCH);
    if (!st) st = build_reference(cnn, &m);
    if (!st) st = nb_model_save(m, o->init, NULL);
    log.cap = CHECK_STEPS;
    if (!st && !(log.v = malloc(CHECK_STEPS * sizeof *log.v))) st = NB_ERR_NOMEM;
    nb_train_config cfg;
    reference_optim(cnn, &cfg);
    cfg.shuffle = 0;
    cfg.progress = record;
    cfg.progress_ud = &log;
    if (!st) st = nb_model_train(m, train, NULL, &cfg, NULL);
    if (!st) {
        printf("%s %lld steps losses=", o->cmd, (long long)log.n);
        for (int64_t i = 0; i < log.n; i++) printf("%s%.9g", i ? "," : "", log.v[i]);
        printf(" peak_rss_kb=%ld\n", peak_rss_kb());
    } else {
        fail(o->cmd);
    }
    free(log.v);
    nb_model_free(m);
    nb_dataset_free(train);
    return st ? 1 : 0;
}

/* The library's name for the GEMM kernel tier it runs ("avx512", "avx2", "cblas", "portable";
 * src/ops/ops.h): internal, but this program links the static library, so it is reachable
 * for the bench's CPU line. */
const char *nb__gemm_name(void);

/* kernel: one line "kernel NAME", the tier the products of every row run on */
static int cmd_kernel(void)
{
    printf("kernel %s\n", nb__gemm_name());
    return 0;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: nb_bench CMD [--threads N] [--data DIR] [--words DIR] [--rows N] [--steps N] [--batches N] [--init FILE]\n"
            "  CMD: mlp-epoch cnn-epoch lstm-epoch words-epoch mlp-infer cnn-infer lstm-infer tiny logreg\n"
            "       mlp-check cnn-check kernel\n");
    return 2;
}

int main(int argc, char **argv)
{
    options o = {.data = "/usr/share/datasets/fashion-mnist", .threads = 1, .words = "build/words", .steps = 20000, .batches = 20};
    if (argc < 2) return usage();
    o.cmd = argv[1];
    for (int i = 2; i < argc; i += 2) { /* --option value pairs */
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) return usage();
        if (!strcmp(a, "--threads")) o.threads = atoi(v);
        else if (!strcmp(a, "--data")) o.data = v;
        else if (!strcmp(a, "--words")) o.words = v;
        else if (!strcmp(a, "--rows")) o.rows = atoll(v);
        else if (!strcmp(a, "--steps")) o.steps = atoll(v);
        else if (!strcmp(a, "--batches")) o.batches = atoll(v);
        else if (!strcmp(a, "--init")) o.init = v;
        else return usage();
    }
    if (o.threads < 1 || o.steps < 1 || o.batches < 1 || o.rows < 0) return usage();
    nb_set_threads(o.threads);
    if (!strcmp(o.cmd, "mlp-epoch") || !strcmp(o.cmd, "cnn-epoch") || !strcmp(o.cmd, "lstm-epoch")) return cmd_epoch(&o);
    if (!strcmp(o.cmd, "mlp-infer") || !strcmp(o.cmd, "cnn-infer") || !strcmp(o.cmd, "lstm-infer")) return cmd_infer(&o);
    if (!strcmp(o.cmd, "words-epoch")) return cmd_words(&o);
    if (!strcmp(o.cmd, "mlp-check") || !strcmp(o.cmd, "cnn-check")) return cmd_check(&o);
    if (!strcmp(o.cmd, "kernel")) return cmd_kernel();
    if (!strcmp(o.cmd, "tiny")) return cmd_tiny(&o);
    if (!strcmp(o.cmd, "logreg")) return cmd_logreg(&o);
    return usage();
}
