/* SPDX-License-Identifier: MIT */
/*
 * reduce.c - reductions and softmax along one axis of a tensor seen as (outer, len, inner):
 * element (o, k, i) sits at (o * len + k) * inner + i. Softmax subtracts the maximum along
 * the axis first, so exp never overflows and the largest term is exactly 1.
 */
#include "ops.h"

#include <math.h>

void nb__sum_axis(size_t outer, size_t len, size_t inner, const float *x, float *y)
{
    for (size_t o = 0; o < outer; o++)
        for (size_t i = 0; i < inner; i++) {
            const float *xr = x + o * len * inner + i;
            nb__cascade c; /* blocked, see ops.h: long axes stay accurate */
            nb__cascade_init(&c);
            for (size_t k0 = 0; k0 < len; k0 += NB__SUM_BLOCK) {
                size_t k1 = len - k0 < NB__SUM_BLOCK ? len : k0 + NB__SUM_BLOCK;
                float s = 0.0f;
                for (size_t k = k0; k < k1; k++) s += xr[k * inner];
                nb__cascade_push(&c, s);
            }
            y[o * inner + i] = nb__cascade_total(&c);
        }
}

void nb__max_axis(size_t outer, size_t len, size_t inner, const float *x, float *y,
                  int32_t *arg)
{
    for (size_t o = 0; o < outer; o++)
        for (size_t i = 0; i < inner; i++) {
            size_t best = 0;
            float m = x[o * len * inner + i];
            for (size_t k = 1; k < len; k++) {
                float v = x[(o * len + k) * inner + i];
                if (v > m || (v != v && m == m)) { /* first arg-max; a NaN wins so it shows */
                    m = v;
                    best = k;
                }
            }
            y[o * inner + i] = m;
            arg[o * inner + i] = (int32_t)best;
        }
}

/* rows o0 .. o1 - 1 of the softmax: each exp computed once, kept in y and divided by the
 * sum afterwards (the same float as computing it again) */
static void softmax_rows(int log, size_t o0, size_t o1, size_t len, size_t inner, const float *x, float *y)
{
    for (size_t o = o0; o < o1; o++)
        for (size_t i = 0; i < inner; i++) {
            const float *xr = x + o * len * inner + i;
            float *yr = y + o * len * inner + i;
            float m = xr[0];
            for (size_t k = 1; k < len; k++) m = fmaxf(m, xr[k * inner]);
            float s = 0.0f;
            if (log) {
                for (size_t k = 0; k < len; k++) s += expf(xr[k * inner] - m);
                float lse = logf(s);
                for (size_t k = 0; k < len; k++) yr[k * inner] = xr[k * inner] - m - lse;
            } else {
                for (size_t k = 0; k < len; k++) {
                    float e = expf(xr[k * inner] - m);
                    yr[k * inner] = e;
                    s += e;
                }
                for (size_t k = 0; k < len; k++) yr[k * inner] = yr[k * inner] / s;
            }
        }
}

typedef struct softmax_job {
    int log;
    size_t outer, len, inner, tasks;
    const float *x;
    float *y;
} softmax_job;

static void softmax_task(void *ctx, size_t t, float *scratch)
{
    (void)scratch;
    const softmax_job *j = ctx;
    softmax_rows(j->log, j->outer * t / j->tasks, j->outer * (t + 1) / j->tasks, j->len, j->inner, j->x, j->y);
}

void nb__softmax_fwd(int log, size_t outer, size_t len, size_t inner, const float *x, float *y)
{
    /* rows are independent; an exp costs several floats' worth of a simple pass, hence 8x */
    softmax_job j = {log, outer, len, inner, nb__job_tasks(outer, 8 * outer * len * inner), x, y};
    nb__run_tasks(j.tasks, softmax_task, &j);
}

void nb__softmax_bwd(int log, size_t outer, size_t len, size_t inner, const float *y,
                     const float *dy, float *dx)
{
    for (size_t o = 0; o < outer; o++)
        for (size_t i = 0; i < inner; i++) {
            size_t base = o * len * inner + i;
            float s = 0.0f;
            if (log) { /* y = x - lse: dx = dy - softmax * sum(dy) */
                for (size_t k = 0; k < len; k++) s += dy[base + k * inner];
                for (size_t k = 0; k < len; k++)
                    dx[base + k * inner] += dy[base + k * inner] - expf(y[base + k * inner]) * s;
            } else { /* dx = y (dy - sum(dy y)) */
                for (size_t k = 0; k < len; k++) s += dy[base + k * inner] * y[base + k * inner];
                for (size_t k = 0; k < len; k++)
                    dx[base + k * inner] += y[base + k * inner] * (dy[base + k * inner] - s);
            }
        }
}
