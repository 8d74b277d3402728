/* SPDX-License-Identifier: MIT */
/*
 * conv_batch_simd.h - conv_batch.c's copy of a gradient plane with its sum, written once over
 * simd.h's nb__vf and compiled per CPU tier by simd_tiers.h. The sum's order is ops.h's,
 * whatever NB__VL: lane l of 16 adds the elements p = l mod 16 in order (16 / NB__VL vectors
 * hold the 16 lanes), then the 16 lanes are added left to right.
 */

/* dst = src (P floats) and, when sum is not NULL, *sum = their sum. One pass over the
 * gradient instead of a copy plus a serial sum (whose add chain is latency-bound). */
NB__TIER_FN void NB__T(copy_sum)(size_t P, const float *src, float *dst, float *sum)
{
    enum { R = 16 / NB__VL }; /* vectors per 16 lanes */
    nb__vf acc[R], v;
    for (int r = 0; r < R; r++) acc[r] = (nb__vf){0};
    size_t p = 0;
    for (; p + 16 <= P; p += 16)
        for (int r = 0; r < R; r++) {
            v = NB__VFC(src + p + (size_t)r * NB__VL);
            NB__VF(dst + p + (size_t)r * NB__VL) = v;
            acc[r] += v;
        }
    if (p < P) /* a ragged end: every lane adds, those past P a 0, as 16 lanes would */
        for (int r = 0; r < R; r++) {
            size_t at = p + (size_t)r * NB__VL, n = P <= at ? 0 : P - at < NB__VL ? P - at : NB__VL;
            NB__VF_LOAD_PART(v, src + at, n);
            NB__VF_STORE_PART(dst + at, v, n);
            acc[r] += v;
        }
    if (!sum) return;
    float s = 0.0f;
    for (int r = 0; r < R; r++)
        for (int l = 0; l < NB__VL; l++) s += acc[r][l];
    *sum = s;
}
