/* SPDX-License-Identifier: MIT */
/*
 * pool.c - max and average pooling over (N*C) planes of (H, W). Max pooling treats padding
 * as -infinity (it never wins) and records the arg-max (an index into the input plane) so
 * backward routes each gradient to the element that won; average pooling divides by the
 * full window, padding included (PyTorch's count_include_pad default). Planes are split
 * over the thread pool; a task owns its planes' inputs and outputs.
 */
#include "ops.h"
#include "simd.h"

#include <math.h>
#include <string.h>

#ifdef NB__HAVE_X86_VARIANTS
#include <immintrin.h>
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
 * and a NaN wins and stays. Every window lies inside the plane. Per CPU tier: pool_simd.h */
#define NB__SIMD_BODY "pool_simd.h"
#include "simd_tiers.h"
NB__SIMD_PICK(maxpool_2x2)
NB__SIMD_PICK(maxpool_2x2_bwd)

#ifdef NB__HAVE_X86_VARIANTS
/* pool_simd.h's take() with AVX-512 registers and masks, for the narrow planes below */
NB__TARGET_AVX512 static inline void take(__m512 v, __m512i off, __m512 *m, __m512i *at)
{
    __mmask16 t = _mm512_cmp_ps_mask(v, *m, _CMP_GT_OQ) |
                  (_mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q) & _mm512_cmp_ps_mask(*m, *m, _CMP_ORD_Q));
    *m = _mm512_mask_blend_ps(t, *m, v);
    *at = _mm512_mask_blend_epi32(t, *at, off);
}

/* An evaluation forward saves no arg-max, and then a window's maximum comes from vmaxps:
 * _mm512_max_ps(v, m) is v where v > m and m otherwise (equal, or either a NaN) - the first
 * maximum wins, +0 against -0 too, and a NaN already in m stays: take()'s value, except for
 * a NaN in v while m is a number. A vector whose windows hold a NaN is redone by take(), so
 * the result is its bits in every case; NaNs being rare, that costs a compare per pair. */
NB__TARGET_AVX512 static inline __m512 max4(__m512 e0, __m512 o0, __m512 e1, __m512 o1, __mmask16 k)
{
    __m512 m = _mm512_max_ps(e1, _mm512_max_ps(o0, e0));
    m = _mm512_max_ps(o1, m);
    if (!(_mm512_mask_cmp_ps_mask(k, e0, o0, _CMP_UNORD_Q) | _mm512_mask_cmp_ps_mask(k, e1, o1, _CMP_UNORD_Q)))
        return m;
    __m512i at = _mm512_setzero_si512(), z = at;
    m = e0;
    take(o0, z, &m, &at);
    take(e1, z, &m, &at);
    take(o1, z, &m, &at);
    return m;
}

/* a fused ReLU (nb__maxpool2d_relu) on the maxima m: the lanes <= 0, which it stops, in *stop
 * and +0 there (relu's select: a NaN passes) */
NB__TARGET_AVX512 static inline __m512 relu_stop(__m512 m, __mmask16 *stop)
{
    *stop = _mm512_cmp_ps_mask(m, _mm512_setzero_ps(), _CMP_LE_OQ);
    return _mm512_maskz_mov_ps((__mmask16)~*stop, m);
}

/* values only (arg NULL), rows [0, OH) of a plane with OW > 8: 16 windows of a row a step */
NB__TARGET_AVX512 static void rows_values(const float *xp, long W, long OH, long OW, float *yp, int relu)
{
    int32_t ev_[16], od_[16];
    for (int l = 0; l < 16; l++) ev_[l] = 2 * l, od_[l] = 2 * l + 1;
    const __m512i ev = _mm512_loadu_si512(ev_), od = _mm512_loadu_si512(od_);
    for (long oh = 0; oh < OH; oh++) {
        const float *r0 = xp + 2 * oh * W, *r1 = r0 + W;
        for (long ow = 0; ow < OW; ow += 16) {
            long n = OW - ow < 16 ? OW - ow : 16, lo = 2 * n < 16 ? 2 * n : 16; /* windows; floats in a0 */
            __mmask16 k = (__mmask16)((1u << n) - 1), ka = (__mmask16)((1u << lo) - 1), kb = (__mmask16)((1u << (2 * n - lo)) - 1);
            __m512 a0 = _mm512_maskz_loadu_ps(ka, r0 + 2 * ow), a1 = _mm512_maskz_loadu_ps(kb, r0 + 2 * ow + 16);
            __m512 b0 = _mm512_maskz_loadu_ps(ka, r1 + 2 * ow), b1 = _mm512_maskz_loadu_ps(kb, r1 + 2 * ow + 16);
            __m512 m = max4(_mm512_permutex2var_ps(a0, ev, a1), _mm512_permutex2var_ps(a0, od, a1),
                            _mm512_permutex2var_ps(b0, ev, b1), _mm512_permutex2var_ps(b0, od, b1), k);
            __mmask16 stop = 0;
            if (relu) m = relu_stop(m, &stop);
            _mm512_mask_storeu_ps(yp + oh * OW + ow, k, m);
        }
    }
}

/* Narrow planes (OW <= 8, e.g. 14 x 14 -> 7 x 7) waste most of a row's 16 lanes, so two
 * output rows share a vector: lanes [0, OW) are row oh, lanes [OW, 2 OW) row oh + 1 (the two
 * rows are adjacent in y and in arg). The same selects as pool_simd.h, lane for lane. */
NB__TARGET_AVX512 static void pairs_fwd(const float *xp, long W, long oh0, long OH, long OW, float *yp, int32_t *ap,
                                        int relu)
{
    int32_t ev_[16], od_[16], first_[16];
    for (int l = 0; l < 16; l++) { /* lane l: window (l < OW ? row 0 : row 1, column l mod OW) */
        int32_t top = l < OW ? 0 : 16, c = 2 * (l < OW ? l : l - (int32_t)OW);
        ev_[l] = top + c, od_[l] = top + c + 1, first_[l] = (l < OW ? 0 : 2 * (int32_t)W) + c;
    }
    const __m512i ev = _mm512_loadu_si512(ev_), od = _mm512_loadu_si512(od_), first0 = _mm512_loadu_si512(first_);
    const __m512i one = _mm512_set1_epi32(1), down = _mm512_set1_epi32((int32_t)W), diag = _mm512_set1_epi32((int32_t)W + 1);
    const __mmask16 kin = (__mmask16)((1u << 2 * OW) - 1), kout = kin; /* 2 OW floats in, 2 OW out */
    for (long oh = oh0; oh + 2 <= OH; oh += 2) { /* rows [oh0, OH) */
        const float *r0 = xp + 2 * oh * W;
        __m512 a0 = _mm512_maskz_loadu_ps(kin, r0), a1 = _mm512_maskz_loadu_ps(kin, r0 + 2 * W);
        __m512 b0 = _mm512_maskz_loadu_ps(kin, r0 + W), b1 = _mm512_maskz_loadu_ps(kin, r0 + 3 * W);
        __mmask16 stop = 0;
        if (!ap) {
            __m512 m = max4(_mm512_permutex2var_ps(a0, ev, a1), _mm512_permutex2var_ps(a0, od, a1),
                            _mm512_permutex2var_ps(b0, ev, b1), _mm512_permutex2var_ps(b0, od, b1), kout);
            if (relu) m = relu_stop(m, &stop);
            _mm512_mask_storeu_ps(yp + oh * OW, kout, m);
            continue;
        }
        __m512 m = _mm512_permutex2var_ps(a0, ev, a1);
        __m512i at = _mm512_setzero_si512();
        take(_mm512_permutex2var_ps(a0, od, a1), one, &m, &at);
        take(_mm512_permutex2var_ps(b0, ev, b1), down, &m, &at);
        take(_mm512_permutex2var_ps(b0, od, b1), diag, &m, &at);
        if (relu) m = relu_stop(m, &stop);
        _mm512_mask_storeu_ps(yp + oh * OW, kout, m);
        __m512i first = _mm512_add_epi32(_mm512_set1_epi32((int32_t)(2 * oh * W)), first0);
        _mm512_mask_storeu_epi32(ap + oh * OW, kout, _mm512_mask_mov_epi32(_mm512_add_epi32(first, at), stop, _mm512_set1_epi32(-1)));
    }
    if ((OH - oh0) % 2 && !ap) rows_values(xp + 2 * (OH - 1) * W, W, 1, OW, yp + (OH - 1) * OW, relu); /* the last row alone */
    else if ((OH - oh0) % 2) maxpool_2x2_avx512(xp, W, OH - 1, OH, OW, yp, ap, relu);
}

NB__TARGET_AVX512 static void pairs_bwd(long W, long oh0, long OH, long OW, const int32_t *ap, const float *dyp, float *dxp,
                                        int assign)
{
    int32_t first_[16], lo_[16], hi_[16];
    for (int l = 0; l < 16; l++) {
        int32_t c = 2 * (l < OW ? l : l - (int32_t)OW);
        first_[l] = (l < OW ? 0 : 2 * (int32_t)W) + c;
        lo_[l] = (l % 2 ? 16 : 0) + l / 2;                 /* input column l of the top row pair */
        hi_[l] = (l % 2 ? 16 : 0) + (int32_t)OW + l / 2;   /* ... of the next pair, two rows down */
    }
    const __m512i first0 = _mm512_loadu_si512(first_), lo = _mm512_loadu_si512(lo_), hi = _mm512_loadu_si512(hi_);
    const __m512i one = _mm512_set1_epi32(1), down = _mm512_set1_epi32((int32_t)W), diag = _mm512_set1_epi32((int32_t)W + 1);
    const __mmask16 k = (__mmask16)((1u << 2 * OW) - 1);
    for (long oh = oh0; oh + 2 <= OH; oh += 2) { /* rows [oh0, OH) */
        float *r0 = dxp + 2 * oh * W;
        __m512 d = _mm512_maskz_loadu_ps(k, dyp + oh * OW);
        __m512i first = _mm512_add_epi32(_mm512_set1_epi32((int32_t)(2 * oh * W)), first0);
        __m512i rel = _mm512_sub_epi32(_mm512_maskz_loadu_epi32(k, ap + oh * OW), first);
        __m512 q00 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(rel, _mm512_setzero_si512()), d);
        __m512 q01 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(rel, one), d);
        __m512 q10 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(rel, down), d);
        __m512 q11 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(rel, diag), d);
        __m512 u[4] = {_mm512_permutex2var_ps(q00, lo, q01), _mm512_permutex2var_ps(q10, lo, q11),
                       _mm512_permutex2var_ps(q00, hi, q01), _mm512_permutex2var_ps(q10, hi, q11)};
        for (int r = 0; r < 4; r++) { /* input rows 2 oh .. 2 oh + 3 */
            float *p = r0 + r * W;
            if (!assign) u[r] = _mm512_add_ps(_mm512_maskz_loadu_ps(k, p), u[r]);
            _mm512_mask_storeu_ps(p, k, u[r]);
        }
    }
    if ((OH - oh0) % 2) maxpool_2x2_bwd_avx512(W, OH - 1, OH, OW, ap, dyp, dxp, assign);
}
#endif

static int is_2x2(const nb__conv_geom *g)
{
    return g->kh == 2 && g->kw == 2 && g->sh == 2 && g->sw == 2 && g->ph == 0 && g->pw == 0 && g->dh == 1 && g->dw == 1;
}

/* ask for plane `ahead` of n floats at base (read, or write) before its turn: the planes a
 * pooling reads were written a pass earlier (a convolution's output, a step's gradient) and
 * have left the L2; the hardware prefetcher starts too late on a 14 x 14 plane (12 lines) */
static void prefetch_plane(const void *base, size_t n, int write)
{
    const char *p = base;
    for (size_t b = 0; b < n * sizeof(float); b += 64) {
        if (write) __builtin_prefetch(p + b, 1, 3);
        else __builtin_prefetch(p + b, 0, 3);
    }
}
#define AHEAD 2 /* planes */

/* (relu: a 2x2 window's fused ReLU, nb__maxpool2d_relu, applied by the kernels to the maxima) */
static void maxpool_fwd_planes(const nb__conv_geom *g, size_t p0, size_t p1, const float *x, float *y, int32_t *arg,
                               int relu)
{
    /* geometry in locals: y and arg stores could alias *g's ints, forcing reloads */
    const long H = (long)g->h, W = (long)g->w, OH = (long)g->oh, OW = (long)g->ow;
    const long kh = g->kh, kw = g->kw, sh = g->sh, sw = g->sw, ph = g->ph, pw = g->pw, dh = g->dh, dw = g->dw;
    if (is_2x2(g)) {
        maxpool_2x2_fn k = maxpool_2x2_pick();
#ifdef NB__HAVE_X86_VARIANTS
        if (k == maxpool_2x2_avx512 && OW <= 8) { /* a direct call: inlined */
            for (size_t p = p0; p < p1; p++) {
                if (p + AHEAD < p1) prefetch_plane(x + (p + AHEAD) * (size_t)(H * W), (size_t)(H * W), 0);
                pairs_fwd(x + p * (size_t)(H * W), W, 0, OH, OW, y + p * (size_t)(OH * OW), arg ? arg + p * (size_t)(OH * OW) : NULL,
                          relu);
            }
            return;
        }
        if (k == maxpool_2x2_avx512 && !arg) {
            for (size_t p = p0; p < p1; p++) {
                if (p + AHEAD < p1) prefetch_plane(x + (p + AHEAD) * (size_t)(H * W), (size_t)(H * W), 0);
                rows_values(x + p * (size_t)(H * W), W, OH, OW, y + p * (size_t)(OH * OW), relu);
            }
            return;
        }
#endif
        for (size_t p = p0; p < p1; p++) {
            if (p + AHEAD < p1) prefetch_plane(x + (p + AHEAD) * (size_t)(H * W), (size_t)(H * W), 0);
            k(x + p * (size_t)(H * W), W, 0, OH, OW, y + p * (size_t)(OH * OW), arg ? arg + p * (size_t)(OH * OW) : NULL, relu);
        }
        return;
    }
    for (size_t p = p0; p < p1; p++) {
        const float *xp = x + p * (size_t)(H * W);
        float *yp = y + p * (size_t)(OH * OW);
        int32_t *ap = arg ? arg + p * (size_t)(OH * OW) : NULL;
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
                    if (ap) ap[oh * OW + ow] = (int32_t)(h0 * W + w0 + bi);
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
                if (ap) ap[oh * OW + ow] = (int32_t)best;
            }
    }
}

/* with assign: +0 into the elements of planes [p0, p1) of dx that no 2x2 window covers (an
 * odd height's last row, an odd width's last column), which the kernels do not store */
static void zero_uncovered_2x2(const nb__conv_geom *g, size_t p0, size_t p1, float *dx)
{
    size_t H = g->h, W = g->w, covered_h = 2 * g->oh, covered_w = 2 * g->ow;
    for (size_t p = p0; p < p1; p++) {
        float *plane = dx + p * H * W;
        if (covered_w < W)
            for (size_t h = 0; h < covered_h; h++)
                for (size_t w = covered_w; w < W; w++) plane[h * W + w] = 0.0f;
        if (covered_h < H) memset(plane + covered_h * W, 0, (H - covered_h) * W * sizeof(float));
    }
}

static void maxpool_bwd_planes(const nb__conv_geom *g, size_t p0, size_t p1, const int32_t *arg, const float *dy,
                               float *dx, int assign)
{
    size_t ohw = g->oh * g->ow, hw = g->h * g->w;
    if (is_2x2(g)) { /* every input element lies in at most one window: no scatter needed */
        long W = (long)g->w, OH = (long)g->oh, OW = (long)g->ow;
        maxpool_2x2_bwd_fn k = maxpool_2x2_bwd_pick();
        if (assign) zero_uncovered_2x2(g, p0, p1, dx);
#ifdef NB__HAVE_X86_VARIANTS
        if (k == maxpool_2x2_bwd_avx512 && OW <= 8) {
            for (size_t p = p0; p < p1; p++) {
                if (p + AHEAD < p1) prefetch_plane(dx + (p + AHEAD) * hw, hw, 1);
                pairs_bwd(W, 0, OH, OW, arg + p * ohw, dy + p * ohw, dx + p * hw, assign);
            }
            return;
        }
#endif
        for (size_t p = p0; p < p1; p++) {
            if (p + AHEAD < p1) prefetch_plane(dx + (p + AHEAD) * hw, hw, 1);
            k(W, 0, OH, OW, arg + p * ohw, dy + p * ohw, dx + p * hw, assign);
        }
        return;
    }
    /* windows may overlap: scatter-add, into zeros when assigning */
    if (assign) memset(dx + p0 * hw, 0, (p1 - p0) * hw * sizeof(float));
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
    int assign; /* max backward: nothing else adds to dx, so store all of it (ops.h) */
    const nb__conv_geom *g;
    size_t planes, tasks;
    const float *x, *dy;
    float *y, *dx;
    int32_t *arg;        /* forward: written */
    const int32_t *carg; /* backward: read */
    int relu;            /* max forward: the fused ReLU (nb__maxpool2d_relu) */
} pool_job;

static void pool_task(void *ctx, size_t t, float *scratch)
{
    (void)scratch;
    const pool_job *j = ctx;
    size_t p0 = j->planes * t / j->tasks, p1 = j->planes * (t + 1) / j->tasks;
    if (j->kind == 0) maxpool_fwd_planes(j->g, p0, p1, j->x, j->y, j->arg, j->relu);
    else if (j->kind == 1) maxpool_bwd_planes(j->g, p0, p1, j->carg, j->dy, j->dx, j->assign);
    else avgpool_planes(j->g, p0, p1, j->x, j->y, j->dy, j->dx);
}

static void run(pool_job *j)
{
    j->tasks = nb__job_tasks(j->planes, j->planes * j->g->h * j->g->w);
    nb__run_tasks(j->tasks, pool_task, j);
}

void nb__maxpool_fwd(const nb__conv_geom *g, size_t planes, const float *x, float *y, int32_t *arg, int relu)
{
    pool_job j = {0, 0, g, planes, 0, x, NULL, y, NULL, arg, NULL, relu};
    run(&j);
}

void nb__maxpool_bwd(const nb__conv_geom *g, size_t planes, const int32_t *arg, const float *dy, float *dx, int assign)
{
    pool_job j = {1, assign, g, planes, 0, NULL, dy, NULL, dx, NULL, arg, 0};
    run(&j);
}

void nb__avgpool(const nb__conv_geom *g, size_t planes, const float *x, float *y, const float *dy, float *dx)
{
    pool_job j = {2, 0, g, planes, 0, x, dy, y, dx, NULL, NULL, 0};
    run(&j);
}
