/* SPDX-License-Identifier: MIT */
/*
 * activ.c - elementwise functions and their derivatives. Each derivative is written with
 * whatever forward already has: sigmoid y(1-y), tanh 1-y^2, exp y - except ELU's for x <= 0,
 * alpha e^x from x: y + alpha = alpha (e^x - 1) + alpha cancels, losing all precision as
 * e^x falls below float's resolution of alpha.
 * Kinks (ReLU, leaky ReLU, ELU at 0) take the left derivative, as PyTorch does; ReLU passes
 * NaN forward and its dy backward, as PyTorch does (activ_simd.h).
 */
#include "ops.h"
#include "simd.h"

#include <math.h>
#include <string.h>

float nb__sigmoidf(float x)
{
    /* split by sign so expf never overflows: for x < 0 use e^x / (1 + e^x) */
    if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

/* ln(1 + e^x) = max(x, 0) + ln(1 + e^-|x|): finite for any finite x */
static float softplusf(float x) { return fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x))); }

/* SiLU (swish), PyTorch's nn.SiLU: y = x s with s = sigmoid(x), taken from the sign-split
 * sigmoid so no exponential overflows (x = -1000 gives -0, x = 1000 gives 1000). */
static float siluf(float x) { return x * nb__sigmoidf(x); }

/* dy/dx = s + x s (1 - s) = s (1 + x (1 - s)), PyTorch's form: from x alone, so backward
 * reads x and dy as softplus's does, not y too. Finite for any finite x, since s is: at
 * x = -1000 it is 0 times -999, at x = 1000 it is 1. */
static float silu_gradf(float x)
{
    float s = nb__sigmoidf(x);
    return s * (1.0f + x * (1.0f - s));
}

/* ReLU, the activation of big tensors, plain and keeping its gate: activ_simd.h */
#define NB__SIMD_BODY "activ_simd.h"
#include "simd_tiers.h"
NB__SIMD_PICK(relu_fwd)
NB__SIMD_PICK(relu_bwd)
NB__SIMD_PICK(relu_fwd_gate)
NB__SIMD_PICK(relu_bwd_gate)

static void fwd_range(nb__act f, float alpha, size_t lo, size_t n, const float *x, float *y)
{
    switch (f) {
    case NB__ACT_SIGMOID: for (size_t i = lo; i < n; i++) y[i] = nb__sigmoidf(x[i]); break;
    case NB__ACT_TANH: for (size_t i = lo; i < n; i++) y[i] = tanhf(x[i]); break;
    case NB__ACT_RELU: relu_fwd_pick()(lo, n, x, y); break;
    case NB__ACT_LEAKY:
        for (size_t i = lo; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : alpha * x[i];
        break;
    case NB__ACT_ELU:
        for (size_t i = lo; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : alpha * expm1f(x[i]);
        break;
    case NB__ACT_SOFTPLUS: for (size_t i = lo; i < n; i++) y[i] = softplusf(x[i]); break;
    case NB__ACT_STEP: for (size_t i = lo; i < n; i++) y[i] = x[i] > 0.0f ? 1.0f : 0.0f; break;
    case NB__ACT_IDENTITY: for (size_t i = lo; i < n; i++) y[i] = x[i]; break;
    case NB__ACT_EXP: for (size_t i = lo; i < n; i++) y[i] = expf(x[i]); break;
    case NB__ACT_LOG: for (size_t i = lo; i < n; i++) y[i] = logf(x[i]); break;
    case NB__ACT_SQUARE: for (size_t i = lo; i < n; i++) y[i] = x[i] * x[i]; break;
    case NB__ACT_SQRT: for (size_t i = lo; i < n; i++) y[i] = sqrtf(x[i]); break;
    case NB__ACT_NEG: for (size_t i = lo; i < n; i++) y[i] = -x[i]; break;
    case NB__ACT_SCALE: for (size_t i = lo; i < n; i++) y[i] = alpha * x[i]; break;
    case NB__ACT_SILU: for (size_t i = lo; i < n; i++) y[i] = siluf(x[i]); break;
    }
}

/* dx[i] = E (assign) or dx[i] += E over [lo, n); two loops so each vectorises */
#define BWD_LOOP(E)                                                                         \
    do {                                                                                    \
        if (assign)                                                                         \
            for (size_t i = lo; i < n; i++) dx[i] = (E);                                    \
        else                                                                                \
            for (size_t i = lo; i < n; i++) dx[i] += (E);                                   \
    } while (0)

static void bwd_range(nb__act f, float alpha, int assign, size_t lo, size_t n, const float *x, const float *y,
                      const float *dy, float *dx)
{
    switch (f) {
    case NB__ACT_SIGMOID: BWD_LOOP(dy[i] * y[i] * (1.0f - y[i])); break;
    case NB__ACT_TANH: BWD_LOOP(dy[i] * (1.0f - y[i] * y[i])); break;
    case NB__ACT_RELU: relu_bwd_pick()(assign, lo, n, x, dy, dx); break; /* the gate passes dy where x > 0 */
    case NB__ACT_LEAKY: BWD_LOOP(x[i] > 0.0f ? dy[i] : alpha * dy[i]); break;
    case NB__ACT_ELU: /* from x, not y + alpha: that cancels, 4e-4 off at x = -10 and 0 from -20 */
        BWD_LOOP(x[i] > 0.0f ? dy[i] : dy[i] * (alpha * expf(x[i])));
        break;
    case NB__ACT_SOFTPLUS: BWD_LOOP(dy[i] * nb__sigmoidf(x[i])); break;
    case NB__ACT_STEP: break; /* not differentiable: no gradient flows (assign: dx stays 0) */
    case NB__ACT_IDENTITY: BWD_LOOP(dy[i]); break;
    case NB__ACT_EXP: BWD_LOOP(dy[i] * y[i]); break;
    case NB__ACT_LOG: BWD_LOOP(dy[i] / x[i]); break;
    case NB__ACT_SQUARE: BWD_LOOP(2.0f * x[i] * dy[i]); break;
    case NB__ACT_SQRT: BWD_LOOP(dy[i] * 0.5f / y[i]); break;
    case NB__ACT_NEG: BWD_LOOP(-dy[i]); break; /* dx + (-dy) is dx - dy, bit for bit */
    case NB__ACT_SCALE: BWD_LOOP(alpha * dy[i]); break;
    case NB__ACT_SILU: BWD_LOOP(dy[i] * silu_gradf(x[i])); break;
    }
}

/* ---- big tensors split over the thread pool. Elementwise: every element is computed the
 * same way whichever task owns it, so the split only changes the speed. */

typedef struct act_job {
    nb__act f;
    float alpha;
    int bwd, assign;
    size_t n, tasks;
    const float *x, *y, *dy;
    float *out;     /* y (forward) or dx (backward) */
    uint16_t *gate; /* ReLU with its gate (ops.h), else NULL */
} act_job;

static void act_task(void *ctx, size_t t, float *scratch)
{
    (void)scratch;
    const act_job *j = ctx;
    /* ranges cut at multiples of 16 floats: no two tasks share a cache line */
    size_t blocks = (j->n + 15) / 16, lo = blocks * t / j->tasks * 16, hi = blocks * (t + 1) / j->tasks * 16;
    if (hi > j->n) hi = j->n;
    if (lo >= hi) return;
    if (j->gate) { /* ranges start at multiples of 16: each task owns whole gate words */
        if (j->bwd) relu_bwd_gate_pick()(j->assign, lo, hi, j->gate, j->dy, j->out);
        else relu_fwd_gate_pick()(lo, hi, j->x, j->out, j->gate);
    } else if (j->bwd) bwd_range(j->f, j->alpha, j->assign, lo, hi, j->x, j->y, j->dy, j->out);
    else fwd_range(j->f, j->alpha, lo, hi, j->x, j->out);
}

static void run(act_job *j)
{
    j->tasks = nb__job_tasks((j->n + 15) / 16, j->n); /* parts: 16-float blocks (act_task) */
    nb__run_tasks(j->tasks, act_task, j);
}

void nb__act_fwd(nb__act f, float alpha, size_t n, const float *x, float *y)
{
    act_job j = {f, alpha, 0, 0, n, 1, x, NULL, NULL, y, NULL};
    run(&j);
}

void nb__act_bwd(nb__act f, float alpha, size_t n, const float *x, const float *y, const float *dy, float *dx)
{
    act_job j = {f, alpha, 1, 0, n, 1, x, y, dy, dx, NULL};
    run(&j);
}

void nb__act_bwd_assign(nb__act f, float alpha, size_t n, const float *x, const float *y, const float *dy, float *dx)
{
    act_job j = {f, alpha, 1, 1, n, 1, x, y, dy, dx, NULL};
    run(&j);
}

void nb__relu_fwd_gate(size_t n, const float *x, float *y, uint16_t *gate)
{
    act_job j = {NB__ACT_RELU, 0.0f, 0, 0, n, 1, x, NULL, NULL, y, gate};
    run(&j);
}

void nb__relu_bwd_gate(size_t n, const uint16_t *gate, const float *dy, float *dx, int assign)
{
    act_job j = {NB__ACT_RELU, 0.0f, 1, assign, n, 1, NULL, NULL, dy, dx, (uint16_t *)(uintptr_t)gate};
    run(&j);
}
