/* SPDX-License-Identifier: MIT */
/*
 * history.c - the training history the CLI records (one nb_epoch_stats per finished epoch) and
 * its outputs: history.csv, history.svg (loss and accuracy panels) and the metrics members of
 * the --metrics-json files. Invariant: accuracies are fractions in the CSV and JSON (as the
 * library reports them) and percentages only on the SVG's axis, where people read them.
 */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int cli_history_push(cli_history *h, const nb_epoch_stats *s)
{
    if (h->n == h->cap) {
        int cap = h->cap ? h->cap * 2 : 16;
        nb_epoch_stats *e = realloc(h->e, (size_t)cap * sizeof *e);
        if (!e) return NB_ERR_NOMEM;
        h->e = e;
        h->cap = cap;
    }
    h->e[h->n++] = *s;
    return NB_OK;
}

void cli_history_free(cli_history *h)
{
    free(h->e);
    h->e = NULL;
    h->n = h->cap = 0;
}

static void csv_num(FILE *f, double v, const char *sep)
{
    if (isfinite(v)) fprintf(f, "%.6g%s", v, sep);
    else fputs(sep, f); /* an empty cell: no value (e.g. no validation data) */
}

int cli_history_csv(FILE *f, const cli_history *h)
{
    fputs("epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds\n", f);
    for (int i = 0; i < h->n; i++) {
        const nb_epoch_stats *e = &h->e[i];
        fprintf(f, "%d,", e->epoch);
        csv_num(f, e->train_loss, ",");
        csv_num(f, e->train_acc, ",");
        csv_num(f, e->val_loss, ",");
        csv_num(f, e->val_acc, ",");
        csv_num(f, e->lr, ",");
        csv_num(f, e->seconds, "\n");
    }
    return ferror(f) ? NB_ERR_IO : NB_OK;
}

int cli_history_panels(const cli_history *h, int n, double *v, cli_panel p[3])
{
    double *tl = v, *vl = v + n, *ta = v + 2 * n, *va = v + 3 * n, *lr = v + 4 * n;
    int any_acc = 0;
    for (int i = 0; i < n; i++) {
        const nb_epoch_stats *e = i < h->n ? &h->e[i] : NULL;
        tl[i] = e ? e->train_loss : (double)NAN;
        vl[i] = e ? e->val_loss : (double)NAN;
        ta[i] = e ? 100.0 * e->train_acc : (double)NAN;
        va[i] = e ? 100.0 * e->val_acc : (double)NAN;
        lr[i] = e ? e->lr : (double)NAN;
        any_acc |= isfinite(ta[i]) || isfinite(va[i]);
    }
    int best = cli_history_best(h);
    p[0] = (cli_panel){"loss", "loss", 2, {{"train", "#1f77b4", tl}, {"validation", "#ff7f0e", vl}}, best};
    p[1] = (cli_panel){"accuracy", "accuracy (%)", 2, {{"train", "#1f77b4", ta}, {"validation", "#ff7f0e", va}}, best};
    p[2] = (cli_panel){"learning rate", "learning rate", 1, {{"lr", "#9467bd", lr}}, best};
    return any_acc ? 2 : 1;
}

int cli_history_svg(FILE *f, const cli_history *h, const char *title)
{
    int n = h->n > 0 ? h->n : 1;
    double *v = malloc(5 * (size_t)n * sizeof *v);
    if (!v) return NB_ERR_NOMEM;
    cli_panel p[3];
    int np = cli_history_panels(h, n, v, p);
    int rc = cli_svg_plot(f, title, p, np, n);
    free(v);
    return rc;
}

int cli_history_best(const cli_history *h)
{
    int best = 0;
    double bl = (double)INFINITY;
    for (int i = 0; i < h->n; i++)
        if (isfinite(h->e[i].val_loss) && h->e[i].val_loss < bl) {
            bl = h->e[i].val_loss;
            best = i + 1;
        }
    return best ? best : h->n; /* positions 1..n: what the plots' x axis counts */
}

/* One CSV cell as a number: empty, "nan" or unparsable give NaN (the file's own empty cells). */
static double cell_num(const char *s, size_t len)
{
    char buf[64];
    if (len == 0 || len >= sizeof buf) return (double)NAN;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    double v = strtod(buf, &end);
    return end == buf ? (double)NAN : v;
}

int cli_history_read(const char *path, cli_history *h)
{
    char *text;
    int rc = cli_read_text(path, (size_t)1 << 26, &text);
    if (rc) return rc;
    /* the columns by name, so a file with more or reordered columns still reads */
    static const char *const names[] = {"epoch", "train_loss", "train_acc", "val_loss",
                                        "val_acc", "lr", "seconds"};
    int col[7] = {-1, -1, -1, -1, -1, -1, -1};
    char *line = text, *next;
    int lineno = 0;
    for (; line && *line; line = next) {
        next = strchr(line, '\n');
        size_t llen = next ? (size_t)(next - line) : strlen(line);
        if (next) next++;
        if (llen && line[llen - 1] == '\r') llen--;
        lineno++;
        double v[7];
        for (int j = 0; j < 7; j++) v[j] = (double)NAN;
        const char *c = line, *end = line + llen;
        for (int k = 0; c <= end; k++) {
            const char *comma = memchr(c, ',', (size_t)(end - c));
            size_t cl = comma ? (size_t)(comma - c) : (size_t)(end - c);
            for (int j = 0; j < 7; j++) {
                if (lineno == 1 && strlen(names[j]) == cl && memcmp(names[j], c, cl) == 0) col[j] = k;
                if (lineno > 1 && col[j] == k) v[j] = cell_num(c, cl);
            }
            if (!comma) break;
            c = comma + 1;
        }
        if (lineno == 1) {
            if (col[0] < 0 || col[1] < 0) {
                free(text);
                return cli_fail(NB_ERR_FORMAT, "%s: not a training history (its header has no "
                                "epoch and train_loss columns, as nabla train writes them)", path);
            }
            continue;
        }
        if (llen == 0) continue;
        nb_epoch_stats e = {0};
        e.epoch = isfinite(v[0]) ? (int)v[0] : h->n + 1;
        e.train_loss = v[1];
        e.train_acc = v[2];
        e.val_loss = v[3];
        e.val_acc = v[4];
        e.lr = v[5];
        e.seconds = v[6];
        e.samples_per_s = (double)NAN;
        if (cli_history_push(h, &e)) {
            free(text);
            return cli_fail(NB_ERR_NOMEM, "%s: out of memory", path);
        }
    }
    free(text);
    if (lineno == 0) return cli_fail(NB_ERR_FORMAT, "%s: empty history file", path);
    return NB_OK;
}

void cli_metrics_json_body(cli_json *j, const nb_metrics *m, const char *const *names)
{
    cj_str(j, "task", nb_task_name(m->task));
    cj_int(j, "n", m->n);
    cj_num(j, "loss", m->loss);
    int k = m->n_classes;
    char buf[32];
    switch (m->task) {
    case NB_TASK_CLASSIFY:
    case NB_TASK_BINARY:
        cj_num(j, "accuracy", m->accuracy);
        cj_num(j, "macro_f1", m->macro_f1);
        cj_arr(j, "classes");
        for (int c = 0; c < k; c++) {
            int64_t support = 0;
            if (m->support) support = m->support[c];
            else for (int p = 0; m->confusion && p < k; p++) support += m->confusion[(size_t)c * (size_t)k + (size_t)p];
            snprintf(buf, sizeof buf, "%d", c);
            cj_obj(j, NULL);
            cj_str(j, "name", names && names[c] ? names[c] : buf);
            cj_num(j, "precision", m->precision ? m->precision[c] : (double)NAN);
            cj_num(j, "recall", m->recall ? m->recall[c] : (double)NAN);
            cj_num(j, "f1", m->f1 ? m->f1[c] : (double)NAN);
            cj_int(j, "support", support);
            cj_end_obj(j);
        }
        cj_end_arr(j);
        if (!m->confusion) break; /* past NB_CONFUSION_MAX_CLASSES */
        cj_arr(j, "confusion"); /* row = true class, column = predicted */
        for (int c = 0; c < k; c++) {
            cj_arr(j, NULL);
            for (int p = 0; p < k; p++)
                cj_int(j, NULL, m->confusion[(size_t)c * (size_t)k + (size_t)p]);
            cj_end_arr(j);
        }
        cj_end_arr(j);
        break;
    case NB_TASK_MULTILABEL:
        cj_num(j, "accuracy", m->accuracy);
        cj_num(j, "hamming_loss", m->hamming_loss);
        cj_num(j, "exact_match", m->exact_match);
        cj_arr(j, "labels");
        for (int c = 0; c < k && m->label_accuracy; c++) {
            snprintf(buf, sizeof buf, "%d", c);
            cj_obj(j, NULL);
            cj_str(j, "name", names && names[c] ? names[c] : buf);
            cj_num(j, "accuracy", m->label_accuracy[c]);
            cj_end_obj(j);
        }
        cj_end_arr(j);
        break;
    case NB_TASK_REGRESS:
        cj_num(j, "mse", m->mse);
        cj_num(j, "mae", m->mae);
        cj_num(j, "r2", m->r2);
        break;
    }
}
