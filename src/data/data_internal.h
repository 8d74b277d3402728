/* SPDX-License-Identifier: MIT */
/*
 * data_internal.h - what the files of the data layer share and nothing outside it sees: the
 * layout of a preprocessing schema, the RFC 4180 row reader, the string set used for
 * vocabularies, and the whole-file reader for plain and gzip files.
 * Invariants: a schema is either empty (source NB__SRC_NONE) or complete and consistent
 * (nb__schema_check passes); vocabularies and string class names are sorted by strcmp and
 * distinct; every string is NUL-free UTF-8/bytes owned by the structure holding it.
 */
#ifndef NB_DATA_INTERNAL_H
#define NB_DATA_INTERNAL_H

#include "internal.h"
#include "nabla/data.h"

/* Caps that keep allocations proportional to what a file can justify. */
#define NB__MAX_CLASSES 65536     /* classes of a classification label */
#define NB__MAX_CATEGORIES 4096   /* distinct values of one one-hot encoded column */
#define NB__DEFAULT_MAX_BYTES ((size_t)1 << 30)
/* Text columns (nb_data_opts.tokens): ids in all (padding and unknown included), so the
 * vocabulary fits a model file's 8 MiB header; tokens per row, given and learned; the longest
 * word that can enter the vocabulary (longer ones are unknown: a 1 MB "word" costs no memory
 * beyond the file). */
#define NB__MAX_TEXT_VOCAB 65536
#define NB__MAX_TEXT_LEN 65536
#define NB__MAX_TEXT_LEN_AUTO 1024
#define NB__MAX_TOKEN_BYTES 64

enum { NB__SRC_NONE = 0, NB__SRC_CSV = 1, NB__SRC_IDX = 2 };
/* TEXT: a token sequence of max_len ids (appended: the stored names keep their order) */
enum { NB__COL_NUMERIC = 0, NB__COL_CATEGORICAL = 1, NB__COL_LABEL = 2, NB__COL_TEXT = 3 };
/* How label cells become y values: VALUE the number itself (binary 0/1, multilabel 0/1,
 * regression), INDEX an integer class index, NAME a string looked up in class_names. */
enum { NB__LABEL_VALUE = 0, NB__LABEL_INDEX = 1, NB__LABEL_NAME = 2 };

typedef struct nb__column {
    char *name;      /* header name; NULL when the training file had no header */
    int kind;        /* NB__COL_* */
    size_t n_vocab;  /* categorical: number of values (>= 1); text: tokens of ids 2.. (>= 0) */
    char **vocab;    /* categorical: the values, sorted, distinct; text: the tokens in id order
                        (id = index + 2), distinct */
    int tokens;      /* text: nb_tokens (CHARS or WORDS) */
    int64_t max_len; /* text: ids per row (its features), 1..NB__MAX_TEXT_LEN */
    int64_t feature; /* numeric / categorical: index of its (first) feature in a row of x */
    float mean;      /* numeric, schema missing mode MEAN: what a missing cell becomes */
} nb__column;

typedef struct nb__schema {
    int source;      /* NB__SRC_* */
    nb_task task;
    int sample_rank; /* 1 for CSV (or as --input-shape sets it), 3 for IDX images */
    int64_t sample_shape[3];
    int64_t n_features;
    int n_classes;      /* classify: K; binary: 2; multilabel: k; regress: 0 */
    char **class_names; /* n_classes strings, or NULL when n_classes == 0 */
    /* CSV */
    int has_header;
    size_t n_columns;
    nb__column *columns;
    size_t n_labels;    /* y values per row */
    size_t *label_cols; /* the label columns, in y order */
    int label_enc;      /* NB__LABEL_* */
    int missing;        /* nb_missing: how the schema was learned to treat missing values */
    /* IDX */
    int idx_type; /* element type code of the images (0x08 ubyte, ...) */
} nb__schema;

struct nb_preproc {
    nb__schema s;
    nb_scaling scale_mode;
    int64_t n_scale; /* features covered by offset/scale (0 when mode is none) */
    float *offset;   /* x' = (x - offset[j]) / scale[j] */
    float *scale;
    /* regression targets: y' = (y - t_offset[k]) / t_scale[k]; n_tscale 0 exactly when
     * t_mode is none (the state of files written before target scaling existed) */
    nb_scaling t_mode;
    int64_t n_tscale;
    float *t_offset;
    float *t_scale;
};

/* schema.c */
NB_HIDDEN void nb__schema_clear(nb__schema *s);
NB_HIDDEN int nb__schema_check(const nb__schema *s, const char *what);
/* CSV: set each feature column's offset, n_features and sample_shape from the columns. */
NB_HIDDEN void nb__schema_layout(nb__schema *s);
/* y values per labeled row: the label columns (CSV), 1 (IDX), 0 (no schema). */
NB_HIDDEN int nb__schema_targets(const nb__schema *s);
/* Copy names[0..n) into a fresh array of strings (*out NULL when n == 0). */
NB_HIDDEN int nb__strv_dup(char *const *names, size_t n, char ***out);
NB_HIDDEN void nb__strv_free(char **v, size_t n);
/* Class names "0".."n-1". */
NB_HIDDEN int nb__strv_indices(size_t n, char ***out);
/* Split a comma-separated list into *n fresh strings (empty items are an NB_ERR_ARG naming
 * what). */
/* NB_ERR_ARG ("<what>: "x" is given twice") unless v[0..n) are distinct. */
NB_HIDDEN int nb__strv_distinct(char *const *v, size_t n, const char *what);
NB_HIDDEN int nb__strv_split(const char *list, const char *what, char ***out, size_t *n);
/* Install a freshly built schema into pp (taking ownership; s is cleared). */
NB_HIDDEN int nb__preproc_adopt(nb_preproc *pp, nb__schema *s);
/* Display name of CSV column c for messages: ` ("age")` or "" when unnamed. */
NB_HIDDEN const char *nb__col_label(const nb__schema *s, size_t c, char *buf, size_t cap);

/* strset.c: a set of distinct strings with stable insertion indices. */
typedef struct nb__strset {
    char **items;    /* owned copies, in insertion order (or sorted after nb__strset_sort) */
    size_t n, cap;
    uint32_t *table; /* open addressing: index + 1, 0 = empty */
    size_t table_cap;
} nb__strset;
/* Add s (copied) unless present; *index receives its position (may be NULL). */
NB_HIDDEN int nb__strset_add(nb__strset *set, const char *s, size_t *index);
/* The position of s, or -1. */
NB_HIDDEN int64_t nb__strset_find(const nb__strset *set, const char *s);
/* Sort the items by strcmp (positions change) and rebuild the table. */
NB_HIDDEN int nb__strset_sort(nb__strset *set);
/* Build a set from existing distinct strings (copied). */
NB_HIDDEN int nb__strset_from(nb__strset *set, char *const *items, size_t n);
/* Hand the items array to the caller (the set becomes empty). */
NB_HIDDEN char **nb__strset_take(nb__strset *set, size_t *n);
NB_HIDDEN void nb__strset_free(nb__strset *set);

/* source.c: the whole content of path (gunzipped when the name ends in ".gz"), NUL-terminated,
 * at most max_bytes bytes (else NB_ERR_FORMAT). Released with nb_free. */
NB_HIDDEN int nb__data_read(const char *path, size_t max_bytes, char **data, size_t *n);
NB_HIDDEN bool nb__has_suffix(const char *s, const char *suffix);

/* csv_reader.c: RFC 4180 rows over an in-memory text. */
typedef struct nb__csv_cell {
    const char *s; /* NUL-terminated, unescaped */
    size_t len;
} nb__csv_cell;

typedef struct nb__csv {
    const char *path;
    const char *begin, *p, *end;
    char delim;
    size_t line;     /* line number of the next unread byte, from 1 */
    size_t row_line; /* line on which the last row read began */
    nb__csv_cell *cells;
    size_t n_cells, cap_cells;
    char *scratch; /* the row's cells, each NUL-terminated */
    size_t scratch_len, scratch_cap;
    size_t *offs; /* cell offsets into scratch while a row is read */
    size_t cap_offs;
    unsigned char stop[256]; /* bytes that end an unquoted run: delimiter, CR, LF, '"', NUL */
} nb__csv;

NB_HIDDEN void nb__csv_init(nb__csv *r, const char *path, const char *text, size_t n, char delim);
NB_HIDDEN void nb__csv_rewind(nb__csv *r);
/* Read the next row, skipping blank lines; *got is false at the end of the text. */
NB_HIDDEN int nb__csv_next(nb__csv *r, bool *got);
NB_HIDDEN void nb__csv_free(nb__csv *r);

/* A number cell: 1 = a finite float32 in *out; 0 = not a number; -1 = a NaN or infinity
 * literal, or out of float32 range. Surrounding blanks are allowed. */
NB_HIDDEN int nb__parse_number(const char *s, double *out);

/* A missing-value token in a numeric column: "", NA, N/A, NaN, ?, null (any case, blanks
 * around allowed). */
NB_HIDDEN bool nb__is_missing(const char *s);

/* Whether s is valid UTF-8 (schema strings must be: they are stored in JSON). */
NB_HIDDEN bool nb__utf8_valid(const char *s);

/* csv_schema.c / csv_load.c */
/* Whether the text's first row is a header under opts->header (-1 auto, 0, 1). */
NB_HIDDEN int nb__csv_detect_header(nb__csv *r, int header_opt, bool *has_header);
/* Auto-detection against a schema: row 1 is a header when a non-numeric cell of it is a
 * column name. */
NB_HIDDEN int nb__csv_detect_header_schema(nb__csv *r, const nb__schema *s, bool *has_header);
/* Learning also counts the data rows into *n_rows (and has checked that none is ragged). */
NB_HIDDEN int nb__csv_learn(nb__csv *r, bool has_header, const nb_data_opts *o, nb__schema *s,
                            int64_t *n_rows);
/* known_rows: the row count when learning just established it, else 0 (counted here).
 * missing: the effective nb_missing mode. learn_means: when learning with MEAN, the schema
 * whose numeric columns receive the means of this file (s itself), else NULL (s's stored
 * means fill). *dropped: rows left out (DROP). */
NB_HIDDEN int nb__csv_fill(nb__csv *r, bool has_header, const nb__schema *s, int64_t known_rows,
                           int missing, nb__schema *learn_means, int64_t *dropped,
                           nb_dataset **out);

/* text.c: text columns. */
/* Learn the vocabulary and max_len of text column c of s from the data rows (s's columns are
 * decided; r positioned anywhere). */
NB_HIDDEN int nb__text_learn(nb__csv *r, bool has_header, const nb_data_opts *o, nb__schema *s,
                             size_t c);
/* Write the max_len ids of text (a cell of file column j, schema column col) into x; ids maps
 * a token to its index in col->vocab. Invalid UTF-8 is an NB_ERR_FORMAT naming r's file:line. */
NB_HIDDEN int nb__text_fill(const nb__csv *r, size_t j, const char *label, const nb__column *col,
                            const nb__strset *ids, const char *text, float *x);
/* The column's name as stored ("chars", "words") and back (-1 when unknown). */
NB_HIDDEN const char *nb__tokens_name(int tokens);

/* idx.c: images (and labels, may be NULL) against schema s; a schema with source NONE is
 * learned into *learned (else *learned stays empty). */
NB_HIDDEN int nb__idx_load(const char *images, const char *labels, const nb_data_opts *o,
                           const nb__schema *s, nb__schema *learned, nb_dataset **out);

/* The dataset behind the opaque nb_dataset handle. Features are stored one way or the other,
 * never both: x, n * n_features floats, row-major; or, for IDX images of unsigned bytes loaded
 * with nb_data_opts.compact, x8, n * n_features bytes (a quarter of the memory) that read as
 * (x8 - x8_offset[j]) / x8_scale[j] once nb_preproc_apply_scaling has set the two arrays (as
 * the bytes themselves before). Code outside src/data reads rows only through nb_dataset_rows
 * and nb_dataset_gather, so the storage is this layer's business alone.
 *  sample_shape[0..sample_rank): a sample's shape, its product n_features.
 *  y: n * n_targets floats, or NULL with n_targets == 0 (unlabeled data).
 *  class_names: NULL, or n_classes owned strings. */
struct nb_dataset {
    int64_t n;
    int64_t n_features;
    int sample_rank;
    int64_t sample_shape[3];
    float *x;
    uint8_t *x8;
    float *x8_offset, *x8_scale;
    int64_t n_targets;
    float *y;
    nb_task task;
    int n_classes;
    char **class_names;
};

/* dataset.c */
/* a dataset shaped by s; compact: features as bytes (x8, left for the caller to write) instead
 * of floats */
NB_HIDDEN int nb__dataset_from_schema(const nb__schema *s, int64_t n, bool labeled, bool compact,
                                      nb_dataset **out);

/* dataset_info.c: validate a sample shape against a row of n_features (rank 1..3, positive
 * dimensions whose product is n_features) and store it into *rank_out / shape_out; else
 * NB_ERR_ARG "<what> (a, b) does not hold the N features of a row", nothing stored. */
NB_HIDDEN int nb__sample_shape_set(int64_t n_features, int rank, const int64_t *shape,
                                   const char *what, int *rank_out, int64_t shape_out[3]);

#endif
