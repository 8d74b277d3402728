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
            float s = 0.0f;
            for (size_t k = 0; k < len; k++) s += x[(o * len + k) * inner + i];
            y[o * inner + i] = s;
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

void nb__softmax_fwd(int log, size_t outer, size_t len, size_t inner, const float *x, float *y)
{
    for (size_t o = 0; o < outer; o++)
        for (size_t i = 0; i < inner; i++) {
            const float *xr = x + o * len * inner + i;
            float *yr = y + o * len * inner + i;
            float m = xr[0];
            for (size_t k = 1; k < len; k++) m = fmaxf(m, xr[k * inner]);
            float s = 0.0f;
            for (size_t k = 0; k < len; k++) s += expf(xr[k * inner] - m);
            if (log) {
                float lse = logf(s);
                for (size_t k = 0; k < len; k++) yr[k * inner] = xr[k * inner] - m - lse;
            } else {
                for (size_t k = 0; k < len; k++) yr[k * inner] = expf(xr[k * inner] - m) / s;
            }
        }
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
