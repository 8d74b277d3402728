/*
 * eltwise.c - broadcast binary kernels (add, sub, mul, div) over shapes padded to 4-d.
 * Strides of a broadcast dimension are 0, so the same loop serves a scalar, a bias row and
 * equal shapes; backward accumulates through the same strides, which sums the gradient over
 * the broadcast dimensions ("gradients add at branches" - a broadcast is a fan-out).
 */
#include "ops.h"

#define LOOP4(bc, BODY)                                                                     \
    do {                                                                                    \
        size_t o_ = 0;                                                                      \
        for (size_t i0 = 0; i0 < (bc)->shape[0]; i0++)                                      \
            for (size_t i1 = 0; i1 < (bc)->shape[1]; i1++)                                  \
                for (size_t i2 = 0; i2 < (bc)->shape[2]; i2++) {                            \
                    size_t ia = i0 * (bc)->sa[0] + i1 * (bc)->sa[1] + i2 * (bc)->sa[2];     \
                    size_t ib = i0 * (bc)->sb[0] + i1 * (bc)->sb[1] + i2 * (bc)->sb[2];     \
                    for (size_t i3 = 0; i3 < (bc)->shape[3]; i3++, o_++) {                  \
                        size_t pa = ia + i3 * (bc)->sa[3], pb = ib + i3 * (bc)->sb[3];      \
                        BODY;                                                               \
                    }                                                                       \
                }                                                                           \
    } while (0)

void nb__binary_fwd(nb__binop op, const nb__bcast *bc, const float *a, const float *b,
                    float *out)
{
    switch (op) {
    case NB__BIN_ADD: LOOP4(bc, out[o_] = a[pa] + b[pb]); break;
    case NB__BIN_SUB: LOOP4(bc, out[o_] = a[pa] - b[pb]); break;
    case NB__BIN_MUL: LOOP4(bc, out[o_] = a[pa] * b[pb]); break;
    case NB__BIN_DIV: LOOP4(bc, out[o_] = a[pa] / b[pb]); break;
    }
}

void nb__binary_bwd(nb__binop op, const nb__bcast *bc, const float *a, const float *b,
                    const float *out, const float *dout, float *da, float *db)
{
    switch (op) {
    case NB__BIN_ADD:
        if (da) LOOP4(bc, (void)pb; da[pa] += dout[o_]);
        if (db) LOOP4(bc, (void)pa; db[pb] += dout[o_]);
        break;
    case NB__BIN_SUB:
        if (da) LOOP4(bc, (void)pb; da[pa] += dout[o_]);
        if (db) LOOP4(bc, (void)pa; db[pb] -= dout[o_]);
        break;
    case NB__BIN_MUL: /* the multiply gate swaps its inputs */
        if (da) LOOP4(bc, da[pa] += dout[o_] * b[pb]);
        if (db) LOOP4(bc, db[pb] += dout[o_] * a[pa]);
        break;
    case NB__BIN_DIV: /* out = a / b: d/da = 1/b, d/db = -a/b^2 = -out/b */
        if (da) LOOP4(bc, da[pa] += dout[o_] / b[pb]);
        if (db) LOOP4(bc, (void)pa; db[pb] -= dout[o_] * out[o_] / b[pb]);
        break;
    }
}
