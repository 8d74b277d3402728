/* SPDX-License-Identifier: MIT */
/*
 * test_ops.c - every operator of the table, driven by the table: forward against a
 * double-precision oracle written here, backward against central finite differences of that
 * oracle in double, tight enough (GRAD_TOL) that a backward off by 1% in any element fails
 * (`make mutants` proves it), and the +-1000 extreme range for activations and losses. An
 * operator without a case here fails the suite. Inputs keep clear of kinks (|x| >= 0.2 for
 * ReLU-like ops, distinct values for max) so finite differences are meaningful there.
 */
#include "nabla.h"
#include "check.h"

/* nb_attr literals below name only the fields an operator reads */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
/* the oracle computes in double on purpose */
#pragma GCC diagnostic ignored "-Wdouble-promotion"

#include <float.h>
#include <stdlib.h>

enum { ANY, POS, LABEL, PROB, UNNORM, BINARY, CONST_ANY, CONST_POS };

typedef struct {
    nb_op_type op;
    const char *what;
    int n_in;
    int rank[5];
    int64_t shape[5][4];
    int dom[5];
    nb_attr attr;
} op_case;

#define A(...) ((nb_attr){__VA_ARGS__})
static const op_case cases[] = {
    {NB_OP_ADD, "same shape", 2, {2, 2}, {{3, 4}, {3, 4}}, {ANY, ANY}, {0}},
    {NB_OP_ADD, "bias row (C)", 2, {2, 1}, {{3, 4}, {4}}, {ANY, ANY}, {0}},
    {NB_OP_ADD, "scalar", 2, {0, 2}, {{0}, {2, 3}}, {ANY, ANY}, {0}},
    {NB_OP_SUB, "column (N,1)", 2, {2, 2}, {{3, 4}, {3, 1}}, {ANY, ANY}, {0}},
    {NB_OP_MUL, "bias row (1,C)", 2, {2, 2}, {{3, 4}, {1, 4}}, {ANY, ANY}, {0}},
    {NB_OP_MUL, "rank 4 x rank 1", 2, {4, 1}, {{2, 3, 2, 2}, {2}}, {ANY, ANY}, {0}},
    {NB_OP_DIV, "same shape", 2, {2, 2}, {{2, 3}, {2, 3}}, {ANY, POS}, {0}},
    {NB_OP_DIV, "scalar denominator", 2, {2, 0}, {{2, 3}, {0}}, {ANY, POS}, {0}},
    {NB_OP_NEG, "", 1, {2}, {{2, 3}}, {ANY}, {0}},
    {NB_OP_SCALE, "by -2.5", 1, {2}, {{2, 3}}, {ANY}, A(.alpha = -2.5f)},
    {NB_OP_EXP, "", 1, {2}, {{2, 3}}, {ANY}, {0}},
    {NB_OP_LOG, "", 1, {2}, {{2, 3}}, {POS}, {0}},
    {NB_OP_SQUARE, "", 1, {2}, {{2, 3}}, {ANY}, {0}},
    {NB_OP_SQRT, "", 1, {2}, {{2, 3}}, {POS}, {0}},
    {NB_OP_MATMUL, "A B", 2, {2, 2}, {{3, 4}, {4, 5}}, {ANY, ANY}, {0}},
    {NB_OP_MATMUL, "A B^T", 2, {2, 2}, {{3, 4}, {5, 4}}, {ANY, ANY}, A(.trans_b = 1)},
    {NB_OP_MATMUL, "A^T B", 2, {2, 2}, {{4, 3}, {4, 5}}, {ANY, ANY}, A(.trans_a = 1)},
    {NB_OP_MATMUL, "A^T B^T", 2, {2, 2}, {{4, 3}, {5, 4}}, {ANY, ANY}, A(.trans_a = 1, .trans_b = 1)},
    {NB_OP_SUM, "axis 0", 1, {3}, {{2, 3, 4}}, {ANY}, A(.axis = 0)},
    {NB_OP_SUM, "axis -1", 1, {3}, {{2, 3, 4}}, {ANY}, A(.axis = -1)},
    {NB_OP_MEAN, "axis 1", 1, {3}, {{2, 3, 4}}, {ANY}, A(.axis = 1)},
    {NB_OP_SUM_ALL, "", 1, {2}, {{3, 4}}, {ANY}, {0}},
    {NB_OP_MEAN_ALL, "", 1, {2}, {{3, 4}}, {ANY}, {0}},
    {NB_OP_MAX, "axis 1", 1, {2}, {{3, 5}}, {ANY}, A(.axis = 1)},
    {NB_OP_MAX, "axis 0 of rank 3", 1, {3}, {{4, 2, 3}}, {ANY}, A(.axis = 0)},
    {NB_OP_RESHAPE, "(2,6) -> (3,2,2)", 1, {2}, {{2, 6}}, {ANY}, A(.rank = 3, .shape = {3, 2, 2})},
    {NB_OP_SIGMOID, "", 1, {2}, {{2, 3}}, {ANY}, {0}},
    {NB_OP_TANH, "", 1, {2}, {{2, 3}}, {ANY}, {0}},
    {NB_OP_RELU, "", 1, {2}, {{3, 4}}, {ANY}, {0}},
    {NB_OP_LEAKY_RELU, "slope 0.1", 1, {2}, {{3, 4}}, {ANY}, A(.alpha = 0.1f)},
    {NB_OP_ELU, "alpha 1.5", 1, {2}, {{3, 4}}, {ANY}, A(.alpha = 1.5f)},
    {NB_OP_SOFTPLUS, "", 1, {2}, {{3, 4}}, {ANY}, {0}},
    {NB_OP_SILU, "", 1, {2}, {{3, 4}}, {ANY}, {0}},
    {NB_OP_MAXOUT, "k = 3", 1, {2}, {{2, 6}}, {ANY}, A(.k = 3)},
    {NB_OP_IDENTITY, "", 1, {2}, {{2, 3}}, {ANY}, {0}},
    {NB_OP_STEP, "", 1, {2}, {{2, 3}}, {ANY}, {0}},
    {NB_OP_SOFTMAX, "axis -1", 1, {2}, {{3, 4}}, {ANY}, A(.axis = -1)},
    {NB_OP_SOFTMAX, "axis 0", 1, {2}, {{3, 4}}, {ANY}, A(.axis = 0)},
    {NB_OP_LOG_SOFTMAX, "axis -1", 1, {2}, {{3, 4}}, {ANY}, A(.axis = -1)},
    {NB_OP_SOFTMAX_CE, "class indices", 2, {2, 1}, {{4, 5}, {4}}, {ANY, LABEL}, {0}},
    {NB_OP_SOFTMAX_CE, "soft targets", 2, {2, 2}, {{4, 5}, {4, 5}}, {ANY, PROB}, {0}},
    {NB_OP_SOFTMAX_CE, "targets not summing to 1", 2, {2, 2}, {{4, 5}, {4, 5}}, {ANY, UNNORM}, {0}},
    {NB_OP_BCE_LOGITS, "multi-label", 2, {2, 2}, {{4, 3}, {4, 3}}, {ANY, BINARY}, {0}},
    {NB_OP_MSE, "", 2, {2, 2}, {{4, 3}, {4, 3}}, {ANY, ANY}, {0}},
    {NB_OP_CONV2D, "3x3 pad 1, batch 2", 2, {4, 4}, {{2, 2, 5, 5}, {3, 2, 3, 3}}, {ANY, ANY}, A(.stride = {1, 1}, .pad = {1, 1}, .dilation = {1, 1})},
    {NB_OP_CONV2D, "2x3 stride 2 + bias", 3, {4, 4, 1}, {{2, 2, 6, 7}, {3, 2, 2, 3}, {3}}, {ANY, ANY, ANY}, A(.stride = {2, 2}, .pad = {0, 1}, .dilation = {1, 1})},
    {NB_OP_CONV2D, "dilation 2, stride (1,2)", 2, {4, 4}, {{1, 1, 7, 6}, {2, 1, 2, 2}}, {ANY, ANY}, A(.stride = {1, 2}, .pad = {1, 0}, .dilation = {2, 2})},
    {NB_OP_MAXPOOL2D, "2x2", 1, {4}, {{2, 2, 4, 4}}, {ANY}, A(.kernel = {2, 2}, .stride = {2, 2}, .dilation = {1, 1})},
    {NB_OP_MAXPOOL2D, "3x2 stride 1 pad 1", 1, {4}, {{1, 2, 5, 4}}, {ANY}, A(.kernel = {3, 2}, .stride = {1, 1}, .pad = {1, 1}, .dilation = {1, 1})},
    {NB_OP_AVGPOOL2D, "2x2 stride 1 pad 1", 1, {4}, {{2, 1, 4, 3}}, {ANY}, A(.kernel = {2, 2}, .stride = {1, 1}, .pad = {1, 1}, .dilation = {1, 1})},
    {NB_OP_GLOBAL_AVGPOOL, "", 1, {4}, {{2, 3, 2, 2}}, {ANY}, {0}},
    {NB_OP_DROPOUT, "p 0.3", 1, {2}, {{4, 5}}, {ANY}, A(.p = 0.3f)},
    {NB_OP_BATCHNORM, "(N, C, H, W)", 5, {4, 1, 1, 1, 1}, {{3, 2, 2, 2}, {2}, {2}, {2}, {2}}, {ANY, ANY, ANY, CONST_ANY, CONST_POS}, A(.momentum = 0.1f, .eps = 1e-5f)},
    {NB_OP_EMBEDDING, "ids (3, 4), table (5, 3), no padding", 2, {2, 2}, {{3, 4}, {5, 3}}, {LABEL, ANY}, A(.k = -1)},
    {NB_OP_EMBEDDING, "ids (6), padding id 0", 2, {1, 2}, {{6}, {5, 2}}, {LABEL, ANY}, A(.k = 0)},
    {NB_OP_SEQ_LENGTHS, "ids (4, 5)", 1, {2}, {{4, 5}}, {LABEL}, {0}},
    {NB_OP_BATCHNORM, "(N, C)", 5, {2, 1, 1, 1, 1}, {{5, 3}, {3}, {3}, {3}, {3}}, {ANY, ANY, ANY, CONST_ANY, CONST_POS}, A(.momentum = 0.1f, .eps = 1e-5f)},
};
#define N_CASES ((int)(sizeof cases / sizeof cases[0]))

static void fill(nb_view *v, int dom, nb_rng *r, double scale)
{
    size_t n = v->n;
    for (size_t i = 0; i < n; i++) {
        float u = nb_rng_uniform(r);
        switch (dom) {
        case POS: case CONST_POS: v->data[i] = 0.5f + 1.5f * u; break;
        case LABEL: v->data[i] = (float)nb_rng_below(r, (uint64_t)5); break;
        case BINARY: v->data[i] = u < 0.5f ? 0.0f : 1.0f; break;
        case PROB: v->data[i] = u; break;
        case UNNORM: v->data[i] = 2.0f * u; break;
        default: {
            /* distinct values at least 0.1 apart, none within 0.2 of zero: a shuffled grid */
            /* the grid spans at most [-3, 3] so losses stay O(10); spacing >= 0.036, far
             * above the finite differences' steps, keeps maxima distinct under probing */
            double step = fmin(0.37, 6.0 / (double)n);
            double x = ((double)i - (double)n / 2.0) * step + 0.1 * step * (double)u;
            if (x > -0.2 && x < 0.2) x += x < 0 ? -0.25 : 0.25;
            v->data[i] = (float)(x * scale);
        }
        }
    }
    if (dom == ANY) /* shuffle the grid so maxima are not always last */
        for (size_t i = n; i > 1; i--) {
            size_t j = (size_t)nb_rng_below(r, i);
            float t = v->data[i - 1];
            v->data[i - 1] = v->data[j];
            v->data[j] = t;
        }
    if (dom == UNNORM) { /* non-negative rows summing to anything: an all-zero row, a row of two ones */
        size_t C = (size_t)v->shape[v->rank - 1];
        for (size_t c = 0; c < C && c < n; c++) v->data[c] = 0.0f;
        for (size_t c = 0; c < C && C + c < n; c++) v->data[C + c] = c < 2 ? 1.0f : 0.0f;
    }
    if (dom == PROB) /* rows sum to 1 */
        for (size_t i = 0; i < n; i += (size_t)v->shape[v->rank - 1]) {
            double s = 0;
            for (int64_t c = 0; c < v->shape[v->rank - 1]; c++) s += (double)v->data[i + (size_t)c];
            for (int64_t c = 0; c < v->shape[v->rank - 1]; c++) v->data[i + (size_t)c] = (float)((double)v->data[i + (size_t)c] / s);
        }
}

static double sigm(double x) { return 1.0 / (1.0 + exp(-x)); }

/* A tensor in double: the oracle's inputs, so finite differences of it can take steps far
 * below float resolution. */
typedef struct {
    int rank;
    int64_t shape[4];
    size_t n;
    double *data;
} dview;

/* the oracle: out[i] in double from the inputs' values (out gives the shape, and for
 * dropout the mask the forward drew: an element is dropped exactly when its output is 0) */
static void reference(const op_case *c, const dview *in, const nb_view *out, double *ref)
{
    const dview *a = &in[0], *b = &in[1];
    size_t n = out->n;
    switch (c->op) {
    case NB_OP_ADD: case NB_OP_SUB: case NB_OP_MUL: case NB_OP_DIV:
        for (size_t i = 0; i < n; i++) {
            /* unravel i in out's shape, index each input with broadcasting */
            size_t idx[4] = {0}, rem = i, ia = 0, ib = 0;
            for (int d = out->rank - 1; d >= 0; d--) { idx[d] = rem % (size_t)out->shape[d]; rem /= (size_t)out->shape[d]; }
            for (int d = 0; d < a->rank; d++) { int od = d + out->rank - a->rank; ia = ia * (size_t)a->shape[d] + (a->shape[d] == 1 ? 0 : idx[od]); }
            for (int d = 0; d < b->rank; d++) { int od = d + out->rank - b->rank; ib = ib * (size_t)b->shape[d] + (b->shape[d] == 1 ? 0 : idx[od]); }
            double x = a->data[ia], y = b->data[ib];
            ref[i] = c->op == NB_OP_ADD ? x + y : c->op == NB_OP_SUB ? x - y : c->op == NB_OP_MUL ? x * y : x / y;
        }
        break;
    case NB_OP_MATMUL: {
        size_t M = (size_t)out->shape[0], N = (size_t)out->shape[1];
        size_t K = (size_t)(c->attr.trans_a ? a->shape[0] : a->shape[1]);
        for (size_t i = 0; i < M; i++)
            for (size_t j = 0; j < N; j++) {
                double s = 0;
                for (size_t k = 0; k < K; k++) {
                    double x = c->attr.trans_a ? a->data[k * M + i] : a->data[i * K + k];
                    double y = c->attr.trans_b ? b->data[j * K + k] : b->data[k * N + j];
                    s += x * y;
                }
                ref[i * N + j] = s;
            }
        break;
    }
    case NB_OP_SUM: case NB_OP_MEAN: case NB_OP_MAX: {
        int ax = c->attr.axis < 0 ? c->attr.axis + a->rank : c->attr.axis;
        size_t outer = 1, len = (size_t)a->shape[ax], inner = 1;
        for (int d = 0; d < ax; d++) outer *= (size_t)a->shape[d];
        for (int d = ax + 1; d < a->rank; d++) inner *= (size_t)a->shape[d];
        for (size_t o = 0; o < outer; o++)
            for (size_t i = 0; i < inner; i++) {
                double s = 0, m = -INFINITY;
                for (size_t k = 0; k < len; k++) { double x = a->data[(o * len + k) * inner + i]; s += x; m = x > m ? x : m; }
                ref[o * inner + i] = c->op == NB_OP_MAX ? m : c->op == NB_OP_MEAN ? s / (double)len : s;
            }
        break;
    }
    case NB_OP_SUM_ALL: case NB_OP_MEAN_ALL: {
        double s = 0;
        for (size_t i = 0; i < a->n; i++) s += a->data[i];
        ref[0] = c->op == NB_OP_MEAN_ALL ? s / (double)a->n : s;
        break;
    }
    case NB_OP_MAXOUT:
        for (size_t i = 0; i < n; i++) {
            double m = -INFINITY;
            for (int k = 0; k < c->attr.k; k++) { double x = a->data[i * (size_t)c->attr.k + (size_t)k]; m = x > m ? x : m; }
            ref[i] = m;
        }
        break;
    case NB_OP_SOFTMAX: case NB_OP_LOG_SOFTMAX: {
        int ax = c->attr.axis < 0 ? c->attr.axis + a->rank : c->attr.axis;
        size_t R = (size_t)a->shape[0], C = (size_t)a->shape[1];
        for (size_t i = 0; i < n; i++) {
            size_t r = i / C, col = i % C;
            double s = 0, m = -INFINITY; /* max-shifted so the oracle survives 1000x */
            for (size_t k = 0; k < (ax ? C : R); k++) m = fmax(m, a->data[ax ? r * C + k : k * C + col]);
            for (size_t k = 0; k < (ax ? C : R); k++) s += exp(a->data[ax ? r * C + k : k * C + col] - m);
            ref[i] = c->op == NB_OP_SOFTMAX ? exp(a->data[i] - m) / s : a->data[i] - m - log(s);
        }
        break;
    }
    case NB_OP_SOFTMAX_CE: {
        size_t N = (size_t)a->shape[0], C = (size_t)a->shape[1];
        double L = 0;
        for (size_t r = 0; r < N; r++) {
            double s = 0, m = -INFINITY;
            for (size_t k = 0; k < C; k++) m = fmax(m, a->data[r * C + k]);
            for (size_t k = 0; k < C; k++) s += exp(a->data[r * C + k] - m);
            for (size_t k = 0; k < C; k++) {
                double t = b->rank == 1 ? (b->data[r] == (double)k) : b->data[r * C + k];
                L -= t * (a->data[r * C + k] - m - log(s));
            }
        }
        ref[0] = L / (double)N;
        break;
    }
    case NB_OP_BCE_LOGITS: {
        double L = 0;
        for (size_t i = 0; i < a->n; i++) {
            double x = a->data[i], t = b->data[i]; /* log s = -log1p(e^-x), log(1-s) = -x + log s */
            double ls = x >= 0 ? -log1p(exp(-x)) : x - log1p(exp(x));
            L -= t * ls + (1 - t) * (ls - x);
        }
        ref[0] = L / (double)a->n;
        break;
    }
    case NB_OP_MSE: {
        double L = 0;
        for (size_t i = 0; i < a->n; i++) L += 0.5 * (a->data[i] - b->data[i]) * (a->data[i] - b->data[i]);
        ref[0] = L / (double)a->n;
        break;
    }
    case NB_OP_CONV2D: { /* x (N, C, H, W), w (F, C, KH, KW), bias (F), y (N, F, OH, OW) */
        size_t C = (size_t)a->shape[1], H = (size_t)a->shape[2], W = (size_t)a->shape[3];
        size_t F = (size_t)b->shape[0], KH = (size_t)b->shape[2], KW = (size_t)b->shape[3];
        size_t OH = (size_t)out->shape[2], OW = (size_t)out->shape[3];
        for (size_t i = 0; i < n; i++) {
            size_t s = i / (F * OH * OW), f = i / (OH * OW) % F, oh = i / OW % OH, ow = i % OW;
            double acc = c->n_in == 3 ? in[2].data[f] : 0.0;
            for (size_t ch = 0; ch < C; ch++)
                for (size_t u = 0; u < KH; u++)
                    for (size_t v = 0; v < KW; v++) {
                        long h = (long)oh * c->attr.stride[0] - c->attr.pad[0] + (long)u * c->attr.dilation[0];
                        long w = (long)ow * c->attr.stride[1] - c->attr.pad[1] + (long)v * c->attr.dilation[1];
                        if (h < 0 || w < 0 || h >= (long)H || w >= (long)W) continue;
                        acc += a->data[((s * C + ch) * H + (size_t)h) * W + (size_t)w] * b->data[((f * C + ch) * KH + u) * KW + v];
                    }
            ref[i] = acc;
        }
        break;
    }
    case NB_OP_MAXPOOL2D: case NB_OP_AVGPOOL2D: {
        size_t H = (size_t)a->shape[2], W = (size_t)a->shape[3], OH = (size_t)out->shape[2], OW = (size_t)out->shape[3];
        for (size_t i = 0; i < n; i++) {
            size_t p = i / (OH * OW), oh = i / OW % OH, ow = i % OW;
            double m = -INFINITY, s = 0;
            for (int u = 0; u < c->attr.kernel[0]; u++)
                for (int v = 0; v < c->attr.kernel[1]; v++) {
                    long h = (long)oh * c->attr.stride[0] - c->attr.pad[0] + u, w = (long)ow * c->attr.stride[1] - c->attr.pad[1] + v;
                    if (h < 0 || w < 0 || h >= (long)H || w >= (long)W) continue;
                    double x = a->data[p * H * W + (size_t)h * W + (size_t)w];
                    m = fmax(m, x);
                    s += x;
                }
            ref[i] = c->op == NB_OP_MAXPOOL2D ? m : s / (c->attr.kernel[0] * c->attr.kernel[1]);
        }
        break;
    }
    case NB_OP_GLOBAL_AVGPOOL: {
        size_t S = (size_t)(a->shape[2] * a->shape[3]);
        for (size_t i = 0; i < n; i++) {
            double s = 0;
            for (size_t k = 0; k < S; k++) s += a->data[i * S + k];
            ref[i] = s / (double)S;
        }
        break;
    }
    case NB_OP_DROPOUT: /* each element is dropped (0) or kept and scaled by 1/(1-p) */
        for (size_t i = 0; i < n; i++) ref[i] = out->data[i] == 0 ? 0 : a->data[i] / (1.0 - c->attr.p);
        break;
    case NB_OP_BATCHNORM: { /* training mode: the batch's own mean and (biased) variance */
        size_t N = (size_t)a->shape[0], C = (size_t)a->shape[1], S = a->rank == 4 ? (size_t)(a->shape[2] * a->shape[3]) : 1;
        for (size_t ch = 0; ch < C; ch++) {
            double mu = 0, var = 0;
            for (size_t s = 0; s < N; s++) for (size_t k = 0; k < S; k++) mu += a->data[(s * C + ch) * S + k];
            mu /= (double)(N * S);
            for (size_t s = 0; s < N; s++) for (size_t k = 0; k < S; k++) var += pow(a->data[(s * C + ch) * S + k] - mu, 2);
            var /= (double)(N * S);
            for (size_t s = 0; s < N; s++)
                for (size_t k = 0; k < S; k++) {
                    size_t i = (s * C + ch) * S + k;
                    ref[i] = in[1].data[ch] * (a->data[i] - mu) / sqrt(var + c->attr.eps) + in[2].data[ch];
                }
        }
        break;
    }
    case NB_OP_EMBEDDING: {
        size_t D = (size_t)b->shape[1];
        for (size_t i = 0; i < n; i++) ref[i] = b->data[(size_t)a->data[i / D] * D + i % D];
        break;
    }
    case NB_OP_SEQ_LENGTHS: {
        size_t T = (size_t)a->shape[1];
        for (size_t r = 0; r < n; r++) {
            ref[r] = 0;
            for (size_t k = 0; k < T; k++)
                if (a->data[r * T + k] != 0) ref[r] = (double)(k + 1);
        }
        break;
    }
    default:
        for (size_t i = 0; i < n; i++) {
            double x = a->data[i], al = c->attr.alpha;
            switch (c->op) {
            case NB_OP_NEG: ref[i] = -x; break;
            case NB_OP_SCALE: ref[i] = al * x; break;
            case NB_OP_EXP: ref[i] = exp(x); break;
            case NB_OP_LOG: ref[i] = log(x); break;
            case NB_OP_SQUARE: ref[i] = x * x; break;
            case NB_OP_SQRT: ref[i] = sqrt(x); break;
            case NB_OP_RESHAPE: case NB_OP_IDENTITY: ref[i] = x; break;
            case NB_OP_SIGMOID: ref[i] = sigm(x); break;
            case NB_OP_TANH: ref[i] = tanh(x); break;
            case NB_OP_RELU: ref[i] = x > 0 ? x : 0; break;
            case NB_OP_LEAKY_RELU: ref[i] = x > 0 ? x : al * x; break;
            case NB_OP_ELU: ref[i] = x > 0 ? x : al * (exp(x) - 1); break;
            case NB_OP_SOFTPLUS: ref[i] = log1p(exp(x)); break;
            case NB_OP_SILU: ref[i] = x * sigm(x); break;
            case NB_OP_STEP: ref[i] = x > 0; break;
            default: ref[i] = NAN;
            }
        }
    }
}

/* Build y = op(inputs) and loss = sum(y * R) with a fixed random R of y's shape (*R). */
static nb_node build(nb_graph *g, const op_case *c, nb_node *in, nb_node *y, nb_node *R, nb_rng *r)
{
    for (int i = 0; i < c->n_in; i++)
        in[i] = c->dom[i] == LABEL ? nb_input(g, "label", c->rank[i], c->shape[i])
              : c->dom[i] >= CONST_ANY ? nb_const(g, "running", c->rank[i], c->shape[i], NULL)
                                       : nb_param(g, i ? "b" : "a", c->rank[i], c->shape[i]);
    *y = nb_op(g, c->op, c->n_in, in, &c->attr);
    int64_t shape[NB_MAX_RANK];
    int rank = nb_graph_node_shape(g, *y, shape);
    if (rank < 0) return rank;
    size_t n = 1;
    for (int i = 0; i < rank; i++) n *= (size_t)shape[i];
    float *w = malloc(n * sizeof *w);
    for (size_t i = 0; i < n; i++) w[i] = 0.5f + nb_rng_uniform(r);
    *R = nb_const(g, "R", rank, shape, w);
    free(w);
    return nb_sum_all(g, nb_mul(g, *y, *R));
}

/* The gradient tolerance, relative to the largest |expected| element of the input: the
 * float32 backward kernels measure at most 6e-7 of it here (softmax, batch norm; most ops
 * 1e-7 or less; TEST_OPS_VERBOSE=1 prints the worst ratio per case and input), while
 * `make mutants` plants a 1.01 factor (an error of 1e-2 of the largest element) or moves one
 * element by 1e-2 of the largest: 1e-4 passes float rounding with a margin above 100 and
 * fails either mutant by a factor of 100. */
#define GRAD_TOL 1e-4

static int verbose_;

/* Compare a float gradient g[0..n) with the double reference e[0..n), element by element,
 * with GRAD_TOL times the largest |e| (a floor of 1e-6 keeps an all-zero reference exact to
 * float noise); print the first mismatches. */
static void check_grad(const char *where, int slot, const float *g, const double *e, size_t n)
{
    double big = 1e-6, worst = 0;
    for (size_t j = 0; j < n; j++) big = fmax(big, fabs(e[j]));
    int shown = 0;
    for (size_t j = 0; j < n; j++) {
        double err = fabs((double)g[j] - e[j]);
        worst = fmax(worst, err / big);
        check_count_++;
        if (err <= GRAD_TOL * big) continue; /* also fails a NaN */
        check_failures_++;
        if (shown++ < 4)
            fprintf(stderr, "  %s: input %d gradient [%zu] = %.9g, expected %.9g (tolerance %.3g)\n",
                    where, slot, j, (double)g[j], e[j], GRAD_TOL * big);
    }
    if (verbose_) printf("  %-40s input %d: worst |error| / max|expected| = %.2e\n", where, slot, worst);
}

static double weighted_sum(const op_case *c, const dview *d, const nb_view *yv, const double *w, double *ref)
{
    reference(c, d, yv, ref);
    double s = 0;
    for (size_t i = 0; i < yv->n; i++) s += w[i] * ref[i];
    return s;
}

/* The backward check: the loss is sum_i w_i y_i, so the expected gradient of every input that
 * takes one is the central difference of sum_i w_i ref_i(x), all in double with a step of
 * 1e-6 relative (truncation ~1e-12, rounding ~1e-10 of the sum: far below GRAD_TOL). The
 * domains keep every input >= 0.036 away from a kink or a tie, so no probe crosses one. */
static void check_backward(const op_case *c, nb_graph *g, const nb_node *in, dview *d, const nb_view *yv,
                           const nb_view *wv, const char *where)
{
    double *w = malloc(yv->n * sizeof *w), *ref = malloc(yv->n * sizeof *ref);
    for (size_t i = 0; i < yv->n; i++) w[i] = wv->data[i];
    for (int s = 0; s < c->n_in; s++) {
        if (c->dom[s] == LABEL || c->dom[s] >= CONST_ANY) continue;
        nb_view gv;
        CHECK_OK(nb_graph_grad(g, in[s], &gv));
        CHECK(gv.data && gv.n == d[s].n);
        if (!gv.data || gv.n != d[s].n) continue;
        double *e = malloc(d[s].n * sizeof *e);
        for (size_t j = 0; j < d[s].n; j++) {
            double x = d[s].data[j], h = 1e-6 * fmax(fabs(x), 1.0);
            d[s].data[j] = x + h;
            double lp = weighted_sum(c, d, yv, w, ref);
            d[s].data[j] = x - h;
            double lm = weighted_sum(c, d, yv, w, ref);
            d[s].data[j] = x;
            e[j] = (lp - lm) / (2 * h);
        }
        /* the embedding's padding row gets no gradient (PyTorch's padding_idx), though the
         * output does depend on it */
        if (c->op == NB_OP_EMBEDDING && s == 1 && c->attr.k >= 0)
            for (size_t j = 0; j < (size_t)d[1].shape[1]; j++) e[(size_t)c->attr.k * (size_t)d[1].shape[1] + j] = 0;
        check_grad(where, s, gv.data, e, gv.n);
        free(e);
    }
    free(w);
    free(ref);
}

/* One case: forward vs the oracle, then the backward check (or, at +-1000, finiteness). */
static void run_case(const op_case *c, double scale)
{
    char where[128];
    snprintf(where, sizeof where, "%s (%s)%s", nb_op_name(c->op), c->what, scale > 1 ? " at 1000x" : "");
    int before = check_failures_;
    nb_graph *g;
    nb_rng r;
    nb_rng_seed(&r, 42 + (uint64_t)c->op);
    CHECK_OK(nb_graph_create(&g));
    nb_node in[5], y, R;
    nb_node loss = build(g, c, in, &y, &R, &r);
    CHECK_OK(nb_graph_status(g));
    CHECK_OK(nb_graph_compile(g));
    nb_view v[5], yv, wv;
    dview d[5];
    for (int i = 0; i < c->n_in; i++) {
        CHECK_OK(nb_graph_value(g, in[i], &v[i]));
        fill(&v[i], c->dom[i], &r, scale);
        d[i] = (dview){v[i].rank, {0}, v[i].n, malloc(v[i].n * sizeof(double))};
        for (int k = 0; k < v[i].rank; k++) d[i].shape[k] = v[i].shape[k];
        for (size_t j = 0; j < v[i].n; j++) d[i].data[j] = v[i].data[j];
    }
    CHECK_OK(nb_graph_forward(g, loss));
    CHECK_OK(nb_graph_value(g, y, &yv));
    CHECK_OK(nb_graph_value(g, R, &wv));
    double *ref = malloc(yv.n * sizeof *ref);
    reference(c, d, &yv, ref);
    for (size_t i = 0; i < yv.n; i++) {
        /* float32 kernels vs a double oracle: a few ulps of the largest term involved */
        CHECK_NEAR(yv.data[i], ref[i], 1e-5 * scale, 1e-5);
        if (!(fabs((double)yv.data[i] - ref[i]) <= 1e-5 * scale + 1e-5 * fabs(ref[i]))) break;
    }
    free(ref);
    /* backward right after this forward, with no second one: dropout keeps the mask the
     * oracle reads from yv */
    nb_graph_zero_grad(g);
    /* seq_lengths: no gradient anywhere (ids are labels), nothing to run backward on */
    int fwd_only = c->op == NB_OP_SEQ_LENGTHS;
    if (!fwd_only) CHECK_OK(nb_graph_backward(g, loss));
    if (fwd_only) {
    } else if (scale > 1) {
        nb_view lv, gv;
        nb_graph_value(g, loss, &lv);
        CHECK(isfinite(lv.data[0]));
        for (int i = 0; i < c->n_in; i++) {
            nb_graph_grad(g, in[i], &gv);
            for (size_t j = 0; gv.data && j < gv.n; j++) CHECK(isfinite(gv.data[j]));
        }
    } else if (c->op == NB_OP_STEP) { /* forward only: no gradient may flow */
        nb_view gv;
        nb_graph_grad(g, in[0], &gv);
        for (size_t j = 0; j < gv.n; j++) CHECK(gv.data[j] == 0.0f);
    } else {
        check_backward(c, g, in, d, &yv, &wv, where);
    }
    for (int i = 0; i < c->n_in; i++) free(d[i].data);
    if (check_failures_ != before) fprintf(stderr, "  ^ in %s\n", where);
    nb_graph_free(g);
}

static int extreme_op(nb_op_type op)
{
    switch (op) {
    case NB_OP_SIGMOID: case NB_OP_TANH: case NB_OP_RELU: case NB_OP_LEAKY_RELU: case NB_OP_ELU:
    case NB_OP_SOFTPLUS: case NB_OP_SILU: case NB_OP_MAXOUT: case NB_OP_IDENTITY: case NB_OP_SOFTMAX:
    case NB_OP_LOG_SOFTMAX: case NB_OP_SOFTMAX_CE: case NB_OP_BCE_LOGITS: case NB_OP_MAX:
        return 1;
    default:
        return 0;
    }
}

/* A planted bug must be caught: a custom "double" op whose backward forgets the factor 2,
 * and one whose backward has the wrong sign. */
static int fwd_double(void *ud, int n, const nb_view *in, nb_view *out)
{
    (void)ud; (void)n;
    for (size_t i = 0; i < out->n; i++) out->data[i] = 2.0f * in[0].data[i];
    return 0;
}
static int bwd_half(void *ud, int n, const nb_view *in, const nb_view *out, const nb_view *dout, nb_view *din)
{
    (void)in; (void)n; (void)out;
    float f = *(float *)ud;
    for (size_t i = 0; i < dout->n; i++) din[0].data[i] += f * dout->data[i];
    return 0;
}

static void test_planted_bugs(void)
{
    float factors[3] = {2.0f, 1.0f, -2.0f}; /* right, wrong factor, wrong sign */
    for (int k = 0; k < 3; k++) {
        nb_graph *g;
        nb_graph_create(&g);
        nb_custom_op op = {"double", NULL, fwd_double, bwd_half, &factors[k]};
        nb_node a = nb_param(g, "a", 1, (int64_t[]){4});
        nb_node L = nb_sum_all(g, nb_square(g, nb_custom(g, &op, 1, &a)));
        CHECK_OK(nb_graph_compile(g));
        nb_view v;
        nb_graph_value(g, a, &v);
        for (int i = 0; i < 4; i++) v.data[i] = 0.5f + (float)i;
        nb_gradcheck_entry e;
        int n = 0;
        CHECK_OK(nb_gradcheck(g, L, 1e-2f, &e, 1, &n));
        CHECK(n == 1);
        if (k == 0) CHECK(e.max_rel_err < 1e-2);
        else CHECK(e.max_rel_err > 0.3);
        nb_graph_free(g);
    }
}

/* The custom operator path (nb_custom: nabla hands the caller's backward views of each
 * input's gradient) gets the same tight check as the table's operators: y = a * b^2 with the
 * caller's own float backward, against the exact gradient in double. */
static int fwd_ab2(void *ud, int n, const nb_view *in, nb_view *out)
{
    (void)ud; (void)n;
    for (size_t i = 0; i < out->n; i++) out->data[i] = in[0].data[i] * in[1].data[i] * in[1].data[i];
    return 0;
}
static int bwd_ab2(void *ud, int n, const nb_view *in, const nb_view *out, const nb_view *dout, nb_view *din)
{
    (void)ud; (void)n; (void)out;
    for (size_t i = 0; i < dout->n; i++) {
        float a = in[0].data[i], b = in[1].data[i], d = dout->data[i];
        din[0].data[i] += d * b * b;
        din[1].data[i] += 2.0f * d * a * b;
    }
    return 0;
}

/* ELU far left: the gradient alpha e^x computed from x keeps full relative precision (taken as
 * y + alpha it was 4e-4 off at x = -10 and exactly 0 from x = -20). */
static void test_elu_far_left(void)
{
    enum { K = 6 };
    static const float xs[K] = {-10.0f, -20.0f, -30.0f, -50.0f, -0.5f, 2.0f};
    const double alpha = 1.5;
    nb_graph *g;
    CHECK_OK(nb_graph_create(&g));
    int64_t shape[1] = {K};
    nb_node x = nb_param(g, "x", 1, shape);
    nb_node L = nb_sum_all(g, nb_elu(g, x, (float)alpha));
    CHECK_OK(nb_graph_compile(g));
    nb_view xv, gv;
    nb_graph_value(g, x, &xv);
    for (int i = 0; i < K; i++) xv.data[i] = xs[i];
    CHECK_OK(nb_graph_forward(g, L));
    CHECK_OK(nb_graph_backward(g, L));
    CHECK_OK(nb_graph_grad(g, x, &gv));
    for (int i = 0; i < K; i++) {
        double e = xs[i] > 0 ? 1.0 : alpha * exp((double)xs[i]);
        CHECK_NEAR(gv.data[i], e, 0.0, 1e-6);
        if (e > (double)FLT_MIN) CHECK(gv.data[i] > 0.0f); /* e^-50 is still a normal float */
    }
    nb_graph_free(g);
}

static void test_custom_backward(void)
{
    nb_graph *g;
    CHECK_OK(nb_graph_create(&g));
    nb_custom_op op = {"ab2", NULL, fwd_ab2, bwd_ab2, NULL};
    int64_t shape[2] = {3, 4};
    float w[12];
    for (int i = 0; i < 12; i++) w[i] = 0.5f + 0.09f * (float)i;
    nb_node in[2] = {nb_param(g, "a", 2, shape), nb_param(g, "b", 2, shape)};
    nb_node L = nb_sum_all(g, nb_mul(g, nb_custom(g, &op, 2, in), nb_const(g, "R", 2, shape, w)));
    CHECK_OK(nb_graph_compile(g));
    nb_view a, b, ga, gb;
    nb_graph_value(g, in[0], &a);
    nb_graph_value(g, in[1], &b);
    for (int i = 0; i < 12; i++) a.data[i] = -1.5f + 0.27f * (float)i, b.data[i] = 1.1f - 0.19f * (float)i;
    CHECK_OK(nb_graph_forward(g, L));
    CHECK_OK(nb_graph_backward(g, L));
    nb_graph_grad(g, in[0], &ga);
    nb_graph_grad(g, in[1], &gb);
    double ea[12], eb[12];
    for (int i = 0; i < 12; i++) {
        double x = a.data[i], y = b.data[i];
        ea[i] = (double)w[i] * y * y;
        eb[i] = 2.0 * (double)w[i] * x * y;
    }
    check_grad("custom (a * b^2)", 0, ga.data, ea, 12);
    check_grad("custom (a * b^2)", 1, gb.data, eb, 12);
    nb_graph_free(g);
}

int main(void)
{
    verbose_ = getenv("TEST_OPS_VERBOSE") != NULL;
    int covered[NB_OP_COUNT_] = {0};
    covered[NB_OP_INPUT] = covered[NB_OP_PARAM] = covered[NB_OP_CONST] = 1; /* leaves */
    covered[NB_OP_CUSTOM] = 1; /* test_custom_backward below (and ReLU in test_graph.c) */
    covered[NB_OP_RNN] = 1;    /* test_rnn.c: its own double oracle over cells, directions, lengths */
    for (int i = 0; i < N_CASES; i++) {
        run_case(&cases[i], 1.0);
        if (extreme_op(cases[i].op)) run_case(&cases[i], 1000.0);
        covered[cases[i].op] = 1;
    }
    for (int op = 0; op < NB_OP_COUNT_; op++) {
        CHECK(covered[op]);
        if (!covered[op]) fprintf(stderr, "operator %s has no test case\n", nb_op_name((nb_op_type)op));
    }
    test_planted_bugs();
    test_custom_backward();
    test_elu_far_left();
    return check_exit("test_ops");
}
