/*
 * step_rules.h - the update rules of step.c for one instruction set. step_kernels.c includes
 * it once per set, having defined: V (the vector type), VW (its floats), LD(p), ST(p, v),
 * SET(x) (x in every lane), ADD, MUL, DIV, SQRT (IEEE per lane), FN(name) (the function's
 * name for this set) and ATTR (its target attribute); they are undefined again at the end.
 * Each function updates whole vectors from element i while they fit below hi and returns
 * where it stopped; the portable instantiation (VW 1) finishes. Every set runs the same IEEE
 * operations in the same order on each element (step.c quotes the PyTorch line of each), so
 * all give the same bits.
 * The buffers are read before they are written at each vector, element by element as the
 * scalar loop would, so even a parameter buffer passed as its own gradient stays correct.
 */

/* the gradient the rule sees: clip factor, then the L2 term (the head of step.c's table) */
#define RULE_GRAD(gv, i)                                                                   \
    do {                                                                                   \
        gv = LD(r->g + (i));                                                               \
        if (scaled) gv = MUL(gv, scale);                                                   \
        if (with_l2) gv = ADD(gv, MUL(l2, LD(r->w + (i))));                                \
    } while (0)

#define RULE_COMMON                                                                        \
    const int scaled = r->scale != 1.0f, with_l2 = r->l2 != 0.0f;                          \
    const V scale = SET(r->scale), l2 = SET(r->l2);                                        \
    (void)scale, (void)l2

static ATTR size_t FN(sgd)(const nb__optim_rule *r, size_t i, size_t hi)
{
    RULE_COMMON;
    const V neg_lr = SET(r->neg_lr);
    for (; i + VW <= hi; i += VW) {
        V g;
        RULE_GRAD(g, i);
        ST(r->w + i, ADD(LD(r->w + i), MUL(neg_lr, g)));
    }
    return i;
}

/* MOMENTUM, and NESTEROV when nesterov != 0 */
static ATTR size_t FN(momentum)(const nb__optim_rule *r, size_t i, size_t hi, int nesterov)
{
    RULE_COMMON;
    const V neg_lr = SET(r->neg_lr), tau = SET(r->tau);
    for (; i + VW <= hi; i += VW) {
        V g;
        RULE_GRAD(g, i);
        V v = ADD(MUL(LD(r->s0 + i), tau), g);
        ST(r->s0 + i, v);
        V d = nesterov ? ADD(g, MUL(tau, v)) : v;
        ST(r->w + i, ADD(LD(r->w + i), MUL(neg_lr, d)));
    }
    return i;
}

/* ADAM, and ADAMW's decoupled decay first */
static ATTR size_t FN(adam)(const nb__optim_rule *r, size_t i, size_t hi)
{
    RULE_COMMON;
    const int decoupled = r->type == NB_OPTIM_ADAMW;
    const V b1 = SET(r->b1), one_b1 = SET(r->one_b1), b2 = SET(r->b2), one_b2 = SET(r->one_b2);
    const V eps = SET(r->eps), neg_step = SET(r->neg_step), bc2_sqrt = SET(r->bc2_sqrt);
    const V decay = SET(r->decay);
    for (; i + VW <= hi; i += VW) {
        V g;
        RULE_GRAD(g, i);
        V w = LD(r->w + i);
        if (decoupled) w = MUL(w, decay);
        V m = ADD(MUL(LD(r->s0 + i), b1), MUL(one_b1, g));
        V v = ADD(MUL(LD(r->s1 + i), b2), MUL(MUL(one_b2, g), g));
        ST(r->s0 + i, m);
        ST(r->s1 + i, v);
        V denom = ADD(DIV(SQRT(v), bc2_sqrt), eps);
        ST(r->w + i, ADD(w, DIV(MUL(neg_step, m), denom)));
    }
    return i;
}

/* RMSPROP, with its momentum buffer when s1 is there */
static ATTR size_t FN(rmsprop)(const nb__optim_rule *r, size_t i, size_t hi)
{
    RULE_COMMON;
    const V alpha = SET(r->alpha), one_alpha = SET(r->one_alpha), eps = SET(r->eps);
    const V neg_lr = SET(r->neg_lr), tau = SET(r->tau);
    for (; i + VW <= hi; i += VW) {
        V g;
        RULE_GRAD(g, i);
        V sq = ADD(MUL(LD(r->s0 + i), alpha), MUL(MUL(one_alpha, g), g));
        ST(r->s0 + i, sq);
        V avg = ADD(SQRT(sq), eps);
        if (r->s1) {
            V b = ADD(MUL(LD(r->s1 + i), tau), DIV(g, avg));
            ST(r->s1 + i, b);
            ST(r->w + i, ADD(LD(r->w + i), MUL(neg_lr, b)));
        } else {
            ST(r->w + i, ADD(LD(r->w + i), DIV(MUL(neg_lr, g), avg)));
        }
    }
    return i;
}

/* the rule of r->type over whole vectors from i; returns where it stopped */
static ATTR size_t FN(apply)(const nb__optim_rule *r, size_t i, size_t hi)
{
    switch (r->type) {
    case NB_OPTIM_ADAM:
    case NB_OPTIM_ADAMW: return FN(adam)(r, i, hi);
    case NB_OPTIM_RMSPROP: return FN(rmsprop)(r, i, hi);
    case NB_OPTIM_MOMENTUM: return FN(momentum)(r, i, hi, 0);
    case NB_OPTIM_NESTEROV: return FN(momentum)(r, i, hi, 1);
    case NB_OPTIM_SGD:
    default: return FN(sgd)(r, i, hi);
    }
}

#undef RULE_GRAD
#undef RULE_COMMON
#if VW > 1
/* The float sum of squares of the finiteness check in 64 lanes (lane l: the elements with
 * i mod 64 == l) over whole chunks of 64, finished by the portable rule: the same bits on
 * every set */
static ATTR float FN(sumsq_f_lanes)(const float *g, size_t n)
{
    V a[64 / VW];
    for (int q = 0; q < 64 / VW; q++) a[q] = SET(0.0f);
    size_t n64 = n - n % 64;
    for (size_t i = 0; i < n64; i += 64)
        for (int q = 0; q < 64 / VW; q++) {
            V x = LD(g + i + (size_t)q * VW);
            a[q] = ADD(a[q], MUL(x, x));
        }
    float s[64];
    for (int q = 0; q < 64 / VW; q++) ST(s + q * VW, a[q]);
    return sumsq_f_portable(g + n64, n - n64, s);
}
#endif

/* the parameters too, so the next instruction set defines its own */
#undef V
#undef VW
#undef LD
#undef ST
#undef SET
#undef ADD
#undef MUL
#undef DIV
#undef SQRT
#undef FN
#undef ATTR
