/* SPDX-License-Identifier: MIT */
/*
 * preproc.c - the preprocessing state: its schema (learned by the loaders, see schema.c) and
 * the feature scaling x' = (x - offset[j]) / scale[j], fitted on the training split only.
 * Statistics are accumulated in double and stored as float32, the form they take in model
 * files. Invariants: scale[j] is finite and > 0 (constant features get 1, so nothing divides
 * by zero); one-hot features keep offset 0, scale 1; n_scale is 0 exactly when mode is none.
 */
#include "data_internal.h"

#include <float.h>
#include <math.h>
#include <string.h>

static const char *const scale_names[] = {"none", "minmax", "standard"};

int nb_scale_parse(const char *name, nb_scaling *out)
{
    if (!name || !out) return nb__fail(NB_ERR_ARG, "nb_scale_parse: %s is NULL", !name ? "name" : "out");
    for (int i = 0; i < 3; i++)
        if (name && strcmp(name, scale_names[i]) == 0) {
            *out = (nb_scaling)i;
            return NB_OK;
        }
    return nb__fail(NB_ERR_ARG, "scaling \"%s\": expected none, minmax or standard",
                    name ? name : "(null)");
}

const char *nb_scale_name(nb_scaling mode)
{
    return (unsigned)mode < 3 ? scale_names[mode] : "?";
}

static const char *const missing_names[] = {"error", "mean", "drop"};

int nb_missing_parse(const char *name, nb_missing *out)
{
    if (!name || !out)
        return nb__fail(NB_ERR_ARG, "nb_missing_parse: %s is NULL", !name ? "name" : "out");
    for (int i = 0; i < 3; i++)
        if (name && strcmp(name, missing_names[i]) == 0) {
            *out = (nb_missing)i;
            return NB_OK;
        }
    return nb__fail(NB_ERR_ARG, "missing values \"%s\": expected error, mean or drop",
                    name ? name : "(null)");
}

const char *nb_missing_name(nb_missing mode)
{
    return (unsigned)mode < 3 ? missing_names[mode] : "?";
}

nb_missing nb_preproc_missing(const nb_preproc *pp)
{
    return pp ? (nb_missing)pp->s.missing : NB_MISSING_ERROR;
}

int nb_preproc_create(nb_preproc **out)
{
    if (!out) return nb__fail(NB_ERR_ARG, "nb_preproc_create: out is NULL");
    *out = nb__calloc(1, sizeof **out);
    return *out ? NB_OK : NB_ERR_NOMEM;
}

void nb_preproc_free(nb_preproc *pp)
{
    if (!pp) return;
    nb__schema_clear(&pp->s);
    nb_free(pp->offset);
    nb_free(pp->scale);
    nb_free(pp->t_offset);
    nb_free(pp->t_scale);
    nb_free(pp);
}

int nb_preproc_has_schema(const nb_preproc *pp) { return pp && pp->s.source != NB__SRC_NONE; }
nb_task nb_preproc_task(const nb_preproc *pp) { return pp ? pp->s.task : NB_TASK_CLASSIFY; }
int64_t nb_preproc_n_features(const nb_preproc *pp) { return pp ? pp->s.n_features : 0; }

int64_t nb_preproc_vocab_size(const nb_preproc *pp)
{
    for (size_t c = 0; pp && pp->s.source == NB__SRC_CSV && c < pp->s.n_columns; c++)
        if (pp->s.columns[c].kind == NB__COL_TEXT) return (int64_t)pp->s.columns[c].n_vocab + 2;
    return 0;
}

int nb_preproc_set_sample_shape(nb_preproc *pp, int rank, const int64_t *shape)
{
    if (!pp || !shape) return nb__fail(NB_ERR_ARG, "nb_preproc_set_sample_shape: %s is NULL", !pp ? "preproc" : "shape");
    if (!pp->s.n_features) return nb__fail(NB_ERR_STATE, "input shape: no data schema yet (load the training data first)");
    if (pp->s.source != NB__SRC_CSV) return nb__fail(NB_ERR_ARG, "input shape: only CSV rows can be given a shape (IDX images have theirs)");
    return nb__sample_shape_set(pp->s.n_features, rank, shape, "input shape", &pp->s.sample_rank,
                                pp->s.sample_shape);
}
int64_t nb_preproc_n_targets(const nb_preproc *pp) { return pp ? nb__schema_targets(&pp->s) : 0; }
int nb_preproc_n_classes(const nb_preproc *pp) { return pp ? pp->s.n_classes : 0; }

const char *nb_preproc_class_name(const nb_preproc *pp, int i)
{
    return pp && i >= 0 && i < pp->s.n_classes ? pp->s.class_names[i] : NULL;
}

int nb__preproc_adopt(nb_preproc *pp, nb__schema *s)
{
    if (pp->n_scale && pp->n_scale != s->n_features)
        return nb__fail(NB_ERR_ARG, "the data has %lld features, but the scaling was fitted on "
                        "%lld", (long long)s->n_features, (long long)pp->n_scale);
    nb__schema_clear(&pp->s);
    pp->s = *s;
    memset(s, 0, sizeof *s);
    return NB_OK;
}

/* Mark features whose scaling is fixed: one-hot columns (0/1 stay 0/1). */
static void fixed_features(const nb__schema *s, unsigned char *fixed)
{
    for (size_t c = 0; s->source == NB__SRC_CSV && c < s->n_columns; c++)
        if (s->columns[c].kind == NB__COL_CATEGORICAL)
            memset(fixed + s->columns[c].feature, 1, s->columns[c].n_vocab);
        else if (s->columns[c].kind == NB__COL_TEXT) /* token ids are indices, not measures */
            memset(fixed + s->columns[c].feature, 1, (size_t)s->columns[c].max_len);
}

static float safe_scale(double v)
{
    if (!(v > 0)) return 1.0f; /* a constant feature */
    if (v > (double)FLT_MAX) return FLT_MAX;
    float f = (float)v;
    return f > 0 ? f : 1.0f; /* a spread below float resolution counts as constant */
}

/* Per-feature statistics of train into off/sc (nf floats each). */
/* row i of ds as floats: in place for float data, through buf for compact data */
static const float *row_of(const nb_dataset *ds, size_t i, float *buf)
{
    if (ds->x) return ds->x + i * (size_t)ds->n_features;
    nb_dataset_rows(ds, (int64_t)i, 1, buf, NULL);
    return buf;
}

static int fit(const nb__schema *s, nb_scaling mode, const nb_dataset *train, float *off, float *sc)
{
    size_t nf = (size_t)train->n_features, n = (size_t)train->n;
    if (mode == NB_SCALE_MINMAX && s->source == NB__SRC_IDX && s->idx_type == 0x08) {
        /* unsigned bytes: the fixed range 0..255, so x / 255 is exactly [0, 1] */
        for (size_t j = 0; j < nf; j++) off[j] = 0.0f, sc[j] = 255.0f;
        return NB_OK;
    }
    double *a = nb__calloc(nf, sizeof *a), *b = nb__calloc(nf, sizeof *b);
    unsigned char *fixed = nb__calloc(nf, 1);
    if (!a || !b || !fixed) {
        nb_free(a), nb_free(b), nb_free(fixed);
        return NB_ERR_NOMEM;
    }
    fixed_features(s, fixed);
    int rc = NB_OK;
    float *row = train->x ? NULL : nb__alloc_array(nf, sizeof *row); /* compact data: one row at a time */
    if (!train->x && !row) {
        nb_free(a), nb_free(b), nb_free(fixed);
        return NB_ERR_NOMEM;
    }
    /* CSV rows given an image shape (rank > 1) whose values are all 8-bit pixels get the IDX
     * rule too: per-pixel ranges would scale a pixel that is dark in every training image
     * differently from its neighbours */
    bool pixels = mode == NB_SCALE_MINMAX && s->source == NB__SRC_CSV && s->sample_rank > 1;
    double top = 0;
    for (size_t i = 0; i < n && rc == NB_OK; i++) {
        const float *x = row_of(train, i, row);
        for (size_t j = 0; j < nf; j++) {
            double v = (double)x[j];
            if (pixels && (fixed[j] || v < 0 || v > 255 || v != floor(v))) pixels = false;
            top = v > top ? v : top;
            if (!isfinite(v)) {
                rc = nb__fail(NB_ERR_NUMERIC, "fitting the scaling: row %zu, feature %zu is %g",
                              i, j, v);
                break;
            }
            if (mode == NB_SCALE_STANDARD) a[j] += v; /* a: sum */
            else if (i == 0) a[j] = b[j] = v;          /* a: min, b: max */
            else a[j] = v < a[j] ? v : a[j], b[j] = v > b[j] ? v : b[j];
        }
    }
    if (rc == NB_OK && mode == NB_SCALE_STANDARD) {
        for (size_t j = 0; j < nf; j++) a[j] /= (double)n; /* a: mean */
        for (size_t i = 0; i < n; i++) {                  /* b: sum of squared deviations */
            const float *x = row_of(train, i, row);
            for (size_t j = 0; j < nf; j++) b[j] += ((double)x[j] - a[j]) * ((double)x[j] - a[j]);
        }
    }
    if (pixels && top > 127) { /* integers 0..255 reaching past 127: 8-bit pixels */
        for (size_t j = 0; j < nf; j++) off[j] = 0.0f, sc[j] = 255.0f;
        nb_free(a), nb_free(b), nb_free(fixed), nb_free(row);
        return rc;
    }
    for (size_t j = 0; rc == NB_OK && j < nf; j++) {
        if (fixed[j]) {
            off[j] = 0.0f, sc[j] = 1.0f;
        } else if (mode == NB_SCALE_STANDARD) {
            off[j] = (float)a[j];
            sc[j] = safe_scale(sqrt(b[j] / (double)n));
        } else {
            off[j] = (float)a[j];
            sc[j] = safe_scale(b[j] - a[j]);
        }
    }
    nb_free(a), nb_free(b), nb_free(fixed), nb_free(row);
    return rc;
}

int nb_preproc_fit_scaling(nb_preproc *pp, nb_scaling mode, const nb_dataset *train)
{
    if (!pp || (!train && mode != NB_SCALE_NONE))
        return nb__fail(NB_ERR_ARG, "nb_preproc_fit_scaling: %s is NULL", !pp ? "preproc" : "dataset");
    if ((unsigned)mode > NB_SCALE_STANDARD)
        return nb__fail(NB_ERR_ARG, "scaling mode %d is not none, minmax or standard", (int)mode);
    if (mode == NB_SCALE_NONE) {
        nb_free(pp->offset), nb_free(pp->scale);
        pp->offset = pp->scale = NULL;
        pp->n_scale = 0;
        pp->scale_mode = NB_SCALE_NONE;
        return NB_OK;
    }
    if (!train || train->n < 1 || train->n_features < 1)
        return nb__fail(NB_ERR_ARG, "fitting the scaling: the training set is empty");
    if (pp->s.source != NB__SRC_NONE && train->n_features != pp->s.n_features)
        return nb__fail(NB_ERR_ARG, "fitting the scaling: the training set has %lld features, "
                        "the schema %lld", (long long)train->n_features,
                        (long long)pp->s.n_features);
    size_t nf = (size_t)train->n_features;
    float *off = nb__alloc_array(nf, sizeof *off), *sc = nb__alloc_array(nf, sizeof *sc);
    int rc = off && sc ? fit(&pp->s, mode, train, off, sc) : NB_ERR_NOMEM;
    if (rc) {
        nb_free(off), nb_free(sc);
        return rc;
    }
    nb_free(pp->offset), nb_free(pp->scale);
    pp->offset = off;
    pp->scale = sc;
    pp->n_scale = train->n_features;
    pp->scale_mode = mode;
    return NB_OK;
}

int nb_preproc_apply_scaling(const nb_preproc *pp, nb_dataset *ds)
{
    if (!pp || !ds) return nb__fail(NB_ERR_ARG, "nb_preproc_apply_scaling: %s is NULL", !pp ? "preproc" : "dataset");
    if (pp->scale_mode == NB_SCALE_NONE) return NB_OK;
    if (ds->n_features != pp->n_scale)
        return nb__fail(NB_ERR_ARG, "scaling: the data has %lld features, the scaling was fitted "
                        "on %lld", (long long)ds->n_features, (long long)pp->n_scale);
    size_t nf = (size_t)ds->n_features, n = (size_t)ds->n;
    if (!ds->x) { /* compact data: keep the bytes, apply the transform when rows are read */
        if (ds->x8_scale) return nb__fail(NB_ERR_STATE, "scaling: this compact dataset is scaled already");
        float *off = nb__alloc_array(nf, sizeof *off), *sc = nb__alloc_array(nf, sizeof *sc);
        if (!off || !sc) {
            nb_free(off), nb_free(sc);
            return NB_ERR_NOMEM;
        }
        memcpy(off, pp->offset, nf * sizeof *off);
        memcpy(sc, pp->scale, nf * sizeof *sc);
        ds->x8_offset = off;
        ds->x8_scale = sc;
        return NB_OK;
    }
    for (size_t i = 0; i < n; i++) {
        float *x = ds->x + i * nf;
        for (size_t j = 0; j < nf; j++) {
            float v = (x[j] - pp->offset[j]) / pp->scale[j];
            if (!isfinite(v))
                return nb__fail(NB_ERR_NUMERIC, "scaling: row %zu, feature %zu: %g does not scale "
                                "to a finite value", i, j, (double)x[j]);
            x[j] = v;
        }
    }
    return NB_OK;
}

int nb_preproc_set_scaling(nb_preproc *pp, nb_scaling mode, int64_t n, const float *offset,
                           const float *scale)
{
    if (!pp) return nb__fail(NB_ERR_ARG, "nb_preproc_set_scaling: preproc is NULL");
    if ((unsigned)mode > NB_SCALE_STANDARD)
        return nb__fail(NB_ERR_ARG, "scaling mode %d is not none, minmax or standard", (int)mode);
    if (mode == NB_SCALE_NONE) return nb_preproc_fit_scaling(pp, NB_SCALE_NONE, NULL);
    if (!offset || !scale) return nb__fail(NB_ERR_ARG, "nb_preproc_set_scaling: %s is NULL", !offset ? "offset" : "scale");
    if (n < 1 || !offset || !scale)
        return nb__fail(NB_ERR_ARG, "scaling: expected one offset and one scale per feature");
    if (pp->s.source != NB__SRC_NONE && n != pp->s.n_features)
        return nb__fail(NB_ERR_ARG, "scaling: %lld values given, the data has %lld features",
                        (long long)n, (long long)pp->s.n_features);
    for (int64_t j = 0; j < n; j++) {
        if (!isfinite(offset[j]))
            return nb__fail(NB_ERR_ARG, "scaling: the offset of feature %lld is %g, not a finite number",
                            (long long)j, (double)offset[j]);
        if (!(isfinite(scale[j]) && scale[j] > 0))
            return nb__fail(NB_ERR_ARG, "scaling: the scale of feature %lld is %g, not a finite number > 0",
                            (long long)j, (double)scale[j]);
    }
    float *off = nb__alloc_array((size_t)n, sizeof *off), *sc = nb__alloc_array((size_t)n, sizeof *sc);
    if (!off || !sc) {
        nb_free(off), nb_free(sc);
        return NB_ERR_NOMEM;
    }
    memcpy(off, offset, (size_t)n * sizeof *off);
    memcpy(sc, scale, (size_t)n * sizeof *sc);
    nb_free(pp->offset), nb_free(pp->scale);
    pp->offset = off;
    pp->scale = sc;
    pp->n_scale = n;
    pp->scale_mode = mode;
    return NB_OK;
}

/* ---------------------------------------------------------------- target scaling */

int nb_preproc_fit_target_scaling(nb_preproc *pp, nb_scaling mode, const nb_dataset *train)
{
    if (!pp || (!train && mode != NB_SCALE_NONE))
        return nb__fail(NB_ERR_ARG, "nb_preproc_fit_target_scaling: %s is NULL", !pp ? "preproc" : "dataset");
    if (mode != NB_SCALE_NONE && mode != NB_SCALE_STANDARD)
        return nb__fail(NB_ERR_ARG, "target scaling: mode %s is not none or standard", nb_scale_name(mode));
    if (mode == NB_SCALE_NONE) {
        nb_free(pp->t_offset), nb_free(pp->t_scale);
        pp->t_offset = pp->t_scale = NULL;
        pp->n_tscale = 0;
        pp->t_mode = NB_SCALE_NONE;
        return NB_OK;
    }
    if (!train || train->n < 1 || train->n_targets < 1 || !train->y)
        return nb__fail(NB_ERR_ARG, "target scaling: the training data is empty or has no targets");
    if (train->task != NB_TASK_REGRESS)
        return nb__fail(NB_ERR_ARG, "target scaling: standard applies to regression targets, not to %s data",
                        nb_task_name(train->task));
    size_t k = (size_t)train->n_targets, n = (size_t)train->n;
    double *sum = nb__calloc(k, sizeof *sum), *ss = nb__calloc(k, sizeof *ss);
    float *off = nb__alloc_array(k, sizeof *off), *sc = nb__alloc_array(k, sizeof *sc);
    int rc = sum && ss && off && sc ? NB_OK : NB_ERR_NOMEM;
    for (size_t i = 0; rc == NB_OK && i < n; i++)
        for (size_t t = 0; t < k; t++) {
            double v = (double)train->y[i * k + t];
            if (!isfinite(v)) {
                rc = nb__fail(NB_ERR_NUMERIC, "target scaling: row %zu, target %zu is %g", i, t, v);
                break;
            }
            sum[t] += v;
        }
    if (rc == NB_OK) { /* two passes in double, as the feature statistics */
        for (size_t t = 0; t < k; t++) sum[t] /= (double)n;
        for (size_t i = 0; i < n; i++)
            for (size_t t = 0; t < k; t++) {
                double d = (double)train->y[i * k + t] - sum[t];
                ss[t] += d * d;
            }
        for (size_t t = 0; t < k; t++) {
            off[t] = (float)sum[t];
            sc[t] = safe_scale(sqrt(ss[t] / (double)n));
        }
    }
    nb_free(sum), nb_free(ss);
    if (rc) {
        nb_free(off), nb_free(sc);
        return rc;
    }
    nb_free(pp->t_offset), nb_free(pp->t_scale);
    pp->t_offset = off;
    pp->t_scale = sc;
    pp->n_tscale = (int64_t)k;
    pp->t_mode = mode;
    return NB_OK;
}

int nb_preproc_apply_target_scaling(const nb_preproc *pp, nb_dataset *ds)
{
    if (!pp || !ds) return nb__fail(NB_ERR_ARG, "nb_preproc_apply_target_scaling: %s is NULL", !pp ? "preproc" : "dataset");
    if (pp->t_mode == NB_SCALE_NONE || !ds->y || ds->n_targets == 0) return NB_OK;
    if (ds->n_targets != pp->n_tscale)
        return nb__fail(NB_ERR_ARG, "target scaling: the data has %lld targets, the scaling was fitted on %lld",
                        (long long)ds->n_targets, (long long)pp->n_tscale);
    size_t k = (size_t)ds->n_targets, n = (size_t)ds->n;
    for (size_t i = 0; i < n; i++)
        for (size_t t = 0; t < k; t++) ds->y[i * k + t] = (ds->y[i * k + t] - pp->t_offset[t]) / pp->t_scale[t];
    return NB_OK;
}

void nb_preproc_unscale_targets(const nb_preproc *pp, float *y, int64_t n)
{
    if (!pp || !y || pp->t_mode == NB_SCALE_NONE || n < 1) return; /* void: nothing to unscale */
    size_t k = (size_t)pp->n_tscale;
    for (size_t i = 0; i < (size_t)n; i++)
        for (size_t t = 0; t < k; t++) y[i * k + t] = y[i * k + t] * pp->t_scale[t] + pp->t_offset[t];
}

nb_scaling nb_preproc_target_scaling(const nb_preproc *pp) { return pp ? pp->t_mode : NB_SCALE_NONE; }

int nb_preproc_target_stats(const nb_preproc *pp, int64_t k, double *mean, double *std)
{
    if (!pp) return nb__fail(NB_ERR_ARG, "nb_preproc_target_stats: preproc is NULL");
    if (pp->t_mode == NB_SCALE_NONE || k < 0 || k >= pp->n_tscale)
        return nb__fail(NB_ERR_ARG, "target scaling: no statistics for target %lld (%lld fitted)", (long long)k,
                        (long long)pp->n_tscale);
    if (mean) *mean = (double)pp->t_offset[k];
    if (std) *std = (double)pp->t_scale[k];
    return NB_OK;
}
