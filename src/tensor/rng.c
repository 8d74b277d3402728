/* SPDX-License-Identifier: MIT */
/*
 * rng.c - xoshiro256** seeded by splitmix64, with float conversions that give the same stream
 * on every machine: uniform floats are exact multiples of 2^-24 and normals use Marsaglia's
 * polar method with nabla's own logarithm (libm's log may differ in the last bit between
 * platforms; ours uses only IEEE-exact +,-,*,/ and sqrt, built with -ffp-contract=off).
 */
#include "internal.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void nb_rng_seed(nb_rng *rng, uint64_t seed)
{
    if (!rng) return;
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) rng->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t nb_rng_u64(nb_rng *rng)
{
    if (!rng) return 0;
    uint64_t *s = rng->s;
    /* An all-zero state (a generator never seeded) is a fixed point of xoshiro: it would give
     * 0 forever, and nb_rng_normal would loop forever rejecting it. Treat it as seed 0; a
     * seeded state is never all zero, so seeded streams are unchanged. */
    if (!(s[0] | s[1] | s[2] | s[3])) nb_rng_seed(rng, 0);
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t nb_rng_below(nb_rng *rng, uint64_t n)
{
    if (n == 0 || !rng) return 0;
    /* rejection sampling: drop the top partial block so every residue is equally likely */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = nb_rng_u64(rng);
    while (x >= limit);
    return x % n;
}

float nb_rng_uniform(nb_rng *rng)
{
    return rng ? (float)(nb_rng_u64(rng) >> 40) * 0x1.0p-24f : 0.0f;
}

double nb__det_log(double x)
{
    /* x = m * 2^e with m in [sqrt(1/2), sqrt(2)); ln x = e ln2 + 2 atanh((m-1)/(m+1)).
     * The series in s = (m-1)/(m+1), |s| <= 0.172, converges to double precision in 14 terms. */
    if (!(x > 0)) return x == 0 ? -(double)INFINITY : (double)NAN;
    int e = 0;
    double m = frexp(x, &e); /* m in [0.5, 1): exact */
    if (m < 0.70710678118654752440) {
        m *= 2.0;
        e -= 1;
    }
    double s = (m - 1.0) / (m + 1.0), s2 = s * s, term = s, sum = 0.0;
    for (int k = 1; k <= 29; k += 2) {
        sum += term / k;
        term *= s2;
    }
    return (double)e * 0.69314718055994530942 + 2.0 * sum;
}

float nb_rng_normal(nb_rng *rng)
{
    if (!rng) return 0.0f;
    for (;;) {
        /* uniform doubles in (-1, 1) from 53 random bits: exact */
        double u = (double)(nb_rng_u64(rng) >> 11) * 0x1.0p-52 - 1.0;
        double v = (double)(nb_rng_u64(rng) >> 11) * 0x1.0p-52 - 1.0;
        double s = u * u + v * v;
        if (s >= 1.0 || s == 0.0) continue;
        return (float)(u * sqrt(-2.0 * nb__det_log(s) / s));
    }
}
