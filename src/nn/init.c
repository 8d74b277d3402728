/* SPDX-License-Identifier: MIT */
/*
 * init.c - seeded weight initialisation: the initialiser names and the walk over layers.
 * Every scheme draws from one nb_rng in parameter order (layer by layer, weight then bias),
 * so a seed names the same weights everywhere; each kind's rule is its descriptor's init
 * (layer.h), reached through the layer table.
 */
#include "layer.h"

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
    if (!name || !out) return nb__fail(NB_ERR_ARG, "nb_init_parse: %s is NULL", !name ? "name" : "out");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i].s) == 0) {
            *out = names[i].v;
            return NB_OK;
        }
    return nb__fail(NB_ERR_ARG, "unknown initialiser '%s' (torch, xavier, xavier-normal, he, he-normal, uniform, normal)", name ? name : "");
}

int nb_model_init(nb_model *m, nb_init init, float scale, uint64_t seed)
{
    if (!m) return nb__fail(NB_ERR_ARG, "init: model is NULL");
    if (!m->built) return nb__fail(NB_ERR_STATE, "model is not built");
    if ((int)init < NB_INIT_TORCH || init > NB_INIT_NORMAL) return nb__fail(NB_ERR_ARG, "unknown initialiser %d", (int)init);
    nb_rng r;
    nb_rng_seed(&r, seed);
    for (int i = 0; i < m->n_layers; i++) {
        const nb__layer_def *d = nb__layer_table[m->layers[i].type];
        int st = d->init ? d->init(m, &m->layers[i], init, scale, &r) : NB_OK;
        if (st) return st;
    }
    return NB_OK;
}
