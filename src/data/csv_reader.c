/* SPDX-License-Identifier: MIT */
/*
 * csv_reader.c - RFC 4180 rows over an in-memory text, and strict number cells.
 * Rows end at LF or CRLF; a field starting with '"' is quoted (it may hold delimiters,
 * newlines and "" for a quote); blank lines (also those of only spaces and tabs) are skipped;
 * with the delimiter ' ', runs of spaces separate fields and leading/trailing spaces are none;
 * a UTF-8 byte-order mark is ignored.
 * Invariants: the text is never modified, so rewinding and reading again gives the same
 * rows; each cell of the current row is a NUL-terminated copy in scratch, valid until the
 * next call; line numbers count physical lines from 1, so messages point into the file.
 */
#include "data_internal.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

void nb__csv_init(nb__csv *r, const char *path, const char *text, size_t n, char delim)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    r->begin = text;
    r->end = text + n;
    r->delim = delim;
    r->stop[(unsigned char)delim] = r->stop['\n'] = r->stop['\r'] = r->stop['"'] = 1;
    r->stop[0] = 1;
    nb__csv_rewind(r);
}

void nb__csv_rewind(nb__csv *r)
{
    r->p = r->begin;
    if (r->end - r->p >= 3 && memcmp(r->p, "\xEF\xBB\xBF", 3) == 0) r->p += 3;
    r->line = 1;
    r->row_line = 1;
    r->n_cells = 0;
}

void nb__csv_free(nb__csv *r)
{
    nb_free(r->cells);
    nb_free(r->scratch);
    nb_free(r->offs);
    r->cells = NULL;
    r->scratch = NULL;
    r->offs = NULL;
    r->cap_cells = r->scratch_cap = r->cap_offs = 0;
}

static int scratch_grow(nb__csv *r, size_t n)
{
    size_t need;
    if (!nb__add_size(r->scratch_len, n, &need))
        return nb__fail(NB_ERR_NOMEM, "%s: row too long", r->path);
    size_t cap = r->scratch_cap ? r->scratch_cap : 256;
    while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = nb__realloc(r->scratch, cap);
    if (!p) return NB_ERR_NOMEM;
    r->scratch = p;
    r->scratch_cap = cap;
    return NB_OK;
}

/* Append s[0..n) (n is at most the text's size, so n + 1 cannot overflow). */
static inline int scratch_put(nb__csv *r, const char *s, size_t n)
{
    if (r->scratch_cap - r->scratch_len < n + 1) {
        int rc = scratch_grow(r, n + 1);
        if (rc) return rc;
    }
    memcpy(r->scratch + r->scratch_len, s, n);
    r->scratch_len += n;
    return NB_OK;
}

/* Record that a cell starts at scratch offset off. */
static int push_offset(nb__csv *r, size_t off)
{
    if (r->n_cells == r->cap_offs) {
        size_t cap = r->cap_offs ? r->cap_offs * 2 : 16;
        size_t *p = nb__alloc_array(cap, sizeof *p);
        if (!p) return NB_ERR_NOMEM;
        if (r->n_cells) memcpy(p, r->offs, r->n_cells * sizeof *p);
        nb_free(r->offs);
        r->offs = p;
        r->cap_offs = cap;
    }
    r->offs[r->n_cells++] = off;
    return NB_OK;
}

static bool at_eol(const nb__csv *r, const char *p)
{
    return *p == '\n' || (*p == '\r' && p + 1 < r->end && p[1] == '\n');
}

/* One field starting at r->p; leaves r->p on the delimiter, line end or end of text. */
static int read_field(nb__csv *r)
{
    size_t col = r->n_cells;
    int rc = push_offset(r, r->scratch_len);
    if (rc) return rc;
    const char *p = r->p;
    if (p < r->end && *p == '"') {
        size_t start_line = r->line;
        p++;
        for (;;) {
            const char *q = p;
            while (q < r->end && *q != '"' && *q != '\n' && *q != '\0') q++;
            if ((rc = scratch_put(r, p, (size_t)(q - p)))) return rc;
            if (q == r->end)
                return nb__fail(NB_ERR_FORMAT, "%s:%zu: column %zu: quoted field is not closed",
                                r->path, start_line, col);
            if (*q == '\0')
                return nb__fail(NB_ERR_FORMAT, "%s:%zu: column %zu: NUL byte (not a text file?)",
                                r->path, r->line, col);
            if (*q == '\n') {
                r->line++;
                if ((rc = scratch_put(r, "\n", 1))) return rc;
                p = q + 1;
                continue;
            }
            if (q + 1 < r->end && q[1] == '"') { /* "" is an escaped quote */
                if ((rc = scratch_put(r, "\"", 1))) return rc;
                p = q + 2;
                continue;
            }
            p = q + 1;
            break;
        }
        if (p < r->end && *p != r->delim && !at_eol(r, p))
            return nb__fail(NB_ERR_FORMAT, "%s:%zu: column %zu: unexpected character after a "
                            "closing quote", r->path, r->line, col);
    } else {
        const char *q = p;
        for (;;) { /* the hot loop: one table lookup per ordinary byte */
            while (q < r->end && !r->stop[(unsigned char)*q]) q++;
            if (q == r->end || *q == r->delim || *q == '\n') break;
            if (*q == '\r') {
                if (q + 1 < r->end && q[1] == '\n') break;
                q++; /* a lone CR is data */
                continue;
            }
            if (*q == '"')
                return nb__fail(NB_ERR_FORMAT, "%s:%zu: column %zu: quote inside an unquoted "
                                "field (quote the whole field and double the quote)",
                                r->path, r->line, col);
            return nb__fail(NB_ERR_FORMAT, "%s:%zu: column %zu: NUL byte (not a text file?)",
                            r->path, r->line, col);
        }
        if ((rc = scratch_put(r, p, (size_t)(q - p)))) return rc;
        p = q;
    }
    r->p = p;
    r->scratch[r->scratch_len++] = '\0'; /* scratch_put always leaves room for it */
    return NB_OK;
}

int nb__csv_next(nb__csv *r, bool *got)
{
    *got = false;
    r->n_cells = 0;
    r->scratch_len = 0;
    for (;;) { /* blank lines, including lines of only spaces and tabs */
        const char *q = r->p;
        while (q < r->end && (*q == ' ' || *q == '\t')) q++;
        if (q < r->end && at_eol(r, q)) {
            r->p = q + (*q == '\r' ? 2 : 1);
            r->line++;
            continue;
        }
        if (q == r->end) r->p = q; /* trailing blanks without a line end */
        /* space-separated text: runs of spaces are one separator, leading ones are none */
        else if (r->delim == ' ') r->p = q;
        break;
    }
    if (r->p == r->end) return NB_OK;
    r->row_line = r->line;
    for (;;) {
        int rc = read_field(r);
        if (rc) return rc;
        if (r->p == r->end) break;
        if (*r->p == r->delim) {
            r->p++;
            if (r->delim == ' ') {
                while (r->p < r->end && *r->p == ' ') r->p++;
                /* trailing spaces end the row rather than start an empty field */
                if (r->p == r->end) break;
                if (at_eol(r, r->p)) {
                    r->p += *r->p == '\r' ? 2 : 1;
                    r->line++;
                    break;
                }
            }
            continue;
        }
        r->p += *r->p == '\r' ? 2 : 1; /* LF or CRLF */
        r->line++;
        break;
    }
    if (r->n_cells > r->cap_cells) {
        nb__csv_cell *c = nb__alloc_array(r->n_cells, sizeof *c);
        if (!c) return NB_ERR_NOMEM;
        nb_free(r->cells);
        r->cells = c;
        r->cap_cells = r->n_cells;
    }
    /* scratch may have moved while the row grew: pointers are made only now */
    for (size_t i = 0; i < r->n_cells; i++) {
        size_t end = i + 1 < r->n_cells ? r->offs[i + 1] : r->scratch_len;
        r->cells[i].s = r->scratch + r->offs[i];
        r->cells[i].len = end - r->offs[i] - 1;
    }
    *got = true;
    return NB_OK;
}

static bool is_blank(char c) { return c == ' ' || c == '\t'; }

static bool word_ci(const char *s, size_t n, const char *w)
{
    if (strlen(w) != n) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != w[i]) return false;
    }
    return true;
}

int nb__parse_number(const char *s, double *out)
{
    while (is_blank(*s)) s++;
    const char *b = s, *e = s + strlen(s);
    while (e > b && is_blank(e[-1])) e--;
    /* grammar first, so strtod's extras (hex, "nan", "inf", locale forms) are never taken */
    const char *p = b;
    if (p < e && (*p == '+' || *p == '-')) p++;
    const char *word = p;
    size_t digits = 0;
    while (p < e && *p >= '0' && *p <= '9') p++, digits++;
    if (p < e && *p == '.') {
        p++;
        while (p < e && *p >= '0' && *p <= '9') p++, digits++;
    }
    if (digits && p < e && (*p == 'e' || *p == 'E')) {
        const char *q = p + 1;
        if (q < e && (*q == '+' || *q == '-')) q++;
        if (q < e && *q >= '0' && *q <= '9') {
            while (q < e && *q >= '0' && *q <= '9') q++;
            p = q;
        }
    }
    if (!digits || p != e) {
        size_t wn = (size_t)(e - word);
        if (word_ci(word, wn, "nan") || word_ci(word, wn, "inf") || word_ci(word, wn, "infinity"))
            return -1;
        return 0;
    }
    if (p - word == (ptrdiff_t)digits && digits <= 15) {
        /* a plain integer of at most 15 digits is exact in a double: no strtod needed */
        double v = 0;
        for (const char *q = word; q < e; q++) v = v * 10 + (*q - '0');
        *out = *b == '-' ? -v : v;
        return 1;
    }
    /* the grammar guarantees strtod stops exactly at e (blanks or the NUL follow); nb__strtod
     * reads '.' as the decimal point whatever locale the host program set */
    char *endp;
    errno = 0;
    double v = nb__strtod(b, &endp);
    if (endp != e) return 0;
    if (!isfinite(v) || fabs(v) > (double)FLT_MAX) return -1;
    *out = v;
    return 1;
}

bool nb__is_missing(const char *s)
{
    while (is_blank(*s)) s++;
    const char *e = s + strlen(s);
    while (e > s && is_blank(e[-1])) e--;
    size_t n = (size_t)(e - s);
    return n == 0 || word_ci(s, n, "na") || word_ci(s, n, "n/a") || word_ci(s, n, "nan") ||
           word_ci(s, n, "?") || word_ci(s, n, "null");
}

bool nb__utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        size_t n = c < 0x80 ? 0 : c >= 0xC2 && c <= 0xDF ? 1 : c >= 0xE0 && c <= 0xEF ? 2
                 : c >= 0xF0 && c <= 0xF4 ? 3 : 9;
        if (n == 9) return false;
        unsigned cp = n == 0 ? c : n == 1 ? c & 0x1F : n == 2 ? c & 0x0F : c & 0x07;
        for (size_t i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80) return false;
            cp = cp << 6 | (p[i] & 0x3F);
        }
        /* overlong forms, UTF-16 surrogates and values past U+10FFFF are not UTF-8 */
        if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return false;
        p += n + 1;
    }
    return true;
}
