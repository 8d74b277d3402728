/* SPDX-License-Identifier: MIT */
/*
 * layer_norm.c - batch normalisation, PyTorch's nn.BatchNorm1d after a dense layer (per
 * feature of (C)) and nn.BatchNorm2d after a convolution (per channel of (C, H, W)):
 * trainable weight and bias (C), buffers running_mean, running_var (C) and
 * num_batches_tracked (a scalar counted after every training step); momentum 0.1, eps 1e-5.
 */
#include "layer.h"
#include "onnx.h"

static const char *const aliases[] = {"bn", NULL};

static int infer(const nb__layer *l, int in_rank, const int64_t *in, nb__layer_shape *out)
{
    char buf[96];
    (void)l;
    if (in_rank != 1 && in_rank != 3)
        return nb__fail(NB_ERR_SHAPE, "needs (C) or (C, H, W) input, got %s per sample", nb__shape_str(in_rank, in, buf, sizeof buf));
    out->flops = 4.0 * nb__shape_copy(out, in_rank, in);
    return NB_OK;
}

static int tensors(const nb__layer *l, nb__tensor_def t[NB__LAYER_MAX_TENSORS])
{
    const int64_t *c = l->in_shape; /* (C) */
    nb__tensor_set(&t[0], "weight", 1, 1, c);
    nb__tensor_set(&t[1], "bias", 1, 1, c);
    nb__tensor_set(&t[2], "running_mean", 0, 1, c);
    nb__tensor_set(&t[3], "running_var", 0, 1, c);
    nb__tensor_set(&t[4], "num_batches_tracked", 0, 0, NULL);
    return 5;
}

static int build(nb_model *m, int i, const nb__tensor_def *t, nb_node *cur)
{
    nb_node n[5];
    for (int k = 0; k < 5; k++) n[k] = nb__layer_tensor_new(m, i, &t[k]);
    *cur = nb_batchnorm(m->g, *cur, n[0], n[1], n[2], n[3], 0.1f, 1e-5f);
    return NB_OK;
}

/* PyTorch's reset: weight 1, bias 0, mean 0, variance 1, nothing counted; draws nothing */
static int init(nb_model *m, const nb__layer *l, nb_init how, float scale, nb_rng *r)
{
    static const float v[5] = {1.0f, 0.0f, 0.0f, 1.0f, 0.0f};
    (void)how, (void)scale, (void)r;
    for (int k = 0; k < 5; k++) nb__fill(m->g, nb__layer_tensor(m, l, k), v[k]);
    return NB_OK;
}

/* one more batch in num_batches_tracked */
static void step(nb_model *m, const nb__layer *l)
{
    nb_view v;
    if (!nb_graph_value(m->g, nb__layer_tensor(m, l, 4), &v)) v.data[0] += 1.0f;
}

/* inference with the running statistics, nabla's epsilon 1e-5 (build); (N, C) and
 * (N, C, H, W) alike. num_batches_tracked has no part in it and is not written */
static int onnx(nb__onnx *o, const nb_model *m, int i, const nb__layer *l, const char *in, char *out, size_t cap)
{
    char t[4][NB__ONNX_NAME], y[NB__ONNX_NAME];
    int st;
    (void)i;
    for (int k = 0; k < 4; k++)
        if ((st = nb__onnx_tensor(o, m, l, k, t[k], NULL))) return st;
    nb__onnx_attr a = nb__oa_float("epsilon", 1e-5f);
    nb__onnx_op(o, "BatchNormalization", (const char *[]){in, t[0], t[1], t[2], t[3]}, 5, &a, 1, y);
    snprintf(out, cap, "%s", y);
    return NB_OK;
}

int nb_model_add_batchnorm(nb_model *m)
{
    nb__layer l = {.type = NB_LAYER_BATCHNORM};
    return nb__layer_add(m, &l);
}

const nb__layer_def nb__layer_batchnorm = {
    .word = "batchnorm", .aliases = aliases, .parse = nb__parse_none, .text = nb__text_word, .infer = infer,
    .tensors = tensors, .build = build, .init = init, .step = step, .onnx = onnx,
};
