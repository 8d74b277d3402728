/* SPDX-License-Identifier: MIT */
/*
 * args.c - table-driven parsing of a subcommand's long options.
 * Accepts "--name value" and "--name=value"; a value is always the next argument, even when it
 * starts with '-', so "--lr -1" is reported as a bad --lr rather than an unknown option.
 * Every error is one line naming the option and the text it got; status NB_ERR_ARG.
 */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int cli_wants_help(int argc, char **argv, int first)
{
    for (int i = first; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return 1;
    return 0;
}

void cli_describe(const cli_opt *o, char *buf, size_t cap)
{
    if (o->kind == CLI_U64) {
        snprintf(buf, cap, "an integer in [0, 18446744073709551615]");
    } else if (o->kind == CLI_INT) {
        if (o->hi >= 9e18)
            snprintf(buf, cap, o->lo == 1 ? "a positive integer" : "an integer >= %.0f", o->lo);
        else
            snprintf(buf, cap, "an integer in [%.0f, %.0f]", o->lo, o->hi);
    } else if (isinf(o->hi) && o->lo == 0) {
        snprintf(buf, cap, (o->open & CLI_OPEN_LO) ? "a positive number" : "a number >= 0");
    } else if (isinf(o->hi)) {
        snprintf(buf, cap, "a number %s %g", (o->open & CLI_OPEN_LO) ? ">" : ">=", o->lo);
    } else {
        snprintf(buf, cap, "a number in %c%g, %g%c", (o->open & CLI_OPEN_LO) ? '(' : '[', o->lo,
                 o->hi, (o->open & CLI_OPEN_HI) ? ')' : ']');
    }
}

static int bad_value(const cli_opt *o, const char *text)
{
    char what[96];
    cli_describe(o, what, sizeof what);
    return cli_fail(NB_ERR_ARG, "%s: expected %s, got '%s'", o->name, what, text);
}

/* Convert text for option o and store it. */
static int set_value(const cli_opt *o, const char *text)
{
    char *end;
    switch (o->kind) {
    case CLI_FLAG:
        *(int *)o->dst = 1;
        return NB_OK;
    case CLI_STR:
        if (!*text) return cli_fail(NB_ERR_ARG, "%s: expected a value, got ''", o->name);
        *(const char **)o->dst = text;
        return NB_OK;
    case CLI_U64: {
        errno = 0;
        if (!*text || *text == '-' || *text == '+' || *text == ' ') return bad_value(o, text);
        unsigned long long v = strtoull(text, &end, 10);
        if (*end || errno) return bad_value(o, text);
        *(uint64_t *)o->dst = (uint64_t)v;
        return NB_OK;
    }
    case CLI_INT: {
        errno = 0;
        long long v = strtoll(text, &end, 10);
        if (end == text || *end || errno || (double)v < o->lo || (double)v > o->hi)
            return bad_value(o, text);
        *(int64_t *)o->dst = (int64_t)v;
        return NB_OK;
    }
    case CLI_NUM: {
        double v = strtod(text, &end);
        if (end == text || *end || !isfinite(v)) return bad_value(o, text);
        int lo_ok = (o->open & CLI_OPEN_LO) ? v > o->lo : v >= o->lo;
        int hi_ok = (o->open & CLI_OPEN_HI) ? v < o->hi : v <= o->hi;
        if (!lo_ok || !hi_ok) return bad_value(o, text);
        *(double *)o->dst = v;
        return NB_OK;
    }
    }
    return NB_ERR_ARG;
}

static const cli_opt *find_opt(const cli_opt *opts, int n, const char *name, size_t len)
{
    for (int i = 0; i < n; i++) {
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0) return &opts[i];
        if (opts[i].alias && strlen(opts[i].alias) == len && strncmp(opts[i].alias, name, len) == 0)
            return &opts[i];
    }
    return NULL;
}

int cli_parse(const char *cmd, int argc, char **argv, int first, const cli_opt *opts, int n)
{
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        const cli_opt *short_ = a[0] == '-' && a[1] != '-' ? find_opt(opts, n, a, strlen(a)) : NULL;
        if (short_ && short_->kind == CLI_FLAG) { /* "-q": a one-letter alias of a flag */
            *(int *)short_->dst = 1;
            continue;
        }
        if (a[0] != '-' || a[1] != '-' || a[2] == '\0') {
            if (a[0] == '-' && a[1] != '\0')
                return cli_fail(NB_ERR_ARG, "%s: unknown option '%s' (see 'nabla %s --help')",
                                cmd, a, cmd);
            return cli_fail(NB_ERR_ARG, "%s: unexpected argument '%s' (options start with --)",
                            cmd, a);
        }
        const char *eq = strchr(a, '=');
        size_t len = eq ? (size_t)(eq - a) : strlen(a);
        const cli_opt *o = find_opt(opts, n, a, len);
        if (!o)
            return cli_fail(NB_ERR_ARG, "%s: unknown option '%.*s' (see 'nabla %s --help')", cmd,
                            (int)len, a, cmd);
        if (o->kind == CLI_FLAG) {
            if (eq) return cli_fail(NB_ERR_ARG, "%s: takes no value", o->name);
            *(int *)o->dst = 1;
            continue;
        }
        const char *val;
        if (eq) {
            val = eq + 1;
        } else {
            if (i + 1 >= argc) return cli_fail(NB_ERR_ARG, "%s: missing value", o->name);
            val = argv[++i];
        }
        int rc = set_value(o, val);
        if (rc) return rc;
    }
    return NB_OK;
}

int cli_parse_shape(const char *opt, const char *text, int *rank, int64_t shape[3])
{
    const char *p = text;
    int r = 0;
    for (;;) {
        char *end;
        errno = 0;
        long long v = (*p >= '0' && *p <= '9') ? strtoll(p, &end, 10) : 0;
        if (v < 1 || errno || r == 3 || v > ((long long)1 << 31)) goto bad;
        shape[r++] = (int64_t)v;
        p = end;
        if (*p == '\0') break;
        if (*p != 'x' && *p != 'X' && *p != ',') goto bad;
        p++;
    }
    *rank = r;
    return NB_OK;
bad:
    return cli_fail(NB_ERR_ARG, "%s: expected 1 to 3 positive dimensions such as 784 or 1x28x28, "
                    "got '%s'", opt, text);
}

int cli_delimiter(const char *text, char *out)
{
    if (strcmp(text, "auto") == 0) *out = 0;
    else if (strcmp(text, "tab") == 0 || strcmp(text, "\\t") == 0) *out = '\t';
    else if (strcmp(text, "space") == 0) *out = ' ';
    else if (strlen(text) == 1 && text[0] != '"' && text[0] != '\n' && text[0] != '\r')
        *out = text[0];
    else
        return cli_fail(NB_ERR_ARG, "--delimiter: expected one character (such as , or ;), tab, "
                        "space or auto, got '%s'", text);
    return NB_OK;
}

int cli_header_mode(const char *text, int *out)
{
    if (strcmp(text, "yes") == 0) *out = 1;
    else if (strcmp(text, "no") == 0) *out = 0;
    else if (strcmp(text, "auto") == 0) *out = -1;
    else return cli_fail(NB_ERR_ARG, "--header: expected yes, no or auto, got '%s'", text);
    return NB_OK;
}
