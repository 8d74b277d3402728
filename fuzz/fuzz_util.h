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

#endif
