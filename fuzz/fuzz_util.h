/* SPDX-License-Identifier: MIT */
/*
 * fuzz_util.h - shared by the fuzz targets: nabla's loaders take paths, so each input is
 * written to a per-process temporary file (under $TMPDIR, default /tmp) that the target
 * removes before it returns. Header-only (static inline functions); not part of the library, so it
 * may print and abort: a harness abort means an invariant of nabla was broken.
 */
#ifndef NB_FUZZ_UTIL_H
#define NB_FUZZ_UTIL_H

#define _POSIX_C_SOURCE 200809L
#include "nabla.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* "$TMPDIR/nabla-fuzz-<pid>-<tag><suffix>" in a static slot per tag (tags are distinct
 * literals, at most 4 in use at once). */
static inline const char *fuzz_path(int slot, const char *tag, const char *suffix)
{
    static char buf[4][512];
    const char *dir = getenv("TMPDIR");
    snprintf(buf[slot], sizeof buf[slot], "%s/nabla-fuzz-%ld-%s%s", dir && *dir ? dir : "/tmp",
             (long)getpid(), tag, suffix);
    return buf[slot];
}

/* Write data[0..n) to path; abort when that fails (the harness, not nabla, is broken). */
static inline void fuzz_write(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0) {
        fprintf(stderr, "fuzz: cannot write %s\n", path);
        abort();
    }
}

/* A failed call must leave a message (the library's contract); abort otherwise. With
 * FUZZ_VERBOSE set in the environment every status is printed (to see what seeds reach). */
static inline void fuzz_check_msg(int rc, const char *call)
{
    if (getenv("FUZZ_VERBOSE"))
        fprintf(stderr, "%s: %s %s\n", call, nb_status_name(rc), rc ? nb_errmsg() : "");
    if (rc != NB_OK && (!nb_errmsg() || !*nb_errmsg())) {
        fprintf(stderr, "fuzz: %s failed with %s and no message\n", call, nb_status_name(rc));
        abort();
    }
}

static inline void fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz: invariant broken: %s\n", what);
    abort();
}

/* Whether a and b have the same sizes and the same rows and targets bit for bit, read through
 * the public API (the dataset is opaque); aborts when memory runs out. */
/* a loaded model must have sane sizes (else fuzz_fail(what)) and predict one zero sample */
static inline void fuzz_use_model(nb_model *m, const char *what)
{
    int64_t shape[3];
    int rank = nb_model_sample_shape(m, shape);
    int64_t nf = 1;
    for (int i = 0; i < rank; i++) nf *= shape[i];
    int nout = nb_model_n_outputs(m);
    if (rank < 1 || nf < 1 || nout < 1) fuzz_fail(what);
    if (nf > 4096 || nout > 4096) return;
    float *x = calloc((size_t)nf, sizeof *x), *y = calloc((size_t)nout, sizeof *y);
    if (x && y) fuzz_check_msg(nb_model_predict(m, x, 1, y), "nb_model_predict");
    free(x);
    free(y);
}

static inline bool fuzz_same_data(const nb_dataset *a, const nb_dataset *b)
{
    int64_t n = nb_dataset_n_rows(a), nf = nb_dataset_n_features(a), nt = nb_dataset_n_targets(a);
    if (n != nb_dataset_n_rows(b) || nf != nb_dataset_n_features(b) || nt != nb_dataset_n_targets(b))
        return false;
    size_t cells = (size_t)n * (size_t)nf;
    float *xa = malloc(cells * sizeof *xa), *xb = malloc(cells * sizeof *xb);
    if (!xa || !xb) abort();
    bool same = nb_dataset_rows(a, 0, n, xa, NULL) == NB_OK && nb_dataset_rows(b, 0, n, xb, NULL) == NB_OK &&
                memcmp(xa, xb, cells * sizeof *xa) == 0 &&
                (nt == 0 || memcmp(nb_dataset_targets(a), nb_dataset_targets(b), (size_t)n * (size_t)nt * sizeof(float)) == 0);
    free(xa);
    free(xb);
    return same;
}

/* What loading a CSV must keep, checked after learning pp and ds from spec with o (target
 * names the fuzzer in messages): the learned schema's JSON reads back and writes the same
 * text, and loading the file again under that schema gives the same rows bit for bit. */
static inline void fuzz_check_learned(const char *target, const char *spec, const nb_data_opts *o,
                                      nb_preproc *pp, const nb_dataset *ds)
{
    static char msg[160];
    char *a = NULL, *b = NULL;
    nb_preproc *back = NULL;
    nb_dataset *again = NULL;
    int rc = nb_preproc_to_json(pp, &a);
    if (rc == NB_OK && (rc = nb_preproc_from_json(a, &back)) != NB_ERR_NOMEM && rc != NB_OK) {
        fprintf(stderr, "%s\n%s\n", a, nb_errmsg());
        snprintf(msg, sizeof msg, "%s: the learned schema's JSON does not read back", target);
        fuzz_fail(msg);
    }
    if (rc == NB_OK && nb_preproc_to_json(back, &b) == NB_OK && strcmp(a, b) != 0) {
        snprintf(msg, sizeof msg, "%s: the schema's JSON changes in a round trip", target);
        fuzz_fail(msg);
    }
    nb_free(a);
    nb_free(b);
    nb_preproc_free(back);
    rc = nb_dataset_load(spec, o, pp, &again);
    fuzz_check_msg(rc, "nb_dataset_load (enforcing)");
    if (rc != NB_OK && rc != NB_ERR_NOMEM) {
        fprintf(stderr, "%s\n", nb_errmsg());
        snprintf(msg, sizeof msg, "%s: a file does not load under the schema learned from it", target);
        fuzz_fail(msg);
    }
    if (rc == NB_OK && !fuzz_same_data(ds, again)) {
        snprintf(msg, sizeof msg, "%s: reloading under the learned schema changed the dataset", target);
        fuzz_fail(msg);
    }
    nb_dataset_free(again);
}

#endif
