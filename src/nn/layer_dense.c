/* SPDX-License-Identifier: MIT */
/*
 * layer_dense.c - the fully connected layer, PyTorch's nn.Linear: y = x W^T + b with W
 * stored (units, in) and b (units). An input of rank > 1 per sample is flattened first, so
 * "conv ...; dense 10" needs no explicit flatten.
 */
#include "layer.h"
#include "onnx.h"

static const char *const aliases[] = {"linear", NULL};

static int parse(const nb__words *s, nb__layer *l)
{
    if (s->n < 2 || s->n > 3 || !nb__arg_whole(s->w[1], 1, 1e8, &l->units))
        return nb__fail(NB_ERR_FORMAT, "spec:%d: 'dense' takes a whole number of units >= 1%s%s%s", s->line,
                        s->n >= 2 ? ", got '" : "", s->n >= 2 ? s->w[1] : "", s->n >= 2 ? "'" : "");
    if (s->n == 3 && strcmp(s->w[2], "nobias") != 0)
        return nb__fail(NB_ERR_FORMAT, "spec:%d: unexpected '%s' after dense (only 'nobias')", s->line, s->w[2]);
    l->bias = s->n == 2;
    return NB_OK;
}

static int check(nb__layer *l)
{
    if (l->units < 1) return nb__fail(NB_ERR_ARG, "dense: units must be >= 1, got %d", l->units);
    l->bias = l->bias != 0;
    return NB_OK;
}

static void text(const nb__layer *l, char *buf, size_t cap)
{
    snprintf(buf, cap, "dense %d%s", l->units, l->bias ? "" : " nobias");
}

static int infer(const nb__layer *l, int in_rank, const int64_t *in, nb__layer_shape *out)
{
    double features = nb__numel_d(in_rank, in);
    out->rank = 1;
    out->shape[0] = l->units;
    out->flops = 2.0 * features * l->units + (l->bias ? l->units : 0);
    return NB_OK;
}

static int tensors(const nb__layer *l, nb__tensor_def t[NB__LAYER_MAX_TENSORS])
{
    int64_t features = 1;
    for (int d = 0; d < l->in_rank; d++) features *= l->in_shape[d];
    nb__tensor_set(&t[0], "weight", 1, 2, (int64_t[]){l->units, features});
    nb__tensor_set(&t[1], "bias", 1, 1, (int64_t[]){l->units});
    return l->bias ? 2 : 1;
}

static int build(nb_model *m, int i, const nb__tensor_def *t, nb_node *cur)
{
    nb_graph *g = m->g;
    if (m->layers[i].in_rank != 1) *cur = nb_flatten(g, *cur); /* dense reads (N, features) */
    nb_node w = nb__layer_tensor_new(m, i, &t[0]);
    *cur = nb_matmul(g, *cur, w, 0, 1); /* x (N, in) W^T (in, out) */
    if (m->layers[i].bias) *cur = nb_add(g, *cur, nb__layer_tensor_new(m, i, &t[1]));
    return NB_OK;
}

/* Gemm(x, W, b, transB=1), after a Flatten when the input has rank > 1 per sample, as build does */
static int onnx(nb__onnx *o, const nb_model *m, int i, const nb__layer *l, const char *in, char *out, size_t cap)
{
    char x[NB__ONNX_NAME], w[NB__ONNX_NAME], b[NB__ONNX_NAME], y[NB__ONNX_NAME];
    int st;
    (void)i;
    snprintf(x, sizeof x, "%s", in);
    if (l->in_rank != 1) {
        nb__onnx_attr a = nb__oa_int("axis", 1);
        nb__onnx_op(o, "Flatten", (const char *[]){in}, 1, &a, 1, x);
    }
    if ((st = nb__onnx_tensor(o, m, l, 0, w, NULL))) return st;
    if (l->bias && (st = nb__onnx_tensor(o, m, l, 1, b, NULL))) return st;
    nb__onnx_attr a = nb__oa_int("transB", 1);
    nb__onnx_op(o, "Gemm", (const char *[]){x, w, b}, l->bias ? 3 : 2, &a, 1, y);
    snprintf(out, cap, "%s", y);
    return NB_OK;
}

int nb_model_add_dense(nb_model *m, int units, int bias)
{
    nb__layer l = {.type = NB_LAYER_DENSE, .units = units, .bias = bias};
    return nb__layer_add(m, &l);
}

const nb__layer_def nb__layer_dense = {
    .word = "dense", .aliases = aliases, .parse = parse, .check = check, .text = text, .infer = infer,
    .tensors = tensors, .build = build, .init = nb__init_weight_bias, .onnx = onnx,
};
