/* SPDX-License-Identifier: MIT */
/*
 * dist.c - the data-parallel side of nb_model_train (nb_train_config.comm; docs/DISTRIBUTED.md).
 * Every rank holds the whole model and computes the gradient of its share of each global
 * batch; the shares are summed with the transport's all-reduce, bucket by bucket, on a thread
 * of ours while backward goes on (as PyTorch's DistributedDataParallel does), so the transport
 * works behind the computation instead of after it. Everything a rank must know of the others
 * (their losses, failures, stop requests, parameter hashes) travels in one small exchange per
 * step, so every rank takes the same decision at the same step: a failure on one rank is
 * agreed on and returned on all, never a hang.
 */
#include "nn.h"
#include "../autograd/autograd.h"

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

typedef struct bucket {
    size_t lo, hi; /* a range of the flat gradient buffer, whole parameters */
    int ready;     /* backward has finished it once it has visited this node */
} bucket;

struct nb__dist {
    const nb_comm *c;
    nb_model *m;
    float *grads;
    size_t np;
    bucket *bk;
    int n_bk, next;   /* buckets, the next one to hand over this step */
    float scale;      /* this rank's rows / the global batch's */
    int overlap;
    /* the reducing thread: buckets [done, posted) are waiting for it */
    pthread_t th;
    int th_on, posted, done, quit, failed;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    double comm_s, wait_s;
    /* the parameters training does not update through gradients (batch norm's running
     * statistics): averaged over the ranks after each step, weighted by their rows */
    nb__param_span *fixed;
    int n_fixed;
    size_t fixed_floats;
    float *fixed_buf;
    float *xbuf; /* the step's exchange of figures */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int reduce_range(nb__dist *d, size_t lo, size_t hi)
{
    float *g = d->grads + lo, s = d->scale;
    /* the mean over the global batch: this rank's mean over its rows times its share */
    if (s != 1.0f)
        for (size_t i = 0; i < hi - lo; i++) g[i] *= s;
    double t0 = now_s();
    int rc = d->c->allreduce_sum(d->c->ud, g, hi - lo);
    d->comm_s += now_s() - t0;
    return rc;
}

static void *reducer(void *arg)
{
    nb__dist *d = arg;
    pthread_mutex_lock(&d->mu);
    for (;;) {
        while (d->done == d->posted && !d->quit) pthread_cond_wait(&d->cv, &d->mu);
        if (d->done == d->posted) break; /* quit with nothing left */
        const bucket *b = &d->bk[d->done];
        pthread_mutex_unlock(&d->mu);
        int rc = d->failed ? 0 : reduce_range(d, b->lo, b->hi); /* after a failure: drain */
        pthread_mutex_lock(&d->mu);
        if (rc) d->failed = 1;
        d->done++;
        pthread_cond_broadcast(&d->cv);
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

static void post_upto(nb__dist *d, int node)
{
    int from = d->next;
    while (d->next < d->n_bk && node <= d->bk[d->next].ready) d->next++;
    if (d->next == from) return;
    pthread_mutex_lock(&d->mu);
    d->posted = d->next;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

static void on_backward(void *ud, int node)
{
    post_upto(ud, node);
}

/* Buckets: whole parameters from the last one down (backward finishes the last layers
 * first), cut once a bucket holds bucket_bytes; each is handed over when backward has
 * visited the first consumer of all its parameters. The cut depends only on the model and
 * the setting, so every rank reduces the same buckets in the same order. */
static int plan_buckets(nb__dist *d, const nb__param_span *sp, int n, int64_t bucket_bytes)
{
    d->bk = nb__alloc_array((size_t)(n > 0 ? n : 1), sizeof *d->bk);
    if (!d->bk) return NB_ERR_NOMEM;
    size_t per = bucket_bytes > 0 ? (size_t)bucket_bytes / sizeof(float) : 1;
    if (per == 0) per = 1;
    if (!d->overlap) { /* one block after backward */
        d->bk[0] = (bucket){0, d->np, INT_MIN};
        d->n_bk = 1;
        return NB_OK;
    }
    size_t hi = d->np;
    int ready = INT_MAX;
    for (int i = n - 1; i >= 0; i--) {
        if (sp[i].ready >= 0 && sp[i].ready < ready) ready = sp[i].ready;
        size_t lo = i == 0 ? 0 : sp[i].off;
        if (hi - lo >= per || i == 0) {
            d->bk[d->n_bk++] = (bucket){lo, hi, ready};
            hi = lo;
            ready = INT_MAX;
        }
    }
    return NB_OK;
}

int nb__dist_create(nb__dist **out, const nb_train_config *cfg, nb_model *m)
{
    *out = NULL;
    const nb_comm *c = cfg->comm;
    if (!c || c->size <= 1) {
        if (c && (c->size != 1 || c->rank != 0))
            return nb__fail(NB_ERR_ARG, "train: nb_train_config.comm has rank %d of size %d", c->rank, c->size);
        return NB_OK; /* one process: training is exactly the single-process one */
    }
    if (c->rank < 0 || c->rank >= c->size)
        return nb__fail(NB_ERR_ARG, "train: nb_train_config.comm has rank %d of size %d", c->rank, c->size);
    if (!c->allreduce_sum || !c->broadcast)
        return nb__fail(NB_ERR_ARG, "train: nb_train_config.comm needs allreduce_sum and broadcast");
    if (cfg->comm_bucket_bytes < 0 || cfg->comm_check_every < 0)
        return nb__fail(NB_ERR_ARG, "train: nb_train_config.comm_bucket_bytes and comm_check_every must be >= 0");
    nb__dist *d = nb__calloc(1, sizeof *d);
    if (!d) return NB_ERR_NOMEM;
    d->c = c, d->m = m, d->overlap = cfg->comm_overlap != 0;
    size_t ng;
    d->grads = nb_graph_grads(m->g, &ng);
    d->np = ng;
    int n, st = NB_OK;
    nb__param_span *sp = nb__graph_param_spans_new(m->g, &n);
    if (!sp) st = NB_ERR_NOMEM;
    if (!st) st = plan_buckets(d, sp, n, cfg->comm_bucket_bytes ? cfg->comm_bucket_bytes : 256 * 1024);
    /* the untrained parameters, by the model's own account (nb_param_info.trainable) */
    for (int i = 0; !st && i < m->n_ptensors; i++) {
        nb_param_info pi;
        if (nb_model_param_info(m, i, &pi) || pi.trainable) continue;
        if (!d->fixed && !(d->fixed = nb__alloc_array((size_t)m->n_ptensors, sizeof *d->fixed))) st = NB_ERR_NOMEM;
        if (!st) {
            d->fixed[d->n_fixed++] = (nb__param_span){pi.offset, pi.n, 0};
            d->fixed_floats += pi.n;
        }
    }
    if (!st && !(d->xbuf = nb__alloc_array((size_t)c->size * NB__X_K * 2, sizeof(float)))) st = NB_ERR_NOMEM;
    if (!st && d->fixed_floats && !(d->fixed_buf = nb__alloc_array(d->fixed_floats, sizeof(float)))) st = NB_ERR_NOMEM;
    nb_free(sp);
    if (!st && d->overlap) {
        if (pthread_mutex_init(&d->mu, NULL)) st = nb__fail(NB_ERR_NOMEM, "train: cannot create a mutex");
        else if (pthread_cond_init(&d->cv, NULL)) {
            pthread_mutex_destroy(&d->mu);
            st = nb__fail(NB_ERR_NOMEM, "train: cannot create a condition variable");
        } else if (pthread_create(&d->th, NULL, reducer, d)) {
            pthread_cond_destroy(&d->cv);
            pthread_mutex_destroy(&d->mu);
            st = nb__fail(NB_ERR_NOMEM, "train: cannot start the gradient-reducing thread");
        } else {
            d->th_on = 1;
        }
    }
    if (st) {
        nb__dist_free(d);
        return st == NB_ERR_NOMEM ? nb__fail(NB_ERR_NOMEM, "train: out of memory for the distributed buffers") : st;
    }
    if (d->overlap) nb__graph_set_backward_hook(m->g, on_backward, d);
    *out = d;
    return NB_OK;
}

void nb__dist_free(nb__dist *d)
{
    if (!d) return;
    if (d->th_on) {
        pthread_mutex_lock(&d->mu);
        d->quit = 1;
        pthread_cond_broadcast(&d->cv);
        pthread_mutex_unlock(&d->mu);
        pthread_join(d->th, NULL);
        pthread_cond_destroy(&d->cv);
        pthread_mutex_destroy(&d->mu);
    }
    nb__graph_set_backward_hook(d->m->g, NULL, NULL);
    nb_free(d->bk);
    nb_free(d->fixed);
    nb_free(d->fixed_buf);
    nb_free(d->xbuf);
    nb_free(d);
}

int nb__dist_exchange(nb__dist *d, const double *mine, double *all)
{
    return nb__dist_gather_buf(d->c, mine, NB__X_K, all, d->xbuf);
}

int nb__dist_rank(const nb__dist *d) { return d ? d->c->rank : 0; }
int nb__dist_size(const nb__dist *d) { return d ? d->c->size : 1; }
const nb_comm *nb__dist_comm(const nb__dist *d) { return d ? d->c : NULL; }

void nb__dist_part(const nb__dist *d, int64_t cnt, int64_t *lo, int64_t *hi)
{
    int64_t r = d ? d->c->rank : 0, N = d ? d->c->size : 1;
    *lo = cnt * r / N; /* cnt <= the batch size and N small: no overflow */
    *hi = cnt * (r + 1) / N;
}

void nb__dist_begin_step(nb__dist *d, int64_t mine, int64_t cnt)
{
    d->scale = (float)mine / (float)cnt;
    d->next = 0;
    if (d->th_on) {
        pthread_mutex_lock(&d->mu);
        d->posted = d->done = 0;
        pthread_mutex_unlock(&d->mu);
    }
}

int nb__dist_reduce_grads(nb__dist *d)
{
    if (!d->th_on) {
        double t0 = now_s();
        int rc = reduce_range(d, 0, d->np);
        d->wait_s += now_s() - t0;
        return rc ? nb__dist_transport_fail(d->c, "allreduce_sum") : NB_OK;
    }
    post_upto(d, INT_MIN); /* what backward did not hand over (a step without backward) */
    double t0 = now_s();
    pthread_mutex_lock(&d->mu);
    while (d->done < d->n_bk) pthread_cond_wait(&d->cv, &d->mu);
    int failed = d->failed;
    pthread_mutex_unlock(&d->mu);
    d->wait_s += now_s() - t0;
    return failed ? nb__dist_transport_fail(d->c, "allreduce_sum") : NB_OK;
}

int nb__dist_sync_fixed(nb__dist *d, int64_t mine, int64_t cnt)
{
    if (!d->fixed_floats) return NB_OK;
    const float *p = nb_model_params(d->m);
    float w = (float)mine, *b = d->fixed_buf;
    /* sum of rows x value, then one division: the weights add up to exactly 1, so the
     * statistics do not creep by a rounding of 1 every step */
    for (int i = 0; i < d->n_fixed; i++)
        for (size_t j = 0; j < d->fixed[i].n; j++) *b++ = p[d->fixed[i].off + j] * w;
    if (d->c->allreduce_sum(d->c->ud, d->fixed_buf, d->fixed_floats)) return nb__dist_transport_fail(d->c, "allreduce_sum");
    float *q = nb_model_params(d->m);
    b = d->fixed_buf;
    for (int i = 0; i < d->n_fixed; i++)
        for (size_t j = 0; j < d->fixed[i].n; j++) q[d->fixed[i].off + j] = *b++ / (float)cnt;
    return NB_OK;
}

/* FNV-1a over 64-bit words: a cheap fingerprint, compared across ranks, not a security hash */
uint64_t nb__dist_hash(const void *data, size_t bytes, uint64_t h)
{
    const unsigned char *p = data;
    size_t i = 0;
    for (; i + 8 <= bytes; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0x100000001b3ULL;
    }
    for (; i < bytes; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

void nb__dist_hash_pieces(uint64_t h, double out[4])
{
    for (int i = 0; i < 4; i++) out[i] = (double)((h >> (16 * i)) & 0xffff); /* exact in a float */
}

uint64_t nb__dist_params_hash(const nb__dist *d)
{
    return nb__dist_hash(nb_model_params(d->m), d->np * sizeof(float), 0xcbf29ce484222325ULL);
}

void nb__dist_stats(const nb__dist *d, nb_history *h)
{
    /* gradients, batch norm's statistics and the figures' slots (nb__dist_gather) */
    size_t slots = (size_t)d->c->size * NB__X_K * 2;
    h->comm_bytes_per_step = (int64_t)((d->np + d->fixed_floats + slots) * sizeof(float));
    h->comm_seconds = d->comm_s;
    h->comm_wait_seconds = d->wait_s;
}
