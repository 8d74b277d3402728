/* SPDX-License-Identifier: MIT */
/*
 * op_conv.c - conv2d (with optional bias), max / average pooling and global average pooling
 * on NCHW tensors. conv2d is computed directly for small first layers, else lowered to
 * matrix products chunk by chunk (below): dW^T += col dY^T, dcol = W^T dY scattered back
 * by col2im.
 */
#include "graph.h"
#include "plan.h"
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

/* Two ways to compute a convolution, chosen from the shapes and flags alone (fixed at
 * compile, the same for every call and thread count):
 *  direct  (conv_direct.c) when the input needs no gradient and each output has few taps -
 *          a first layer on images: no batch-wide lowering, no permutes, no saved state;
 *  lowered otherwise: im2col and matrix products, chunk by chunk of samples.
 * The lowered path works on chunks of samples whose im2col matrix col (K, ns P) stays in
 * the caches (about CHUNK_FLOATS), instead of lowering the whole batch into one matrix that
 * lives in memory: each chunk's col is written, multiplied and permuted while it is hot, and
 * one pass over the samples finishes a chunk and starts the next (nb__conv_pass_run).
 * Backward lowers each chunk again (a copy in cache) rather than keeping the whole batch's
 * col from forward. Chunk boundaries depend on N and the geometry only, and dW and db add
 * the chunks' contributions in chunk order, so results never depend on the thread count.
 * Saved state: two col buffers (K, ns P) (backward scatters one chunk's dcol while the next
 * chunk is lowered into the other), the channel-major output / gradient yc (O, ns P), the
 * bias gradient's per-plane sums (ns, O) for the largest chunk ns, and dW^T (K, O).
 * K = C kh kw, P = OH OW. */
#define CHUNK_FLOATS ((size_t)1 << 18) /* 1 MB: 8 samples of the reference CNN's second conv */

static int conv_is_direct(nb_graph *g, const nb__node *nd, const nb__conv_geom *cg)
{
    return !(nb__in(g, nd, 0)->flags & NB__NEED_GRAD) && nb__conv_direct_ok(cg);
}

/* the number of chunks of the N samples, and the size of the largest */
static size_t conv_chunks(size_t N, size_t K, size_t P, size_t *most)
{
    size_t per = K * P, fit = per >= CHUNK_FLOATS ? 1 : CHUNK_FLOATS / per;
    size_t chunks = N == 0 ? 1 : (N + fit - 1) / fit;
    *most = (N + chunks - 1) / chunks;
    return chunks;
}

static size_t conv_aux(const nb_graph *gc, const nb__node *nd)
{
    nb_graph *g = (nb_graph *)gc;
    nb__conv_geom cg = conv_geom(g, nd);
    if (conv_is_direct(g, nd, &cg)) return 0;
    size_t K = cg.c * (size_t)cg.kh * (size_t)cg.kw, P = cg.oh * cg.ow, N = (size_t)nd->shape[0], ns;
    size_t O = (size_t)g->nodes[nd->in[1]].shape[0], per, cols, bytes, sums;
    conv_chunks(N, K, P, &ns);
    if (!nb__add_size(2 * K, O, &per) || !nb__mul_size(ns, P, &cols) || !nb__mul_size(per, cols, &bytes) ||
        !nb__add_size(ns, K, &sums) || !nb__mul_size(sums, O, &sums) || !nb__add_size(bytes, sums, &bytes) ||
        !nb__mul_size(bytes, sizeof(float), &bytes))
        return SIZE_MAX;
    return bytes;
}

/* samples [*s0, *s0 + *n) of chunk c of `chunks` */
static void chunk_of(size_t N, size_t chunks, size_t c, size_t *s0, size_t *n)
{
    *s0 = N * c / chunks;
    *n = N * (c + 1) / chunks - *s0;
}

static int conv_fwd(nb_graph *g, nb__node *nd)
{
    const nb__node *x = nb__in(g, nd, 0), *w = nb__in(g, nd, 1);
    nb__conv_geom cg = conv_geom(g, nd);
    size_t N = (size_t)x->shape[0], O = (size_t)w->shape[0], K = cg.c * (size_t)cg.kh * (size_t)cg.kw, P = cg.oh * cg.ow;
    size_t CHW = cg.c * cg.h * cg.w, ns, s0, n;
    const float *b = nd->n_in == 3 ? nb__in(g, nd, 2)->val : NULL;
    if (conv_is_direct(g, nd, &cg)) {
        nb__conv_direct_fwd(&cg, N, O, x->val, w->val, b, nd->val);
        return NB_OK;
    }
    size_t chunks = conv_chunks(N, K, P, &ns);
    float *col = nd->aux, *yc = col + 2 * K * ns * P;
    /* im2col by samples: the product splits yc, and so its reads of col, by columns */
    nb__conv_pass p = {&cg, O, 0, NULL, b, NULL, NULL, NULL, 0, NULL, col, NULL, NULL, NULL, 0};
    chunk_of(N, chunks, 0, &s0, &n);
    /* the flat geometry's product packs its operand straight from x: no col, no lowering
     * pass, the same bits (nb__conv_gemm_fwd); each chunk's yc is then permuted as below */
    if (nb__conv_gemm_fwd(&cg, n, O, x->val + s0 * CHW, w->val, yc))
        for (size_t c = 0;;) {
            p.na = n, p.yc = yc, p.y = nd->val + s0 * O * P;
            nb__conv_pass_run(&p);
            if (++c == chunks) return NB_OK;
            chunk_of(N, chunks, c, &s0, &n);
            nb__conv_gemm_fwd(&cg, n, O, x->val + s0 * CHW, w->val, yc);
        }
    p.nb = n, p.x = x->val + s0 * CHW;
    nb__conv_pass_run(&p); /* lower chunk 0 */
    for (size_t c = 0; c < chunks; c++) {
        chunk_of(N, chunks, c, &s0, &n);
        nb__gemm(0, 0, O, n * P, K, 1.0f, w->val, K, col, n * P, 0.0f, yc, n * P); /* yc (O, n P) = W (O, K) col */
        p.na = n, p.yc = yc, p.y = nd->val + s0 * O * P; /* (O, n, P) + b -> (n, O, P) */
        p.nb = 0, p.x = NULL;
        if (c + 1 < chunks) { /* and lower the next chunk: col is free, yc is only read */
            chunk_of(N, chunks, c + 1, &s0, &n);
            p.nb = n, p.x = x->val + s0 * CHW;
        }
        nb__conv_pass_run(&p);
    }
    return NB_OK;
}

static void conv_bwd(nb_graph *g, nb__node *nd)
{
    nb__node *x = nb__in(g, nd, 0), *w = nb__in(g, nd, 1), *b = nd->n_in == 3 ? nb__in(g, nd, 2) : NULL;
    nb__conv_geom cg = conv_geom(g, nd);
    size_t N = (size_t)x->shape[0], O = (size_t)w->shape[0], K = cg.c * (size_t)cg.kh * (size_t)cg.kw, P = cg.oh * cg.ow;
    size_t CHW = cg.c * cg.h * cg.w, ns, s0, n;
    float *db = b ? b->grad : NULL;
    if (conv_is_direct(g, nd, &cg)) { /* x needs no gradient here */
        nb__conv_direct_bwd(&cg, N, O, x->val, nd->grad, w->grad, db);
        return;
    }
    size_t chunks = conv_chunks(N, K, P, &ns);
    float *cols[2] = {nd->aux, (float *)nd->aux + K * ns * P}, *dyc = cols[1] + K * ns * P, *sums = dyc + O * ns * P;
    float *dwt = sums + ns * O; /* dW^T (K, O), summed over the chunks */
    /* start chunk 0: dY (n, O, P) -> dyc (O, n P) with the plane sums, and col = im2col */
    /* im2col by input channels: dW's product splits its columns, so its reads of col, by rows */
    nb__conv_pass p = {&cg, O, 0, NULL, NULL, NULL, NULL, NULL, 0, NULL, cols[0], NULL, dyc, db ? sums : NULL, 1};
    chunk_of(N, chunks, 0, &s0, &n);
    p.nb = n, p.dy = nd->grad + s0 * O * P, p.x = w->grad ? x->val + s0 * CHW : NULL;
    nb__conv_pass_run(&p);
    for (size_t c = 0; c < chunks; c++) {
        float *col = cols[c % 2];
        chunk_of(N, chunks, c, &s0, &n);
        size_t NP = n * P, a0 = s0;
        if (db) /* db[o] += each sample's plane sum, in sample order */
            for (size_t s = 0; s < n; s++)
                for (size_t o = 0; o < O; o++) db[o] += sums[s * O + o];
        /* dW^T (K, O) (+)= col dY^T: K = C kh kw rows split evenly over threads (dW's 32 x 144
         * would split its 144 columns 64 | 80), each thread reading the rows of col it lowered */
        if (w->grad) nb__gemm(0, 1, K, O, NP, 1.0f, col, NP, dyc, NP, c == 0 ? 0.0f : 1.0f, dwt, O);
        /* dcol = W^T dY, over col, by rows as well: each thread overwrites the rows of col it
         * lowered and then scatters them (col2im by input channels) - split by columns, half
         * of every thread's writes and reads were lines the other core held (measured on two
         * dies: the product did not run faster on 2 threads than on 1) */
        if (x->grad) nb__gemm_rows(1, 0, K, NP, O, 1.0f, w->val, K, dyc, NP, 0.0f, col, NP);
        /* one pass: scatter this chunk's dcol into dx, start the next chunk into the other col */
        p.na = x->grad ? n : 0, p.dcol = x->grad ? col : NULL, p.dx = x->grad ? x->grad + a0 * CHW : NULL;
        p.nb = 0, p.dy = NULL, p.x = NULL;
        if (c + 1 < chunks) {
            chunk_of(N, chunks, c + 1, &s0, &n);
            p.nb = n, p.dy = nd->grad + s0 * O * P, p.col = cols[(c + 1) % 2];
            p.x = w->grad ? x->val + s0 * CHW : NULL;
        }
        nb__conv_pass_run(&p);
    }
    if (w->grad)
        for (size_t o = 0; o < O; o++)
            for (size_t k = 0; k < K; k++) w->grad[o * K + k] += dwt[k * O + o];
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
    /* the forward layout (evaluation) is never followed by a backward: no arg-max to save */
    nb__maxpool_fwd(&cg, (size_t)(x->shape[0] * x->shape[1]), x->val, nd->val, g->plan_kind == NB__PLAN_FORWARD ? NULL : nd->aux,
                    (nd->flags & NB__RELU_AFTER) != 0);
    return NB_OK;
}

static void maxpool_bwd(nb_graph *g, nb__node *nd)
{
    nb__node *x = nb__in(g, nd, 0);
    if (!x->grad) return;
    nb__conv_geom cg = pool_geom(g, nd);
    nb__maxpool_bwd(&cg, (size_t)(x->shape[0] * x->shape[1]), nd->aux, nd->grad, x->grad, nb__grad_write(nd, 0));
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

const nb__op_def nb__op_conv2d = {"conv2d", 2, 3, conv_infer, conv_aux, conv_fwd, conv_bwd, NB__WRITES_NONE};
const nb__op_def nb__op_maxpool2d = {"maxpool2d", 1, 1, pool_infer, maxpool_aux, maxpool_fwd, maxpool_bwd, NB__WRITES_ALL};
const nb__op_def nb__op_avgpool2d = {"avgpool2d", 1, 1, pool_infer, NULL, avgpool_fwd, avgpool_bwd, NB__WRITES_NONE};
const nb__op_def nb__op_global_avgpool = {"global_avgpool", 1, 1, gap_infer, NULL, gap_fwd, gap_bwd, NB__WRITES_NONE};
