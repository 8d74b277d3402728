/* SPDX-License-Identifier: MIT */
/*
 * activ_simd.h - activ.c's ReLU kernels, written once over simd.h's nb__vf and compiled per
 * CPU tier by simd_tiers.h: plain, and keeping its gate (ops.h: bit l of gate word b is
 * !(x[16 b + l] <= 0)), forward and backward over [lo, n). Selects by bits, no arithmetic but
 * the backward's accumulation, so every tier gives the scalar rule's floats.
 * The rule is PyTorch's: y = x where !(x <= 0), else +0, and dx = dy there, else 0. So a NaN
 * passes (y = NaN, and its dy flows back: a diverging run shows instead of being zeroed),
 * while -0, +0 and negatives give +0 and no gradient. The test !(x <= 0) is one compare
 * with the mask inverted, as cheap as x > 0 was.
 */

NB__TIER_FN void NB__T(relu_fwd)(size_t lo, size_t n, const float *x, float *y)
{
    size_t i = lo;
    for (size_t end = n - (n - i) % NB__VL; i < end; i += NB__VL) {
        nb__vf v = NB__VFC(x + i);
        NB__VF(y + i) = NB__VAND(v, ~(v <= 0.0f));
    }
    for (; i < n; i++) y[i] = !(x[i] <= 0.0f) ? x[i] : 0.0f;
}

/* dx (+)= !(x <= 0) ? dy : 0 */
NB__TIER_FN void NB__T(relu_bwd)(int assign, size_t lo, size_t n, const float *x, const float *dy, float *dx)
{
    size_t i = lo;
    for (size_t end = n - (n - i) % NB__VL; i < end; i += NB__VL) {
        nb__vf v = NB__VFC(x + i), d = NB__VAND(NB__VFC(dy + i), ~(v <= 0.0f));
        if (!assign) d = NB__VFC(dx + i) + d;
        NB__VF(dx + i) = d;
    }
    for (; i < n; i++) {
        float d = dy[i], g = !(x[i] <= 0.0f) ? d : 0.0f;
        dx[i] = assign ? g : dx[i] + g;
    }
}

/* the gate's ragged end, fewer than 16 elements from i (a multiple of 16): lane by lane */
NB__TIER_INLINE void NB__T(gate_tail)(size_t i, size_t n, const float *x, float *y, uint16_t *bits)
{
    unsigned w = 0;
    for (size_t l = 0; i + l < n; l++) {
        y[i + l] = !(x[i + l] <= 0.0f) ? x[i + l] : 0.0f;
        w |= (unsigned)!(x[i + l] <= 0.0f) << l;
    }
    bits[i / 16] = (uint16_t)w;
}

/* lo is a multiple of 16; four gate words a step (the compilers merge their stores into one) */
NB__TIER_FN void NB__T(relu_fwd_gate)(size_t lo, size_t n, const float *x, float *y, uint16_t *bits)
{
    const nb__vf zero = {0};
    size_t i = lo;
    for (; i + 64 <= n; i += 64) {
        uint64_t w = 0;
        for (int q = 0; q < 64 / NB__VL; q++) {
            nb__vf v = NB__VFC(x + i + (size_t)q * NB__VL);
            NB__VF(y + i + (size_t)q * NB__VL) = NB__VAND(v, ~(v <= 0.0f));
            w |= (uint64_t)NB__VNLE_BITS(v, zero) << (q * NB__VL);
        }
        for (int k = 0; k < 4; k++) bits[i / 16 + (size_t)k] = (uint16_t)(w >> (16 * k));
    }
    for (; i + 16 <= n; i += 16) {
        unsigned w = 0;
        for (int q = 0; q < 16 / NB__VL; q++) {
            nb__vf v = NB__VFC(x + i + (size_t)q * NB__VL);
            NB__VF(y + i + (size_t)q * NB__VL) = NB__VAND(v, ~(v <= 0.0f));
            w |= NB__VNLE_BITS(v, zero) << (q * NB__VL);
        }
        bits[i / 16] = (uint16_t)w;
    }
    if (i < n) NB__T(gate_tail)(i, n, x, y, bits);
}

/* dx (+)= gate ? dy : 0; lo is a multiple of 16 */
NB__TIER_FN void NB__T(relu_bwd_gate)(int assign, size_t lo, size_t n, const uint16_t *bits, const float *dy, float *dx)
{
    size_t i = lo;
    for (; i + 16 <= n; i += 16)
        for (int q = 0; q < 16 / NB__VL; q++) {
            size_t at = i + (size_t)q * NB__VL;
            nb__vi m = NB__VMASK_OF_BITS(bits[i / 16] >> (q * NB__VL));
            nb__vf d = NB__VAND(NB__VFC(dy + at), m);
            if (!assign) d = NB__VFC(dx + at) + d;
            NB__VF(dx + at) = d;
        }
    for (; i < n; i++) {
        float d = dy[i], g = bits[i / 16] >> (i % 16) & 1 ? d : 0.0f;
        dx[i] = assign ? g : dx[i] + g;
    }
}
