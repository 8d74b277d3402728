/* SPDX-License-Identifier: MIT */
/*
 * json.h - a small JSON reader (to a read-only tree) and writing helpers, internal to nabla.
 * It serves the safetensors header (io), the metadata of model files and checkpoints (nn) and
 * the preprocessing state's JSON (data); the CLI's metrics JSON has its own streaming writer.
 * The parser is iterative (an explicit stack, no recursion on input depth), caps nesting at
 * max_depth, rejects anything not RFC 8259 (trailing commas, comments, bad escapes, lone
 * surrogates, NaN/Infinity literals), and every error names the byte offset.
 */
#ifndef NB_JSON_H
#define NB_JSON_H

#include "internal.h"

typedef enum nb__json_type {
    NB_JSON_NULL, NB_JSON_BOOL, NB_JSON_NUMBER, NB_JSON_STRING, NB_JSON_ARRAY, NB_JSON_OBJECT
} nb__json_type;

typedef struct nb__json nb__json;
struct nb__json {
    nb__json_type type;
    int boolean;      /* NB_JSON_BOOL */
    double number;    /* NB_JSON_NUMBER (strtod of the literal) */
    char *str;        /* NB_JSON_STRING: UTF-8, NUL-terminated (may contain \0 if escaped: see len) */
    size_t len;       /* string length in bytes */
    size_t count;     /* ARRAY / OBJECT: number of items */
    nb__json **items; /* ARRAY elements / OBJECT values, in document order */
    char **keys;      /* OBJECT keys (NUL-terminated), parallel to items */
};

/* Parse text[0..n). what names the source in error messages ("model.safetensors header").
 * Fails with NB_ERR_FORMAT ("<what>: byte 17: expected ':'") or NB_ERR_NOMEM. */
NB_HIDDEN int nb__json_parse(const char *text, size_t n, int max_depth, const char *what,
                             nb__json **out);
NB_HIDDEN void nb__json_free(nb__json *v);
/* Object lookup: the value of the first member named key, or NULL (also when obj is not an
 * object). */
NB_HIDDEN const nb__json *nb__json_get(const nb__json *obj, const char *key);

/* Writing: append s as a JSON string literal (quoted, escaped) / a float as the shortest
 * "%.9g" text that round-trips a float32 (non-finite values are written as null). */
NB_HIDDEN void nb__json_put_string(nb__buf *b, const char *s);
NB_HIDDEN void nb__json_put_float(nb__buf *b, double v);

#endif
