/* SPDX-License-Identifier: MIT */
/*
 * batch.c - moving dataset rows through a built model: gathering a mini-batch into the
 * model's buffers, feeding the graph and running forward, counting correct predictions,
 * and batched prediction. Buffers grow to the largest batch once; steps then allocate nothing.
 */
#include "nn.h"
#include "../autograd/autograd.h"

#include <math.h>
#include <string.h>

int nb__check_data(const nb_model *m, const nb_dataset *d, const char *what)
{
    if (!m) return nb__fail(NB_ERR_ARG, "%s: model is NULL", what);
    if (!m->built) return nb__fail(NB_ERR_STATE, "model is not built");
    if (!d) return nb__fail(NB_ERR_ARG, "%s: dataset is NULL", what);
    if (nb_dataset_n_rows(d) < 1) return nb__fail(NB_ERR_ARG, "%s: no data", what);
    size_t per = 1;
    for (int i = 0; i < m->sample_rank; i++) per *= (size_t)m->sample_shape[i];
    int64_t nf = nb_dataset_n_features(d);
    if ((size_t)nf != per)
        return nb__fail(NB_ERR_SHAPE, "%s: samples have %lld features, the model takes %zu", what, (long long)nf, per);
    return NB_OK;
}

int nb__model_bufs(nb_model *m, int64_t rows, int64_t n_targets)
{
    if (rows <= m->buf_rows) return NB_OK;
    float *y = nb__alloc_array((size_t)rows, (size_t)(n_targets > m->n_outputs ? n_targets : m->n_outputs) * sizeof(float));
    if (!y) return NB_ERR_NOMEM;
    nb_free(m->ybuf);
    m->ybuf = y;
    m->buf_rows = rows;
    return NB_OK;
}

/* the features of count rows of ds (rows[] or contiguous from first) straight into the
 * graph's input: one pass over them, however they are stored */
static int fill_input(nb_model *m, const nb_dataset *ds, const int64_t *rows, int64_t first, int64_t count, float *y)
{
    float *in;
    int st = nb__graph_input(m->g, m->x, (size_t)count * (size_t)nb_dataset_n_features(ds), &in);
    if (st) return st;
    return rows ? nb_dataset_gather(ds, rows, count, in, y) : nb_dataset_rows(ds, first, count, in, y);
}

int nb__model_batch(nb_model *m, const nb_dataset *ds, const int64_t *rows, int64_t first,
                    int64_t count, int need_targets)
{
    int st = fill_input(m, ds, rows, first, count, need_targets ? m->ybuf : NULL);
    if (st || !need_targets) return st;
    if ((st = nb_graph_feed(m->g, m->t, m->ybuf, (size_t)count * (size_t)nb_dataset_n_targets(ds)))) return st;
    return nb_graph_forward(m->g, m->loss);
}

double nb__batch_correct(nb_model *m, int64_t count, int64_t n_targets)
{
    nb_view lv;
    nb_graph_value(m->g, m->logits, &lv);
    const float *z = lv.data, *y = m->ybuf;
    size_t C = (size_t)m->n_outputs;
    double correct = 0;
    if (m->task == NB_TASK_CLASSIFY) {
        for (int64_t i = 0; i < count; i++) {
            size_t best = 0;
            for (size_t c = 1; c < C; c++)
                if (z[(size_t)i * C + c] > z[(size_t)i * C + best]) best = c;
            correct += (float)best == y[i];
        }
    } else if (m->task == NB_TASK_REGRESS) {
        return (double)NAN;
    } else { /* a logit > 0 is a probability > 1/2 */
        for (size_t i = 0; i < (size_t)count * (size_t)n_targets; i++) correct += (z[i] > 0.0f) == (y[i] > 0.5f);
    }
    return correct;
}

int64_t nb__eval_rows(const nb_model *m)
{
    double per = 1; /* floats per sample: the input and every layer's output */
    for (int i = 0; i < m->sample_rank; i++) per *= (double)m->sample_shape[i];
    for (int i = 0; i < m->n_layers; i++) {
        nb_layer_info li;
        if (nb_model_layer_info(m, i, &li) != NB_OK) continue;
        double k = 1;
        for (int r = 0; r < li.out_rank; r++) k *= (double)li.out_shape[r];
        per += k;
    }
    double rows = NB__EVAL_BYTES / (per * 2 * sizeof(float)); /* values and saved state */
    return rows < NB__EVAL_ROWS_MIN ? NB__EVAL_ROWS_MIN : rows > NB__EVAL_ROWS_MAX ? NB__EVAL_ROWS_MAX : (int64_t)rows;
}

/* nb_model_predict and nb_model_predict_data: rows first .. first + n - 1 of x (floats) or
 * of d, in batches of the model's own size */
static int predict_rows(nb_model *m, const float *x, const nb_dataset *d, int64_t first, int64_t n, float *out)
{
    if (!m) return nb__fail(NB_ERR_ARG, "predict: model is NULL");
    if (!out) return nb__fail(NB_ERR_ARG, "predict: out is NULL");
    if (!m->built) return nb__fail(NB_ERR_STATE, "model is not built");
    if (n < 1) return nb__fail(NB_ERR_ARG, "predict: %lld rows", (long long)n);
    size_t per = 1, C = (size_t)m->n_outputs;
    for (int i = 0; i < m->sample_rank; i++) per *= (size_t)m->sample_shape[i];
    nb_graph_set_training(m->g, 0); /* predictions always in evaluation mode */
    int64_t rows = nb__eval_rows(m);
    for (int64_t done = 0, cnt; done < n; done += cnt) {
        cnt = nb__eval_chunk(n - done, rows);
        int st = x ? nb_graph_feed(m->g, m->x, x + (size_t)done * per, (size_t)cnt * per)
                   : fill_input(m, d, NULL, first + done, cnt, NULL);
        if (!st) st = nb_graph_forward(m->g, m->pred);
        if (st) return st;
        nb_view pv;
        nb_graph_value(m->g, m->pred, &pv);
        memcpy(out + (size_t)done * C, pv.data, (size_t)cnt * C * sizeof(float));
    }
    return NB_OK;
}

int nb_model_predict(nb_model *m, const float *x, int64_t n, float *out)
{
    if (m && !x) return nb__fail(NB_ERR_ARG, "predict: x is NULL");
    return predict_rows(m, x, NULL, 0, n, out);
}

int nb_model_predict_data(nb_model *m, const nb_dataset *d, int64_t first, int64_t n, float *out)
{
    int st = nb__check_data(m, d, "predict");
    if (st) return st;
    if (!out) return nb__fail(NB_ERR_ARG, "predict: out is NULL");
    if (first < 0 || n < 1 || first > nb_dataset_n_rows(d) - n)
        return nb__fail(NB_ERR_ARG, "predict: rows %lld..%lld are not in a dataset of %lld rows", (long long)first,
                        (long long)(first + n - 1), (long long)nb_dataset_n_rows(d));
    return predict_rows(m, NULL, d, first, n, out);
}
