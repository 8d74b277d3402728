/* SPDX-License-Identifier: MIT */
/*
 * idx.c - the IDX format of MNIST and Fashion-MNIST: a big-endian header (two zero bytes, an
 * element type, the number of dimensions, then each dimension as a 32-bit count) followed by
 * the elements. Images are (n, rows, cols) or (n, c, h, w); labels are (n) unsigned bytes.
 * Invariant: the size the header promises (overflow-checked) must equal the bytes present,
 * so truncated or padded files are refused before any element is read.
 */
#include "data_internal.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct idx_file {
    const char *path;
    char *data;
    size_t size;
    int type, ndims;
    int64_t dims[4];
    const unsigned char *body; /* the elements */
    size_t count;              /* number of elements */
} idx_file;

static size_t elem_size(int type)
{
    switch (type) {
    case 0x08: case 0x09: return 1;
    case 0x0B: return 2;
    case 0x0C: case 0x0D: return 4;
    case 0x0E: return 8;
    default: return 0;
    }
}

static uint64_t be(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v = v << 8 | p[i];
    return v;
}

static int idx_read(const char *path, size_t max_bytes, idx_file *f)
{
    memset(f, 0, sizeof *f);
    f->path = path;
    int rc = nb__data_read(path, max_bytes, &f->data, &f->size);
    if (rc) return rc;
    const unsigned char *d = (const unsigned char *)f->data;
    if (f->size < 4)
        return nb__fail(NB_ERR_FORMAT, "%s: %zu bytes, too short for an IDX header", path, f->size);
    if (d[0] != 0 || d[1] != 0)
        return nb__fail(NB_ERR_FORMAT, "%s: not an IDX file: its magic bytes are %02X %02X %02X "
                        "%02X, expected 00 00 <type> <dims>%s", path, d[0], d[1], d[2], d[3],
                        d[0] == 0x1F && d[1] == 0x8B ? " (this is gzip data: name it .gz)" : "");
    f->type = d[2];
    f->ndims = d[3];
    if (!elem_size(f->type))
        return nb__fail(NB_ERR_FORMAT, "%s: IDX element type 0x%02X is not one of 08, 09, 0B, 0C, "
                        "0D, 0E", path, (unsigned)f->type);
    if (f->ndims < 1 || f->ndims > 4)
        return nb__fail(NB_ERR_FORMAT, "%s: IDX header: %d dimensions (1 to 4 supported)", path,
                        f->ndims);
    size_t header = 4 + 4 * (size_t)f->ndims;
    if (f->size < header)
        return nb__fail(NB_ERR_FORMAT, "%s: truncated: the IDX header needs %zu bytes, the file "
                        "has %zu", path, header, f->size);
    size_t count = 1, bytes;
    bool ok = true;
    for (int i = 0; i < f->ndims; i++) {
        f->dims[i] = (int64_t)be(d + 4 + 4 * i, 4);
        ok = ok && nb__mul_size(count, (size_t)f->dims[i], &count);
    }
    if (!ok || !nb__mul_size(count, elem_size(f->type), &bytes) || bytes > f->size - header)
        return nb__fail(NB_ERR_FORMAT, "%s: truncated: the IDX header promises %s bytes of data, "
                        "the file has %zu", path, ok ? "more" : "too many", f->size - header);
    if (bytes < f->size - header)
        return nb__fail(NB_ERR_FORMAT, "%s: %zu bytes follow the %zu bytes of data the IDX header "
                        "describes", path, f->size - header - bytes, bytes);
    f->body = d + header;
    f->count = count;
    return NB_OK;
}

/* Element i as a float; NB_ERR_FORMAT when it is not a finite float32. */
static int elem(const idx_file *f, size_t i, float *out)
{
    const unsigned char *p = f->body + i * elem_size(f->type);
    double v;
    switch (f->type) {
    case 0x08: *out = (float)p[0]; return NB_OK;
    case 0x09: *out = (float)(int8_t)p[0]; return NB_OK;
    case 0x0B: *out = (float)(int16_t)(uint16_t)be(p, 2); return NB_OK;
    case 0x0C: *out = (float)(int32_t)(uint32_t)be(p, 4); return NB_OK;
    case 0x0D: {
        uint32_t u = (uint32_t)be(p, 4);
        float x;
        memcpy(&x, &u, sizeof x);
        v = (double)x;
        break;
    }
    default: {
        uint64_t u = be(p, 8);
        memcpy(&v, &u, sizeof v);
        break;
    }
    }
    if (!isfinite(v) || fabs(v) > (double)FLT_MAX)
        return nb__fail(NB_ERR_FORMAT, "%s: element %zu is %g, not a finite float32", f->path, i,
                        v);
    *out = (float)v;
    return NB_OK;
}

static int check_images(const idx_file *im, const nb__schema *s)
{
    if (im->ndims != 3 && im->ndims != 4)
        return nb__fail(NB_ERR_FORMAT, "%s: images must have 3 dimensions (count, rows, cols) or "
                        "4 (count, channels, rows, cols), this file has %d", im->path, im->ndims);
    for (int i = 0; i < im->ndims; i++)
        if (im->dims[i] < 1)
            return nb__fail(NB_ERR_FORMAT, "%s: IDX dimension %d is 0", im->path, i);
    if (s->source != NB__SRC_IDX) return NB_OK;
    int64_t c = im->ndims == 4 ? im->dims[1] : 1, h = im->dims[im->ndims - 2],
            w = im->dims[im->ndims - 1];
    if (c != s->sample_shape[0] || h != s->sample_shape[1] || w != s->sample_shape[2])
        return nb__fail(NB_ERR_FORMAT, "%s: images of shape (%lld, %lld, %lld), but the model "
                        "expects (%lld, %lld, %lld)", im->path, (long long)c, (long long)h,
                        (long long)w, (long long)s->sample_shape[0],
                        (long long)s->sample_shape[1], (long long)s->sample_shape[2]);
    if (im->type != s->idx_type)
        return nb__fail(NB_ERR_FORMAT, "%s: IDX element type 0x%02X, but the model was trained on "
                        "type 0x%02X", im->path, (unsigned)im->type, (unsigned)s->idx_type);
    return NB_OK;
}

static int check_labels(const idx_file *lb, const idx_file *im, int *max_label)
{
    if (lb->type != 0x08 || lb->ndims != 1)
        return nb__fail(NB_ERR_FORMAT, "%s: labels must be IDX unsigned bytes (type 08) in one "
                        "dimension, this file has type %02X and %d", lb->path, (unsigned)lb->type,
                        lb->ndims);
    if (lb->dims[0] != im->dims[0])
        return nb__fail(NB_ERR_FORMAT, "%s has %lld labels but %s has %lld images", lb->path,
                        (long long)lb->dims[0], im->path, (long long)im->dims[0]);
    *max_label = -1;
    for (size_t i = 0; i < lb->count; i++)
        if (lb->body[i] > *max_label) *max_label = lb->body[i];
    return NB_OK;
}

/* The schema these files define (learning) with o's class names. */
static int learn(const idx_file *im, int max_label, const nb_data_opts *o, nb__schema *s)
{
    s->source = NB__SRC_IDX;
    s->task = NB_TASK_CLASSIFY;
    s->idx_type = im->type;
    s->sample_rank = 3;
    s->sample_shape[0] = im->ndims == 4 ? im->dims[1] : 1;
    s->sample_shape[1] = im->dims[im->ndims - 2];
    s->sample_shape[2] = im->dims[im->ndims - 1];
    s->n_features = s->sample_shape[0] * s->sample_shape[1] * s->sample_shape[2];
    s->n_labels = 1;
    s->label_enc = NB__LABEL_INDEX;
    size_t k = (size_t)(max_label + 1), n = 0;
    if (o->class_names) {
        char **names;
        int rc = nb__strv_split(o->class_names, "class names", &names, &n);
        if (rc) return rc;
        if (n < k || n > 256) {
            nb__strv_free(names, n);
            return nb__fail(NB_ERR_ARG, "%zu class names given, but the labels need %zu to 256",
                            n, k);
        }
        s->class_names = names;
        s->n_classes = (int)n;
        return nb__strv_distinct(names, n, "class names");
    }
    s->n_classes = (int)k;
    return nb__strv_indices(k, &s->class_names);
}

static int build(idx_file *im, const idx_file *lb, const nb_data_opts *o,
                 const nb__schema *s, nb__schema *learned, nb_dataset **out)
{
    int max_label = -1, rc;
    if ((rc = check_images(im, s))) return rc;
    if (lb && (rc = check_labels(lb, im, &max_label))) return rc;
    if (s->source == NB__SRC_NONE) {
        if ((rc = learn(im, max_label, o, learned))) return rc;
        s = learned;
    } else if (max_label >= s->n_classes) {
        for (size_t i = 0; i < lb->count; i++)
            if (lb->body[i] >= s->n_classes)
                return nb__fail(NB_ERR_FORMAT, "%s: label %d of item %zu is out of range: the "
                                "model has %d classes", lb->path, lb->body[i], i, s->n_classes);
    }
    nb_dataset *ds;
    bool compact = o->compact && im->type == 0x08; /* bytes stay bytes */
    if ((rc = nb__dataset_from_schema(s, im->dims[0], lb != NULL, compact, &ds))) return rc;
    if (compact) { /* the file's buffer becomes the dataset's bytes (elements moved to its
                    * start, the rest given back): a copy would hold the images twice, the
                    * peak memory of the whole load */
        memmove(im->data, im->body, im->count);
        uint8_t *x8 = nb__realloc(im->data, im->count);
        if (!x8) {
            nb_dataset_free(ds);
            return NB_ERR_NOMEM;
        }
        im->data = NULL;
        nb_free(ds->x8);
        ds->x8 = x8;
    }
    for (size_t i = 0; !compact && i < im->count; i++)
        if ((rc = elem(im, i, &ds->x[i]))) {
            nb_dataset_free(ds);
            return rc;
        }
    for (size_t i = 0; lb && i < lb->count; i++) ds->y[i] = (float)lb->body[i];
    *out = ds;
    return NB_OK;
}

int nb__idx_load(const char *images, const char *labels, const nb_data_opts *o,
                 const nb__schema *s, nb__schema *learned, nb_dataset **out)
{
    memset(learned, 0, sizeof *learned);
    if (s->source == NB__SRC_CSV)
        return nb__fail(NB_ERR_ARG, "%s: IDX images, but the schema (model) is for CSV data",
                        images);
    if (s->source == NB__SRC_NONE && o->task != NB_TASK_CLASSIFY)
        return nb__fail(NB_ERR_ARG, "%s: IDX labels are class indices: the task must be classify, "
                        "not %s", images, nb_task_name(o->task));
    idx_file im, lb;
    int rc = idx_read(images, o->max_bytes, &im);
    memset(&lb, 0, sizeof lb);
    if (rc == NB_OK && labels) rc = idx_read(labels, o->max_bytes, &lb);
    if (rc == NB_OK) rc = build(&im, labels ? &lb : NULL, o, s, learned, out);
    nb_free(im.data);
    nb_free(lb.data);
    if (rc) nb__schema_clear(learned);
    return rc;
}
