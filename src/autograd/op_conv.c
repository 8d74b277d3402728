/*
 * op_conv.c - conv2d (with optional bias), max / average pooling and global average pooling
 * on NCHW tensors. conv2d keeps the batch's im2col matrix in its saved state, so backward
 * needs no second lowering: dW += dY col^T, dcol = W^T dY scattered back by col2im.
 */
#include "graph.h"
#include "../ops/ops.h"

static int window_ok(const nb_attr *a)
{
    return a->stride[0] >= 1 && a->stride[1] >= 1 && a->pad[0] >= 0 && a->pad[1] >= 0 &&
           a->dilation[0] >= 1 && a->dilation[1] >= 1;
}

/* the geometry of node nd's window over input x, with kernel kh x kw */
static nb__conv_geom geom(const nb__node *nd, const nb__node *x, int kh, int kw)
{
    nb__conv_geom g;
    g.c = (size_t)x->shape[1], g.h = (size_t)x->shape[2], g.w = (size_t)x->shape[3];
    g.kh = kh, g.kw = kw;
    g.sh = nd->attr.stride[0], g.sw = nd->attr.stride[1];
    g.ph = nd->attr.pad[0], g.pw = nd->attr.pad[1];
    g.dh = nd->attr.dilation[0], g.dw = nd->attr.dilation[1];
    g.oh = nb__conv_out(g.h, kh, g.sh, g.ph, g.dh);
    g.ow = nb__conv_out(g.w, kw, g.sw, g.pw, g.dw);
    return g;
}

/* ---- conv2d: x (N, C, H, W), w (O, C, kh, kw), optional b (O) */

static nb__conv_geom conv_geom(nb_graph *g, const nb__node *nd)
{
    const nb__node *w = nb__in(g, nd, 1);
    return geom(nd, nb__in(g, nd, 0), (int)w->shape[2], (int)w->shape[3]);
}

static int conv_infer(nb_graph *g, nb__node *nd)
{
    const nb__node *x = nb__in(g, nd, 0), *w = nb__in(g, nd, 1);
    if (x->rank != 4 || w->rank != 4) return nb__shape_error(g, nd, "input must be (N, C, H, W) and weights (O, C, kh, kw)");
    if (x->shape[1] != w->shape[1]) return nb__shape_error(g, nd, "input channels differ from the weights' second dimension");
    if (w->shape[2] > 4096 || w->shape[3] > 4096) return nb__shape_error(g, nd, "kernel too large");
    if (nd->n_in == 3) {
        const nb__node *b = nb__in(g, nd, 2);
        if (b->rank != 1 || b->shape[0] != w->shape[0]) return nb__shape_error(g, nd, "bias must be (O)");
    }
    if (!window_ok(&nd->attr)) return nb__shape_error(g, nd, "stride and dilation must be >= 1, padding >= 0");
    nb__conv_geom cg = conv_geom(g, nd);
    if (cg.oh == 0 || cg.ow == 0) return nb__shape_error(g, nd, "the kernel is larger than the padded input");
    int64_t s[4] = {x->shape[0], w->shape[0], (int64_t)cg.oh, (int64_t)cg.ow};
    return nb__set_shape(nd, 4, s);
}

/* Saved state: the im2col matrices of all samples side by side, col (K, N*P), so the whole
 * batch is one GEMM of useful size (per-sample GEMMs of 16 x 784 x 9 starve a BLAS), plus one
 * (O, N*P) matrix for the channel-major output / gradient. K = C kh kw, P = OH OW. */
static size_t conv_aux(const nb_graph *gc, const nb__node *nd)
{
    nb_graph *g = (nb_graph *)gc;
    nb__conv_geom cg = conv_geom(g, nd);
    size_t K = cg.c * (size_t)cg.kh * (size_t)cg.kw, NP = (size_t)nd->shape[0] * cg.oh * cg.ow;
    size_t O = (size_t)g->nodes[nd->in[1]].shape[0], per, bytes;
    if (!nb__add_size(K, O, &per) || !nb__mul_size(per, NP, &bytes) || !nb__mul_size(bytes, sizeof(float), &bytes)) return SIZE_MAX;
    return bytes;
}

static int conv_fwd(nb_graph *g, nb__node *nd)
{
    const nb__node *x = nb__in(g, nd, 0), *w = nb__in(g, nd, 1);
    nb__conv_geom cg = conv_geom(g, nd);
    size_t N = (size_t)x->shape[0], O = (size_t)w->shape[0], K = cg.c * (size_t)cg.kh * (size_t)cg.kw, P = cg.oh * cg.ow;
    float *col = nd->aux, *yc = col + K * N * P;
    nb__im2col_batch(&cg, N, x->val, col); /* sample s fills columns s*P .. s*P+P-1 of col (K, N*P) */
    nb__gemm(0, 0, O, N * P, K, 1.0f, w->val, K, col, N * P, 0.0f, yc, N * P); /* yc (O, NP) = W (O, K) col (K, NP) */
    const float *b = nd->n_in == 3 ? nb__in(g, nd, 2)->val : NULL;
    nb__cnp_to_ncp(N, O, P, yc, b, nd->val); /* (O, N, P) + b -> (N, O, P) */
    return NB_OK;
}

static void conv_bwd(nb_graph *g, nb__node *nd)
{
    nb__node *x = nb__in(g, nd, 0), *w = nb__in(g, nd, 1), *b = nd->n_in == 3 ? nb__in(g, nd, 2) : NULL;
    nb__conv_geom cg = conv_geom(g, nd);
    size_t N = (size_t)x->shape[0], O = (size_t)w->shape[0], K = cg.c * (size_t)cg.kh * (size_t)cg.kw, P = cg.oh * cg.ow;
    float *col = nd->aux, *dyc = col + K * N * P;
    nb__ncp_to_cnp(N, O, P, nd->grad, dyc); /* dY (N, O, P) -> dyc (O, N*P) */
    if (b && b->grad) nb__rows_sum_add(O, N * P, dyc, b->grad); /* db[o] += sum of dyc's row o */
    if (w->grad) nb__gemm(0, 1, O, K, N * P, 1.0f, dyc, N * P, col, N * P, 1.0f, w->grad, K); /* dW += dY col^T */
    if (x->grad) {
        /* col is no longer needed: reuse it for dcol (K, NP) = W^T dY, then scatter back */
        nb__gemm(1, 0, K, N * P, O, 1.0f, w->val, K, dyc, N * P, 0.0f, col, N * P);
        nb__col2im_batch(&cg, N, col, x->grad);
    }
}

/* ---- max / average pooling */

static int pool_infer(nb_graph *g, nb__node *nd)
{
    const nb__node *x = nb__in(g, nd, 0);
    if (x->rank != 4) return nb__shape_error(g, nd, "input must be (N, C, H, W)");
    if (nd->attr.kernel[0] < 1 || nd->attr.kernel[1] < 1 || !window_ok(&nd->attr))
        return nb__shape_error(g, nd, "kernel and stride must be >= 1, padding >= 0");
    if (2 * nd->attr.pad[0] > nd->attr.kernel[0] || 2 * nd->attr.pad[1] > nd->attr.kernel[1])
        return nb__shape_error(g, nd, "padding must be at most half the kernel");
    nb__conv_geom cg = geom(nd, x, nd->attr.kernel[0], nd->attr.kernel[1]);
    if (cg.oh == 0 || cg.ow == 0) return nb__shape_error(g, nd, "the window is larger than the padded input");
    int64_t s[4] = {x->shape[0], x->shape[1], (int64_t)cg.oh, (int64_t)cg.ow};
    return nb__set_shape(nd, 4, s);
}

static nb__conv_geom pool_geom(nb_graph *g, const nb__node *nd)
{
    return geom(nd, nb__in(g, nd, 0), nd->attr.kernel[0], nd->attr.kernel[1]);
}

static size_t maxpool_aux(const nb_graph *g, const nb__node *nd)
{
    (void)g;
    return nd->n * sizeof(int32_t);
}

static int maxpool_fwd(nb_graph *g, nb__node *nd)
{
    nb__conv_geom cg = pool_geom(g, nd);
    const nb__node *x = nb__in(g, nd, 0);
    nb__maxpool_fwd(&cg, (size_t)(x->shape[0] * x->shape[1]), x->val, nd->val, nd->aux);
    return NB_OK;
}

static void maxpool_bwd(nb_graph *g, nb__node *nd)
{
    nb__node *x = nb__in(g, nd, 0);
    if (!x->grad) return;
    nb__conv_geom cg = pool_geom(g, nd);
    nb__maxpool_bwd(&cg, (size_t)(x->shape[0] * x->shape[1]), nd->aux, nd->grad, x->grad);
}

static int avgpool_fwd(nb_graph *g, nb__node *nd)
{
    nb__conv_geom cg = pool_geom(g, nd);
    const nb__node *x = nb__in(g, nd, 0);
    nb__avgpool(&cg, (size_t)(x->shape[0] * x->shape[1]), x->val, nd->val, NULL, NULL);
    return NB_OK;
}

static void avgpool_bwd(nb_graph *g, nb__node *nd)
{
    nb__node *x = nb__in(g, nd, 0);
    if (!x->grad) return;
    nb__conv_geom cg = pool_geom(g, nd);
    nb__avgpool(&cg, (size_t)(x->shape[0] * x->shape[1]), NULL, NULL, nd->grad, x->grad);
}

/* ---- global average pooling: (N, C, H, W) -> (N, C) */

static int gap_infer(nb_graph *g, nb__node *nd)
{
    const nb__node *x = nb__in(g, nd, 0);
    if (x->rank != 4) return nb__shape_error(g, nd, "input must be (N, C, H, W)");
    return nb__set_shape(nd, 2, x->shape);
}

static int gap_fwd(nb_graph *g, nb__node *nd)
{
    const nb__node *x = nb__in(g, nd, 0);
    size_t hw = (size_t)(x->shape[2] * x->shape[3]);
    nb__sum_axis(nd->n, hw, 1, x->val, nd->val);
    for (size_t i = 0; i < nd->n; i++) nd->val[i] /= (float)hw;
    return NB_OK;
}

static void gap_bwd(nb_graph *g, nb__node *nd)
{
    nb__node *x = nb__in(g, nd, 0);
    if (!x->grad) return;
    size_t hw = (size_t)(x->shape[2] * x->shape[3]);
    for (size_t i = 0; i < nd->n; i++)
        for (size_t k = 0; k < hw; k++) x->grad[i * hw + k] += nd->grad[i] / (float)hw;
}

const nb__op_def nb__op_conv2d = {"conv2d", 2, 3, conv_infer, conv_aux, conv_fwd, conv_bwd};
const nb__op_def nb__op_maxpool2d = {"maxpool2d", 1, 1, pool_infer, maxpool_aux, maxpool_fwd, maxpool_bwd};
const nb__op_def nb__op_avgpool2d = {"avgpool2d", 1, 1, pool_infer, NULL, avgpool_fwd, avgpool_bwd};
const nb__op_def nb__op_global_avgpool = {"global_avgpool", 1, 1, gap_infer, NULL, gap_fwd, gap_bwd};
