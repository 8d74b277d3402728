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

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
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

#ifdef NB__HAVE_X86_VARIANTS
/* One candidate v (at window offset off) against the running max m and its offset at: taken
 * when greater, or when it is NaN and m is not, so a NaN propagates as in PyTorch */
NB__TARGET_AVX512 static inline void take(__m512 v, __m512i off, __m512 *m, __m512i *at)
{
    __mmask16 t = _mm512_cmp_ps_mask(v, *m, _CMP_GT_OQ) |
                  (_mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q) & _mm512_cmp_ps_mask(*m, *m, _CMP_ORD_Q));
    *m = _mm512_mask_blend_ps(t, *m, v);
    *at = _mm512_mask_blend_epi32(t, *at, off);
}

/* The same rule, 16 windows at a time with AVX-512: even / odd columns of the two input rows
 * gathered by permutes, the running maximum and offset kept by mask blends. Masked loads read
 * exactly the 2 n columns the n windows cover, so a row's tail needs no scalar loop. Selects
 * only, no arithmetic on values: the same outputs as the SSE2 and scalar code, bit for bit. */
NB__TARGET_AVX512 static void maxpool_2x2_avx512(const float *xp, long W, long oh0, long OH, long OW, float *yp, int32_t *ap)
{
    const __m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i od = _mm512_add_epi32(ev, _mm512_set1_epi32(1));
    const __m512i one = _mm512_set1_epi32(1), down = _mm512_set1_epi32((int32_t)W), diag = _mm512_set1_epi32((int32_t)W + 1);
    for (long oh = oh0; oh < OH; oh++) { /* rows [oh0, OH) */
        const float *r0 = xp + 2 * oh * W, *r1 = r0 + W;
        for (long ow = 0; ow < OW; ow += 16) {
            long n = OW - ow < 16 ? OW - ow : 16;
            __mmask16 kn = (__mmask16)((1u << n) - 1), k0 = (__mmask16)(n >= 8 ? 0xffffu : (1u << 2 * n) - 1),
                      k1 = (__mmask16)(n > 8 ? (1u << (2 * n - 16)) - 1 : 0);
            __m512 a0 = _mm512_maskz_loadu_ps(k0, r0 + 2 * ow), a1 = _mm512_maskz_loadu_ps(k1, r0 + 2 * ow + 16);
            __m512 b0 = _mm512_maskz_loadu_ps(k0, r1 + 2 * ow), b1 = _mm512_maskz_loadu_ps(k1, r1 + 2 * ow + 16);
            __m512 m = _mm512_permutex2var_ps(a0, ev, a1);
            __m512i at = _mm512_setzero_si512();
            take(_mm512_permutex2var_ps(a0, od, a1), one, &m, &at);
            take(_mm512_permutex2var_ps(b0, ev, b1), down, &m, &at);
            take(_mm512_permutex2var_ps(b0, od, b1), diag, &m, &at);
            __m512i first = _mm512_add_epi32(_mm512_set1_epi32((int32_t)(2 * oh * W + 2 * ow)), ev);
            _mm512_mask_storeu_ps(yp + oh * OW + ow, kn, m);
            _mm512_mask_storeu_epi32(ap + oh * OW + ow, kn, _mm512_add_epi32(first, at));
        }
    }
}

/* Backward of the 2 x 2 / stride 2 window, 16 windows at a time: each window's four inputs
 * get dy where the saved arg-max points and 0 elsewhere, interleaved back into the two input
 * rows. assign: store (dx known to be zeros, see ops.h), else add. */
NB__TARGET_AVX512 static void maxpool_2x2_bwd_avx512(long W, long oh0, long OH, long OW, const int32_t *ap, const float *dyp,
                                                     float *dxp, int assign)
{
    const __m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i hi = _mm512_add_epi32(lo, _mm512_set1_epi32(8));
    const __m512i one = _mm512_set1_epi32(1), down = _mm512_set1_epi32((int32_t)W), diag = _mm512_set1_epi32((int32_t)W + 1);
    for (long oh = oh0; oh < OH; oh++) { /* rows [oh0, OH) */
        float *r0 = dxp + 2 * oh * W, *r1 = r0 + W;
        for (long ow = 0; ow < OW; ow += 16) {
            long n = OW - ow < 16 ? OW - ow : 16;
            __mmask16 kn = (__mmask16)((1u << n) - 1), k0 = (__mmask16)(n >= 8 ? 0xffffu : (1u << 2 * n) - 1),
                      k1 = (__mmask16)(n > 8 ? (1u << (2 * n - 16)) - 1 : 0);
            __m512 d = _mm512_maskz_loadu_ps(kn, dyp + oh * OW + ow);
            __m512i first = _mm512_add_epi32(_mm512_set1_epi32((int32_t)(2 * oh * W + 2 * ow)), ev);
            __m512i rel = _mm512_sub_epi32(_mm512_maskz_loadu_epi32(kn, ap + oh * OW + ow), first);
            __m512 q00 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(rel, _mm512_setzero_si512()), d);
            __m512 q01 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(rel, one), d);
            __m512 q10 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(rel, down), d);
            __m512 q11 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(rel, diag), d);
            __m512 u0 = _mm512_permutex2var_ps(q00, lo, q01), u1 = _mm512_permutex2var_ps(q00, hi, q01);
            __m512 w0 = _mm512_permutex2var_ps(q10, lo, q11), w1 = _mm512_permutex2var_ps(q10, hi, q11);
            float *p0 = r0 + 2 * ow, *p1 = r1 + 2 * ow;
            if (!assign) {
                u0 = _mm512_add_ps(_mm512_maskz_loadu_ps(k0, p0), u0), u1 = _mm512_add_ps(_mm512_maskz_loadu_ps(k1, p0 + 16), u1);
                w0 = _mm512_add_ps(_mm512_maskz_loadu_ps(k0, p1), w0), w1 = _mm512_add_ps(_mm512_maskz_loadu_ps(k1, p1 + 16), w1);
            }
            _mm512_mask_storeu_ps(p0, k0, u0), _mm512_mask_storeu_ps(p0 + 16, k1, u1);
            _mm512_mask_storeu_ps(p1, k0, w0), _mm512_mask_storeu_ps(p1 + 16, k1, w1);
        }
    }
}

/* Narrow planes (OW <= 8, e.g. 14 x 14 -> 7 x 7) waste most of a row's 16 lanes, so two
 * output rows share a vector: lanes [0, OW) are row oh, lanes [OW, 2 OW) row oh + 1 (the two
 * rows are adjacent in y and in arg). The same selects as above, lane for lane. */
NB__TARGET_AVX512 static void maxpool_2x2_pairs_avx512(const float *xp, long W, long OH, long OW, float *yp, int32_t *ap)
{
    int32_t ev_[16], od_[16], first_[16];
    for (int l = 0; l < 16; l++) { /* lane l: window (l < OW ? row 0 : row 1, column l mod OW) */
        int32_t top = l < OW ? 0 : 16, c = 2 * (l < OW ? l : l - (int32_t)OW);
        ev_[l] = top + c, od_[l] = top + c + 1, first_[l] = (l < OW ? 0 : 2 * (int32_t)W) + c;
    }
    const __m512i ev = _mm512_loadu_si512(ev_), od = _mm512_loadu_si512(od_), first0 = _mm512_loadu_si512(first_);
    const __m512i one = _mm512_set1_epi32(1), down = _mm512_set1_epi32((int32_t)W), diag = _mm512_set1_epi32((int32_t)W + 1);
    const __mmask16 kin = (__mmask16)((1u << 2 * OW) - 1), kout = kin; /* 2 OW floats in, 2 OW out */
    for (long oh = 0; oh + 2 <= OH; oh += 2) {
        const float *r0 = xp + 2 * oh * W;
        __m512 a0 = _mm512_maskz_loadu_ps(kin, r0), a1 = _mm512_maskz_loadu_ps(kin, r0 + 2 * W);
        __m512 b0 = _mm512_maskz_loadu_ps(kin, r0 + W), b1 = _mm512_maskz_loadu_ps(kin, r0 + 3 * W);
        __m512 m = _mm512_permutex2var_ps(a0, ev, a1);
        __m512i at = _mm512_setzero_si512();
        take(_mm512_permutex2var_ps(a0, od, a1), one, &m, &at);
        take(_mm512_permutex2var_ps(b0, ev, b1), down, &m, &at);
        take(_mm512_permutex2var_ps(b0, od, b1), diag, &m, &at);
        __m512i first = _mm512_add_epi32(_mm512_set1_epi32((int32_t)(2 * oh * W)), first0);
        _mm512_mask_storeu_ps(yp + oh * OW, kout, m);
        _mm512_mask_storeu_epi32(ap + oh * OW, kout, _mm512_add_epi32(first, at));
    }
    if (OH % 2) maxpool_2x2_avx512(xp, W, OH - 1, OH, OW, yp, ap); /* the last row alone */
}

NB__TARGET_AVX512 static void maxpool_2x2_bwd_pairs_avx512(long W, long OH, long OW, const int32_t *ap, const float *dyp,
                                                           float *dxp, int assign)
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
    for (long oh = 0; oh + 2 <= OH; oh += 2) {
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
    if (OH % 2) maxpool_2x2_bwd_avx512(W, OH - 1, OH, OW, ap, dyp, dxp, assign);
}
#endif

/* the same, one window at a time (CPUs without AVX-512) */
static void maxpool_2x2_bwd(long W, long OH, long OW, const int32_t *ap, const float *dyp, float *dxp, int assign)
{
    for (long oh = 0; oh < OH; oh++) {
        float *r0 = dxp + 2 * oh * W, *r1 = r0 + W;
        for (long ow = 0; ow < OW; ow++) {
            float d = dyp[oh * OW + ow];
            long rel = ap[oh * OW + ow] - (2 * oh * W + 2 * ow);
            float q00 = fsel(-(long)(rel == 0), d, 0.0f), q01 = fsel(-(long)(rel == 1), d, 0.0f);
            float q10 = fsel(-(long)(rel == W), d, 0.0f), q11 = fsel(-(long)(rel == W + 1), d, 0.0f);
            if (assign) r0[2 * ow] = q00, r0[2 * ow + 1] = q01, r1[2 * ow] = q10, r1[2 * ow + 1] = q11;
            else r0[2 * ow] += q00, r0[2 * ow + 1] += q01, r1[2 * ow] += q10, r1[2 * ow + 1] += q11;
        }
    }
}

static int is_2x2(const nb__conv_geom *g)
{
    return g->kh == 2 && g->kw == 2 && g->sh == 2 && g->sw == 2 && g->ph == 0 && g->pw == 0 && g->dh == 1 && g->dw == 1;
}

static void maxpool_fwd_planes(const nb__conv_geom *g, size_t p0, size_t p1, const float *x, float *y, int32_t *arg)
{
    /* geometry in locals: y and arg stores could alias *g's ints, forcing reloads */
    const long H = (long)g->h, W = (long)g->w, OH = (long)g->oh, OW = (long)g->ow;
    const long kh = g->kh, kw = g->kw, sh = g->sh, sw = g->sw, ph = g->ph, pw = g->pw, dh = g->dh, dw = g->dw;
    if (is_2x2(g)) {
#ifdef NB__HAVE_X86_VARIANTS
        if (nb__cpu_isa() == NB__ISA_AVX512) {
            for (size_t p = p0; p < p1; p++)
                if (OW <= 8) maxpool_2x2_pairs_avx512(x + p * (size_t)(H * W), W, OH, OW, y + p * (size_t)(OH * OW), arg + p * (size_t)(OH * OW));
                else maxpool_2x2_avx512(x + p * (size_t)(H * W), W, 0, OH, OW, y + p * (size_t)(OH * OW), arg + p * (size_t)(OH * OW));
            return;
        }
#endif
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
                               float *dx, int assign)
{
    size_t ohw = g->oh * g->ow, hw = g->h * g->w;
    if (is_2x2(g)) { /* every input element lies in at most one window: no scatter needed */
        long W = (long)g->w, OH = (long)g->oh, OW = (long)g->ow;
#ifdef NB__HAVE_X86_VARIANTS
        if (nb__cpu_isa() == NB__ISA_AVX512) {
            for (size_t p = p0; p < p1; p++)
                if (OW <= 8) maxpool_2x2_bwd_pairs_avx512(W, OH, OW, arg + p * ohw, dy + p * ohw, dx + p * hw, assign);
                else maxpool_2x2_bwd_avx512(W, 0, OH, OW, arg + p * ohw, dy + p * ohw, dx + p * hw, assign);
            return;
        }
#endif
        for (size_t p = p0; p < p1; p++) maxpool_2x2_bwd(W, OH, OW, arg + p * ohw, dy + p * ohw, dx + p * hw, assign);
        return;
    }
    /* windows may overlap: scatter-add (assign changes nothing, dx starts as zeros) */
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
    int assign; /* max backward: dx holds zeros and gets nothing else (ops.h) */
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
    else if (j->kind == 1) maxpool_bwd_planes(j->g, p0, p1, j->carg, j->dy, j->dx, j->assign);
    else avgpool_planes(j->g, p0, p1, j->x, j->y, j->dy, j->dx);
}

static void run(pool_job *j)
{
    j->tasks = nb__job_tasks(j->planes, j->planes * j->g->h * j->g->w);
    nb__run_tasks(j->tasks, pool_task, j);
}

void nb__maxpool_fwd(const nb__conv_geom *g, size_t planes, const float *x, float *y, int32_t *arg)
{
    pool_job j = {0, 0, g, planes, 0, x, NULL, y, NULL, arg, NULL};
    run(&j);
}

void nb__maxpool_bwd(const nb__conv_geom *g, size_t planes, const int32_t *arg, const float *dy, float *dx, int assign)
{
    pool_job j = {1, assign, g, planes, 0, NULL, dy, NULL, dx, NULL, arg};
    run(&j);
}

void nb__avgpool(const nb__conv_geom *g, size_t planes, const float *x, float *y, const float *dy, float *dx)
{
    pool_job j = {2, 0, g, planes, 0, x, dy, y, dx, NULL, NULL};
    run(&j);
}
