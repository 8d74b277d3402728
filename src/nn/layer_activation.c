/* SPDX-License-Identifier: MIT */
/*
 * layer_activation.c - the activation layers: one layer kind driven by the table below, one
 * line per spec word (its operator, its argument and that argument's default); a later line
 * with an operator already listed is an alias (swish), written back as the first word.
 * Each builds one operator over its input. A trailing softmax (classify) or sigmoid (binary,
 * multilabel) is the output activation: the fused loss reads the logits before it, so it is
 * not built.
 */
#include "layer.h"
#include "onnx.h"

#include <math.h>

enum {
    ARG_NONE,   /* no argument */
    ARG_NUMBER, /* an optional number (attr.alpha); 0 or none means the default */
    ARG_PIECES  /* a required whole number 1..1024 (attr.k) */
};

static const struct {
    const char *word;
    nb_op_type op;
    int arg;
    float dflt;
} acts[] = {
    {"sigmoid", NB_OP_SIGMOID, ARG_NONE, 0},         {"tanh", NB_OP_TANH, ARG_NONE, 0},
    {"relu", NB_OP_RELU, ARG_NONE, 0},               {"leaky_relu", NB_OP_LEAKY_RELU, ARG_NUMBER, 0.01f},
    {"elu", NB_OP_ELU, ARG_NUMBER, 1.0f},            {"softplus", NB_OP_SOFTPLUS, ARG_NONE, 0},
    {"identity", NB_OP_IDENTITY, ARG_NONE, 0},       {"step", NB_OP_STEP, ARG_NONE, 0},
    {"softmax", NB_OP_SOFTMAX, ARG_NONE, 0},         {"log_softmax", NB_OP_LOG_SOFTMAX, ARG_NONE, 0},
    {"maxout", NB_OP_MAXOUT, ARG_PIECES, 0},         {"silu", NB_OP_SILU, ARG_NONE, 0},
    {"swish", NB_OP_SILU, ARG_NONE, 0},
};
#define N_ACTS ((int)(sizeof acts / sizeof acts[0]))

static int by_word(const char *word)
{
    for (int i = 0; i < N_ACTS; i++)
        if (strcmp(word, acts[i].word) == 0) return i;
    return -1;
}

static int by_op(nb_op_type op)
{
    for (int i = 0; i < N_ACTS; i++)
        if (acts[i].op == op) return i;
    return -1;
}

static int match(const char *word) { return by_word(word) >= 0; }

static int parse(const nb__words *s, nb__layer *l)
{
    int a = by_word(s->w[0]), arg = acts[a].arg;
    double v = 0;
    if (s->n > 1 + (arg != ARG_NONE) || (arg == ARG_PIECES && s->n != 2))
        return nb__fail(NB_ERR_FORMAT, "spec:%d: '%s' takes %s", s->line, s->w[0],
                        arg == ARG_PIECES ? "one whole number" : arg ? "at most one number" : "no argument");
    if (s->n == 2 && !nb__arg_number(s->w[1], &v))
        return nb__fail(NB_ERR_FORMAT, "spec:%d: '%s': '%s' is not a number", s->line, s->w[0], s->w[1]);
    l->op = acts[a].op;
    l->param = (float)v;
    return NB_OK;
}

/* the builder's contract (nabla.h): 0 means the default, no-argument ops keep 0 */
static int check(nb__layer *l)
{
    int a = by_op(l->op);
    if (a < 0) return nb__fail(NB_ERR_ARG, "%s is not an activation layer", nb_op_name(l->op));
    l->word = acts[a].word;
    if (acts[a].arg == ARG_NONE) l->param = 0;
    if (acts[a].arg == ARG_NUMBER && l->param == 0) l->param = acts[a].dflt;
    if (acts[a].arg == ARG_PIECES && !(l->param >= 1 && l->param == floorf(l->param) && l->param <= 1024))
        return nb__fail(NB_ERR_ARG, "%s: k must be a whole number >= 1, got %g", l->word, (double)l->param);
    if (!(l->param == l->param && fabsf(l->param) < 1e30f)) return nb__fail(NB_ERR_ARG, "%s: bad parameter", l->word);
    return NB_OK;
}

static void text(const nb__layer *l, char *buf, size_t cap)
{
    if (acts[by_op(l->op)].arg != ARG_NONE) nb__fmt_param(buf, cap, l->word, l->param);
    else snprintf(buf, cap, "%s", l->word);
}

static int infer(const nb__layer *l, int in_rank, const int64_t *in, nb__layer_shape *out)
{
    char buf[96];
    out->flops = nb__shape_copy(out, in_rank, in);
    if (acts[by_op(l->op)].arg == ARG_PIECES) { /* maxout: (units * k) -> (units) */
        int k = (int)l->param;
        if (in_rank != 1 || in[0] % k != 0)
            return nb__fail(NB_ERR_SHAPE, "needs (units * %d) input, got %s per sample", k, nb__shape_str(in_rank, in, buf, sizeof buf));
        out->shape[0] = in[0] / k;
    }
    return NB_OK;
}

static int is_output(const nb_model *m, const nb__layer *l)
{
    if (m->task == NB_TASK_CLASSIFY) return l->op == NB_OP_SOFTMAX;
    if (m->task == NB_TASK_BINARY || m->task == NB_TASK_MULTILABEL) return l->op == NB_OP_SIGMOID;
    return 0;
}

static int build(nb_model *m, int i, const nb__tensor_def *t, nb_node *cur)
{
    const nb__layer *l = &m->layers[i];
    (void)t;
    if (i == m->n_layers - 1 && is_output(m, l)) return NB_OK; /* the loss's business */
    nb_attr at;
    memset(&at, 0, sizeof at);
    at.axis = -1; /* softmax and log_softmax: along the last axis; the others read no axis */
    at.alpha = l->param; /* leaky_relu's slope, elu's alpha; 0 for the others */
    if (acts[by_op(l->op)].arg == ARG_PIECES) at.k = (int)l->param;
    *cur = nb_op(m->g, l->op, 1, cur, &at);
    return NB_OK;
}

/* Each activation in opset 13 operators computing nabla's definition (src/ops/activ.c):
 * step is x > 0 (0 at 0): Relu(Sign(x)), which OpenCV's dnn runs too (not Greater + Cast); silu x sigmoid(x): Mul(x, Sigmoid(x)); maxout
 * unit j the max of inputs j k .. j k + k - 1: Reshape (C, k) then ReduceMax over k; softmax
 * and log_softmax along the last axis. The output activation (not built) adds no node: the
 * graph's outputs apply it (onnx_export.c) */
static int onnx(nb__onnx *o, const nb_model *m, int i, const nb__layer *l, const char *in, char *out, size_t cap)
{
    char y[NB__ONNX_NAME], t[NB__ONNX_NAME];
    nb__onnx_attr a;
    if (i == m->n_layers - 1 && is_output(m, l)) {
        snprintf(out, cap, "%s", in);
        return NB_OK;
    }
    switch (l->op) {
    case NB_OP_SIGMOID: nb__onnx_op(o, "Sigmoid", &in, 1, NULL, 0, y); break;
    case NB_OP_TANH: nb__onnx_op(o, "Tanh", &in, 1, NULL, 0, y); break;
    case NB_OP_RELU: nb__onnx_op(o, "Relu", &in, 1, NULL, 0, y); break;
    case NB_OP_SOFTPLUS: nb__onnx_op(o, "Softplus", &in, 1, NULL, 0, y); break;
    case NB_OP_IDENTITY: nb__onnx_op(o, "Identity", &in, 1, NULL, 0, y); break;
    case NB_OP_LEAKY_RELU:
        a = nb__oa_float("alpha", l->param);
        nb__onnx_op(o, "LeakyRelu", &in, 1, &a, 1, y);
        break;
    case NB_OP_ELU:
        a = nb__oa_float("alpha", l->param);
        nb__onnx_op(o, "Elu", &in, 1, &a, 1, y);
        break;
    case NB_OP_SOFTMAX: case NB_OP_LOG_SOFTMAX:
        a = nb__oa_int("axis", -1);
        nb__onnx_op(o, l->op == NB_OP_SOFTMAX ? "Softmax" : "LogSoftmax", &in, 1, &a, 1, y);
        break;
    case NB_OP_STEP: /* sign(x) is -1, 0 or 1: its relu is 1 exactly where x > 0 */
        nb__onnx_op(o, "Sign", &in, 1, NULL, 0, t);
        nb__onnx_op(o, "Relu", (const char *[]){t}, 1, NULL, 0, y);
        break;
    case NB_OP_SILU:
        nb__onnx_op(o, "Sigmoid", &in, 1, NULL, 0, t);
        nb__onnx_op(o, "Mul", (const char *[]){in, t}, 2, NULL, 0, y);
        break;
    case NB_OP_MAXOUT: {
        int64_t k = (int64_t)l->param;
        nb__onnx_reshape(o, in, 2, (const int64_t[]){l->out_shape[0], k}, t);
        a = nb__oa_ints("axes", 1, (const int64_t[]){2});
        nb__onnx_attr keep = nb__oa_int("keepdims", 0), both[2] = {a, keep};
        nb__onnx_op(o, "ReduceMax", (const char *[]){t}, 1, both, 2, y);
        break;
    }
    default:
        return nb__fail(NB_ERR_ARG, "%s has no ONNX form", l->word);
    }
    snprintf(out, cap, "%s", y);
    return NB_OK;
}

int nb_model_add_activation(nb_model *m, nb_op_type op, float param)
{
    nb__layer l = {.type = NB_LAYER_ACTIVATION, .op = op, .param = param};
    return nb__layer_add(m, &l);
}

const nb__layer_def nb__layer_activation = {
    .match = match, .parse = parse, .check = check, .text = text, .infer = infer, .build = build, .onnx = onnx,
};
