/* SPDX-License-Identifier: MIT */
/*
 * metrics.c - scoring a model on labeled data: the loss plus the task's metrics (accuracy,
 * confusion matrix, per-class precision/recall/F1; per-label accuracy, Hamming loss and exact
 * match; MSE, MAE, R^2). Predictions come from the logits in batches of nb__eval_rows rows;
 * sums are in double and in row order, so results are deterministic.
 */
#include "nn.h"

#include <math.h>
#include <string.h>

void nb_metrics_free(nb_metrics *mt)
{
    if (!mt) return;
    nb_free(mt->confusion);
    nb_free(mt->support);
    nb_free(mt->precision);
    nb_free(mt->recall);
    nb_free(mt->f1);
    nb_free(mt->label_accuracy);
    memset(mt, 0, sizeof *mt);
}

/* per-class figures from the sparse counts: cnt[c] true rows of class c (support), cnt[C + c]
 * rows predicted c, cnt[2C + c] rows of c predicted right; O(C), whatever the class count */
static void class_scores(nb_metrics *mt, const int64_t *cnt)
{
    int C = mt->n_classes;
    double f1_sum = 0, correct = 0;
    for (int c = 0; c < C; c++) {
        int64_t tp = cnt[2 * C + c], pred = cnt[C + c], actual = cnt[c];
        mt->support[c] = actual;
        correct += (double)tp;
        mt->precision[c] = pred ? (double)tp / (double)pred : 0.0;
        mt->recall[c] = actual ? (double)tp / (double)actual : 0.0;
        double s = mt->precision[c] + mt->recall[c];
        mt->f1[c] = s > 0 ? 2 * mt->precision[c] * mt->recall[c] / s : 0.0;
        f1_sum += mt->f1[c];
    }
    mt->accuracy = correct / (double)mt->n;
    mt->macro_f1 = f1_sum / C;
}

static void count(nb_metrics *mt, int64_t *cnt, size_t y, size_t p)
{
    size_t C = (size_t)mt->n_classes;
    cnt[y]++;
    cnt[C + p]++;
    cnt[2 * C + y] += y == p;
    if (mt->confusion) mt->confusion[y * C + p]++;
}

int nb_model_evaluate(nb_model *m, const nb_dataset *d, nb_metrics *mt)
{
    if (!mt) return nb__fail(NB_ERR_ARG, "evaluate: out is NULL");
    memset(mt, 0, sizeof *mt);
    int st = nb__check_data(m, d, "evaluation data");
    if (st) return st;
    int64_t want = m->task == NB_TASK_CLASSIFY ? 1 : m->n_outputs;
    int64_t n = nb_dataset_n_rows(d), nt = nb_dataset_n_targets(d);
    if (nt != want)
        return nb__fail(NB_ERR_SHAPE, "evaluation data: %lld targets per row, the model needs %lld (is the label column missing?)",
                        (long long)nt, (long long)want);
    size_t K = (size_t)m->n_outputs;
    mt->task = m->task;
    mt->n = n;
    mt->n_classes = m->task == NB_TASK_CLASSIFY ? m->n_outputs : m->task == NB_TASK_BINARY ? 2 : m->task == NB_TASK_MULTILABEL ? m->n_outputs : 0;
    size_t C = (size_t)mt->n_classes;
    int64_t *counts = NULL;
    if (C) {
        mt->precision = nb__calloc(C, sizeof(double));
        mt->recall = nb__calloc(C, sizeof(double));
        mt->f1 = nb__calloc(C, sizeof(double));
        mt->label_accuracy = nb__calloc(C, sizeof(double));
        mt->support = nb__calloc(C, sizeof(int64_t));
        /* the C x C matrix only up to NB_CONFUSION_MAX_CLASSES: at the 65536-class limit it
         * was 32 GiB; the per-class figures come from the 3C counts */
        if (C <= NB_CONFUSION_MAX_CLASSES) mt->confusion = nb__calloc(C * C, sizeof(int64_t));
        counts = nb__calloc(3 * C, sizeof *counts);
        if (!mt->precision || !mt->recall || !mt->f1 || !mt->label_accuracy || !mt->support || !counts ||
            (C <= NB_CONFUSION_MAX_CLASSES && !mt->confusion)) {
            nb_free(counts);
            nb_metrics_free(mt);
            return NB_ERR_NOMEM;
        }
    }
    int64_t rows = nb__eval_rows(m);
    if ((st = nb__model_bufs(m, rows, nt))) {
        nb_free(counts);
        nb_metrics_free(mt);
        return st;
    }
    double loss = 0, se = 0, ae = 0, ysum = 0, ysq = 0, wrong = 0, exact = 0;
    nb_graph_set_training(m->g, 0); /* evaluation mode: no dropout, running batch-norm stats */
    for (int64_t first = 0, cnt; first < n; first += cnt) {
        cnt = nb__eval_chunk(n - first, rows);
        if ((st = nb__model_batch(m, d, NULL, first, cnt, 1))) {
            nb_free(counts);
            nb_metrics_free(mt);
            return st;
        }
        nb_view lv, zv;
        nb_graph_value(m->g, m->loss, &lv);
        nb_graph_value(m->g, m->logits, &zv);
        loss += (double)lv.data[0] * (double)cnt;
        const float *y = m->ybuf, *z = zv.data;
        for (int64_t i = 0; i < cnt; i++) {
            const float *zi = z + (size_t)i * K, *yi = y + (size_t)i * (size_t)want;
            if (m->task == NB_TASK_CLASSIFY) {
                size_t best = 0;
                for (size_t c = 1; c < K; c++)
                    if (zi[c] > zi[best]) best = c;
                count(mt, counts, (size_t)yi[0], best);
            } else if (m->task == NB_TASK_BINARY) {
                count(mt, counts, (size_t)(yi[0] > 0.5f), (size_t)(zi[0] > 0.0f));
            } else if (m->task == NB_TASK_MULTILABEL) {
                int all = 1;
                for (size_t c = 0; c < K; c++) {
                    int ok = (zi[c] > 0.0f) == (yi[c] > 0.5f);
                    mt->label_accuracy[c] += ok;
                    wrong += !ok;
                    all &= ok;
                }
                exact += all;
            } else {
                for (size_t c = 0; c < K; c++) {
                    double e = (double)zi[c] - (double)yi[c];
                    se += e * e;
                    ae += fabs(e);
                    ysum += (double)yi[c];
                    ysq += (double)yi[c] * (double)yi[c];
                }
            }
        }
    }
    mt->loss = loss / (double)n;
    double cells = (double)n * (double)K;
    if (m->task == NB_TASK_CLASSIFY || m->task == NB_TASK_BINARY) {
        class_scores(mt, counts);
    } else if (m->task == NB_TASK_MULTILABEL) {
        for (size_t c = 0; c < K; c++) mt->label_accuracy[c] /= (double)n;
        mt->hamming_loss = wrong / cells;
        mt->accuracy = 1.0 - mt->hamming_loss;
        mt->exact_match = exact / (double)n;
    } else {
        mt->mse = se / cells;
        mt->mae = ae / cells;
        double var = ysq - ysum * ysum / cells; /* total sum of squares around the mean */
        mt->r2 = var > 0 ? 1.0 - se / var : (se == 0 ? 1.0 : 0.0);
        mt->accuracy = (double)NAN;
    }
    nb_free(counts);
    return NB_OK;
}
