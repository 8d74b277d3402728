/* SPDX-License-Identifier: MIT */
/*
 * test_gemm.c - nabla's matrix product kernels and its thread pool. Every kernel this CPU
 * runs (the CPU tiers AVX-512, AVX2 and generic, forced in turn) against the double-precision oracle on
 * awkward shapes, transposes, alpha/beta and padded leading dimensions; results bit-identical
 * for 1..4 threads and across the FMA kernels, and for a CNN step; the pool runs every task exactly once
 * across repeated jobs, shutdowns and restarts, and a slow (descheduled) worker holds up only the
 * task it claimed.
 */
#include "nabla.h"
#include "check.h"
#include "../../src/ops/gemm.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

static const nb__isa IMPLS[] = {NB__ISA_GENERIC, NB__ISA_AVX2, NB__ISA_AVX512};
static const char *const IMPL_NAMES[] = {"portable", "avx2", "avx512"};

static size_t nz(size_t n) /* malloc(0) may return NULL */
{
    return n ? n : 1;
}

static float *randn(size_t n, nb_rng *r)
{
    float *p = malloc(nz(n) * sizeof *p);
    for (size_t i = 0; i < n; i++) p[i] = nb_rng_normal(r);
    return p;
}

typedef struct prob {
    int ta, tb;
    size_t M, N, K, lda, ldb, ldc;
    float alpha, beta;
    float *A, *B, *C0; /* C0: C before the product (padding columns hold a sentinel) */
} prob;

/* op(A) (M, K) and op(B) (K, N) stored with leading dimensions `pad` wider than their rows */
static prob make(int ta, int tb, size_t M, size_t N, size_t K, size_t pad, float alpha, float beta, nb_rng *r)
{
    prob p = {ta, tb, M, N, K, (ta ? M : K) + pad, (tb ? K : N) + pad, N + pad, alpha, beta, NULL, NULL, NULL};
    p.A = randn((ta ? K : M) * p.lda, r);
    p.B = randn((tb ? N : K) * p.ldb, r);
    p.C0 = randn(M * p.ldc, r);
    for (size_t i = 0; i < M; i++)
        for (size_t j = N; j < p.ldc; j++) p.C0[i * p.ldc + j] = 12345.0f;
    return p;
}

static void drop(prob *p)
{
    free(p->A), free(p->B), free(p->C0);
}

static float *run(const prob *p, void (*f)(int, int, size_t, size_t, size_t, float, const float *, size_t,
                                           const float *, size_t, float, float *, size_t))
{
    float *C = malloc(nz(p->M * p->ldc) * sizeof *C);
    memcpy(C, p->C0, p->M * p->ldc * sizeof *C);
    f(p->ta, p->tb, p->M, p->N, p->K, p->alpha, p->A, p->lda, p->B, p->ldb, p->beta, C, p->ldc);
    return C;
}

/* Against the oracle. The bound is the classic one for a float sum of K products,
 * |error| <= K u sum|a b| (u = 2^-24), doubled, plus the roundings of alpha and beta terms;
 * sum|a b| comes from the oracle itself run on |A| and |B|. */
static int check_vs_ref(const prob *p, const float *C, const char *what)
{
    size_t na = (p->ta ? p->K : p->M) * p->lda, nb = (p->tb ? p->N : p->K) * p->ldb;
    float *R = malloc(nz(p->M * p->ldc) * sizeof *R), *S = malloc(nz(p->M * p->ldc) * sizeof *S);
    float *aA = malloc(nz(na) * sizeof *aA), *aB = malloc(nz(nb) * sizeof *aB);
    for (size_t i = 0; i < na; i++) aA[i] = fabsf(p->A[i]);
    for (size_t i = 0; i < nb; i++) aB[i] = fabsf(p->B[i]);
    memcpy(R, p->C0, p->M * p->ldc * sizeof *R);
    nb__gemm_ref(p->ta, p->tb, p->M, p->N, p->K, p->alpha, p->A, p->lda, p->B, p->ldb, p->beta, R, p->ldc);
    nb__gemm_ref(p->ta, p->tb, p->M, p->N, p->K, 1.0f, aA, p->lda, aB, p->ldb, 0.0f, S, p->ldc);
    int bad = 0;
    for (size_t i = 0; i < p->M; i++)
        for (size_t j = 0; j < p->ldc; j++) {
            size_t at = i * p->ldc + j;
            int ok;
            if (j >= p->N) {
                ok = C[at] == 12345.0f; /* beyond the row: untouched */
            } else {
                double c0 = p->beta == 0.0f ? 0.0 : fabs((double)p->beta * (double)p->C0[at]);
                double tol = 2.0 * ((double)p->K + 2.0) * 0x1p-24 * (fabs((double)p->alpha) * (double)S[at] + c0) + 1e-30;
                ok = fabs((double)C[at] - (double)R[at]) <= tol;
            }
            if (!ok && bad++ < 3)
                fprintf(stderr, "  %s ta=%d tb=%d M=%zu N=%zu K=%zu alpha=%g beta=%g: C[%zu,%zu] = %.9g, expected %.9g\n", what,
                        p->ta, p->tb, p->M, p->N, p->K, (double)p->alpha, (double)p->beta, i, j, (double)C[at], (double)R[at]);
        }
    free(R), free(S), free(aA), free(aB);
    return bad;
}

static void test_layout(void)
{
    /* every kernel's blocks fit the pool's scratch and its panel widths tile each other */
    const nb__gemm_kernel *ks[3] = {nb__gemm_kernel_portable(), nb__gemm_kernel_avx2(), nb__gemm_kernel_avx512()};
    for (int i = 0; i < 3; i++) {
        if (!ks[i]) continue;
        CHECK(NB__GEMM_SCRATCH(ks[i]->mr, ks[i]->nc) <= NB__SCRATCH_FLOATS);
        CHECK(ks[i]->nr % ks[i]->vw == 0 && ks[i]->nc % ks[i]->nr == 0);
    }
    CHECK(ks[0] != NULL);
    /* the kernel follows the CPU tier (cpu.h); on the generic tier CBLAS, where built, or not */
    for (int ki = 1; ki < 3; ki++)
        if (nb__cpu_use(IMPLS[ki]) == NB_OK) CHECK(strcmp(nb__gemm_name(), IMPL_NAMES[ki]) == 0);
    CHECK_OK(nb__cpu_use(NB__ISA_GENERIC));
    CHECK_OK(nb__gemm_use_cblas(0));
    CHECK(strcmp(nb__gemm_name(), "portable") == 0);
#ifdef NB_HAVE_CBLAS
    CHECK_OK(nb__gemm_use_cblas(1));
    CHECK(strcmp(nb__gemm_name(), "cblas") == 0);
#else
    CHECK_ERR(nb__gemm_use_cblas(1), NB_ERR_ARG, "no CBLAS");
#endif
    CHECK_OK(nb__cpu_use(NB__ISA_AUTO));
    CHECK_ERR(nb__cpu_use((nb__isa)3), NB_ERR_ARG, "no such tier");
}

/* awkward shapes: 1, primes, one off each tile size (4, 6, 8, 16, 48), K around the K block
 * (256) and its multiples, N beyond the B block (960) */
static const size_t SHAPES[][3] = {
    {1, 1, 1}, {1, 17, 3}, {7, 1, 5}, {2, 3, 1}, {5, 16, 8}, {6, 48, 13}, {9, 49, 31}, {13, 47, 97},
    {8, 33, 255}, {17, 15, 256}, {3, 65, 257}, {31, 97, 300}, {4, 7, 513}, {12, 1000, 20}, {50, 130, 784},
    {300, 5, 40}, {1, 2001, 3},
};

static void test_vs_ref(void)
{
    nb_rng r;
    nb_rng_seed(&r, 11);
    const float ab[][2] = {{1.0f, 0.0f}, {0.5f, 1.0f}, {-2.0f, 0.25f}};
    for (int ki = 0; ki < 3; ki++) {
        if (nb__cpu_use(IMPLS[ki]) != NB_OK) {
            printf("test_gemm: this CPU has no %s kernel: skipped\n", IMPL_NAMES[ki]);
            continue;
        }
        int bad = 0;
        for (size_t s = 0; s < sizeof SHAPES / sizeof SHAPES[0]; s++)
            for (int t = 0; t < 4; t++) {
                prob p = make(t & 1, t >> 1, SHAPES[s][0], SHAPES[s][1], SHAPES[s][2], (s + (size_t)t) % 3 * 3,
                              ab[(s + (size_t)t) % 3][0], ab[(s + (size_t)t) % 3][1], &r);
                float *C = run(&p, nb__gemm_builtin);
                bad += check_vs_ref(&p, C, IMPL_NAMES[ki]) != 0;
                free(C);
                drop(&p);
            }
        CHECK(bad == 0);
    }
    nb__cpu_use(NB__ISA_AUTO);
}

/* beta 0 ignores NaN in C; K 0 or alpha 0 only scales C (and never reads A or B) */
static void test_edges(void)
{
    float A[6] = {1, 2, 3, 4, 5, 6}, B[6] = {1, 0, 0, 1, 1, 1}, C[4] = {NAN, NAN, NAN, NAN};
    nb__gemm(0, 0, 2, 2, 3, 1.0f, A, 3, B, 2, 0.0f, C, 2); /* (2,3) x (3,2) */
    CHECK(C[0] == 4 && C[1] == 5 && C[2] == 10 && C[3] == 11);
    float D[4] = {1, 2, 3, 4};
    nb__gemm(0, 0, 2, 2, 0, 1.0f, NULL, 1, NULL, 1, 0.5f, D, 2);
    CHECK(D[0] == 0.5f && D[3] == 2.0f);
    float An[6] = {NAN, NAN, NAN, NAN, NAN, NAN};
    nb__gemm(0, 0, 2, 2, 3, 0.0f, An, 3, B, 2, 2.0f, D, 2);
    CHECK(D[0] == 1.0f && D[3] == 4.0f);
    nb__gemm(0, 0, 0, 2, 3, 1.0f, A, 3, B, 2, 0.0f, NULL, 2); /* M = 0: nothing to touch */
}

/* Products big enough to be split (into several tasks per thread, claimed at run time); the
 * same bits for 1..4 threads, split by columns or by rows (nb__gemm_rows), and for both FMA
 * kernels */
static void test_determinism(void)
{
    static const size_t big[][3] = {{200, 1000, 300}, {1000, 37, 64}, {64, 256, 784}, {16, 9, 5000}, {145, 1031, 33},
                                     {32, 3136, 144}, {300, 128, 256}};
    nb_rng r;
    nb_rng_seed(&r, 5);
    for (size_t s = 0; s < sizeof big / sizeof big[0]; s++)
        for (int t = 0; t < 4; t++) {
            prob p = make(t & 1, t >> 1, big[s][0], big[s][1], big[s][2], 1, 1.0f, t == 3 ? 1.0f : 0.0f, &r);
            float *ref_bits[3] = {NULL, NULL, NULL};
            for (int ki = 0; ki < 3; ki++) {
                if (nb__cpu_use(IMPLS[ki]) != NB_OK) continue;
                for (int threads = 1; threads <= 4; threads++) {
                    nb_set_threads(threads);
                    float *C = run(&p, nb__gemm_builtin);
                    if (threads > 1 && strcmp(nb__gemm_name(), "cblas") != 0) {
                        /* split by rows where the default splits columns: the same bits */
                        float *R = run(&p, nb__gemm_rows);
                        CHECK(memcmp(R, C, p.M * p.ldc * sizeof *C) == 0);
                        free(R);
                    }
                    if (threads == 1) {
                        ref_bits[ki] = C;
                        if (s == 0 && t == 0) CHECK(check_vs_ref(&p, C, IMPL_NAMES[ki]) == 0);
                        continue;
                    }
                    int same = memcmp(C, ref_bits[ki], p.M * p.ldc * sizeof *C) == 0;
                    CHECK(same);
                    if (!same)
                        fprintf(stderr, "  %s: %d threads differ from 1 (M=%zu N=%zu K=%zu t=%d)\n", IMPL_NAMES[ki], threads,
                                p.M, p.N, p.K, t);
                    free(C);
                }
            }
            nb_set_threads(1);
            /* AVX2 and AVX-512 run the same FMA chains: the same bits */
            if (ref_bits[1] && ref_bits[2]) CHECK(memcmp(ref_bits[1], ref_bits[2], p.M * p.ldc * sizeof(float)) == 0);
#ifdef FP_FAST_FMAF
            if (ref_bits[0] && ref_bits[2]) CHECK(memcmp(ref_bits[0], ref_bits[2], p.M * p.ldc * sizeof(float)) == 0);
#endif
            for (int ki = 0; ki < 3; ki++) free(ref_bits[ki]);
            drop(&p);
        }
    nb__cpu_use(NB__ISA_AUTO);
}

/* A small CNN's forward and backward (conv with bias, relu, max and average pooling, conv
 * without bias; the input's gradient too, so col2im runs) gives the same bits for 1..4
 * threads: every parallel loop around the products writes each element from one task. */
static int cnn_step(int threads, float *out, size_t n_out, float *dx, size_t n_dx)
{
    nb_set_threads(threads);
    nb_graph *g;
    int st = nb_graph_create(&g);
    if (st) return st;
    nb_node x = nb_input(g, "x", 4, (int64_t[]){24, 3, 28, 28});
    nb_node w1 = nb_param(g, "w1", 4, (int64_t[]){8, 3, 3, 3}), b1 = nb_param(g, "b1", 1, (int64_t[]){8});
    nb_node w2 = nb_param(g, "w2", 4, (int64_t[]){5, 8, 3, 3});
    nb_node h = nb_relu(g, nb_conv2d_bias(g, x, w1, b1, NULL, (const int[2]){1, 1}, NULL));
    h = nb_avgpool2d(g, nb_maxpool2d(g, h, (const int[2]){2, 2}, NULL, NULL), (const int[2]){2, 2}, NULL, NULL);
    nb_node y = nb_conv2d(g, h, w2, NULL, NULL, NULL);
    nb_node loss = nb_mean_all(g, nb_square(g, y));
    nb_require_grad(g, x);
    if ((st = nb_graph_compile(g))) goto done;
    size_t np;
    float *p = nb_graph_params(g, &np);
    nb_rng r;
    nb_rng_seed(&r, 8);
    for (size_t i = 0; i < np; i++) p[i] = 0.3f * nb_rng_normal(&r);
    float *xs = randn(24 * 3 * 28 * 28, &r);
    st = nb_graph_feed(g, x, xs, 24 * 3 * 28 * 28);
    free(xs);
    if (st || (st = nb_graph_forward(g, loss)) || (st = nb_graph_backward(g, loss))) goto done;
    nb_view v;
    float *grads = nb_graph_grads(g, &np);
    if ((st = nb_graph_value(g, y, &v))) goto done;
    if (v.n + np != n_out) { /* y, then the parameter gradients */
        st = NB_ERR_SHAPE;
        goto done;
    }
    memcpy(out, v.data, v.n * sizeof *out);
    memcpy(out + v.n, grads, np * sizeof *out);
    if ((st = nb_graph_grad(g, x, &v))) goto done;
    if (v.n != n_dx) {
        st = NB_ERR_SHAPE;
        goto done;
    }
    memcpy(dx, v.data, n_dx * sizeof *dx);
done:
    nb_graph_free(g);
    return st;
}

static void test_cnn_threads(void)
{
    /* sizes chosen so that every loop is split: 28x28 -> conv 28x28 -> pools 14, 7 -> conv 5x5;
     * y is (24, 5, 5, 5) = 3000 floats, then 8*27 + 8 + 5*72 = 584 gradients */
    enum { NY = 3000, NG = 584, NX = 24 * 3 * 28 * 28 };
    static float out1[NY + NG], outk[NY + NG], dx1[NX], dxk[NX];
    CHECK_OK(cnn_step(1, out1, NY + NG, dx1, NX));
    for (int t = 2; t <= 4; t++) {
        memset(outk, 0, sizeof outk), memset(dxk, 0, sizeof dxk);
        CHECK_OK(cnn_step(t, outk, NY + NG, dxk, NX));
        CHECK(memcmp(out1, outk, sizeof out1) == 0);
        CHECK(memcmp(dx1, dxk, sizeof dx1) == 0);
    }
    nb_set_threads(1);
}

/* End to end: two epochs of Adam on a small CNN give byte-identical weights for 1 to 4
 * threads (sizes chosen so the products, im2col and pooling are all split). */
static int train_cnn(int threads, float *w, size_t nw)
{
    nb_set_threads(threads);
    nb_dataset *ds = NULL;
    nb_model *m = NULL;
    static float x[192 * 256], y[192];
    nb_rng r;
    nb_rng_seed(&r, 21);
    for (int64_t i = 0; i < 192; i++) {
        int cls = (int)nb_rng_below(&r, 3);
        y[i] = (float)cls;
        for (int k = 0; k < 256; k++) x[i * 256 + k] = nb_rng_uniform(&r) + (k % 3 == cls ? 0.5f : 0.0f);
    }
    int st = nb_dataset_create_from(x, 192, 256, y, 1, NB_TASK_CLASSIFY, 3, &ds);
    if (!st) st = nb_dataset_set_sample_shape(ds, 3, (int64_t[]){1, 16, 16});
    if (st) {
        nb_dataset_free(ds);
        return st;
    }
    nb_train_config cfg = nb_train_config_default();
    cfg.epochs = 2;
    cfg.seed = 4;
    cfg.optim = nb_optim_config_default(NB_OPTIM_ADAM);
    if ((st = nb_model_parse("conv 8 3x3 pad 1; relu; maxpool 2; flatten; dense 64; relu; dense 3", NB_TASK_CLASSIFY, &m)) ||
        (st = nb_model_build(m, 3, nb_dataset_sample_shape(ds), 3)) || (st = nb_model_init(m, NB_INIT_TORCH, 0, 7)) ||
        (st = nb_model_train(m, ds, NULL, &cfg, NULL)))
        goto done;
    if (nb_model_param_count(m) != nw) st = NB_ERR_SHAPE;
    else memcpy(w, nb_model_params(m), nw * sizeof *w);
done:
    nb_model_free(m);
    nb_dataset_free(ds);
    return st;
}

static void test_train_threads(void)
{
    enum { NW = 8 * 9 + 8 + 64 * 512 + 64 + 3 * 64 + 3 };
    static float w1[NW], wk[NW];
    CHECK_OK(train_cnn(1, w1, NW));
    for (int t = 2; t <= 4; t++) {
        CHECK_OK(train_cnn(t, wk, NW));
        CHECK(memcmp(w1, wk, sizeof w1) == 0);
    }
    nb_set_threads(1);
}

/* ---- the thread pool */

#define MAXT 64
typedef struct pool_rec {
    int runs[MAXT];
    float *scratch[MAXT];
    int scratch_ok[MAXT];
} pool_rec;

static void record(void *ctx, size_t i, float *scratch)
{
    pool_rec *r = ctx;
    r->runs[i]++; /* task i runs on one thread only: no race */
    r->scratch[i] = scratch;
    if (!scratch || ((uintptr_t)scratch & 63) != 0) return;
    scratch[0] = (float)i; /* the whole scratch is this thread's to write */
    scratch[NB__SCRATCH_FLOATS - 1] = (float)i;
    r->scratch_ok[i] = scratch[0] == (float)i;
}

/* each task ran once, with a scratch of its running thread's (aligned, all writable); which
 * thread runs a task is claimed at run time (ops.h), so only that is checked */
static void check_job(int threads, size_t n)
{
    pool_rec r1, r2;
    memset(&r1, 0, sizeof r1), memset(&r2, 0, sizeof r2);
    nb__parallel_for(n, record, &r1);
    nb__parallel_for(n, record, &r2);
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        bad |= r1.runs[i] != 1 || r2.runs[i] != 1; /* exactly once per job */
        bad |= r1.scratch[i] == NULL || r2.scratch[i] == NULL;
        bad |= !r1.scratch_ok[i] || !r2.scratch_ok[i]; /* aligned, and all of it writable */
    }
    CHECK(!bad);
    if (bad) fprintf(stderr, "  pool: %d threads, %zu tasks\n", threads, n);
}

/* A descheduled worker: a task run by a worker (not the caller, told apart by its scratch)
 * sleeps 50 ms if it is that worker's first task of the job. The caller and the other
 * workers take the rest: every task runs once, and each slow worker ran only the one it
 * claimed before sleeping (the caller's 64 tiny tasks take microseconds). */
typedef struct slow_rec {
    int runs[64];
    float *caller;          /* the caller's scratch */
    _Atomic int slow_runs;  /* tasks run by workers */
} slow_rec;
static _Thread_local int tl_slept;

static void slow_task(void *ctx, size_t i, float *scratch)
{
    slow_rec *r = ctx;
    r->runs[i]++;
    if (scratch == r->caller) return;
    atomic_fetch_add(&r->slow_runs, 1);
    if (!tl_slept) {
        tl_slept = 1;
        nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
    }
}

static void caller_scratch(void *ctx, size_t i, float *scratch)
{
    (void)i;
    *(float **)ctx = scratch;
}

static void test_slow_worker(void)
{
    for (int threads = 2; threads <= 4; threads++) {
        nb_set_threads(1);
        slow_rec r;
        memset(&r, 0, sizeof r);
        nb__parallel_for(2, caller_scratch, &r.caller); /* one thread: both on the caller */
        nb_set_threads(threads);
        /* let the workers fall asleep, then wake them for the job */
        nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
        nb__parallel_for(64, slow_task, &r);
        int bad = 0;
        for (int i = 0; i < 64; i++) bad |= r.runs[i] != 1;
        CHECK(!bad);
        CHECK(atomic_load(&r.slow_runs) <= threads - 1); /* one claimed task each, at most */
        /* a second job right after: the workers' late wake-ups find nothing to claim */
        memset(r.runs, 0, sizeof r.runs);
        nb__parallel_for(64, slow_task, &r);
        bad = 0;
        for (int i = 0; i < 64; i++) bad |= r.runs[i] != 1;
        CHECK(!bad);
    }
    nb_set_threads(1);
}

/* A stall: the caller's first task waits until a worker has claimed one, which then sleeps
 * 50 ms, so the caller waits for it. The next job must run on the caller alone and be cut for
 * one thread (nb__job_threads), and the pool must go back to every thread after that run. */
static void stall_task(void *ctx, size_t i, float *scratch)
{
    slow_rec *r = ctx;
    r->runs[i]++;
    if (scratch != r->caller) {
        atomic_fetch_add(&r->slow_runs, 1);
        nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
        return;
    }
    for (int w = 0; i == 0 && w < 1000 && atomic_load(&r->slow_runs) == 0; w++)
        nanosleep(&(struct timespec){0, 1000 * 1000}, NULL); /* at most 1 s */
}

static void test_stall_solo(void)
{
    nb_set_threads(1);
    slow_rec r;
    memset(&r, 0, sizeof r);
    nb__parallel_for(2, caller_scratch, &r.caller);
    nb_set_threads(2);
    CHECK(nb__job_threads() == 2); /* a new thread count starts on every thread */
    nb__parallel_for(8, stall_task, &r);
    CHECK(atomic_load(&r.slow_runs) == 1);
    CHECK(nb__job_threads() == 1);
    memset(&r.runs, 0, sizeof r.runs);
    atomic_store(&r.slow_runs, 0);
    nb__parallel_for(8, stall_task, &r); /* solo: every task on the caller, none waits */
    int bad = 0;
    for (int i = 0; i < 8; i++) bad |= r.runs[i] != 1;
    CHECK(!bad);
    CHECK(atomic_load(&r.slow_runs) == 0);
    CHECK(nb__job_threads() == 2);
    nb_set_threads(1);
    CHECK(nb__job_threads() == 1);
}

static void nested(void *ctx, size_t i, float *scratch)
{
    (void)scratch;
    pool_rec *r = ctx;
    if (i == 0) nb__parallel_for(3, record, r); /* a misuse: must run inline, not deadlock */
}

typedef struct concurrent {
    prob *p;
    float *C;
} concurrent;

static void *gemm_thread(void *arg)
{
    concurrent *c = arg;
    for (int k = 0; k < 3; k++) {
        free(c->C);
        c->C = run(c->p, nb__gemm);
    }
    return NULL;
}

static void test_pool(void)
{
    CHECK(nb__threads() == 1);
    for (int threads = 1; threads <= 5; threads++) {
        nb_set_threads(threads);
        CHECK(nb__threads() == threads);
        for (size_t n = 0; n <= 37; n++) check_job(threads, n);
        for (int k = 0; k < 200; k++) check_job(threads, (size_t)k % 7 + 1); /* many quick jobs */
    }
    nb_set_threads(3);
    nb_set_threads(3); /* the same count again: no change */
    CHECK(nb__threads() == 3);
    pool_rec r;
    memset(&r, 0, sizeof r);
    nb__parallel_for(4, nested, &r);
    CHECK(r.runs[0] == 1 && r.runs[1] == 1 && r.runs[2] == 1 && r.scratch[0] == NULL);
    /* two application threads multiplying at once: jobs take turns, results unchanged */
    nb_rng g;
    nb_rng_seed(&g, 3);
    prob p = make(0, 1, 150, 600, 100, 0, 1.0f, 0.0f, &g);
    float *solo = run(&p, nb__gemm);
    concurrent c[2] = {{&p, NULL}, {&p, NULL}};
    pthread_t tid;
    CHECK(pthread_create(&tid, NULL, gemm_thread, &c[1]) == 0);
    gemm_thread(&c[0]);
    pthread_join(tid, NULL);
    CHECK(memcmp(c[0].C, solo, p.M * p.ldc * sizeof(float)) == 0 && memcmp(c[1].C, solo, p.M * p.ldc * sizeof(float)) == 0);
    free(c[0].C), free(c[1].C), free(solo);
    drop(&p);
    nb_set_threads(0); /* below 1 means 1; workers joined */
    CHECK(nb__threads() == 1);
    nb_set_threads(1000); /* capped */
    CHECK(nb__threads() == NB__MAX_THREADS);
    check_job(NB__MAX_THREADS, 64);
    nb_set_threads(-3);
    CHECK(nb__threads() == 1);
}

/* B packed once (nb__gemm_prepack) then used by several products (nb__gemm_prepacked): the
 * bits of nb__gemm_builtin for B and B^T, K in several blocks, N not a whole number of
 * panels, A rows from 2 to 19, on every tier nabla's kernels run (a BLAS build's generic
 * tier declines: nb__gemm calls CBLAS there); it declines one row (the dot form) and a
 * packing made for another tier */
static void test_prepacked(void)
{
    const size_t shapes[][2] = {{128, 1568}, {10, 128}, {257, 33}, {48, 256}, {5, 7}, {100, 513}};
    nb_rng r;
    nb_rng_seed(&r, 23);
    for (size_t ki = 0; ki < 3; ki++) {
        if (nb__cpu_use(IMPLS[ki]) != NB_OK) continue;
        int cblas = strcmp(nb__gemm_name(), "cblas") == 0;
        for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
            for (int tb = 0; tb <= 1; tb++) {
                size_t N = shapes[si][0], K = shapes[si][1];
                float *B = randn(N * K, &r), *A = randn(19 * K, &r), *want = malloc(19 * N * sizeof(float));
                float *got = malloc(19 * N * sizeof(float)), *pk = malloc(nb__gemm_prepack_floats(N, K) * sizeof(float));
                int tag = nb__gemm_prepack(tb, N, K, B, tb ? K : N, pk), bad = 0;
                for (size_t M = 2; M <= 19; M = M < 9 ? M + 1 : M + 5) { /* 2 .. 9, 14, 19 */
                    nb__gemm_builtin(0, tb, M, N, K, 1.0f, A, K, B, tb ? K : N, 0.0f, want, N);
                    memset(got, 0xff, M * N * sizeof(float));
                    int done = nb__gemm_prepacked(M, N, K, A, K, pk, tag, got, N);
                    CHECK(done == !cblas); /* nb__gemm would call CBLAS: declined */
                    bad += done && memcmp(got, want, M * N * sizeof(float)) != 0;
                }
                CHECK(bad == 0);
                if (bad) fprintf(stderr, "  prepacked %s tb=%d N=%zu K=%zu: %d products differ\n", IMPL_NAMES[ki], tb, N, K, bad);
                CHECK(nb__gemm_prepacked(1, N, K, A, K, pk, tag, got, N) == 0);
                CHECK(nb__gemm_prepacked(4, N, K, A, K, pk, tag + 1, got, N) == 0);
                free(B), free(A), free(want), free(got), free(pk);
            }
    }
    CHECK_OK(nb__cpu_use(NB__ISA_AUTO));
}

int main(void)
{
    test_layout();
    test_edges();
    test_vs_ref();
    test_prepacked();
    test_determinism();
    test_cnn_threads();
    test_train_threads();
    test_pool();
    test_slow_worker();
    test_stall_solo();
    nb_set_threads(1); /* join the workers: no thread outlives the test */
    return check_exit("test_gemm");
}
