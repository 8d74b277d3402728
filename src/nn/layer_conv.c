/* SPDX-License-Identifier: MIT */
/*
 * layer_conv.c - the 2-D convolution layer, PyTorch's nn.Conv2d: out_channels filters
 * W (out, C, kh, kw) and bias b (out) over (C, H, W) samples, with per-axis stride, zero
 * padding and dilation. Spec: conv N KxK [stride S] [pad P] [dilation D] [nobias].
 */
#include "layer.h"
#include "onnx.h"

static const char *const aliases[] = {"conv2d", NULL};

static int parse(const nb__words *s, nb__layer *l)
{
    int st;
    l->bias = 1;
    l->stride[0] = l->stride[1] = l->dilation[0] = l->dilation[1] = 1;
    if (s->n < 3 || !nb__arg_whole(s->w[1], 1, 1e6, &l->units) || !nb__arg_pair(s->w[2], 1, l->kernel))
        return nb__fail(NB_ERR_FORMAT, "spec:%d: 'conv' takes output channels and a kernel size, e.g. conv 16 3x3 pad 1", s->line);
    if ((st = nb__arg_window(s, 3, 1, l->stride, l->pad, l->dilation, &l->bias))) return st;
    return NB_OK;
}

static int check(nb__layer *l)
{
    if (l->units < 1 || l->units > 1000000)
        return nb__fail(NB_ERR_ARG, "conv: output channels must be >= 1, got %d", l->units);
    if (l->kernel[0] < 1 || l->kernel[1] < 1 || l->kernel[0] > 4096 || l->kernel[1] > 4096 || l->stride[0] < 1 ||
        l->stride[1] < 1 || l->pad[0] < 0 || l->pad[1] < 0 || l->dilation[0] < 1 || l->dilation[1] < 1)
        return nb__fail(NB_ERR_ARG, "conv: kernel, stride and dilation must be >= 1 and padding >= 0");
    l->bias = l->bias != 0;
    return NB_OK;
}

static void text(const nb__layer *l, char *buf, size_t cap)
{
    snprintf(buf, cap, "conv %d %dx%d", l->units, l->kernel[0], l->kernel[1]);
    nb__text_pair(buf, cap, "stride ", l->stride, 1);
    nb__text_pair(buf, cap, "pad ", l->pad, 0);
    nb__text_pair(buf, cap, "dilation ", l->dilation, 1);
    if (!l->bias) snprintf(buf + strlen(buf), cap - strlen(buf), " nobias");
}

static int infer(const nb__layer *l, int in_rank, const int64_t *in, nb__layer_shape *out)
{
    char buf[96];
    if (in_rank != 3)
        return nb__fail(NB_ERR_SHAPE, "needs image input (C, H, W), got %s per sample; give images (IDX) or a sample shape (nb_dataset_set_sample_shape)",
                        nb__shape_str(in_rank, in, buf, sizeof buf));
    int64_t oh = nb__window_out(in[1], l->kernel[0], l->stride[0], l->pad[0], l->dilation[0]);
    int64_t ow = nb__window_out(in[2], l->kernel[1], l->stride[1], l->pad[1], l->dilation[1]);
    if (oh == 0 || ow == 0)
        return nb__fail(NB_ERR_SHAPE, "the %dx%d kernel (dilation %dx%d) is larger than the padded input %s",
                        l->kernel[0], l->kernel[1], l->dilation[0], l->dilation[1], nb__shape_str(in_rank, in, buf, sizeof buf));
    out->rank = 3;
    out->shape[0] = l->units, out->shape[1] = oh, out->shape[2] = ow;
    double out_elems = nb__numel_d(3, out->shape), taps = (double)in[0] * l->kernel[0] * l->kernel[1];
    /* per output element: C_in*kh*kw multiply-adds (+ bias) */
    out->flops = out_elems * (2.0 * (double)in[0] * l->kernel[0] * l->kernel[1] + (l->bias ? 1 : 0));
    out->scratch = taps * (double)oh * (double)ow; /* the im2col matrix (C kh kw, OH OW) */
    return NB_OK;
}

static int tensors(const nb__layer *l, nb__tensor_def t[NB__LAYER_MAX_TENSORS])
{
    nb__tensor_set(&t[0], "weight", 1, 4, (int64_t[]){l->units, l->in_shape[0], l->kernel[0], l->kernel[1]});
    nb__tensor_set(&t[1], "bias", 1, 1, (int64_t[]){l->units});
    return l->bias ? 2 : 1;
}

static int build(nb_model *m, int i, const nb__tensor_def *t, nb_node *cur)
{
    const nb__layer *l = &m->layers[i];
    nb_node w = nb__layer_tensor_new(m, i, &t[0]);
    if (!l->bias) {
        *cur = nb_conv2d(m->g, *cur, w, l->stride, l->pad, l->dilation);
        return NB_OK;
    }
    nb_node b = nb__layer_tensor_new(m, i, &t[1]);
    *cur = nb_conv2d_bias(m->g, *cur, w, b, l->stride, l->pad, l->dilation);
    return NB_OK;
}

/* NULL stride, pad or dilation means 1, 0, 1 */
static int onnx(nb__onnx *o, const nb_model *m, int i, const nb__layer *l, const char *in, char *out, size_t cap)
{
    char w[NB__ONNX_NAME], b[NB__ONNX_NAME], y[NB__ONNX_NAME];
    int st;
    (void)i;
    if ((st = nb__onnx_tensor(o, m, l, 0, w, NULL))) return st;
    if (l->bias && (st = nb__onnx_tensor(o, m, l, 1, b, NULL))) return st;
    int64_t k[2] = {l->kernel[0], l->kernel[1]}, s[2] = {l->stride[0], l->stride[1]};
    int64_t d[2] = {l->dilation[0], l->dilation[1]}, p[4] = {l->pad[0], l->pad[1], l->pad[0], l->pad[1]};
    nb__onnx_attr a[4] = {nb__oa_ints("kernel_shape", 2, k), nb__oa_ints("strides", 2, s), nb__oa_ints("dilations", 2, d),
                          nb__oa_ints("pads", 4, p)};
    nb__onnx_op(o, "Conv", (const char *[]){in, w, b}, l->bias ? 3 : 2, a, 4, y);
    snprintf(out, cap, "%s", y);
    return NB_OK;
}

static void pair(int dst[2], const int *src, int dflt)
{
    dst[0] = src ? src[0] : dflt;
    dst[1] = src ? src[1] : dflt;
}

int nb_model_add_conv2d(nb_model *m, int out_channels, const int kernel[2], const int stride[2],
                        const int pad[2], const int dilation[2], int bias)
{
    nb__layer l = {.type = NB_LAYER_CONV2D, .units = out_channels, .bias = bias};
    pair(l.kernel, kernel, 0);
    pair(l.stride, stride, 1);
    pair(l.pad, pad, 0);
    pair(l.dilation, dilation, 1);
    return nb__layer_add(m, &l);
}

const nb__layer_def nb__layer_conv2d = {
    .word = "conv", .aliases = aliases, .parse = parse, .check = check, .text = text, .infer = infer,
    .tensors = tensors, .build = build, .init = nb__init_weight_bias, .onnx = onnx,
};
