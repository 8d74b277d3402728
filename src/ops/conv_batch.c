/*
 * conv_batch.c - the per-batch loops around a convolution's matrix products, split over the
 * thread pool: im2col / col2im over samples, the (O, N*P) <-> (N, O, P) permutations (with
 * the bias) over samples, the bias gradient over channels. Every output element is written by
 * exactly one task with the arithmetic of the one-thread loop, so results do not depend on
 * the thread count. K = C kh kw, P = OH OW; col is (K, N*P) with sample s in columns s*P...
 */
#include "ops.h"

#include <string.h>

typedef struct batch_job {
    const nb__conv_geom *g;
    size_t n, O, P, tasks;
    const float *src, *bias;
    float *dst;
} batch_job;

/* Loops touching fewer floats than this stay in the calling thread (waking a worker costs
 * more); only speed depends on it. */
#define PARALLEL_MIN_FLOATS ((size_t)1 << 15)

static size_t split(size_t items, size_t floats)
{
    size_t t = (size_t)nb__threads();
    if (floats < PARALLEL_MIN_FLOATS || t < 2) return 1;
    return items < t ? items : t;
}

/* [lo, hi) of items for task t */
static void range(const batch_job *j, size_t items, size_t t, size_t *lo, size_t *hi)
{
    *lo = items * t / j->tasks;
    *hi = items * (t + 1) / j->tasks;
}

static void im2col_task(void *ctx, size_t t, float *scratch)
{
    (void)scratch;
    const batch_job *j = ctx;
    size_t lo, hi, chw = j->g->c * j->g->h * j->g->w;
    range(j, j->n, t, &lo, &hi);
    for (size_t s = lo; s < hi; s++) nb__im2col_strided(j->g, j->src + s * chw, j->dst + s * j->P, j->n * j->P);
}

void nb__im2col_batch(const nb__conv_geom *g, size_t n, const float *x, float *col)
{
    size_t P = g->oh * g->ow, K = g->c * (size_t)g->kh * (size_t)g->kw;
    batch_job j = {g, n, 0, P, split(n, K * n * P), x, NULL, col};
    nb__parallel_for(j.tasks, im2col_task, &j);
}

static void col2im_task(void *ctx, size_t t, float *scratch)
{
    (void)scratch;
    const batch_job *j = ctx;
    size_t lo, hi, chw = j->g->c * j->g->h * j->g->w;
    range(j, j->n, t, &lo, &hi);
    for (size_t s = lo; s < hi; s++) nb__col2im_strided(j->g, j->src + s * j->P, j->n * j->P, j->dst + s * chw);
}

void nb__col2im_batch(const nb__conv_geom *g, size_t n, const float *col, float *dx)
{
    size_t P = g->oh * g->ow, K = g->c * (size_t)g->kh * (size_t)g->kw;
    batch_job j = {g, n, 0, P, split(n, K * n * P), col, NULL, dx};
    nb__parallel_for(j.tasks, col2im_task, &j);
}

static void to_ncp_task(void *ctx, size_t t, float *scratch)
{
    (void)scratch;
    const batch_job *j = ctx;
    size_t lo, hi, NP = j->n * j->P;
    range(j, j->n, t, &lo, &hi);
    for (size_t s = lo; s < hi; s++)
        for (size_t o = 0; o < j->O; o++) {
            const float *src = j->src + o * NP + s * j->P;
            float *dst = j->dst + (s * j->O + o) * j->P, bias = j->bias ? j->bias[o] : 0.0f;
            for (size_t p = 0; p < j->P; p++) dst[p] = src[p] + bias;
        }
}

void nb__cnp_to_ncp(size_t n, size_t O, size_t P, const float *yc, const float *bias, float *y)
{
    batch_job j = {NULL, n, O, P, split(n, n * O * P), yc, bias, y};
    nb__parallel_for(j.tasks, to_ncp_task, &j);
}

static void to_cnp_task(void *ctx, size_t t, float *scratch)
{
    (void)scratch;
    const batch_job *j = ctx;
    size_t lo, hi, NP = j->n * j->P;
    range(j, j->n, t, &lo, &hi);
    for (size_t s = lo; s < hi; s++)
        for (size_t o = 0; o < j->O; o++)
            memcpy(j->dst + o * NP + s * j->P, j->src + (s * j->O + o) * j->P, j->P * sizeof(float));
}

void nb__ncp_to_cnp(size_t n, size_t O, size_t P, const float *dy, float *dyc)
{
    batch_job j = {NULL, n, O, P, split(n, n * O * P), dy, NULL, dyc};
    nb__parallel_for(j.tasks, to_cnp_task, &j);
}

static void rows_sum_task(void *ctx, size_t t, float *scratch)
{
    (void)scratch;
    const batch_job *j = ctx;
    size_t lo, hi, L = j->P;
    range(j, j->O, t, &lo, &hi);
    for (size_t o = lo; o < hi; o++) { /* one row, left to right: the one-thread sum */
        float acc = 0.0f;
        for (size_t i = 0; i < L; i++) acc += j->src[o * L + i];
        j->dst[o] += acc;
    }
}

void nb__rows_sum_add(size_t O, size_t L, const float *x, float *sums)
{
    batch_job j = {NULL, 0, O, L, split(O, O * L), x, NULL, sums};
    nb__parallel_for(j.tasks, rows_sum_task, &j);
}
