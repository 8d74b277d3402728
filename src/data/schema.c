/* SPDX-License-Identifier: MIT */
/*
 * schema.c - the data schema's life cycle and consistency rules, plus small string-vector
 * helpers shared by the loaders. nb__schema_check is the one place that decides whether a
 * schema (learned or read from JSON) is usable, so loaders can trust every index in it.
 * Invariant kept by nb__schema_layout: CSV feature columns occupy consecutive features in
 * column order, a categorical column one feature per vocabulary value.
 */
#include "data_internal.h"

#include <stdio.h>
#include <string.h>

void nb__strv_free(char **v, size_t n)
{
    if (!v) return;
    for (size_t i = 0; i < n; i++) nb_free(v[i]);
    nb_free(v);
}

int nb__strv_dup(char *const *names, size_t n, char ***out)
{
    *out = NULL;
    if (n == 0) return NB_OK;
    char **v = nb__calloc(n, sizeof *v);
    if (!v) return NB_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        if (!(v[i] = nb__strdup(names[i]))) {
            nb__strv_free(v, i);
            return NB_ERR_NOMEM;
        }
    }
    *out = v;
    return NB_OK;
}

int nb__strv_indices(size_t n, char ***out)
{
    *out = NULL;
    if (n == 0) return NB_OK;
    char **v = nb__calloc(n, sizeof *v);
    if (!v) return NB_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "%zu", i);
        if (!(v[i] = nb__strdup(buf))) {
            nb__strv_free(v, i);
            return NB_ERR_NOMEM;
        }
    }
    *out = v;
    return NB_OK;
}

int nb__strv_split(const char *list, const char *what, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    size_t count = 1;
    for (const char *p = list; *p; p++) count += *p == ',';
    char **v = nb__calloc(count, sizeof *v);
    if (!v) return NB_ERR_NOMEM;
    const char *p = list;
    for (size_t i = 0; i < count; i++) {
        const char *q = strchr(p, ',');
        size_t len = q ? (size_t)(q - p) : strlen(p);
        if (len == 0) {
            nb__strv_free(v, i);
            return nb__fail(NB_ERR_ARG, "%s \"%s\": item %zu is empty", what, list, i);
        }
        if (i == 0 && !nb__utf8_valid(list)) {
            nb__strv_free(v, i);
            return nb__fail(NB_ERR_ARG, "%s: not valid UTF-8", what);
        }
        if (!(v[i] = nb__alloc(len + 1))) {
            nb__strv_free(v, i);
            return NB_ERR_NOMEM;
        }
        memcpy(v[i], p, len);
        v[i][len] = '\0';
        p = q ? q + 1 : p + len;
    }
    *out = v;
    *n = count;
    return NB_OK;
}

int nb__strv_distinct(char *const *v, size_t n, const char *what)
{
    nb__strset set = {0};
    int rc = NB_OK;
    for (size_t i = 0; i < n && rc == NB_OK; i++) {
        size_t idx;
        if ((rc = nb__strset_add(&set, v[i], &idx))) break;
        if (idx != i) rc = nb__fail(NB_ERR_ARG, "%s: \"%s\" is given twice", what, v[i]);
    }
    nb__strset_free(&set);
    return rc;
}

void nb__schema_clear(nb__schema *s)
{
    nb__strv_free(s->class_names, (size_t)(s->n_classes > 0 ? s->n_classes : 0));
    for (size_t i = 0; s->columns && i < s->n_columns; i++) {
        nb_free(s->columns[i].name);
        nb__strv_free(s->columns[i].vocab, s->columns[i].n_vocab);
    }
    nb_free(s->columns);
    nb_free(s->label_cols);
    memset(s, 0, sizeof *s);
}

const char *nb__col_label(const nb__schema *s, size_t c, char *buf, size_t cap)
{
    const char *name = c < s->n_columns ? s->columns[c].name : NULL;
    if (name) snprintf(buf, cap, " (\"%s\")", name);
    else buf[0] = '\0';
    return buf;
}

static int check_names(char *const *v, size_t n, const char *what, const char *field)
{
    nb__strset set = {0};
    int rc = NB_OK;
    for (size_t i = 0; i < n && rc == NB_OK; i++) {
        if (!v[i]) {
            rc = nb__fail(NB_ERR_FORMAT, "%s: %s[%zu] is missing", what, field, i);
            break;
        }
        size_t before = set.n;
        if ((rc = nb__strset_add(&set, v[i], NULL))) break;
        if (set.n == before)
            rc = nb__fail(NB_ERR_FORMAT, "%s: %s[%zu]: \"%s\" appears twice", what, field, i, v[i]);
    }
    nb__strset_free(&set);
    return rc;
}

/* A text column: the only feature column (as learning makes it), a known tokenizer, a usable
 * length and distinct, non-empty tokens that fit the caps. */
static int check_text_col(const nb__schema *s, size_t c, const char *what)
{
    const nb__column *col = &s->columns[c];
    for (size_t k = 0; k < s->n_columns; k++)
        if (k != c && s->columns[k].kind != NB__COL_LABEL)
            return nb__fail(NB_ERR_FORMAT, "%s: csv.columns[%zu]: a text column must be the only "
                            "feature column", what, c);
    if (col->tokens != NB_TOKENS_CHARS && col->tokens != NB_TOKENS_WORDS)
        return nb__fail(NB_ERR_FORMAT, "%s: csv.columns[%zu].tokens: unknown", what, c);
    if (col->max_len < 1 || col->max_len > NB__MAX_TEXT_LEN)
        return nb__fail(NB_ERR_FORMAT, "%s: csv.columns[%zu].max_len: not 1..%d", what, c,
                        NB__MAX_TEXT_LEN);
    if (col->n_vocab > NB__MAX_TEXT_VOCAB - 2 || (col->n_vocab && !col->vocab))
        return nb__fail(NB_ERR_FORMAT, "%s: csv.columns[%zu].values: need 0 to %d tokens", what,
                        c, NB__MAX_TEXT_VOCAB - 2);
    for (size_t i = 0; i < col->n_vocab; i++) {
        size_t len = col->vocab[i] ? strlen(col->vocab[i]) : 0;
        if (len < 1 || len > NB__MAX_TOKEN_BYTES)
            return nb__fail(NB_ERR_FORMAT, "%s: csv.columns[%zu].values[%zu]: a token of 1 to %d "
                            "bytes", what, c, i, NB__MAX_TOKEN_BYTES);
    }
    char field[64];
    snprintf(field, sizeof field, "csv.columns[%zu].values", c);
    return check_names(col->vocab, col->n_vocab, what, field);
}

static int check_csv(const nb__schema *s, const char *what)
{
    if (s->n_columns < 2 || !s->columns)
        return nb__fail(NB_ERR_FORMAT, "%s: csv.columns: need a feature and a label column", what);
    int64_t feature = 0;
    size_t n_label_cols = 0;
    for (size_t c = 0; c < s->n_columns; c++) {
        const nb__column *col = &s->columns[c];
        if ((col->name != NULL) != (s->has_header != 0))
            return nb__fail(NB_ERR_FORMAT, "%s: csv.columns[%zu].name: %s", what, c,
                            s->has_header ? "missing (the data has a header)"
                                          : "given, but the data has no header");
        if (col->kind == NB__COL_LABEL) {
            n_label_cols++;
            continue;
        }
        if (col->kind == NB__COL_CATEGORICAL) {
            if (col->n_vocab < 1 || col->n_vocab > NB__MAX_CATEGORIES || !col->vocab)
                return nb__fail(NB_ERR_FORMAT, "%s: csv.columns[%zu].values: need 1 to %d values",
                                what, c, NB__MAX_CATEGORIES);
            char field[64];
            snprintf(field, sizeof field, "csv.columns[%zu].values", c);
            int rc = check_names(col->vocab, col->n_vocab, what, field);
            if (rc) return rc;
        } else if (col->kind == NB__COL_TEXT) {
            int rc = check_text_col(s, c, what);
            if (rc) return rc;
        } else if (col->kind != NB__COL_NUMERIC) {
            return nb__fail(NB_ERR_FORMAT, "%s: csv.columns[%zu].type: unknown", what, c);
        }
        if (col->feature != feature)
            return nb__fail(NB_ERR_FORMAT, "%s: csv.columns[%zu]: feature offset %lld, expected "
                            "%lld", what, c, (long long)col->feature, (long long)feature);
        feature += col->kind == NB__COL_CATEGORICAL ? (int64_t)col->n_vocab
                   : col->kind == NB__COL_TEXT     ? col->max_len
                                                   : 1;
    }
    if (feature != s->n_features || feature < 1)
        return nb__fail(NB_ERR_FORMAT, "%s: n_features is %lld, the columns give %lld", what,
                        (long long)s->n_features, (long long)feature);
    if (s->n_labels < 1 || s->n_labels != n_label_cols || !s->label_cols)
        return nb__fail(NB_ERR_FORMAT, "%s: csv.labels: must list each of the %zu label columns "
                        "once", what, n_label_cols);
    for (size_t i = 0; i < s->n_labels; i++) {
        size_t c = s->label_cols[i];
        if (c >= s->n_columns || s->columns[c].kind != NB__COL_LABEL)
            return nb__fail(NB_ERR_FORMAT, "%s: csv.labels[%zu]: %zu is not a label column",
                            what, i, c);
        for (size_t j = 0; j < i; j++)
            if (s->label_cols[j] == c)
                return nb__fail(NB_ERR_FORMAT, "%s: csv.labels[%zu]: column %zu listed twice",
                                what, i, c);
    }
    bool one = s->task == NB_TASK_CLASSIFY || s->task == NB_TASK_BINARY;
    if (one && s->n_labels != 1)
        return nb__fail(NB_ERR_FORMAT, "%s: csv.labels: task %s takes one label column", what,
                        nb_task_name(s->task));
    if (s->task == NB_TASK_MULTILABEL && (size_t)s->n_classes != s->n_labels)
        return nb__fail(NB_ERR_FORMAT, "%s: classes: multilabel needs one name per label column",
                        what);
    int enc = s->label_enc;
    bool enc_ok = s->task == NB_TASK_CLASSIFY ? enc == NB__LABEL_INDEX || enc == NB__LABEL_NAME
                  : s->task == NB_TASK_BINARY ? enc == NB__LABEL_VALUE || enc == NB__LABEL_NAME
                                              : enc == NB__LABEL_VALUE;
    if (!enc_ok)
        return nb__fail(NB_ERR_FORMAT, "%s: csv.label_encoding: not valid for task %s", what,
                        nb_task_name(s->task));
    /* rows may be given a shape (--input-shape 1x28x28): only the product is fixed */
    int64_t prod = 1;
    for (int i = 0; i < s->sample_rank && s->sample_rank <= 3; i++) prod *= s->sample_shape[i] > 0 ? s->sample_shape[i] : 0;
    if (s->sample_rank < 1 || s->sample_rank > 3 || prod != s->n_features)
        return nb__fail(NB_ERR_FORMAT, "%s: sample_shape: its product must be n_features for CSV", what);
    /* header names map a file's columns onto the schema's: a repeated name (possible in JSON,
     * never learned) would shift that mapping silently */
    nb__strset seen = {0};
    int rc = NB_OK;
    for (size_t c = 0; s->has_header && c < s->n_columns && rc == NB_OK; c++) {
        size_t before = seen.n;
        if ((rc = nb__strset_add(&seen, s->columns[c].name, NULL)) == NB_OK && seen.n == before)
            rc = nb__fail(NB_ERR_FORMAT, "%s: csv.columns[%zu].name: \"%s\" appears twice", what, c,
                          s->columns[c].name);
    }
    nb__strset_free(&seen);
    return rc;
}

static bool idx_type_ok(int t)
{
    return t == 0x08 || t == 0x09 || t == 0x0B || t == 0x0C || t == 0x0D || t == 0x0E;
}

int nb__schema_check(const nb__schema *s, const char *what)
{
    if (s->source == NB__SRC_NONE) return NB_OK;
    if ((unsigned)s->task > NB_TASK_REGRESS)
        return nb__fail(NB_ERR_FORMAT, "%s: task: unknown", what);
    if (s->sample_rank < 1 || s->sample_rank > 3)
        return nb__fail(NB_ERR_FORMAT, "%s: sample_shape: rank %d is not 1..3", what,
                        s->sample_rank);
    int64_t prod = 1;
    for (int i = 0; i < s->sample_rank; i++) {
        if (s->sample_shape[i] < 1 || s->sample_shape[i] > (INT64_MAX / 4) / prod)
            return nb__fail(NB_ERR_FORMAT, "%s: sample_shape[%d]: %lld is not a usable size",
                            what, i, (long long)s->sample_shape[i]);
        prod *= s->sample_shape[i];
    }
    if (prod != s->n_features)
        return nb__fail(NB_ERR_FORMAT, "%s: n_features %lld is not the product of sample_shape",
                        what, (long long)s->n_features);
    int k = s->n_classes;
    if (k < 0 || k > NB__MAX_CLASSES || (k > 0) != (s->class_names != NULL))
        return nb__fail(NB_ERR_FORMAT, "%s: classes: need 0 to %d names", what, NB__MAX_CLASSES);
    if ((s->task == NB_TASK_BINARY && k != 2) || (s->task == NB_TASK_REGRESS && k != 0) ||
        (s->task == NB_TASK_MULTILABEL && k < 1))
        return nb__fail(NB_ERR_FORMAT, "%s: classes: %d names do not fit task %s", what, k,
                        nb_task_name(s->task));
    int rc = check_names(s->class_names, (size_t)k, what, "classes");
    if (rc) return rc;
    if (s->source == NB__SRC_CSV) return check_csv(s, what);
    if (s->source != NB__SRC_IDX) return nb__fail(NB_ERR_FORMAT, "%s: source: unknown", what);
    if (!idx_type_ok(s->idx_type))
        return nb__fail(NB_ERR_FORMAT, "%s: idx.type: 0x%02X is not an IDX element type", what,
                        (unsigned)s->idx_type);
    if (s->task != NB_TASK_CLASSIFY || s->n_columns || s->sample_rank != 3)
        return nb__fail(NB_ERR_FORMAT, "%s: IDX data is classified images of shape [c, h, w]",
                        what);
    return NB_OK;
}

int nb__schema_targets(const nb__schema *s)
{
    return s->source == NB__SRC_CSV ? (int)s->n_labels : s->source == NB__SRC_IDX ? 1 : 0;
}

void nb__schema_layout(nb__schema *s)
{
    int64_t feature = 0;
    for (size_t c = 0; c < s->n_columns; c++) {
        nb__column *col = &s->columns[c];
        if (col->kind == NB__COL_LABEL) continue;
        col->feature = feature;
        feature += col->kind == NB__COL_CATEGORICAL ? (int64_t)col->n_vocab
                   : col->kind == NB__COL_TEXT     ? col->max_len
                                                   : 1;
    }
    s->n_features = feature;
    s->sample_rank = 1;
    s->sample_shape[0] = feature;
    s->sample_shape[1] = s->sample_shape[2] = 0;
}
