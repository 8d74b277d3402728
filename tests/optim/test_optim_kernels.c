/* SPDX-License-Identifier: MIT */
/*
 * test_optim_kernels.c - the vectorised, threaded optimizer step (src/optim/step.c,
 * step_kernels.c) against a plain scalar transcription of the rules (the loops nabla had
 * before, kept here as the oracle): every rule, with and without L2 and clipping, bit for
 * bit on every CPU tier this machine runs, over lengths with ragged tails; large steps bit
 * for bit for 1..3 threads; the gradient norm's documented sums (double lanes with clipping,
 * float lanes without, double again when float overflows); non-finite gradients in a split
 * step write nothing.
 */
#include "nabla.h"
#include "check.h"
#include "../../src/optim/optim_internal.h"
#include "../../src/ops/cpu.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

/* ---- the oracle: one element at a time, in step.c's documented operation order */
typedef struct ref_opt {
    nb_optim_config c;
    double lr;
    int64_t steps;
    float *s0, *s1;
} ref_opt;

static void ref_step(ref_opt *o, float *w, const float *grads, size_t n, double norm)
{
    const nb_optim_config *c = &o->c;
    float scale = 1.0f;
    if (c->clip_norm > 0.0f) {
        float coef = norm <= (double)FLT_MAX ? (1.0f / ((float)norm + 1e-6f)) * c->clip_norm
                                             : (float)((double)c->clip_norm / norm);
        scale = coef < 1.0f ? coef : 1.0f;
    }
    const float neg_lr = (float)(-o->lr), tau = c->momentum, l2 = c->l2;
    const double t = (double)(o->steps + 1);
    const float neg_step = (float)(-(o->lr / (1.0 - pow((double)c->beta1, t))));
    const float bc2_sqrt = (float)sqrt(1.0 - pow((double)c->beta2, t));
    const float one_b1 = (float)(1.0 - (double)c->beta1), one_b2 = (float)(1.0 - (double)c->beta2);
    const float decay = (float)(1.0 - o->lr * (double)c->weight_decay);
    const float one_alpha = (float)(1.0 - (double)c->rms_alpha);
    for (size_t i = 0; i < n; i++) {
        float g = grads[i] * scale;
        if (l2 != 0.0f) g = g + l2 * w[i];
        switch (c->type) {
        case NB_OPTIM_SGD: w[i] = w[i] + neg_lr * g; break;
        case NB_OPTIM_MOMENTUM:
        case NB_OPTIM_NESTEROV:
            o->s0[i] = o->s0[i] * tau;
            o->s0[i] = o->s0[i] + g;
            g = c->type == NB_OPTIM_NESTEROV ? g + tau * o->s0[i] : o->s0[i];
            w[i] = w[i] + neg_lr * g;
            break;
        case NB_OPTIM_ADAM:
        case NB_OPTIM_ADAMW: {
            if (c->type == NB_OPTIM_ADAMW) w[i] = w[i] * decay;
            o->s0[i] = o->s0[i] * c->beta1;
            o->s0[i] = o->s0[i] + one_b1 * g;
            o->s1[i] = o->s1[i] * c->beta2;
            o->s1[i] = o->s1[i] + one_b2 * g * g;
            float denom = sqrtf(o->s1[i]) / bc2_sqrt + c->eps;
            w[i] = w[i] + neg_step * o->s0[i] / denom;
            break;
        }
        case NB_OPTIM_RMSPROP:
        default: {
            o->s0[i] = o->s0[i] * c->rms_alpha;
            o->s0[i] = o->s0[i] + one_alpha * g * g;
            float avg = sqrtf(o->s0[i]) + c->eps;
            if (tau > 0.0f) {
                o->s1[i] = o->s1[i] * tau;
                o->s1[i] = o->s1[i] + g / avg;
                w[i] = w[i] + neg_lr * o->s1[i];
            } else {
                w[i] = w[i] + neg_lr * g / avg;
            }
        }
        }
    }
    o->steps++;
}

/* optim_internal.h's lane sums */
static double sumsq_double(const float *g, size_t n)
{
    double s[32] = {0.0};
    for (size_t i = 0; i < n; i++) s[i % 32] += (double)g[i] * (double)g[i];
    for (size_t w = 16; w >= 1; w /= 2)
        for (size_t l = 0; l < w; l++) s[l] += s[l + w];
    return s[0];
}

static float sumsq_float(const float *g, size_t n)
{
    float s[64] = {0.0f};
    for (size_t i = 0; i < n; i++) s[i % 64] = s[i % 64] + g[i] * g[i];
    for (size_t w = 32; w >= 1; w /= 2)
        for (size_t l = 0; l < w; l++) s[l] = s[l] + s[l + w];
    return s[0];
}

/* the norm's sum over step.c's parts (optim_internal.h) */
static double parts_sum(const float *g, size_t n, int exact)
{
    size_t P = n / NB__OPTIM_PART_MIN;
    P = P < 1 ? 1 : P > NB__OPTIM_MAX_PARTS ? NB__OPTIM_MAX_PARTS : P;
    double s = 0.0;
    for (size_t p = 0; p < P; p++) {
        size_t lo = p * n / P, hi = (p + 1) * n / P;
        s += exact ? sumsq_double(g + lo, hi - lo) : (double)sumsq_float(g + lo, hi - lo);
    }
    return s;
}

/* the gradient of step k: depends on w, so the runs stay coupled */
static void make_grad(const float *w, size_t n, int k, float *g)
{
    for (size_t i = 0; i < n; i++) g[i] = 0.5f * w[i] - 0.3f + 0.01f * (float)((int)(i + (size_t)k) % 17 - 8);
}

static int same_bits(const float *a, const float *b, size_t n)
{
    return n == 0 || memcmp(a, b, n * sizeof *a) == 0;
}

/* Three steps of cfg on n parameters: nabla (with the CPU tier forced) against the oracle. */
static int run_case(const nb_optim_config *cfg, size_t n, nb__isa isa)
{
    nb_optim *o = NULL;
    if (nb_optim_create(cfg, n, &o) != NB_OK) return 1;
    ref_opt r = {*cfg, (double)cfg->lr, 0, calloc(n + 1, sizeof(float)), calloc(n + 1, sizeof(float))};
    float *w = malloc((n + 1) * sizeof *w), *wr = malloc((n + 1) * sizeof *wr), *g = malloc((n + 1) * sizeof *g);
    nb_rng rng;
    nb_rng_seed(&rng, (uint64_t)n);
    for (size_t i = 0; i < n; i++) w[i] = wr[i] = nb_rng_normal(&rng);
    int bad = nb__cpu_use(isa) != NB_OK;
    for (int k = 0; k < 3 && !bad; k++) {
        make_grad(w, n, k, g);
        double norm = sqrt(parts_sum(g, n, 1));
        bad |= nb_optim_step(o, w, g, n) != NB_OK;
        ref_step(&r, wr, g, n, norm);
        bad |= !same_bits(w, wr, n);
        /* the reported norm: double lanes with clipping, else float lanes */
        bad |= nb_optim_grad_norm(o) != (cfg->clip_norm > 0.0f ? norm : sqrt(parts_sum(g, n, 0)));
    }
    for (int i = 0; i < nb_optim_state_count(o) && !bad; i++) {
        const char *name;
        float *data;
        size_t len;
        bad |= nb_optim_state(o, i, &name, &data, &len) != NB_OK || !same_bits(data, i ? r.s1 : r.s0, n);
    }
    nb__cpu_use(NB__ISA_AUTO);
    nb_optim_free(o);
    free(r.s0), free(r.s1), free(w), free(wr), free(g);
    return bad;
}

static void test_rules_bits(void)
{
    static const size_t lens[] = {1, 7, 16, 31, 64, 100, 1037, 40001}; /* the last in 2 parts, inline */
    int cases = 0;
    for (nb__isa isa = NB__ISA_GENERIC; isa <= NB__ISA_AVX512; isa++) {
        if (nb__cpu_use(isa) != NB_OK) {
            printf("test_optim_kernels: no %s kernels on this CPU: skipped\n", isa == NB__ISA_AVX2 ? "AVX2" : "AVX-512");
            continue;
        }
        for (int t = NB_OPTIM_SGD; t <= NB_OPTIM_RMSPROP + 1; t++) /* the last: RMSPROP + momentum */
            for (int v = 0; v < 4; v++) {
                nb_optim_config c = nb_optim_config_default((nb_optim_type)(t > NB_OPTIM_RMSPROP ? NB_OPTIM_RMSPROP : t));
                c.lr = 0.05f;
                if (t > NB_OPTIM_RMSPROP) c.momentum = 0.5f;
                if (v & 1) c.l2 = 0.01f;
                if (v & 2) c.clip_norm = 0.5f; /* below the gradients' norm: it scales */
                for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
                    int bad = run_case(&c, lens[li], isa);
                    CHECK(!bad);
                    if (bad)
                        fprintf(stderr, "  tier %d, %s%s, l2 %g, clip %g, n %zu: differs from the oracle\n", isa,
                                nb_optim_type_name(c.type), c.momentum > 0.0f ? " + momentum" : "", (double)c.l2,
                                (double)c.clip_norm, lens[li]);
                    cases++;
                }
            }
    }
    nb__cpu_use(NB__ISA_AUTO);
    CHECK(cases >= 7 * 4 * 8);
    CHECK_ERR(nb__cpu_use((nb__isa)7), NB_ERR_ARG, "no such tier");
}

/* A step split over the threads (n far above one part) gives the same bits for 1..3
 * threads and equals the oracle; a NaN in the last part stops it before any write. */
/* n normal weights from seed (w0), their gradient (g) and two buffers for results */
static void big_case(size_t n, uint64_t seed, float **w0, float **w, float **w1, float **g)
{
    *w0 = malloc(n * sizeof **w0), *w = malloc(n * sizeof **w), *w1 = malloc(n * sizeof **w1);
    *g = malloc(n * sizeof **g);
    nb_rng rng;
    nb_rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++) (*w0)[i] = nb_rng_normal(&rng);
    make_grad(*w0, n, 0, *g);
}

static void test_threads(void)
{
    const size_t n = 300007;
    float *w0, *w, *w1, *g;
    big_case(n, 9, &w0, &w, &w1, &g);
    for (int t = NB_OPTIM_MOMENTUM; t <= NB_OPTIM_ADAM; t += NB_OPTIM_ADAM - NB_OPTIM_MOMENTUM) {
        nb_optim_config c = nb_optim_config_default((nb_optim_type)t);
        c.clip_norm = 1.0f;
        double norm1 = 0.0;
        for (int threads = 1; threads <= 3; threads++) {
            nb_set_threads(threads);
            nb_optim *o = NULL;
            CHECK_OK(nb_optim_create(&c, n, &o));
            if (!o) break;
            memcpy(w, w0, n * sizeof *w);
            CHECK_OK(nb_optim_step(o, w, g, n));
            CHECK_OK(nb_optim_step(o, w, g, n));
            if (threads == 1) {
                memcpy(w1, w, n * sizeof *w);
                norm1 = nb_optim_grad_norm(o);
                CHECK(norm1 == sqrt(parts_sum(g, n, 1)));
                CHECK(n / NB__OPTIM_PART_MIN > 1 && n >= NB__OPTIM_THREAD_MIN); /* so the step was split */
            } else {
                CHECK(same_bits(w, w1, n));
                CHECK(nb_optim_grad_norm(o) == norm1);
            }
            if (threads == 3) { /* a NaN far into the last part: nothing written, anywhere */
                memcpy(w1, w, n * sizeof *w);
                g[n - 2] = NAN;
                CHECK_ERR(nb_optim_step(o, w, g, n), NB_ERR_NUMERIC, "at element 300005");
                CHECK(same_bits(w, w1, n) && nb_optim_steps(o) == 2);
                g[n - 2] = 0.25f;
            }
            nb_optim_free(o);
        }
    }
    /* the oracle for a split step, the rules' bits as in test_rules_bits */
    nb_set_threads(2);
    nb_optim_config c = nb_optim_config_default(NB_OPTIM_NESTEROV);
    c.l2 = 0.001f;
    CHECK(run_case(&c, n, NB__ISA_AUTO) == 0);
    nb_set_threads(1);
    free(w0), free(w), free(w1), free(g);
}

/* The update's part order from the tensors' spans (nb__optim_set_spans): the reference MLP's
 * (784-256-128-10) gives the first half of each weight to the front of the task list and the
 * second half to the back, lowest part last; the same bits as the flat order for 1..3
 * threads; spans that do not tile the buffer leave the flat order. */
static void test_spans(void)
{
    static const size_t mlp[] = {200704, 256, 32768, 128, 1280, 10};
    size_t off[6], len[6], at = 0;
    for (int i = 0; i < 6; i++) off[i] = at, len[i] = mlp[i], at += mlp[i];
    nb_optim_config c = nb_optim_config_default(NB_OPTIM_MOMENTUM);
    nb_optim *o = NULL;
    CHECK_OK(nb_optim_create(&c, at, &o));
    if (!o) return;
    nb__optim_set_spans(o, off, len, 6);
    static const uint8_t want[14] = {0, 1, 2, 3, 4, 5, 12, 13, 11, 10, 9, 8, 7, 6};
    CHECK(o->order_n == at && memcmp(o->order, want, sizeof want) == 0);
    len[1] = 255; /* a gap: flat order */
    nb__optim_set_spans(o, off, len, 6);
    CHECK(o->order_n == 0);
    nb_optim_free(o);
    len[1] = 256;
    /* the same bits with and without the order, momentum and Adam, 1..3 threads: the weights
     * and the norm (its parts are summed in part order whichever thread summed each) */
    float *w0, *w, *w1, *g;
    double norm1 = 0.0;
    big_case(at, 21, &w0, &w, &w1, &g);
    for (int t = NB_OPTIM_MOMENTUM; t <= NB_OPTIM_ADAM; t += NB_OPTIM_ADAM - NB_OPTIM_MOMENTUM)
        for (int threads = 1; threads <= 3; threads++) {
            nb_set_threads(threads);
            c = nb_optim_config_default((nb_optim_type)t);
            for (int spans = 0; spans < 2; spans++) {
                CHECK_OK(nb_optim_create(&c, at, &o));
                if (!o) break;
                if (spans) nb__optim_set_spans(o, off, len, 6);
                memcpy(w, w0, at * sizeof *w);
                CHECK_OK(nb_optim_step(o, w, g, at));
                CHECK_OK(nb_optim_step(o, w, g, at));
                if (!spans) memcpy(w1, w, at * sizeof *w), norm1 = o->grad_norm;
                else CHECK(same_bits(w, w1, at) && memcmp(&o->grad_norm, &norm1, sizeof norm1) == 0);
                nb_optim_free(o);
            }
        }
    nb_set_threads(1);
    free(w0), free(w), free(w1), free(g);
}

/* Without clipping the norm is summed in float; a gradient whose square overflows float is
 * summed again in double (finite: the step goes on), a non-finite one fails. */
static void test_norm_fallback(void)
{
    nb_optim_config c = nb_optim_config_default(NB_OPTIM_SGD);
    c.lr = 0.0f;
    nb_optim *o = NULL;
    CHECK_OK(nb_optim_create(&c, 40, &o));
    if (!o) return;
    float w[40] = {0}, g[40];
    for (int i = 0; i < 40; i++) g[i] = (float)(i % 5) * 0.125f;
    g[33] = 1e20f; /* 1e40 overflows float */
    CHECK(isinf(sumsq_float(g, 40)));
    CHECK_OK(nb_optim_step(o, w, g, 40));
    CHECK(nb_optim_grad_norm(o) == sqrt(sumsq_double(g, 40)));
    g[33] = INFINITY;
    CHECK_ERR(nb_optim_step(o, w, g, 40), NB_ERR_NUMERIC, "(norm = inf) at element 33");
    g[33] = 1.0f;
    CHECK_OK(nb_optim_step(o, w, g, 40));
    CHECK(nb_optim_grad_norm(o) == sqrt((double)sumsq_float(g, 40)));
    CHECK(nb_optim_steps(o) == 2);
    nb_optim_free(o);
}

int main(void)
{
    test_rules_bits();
    test_threads();
    test_spans();
    test_norm_fallback();
    nb_set_threads(1);
    return check_exit("test_optim_kernels");
}
