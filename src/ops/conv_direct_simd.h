/* SPDX-License-Identifier: MIT */
/*
 * conv_direct_simd.h - conv_direct.c's kernels, written once over simd.h's nb__vf and
 * compiled per CPU tier by simd_tiers.h. Forward: NB__VL positions of nb channels a step,
 * each output its own chain (bias, then + col_t w_t tap by tap). Backward: the sums keep 16
 * lanes whatever NB__VL (R = 16 / NB__VL vectors each), lane l of 16 adding the positions
 * p = 16 q + l in order, so every tier gives the same bits (conv_direct.c).
 */

/* ---- forward: y (n, O, OH, OW) = w (O, C, kh, kw) * x (n, C, H, W) + b */

/* nb output channels at positions [at, at + NB__VL) of a sample: acc = b, acc += col_t w_t
 * per tap; wt holds the block's weights tap-major (wt[t * 16 + k]), so one pointer reaches
 * them all */
NB__TIER_INLINE void NB__T(fwd_block)(const float *col, size_t ld, size_t K, const float *wt, const float *bias, int nb,
                                      size_t at, float *y0, size_t P)
{
    nb__vf acc[16];
    for (int k = 0; k < nb; k++)
        for (int l = 0; l < NB__VL; l++) acc[k][l] = bias[k];
    for (size_t t = 0; t < K; t++, wt += 16) {
        nb__vf xv = NB__VFC(col + t * ld + at);
        for (int k = 0; k < nb; k++) acc[k] += xv * wt[k];
    }
    float *dst = y0 + at; /* channel k's plane is P floats after channel k - 1's */
    if (at + NB__VL <= P)
        for (int k = 0; k < nb; k++, dst += P) NB__VF(dst) = acc[k];
    else
        for (int k = 0; k < nb; k++, dst += P) NB__VF_STORE_PART(dst, acc[k], P - at); /* a plane's ragged end */
}

/* OB channels at a time: as many accumulators as the registers hold (16 on AVX-512, 8 with
 * the 16 registers of AVX2 and SSE2; the blocking does not change any result) */
NB__TIER_FN void NB__T(fwd)(const nb__conv_geom *g, size_t s0, size_t s1, size_t O, const float *x, const float *w,
                            const float *b, float *y, float *scratch)
{
    enum { OB = NB__VL == 16 ? 16 : 8 };
    _Alignas(64) float stack_col[NB__DIRECT_MAX_COL];
    float *col = scratch ? scratch : stack_col, wt[NB__DIRECT_MAX_TAPS * 16], bias[16];
    size_t K = g->c * (size_t)g->kh * (size_t)g->kw, P = g->oh * g->ow, CHW = g->c * g->h * g->w, G = group_of(g, scratch);
    for (size_t a = s0; a < s1; a += G) {
        size_t n = s1 - a < G ? s1 - a : G, ld = n * P + 16;
        lower(g, n, x + a * CHW, col);
        for (size_t o0 = 0; o0 < O; o0 += (size_t)OB) {
            int nb = O - o0 < (size_t)OB ? (int)(O - o0) : OB;
            for (int k = 0; k < nb; k++) {
                bias[k] = b ? b[o0 + (size_t)k] : 0.0f;
                for (size_t t = 0; t < K; t++) wt[t * 16 + (size_t)k] = w[(o0 + (size_t)k) * K + t];
            }
            for (size_t s = 0; s < n; s++) {
                float *y0 = y + ((a + s) * O + o0) * P;
                for (size_t at = 0; at < P; at += NB__VL) {
                    if (nb == OB) NB__T(fwd_block)(col + s * P, ld, K, wt, bias, OB, at, y0, P); /* constant: unrolled */
                    else NB__T(fwd_block)(col + s * P, ld, K, wt, bias, nb, at, y0, P);
                }
            }
        }
    }
}

/* ---- backward: dw (O, C, kh, kw) += sum over samples and outputs of dy x, db (O) += sum of dy */

/* the 16 lanes of a sum (R = 16 / NB__VL vectors), left to right */
NB__TIER_INLINE float NB__T(sum16)(const nb__vf *v)
{
    float s = 0.0f;
    for (int r = 0; r < 16 / NB__VL; r++)
        for (int l = 0; l < NB__VL; l++) s += v[r][l];
    return s;
}

/* the sums of one tap t for G (1 or GROUP) channels over one sample: a[k] += dy[k] col_t at
 * every position, 16 at a time in order (bias: a[k] += dy[k]); acc[k R + r] holds lanes
 * [r NB__VL, r NB__VL + NB__VL) of channel k's 16. In a ragged last 16 the lanes past P are
 * cleared: dy there is the next plane's (cleared by the mask) or read part-wise at the very
 * end of dy, and col the next sample's (the products are cleared too: 0 inf is NaN). Named
 * accumulators and no branch on data: they stay in registers. */
NB__TIER_INLINE void NB__T(bwd_tap)(const float *ct, size_t P, const float *const *dyk, const float *dy_end,
                                    nb__vf *acc, const int G, const int bias, const nb__vi *mask)
{
    enum { R = 16 / NB__VL }; /* vectors per 16 lanes of a sum */
    nb__vf a0[R], a1[R], a2[R], a3[R], xv = {0};
    for (int r = 0; r < R; r++) {
        a0[r] = acc[r], a1[r] = a2[r] = a3[r] = (nb__vf){0};
        if (G > 1) a1[r] = acc[R + r], a2[r] = acc[2 * R + r], a3[r] = acc[3 * R + r];
    }
    size_t full = P / 16 * 16;
    for (size_t p = 0; p < full; p += 16)
        for (int r = 0; r < R; r++) {
            size_t q = p + (size_t)r * NB__VL;
            if (bias) {
                a0[r] += NB__VFC(dyk[0] + q);
                if (G > 1) a1[r] += NB__VFC(dyk[1] + q), a2[r] += NB__VFC(dyk[2] + q), a3[r] += NB__VFC(dyk[3] + q);
                continue;
            }
            xv = NB__VFC(ct + q);
            a0[r] += NB__VFC(dyk[0] + q) * xv;
            if (G > 1)
                a1[r] += NB__VFC(dyk[1] + q) * xv, a2[r] += NB__VFC(dyk[2] + q) * xv, a3[r] += NB__VFC(dyk[3] + q) * xv;
        }
    if (full < P)
        for (int r = 0; r < R; r++) {
            size_t q = full + (size_t)r * NB__VL, left = P - full, lo = (size_t)r * NB__VL;
            size_t n = left <= lo ? 0 : left - lo < NB__VL ? left - lo : NB__VL; /* lanes of this vector before P */
            if (!bias) xv = NB__VFC(ct + q);
            for (int k = 0; k < G; k++) {
                nb__vf d;
                if (dyk[k] + full + 16 <= dy_end) d = NB__VAND(NB__VFC(dyk[k] + q), mask[r]);
                else NB__VF_LOAD_PART(d, dyk[k] + q, n);
                if (!bias) d = NB__VAND(d * xv, mask[r]);
                if (k == 0) a0[r] += d;
                else if (k == 1) a1[r] += d;
                else if (k == 2) a2[r] += d;
                else a3[r] += d;
            }
        }
    for (int r = 0; r < R; r++) {
        acc[r] = a0[r];
        if (G > 1) acc[R + r] = a1[r], acc[2 * R + r] = a2[r], acc[3 * R + r] = a3[r];
    }
}

/* channels [o0, o1) over all samples, a lowered group at a time, sample by sample, group of
 * channels by group, tap by tap: few accumulators at a time, whatever K. Each sum acc[o][t]
 * runs over samples and positions in order, however channels are grouped into tasks. */
NB__TIER_FN void NB__T(bwd)(const nb__conv_geom *g, size_t n, size_t O, size_t o0, size_t o1, const float *x,
                            const float *dy, float *dw, float *db, float *scratch)
{
    enum { R = 16 / NB__VL }; /* vectors per 16 lanes of a sum */
    _Alignas(64) float stack_col[NB__DIRECT_MAX_COL];
    float *col = scratch ? scratch : stack_col;
    nb__vf acc[NB__DIRECT_MAX_CH][NB__DIRECT_MAX_TAPS + 1][R];
    size_t K = g->c * (size_t)g->kh * (size_t)g->kw, P = g->oh * g->ow, CHW = g->c * g->h * g->w, G = group_of(g, scratch);
    const float *dy_end = dy + n * O * P;
    nb__vi mask[R]; /* lanes of a plane's ragged end that hold real positions */
    for (int r = 0; r < R; r++)
        for (int l = 0; l < NB__VL; l++) mask[r][l] = (size_t)(r * NB__VL + l) < P % 16 ? -1 : 0;
    for (size_t o = 0; o < o1 - o0; o++)
        for (size_t t = 0; t <= K; t++)
            for (int r = 0; r < R; r++) acc[o][t][r] = (nb__vf){0};
    for (size_t a = 0; a < n; a += G) {
        size_t m = n - a < G ? n - a : G, ld = m * P + 16;
        if (dw) lower(g, m, x + a * CHW, col);
        for (size_t s = a; s < a + m; s++)
            for (size_t oa = o0; oa < o1;) {
                int nb = o1 - oa < GROUP ? 1 : GROUP; /* groups of 4, then one by one */
                const float *dyk[GROUP];
                for (int k = 0; k < nb; k++) dyk[k] = dy + (s * O + oa + (size_t)k) * P;
                for (size_t t = dw ? 0 : K; t <= K; t++) {
                    nb__vf v[GROUP * R];
                    for (int k = 0; k < nb; k++)
                        for (int r = 0; r < R; r++) v[k * R + r] = acc[oa - o0 + (size_t)k][t][r];
                    const float *ct = col + t * ld + (s - a) * P;
                    if (nb == GROUP) {
                        if (t == K) NB__T(bwd_tap)(ct, P, dyk, dy_end, v, GROUP, 1, mask);
                        else NB__T(bwd_tap)(ct, P, dyk, dy_end, v, GROUP, 0, mask);
                    } else {
                        if (t == K) NB__T(bwd_tap)(ct, P, dyk, dy_end, v, 1, 1, mask);
                        else NB__T(bwd_tap)(ct, P, dyk, dy_end, v, 1, 0, mask);
                    }
                    for (int k = 0; k < nb; k++)
                        for (int r = 0; r < R; r++) acc[oa - o0 + (size_t)k][t][r] = v[k * R + r];
                }
                oa += (size_t)nb;
            }
    }
    for (size_t o = o0; o < o1; o++) {
        if (dw)
            for (size_t t = 0; t < K; t++) dw[o * K + t] += NB__T(sum16)(acc[o - o0][t]);
        if (db) db[o] += NB__T(sum16)(acc[o - o0][K]);
    }
}
