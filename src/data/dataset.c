/*
 * dataset.c - the in-memory dataset: creation, release, deep copies of row subsets, the
 * seeded train/validation split and mini-batch gathering; task names and load defaults.
 * Invariants: x holds n * n_features floats; y holds n * n_targets floats or is NULL with
 * n_targets == 0; class_names is NULL or n_classes owned strings. A split depends only on
 * the seed (nb_rng is the same stream everywhere), so it is reproducible across machines.
 */
#include "data_internal.h"
#include "../ops/ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const task_names[] = {"classify", "binary", "multilabel", "regress"};

int nb_task_parse(const char *name, nb_task *out)
{
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
    o.delimiter = ',';
    o.class_names = NULL;
    o.max_bytes = NB__DEFAULT_MAX_BYTES;
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

static int make(int64_t n, int64_t nf, int64_t nt, nb_dataset **out)
{
    return make_as(n, nf, nt, 0, out);
}

int nb_dataset_create(int64_t n, int64_t n_features, int64_t n_targets, nb_dataset **out)
{
    *out = NULL;
    if (n < 1 || n_features < 1 || n_targets < 0)
        return nb__fail(NB_ERR_ARG, "nb_dataset_create: n %lld and n_features %lld must be >= 1, "
                        "n_targets %lld >= 0", (long long)n, (long long)n_features,
                        (long long)n_targets);
    return make(n, n_features, n_targets, out);
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
    if (!ds || n < 1 || n > ds->n)
        return nb__fail(NB_ERR_ARG, "truncate: %lld rows asked of a dataset of %lld", (long long)n, ds ? (long long)ds->n : 0LL);
    ds->n = n; /* the arrays keep their size; nb_dataset_free does not depend on n */
    return NB_OK;
}

int nb_dataset_gather(const nb_dataset *ds, const int64_t *rows, int64_t count, float *x_out,
                      float *y_out)
{
    if (count < 0)
        return nb__fail(NB_ERR_ARG, "nb_dataset_gather: count %lld < 0", (long long)count);
    if (y_out && (!ds->y || ds->n_targets < 1))
        return nb__fail(NB_ERR_ARG, "nb_dataset_gather: the dataset has no targets to copy");
    for (int64_t i = 0; i < count; i++)
        if (rows[i] < 0 || rows[i] >= ds->n)
            return nb__fail(NB_ERR_ARG, "nb_dataset_gather: rows[%lld] = %lld is not a row of a "
                            "dataset of %lld rows", (long long)i, (long long)rows[i],
                            (long long)ds->n);
    size_t nf = (size_t)ds->n_features, nt = (size_t)ds->n_targets;
    if (!ds->x) nb__bytes_to_rows(ds->x8, nf, rows, 0, (size_t)count, ds->x8_offset, ds->x8_scale, x_out);
    for (int64_t i = 0; i < count; i++) {
        size_t r = (size_t)rows[i];
        if (ds->x) memcpy(x_out + (size_t)i * nf, ds->x + r * nf, nf * sizeof(float));
        if (y_out) memcpy(y_out + (size_t)i * nt, ds->y + r * nt, nt * sizeof(float));
    }
    return NB_OK;
}

int nb_dataset_rows(const nb_dataset *ds, int64_t first, int64_t count, float *x_out, float *y_out)
{
    if (first < 0 || count < 0 || first > ds->n - count)
        return nb__fail(NB_ERR_ARG, "nb_dataset_rows: rows %lld..%lld are not in a dataset of %lld rows",
                        (long long)first, (long long)(first + count - 1), (long long)ds->n);
    if (y_out && (!ds->y || ds->n_targets < 1))
        return nb__fail(NB_ERR_ARG, "nb_dataset_rows: the dataset has no targets to copy");
    size_t nf = (size_t)ds->n_features, nt = (size_t)ds->n_targets;
    if (ds->x) memcpy(x_out, ds->x + (size_t)first * nf, (size_t)count * nf * sizeof(float));
    else nb__bytes_to_rows(ds->x8, nf, NULL, (size_t)first, (size_t)count, ds->x8_offset, ds->x8_scale, x_out);
    if (y_out) memcpy(y_out, ds->y + (size_t)first * nt, (size_t)count * nt * sizeof(float));
    return NB_OK;
}

void nb_shuffle_indices(nb_rng *rng, int64_t *idx, int64_t n)
{
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
    *train = *val = NULL;
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
