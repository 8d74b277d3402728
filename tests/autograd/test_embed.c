/* SPDX-License-Identifier: MIT */
/*
 * test_embed.c - the embedding and sequence-length operators: exact values, the table's
 * gradient against a double-precision sum and nb_gradcheck, the padding row left alone,
 * repeated ids and a table read twice accumulating, bad ids and arguments refused with
 * messages, the same bits for any thread count, and PyTorch's nn.Embedding(padding_idx=0)
 * on tests/ref/embed_ref.txt (made by tests/ref/make_embed_ref.py).
 */
#include "nabla.h"
#include "check.h"
#include "ref_reader.h"
#include "../../src/ops/ops.h"

#include <stdlib.h>

/* table (V, D) parameter filled with t[i] = i + 0.5 * (i % 3), ids (N, T) input; loss =
 * sum(embedding(ids) * w) with w[i] = 1 + i / 8. Returns the loss, sets the nodes. */
static nb_node build(nb_graph *g, int64_t V, int64_t D, int64_t N, int64_t T, int pad, nb_node *ids,
                     nb_node *table, nb_node *y)
{
    int64_t ts[2] = {V, D}, is[2] = {N, T}, ys[3] = {N, T, D};
    *table = nb_param(g, "table", 2, ts);
    *ids = nb_input(g, "ids", 2, is);
    *y = nb_embedding(g, *ids, *table, pad);
    float *w = malloc((size_t)(N * T * D) * sizeof *w);
    for (int64_t i = 0; i < N * T * D; i++) w[i] = 1.0f + (float)i / 8.0f;
    nb_node L = nb_sum_all(g, nb_mul(g, *y, nb_const(g, "w", 3, ys, w)));
    free(w);
    return L;
}

static void fill_table(nb_graph *g, nb_node table)
{
    nb_view v;
    nb_graph_value(g, table, &v);
    for (size_t i = 0; i < v.n; i++) v.data[i] = (float)i + 0.5f * (float)(i % 3);
}

static void set_ids(nb_graph *g, nb_node ids, const float *x)
{
    nb_view v;
    nb_graph_value(g, ids, &v);
    memcpy(v.data, x, v.n * sizeof(float));
}

/* values, the gradient (exact sums of w), padding, repeats */
static void test_values_and_grad(void)
{
    nb_graph *g;
    CHECK_OK(nb_graph_create(&g));
    nb_node ids, table, y;
    const int64_t V = 6, D = 3, N = 2, T = 4;
    nb_node L = build(g, V, D, N, T, 0, &ids, &table, &y);
    CHECK_OK(nb_graph_compile(g));
    fill_table(g, table);
    /* id 2 three times (row 0 twice, row 1 once), id 5 once, padding 0 three times */
    const float x[8] = {2, 2, 5, 0, 3, 2, 0, 0};
    set_ids(g, ids, x);
    CHECK_OK(nb_graph_forward(g, L));
    nb_view yv, tv, gv;
    nb_graph_value(g, y, &yv);
    nb_graph_value(g, table, &tv);
    CHECK(yv.rank == 3 && yv.shape[0] == N && yv.shape[1] == T && yv.shape[2] == D);
    for (int64_t i = 0; i < N * T; i++)
        for (int64_t c = 0; c < D; c++) CHECK(yv.data[i * D + c] == tv.data[(int64_t)x[i] * D + c]);
    nb_graph_zero_grad(g);
    CHECK_OK(nb_graph_backward(g, L));
    nb_graph_grad(g, table, &gv);
    double e[18] = {0};
    for (int64_t i = 0; i < N * T; i++)
        for (int64_t c = 0; c < D; c++)
            if (x[i] != 0) e[(int64_t)x[i] * D + c] += 1.0 + (double)(i * D + c) / 8.0;
    /* the w are multiples of 1/8 below 4: every partial sum is exact in float */
    for (int i = 0; i < 18; i++) CHECK(gv.data[i] == (float)e[i]);
    for (int c = 0; c < D; c++) CHECK(gv.data[c] == 0.0f); /* padding row: no gradient */
    CHECK(gv.data[2 * D] == (float)(1.0 + 0 / 8.0 + 1.0 + 3 / 8.0 + 1.0 + 15 / 8.0)); /* id 2 x3 */
    /* a second backward accumulates into the parameter's gradient; the padding row stays 0 */
    CHECK_OK(nb_graph_backward(g, L));
    for (int i = 0; i < 18; i++) CHECK(gv.data[i] == (float)(2 * e[i]));
    /* nb_gradcheck over the table (padding excluded: give it no padding) */
    nb_graph_free(g);
    CHECK_OK(nb_graph_create(&g));
    L = build(g, V, D, N, T, -1, &ids, &table, &y);
    CHECK_OK(nb_graph_compile(g));
    fill_table(g, table);
    set_ids(g, ids, x);
    nb_gradcheck_entry ent[2];
    int n_out = 0;
    CHECK_OK(nb_gradcheck(g, L, 1e-2f, ent, 2, &n_out));
    CHECK(n_out == 1 && ent[0].node == table && ent[0].max_rel_err < 1e-3);
    CHECK_OK(nb_graph_forward(g, L));
    nb_graph_zero_grad(g);
    CHECK_OK(nb_graph_backward(g, L));
    nb_graph_grad(g, table, &gv);
    double e0 = 0; /* without padding, id 0's row (rows 0 and 1 end in three 0s) gets them */
    for (int i = 0; i < 8; i++)
        if (x[i] == 0) e0 += 1.0 + (double)(i * D) / 8.0;
    CHECK(gv.data[0] == (float)e0);
    nb_graph_free(g);
}

/* the table read by two embeddings: gradients add at the branch */
static void test_branch(void)
{
    nb_graph *g;
    CHECK_OK(nb_graph_create(&g));
    int64_t ts[2] = {4, 2}, is[1] = {3};
    nb_node table = nb_param(g, "table", 2, ts), a = nb_input(g, "a", 1, is), b = nb_input(g, "b", 1, is);
    nb_node L = nb_add(g, nb_sum_all(g, nb_embedding(g, a, table, -1)),
                       nb_sum_all(g, nb_scale(g, nb_embedding(g, b, table, 3), 2.0f)));
    CHECK_OK(nb_graph_compile(g));
    const float xa[3] = {1, 3, 1}, xb[3] = {3, 1, 0};
    set_ids(g, a, xa);
    set_ids(g, b, xb);
    CHECK_OK(nb_graph_forward(g, L));
    nb_graph_zero_grad(g);
    CHECK_OK(nb_graph_backward(g, L));
    nb_view gv;
    nb_graph_grad(g, table, &gv);
    /* row 0: b once (x2); row 1: a twice + b once (x2); row 3: a once, b's is padding */
    const float e[8] = {2, 2, 4, 4, 0, 0, 1, 1};
    for (int i = 0; i < 8; i++) CHECK(gv.data[i] == e[i]);
    nb_graph_free(g);
}

/* bad ids fail the forward with NB_ERR_ARG naming id and position; bad shapes and padding
 * ids fail the builder */
static void test_errors(void)
{
    nb_graph *g;
    CHECK_OK(nb_graph_create(&g));
    nb_node ids, table, y;
    nb_node L = build(g, 10, 2, 2, 3, 0, &ids, &table, &y);
    CHECK_OK(nb_graph_compile(g));
    float x[6] = {1, 2, 3, 4, 5, 10};
    set_ids(g, ids, x);
    CHECK_ERR(nb_graph_forward(g, L), NB_ERR_ARG, "id 10 at position (1, 2)");
    CHECK(strstr(nb_errmsg(), "[0, 10)") != NULL);
    x[5] = 9, x[1] = -1;
    set_ids(g, ids, x);
    CHECK_ERR(nb_graph_forward(g, L), NB_ERR_ARG, "id -1 at position (0, 1)");
    x[1] = 2.5f;
    set_ids(g, ids, x);
    CHECK_ERR(nb_graph_forward(g, L), NB_ERR_ARG, "id 2.5 at position (0, 1)");
    x[1] = NAN;
    set_ids(g, ids, x);
    CHECK_ERR(nb_graph_forward(g, L), NB_ERR_ARG, "id nan at position (0, 1)");
    x[1] = 3e9f; /* beyond int32: refused before any conversion */
    set_ids(g, ids, x);
    CHECK_ERR(nb_graph_forward(g, L), NB_ERR_ARG, "at position (0, 1)");
    x[1] = 9;
    set_ids(g, ids, x);
    CHECK_OK(nb_graph_forward(g, L));
    nb_graph_free(g);

    CHECK_OK(nb_graph_create(&g));
    int64_t ts[2] = {5, 3}, t3[3] = {5, 3, 1}, is[2] = {2, 4}, i4[4] = {1, 1, 1, 1};
    nb_node t = nb_param(g, "table", 2, ts), i2 = nb_input(g, "ids", 2, is);
    CHECK_ERR(-nb_embedding(g, i2, t, 5), NB_ERR_ARG, "padding id 5 is not in [0, 5)");
    nb_graph_free(g);
    CHECK_OK(nb_graph_create(&g));
    t = nb_param(g, "table", 2, ts), i2 = nb_input(g, "ids", 2, is);
    CHECK_ERR(-nb_embedding(g, i2, t, -2), NB_ERR_ARG, "padding id -2");
    nb_graph_free(g);
    CHECK_OK(nb_graph_create(&g));
    nb_node bad = nb_param(g, "table", 3, t3);
    i2 = nb_input(g, "ids", 2, is);
    CHECK_ERR(-nb_embedding(g, i2, bad, 0), NB_ERR_SHAPE, "the table must be (V, D)");
    nb_graph_free(g);
    CHECK_OK(nb_graph_create(&g));
    t = nb_param(g, "table", 2, ts);
    nb_node r4 = nb_input(g, "ids", 4, i4);
    CHECK_ERR(-nb_embedding(g, r4, t, 0), NB_ERR_SHAPE, "ids must have rank 1 to 3");
    nb_graph_free(g);
    CHECK_OK(nb_graph_create(&g));
    int64_t i3[3] = {2, 2, 2};
    CHECK_ERR(-nb_seq_lengths(g, nb_input(g, "ids", 3, i3)), NB_ERR_SHAPE, "ids must be (N, T)");
    nb_graph_free(g);
}

static void test_seq_lengths(void)
{
    nb_graph *g;
    CHECK_OK(nb_graph_create(&g));
    int64_t is[2] = {NB_BATCH, 4};
    nb_node ids = nb_input(g, "ids", 2, is), len = nb_seq_lengths(g, ids);
    CHECK_OK(nb_graph_compile(g));
    const float x[20] = {3, 4, 0, 0, 0, 0, 0, 0, 1, 0, 2, 0, 5, 5, 5, 5, 0, 0, 0, 7};
    CHECK_OK(nb_graph_feed(g, ids, x, 20));
    CHECK_OK(nb_graph_forward(g, len));
    nb_view v;
    nb_graph_value(g, len, &v);
    const float e[5] = {2, 0, 3, 4, 4};
    CHECK(v.n == 5);
    for (int i = 0; i < 5 && i < (int)v.n; i++) CHECK(v.data[i] == e[i]);
    nb_graph_free(g);
}

/* 4096 ids over 50 rows (many repeats) of 80 columns: output and the table's gradient are the
 * same bits on 1, 3 and 4 threads, and the gradient equals the plain loop's */
static void test_threads(void)
{
    const int64_t V = 50, D = 80, N = 64, T = 64;
    float *ref_y = NULL, *ref_g = NULL;
    float *x = malloc((size_t)(N * T) * sizeof *x);
    nb_rng r;
    nb_rng_seed(&r, 15);
    for (int64_t i = 0; i < N * T; i++) x[i] = (float)nb_rng_below(&r, (uint64_t)V);
    const int threads[3] = {1, 3, 4};
    for (int k = 0; k < 3; k++) {
        nb_set_threads(threads[k]);
        nb_graph *g;
        CHECK_OK(nb_graph_create(&g));
        nb_node ids, table, y;
        nb_node L = build(g, V, D, N, T, 7, &ids, &table, &y);
        CHECK_OK(nb_graph_compile(g));
        nb_view tv, yv, gv;
        nb_graph_value(g, table, &tv);
        nb_rng tr;
        nb_rng_seed(&tr, 16); /* the same table on every thread count */
        for (size_t i = 0; i < tv.n; i++) tv.data[i] = nb_rng_uniform(&tr);
        set_ids(g, ids, x);
        CHECK_OK(nb_graph_forward(g, L));
        nb_graph_zero_grad(g);
        CHECK_OK(nb_graph_backward(g, L));
        nb_graph_value(g, y, &yv);
        nb_graph_grad(g, table, &gv);
        if (!ref_y) {
            ref_y = malloc(yv.n * sizeof(float)), ref_g = malloc(gv.n * sizeof(float));
            memcpy(ref_y, yv.data, yv.n * sizeof(float));
            /* the oracle: one plain loop in the order of the ids */
            int32_t *row = malloc((size_t)(N * T) * sizeof *row);
            float *dy = malloc(yv.n * sizeof *dy);
            for (int64_t i = 0; i < N * T; i++) row[i] = (int32_t)x[i];
            for (size_t i = 0; i < yv.n; i++) dy[i] = 1.0f + (float)i / 8.0f;
            memset(ref_g, 0, gv.n * sizeof(float));
            nb__embed_bwd_ref((size_t)(N * T), (size_t)D, row, 7, dy, ref_g);
            free(row), free(dy);
        }
        CHECK(memcmp(ref_y, yv.data, yv.n * sizeof(float)) == 0);
        CHECK(memcmp(ref_g, gv.data, gv.n * sizeof(float)) == 0);
        nb_graph_free(g);
    }
    nb_set_threads(1);
    free(ref_y), free(ref_g), free(x);
}


/* nn.Embedding(V, D, padding_idx=0) and the lengths, from PyTorch */
static void test_pytorch(void)
{
    FILE *f = fopen("tests/ref/embed_ref.txt", "r");
    CHECK(f != NULL);
    if (!f) return;
    char line[256];
    CHECK(fgets(line, sizeof line, f) != NULL); /* header comment */
    ref_t ids = {0}, tab = {0}, dy = {0}, y = {0}, dt = {0}, len = {0};
    int ok = read_tensor(f, "ids", &ids) && read_tensor(f, "table", &tab) && read_tensor(f, "dy", &dy) &&
             read_tensor(f, "y", &y) && read_tensor(f, "dtable", &dt) && read_tensor(f, "lengths", &len);
    fclose(f);
    CHECK(ok);
    if (ok) {
        nb_graph *g;
        nb_graph_create(&g);
        nb_node in = nb_input(g, "ids", 2, ids.shape), t = nb_param(g, "table", 2, tab.shape);
        nb_node yn = nb_embedding(g, in, t, 0), ln = nb_seq_lengths(g, in);
        nb_node L = nb_sum_all(g, nb_mul(g, yn, nb_const(g, "dy", dy.rank, dy.shape, dy.v)));
        CHECK_OK(nb_graph_compile(g));
        nb_view v;
        nb_graph_value(g, t, &v), memcpy(v.data, tab.v, tab.n * sizeof(float));
        set_ids(g, in, ids.v);
        CHECK_OK(nb_graph_forward(g, L));
        CHECK_OK(nb_graph_forward(g, ln));
        nb_graph_zero_grad(g);
        CHECK_OK(nb_graph_backward(g, L));
        /* lookups are copies, and dtable sums at most 3 values per element in the same
         * order: exact, except that PyTorch's CPU scatter may add in another order (1 ulp) */
        nb_graph_value(g, yn, &v);
        CHECK(v.n == y.n && memcmp(v.data, y.v, y.n * sizeof(float)) == 0);
        nb_graph_grad(g, t, &v);
        CHECK(v.n == dt.n);
        for (size_t i = 0; i < dt.n && v.n == dt.n; i++) CHECK_NEAR(v.data[i], dt.v[i], 1e-6, 1e-6);
        nb_graph_value(g, ln, &v);
        CHECK(v.n == len.n && memcmp(v.data, len.v, len.n * sizeof(float)) == 0);
        nb_graph_free(g);
    }
    free(ids.v), free(tab.v), free(dy.v), free(y.v), free(dt.v), free(len.v);
}

int main(void)
{
    test_values_and_grad();
    test_branch();
    test_errors();
    test_seq_lengths();
    test_threads();
    test_pytorch();
    return check_exit("test_embed");
}
