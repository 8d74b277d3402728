/* SPDX-License-Identifier: MIT */
/*
 * conv_simd.h - conv.c's copies for the flat geometry (stride 1, OW == W; see flat_setup
 * there), written once over simd.h's nb__vf and compiled per CPU tier by simd_tiers.h: im2col
 * as masked copies from a padded plane, and col2im adding back where the masks pass. Selects
 * by bits and one add per element in (c, i, j) order, whatever NB__VL: every tier gives the
 * row by row code's floats.
 */

/* Each channel is first laid out as xp: the plane with ph zero rows above and below (at
 * width W) and pw zeros before and after, so that every tap reads all P outputs from it in
 * one masked copy, rows of padding included: output q reads xp[q + i dh W + j dw].
 * NB__T(guards) zeroes xp's borders once and returns where the plane goes; NB__T(plane_in)
 * copies a plane there. */
NB__TIER_INLINE float *NB__T(guards)(const nb__conv_geom *g, float *xp)
{
    size_t HW = g->h * g->w, top = (size_t)g->ph * g->w, guard = (size_t)g->pw;
    for (size_t k = 0; k < guard + top; k++) xp[k] = 0.0f;
    for (size_t k = guard + top + HW; k < guard + 2 * top + HW + guard; k++) xp[k] = 0.0f;
    return xp + guard + top;
}

NB__TIER_INLINE void NB__T(plane_in)(float *mid, const float *xc, size_t HW)
{
    size_t k = 0;
    for (; k + NB__VL <= HW; k += NB__VL) NB__VF(mid + k) = NB__VFC(xc + k);
    for (; k < HW; k++) mid[k] = xc[k];
}

/* d[i] = src[i] where m[i] is all ones, else +0, for i < len (a ragged end by partial loads
 * and a partial store) */
NB__TIER_INLINE void NB__T(masked_copy)(float *d, const float *src, const int32_t *m, size_t len)
{
    size_t i = 0;
    for (; i + NB__VL <= len; i += NB__VL) NB__VF(d + i) = NB__VAND(NB__VFC(src + i), NB__VIC(m + i));
    if (i < len) {
        nb__vf v;
        nb__vi mv;
        NB__VF_LOAD_N(v, src + i, len - i);
        NB__VI_LOAD_N(mv, m + i, len - i);
        NB__VF_STORE_N(d + i, NB__VAND(v, mv), len - i);
    }
}

NB__TIER_FN void NB__T(im2col_flat)(const nb__conv_geom *g, size_t n, size_t c0, size_t c1, const float *x, float *col,
                                    size_t ld)
{
    size_t P = g->oh * g->ow, HW = g->h * g->w, taps = (size_t)g->kh * (size_t)g->kw;
    _Alignas(64) float xp[FLAT_XP_MAX];
    _Alignas(64) int32_t mask[FLAT_MASK_MAX];
    flat_tap tap[FLAT_MAX_TAPS];
    flat_setup(g, tap, mask);
    float *mid = NB__T(guards)(g, xp);
    for (size_t s = 0; s < n; s++)
        for (size_t c = c0; c < c1; c++) {
            NB__T(plane_in)(mid, x + (s * g->c + c) * HW, HW);
            for (size_t t = 0; t < taps; t++)
                NB__T(masked_copy)(col + (c * taps + t) * ld + s * P, xp + tap[t].xoff, mask + tap[t].j * P, P);
        }
}

/* im2col straight into a GEMM's panels (gemm.h): rows [k0, k0 + kc) and columns [n0, n0 +
 * nc) of the lowered matrix of n samples (im2col_n's col, sample s in columns s P ..) as the
 * packer would copy them from col - each element the same masked copy - but without col. A
 * column run of one sample and one panel at a time; the last panel's padding columns zeroed. */
NB__TIER_FN void NB__T(pack_flat)(const nb__conv_geom *g, const flat_tap *tap, const int32_t *mask, const float *x,
                                  size_t k0, size_t kc, size_t n0, size_t nc, size_t nr, size_t vw, float *dst)
{
    size_t P = g->oh * g->ow, HW = g->h * g->w;
    size_t taps = (size_t)g->kh * (size_t)g->kw, c_lo = k0 / taps, c_hi = (k0 + kc - 1) / taps;
    _Alignas(64) float xp[FLAT_XP_MAX];
    float *mid = NB__T(guards)(g, xp);
    for (size_t s = n0 / P; s * P < n0 + nc; s++) {
        size_t qa = (s * P > n0 ? s * P : n0) - s * P, qb = (s * P + P < n0 + nc ? s * P + P : n0 + nc) - s * P;
        for (size_t c = c_lo; c <= c_hi; c++) {
            NB__T(plane_in)(mid, x + (s * g->c + c) * HW, HW);
            size_t t0 = c == c_lo ? k0 - c * taps : 0, t1 = c == c_hi ? k0 + kc - c * taps : taps;
            /* the sample's columns panel by panel, every tap row of the channel within one */
            size_t col = s * P + qa - n0, jr = col / nr * nr;
            for (size_t q = qa; q < qb; jr += nr) {
                size_t w = nc - jr < nr ? nc - jr : nr, wp = w == nr ? nr : (w + vw - 1) / vw * vw;
                size_t len = qb - q < jr + w - col ? qb - q : jr + w - col;
                float *d0 = dst + jr * kc + (col - jr);
                for (size_t t = t0; t < t1; t++)
                    NB__T(masked_copy)(d0 + (c * taps + t - k0) * wp, xp + tap[t].xoff + q, mask + tap[t].j * P + q, len);
                q += len, col += len;
            }
        }
    }
    size_t jr = (nc - 1) / nr * nr, w = nc - jr, wp = (w + vw - 1) / vw * vw;
    for (size_t r = 0; wp > w && r < kc; r++)
        for (size_t q = w; q < wp; q++) dst[jr * kc + r * wp + q] = 0.0f;
}

/* the adjoint: dx[q + d] += col[q] where the mask passes, over each tap's rows */
NB__TIER_FN void NB__T(col2im_flat)(const nb__conv_geom *g, size_t n, size_t c0, size_t c1, const float *col, size_t ld,
                                    float *dx)
{
    size_t P = g->oh * g->ow, HW = g->h * g->w, taps = (size_t)g->kh * (size_t)g->kw;
    _Alignas(64) int32_t mask[FLAT_MASK_MAX];
    flat_tap tap[FLAT_MAX_TAPS];
    flat_setup(g, tap, mask);
    for (size_t s = 0; s < n; s++)
        for (size_t c = c0; c < c1; c++)
            for (size_t t = 0; t < taps; t++) {
                const float *row = col + (c * taps + t) * ld + s * P;
                const int32_t *m = mask + tap[t].j * P;
                size_t q = tap[t].q0, q1 = tap[t].q1;
                float *dst = dx + (s * g->c + c) * HW; /* element q + d: inside the plane for q in [q0, q1) */
                long d = tap[t].d;
                for (; q + NB__VL <= q1; q += NB__VL) {
                    float *o = dst + (long)q + d;
                    NB__VF(o) = NB__VFC(o) + NB__VAND(NB__VFC(row + q), NB__VIC(m + q));
                }
                for (; q < q1; q++)
                    if (m[q]) dst[(long)q + d] += row[q];
            }
}
