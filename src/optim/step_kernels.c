/*
 * step_kernels.c - the element loops of an optimizer step (step.c drives them): the update
 * rules (step_rules.h) and the gradient's sum of squares, for AVX-512, AVX and portable C.
 * The vector versions are compiled by function attributes (cpu.h) and run on the CPU tier
 * every kernel family follows: AVX-512 on the AVX512 tier, 256-bit AVX on the AVX2 tier,
 * portable C on the generic one; all give the same bits, so the tier changes only speed.
 * Not simd.h's 16-lane vectors (yet): GCC 12 keeps 64-byte vectors in memory on AVX2, which
 * made these loops 2-10x slower there (measured); step_rules.h's template keeps each set's
 * own width until simd.h has a vector type as wide as each tier's registers.
 * Explicit vectors rather than the compiler's: the build targets baseline x86-64, and sqrtf's
 * errno semantics keep compilers from vectorising Adam's and RMSprop's loops at all.
 */
#include "optim_internal.h"
#include "../ops/cpu.h"

#include <math.h>

/* ---- portable C: also the tail of the vector versions */
#define V float
#define VW 1
#define LD(p) (*(p))
#define ST(p, v) (*(p) = (v))
#define SET(x) (x)
#define ADD(a, b) ((a) + (b))
#define MUL(a, b) ((a) * (b))
#define DIV(a, b) ((a) / (b))
#define SQRT(a) sqrtf(a)
#define FN(name) name##_portable
#define ATTR
#include "step_rules.h"

/* 32 double lanes, reduced by the tree of optim_internal.h; also the tail of the vector
 * versions, which pass their lanes in s */
static double sumsq_portable(const float *g, size_t n, double *s)
{
    for (size_t i = 0; i < n; i += 32)
        for (size_t l = 0; l < 32 && i + l < n; l++) s[l] += (double)g[i + l] * (double)g[i + l];
    for (size_t w = 16; w >= 1; w /= 2)
        for (size_t l = 0; l < w; l++) s[l] += s[l + w];
    return s[0];
}

/* 64 float lanes (optim_internal.h); also the tail of the vector versions, from lane 0 */
static float sumsq_f_portable(const float *g, size_t n, float *s)
{
    for (size_t i = 0; i < n; i += 64)
        for (size_t l = 0; l < 64 && i + l < n; l++) s[l] = s[l] + g[i + l] * g[i + l];
    for (size_t w = 32; w >= 1; w /= 2)
        for (size_t l = 0; l < w; l++) s[l] = s[l] + s[l + w];
    return s[0];
}

#ifdef NB__HAVE_X86_VARIANTS
#include <immintrin.h>
#define HAVE_X86 1

/* ---- AVX-512 */
#define NB_AVX512 NB__TARGET_AVX512
#define V __m512
#define VW 16
#define LD(p) _mm512_loadu_ps(p)
#define ST(p, v) _mm512_storeu_ps((p), (v))
#define SET(x) _mm512_set1_ps(x)
#define ADD(a, b) _mm512_add_ps((a), (b))
#define MUL(a, b) _mm512_mul_ps((a), (b))
#define DIV(a, b) _mm512_div_ps((a), (b))
#define SQRT(a) _mm512_sqrt_ps(a)
#define FN(name) name##_avx512
#define ATTR NB_AVX512
#include "step_rules.h"

/* lanes 8q .. 8q+7 in a[q] over whole chunks of 32; the squares are exact in double, so an
 * FMA adds them as the portable loop's multiply and add do */
static NB_AVX512 double sumsq_avx512(const float *g, size_t n)
{
    __m512d a[4] = {_mm512_setzero_pd(), _mm512_setzero_pd(), _mm512_setzero_pd(), _mm512_setzero_pd()};
    size_t n32 = n - n % 32;
    for (size_t i = 0; i < n32; i += 32)
        for (int q = 0; q < 4; q++) {
            __m512d x = _mm512_cvtps_pd(_mm256_loadu_ps(g + i + (size_t)q * 8));
            a[q] = _mm512_fmadd_pd(x, x, a[q]);
        }
    double s[32];
    for (int q = 0; q < 4; q++) _mm512_storeu_pd(s + q * 8, a[q]);
    return sumsq_portable(g + n32, n - n32, s);
}

/* ---- 256-bit AVX vectors on the AVX2 tier (no AVX2 or FMA instruction needed: the rules
 * multiply and add separately) */
#define NB_AVX NB__TARGET_AVX2
#define V __m256
#define VW 8
#define LD(p) _mm256_loadu_ps(p)
#define ST(p, v) _mm256_storeu_ps((p), (v))
#define SET(x) _mm256_set1_ps(x)
#define ADD(a, b) _mm256_add_ps((a), (b))
#define MUL(a, b) _mm256_mul_ps((a), (b))
#define DIV(a, b) _mm256_div_ps((a), (b))
#define SQRT(a) _mm256_sqrt_ps(a)
#define FN(name) name##_avx
#define ATTR NB_AVX
#include "step_rules.h"

/* lanes 4q .. 4q+3 in a[q]; whole chunks of 32 here, the rest by the portable code's rule */
static NB_AVX double sumsq_avx(const float *g, size_t n)
{
    __m256d a[8];
    for (int q = 0; q < 8; q++) a[q] = _mm256_setzero_pd();
    size_t n32 = n - n % 32;
    for (size_t i = 0; i < n32; i += 32)
        for (int q = 0; q < 8; q++) {
            __m256d x = _mm256_cvtps_pd(_mm_loadu_ps(g + i + (size_t)q * 4));
            a[q] = _mm256_add_pd(a[q], _mm256_mul_pd(x, x));
        }
    double s[32];
    for (int q = 0; q < 8; q++) _mm256_storeu_pd(s + q * 4, a[q]);
    return sumsq_portable(g + n32, n - n32, s);
}
#else
#define HAVE_X86 0
#endif

void nb__optim_apply(const nb__optim_rule *r, size_t lo, size_t hi)
{
    size_t i = lo;
#if HAVE_X86
    nb__isa isa = nb__cpu_isa();
    if (isa == NB__ISA_AVX512) i = apply_avx512(r, i, hi);
    else if (isa == NB__ISA_AVX2) i = apply_avx(r, i, hi);
#endif
    apply_portable(r, i, hi);
}

double nb__optim_sumsq(const float *g, size_t n)
{
#if HAVE_X86
    nb__isa isa = nb__cpu_isa();
    if (isa == NB__ISA_AVX512) return sumsq_avx512(g, n);
    if (isa == NB__ISA_AVX2) return sumsq_avx(g, n);
#endif
    double s[32] = {0.0};
    return sumsq_portable(g, n, s);
}

float nb__optim_sumsq_f(const float *g, size_t n)
{
#if HAVE_X86
    nb__isa isa = nb__cpu_isa();
    if (isa == NB__ISA_AVX512) return sumsq_f_lanes_avx512(g, n);
    if (isa == NB__ISA_AVX2) return sumsq_f_lanes_avx(g, n);
#endif
    float s[64] = {0.0f};
    return sumsq_f_portable(g, n, s);
}
