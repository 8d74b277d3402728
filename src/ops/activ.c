/*
 * activ.c - elementwise functions and their derivatives. Each derivative is written with
 * whatever forward already has: sigmoid y(1-y), tanh 1-y^2, exp y, ELU y+alpha for x<=0.
 * Kinks (ReLU, leaky ReLU, ELU at 0) take the left derivative, as PyTorch does.
 */
#include "ops.h"
#include "simd.h"

#include <math.h>
#include <string.h>
#ifdef NB__HAVE_X86_VARIANTS
#include <immintrin.h>
#endif

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

/* ReLU, the activation of big tensors, 16 lanes at a time by masks: x > 0 is false for
 * NaN and -0, which give +0 as the scalar rule does */
NB__INLINE void relu_fwd_body(size_t lo, size_t n, const float *x, float *y)
{
    size_t i = lo;
    for (nb__v16 v; i + 16 <= n; i += 16) {
        nb__v16_load(&v, x + i);
        v = (nb__v16)((nb__v16i)v & (v > 0.0f));
        nb__v16_store(y + i, &v);
    }
    for (; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}
NB__SIMD_VARIANTS(relu_fwd, (size_t lo, size_t n, const float *x, float *y), relu_fwd_body(lo, n, x, y))

/* dx (+)= x > 0 ? dy : 0 */
NB__INLINE void relu_bwd_body(int assign, size_t lo, size_t n, const float *x, const float *dy, float *dx)
{
    size_t i = lo;
    for (nb__v16 v, d, o; i + 16 <= n; i += 16) {
        nb__v16_load(&v, x + i);
        nb__v16_load(&d, dy + i);
        d = (nb__v16)((nb__v16i)d & (v > 0.0f));
        if (!assign) {
            nb__v16_load(&o, dx + i);
            d = o + d;
        }
        nb__v16_store(dx + i, &d);
    }
    for (; i < n; i++) {
        float d = dy[i], g = x[i] > 0.0f ? d : 0.0f;
        dx[i] = assign ? g : dx[i] + g;
    }
}
NB__SIMD_VARIANTS(relu_bwd, (int assign, size_t lo, size_t n, const float *x, const float *dy, float *dx),
                  relu_bwd_body(assign, lo, n, x, dy, dx))

/* ReLU keeping its gate (ops.h): bit l of bits[b] is x[16 b + l] > 0, so backward reads 2
 * bytes per 16 floats instead of x. The gate selects by bits, so every variant gives the
 * same floats as the rule above. */
static const int32_t lane_bit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768};

NB__INLINE void relu_fwd_gate_body(size_t lo, size_t n, const float *x, float *y, uint16_t *bits)
{
    size_t i = lo;
    nb__v16i lb;
    memcpy(&lb, lane_bit, sizeof lb);
    for (; i + 16 <= n; i += 16) {
        nb__v16 v = NB__V16C(x + i);
        nb__v16i m = v > 0.0f, b = m & lb;
        NB__V16(y + i) = NB__V16_AND(v, m);
        int32_t w = 0;
        for (int l = 0; l < 16; l++) w |= b[l];
        bits[i / 16] = (uint16_t)w;
    }
    if (i < n) {
        int32_t w = 0;
        for (size_t l = 0; i + l < n; l++) {
            y[i + l] = x[i + l] > 0.0f ? x[i + l] : 0.0f;
            w |= x[i + l] > 0.0f ? lane_bit[l] : 0;
        }
        bits[i / 16] = (uint16_t)w;
    }
}

/* dx (+)= gate ? dy : 0 */
NB__INLINE void relu_bwd_gate_body(int assign, size_t lo, size_t n, const uint16_t *bits, const float *dy, float *dx)
{
    size_t i = lo;
    nb__v16i lb;
    memcpy(&lb, lane_bit, sizeof lb);
    for (; i + 16 <= n; i += 16) {
        nb__v16i m = (lb & (int32_t)bits[i / 16]) != 0;
        nb__v16 d = NB__V16_AND(NB__V16C(dy + i), m);
        if (!assign) d = NB__V16C(dx + i) + d;
        NB__V16(dx + i) = d;
    }
    for (; i < n; i++) {
        float d = dy[i], g = bits[i / 16] >> (i % 16) & 1 ? d : 0.0f;
        dx[i] = assign ? g : dx[i] + g;
    }
}

#ifdef NB__HAVE_X86_VARIANTS
/* AVX-512 compares straight into mask registers, the gate's own format (used instead of the
 * generic body's AVX-512 variant below) */
NB__TARGET_AVX512 static void relu_fwd_gate_k512(size_t lo, size_t n, const float *x, float *y, uint16_t *bits)
{
    size_t i = lo;
    for (; i + 64 <= n; i += 64) { /* four words at a time: one 8-byte store, not four 2-byte ones */
        uint64_t w = 0;
        for (int q = 0; q < 4; q++) {
            __m512 v = _mm512_loadu_ps(x + i + 16 * (size_t)q);
            __mmask16 k = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_GT_OQ);
            _mm512_storeu_ps(y + i + 16 * (size_t)q, _mm512_maskz_mov_ps(k, v));
            w |= (uint64_t)k << (16 * q);
        }
        memcpy(bits + i / 16, &w, sizeof w); /* x86 is little-endian: word q is bits 16 q .. */
    }
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        __mmask16 k = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_GT_OQ);
        _mm512_storeu_ps(y + i, _mm512_maskz_mov_ps(k, v));
        bits[i / 16] = (uint16_t)k;
    }
    if (i < n) relu_fwd_gate_body(i, n, x, y, bits);
}

NB__TARGET_AVX512 static void relu_bwd_gate_k512(int assign, size_t lo, size_t n, const uint16_t *bits, const float *dy, float *dx)
{
    size_t i = lo;
    for (; i + 16 <= n; i += 16) {
        __m512 d = _mm512_maskz_loadu_ps((__mmask16)bits[i / 16], dy + i);
        if (!assign) d = _mm512_add_ps(_mm512_loadu_ps(dx + i), d);
        _mm512_storeu_ps(dx + i, d);
    }
    if (i < n) relu_bwd_gate_body(assign, i, n, bits, dy, dx);
}
#endif
NB__SIMD_VARIANTS(relu_fwd_gate, (size_t lo, size_t n, const float *x, float *y, uint16_t *bits), relu_fwd_gate_body(lo, n, x, y, bits))
NB__SIMD_VARIANTS(relu_bwd_gate, (int assign, size_t lo, size_t n, const uint16_t *bits, const float *dy, float *dx),
                  relu_bwd_gate_body(assign, lo, n, bits, dy, dx))

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
    case NB__ACT_ELU: BWD_LOOP(x[i] > 0.0f ? dy[i] : dy[i] * (y[i] + alpha)); break;
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
#ifdef NB__HAVE_X86_VARIANTS
        if (nb__cpu_isa() == NB__ISA_AVX512) {
            if (j->bwd) relu_bwd_gate_k512(j->assign, lo, hi, j->gate, j->dy, j->out);
            else relu_fwd_gate_k512(lo, hi, j->x, j->out, j->gate);
            return;
        }
#endif
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
