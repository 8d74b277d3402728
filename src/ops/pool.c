/*
 * pool.c - max and average pooling over (N*C) planes of (H, W). Max pooling treats padding
 * as -infinity (it never wins) and records the arg-max (an index into the input plane) so
 * backward routes each gradient to the element that won; average pooling divides by the
 * full window, padding included (PyTorch's count_include_pad default). Planes are split
 * over the thread pool; a task owns its planes' inputs and outputs.
 */
#include "ops.h"

#include <math.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* mask ? a : b for floats, by bits: compilers turn "take ? v : m" into a branch */
static inline float fsel(long mask, float a, float b)
{
    uint32_t ua, ub, um = (uint32_t)mask;
    memcpy(&ua, &a, 4);
    memcpy(&ub, &b, 4);
    ua = (ua & um) | (ub & ~um);
    memcpy(&a, &ua, 4);
    return a;
}

/* The common window (2 x 2, stride 2, no padding or dilation) by whole output rows, with the
 * general code's rule: of (0,0), (0,1), (1,0), (1,1) in that order, the first maximum wins,
 * and a NaN wins and stays. Every window lies inside the plane. SSE2 (x86-64's baseline) does
 * four windows at a time: gcc does not vectorise the strided loads with selects itself. */
static inline int takes(float v, float m)
{
    return (v > m) | ((v != v) & (m == m));
}

#if defined(__SSE2__)
static inline __m128 take4(__m128 v, __m128 m) /* takes() on four lanes */
{
    return _mm_or_ps(_mm_cmpgt_ps(v, m), _mm_andnot_ps(_mm_cmpord_ps(v, v), _mm_cmpord_ps(m, m)));
}

static inline __m128 sel4(__m128 mask, __m128 a, __m128 b)
{
    return _mm_or_ps(_mm_and_ps(mask, a), _mm_andnot_ps(mask, b));
}
#endif

static void maxpool_2x2(const float *xp, long W, long OH, long OW, float *yp, int32_t *ap)
{
    for (long oh = 0; oh < OH; oh++) {
        const float *r0 = xp + 2 * oh * W, *r1 = r0 + W;
        float *yr = yp + oh * OW;
        int32_t *ar = ap + oh * OW, w = (int32_t)W, base = (int32_t)(2 * oh * W);
        long ow = 0;
#if defined(__SSE2__)
        const __m128 one = _mm_castsi128_ps(_mm_set1_epi32(1)), down = _mm_castsi128_ps(_mm_set1_epi32(w)),
                     diag = _mm_castsi128_ps(_mm_set1_epi32(w + 1));
        for (; ow + 4 <= OW; ow += 4) { /* reads r0[2 ow .. 2 ow + 7] <= r0[W - 1] */
            __m128 a0 = _mm_loadu_ps(r0 + 2 * ow), a1 = _mm_loadu_ps(r0 + 2 * ow + 4);
            __m128 b0 = _mm_loadu_ps(r1 + 2 * ow), b1 = _mm_loadu_ps(r1 + 2 * ow + 4);
            __m128 m = _mm_shuffle_ps(a0, a1, _MM_SHUFFLE(2, 0, 2, 0)), v1 = _mm_shuffle_ps(a0, a1, _MM_SHUFFLE(3, 1, 3, 1));
            __m128 v2 = _mm_shuffle_ps(b0, b1, _MM_SHUFFLE(2, 0, 2, 0)), v3 = _mm_shuffle_ps(b0, b1, _MM_SHUFFLE(3, 1, 3, 1));
            __m128 at = _mm_setzero_ps(), t; /* offsets within the window, as int32 bits */
            t = take4(v1, m), m = sel4(t, v1, m), at = sel4(t, one, at);
            t = take4(v2, m), m = sel4(t, v2, m), at = sel4(t, down, at);
            t = take4(v3, m), m = sel4(t, v3, m), at = sel4(t, diag, at);
            __m128i first = _mm_add_epi32(_mm_set1_epi32(base + 2 * (int32_t)ow), _mm_setr_epi32(0, 2, 4, 6));
            _mm_storeu_ps(yr + ow, m);
            _mm_storeu_si128((__m128i *)(void *)(ar + ow), _mm_add_epi32(first, _mm_castps_si128(at)));
        }
#endif
        for (; ow < OW; ow++) {
            float m = r0[2 * ow], v1 = r0[2 * ow + 1], v2 = r1[2 * ow], v3 = r1[2 * ow + 1];
            int32_t at = 0;
            if (takes(v1, m)) m = v1, at = 1;
            if (takes(v2, m)) m = v2, at = w;
            if (takes(v3, m)) m = v3, at = w + 1;
            yr[ow] = m;
            ar[ow] = base + 2 * (int32_t)ow + at;
        }
    }
}

static void maxpool_fwd_planes(const nb__conv_geom *g, size_t p0, size_t p1, const float *x, float *y, int32_t *arg)
{
    /* geometry in locals: y and arg stores could alias *g's ints, forcing reloads */
    const long H = (long)g->h, W = (long)g->w, OH = (long)g->oh, OW = (long)g->ow;
    const long kh = g->kh, kw = g->kw, sh = g->sh, sw = g->sw, ph = g->ph, pw = g->pw, dh = g->dh, dw = g->dw;
    if (kh == 2 && kw == 2 && sh == 2 && sw == 2 && ph == 0 && pw == 0 && dh == 1 && dw == 1) {
        for (size_t p = p0; p < p1; p++)
            maxpool_2x2(x + p * (size_t)(H * W), W, OH, OW, y + p * (size_t)(OH * OW), arg + p * (size_t)(OH * OW));
        return;
    }
    for (size_t p = p0; p < p1; p++) {
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
                            m = fsel(take, v, m);
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
                        m = fsel(take, v, m);
                        best = ((h * W + w) & take) | (best & ~take);
                    }
                }
                yp[oh * OW + ow] = m;
                ap[oh * OW + ow] = (int32_t)best;
            }
    }
}

static void maxpool_bwd_planes(const nb__conv_geom *g, size_t p0, size_t p1, const int32_t *arg, const float *dy,
                               float *dx)
{
    size_t ohw = g->oh * g->ow;
    for (size_t p = p0; p < p1; p++)
        for (size_t i = 0; i < ohw; i++)
            if (arg[p * ohw + i] >= 0) dx[p * g->h * g->w + (size_t)arg[p * ohw + i]] += dy[p * ohw + i];
}

static void avgpool_planes(const nb__conv_geom *g, size_t p0, size_t p1, const float *x, float *y, const float *dy,
                           float *dx)
{
    float inv = 1.0f / (float)(g->kh * g->kw);
    for (size_t p = p0; p < p1; p++)
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

/* ---- the planes split over the thread pool: each task owns a range of planes, inputs and
 * outputs (backward: dx) alike, so no two tasks write the same element */

typedef struct pool_job {
    int kind; /* 0 max forward, 1 max backward, 2 average */
    const nb__conv_geom *g;
    size_t planes, tasks;
    const float *x, *dy;
    float *y, *dx;
    int32_t *arg;        /* forward: written */
    const int32_t *carg; /* backward: read */
} pool_job;

static void pool_task(void *ctx, size_t t, float *scratch)
{
    (void)scratch;
    const pool_job *j = ctx;
    size_t p0 = j->planes * t / j->tasks, p1 = j->planes * (t + 1) / j->tasks;
    if (j->kind == 0) maxpool_fwd_planes(j->g, p0, p1, j->x, j->y, j->arg);
    else if (j->kind == 1) maxpool_bwd_planes(j->g, p0, p1, j->carg, j->dy, j->dx);
    else avgpool_planes(j->g, p0, p1, j->x, j->y, j->dy, j->dx);
}

static void run(pool_job *j)
{
    /* below this many input floats a worker's wake-up costs more than it saves */
    size_t t = (size_t)nb__threads(), work = j->planes * j->g->h * j->g->w;
    j->tasks = t < 2 || work < ((size_t)1 << 15) ? 1 : j->planes < t ? j->planes : t;
    nb__parallel_for(j->tasks, pool_task, j);
}

void nb__maxpool_fwd(const nb__conv_geom *g, size_t planes, const float *x, float *y, int32_t *arg)
{
    pool_job j = {0, g, planes, 0, x, NULL, y, NULL, arg, NULL};
    run(&j);
}

void nb__maxpool_bwd(const nb__conv_geom *g, size_t planes, const int32_t *arg, const float *dy, float *dx)
{
    pool_job j = {1, g, planes, 0, NULL, dy, NULL, dx, NULL, arg};
    run(&j);
}

void nb__avgpool(const nb__conv_geom *g, size_t planes, const float *x, float *y, const float *dy, float *dx)
{
    pool_job j = {2, g, planes, 0, x, dy, y, dx, NULL, NULL};
    run(&j);
}
