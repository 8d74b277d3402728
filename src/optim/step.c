/*
 * step.c - one optimizer update over the flat parameter and gradient buffers.
 * Every rule is torch.optim's single-tensor path (torch 1.13 sgd.py, adam.py, adamw.py,
 * rmsprop.py) in float32 and in the same operation order: hyper-parameter arithmetic in
 * double (PyTorch does it in Python floats), each scalar then rounded to float where PyTorch
 * hands it to a float kernel. Each kernel line quotes the PyTorch line it mirrors. One
 * deliberate difference: PyTorch's CPU kernels fuse `a + alpha * b` into an FMA, nabla rounds
 * twice (-ffp-contract=off, identical on every machine): at most 1 ulp per such operation.
 * Invariant: nothing is written before the gradient is known to be finite; no allocation.
 */
#include "optim_internal.h"

#include <float.h>
#include <math.h>

/* The gradient PyTorch's optimizer sees for element i: clip_grad_norm_'s g.mul_(coef), then
 * `d_p = d_p.add(param, alpha=weight_decay)` (our l2), skipped when l2 is 0 as PyTorch does. */
static inline float grad_at(const float *grads, const float *w, size_t i, float scale, float l2)
{
    float g = grads[i] * scale;
    if (l2 != 0.0f) g = g + l2 * w[i];
    return g;
}

/* SGD, MOMENTUM and NESTEROV: torch.optim.SGD with dampening 0. */
static void step_sgd(nb_optim *o, float *w, const float *grads, float scale)
{
    const nb_optim_config *c = &o->cfg;
    const float neg_lr = (float)(-o->lr), tau = c->momentum, l2 = c->l2;
    float *v = o->state;
    for (size_t i = 0; i < o->n; i++) {
        float g = grad_at(grads, w, i, scale, l2);
        if (c->type != NB_OPTIM_SGD) {
            /* buf.mul_(momentum).add_(d_p, alpha=1 - dampening). The buffer starts at 0
             * (PyTorch clones d_p at the first step: 0 * tau + d_p is the same float). */
            v[i] = v[i] * tau;
            v[i] = v[i] + g;
            /* nesterov: d_p = d_p.add(buf, alpha=momentum); else d_p = buf */
            g = c->type == NB_OPTIM_NESTEROV ? g + tau * v[i] : v[i];
        }
        w[i] = w[i] + neg_lr * g; /* param.add_(d_p, alpha=-lr) */
    }
}

/* ADAM and ADAMW (Kingma & Ba 2015, Alg. 1; Loshchilov & Hutter 2019 for the decoupled decay),
 * as torch.optim.Adam / AdamW without amsgrad. */
static void step_adam(nb_optim *o, float *w, const float *grads, float scale)
{
    const nb_optim_config *c = &o->cfg;
    const double t = (double)(o->steps + 1); /* step_t += 1 happens before the update */
    const double bc1 = 1.0 - pow((double)c->beta1, t); /* 1 - beta1 ** step */
    const double bc2 = 1.0 - pow((double)c->beta2, t);
    const float neg_step_size = (float)(-(o->lr / bc1)); /* value=-step_size */
    const float bc2_sqrt = (float)sqrt(bc2);            /* math.sqrt(bias_correction2) */
    const float b1 = c->beta1, one_b1 = (float)(1.0 - (double)c->beta1);
    const float b2 = c->beta2, one_b2 = (float)(1.0 - (double)c->beta2);
    const float eps = c->eps, l2 = c->l2;
    const int decoupled = c->type == NB_OPTIM_ADAMW;
    const float decay = (float)(1.0 - o->lr * (double)c->weight_decay); /* 1 - lr * wd */
    /* With no parameters there is no state allocation (and NULL + 0 is not valid C). */
    float *m = o->state, *v = o->state ? o->state + o->n : NULL;
    for (size_t i = 0; i < o->n; i++) {
        /* The L2 term uses w before AdamW's decay: the gradient was taken at that w. */
        float g = grad_at(grads, w, i, scale, l2);
        if (decoupled) w[i] = w[i] * decay; /* param.mul_(1 - lr * weight_decay) */
        m[i] = m[i] * b1;                   /* exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1) */
        m[i] = m[i] + one_b1 * g;
        v[i] = v[i] * b2;                   /* exp_avg_sq.mul_(beta2) */
        v[i] = v[i] + one_b2 * g * g;       /*   .addcmul_(grad, grad, value=1 - beta2) */
        float denom = sqrtf(v[i]) / bc2_sqrt + eps; /* (exp_avg_sq.sqrt() / bc2_sqrt).add_(eps) */
        w[i] = w[i] + neg_step_size * m[i] / denom; /* param.addcdiv_(exp_avg, denom, value=-ss) */
    }
}

/* RMSPROP (Hinton's lecture 6e; Graves 2013 for the eps placement), as torch.optim.RMSprop
 * without centering. */
static void step_rmsprop(nb_optim *o, float *w, const float *grads, float scale)
{
    const nb_optim_config *c = &o->cfg;
    const float neg_lr = (float)(-o->lr), alpha = c->rms_alpha;
    const float one_alpha = (float)(1.0 - (double)c->rms_alpha);
    const float eps = c->eps, l2 = c->l2, tau = c->momentum;
    float *sq = o->state, *buf = o->n_state > 1 && o->state ? o->state + o->n : NULL;
    for (size_t i = 0; i < o->n; i++) {
        float g = grad_at(grads, w, i, scale, l2);
        sq[i] = sq[i] * alpha;               /* square_avg.mul_(alpha) */
        sq[i] = sq[i] + one_alpha * g * g;   /*   .addcmul_(grad, grad, value=1 - alpha) */
        float avg = sqrtf(sq[i]) + eps;      /* avg = square_avg.sqrt().add_(eps) */
        if (buf) {
            buf[i] = buf[i] * tau;           /* buf.mul_(momentum).addcdiv_(grad, avg) */
            buf[i] = buf[i] + g / avg;
            w[i] = w[i] + neg_lr * buf[i];   /* param.add_(buf, alpha=-lr) */
        } else {
            w[i] = w[i] + neg_lr * g / avg;  /* param.addcdiv_(grad, avg, value=-lr) */
        }
    }
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

int nb_optim_step(nb_optim *o, float *params, const float *grads, size_t n)
{
    if (!o) return nb__fail(NB_ERR_ARG, "optimizer: NULL optimizer");
    if (n != o->n)
        return nb__fail(NB_ERR_SHAPE, "optimizer: step got %zu parameters, created for %zu", n,
                        o->n);
    if (n > 0 && (!params || !grads))
        return nb__fail(NB_ERR_ARG, "optimizer: NULL %s buffer", params ? "gradient" : "parameter");
    if (o->steps == INT64_MAX) return nb__fail(NB_ERR_STATE, "optimizer: step count overflows");

    /* (1) Global L2 norm in double, so a float square cannot overflow there and the norm is
     * finite exactly when every gradient is. Eight independent partial sums in a fixed order
     * (element i goes to lane i mod 8, lanes added 0..7): deterministic, and vectorisable -
     * one sequential chain of dependent additions costs ~4 cycles per parameter. */
    double lane[8] = {0};
    size_t i8 = n - n % 8;
    for (size_t i = 0; i < i8; i += 8)
        for (int k = 0; k < 8; k++) lane[k] += (double)grads[i + (size_t)k] * (double)grads[i + (size_t)k];
    for (size_t i = i8; i < n; i++) lane[i - i8] += (double)grads[i] * (double)grads[i];
    double ss = 0.0;
    for (int k = 0; k < 8; k++) ss += lane[k];
    o->grad_norm = sqrt(ss);
    if (!isfinite(o->grad_norm)) {
        size_t bad = 0;
        while (bad < n && isfinite(grads[bad])) bad++;
        return nb__fail(NB_ERR_NUMERIC, "optimizer: non-finite gradient (norm = %s) at element %zu",
                        isnan(o->grad_norm) ? "nan" : "inf", bad);
    }

    /* (2) Clipping by the global norm, applied on the fly (grads is const). */
    float scale = o->cfg.clip_norm > 0.0f ? clip_scale(o->cfg.clip_norm, o->grad_norm) : 1.0f;

    /* (3) + (4) L2 term and the rule. */
    switch (o->cfg.type) {
    case NB_OPTIM_ADAM:
    case NB_OPTIM_ADAMW: step_adam(o, params, grads, scale); break;
    case NB_OPTIM_RMSPROP: step_rmsprop(o, params, grads, scale); break;
    case NB_OPTIM_SGD:
    case NB_OPTIM_MOMENTUM:
    case NB_OPTIM_NESTEROV:
    default: step_sgd(o, params, grads, scale); break;
    }
    o->steps++; /* (5) */
    return NB_OK;
}
