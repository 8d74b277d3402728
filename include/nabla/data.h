/* SPDX-License-Identifier: MIT */
/*
 * nabla/data.h - datasets (src/data): the dataset struct, splitting and gathering rows, the
 * preprocessing state (schema and feature scaling) and loading CSV and IDX files. Includes
 * only nabla/base.h.
 */
#ifndef NABLA_DATA_H
#define NABLA_DATA_H

#include "base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a dataset's targets mean; values are stable (they are written into model files as
 * names, and the CLI's --task takes the names). */
typedef enum nb_task {
    NB_TASK_CLASSIFY = 0,   /* one class index 0..n_classes-1 per row (softmax output) */
    NB_TASK_BINARY = 1,     /* one 0/1 value per row (one sigmoid output) */
    NB_TASK_MULTILABEL = 2, /* k independent 0/1 values per row (k sigmoid outputs) */
    NB_TASK_REGRESS = 3     /* k real values per row */
} nb_task;

/* nb_task_parse: "classify", "binary", "multilabel" or "regress" into *out; NB_ERR_ARG (naming
 * the text) otherwise. nb_task_name: the name of a task, static storage ("?" if invalid). */
NB_API int nb_task_parse(const char *name, nb_task *out);
NB_API const char *nb_task_name(nb_task task);

/* A dataset in memory, an opaque handle owned as a whole by whoever got it from
 * nb_dataset_create_from / nb_dataset_load / nb_dataset_split and released with
 * nb_dataset_free. n rows (samples) of n_features features each, and per row n_targets
 * targets, or none (n_targets 0: unlabeled, prediction data). How the features are stored is
 * private (floats, or bytes for nb_data_opts.compact): rows are read as floats through
 * nb_dataset_rows and nb_dataset_gather. Datasets are not scaled by loading: see
 * nb_preproc_apply_scaling. */
typedef struct nb_dataset nb_dataset;

/* nb_dataset_create_from: a new dataset in *out holding copies of x (n * n_features floats,
 * row-major, one sample per row) and y (n * n_targets floats; NULL exactly when n_targets is
 * 0), with sample shape (n_features) (see nb_dataset_set_sample_shape) and no class names.
 * task and n_classes say what the targets mean: CLASSIFY, 1 target, the class index
 * 0..n_classes-1 as a float; BINARY, 1 target, 0 or 1, n_classes 2; MULTILABEL, k targets
 * each 0 or 1, n_classes k; REGRESS, k real values, n_classes 0. NB_ERR_ARG on a size < 1
 * (n_targets < 0), a NULL x, a y that does not match n_targets, or a task and class count
 * that do not fit; NB_ERR_NOMEM on overflow or when memory runs out; *out is NULL on
 * failure. */
NB_API int nb_dataset_create_from(const float *x, int64_t n, int64_t n_features, const float *y,
                           int64_t n_targets, nb_task task, int n_classes, nb_dataset **out);

/* Getters, valid while ds lives:
 *  nb_dataset_n_rows, nb_dataset_n_features, nb_dataset_n_targets: the sizes above.
 *  nb_dataset_sample_rank / nb_dataset_sample_shape: a sample's shape before flattening
 *    (sample_rank dimensions, borrowed, their product n_features): (n_features) for CSV and C
 *    data, (1, rows, cols) for IDX images ((c, rows, cols) for 4-D IDX files).
 *  nb_dataset_targets: the n_rows * n_targets targets, borrowed (NULL when unlabeled).
 *  nb_dataset_task, nb_dataset_n_classes: what the targets mean (nb_dataset_create_from).
 *  nb_dataset_class_name: the name of class i (MULTILABEL: of target i), borrowed; NULL when
 *    i is out of range or the dataset has no names (C data: names are then the indices).
 *    Loaded datasets carry the schema's classes even when unlabeled, so predictions can be
 *    named. */
NB_API int64_t nb_dataset_n_rows(const nb_dataset *ds);
NB_API int64_t nb_dataset_n_features(const nb_dataset *ds);
NB_API int64_t nb_dataset_n_targets(const nb_dataset *ds);
NB_API int nb_dataset_sample_rank(const nb_dataset *ds);
NB_API const int64_t *nb_dataset_sample_shape(const nb_dataset *ds);
NB_API const float *nb_dataset_targets(const nb_dataset *ds);
NB_API nb_task nb_dataset_task(const nb_dataset *ds);
NB_API int nb_dataset_n_classes(const nb_dataset *ds);
NB_API const char *nb_dataset_class_name(const nb_dataset *ds, int i);

/* nb_dataset_set_sample_shape: give the rows of ds a sample shape (e.g. (1, 28, 28) for
 * images stored one per row): rank 1..3 positive dimensions whose product is n_features.
 * NB_ERR_ARG otherwise (ds unchanged). */
NB_API int nb_dataset_set_sample_shape(nb_dataset *ds, int rank, const int64_t *shape);

/* nb_dataset_free: release ds, its arrays and class names; NULL is a no-op. */
NB_API void nb_dataset_free(nb_dataset *ds);

/* nb_dataset_split: split all's rows into a training and a validation set, both new datasets
 * (deep copies; all is untouched). The row indices are shuffled by Fisher-Yates with an nb_rng
 * seeded with seed; the first round(val_fraction * n) go to *val, the rest to *train, and
 * each part keeps the original row order. The same seed gives the same split on every
 * machine. NB_ERR_ARG when val_fraction is not in (0, 1) or a part would be empty;
 * NB_ERR_NOMEM. *train and *val are NULL on failure. */
NB_API int nb_dataset_split(const nb_dataset *all, double val_fraction, uint64_t seed,
                            nb_dataset **train, nb_dataset **val);

/* nb_shuffle_indices: permute idx[0..n) uniformly at random (Fisher-Yates from the end, each
 * swap partner drawn with nb_rng_below), advancing rng. n <= 1 leaves idx as it is. */
NB_API void nb_shuffle_indices(nb_rng *rng, int64_t *idx, int64_t n);

/* nb_dataset_truncate: keep only the first n rows of ds (1 <= n <= its row count); the
 * memory is not reallocated. NB_ERR_ARG otherwise. */
NB_API int nb_dataset_truncate(nb_dataset *ds, int64_t n);

/* nb_dataset_rows: rows first .. first+count-1 of ds as floats into x_out (count * n_features)
 * and, when y_out is not NULL, their targets into y_out: the contiguous case of
 * nb_dataset_gather, for float and compact datasets alike. NB_ERR_ARG outside 0..n-1. */
NB_API int nb_dataset_rows(const nb_dataset *ds, int64_t first, int64_t count, float *x_out,
                           float *y_out);

/* nb_dataset_prefetch: a speed hint that changes no result: start moving rows rows[0..count)
 * of ds (their stored features and targets) towards the CPU cache, so that a later gather of
 * them does not wait on memory - e.g. the next mini-batch while this one computes. Each call
 * issues at most `lines` 64-byte cache-line loads, resuming where the last call with the same
 * *cursor stopped (set *cursor to 0 for a new set of rows); over all calls at most the first
 * 256 KiB of the rows are fetched, so a large batch does not flush the caller's own data.
 * Rows outside 0..n-1 are skipped (the gather reports them). A no-op on compilers without a
 * prefetch instruction. */
NB_API void nb_dataset_prefetch(const nb_dataset *ds, const int64_t *rows, int64_t count, int lines,
                         int64_t *cursor);

/* nb_dataset_gather: copy the rows rows[0..count) of ds, in that order, into x_out
 * (count * n_features floats) and, when y_out is not NULL, y_out (count * n_targets floats),
 * e.g. to build a mini-batch. NB_ERR_ARG (naming the position) when a row is outside 0..n-1,
 * or when y_out is given but ds has no targets. */
NB_API int nb_dataset_gather(const nb_dataset *ds, const int64_t *rows, int64_t count, float *x_out,
                             float *y_out);

/* Feature scaling modes: none; minmax maps each feature's training range onto [0, 1];
 * standard subtracts the training mean and divides by the training (population) standard
 * deviation. */
typedef enum nb_scaling { NB_SCALE_NONE = 0, NB_SCALE_MINMAX = 1, NB_SCALE_STANDARD = 2 } nb_scaling;

/* nb_scale_parse: "none", "minmax" or "standard" into *out; NB_ERR_ARG otherwise.
 * nb_scale_name: the name of a mode, static storage ("?" if invalid). */
NB_API int nb_scale_parse(const char *name, nb_scaling *out);
NB_API const char *nb_scale_name(nb_scaling mode);

/* Everything needed to turn raw rows into network input identically at training and
 * prediction time: the data's schema (for CSV: column names, which columns are numeric or
 * categorical with each categorical column's vocabulary, the label column(s), the class names
 * and how label cells map to indices; for IDX: the image shape and element type) and the
 * feature scaling fitted on the training split. A fresh one holds no schema: the first
 * nb_dataset_load through it learns one; later loads enforce it. Stored in model files as
 * JSON (nb_preproc_to_json). */
typedef struct nb_preproc nb_preproc;

/* nb_preproc_create: an empty preprocessing state (no schema, scaling none) in *out.
 * NB_ERR_NOMEM. nb_preproc_free: release pp; NULL is a no-op. */
NB_API int nb_preproc_create(nb_preproc **out);
NB_API void nb_preproc_free(nb_preproc *pp);

/* Getters, valid while pp lives and until it learns a schema:
 *  nb_preproc_has_schema: 1 once a schema was learned or read from JSON, else 0.
 *  nb_preproc_task: the schema's task (NB_TASK_CLASSIFY when none).
 *  nb_preproc_n_features: features per row of x the schema produces (0 when none).
 *  nb_preproc_n_targets: y values per labeled row (1 for classify/binary, k for multilabel
 *    and regression; 0 when none).
 *  nb_preproc_n_classes / nb_preproc_class_name: the classes (multilabel: the labels); the name
 *    is borrowed, NULL when i is out of range. */
NB_API int nb_preproc_has_schema(const nb_preproc *pp);
NB_API nb_task nb_preproc_task(const nb_preproc *pp);
NB_API int64_t nb_preproc_n_features(const nb_preproc *pp);
NB_API int64_t nb_preproc_n_targets(const nb_preproc *pp);
NB_API int nb_preproc_n_classes(const nb_preproc *pp);
NB_API const char *nb_preproc_class_name(const nb_preproc *pp, int i);

/* nb_preproc_vocab_size: the number of token ids of pp's text column (padding 0 and unknown 1
 * included: ids are 0..size-1, e.g. the rows of an embedding table); 0 when pp is NULL, has
 * no schema or no text column (nb_data_opts.tokens). */
NB_API int64_t nb_preproc_vocab_size(const nb_preproc *pp);

/* nb_preproc_set_sample_shape: give CSV rows a sample shape (e.g. (1, 28, 28) for images
 * stored one per row), kept in the schema so every later load (validation, test, prediction)
 * produces it; its product must be the schema's feature count. Datasets loaded before keep
 * their shape: set theirs too. NB_ERR_STATE without a schema, NB_ERR_ARG otherwise. */
NB_API int nb_preproc_set_sample_shape(nb_preproc *pp, int rank, const int64_t *shape);

/* nb_preproc_fit_scaling: fit mode's per-feature offset and scale on train (the TRAINING split
 * only, so validation and test data are transformed with statistics they did not influence),
 * replacing any earlier fit. Features become x' = (x - offset) / scale: minmax offset = min,
 * scale = max - min; standard offset = mean, scale = standard deviation; a constant feature
 * gets scale 1 (no division by zero); one-hot columns of CSV data are left as 0/1. For IDX
 * images of unsigned bytes, minmax is the fixed offset 0, scale 255, independent of the data,
 * so pixels map exactly onto [0, 1]; so it is for CSV rows with an image sample shape (rank
 * 2 or 3) whose training values are all integers 0..255 with some above 127. Statistics are computed in double. NB_ERR_ARG when train
 * is empty or its feature count differs from pp's schema; NB_ERR_NUMERIC (naming row and
 * feature) on a NaN or infinite value; NB_ERR_NOMEM. On error pp's scaling is unchanged. */
NB_API int nb_preproc_fit_scaling(nb_preproc *pp, nb_scaling mode, const nb_dataset *train);

/* nb_preproc_apply_scaling: transform the features of ds in place with pp's fitted scaling (a
 * no-op for mode none). Call it once per dataset: a second call scales again (compact data
 * refuses it with NB_ERR_STATE). NB_ERR_ARG when the feature counts differ; NB_ERR_NUMERIC
 * (naming row and feature) when a result is not finite, in which case ds is partly
 * transformed. */
NB_API int nb_preproc_apply_scaling(const nb_preproc *pp, nb_dataset *ds);

/* nb_preproc_set_scaling: set pp's scaling from known constants instead of fitting it, e.g.
 * a PyTorch model's normalisation (nabla import): mode MINMAX or STANDARD with n per-feature
 * offsets and scales (x' = (x - offset[j]) / scale[j]), or NONE (n, offset, scale ignored).
 * n must be pp's feature count when pp has a schema. NB_ERR_ARG naming the feature when an
 * offset is not finite or a scale is not a finite number > 0; NB_ERR_NOMEM. On error pp's
 * scaling is unchanged. */
NB_API int nb_preproc_set_scaling(nb_preproc *pp, nb_scaling mode, int64_t n, const float *offset,
                                  const float *scale);

/* Target scaling, for regression: the per-target mean and (population) standard deviation of
 * the TRAINING split, so that the network learns targets of unit scale whatever their units
 * (house prices, disease scores); predictions are mapped back with nb_preproc_unscale_targets.
 * nb_preproc_fit_target_scaling: mode NB_SCALE_STANDARD fits y' = (y - mean) / std per target
 * (a constant target gets std 1), NB_SCALE_NONE removes any fit; replaces an earlier fit.
 * NB_ERR_ARG when mode is neither, when train is empty or unlabeled, or when a standard fit is
 * asked for a task other than regress (class indices are not scaled); NB_ERR_NUMERIC (naming
 * row and target) on a NaN or infinite target; NB_ERR_NOMEM. On error pp is unchanged.
 * nb_preproc_apply_target_scaling: standardize the targets of ds in place (a no-op for mode
 * none or an unlabeled ds); call it once per dataset. NB_ERR_ARG when the target counts differ.
 * nb_preproc_unscale_targets: y = y' * std + mean in place for n rows of nb_preproc_n_targets
 * values each (model outputs, e.g. of nb_model_predict), a no-op for mode none.
 * nb_preproc_target_scaling: the mode (NB_SCALE_NONE when never fitted); with
 * nb_preproc_target_stats, the mean and standard deviation of target k (NB_ERR_ARG when k is
 * out of range or the mode is none). Stored in model files with the rest of pp. */
NB_API int nb_preproc_fit_target_scaling(nb_preproc *pp, nb_scaling mode, const nb_dataset *train);
NB_API int nb_preproc_apply_target_scaling(const nb_preproc *pp, nb_dataset *ds);
NB_API void nb_preproc_unscale_targets(const nb_preproc *pp, float *y, int64_t n);
NB_API nb_scaling nb_preproc_target_scaling(const nb_preproc *pp);
NB_API int nb_preproc_target_stats(const nb_preproc *pp, int64_t k, double *mean, double *std);

/* nb_preproc_to_json: pp as a compact JSON object (format in docs/DATA.md) in *json,
 * NUL-terminated, released with nb_free. NB_ERR_NOMEM.
 * nb_preproc_from_json: a new preprocessing state read from JSON text, validated completely
 * (NB_ERR_FORMAT naming the field, e.g. "preproc: csv.columns[2].values: expected an array of
 * strings"); NB_ERR_NOMEM. *out is NULL on failure. */
NB_API int nb_preproc_to_json(const nb_preproc *pp, char **json);
NB_API int nb_preproc_from_json(const char *json, nb_preproc **out);

/* Which pair of the standard four IDX files a directory spec selects. */
typedef enum nb_split { NB_SPLIT_TRAIN = 0, NB_SPLIT_TEST = 1 } nb_split;

/* What nb_dataset_load does with a missing value ("", NA, N/A, NaN, ?, null in any case) in a
 * numeric CSV feature column (docs/DATA.md); values are stable (stored in model files as names).
 *  NB_MISSING_ERROR (0, default): learning a schema, the load fails naming file:line and
 *    column; against a schema, the schema's stored mode applies (a schema learned with
 *    ERROR refuses the value the same way).
 *  NB_MISSING_MEAN: the cell becomes its column's mean. Learning, the mean is that of the
 *    column's present values in this file (the training data as loaded: the CLI's
 *    --val-split comes later, so its validation rows count too; the fill happens while the
 *    cells are read, before any split), stored in the schema; against a schema, its stored
 *    means are used (NB_ERR_ARG when it has none).
 *  NB_MISSING_DROP: rows with a missing value are left out (nb_data_opts.dropped counts
 *    them); NB_ERR_FORMAT when no row is left. Against a schema it overrides the stored mode.
 * Learning with MEAN or DROP, a numeric-looking column whose every cell is missing is an
 * NB_ERR_FORMAT (no mean exists; every row would go): drop the column. Categorical columns,
 * label columns and IDX data are not affected (a missing token in a column of words is a
 * category). */
typedef enum nb_missing { NB_MISSING_ERROR = 0, NB_MISSING_MEAN = 1, NB_MISSING_DROP = 2 } nb_missing;

/* nb_missing_parse: "error", "mean" or "drop" into *out; NB_ERR_ARG (naming the text)
 * otherwise. nb_missing_name: the name of a mode, static storage ("?" if invalid).
 * nb_preproc_missing: the mode stored in pp's schema (NB_MISSING_ERROR when pp is NULL, none or no
 * schema). */
NB_API int nb_missing_parse(const char *name, nb_missing *out);
NB_API const char *nb_missing_name(nb_missing mode);
NB_API nb_missing nb_preproc_missing(const nb_preproc *pp);

/* How a CSV text column becomes a token sequence (docs/DATA.md, "Text"); values are stable
 * (stored in model files as names).
 *  NB_TOKENS_NONE (0, default): no tokenizing; a text column is a categorical column (one-hot).
 *  NB_TOKENS_CHARS: one token per Unicode code point of the UTF-8 text.
 *  NB_TOKENS_WORDS: tokens are the runs of bytes between ASCII whitespace (space, tab, CR, LF,
 *    VT, FF). */
typedef enum nb_tokens { NB_TOKENS_NONE = 0, NB_TOKENS_CHARS = 1, NB_TOKENS_WORDS = 2 } nb_tokens;

/* Options of nb_dataset_load; start from nb_data_opts_default() and change fields. */
typedef struct nb_data_opts {
    nb_task task;            /* CSV: meaning of the label column(s); default classify */
    const char *label;       /* CSV label column(s): a header name, a 0-based index as text
                                ("4"; "-1" is the last column), or for multilabel/regress a
                                comma-separated list "a,b,c"; NULL (default): the last column */
    int header;              /* CSV: 1 the first row is a header, 0 it is not, -1 (default)
                                auto-detect (docs/DATA.md) */
    nb_split split;          /* directory specs: NB_SPLIT_TRAIN (default) or NB_SPLIT_TEST */
    char delimiter;          /* CSV field separator, any byte but '"', CR or LF (' ': runs
                                of spaces are one separator); 0 (default) detects it on
                                each load: the first of ';' ',' '\t' ' ' that splits the
                                first 5 rows into the same number > 1 of fields, else ','
                                (docs/DATA.md; not stored in the schema) */
    const char *class_names; /* comma-separated names of integer class labels 0..K-1 (IDX or
                                CSV), used when a schema is learned; NULL: "0".."K-1" */
    size_t max_bytes;        /* largest file accepted, after decompression; default 1 GiB */
    int compact;             /* IDX images of unsigned bytes stay bytes: a quarter of the
                                memory; default 0 (floats) */
    nb_missing missing;      /* CSV missing values (nb_missing above); default
                                NB_MISSING_ERROR */
    int64_t *dropped;        /* when not NULL, receives the number of rows left out for
                                missing values (0 unless the mode is drop); default NULL */
    /* Text (CSV, used when a schema is learned; a schema carries its own afterwards): the one
     * non-label column that is not numeric becomes a sequence of max_len token ids, 0 the
     * padding, 1 unknown, 2.. the vocabulary by falling frequency (docs/DATA.md, "Text"). */
    nb_tokens tokens;        /* default NB_TOKENS_NONE */
    int64_t max_vocab;       /* ids in all, 0 and 1 included: 0 (default) no cap but the
                                limit of 65536; else 2..65536 */
    int64_t min_count;       /* rarer training tokens are unknown (1); default 1 */
    int64_t max_len;         /* tokens per row, longer texts keep their FIRST max_len; 0
                                (default): the longest training row, at most 1024; else
                                1..65536 */
} nb_data_opts;

/* nb_data_opts_default: task classify, label NULL (last column), header -1 (auto), split
 * train, delimiter 0 (detect), class_names NULL, max_bytes 1 GiB, missing NB_MISSING_ERROR,
 * dropped NULL, tokens NB_TOKENS_NONE, max_vocab 0, min_count 1, max_len 0. */
NB_API nb_data_opts nb_data_opts_default(void);

/* nb_dataset_load: load the dataset named by spec (docs/DATA.md):
 *  "PATH.csv", "PATH.tsv" (either + ".gz") or "csv:PATH" for any name: a CSV file;
 *  "idx:IMAGES,LABELS": an IDX image file and its label file (either may end in .gz);
 *  "idx:IMAGES" naming an existing file: images only, unlabeled;
 *  "idx:PREFIX": PREFIX-images-idx3-ubyte[.gz] and PREFIX-labels-idx1-ubyte[.gz];
 *  a directory DIR: DIR/train-* (opts->split NB_SPLIT_TRAIN) or DIR/t10k-* (NB_SPLIT_TEST)
 *    in the PREFIX form, as Fashion-MNIST and MNIST are distributed.
 * opts may be NULL (defaults). pp may be NULL (nothing is learned or enforced). When pp holds
 * no schema, the data's schema is learned into pp (training data; opts->task, label, class
 * names apply); when it holds one, the data must follow it: same columns (by name when both
 * have a header, else by position), known categories and classes; a CSV may lack all its
 * label columns (prediction data: no targets). On success *out is a new dataset (not scaled).
 * Errors: NB_ERR_IO (cannot open or read), NB_ERR_FORMAT (malformed content, or content that
 * does not fit pp's schema: unknown columns, categories or classes, images of another shape;
 * the message names the file and line and column, or the IDX field), NB_ERR_ARG (a bad spec
 * or option, CSV data for an IDX schema or the reverse), NB_ERR_NOMEM. On error pp is
 * unchanged and *out is NULL. */
NB_API int nb_dataset_load(const char *spec, const nb_data_opts *opts, nb_preproc *pp,
                           nb_dataset **out);

/* nb_dataset_load_csv_text: as nb_dataset_load for a CSV file, from CSV text already in
 * memory: n bytes at text (not NUL-terminated necessarily, not compressed; borrowed, not kept).
 * name stands for the file in messages ("stdin:17: expected 5 columns, got 4"); NULL: "csv".
 * The CSV reader makes two passes (schema, then values), so a stream such as standard input
 * is read whole first and then passed here. opts (NULL: defaults), pp, *out and the errors are
 * those of nb_dataset_load; n above opts->max_bytes is NB_ERR_FORMAT. */
NB_API int nb_dataset_load_csv_text(const char *name, const char *text, size_t n,
                                    const nb_data_opts *opts, nb_preproc *pp, nb_dataset **out);

#ifdef __cplusplus
}
#endif
#endif /* NABLA_DATA_H */
