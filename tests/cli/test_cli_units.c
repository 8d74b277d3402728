/* SPDX-License-Identifier: MIT */
/*
 * test_cli_units.c - unit tests of the CLI's parts that need no trained model: option parsing
 * and its one-line messages, shapes, nice ticks, the SVG plot, the JSON and CSV writers, the
 * epoch line, the atomic file writer and the kept error lines of a distributed run. The CLI's sources are compiled in directly (the CLI is
 * a program, not part of libnabla); end-to-end behaviour is tests/cli/test_cli.sh's job.
 */
#include "../../src/cli/args.c"
#include "../../src/cli/dist.c"
#include "../../src/cli/history.c"
#include "../../src/cli/json_out.c"
#include "../../src/cli/plot.c"
#include "../../src/cli/png.c"
#include "../../src/cli/progress.c"
#include "../../src/cli/report.c"
#include "../../src/cli/report_img.c"
#include "../../src/cli/util.c"

#include "check.h"

#include <stdlib.h>
#include <unistd.h>
#ifdef NB_HAVE_ZLIB
#include <zlib.h>
#endif

/* ---- capture stderr into a buffer, to check the one-line messages */
static int saved_fd = -1;
static FILE *cap_file;

static void capture_begin(void)
{
    fflush(stderr);
    cap_file = tmpfile();
    saved_fd = dup(STDERR_FILENO);
    dup2(fileno(cap_file), STDERR_FILENO);
}

static void capture_end(char *buf, size_t cap)
{
    fflush(stderr);
    dup2(saved_fd, STDERR_FILENO);
    close(saved_fd);
    rewind(cap_file);
    size_t n = fread(buf, 1, cap - 1, cap_file);
    buf[n] = '\0';
    fclose(cap_file);
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

static size_t count_sub(const char *s, const char *sub)
{
    size_t n = 0, l = strlen(sub);
    for (const char *p = strstr(s, sub); p; p = strstr(p + l, sub)) n++;
    return n;
}

/* Read a whole FILE written by a writer under test. */
static char *slurp(FILE *f)
{
    fflush(f);
    long n = ftell(f);
    char *s = malloc((size_t)n + 1);
    rewind(f);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = '\0';
    return s;
}

typedef struct parsed {
    const char *s;
    int64_t i;
    uint64_t u;
    double d, p;
    int flag;
} parsed;

/* Parse argv (a NULL-terminated list after "nabla x") and return the status; *msg gets stderr. */
static int parse(parsed *v, char *msg, size_t cap, const char **args)
{
    char *argv[32] = {"nabla", "x"};
    int argc = 2;
    for (; *args && argc < 31; args++) argv[argc++] = (char *)*args;
    cli_opt opts[] = {
        {"--name", CLI_STR, &v->s, 0, 0, 0, NULL},
        {"--epochs", CLI_INT, &v->i, 1, 9.2e18, 0, NULL},
        {"--seed", CLI_U64, &v->u, 0, 0, 0, NULL},
        {"--lr", CLI_NUM, &v->d, 0, (double)INFINITY, CLI_OPEN_LO, NULL},
        {"--val-split", CLI_NUM, &v->p, 0, 1, CLI_OPEN_LO | CLI_OPEN_HI, NULL},
        {"--quiet", CLI_FLAG, &v->flag, 0, 0, 0, "-q"},
    };
    capture_begin();
    int rc = cli_parse("x", argc, argv, 2, opts, 6);
    capture_end(msg, cap);
    return rc;
}

#define ARGS(...) ((const char *[]){__VA_ARGS__, NULL})

static void test_parse(void)
{
    parsed v = {0};
    char msg[512];
    CHECK(parse(&v, msg, sizeof msg, ARGS("--name", "a", "--epochs=12", "--seed", "18446744073709551615",
                                          "--lr", "1e-3", "--val-split", "0.25", "-q")) == 0);
    CHECK(v.s && strcmp(v.s, "a") == 0);
    CHECK(v.i == 12);
    CHECK(v.u == UINT64_MAX);
    CHECK(v.d == 1e-3);
    CHECK(v.p == 0.25);
    CHECK(v.flag == 1);
    CHECK(msg[0] == '\0');

    /* each error: status 2, one line, "nabla: " first, names the option and the text */
    struct {
        const char **args;
        const char *want;
    } bad[] = {
        {ARGS("--lr", "abc"), "nabla: --lr: expected a positive number, got 'abc'\n"},
        {ARGS("--lr", "-1"), "nabla: --lr: expected a positive number, got '-1'\n"},
        {ARGS("--lr", "0"), "nabla: --lr: expected a positive number, got '0'\n"},
        {ARGS("--lr", "nan"), "nabla: --lr: expected a positive number, got 'nan'\n"},
        {ARGS("--lr", "inf"), "nabla: --lr: expected a positive number, got 'inf'\n"},
        {ARGS("--val-split", "1.5"), "nabla: --val-split: expected a number in (0, 1), got '1.5'\n"},
        {ARGS("--val-split", "1"), "nabla: --val-split: expected a number in (0, 1), got '1'\n"},
        {ARGS("--epochs", "0"), "nabla: --epochs: expected a positive integer, got '0'\n"},
        {ARGS("--epochs", "2.5"), "nabla: --epochs: expected a positive integer, got '2.5'\n"},
        {ARGS("--epochs", "99999999999999999999"), "got '99999999999999999999'\n"},
        {ARGS("--seed", "-1"), "nabla: --seed: expected an integer in [0, 18446744073709551615], got '-1'\n"},
        {ARGS("--seed", "18446744073709551616"), "nabla: --seed: expected an integer"},
        {ARGS("--frobnicate"), "nabla: x: unknown option '--frobnicate' (see 'nabla x --help')\n"},
        {ARGS("--frob=3"), "nabla: x: unknown option '--frob' (see 'nabla x --help')\n"},
        {ARGS("-z"), "nabla: x: unknown option '-z'"},
        {ARGS("stray"), "nabla: x: unexpected argument 'stray'"},
        {ARGS("--lr"), "nabla: --lr: missing value\n"},
        {ARGS("--quiet=1"), "nabla: --quiet: takes no value\n"},
        {ARGS("--name", ""), "nabla: --name: expected a value, got ''\n"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = parse(&v, msg, sizeof msg, bad[i].args);
        CHECK(rc == NB_ERR_ARG);
        CHECK(count_lines(msg) == 1);
        if (!strstr(msg, bad[i].want)) {
            CHECK(!"message");
            fprintf(stderr, "  case %zu: got \"%s\", want \"%s\"\n", i, msg, bad[i].want);
        }
    }
    /* a value may start with '-' (so it is judged as a value, not taken for an option) */
    CHECK(parse(&v, msg, sizeof msg, ARGS("--name", "-x")) == 0 && strcmp(v.s, "-x") == 0);
    /* last one wins */
    CHECK(parse(&v, msg, sizeof msg, ARGS("--epochs", "3", "--epochs", "4")) == 0 && v.i == 4);

    char *argv1[] = {"nabla", "train", "--lr", "x", "-h"};
    CHECK(cli_wants_help(5, argv1, 2) == 1);
    CHECK(cli_wants_help(4, argv1, 2) == 0);
}

static void test_shape_header(void)
{
    int rank;
    int64_t s[3];
    char msg[256];
    CHECK(cli_parse_shape("--input-shape", "784", &rank, s) == 0 && rank == 1 && s[0] == 784);
    CHECK(cli_parse_shape("--input-shape", "1x28x28", &rank, s) == 0 && rank == 3 && s[0] == 1 &&
          s[1] == 28 && s[2] == 28);
    const char *bad[] = {"", "0", "x", "1x", "1x2x3x4", "-3", "28x0", " 5", "5 "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        capture_begin();
        int rc = cli_parse_shape("--input-shape", bad[i], &rank, s);
        capture_end(msg, sizeof msg);
        CHECK(rc == NB_ERR_ARG && count_lines(msg) == 1 && strncmp(msg, "nabla: --input-shape: ", 22) == 0);
    }
    int h = 5;
    CHECK(cli_header_mode("yes", &h) == 0 && h == 1);
    CHECK(cli_header_mode("no", &h) == 0 && h == 0);
    CHECK(cli_header_mode("auto", &h) == 0 && h == -1);
    capture_begin();
    int rc = cli_header_mode("maybe", &h);
    capture_end(msg, sizeof msg);
    CHECK(rc == NB_ERR_ARG && strcmp(msg, "nabla: --header: expected yes, no or auto, got 'maybe'\n") == 0);
}

static void test_ticks(void)
{
    double t0, st;
    int n = cli_nice_ticks(0.0, 1.0, &t0, &st);
    CHECK(n == 6 && t0 == 0.0 && fabs(st - 0.2) < 1e-12);
    n = cli_nice_ticks(0.23, 0.91, &t0, &st);
    CHECK(n == 5 && fabs(t0 - 0.2) < 1e-12 && fabs(st - 0.2) < 1e-12);
    n = cli_nice_ticks(37.0, 412.0, &t0, &st);
    CHECK(fabs(st - 100.0) < 1e-9 && t0 == 0.0 && n == 6);
    /* every range is covered by 2..12 ticks whose step is 1, 2 or 5 times a power of ten */
    nb_rng rng;
    nb_rng_seed(&rng, 7);
    for (int i = 0; i < 2000; i++) {
        double lo = ((double)nb_rng_uniform(&rng) - 0.5) * pow(10.0, (double)nb_rng_below(&rng, 12) - 6.0);
        double hi = lo + (double)(nb_rng_uniform(&rng) + 1e-3f) * pow(10.0, (double)nb_rng_below(&rng, 12) - 6.0);
        n = cli_nice_ticks(lo, hi, &t0, &st);
        double m = st / pow(10.0, floor(log10(st) + 1e-9));
        int ok = n >= 2 && n <= 12 && t0 <= lo + 1e-9 * st && t0 + st * (n - 1) >= hi - 1e-9 * st &&
                 (fabs(m - 1) < 1e-6 || fabs(m - 2) < 1e-6 || fabs(m - 5) < 1e-6);
        if (!ok) {
            CHECK(!"nice ticks");
            fprintf(stderr, "  [%g, %g] -> t0 %g step %g n %d\n", lo, hi, t0, st, n);
            break;
        }
    }
}

static nb_epoch_stats stats(int e, double tl, double ta, double vl, double va)
{
    nb_epoch_stats s = {e, tl, ta, vl, va, 0.05, 2.1, 28500.0};
    return s;
}

static void test_history_and_svg(void)
{
    cli_history h = {0};
    CHECK(cli_history_push(&h, &(nb_epoch_stats){0}) == 0);
    h.n = 0;
    for (int e = 1; e <= 40; e++)
        CHECK(cli_history_push(&h, &(nb_epoch_stats){e, 1.0 / e, 0.5 + e / 100.0, e == 3 ? (double)NAN : 1.2 / e,
                                                      0.4 + e / 100.0, 0.01, 0.5, 1000.0}) == 0);
    CHECK(h.n == 40);

    FILE *f = tmpfile();
    CHECK(cli_history_csv(f, &h) == 0);
    char *csv = slurp(f);
    fclose(f);
    CHECK(count_lines(csv) == 41);
    const char *head = "epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds\n1,1,0.51,1.2,0.41,0.01,0.5\n";
    CHECK(strncmp(csv, head, strlen(head)) == 0);
    CHECK(strstr(csv, "\n3,0.333333,0.53,,0.43,0.01,0.5\n") != NULL); /* NaN is an empty cell */
    free(csv);

    f = tmpfile();
    CHECK(cli_history_svg(f, &h, "m & <n>: \"dense 3\"") == 0);
    char *svg = slurp(f);
    fclose(f);
    CHECK(strncmp(svg, "<?xml", 5) == 0);
    CHECK(strstr(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"") != NULL);
    CHECK(strcmp(svg + strlen(svg) - 7, "</svg>\n") == 0);
    CHECK(count_sub(svg, "<g>") == 2 && count_sub(svg, "</g>") == 2); /* two panels */
    CHECK(strstr(svg, "m &amp; &lt;n&gt;: &quot;dense 3&quot;") != NULL);
    CHECK(strstr(svg, ">validation<") && strstr(svg, ">train<") && strstr(svg, ">epoch<"));
    CHECK(strstr(svg, ">accuracy (%)<") && strstr(svg, ">loss<"));
    CHECK(!strstr(svg, "nan") && !strstr(svg, "inf") && !strstr(svg, "NaN"));
    /* the validation line breaks at the NaN: two "M" moves in one path */
    CHECK(count_sub(svg, "stroke=\"#ff7f0e\" stroke-width=\"2\" d=\"M") == 2);
    free(svg);

    /* regression: no accuracy at all gives one panel; one epoch still draws */
    cli_history r = {0};
    nb_epoch_stats s = stats(1, 0.5, (double)NAN, (double)NAN, (double)NAN);
    CHECK(cli_history_push(&r, &s) == 0);
    f = tmpfile();
    CHECK(cli_history_svg(f, &r, "regress") == 0);
    svg = slurp(f);
    fclose(f);
    CHECK(count_sub(svg, "<g>") == 1 && strstr(svg, "<circle") != NULL && !strstr(svg, "nan"));
    free(svg);
    /* an empty history (interrupted in epoch 1) is still a valid document */
    r.n = 0;
    f = tmpfile();
    CHECK(cli_history_svg(f, &r, "empty") == 0);
    svg = slurp(f);
    fclose(f);
    CHECK(strstr(svg, "no data") != NULL && strstr(svg, "</svg>") != NULL);
    free(svg);
    cli_history_free(&r);
    cli_history_free(&h);
}

static void test_epoch_line(void)
{
    char line[256];
    nb_epoch_stats s = stats(3, 0.4123, 0.8512, 0.4456, 0.8430);
    cli_epoch_line(&s, 10, line, sizeof line);
    CHECK(strcmp(line, "epoch 3/10  train loss 0.4123 acc 85.12%  val loss 0.4456 acc 84.30%  lr 0.05  "
                       "2.1 s  28500 samples/s") == 0);
    s = stats(1, 0.25, (double)NAN, (double)NAN, (double)NAN);
    cli_epoch_line(&s, 2, line, sizeof line);
    CHECK(strcmp(line, "epoch 1/2  train loss 0.2500  lr 0.05  2.1 s  28500 samples/s") == 0);
    char tiny[8];
    cli_epoch_line(&s, 2, tiny, sizeof tiny); /* truncates, never overflows */
    CHECK(strcmp(tiny, "epoch 1") == 0);
}

/* The progress line fits the width (never wraps) and its ETA ignores the first step's warm-up:
 * a 5 s first step then 1000 samples/s must give the true time left, not an average that
 * counts the warm-up (the old ETA: 2100 samples in 7 s, 300/s, said 60 s for 17.9 s). */
static void test_progress_line(void)
{
    cli_eta e;
    memset(&e, 0, sizeof e);
    nb_progress p = {1, 2, 100, 10000, 0.6931, 5.0, NULL, 0.7};
    double t = 5.0; /* the first step ends 5 s into the run */
    cli_eta_update(&e, t, 100);
    CHECK(isnan(cli_eta_seconds(&e, t, 19900)));
    char line[256];
    cli_progress_line(&p, &e, t, 80, line, sizeof line);
    CHECK(strstr(line, "ETA") == NULL && strncmp(line, "epoch 1/2 [", 11) == 0);
    for (int k = 1; k <= 20; k++) { /* then 100 samples per 0.1 s */
        t = 5.0 + 0.1 * k;
        p.done = 100 + 100 * k;
        cli_eta_update(&e, t, (double)p.done);
        if (k == 3) CHECK(isnan(cli_eta_seconds(&e, t, 20000.0 - (double)p.done))); /* 0.3 s: too soon */
    }
    double eta = cli_eta_seconds(&e, t, 20000.0 - 2100.0);
    CHECK(fabs(eta - 17.9) < 0.3);
    cli_progress_line(&p, &e, t, 80, line, sizeof line);
    CHECK(strcmp(line, "epoch 1/2 [####................]  21%  1000 samples/s  loss 0.6931  ETA 18 s") == 0);
    CHECK(strlen(line) <= 79);
    cli_progress_line(&p, &e, t, 40, line, sizeof line);
    CHECK(strcmp(line, "epoch 1/2  21%  loss 0.6931  ETA 18 s") == 0);
    CHECK(strlen(line) <= 39);
    /* the widest figures: no width is ever exceeded, and the epoch always leads */
    nb_progress big = {1000, 1000, 999999999, 1000000000, -123456.789, 1e6, NULL, 0};
    cli_eta eb;
    memset(&eb, 0, sizeof eb);
    cli_eta_update(&eb, 0.0, 0.0);
    cli_eta_update(&eb, 100.0, 1.0); /* 0.01 samples/s: an ETA of hours */
    for (int w = 1; w <= 200; w++) {
        cli_progress_line(&big, &eb, 100.0, w, line, sizeof line);
        CHECK(strlen(line) + 1 <= (size_t)(w > 1 ? w : 1));
        if (w >= 20) CHECK(strncmp(line, "epoch 1000/1000", 15) == 0);
    }
    cli_progress_line(&big, &eb, 100.0, 80, line, sizeof line);
    CHECK(strstr(line, "ETA") != NULL && strlen(line) <= 79);
    char tiny[6];
    cli_progress_line(&p, &e, t, 80, tiny, sizeof tiny); /* a small buffer: cut, never overflows */
    CHECK(strcmp(tiny, "epoch") == 0);
}

static void test_json(void)
{
    FILE *f = tmpfile();
    cli_json j;
    cj_init(&j, f);
    cj_obj(&j, NULL);
    cj_str(&j, "name", "a\"b\\c\n\x01");
    cj_num(&j, "x", 0.5);
    cj_num(&j, "nan", (double)NAN);
    cj_int(&j, "big", INT64_MIN);
    cj_arr(&j, "empty");
    cj_end_arr(&j);
    cj_arr(&j, "list");
    cj_bool(&j, NULL, 1);
    cj_null(&j, NULL);
    cj_obj(&j, NULL);
    cj_end_obj(&j);
    cj_end_arr(&j);
    cj_str(&j, "null", NULL);
    cj_end_obj(&j);
    char *s = slurp(f);
    fclose(f);
    const char *want = "{\n  \"name\": \"a\\\"b\\\\c\\n\\u0001\",\n  \"x\": 0.5,\n  \"nan\": null,\n"
                       "  \"big\": -9223372036854775808,\n  \"empty\": [],\n  \"list\": [\n    true,\n"
                       "    null,\n    {}\n  ],\n  \"null\": null\n}\n";
    CHECK(strcmp(s, want) == 0);
    if (strcmp(s, want) != 0) fprintf(stderr, "got:\n%s", s);
    free(s);

    nb_metrics m;
    memset(&m, 0, sizeof m);
    int64_t conf[4] = {5, 1, 0, 4};
    double prec[2] = {1.0, 0.8}, rec[2] = {5.0 / 6, 1.0}, f1[2] = {0.9, 0.9};
    m.task = NB_TASK_BINARY;
    m.n = 10;
    m.n_classes = 2;
    m.loss = 0.25;
    m.accuracy = 0.9;
    m.confusion = conf;
    m.precision = prec;
    m.recall = rec;
    m.f1 = f1;
    f = tmpfile();
    cj_init(&j, f);
    cj_obj(&j, NULL);
    const char *names[2] = {"no", NULL};
    cli_metrics_json_body(&j, &m, names);
    cj_end_obj(&j);
    s = slurp(f);
    fclose(f);
    CHECK(strstr(s, "\"task\": \"binary\"") && strstr(s, "\"name\": \"no\"") && strstr(s, "\"name\": \"1\""));
    CHECK(strstr(s, "\"support\": 6") && strstr(s, "\"support\": 4") && strstr(s, "\"accuracy\": 0.9,"));
    free(s);
}

static int write_hello(void *ud, FILE *f)
{
    fputs(ud, f);
    return 0;
}

static int write_fail(void *ud, FILE *f)
{
    (void)ud;
    fputs("partial", f);
    return cli_fail(NB_ERR_FORMAT, "writer failed");
}

static void test_files(void)
{
    char *s = cli_sibling("a/b/m.safetensors", "history.csv");
    CHECK(strcmp(s, "a/b/history.csv") == 0);
    free(s);
    s = cli_sibling("m.safetensors", "history.csv");
    CHECK(strcmp(s, "history.csv") == 0);
    free(s);
    s = cli_model_sibling("runs/mlp.nbm", ".history.csv");
    CHECK(strcmp(s, "runs/mlp.history.csv") == 0);
    free(s);
    s = cli_model_sibling("r.x/m", ".history.svg"); /* a dot in the directory is no extension */
    CHECK(strcmp(s, "r.x/m.history.svg") == 0);
    free(s);
    s = cli_model_sibling("a/.m", ".checkpoints");
    CHECK(strcmp(s, "a/.m.checkpoints") == 0);
    free(s);
    s = cli_sibling("/m", "h");
    CHECK(strcmp(s, "/h") == 0);
    free(s);

    char dir[] = "/tmp/nabla_cli_units_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[128], msg[256];
    snprintf(path, sizeof path, "%s/out.txt", dir);
    CHECK(cli_write_atomic(path, write_hello, "hello\n") == 0);
    char *text = NULL;
    CHECK(cli_read_text(path, 100, &text) == 0 && strcmp(text, "hello\n") == 0);
    free(text);
    CHECK(cli_is_file(path) == 1 && cli_is_file(dir) == 0);
    /* a failing writer leaves the old file and no temporary behind */
    capture_begin();
    int rc = cli_write_atomic(path, write_fail, NULL);
    capture_end(msg, sizeof msg);
    CHECK(rc == NB_ERR_FORMAT && strcmp(msg, "nabla: writer failed\n") == 0);
    CHECK(cli_read_text(path, 100, &text) == 0 && strcmp(text, "hello\n") == 0);
    free(text);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "test $(ls %s | wc -l) -eq 1", dir);
    CHECK(system(cmd) == 0);
    /* size cap and missing files: one line each, the right status */
    capture_begin();
    rc = cli_read_text(path, 3, &text);
    capture_end(msg, sizeof msg);
    CHECK(rc == NB_ERR_FORMAT && count_lines(msg) == 1 && text == NULL);
    snprintf(path, sizeof path, "%s/missing/x", dir);
    capture_begin();
    rc = cli_write_atomic(path, write_hello, "x");
    int rc2 = cli_read_text(path, 100, &text);
    capture_end(msg, sizeof msg);
    CHECK(rc == NB_ERR_IO && rc2 == NB_ERR_IO && count_lines(msg) == 2);
    CHECK(strstr(msg, "nabla: /tmp/nabla_cli_units_") == msg);
    /* messages are one line even when the text has newlines */
    capture_begin();
    cli_fail(NB_ERR_ARG, "a\nb");
    capture_end(msg, sizeof msg);
    CHECK(strcmp(msg, "nabla: a b\n") == 0);
    /* library messages name API fields; the CLI prints the options that set them */
    capture_begin();
    cli_fail(NB_ERR_ARG, "optimizer: %s 0.5 is greater than nb_optim_config.lr 0.1", "nb_optim_config.min_lr");
    capture_end(msg, sizeof msg);
    CHECK(strcmp(msg, "nabla: optimizer: --min-lr 0.5 is greater than --lr 0.1\n") == 0);
    char out[64];
    cli_api_to_options("nb_train_config.batch_size 0, nb_optim_config.lr_x, xnb_optim_config.lr, "
                       "nb_optim_config.clip_norm.", out, sizeof out);
    CHECK(strcmp(out, "--batch-size 0, nb_optim_config.lr_x, xnb_optim_config.lr, --cl") == 0); /* cut at 63 */
    cli_api_to_options("nb_optim_config.total_epochs", out, 4);
    CHECK(strcmp(out, "--e") == 0);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

/* a long run prints about 50 epoch lines: the first, every k-th, the last */
static void test_epoch_shown(void)
{
    int n = 0;
    for (int e = 1; e <= 1000; e++) n += cli_epoch_shown(e, 1000);
    CHECK(n == 51); /* 1, 20, 40, ..., 1000 */
    CHECK(cli_epoch_shown(1, 1000) && cli_epoch_shown(20, 1000) && !cli_epoch_shown(21, 1000));
    CHECK(cli_epoch_shown(1000, 1000));
    for (int e = 1; e <= 50; e++) CHECK(cli_epoch_shown(e, 50)); /* short runs: every epoch */
    n = 0;
    for (int e = 1; e <= 51; e++) n += cli_epoch_shown(e, 51);
    CHECK(n == 27); /* every 2nd, plus the first and the last */
}

/* A one-process stand-in for 2 ranks: this is rank 0, and the "sum" over ranks is the buffer
 * as it is (rank 1 adds zeros: it succeeded). Under a communicator cli_fail prints nothing
 * and keeps its line; the agreement returns it as "rank 0 of 2: ..." on every rank. */
static int fake_sum(void *ud, float *buf, size_t n) { (void)ud, (void)buf, (void)n; return 0; }
static int fake_bcast(void *ud, void *buf, size_t bytes, int root) { (void)ud, (void)buf, (void)bytes, (void)root; return 0; }
static int fake_barrier(void *ud) { (void)ud; return 0; }
static void fake_abort(void *ud, int status) { (void)ud, (void)status; }

static void test_dist(void)
{
    nb_comm c = {0, 2, NULL, fake_sum, fake_bcast, fake_barrier, fake_abort};
    char err[256];
    CHECK(cli_dist_rank0() && cli_dist_comm() == NULL);
    cli_dist_set(&c);
    CHECK(cli_dist_comm() == &c && cli_dist_rank0() && !cli_dist_synced());
    capture_begin();
    int rc = cli_fail(NB_ERR_IO, "x.csv: cannot open: nb_optim_config.lr");
    capture_end(err, sizeof err);
    CHECK(rc == NB_ERR_IO && err[0] == '\0');
    CHECK(strcmp(cli_dist_line(), "x.csv: cannot open: --lr") == 0);
    CHECK(cli_dist_agree(rc) == NB_ERR_IO && cli_dist_synced());
    CHECK(strcmp(cli_dist_line(), "rank 0 of 2: x.csv: cannot open: --lr") == 0);
    CHECK(cli_dist_agree(NB_OK) == NB_OK);
    c.rank = 1;
    CHECK(!cli_dist_rank0());
    cli_dist_set(NULL);
    CHECK(cli_dist_comm() == NULL && cli_dist_rank0());
    capture_begin();
    cli_fail(NB_ERR_ARG, "printed again");
    capture_end(err, sizeof err);
    CHECK(strcmp(err, "nabla: printed again\n") == 0);
}

/* ---- png.c: PNG, base64, the escaper, the colour map */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A CRC-32 computed bit by bit, independently of png.c's table. */
static uint32_t crc_bitwise(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return ~c;
}

static char *b64_of(const char *s)
{
    FILE *f = tmpfile();
    cli_base64(f, (const unsigned char *)s, strlen(s));
    char *out = slurp(f);
    fclose(f);
    return out;
}

static void test_png(void)
{
    /* 3x2 RGB: red green blue / white black grey */
    const unsigned char pix[18] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 128, 128, 128};
    unsigned char *png = NULL;
    size_t n = 0;
    CHECK(cli_png_encode(pix, 3, 2, 3, &png, &n) == NB_OK && png && n > 8 + 25 + 12 + 12);
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    CHECK(memcmp(png, sig, 8) == 0);
    /* IHDR: width 3, height 2, depth 8, colour type 2 (RGB), deflate, filter 0, no interlace */
    CHECK(be32(png + 8) == 13 && memcmp(png + 12, "IHDR", 4) == 0);
    CHECK(be32(png + 16) == 3 && be32(png + 20) == 2);
    CHECK(png[24] == 8 && png[25] == 2 && png[26] == 0 && png[27] == 0 && png[28] == 0);
    /* every chunk's CRC, and the three chunks in order up to the end of the file */
    const char *types[3] = {"IHDR", "IDAT", "IEND"};
    size_t at = 8, idat = 0, idat_n = 0;
    for (int c = 0; c < 3 && at + 12 <= n; c++) {
        size_t len = be32(png + at);
        CHECK(memcmp(png + at + 4, types[c], 4) == 0);
        CHECK(at + 12 + len <= n);
        if (at + 12 + len > n) break;
        CHECK(be32(png + at + 8 + len) == crc_bitwise(png + at + 4, len + 4));
        if (c == 1) idat = at + 8, idat_n = len;
        at += 12 + len;
    }
    CHECK(at == n);
    CHECK(be32(png + n - 4) == 0xae426082u); /* the CRC of an empty IEND, as every PNG ends */
    /* the pixels: each row is a filter byte 0 then its 9 bytes */
    unsigned char raw[64] = {0};
    size_t raw_n = 0;
#ifdef NB_HAVE_ZLIB
    uLongf got = sizeof raw;
    CHECK(uncompress(raw, &got, png + idat, (uLong)idat_n) == Z_OK);
    raw_n = got;
#else
    /* stored blocks: the zlib header, one final block of 20 bytes, the Adler-32 */
    CHECK(idat_n == 2 + 5 + 20 + 4 && png[idat + 2] == 1 && png[idat + 3] == 20);
    memcpy(raw, png + idat + 7, 20);
    raw_n = 20;
#endif
    CHECK(raw_n == 20 && raw[0] == 0 && raw[10] == 0);
    CHECK(memcmp(raw + 1, pix, 9) == 0 && memcmp(raw + 11, pix + 9, 9) == 0);
    free(png);

    /* sizes: 1..16384 a side, 1, 3 or 4 channels */
    CHECK(cli_png_encode(pix, 0, 2, 3, &png, &n) == NB_ERR_ARG && png == NULL && n == 0);
    CHECK(cli_png_encode(pix, 16385, 1, 1, &png, &n) == NB_ERR_ARG);
    CHECK(cli_png_encode(pix, 1, -1, 1, &png, &n) == NB_ERR_ARG);
    CHECK(cli_png_encode(pix, 2, 2, 2, &png, &n) == NB_ERR_ARG);
    CHECK(cli_png_encode(pix, 1, 1, 4, &png, &n) == NB_OK && png[25] == 6);
    free(png);
    CHECK(cli_png_encode(pix, 2, 1, 1, &png, &n) == NB_OK && png[25] == 0);
    free(png);

    /* base64: RFC 4648's test vectors */
    const char *b64[][2] = {{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
                            {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
    for (int i = 0; i < 7; i++) {
        char *s = b64_of(b64[i][0]);
        CHECK(strcmp(s, b64[i][1]) == 0);
        free(s);
    }

    /* the escaper: every special character, control characters as spaces, UTF-8 kept */
    FILE *f = tmpfile();
    cli_html_text(f, "<script>&\"'");
    cli_html_text(f, "|a\tb\x7f|\xc3\xa9");
    cli_html_text(f, NULL);
    char *s = slurp(f);
    CHECK(strcmp(s, "&lt;script&gt;&amp;&quot;&#39;|a b |\xc3\xa9") == 0);
    free(s);
    fclose(f);

    /* an <img> with its data URI, size, pixelated rendering and escaped alt */
    f = tmpfile();
    CHECK(cli_html_png(f, pix, 3, 2, 3, 9, 6, "a \"<b>\"") == NB_OK);
    s = slurp(f);
    CHECK(strncmp(s, "<img src=\"data:image/png;base64,iVBORw0KGgo", 43) == 0);
    CHECK(strstr(s, "\" width=\"9\" height=\"6\" style=\"image-rendering:pixelated\" "
                    "alt=\"a &quot;&lt;b&gt;&quot;\">") != NULL);
    free(s);
    fclose(f);

    /* the colour map: viridis' ends and middle, clamped, NaN grey */
    unsigned char rgb[3];
    cli_colormap(0.0, rgb);
    CHECK(rgb[0] == 68 && rgb[1] == 1 && rgb[2] == 84);
    cli_colormap(-3.0, rgb);
    CHECK(rgb[0] == 68 && rgb[1] == 1 && rgb[2] == 84);
    cli_colormap(1.0, rgb);
    CHECK(rgb[0] == 253 && rgb[1] == 231 && rgb[2] == 37);
    cli_colormap((double)INFINITY, rgb);
    CHECK(rgb[0] == 253 && rgb[1] == 231 && rgb[2] == 37);
    cli_colormap(0.5, rgb); /* matplotlib's viridis(0.5) is (33, 145, 140) */
    CHECK(abs(rgb[0] - 33) <= 2 && abs(rgb[1] - 145) <= 2 && abs(rgb[2] - 140) <= 2);
    cli_colormap(1.0 / 16, rgb); /* half-way between the first two entries */
    CHECK(rgb[0] == 70 && rgb[1] == 23 && rgb[2] == 103);
    cli_colormap((double)NAN, rgb);
    CHECK(rgb[0] == 160 && rgb[1] == 160 && rgb[2] == 160);
}

/* ---- report_img.c: the picture sections on a hand-filled report */

/* The three picture sections of r, written to one string (free() it); each call's status. */
static char *sections(const cli_report *r, int rc[3])
{
    FILE *f = tmpfile();
    rc[0] = cli_report_gallery(f, r);
    rc[1] = cli_report_first_layer(f, r);
    rc[2] = cli_report_regions(f, r);
    char *s = slurp(f);
    fclose(f);
    return s;
}

/* The text of the section of class cls in s, into a new string ("" when absent). */
static char *section_of(const char *s, const char *cls)
{
    char open[64];
    snprintf(open, sizeof open, "<section class=\"%s\"><h2>", cls);
    const char *a = strstr(s, open), *b = a ? strstr(a, "</section>") : NULL;
    size_t n = a && b ? (size_t)(b - a) + 10 : 0;
    char *out = malloc(n + 1);
    if (n) memcpy(out, a, n);
    out[n] = '\0';
    return out;
}

/* A model from spec for samples of shape (rank, shape), seeded weights, and r filled from it
 * and ds: predictions, targets, metrics. */
static nb_model *report_fill(cli_report *r, nb_metrics *met, float **pred, const char *spec,
                             nb_dataset *ds, const nb_preproc *pp, int k)
{
    nb_model *m = NULL;
    CHECK_OK(nb_model_parse(spec, nb_dataset_task(ds), &m));
    CHECK_OK(nb_model_build(m, nb_dataset_sample_rank(ds), nb_dataset_sample_shape(ds), k));
    CHECK_OK(nb_model_init(m, NB_INIT_TORCH, 0, 7));
    int64_t n = nb_dataset_n_rows(ds);
    *pred = malloc((size_t)(n * k) * sizeof **pred);
    CHECK_OK(nb_model_predict_data(m, ds, 0, n, *pred));
    CHECK_OK(nb_model_evaluate(m, ds, met));
    *r = (cli_report){"m.nbm", "d.csv", m, pp, ds, NULL, met, n, k, *pred, nb_dataset_targets(ds), 1};
    return m;
}

static void test_report_img(void)
{
    /* 2 features, 3 classes, one named "<b>&x": three overlapping clusters */
    enum { N2 = 300 };
    static char csv[N2 * 40 + 64];
    const char *names[3] = {"alpha", "<b>&x", "gamma"};
    size_t at = (size_t)snprintf(csv, sizeof csv, "u,v,label\n");
    uint64_t st = 12345;
    for (int i = 0; i < N2; i++) {
        int c = i % 3;
        double jit[2];
        for (int d = 0; d < 2; d++) {
            st = st * 6364136223846793005u + 1442695040888963407u;
            jit[d] = (double)(st >> 11) / 9007199254740992.0 * 2.0 - 1.0;
        }
        at += (size_t)snprintf(csv + at, sizeof csv - at, "%.4f,%.4f,\"%s\"\n", (c == 1) * 1.5 + jit[0],
                               (c == 2) * 1.5 + jit[1], names[c]);
    }
    nb_preproc *pp = NULL;
    nb_dataset *ds = NULL;
    CHECK_OK(nb_preproc_create(&pp));
    CHECK_OK(nb_dataset_load_csv_text("t.csv", csv, at, NULL, pp, &ds));
    CHECK(ds && nb_dataset_n_features(ds) == 2 && nb_preproc_n_classes(pp) == 3);
    if (!ds) return;
    cli_report r;
    nb_metrics met;
    float *pred = NULL;
    nb_model *m = report_fill(&r, &met, &pred, "dense 8; relu; dense 3", ds, pp, 3);
    int rc[3];
    char *s = sections(&r, rc);
    CHECK(rc[0] == 0 && rc[1] == 0 && rc[2] == 0);
    char *gal = section_of(s, "gallery"), *fl = section_of(s, "first-layer"), *reg = section_of(s, "regions");
    CHECK(strncmp(s, "<section class=\"gallery\"><h2>", 29) == 0);
    CHECK(*gal && *reg && !*fl); /* no image: no first-layer section */
    CHECK(strstr(reg, "</svg>") && count_sub(reg, "data:image/png") == 1);
    CHECK(count_sub(reg, "<circle") == N2);
    /* the most confused pair, as the confusion matrix says (ties: the first in row order) */
    int bt = -1, bc = -1;
    int64_t bm = 0;
    for (int t = 0; t < 3; t++)
        for (int c = 0; c < 3; c++)
            if (t != c && met.confusion[t * 3 + c] > bm) bt = t, bc = c, bm = met.confusion[t * 3 + c];
    CHECK(bm > 0);
    if (bm > 0) {
        char want[256];
        const char *esc[3] = {"alpha", "&lt;b&gt;&amp;x", "gamma"};
        int it = -1, ic = -1; /* the schema's order of the names */
        for (int j = 0; j < 3; j++) {
            for (int q = 0; q < 3; q++)
                if (strcmp(nb_preproc_class_name(pp, j), names[q]) == 0) {
                    if (j == bt) it = q;
                    if (j == bc) ic = q;
                }
        }
        CHECK(it >= 0 && ic >= 0);
        snprintf(want, sizeof want, "<h3>The most confused pairs</h3>\n<div class=\"pair\"><p>true <b>%s</b> "
                 "predicted as <b>%s</b>: %lld time", esc[it < 0 ? 0 : it], esc[ic < 0 ? 0 : ic], (long long)bm);
        CHECK(strstr(gal, want) != NULL);
    }
    /* CSV rows as a table, the class name only escaped, everywhere */
    CHECK(strstr(gal, "<table class=\"rows\"><tr><th>row</th><th>true</th><th>predicted</th><th>p</th>"
                      "<th>f0</th><th>f1</th></tr>") != NULL);
    CHECK(strstr(gal, "<img") == NULL);
    CHECK(strstr(s, "<b>&x") == NULL && strstr(gal, "&lt;b&gt;&amp;x") && strstr(reg, "&lt;b&gt;&amp;x"));
    CHECK(strstr(s, "nan") == NULL && strstr(s, "inf") == NULL);
    free(gal), free(fl), free(reg), free(s);
    nb_model_free(m);
    nb_metrics_free(&met);
    free(pred);

    /* a binary model of the same plane: regions (2 classes, every point), no gallery */
    int64_t n2 = nb_dataset_n_rows(ds);
    float *x = malloc((size_t)n2 * 2 * sizeof *x), *y = malloc((size_t)n2 * sizeof *y);
    CHECK_OK(nb_dataset_rows(ds, 0, n2, x, y));
    for (int64_t i = 0; i < n2; i++) y[i] = y[i] > 0.5f;
    nb_dataset *bin = NULL;
    CHECK_OK(nb_dataset_create_from(x, n2, 2, y, 1, NB_TASK_BINARY, 2, &bin));
    m = report_fill(&r, &met, &pred, "dense 4; relu; dense 1", bin, NULL, 1);
    s = sections(&r, rc);
    CHECK(rc[0] == 0 && rc[1] == 0 && rc[2] == 0);
    CHECK(strncmp(s, "<section class=\"regions\"><h2>", 29) == 0 && count_sub(s, "<section") == 1);
    CHECK(count_sub(s, "<circle") == N2 && count_sub(s, "data:image/png") == 1);
    free(s);
    nb_model_free(m);
    nb_metrics_free(&met);
    free(pred);
    /* regression on the same plane: no picture section applies */
    nb_dataset *reg_ds = NULL;
    CHECK_OK(nb_dataset_create_from(x, n2, 2, y, 1, NB_TASK_REGRESS, 0, &reg_ds));
    m = report_fill(&r, &met, &pred, "dense 4; relu; dense 1", reg_ds, NULL, 1);
    s = sections(&r, rc);
    CHECK(rc[0] == 0 && rc[1] == 0 && rc[2] == 0 && s[0] == '\0');
    free(s);
    nb_model_free(m);
    nb_metrics_free(&met);
    free(pred);
    nb_dataset_free(reg_ds);
    nb_dataset_free(bin);
    free(x);
    free(y);
    nb_dataset_free(ds);
    nb_preproc_free(pp);

    /* 1x28x28 images, 3 classes: images in the gallery, one image per dense unit */
    enum { NI = 30 };
    x = malloc(NI * 784 * sizeof *x);
    float yi[NI];
    for (int i = 0; i < NI * 784; i++) {
        st = st * 6364136223846793005u + 1442695040888963407u;
        x[i] = (float)(st >> 40) / 16777216.0f;
    }
    for (int i = 0; i < NI; i++) yi[i] = (float)(i % 3);
    CHECK_OK(nb_dataset_create_from(x, NI, 784, yi, 1, NB_TASK_CLASSIFY, 3, &ds));
    free(x);
    CHECK_OK(nb_dataset_set_sample_shape(ds, 3, (const int64_t[]){1, 28, 28}));
    m = report_fill(&r, &met, &pred, "flatten; dense 8; relu; dense 3", ds, NULL, 3);
    s = sections(&r, rc);
    CHECK(rc[0] == 0 && rc[1] == 0 && rc[2] == 0);
    gal = section_of(s, "gallery"), fl = section_of(s, "first-layer"), reg = section_of(s, "regions");
    CHECK(*gal && *fl && !*reg);
    CHECK(count_sub(gal, "<img src=\"data:image/png;base64,") >= 1 && strstr(gal, "<table") == NULL);
    CHECK(strstr(gal, "width=\"84\" height=\"84\"") != NULL); /* 28 px shown 3x */
    CHECK(count_sub(fl, "<img src=\"data:image/png;base64,") == 8); /* one per unit */
    CHECK(strstr(fl, "dense 8") != NULL);
    free(gal), free(fl), free(reg), free(s);
    nb_model_free(m);
    nb_metrics_free(&met);
    free(pred);

    /* the same images through a convolution: one tile per filter */
    m = report_fill(&r, &met, &pred, "conv 4 3x3; relu; flatten; dense 3", ds, NULL, 3);
    s = sections(&r, rc);
    CHECK(rc[0] == 0 && rc[1] == 0 && rc[2] == 0);
    fl = section_of(s, "first-layer");
    CHECK(count_sub(fl, "<img src=\"data:image/png;base64,") == 4);
    CHECK(strstr(fl, "alt=\"filter 4\"") != NULL);
    free(fl), free(s);
    nb_model_free(m);
    nb_metrics_free(&met);
    free(pred);
    nb_dataset_free(ds);
}

int main(void)
{
    test_report_img();
    test_png();
    test_dist();
    test_epoch_shown();
    test_parse();
    test_shape_header();
    test_ticks();
    test_history_and_svg();
    test_epoch_line();
    test_progress_line();
    test_json();
    test_files();
    return check_exit("test_cli_units");
}
