/* SPDX-License-Identifier: MIT */
/*
 * layer_flatten.c - flatten, PyTorch's nn.Flatten(): (C, H, W) per sample -> (C*H*W).
 * No tensors, no flops: the graph's reshape copies the values.
 */
#include "layer.h"
#include "onnx.h"

static int infer(const nb__layer *l, int in_rank, const int64_t *in, nb__layer_shape *out)
{
    (void)l;
    out->rank = 1;
    out->shape[0] = 1;
    for (int d = 0; d < in_rank; d++) out->shape[0] *= in[d]; /* nb__model_plan bounds it */
    return NB_OK;
}

static int build(nb_model *m, int i, const nb__tensor_def *t, nb_node *cur)
{
    (void)i, (void)t;
    *cur = nb_flatten(m->g, *cur);
    return NB_OK;
}

static int onnx(nb__onnx *o, const nb_model *m, int i, const nb__layer *l, const char *in, char *out, size_t cap)
{
    char y[NB__ONNX_NAME];
    nb__onnx_attr a = nb__oa_int("axis", 1);
    (void)m, (void)i, (void)l;
    nb__onnx_op(o, "Flatten", (const char *[]){in}, 1, &a, 1, y);
    snprintf(out, cap, "%s", y);
    return NB_OK;
}

int nb_model_add_flatten(nb_model *m)
{
    nb__layer l = {.type = NB_LAYER_FLATTEN};
    return nb__layer_add(m, &l);
}

const nb__layer_def nb__layer_flatten = {.word = "flatten", .parse = nb__parse_none, .text = nb__text_word, .infer = infer, .build = build,
                                      .onnx = onnx};
