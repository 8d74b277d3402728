/* SPDX-License-Identifier: MIT */
/*
 * gemm_small.c - products too small for the packed path of gemm.c to pay off: a batch-1
 * dense layer (1 x 784 times 784 x 10), its weight gradient (an outer product, K = 1), the
 * 2-4-1 net's products. There, packing the operands costs more than the arithmetic (and the
 * driver's setup more than both), so these kernels read A and B where they lie. Never
 * threaded: every product they take is below the size the driver would split.
 * Two forms (the rules and their numerics are in gemm.h):
 *  axpy (op(B) = B): rows of C are built from rows of B scaled by elements of A, with the
 *        packed kernels' exact chain per element (same K blocks, same epilogue): the same bits.
 *  dot (one row of A times B^T): each element is a dot product of two contiguous rows, in 16
 *        interleaved lanes reduced by a fixed tree: other bits than the packed kernels, the
 *        same for AVX-512, AVX2 and (with a hardware FMA) the portable code.
 * AVX-512 and AVX2 versions are compiled by function attributes (cpu.h's) and run on their
 * CPU tier, as the packed kernels are; intrinsics for the reason gemm_avx512.c gives.
 */
#include "gemm.h"

#include <math.h>

#ifdef FP_FAST_FMAF
#define MADD(a, b, c) fmaf((a), (b), (c))
#else
#define MADD(a, b, c) ((c) + (a) * (b)) /* as gemm_portable.c: the same bits as its kernel */
#endif

typedef struct sjob {
    size_t M, N, K;
    float alpha, beta;
    const float *A, *B;
    size_t ars, aks; /* op(A)(i, k) = A[i * ars + k * aks] */
    size_t ldb;
    float *C;
    size_t ldc;
} sjob;

/* the packed kernels' epilogue (gemm.h), one element */
static inline float fold(float c, float acc, float alpha, float beta)
{
    float t = alpha * acc;
    if (beta == 0.0f) return t;
    if (beta == 1.0f) return c + t;
    return beta * c + t;
}

/* K block b of nkb: the driver's boundaries (gemm.c), a function of K alone */
static inline void kblock(size_t K, size_t nkb, size_t b, size_t *k0, size_t *kc)
{
    *k0 = b * K / nkb;
    *kc = (b + 1) * K / nkb - *k0;
}

/* ---- portable */

#define PW 16 /* columns per strip */

static void axpy_portable(const sjob *j)
{
    size_t nkb = (j->K + NB__GEMM_KC - 1) / NB__GEMM_KC;
    for (size_t b = 0; b < nkb; b++) {
        size_t k0, kc;
        kblock(j->K, nkb, b, &k0, &kc);
        float beta = b == 0 ? j->beta : 1.0f;
        for (size_t i = 0; i < j->M; i++)
            for (size_t j0 = 0; j0 < j->N; j0 += PW) {
                size_t w = j->N - j0 < PW ? j->N - j0 : PW;
                float acc[PW] = {0.0f};
                for (size_t k = 0; k < kc; k++) {
                    float a = j->A[i * j->ars + (k0 + k) * j->aks];
                    const float *br = j->B + (k0 + k) * j->ldb + j0;
                    for (size_t c = 0; c < w; c++) acc[c] = MADD(a, br[c], acc[c]);
                }
                float *cr = j->C + i * j->ldc + j0;
                for (size_t c = 0; c < w; c++) cr[c] = fold(cr[c], acc[c], j->alpha, beta);
            }
    }
}

/* the dot form's definition: lane l sums the products of k = l (mod 16) in k order (missing
 * products of the last, partial chunk count as 0 * 0), then s[l] += s[l + w] for w = 8, 4, 2, 1 */
static void dot_portable(const sjob *j)
{
    for (size_t i = 0; i < j->M; i++) {
        const float *a = j->A + i * j->ars;
        for (size_t n = 0; n < j->N; n++) {
            const float *b = j->B + n * j->ldb;
            float s[16] = {0.0f};
            for (size_t k = 0; k < j->K; k += 16)
                for (size_t l = 0; l < 16; l++) {
                    int in = k + l < j->K;
                    s[l] = MADD(in ? a[k + l] : 0.0f, in ? b[k + l] : 0.0f, s[l]);
                }
            for (size_t w = 8; w >= 1; w /= 2)
                for (size_t l = 0; l < w; l++) s[l] = s[l] + s[l + w];
            float *c = j->C + i * j->ldc + n;
            *c = fold(*c, s[0], j->alpha, j->beta);
        }
    }
}

#ifdef NB__HAVE_X86_VARIANTS
#include <immintrin.h>

#define AI inline __attribute__((always_inline))

/* ---- AVX-512 */

#define NB_AVX512 NB__TARGET_AVX512

static AI NB_AVX512 __mmask16 mask16(size_t n) /* the first min(n, 16) lanes */
{
    return (__mmask16)(n >= 16 ? 0xFFFFu : (1u << n) - 1u);
}

/* rows i .. i+R-1, columns j0 .. j0+w-1 (w <= NV * 16) of C over one K block */
static AI NB_AVX512 void axpy512_tile(const sjob *j, size_t i, size_t j0, size_t w, size_t k0, size_t kc,
                                      float beta, const int R, const int NV)
{
    __m512 acc[4][4];
    __mmask16 mk[4];
    for (int v = 0; v < NV; v++) mk[v] = mask16(w > (size_t)v * 16 ? w - (size_t)v * 16 : 0);
    for (int r = 0; r < R; r++)
        for (int v = 0; v < NV; v++) acc[r][v] = _mm512_setzero_ps();
    const float *a = j->A + i * j->ars + k0 * j->aks, *b = j->B + k0 * j->ldb + j0;
    for (size_t k = 0; k < kc; k++) { /* indices, not bumped pointers: see axpy512_rows */
        __m512 bv[4];
        for (int v = 0; v < NV; v++) bv[v] = _mm512_maskz_loadu_ps(mk[v], b + k * j->ldb + v * 16);
        for (int r = 0; r < R; r++) {
            __m512 ar = _mm512_set1_ps(a[k * j->aks + (size_t)r * j->ars]);
            for (int v = 0; v < NV; v++) acc[r][v] = _mm512_fmadd_ps(ar, bv[v], acc[r][v]);
        }
    }
    const __m512 va = _mm512_set1_ps(j->alpha), vb = _mm512_set1_ps(beta);
    for (int r = 0; r < R; r++) {
        float *cr = j->C + (i + (size_t)r) * j->ldc + j0;
        for (int v = 0; v < NV; v++) {
            __m512 t = _mm512_mul_ps(va, acc[r][v]);
            if (beta != 0.0f) {
                __m512 cv = _mm512_maskz_loadu_ps(mk[v], cr + v * 16);
                if (beta != 1.0f) cv = _mm512_mul_ps(vb, cv);
                t = _mm512_add_ps(cv, t);
            }
            _mm512_mask_storeu_ps(cr + v * 16, mk[v], t);
        }
    }
}

/* R rows over every strip of columns: 64 at a time, the last in as few vectors as it needs
 * (each vector then holds a column of C: no pointer ever points outside the operands) */
static AI NB_AVX512 void axpy512_rows(const sjob *j, size_t i, size_t k0, size_t kc, float beta, const int R)
{
    size_t j0 = 0, w = j->N;
    for (; w > 48; j0 += 64, w = j->N > j0 ? j->N - j0 : 0) axpy512_tile(j, i, j0, w, k0, kc, beta, R, 4);
    if (w > 32) axpy512_tile(j, i, j0, w, k0, kc, beta, R, 3);
    else if (w > 16) axpy512_tile(j, i, j0, w, k0, kc, beta, R, 2);
    else if (w > 0) axpy512_tile(j, i, j0, w, k0, kc, beta, R, 1);
}

static NB_AVX512 void axpy_avx512(const sjob *j)
{
    size_t nkb = (j->K + NB__GEMM_KC - 1) / NB__GEMM_KC;
    for (size_t b = 0; b < nkb; b++) {
        size_t k0, kc, i = 0;
        kblock(j->K, nkb, b, &k0, &kc);
        float beta = b == 0 ? j->beta : 1.0f;
        for (; i + 4 <= j->M; i += 4) axpy512_rows(j, i, k0, kc, beta, 4);
        if (i + 2 <= j->M) axpy512_rows(j, i, k0, kc, beta, 2), i += 2;
        if (i < j->M) axpy512_rows(j, i, k0, kc, beta, 1);
    }
}

/* the tree of dot_portable on one vector of 16 lanes */
static AI NB_AVX512 float sum16_512(__m512 s)
{
    __m256 lo = _mm512_castps512_ps256(s), hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(s), 1));
    __m256 s8 = _mm256_add_ps(lo, hi);
    __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
    __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    return _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)));
}

/* row i of A against rows n .. n+NJ-1 of B: NJ independent chains hide the FMA latency */
static AI NB_AVX512 void dot512_tile(const sjob *j, size_t i, size_t n, const int NJ)
{
    __m512 acc[8];
    for (int q = 0; q < NJ; q++) acc[q] = _mm512_setzero_ps();
    const float *a = j->A + i * j->ars, *b = j->B + n * j->ldb;
    for (size_t k = 0; k < j->K; k += 16) {
        __mmask16 mk = mask16(j->K - k);
        __m512 av = _mm512_maskz_loadu_ps(mk, a + k);
        for (int q = 0; q < NJ; q++)
            acc[q] = _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(mk, b + (size_t)q * j->ldb + k), acc[q]);
    }
    float *c = j->C + i * j->ldc + n;
    for (int q = 0; q < NJ; q++) c[q] = fold(c[q], sum16_512(acc[q]), j->alpha, j->beta);
}

static NB_AVX512 void dot_avx512(const sjob *j)
{
    for (size_t i = 0; i < j->M; i++) {
        size_t n = 0;
        for (; n + 8 <= j->N; n += 8) dot512_tile(j, i, n, 8);
        if (n + 4 <= j->N) dot512_tile(j, i, n, 4), n += 4;
        if (n + 2 <= j->N) dot512_tile(j, i, n, 2), n += 2;
        if (n < j->N) dot512_tile(j, i, n, 1);
    }
}

/* ---- AVX2 + FMA: the same chains with vectors of 8 */

#define NB_AVX2 NB__TARGET_AVX2

static AI NB_AVX2 __m256i mask8(size_t n) /* the first min(n, 8) lanes */
{
    int m = n >= 8 ? 8 : (int)n;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(m), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static AI NB_AVX2 void axpy256_tile(const sjob *j, size_t i, size_t j0, size_t w, size_t k0, size_t kc,
                                    float beta, const int R, const int NV)
{
    __m256 acc[4][2];
    __m256i mk[2];
    for (int v = 0; v < NV; v++) mk[v] = mask8(w > (size_t)v * 8 ? w - (size_t)v * 8 : 0);
    for (int r = 0; r < R; r++)
        for (int v = 0; v < NV; v++) acc[r][v] = _mm256_setzero_ps();
    const float *a = j->A + i * j->ars + k0 * j->aks, *b = j->B + k0 * j->ldb + j0;
    for (size_t k = 0; k < kc; k++) {
        __m256 bv[2];
        for (int v = 0; v < NV; v++) bv[v] = _mm256_maskload_ps(b + k * j->ldb + v * 8, mk[v]);
        for (int r = 0; r < R; r++) {
            __m256 ar = _mm256_broadcast_ss(a + k * j->aks + (size_t)r * j->ars);
            for (int v = 0; v < NV; v++) acc[r][v] = _mm256_fmadd_ps(ar, bv[v], acc[r][v]);
        }
    }
    const __m256 va = _mm256_set1_ps(j->alpha), vb = _mm256_set1_ps(beta);
    for (int r = 0; r < R; r++) {
        float *cr = j->C + (i + (size_t)r) * j->ldc + j0;
        for (int v = 0; v < NV; v++) {
            __m256 t = _mm256_mul_ps(va, acc[r][v]);
            if (beta != 0.0f) {
                __m256 cv = _mm256_maskload_ps(cr + v * 8, mk[v]);
                if (beta != 1.0f) cv = _mm256_mul_ps(vb, cv);
                t = _mm256_add_ps(cv, t);
            }
            _mm256_maskstore_ps(cr + v * 8, mk[v], t);
        }
    }
}

static AI NB_AVX2 void axpy256_rows(const sjob *j, size_t i, size_t k0, size_t kc, float beta, const int R)
{
    size_t j0 = 0, w = j->N;
    for (; w > 8; j0 += 16, w = j->N > j0 ? j->N - j0 : 0) axpy256_tile(j, i, j0, w, k0, kc, beta, R, 2);
    if (w > 0) axpy256_tile(j, i, j0, w, k0, kc, beta, R, 1);
}

static NB_AVX2 void axpy_avx2(const sjob *j)
{
    size_t nkb = (j->K + NB__GEMM_KC - 1) / NB__GEMM_KC;
    for (size_t b = 0; b < nkb; b++) {
        size_t k0, kc, i = 0;
        kblock(j->K, nkb, b, &k0, &kc);
        float beta = b == 0 ? j->beta : 1.0f;
        for (; i + 4 <= j->M; i += 4) axpy256_rows(j, i, k0, kc, beta, 4);
        if (i + 2 <= j->M) axpy256_rows(j, i, k0, kc, beta, 2), i += 2;
        if (i < j->M) axpy256_rows(j, i, k0, kc, beta, 1);
    }
}

/* 16 lanes as two vectors: lo holds lanes 0-7, hi 8-15; the tree of dot_portable */
static AI NB_AVX2 float sum16_256(__m256 lo, __m256 hi)
{
    __m256 s8 = _mm256_add_ps(lo, hi);
    __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
    __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    return _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)));
}

static AI NB_AVX2 void dot256_tile(const sjob *j, size_t i, size_t n, const int NJ)
{
    __m256 lo[4], hi[4];
    for (int q = 0; q < NJ; q++) lo[q] = hi[q] = _mm256_setzero_ps();
    const float *a = j->A + i * j->ars, *b = j->B + n * j->ldb;
    for (size_t k = 0; k < j->K; k += 16) {
        /* the upper half of a short last chunk is all zeros: no pointer past the rows */
        int up = j->K - k > 8;
        __m256i m0 = mask8(j->K - k), m1 = mask8(up ? j->K - k - 8 : 0);
        __m256 z = _mm256_setzero_ps();
        __m256 a0 = _mm256_maskload_ps(a + k, m0), a1 = up ? _mm256_maskload_ps(a + k + 8, m1) : z;
        for (int q = 0; q < NJ; q++) {
            const float *bq = b + (size_t)q * j->ldb + k;
            lo[q] = _mm256_fmadd_ps(a0, _mm256_maskload_ps(bq, m0), lo[q]);
            hi[q] = _mm256_fmadd_ps(a1, up ? _mm256_maskload_ps(bq + 8, m1) : z, hi[q]);
        }
    }
    float *c = j->C + i * j->ldc + n;
    for (int q = 0; q < NJ; q++) c[q] = fold(c[q], sum16_256(lo[q], hi[q]), j->alpha, j->beta);
}

static NB_AVX2 void dot_avx2(const sjob *j)
{
    for (size_t i = 0; i < j->M; i++) {
        size_t n = 0;
        for (; n + 4 <= j->N; n += 4) dot256_tile(j, i, n, 4);
        if (n + 2 <= j->N) dot256_tile(j, i, n, 2), n += 2;
        if (n < j->N) dot256_tile(j, i, n, 1);
    }
}

#endif

int nb__gemm_small(nb__isa isa, int trans_a, int trans_b, size_t M, size_t N, size_t K, float alpha,
                   const float *A, size_t lda, const float *B, size_t ldb, float beta, float *C, size_t ldc)
{
    int form = nb__gemm_small_form(trans_a, trans_b, M, N, K);
    if (form == NB__GEMM_PACKED || alpha == 0.0f) return 0; /* alpha 0: the driver only scales C */
    sjob j = {M, N, K, alpha, beta, A, B, trans_a ? 1 : lda, trans_a ? lda : 1, ldb, C, ldc};
    int dot = form == NB__GEMM_DOT;
#ifdef NB__HAVE_X86_VARIANTS
    if (isa == NB__ISA_AVX512) {
        if (dot) dot_avx512(&j);
        else axpy_avx512(&j);
        return 1;
    }
    if (isa == NB__ISA_AVX2) {
        if (dot) dot_avx2(&j);
        else axpy_avx2(&j);
        return 1;
    }
#endif
    (void)isa; /* the generic tier (CBLAS or not: small products never go to it) */
    if (dot) dot_portable(&j);
    else axpy_portable(&j);
    return 1;
}

int nb__gemm_small_form(int trans_a, int trans_b, size_t M, size_t N, size_t K)
{
    if (M == 0 || N == 0 || K == 0) return NB__GEMM_PACKED; /* the driver's cases */
    /* single-threaded work only: what the driver would split stays with it */
    if ((double)M * (double)N * (double)K >= (double)NB__GEMM_SMALL_MAX_FMAS) return NB__GEMM_PACKED;
    /* Packing copies each operand to reuse it from cache: B's block across the M / 8 panels
     * of A, and each element of A across the tile's columns. With M <= 8 or K <= 16 there is
     * little reuse to buy and the copies cost about what the product does. Measured on
     * AVX-512, single thread: axpy 1.8x the packed speed for 10x128x64, 1.35x for 8x1000x100,
     * even for 64x128x10, but 15-20% slower for 32x256x100 and 100x200x32 (hence M <= 8 or
     * K <= 16); dot 30x for the batch-1 layer 1x10x784, 2x for 2x500x500. Dot changes the
     * last bits, so it is kept to the one shape that needs it - a single row - rather than
     * every small M: then only batch 1 differs from a batched product, not each batch size. */
    if (!trans_b && (M <= 8 || K <= 16)) return NB__GEMM_AXPY;
    if (trans_b && !trans_a && M == 1) return NB__GEMM_DOT;
    return NB__GEMM_PACKED;
}
