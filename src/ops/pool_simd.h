/* SPDX-License-Identifier: MIT */
/*
 * pool_simd.h - pool.c's common max pooling window (2 x 2, stride 2, no padding or dilation),
 * forward and backward, written once over simd.h's nb__vf and compiled per CPU tier by
 * simd_tiers.h: NB__VL windows of an output row a step, the even and odd input columns
 * parted by shuffles, a row's ragged end read and written with the tier's partial loads and
 * stores (exactly the 2 n columns n windows cover). Selects only, no arithmetic on values but
 * backward's one add: every tier gives the scalar rule's floats, bit for bit.
 */

/* the running maximum m and its offset at take candidate v (offset off) where v > m, or v is
 * NaN and m is not (a NaN propagates, as in PyTorch; the first maximum wins) */
NB__TIER_INLINE void NB__T(take)(nb__vf v, nb__vi off, nb__vf *m, nb__vi *at)
{
    nb__vi t = (v > *m) | ((v != v) & (*m == *m));
    *m = (nb__vf)(((nb__vi)v & t) | ((nb__vi)*m & ~t));
    *at = (off & t) | (*at & ~t);
}

/* lanes 0, 2, 4, ... of the 2 NB__VL floats at p (even) and 1, 3, 5, ... (odd), of which the
 * first 2 n are read (n <= NB__VL windows) */
NB__TIER_INLINE void NB__T(part)(const float *p, size_t n, nb__vf *even, nb__vf *odd)
{
    nb__vf a0, a1;
    if (n == NB__VL) a0 = NB__VFC(p), a1 = NB__VFC(p + NB__VL);
    else {
        size_t k0 = 2 * n < NB__VL ? 2 * n : NB__VL;
        NB__VF_LOAD_N(a0, p, k0);
        NB__VF_LOAD_N(a1, p + NB__VL, 2 * n - k0);
    }
    *even = NB__VEVEN(a0, a1), *odd = NB__VODD(a0, a1);
}

/* output rows [oh0, OH) of one plane: y and the arg-max (an index into the plane; ap NULL:
 * none, an evaluation forward). relu (nb__maxpool2d_relu): y = relu's select of the maximum
 * (activ_simd.h: +0 where it is <= 0, a NaN passes) and arg-max -1 where it stops it */
NB__TIER_FN void NB__T(maxpool_2x2)(const float *xp, long W, long oh0, long OH, long OW, float *yp, int32_t *ap,
                                    int relu)
{
    nb__vi lane2; /* 2 l: window l's first column */
    for (int l = 0; l < NB__VL; l++) lane2[l] = 2 * l;
    const nb__vi zero = {0}, one = zero + 1, down = zero + (int32_t)W, diag = zero + (int32_t)W + 1;
    for (long oh = oh0; oh < OH; oh++) {
        const float *r0 = xp + 2 * oh * W, *r1 = r0 + W;
        for (long ow = 0; ow < OW; ow += NB__VL) {
            size_t n = OW - ow < NB__VL ? (size_t)(OW - ow) : NB__VL;
            nb__vf m, v1, v2, v3;
            nb__vi at = zero;
            NB__T(part)(r0 + 2 * ow, n, &m, &v1);
            NB__T(part)(r1 + 2 * ow, n, &v2, &v3);
            NB__T(take)(v1, one, &m, &at);
            NB__T(take)(v2, down, &m, &at);
            NB__T(take)(v3, diag, &m, &at);
            nb__vi stop = zero;
            if (relu) stop = m <= 0.0f, m = NB__VAND(m, ~stop);
            if (n == NB__VL) NB__VF(yp + oh * OW + ow) = m;
            else NB__VF_STORE_N(yp + oh * OW + ow, m, n);
            if (!ap) continue;
            nb__vi arg = (lane2 + (int32_t)(2 * oh * W + 2 * ow) + at) | stop;
            if (n == NB__VL) NB__VI(ap + oh * OW + ow) = arg;
            else NB__VI_STORE_N(ap + oh * OW + ow, arg, n);
        }
    }
}

/* backward, output rows [oh0, OH): each window's four inputs get dy where the saved arg-max
 * points and 0 elsewhere. assign: store (dx known to be zeros, see ops.h), else add. */
NB__TIER_FN void NB__T(maxpool_2x2_bwd)(long W, long oh0, long OH, long OW, const int32_t *ap, const float *dyp,
                                        float *dxp, int assign)
{
    nb__vi lane2;
    for (int l = 0; l < NB__VL; l++) lane2[l] = 2 * l;
    const nb__vi zero = {0}, one = zero + 1, down = zero + (int32_t)W, diag = zero + (int32_t)W + 1;
    for (long oh = oh0; oh < OH; oh++) {
        float *r0 = dxp + 2 * oh * W, *r1 = r0 + W;
        for (long ow = 0; ow < OW; ow += NB__VL) {
            size_t n = OW - ow < NB__VL ? (size_t)(OW - ow) : NB__VL;
            nb__vf d;
            nb__vi a;
            if (n == NB__VL) d = NB__VFC(dyp + oh * OW + ow), a = NB__VIC(ap + oh * OW + ow);
            else {
                NB__VF_LOAD_N(d, dyp + oh * OW + ow, n);
                NB__VI_LOAD_N(a, ap + oh * OW + ow, n);
            }
            nb__vi rel = a - (lane2 + (int32_t)(2 * oh * W + 2 * ow));
            nb__vf e0 = NB__VAND(d, rel == zero), o0 = NB__VAND(d, rel == one);
            nb__vf e1 = NB__VAND(d, rel == down), o1 = NB__VAND(d, rel == diag);
            /* the two input rows' 2 n floats, each as two vectors: all read before any is
             * written (a load overlapping an earlier partial store waits for it) */
            nb__vf u[4] = {NB__VZIPLO(e0, o0), NB__VZIPHI(e0, o0), NB__VZIPLO(e1, o1), NB__VZIPHI(e1, o1)};
            float *at[4] = {r0 + 2 * ow, r0 + 2 * ow + NB__VL, r1 + 2 * ow, r1 + 2 * ow + NB__VL};
            if (n == NB__VL) {
                if (!assign)
                    for (int i = 0; i < 4; i++) u[i] = NB__VFC(at[i]) + u[i];
                for (int i = 0; i < 4; i++) NB__VF(at[i]) = u[i];
                continue;
            }
            size_t k0 = 2 * n < NB__VL ? 2 * n : NB__VL, k[4] = {k0, 2 * n - k0, k0, 2 * n - k0};
            if (!assign)
                for (int i = 0; i < 4; i++) {
                    nb__vf v;
                    NB__VF_LOAD_N(v, at[i], k[i]);
                    u[i] = v + u[i];
                }
            for (int i = 0; i < 4; i++) NB__VF_STORE_N(at[i], u[i], k[i]);
        }
    }
}
