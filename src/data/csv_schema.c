/* SPDX-License-Identifier: MIT */
/*
 * csv_schema.c - learns a CSV schema from training data: whether row 1 is a header, which
 * columns are labels, which features are numeric or categorical (decided by the column's
 * first data cell), each categorical vocabulary and the classes.
 * This pass is strict about structure (ragged rows, caps) but lenient about values: a cell
 * it cannot use is skipped, because the filling pass (csv_load.c) reports every bad value in
 * file order with its line and column, from one place.
 */
#include "data_internal.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* How many rows text_header reads: enough for every class of a label column to recur. */
#define HEADER_SCAN_ROWS 100000

static char *dup_cell(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = nb__alloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* Rows 1 and 2 hold text in every column (a file of words and their labels), so numbers
 * cannot tell a header. Row 1 is one when, in some column, its value never recurs in the
 * first HEADER_SCAN_ROWS rows while row 2's value does: a label column's name is not one of
 * its classes, and a class recurs. A first row whose label is a class seen once reads as a
 * header (--header no says otherwise; docs/DATA.md). r is after row 2. */
static int text_header(nb__csv *r, size_t n, char *const *row1, bool *has_header)
{
    char **row2 = nb__alloc(n * sizeof *row2);
    unsigned char *seen = nb__alloc(2 * n);
    int rc = row2 && seen ? NB_OK : NB_ERR_NOMEM;
    if (row2) memset(row2, 0, n * sizeof *row2);
    if (seen) memset(seen, 0, 2 * n);
    for (size_t j = 0; rc == NB_OK && j < n; j++)
        if (!(row2[j] = dup_cell(r->cells[j].s))) rc = NB_ERR_NOMEM;
    bool got = true;
    for (int64_t i = 2; rc == NB_OK && got && i < HEADER_SCAN_ROWS; i++) {
        if ((rc = nb__csv_next(r, &got)) || !got) break;
        for (size_t j = 0; j < n && j < r->n_cells; j++) {
            if (!strcmp(r->cells[j].s, row1[j])) seen[j] = 1;
            if (!strcmp(r->cells[j].s, row2[j])) seen[n + j] = 1;
        }
    }
    for (size_t j = 0; rc == NB_OK && j < n; j++)
        if (!seen[j] && seen[n + j] && strcmp(row1[j], row2[j])) *has_header = true;
    for (size_t j = 0; row2 && j < n; j++) nb_free(row2[j]);
    nb_free(row2);
    nb_free(seen);
    return rc;
}

int nb__csv_detect_header(nb__csv *r, int header_opt, bool *has_header)
{
    bool got;
    nb__csv_rewind(r);
    int rc = nb__csv_next(r, &got);
    if (rc) return rc;
    if (!got) return nb__fail(NB_ERR_FORMAT, "%s: empty file", r->path);
    if (header_opt >= 0) {
        *has_header = header_opt != 0;
        nb__csv_rewind(r);
        return NB_OK;
    }
    /* auto: a header has a non-numeric cell where the second row has a number */
    size_t n1 = r->n_cells;
    unsigned char *text = nb__alloc(n1);
    if (!text) return NB_ERR_NOMEM;
    bool any_text = false;
    for (size_t j = 0; j < n1; j++) {
        double v;
        text[j] = nb__parse_number(r->cells[j].s, &v) == 0;
        any_text = any_text || text[j];
    }
    /* row 1's cells, kept for text_header */
    char **row1 = nb__alloc(n1 * sizeof *row1);
    if (row1) memset(row1, 0, n1 * sizeof *row1);
    for (size_t j = 0; row1 && j < n1; j++)
        if (!(row1[j] = dup_cell(r->cells[j].s))) rc = NB_ERR_NOMEM;
    if (!row1 || rc) {
        for (size_t j = 0; row1 && j < n1; j++) nb_free(row1[j]);
        nb_free(row1);
        nb_free(text);
        return NB_ERR_NOMEM;
    }
    rc = nb__csv_next(r, &got);
    if (rc == NB_OK) {
        if (!got) {
            *has_header = any_text; /* a lone row of names is a header without data */
        } else {
            *has_header = false;
            bool all_text = r->n_cells == n1;
            for (size_t j = 0; j < n1 && j < r->n_cells; j++) {
                double v;
                int num2 = nb__parse_number(r->cells[j].s, &v) == 1;
                if (text[j] && num2) *has_header = true;
                all_text = all_text && text[j] && !num2;
            }
            if (all_text) rc = text_header(r, n1, row1, has_header);
        }
    }
    for (size_t j = 0; j < n1; j++) nb_free(row1[j]);
    nb_free(row1);
    nb_free(text);
    nb__csv_rewind(r);
    return rc;
}

/* Schema strings go into JSON, which must be UTF-8. */
static int need_utf8(const nb__csv *r, const nb__schema *s, size_t c, const char *text)
{
    char buf[160];
    if (nb__utf8_valid(text)) return NB_OK;
    return nb__fail(NB_ERR_FORMAT, "%s:%zu: column %zu%s: \"%.60s\" is not valid UTF-8 (save the "
                    "file as UTF-8)", r->path, r->row_line, c, nb__col_label(s, c, buf, sizeof buf),
                    text);
}

/* Resolve one item of the label option to a column index. */
static int resolve_label(const char *item, const nb__schema *s, size_t ncols, size_t *out)
{
    for (size_t c = 0; s->has_header && c < ncols; c++)
        if (strcmp(s->columns[c].name, item) == 0) {
            *out = c;
            return NB_OK;
        }
    char *end;
    long long v = strtoll(item, &end, 10);
    if (end != item && *end == '\0' && v >= -(long long)ncols && v < (long long)ncols) {
        *out = (size_t)(v < 0 ? v + (long long)ncols : v);
        return NB_OK;
    }
    return nb__fail(NB_ERR_ARG, "label column \"%s\": %s and not an index in -%zu..%zu", item,
                    s->has_header ? "no column has that name" : "the file has no header", ncols,
                    ncols - 1);
}

static int choose_labels(const nb_data_opts *o, size_t ncols, nb__schema *s)
{
    char **items = NULL;
    size_t n = 0;
    int rc = NB_OK;
    if (o->label) {
        if ((rc = nb__strv_split(o->label, "label", &items, &n))) return rc;
    }
    size_t count = o->label ? n : 1;
    bool one = s->task == NB_TASK_CLASSIFY || s->task == NB_TASK_BINARY;
    if (one && count != 1) {
        rc = nb__fail(NB_ERR_ARG, "label \"%s\": task %s takes one label column, got %zu",
                      o->label, nb_task_name(s->task), count);
    } else if (count >= ncols) {
        rc = nb__fail(NB_ERR_ARG, "label \"%s\": %zu label columns leave no feature column in a "
                      "file of %zu columns", o->label ? o->label : "", count, ncols);
    } else if (!(s->label_cols = nb__alloc_array(count, sizeof *s->label_cols))) {
        rc = NB_ERR_NOMEM;
    }
    for (size_t i = 0; rc == NB_OK && i < count; i++) {
        size_t c = ncols - 1;
        if (o->label && (rc = resolve_label(items[i], s, ncols, &c))) break;
        if (s->columns[c].kind == NB__COL_LABEL) {
            rc = nb__fail(NB_ERR_ARG, "label \"%s\": column %zu is named twice", o->label, c);
            break;
        }
        s->columns[c].kind = NB__COL_LABEL;
        s->label_cols[i] = c;
        s->n_labels = i + 1;
    }
    nb__strv_free(items, n);
    return rc;
}

static int read_header(nb__csv *r, nb__schema *s)
{
    nb__strset seen = {0};
    int rc = NB_OK;
    for (size_t c = 0; c < s->n_columns && rc == NB_OK; c++) {
        const nb__csv_cell *cell = &r->cells[c];
        if (cell->len == 0) {
            rc = nb__fail(NB_ERR_FORMAT, "%s:%zu: column %zu: empty column name", r->path,
                          r->row_line, c);
            break;
        }
        size_t idx;
        if ((rc = need_utf8(r, s, c, cell->s))) break;
        if ((rc = nb__strset_add(&seen, cell->s, &idx))) break;
        if (idx != c)
            rc = nb__fail(NB_ERR_FORMAT, "%s:%zu: column %zu: name \"%.60s\" is also the name of "
                          "column %zu", r->path, r->row_line, c, cell->s, idx);
        else if (!(s->columns[c].name = nb__strdup(cell->s)))
            rc = NB_ERR_NOMEM;
    }
    nb__strset_free(&seen);
    return rc;
}

/* Class names once the labels are known. */
static int make_classes(const nb_data_opts *o, nb__csv *r, nb__strset *labels, int64_t max_index,
                        nb__schema *s)
{
    char buf[160];
    size_t lc = s->label_cols[0], n = 0;
    const char *lname = nb__col_label(s, lc, buf, sizeof buf);
    if (o->class_names && s->label_enc == NB__LABEL_NAME)
        return nb__fail(NB_ERR_ARG, "class names were given, but the labels of column %zu%s are "
                        "text: they name the classes themselves", lc, lname);
    if (s->task == NB_TASK_MULTILABEL) {
        s->class_names = nb__calloc(s->n_labels, sizeof(char *));
        if (!s->class_names) return NB_ERR_NOMEM;
        s->n_classes = (int)s->n_labels;
        for (size_t i = 0; i < s->n_labels; i++) {
            const char *name = s->columns[s->label_cols[i]].name;
            char idx[32];
            snprintf(idx, sizeof idx, "%zu", s->label_cols[i]);
            if (!(s->class_names[i] = nb__strdup(name ? name : idx))) return NB_ERR_NOMEM;
        }
        return NB_OK;
    }
    if (s->task == NB_TASK_REGRESS) return NB_OK;
    if (s->label_enc == NB__LABEL_NAME) {
        if (s->task == NB_TASK_BINARY && labels->n != 2)
            return nb__fail(NB_ERR_FORMAT, "%s: column %zu%s: a binary task needs two distinct "
                            "labels, found %zu", r->path, lc, lname, labels->n);
        int rc = nb__strset_sort(labels);
        if (rc) return rc;
        s->class_names = nb__strset_take(labels, &n);
        s->n_classes = (int)n;
        return NB_OK;
    }
    size_t k = s->task == NB_TASK_BINARY ? 2 : (size_t)(max_index + 1);
    if (!o->class_names) {
        s->n_classes = (int)k;
        return nb__strv_indices(k, &s->class_names);
    }
    char **names;
    int rc = nb__strv_split(o->class_names, "class names", &names, &n);
    if (rc) return rc;
    if (n > NB__MAX_CLASSES) {
        nb__strv_free(names, n);
        return nb__fail(NB_ERR_ARG, "class names: more than %d", NB__MAX_CLASSES);
    }
    s->class_names = names;
    s->n_classes = (int)n;
    if (n < k || (s->task == NB_TASK_BINARY && n != 2))
        return nb__fail(NB_ERR_ARG, "%zu class names given, but the labels of column %zu%s need "
                        "%s%zu", n, lc, lname, s->task == NB_TASK_BINARY ? "" : "at least ", k);
    return nb__strv_distinct(names, n, "class names");
}

/* Whether s is a number written with one decimal comma ("1,5"): read as a word it would make
 * its column categorical, so a file from a decimal-comma locale is refused instead. */
static bool decimal_comma(const char *s)
{
    const char *comma = strchr(s, ',');
    if (!comma || strchr(comma + 1, ',')) return false;
    char buf[64];
    size_t n = strlen(s);
    if (n >= sizeof buf) return false;
    memcpy(buf, s, n + 1);
    buf[comma - s] = '.';
    double v;
    return nb__parse_number(buf, &v) == 1;
}

/* Pass over the data rows: kinds from the first row, vocabularies, label values. */
/* What the numbers of a classify label column look like, to tell class indices from
 * measurements (issue 13 item 17). */
typedef struct label_stats {
    nb__strset values; /* distinct numbers, as "%.9g" (capped: only the count matters) */
    size_t n_frac;     /* of which have a fractional part */
    double frac_example;
} label_stats;

static int note_label_number(label_stats *st, double v)
{
    if (st->values.n > NB__MAX_CLASSES) return NB_OK;
    char key[40];
    snprintf(key, sizeof key, "%.9g", v);
    size_t before = st->values.n;
    int rc = nb__strset_add(&st->values, key, NULL);
    if (rc == NB_OK && st->values.n > before && v != floor(v) && st->n_frac++ == 0)
        st->frac_example = v;
    return rc;
}

static int scan_rows(nb__csv *r, nb__strset *vocab, nb__strset *labels, int64_t *max_index,
                     label_stats *st, unsigned char *decided, bool text, nb__schema *s,
                     int64_t *count)
{
    int64_t n_rows = 0;
    bool got;
    char buf[160];
    int rc;
    while ((rc = nb__csv_next(r, &got)) == NB_OK && got) {
        if (r->n_cells != s->n_columns)
            return nb__fail(NB_ERR_FORMAT, "%s:%zu: expected %zu columns, got %zu", r->path,
                            r->row_line, s->n_columns, r->n_cells);
        for (size_t c = 0; c < s->n_columns; c++) {
            nb__column *col = &s->columns[c];
            const nb__csv_cell *cell = &r->cells[c];
            double v = 0;
            bool label = col->kind == NB__COL_LABEL && c == s->label_cols[0];
            /* numbers matter only until a column's kind is decided, and in the label column */
            int num = !decided[c] || label ? nb__parse_number(cell->s, &v) : 1;
            if (!decided[c] && col->kind == NB__COL_NUMERIC && nb__is_missing(cell->s)) {
                /* a missing value decides nothing: the column's first other cell does (so one
                 * NA in row 1 no longer makes a numeric column categorical); kept as a
                 * category in case every cell is a missing token */
                if (cell->len > 0 && (rc = nb__strset_add(&vocab[c], cell->s, NULL))) return rc;
                continue;
            }
            if (!decided[c] && col->kind == NB__COL_NUMERIC) {
                decided[c] = 1;
                if (num != 0) nb__strset_free(&vocab[c]); /* numeric: forget the tokens */
            }
            if (decided[c] == 1 && col->kind == NB__COL_NUMERIC && num == 0) {
                decided[c] = 2;
                if (r->delim != ',' && decimal_comma(cell->s))
                    return nb__fail(NB_ERR_FORMAT, "%s:%zu: column %zu%s: \"%.60s\" has a "
                                    "decimal comma; numbers need a decimal point (convert the "
                                    "file, e.g. sed 's/,/./g' on a ';'-separated one)", r->path,
                                    r->row_line, c, nb__col_label(s, c, buf, sizeof buf),
                                    cell->s);
                col->kind = NB__COL_CATEGORICAL;
            }
            /* text to tokenize: its vocabulary is learned by nb__text_learn, not here */
            if (col->kind == NB__COL_CATEGORICAL && cell->len > 0 && !text) {
                size_t before = vocab[c].n;
                if ((rc = nb__strset_add(&vocab[c], cell->s, NULL))) return rc;
                if (vocab[c].n > before && (rc = need_utf8(r, s, c, cell->s))) return rc;
                if (vocab[c].n > NB__MAX_CATEGORIES)
                    return nb__fail(NB_ERR_FORMAT, "%s:%zu: column %zu%s: more than %d distinct "
                                    "values, too many to one-hot encode (an identifier? drop "
                                    "the column)", r->path, r->row_line, c,
                                    nb__col_label(s, c, buf, sizeof buf), NB__MAX_CATEGORIES);
            }
            if (!label) continue;
            if (n_rows == 0 && s->task != NB_TASK_MULTILABEL && s->task != NB_TASK_REGRESS)
                s->label_enc = num == 1 ? (s->task == NB_TASK_BINARY ? NB__LABEL_VALUE
                                                                     : NB__LABEL_INDEX)
                                        : NB__LABEL_NAME;
            if (s->label_enc == NB__LABEL_INDEX && num == 1 && v >= 0 && v < NB__MAX_CLASSES &&
                v == floor(v) && (int64_t)v > *max_index)
                *max_index = (int64_t)v;
            if (s->label_enc == NB__LABEL_INDEX && num == 1 && (rc = note_label_number(st, v)))
                return rc;
            if (s->label_enc == NB__LABEL_NAME && cell->len > 0) {
                size_t before = labels->n;
                if ((rc = nb__strset_add(labels, cell->s, NULL))) return rc;
                if (labels->n > before && (rc = need_utf8(r, s, c, cell->s))) return rc;
                if (labels->n > before && s->task == NB_TASK_BINARY && labels->n > 2)
                    return nb__fail(NB_ERR_FORMAT, "%s:%zu: column %zu%s: a third distinct label "
                                    "\"%.60s\" in a binary task (the others are \"%.60s\" and "
                                    "\"%.60s\")", r->path, r->row_line, c,
                                    nb__col_label(s, c, buf, sizeof buf), cell->s,
                                    labels->items[0], labels->items[1]);
                if (labels->n > NB__MAX_CLASSES)
                    return nb__fail(NB_ERR_FORMAT, "%s:%zu: column %zu%s: more than %d distinct "
                                    "labels", r->path, r->row_line, c,
                                    nb__col_label(s, c, buf, sizeof buf), NB__MAX_CLASSES);
            }
        }
        n_rows++;
    }
    if (rc) return rc;
    if (n_rows == 0) return nb__fail(NB_ERR_FORMAT, "%s: no data rows", r->path);
    *count = n_rows;
    return NB_OK;
}

/* A classify label column of numbers must hold class indices. Refused, with --task regress
 * suggested: any number with a fractional part (measurements, not classes), and integers so
 * varied that classes hardly repeat - more than 50 distinct values that are more than half
 * the rows (e.g. ages or prices in whole units). Integer labels 0..K-1 that repeat pass. */
static int check_class_numbers(const nb__csv *r, const nb__schema *s, const label_stats *st,
                               int64_t n_rows)
{
    char buf[160];
    size_t lc = s->label_cols[0];
    const char *lname = nb__col_label(s, lc, buf, sizeof buf);
    if (st->n_frac > 0)
        return nb__fail(NB_ERR_ARG, "%s: the label column %zu%s holds %s%zu distinct non-integer "
                        "number%s such as %g: a classify task needs class labels; for numbers "
                        "use nb_data_opts.task regress (or another nb_data_opts.label)", r->path, lc,
                        lname, st->values.n > NB__MAX_CLASSES ? "over " : "", st->n_frac,
                        st->n_frac > 1 ? "s" : "", st->frac_example);
    size_t n = st->values.n;
    if (n > 50 && (int64_t)n * 2 > n_rows)
        return nb__fail(NB_ERR_ARG, "%s: the label column %zu%s holds %s%zu distinct integers in "
                        "%lld rows, too varied for class labels: for numbers use "
                        "nb_data_opts.task regress (or another nb_data_opts.label)", r->path, lc, lname,
                        n > NB__MAX_CLASSES ? "over " : "", n, (long long)n_rows);
    return NB_OK;
}

/* nb_data_opts.tokens: the one non-label column of text becomes a token sequence. Recurrent
 * layers take the sequence alone, so numeric (or further text) feature columns are refused
 * rather than dropped silently. */
static int choose_text(nb__csv *r, bool has_header, const nb_data_opts *o, nb__schema *s)
{
    char b1[160], b2[160];
    size_t text = SIZE_MAX, numeric = SIZE_MAX;
    for (size_t c = 0; c < s->n_columns; c++) {
        int kind = s->columns[c].kind;
        if (kind == NB__COL_NUMERIC && numeric == SIZE_MAX) numeric = c;
        if (kind != NB__COL_CATEGORICAL) continue;
        if (text != SIZE_MAX)
            return nb__fail(NB_ERR_FORMAT, "%s: columns %zu%s and %zu%s both hold text, but tokens "
                            "are read from one text column (join them into one, or drop one)",
                            r->path, text, nb__col_label(s, text, b1, sizeof b1), c,
                            nb__col_label(s, c, b2, sizeof b2));
        text = c;
    }
    if (text == SIZE_MAX)
        return nb__fail(NB_ERR_FORMAT, "%s: no feature column holds text (every one is numeric), "
                        "so there is nothing to split into %s (leave out the tokens option)",
                        r->path, nb__tokens_name(o->tokens));
    if (numeric != SIZE_MAX)
        return nb__fail(NB_ERR_FORMAT, "%s: column %zu%s holds text and column %zu%s numbers: "
                        "mixing a text column with numeric feature columns is not supported "
                        "(recurrent layers take the token sequence alone): drop the numeric "
                        "columns, or leave out the tokens option to one-hot the text", r->path,
                        text, nb__col_label(s, text, b1, sizeof b1), numeric,
                        nb__col_label(s, numeric, b2, sizeof b2));
    nb__column *col = &s->columns[text];
    col->kind = NB__COL_TEXT;
    col->tokens = (int)o->tokens;
    return nb__text_learn(r, has_header, o, s, text);
}

static int learn(nb__csv *r, bool has_header, const nb_data_opts *o, nb__schema *s,
                 nb__strset *vocab, nb__strset *labels, int64_t *n_rows)
{
    for (size_t c = 0; c < s->n_columns; c++) s->columns[c].kind = NB__COL_NUMERIC;
    int rc;
    if (has_header && (rc = read_header(r, s))) return rc;
    if ((rc = choose_labels(o, s->n_columns, s))) /* name the file: the option may be fine */
        return rc == NB_ERR_NOMEM ? rc : nb__fail_prefix(rc, "%s", r->path);
    if (!has_header) nb__csv_rewind(r);
    int64_t max_index = -1;
    label_stats st;
    memset(&st, 0, sizeof st);
    /* per column: 0 undecided (only missing tokens so far), 1 numeric, 2 categorical */
    unsigned char *decided = nb__calloc(s->n_columns, 1);
    bool text = o->tokens != NB_TOKENS_NONE;
    rc = decided ? scan_rows(r, vocab, labels, &max_index, &st, decided, text, s, n_rows)
                 : NB_ERR_NOMEM;
    for (size_t c = 0; rc == NB_OK && c < s->n_columns; c++) {
        if (s->columns[c].kind != NB__COL_NUMERIC || decided[c]) continue;
        if (o->missing != NB_MISSING_ERROR) { /* asked to handle missing values: a column of
                                               * nothing else has no mean, and drop empties */
            char buf[160];
            rc = nb__fail(NB_ERR_FORMAT, "%s: column %zu%s: every value is missing, so there is "
                          "nothing to %s (drop the column)", r->path, c,
                          nb__col_label(s, c, buf, sizeof buf),
                          o->missing == NB_MISSING_MEAN ? "take a mean of" : "keep");
        } else if (vocab[c].n > 0) {
            s->columns[c].kind = NB__COL_CATEGORICAL; /* only missing tokens: words, as before */
        }
    }
    nb_free(decided);
    if (rc == NB_OK && s->label_enc == NB__LABEL_INDEX) rc = check_class_numbers(r, s, &st, *n_rows);
    nb__strset_free(&st.values);
    if (rc == NB_OK && text) rc = choose_text(r, has_header, o, s);
    if (rc) return rc;
    for (size_t c = 0; c < s->n_columns; c++) {
        if (s->columns[c].kind != NB__COL_CATEGORICAL) continue;
        if (vocab[c].n == 0) { /* every cell empty: the filling pass names the first one */
            s->columns[c].kind = NB__COL_NUMERIC;
            continue;
        }
        if ((rc = nb__strset_sort(&vocab[c]))) return rc;
        s->columns[c].vocab = nb__strset_take(&vocab[c], &s->columns[c].n_vocab);
    }
    if ((rc = make_classes(o, r, labels, max_index, s))) return rc;
    nb__schema_layout(s);
    return nb__schema_check(s, r->path);
}

int nb__csv_learn(nb__csv *r, bool has_header, const nb_data_opts *o, nb__schema *s,
                  int64_t *n_rows)
{
    memset(s, 0, sizeof *s);
    bool got;
    nb__csv_rewind(r);
    int rc = nb__csv_next(r, &got); /* detect_header has seen that a first row exists */
    if (rc) return rc;
    s->source = NB__SRC_CSV;
    s->task = o->task;
    s->has_header = has_header;
    s->n_columns = r->n_cells;
    s->label_enc = NB__LABEL_VALUE;
    s->columns = nb__calloc(s->n_columns, sizeof *s->columns);
    nb__strset *vocab = nb__calloc(s->n_columns, sizeof *vocab);
    nb__strset labels = {0};
    rc = s->columns && vocab ? learn(r, has_header, o, s, vocab, &labels, n_rows) : NB_ERR_NOMEM;
    for (size_t c = 0; vocab && c < s->n_columns; c++) nb__strset_free(&vocab[c]);
    nb_free(vocab);
    nb__strset_free(&labels);
    if (rc) nb__schema_clear(s);
    return rc;
}
