/* SPDX-License-Identifier: MIT */
/*
 * eltwise_simd.h - eltwise.c's row kernels, written once over simd.h's nb__vf and compiled
 * per CPU tier by simd_tiers.h: a broadcast binary operation along a row, and a row of bytes
 * to floats. Each element is one IEEE operation (or the scalar rule's separately rounded
 * ones) on the same values whatever the tier, so the bits are those of the scalar loop.
 */

/* out[i] = a[i * sa] op b[i * sb], i < n, with sa, sb in {0, 1}; op a constant once inlined */
NB__TIER_INLINE void NB__T(bin_row_op)(nb__binop op, size_t n, const float *a, size_t sa, const float *b, size_t sb,
                                       float *out)
{
    if (n == 0) return;
    nb__vf x, y;
    for (int l = 0; l < NB__VL; l++) x[l] = a[0], y[l] = b[0]; /* the repeated value, if any */
    size_t i = 0;
    for (size_t end = n - n % NB__VL; i < end; i += NB__VL) {
        if (sa) x = NB__VFC(a + i);
        if (sb) y = NB__VFC(b + i);
        NB__VF(out + i) = op == NB__BIN_ADD ? x + y : op == NB__BIN_SUB ? x - y : op == NB__BIN_MUL ? x * y : x / y;
    }
    for (; i < n; i++) out[i] = bin1(op, a[i * sa], b[i * sb]);
}

NB__TIER_FN void NB__T(bin_row)(nb__binop op, size_t n, const float *a, size_t sa, const float *b, size_t sb, float *out)
{
    switch (op) {
    case NB__BIN_ADD: NB__T(bin_row_op)(NB__BIN_ADD, n, a, sa, b, sb, out); break;
    case NB__BIN_SUB: NB__T(bin_row_op)(NB__BIN_SUB, n, a, sa, b, sb, out); break;
    case NB__BIN_MUL: NB__T(bin_row_op)(NB__BIN_MUL, n, a, sa, b, sb, out); break;
    case NB__BIN_DIV: NB__T(bin_row_op)(NB__BIN_DIV, n, a, sa, b, sb, out); break;
    }
}

/* out = ((float)byte - off) / scale, or the bytes as floats when scale is NULL */
NB__TIER_FN void NB__T(bytes_row)(size_t n, const uint8_t *b, const float *off, const float *scale, float *out)
{
    size_t j = 0;
    for (size_t end = n - n % NB__VL; j < end; j += NB__VL) {
        nb__vf f = NB__VF_OF_BYTES(b + j);
        if (scale) f = (f - NB__VFC(off + j)) / NB__VFC(scale + j);
        NB__VF(out + j) = f;
    }
    for (; j < n; j++) out[j] = scale ? ((float)b[j] - off[j]) / scale[j] : (float)b[j];
}
