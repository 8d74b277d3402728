/* SPDX-License-Identifier: MIT */
/*
 * step.c - one optimizer update over the flat parameter and gradient buffers.
 * Every rule is torch.optim's single-tensor path (torch 1.13 sgd.py, adam.py, adamw.py,
 * rmsprop.py) in float32 and in the same operation order: hyper-parameter arithmetic in
 * double (PyTorch does it in Python floats), each scalar then rounded to float where PyTorch
 * hands it to a float kernel. Each operation below quotes the PyTorch line it mirrors. One
 * deliberate difference: PyTorch's CPU kernels fuse `a + alpha * b` into an FMA, nabla rounds
 * twice (no FMA, identical on every machine): at most 1 ulp per such operation.
 * Two passes: the norm (reads the gradients), then one fused update of parameters and state;
 * the element loops are in step_kernels.c (vectorised), large steps split over the threads.
 * Invariant: nothing is written before the gradient is known to be finite; no allocation.
 */
#include "optim_internal.h"
#include "../ops/ops.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* The gradient PyTorch's optimizer sees for element i: clip_grad_norm_'s g.mul_(coef), then
 * `d_p = d_p.add(param, alpha=weight_decay)` (our l2), skipped when l2 is 0 as PyTorch does.
 * The per-element operations of every rule, in this order, as step_rules.h runs them:
 *  SGD       w = w + (-lr) g                          param.add_(d_p, alpha=-lr)
 *  MOMENTUM  v = v tau; v = v + g                     buf.mul_(momentum).add_(d_p, alpha=1 - dampening)
 *            (the buffer starts at 0: PyTorch clones d_p at the first step, 0 tau + g is the same)
 *            w = w + (-lr) v                          d_p = buf; param.add_(d_p, alpha=-lr)
 *  NESTEROV  as MOMENTUM, then w = w + (-lr) (g + tau v)   d_p = d_p.add(buf, alpha=momentum)
 *  ADAM      m = m b1; m = m + (1 - b1) g             exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
 *            v = v b2; v = v + ((1 - b2) g) g         exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
 *            d = sqrt(v) / sqrt(bc2) + eps            (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
 *            w = w + ((-step_size) m) / d             param.addcdiv_(exp_avg, denom, value=-step_size)
 *  ADAMW     w = w (1 - lr wd) first (the L2 term, if any, uses w before it), then ADAM
 *  RMSPROP   s = s alpha; s = s + ((1 - alpha) g) g   square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
 *            a = sqrt(s) + eps                        avg = square_avg.sqrt().add_(eps)
 *            w = w + ((-lr) g) / a                    param.addcdiv_(grad, avg, value=-lr)
 *            with momentum: b = b tau; b = b + g / a; w = w + (-lr) b
 *                                                     buf.mul_(momentum).addcdiv_(grad, avg); param.add_(buf, alpha=-lr)
 * ADAM and ADAMW follow Kingma & Ba 2015, Alg. 1 and Loshchilov & Hutter 2019 (decoupled
 * decay), without amsgrad; RMSPROP Hinton's lecture 6e with Graves 2013's eps placement,
 * without centering. Hyper-parameter arithmetic (bias corrections, step size) is in double as
 * PyTorch's Python floats, each scalar rounded to float where PyTorch hands it to a kernel. */
static void make_rule(const nb_optim *o, float *w, const float *grads, float scale, nb__optim_rule *r)
{
    const nb_optim_config *c = &o->cfg;
    memset(r, 0, sizeof *r);
    r->type = c->type;
    r->w = w;
    r->g = grads;
    /* With no parameters there is no state allocation (and NULL + 0 is not valid C). */
    r->s0 = o->n_state > 0 ? o->state : NULL;
    r->s1 = o->n_state > 1 && o->state ? o->state + o->n : NULL;
    r->scale = scale;
    r->l2 = c->l2;
    r->neg_lr = (float)(-o->lr);
    r->tau = c->momentum;
    r->eps = c->eps;
    if (c->type == NB_OPTIM_ADAM || c->type == NB_OPTIM_ADAMW) {
        const double t = (double)(o->steps + 1); /* step_t += 1 happens before the update */
        const double bc1 = 1.0 - pow((double)c->beta1, t); /* 1 - beta1 ** step */
        const double bc2 = 1.0 - pow((double)c->beta2, t);
        r->neg_step = (float)(-(o->lr / bc1)); /* value=-step_size */
        r->bc2_sqrt = (float)sqrt(bc2);        /* math.sqrt(bias_correction2) */
        r->b1 = c->beta1, r->one_b1 = (float)(1.0 - (double)c->beta1);
        r->b2 = c->beta2, r->one_b2 = (float)(1.0 - (double)c->beta2);
        r->decay = (float)(1.0 - o->lr * (double)c->weight_decay); /* 1 - lr * weight_decay */
    }
    r->alpha = c->rms_alpha;
    r->one_alpha = (float)(1.0 - (double)c->rms_alpha);
}

/* Steps are cut into parts (optim_internal.h), a function of n alone: the norm adds the
 * parts' sums in part order, so neither it nor the update (element-wise) depends on the
 * thread count or on whether the parts ran on the pool. */
#define MAX_PARTS NB__OPTIM_MAX_PARTS

static size_t parts_of(size_t n)
{
    size_t p = n / NB__OPTIM_PART_MIN;
    return p < 1 ? 1 : p > MAX_PARTS ? MAX_PARTS : p;
}

typedef struct step_job {
    const nb__optim_rule *rule;
    const uint8_t *order; /* the update's part order (nb__optim_set_spans), or NULL */
    const float *g;
    size_t n, parts;
    int exact;         /* sum in double (else in float) */
    double sums[MAX_PARTS];
} step_job;

static void part_range(const step_job *j, size_t p, size_t *lo, size_t *hi)
{
    *lo = p * j->n / j->parts;
    *hi = (p + 1) * j->n / j->parts;
}

/* the elements of task t: part order[t] when the update has an order, else part t */
static size_t task_range(const step_job *j, size_t t, size_t *lo, size_t *hi)
{
    size_t p = j->order ? j->order[t] : t;
    part_range(j, p, lo, hi);
    return p;
}

static void sumsq_task(void *ctx, size_t t, float *scratch)
{
    (void)scratch;
    step_job *j = ctx;
    size_t lo, hi, p = task_range(j, t, &lo, &hi); /* the update's order: the same thread's parts */
    /* each task writes its own part */
    j->sums[p] = j->exact ? nb__optim_sumsq(j->g + lo, hi - lo) : (double)nb__optim_sumsq_f(j->g + lo, hi - lo);
}

/* the sum of squares of the gradients, the parts' sums added in part order */
static double sumsq(step_job *j, int exact)
{
    j->exact = exact;
    if (j->n == 0) return 0.0; /* grads may be NULL then */
    if (j->n >= NB__OPTIM_THREAD_MIN) nb__parallel_for(j->parts, sumsq_task, j);
    else
        for (size_t p = 0; p < j->parts; p++) sumsq_task(j, p, NULL);
    double ss = 0.0;
    for (size_t p = 0; p < j->parts; p++) ss += j->sums[p];
    return ss;
}

/* The update of [lo, hi) in blocks taken from the end backwards: the norm pass has just read
 * the gradients forwards, so their last blocks are the ones still in L1 (measured: -7% for a
 * batch-1 logistic regression's step, whose weights and gradients overflow L1 together).
 * Elements are independent: the order changes no result. */
#define APPLY_BLOCK 1024
static void apply_backwards(const nb__optim_rule *r, size_t lo, size_t hi)
{
    while (hi > lo) {
        size_t b = (hi - 1) / APPLY_BLOCK * APPLY_BLOCK;
        if (b < lo) b = lo;
        nb__optim_apply(r, b, hi);
        hi = b;
    }
}

static void apply_task(void *ctx, size_t t, float *scratch)
{
    (void)scratch;
    const step_job *j = ctx;
    size_t lo, hi;
    task_range(j, t, &lo, &hi);
    apply_backwards(j->rule, lo, hi);
}

/* The clip_grad_norm_ factor for a finite norm: max_norm / (total_norm + 1e-6), clamped to
 * at most 1. PyTorch computes it in float as reciprocal(norm + 1e-6) * max_norm (Tensor's
 * __rdiv__); a norm beyond float's range (possible when many large gradients add up) takes
 * the double quotient instead of 0. */
static float clip_scale(float clip, double norm)
{
    float coef;
    if (norm <= (double)FLT_MAX)
        coef = (1.0f / ((float)norm + 1e-6f)) * clip;
    else
        coef = (float)((double)clip / norm);
    return coef < 1.0f ? coef : 1.0f;
}

void nb__optim_set_spans(nb_optim *o, const size_t *off, const size_t *len, int n)
{
    if (!o) return;
    o->order_n = 0;
    if (o->n == 0) return;
    size_t end = 0;
    for (int i = 0; i < n; i++) { /* they must tile [0, o->n) in order */
        if (off[i] != end) return;
        end += len[i];
    }
    if (end != o->n || n < 1) return;
    /* each part by the span and half its middle falls in: first halves front to back, then
     * second halves back to front, so the caller (claiming from the front) meets the workers
     * (from the back) between the two */
    step_job j = {.n = o->n, .parts = parts_of(o->n)};
    size_t front = 0, back = j.parts;
    for (size_t p = 0, s = 0; p < j.parts; p++) {
        size_t lo, hi;
        part_range(&j, p, &lo, &hi);
        size_t mid = lo + (hi - lo) / 2;
        while (off[s] + len[s] <= mid) s++;
        if (mid < off[s] + len[s] / 2) o->order[front++] = (uint8_t)p;
        else o->order[--back] = (uint8_t)p; /* from the end: a worker's first claim is the lowest */
    }
    o->order_n = o->n;
}

int nb_optim_step(nb_optim *o, float *params, const float *grads, size_t n)
{
    if (!o) return nb__fail(NB_ERR_ARG, "nb_optim_step: optimizer is NULL");
    if (n != o->n)
        return nb__fail(NB_ERR_SHAPE, "optimizer: step got %zu parameters, created for %zu", n,
                        o->n);
    if (n > 0 && (!params || !grads))
        return nb__fail(NB_ERR_ARG, "nb_optim_step: %s is NULL", params ? "grads" : "params");
    if (o->steps == INT64_MAX) return nb__fail(NB_ERR_STATE, "optimizer: step count overflows");

    /* (1) Global L2 norm, in interleaved lanes per part (optim_internal.h): vectorisable,
     * and a fixed order - one chain of dependent additions costs ~4 cycles per parameter.
     * Clipping scales the step by it, so then it is summed in double, where each square is
     * exact and the sum cannot overflow: finite exactly when every gradient is. Otherwise it
     * is only reported, and float sums (no conversions: several times cheaper) serve: a
     * finite float sum proves every gradient finite; an infinite one is summed again in
     * double, to tell a huge but finite gradient from a non-finite one. */
    step_job j;
    j.rule = NULL, j.order = o->order_n == n ? o->order : NULL, j.g = grads, j.n = n, j.parts = parts_of(n);
    int exact = o->cfg.clip_norm > 0.0f;
    double ss = sumsq(&j, exact);
    if (!exact && !isfinite(ss)) ss = sumsq(&j, 1);
    o->grad_norm = sqrt(ss);
    if (!isfinite(o->grad_norm)) {
        size_t bad = 0;
        while (bad < n && isfinite(grads[bad])) bad++;
        return nb__fail(NB_ERR_NUMERIC, "optimizer: non-finite gradient (norm = %s) at element %zu",
                        isnan(o->grad_norm) ? "nan" : "inf", bad);
    }

    /* (2) Clipping by the global norm, applied on the fly (grads is const). */
    float scale = o->cfg.clip_norm > 0.0f ? clip_scale(o->cfg.clip_norm, o->grad_norm) : 1.0f;

    /* (3) + (4) L2 term and the rule, one fused pass over every array. */
    nb__optim_rule rule;
    make_rule(o, params, grads, scale, &rule);
    j.rule = &rule;
    if (n >= NB__OPTIM_THREAD_MIN) nb__parallel_for(j.parts, apply_task, &j);
    else apply_backwards(&rule, 0, n);
    o->steps++; /* (5) */
    return NB_OK;
}
