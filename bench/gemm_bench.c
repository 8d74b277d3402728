/* SPDX-License-Identifier: MIT */
/*
 * gemm_bench.c - how fast nabla's matrix product is on this machine, against its FMA peak and
 * OpenBLAS. Measures the peak with a register-only FMA loop (one core, then every core, one
 * loop pinned to each: the best trial whose loops ran together, timed over their whole
 * span), then
 * GFLOP/s of nabla's GEMM (1 and 2 threads) and of cblas_sgemm (when built with it) on 1024^3
 * and on the products of the reference MLP and CNN training steps (batch 64); then each of
 * those steps' products added up at these rates (step_block: the most the step could reach if
 * nothing else took time); last, 1024^3 on 2 threads in rounds, each timing right after a
 * peak trial (paired). Each product is
 * checked against nb__gemm_ref (sampled rows) before it is timed; a figure is the median of
 * 5 timings of at least 0.1 s each, by the wall clock (and for 1 thread also by its CPU time,
 * which other processes on a shared machine do not inflate). Not library code: prints, exits
 * non-zero on a mismatch.
 * Usage: gemm_bench [--quick]   (--quick: one timing of >= 0.02 s each)
 */
#include "../src/ops/ops.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef NB_HAVE_CBLAS
#include <cblas.h>
void openblas_set_num_threads(int num_threads);
char *openblas_get_corename(void);
#endif

static int g_trials = 5;
static double g_min_seconds = 0.1;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ---- the FMA peak: 16 independent chains of 512-bit FMAs, operands in registers */

#if defined(__x86_64__)
#define FMA_ITERS 50000000L /* ~0.15 s per thread at 2 FMAs per cycle */
#define CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)

/* One thread of the peak loop. The threads meet at a spinning barrier first (a sleeping one
 * would let an idle vCPU halt, and waking it takes milliseconds) and each records when its
 * own loop started and ended: on a VM an idle virtual CPU can take milliseconds to be
 * scheduled again, which a single clock around thread creation would charge to the FMAs (it
 * made the 2-thread "peak" read anywhere from 210 to 340 GFLOP/s on the same machine). */
typedef struct fma_arg {
    atomic_int *arrived; /* threads at the start line */
    int threads;
    double t0, t1;
    float sink;
} fma_arg;

__attribute__((target("avx512f"))) static void *fma_loop(void *p)
{
    fma_arg *a = p;
    /* separate variables, not an array: the chains must live in registers, not memory */
    __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
#define INIT(i) __m512 a##i = _mm512_set1_ps((float)(i));
#define STEP(i) a##i = _mm512_fmadd_ps(a##i, x, y);
#define SUM(i) s = _mm512_add_ps(s, a##i);
    CHAINS(INIT)
    atomic_fetch_add(a->arrived, 1);
    while (atomic_load(a->arrived) < a->threads) _mm_pause();
    a->t0 = now();
    for (long it = 0; it < FMA_ITERS; it++) {
        CHAINS(STEP)
    }
    a->t1 = now();
    __m512 s = _mm512_setzero_ps();
    CHAINS(SUM)
    a->sink = _mm512_reduce_add_ps(s); /* used, so the loop cannot be dropped */
    return NULL;
}

/* GFLOP/s of `threads` concurrent FMA loops in one trial: all their FMAs over the span from
 * the first start to the last end, and *overlapped: whether the loops ran together for at
 * least 90% of that span. Summing each thread's own rate instead would count loops that a VM
 * ran one after the other (each alone on the machine, maybe faster) as if they had run
 * together; the span never overstates what the cores did together. */
static double fma_trial(int threads, int *overlapped)
{
    pthread_t tid[64];
    fma_arg arg[64];
    atomic_int arrived = 0;
    for (int i = 0; i < threads; i++) arg[i].arrived = &arrived, arg[i].threads = threads;
    /* one loop per CPU: left to the scheduler, a new thread can share its creator's CPU for
     * a while (the loops then take turns and the trial measures one core) */
    cpu_set_t old, one[64];
    int n = 0, pin = sched_getaffinity(0, sizeof old, &old) == 0 && CPU_COUNT(&old) >= threads;
    for (int c = 0; pin && c < CPU_SETSIZE && n < threads; c++)
        if (CPU_ISSET(c, &old)) {
            CPU_ZERO(&one[n]);
            CPU_SET(c, &one[n]);
            n++;
        }
    if (pin) sched_setaffinity(0, sizeof one[0], &one[0]);
    for (int i = 1; i < threads; i++) {
        pthread_attr_t at;
        pthread_attr_init(&at);
        if (pin) pthread_attr_setaffinity_np(&at, sizeof one[i], &one[i]);
        pthread_create(&tid[i], &at, fma_loop, &arg[i]);
        pthread_attr_destroy(&at);
    }
    fma_loop(&arg[0]);
    for (int i = 1; i < threads; i++) pthread_join(tid[i], NULL);
    if (pin) sched_setaffinity(0, sizeof old, &old);
    double first = arg[0].t0, last_start = arg[0].t0, first_end = arg[0].t1, last = arg[0].t1;
    for (int i = 1; i < threads; i++) {
        first = fmin(first, arg[i].t0), last_start = fmax(last_start, arg[i].t0);
        first_end = fmin(first_end, arg[i].t1), last = fmax(last, arg[i].t1);
    }
    *overlapped = first_end - last_start >= 0.9 * (last - first);
    return (double)FMA_ITERS * 16 * 16 * 2 * threads / (last - first) * 1e-9;
}

static int g_peak_apart; /* the 2-thread peak comes from loops that did not overlap */

/* the peak: the best trial (the most the cores were seen to do together) of g_trials that
 * overlapped, out of at most 4 g_trials; when none did (a busy machine), the best span,
 * which can only understate it, and g_peak_apart says so */
static double fma_peak(int threads)
{
    double best = 0.0, best_apart = 0.0;
    for (int t = 0, ok = 0; t < 4 * g_trials && ok < g_trials; t++) {
        int overlapped;
        double g = fma_trial(threads, &overlapped);
        ok += overlapped;
        if (overlapped) best = fmax(best, g);
        else best_apart = fmax(best_apart, g);
    }
    if (best == 0.0 && threads > 1) g_peak_apart = 1;
    return best > 0.0 ? best : best_apart;
}
#endif

/* ---- products */

/* step: the reference training steps a product belongs to (STEP_MLP, STEP_CNN), for the
 * block that adds a step's products up (step_block) */
enum { STEP_MLP = 1, STEP_CNN = 2 };
typedef struct shape {
    const char *name;
    int ta, tb;
    size_t M, N, K;
    float beta;
    int step;
} shape;

typedef void (*gemm_fn)(int, int, size_t, size_t, size_t, float, const float *, size_t, const float *, size_t,
                        float, float *, size_t);

#ifdef NB_HAVE_CBLAS
static void blas(int ta, int tb, size_t M, size_t N, size_t K, float alpha, const float *A, size_t lda,
                 const float *B, size_t ldb, float beta, float *C, size_t ldc)
{
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M, (int)N,
                (int)K, alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
}
#endif

static float *randn(size_t n, unsigned seed)
{
    float *p = malloc(n * sizeof *p);
    if (!p) {
        fprintf(stderr, "gemm_bench: out of memory\n");
        exit(1);
    }
    nb_rng r;
    nb_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) p[i] = nb_rng_normal(&r);
    return p;
}

/* rows 0, M/2 and M-1 of C against the oracle, with the recursive-summation error bound
 * K u sum|a b| (u = 2^-24), doubled for the final alpha/beta roundings */
static int check(const shape *s, gemm_fn f, const float *A, const float *B, const float *C0)
{
    size_t lda = s->ta ? s->M : s->K, ldb = s->tb ? s->K : s->N;
    float *C = malloc(s->M * s->N * sizeof *C), *R = malloc(s->N * sizeof *R), *S = malloc(s->N * sizeof *S);
    memcpy(C, C0, s->M * s->N * sizeof *C);
    f(s->ta, s->tb, s->M, s->N, s->K, 1.0f, A, lda, B, ldb, s->beta, C, s->N);
    size_t rows[3] = {0, s->M / 2, s->M - 1};
    int bad = 0;
    for (int q = 0; q < 3 && !bad; q++) {
        size_t i = rows[q];
        const float *Ai = s->ta ? A + i : A + i * lda;
        memcpy(R, C0 + i * s->N, s->N * sizeof *R);
        nb__gemm_ref(s->ta, s->tb, 1, s->N, s->K, 1.0f, Ai, lda, B, ldb, s->beta, R, s->N);
        for (size_t j = 0; j < s->N; j++) { /* sum |a b| with the same oracle on |A|, |B| */
            double abs_sum = 0.0;
            for (size_t k = 0; k < s->K; k++) {
                float a = s->ta ? A[k * lda + i] : A[i * lda + k], b = s->tb ? B[j * ldb + k] : B[k * ldb + j];
                abs_sum += fabs((double)a * (double)b);
            }
            S[j] = (float)abs_sum;
        }
        for (size_t j = 0; j < s->N && !bad; j++) {
            double tol = 2.0 * ((double)s->K + 2.0) * 0x1p-24 * ((double)S[j] + fabs((double)C0[i * s->N + j]));
            if (fabs((double)C[i * s->N + j] - (double)R[j]) > tol) {
                fprintf(stderr, "gemm_bench: %s: C[%zu,%zu] = %.9g, oracle %.9g\n", s->name, i, j,
                        (double)C[i * s->N + j], (double)R[j]);
                bad = 1;
            }
        }
    }
    free(C), free(R), free(S);
    return bad;
}

static double cpu_now(void) /* this thread's CPU time: immune to time-slicing by others */
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* one timing of at least g_min_seconds: GFLOP/s of f on s by the wall clock, and by the
 * calling thread's CPU time into *cpu */
static double rate_once(const shape *s, gemm_fn f, const float *A, const float *B, float *C, double *cpu)
{
    size_t lda = s->ta ? s->M : s->K, ldb = s->tb ? s->K : s->N;
    double flops = 2.0 * (double)s->M * (double)s->N * (double)s->K;
    long reps = 0;
    double t0 = now(), c0 = cpu_now(), dt;
    do {
        f(s->ta, s->tb, s->M, s->N, s->K, 1.0f, A, lda, B, ldb, s->beta, C, s->N);
        reps++;
    } while ((dt = now() - t0) < g_min_seconds);
    *cpu = flops * (double)reps / (cpu_now() - c0) * 1e-9;
    return flops * (double)reps / dt * 1e-9;
}

/* GFLOP/s of f on s by the wall clock, and by the calling thread's CPU time into *cpu
 * (meaningful with one thread: what the kernel does when it has the core); medians */
static double timeit(const shape *s, gemm_fn f, const float *A, const float *B, float *C, double *cpu)
{
    size_t lda = s->ta ? s->M : s->K, ldb = s->tb ? s->K : s->N;
    double g[9], gc[9];
    f(s->ta, s->tb, s->M, s->N, s->K, 1.0f, A, lda, B, ldb, s->beta, C, s->N); /* warm-up */
    for (int t = 0; t < g_trials; t++) g[t] = rate_once(s, f, A, B, C, &gc[t]);
    qsort(g, (size_t)g_trials, sizeof g[0], cmp_double);
    qsort(gc, (size_t)g_trials, sizeof gc[0], cmp_double);
    *cpu = gc[g_trials / 2];
    return g[g_trials / 2];
}

static const shape SHAPES[] = {
    {"square 1024^3", 0, 0, 1024, 1024, 1024, 0.0f, 0},
    /* MLP 784-256-128-10, batch 64: y = x W^T, dW += dY^T x, dX = dY W (no dX for the first
     * layer: no gradient is taken for the images) */
    {"mlp fc1 fwd", 0, 1, 64, 256, 784, 0.0f, STEP_MLP},
    {"mlp fc1 dW", 1, 0, 256, 784, 64, 1.0f, STEP_MLP},
    {"mlp fc2 fwd", 0, 1, 64, 128, 256, 0.0f, STEP_MLP},
    {"mlp fc2 dW", 1, 0, 128, 256, 64, 1.0f, STEP_MLP},
    {"mlp fc2 dX", 0, 0, 64, 256, 128, 1.0f, STEP_MLP},
    /* the last dense layer of both, 128 -> 10 */
    {"fc 128-10 fwd", 0, 1, 64, 10, 128, 0.0f, STEP_MLP | STEP_CNN},
    {"fc 128-10 dW", 1, 0, 10, 128, 64, 1.0f, STEP_MLP | STEP_CNN},
    {"fc 128-10 dX", 0, 0, 64, 128, 10, 1.0f, STEP_MLP | STEP_CNN},
    /* CNN, batch 64: conv = W (O, C k k) col (C k k, N P); dW += dY col^T; dcol = W^T dY
     * (training runs the first convolution with the direct kernel instead: step_block) */
    {"cnn conv1 fwd", 0, 0, 16, 50176, 9, 0.0f, 0},
    {"cnn conv1 dW", 0, 1, 16, 9, 50176, 1.0f, 0},
    {"cnn conv2 fwd", 0, 0, 32, 12544, 144, 0.0f, STEP_CNN},
    {"cnn conv2 dW", 0, 1, 32, 144, 12544, 1.0f, STEP_CNN},
    {"cnn conv2 dcol", 1, 0, 144, 12544, 32, 0.0f, STEP_CNN},
    {"cnn fc1 fwd", 0, 1, 64, 128, 1568, 0.0f, STEP_CNN},
    {"cnn fc1 dW", 1, 0, 128, 1568, 64, 1.0f, STEP_CNN},
    {"cnn fc1 dX", 0, 0, 64, 1568, 128, 1.0f, STEP_CNN},
};

#define NSHAPES (sizeof SHAPES / sizeof SHAPES[0])

/* GFLOP/s of f on every shape: g[shape] = {1 thread, 2 threads, 1 thread by CPU time} */
static int measure(gemm_fn f, void (*set_threads)(int), double g[][3])
{
    int bad = 0;
    for (size_t i = 0; i < NSHAPES; i++) {
        const shape *s = &SHAPES[i];
        float *A = randn(s->M * s->K, 1), *B = randn(s->K * s->N, 2), *C0 = randn(s->M * s->N, 3);
        float *C = malloc(s->M * s->N * sizeof *C);
        memcpy(C, C0, s->M * s->N * sizeof *C);
        for (int t = 1; t <= 2; t++) {
            set_threads(t);
            bad |= check(s, f, A, B, C0);
            double cpu;
            g[i][t - 1] = timeit(s, f, A, B, C, &cpu);
            if (t == 1) g[i][2] = cpu;
        }
        set_threads(1);
        free(A), free(B), free(C0), free(C);
    }
    return bad;
}

#if defined(__x86_64__)
/* The headline figure, robust to a machine whose speed drifts (a VM whose host runs other
 * work): rounds of one peak trial and, right after it, one timing of nabla's product on the
 * same threads; each timing against the peak of its own round, and the best timing against
 * the best peak (both "the most seen", as the peak above). */
static char g_paired[2048]; /* its report, printed after the table */
static double g_paired_peak; /* the best of its peak trials (all overlapped) */

static void paired(const shape *s, int threads)
{
    size_t at = 0;
#define SAY(...) (at += (size_t)snprintf(g_paired + at, at < sizeof g_paired ? sizeof g_paired - at : 0, __VA_ARGS__))
    int rounds = g_trials == 1 ? 2 : 11;
    double ratio[16], best_g = 0.0, best_p = 0.0, cpu;
    float *A = randn(s->M * s->K, 1), *B = randn(s->K * s->N, 2), *C = randn(s->M * s->N, 3);
    nb_set_threads(threads);
    SAY("\n%s on %d threads, each timing (>= %.2f s) right after a %d-thread peak trial:\n", s->name, threads,
        g_min_seconds, threads);
    for (int r = 0; r < rounds; r++) {
        double p = 0.0;
        for (int t = 0, ok = 0; t < 4 && !ok; t++) { /* one whose loops overlapped */
            double g = fma_trial(threads, &ok);
            p = ok ? g : 0.0;
        }
        double g = rate_once(s, nb__gemm, A, B, C, &cpu);
        ratio[r] = p > 0.0 ? g / p : 0.0;
        best_g = fmax(best_g, g), best_p = fmax(best_p, p);
        g_paired_peak = best_p;
        if (p > 0.0) SAY("  round %2d: peak %6.1f, nabla %6.1f GFLOP/s = %3.0f%%\n", r + 1, p, g, 100.0 * ratio[r]);
        else SAY("  round %2d: peak    n/a (no trial whose loops overlapped), nabla %6.1f GFLOP/s\n", r + 1, g);
    }
    int n = 0; /* the rounds with a peak */
    for (int r = 0; r < rounds; r++)
        if (ratio[r] > 0.0) ratio[n++] = ratio[r];
    qsort(ratio, (size_t)n, sizeof ratio[0], cmp_double);
    if (n)
        SAY("  best nabla %.1f of best peak %.1f GFLOP/s = %.0f%%; median of the rounds' ratios %.0f%%\n", best_g,
            best_p, 100.0 * best_g / best_p, 100.0 * ratio[(n - 1) / 2]);
    else
        SAY("  best nabla %.1f GFLOP/s; no round had a peak trial whose loops overlapped (a busy machine)\n", best_g);
#undef SAY
    nb_set_threads(1);
    free(A), free(B), free(C);
}
#endif

#ifdef NB_HAVE_CBLAS
static void blas_threads(int n)
{
    openblas_set_num_threads(n);
}
#endif

/* ---- a training step's products, added up
 * The reference steps' arithmetic (the bench's "Arithmetic rate" block counts the same
 * products: bench/table.py FLOPS) at the rates the table above measured for each product
 * alone - hot caches, nothing else running, the best case for a product - and for the CNN's
 * first convolution the direct kernel that training runs (nb__conv_direct_fwd and _bwd,
 * timed here). Their flop-weighted rate is the most a training epoch could reach if
 * everything else in it (lowering, activations, pooling, the loss, the optimizer, the batch)
 * took no time at all: an epoch's own rate in the bench cannot exceed it. */

/* seconds of one direct first-layer convolution, forward then backward (weights and bias), on
 * the reference CNN's geometry, batch 64: the median of g_trials timings; *flops: the two
 * products' count (as a GEMM's, 2 per multiply-add) */
static double conv1_direct_s(double *flops)
{
    nb__conv_geom g = {.c = 1, .h = 28, .w = 28, .oh = 28, .ow = 28, .kh = 3, .kw = 3, .sh = 1, .sw = 1, .ph = 1, .pw = 1,
                       .dh = 1, .dw = 1};
    size_t n = 64, O = 16, P = 28 * 28;
    *flops = 2.0 * 2.0 * (double)(O * 9 * P * n); /* forward and weight gradient */
    if (!nb__conv_direct_ok(&g)) return 0.0;
    float *x = randn(n * P, 4), *w = randn(O * 9, 5), *b = randn(O, 6), *y = malloc(n * O * P * sizeof *y);
    float *dy = randn(n * O * P, 7), *dw = calloc(O * 9, sizeof *dw), *db = calloc(O, sizeof *db);
    double t[9];
    nb__conv_direct_fwd(&g, n, O, x, w, b, y), nb__conv_direct_bwd(&g, n, O, x, dy, dw, db); /* warm-up */
    for (int k = 0; k < g_trials; k++) {
        long reps = 0;
        double t0 = now(), dt;
        do {
            nb__conv_direct_fwd(&g, n, O, x, w, b, y);
            nb__conv_direct_bwd(&g, n, O, x, dy, dw, db);
            reps++;
        } while ((dt = now() - t0) < g_min_seconds);
        t[k] = dt / (double)reps;
    }
    qsort(t, (size_t)g_trials, sizeof t[0], cmp_double);
    free(x), free(w), free(b), free(y), free(dy), free(dw), free(db);
    return t[g_trials / 2];
}

/* the block: per step, its products' MFLOP and microseconds at 1 and 2 threads, and their rate
 * against the FMA peak on as many threads */
static void step_block(double g[][3], const double conv1_s[2], double conv1_flops, double p1, double p2)
{
    static const struct { const char *row; int step; } steps[] = {{"mlp-epoch", STEP_MLP}, {"cnn-epoch", STEP_CNN}};
    printf("\nA training step's products alone, each at its rate above (the CNN's first convolution by the\n"
           "direct kernel training runs: forward and backward, %.0f / %.0f us on 1 / 2 threads): the most\n"
           "an epoch could reach if everything else in it took no time\n",
           1e6 * conv1_s[0], 1e6 * conv1_s[1]);
    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
        double flops = 0.0, sec[2] = {0.0, 0.0};
        if (steps[k].step == STEP_CNN) {
            flops += conv1_flops;
            sec[0] += conv1_s[0], sec[1] += conv1_s[1];
        }
        for (size_t i = 0; i < NSHAPES; i++) {
            const shape *s = &SHAPES[i];
            if (!(s->step & steps[k].step)) continue;
            double f = 2.0 * (double)s->M * (double)s->N * (double)s->K;
            flops += f;
            for (int t = 0; t < 2; t++) sec[t] += g[i][t] > 0.0 ? f / (g[i][t] * 1e9) : (double)INFINITY;
        }
        printf("  %-10s %7.1f MFLOP a step:", steps[k].row, flops * 1e-6);
        for (int t = 0; t < 2; t++) {
            double rate = flops / sec[t] * 1e-9, peak = t ? p2 : p1;
            printf("%s %d thread%s %6.0f us = %5.1f GFLOP/s", t ? ";" : "", t + 1, t ? "s" : "", sec[t] * 1e6, rate);
            if (peak > 0.0) printf(" = %.0f%% of the peak", 100.0 * rate / peak);
        }
        printf("\n");
    }
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--quick") == 0) g_trials = 1, g_min_seconds = 0.02;
    double load[3] = {0, 0, 0};
    if (getloadavg(load, 3) < 0) load[0] = 0;
    double p1 = 0.0, p2 = 0.0;
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512f")) p1 = fma_peak(1), p2 = fma_peak(2);
#endif
    if (p1 == 0.0) fprintf(stderr, "gemm_bench: the FMA peak loop needs AVX-512; peak not measured\n");
    static double gn[NSHAPES][3];
#ifdef NB_HAVE_CBLAS
    static double gb[NSHAPES][3];
#endif
    /* nabla first, every shape; OpenBLAS after: its threads spin for a while after each call
     * and would slow whatever runs next */
    int bad = measure(nb__gemm, nb_set_threads, gn);
    double conv1_s[2], conv1_flops = 0.0;
    for (int t = 1; t <= 2; t++) nb_set_threads(t), conv1_s[t - 1] = conv1_direct_s(&conv1_flops);
    nb_set_threads(1);
#if defined(__x86_64__)
    if (p2 > 0.0) paired(&SHAPES[0], 2);
    int p2_paired = g_peak_apart && g_paired_peak > 0.0; /* a real 2-thread peak after all */
    if (p2_paired) p2 = g_paired_peak, g_peak_apart = 0;
#endif
#ifdef NB_HAVE_CBLAS
    bad |= measure(blas, blas_threads, gb);
#endif
    printf("FMA peak (16 chains of 512-bit FMAs): %.1f GFLOP/s on 1 thread, %.1f on 2 threads%s\n", p1, p2,
           g_peak_apart ? " (no trial's loops overlapped: a lower bound)"
           : p2_paired  ? " (the paired rounds' best: the first trials' loops did not overlap)"
                        : "");
    printf("nabla's kernel: %s", nb__gemm_name());
#ifdef NB_HAVE_CBLAS
    printf("; OpenBLAS %s", openblas_get_corename());
#endif
    printf("; load average at start %.2f; medians of %d\n", load[0], g_trials);
    printf("GFLOP/s by the wall clock; (cpu): 1 thread by its own CPU time, unaffected by other\n"
           "processes sharing the core\n\n");
    printf("%-16s %2s %2s %6s %6s %6s | %9s %9s %9s", "product", "tA", "tB", "M", "N", "K", "nabla 1t", "(cpu)", "nabla 2t");
#ifdef NB_HAVE_CBLAS
    printf(" | %9s %9s %9s", "oblas 1t", "(cpu)", "oblas 2t");
#endif
    printf("   GFLOP/s\n");
    for (size_t i = 0; i < NSHAPES; i++) {
        const shape *s = &SHAPES[i];
        printf("%-16s %2d %2d %6zu %6zu %6zu | %9.1f %9.1f %9.1f", s->name, s->ta, s->tb, s->M, s->N, s->K, gn[i][0],
               gn[i][2], gn[i][1]);
#ifdef NB_HAVE_CBLAS
        printf(" | %9.1f %9.1f %9.1f", gb[i][0], gb[i][2], gb[i][1]);
#endif
        if (i == 0 && p1 > 0.0 && p2 > 0.0) printf("   = %.0f%% / %.0f%% of peak", 100.0 * gn[i][0] / p1, 100.0 * gn[i][1] / p2);
        printf("\n");
    }
    step_block(gn, conv1_s, conv1_flops, p1, p2);
    fputs(g_paired, stdout);
    if (bad) fprintf(stderr, "gemm_bench: results differ from the oracle\n");
    return bad;
}
