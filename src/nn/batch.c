/* SPDX-License-Identifier: MIT */
/*
 * batch.c - moving dataset rows through a built model: gathering a mini-batch into the
 * model's buffers, feeding the graph and running forward, counting correct predictions,
 * and batched prediction. Buffers grow to the largest batch once; steps then allocate nothing.
 */
#include "nn.h"
#include "../autograd/graph.h" /* n_customs */
#include "../ops/ops.h"        /* the thread pool */

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
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
 * input x of g (the model's graph or a copy): one pass over them, however they are stored */
static int fill_input(nb_graph *g, nb_node x, const nb_dataset *ds, const int64_t *rows, int64_t first, int64_t count, float *y)
{
    float *in;
    int st = nb__graph_input(g, x, (size_t)count * (size_t)nb_dataset_n_features(ds), &in);
    if (st) return st;
    return rows ? nb_dataset_gather(ds, rows, count, in, y) : nb_dataset_rows(ds, first, count, in, y);
}

int nb__model_batch(nb_model *m, const nb_dataset *ds, const int64_t *rows, int64_t first,
                    int64_t count, int need_targets)
{
    int st = fill_input(m->g, m->x, ds, rows, first, count, need_targets ? m->ybuf : NULL);
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

/* Rows first .. first + n - 1 of x (floats) or of d through one forward of g (the model's
 * graph or a copy) to the prediction, into out */
static int predict_piece(nb_model *m, nb_graph *g, const float *x, const nb_dataset *d, int64_t first, int64_t n, float *out)
{
    size_t per = 1, C = (size_t)m->n_outputs;
    for (int i = 0; i < m->sample_rank; i++) per *= (size_t)m->sample_shape[i];
    int st = x ? nb_graph_feed(g, m->x, x + (size_t)first * per, (size_t)n * per) : fill_input(g, m->x, d, NULL, first, n, NULL);
    if (!st) st = nb_graph_forward(g, m->pred);
    if (st) return st;
    nb_view pv;
    nb_graph_value(g, m->pred, &pv);
    memcpy(out, pv.data, (size_t)n * C * sizeof(float));
    return NB_OK;
}

/* Prediction on several threads. The rows are cut into pieces, and each piece runs a whole
 * forward on whichever thread claims it, through that thread's copy of the graph
 * (nb__graph_clone: the same nodes over the model's own weights), its operators inline on
 * the thread with the task's scratch (ops.h's nested jobs). Every operator computes a row of
 * its output the same way in any batch of two or more rows and for any thread count
 * (nb__eval_chunk, ops.h), so the predictions are the bits of the one-thread pass. Against
 * splitting each operator over the threads (the path below), no thread waits for another
 * between operators, and a piece's activations stay in the caches of the core that made
 * them: CNN inference on 2 threads went from 0.9-1.0x to 1.9-2.0x the one-thread rate
 * (README, Speed).
 * Pieces: PIECES_PER_THREAD per thread, so a thread on a busy core holds up one small piece;
 * at most an eighth of the model's evaluation batch (about 4 MB of activations, a layer's
 * output mostly still in L2 when the next reads it: measured best for the reference CNN, 17
 * rows: 84k samples/s against 82k at 34 rows and 81k at 68), at least PIECE_MIN_ROWS. All
 * pieces have the same rows but the last (a copy re-plans its arena when its batch size
 * changes), and a last piece of one row is avoided as nb__eval_chunk does. */
#define PIECES_PER_THREAD 4
#define PIECE_MIN_ROWS 16
#define PIECE_BLOCK 256 /* pieces per job at most (the pool's claim word holds 2^20) */

typedef struct predict_job {
    nb_model *m;
    const float *x;
    const nb_dataset *d;
    int64_t first, n, rows; /* the rows first .. first + n - 1, in pieces of rows */
    float *out;
    atomic_int *busy;    /* busy[k]: copy k is in use */
    pthread_mutex_t lock;
    int st;              /* the failure of the lowest failing piece, and its message */
    size_t failed;
    char msg[1024];
} predict_job;

/* the number of pieces of n rows, and piece t's rows [*lo, *hi) */
static size_t piece_count(int64_t n, int64_t rows)
{
    return (size_t)((n + rows - 1) / rows);
}

static void piece_of(int64_t n, int64_t rows, size_t t, int64_t *lo, int64_t *hi)
{
    int64_t f = n / rows, a = rows + 1 - (rows + 1) / 2;
    *lo = (int64_t)t * rows, *hi = *lo + rows < n ? *lo + rows : n;
    if (n % rows == 1 && f >= 1 && (int64_t)t >= f - 1) /* rows + 1 left: two halves */
        *lo = (f - 1) * rows + ((int64_t)t == f ? a : 0), *hi = (int64_t)t == f ? n : (f - 1) * rows + a;
}

static void predict_task(void *ctx, size_t t, float *scratch)
{
    predict_job *j = ctx;
    nb_model *m = j->m;
    int k = 0; /* a free copy: there are as many as threads, and a thread runs one task at a time */
    while (atomic_exchange(&j->busy[k], 1)) k = (k + 1) % m->n_clones;
    int64_t lo, hi;
    piece_of(j->n, j->rows, t, &lo, &hi);
    nb__lend_scratch(scratch);
    int st = predict_piece(m, m->clones[k], j->x, j->d, j->first + lo, hi - lo, j->out + (size_t)lo * (size_t)m->n_outputs);
    nb__lend_scratch(NULL);
    atomic_store(&j->busy[k], 0);
    if (st) { /* the message is this thread's: keep it for the caller */
        pthread_mutex_lock(&j->lock);
        if (!j->st || t < j->failed) {
            j->st = st;
            j->failed = t;
            snprintf(j->msg, sizeof j->msg, "%s", nb_errmsg());
        }
        pthread_mutex_unlock(&j->lock);
    }
}

/* the rows of a piece for n rows on T threads, or 0 to predict on the model's graph alone:
 * one thread, too few rows, custom operators (whose callbacks may not be reentrant), or
 * GEMMs that go to the CBLAS library (threaded by itself) */
static int64_t piece_rows(const nb_model *m, int64_t n, int T)
{
    if (T < 2 || n < 2 * PIECE_MIN_ROWS || m->g->n_customs || !strcmp(nb__gemm_name(), "cblas")) return 0;
    int64_t most = nb__eval_rows(m) / 8, per = (int64_t)T * PIECES_PER_THREAD, rows = (n + per - 1) / per;
    if (rows > most) rows = most;
    return rows < PIECE_MIN_ROWS ? PIECE_MIN_ROWS : rows;
}

static int predict_parallel(nb_model *m, const float *x, const nb_dataset *d, int64_t first, int64_t n, int64_t rows,
                            int T, float *out)
{
    if (m->n_clones < T) { /* one copy per thread, made once */
        nb_graph **c = nb__realloc(m->clones, (size_t)T * sizeof *c);
        if (!c) return NB_ERR_NOMEM;
        m->clones = c;
        for (; m->n_clones < T; m->n_clones++) {
            int st = nb__graph_clone(m->g, &m->clones[m->n_clones]);
            if (st) return st;
        }
    }
    for (int k = 0; k < m->n_clones; k++) nb__graph_weights_changed(m->clones[k]); /* pack them again */
    atomic_int busy[NB__MAX_THREADS];
    for (int k = 0; k < NB__MAX_THREADS; k++) atomic_init(&busy[k], 0);
    predict_job j = {.m = m, .x = x, .d = d, .rows = rows, .busy = busy};
    pthread_mutex_init(&j.lock, NULL);
    /* blocks of whole pieces, the last block's end as piece_of cuts it */
    for (int64_t done = 0, block = rows * PIECE_BLOCK; done < n && !j.st; done += j.n) {
        j.first = first + done, j.n = n - done <= block + 1 ? n - done : block; /* no last block of one row */
        j.out = out + (size_t)done * (size_t)m->n_outputs;
        nb__parallel_for(piece_count(j.n, rows), predict_task, &j);
    }
    pthread_mutex_destroy(&j.lock);
    return j.st ? nb__fail(j.st, "%s", j.msg) : NB_OK;
}

/* nb_model_predict and nb_model_predict_data: rows first .. first + n - 1 of x (floats) or
 * of d, in batches of the model's own size */
static int predict_rows(nb_model *m, const float *x, const nb_dataset *d, int64_t first, int64_t n, float *out)
{
    if (!m) return nb__fail(NB_ERR_ARG, "predict: model is NULL");
    if (!out) return nb__fail(NB_ERR_ARG, "predict: out is NULL");
    if (!m->built) return nb__fail(NB_ERR_STATE, "model is not built");
    if (n < 1) return nb__fail(NB_ERR_ARG, "predict: %lld rows", (long long)n);
    nb_graph_set_training(m->g, 0); /* predictions always in evaluation mode */
    int T = nb__threads();
    int64_t piece = piece_rows(m, n, T), rows = nb__eval_rows(m);
    if (piece) return predict_parallel(m, x, d, first, n, piece, T, out);
    for (int64_t done = 0, cnt; done < n; done += cnt) {
        cnt = nb__eval_chunk(n - done, rows);
        int st = predict_piece(m, m->g, x, d, first + done, cnt, out + (size_t)done * (size_t)m->n_outputs);
        if (st) return st;
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
