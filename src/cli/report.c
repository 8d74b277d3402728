/* SPDX-License-Identifier: MIT */
/*
 * report.c - what eval and predict share: loading a model file together with data read through
 * the model's own preprocessing (schema enforced, training-time scaling applied), class names,
 * and the human-readable metrics report. Invariant: data is never rescaled with statistics of
 * its own; only the scaling stored in the model file is applied.
 */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *cli_class_name(const nb_preproc *pp, const nb_dataset *ds, int i, char *buf,
                           size_t cap)
{
    const char *s = pp ? nb_preproc_class_name(pp, i) : NULL;
    if (!s && ds) s = nb_dataset_class_name(ds, i);
    if (s) return s;
    snprintf(buf, cap, "%d", i);
    return buf;
}

void cli_report_dropped(const char *data, int64_t n)
{
    if (n > 0)
        fprintf(stderr, "%s: dropped %lld row%s with missing values\n", data, (long long)n,
                n == 1 ? "" : "s");
}

/* A model without a schema (an imported ONNX file, a model saved without preprocessing) knows
 * its features per sample but not the CSV's columns: a CSV whose every row holds exactly that
 * many numbers (after an optional header row) is read as unlabeled features, so predict needs
 * no dummy label column. 1 when the text is not such a CSV (the ordinary loader then reads
 * it and says what is wrong), else the status. */
static int features_csv(const char *name, const char *text, int64_t want, char delim, int header, nb_dataset **ds)
{
    const char *p = text;
    int64_t rows = 0, cap = 0;
    float *x = NULL;
    int line = 0, rc = 1;
    char seps[] = {delim ? delim : ',', delim ? delim : ';', delim ? delim : '\t', delim ? delim : ' ', 0};
    while (*p) {
        const char *eol = p + strcspn(p, "\n");
        if (eol > p && eol[-1] == '\r') eol--;
        int skip = eol == p || (line == 0 && header == 1);
        if (!skip) {
            if (rows + 1 > cap) {
                cap = cap ? 2 * cap : 256;
                float *nx = (size_t)cap * (size_t)want < ((size_t)1 << 40) ? realloc(x, (size_t)cap * (size_t)want * sizeof *x) : NULL;
                if (!nx) {
                    rc = cli_fail(NB_ERR_NOMEM, "%s: out of memory", name);
                    break;
                }
                x = nx;
            }
            int64_t k = 0;
            const char *q = p;
            int ok = 1;
            while (ok && q < eol) {
                char *e;
                float v = strtof(q, &e);
                if (e == q || k >= want) ok = 0;
                else x[rows * want + k++] = v;
                q = e;
                while (q < eol && *q == ' ' && seps[3] != ' ') q++;
                if (q < eol && strchr(seps, *q)) q++;
            }
            if (!ok || k != want) {
                if (line == 0 && header != 0) skip = 1; /* a header row */
                else break;
            } else rows++;
        }
        line++;
        p = *eol == '\r' ? eol + 2 : *eol ? eol + 1 : eol;
        if (!*p && rows) rc = 0;
    }
    if (!rc && (rc = nb_dataset_create_from(x, rows, want, NULL, 0, NB_TASK_REGRESS, 0, ds))) rc = cli_lib_fail(rc, name);
    free(x);
    return rc;
}

int cli_load_model_data(const char *model_path, const char *data_spec, int header,
                        char delimiter, int need_labels, nb_missing missing, nb_model **m,
                        nb_preproc **pp, nb_dataset **ds)
{
    *m = NULL;
    *pp = NULL;
    *ds = NULL;
    int rc = nb_model_load(model_path, m, pp);
    if (rc) return cli_lib_fail(rc, model_path);
    nb_data_opts o = nb_data_opts_default();
    o.task = *pp && nb_preproc_has_schema(*pp) ? nb_preproc_task(*pp) : nb_model_task(*m);
    o.header = header;
    o.delimiter = delimiter;
    o.split = NB_SPLIT_TEST; /* a directory: its t10k-* (test) files */
    o.compact = 1;
    o.missing = missing;
    int64_t dropped = 0;
    o.dropped = &dropped;
    int64_t shape0[3], want0 = 1;
    int rank0 = nb_model_sample_shape(*m, shape0);
    for (int i = 0; i < rank0; i++) want0 *= shape0[i];
    size_t sl = strlen(data_spec);
    if (!(*pp && nb_preproc_has_schema(*pp)) && !need_labels && rank0 == 1 && strncmp(data_spec, "idx:", 4) && cli_is_file(data_spec) &&
        !(sl > 3 && !strcmp(data_spec + sl - 3, ".gz"))) {
        char *text;
        if ((rc = cli_read_text(data_spec, o.max_bytes, &text))) return rc;
        rc = features_csv(data_spec, text, want0, delimiter, header, ds);
        free(text);
        if (rc != 1) return rc;
        *ds = NULL;
    }
    if (strcmp(data_spec, "-") == 0) {
        /* standard input: the CSV reader makes two passes, so the stream is read whole */
        char *text;
        size_t n;
        if ((rc = cli_read_stream(stdin, "stdin", o.max_bytes, &text, &n))) return rc;
        rc = nb_dataset_load_csv_text("stdin", text, n, &o, *pp, ds);
        free(text);
        if (rc) return cli_lib_fail(rc, "stdin");
    } else if ((rc = nb_dataset_load(data_spec, &o, *pp, ds))) {
        return cli_lib_fail(rc, data_spec);
    }
    if (dropped > 0 && !need_labels) /* dropping would shift every later output line */
        return cli_fail(NB_ERR_FORMAT, "%s: %lld row%s missing values, and the model drops "
                        "such rows (trained with --missing drop): predict answers every input "
                        "row, so fill them first, or train with --missing mean",
                        data_spec, (long long)dropped, dropped == 1 ? " has" : "s have");
    cli_report_dropped(data_spec, dropped);
    if (need_labels && !nb_dataset_n_targets(*ds))
        return cli_fail(NB_ERR_ARG, "%s: the data has no label column (eval needs labels; "
                        "nabla predict does not)", data_spec);
    int64_t shape[3];
    int rank = nb_model_sample_shape(*m, shape);
    int64_t want = 1;
    for (int i = 0; i < rank; i++) want *= shape[i];
    if (rank > 0 && nb_dataset_n_features(*ds) != want)
        return cli_fail(NB_ERR_SHAPE, "%s: %lld features per row, the model expects %lld",
                        data_spec, (long long)nb_dataset_n_features(*ds), (long long)want);
    if (*pp && (rc = nb_preproc_apply_scaling(*pp, *ds))) return cli_lib_fail(rc, data_spec);
    /* targets as the model learned them; cli_evaluate reports in the original units */
    if (*pp && (rc = nb_preproc_apply_target_scaling(*pp, *ds))) return cli_lib_fail(rc, data_spec);
    return NB_OK;
}

int cli_evaluate(nb_model *m, const nb_preproc *pp, const nb_dataset *ds, const char *what,
                 nb_metrics *mt)
{
    int rc = nb_model_evaluate(m, ds, mt);
    if (rc) return cli_lib_fail(rc, what);
    if (!pp || nb_preproc_target_scaling(pp) == NB_SCALE_NONE || mt->task != NB_TASK_REGRESS)
        return NB_OK;
    /* mse, mae and r2 again, on predictions and targets mapped back to the data's units, with
     * the sums nb_model_evaluate uses; the loss stays the training objective's */
    enum { CHUNK = 4096 };
    int64_t n = nb_dataset_n_rows(ds), k = nb_dataset_n_targets(ds);
    float *z = malloc((size_t)CHUNK * (size_t)k * sizeof *z), *y = malloc((size_t)CHUNK * (size_t)k * sizeof *y);
    const float *yall = nb_dataset_targets(ds);
    double se = 0, ae = 0, ysum = 0, ysq = 0;
    if (!z || !y) rc = cli_fail(NB_ERR_NOMEM, "%s: out of memory", what);
    for (int64_t r = 0; !rc && r < n; r += CHUNK) {
        int64_t c = n - r < CHUNK ? n - r : CHUNK;
        if ((rc = nb_model_predict_data(m, ds, r, c, z))) {
            rc = cli_lib_fail(rc, what);
            break;
        }
        memcpy(y, yall + (size_t)r * (size_t)k, (size_t)c * (size_t)k * sizeof *y);
        nb_preproc_unscale_targets(pp, z, c);
        nb_preproc_unscale_targets(pp, y, c);
        for (size_t i = 0; i < (size_t)(c * k); i++) {
            double e = (double)z[i] - (double)y[i];
            se += e * e;
            ae += fabs(e);
            ysum += (double)y[i];
            ysq += (double)y[i] * (double)y[i];
        }
    }
    free(z);
    free(y);
    if (rc) {
        nb_metrics_free(mt);
        return rc;
    }
    double cells = (double)n * (double)k;
    mt->mse = se / cells;
    mt->mae = ae / cells;
    double var = ysq - ysum * ysum / cells;
    mt->r2 = var > 0 ? 1.0 - se / var : (se == 0 ? 1.0 : 0.0);
    return NB_OK;
}

int cli_data_outputs(const nb_dataset *ds)
{
    switch (nb_dataset_task(ds)) {
    case NB_TASK_CLASSIFY: return nb_dataset_n_classes(ds);
    case NB_TASK_BINARY: return 1;
    default: return (int)nb_dataset_n_targets(ds);
    }
}

static int name_width(const nb_preproc *pp, const nb_dataset *ds, int k, int min)
{
    char buf[16];
    int w = min;
    for (int c = 0; c < k; c++) {
        int l = (int)strlen(cli_class_name(pp, ds, c, buf, sizeof buf));
        w = l > w ? l : w;
    }
    return w > 40 ? 40 : w;
}

/* Width of confusion-matrix column c: its class name (6..24 characters) and two spaces. */
static int cell_width(const nb_preproc *pp, const nb_dataset *ds, int c)
{
    char buf[16];
    int w = (int)strlen(cli_class_name(pp, ds, c, buf, sizeof buf));
    return (w < 6 ? 6 : w > 24 ? 24 : w) + 2;
}

/* the k x k matrix (k <= NB_CONFUSION_MAX_CLASSES) */
static void confusion(FILE *f, const nb_metrics *m, const nb_preproc *pp, const nb_dataset *ds, int nw)
{
    int k = m->n_classes;
    char buf[16];
    fprintf(f, "\nconfusion matrix (rows: true class, columns: predicted class)\n%-*s", nw, "");
    for (int c = 0; c < k; c++) {
        int w = cell_width(pp, ds, c);
        fprintf(f, "%*.*s", w, w - 2, cli_class_name(pp, ds, c, buf, sizeof buf));
    }
    fputc('\n', f);
    for (int r = 0; r < k; r++) {
        fprintf(f, "%-*.*s", nw, nw, cli_class_name(pp, ds, r, buf, sizeof buf));
        for (int c = 0; c < k; c++)
            fprintf(f, "%*lld", cell_width(pp, ds, c),
                    (long long)m->confusion[(size_t)r * (size_t)k + (size_t)c]);
        fputc('\n', f);
    }
}

static void print_classes(FILE *f, const nb_metrics *m, const nb_preproc *pp,
                          const nb_dataset *ds)
{
    int k = m->n_classes;
    char buf[16];
    fprintf(f, "accuracy  %.2f%%\nmacro F1  %.4f\n", 100.0 * m->accuracy, m->macro_f1);
    if (k <= 0) return;
    int nw = name_width(pp, ds, k, 10);
    if (!m->confusion) /* past NB_CONFUSION_MAX_CLASSES: the per-class table only */
        fprintf(f, "\nconfusion matrix: not shown for %d classes (more than %d)\n", k, NB_CONFUSION_MAX_CLASSES);
    else
        confusion(f, m, pp, ds, nw);
    fprintf(f, "\n%-*s  precision     recall         f1    support\n", nw, "class");
    for (int c = 0; c < k; c++) {
        long long support = 0;
        if (m->support) support = (long long)m->support[c];
        else for (int p = 0; m->confusion && p < k; p++) support += (long long)m->confusion[(size_t)c * (size_t)k + (size_t)p];
        fprintf(f, "%-*.*s  %9.4f  %9.4f  %9.4f  %9lld\n", nw, nw,
                cli_class_name(pp, ds, c, buf, sizeof buf), m->precision ? m->precision[c] : (double)NAN,
                m->recall ? m->recall[c] : (double)NAN, m->f1 ? m->f1[c] : (double)NAN, support);
    }
}

void cli_print_metrics(FILE *f, const nb_metrics *m, const nb_preproc *pp, const nb_dataset *ds)
{
    char buf[16];
    fprintf(f, "task      %s\nrows      %lld\nloss      %.6g\n", nb_task_name(m->task),
            (long long)m->n, m->loss);
    switch (m->task) {
    case NB_TASK_CLASSIFY:
    case NB_TASK_BINARY:
        print_classes(f, m, pp, ds);
        break;
    case NB_TASK_MULTILABEL: {
        fprintf(f, "accuracy  %.2f%% (per label, averaged)\nhamming loss  %.6g\n"
                "exact match   %.2f%%\n", 100.0 * m->accuracy, m->hamming_loss,
                100.0 * m->exact_match);
        int nw = name_width(pp, ds, m->n_classes, 5);
        fprintf(f, "\n%-*s  accuracy\n", nw, "label");
        for (int c = 0; c < m->n_classes && m->label_accuracy; c++)
            fprintf(f, "%-*.*s  %7.2f%%\n", nw, nw, cli_class_name(pp, ds, c, buf, sizeof buf),
                    100.0 * m->label_accuracy[c]);
        break;
    }
    case NB_TASK_REGRESS:
        fprintf(f, "mse       %.6g\nmae       %.6g\nr2        %.6g\n", m->mse, m->mae, m->r2);
        break;
    }
}
