/* SPDX-License-Identifier: MIT */
/*
 * json_out.c - a small streaming JSON writer for --metrics-json: objects and arrays nest, each
 * member on its own indented line. Invariants: output is always valid JSON as long as every
 * cj_obj/cj_arr is closed; non-finite numbers become null; strings are escaped (control
 * characters as \u00XX; other bytes pass through, as the library's names are UTF-8).
 */
#include "cli.h"

#include <inttypes.h>
#include <math.h>

void cj_init(cli_json *j, FILE *f)
{
    j->f = f;
    j->depth = 0;
    j->count[0] = 0;
}

void cj_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20) fprintf(f, "\\u%04x", *p);
            else fputc(*p, f);
        }
    }
    fputc('"', f);
}

/* Separator, newline and indentation before a member, then its key. */
static void member(cli_json *j, const char *key)
{
    if (j->depth > 0) {
        fputs(j->count[j->depth] ? ",\n" : "\n", j->f);
        for (int i = 0; i < j->depth; i++) fputs("  ", j->f);
    }
    j->count[j->depth]++;
    if (key) {
        cj_string(j->f, key);
        fputs(": ", j->f);
    }
}

static void open_(cli_json *j, const char *key, char c)
{
    member(j, key);
    fputc(c, j->f);
    if (j->depth < 15) j->depth++;
    j->count[j->depth] = 0;
}

static void close_(cli_json *j, char c)
{
    int had = j->count[j->depth];
    if (j->depth > 0) j->depth--;
    if (had) {
        fputc('\n', j->f);
        for (int i = 0; i < j->depth; i++) fputs("  ", j->f);
    }
    fputc(c, j->f);
    if (j->depth == 0) fputc('\n', j->f);
}

void cj_obj(cli_json *j, const char *key) { open_(j, key, '{'); }
void cj_arr(cli_json *j, const char *key) { open_(j, key, '['); }
void cj_end_obj(cli_json *j) { close_(j, '}'); }
void cj_end_arr(cli_json *j) { close_(j, ']'); }

void cj_num(cli_json *j, const char *key, double v)
{
    member(j, key);
    if (isfinite(v)) fprintf(j->f, "%.9g", v);
    else fputs("null", j->f);
}

void cj_int(cli_json *j, const char *key, int64_t v)
{
    member(j, key);
    fprintf(j->f, "%" PRId64, v);
}

void cj_str(cli_json *j, const char *key, const char *s)
{
    member(j, key);
    if (s) cj_string(j->f, s);
    else fputs("null", j->f);
}

void cj_bool(cli_json *j, const char *key, int v)
{
    member(j, key);
    fputs(v ? "true" : "false", j->f);
}

void cj_null(cli_json *j, const char *key)
{
    member(j, key);
    fputs("null", j->f);
}
