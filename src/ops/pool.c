/*
 * pool.c - max and average pooling over (N*C) planes of (H, W). Max pooling treats padding
 * as -infinity (it never wins) and records the arg-max (an index into the input plane) so
 * backward routes each gradient to the element that won; average pooling divides by the
 * full window, padding included (PyTorch's count_include_pad default).
 */
#include "ops.h"

#include <math.h>
#include <string.h>

/* mask ? a : b for floats, by bits: compilers turn "take ? v : m" into a branch */
static inline float select(long mask, float a, float b)
{
    uint32_t ua, ub, um = (uint32_t)mask;
    memcpy(&ua, &a, 4);
    memcpy(&ub, &b, 4);
    ua = (ua & um) | (ub & ~um);
    memcpy(&a, &ua, 4);
    return a;
}

void nb__maxpool_fwd(const nb__conv_geom *g, size_t planes, const float *x, float *y, int32_t *arg)
{
    /* geometry in locals: y and arg stores could alias *g's ints, forcing reloads */
    const long H = (long)g->h, W = (long)g->w, OH = (long)g->oh, OW = (long)g->ow;
    const long kh = g->kh, kw = g->kw, sh = g->sh, sw = g->sw, ph = g->ph, pw = g->pw, dh = g->dh, dw = g->dw;
    for (size_t p = 0; p < planes; p++) {
        const float *xp = x + p * (size_t)(H * W);
        float *yp = y + p * (size_t)(OH * OW);
        int32_t *ap = arg + p * (size_t)(OH * OW);
        for (long oh = 0; oh < OH; oh++)
            for (long ow = 0; ow < OW; ow++) {
                long h0 = oh * sh - ph, w0 = ow * sw - pw;
                if (h0 >= 0 && w0 >= 0 && h0 + (kh - 1) * dh < H && w0 + (kw - 1) * dw < W) {
                    /* the window lies inside the plane: no bounds checks */
                    const float *b = xp + h0 * W + w0;
                    float m = b[0];
                    long bi = 0;
                    for (long i = 0; i < kh; i++)
                        for (long j = 0; j < kw; j++) {
                            long at = i * dh * W + j * dw;
                            float v = b[at];
                            long take = -(long)((v > m) | ((v != v) & (m == m)));
                            m = select(take, v, m);
                            bi = (at & take) | (bi & ~take);
                        }
                    yp[oh * OW + ow] = m;
                    ap[oh * OW + ow] = (int32_t)(h0 * W + w0 + bi);
                    continue;
                }
                float m = -INFINITY;
                long best = -1;
                for (long i = 0; i < kh; i++) {
                    long h = h0 + i * dh;
                    if (h < 0 || h >= H) continue;
                    for (long j = 0; j < kw; j++) {
                        long w = w0 + j * dw;
                        if (w < 0 || w >= W) continue;
                        float v = xp[h * W + w];
                        /* first maximum wins; a NaN wins and then stays (it propagates, as in
                         * PyTorch); padding is never picked. Selects, not branches: on real
                         * data "v > m" is a coin flip the branch predictor loses. */
                        long take = -(long)((best < 0) | (v > m) | ((v != v) & (m == m)));
                        m = select(take, v, m);
                        best = ((h * W + w) & take) | (best & ~take);
                    }
                }
                yp[oh * OW + ow] = m;
                ap[oh * OW + ow] = (int32_t)best;
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
