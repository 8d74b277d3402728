/* SPDX-License-Identifier: MIT */
/*
 * ds_fixture.h - how tests look into a dataset: through the public API only, as any C caller
 * must (nb_dataset is opaque). ds_x reads one feature value by its flat index (row * n_features
 * + feature), ds_y one target, ds_x_copy all features as a malloc'ed float array (free() it).
 * Reading goes through nb_dataset_rows, so float and compact datasets read alike.
 */
#ifndef NB_DS_FIXTURE_H
#define NB_DS_FIXTURE_H

#include "nabla.h"

#include <math.h>
#include <stdlib.h>

/* NaN when ds has no such value (or memory runs out), which no CHECK takes for a match */
static inline float ds_x(const nb_dataset *ds, int64_t k)
{
    int64_t nf = nb_dataset_n_features(ds);
    float *row = malloc((size_t)nf * sizeof *row), v = NAN;
    if (row && k >= 0 && nb_dataset_rows(ds, k / nf, 1, row, NULL) == NB_OK) v = row[k % nf];
    free(row);
    return v;
}

static inline float ds_y(const nb_dataset *ds, int64_t k)
{
    const float *y = nb_dataset_targets(ds);
    return y && k >= 0 && k < nb_dataset_n_rows(ds) * nb_dataset_n_targets(ds) ? y[k] : NAN;
}

static inline float *ds_x_copy(const nb_dataset *ds)
{
    size_t n = (size_t)nb_dataset_n_rows(ds) * (size_t)nb_dataset_n_features(ds);
    float *x = malloc(n * sizeof *x);
    if (x && nb_dataset_rows(ds, 0, nb_dataset_n_rows(ds), x, NULL) != NB_OK) {
        free(x);
        x = NULL;
    }
    return x;
}

#endif
