/* SPDX-License-Identifier: MIT */
/*
 * predict.c - `nabla predict`: one line per input row on stdout: the class name, the labels
 * present, the regression values, or with --proba the probabilities (%.6g, comma-separated).
 * With --proba (classify, binary, multilabel) a first line names the columns: the class (label)
 * names in the model's order, the order of eval's confusion matrix, CSV-quoted where needed;
 * --no-proba-header leaves it out. DATA "-" is CSV on standard input.
 * Rows are predicted in chunks so memory stays bounded by the chunk, not the data set.
 * Decision rules: classify takes the arg-max (first on ties); binary and multilabel take
 * probability >= 0.5.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK 4096

static void print_row(const float *p, int k, nb_task task, int proba, const nb_preproc *pp,
                      const nb_dataset *ds)
{
    char buf[16];
    if (task == NB_TASK_REGRESS || (proba && task != NB_TASK_BINARY)) {
        for (int c = 0; c < k; c++) printf("%s%.6g", c ? "," : "", (double)p[c]);
    } else if (task == NB_TASK_BINARY) {
        if (proba) printf("%.6g,%.6g", 1.0 - (double)p[0], (double)p[0]);
        else fputs(cli_class_name(pp, ds, p[0] >= 0.5f ? 1 : 0, buf, sizeof buf), stdout);
    } else if (task == NB_TASK_CLASSIFY) {
        int best = 0;
        for (int c = 1; c < k; c++)
            if (p[c] > p[best]) best = c;
        fputs(cli_class_name(pp, ds, best, buf, sizeof buf), stdout);
    } else { /* multilabel: the labels present, comma-separated */
        int any = 0;
        for (int c = 0; c < k; c++)
            if (p[c] >= 0.5f) {
                printf("%s%s", any ? "," : "", cli_class_name(pp, ds, c, buf, sizeof buf));
                any = 1;
            }
    }
    putchar('\n');
}

/* One CSV field: quoted when it holds the separator, a quote or a line end. */
static void put_csv_field(const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"') putchar('"');
        putchar(*s);
    }
    putchar('"');
}

/* The --proba header: the name of each probability column, in output order. */
static void print_proba_header(int k, nb_task task, const nb_preproc *pp, const nb_dataset *ds)
{
    char buf[16];
    int cols = task == NB_TASK_BINARY ? 2 : k;
    for (int c = 0; c < cols; c++) {
        if (c) putchar(',');
        put_csv_field(cli_class_name(pp, ds, c, buf, sizeof buf));
    }
    putchar('\n');
}

int cli_predict(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, 2)) {
        fputs(cli_help_predict, stdout);
        return cli_flush_stdout();
    }
    const char *model = NULL, *data = NULL, *header = NULL, *delim = NULL;
    int proba = 0, no_proba_header = 0;
    int64_t threads = 1;
    const cli_opt opts[] = {
        {"--threads", CLI_INT, &threads, 1, NB_MAX_THREADS, 0, NULL},
        {"--model", CLI_STR, &model, 0, 0, 0, NULL},
        {"--data", CLI_STR, &data, 0, 0, 0, NULL},
        {"--header", CLI_STR, &header, 0, 0, 0, NULL},
        {"--delimiter", CLI_STR, &delim, 0, 0, 0, NULL},
        {"--proba", CLI_FLAG, &proba, 0, 0, 0, NULL},
        {"--no-proba-header", CLI_FLAG, &no_proba_header, 0, 0, 0, NULL},
    };
    int rc = cli_parse("predict", argc, argv, 2, opts, (int)(sizeof opts / sizeof opts[0]));
    if (rc) return rc;
    if (!model) return cli_fail(NB_ERR_ARG, "predict: --model MODEL is required");
    if (!data) return cli_fail(NB_ERR_ARG, "predict: --data DATA is required");
    nb_set_threads((int)threads); /* the same predictions for any count (README, Reproducibility) */
    int hdr = -1;
    if (header && (rc = cli_header_mode(header, &hdr))) return rc;
    char dl = 0;
    if (delim && (rc = cli_delimiter(delim, &dl))) return rc;

    nb_model *m;
    nb_preproc *pp;
    nb_dataset *ds;
    float *out = NULL;
    rc = cli_load_model_data(model, data, hdr, dl, 0, NB_MISSING_ERROR, &m, &pp, &ds);
    int k = rc ? 0 : nb_model_n_outputs(m);
    if (!rc && !(out = malloc((size_t)CHUNK * (size_t)k * sizeof *out))) rc = cli_fail(NB_ERR_NOMEM, "predict: out of memory");
    nb_task task = rc ? NB_TASK_CLASSIFY : nb_model_task(m);
    int64_t rows = rc ? 0 : nb_dataset_n_rows(ds);
    if (!rc && proba && !no_proba_header && task != NB_TASK_REGRESS) print_proba_header(k, task, pp, ds);
    for (int64_t r = 0; !rc && r < rows; r += CHUNK) {
        int64_t n = rows - r < CHUNK ? rows - r : CHUNK;
        rc = nb_model_predict_data(m, ds, r, n, out); /* compact rows are converted on the way */
        if (rc) {
            rc = cli_lib_fail(rc, data);
            break;
        }
        if (task == NB_TASK_REGRESS && pp) nb_preproc_unscale_targets(pp, out, n); /* original units */
        for (int64_t i = 0; i < n; i++) print_row(out + (size_t)i * (size_t)k, k, task, proba, pp, ds);
        if (ferror(stdout)) break;
    }
    if (!rc) rc = cli_flush_stdout();
    free(out);
    nb_dataset_free(ds);
    nb_preproc_free(pp);
    nb_model_free(m);
    return rc;
}
