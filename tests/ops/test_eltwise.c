/* SPDX-License-Identifier: MIT */
/*
 * test_eltwise.c - the broadcast binary forward (src/ops/eltwise.c), which runs along rows,
 * vectorised and split over the thread pool: bit for bit the scalar rule out = a op b on the
 * broadcast elements, for every operator, the broadcast forms a graph makes (equal shapes, a
 * bias row, a column, a scalar, either side broadcast), tiny tensors (no dispatch), sizes
 * below and above the pool's threshold, ragged row ends, every instruction set and 1 to 3
 * threads. And the softmax forward, split over the pool by rows with each exp computed once:
 * bit for bit the two-pass rule exp(x - max) / sum, for 1 to 3 threads. And byte rows to
 * floats (compact datasets): the scalar rule on every instruction set, ragged row ends.
 */
#include "nabla.h"
#include "check.h"
#include "../../src/ops/ops.h"
#include "../../src/ops/simd.h"

#include <math.h>
#include <stdlib.h>

typedef struct form {
    size_t rows, cols;
    int a_row, a_col, b_row, b_col; /* the operand varies along rows / columns (else broadcast) */
} form;

static float pick(const float *p, int vr, int vc, size_t cols, size_t i, size_t j)
{
    return p[(vr ? i : 0) * (vc ? cols : 1) + (vc ? j : 0)];
}

/* the padded 4-d description op_binary.c makes for a 2-d out (rows, cols) */
static nb__bcast bcast_of(const form *f)
{
    nb__bcast bc = {{1, 1, f->rows, f->cols}, {0, 0, 0, 0}, {0, 0, 0, 0}};
    bc.sa[3] = f->a_col ? 1 : 0, bc.sa[2] = f->a_row ? (f->a_col ? f->cols : 1) : 0;
    bc.sb[3] = f->b_col ? 1 : 0, bc.sb[2] = f->b_row ? (f->b_col ? f->cols : 1) : 0;
    return bc;
}

static float scalar(nb__binop op, float x, float y)
{
    switch (op) {
    case NB__BIN_ADD: return x + y;
    case NB__BIN_SUB: return x - y;
    case NB__BIN_MUL: return x * y;
    default: return x / y;
    }
}

/* the softmax along len of (outer, len, inner), computed the plain way (exp twice) */
static void softmax_ref(size_t outer, size_t len, size_t inner, const float *x, float *y)
{
    for (size_t o = 0; o < outer; o++)
        for (size_t i = 0; i < inner; i++) {
            const float *xr = x + o * len * inner + i;
            float m = xr[0], s = 0.0f;
            for (size_t k = 1; k < len; k++) m = fmaxf(m, xr[k * inner]);
            for (size_t k = 0; k < len; k++) s += expf(xr[k * inner] - m);
            for (size_t k = 0; k < len; k++) y[o * len * inner + i + k * inner] = expf(xr[k * inner] - m) / s;
        }
}

static void test_softmax(nb_rng *r)
{
    static const size_t shapes[][3] = {{1000, 10, 1}, {3, 7, 400}, {5, 3, 2}};
    for (size_t si = 0; si < 3; si++) {
        size_t n = shapes[si][0] * shapes[si][1] * shapes[si][2];
        float *x = malloc(n * sizeof *x), *want = malloc(n * sizeof *want), *got = malloc(n * sizeof *got);
        for (size_t i = 0; i < n; i++) x[i] = 4.0f * nb_rng_normal(r);
        softmax_ref(shapes[si][0], shapes[si][1], shapes[si][2], x, want);
        for (int t = 1; t <= 3; t++) {
            nb_set_threads(t);
            memset(got, 0xff, n * sizeof *got);
            nb__softmax_fwd(0, shapes[si][0], shapes[si][1], shapes[si][2], x, got);
            CHECK(memcmp(got, want, n * sizeof *got) == 0);
        }
        free(x), free(want), free(got);
    }
    nb_set_threads(1);
}

/* nb__bytes_to_rows against ((float)byte - off) / scale and the plain conversion, bit for
 * bit on every tier, rows of 37 bytes (ragged for every vector width), picked by an index */
static void test_bytes(nb_rng *r)
{
    enum { NF = 37, ROWS = 50 };
    static uint8_t base[ROWS * NF];
    static float off[NF], scale[NF], want[ROWS * NF], got[ROWS * NF];
    int64_t idx[ROWS];
    for (int i = 0; i < ROWS * NF; i++) base[i] = (uint8_t)(nb_rng_uniform(r) * 256.0f);
    for (int j = 0; j < NF; j++) off[j] = nb_rng_normal(r) * 50.0f, scale[j] = nb_rng_uniform(r) * 90.0f + 0.5f;
    for (int i = 0; i < ROWS; i++) idx[i] = (i * 7) % ROWS;
    static const nb__isa isas[] = {NB__ISA_GENERIC, NB__ISA_AVX2, NB__ISA_AVX512};
    for (int scaled = 0; scaled <= 1; scaled++) {
        for (int i = 0; i < ROWS; i++)
            for (int j = 0; j < NF; j++) {
                float v = (float)base[idx[i] * NF + j];
                want[i * NF + j] = scaled ? (v - off[j]) / scale[j] : v;
            }
        for (int ii = 0; ii < 3; ii++) {
            if (nb__cpu_use(isas[ii]) != NB_OK) continue;
            memset(got, 0xff, sizeof got);
            nb__bytes_to_rows(base, NF, idx, 0, ROWS, scaled ? off : NULL, scaled ? scale : NULL, got);
            int same = memcmp(got, want, sizeof got) == 0;
            CHECK(same);
            if (!same) fprintf(stderr, "  bytes: scaled %d isa %d differ\n", scaled, (int)isas[ii]);
        }
    }
    nb__cpu_use(NB__ISA_AUTO);
}

/* the recurrent gates' own tanh and sigmoid (src/ops/rnn.c) against double's: within 1e-6
 * relative over [-40, 40] (sigmoid: or 1e-12 absolute where it underflows towards 0), odd
 * tanh, exact 0 and saturation, NaN kept */
static void test_rnn_gates(void)
{
    double worst_t = 0, worst_s = 0;
    for (int i = -400000; i <= 400000; i++) {
        float x = (float)i * 1e-4f;
        double t = tanh((double)x), sg = 1.0 / (1.0 + exp(-(double)x));
        double et = fabs((double)nb__rnn_tanh(x) - t) / fmax(fabs(t), 1e-30);
        double es = fabs((double)nb__rnn_sigmoid(x) - sg) / sg;
        if (x != 0.0f && et > worst_t) worst_t = et;
        if (sg > 1e-12 && es > worst_s) worst_s = es;
        if (nb__rnn_tanh(-x) != -nb__rnn_tanh(x)) CHECK(0);
    }
    for (float x = 1e-30f; x < 0.3f; x *= 1.7f) {
        double et = fabs((double)nb__rnn_tanh(x) - tanh((double)x)) / tanh((double)x);
        if (et > worst_t) worst_t = et;
    }
    printf("rnn gates: tanh %.2e, sigmoid %.2e relative (worst)\n", worst_t, worst_s);
    CHECK(worst_t < 1e-6 && worst_s < 1e-6);
    CHECK(nb__rnn_tanh(0.0f) == 0.0f && nb__rnn_tanh(100.0f) == 1.0f && nb__rnn_tanh(-1e30f) == -1.0f);
    CHECK(nb__rnn_sigmoid(100.0f) == 1.0f && nb__rnn_sigmoid(-100.0f) >= 0.0f && nb__rnn_sigmoid(-100.0f) < 1e-37f);
    CHECK(isnan(nb__rnn_tanh(NAN)) && isnan(nb__rnn_sigmoid(NAN)));
}

int main(void)
{
    static const form forms[] = {
        {300, 130, 1, 1, 1, 1}, /* equal shapes, above the pool's threshold */
        {300, 130, 1, 1, 0, 1}, /* a bias row */
        {300, 130, 1, 1, 1, 0}, /* a column */
        {300, 130, 1, 1, 0, 0}, /* a scalar */
        {300, 130, 0, 1, 1, 1}, /* a is the row */
        {7, 13, 1, 1, 0, 1},    /* small: one task, a ragged end */
        {1000, 17, 0, 0, 1, 1}, /* a scalar on the left, short rows */
        {3, 40000, 1, 1, 0, 1}, /* few long rows */
        {1, 4, 1, 1, 0, 1},     /* tiny (a batch-1 bias): the undispatched loop */
        {8, 8, 1, 1, 1, 0},     /* 64 elements: still tiny */
    };
    static const nb__isa isas[] = {NB__ISA_GENERIC, NB__ISA_AVX2, NB__ISA_AVX512};
    nb_rng r;
    nb_rng_seed(&r, 3);
    for (size_t fi = 0; fi < sizeof forms / sizeof forms[0]; fi++) {
        const form *f = &forms[fi];
        size_t n = f->rows * f->cols;
        float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *want = malloc(n * sizeof *want),
              *got = malloc(n * sizeof *got);
        for (size_t i = 0; i < n; i++) a[i] = nb_rng_normal(&r), b[i] = nb_rng_normal(&r) + 3.0f;
        nb__bcast bc = bcast_of(f);
        for (int op = NB__BIN_ADD; op <= NB__BIN_DIV; op++) {
            for (size_t i = 0; i < f->rows; i++)
                for (size_t j = 0; j < f->cols; j++)
                    want[i * f->cols + j] = scalar((nb__binop)op, pick(a, f->a_row, f->a_col, f->cols, i, j),
                                                   pick(b, f->b_row, f->b_col, f->cols, i, j));
            for (int ii = 0; ii < 3; ii++) {
                if (nb__cpu_use(isas[ii]) != NB_OK) continue;
                for (int t = 1; t <= 3; t++) {
                    nb_set_threads(t);
                    memset(got, 0xff, n * sizeof *got);
                    nb__binary_fwd((nb__binop)op, &bc, a, b, got);
                    int same = memcmp(got, want, n * sizeof *got) == 0;
                    CHECK(same);
                    if (!same) fprintf(stderr, "  form %zu op %d isa %d threads %d differ\n", fi, op, (int)isas[ii], t);
                }
            }
        }
        free(a), free(b), free(want), free(got);
    }
    nb__cpu_use(NB__ISA_AUTO);
    nb_set_threads(1);
    test_softmax(&r);
    test_bytes(&r);
    test_rnn_gates();
    return check_exit("test_eltwise");
}
