/*
 * activ.c - elementwise functions and their derivatives. Each derivative is written with
 * whatever forward already has: sigmoid y(1-y), tanh 1-y^2, exp y, ELU y+alpha for x<=0.
 * Kinks (ReLU, leaky ReLU, ELU at 0) take the left derivative, as PyTorch does.
 */
#include "ops.h"

#include <math.h>

float nb__sigmoidf(float x)
{
    /* split by sign so expf never overflows: for x < 0 use e^x / (1 + e^x) */
    if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

/* ln(1 + e^x) = max(x, 0) + ln(1 + e^-|x|): finite for any finite x */
static float softplusf(float x) { return fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x))); }

void nb__act_fwd(nb__act f, float alpha, size_t n, const float *x, float *y)
{
    switch (f) {
    case NB__ACT_SIGMOID: for (size_t i = 0; i < n; i++) y[i] = nb__sigmoidf(x[i]); break;
    case NB__ACT_TANH: for (size_t i = 0; i < n; i++) y[i] = tanhf(x[i]); break;
    case NB__ACT_RELU: for (size_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f; break;
    case NB__ACT_LEAKY:
        for (size_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : alpha * x[i];
        break;
    case NB__ACT_ELU:
        for (size_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : alpha * expm1f(x[i]);
        break;
    case NB__ACT_SOFTPLUS: for (size_t i = 0; i < n; i++) y[i] = softplusf(x[i]); break;
    case NB__ACT_STEP: for (size_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? 1.0f : 0.0f; break;
    case NB__ACT_IDENTITY: for (size_t i = 0; i < n; i++) y[i] = x[i]; break;
    case NB__ACT_EXP: for (size_t i = 0; i < n; i++) y[i] = expf(x[i]); break;
    case NB__ACT_LOG: for (size_t i = 0; i < n; i++) y[i] = logf(x[i]); break;
    case NB__ACT_SQUARE: for (size_t i = 0; i < n; i++) y[i] = x[i] * x[i]; break;
    case NB__ACT_SQRT: for (size_t i = 0; i < n; i++) y[i] = sqrtf(x[i]); break;
    case NB__ACT_NEG: for (size_t i = 0; i < n; i++) y[i] = -x[i]; break;
    case NB__ACT_SCALE: for (size_t i = 0; i < n; i++) y[i] = alpha * x[i]; break;
    }
}

void nb__act_bwd(nb__act f, float alpha, size_t n, const float *x, const float *y,
                 const float *dy, float *dx)
{
    switch (f) {
    case NB__ACT_SIGMOID:
        for (size_t i = 0; i < n; i++) dx[i] += dy[i] * y[i] * (1.0f - y[i]);
        break;
    case NB__ACT_TANH:
        for (size_t i = 0; i < n; i++) dx[i] += dy[i] * (1.0f - y[i] * y[i]);
        break;
    case NB__ACT_RELU: /* the ReLU gate passes the gradient where the input was positive */
        for (size_t i = 0; i < n; i++) dx[i] += x[i] > 0.0f ? dy[i] : 0.0f;
        break;
    case NB__ACT_LEAKY:
        for (size_t i = 0; i < n; i++) dx[i] += x[i] > 0.0f ? dy[i] : alpha * dy[i];
        break;
    case NB__ACT_ELU:
        for (size_t i = 0; i < n; i++) dx[i] += x[i] > 0.0f ? dy[i] : dy[i] * (y[i] + alpha);
        break;
    case NB__ACT_SOFTPLUS:
        for (size_t i = 0; i < n; i++) dx[i] += dy[i] * nb__sigmoidf(x[i]);
        break;
    case NB__ACT_STEP: break; /* not differentiable: no gradient flows */
    case NB__ACT_IDENTITY: for (size_t i = 0; i < n; i++) dx[i] += dy[i]; break;
    case NB__ACT_EXP: for (size_t i = 0; i < n; i++) dx[i] += dy[i] * y[i]; break;
    case NB__ACT_LOG: for (size_t i = 0; i < n; i++) dx[i] += dy[i] / x[i]; break;
    case NB__ACT_SQUARE: for (size_t i = 0; i < n; i++) dx[i] += 2.0f * x[i] * dy[i]; break;
    case NB__ACT_SQRT: for (size_t i = 0; i < n; i++) dx[i] += dy[i] * 0.5f / y[i]; break;
    case NB__ACT_NEG: for (size_t i = 0; i < n; i++) dx[i] -= dy[i]; break;
    case NB__ACT_SCALE: for (size_t i = 0; i < n; i++) dx[i] += alpha * dy[i]; break;
    }
}
