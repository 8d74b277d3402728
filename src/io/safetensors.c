/* SPDX-License-Identifier: MIT */
/*
 * safetensors.c - loading safetensors files into float32 tensors, and the nb_st accessors.
 * The whole file is read (with a cap), the header is parsed as JSON and every claim in it is
 * checked against the bytes actually present before anything is allocated from it, so a
 * hostile header can never make the loader allocate more than the file size justifies.
 * Invariant of a loaded nb_st: the tensors tile the data buffer exactly, names are unique,
 * and every view's data points into one float buffer owned by the nb_st.
 */
#include "io_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* NB_ST_MAX_HEADER (8 MiB), not the reference implementation's 100 MB: a JSON tree costs up
 * to ~40 bytes per byte of header, so 100 MB could make the parser allocate 4 GB */
#define ST_MAX_HEADER ((unsigned)NB_ST_MAX_HEADER)
#define ST_MAX_DEPTH 8
#define ST_MAX_INT 9007199254740992.0 /* 2^53: larger integers are not exact in a double */

typedef struct st_tensor {
    char *name;
    nb_view view;
} st_tensor;

struct nb_st {
    char *path;
    int n, n_meta;
    st_tensor *t;
    float *data;
    char **meta_keys, **meta_values;
};

/* Key comparisons made by the duplicate checks of this thread (sorting the metadata keys and
 * the tensor names): tests/io/test_safetensors.c reads it to prove that loading is n log n,
 * not n^2 (a pairwise check made a 1.4 MB header take 13-24 s). Thread-local, so concurrent
 * loads do not race on it. */
_Thread_local size_t nb__st_key_compares;

/* A tensor entry while validating: where its bytes are and how to convert them. */
typedef struct st_info {
    const char *name;
    int dtype; /* index into k_dtypes */
    int rank;
    int64_t shape[NB_MAX_RANK];
    size_t numel;
    uint64_t begin, end;
} st_info;

static const struct {
    const char *name;
    size_t size;
} k_dtypes[] = {{"F32", 4}, {"F64", 8}, {"F16", 2}, {"BF16", 2}, {"I8", 1},  {"I16", 2},
                {"I32", 4}, {"I64", 8}, {"U8", 1},  {"U16", 2}, {"U32", 4}, {"U64", 8}};
/* The integer dtypes are read because PyTorch stores counters in them (batch norm's
 * num_batches_tracked is I64); their values become floats when exactly representable. */
enum { DT_F32, DT_F64, DT_F16, DT_BF16, DT_I8, DT_I16, DT_I32, DT_I64, DT_U8, DT_U16, DT_U32,
       DT_U64, DT_COUNT };

void nb_st_free(nb_st *st)
{
    if (!st) return;
    for (int i = 0; i < st->n; i++) nb_free(st->t[i].name);
    for (int i = 0; i < st->n_meta; i++) {
        nb_free(st->meta_keys[i]);
        nb_free(st->meta_values[i]);
    }
    nb_free(st->t);
    nb_free(st->meta_keys);
    nb_free(st->meta_values);
    nb_free(st->data);
    nb_free(st->path);
    nb_free(st);
}

/* ---------------------------------------------------------------- conversion */

/* Little-endian loads through bytes, so the result does not depend on the host's order. */
static uint64_t load_le(const unsigned char *p, size_t nbytes)
{
    uint64_t v = 0;
    for (size_t i = nbytes; i-- > 0;) v = v << 8 | p[i];
    return v;
}

static float bits_to_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static float f16_to_f32(uint32_t h)
{
    uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
    if (exp == 0x1f) return bits_to_f32(sign | 0x7f800000u | man << 13); /* inf, NaN */
    if (exp != 0) return bits_to_f32(sign | (exp + 112) << 23 | man << 13);
    /* zero or subnormal: man * 2^-24 is exact in float32 */
    float f = (float)man * 0x1p-24f;
    return sign ? -f : f;
}

static float f64_to_f32(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    /* Round-to-nearest overflow made explicit: values from FLT_MAX plus half an ulp up
     * become infinity (what IEEE conversion gives, without relying on it). */
    if (isnan(d)) return signbit(d) ? -NAN : NAN;
    if (fabs(d) >= 0x1.ffffffp127) return signbit(d) ? -INFINITY : INFINITY;
    return (float)d;
}

/* An integer's magnitude is exact in float32 when its significant bits, trailing zeros
 * dropped, fit the 24-bit significand (2^63 included: one bit). */
static int exact_in_f32(uint64_t mag)
{
    while (mag > 0xffffffu && !(mag & 1)) mag >>= 1;
    return mag <= 0xffffffu;
}

/* Convert n values of dtype at src into dst. Returns n, or for an integer dtype the index of
 * the first value float32 cannot hold exactly (*bad gets it as text). */
static size_t convert(const unsigned char *src, int dtype, size_t n, float *dst, char bad[32])
{
    size_t sz = k_dtypes[dtype].size;
    for (size_t i = 0; i < n; i++, src += sz) {
        uint64_t u = load_le(src, sz);
        switch (dtype) {
        case DT_F32: dst[i] = bits_to_f32((uint32_t)u); break;
        case DT_F64: dst[i] = f64_to_f32(u); break;
        case DT_F16: dst[i] = f16_to_f32((uint32_t)u); break;
        case DT_BF16: dst[i] = bits_to_f32((uint32_t)u << 16); break;
        default: {
            /* two's complement by hand: the sign bit of the sz-byte value, then the magnitude
             * in unsigned arithmetic (no signed overflow even for INT64_MIN) */
            int neg = dtype <= DT_I64 && (u >> (8 * sz - 1) & 1);
            uint64_t mag = neg ? (sz == 8 ? ~u : ~u & ((UINT64_C(1) << 8 * sz) - 1)) + 1 : u;
            if (!exact_in_f32(mag)) {
                snprintf(bad, 32, "%s%llu", neg ? "-" : "", (unsigned long long)mag);
                return i;
            }
            float f = (float)mag; /* exact, by the check above */
            dst[i] = neg ? -f : f;
        }
        }
    }
    return n;
}

/* ---------------------------------------------------------------- header validation */

/* A JSON number that is an integer in 0..2^53. */
static int get_uint(const nb__json *v, uint64_t *out)
{
    if (!v || v->type != NB_JSON_NUMBER || !(v->number >= 0) || v->number > ST_MAX_INT ||
        v->number != floor(v->number))
        return 0;
    *out = (uint64_t)v->number;
    return 1;
}

static int check_entry(const char *path, const char *name, const nb__json *e, uint64_t data_size,
                       st_info *info)
{
    if (e->type != NB_JSON_OBJECT)
        return nb__fail(NB_ERR_FORMAT, "%s: tensor '%.200s': entry is not an object", path, name);
    for (size_t k = 0; k < e->count; k++) {
        const char *f = e->keys[k];
        if (strcmp(f, "dtype") && strcmp(f, "shape") && strcmp(f, "data_offsets"))
            return nb__fail(NB_ERR_FORMAT, "%s: tensor '%.200s': unknown field '%.100s'", path,
                            name, f);
        for (size_t j = 0; j < k; j++)
            if (strcmp(e->keys[j], f) == 0)
                return nb__fail(NB_ERR_FORMAT, "%s: tensor '%.200s': duplicate field '%s'",
                                path, name, f);
    }
    const nb__json *dt = nb__json_get(e, "dtype"), *sh = nb__json_get(e, "shape"),
                   *off = nb__json_get(e, "data_offsets");
    const char *missing = !dt ? "dtype" : !sh ? "shape" : !off ? "data_offsets" : NULL;
    if (missing)
        return nb__fail(NB_ERR_FORMAT, "%s: tensor '%.200s': missing field '%s'", path, name,
                        missing);
    if (dt->type != NB_JSON_STRING)
        return nb__fail(NB_ERR_FORMAT, "%s: tensor '%.200s': dtype is not a string", path, name);
    info->name = name;
    info->dtype = -1;
    for (int d = 0; d < DT_COUNT; d++)
        if (strcmp(dt->str, k_dtypes[d].name) == 0 && strlen(dt->str) == dt->len) info->dtype = d;
    if (info->dtype < 0)
        return nb__fail(NB_ERR_FORMAT,
                        "%s: tensor '%.200s': unsupported dtype '%.32s' (nabla reads F32, F64, "
                        "F16, BF16 and the integer types I8..I64, U8..U64)", path, name, dt->str);
    if (sh->type != NB_JSON_ARRAY)
        return nb__fail(NB_ERR_FORMAT, "%s: tensor '%.200s': shape is not an array", path, name);
    if (sh->count > NB_MAX_RANK)
        return nb__fail(NB_ERR_FORMAT, "%s: tensor '%.200s': rank %zu is more than %d", path,
                        name, sh->count, NB_MAX_RANK);
    info->rank = (int)sh->count;
    for (int d = 0; d < info->rank; d++) {
        uint64_t dim;
        if (!get_uint(sh->items[d], &dim))
            return nb__fail(NB_ERR_FORMAT,
                            "%s: tensor '%.200s': shape[%d] is not an integer in 0..2^53", path,
                            name, d);
        info->shape[d] = (int64_t)dim;
    }
    if (off->type != NB_JSON_ARRAY || off->count != 2 || !get_uint(off->items[0], &info->begin) ||
        !get_uint(off->items[1], &info->end))
        return nb__fail(NB_ERR_FORMAT,
                        "%s: tensor '%.200s': data_offsets is not [begin, end] of integers in "
                        "0..2^53", path, name);
    if (info->begin > info->end)
        return nb__fail(NB_ERR_FORMAT, "%s: tensor '%.200s': data_offsets [%llu, %llu] end "
                        "before they begin", path, name, (unsigned long long)info->begin,
                        (unsigned long long)info->end);
    if (info->end > data_size)
        return nb__fail(NB_ERR_FORMAT, "%s: tensor '%.200s': data_offsets [%llu, %llu] go past "
                        "the %llu data bytes", path, name, (unsigned long long)info->begin,
                        (unsigned long long)info->end, (unsigned long long)data_size);
    char buf[128];
    size_t bytes;
    if (!nb__numel(info->rank, info->shape, &info->numel) ||
        !nb__mul_size(info->numel, k_dtypes[info->dtype].size, &bytes) ||
        bytes != info->end - info->begin)
        return nb__fail(NB_ERR_FORMAT, "%s: tensor '%.200s': shape %s of %s does not match the "
                        "%llu bytes of data_offsets [%llu, %llu]", path, name,
                        nb__shape_str(info->rank, info->shape, buf, sizeof buf),
                        k_dtypes[info->dtype].name, (unsigned long long)(info->end - info->begin),
                        (unsigned long long)info->begin, (unsigned long long)info->end);
    return NB_OK;
}

static int cmp_offsets(const void *a, const void *b)
{
    const st_info *x = *(const st_info *const *)a, *y = *(const st_info *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    nb__st_key_compares++;
    return strcmp((*(const st_info *const *)a)->name, (*(const st_info *const *)b)->name);
}

/* The tensors must tile [0, data_size) exactly: sorted by offset, each begins where the
 * previous ended. Names must be unique. sorted is scratch space for n pointers. */
static int check_layout(const char *path, st_info *info, size_t n, const st_info **sorted,
                        uint64_t data_size)
{
    for (size_t i = 0; i < n; i++) sorted[i] = &info[i];
    qsort(sorted, n, sizeof *sorted, cmp_names);
    for (size_t i = 1; i < n; i++)
        if (strcmp(sorted[i - 1]->name, sorted[i]->name) == 0)
            return nb__fail(NB_ERR_FORMAT, "%s: duplicate tensor name '%.200s'", path,
                            sorted[i]->name);
    qsort(sorted, n, sizeof *sorted, cmp_offsets);
    uint64_t at = 0;
    const char *prev = NULL;
    for (size_t i = 0; i < n; i++) {
        const st_info *t = sorted[i];
        if (t->begin > at)
            return nb__fail(NB_ERR_FORMAT, "%s: data bytes [%llu, %llu) belong to no tensor "
                            "(a hole before tensor '%.200s')", path, (unsigned long long)at,
                            (unsigned long long)t->begin, t->name);
        if (t->begin < at)
            return nb__fail(NB_ERR_FORMAT, "%s: tensor '%.200s' data_offsets [%llu, %llu] overlap "
                            "tensor '%.200s'", path, t->name, (unsigned long long)t->begin,
                            (unsigned long long)t->end, prev ? prev : "?");
        at = t->end;
        prev = t->name;
    }
    if (at != data_size)
        return nb__fail(NB_ERR_FORMAT, "%s: data bytes [%llu, %llu) at the end belong to no "
                        "tensor", path, (unsigned long long)at, (unsigned long long)data_size);
    return NB_OK;
}

static int cmp_keys(const void *a, const void *b)
{
    nb__st_key_compares++;
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int load_meta(const char *path, const nb__json *m, nb_st *st)
{
    if (m->type != NB_JSON_OBJECT)
        return nb__fail(NB_ERR_FORMAT, "%s: __metadata__ is not an object", path);
    if (m->count > 1) { /* duplicates, found by sorting the keys once (n log n) */
        const char **keys = nb__alloc_array(m->count, sizeof *keys);
        if (!keys) return NB_ERR_NOMEM;
        for (size_t i = 0; i < m->count; i++) keys[i] = m->keys[i];
        qsort(keys, m->count, sizeof *keys, cmp_keys);
        for (size_t i = 1; i < m->count; i++)
            if (strcmp(keys[i - 1], keys[i]) == 0) {
                int rc = nb__fail(NB_ERR_FORMAT, "%s: __metadata__: duplicate key '%.200s'", path, keys[i]);
                nb_free(keys);
                return rc;
            }
        nb_free(keys);
    }
    for (size_t i = 0; i < m->count; i++) {
        const nb__json *v = m->items[i];
        if (v->type != NB_JSON_STRING)
            return nb__fail(NB_ERR_FORMAT, "%s: __metadata__ '%.200s': value is not a string",
                            path, m->keys[i]);
        if (strlen(v->str) != v->len)
            return nb__fail(NB_ERR_FORMAT, "%s: __metadata__ '%.200s': value contains \\u0000",
                            path, m->keys[i]);
    }
    if (m->count > (size_t)INT32_MAX)
        return nb__fail(NB_ERR_FORMAT, "%s: too many metadata entries", path);
    st->meta_keys = nb__calloc(m->count, sizeof(char *));
    st->meta_values = nb__calloc(m->count, sizeof(char *));
    if (!st->meta_keys || !st->meta_values) return NB_ERR_NOMEM;
    for (size_t i = 0; i < m->count; i++) {
        st->meta_keys[i] = nb__strdup(m->keys[i]);
        st->meta_values[i] = nb__strdup(m->items[i]->str);
        st->n_meta = (int)i + 1; /* both freed by nb_st_free, NULL included */
        if (!st->meta_keys[i] || !st->meta_values[i]) return NB_ERR_NOMEM;
    }
    return NB_OK;
}

/* Build st from the validated header: names, one float buffer, converted data. */
static int build(nb_st *st, const st_info *info, size_t n, const unsigned char *data)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        if (!nb__add_size(total, info[i].numel, &total))
            return nb__fail(NB_ERR_NOMEM, "%s: element count overflows", st->path);
    /* total <= data bytes (the smallest dtype is one byte), so this is bounded by the file size */
    st->data = nb__alloc_array(total ? total : 1, sizeof(float));
    st->t = nb__calloc(n ? n : 1, sizeof *st->t);
    if (!st->data || !st->t) return NB_ERR_NOMEM;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        st_tensor *t = &st->t[i];
        st->n = (int)i + 1;
        if (!(t->name = nb__strdup(info[i].name))) return NB_ERR_NOMEM;
        t->view.rank = info[i].rank;
        memcpy(t->view.shape, info[i].shape, sizeof t->view.shape);
        t->view.n = info[i].numel;
        t->view.data = st->data + at;
        char bad[32];
        size_t at_bad = convert(data + info[i].begin, info[i].dtype, info[i].numel, t->view.data, bad);
        if (at_bad < info[i].numel)
            return nb__fail(NB_ERR_FORMAT, "%s: tensor '%.200s': %s value %s at index %zu is not "
                            "exactly representable in float32 (integers up to 2^24 are); store "
                            "it as a float tensor if the rounding is acceptable", st->path,
                            info[i].name, k_dtypes[info[i].dtype].name, bad, at_bad);
        at += info[i].numel;
    }
    return NB_OK;
}

/* Validate the parsed header root against data_size bytes of data and fill st. */
static int load_header(nb_st *st, const nb__json *root, const unsigned char *data,
                       uint64_t data_size)
{
    const char *path = st->path;
    if (root->type != NB_JSON_OBJECT)
        return nb__fail(NB_ERR_FORMAT, "%s: header is not a JSON object", path);
    size_t n = 0, n_metadata = 0;
    for (size_t i = 0; i < root->count; i++) {
        if (strcmp(root->keys[i], "__metadata__") == 0) n_metadata++;
        else n++;
    }
    if (n_metadata > 1) return nb__fail(NB_ERR_FORMAT, "%s: more than one __metadata__", path);
    if (n > (size_t)INT32_MAX) return nb__fail(NB_ERR_FORMAT, "%s: too many tensors", path);
    const nb__json *meta = nb__json_get(root, "__metadata__");
    int rc = meta ? load_meta(path, meta, st) : NB_OK;
    if (rc) return rc;
    /* n entries each took dozens of header bytes, so these are bounded by the file too */
    st_info *info = nb__calloc(n ? n : 1, sizeof *info);
    const st_info **sorted = nb__calloc(n ? n : 1, sizeof *sorted);
    if (!info || !sorted) rc = NB_ERR_NOMEM;
    for (size_t i = 0, k = 0; rc == NB_OK && i < root->count; i++) {
        if (strcmp(root->keys[i], "__metadata__") == 0) continue;
        if (root->keys[i][0] == '\0')
            rc = nb__fail(NB_ERR_FORMAT, "%s: a tensor has an empty name", path);
        else
            rc = check_entry(path, root->keys[i], root->items[i], data_size, &info[k++]);
    }
    if (rc == NB_OK) rc = check_layout(path, info, n, sorted, data_size);
    if (rc == NB_OK) rc = build(st, info, n, data);
    nb_free(info);
    nb_free(sorted);
    return rc;
}

int nb_st_load(const char *path, nb_st **out)
{
    if (!out) return nb__fail(NB_ERR_ARG, "nb_st_load: out is NULL");
    *out = NULL;
    if (!path) return nb__fail(NB_ERR_ARG, "nb_st_load: path is NULL");
    /* a 4 GiB cap (less where size_t is smaller) keeps the read and float buffer bounded */
    const uint64_t cap64 = (uint64_t)1 << 32;
    size_t cap = cap64 > SIZE_MAX / 4 ? SIZE_MAX / 4 : (size_t)cap64;
    char *file;
    size_t size;
    int rc = nb__read_file(path, cap, &file, &size);
    if (rc) return rc;
    const unsigned char *bytes = (const unsigned char *)file;
    nb_st *st = NULL;
    nb__json *root = NULL;
    uint64_t hlen = size >= 8 ? load_le(bytes, 8) : 0;
    if (size < 8) {
        rc = nb__fail(NB_ERR_FORMAT, "%s: file is %zu bytes, too short for the 8-byte header "
                      "length", path, size);
    } else if ((hlen > size - 8 || hlen > ST_MAX_HEADER) && size > 8 && bytes[8] != '{') {
        /* an impossible length and no JSON after it: some other file (a CSV, a spec) given
         * where a model belongs, not a damaged model */
        rc = nb__fail(NB_ERR_FORMAT, "%s: not a safetensors file (its first 8 bytes are not a "
                      "header length; is it a CSV or a spec?)", path);
    } else if (hlen > size - 8) {
        rc = nb__fail(NB_ERR_FORMAT, "%s: header length %llu is more than the %zu bytes after "
                      "it (truncated file?)", path, (unsigned long long)hlen, size - 8);
    } else if (hlen > ST_MAX_HEADER) {
        rc = nb__fail(NB_ERR_FORMAT, "%s: header length %llu is more than the %u allowed", path,
                      (unsigned long long)hlen, ST_MAX_HEADER);
    } else if (hlen < 2 || bytes[8] != '{') {
        rc = nb__fail(NB_ERR_FORMAT, "%s: header does not start with '{'", path);
    } else if (!(st = nb__calloc(1, sizeof *st)) || !(st->path = nb__strdup(path))) {
        rc = NB_ERR_NOMEM;
    } else {
        char what[320];
        snprintf(what, sizeof what, "%.300s header", path);
        rc = nb__json_parse(file + 8, (size_t)hlen, ST_MAX_DEPTH, what, &root);
        if (rc == NB_OK)
            rc = load_header(st, root, bytes + 8 + hlen, (uint64_t)(size - 8 - (size_t)hlen));
    }
    nb__json_free(root);
    nb_free(file);
    if (rc != NB_OK) {
        nb_st_free(st);
        return rc;
    }
    *out = st;
    return NB_OK;
}

/* ---------------------------------------------------------------- accessors */

int nb_st_count(const nb_st *st) { return st ? st->n : 0; }

int nb_st_tensor(const nb_st *st, int i, const char **name, nb_view *view)
{
    if (!st) return nb__fail(NB_ERR_ARG, "nb_st_tensor: st is NULL");
    if (i < 0 || i >= st->n)
        return nb__fail(NB_ERR_ARG, "%s: tensor index %d is not in 0..%d", st->path, i, st->n - 1);
    if (name) *name = st->t[i].name;
    if (view) *view = st->t[i].view;
    return NB_OK;
}

int nb_st_find(const nb_st *st, const char *name, nb_view *view)
{
    if (!st || !name) return nb__fail(NB_ERR_ARG, "nb_st_find: %s is NULL", !st ? "st" : "name");
    for (int i = 0; i < st->n; i++)
        if (strcmp(st->t[i].name, name) == 0) {
            if (view) *view = st->t[i].view;
            return NB_OK;
        }
    return nb__fail(NB_ERR_ARG, "%s: no tensor named '%.200s'", st->path, name);
}

const char *nb_st_meta(const nb_st *st, const char *key)
{
    for (int i = 0; st && key && i < st->n_meta; i++)
        if (strcmp(st->meta_keys[i], key) == 0) return st->meta_values[i];
    return NULL;
}

int nb_st_meta_count(const nb_st *st) { return st ? st->n_meta : 0; }

int nb_st_meta_at(const nb_st *st, int i, const char **key, const char **value)
{
    if (!st) return nb__fail(NB_ERR_ARG, "nb_st_meta_at: st is NULL");
    if (i < 0 || i >= st->n_meta)
        return nb__fail(NB_ERR_ARG, "%s: metadata index %d is not in 0..%d", st->path, i,
                        st->n_meta - 1);
    if (key) *key = st->meta_keys[i];
    if (value) *value = st->meta_values[i];
    return NB_OK;
}
