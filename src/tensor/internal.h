/* SPDX-License-Identifier: MIT */
/*
 * internal.h - helpers shared by every layer of nabla and never exported: the allocator
 * wrappers, overflow-checked size arithmetic and the error reporter.
 * Invariant: nb__fail() always returns the status it was given, so `return nb__fail(...)`
 * both records the message and propagates the code.
 */
#ifndef NB_INTERNAL_H
#define NB_INTERNAL_H

#include "nabla/base.h"
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#if defined(__GNUC__)
#define NB_PRINTF(a, b) __attribute__((format(printf, a, b)))
/* the library is built with -fvisibility=hidden, so this only restates the default; it keeps
 * internal declarations hidden in a build without that flag */
#define NB_HIDDEN __attribute__((visibility("hidden")))
#else
#define NB_PRINTF(a, b)
#define NB_HIDDEN
#endif

/* Memory through the allocator hook. nb__alloc returns NULL on failure (and records an
 * NB_ERR_NOMEM message); nb__alloc_array also fails on count*size overflow. */
NB_HIDDEN void *nb__alloc(size_t size);
NB_HIDDEN void *nb__calloc(size_t count, size_t size);
NB_HIDDEN void *nb__alloc_array(size_t count, size_t size);
NB_HIDDEN void *nb__realloc(void *ptr, size_t size);
NB_HIDDEN char *nb__strdup(const char *s);

/* Overflow-checked arithmetic: return false (and leave *out untouched) on overflow. */
NB_HIDDEN bool nb__mul_size(size_t a, size_t b, size_t *out);
NB_HIDDEN bool nb__add_size(size_t a, size_t b, size_t *out);
/* nb__numel: product of shape[0..rank) as size_t; false on a dimension < 0 or overflow. */
NB_HIDDEN bool nb__numel(int rank, const int64_t *shape, size_t *out);

/* Record a message for this thread and return status. */
NB_HIDDEN int nb__fail(int status, const char *fmt, ...) NB_PRINTF(2, 3);
NB_HIDDEN int nb__vfail(int status, const char *fmt, va_list ap);
/* Prefix the current message with "prefix: " (keeps the status), returns status. */
NB_HIDDEN int nb__fail_prefix(int status, const char *fmt, ...) NB_PRINTF(2, 3);

/* Format a shape as "(2, 3)" into buf (at least 96 bytes). */
NB_HIDDEN const char *nb__shape_str(int rank, const int64_t *shape, char *buf, size_t cap);

/* Deterministic natural logarithm in double (used by the RNG so streams match everywhere). */
NB_HIDDEN double nb__det_log(double x);

/* Locale-independent number text (locale.c): always the "C" locale's '.' decimal point, whatever
 * setlocale the host program made. Use these, never plain strtod/strtof/snprintf, for numbers that
 * are written to files or messages or parsed. */
NB_HIDDEN double nb__strtod(const char *s, char **end);
NB_HIDDEN float nb__strtof(const char *s, char **end);
NB_HIDDEN int nb__snprintf(char *buf, size_t cap, const char *fmt, ...) NB_PRINTF(3, 4);
NB_HIDDEN int nb__vsnprintf(char *buf, size_t cap, const char *fmt, va_list ap);

/* A growable byte buffer (for building text such as DOT or JSON). */
typedef struct nb__buf {
    char *data;
    size_t len, cap;
    int status; /* sticky: NB_OK or NB_ERR_NOMEM */
} nb__buf;
NB_HIDDEN void nb__buf_puts(nb__buf *b, const char *s);
NB_HIDDEN void nb__buf_put(nb__buf *b, const char *s, size_t n);
NB_HIDDEN void nb__buf_printf(nb__buf *b, const char *fmt, ...) NB_PRINTF(2, 3);
NB_HIDDEN void nb__buf_free(nb__buf *b);

/* Atomic file write: write n bytes to path via "path.tmp.<pid>", fflush, fsync, rename, then
 * fsync the directory. On failure the previous file is untouched and the temp file removed. */
NB_HIDDEN int nb__write_file_atomic(const char *path, const void *data, size_t n);
/* Read a whole file (at most max_size bytes, else NB_ERR_FORMAT). *data is NUL-terminated
 * (one extra byte) and released with nb_free. */
NB_HIDDEN int nb__read_file(const char *path, size_t max_size, char **data, size_t *n);

#endif
