/* SPDX-License-Identifier: MIT */
/*
 * safetensors_save.c - writing float32 tensors as a safetensors file.
 * Layout: 8-byte little-endian header length N, N bytes of JSON padded with spaces so the data
 * starts at a multiple of 8, then each tensor's F32 bytes in entry order with no holes.
 * Everything is checked before anything is written, the file is built in memory and written
 * atomically, so a failed save never disturbs a previous file at the same path.
 */
#include "io_internal.h"

#include <stdlib.h>
#include <string.h>

/* Whether s is well-formed UTF-8 (RFC 3629: no overlong forms, surrogates or > U+10FFFF):
 * a file with anything else in its header would be rejected by every reader, nabla's too. */
static int utf8_ok(const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    while (*s) {
        unsigned char c = *s;
        size_t len;
        unsigned lo = 0x80, hi = 0xbf;
        if (c < 0x80) len = 1;
        else if (c >= 0xc2 && c <= 0xdf) len = 2;
        else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            lo = c == 0xe0 ? 0xa0 : 0x80;
            hi = c == 0xed ? 0x9f : 0xbf;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            lo = c == 0xf0 ? 0x90 : 0x80;
            hi = c == 0xf4 ? 0x8f : 0xbf;
        } else
            return 0;
        if (len > 1 && (s[1] < lo || s[1] > hi)) return 0;
        for (size_t i = 2; i < len; i++)
            if (s[i] < 0x80 || s[i] > 0xbf) return 0; /* also stops at the NUL */
        s += len;
    }
    return 1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Any two equal strings among s[0..n)? Sorts a scratch copy of the pointers. */
static int find_duplicate(const char *const *s, int n, const char **dup)
{
    *dup = NULL;
    if (n < 2) return NB_OK;
    const char **tmp = nb__alloc_array((size_t)n, sizeof *tmp);
    if (!tmp) return NB_ERR_NOMEM;
    for (int i = 0; i < n; i++) tmp[i] = s[i];
    qsort(tmp, (size_t)n, sizeof *tmp, cmp_str);
    for (int i = 1; i < n && !*dup; i++)
        if (strcmp(tmp[i - 1], tmp[i]) == 0) *dup = tmp[i];
    nb_free(tmp);
    return NB_OK;
}

static int check_args(const char *path, const nb_st_entry *t, int n, const char *const *keys,
                      const char *const *values, int n_meta, size_t *data_bytes)
{
    if (!path) return nb__fail(NB_ERR_ARG, "nb_st_save: path is NULL");
    if (n > 0 && !t) return nb__fail(NB_ERR_ARG, "%s: tensors is NULL (n = %d)", path, n);
    if (n_meta > 0 && (!keys || !values))
        return nb__fail(NB_ERR_ARG, "%s: %s is NULL (n_meta = %d)", path, !keys ? "meta_keys" : "meta_values", n_meta);
    if (n < 0) return nb__fail(NB_ERR_ARG, "%s: bad tensor list (n = %d)", path, n);
    if (n_meta < 0) return nb__fail(NB_ERR_ARG, "%s: bad metadata list (n_meta = %d)", path, n_meta);
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        const char *name = t[i].name;
        const nb_view *v = &t[i].view;
        if (!name || !*name) return nb__fail(NB_ERR_ARG, "%s: tensor %d has no name", path, i);
        if (strcmp(name, "__metadata__") == 0)
            return nb__fail(NB_ERR_ARG, "%s: tensor %d: the name __metadata__ is reserved", path,
                            i);
        if (!utf8_ok(name))
            return nb__fail(NB_ERR_ARG, "%s: tensor %d: name is not valid UTF-8", path, i);
        if (v->rank < 0 || v->rank > NB_MAX_RANK)
            return nb__fail(NB_ERR_ARG, "%s: tensor '%.200s': rank %d is not in 0..%d", path,
                            name, v->rank, NB_MAX_RANK);
        size_t numel, bytes;
        char buf[128];
        int dims_ok = 1;
        for (int d = 0; d < v->rank; d++)
            if (v->shape[d] < 0 || v->shape[d] > ((int64_t)1 << 53)) dims_ok = 0;
        if (!dims_ok || !nb__numel(v->rank, v->shape, &numel) || numel != v->n)
            return nb__fail(NB_ERR_ARG, "%s: tensor '%.200s': shape %s does not hold n = %zu "
                            "elements", path, name, nb__shape_str(v->rank, v->shape, buf,
                                                                  sizeof buf), v->n);
        if (numel > 0 && !v->data)
            return nb__fail(NB_ERR_ARG, "%s: tensor '%.200s': data is NULL", path, name);
        if (!nb__mul_size(numel, 4, &bytes) || !nb__add_size(total, bytes, &total) ||
            (uint64_t)total > ((uint64_t)1 << 53))
            return nb__fail(NB_ERR_NOMEM, "%s: total tensor size overflows", path);
    }
    for (int i = 0; i < n_meta; i++) {
        if (!keys[i] || !values[i])
            return nb__fail(NB_ERR_ARG, "%s: metadata %d: key or value is NULL", path, i);
        if (!utf8_ok(keys[i]) || !utf8_ok(values[i]))
            return nb__fail(NB_ERR_ARG, "%s: metadata '%.200s': not valid UTF-8", path, keys[i]);
    }
    const char *dup;
    const char **names = nb__alloc_array(n ? (size_t)n : 1, sizeof *names);
    if (!names) return NB_ERR_NOMEM;
    for (int i = 0; i < n; i++) names[i] = t[i].name;
    int rc = find_duplicate(names, n, &dup);
    nb_free(names);
    if (rc) return rc;
    if (dup) return nb__fail(NB_ERR_ARG, "%s: duplicate tensor name '%.200s'", path, dup);
    if ((rc = find_duplicate(keys, n_meta, &dup)) != NB_OK) return rc;
    if (dup) return nb__fail(NB_ERR_ARG, "%s: duplicate metadata key '%.200s'", path, dup);
    *data_bytes = total;
    return NB_OK;
}

static void put_le(unsigned char *p, uint64_t v, size_t nbytes)
{
    for (size_t i = 0; i < nbytes; i++, v >>= 8) p[i] = (unsigned char)(v & 0xff);
}

/* the header nb_st_save writes for these tensors and metadata, padded to a multiple of 8 */
static int build_header(nb__buf *h, const nb_st_entry *tensors, int n, const char *const *meta_keys,
                        const char *const *meta_values, int n_meta)
{
    nb__buf_puts(h, "{");
    if (n_meta > 0) {
        nb__buf_puts(h, "\"__metadata__\":{");
        for (int i = 0; i < n_meta; i++) {
            if (i) nb__buf_puts(h, ",");
            nb__json_put_string(h, meta_keys[i]);
            nb__buf_puts(h, ":");
            nb__json_put_string(h, meta_values[i]);
        }
        nb__buf_puts(h, "}");
    }
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        const nb_view *v = &tensors[i].view;
        if (i || n_meta > 0) nb__buf_puts(h, ",");
        nb__json_put_string(h, tensors[i].name);
        nb__buf_puts(h, ":{\"dtype\":\"F32\",\"shape\":[");
        for (int d = 0; d < v->rank; d++)
            nb__buf_printf(h, d ? ",%lld" : "%lld", (long long)v->shape[d]);
        nb__buf_printf(h, "],\"data_offsets\":[%zu,%zu]}", at, at + 4 * v->n);
        at += 4 * v->n; /* cannot overflow: check_args summed these */
    }
    nb__buf_puts(h, "}");
    /* spaces up to a multiple of 8, so the data that follows the 8-byte length is aligned */
    while (h->status == NB_OK && h->len % 8) nb__buf_puts(h, " ");
    return h->status ? NB_ERR_NOMEM : NB_OK;
}

/* nb_st_header_size: nn checks the model file will be writable before training (issue 14, item 7) */
int nb_st_header_size(const nb_st_entry *tensors, int n, const char *const *meta_keys,
                      const char *const *meta_values, int n_meta, size_t *len)
{
    size_t data_bytes = 0;
    if (!len) return nb__fail(NB_ERR_ARG, "nb_st_header_size: len is NULL");
    *len = 0;
    int rc = check_args("nb_st_header_size", tensors, n, meta_keys, meta_values, n_meta, &data_bytes);
    if (rc) return rc;
    nb__buf h = {0};
    rc = build_header(&h, tensors, n, meta_keys, meta_values, n_meta);
    *len = h.len;
    nb__buf_free(&h);
    return rc;
}

int nb_st_save(const char *path, const nb_st_entry *tensors, int n,
               const char *const *meta_keys, const char *const *meta_values, int n_meta)
{
    size_t data_bytes = 0;
    int rc = check_args(path, tensors, n, meta_keys, meta_values, n_meta, &data_bytes);
    if (rc) return rc;

    nb__buf h = {0};
    if (build_header(&h, tensors, n, meta_keys, meta_values, n_meta)) {
        nb__buf_free(&h);
        return NB_ERR_NOMEM;
    }
    if (h.len > NB_ST_MAX_HEADER) {
        rc = nb__fail(NB_ERR_ARG, "%s: the header (names, shapes and metadata) takes %zu bytes, "
                      "more than the %d a reader accepts", path, h.len, NB_ST_MAX_HEADER);
        nb__buf_free(&h);
        return rc;
    }

    size_t size;
    unsigned char *file = NULL;
    if (!nb__add_size(8 + h.len, data_bytes, &size)) {
        rc = nb__fail(NB_ERR_NOMEM, "%s: file size overflows", path);
    } else if (!(file = nb__alloc(size))) {
        rc = NB_ERR_NOMEM;
    } else {
        put_le(file, h.len, 8);
        memcpy(file + 8, h.data, h.len);
        unsigned char *p = file + 8 + h.len;
        for (int i = 0; i < n; i++) {
            const nb_view *v = &tensors[i].view;
            for (size_t k = 0; k < v->n; k++, p += 4) {
                uint32_t u;
                memcpy(&u, &v->data[k], 4);
                put_le(p, u, 4);
            }
        }
        rc = nb__write_file_atomic(path, file, size);
    }
    nb_free(file);
    nb__buf_free(&h);
    return rc;
}
