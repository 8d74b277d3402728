/* SPDX-License-Identifier: MIT */
/*
 * preproc_json.c - the preprocessing state as a compact JSON object (stored in model files'
 * metadata) and back. The reader trusts nothing: every field is type- and range-checked and
 * the result must pass nb__schema_check, so a loader can index with it safely; errors name
 * the field ("preproc: csv.columns[2].values: expected an array of strings").
 * Derived values (feature offsets) are not stored; n_features is stored and must agree.
 */
#include "data_internal.h"
#include "json.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define WHAT "preproc"

static const char *const enc_names[] = {"value", "index", "name"};
static const char *const kind_names[] = {"numeric", "categorical", "label", "text"};
static const char *const token_names[] = {"chars", "words"}; /* NB_TOKENS_CHARS + i */
static const char *const source_names[] = {"none", "csv", "idx"};

static void put_strv(nb__buf *b, char *const *v, size_t n)
{
    nb__buf_puts(b, "[");
    for (size_t i = 0; i < n; i++) {
        if (i) nb__buf_puts(b, ",");
        nb__json_put_string(b, v[i]);
    }
    nb__buf_puts(b, "]");
}

static void put_csv(nb__buf *b, const nb__schema *s)
{
    nb__buf_printf(b, ",\"csv\":{\"header\":%s,\"columns\":[", s->has_header ? "true" : "false");
    for (size_t c = 0; c < s->n_columns; c++) {
        const nb__column *col = &s->columns[c];
        nb__buf_puts(b, c ? ",{\"name\":" : "{\"name\":");
        if (col->name) nb__json_put_string(b, col->name);
        else nb__buf_puts(b, "null");
        nb__buf_printf(b, ",\"type\":\"%s\"", kind_names[col->kind]);
        if (col->kind == NB__COL_NUMERIC && s->missing == NB_MISSING_MEAN) {
            nb__buf_puts(b, ",\"mean\":");
            nb__json_put_float(b, (double)col->mean);
        }
        if (col->kind == NB__COL_TEXT)
            nb__buf_printf(b, ",\"tokens\":\"%s\",\"max_len\":%lld", nb__tokens_name(col->tokens),
                           (long long)col->max_len);
        if (col->kind == NB__COL_CATEGORICAL || col->kind == NB__COL_TEXT) {
            nb__buf_puts(b, ",\"values\":");
            put_strv(b, col->vocab, col->n_vocab);
        }
        nb__buf_puts(b, "}");
    }
    nb__buf_puts(b, "],\"labels\":[");
    for (size_t i = 0; i < s->n_labels; i++)
        nb__buf_printf(b, i ? ",%zu" : "%zu", s->label_cols[i]);
    nb__buf_printf(b, "],\"label_encoding\":\"%s\"", enc_names[s->label_enc]);
    /* only when not the default, so files of data without missing values keep their bytes */
    if (s->missing != NB_MISSING_ERROR)
        nb__buf_printf(b, ",\"missing\":\"%s\"", nb_missing_name((nb_missing)s->missing));
    nb__buf_puts(b, "}");
}

/* ,"key":{"mode":M[,"offset":[..],"scale":[..]]} */
static void put_scaling(nb__buf *b, const char *key, nb_scaling mode, const float *offset,
                        const float *scale, int64_t n)
{
    nb__buf_printf(b, ",\"%s\":{\"mode\":\"%s\"", key, nb_scale_name(mode));
    if (mode != NB_SCALE_NONE) {
        const float *arr[2] = {offset, scale};
        for (int a = 0; a < 2; a++) {
            nb__buf_puts(b, a ? "],\"scale\":[" : ",\"offset\":[");
            for (int64_t j = 0; j < n; j++) {
                if (j) nb__buf_puts(b, ",");
                nb__json_put_float(b, (double)arr[a][j]);
            }
        }
        nb__buf_puts(b, "]");
    }
    nb__buf_puts(b, "}");
}

int nb_preproc_to_json(const nb_preproc *pp, char **json)
{
    if (!json) return nb__fail(NB_ERR_ARG, "nb_preproc_to_json: json is NULL");
    *json = NULL;
    if (!pp) return nb__fail(NB_ERR_ARG, "nb_preproc_to_json: preproc is NULL");
    const nb__schema *s = &pp->s;
    nb__buf b = {0};
    nb__buf_printf(&b, "{\"format\":\"nabla-preproc\",\"version\":1,\"source\":\"%s\","
                   "\"task\":\"%s\",\"n_features\":%lld,\"sample_shape\":[",
                   source_names[s->source], nb_task_name(s->task), (long long)s->n_features);
    for (int i = 0; i < s->sample_rank; i++)
        nb__buf_printf(&b, i ? ",%lld" : "%lld", (long long)s->sample_shape[i]);
    nb__buf_puts(&b, "],\"classes\":");
    put_strv(&b, s->class_names, (size_t)s->n_classes);
    if (s->source == NB__SRC_CSV) put_csv(&b, s);
    if (s->source == NB__SRC_IDX) nb__buf_printf(&b, ",\"idx\":{\"type\":%d}", s->idx_type);
    put_scaling(&b, "scaling", pp->scale_mode, pp->offset, pp->scale, pp->n_scale);
    /* only when fitted, so files without target scaling keep their bytes */
    if (pp->t_mode != NB_SCALE_NONE)
        put_scaling(&b, "target_scaling", pp->t_mode, pp->t_offset, pp->t_scale, pp->n_tscale);
    nb__buf_puts(&b, "}");
    if (b.status) {
        nb__buf_free(&b);
        return NB_ERR_NOMEM;
    }
    *json = b.data;
    return NB_OK;
}

/* ---------------------------------------------------------------- reading */

static int bad(const char *field, const char *expected)
{
    return nb__fail(NB_ERR_FORMAT, WHAT ": %s: expected %s", field, expected);
}

static int get_int(const nb__json *v, const char *field, int64_t lo, int64_t hi, int64_t *out)
{
    char want[96];
    snprintf(want, sizeof want, "an integer in %lld..%lld", (long long)lo, (long long)hi);
    /* compared as integers: (double)hi may round up (INT64_MAX / 4 becomes 2^61) */
    if (!v || v->type != NB_JSON_NUMBER || v->number != floor(v->number) ||
        !(v->number > -0x1p63 && v->number < 0x1p63) || (int64_t)v->number < lo ||
        (int64_t)v->number > hi)
        return bad(field, want);
    *out = (int64_t)v->number;
    return NB_OK;
}

/* A string member, one of names[0..n); its position in *out. */
static int get_enum(const nb__json *obj, const char *key, const char *field,
                    const char *const *names, int n, int *out)
{
    const nb__json *v = nb__json_get(obj, key);
    for (int i = 0; v && v->type == NB_JSON_STRING && i < n; i++)
        if (strcmp(v->str, names[i]) == 0 && strlen(v->str) == v->len) {
            *out = i;
            return NB_OK;
        }
    char want[160] = "one of";
    for (int i = 0; i < n; i++) {
        size_t len = strlen(want);
        snprintf(want + len, sizeof want - len, "%s \"%s\"", i ? "," : "", names[i]);
    }
    return bad(field, want);
}

static int get_strv(const nb__json *v, const char *field, size_t max, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!v || v->type != NB_JSON_ARRAY || v->count > max) return bad(field, "an array of strings");
    for (size_t i = 0; i < v->count; i++)
        if (v->items[i]->type != NB_JSON_STRING || strlen(v->items[i]->str) != v->items[i]->len)
            return bad(field, "an array of strings (without NUL characters)");
    if (v->count == 0) return NB_OK;
    char **strs = nb__calloc(v->count, sizeof *strs);
    if (!strs) return NB_ERR_NOMEM;
    for (size_t i = 0; i < v->count; i++)
        if (!(strs[i] = nb__strdup(v->items[i]->str))) {
            nb__strv_free(strs, v->count);
            return NB_ERR_NOMEM;
        }
    *out = strs;
    *n = v->count;
    return NB_OK;
}

static int read_column(const nb__json *v, size_t c, bool want_mean, nb__column *col)
{
    char field[96];
    snprintf(field, sizeof field, "csv.columns[%zu]", c);
    if (!v || v->type != NB_JSON_OBJECT) return bad(field, "an object");
    snprintf(field, sizeof field, "csv.columns[%zu].type", c);
    int rc = get_enum(v, "type", field, kind_names, 4, &col->kind);
    if (rc) return rc;
    const nb__json *name = nb__json_get(v, "name");
    snprintf(field, sizeof field, "csv.columns[%zu].name", c);
    if (!name || (name->type != NB_JSON_NULL && name->type != NB_JSON_STRING) ||
        (name->type == NB_JSON_STRING && (strlen(name->str) != name->len || !name->len)))
        return bad(field, "a non-empty string or null");
    if (name->type == NB_JSON_STRING && !(col->name = nb__strdup(name->str))) return NB_ERR_NOMEM;
    /* "mean": on every numeric column exactly when csv.missing is "mean" */
    const nb__json *mean = nb__json_get(v, "mean");
    snprintf(field, sizeof field, "csv.columns[%zu].mean", c);
    if (want_mean && col->kind == NB__COL_NUMERIC) {
        if (!mean || mean->type != NB_JSON_NUMBER || !(fabs(mean->number) <= (double)FLT_MAX))
            return bad(field, "a finite number (csv.missing is \"mean\")");
        col->mean = (float)mean->number;
    } else if (mean) {
        return bad(field, "no mean (only numeric columns with csv.missing \"mean\" have one)");
    }
    if (col->kind == NB__COL_TEXT) { /* the limits are nb__schema_check's */
        snprintf(field, sizeof field, "csv.columns[%zu].tokens", c);
        if ((rc = get_enum(v, "tokens", field, token_names, 2, &col->tokens))) return rc;
        col->tokens += NB_TOKENS_CHARS;
        snprintf(field, sizeof field, "csv.columns[%zu].max_len", c);
        if ((rc = get_int(nb__json_get(v, "max_len"), field, 1, NB__MAX_TEXT_LEN, &col->max_len)))
            return rc;
        snprintf(field, sizeof field, "csv.columns[%zu].values", c);
        return get_strv(nb__json_get(v, "values"), field, NB__MAX_TEXT_VOCAB - 2, &col->vocab,
                        &col->n_vocab);
    }
    if (col->kind != NB__COL_CATEGORICAL) return NB_OK;
    snprintf(field, sizeof field, "csv.columns[%zu].values", c);
    int rc2 = get_strv(nb__json_get(v, "values"), field, NB__MAX_CATEGORIES, &col->vocab,
                       &col->n_vocab);
    return rc2 || col->n_vocab ? rc2 : bad(field, "1 to 4096 strings");
}

static int read_csv(const nb__json *csv, nb__schema *s)
{
    if (!csv || csv->type != NB_JSON_OBJECT) return bad("csv", "an object");
    const nb__json *h = nb__json_get(csv, "header");
    if (!h || h->type != NB_JSON_BOOL) return bad("csv.header", "true or false");
    s->has_header = h->boolean;
    const nb__json *cols = nb__json_get(csv, "columns");
    if (!cols || cols->type != NB_JSON_ARRAY || cols->count < 2)
        return bad("csv.columns", "an array of at least two columns");
    static const char *const missing_names[] = {"error", "mean", "drop"};
    if (nb__json_get(csv, "missing")) { /* absent in files of before the option: error */
        int rc = get_enum(csv, "missing", "csv.missing", missing_names, 3, &s->missing);
        if (rc) return rc;
    }
    if (!(s->columns = nb__calloc(cols->count, sizeof *s->columns))) return NB_ERR_NOMEM;
    s->n_columns = cols->count;
    for (size_t c = 0; c < cols->count; c++) {
        int rc = read_column(cols->items[c], c, s->missing == NB_MISSING_MEAN, &s->columns[c]);
        if (rc) return rc;
    }
    const nb__json *labels = nb__json_get(csv, "labels");
    if (!labels || labels->type != NB_JSON_ARRAY || labels->count < 1 ||
        labels->count > s->n_columns)
        return bad("csv.labels", "a non-empty array of column indices");
    if (!(s->label_cols = nb__calloc(labels->count, sizeof *s->label_cols))) return NB_ERR_NOMEM;
    s->n_labels = labels->count;
    for (size_t i = 0; i < labels->count; i++) {
        char field[64];
        int64_t c = 0;
        snprintf(field, sizeof field, "csv.labels[%zu]", i);
        int rc = get_int(labels->items[i], field, 0, (int64_t)s->n_columns - 1, &c);
        if (rc) return rc;
        s->label_cols[i] = (size_t)c;
    }
    int rc = get_enum(csv, "label_encoding", "csv.label_encoding", enc_names, 3, &s->label_enc);
    if (rc) return rc;
    int64_t stored = s->n_features, shape[3];
    int rank = s->sample_rank;
    memcpy(shape, s->sample_shape, sizeof shape);
    nb__schema_layout(s); /* feature offsets; it also flattens the sample shape */
    if (stored != s->n_features)
        return nb__fail(NB_ERR_FORMAT, WHAT ": n_features: %lld, but the columns give %lld",
                        (long long)stored, (long long)s->n_features);
    /* keep a shape given with nb_preproc_set_sample_shape (nb__schema_check tests its product) */
    s->sample_rank = rank;
    memcpy(s->sample_shape, shape, sizeof shape);
    return NB_OK;
}

static int read_schema(const nb__json *root, nb__schema *s)
{
    int rc, src = 0, task = 0;
    int64_t v = 0;
    if ((rc = get_int(nb__json_get(root, "version"), "version", 1, 1, &v))) return rc;
    if ((rc = get_enum(root, "source", "source", source_names, 3, &src))) return rc;
    s->source = src;
    static const char *const tasks[] = {"classify", "binary", "multilabel", "regress"};
    if ((rc = get_enum(root, "task", "task", tasks, 4, &task))) return rc;
    s->task = (nb_task)task;
    if ((rc = get_int(nb__json_get(root, "n_features"), "n_features", 0, INT64_MAX / 4, &v)))
        return rc;
    s->n_features = v;
    const nb__json *shape = nb__json_get(root, "sample_shape");
    if (!shape || shape->type != NB_JSON_ARRAY || shape->count > 3)
        return bad("sample_shape", "an array of at most 3 sizes");
    s->sample_rank = (int)shape->count;
    for (size_t i = 0; i < shape->count; i++) {
        char field[48];
        snprintf(field, sizeof field, "sample_shape[%zu]", i);
        if ((rc = get_int(shape->items[i], field, 1, INT64_MAX / 4, &s->sample_shape[i])))
            return rc;
    }
    char **names;
    size_t n;
    if ((rc = get_strv(nb__json_get(root, "classes"), "classes", NB__MAX_CLASSES, &names, &n)))
        return rc;
    s->class_names = names;
    s->n_classes = (int)n;
    if (src == NB__SRC_NONE) {
        if (s->n_features || s->sample_rank || n)
            return bad("source", "\"csv\" or \"idx\" when there is a schema");
        s->task = NB_TASK_CLASSIFY;
        return NB_OK;
    }
    if (src == NB__SRC_CSV && (rc = read_csv(nb__json_get(root, "csv"), s))) return rc;
    if (src == NB__SRC_IDX) {
        s->n_labels = 1;
        s->label_enc = NB__LABEL_INDEX;
        const nb__json *idx = nb__json_get(root, "idx");
        if (!idx || idx->type != NB_JSON_OBJECT) return bad("idx", "an object");
        if ((rc = get_int(nb__json_get(idx, "type"), "idx.type", 0, 255, &v))) return rc;
        s->idx_type = (int)v;
    }
    return nb__schema_check(s, WHAT);
}

/* {"mode", "offset", "scale"} under key: mode among the first n_modes names; per entry a
 * finite offset and a scale > 0; want (when > 0) entries. A missing optional object is mode
 * none. */
static int read_scaling_obj(const nb__json *root, const char *key, int optional, int n_modes,
                            int64_t want, const char *per, int *mode_out, int64_t *n_out,
                            float **off_out, float **sc_out)
{
    *mode_out = NB_SCALE_NONE, *n_out = 0, *off_out = *sc_out = NULL;
    const nb__json *sc = nb__json_get(root, key);
    if (!sc && optional) return NB_OK; /* files written before target scaling existed */
    if (!sc || sc->type != NB_JSON_OBJECT) return bad(key, "an object");
    static const char *const modes[] = {"none", "minmax", "standard"};
    char fields[3][40];
    snprintf(fields[0], sizeof fields[0], "%s.offset", key);
    snprintf(fields[1], sizeof fields[1], "%s.scale", key);
    snprintf(fields[2], sizeof fields[2], "%s.mode", key);
    int mode = NB_SCALE_NONE, rc;
    if (n_modes == 3) rc = get_enum(sc, "mode", fields[2], modes, 3, &mode);
    else { /* target scaling: none or standard */
        static const char *const tmodes[] = {"none", "standard"};
        rc = get_enum(sc, "mode", fields[2], tmodes, 2, &mode);
        if (mode == 1) mode = NB_SCALE_STANDARD;
    }
    if (rc || mode == NB_SCALE_NONE) return rc;
    const nb__json *arr[2] = {nb__json_get(sc, "offset"), nb__json_get(sc, "scale")};
    char expect[64];
    snprintf(expect, sizeof expect, "an array of one number per %s", per);
    size_t n = arr[0] && arr[0]->type == NB_JSON_ARRAY ? arr[0]->count : 0;
    if (n == 0 || (want > 0 && n != (size_t)want)) return bad(fields[0], expect);
    float *out[2] = {NULL, NULL};
    for (int a = 0; a < 2 && rc == NB_OK; a++) {
        if (!arr[a] || arr[a]->type != NB_JSON_ARRAY || arr[a]->count != n) {
            rc = bad(fields[a], expect);
            break;
        }
        if (!(out[a] = nb__alloc_array(n, sizeof(float)))) rc = NB_ERR_NOMEM;
        for (size_t j = 0; rc == NB_OK && j < n; j++) {
            const nb__json *e = arr[a]->items[j];
            bool num = e->type == NB_JSON_NUMBER && fabs(e->number) <= (double)FLT_MAX;
            float f = num ? (float)e->number : 0.0f; /* range checked first: no UB */
            if (!num || (a == 1 && !(f > 0))) {
                char field[128];
                snprintf(field, sizeof field, "%s[%zu]", fields[a], j);
                rc = bad(field, a ? "a finite number > 0" : "a finite number");
            }
            if (rc == NB_OK) out[a][j] = f;
        }
    }
    if (rc) {
        nb_free(out[0]), nb_free(out[1]);
        return rc;
    }
    *mode_out = mode, *n_out = (int64_t)n, *off_out = out[0], *sc_out = out[1];
    return NB_OK;
}

static int read_scaling(const nb__json *root, nb_preproc *pp)
{
    int mode;
    int rc = read_scaling_obj(root, "scaling", 0, 3, pp->s.source != NB__SRC_NONE ? pp->s.n_features : 0,
                              "feature", &mode, &pp->n_scale, &pp->offset, &pp->scale);
    if (rc) return rc;
    pp->scale_mode = (nb_scaling)mode;
    if (nb__json_get(root, "target_scaling") && pp->s.source != NB__SRC_NONE && pp->s.task != NB_TASK_REGRESS)
        return bad("target_scaling", "absent: only regression targets are scaled");
    rc = read_scaling_obj(root, "target_scaling", 1, 2, pp->s.source != NB__SRC_NONE ? nb__schema_targets(&pp->s) : 0,
                          "target", &mode, &pp->n_tscale, &pp->t_offset, &pp->t_scale);
    pp->t_mode = (nb_scaling)mode;
    return rc;
}

int nb_preproc_from_json(const char *json, nb_preproc **out)
{
    if (!out) return nb__fail(NB_ERR_ARG, "nb_preproc_from_json: out is NULL");
    *out = NULL;
    if (!json) return nb__fail(NB_ERR_ARG, "nb_preproc_from_json: json is NULL");
    nb__json *root;
    int rc = nb__json_parse(json, strlen(json), 16, WHAT, &root);
    if (rc) return rc;
    nb_preproc *pp = NULL;
    if (root->type != NB_JSON_OBJECT) rc = bad("the document", "a JSON object");
    if (rc == NB_OK) rc = nb_preproc_create(&pp);
    if (rc == NB_OK) rc = read_schema(root, &pp->s);
    if (rc == NB_OK) rc = read_scaling(root, pp);
    nb__json_free(root);
    if (rc) {
        nb_preproc_free(pp);
        return rc;
    }
    *out = pp;
    return NB_OK;
}
