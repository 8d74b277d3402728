/* SPDX-License-Identifier: MIT */
/*
 * conv_direct.c - convolutions with few taps per output (K = C kh kw <= NB__DIRECT_MAX_TAPS
 * and a small sample: a first layer on images), computed sample by sample instead of through
 * the batch's lowered matrix and a GEMM. With K = 9 (one channel, 3 x 3) a GEMM's K loop is
 * too short for its packing to pay, and the batch's col matrix, the (O, N*P) <-> (N, O, P)
 * permutes and a separate bias pass each cost a trip to memory over the layer's output. Here
 * samples are lowered a group at a time into a small col (K, G P) in the thread's scratch
 * (the caches), forward writes y once in its final layout with the bias, and backward reads
 * dy once for dW and db together.
 *
 * Outputs run a vector of positions at a time (conv_direct_simd.h) along the flattened
 * plane p = oh OW + ow: y = b, then y = y + col_t w_t for the taps t in order, each product
 * and sum rounded - so the bits depend neither on the instruction set, nor the blocking of
 * output channels, nor the split of samples over threads.
 * dW and db: lane l of 16 sums the products at positions p = 16 q + l over samples and q in
 * order, whatever the tier's vector width; the 16 lanes are then added left to right. Tasks
 * own output channels, so no sum is ever split between threads, and how channels are grouped
 * into tasks changes no sum.
 */
#include "ops.h"
#include "simd.h"

#include <string.h>

/* channels one call of the backward body accumulates (their sums live on its stack) */
#define NB__DIRECT_MAX_CH 8

/* A group of G samples lowered together: col (K, ld), sample g in columns g P .. g P + P - 1,
 * ld = G P + 16 with the last 16 zeros, so a ragged last vector (16 positions at most) can be
 * read whole (its lanes past P are the next sample's or zeros; they are never stored, and
 * their products are cleared). The group (about GROUP_FLOATS, at least one sample) lives in the
 * thread's scratch, which it always fits (GROUP_FLOATS + 16 K < NB__SCRATCH_FLOATS); a task
 * without scratch (nested, see ops.h) lowers one sample into a stack buffer, which
 * nb__conv_direct_ok makes sure it fits. Setting im2col up once per group pays off. */
#define GROUP_FLOATS ((size_t)1 << 15) /* col of a group: 128 KB, well inside L2 */
static size_t group_of(const nb__conv_geom *g, const float *scratch)
{
    size_t K = g->c * (size_t)g->kh * (size_t)g->kw, P = g->oh * g->ow;
    size_t fit = scratch ? GROUP_FLOATS / (K * P) : 1;
    return fit ? fit : 1;
}

int nb__conv_direct_ok(const nb__conv_geom *g)
{
    size_t K = g->c * (size_t)g->kh * (size_t)g->kw;
    return K <= NB__DIRECT_MAX_TAPS && K * (g->oh * g->ow + 16) <= NB__DIRECT_MAX_COL;
}

/* samples [s0, s0 + n) of x into col, ld = n P + 16 */
static void lower(const nb__conv_geom *g, size_t n, const float *x, float *col)
{
    size_t K = g->c * (size_t)g->kh * (size_t)g->kw, P = g->oh * g->ow, ld = n * P + 16;
    nb__im2col_n(g, n, 0, g->c, x, col, ld);
    for (size_t t = 0; t < K; t++) memset(col + t * ld + n * P, 0, 16 * sizeof(float));
}

enum { GROUP = 4 }; /* channels whose sums for one tap run together (backward) */

/* forward and backward, per CPU tier: conv_direct_simd.h */
#define NB__SIMD_BODY "conv_direct_simd.h"
#include "simd_tiers.h"
NB__SIMD_PICK(fwd)
NB__SIMD_PICK(bwd)

typedef struct direct_job {
    const nb__conv_geom *g;
    size_t n, O, tasks;
    const float *x, *w, *b, *dy;
    float *y, *dw, *db;
} direct_job;

static void fwd_task(void *ctx, size_t t, float *scratch)
{
    const direct_job *j = ctx;
    size_t s0 = j->n * t / j->tasks, s1 = j->n * (t + 1) / j->tasks;
    fwd_pick()(j->g, s0, s1, j->O, j->x, j->w, j->b, j->y, scratch);
}

void nb__conv_direct_fwd(const nb__conv_geom *g, size_t n, size_t O, const float *x, const float *w, const float *b,
                         float *y)
{
    direct_job j = {g, n, O, nb__job_tasks(n, n * O * g->oh * g->ow), x, w, b, NULL, y, NULL, NULL};
    nb__parallel_for(j.tasks, fwd_task, &j);
}

/* Task t of T owns the groups of GROUP channels [t G / T, (t + 1) G / T) of the G = O / GROUP
 * (rounded up), NB__DIRECT_MAX_CH channels per call of the body: no sum is split between
 * tasks. Whole groups, because the body runs one chain of additions per channel and tap: a
 * task of 2 channels ran 1 chain at a time and was latency-bound (the reference CNN's first
 * layer, O = 16 in 8 tasks on 2 threads: its backward took 3.2x its forward's time). */
static void bwd_task(void *ctx, size_t t, float *scratch)
{
    const direct_job *j = ctx;
    size_t groups = (j->O + GROUP - 1) / GROUP;
    size_t a0 = groups * t / j->tasks * GROUP, a1 = groups * (t + 1) / j->tasks * GROUP;
    if (a1 > j->O) a1 = j->O;
    for (size_t o0 = a0; o0 < a1; o0 += NB__DIRECT_MAX_CH) {
        size_t o1 = a1 - o0 > NB__DIRECT_MAX_CH ? o0 + NB__DIRECT_MAX_CH : a1;
        bwd_pick()(j->g, j->n, j->O, o0, o1, j->x, j->dy, j->dw, j->db, scratch);
    }
}

void nb__conv_direct_bwd(const nb__conv_geom *g, size_t n, size_t O, const float *x, const float *dy, float *dw,
                         float *db)
{
    if (!dw && !db) return;
    direct_job j = {g, n, O, nb__job_tasks((O + GROUP - 1) / GROUP, n * O * g->oh * g->ow), x, NULL, NULL, dy, NULL, dw, db};
    nb__parallel_for(j.tasks, bwd_task, &j);
}
