/* SPDX-License-Identifier: MIT */
/*
 * step_rules.h - the element loops of an optimizer step, written once over simd.h's nb__vf
 * and compiled per CPU tier by step_kernels.c (simd_tiers.h): the update rules, in the
 * per-element operation order of step.c's table (it quotes the PyTorch line of each), and
 * the gradient's sums of squares in the lane layout of optim_internal.h. A ragged end runs
 * as one vector padded with zeros whose extra lanes are never stored (or add s + 0 0 = s),
 * so every tier gives the same bits and only the speed depends on it.
 * Each element is read before it is written, at each vector, as the scalar loop reads it, so
 * even a parameter buffer passed as its own gradient stays correct.
 */

/* the first n <= NB__VL floats at p into v (the rest 0), and back: whole vectors when
 * n == NB__VL (a constant in the loops, so the test folds away) */
NB__TIER_INLINE void NB__T(get)(nb__vf *v, const float *p, size_t n)
{
    if (n == NB__VL) *v = NB__VFC(p);
    else NB__VF_LOAD_PART(*v, p, n);
}
NB__TIER_INLINE void NB__T(put)(float *p, nb__vf v, size_t n)
{
    if (n == NB__VL) NB__VF(p) = v;
    else NB__VF_STORE_PART(p, v, n);
}

/* ---- the rules, n elements from i. g: the gradient the rule sees (the head of step.c's
 * table): the clip factor, then the L2 term. Each rule reads w where it uses it, after its
 * state stores, as the compilers cannot keep it across them anyway (the buffers may alias). */

NB__TIER_INLINE void NB__T(grad_of)(const nb__optim_rule *r, size_t i, size_t n, nb__vf *g)
{
    NB__T(get)(g, r->g + i, n);
    if (r->scale != 1.0f) *g = *g * r->scale;
    if (r->l2 != 0.0f) {
        nb__vf w;
        NB__T(get)(&w, r->w + i, n);
        *g = *g + r->l2 * w;
    }
}

NB__TIER_INLINE void NB__T(sgd)(const nb__optim_rule *r, size_t i, size_t n)
{
    nb__vf g, w;
    NB__T(grad_of)(r, i, n, &g);
    NB__T(get)(&w, r->w + i, n);
    NB__T(put)(r->w + i, w + r->neg_lr * g, n);
}

/* MOMENTUM, and NESTEROV when nesterov != 0 */
NB__TIER_INLINE void NB__T(momentum)(const nb__optim_rule *r, size_t i, size_t n, int nesterov)
{
    nb__vf g, w, v;
    NB__T(grad_of)(r, i, n, &g);
    NB__T(get)(&v, r->s0 + i, n);
    v = v * r->tau + g;
    NB__T(put)(r->s0 + i, v, n);
    nb__vf d = nesterov ? g + r->tau * v : v;
    NB__T(get)(&w, r->w + i, n);
    NB__T(put)(r->w + i, w + r->neg_lr * d, n);
}

/* ADAM, and ADAMW's decoupled decay first */
NB__TIER_INLINE void NB__T(adam)(const nb__optim_rule *r, size_t i, size_t n)
{
    nb__vf g, w, m, v;
    NB__T(grad_of)(r, i, n, &g);
    NB__T(get)(&w, r->w + i, n);
    if (r->type == NB_OPTIM_ADAMW) w = w * r->decay;
    NB__T(get)(&m, r->s0 + i, n);
    m = m * r->b1 + r->one_b1 * g;
    NB__T(get)(&v, r->s1 + i, n);
    v = v * r->b2 + r->one_b2 * g * g;
    NB__T(put)(r->s0 + i, m, n);
    NB__T(put)(r->s1 + i, v, n);
    nb__vf denom = NB__VSQRT(v) / r->bc2_sqrt + r->eps;
    NB__T(put)(r->w + i, w + r->neg_step * m / denom, n);
}

/* RMSPROP, with its momentum buffer when s1 is there */
NB__TIER_INLINE void NB__T(rmsprop)(const nb__optim_rule *r, size_t i, size_t n)
{
    nb__vf g, w, s, b;
    NB__T(grad_of)(r, i, n, &g);
    NB__T(get)(&s, r->s0 + i, n);
    s = s * r->alpha + r->one_alpha * g * g;
    NB__T(put)(r->s0 + i, s, n);
    nb__vf avg = NB__VSQRT(s) + r->eps;
    if (r->s1) {
        NB__T(get)(&b, r->s1 + i, n);
        b = b * r->tau + g / avg;
        NB__T(put)(r->s1 + i, b, n);
        NB__T(get)(&w, r->w + i, n);
        NB__T(put)(r->w + i, w + r->neg_lr * b, n);
    } else {
        NB__T(get)(&w, r->w + i, n);
        NB__T(put)(r->w + i, w + r->neg_lr * g / avg, n);
    }
}

/* the rule over [i, hi): whole vectors, then the ragged end as one */
#define OVER_VECTORS(rule, ...)                                                             \
    do {                                                                                    \
        for (size_t end_ = hi - (hi - i) % NB__VL; i < end_; i += NB__VL)                   \
            NB__T(rule)(r, i, NB__VL, ##__VA_ARGS__);                                       \
        if (i < hi) NB__T(rule)(r, i, hi - i, ##__VA_ARGS__);                               \
    } while (0)

/* The rule of r->type over elements [i, hi) */
NB__TIER_FN void NB__T(apply)(const nb__optim_rule *rule, size_t i, size_t hi)
{
    /* a local copy, which no store to the buffers can alias: its fields stay in registers
     * instead of being read again after every store */
    const nb__optim_rule copy = *rule, *r = &copy;
    switch (r->type) {
    case NB_OPTIM_ADAM:
    case NB_OPTIM_ADAMW: OVER_VECTORS(adam); break;
    case NB_OPTIM_RMSPROP: OVER_VECTORS(rmsprop); break;
    case NB_OPTIM_MOMENTUM: OVER_VECTORS(momentum, 0); break;
    case NB_OPTIM_NESTEROV: OVER_VECTORS(momentum, 1); break;
    case NB_OPTIM_SGD:
    default: OVER_VECTORS(sgd); break;
    }
}
#undef OVER_VECTORS

/* ---- the sums of squares (optim_internal.h fixes which lanes add what, whatever NB__VL) */

/* double: element i in lane i mod 32, lanes q NB__VL / 2 .. in a[q]; each square is exact
 * in double, then added (so a fused multiply-add gives the same bits). k <= 32 elements of a
 * chunk; the missing ones read as 0 */
NB__TIER_INLINE void NB__T(sumsq_chunk)(const float *g, size_t k, nb__vd *a)
{
    for (size_t q = 0; q < 64 / NB__VL; q++) {
        size_t at = q * NB__VL / 2;
        nb__vd d;
        if (k >= at + NB__VL / 2) d = NB__VD_LOAD(g + at);
        else {
            float t[NB__VL / 2] = {0};
            for (size_t l = 0; at + l < k; l++) t[l] = g[at + l];
            d = NB__VD_LOAD(t);
        }
        a[q] = NB__VD_FMA(d, d, a[q]);
    }
}

NB__TIER_FN double NB__T(sumsq)(const float *g, size_t n)
{
    nb__vd a[64 / NB__VL];
    memset(a, 0, sizeof a);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) NB__T(sumsq_chunk)(g + i, 32, a);
    if (i < n) NB__T(sumsq_chunk)(g + i, n - i, a);
    double s[32];
    memcpy(s, a, sizeof s);
    for (size_t w = 16; w >= 1; w /= 2)
        for (size_t l = 0; l < w; l++) s[l] += s[l + w];
    return s[0];
}

/* float: element i in lane i mod 64, lanes q NB__VL .. in a[q], s = s + g g (the product
 * rounded); k <= 64 elements of a chunk */
NB__TIER_INLINE void NB__T(sumsq_f_chunk)(const float *g, size_t k, nb__vf *a)
{
    for (size_t q = 0; q < 64 / NB__VL; q++) {
        nb__vf x = {0};
        size_t at = q * NB__VL;
        if (k > at) NB__T(get)(&x, g + at, k - at < NB__VL ? k - at : NB__VL);
        a[q] = a[q] + x * x;
    }
}

NB__TIER_FN float NB__T(sumsq_f)(const float *g, size_t n)
{
    nb__vf a[64 / NB__VL];
    memset(a, 0, sizeof a);
    size_t i = 0;
    for (; i + 64 <= n; i += 64) NB__T(sumsq_f_chunk)(g + i, 64, a);
    if (i < n) NB__T(sumsq_f_chunk)(g + i, n - i, a);
    float s[64];
    memcpy(s, a, sizeof s);
    for (size_t w = 32; w >= 1; w /= 2)
        for (size_t l = 0; l < w; l++) s[l] = s[l] + s[l + w];
    return s[0];
}
