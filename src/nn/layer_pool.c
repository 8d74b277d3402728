/* SPDX-License-Identifier: MIT */
/*
 * layer_pool.c - pooling layers over (C, H, W) samples: max and average pooling (PyTorch's
 * nn.MaxPool2d / nn.AvgPool2d: the stride defaults to the window, zero padding of at most
 * half the window, counted by the average) and global average pooling (C, H, W) -> (C).
 * Max and average pooling are two kinds that share every function here.
 */
#include "layer.h"
#include "onnx.h"

static int pool_parse(const nb__words *s, nb__layer *l)
{
    const char *w0 = s->w[0];
    int dil[2], bias, st;
    if (s->n < 2 || !nb__arg_pair(s->w[1], 1, l->kernel))
        return nb__fail(NB_ERR_FORMAT, "spec:%d: '%s' takes a window size, e.g. %s 2", s->line, w0, w0);
    if ((st = nb__arg_window(s, 2, 0, l->stride, l->pad, dil, &bias))) return st;
    if (!l->stride[0]) l->stride[0] = l->kernel[0], l->stride[1] = l->kernel[1]; /* not given: the window */
    return NB_OK;
}

static int pool_check(nb__layer *l)
{
    l->dilation[0] = l->dilation[1] = 1;
    if (l->kernel[0] < 1 || l->kernel[1] < 1 || l->stride[0] < 1 || l->stride[1] < 1 || l->pad[0] < 0 || l->pad[1] < 0 ||
        2 * l->pad[0] > l->kernel[0] || 2 * l->pad[1] > l->kernel[1])
        return nb__fail(NB_ERR_ARG, "%s: kernel and stride must be >= 1, padding between 0 and half the kernel", l->word);
    return NB_OK;
}

static void pool_text(const nb__layer *l, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s ", l->word);
    nb__text_pair(buf, cap, "", l->kernel, -1);
    if (l->stride[0] != l->kernel[0] || l->stride[1] != l->kernel[1]) nb__text_pair(buf, cap, "stride ", l->stride, -1);
    nb__text_pair(buf, cap, "pad ", l->pad, 0);
}

static int pool_infer(const nb__layer *l, int in_rank, const int64_t *in, nb__layer_shape *out)
{
    char buf[96];
    if (in_rank != 3) return nb__fail(NB_ERR_SHAPE, "needs (C, H, W) input, got %s per sample", nb__shape_str(in_rank, in, buf, sizeof buf));
    int64_t oh = nb__window_out(in[1], l->kernel[0], l->stride[0], l->pad[0], 1);
    int64_t ow = nb__window_out(in[2], l->kernel[1], l->stride[1], l->pad[1], 1);
    if (oh == 0 || ow == 0)
        return nb__fail(NB_ERR_SHAPE, "the %dx%d window is larger than the padded input %s", l->kernel[0], l->kernel[1],
                        nb__shape_str(in_rank, in, buf, sizeof buf));
    out->rank = 3;
    out->shape[0] = in[0], out->shape[1] = oh, out->shape[2] = ow;
    out->flops = nb__numel_d(3, out->shape) * l->kernel[0] * l->kernel[1];
    return NB_OK;
}

static int pool_build(nb_model *m, int i, const nb__tensor_def *t, nb_node *cur)
{
    const nb__layer *l = &m->layers[i];
    (void)t;
    if (l->type == NB_LAYER_MAXPOOL && i > 0 && nb__relu_then_maxpool(m, i - 1)) /* the ReLU before it, after it */
        *cur = nb__maxpool2d_relu(m->g, *cur, l->kernel, l->stride, l->pad);
    else *cur = (l->type == NB_LAYER_MAXPOOL ? nb_maxpool2d : nb_avgpool2d)(m->g, *cur, l->kernel, l->stride, l->pad);
    return NB_OK;
}

/* MaxPool (padding never wins, as nabla's -infinity) or AveragePool with count_include_pad=1
 * (nabla divides by the full window, padding included); floor mode, as nb__window_out */
static int pool_onnx(nb__onnx *o, const nb_model *m, int i, const nb__layer *l, const char *in, char *out, size_t cap)
{
    char y[NB__ONNX_NAME];
    (void)m, (void)i;
    int64_t k[2] = {l->kernel[0], l->kernel[1]}, s[2] = {l->stride[0], l->stride[1]};
    int64_t p[4] = {l->pad[0], l->pad[1], l->pad[0], l->pad[1]};
    nb__onnx_attr a[4] = {nb__oa_ints("kernel_shape", 2, k), nb__oa_ints("strides", 2, s), nb__oa_ints("pads", 4, p),
                          nb__oa_int("count_include_pad", 1)};
    int avg = l->type == NB_LAYER_AVGPOOL;
    nb__onnx_op(o, avg ? "AveragePool" : "MaxPool", (const char *[]){in}, 1, a, avg ? 4 : 3, y);
    snprintf(out, cap, "%s", y);
    return NB_OK;
}

int nb_model_add_pool(nb_model *m, nb_layer_type type, const int kernel[2], const int stride[2], const int pad[2])
{
    if (type != NB_LAYER_MAXPOOL && type != NB_LAYER_AVGPOOL)
        return nb__fail(NB_ERR_ARG, "pool: type must be NB_LAYER_MAXPOOL or NB_LAYER_AVGPOOL");
    if (!m || !kernel) return nb__fail(NB_ERR_ARG, "pool: %s is NULL", !m ? "model" : "kernel");
    nb__layer l = {.type = type};
    const int *st = stride ? stride : kernel, zero[2] = {0, 0};
    for (int d = 0; d < 2; d++) {
        l.kernel[d] = kernel ? kernel[d] : 0;
        l.stride[d] = st ? st[d] : 1;
        l.pad[d] = (pad ? pad : zero)[d];
    }
    return nb__layer_add(m, &l);
}

const nb__layer_def nb__layer_maxpool = {
    .word = "maxpool", .parse = pool_parse, .check = pool_check, .text = pool_text, .infer = pool_infer, .build = pool_build,
    .onnx = pool_onnx,
};
const nb__layer_def nb__layer_avgpool = {
    .word = "avgpool", .parse = pool_parse, .check = pool_check, .text = pool_text, .infer = pool_infer, .build = pool_build,
    .onnx = pool_onnx,
};

/* ---------------------------------------------------------------- global average pooling */

static const char *const gap_aliases[] = {"global_avgpool", NULL};

static int gap_infer(const nb__layer *l, int in_rank, const int64_t *in, nb__layer_shape *out)
{
    char buf[96];
    (void)l;
    if (in_rank != 3) return nb__fail(NB_ERR_SHAPE, "needs (C, H, W) input, got %s per sample", nb__shape_str(in_rank, in, buf, sizeof buf));
    out->rank = 1;
    out->shape[0] = in[0];
    out->flops = nb__numel_d(in_rank, in);
    return NB_OK;
}

static int gap_build(nb_model *m, int i, const nb__tensor_def *t, nb_node *cur)
{
    (void)i, (void)t;
    *cur = nb_global_avgpool(m->g, *cur);
    return NB_OK;
}

/* GlobalAveragePool gives (N, C, 1, 1); nabla's is (N, C) */
static int gap_onnx(nb__onnx *o, const nb_model *m, int i, const nb__layer *l, const char *in, char *out, size_t cap)
{
    char p[NB__ONNX_NAME], y[NB__ONNX_NAME];
    nb__onnx_attr a = nb__oa_int("axis", 1);
    (void)m, (void)i, (void)l;
    nb__onnx_op(o, "GlobalAveragePool", (const char *[]){in}, 1, NULL, 0, p);
    nb__onnx_op(o, "Flatten", (const char *[]){p}, 1, &a, 1, y);
    snprintf(out, cap, "%s", y);
    return NB_OK;
}

int nb_model_add_global_avgpool(nb_model *m)
{
    nb__layer l = {.type = NB_LAYER_GLOBAL_AVGPOOL};
    return nb__layer_add(m, &l);
}

const nb__layer_def nb__layer_gap = {
    .word = "gap", .aliases = gap_aliases, .parse = nb__parse_none, .text = nb__text_word, .infer = gap_infer, .build = gap_build,
    .onnx = gap_onnx,
};
