/* SPDX-License-Identifier: MIT */
/*
 * op_matmul.c - C = op(A) op(B) for 2-D tensors (A^T / B^T chosen by attr.trans_a/trans_b).
 * Backward, from d op(A) = dC op(B)^T and d op(B) = op(A)^T dC, transposed back when the
 * operand was used transposed; each accumulates (beta = 1) or, on an edge the plan marks
 * WRITE, overwrites every element (beta = 0).
 */
#include "graph.h"
#include "plan.h"
#include "../ops/ops.h"

static int matmul_infer(nb_graph *g, nb__node *nd)
{
    const nb__node *a = nb__in(g, nd, 0), *b = nb__in(g, nd, 1);
    if (a->rank != 2 || b->rank != 2) return nb__shape_error(g, nd, "both inputs must be 2-D");
    int64_t m = nd->attr.trans_a ? a->shape[1] : a->shape[0];
    int64_t ka = nd->attr.trans_a ? a->shape[0] : a->shape[1];
    int64_t kb = nd->attr.trans_b ? b->shape[1] : b->shape[0];
    int64_t n = nd->attr.trans_b ? b->shape[0] : b->shape[1];
    if (ka != kb) return nb__shape_error(g, nd, nd->attr.trans_a || nd->attr.trans_b ? "inner dimensions differ (after transposes)" : "inner dimensions differ");
    int64_t s[2] = {m, n};
    return nb__set_shape(nd, 2, s);
}

/* A clone running evaluation forwards (nb__graph_clone: the pieces of one prediction call)
 * packs a parameter B once and reuses it in every piece, instead of packing it again in each
 * product: a dense layer's transposing pack of its weights was 6% of CNN inference in 17-row
 * pieces. The weights cannot change until the caller says so (nb__graph_weights_changed).
 * The product is nb__gemm's bits (nb__gemm_prepacked); 0 where it declines. */
static int prepacked_fwd(nb_graph *g, nb__node *nd, int tb, size_t M, size_t N, size_t K, const float *A, const nb__node *b)
{
    if (!g->wpack && !(g->wpack = nb__calloc((size_t)g->n_nodes, sizeof *g->wpack))) return 0;
    nb__wpack *w = &g->wpack[nd - g->nodes];
    if (w->epoch != g->weights_epoch || !w->buf) {
        size_t need = nb__gemm_prepack_floats(N, K);
        if (need > w->cap) {
            float *p = nb__alloc_array(need, sizeof(float));
            if (!p) return 0;
            nb_free(w->buf);
            w->buf = p, w->cap = need;
        }
        w->tag = nb__gemm_prepack(tb, N, K, b->val, (size_t)b->shape[1], w->buf);
        w->epoch = g->weights_epoch;
    }
    return nb__gemm_prepacked(M, N, K, A, K, w->buf, w->tag, nd->val, N);
}

static int matmul_fwd(nb_graph *g, nb__node *nd)
{
    const nb__node *a = nb__in(g, nd, 0), *b = nb__in(g, nd, 1);
    int ta = nd->attr.trans_a != 0, tb = nd->attr.trans_b != 0;
    size_t M = (size_t)nd->shape[0], N = (size_t)nd->shape[1];
    size_t K = (size_t)(ta ? a->shape[0] : a->shape[1]);
    if (!ta && g->borrowed && g->plan_kind == NB__PLAN_FORWARD && b->op == NB_OP_PARAM &&
        prepacked_fwd(g, nd, tb, M, N, K, a->val, b))
        return NB_OK;
    nb__gemm(ta, tb, M, N, K, 1.0f, a->val, (size_t)a->shape[1], b->val, (size_t)b->shape[1], 0.0f, nd->val, N);
    return NB_OK;
}

static void matmul_bwd(nb_graph *g, nb__node *nd)
{
    nb__node *a = nb__in(g, nd, 0), *b = nb__in(g, nd, 1);
    int ta = nd->attr.trans_a != 0, tb = nd->attr.trans_b != 0;
    size_t M = (size_t)nd->shape[0], N = (size_t)nd->shape[1];
    size_t K = (size_t)(ta ? a->shape[0] : a->shape[1]);
    size_t lda = (size_t)a->shape[1], ldb = (size_t)b->shape[1];
    const float *dC = nd->grad;
    float beta_a = nb__grad_beta(nd, 0), beta_b = nb__grad_beta(nd, 1); /* the plan's edge rule */
    if (a->grad) {
        if (!ta) /* dA (M,K) += dC (M,N) op(B)^T (N,K) */
            nb__gemm(0, !tb, M, K, N, 1.0f, dC, N, b->val, ldb, beta_a, a->grad, lda);
        else /* dA (K,M) += op(B) (K,N) dC^T (N,M) */
            nb__gemm(tb, 1, K, M, N, 1.0f, b->val, ldb, dC, N, beta_a, a->grad, lda);
    }
    if (b->grad) {
        if (!tb) /* dB (K,N) += op(A)^T (K,M) dC (M,N) */
            nb__gemm(!ta, 0, K, N, M, 1.0f, a->val, lda, dC, N, beta_b, b->grad, ldb);
        else /* dB (N,K) += dC^T (N,M) op(A) (M,K), by B's rows as the forward reads them */
            nb__gemm_rows(1, ta, N, K, M, 1.0f, dC, N, a->val, lda, beta_b, b->grad, ldb);
    }
}

const nb__op_def nb__op_matmul = {"matmul", 2, 2, matmul_infer, NULL, matmul_fwd, matmul_bwd, NB__WRITES_ALL};
