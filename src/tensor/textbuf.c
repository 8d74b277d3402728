/* SPDX-License-Identifier: MIT */
/*
 * textbuf.c - a growable byte buffer with a sticky out-of-memory status, so text builders
 * (DOT, JSON, CSV) check once at the end instead of after every append.
 */
#include "internal.h"

#include <stdio.h>
#include <string.h>

static bool buf_reserve(nb__buf *b, size_t extra)
{
    if (b->status) return false;
    size_t need;
    if (!nb__add_size(b->len, extra, &need) || !nb__add_size(need, 1, &need)) {
        b->status = nb__fail(NB_ERR_NOMEM, "text buffer size overflows");
        return false;
    }
    if (need <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = nb__realloc(b->data, cap);
    if (!p) {
        b->status = NB_ERR_NOMEM;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

void nb__buf_put(nb__buf *b, const char *s, size_t n)
{
    if (!buf_reserve(b, n)) return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void nb__buf_puts(nb__buf *b, const char *s) { nb__buf_put(b, s, strlen(s)); }

void nb__buf_printf(nb__buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = nb__vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !buf_reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    nb__vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void nb__buf_free(nb__buf *b)
{
    nb_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
