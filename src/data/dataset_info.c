/* SPDX-License-Identifier: MIT */
/*
 * dataset_info.c - what a caller may know about a dataset without seeing its storage: sizes,
 * sample shape, task, classes and targets (getters of the opaque nb_dataset), and the one
 * thing it may change in place besides the scaling: the sample shape.
 * Invariant kept: the sample shape's product is always n_features.
 */
#include "data_internal.h"

int64_t nb_dataset_n_rows(const nb_dataset *ds)
{
    return ds ? ds->n : 0;
}

int64_t nb_dataset_n_features(const nb_dataset *ds)
{
    return ds ? ds->n_features : 0;
}

int nb_dataset_sample_rank(const nb_dataset *ds)
{
    return ds ? ds->sample_rank : 0;
}

const int64_t *nb_dataset_sample_shape(const nb_dataset *ds)
{
    return ds ? ds->sample_shape : NULL;
}

int64_t nb_dataset_n_targets(const nb_dataset *ds)
{
    return ds ? ds->n_targets : 0;
}

const float *nb_dataset_targets(const nb_dataset *ds)
{
    return ds ? ds->y : NULL;
}

nb_task nb_dataset_task(const nb_dataset *ds)
{
    return ds ? ds->task : NB_TASK_CLASSIFY;
}

int nb_dataset_n_classes(const nb_dataset *ds)
{
    return ds ? ds->n_classes : 0;
}

const char *nb_dataset_class_name(const nb_dataset *ds, int i)
{
    return ds && ds->class_names && i >= 0 && i < ds->n_classes ? ds->class_names[i] : NULL;
}

int nb__sample_shape_set(int64_t n_features, int rank, const int64_t *shape, const char *what,
                         int *rank_out, int64_t shape_out[3])
{
    char buf[96];
    int ok = rank >= 1 && rank <= 3 && shape;
    int64_t prod = 1;
    /* each factor at most n_features and the product stopped once past it: no overflow */
    for (int i = 0; ok && i < rank && prod <= n_features; i++)
        if (shape[i] >= 1 && shape[i] <= n_features) prod *= shape[i];
        else ok = 0;
    if (!ok || prod != n_features)
        return nb__fail(NB_ERR_ARG, "%s %s does not hold the %lld features of a row", what,
                        nb__shape_str(shape && rank >= 0 && rank <= 3 ? rank : 0, shape, buf, sizeof buf),
                        (long long)n_features);
    *rank_out = rank;
    for (int i = 0; i < 3; i++) shape_out[i] = i < rank ? shape[i] : 0;
    return NB_OK;
}

int nb_dataset_set_sample_shape(nb_dataset *ds, int rank, const int64_t *shape)
{
    if (!ds || !shape) return nb__fail(NB_ERR_ARG, "nb_dataset_set_sample_shape: %s is NULL", !ds ? "dataset" : "shape");
    return nb__sample_shape_set(ds->n_features, rank, shape, "nb_dataset_set_sample_shape: shape",
                                &ds->sample_rank, ds->sample_shape);
}
