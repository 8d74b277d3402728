/* SPDX-License-Identifier: MIT */
/*
 * eltwise.c - broadcast binary kernels (add, sub, mul, div) over shapes padded to 4-d, and
 * the conversion of byte rows (compact datasets) to floats. Strides of a broadcast dimension
 * are 0, so the same loop serves a scalar, a bias row and equal shapes. The forward runs row
 * by row, vectorised per CPU tier (simd.h) and split over the pool; backward accumulates
 * through the same strides in one scalar loop, which sums the gradient over the broadcast
 * dimensions ("gradients add at branches" - a broadcast is a fan-out). Each element is one
 * IEEE operation either way: the bits depend on neither the tier nor the split.
 */
#include "ops.h"
#include "simd.h"

#include <string.h>

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

/* ---- forward along rows: when each operand's innermost stride is 1 (a row) or 0 (a value
 * repeated: a scalar or a column), one row of out is a vector operation, and rows go to the
 * pool. Every element is still one IEEE operation on the same two values, so the bits are
 * those of the generic loop whatever the instruction set or the split. */

NB__INLINE float bin1(nb__binop op, float x, float y)
{
    return op == NB__BIN_ADD ? x + y : op == NB__BIN_SUB ? x - y : op == NB__BIN_MUL ? x * y : x / y;
}

#define NB__SIMD_BODY "eltwise_simd.h" /* bin_row, bytes_row */
#include "simd_tiers.h"
NB__SIMD_PICK(bin_row)
NB__SIMD_PICK(bytes_row)

typedef struct bin_job {
    nb__binop op;
    const nb__bcast *bc;
    const float *a, *b;
    float *out;
    size_t rows, tasks;
    bin_row_fn row;
} bin_job;

static void bin_task(void *ctx, size_t t, float *scratch)
{
    (void)scratch;
    const bin_job *j = ctx;
    const nb__bcast *bc = j->bc;
    size_t n = bc->shape[3], d1 = bc->shape[1], d2 = bc->shape[2];
    size_t r = j->rows * t / j->tasks, end = j->rows * (t + 1) / j->tasks;
    size_t i2 = r % d2, i1 = r / d2 % d1, i0 = r / d2 / d1; /* then counted, not divided */
    for (; r < end; r++) {
        size_t ia = i0 * bc->sa[0] + i1 * bc->sa[1] + i2 * bc->sa[2], ib = i0 * bc->sb[0] + i1 * bc->sb[1] + i2 * bc->sb[2];
        j->row(j->op, n, j->a + ia, bc->sa[3], j->b + ib, bc->sb[3], j->out + r * n);
        if (++i2 == d2) {
            i2 = 0;
            if (++i1 == d1) i1 = 0, i0++;
        }
    }
}

void nb__binary_fwd(nb__binop op, const nb__bcast *bc, const float *a, const float *b,
                    float *out)
{
    /* an innermost stride is 1 or 0 by construction (a dimension of the operand or one it is
     * broadcast along), so every forward takes the row path */
    size_t rows = bc->shape[0] * bc->shape[1] * bc->shape[2];
    if (rows * bc->shape[3] <= 64) { /* a tiny tensor (a batch-1 step): no dispatch at all */
        LOOP4(bc, out[o_] = bin1(op, a[pa], b[pb]));
        return;
    }
    bin_job j = {op, bc, a, b, out, rows, nb__job_tasks(rows, rows * bc->shape[3]), bin_row_pick()};
    nb__run_tasks(j.tasks, bin_task, &j);
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

/* ---- compact (byte) rows to floats: out = ((float)byte - off) / scale, each a separately
 * rounded IEEE operation (the scalar rule's), a vector at a time; rows split over the pool */

typedef struct bytes_job {
    const uint8_t *base;
    size_t nf, first, count, tasks;
    const int64_t *idx;
    const float *off, *scale;
    float *out;
    bytes_row_fn row;
} bytes_job;

static void bytes_task(void *ctx, size_t t, float *scratch)
{
    (void)scratch;
    const bytes_job *j = ctx;
    for (size_t i = j->count * t / j->tasks; i < j->count * (t + 1) / j->tasks; i++) {
        size_t r = j->idx ? (size_t)j->idx[i] : j->first + i;
        j->row(j->nf, j->base + r * j->nf, j->off, j->scale, j->out + i * j->nf);
    }
}

void nb__bytes_to_rows(const uint8_t *base, size_t nf, const int64_t *idx, size_t first, size_t count,
                       const float *off, const float *scale, float *out)
{
    bytes_job j = {base, nf, first, count, nb__job_tasks(count, count * nf), idx, off, scale, out, bytes_row_pick()};
    nb__run_tasks(j.tasks, bytes_task, &j);
}
