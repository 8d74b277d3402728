/*
 * init.c - seeded weight initialisation. Every scheme draws from one nb_rng in parameter
 * order (layer by layer, weight then bias), so a seed names the same weights everywhere.
 * fan_in / fan_out of a dense weight (out, in) are in / out, as in PyTorch.
 */
#include "nn.h"

#include <math.h>
#include <string.h>

int nb_init_parse(const char *name, nb_init *out)
{
    static const struct { const char *s; nb_init v; } names[] = {
        {"torch", NB_INIT_TORCH}, {"xavier", NB_INIT_XAVIER_UNIFORM},
        {"xavier-uniform", NB_INIT_XAVIER_UNIFORM}, {"xavier-normal", NB_INIT_XAVIER_NORMAL},
        {"glorot", NB_INIT_XAVIER_UNIFORM}, {"he", NB_INIT_HE_UNIFORM},
        {"kaiming", NB_INIT_HE_UNIFORM}, {"he-uniform", NB_INIT_HE_UNIFORM},
        {"he-normal", NB_INIT_HE_NORMAL}, {"uniform", NB_INIT_UNIFORM}, {"normal", NB_INIT_NORMAL},
    };
    for (size_t i = 0; name && i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i].s) == 0) {
            *out = names[i].v;
            return NB_OK;
        }
    return nb__fail(NB_ERR_ARG, "unknown initialiser '%s' (torch, xavier, xavier-normal, he, he-normal, uniform, normal)", name ? name : "");
}

static void fill_uniform(nb_rng *r, float *p, size_t n, float a)
{
    for (size_t i = 0; i < n; i++) p[i] = a * (2.0f * nb_rng_uniform(r) - 1.0f);
}

static void fill_normal(nb_rng *r, float *p, size_t n, float std)
{
    for (size_t i = 0; i < n; i++) p[i] = std * nb_rng_normal(r);
}

int nb_model_init(nb_model *m, nb_init init, float scale, uint64_t seed)
{
    if (!m || !m->built) return nb__fail(NB_ERR_STATE, "model is not built");
    nb_rng r;
    nb_rng_seed(&r, seed);
    for (int i = 0; i < m->n_layers; i++) {
        const nb__layer *l = &m->layers[i];
        if (l->type != NB_LAYER_DENSE) continue;
        nb_view w, b = {0};
        nb_graph_value(m->g, l->w, &w);
        if (l->bias) nb_graph_value(m->g, l->b, &b);
        float fan_in = (float)w.shape[1], fan_out = (float)w.shape[0];
        switch (init) {
        case NB_INIT_TORCH: /* kaiming_uniform(a=sqrt(5)) reduces to U(+-1/sqrt(fan_in)) */
            fill_uniform(&r, w.data, w.n, 1.0f / sqrtf(fan_in));
            if (l->bias) fill_uniform(&r, b.data, b.n, 1.0f / sqrtf(fan_in));
            continue;
        case NB_INIT_XAVIER_UNIFORM: fill_uniform(&r, w.data, w.n, sqrtf(6.0f / (fan_in + fan_out))); break;
        case NB_INIT_XAVIER_NORMAL: fill_normal(&r, w.data, w.n, sqrtf(2.0f / (fan_in + fan_out))); break;
        case NB_INIT_HE_UNIFORM: fill_uniform(&r, w.data, w.n, sqrtf(6.0f / fan_in)); break;
        case NB_INIT_HE_NORMAL: fill_normal(&r, w.data, w.n, sqrtf(2.0f / fan_in)); break;
        case NB_INIT_UNIFORM: fill_uniform(&r, w.data, w.n, scale); break;
        case NB_INIT_NORMAL: fill_normal(&r, w.data, w.n, scale); break;
        default: return nb__fail(NB_ERR_ARG, "unknown initialiser %d", (int)init);
        }
        if (l->bias) memset(b.data, 0, b.n * sizeof(float));
    }
    return NB_OK;
}
