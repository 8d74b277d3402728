/* SPDX-License-Identifier: MIT */
/*
 * conv_batch.c - the loops around a lowered convolution's matrix products, split over the
 * thread pool: im2col, col2im and the (O, n P) <-> (n, O, P) permutes (with the bias, or the
 * bias gradient's plane sums). A pass finishes one chunk of samples and starts the next in
 * the same job (ops.h), so a chunk costs the pool two or three jobs. Each task writes whole
 * samples, rows or channel planes, and every output element is computed by exactly one task
 * with the arithmetic of the one-thread loop (col2im adds each element's terms in (c, i, j)
 * order, whichever channels a task holds): results do not depend on the thread count.
 * P = OH OW; a chunk's matrices have sample s in columns s P .. s P + P - 1.
 */
#include "ops.h"
#include "simd.h"

#include <string.h>

/* Passes touching fewer floats than this stay in the calling thread (waking a worker costs
 * more); only speed depends on it. */

/* dst = src (P floats) and, when sum is not NULL, *sum = their sum in the fixed lane order
 * of ops.h, per CPU tier: conv_batch_simd.h */
#define NB__SIMD_BODY "conv_batch_simd.h"
#include "simd_tiers.h"
NB__SIMD_PICK(copy_sum)

/* task t of T's share of the chunk that finishes: y by samples (whole samples); dx by samples,
 * or with by_rows by input channels - the rows of dcol that the product split by rows wrote
 * in the same thread, the rows im2col wrote there before (ops.h) */
static void finish(const nb__conv_pass *p, size_t t, size_t T)
{
    size_t P = p->g->oh * p->g->ow, NP = p->na * P, O = p->O, C = p->g->c, chw = C * p->g->h * p->g->w;
    size_t lo = p->na * t / T, hi = p->na * (t + 1) / T;
    if (p->yc) /* y (n, O, P) = yc (O, n P) + bias */
        for (size_t s = lo; s < hi; s++)
            for (size_t o = 0; o < O; o++) {
                const float *src = p->yc + o * NP + s * P;
                float *dst = p->y + (s * O + o) * P, bias = p->bias ? p->bias[o] : 0.0f;
                for (size_t k = 0; k < P; k++) dst[k] = src[k] + bias;
            }
    if (!p->dcol) return;
    if (p->by_rows && C >= T) nb__col2im_n(p->g, p->na, C * t / T, C * (t + 1) / T, p->dcol, NP, p->dx);
    else if (hi > lo) nb__col2im_n(p->g, hi - lo, 0, C, p->dcol + lo * P, NP, p->dx + lo * chw);
}

/* task t of T's share of the chunk that starts: the permute of dy by output channels (each
 * task writes whole rows of dyc: split by samples, tasks would share a cache line at their
 * boundary in every row); im2col by samples, or with by_rows by input channels (whole rows
 * of col), whichever the product that reads col next splits the same way (ops.h) */
static void start(const nb__conv_pass *p, size_t t, size_t T)
{
    size_t P = p->g->oh * p->g->ow, NP = p->nb * P, O = p->O, C = p->g->c, chw = C * p->g->h * p->g->w;
    if (p->dy) { /* dyc (O, n P) = dy (n, O, P), with the plane sums */
        copy_sum_fn copy = copy_sum_pick();
        for (size_t o = O * t / T; o < O * (t + 1) / T; o++)
            for (size_t s = 0; s < p->nb; s++)
                copy(P, p->dy + (s * O + o) * P, p->dyc + o * NP + s * P, p->sums ? p->sums + s * O + o : NULL);
    }
    if (!p->x) return;
    if (p->by_rows && C >= T) nb__im2col_n(p->g, p->nb, C * t / T, C * (t + 1) / T, p->x, p->col, NP);
    else {
        size_t lo = p->nb * t / T, hi = p->nb * (t + 1) / T;
        if (hi > lo) nb__im2col_n(p->g, hi - lo, 0, C, p->x + lo * chw, p->col + lo * P, NP);
    }
}

typedef struct pass_job {
    const nb__conv_pass *p;
    size_t tasks;
} pass_job;

static void pass_task(void *ctx, size_t t, float *scratch)
{
    (void)scratch;
    const pass_job *j = ctx;
    const nb__conv_pass *p = j->p;
    finish(p, t, j->tasks);
    start(p, t, j->tasks);
}

void nb__conv_pass_run(const nb__conv_pass *p)
{
    size_t P = p->g->oh * p->g->ow, K = p->g->c * (size_t)p->g->kh * (size_t)p->g->kw, floats = 0;
    if (p->yc) floats += p->na * p->O * P;
    if (p->dcol) floats += p->na * K * P;
    if (p->dy) floats += p->nb * p->O * P;
    if (p->x) floats += p->nb * K * P;
    if (floats == 0) return;
    /* several tasks per thread (ops.h): split by samples, channels or rows, whichever the
     * chunk has most of; a task may find no samples to finish or none to start */
    size_t parts = p->na > p->nb ? p->na : p->nb;
    if (p->dy && p->O > parts) parts = p->O;
    pass_job j = {p, nb__job_tasks(parts, floats)};
    nb__parallel_for(j.tasks, pass_task, &j);
}
