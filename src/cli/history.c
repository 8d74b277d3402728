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

int cli_history_svg(FILE *f, const cli_history *h, const char *title)
{
    int n = h->n > 0 ? h->n : 1;
    double *v = malloc(4 * (size_t)n * sizeof *v);
    if (!v) return NB_ERR_NOMEM;
    double *tl = v, *vl = v + n, *ta = v + 2 * n, *va = v + 3 * n;
    int any_acc = 0;
    for (int i = 0; i < n; i++) {
        const nb_epoch_stats *e = i < h->n ? &h->e[i] : NULL;
        tl[i] = e ? e->train_loss : (double)NAN;
        vl[i] = e ? e->val_loss : (double)NAN;
        ta[i] = e ? 100.0 * e->train_acc : (double)NAN;
        va[i] = e ? 100.0 * e->val_acc : (double)NAN;
        any_acc |= isfinite(ta[i]) || isfinite(va[i]);
    }
    cli_panel p[2] = {
        {"loss", "loss", 2, {{"train", "#1f77b4", tl}, {"validation", "#ff7f0e", vl}}},
        {"accuracy", "accuracy (%)", 2, {{"train", "#1f77b4", ta}, {"validation", "#ff7f0e", va}}},
    };
    int rc = cli_svg_plot(f, title, p, any_acc ? 2 : 1, n);
    free(v);
    return rc;
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
