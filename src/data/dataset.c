/* SPDX-License-Identifier: MIT */
/*
 * dataset.c - the in-memory dataset: creation (from a schema or from a C caller's arrays,
 * which are copied), release, deep copies of row subsets, the seeded train/validation split;
 * task names and load defaults. Reading rows is dataset_rows.c, the getters dataset_info.c.
 * Invariants (struct nb_dataset, data_internal.h): the features are x or x8, never both;
 * y holds n * n_targets floats or is NULL with n_targets == 0; class_names is NULL or
 * n_classes owned strings. A split depends only on the seed (nb_rng is the same stream
 * everywhere), so it is reproducible across machines.
 */
#include "data_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const task_names[] = {"classify", "binary", "multilabel", "regress"};

int nb_task_parse(const char *name, nb_task *out)
{
    if (!name || !out) return nb__fail(NB_ERR_ARG, "nb_task_parse: %s is NULL", !name ? "name" : "out");
    for (int i = 0; i < 4; i++)
        if (name && strcmp(name, task_names[i]) == 0) {
            *out = (nb_task)i;
            return NB_OK;
        }
    return nb__fail(NB_ERR_ARG, "task \"%s\": expected classify, binary, multilabel or regress",
                    name ? name : "(null)");
}

const char *nb_task_name(nb_task task)
{
    return (unsigned)task < 4 ? task_names[task] : "?";
}

nb_data_opts nb_data_opts_default(void)
{
    nb_data_opts o;
    memset(&o, 0, sizeof o);
    o.task = NB_TASK_CLASSIFY;
    o.label = NULL;
    o.header = -1;
    o.split = NB_SPLIT_TRAIN;
    o.delimiter = 0; /* detect */
    o.class_names = NULL;
    o.max_bytes = NB__DEFAULT_MAX_BYTES;
    o.tokens = NB_TOKENS_NONE;
    o.min_count = 1;
    return o;
}

/* Allocate a dataset, features as floats (x, zeroed) or bytes (x8, compact, to be written by
 * the caller); sizes already validated (n, nf >= 1, nt >= 0). */
static int make_as(int64_t n, int64_t nf, int64_t nt, int compact, nb_dataset **out)
{
    size_t nx, ny = 0;
    int64_t sx[2] = {n, nf}, sy[2] = {n, nt};
    if (!nb__numel(2, sx, &nx) || !nb__numel(2, sy, &ny))
        return nb__fail(NB_ERR_NOMEM, "dataset of %lld rows x %lld features: size overflows",
                        (long long)n, (long long)nf);
    nb_dataset *ds = nb__calloc(1, sizeof *ds);
    if (!ds) return NB_ERR_NOMEM;
    /* compact bytes are not zeroed: every maker writes them all (a subset copies its rows, an
     * IDX load hands over its file buffer), and zeroing would make a large set resident for
     * nothing */
    if (compact) ds->x8 = nb__alloc_array(nx, 1);
    else ds->x = nb__calloc(nx, sizeof(float));
    ds->y = nt > 0 ? nb__calloc(ny, sizeof(float)) : NULL;
    if ((!ds->x && !ds->x8) || (nt > 0 && !ds->y)) {
        nb_dataset_free(ds);
        return NB_ERR_NOMEM;
    }
    ds->n = n;
    ds->n_features = nf;
    ds->n_targets = nt;
    ds->sample_rank = 1;
    ds->sample_shape[0] = nf;
    ds->task = NB_TASK_REGRESS;
    *out = ds;
    return NB_OK;
}

/* What a C caller may declare (the header's documented combinations): classify and binary
 * data have one target per row; binary has 2 classes, regression none, multilabel one per
 * target. */
static int check_task(nb_task task, int64_t nt, int n_classes)
{
    if ((unsigned)task > NB_TASK_REGRESS)
        return nb__fail(NB_ERR_ARG, "nb_dataset_create_from: task %d is not an nb_task", (int)task);
    if ((task == NB_TASK_CLASSIFY || task == NB_TASK_BINARY) && nt > 1)
        return nb__fail(NB_ERR_ARG, "nb_dataset_create_from: %s data has 1 target per row, got "
                        "n_targets %lld", nb_task_name(task), (long long)nt);
    bool ok = task == NB_TASK_CLASSIFY ? n_classes >= 1 && n_classes <= NB__MAX_CLASSES
              : task == NB_TASK_BINARY ? n_classes == 2
              : task == NB_TASK_MULTILABEL ? n_classes >= 1 && (nt == 0 || n_classes == nt)
                                           : n_classes == 0;
    if (!ok)
        return nb__fail(NB_ERR_ARG, "nb_dataset_create_from: n_classes %d does not fit %s data "
                        "(classify 1..%d, binary 2, multilabel n_targets, regress 0)", n_classes,
                        nb_task_name(task), NB__MAX_CLASSES);
    return NB_OK;
}

int nb_dataset_create_from(const float *x, int64_t n, int64_t n_features, const float *y,
                           int64_t n_targets, nb_task task, int n_classes, nb_dataset **out)
{
    if (!out) return nb__fail(NB_ERR_ARG, "nb_dataset_create_from: out is NULL");
    *out = NULL;
    if (n < 1 || n_features < 1 || n_targets < 0)
        return nb__fail(NB_ERR_ARG, "nb_dataset_create_from: n %lld and n_features %lld must be "
                        ">= 1, n_targets %lld >= 0", (long long)n, (long long)n_features,
                        (long long)n_targets);
    if (!x || (n_targets > 0) != (y != NULL))
        return nb__fail(NB_ERR_ARG, "nb_dataset_create_from: x is %s, y is %s with n_targets "
                        "%lld (x is required; y exactly when n_targets > 0)", x ? "given" : "NULL",
                        y ? "given" : "NULL", (long long)n_targets);
    int rc = check_task(task, n_targets, n_classes);
    if (rc) return rc;
    nb_dataset *ds = NULL;
    if ((rc = make_as(n, n_features, n_targets, 0, &ds))) return rc;
    /* make_as checked that both products fit in size_t */
    memcpy(ds->x, x, (size_t)n * (size_t)n_features * sizeof(float));
    if (y) memcpy(ds->y, y, (size_t)n * (size_t)n_targets * sizeof(float));
    ds->task = task;
    ds->n_classes = n_classes;
    *out = ds;
    return NB_OK;
}

void nb_dataset_free(nb_dataset *ds)
{
    if (!ds) return;
    nb__strv_free(ds->class_names, ds->n_classes > 0 ? (size_t)ds->n_classes : 0);
    nb_free(ds->x);
    nb_free(ds->x8);
    nb_free(ds->x8_offset);
    nb_free(ds->x8_scale);
    nb_free(ds->y);
    nb_free(ds);
}

/* Give ds the metadata of src (task, sample shape, classes). */
static int copy_meta(nb_dataset *ds, nb_task task, int rank, const int64_t *shape, int n_classes,
                     char *const *class_names)
{
    ds->task = task;
    ds->sample_rank = rank;
    for (int i = 0; i < 3; i++) ds->sample_shape[i] = i < rank ? shape[i] : 0;
    if (n_classes > 0 && class_names) {
        int rc = nb__strv_dup(class_names, (size_t)n_classes, &ds->class_names);
        if (rc) return rc;
    }
    ds->n_classes = n_classes;
    return NB_OK;
}

int nb__dataset_from_schema(const nb__schema *s, int64_t n, bool labeled, bool compact,
                            nb_dataset **out)
{
    nb_dataset *ds = NULL;
    int rc = make_as(n, s->n_features, labeled ? nb__schema_targets(s) : 0, compact, &ds);
    if (rc) return rc;
    rc = copy_meta(ds, s->task, s->sample_rank, s->sample_shape, s->n_classes, s->class_names);
    if (rc) {
        nb_dataset_free(ds);
        return rc;
    }
    *out = ds;
    return NB_OK;
}

int nb_dataset_truncate(nb_dataset *ds, int64_t n)
{
    if (!ds) return nb__fail(NB_ERR_ARG, "truncate: dataset is NULL");
    if (n < 1 || n > ds->n)
        return nb__fail(NB_ERR_ARG, "truncate: %lld rows asked of a dataset of %lld", (long long)n, ds ? (long long)ds->n : 0LL);
    ds->n = n; /* the arrays keep their size; nb_dataset_free does not depend on n */
    return NB_OK;
}

void nb_shuffle_indices(nb_rng *rng, int64_t *idx, int64_t n)
{
    if (!rng || !idx) return; /* void: nothing to shuffle with or in */
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)nb_rng_below(rng, (uint64_t)i + 1);
        int64_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* A deep copy of rows[0..count) of all. */
static int subset(const nb_dataset *all, const int64_t *rows, int64_t count, nb_dataset **out)
{
    nb_dataset *ds = NULL;
    int rc = make_as(count, all->n_features, all->y ? all->n_targets : 0, all->x8 != NULL, &ds);
    if (rc) return rc;
    rc = copy_meta(ds, all->task, all->sample_rank, all->sample_shape, all->n_classes,
                   all->class_names);
    if (rc == NB_OK && all->x8) { /* compact stays compact: bytes, scaling and targets */
        size_t nf = (size_t)all->n_features, nt = (size_t)all->n_targets;
        for (int64_t i = 0; i < count; i++) {
            memcpy(ds->x8 + (size_t)i * nf, all->x8 + (size_t)rows[i] * nf, nf);
            if (ds->y) memcpy(ds->y + (size_t)i * nt, all->y + (size_t)rows[i] * nt, nt * sizeof(float));
        }
        if (all->x8_scale) {
            ds->x8_offset = nb__alloc_array(nf, sizeof(float));
            ds->x8_scale = nb__alloc_array(nf, sizeof(float));
            if (!ds->x8_offset || !ds->x8_scale) rc = NB_ERR_NOMEM;
            else {
                memcpy(ds->x8_offset, all->x8_offset, nf * sizeof(float));
                memcpy(ds->x8_scale, all->x8_scale, nf * sizeof(float));
            }
        }
    } else if (rc == NB_OK) {
        rc = nb_dataset_gather(all, rows, count, ds->x, ds->y);
    }
    if (rc) {
        nb_dataset_free(ds);
        return rc;
    }
    *out = ds;
    return NB_OK;
}

int nb_dataset_split(const nb_dataset *all, double val_fraction, uint64_t seed,
                     nb_dataset **train, nb_dataset **val)
{
    if (!train || !val) return nb__fail(NB_ERR_ARG, "nb_dataset_split: %s is NULL", !train ? "train" : "val");
    *train = *val = NULL;
    if (!all) return nb__fail(NB_ERR_ARG, "nb_dataset_split: dataset is NULL");
    if (!(val_fraction > 0 && val_fraction < 1))
        return nb__fail(NB_ERR_ARG, "validation fraction %g is not in (0, 1)", val_fraction);
    int64_t n = all->n;
    int64_t n_val = (int64_t)floor(val_fraction * (double)n + 0.5);
    if (n_val < 1 || n_val >= n)
        return nb__fail(NB_ERR_ARG, "validation fraction %g of %lld rows leaves an empty split",
                        val_fraction, (long long)n);
    int64_t *idx = nb__alloc_array((size_t)n, sizeof *idx);
    if (!idx) return NB_ERR_NOMEM;
    for (int64_t i = 0; i < n; i++) idx[i] = i;
    nb_rng rng;
    nb_rng_seed(&rng, seed);
    nb_shuffle_indices(&rng, idx, n);
    /* each part in file order: shuffling within a part is the trainer's job, per epoch */
    qsort(idx, (size_t)n_val, sizeof *idx, cmp_i64);
    qsort(idx + n_val, (size_t)(n - n_val), sizeof *idx, cmp_i64);
    nb_dataset *t = NULL, *v = NULL;
    int rc = subset(all, idx, n_val, &v);
    if (rc == NB_OK) rc = subset(all, idx + n_val, n - n_val, &t);
    nb_free(idx);
    if (rc) {
        nb_dataset_free(v);
        return rc;
    }
    *train = t;
    *val = v;
    return NB_OK;
}
