/*
 * pool.c - max and average pooling over (N*C) planes of (H, W). Max pooling treats padding
 * as -infinity (it never wins) and records the arg-max (an index into the input plane) so
 * backward routes each gradient to the element that won; average pooling divides by the
 * full window, padding included (PyTorch's count_include_pad default).
 */
#include "ops.h"

#include <math.h>

void nb__maxpool_fwd(const nb__conv_geom *g, size_t planes, const float *x, float *y, int32_t *arg)
{
    for (size_t p = 0; p < planes; p++) {
        const float *xp = x + p * g->h * g->w;
        for (size_t oh = 0; oh < g->oh; oh++)
            for (size_t ow = 0; ow < g->ow; ow++) {
                float m = -INFINITY;
                long best = -1;
                for (int i = 0; i < g->kh; i++) {
                    long h = (long)oh * g->sh - g->ph + (long)i * g->dh;
                    if (h < 0 || h >= (long)g->h) continue;
                    for (int j = 0; j < g->kw; j++) {
                        long w = (long)ow * g->sw - g->pw + (long)j * g->dw;
                        if (w < 0 || w >= (long)g->w) continue;
                        float v = xp[(size_t)h * g->w + (size_t)w];
                        if (v > m || best < 0 || v != v) {
                            m = v;
                            best = h * (long)g->w + w;
                            if (v != v) goto found; /* NaN propagates, as in PyTorch */
                        }
                    }
                }
            found:
                y[(p * g->oh + oh) * g->ow + ow] = m;
                arg[(p * g->oh + oh) * g->ow + ow] = (int32_t)best;
            }
    }
}

void nb__maxpool_bwd(const nb__conv_geom *g, size_t planes, const int32_t *arg, const float *dy, float *dx)
{
    size_t ohw = g->oh * g->ow;
    for (size_t p = 0; p < planes; p++)
        for (size_t i = 0; i < ohw; i++)
            if (arg[p * ohw + i] >= 0) dx[p * g->h * g->w + (size_t)arg[p * ohw + i]] += dy[p * ohw + i];
}

void nb__avgpool(const nb__conv_geom *g, size_t planes, const float *x, float *y, const float *dy, float *dx)
{
    float inv = 1.0f / (float)(g->kh * g->kw);
    for (size_t p = 0; p < planes; p++)
        for (size_t oh = 0; oh < g->oh; oh++)
            for (size_t ow = 0; ow < g->ow; ow++) {
                size_t o = (p * g->oh + oh) * g->ow + ow;
                float s = 0.0f;
                for (int i = 0; i < g->kh; i++) {
                    long h = (long)oh * g->sh - g->ph + (long)i * g->dh;
                    if (h < 0 || h >= (long)g->h) continue;
                    for (int j = 0; j < g->kw; j++) {
                        long w = (long)ow * g->sw - g->pw + (long)j * g->dw;
                        if (w < 0 || w >= (long)g->w) continue;
                        size_t at = p * g->h * g->w + (size_t)h * g->w + (size_t)w;
                        if (dy) dx[at] += dy[o] * inv; /* backward */
                        else s += x[at];
                    }
                }
                if (!dy) y[o] = s * inv;
            }
}
