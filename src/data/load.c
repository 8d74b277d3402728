/* SPDX-License-Identifier: MIT */
/*
 * load.c - nb_dataset_load: turns a data spec (a CSV path, "csv:PATH", "idx:IMAGES,LABELS",
 * "idx:PREFIX", or a directory of IDX files) into files, reads them against the caller's
 * preprocessing schema, and learns the schema when there is none yet.
 * Invariant: pp changes only when the whole load succeeds (a learned schema is built aside
 * and adopted at the end), so a failed load of training data leaves pp empty.
 */
#include "data_internal.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* path + suffix, or path + suffix + ".gz", whichever exists, into buf. */
static int find_idx(const char *prefix, const char *suffix, char *buf, size_t cap)
{
    int len = snprintf(buf, cap, "%s%s", prefix, suffix);
    if (len < 0 || (size_t)len + 3 >= cap)
        return nb__fail(NB_ERR_ARG, "data path \"%s\" is too long", prefix);
    if (is_file(buf)) return NB_OK;
    strcat(buf, ".gz");
    if (is_file(buf)) return NB_OK;
    buf[len] = '\0';
    return nb__fail(NB_ERR_IO, "%s: neither it nor %s.gz exists", buf, buf);
}

static int load_idx(const char *images, const char *labels, const nb_data_opts *o,
                    nb_preproc *pp, nb_dataset **out)
{
    static const nb__schema none;
    nb__schema learned;
    const nb__schema *s = pp ? &pp->s : &none;
    int rc = nb__idx_load(images, labels, o, s, &learned, out);
    if (rc == NB_OK && pp && learned.source != NB__SRC_NONE) {
        rc = nb__preproc_adopt(pp, &learned);
        if (rc) {
            nb_dataset_free(*out);
            *out = NULL;
        }
    }
    nb__schema_clear(&learned);
    return rc;
}

/* "IMAGES,LABELS", an existing images file, or PREFIX. */
static int load_idx_spec(const char *rest, const nb_data_opts *o, nb_preproc *pp,
                         nb_dataset **out)
{
    char images[4096], labels[4096];
    const char *comma = strchr(rest, ',');
    if (comma) {
        size_t n = (size_t)(comma - rest);
        if (n == 0 || n >= sizeof images || !comma[1] || strlen(comma + 1) >= sizeof labels)
            return nb__fail(NB_ERR_ARG, "data spec \"idx:%s\": expected idx:IMAGES,LABELS", rest);
        memcpy(images, rest, n);
        images[n] = '\0';
        return load_idx(images, comma + 1, o, pp, out);
    }
    if (!*rest) return nb__fail(NB_ERR_ARG, "data spec \"idx:\": name the IDX files");
    if (is_file(rest)) return load_idx(rest, NULL, o, pp, out);
    int rc = find_idx(rest, "-images-idx3-ubyte", images, sizeof images);
    if (rc == NB_OK) rc = find_idx(rest, "-labels-idx1-ubyte", labels, sizeof labels);
    return rc ? rc : load_idx(images, labels, o, pp, out);
}

/* Fields per row under delimiter d on the first (up to) 5 rows into *fields: the count when
 * all agree, else 0 (a reader error such as a quote inside a field also gives 0: not this
 * delimiter). Only NB_ERR_NOMEM is returned as an error. */
static int consistent_fields(const char *path, const char *text, size_t n, char d,
                             size_t *fields)
{
    nb__csv r;
    nb__csv_init(&r, path, text, n, d);
    int rc = NB_OK;
    bool got = true;
    *fields = 0;
    for (int i = 0; i < 5 && got; i++) {
        if ((rc = nb__csv_next(&r, &got)) != NB_OK) {
            *fields = 0;
            break;
        }
        if (!got) break;
        if (i == 0) *fields = r.n_cells;
        else if (r.n_cells != *fields) {
            *fields = 0;
            break;
        }
    }
    nb__csv_free(&r);
    return rc == NB_ERR_NOMEM ? rc : NB_OK;
}

/* The delimiter of a CSV text (nb_data_opts.delimiter 0, docs/DATA.md): the first of ';',
 * ',', tab and space that splits each of the first 5 rows into the same number > 1 of fields.
 * ';' is tried before ',' because a ';'-file with decimal commas ("1,5;2,3") has as steady a
 * comma count as a comma file, while a comma file whose every row holds the same number > 0
 * of semicolons is rare. None fits (e.g. one column): ','. */
static int detect_delimiter(const char *path, const char *text, size_t n, char *out)
{
    static const char cands[] = {';', ',', '\t', ' '};
    *out = ',';
    for (size_t i = 0; i < sizeof cands; i++) {
        size_t fields;
        int rc = consistent_fields(path, text, n, cands[i], &fields);
        if (rc) return rc;
        if (fields > 1) {
            *out = cands[i];
            break;
        }
    }
    return NB_OK;
}

/* CSV text (n bytes) named path in messages; the text stays the caller's. */
static int load_csv_text(const char *path, const char *text, size_t n, const nb_data_opts *o,
                         nb_preproc *pp, nb_dataset **out)
{
    if (pp && pp->s.source == NB__SRC_IDX)
        return nb__fail(NB_ERR_ARG, "%s: CSV data, but the schema (model) is for IDX images", path);
    int rc = NB_OK;
    nb__csv r;
    char delim = o->delimiter;
    if (!delim && (rc = detect_delimiter(path, text, n, &delim))) return rc;
    nb__csv_init(&r, path, text, n, delim);
    nb__schema learned;
    memset(&learned, 0, sizeof learned);
    bool has_header = false;
    bool learn = !pp || pp->s.source == NB__SRC_NONE;
    if (learn || o->header >= 0) rc = nb__csv_detect_header(&r, o->header, &has_header);
    else rc = nb__csv_detect_header_schema(&r, &pp->s, &has_header);
    int64_t n_rows = 0, dropped = 0;
    if (rc == NB_OK && learn) rc = nb__csv_learn(&r, has_header, o, &learned, &n_rows);
    if (rc == NB_OK && learn) learned.missing = (int)o->missing;
    /* against a schema: an explicit mode overrides the stored one; MEAN needs stored means */
    int missing = learn || o->missing != NB_MISSING_ERROR ? (int)o->missing : pp->s.missing;
    if (rc == NB_OK && !learn && missing == NB_MISSING_MEAN && pp->s.missing != NB_MISSING_MEAN)
        rc = nb__fail(NB_ERR_ARG, "%s: missing values cannot become means: the schema (model) "
                      "stores none (learn it with nb_data_opts.missing mean)", path);
    if (rc == NB_OK)
        rc = nb__csv_fill(&r, has_header, learn ? &learned : &pp->s, n_rows, missing,
                          learn ? &learned : NULL, &dropped, out);
    if (rc == NB_OK && o->dropped) *o->dropped = dropped;
    if (rc == NB_OK && learn && pp) {
        rc = nb__preproc_adopt(pp, &learned);
        if (rc) {
            nb_dataset_free(*out);
            *out = NULL;
        }
    }
    nb__schema_clear(&learned);
    nb__csv_free(&r);
    return rc;
}

static int load_csv(const char *path, const nb_data_opts *o, nb_preproc *pp, nb_dataset **out)
{
    if (pp && pp->s.source == NB__SRC_IDX)
        return nb__fail(NB_ERR_ARG, "%s: CSV data, but the schema (model) is for IDX images", path);
    char *text;
    size_t n;
    int rc = nb__data_read(path, o->max_bytes, &text, &n);
    if (rc) return rc;
    rc = load_csv_text(path, text, n, o, pp, out);
    nb_free(text);
    return rc;
}

static int check_opts(const nb_data_opts *o)
{
    if ((unsigned)o->task > NB_TASK_REGRESS)
        return nb__fail(NB_ERR_ARG, "data options: task %d is not a task", (int)o->task);
    if (o->header < -1 || o->header > 1)
        return nb__fail(NB_ERR_ARG, "data options: header %d is not -1 (auto), 0 or 1", o->header);
    if (o->split != NB_SPLIT_TRAIN && o->split != NB_SPLIT_TEST)
        return nb__fail(NB_ERR_ARG, "data options: split %d is not train or test", (int)o->split);
    if ((unsigned)o->missing > NB_MISSING_DROP)
        return nb__fail(NB_ERR_ARG, "data options: missing %d is not error, mean or drop",
                        (int)o->missing);
    if ((unsigned)o->tokens > NB_TOKENS_WORDS)
        return nb__fail(NB_ERR_ARG, "data options: tokens %d is not none, chars or words",
                        (int)o->tokens);
    if (o->max_vocab < 0 || o->max_vocab == 1 || o->max_vocab > NB__MAX_TEXT_VOCAB)
        return nb__fail(NB_ERR_ARG, "data options: max_vocab %lld is not 0 (no cap) or 2..%d "
                        "(ids 0 and 1 are padding and unknown)", (long long)o->max_vocab,
                        NB__MAX_TEXT_VOCAB);
    if (o->min_count < 0)
        return nb__fail(NB_ERR_ARG, "data options: min_count %lld is negative (1 keeps every "
                        "token)", (long long)o->min_count);
    if (o->max_len < 0 || o->max_len > NB__MAX_TEXT_LEN)
        return nb__fail(NB_ERR_ARG, "data options: max_len %lld is not 0 (the longest training "
                        "row, at most %d) or 1..%d", (long long)o->max_len, NB__MAX_TEXT_LEN_AUTO,
                        NB__MAX_TEXT_LEN);
    if (o->dropped) *o->dropped = 0;
    char d = o->delimiter;
    if (d == '"' || d == '\n' || d == '\r')
        return nb__fail(NB_ERR_ARG, "data options: the delimiter cannot be a quote or a line end "
                        "(0 detects it)");
    return NB_OK;
}

int nb_dataset_load_csv_text(const char *name, const char *text, size_t n,
                             const nb_data_opts *opts, nb_preproc *pp, nb_dataset **out)
{
    if (!out) return nb__fail(NB_ERR_ARG, "nb_dataset_load_csv_text: out is NULL");
    *out = NULL;
    nb_data_opts o = opts ? *opts : nb_data_opts_default();
    if (!o.max_bytes) o.max_bytes = NB__DEFAULT_MAX_BYTES;
    int rc = check_opts(&o);
    if (rc) return rc;
    if (!text && n) return nb__fail(NB_ERR_ARG, "nb_dataset_load_csv_text: text is NULL");
    if (n > o.max_bytes)
        return nb__fail(NB_ERR_FORMAT, "%s: %zu bytes, more than the %zu allowed", name ? name : "csv",
                        n, o.max_bytes);
    return load_csv_text(name && *name ? name : "csv", text ? text : "", n, &o, pp, out);
}

int nb_dataset_load(const char *spec, const nb_data_opts *opts, nb_preproc *pp,
                    nb_dataset **out)
{
    if (!out) return nb__fail(NB_ERR_ARG, "nb_dataset_load: out is NULL");
    *out = NULL;
    if (!spec) return nb__fail(NB_ERR_ARG, "nb_dataset_load: spec is NULL");
    nb_data_opts o = opts ? *opts : nb_data_opts_default();
    if (!o.max_bytes) o.max_bytes = NB__DEFAULT_MAX_BYTES;
    int rc = check_opts(&o);
    if (rc) return rc;
    if (!spec || !*spec) return nb__fail(NB_ERR_ARG, "no data spec given");
    if (strncmp(spec, "csv:", 4) == 0) return load_csv(spec + 4, &o, pp, out);
    if (strncmp(spec, "idx:", 4) == 0) return load_idx_spec(spec + 4, &o, pp, out);
    if (is_dir(spec)) {
        char prefix[4096];
        const char *sep = nb__has_suffix(spec, "/") ? "" : "/";
        int len = snprintf(prefix, sizeof prefix, "%s%s%s", spec, sep,
                           o.split == NB_SPLIT_TEST ? "t10k" : "train");
        if (len < 0 || (size_t)len >= sizeof prefix)
            return nb__fail(NB_ERR_ARG, "data path \"%s\" is too long", spec);
        return load_idx_spec(prefix, &o, pp, out);
    }
    if (nb__has_suffix(spec, ".csv") || nb__has_suffix(spec, ".csv.gz") ||
        nb__has_suffix(spec, ".CSV") || nb__has_suffix(spec, ".tsv") ||
        nb__has_suffix(spec, ".tsv.gz"))
        return load_csv(spec, &o, pp, out);
    struct stat st;
    if (stat(spec, &st) == 0 && !S_ISREG(st.st_mode)) /* a FIFO, a device: never opened (a FIFO blocks) */
        return nb__fail(NB_ERR_IO, "%s: is %s, not a regular file; nabla reads model and data files whole: "
                        "give the path of a regular file", spec,
                        S_ISFIFO(st.st_mode) ? "a named pipe (FIFO)" : "a device or special file");
    if (!is_file(spec)) return nb__fail(NB_ERR_IO, "%s: no such file or directory", spec);
    return nb__fail(NB_ERR_ARG, "%s: unknown kind of data: name a .csv, .tsv (or .gz) file (or write "
                    "csv:PATH), idx:IMAGES,LABELS, idx:PREFIX, or a directory of IDX files", spec);
}
