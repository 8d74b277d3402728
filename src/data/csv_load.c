/* SPDX-License-Identifier: MIT */
/*
 * csv_load.c - fills a dataset from CSV text under a schema (learned from this file or
 * given by a model): maps the file's columns onto the schema's, then converts every cell.
 * All value errors come from here, in file order, each naming file, line and column
 * ("train.csv:17: column 3 ("age"): expected a number, got "abc"").
 * Invariant: a file either carries all the schema's label columns (y filled) or none of
 * them (prediction data, y NULL); extra, missing or repeated feature columns are errors.
 */
#include "data_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define NB__UNMAPPED ((size_t)-1)

typedef struct fill_ctx {
    nb__csv *r;
    const nb__schema *s;
    size_t ncols;      /* columns in the file */
    size_t *map;       /* file column -> schema column */
    size_t *label_pos; /* schema column -> position in y (labels only) */
    nb__strset *vocab; /* per schema column (categorical only) */
    nb__strset classes;
    bool labeled;
    int missing;         /* effective nb_missing mode */
    nb__schema *learn;   /* learning with MEAN: receives the means (else NULL) */
    double *sum;         /* learning with MEAN: per schema column, present values */
    int64_t *count;
} fill_ctx;

/* Match header names against the schema's names. */
static int map_by_name(fill_ctx *f)
{
    nb__csv *r = f->r;
    const nb__schema *s = f->s;
    nb__strset names = {0};
    int rc = NB_OK;
    for (size_t c = 0; rc == NB_OK && c < s->n_columns; c++)
        rc = nb__strset_add(&names, s->columns[c].name, NULL); /* position == column */
    bool *seen = rc ? NULL : nb__calloc(s->n_columns, sizeof *seen);
    if (!rc && !seen) rc = NB_ERR_NOMEM;
    size_t n_label = 0;
    for (size_t j = 0; rc == NB_OK && j < f->ncols; j++) {
        int64_t c = nb__strset_find(&names, r->cells[j].s);
        if (c < 0)
            rc = nb__fail(NB_ERR_FORMAT, "%s:%zu: column %zu (\"%.60s\"): no such column in the "
                          "training data", r->path, r->row_line, j, r->cells[j].s);
        else if (seen[c])
            rc = nb__fail(NB_ERR_FORMAT, "%s:%zu: column %zu (\"%.60s\"): the name appears twice",
                          r->path, r->row_line, j, r->cells[j].s);
        else {
            seen[c] = true;
            f->map[j] = (size_t)c;
            n_label += s->columns[c].kind == NB__COL_LABEL;
        }
    }
    for (size_t c = 0; rc == NB_OK && c < s->n_columns; c++) {
        bool label = s->columns[c].kind == NB__COL_LABEL;
        if (!seen[c] && (!label || n_label > 0))
            rc = nb__fail(NB_ERR_FORMAT, "%s:%zu: missing %scolumn \"%s\" (the training data has "
                          "it)", r->path, r->row_line, label ? "label " : "", s->columns[c].name);
    }
    f->labeled = n_label > 0;
    nb_free(seen);
    nb__strset_free(&names);
    return rc;
}

/* By position: all the schema's columns, or all but the label columns. */
static int map_by_position(fill_ctx *f)
{
    const nb__schema *s = f->s;
    size_t n_feat_cols = s->n_columns - s->n_labels;
    if (f->ncols != s->n_columns && f->ncols != n_feat_cols)
        return nb__fail(NB_ERR_FORMAT, "%s:%zu: expected %zu columns (or %zu without the label "
                        "column%s), got %zu", f->r->path, f->r->row_line, s->n_columns,
                        n_feat_cols, s->n_labels > 1 ? "s" : "", f->ncols);
    f->labeled = f->ncols == s->n_columns;
    size_t j = 0;
    for (size_t c = 0; c < s->n_columns; c++)
        if (f->labeled || s->columns[c].kind != NB__COL_LABEL) f->map[j++] = c;
    return NB_OK;
}

static int cell_error(fill_ctx *f, size_t j, const char *what)
{
    char buf[160];
    const nb__csv_cell *cell = &f->r->cells[j];
    if (cell->len == 0)
        return nb__fail(NB_ERR_FORMAT, "%s:%zu: column %zu%s: empty cell", f->r->path,
                        f->r->row_line, j, nb__col_label(f->s, f->map[j], buf, sizeof buf));
    return nb__fail(NB_ERR_FORMAT, "%s:%zu: column %zu%s: %s, got \"%.60s%s\"", f->r->path,
                    f->r->row_line, j, nb__col_label(f->s, f->map[j], buf, sizeof buf), what,
                    cell->s, cell->len > 60 ? "..." : "");
}

/* A missing-value token in a numeric column: named as such, never read as data. */
static int missing_error(fill_ctx *f, size_t j)
{
    char buf[160];
    const nb__csv_cell *cell = &f->r->cells[j];
    return nb__fail(NB_ERR_FORMAT, "%s:%zu: column %zu%s: %s%.20s%s, a missing value in a numeric "
                    "column (fill or drop such rows, or set nb_data_opts.missing to mean or drop)", f->r->path, f->r->row_line,
                    j, nb__col_label(f->s, f->map[j], buf, sizeof buf),
                    cell->len ? "\"" : "empty cell", cell->s, cell->len ? "\"" : "");
}

static int fill_label(fill_ctx *f, size_t j, float *y)
{
    const nb__schema *s = f->s;
    const char *text = f->r->cells[j].s;
    double v = 0;
    int num = nb__parse_number(text, &v);
    if (s->label_enc == NB__LABEL_NAME) {
        int64_t k = f->r->cells[j].len ? nb__strset_find(&f->classes, text) : -1;
        if (k < 0) return cell_error(f, j, "a class not in the training data");
        *y = (float)k;
    } else if (s->label_enc == NB__LABEL_INDEX) {
        if (num != 1 || v < 0 || v != floor(v) || v >= s->n_classes) {
            char what[64] = "expected a class index (an integer >= 0)";
            if (s->n_classes > 0)
                snprintf(what, sizeof what, "expected a class index 0..%d", s->n_classes - 1);
            return cell_error(f, j, what);
        }
        *y = (float)v;
    } else if (s->task == NB_TASK_REGRESS) {
        if (num != 1)
            return cell_error(f, j, num < 0 ? "expected a finite number" : "expected a number");
        *y = (float)v;
    } else {
        if (num != 1 || (v != 0 && v != 1)) return cell_error(f, j, "expected 0 or 1");
        *y = (float)v;
    }
    return NB_OK;
}

static int fill_row(fill_ctx *f, float *x, float *y)
{
    const nb__schema *s = f->s;
    for (size_t j = 0; j < f->ncols; j++) {
        size_t c = f->map[j];
        const nb__column *col = &s->columns[c];
        const nb__csv_cell *cell = &f->r->cells[j];
        if (col->kind == NB__COL_LABEL) {
            int rc = fill_label(f, j, &y[f->label_pos[c]]);
            if (rc) return rc;
        } else if (col->kind == NB__COL_TEXT) {
            char buf[160];
            int rc = nb__text_fill(f->r, j, nb__col_label(s, c, buf, sizeof buf), col,
                                   &f->vocab[c], cell->s, x + col->feature);
            if (rc) return rc;
        } else if (col->kind == NB__COL_CATEGORICAL) {
            int64_t k = cell->len ? nb__strset_find(&f->vocab[c], cell->s) : -1;
            if (k < 0) return cell_error(f, j, "a category not in the training data");
            x[col->feature + k] = 1.0f;
        } else {
            double v;
            if (nb__is_missing(cell->s)) {
                if (f->missing != NB_MISSING_MEAN) return missing_error(f, j);
                /* learning: a NaN marks the cell until the column's mean is known */
                x[col->feature] = f->learn ? NAN : col->mean;
                continue;
            }
            int num = nb__parse_number(cell->s, &v);
            if (num != 1)
                return cell_error(f, j, num < 0 ? "expected a finite number" : "expected a number");
            x[col->feature] = (float)v;
            if (f->sum) {
                f->sum[c] += v;
                f->count[c]++;
            }
        }
    }
    return NB_OK;
}

/* Whether the current row has a missing value in a numeric feature column (DROP). */
static bool row_missing(const fill_ctx *f)
{
    for (size_t j = 0; j < f->ncols; j++)
        if (f->s->columns[f->map[j]].kind == NB__COL_NUMERIC && nb__is_missing(f->r->cells[j].s))
            return true;
    return false;
}

/* Learning with MEAN: each numeric column's mean over its present values into the schema,
 * then into the cells marked NaN. */
static int fill_means(fill_ctx *f, nb_dataset *ds)
{
    nb__schema *s = f->learn;
    char buf[160];
    for (size_t c = 0; c < s->n_columns; c++) {
        nb__column *col = &s->columns[c];
        if (col->kind != NB__COL_NUMERIC) continue;
        if (f->count[c] == 0) /* learning refuses such columns; kept as a guard */
            return nb__fail(NB_ERR_FORMAT, "%s: column %zu%s: every value is missing, so there is "
                            "no mean to fill with (drop the column)", f->r->path, c,
                            nb__col_label(s, c, buf, sizeof buf));
        col->mean = (float)(f->sum[c] / (double)f->count[c]);
        for (int64_t i = 0; i < ds->n; i++) {
            float *x = &ds->x[i * ds->n_features + col->feature];
            if (isnan(*x)) *x = col->mean;
        }
    }
    return NB_OK;
}

static int fill(fill_ctx *f, bool has_header, int64_t n, int64_t *dropped, nb_dataset **out)
{
    nb__csv *r = f->r;
    const nb__schema *s = f->s;
    bool got;
    int rc;
    if (has_header) {
        if ((rc = nb__csv_next(r, &got))) return rc;
        f->ncols = r->n_cells;
        if (!(f->map = nb__alloc_array(f->ncols, sizeof *f->map))) return NB_ERR_NOMEM;
        rc = s->has_header ? map_by_name(f) : map_by_position(f);
    } else {
        if ((rc = nb__csv_next(r, &got))) return rc;
        f->ncols = r->n_cells;
        if (!(f->map = nb__alloc_array(f->ncols, sizeof *f->map))) return NB_ERR_NOMEM;
        rc = map_by_position(f);
        nb__csv_rewind(r);
    }
    if (rc) return rc;
    if (n == 0) { /* count the rows, rejecting ragged ones before anything is allocated */
        while ((rc = nb__csv_next(r, &got)) == NB_OK && got) {
            if (r->n_cells != f->ncols)
                return nb__fail(NB_ERR_FORMAT, "%s:%zu: expected %zu columns, got %zu", r->path,
                                r->row_line, f->ncols, r->n_cells);
            n++;
        }
        if (rc) return rc;
        if (n == 0) return nb__fail(NB_ERR_FORMAT, "%s: no data rows", r->path);
    }
    nb_dataset *ds;
    if ((rc = nb__dataset_from_schema(s, n, f->labeled, false, &ds))) return rc;
    nb__csv_rewind(r);
    if (has_header && (rc = nb__csv_next(r, &got))) goto fail;
    int64_t kept = 0;
    for (int64_t i = 0; i < n; i++) {
        if ((rc = nb__csv_next(r, &got))) goto fail;
        if (!got || r->n_cells != f->ncols) { /* cannot happen: the rows were counted */
            rc = nb__fail(NB_ERR_STATE, "%s: the file changed while it was read", r->path);
            goto fail;
        }
        if (f->missing == NB_MISSING_DROP && row_missing(f)) continue;
        float *y = f->labeled ? ds->y + kept * ds->n_targets : NULL;
        if ((rc = fill_row(f, ds->x + kept * ds->n_features, y))) goto fail;
        kept++;
    }
    if (kept == 0) {
        rc = nb__fail(NB_ERR_FORMAT, "%s: every one of the %lld data rows has a missing value, so "
                      "dropping them leaves none (fill them, or use the mean instead of drop)",
                      r->path, (long long)n);
        goto fail;
    }
    ds->n = kept; /* the arrays keep their size, as after nb_dataset_truncate */
    *dropped = n - kept;
    if (f->learn && (rc = fill_means(f, ds))) goto fail;
    *out = ds;
    return NB_OK;
fail:
    nb_dataset_free(ds);
    return rc;
}

int nb__csv_detect_header_schema(nb__csv *r, const nb__schema *s, bool *has_header)
{
    bool got;
    nb__csv_rewind(r);
    int rc = nb__csv_next(r, &got);
    if (rc) return rc;
    if (!got) return nb__fail(NB_ERR_FORMAT, "%s: empty file", r->path);
    *has_header = false;
    if (s->has_header) {
        /* a header here holds a non-numeric cell that is one of the training data's column
         * names (one is enough, so a misspelt name is reported as such, not as data) */
        nb__strset names = {0};
        for (size_t c = 0; rc == NB_OK && c < s->n_columns; c++)
            rc = nb__strset_add(&names, s->columns[c].name, NULL);
        for (size_t j = 0; rc == NB_OK && j < r->n_cells; j++) {
            double v;
            if (nb__strset_find(&names, r->cells[j].s) >= 0 &&
                nb__parse_number(r->cells[j].s, &v) != 1)
                *has_header = true;
        }
        nb__strset_free(&names);
    }
    nb__csv_rewind(r);
    return rc;
}

int nb__csv_fill(nb__csv *r, bool has_header, const nb__schema *s, int64_t known_rows,
                 int missing, nb__schema *learn_means, int64_t *dropped, nb_dataset **out)
{
    fill_ctx f;
    memset(&f, 0, sizeof f);
    f.r = r;
    f.s = s;
    f.missing = missing;
    *dropped = 0;
    int rc = NB_OK;
    f.label_pos = nb__calloc(s->n_columns, sizeof *f.label_pos);
    f.vocab = nb__calloc(s->n_columns, sizeof *f.vocab);
    if (!f.label_pos || !f.vocab) rc = NB_ERR_NOMEM;
    if (rc == NB_OK && missing == NB_MISSING_MEAN && learn_means) {
        f.learn = learn_means;
        f.sum = nb__calloc(s->n_columns, sizeof *f.sum);
        f.count = nb__calloc(s->n_columns, sizeof *f.count);
        if (!f.sum || !f.count) rc = NB_ERR_NOMEM;
    }
    for (size_t i = 0; rc == NB_OK && i < s->n_labels; i++) f.label_pos[s->label_cols[i]] = i;
    for (size_t c = 0; rc == NB_OK && c < s->n_columns; c++)
        if (s->columns[c].kind == NB__COL_CATEGORICAL || s->columns[c].kind == NB__COL_TEXT)
            rc = nb__strset_from( /* text: position = id - 2 */&f.vocab[c], s->columns[c].vocab, s->columns[c].n_vocab);
    if (rc == NB_OK && s->label_enc == NB__LABEL_NAME)
        rc = nb__strset_from(&f.classes, s->class_names, (size_t)s->n_classes);
    nb__csv_rewind(r);
    if (rc == NB_OK) rc = fill(&f, has_header, known_rows, dropped, out);
    nb_free(f.sum);
    nb_free(f.count);
    for (size_t c = 0; f.vocab && c < s->n_columns; c++) nb__strset_free(&f.vocab[c]);
    nb_free(f.vocab);
    nb_free(f.label_pos);
    nb_free(f.map);
    nb__strset_free(&f.classes);
    return rc;
}
