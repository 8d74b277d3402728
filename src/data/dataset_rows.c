/* SPDX-License-Identifier: MIT */
/*
 * dataset_rows.c - reading a dataset's rows as floats, whichever way its features are stored
 * (floats in x, or compact bytes in x8 converted on the way), and the prefetch hint that lets
 * a training loop pull the next batch's rows into the cache while it computes this one.
 * Every reader outside src/data goes through these functions: they are the one place that
 * knows the storage. Reading never changes the dataset.
 */
#include "data_internal.h"
#include "../ops/ops.h"

#include <string.h>

int nb_dataset_gather(const nb_dataset *ds, const int64_t *rows, int64_t count, float *x_out,
                      float *y_out)
{
    if (!ds || !rows || !x_out)
        return nb__fail(NB_ERR_ARG, "nb_dataset_gather: %s is NULL", !ds ? "dataset" : !rows ? "rows" : "x_out");
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
    if (!ds || !x_out) return nb__fail(NB_ERR_ARG, "nb_dataset_rows: %s is NULL", !ds ? "dataset" : "x_out");
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

/* At most this much of the rows is prefetched, so a large batch does not flush the data the
 * caller's own step is working on. */
#define PREFETCH_BYTES ((size_t)256 << 10)
#define LINE 64 /* bytes per cache line */

void nb_dataset_prefetch(const nb_dataset *ds, const int64_t *rows, int64_t count, int lines,
                         int64_t *cursor)
{
#if defined(__GNUC__) || defined(__clang__)
    /* The cursor is row i << 32 | the line of it to fetch next (a fetched row is at most
     * PREFETCH_BYTES, so its line fits), -1 once every row is fetched: a training step calls
     * this a few times per batch, so a finished set costs a compare, and no call divides. */
    if (!ds || !rows || !cursor || *cursor < 0) return; /* a hint: nothing to do */
    size_t row = (size_t)ds->n_features * (ds->x ? sizeof(float) : 1); /* as the gather reads it */
    const char *base = ds->x ? (const char *)ds->x : (const char *)ds->x8;
    int64_t i = *cursor >> 32;
    size_t off = (size_t)(*cursor & 0xffffffff) * LINE;
    int k = 0;
    /* row i is fetched while i < count and rows 0..i fit in PREFETCH_BYTES */
    for (; k < lines && i < count && (size_t)(i + 1) * row <= PREFETCH_BYTES; k++) {
        int64_t r = rows[i];
        if (r >= 0 && r < ds->n) { /* (a bad row: the gather reports it) */
            __builtin_prefetch(base + (size_t)r * row + off, 0, 2);
            if (off == 0 && ds->y) __builtin_prefetch(ds->y + (size_t)r * (size_t)ds->n_targets, 0, 2), k++;
        }
        off += LINE; /* 64-byte steps from the row's start: an unaligned row's last line may be missed */
        if (off >= row) i++, off = 0;
    }
    *cursor = k < lines ? -1 : (int64_t)((uint64_t)i << 32 | off / LINE);
#else
    (void)ds, (void)rows, (void)count, (void)lines, (void)cursor;
#endif
}
