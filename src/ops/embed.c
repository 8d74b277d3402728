/* SPDX-License-Identifier: MIT */
/*
 * embed.c - embedding lookup and its scatter-add backward on raw arrays. Ids arrive as int32
 * row numbers the caller has checked against the table, so no read or write leaves it.
 * Determinism: the forward splits output rows (each row one copy); the backward splits the
 * table's columns, so each gradient element's sum runs in one thread in the order of the ids.
 */
#include "ops.h"

#include <string.h>

typedef struct {
    size_t n, D;
    const int32_t *ids;
    int32_t pad;
    const float *src;
    float *dst;
    size_t tasks;
} embed_job;

static void fwd_task(void *ctx, size_t t, float *scratch)
{
    (void)scratch;
    const embed_job *j = ctx;
    size_t i0 = t * j->n / j->tasks, i1 = (t + 1) * j->n / j->tasks;
    for (size_t i = i0; i < i1; i++)
        memcpy(j->dst + i * j->D, j->src + (size_t)j->ids[i] * j->D, j->D * sizeof(float));
}

void nb__embed_fwd(size_t n, size_t D, const int32_t *ids, const float *table, float *out)
{
    embed_job j = {n, D, ids, -1, table, out, 1};
    j.tasks = nb__job_tasks(n, n * D);
    nb__run_tasks(j.tasks, fwd_task, &j);
}

/* columns [c0, c1) of every row: dtable[ids[i]][c] += dy[i][c], i ascending */
static void bwd_cols(const embed_job *j, size_t c0, size_t c1)
{
    for (size_t i = 0; i < j->n; i++) {
        if (j->ids[i] == j->pad) continue; /* PyTorch's padding_idx: that row never learns */
        const float *g = j->src + i * j->D;
        float *d = j->dst + (size_t)j->ids[i] * j->D;
        for (size_t c = c0; c < c1; c++) d[c] += g[c];
    }
}

static void bwd_task(void *ctx, size_t t, float *scratch)
{
    (void)scratch;
    const embed_job *j = ctx;
    bwd_cols(j, t * j->D / j->tasks, (t + 1) * j->D / j->tasks);
}

void nb__embed_bwd(size_t n, size_t D, const int32_t *ids, int32_t pad, const float *dy,
                   float *dtable)
{
    embed_job j = {n, D, ids, pad, dy, dtable, 1};
    j.tasks = nb__job_tasks(D, n * D);
    nb__run_tasks(j.tasks, bwd_task, &j);
}

void nb__embed_bwd_ref(size_t n, size_t D, const int32_t *ids, int32_t pad, const float *dy,
                       float *dtable)
{
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < D && ids[i] != pad; c++) dtable[(size_t)ids[i] * D + c] += dy[i * D + c];
}
