/*
 * step_kernels.c - the element loops of an optimizer step (step.c drives them): the update
 * rules (step_rules.h) and the gradient's sum of squares, for AVX-512, AVX and portable C.
 * The vector versions are compiled by function attributes and chosen once by CPU, as the
 * matrix product's kernels are; all give the same bits, so the choice changes only speed.
 * Explicit vectors rather than the compiler's: the build targets baseline x86-64, and sqrtf's
 * errno semantics keep compilers from vectorising Adam's and RMSprop's loops at all.
 */
#include "optim_internal.h"

#include <math.h>
#include <stdatomic.h>

enum { ISA_AUTO, ISA_PORTABLE, ISA_AVX, ISA_AVX512 };

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

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HAVE_X86 1

/* ---- AVX-512 */
#define NB_AVX512 __attribute__((target("avx512f")))
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

/* ---- AVX (no FMA needed: the rules multiply and add separately) */
#define NB_AVX __attribute__((target("avx")))
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

static atomic_int g_isa = ISA_AUTO; /* forced by nb__optim_use_isa, else AUTO */
static atomic_int g_auto = -1;      /* what AUTO resolved to */

static int cpu_has(int isa)
{
#if HAVE_X86
    __builtin_cpu_init();
    if (isa == ISA_AVX512) return __builtin_cpu_supports("avx512f");
    if (isa == ISA_AVX) return __builtin_cpu_supports("avx");
#endif
    return isa == ISA_PORTABLE;
}

static int current(void)
{
    int f = atomic_load_explicit(&g_isa, memory_order_relaxed);
    if (f != ISA_AUTO) return f;
    int a = atomic_load_explicit(&g_auto, memory_order_relaxed);
    if (a < 0) { /* racing first callers compute the same answer */
        a = cpu_has(ISA_AVX512) ? ISA_AVX512 : cpu_has(ISA_AVX) ? ISA_AVX : ISA_PORTABLE;
        atomic_store_explicit(&g_auto, a, memory_order_relaxed);
    }
    return a;
}

int nb__optim_use_isa(int isa)
{
    if (isa < ISA_AUTO || isa > ISA_AVX512 || (isa != ISA_AUTO && !cpu_has(isa)))
        return nb__fail(NB_ERR_ARG, "optimizer: this CPU or build has no such kernel");
    atomic_store_explicit(&g_isa, isa, memory_order_relaxed);
    return NB_OK;
}

void nb__optim_apply(const nb__optim_rule *r, size_t lo, size_t hi)
{
    size_t i = lo;
#if HAVE_X86
    int isa = current();
    if (isa == ISA_AVX512) i = apply_avx512(r, i, hi);
    else if (isa == ISA_AVX) i = apply_avx(r, i, hi);
#endif
    apply_portable(r, i, hi);
}

double nb__optim_sumsq(const float *g, size_t n)
{
#if HAVE_X86
    int isa = current();
    if (isa == ISA_AVX512) return sumsq_avx512(g, n);
    if (isa == ISA_AVX) return sumsq_avx(g, n);
#endif
    double s[32] = {0.0};
    return sumsq_portable(g, n, s);
}

float nb__optim_sumsq_f(const float *g, size_t n)
{
#if HAVE_X86
    int isa = current();
    if (isa == ISA_AVX512) return sumsq_f_lanes_avx512(g, n);
    if (isa == ISA_AVX) return sumsq_f_lanes_avx(g, n);
#endif
    float s[64] = {0.0f};
    return sumsq_f_portable(g, n, s);
}
