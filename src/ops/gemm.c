/* SPDX-License-Identifier: MIT */
/*
 * gemm.c - the matrix product C = alpha op(A) op(B) + beta C, row-major: the driver around
 * the micro-kernels (gemm.h), in the GotoBLAS / BLIS structure: for each block of nc columns
 * and each K block, a KC x nc block of B is packed into panels (L2), then each mr-row panel
 * of A (L1) sweeps across it. Threads split C into column (or row) ranges, never K, so each
 * element's sum is the same chain whatever the thread count. The kernel is the CPU tier's
 * (cpu.h). nb__gemm_ref, the naive triple loop, is the oracle the kernels are tested against.
 */
#include "gemm.h"

#include <stdatomic.h>
#include <string.h>

#ifdef NB_HAVE_CBLAS
#include <cblas.h> /* the types and constants only: the functions come from dlopen */
#include <dlfcn.h>
#include <pthread.h>
#endif

#define AT(P, ld, t, i, j) ((t) ? (P)[(size_t)(j) * (ld) + (i)] : (P)[(size_t)(i) * (ld) + (j)])

void nb__gemm_ref(int trans_a, int trans_b, size_t M, size_t N, size_t K, float alpha,
                  const float *A, size_t lda, const float *B, size_t ldb, float beta, float *C,
                  size_t ldc)
{
    for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j < N; j++) {
            double s = 0.0;
            for (size_t k = 0; k < K; k++)
                s += (double)AT(A, lda, trans_a, i, k) * (double)AT(B, ldb, trans_b, k, j);
            float c = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
            C[i * ldc + j] = c + alpha * (float)s;
        }
}

/* ---- implementation: the kernel of the CPU tier (cpu.h); on the generic tier CBLAS, where
 * the build has it (OpenBLAS's kernels beat the portable one), unless a test turned it off */

#ifdef NB_HAVE_CBLAS
static atomic_int g_cblas = 1; /* nb__gemm_use_cblas */
static atomic_int g_blas_threads = 0; /* the count OpenBLAS was last given; 0: none yet */

/* OpenBLAS is loaded lazily, on the first product that needs it (the generic tier only), and
 * never linked: its library constructor starts a thread per core at load time, which nabla's
 * own kernels never use, and under a memory limit (ulimit -v) those threads loop on a failed
 * mmap and keep the process from exiting (even `nabla --version`). Where the library cannot
 * be loaded nabla's portable kernel runs instead: the same product, other last bits. */
static __typeof__(cblas_sgemm) *g_sgemm;
static void (*g_set_threads)(int);
static pthread_once_t g_blas_once = PTHREAD_ONCE_INIT;
static atomic_int g_blas_ok = 0; /* loaded (set last, with release: the pointers are ready) */

static void blas_load(void)
{
    static const char *const names[] = {"libopenblas.so.0", "libopenblas.so"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        void *h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (!h) continue;
        void *sgemm = dlsym(h, "cblas_sgemm"), *threads = dlsym(h, "openblas_set_num_threads");
        if (sgemm && threads) {
            /* object to function pointer: POSIX guarantees dlsym's results convert */
            memcpy(&g_sgemm, &sgemm, sizeof g_sgemm);
            memcpy(&g_set_threads, &threads, sizeof g_set_threads);
            atomic_store_explicit(&g_blas_ok, 1, memory_order_release);
            return; /* the handle stays open for the life of the process */
        }
        dlclose(h);
    }
}

static int blas_loaded(void)
{
    pthread_once(&g_blas_once, blas_load);
    return g_sgemm != NULL;
}

/* OpenBLAS's own threads, once it is loaded: as many as the pool has while it does the
 * products, else 1 (nabla's kernels run on the pool: OpenBLAS must not add threads to it). Set
 * lazily, when the count changes: a load per product, a library call only on a change. */
static void blas_threads(int n)
{
    if (!atomic_load_explicit(&g_blas_ok, memory_order_acquire)) return;
    if (atomic_load_explicit(&g_blas_threads, memory_order_relaxed) == n) return;
    atomic_store_explicit(&g_blas_threads, n, memory_order_relaxed);
    g_set_threads(n);
}
#endif

static int uses_cblas(nb__isa isa)
{
#ifdef NB_HAVE_CBLAS
    return isa == NB__ISA_GENERIC && atomic_load_explicit(&g_cblas, memory_order_relaxed) && blas_loaded();
#else
    (void)isa;
    return 0;
#endif
}

int nb__gemm_use_cblas(int on)
{
#ifdef NB_HAVE_CBLAS
    atomic_store_explicit(&g_cblas, on != 0, memory_order_relaxed);
    return NB_OK;
#else
    return on ? nb__fail(NB_ERR_ARG, "matrix product: this build has no CBLAS") : NB_OK;
#endif
}

/* nabla's kernel for a tier (CBLAS's stand-in in nb__gemm_builtin: the portable one) */
static const nb__gemm_kernel *kernel_of(nb__isa isa)
{
    const nb__gemm_kernel *k = NULL;
    if (isa == NB__ISA_AVX512) k = nb__gemm_kernel_avx512();
    else if (isa == NB__ISA_AVX2) k = nb__gemm_kernel_avx2();
    return k ? k : nb__gemm_kernel_portable();
}

const char *nb__gemm_name(void)
{
    nb__isa isa = nb__cpu_isa();
    return uses_cblas(isa) ? "cblas" : kernel_of(isa)->name;
}

/* ---- the blocked product */

typedef struct gemm_job {
    const nb__gemm_kernel *k;
    int ta, tb;
    size_t M, N, K;
    float alpha, beta;
    const float *A, *B;
    size_t lda, ldb;
    float *C;
    size_t ldc, c0;       /* C's column j is at C[i ldc + j - c0] (a task's strip: c0 > 0) */
    int split_n;          /* tasks take ranges of columns (else of rows) */
    size_t units, unit;   /* the split dimension in units of `unit` rows or columns */
    size_t tasks;
    nb__gemm_packb_fn packb; /* B's blocks from this packer (nb__gemm_packb), else from B */
    const void *packb_ctx;
    const float *prepacked;  /* B packed whole (nb__gemm_prepack), else NULL */
    size_t npad;             /* its width: the panels' columns */
} gemm_job;

static size_t min_sz(size_t a, size_t b)
{
    return a < b ? a : b;
}

/* op(B)'s rows [k0, k0 + kc) and columns [jc, jc + nc) into panels of nr columns at dst
 * (the panel of columns jc + jr at dst + jr kc), each padded to a multiple of vw */
static void pack_b(const nb__gemm_kernel *k, int tb, const float *B, size_t ldb, size_t k0, size_t kc, size_t jc,
                   size_t nc, float *dst)
{
    for (size_t jr = 0; jr < nc; jr += k->nr) {
        size_t w = min_sz(k->nr, nc - jr), wp = (w + k->vw - 1) / k->vw * k->vw;
        if (!tb) k->pack_rows(B + k0 * ldb + jc + jr, ldb, kc, w, wp, dst + jr * kc);
        else k->pack_cols(B + (jc + jr) * ldb + k0, ldb, kc, w, wp, dst + jr * kc);
    }
}

/* C[m0:m1, n0:n1] in full: every K block, in order. Loop order (BLIS's for this shape of
 * kernel): a KC x nc block of B is packed once and stays in L2; each mr x KC panel of A is
 * packed just before it sweeps across the whole block, staying in L1 while the B panels
 * stream past it (the kernel prefetches them). */
static void gemm_block(const gemm_job *j, size_t m0, size_t m1, size_t n0, size_t n1, float *bp, float *ap)
{
    const nb__gemm_kernel *k = j->k;
    const size_t KC = NB__GEMM_KC, mr = k->mr, nr = k->nr, vw = k->vw;
    size_t nkb = (j->K + KC - 1) / KC;
    for (size_t jc = n0; jc < n1; jc += k->nc) {
        size_t nc = min_sz(k->nc, n1 - jc);
        for (size_t b = 0; b < nkb; b++) {
            /* K blocks of near-equal size: boundaries depend on K alone */
            size_t k0 = b * j->K / nkb, kc = (b + 1) * j->K / nkb - k0;
            const float *bpk = bp; /* the block's panels */
            if (j->prepacked) bpk = j->prepacked + k0 * j->npad + jc * kc;
            else if (j->packb) j->packb(j->packb_ctx, k0, kc, jc, nc, nr, vw, bp);
            else pack_b(k, j->tb, j->B, j->ldb, k0, kc, jc, nc, bp);
            float beta = b == 0 ? j->beta : 1.0f; /* later blocks add to what the first wrote */
            for (size_t i = m0; i < m1; i += mr) {
                size_t h = min_sz(mr, m1 - i); /* A (h, kc) into one panel of mr rows */
                if (!j->ta) k->pack_cols(j->A + i * j->lda + k0, j->lda, kc, h, mr, ap);
                else k->pack_rows(j->A + k0 * j->lda + i, j->lda, kc, h, mr, ap);
                for (size_t jr = 0; jr < nc; jr += nr) {
                    size_t w = min_sz(nr, nc - jr), wp = (w + vw - 1) / vw * vw;
                    k->ukernel(kc, ap, bpk + jr * kc, wp, j->C + i * j->ldc + (jc - j->c0) + jr, j->ldc, h, w, j->alpha, beta);
                }
            }
        }
    }
}

static void gemm_task(void *ctx, size_t t, float *scratch)
{
    const gemm_job *j = ctx;
    size_t dim = j->split_n ? j->N : j->M;
    size_t lo = t * j->units / j->tasks * j->unit, hi = min_sz((t + 1) * j->units / j->tasks * j->unit, dim);
    const float *A = j->A, *B = j->B;
    if (!scratch) { /* a nested call without a lent scratch (ops.h): correct, if slow */
        if (j->split_n)
            nb__gemm_ref(j->ta, j->tb, j->M, hi - lo, j->K, j->alpha, A, j->lda, j->tb ? B + lo * j->ldb : B + lo,
                         j->ldb, j->beta, j->C + lo, j->ldc);
        else
            nb__gemm_ref(j->ta, j->tb, hi - lo, j->N, j->K, j->alpha, j->ta ? A + lo : A + lo * j->lda, j->lda, B,
                         j->ldb, j->beta, j->C + lo * j->ldc, j->ldc);
        return;
    }
    float *ap = scratch + NB__GEMM_KC * j->k->nc; /* after B's block */
    if (!j->split_n) {
        gemm_block(j, lo, hi, 0, j->N, scratch, ap);
        return;
    }
    /* A column split gives each task a strip of every row of C. Written in place, the lines
     * at the strips' edges, and those the prefetchers fetch next to them, move between the
     * cores at every K block after the first (measured on two dies: 64 x 256 x 784 on 2
     * threads ran at 305 GFLOP/s in place, 390 with private strips, 360 copied out). Where K
     * has several blocks, a strip that fits is computed in the thread's scratch, in the same
     * operations, and copied out once; with one block C is written once anyway. */
    size_t w = hi - lo, ws = (w + 15) & ~(size_t)15; /* rows 64-byte aligned */
    float *strip = ap + NB__GEMM_KC * j->k->mr;
    if (j->tasks < 2 || j->K <= NB__GEMM_KC || j->M * ws > NB__GEMM_STRIP) {
        gemm_block(j, 0, j->M, lo, hi, scratch, ap);
        return;
    }
    gemm_job s = *j;
    s.C = strip, s.ldc = ws, s.c0 = lo; /* C's column lo is the strip's column 0 */
    if (j->beta != 0.0f) /* the first K block reads C (beta 0 ignores it, NaN included) */
        for (size_t i = 0; i < j->M; i++) memcpy(strip + i * ws, j->C + i * j->ldc + lo, w * sizeof(float));
    gemm_block(&s, 0, j->M, lo, hi, scratch, ap);
    for (size_t i = 0; i < j->M; i++) memcpy(j->C + i * j->ldc + lo, strip + i * ws, w * sizeof(float));
}

static void scale_c(size_t M, size_t N, float beta, float *C, size_t ldc)
{
    for (size_t i = 0; i < M; i++) {
        float *c = C + i * ldc;
        if (beta == 0.0f)
            for (size_t j = 0; j < N; j++) c[j] = 0.0f; /* beta 0 ignores NaN in C, as BLAS */
        else if (beta != 1.0f)
            for (size_t j = 0; j < N; j++) c[j] *= beta;
    }
}

/* Products below this many multiply-adds run in the calling thread: waking a worker costs
 * more than it saves. Only speed depends on it, never the result. */
#define PARALLEL_MIN_FMAS (1u << 20)
#define TASK_MIN_COLS 64

static void run_kernel(const nb__gemm_kernel *k, int ta, int tb, size_t M, size_t N, size_t K, float alpha,
                       const float *A, size_t lda, const float *B, size_t ldb, float beta, float *C, size_t ldc,
                       nb__gemm_packb_fn packb, const void *packb_ctx, int by_rows)
{
    if (K == 0 || alpha == 0.0f) {
        scale_c(M, N, beta, C, ldc);
        return;
    }
    gemm_job j = {k, ta, tb, M, N, K, alpha, beta, A, B, lda, ldb, C, ldc, 0, 1, 0, 0, 1, packb, packb_ctx, NULL, 0};
    /* split the dimension whose split duplicates less packing: a column split packs all of
     * A in every thread, a row split all of B */
    size_t T = (size_t)nb__job_threads(), un = (N + k->vw - 1) / k->vw, um = (M + k->mr - 1) / k->mr;
    j.split_n = N >= M ? un >= T || un >= um : !(um >= T || um >= un);
    if (by_rows && um >= T) j.split_n = 0; /* nb__gemm_rows */
    j.unit = j.split_n ? k->vw : k->mr;
    j.units = j.split_n ? un : um;
    /* up to NB__TASKS_PER_THREAD tasks per thread, claimed by whichever thread is free (ops.h),
     * so a thread on a busy core holds up one small block; but each task packs the whole of
     * the operand it does not split, so a task keeps at least TASK_MIN_COLS columns or rows
     * (their products outweigh that packing) */
    size_t tasks = T * NB__TASKS_PER_THREAD, by_size = (j.split_n ? N : M) / TASK_MIN_COLS;
    if (tasks > by_size) tasks = by_size > T ? by_size : T;
    j.tasks = T < 2 || (double)M * (double)N * (double)K < (double)PARALLEL_MIN_FMAS ? 1 : min_sz(tasks, j.units);
    nb__parallel_for(j.tasks, gemm_task, &j);
}

void nb__gemm_builtin(int trans_a, int trans_b, size_t M, size_t N, size_t K, float alpha, const float *A,
                      size_t lda, const float *B, size_t ldb, float beta, float *C, size_t ldc)
{
    if (M == 0 || N == 0) return;
    nb__isa isa = nb__cpu_isa();
    if (nb__gemm_small(isa, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)) return;
    run_kernel(kernel_of(isa), trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, NULL, NULL, 0);
}

/* nb__gemm and nb__gemm_rows */
static void gemm_any(int by_rows, int trans_a, int trans_b, size_t M, size_t N, size_t K, float alpha, const float *A,
                     size_t lda, const float *B, size_t ldb, float beta, float *C, size_t ldc)
{
    if (M == 0 || N == 0) return;
    nb__isa isa = nb__cpu_isa();
    /* small products first, even on CBLAS CPUs: a library call costs more than they do */
    if (nb__gemm_small(isa, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)) return;
#ifdef NB_HAVE_CBLAS
    int cblas = uses_cblas(isa) && K > 0 && M < INT32_MAX && N < INT32_MAX && K < INT32_MAX && lda < INT32_MAX &&
                ldb < INT32_MAX && ldc < INT32_MAX;
    blas_threads(cblas ? nb__threads() : 1);
    if (cblas) {
        g_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
                    (int)M, (int)N, (int)K, alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
        return;
    }
#endif
    run_kernel(kernel_of(isa), trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, NULL, NULL, by_rows);
}

void nb__gemm(int trans_a, int trans_b, size_t M, size_t N, size_t K, float alpha, const float *A, size_t lda,
              const float *B, size_t ldb, float beta, float *C, size_t ldc)
{
    gemm_any(0, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void nb__gemm_rows(int trans_a, int trans_b, size_t M, size_t N, size_t K, float alpha, const float *A, size_t lda,
                   const float *B, size_t ldb, float beta, float *C, size_t ldc)
{
    gemm_any(1, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

int nb__gemm_packb(size_t M, size_t N, size_t K, const float *A, size_t lda, nb__gemm_packb_fn pack, const void *ctx,
                   float *C, size_t ldc)
{
    nb__isa isa = nb__cpu_isa();
#ifdef NB_HAVE_CBLAS
    if (uses_cblas(isa)) return 0;
#endif
    if (M == 0 || N == 0 || K == 0) return 0;
    run_kernel(kernel_of(isa), 0, 0, M, N, K, 1.0f, A, lda, NULL, 0, 0.0f, C, ldc, pack, ctx, 0);
    return 1;
}

/* ---- B packed once for many products (nb__gemm_prepack): one thread, A's panel on the stack */
#define PREPACKED_MR 16

/* The panels' columns of a B of N columns: whole panels of nr, the last rounded up to vw */
static size_t panel_cols(const nb__gemm_kernel *k, size_t N)
{
    return N / k->nr * k->nr + (N % k->nr + k->vw - 1) / k->vw * k->vw;
}

size_t nb__gemm_prepack_floats(size_t N, size_t K)
{
    return panel_cols(kernel_of(nb__cpu_isa()), N) * K;
}

int nb__gemm_prepack(int tb, size_t N, size_t K, const float *B, size_t ldb, float *dst)
{
    nb__isa isa = nb__cpu_isa();
    const nb__gemm_kernel *k = kernel_of(isa);
    size_t KC = NB__GEMM_KC, nkb = (K + KC - 1) / KC, npad = panel_cols(k, N);
    for (size_t b = 0; b < nkb; b++) { /* gemm_block's packing, for the whole width at once */
        size_t k0 = b * K / nkb, kc = (b + 1) * K / nkb - k0;
        pack_b(k, tb, B, ldb, k0, kc, 0, N, dst + k0 * npad);
    }
    return (int)isa;
}

int nb__gemm_prepacked(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *packed, int tag, float *C,
                       size_t ldc)
{
    nb__isa isa = nb__cpu_isa();
    if ((int)isa != tag || M < 2 || N == 0 || K == 0) return 0;
#ifdef NB_HAVE_CBLAS
    if (uses_cblas(isa)) return 0;
#endif
    /* (B untransposed with few rows or a short K is nb__gemm's AXPY form: the packed bits) */
    const nb__gemm_kernel *k = kernel_of(isa);
    gemm_job j = {k, 0, 0, M, N, K, 1.0f, 0.0f, A, NULL, lda, 0, C, ldc, 0, 1, 0, 0, 1, NULL, NULL, packed, panel_cols(k, N)};
    _Alignas(64) float ap[NB__GEMM_KC * PREPACKED_MR]; /* A's panel: B needs no room */
    if (k->mr > PREPACKED_MR) return 0;
    gemm_block(&j, 0, M, 0, N, NULL, ap);
    return 1;
}
