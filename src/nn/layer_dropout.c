/* SPDX-License-Identifier: MIT */
/*
 * layer_dropout.c - inverted dropout, PyTorch's nn.Dropout(p): in training each value is
 * zeroed with probability p and the rest scaled by 1/(1-p); evaluation passes values through.
 * Masks come from the graph's generator, so a seed fixes them.
 */
#include "layer.h"
#include "onnx.h"

static int parse(const nb__words *s, nb__layer *l)
{
    double v;
    if (s->n != 2 || !nb__arg_number(s->w[1], &v) || !(v >= 0 && v < 1))
        return nb__fail(NB_ERR_FORMAT, "spec:%d: 'dropout' takes a probability in [0, 1)", s->line);
    /* p is kept as a float: 0.9999999999 would become 1 (every value dropped) */
    if (!((float)v < 1.0f))
        return nb__fail(NB_ERR_FORMAT, "spec:%d: 'dropout' takes a probability in [0, 1); %s rounds to 1 as a float "
                        "(at most 0.99999994)", s->line, s->w[1]);
    l->param = (float)v;
    return NB_OK;
}

static int check(nb__layer *l)
{
    if (!(l->param >= 0.0f && l->param < 1.0f)) return nb__fail(NB_ERR_ARG, "dropout: p must be in [0, 1), got %g", (double)l->param);
    return NB_OK;
}

static void text(const nb__layer *l, char *buf, size_t cap)
{
    nb__fmt_param(buf, cap, "dropout", l->param);
}

static int infer(const nb__layer *l, int in_rank, const int64_t *in, nb__layer_shape *out)
{
    (void)l;
    out->flops = nb__shape_copy(out, in_rank, in);
    return NB_OK;
}

static int build(nb_model *m, int i, const nb__tensor_def *t, nb_node *cur)
{
    (void)t;
    *cur = nb_dropout(m->g, *cur, m->layers[i].param);
    return NB_OK;
}

/* inference: dropout passes its input through (an Identity keeps the layer visible) */
static int onnx(nb__onnx *o, const nb_model *m, int i, const nb__layer *l, const char *in, char *out, size_t cap)
{
    char y[NB__ONNX_NAME];
    (void)m, (void)i, (void)l;
    nb__onnx_op(o, "Identity", (const char *[]){in}, 1, NULL, 0, y);
    snprintf(out, cap, "%s", y);
    return NB_OK;
}

int nb_model_add_dropout(nb_model *m, float p)
{
    nb__layer l = {.type = NB_LAYER_DROPOUT, .param = p};
    return nb__layer_add(m, &l);
}

const nb__layer_def nb__layer_dropout = {
    .word = "dropout", .parse = parse, .check = check, .text = text, .infer = infer, .build = build, .onnx = onnx,
};
