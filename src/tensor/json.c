/* SPDX-License-Identifier: MIT */
/*
 * json.c - a strict RFC 8259 reader into a read-only tree, and the two writing helpers.
 * The parser is iterative: open containers live on an explicit, growable stack capped at
 * max_depth, so hostile nesting costs memory proportional to the cap, never C stack.
 * Invariant while parsing: every node created so far is reachable from the root (a member's
 * key is stored, with a NULL value, before its value is parsed), so on any error freeing the
 * root frees everything. nb__json_free is iterative too and never allocates.
 */
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct frame {
    nb__json *c; /* the open array or object */
    size_t cap;  /* allocated slots of c->items (and c->keys) */
} frame;

typedef struct parser {
    const char *s;
    size_t n, pos;
    const char *what;
    int max_depth;
    frame *stack;
    int depth, stack_cap;
} parser;

static int perr(const parser *p, size_t at, const char *msg)
{
    return nb__fail(NB_ERR_FORMAT, "%s: byte %zu: %s", p->what, at, msg);
}

static void skip_ws(parser *p)
{
    while (p->pos < p->n) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->pos++;
    }
}

static int unexpected(const parser *p, const char *expected)
{
    char msg[128];
    if (p->pos >= p->n)
        snprintf(msg, sizeof msg, "unexpected end of input, expected %s", expected);
    else {
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c >= 0x20 && c < 0x7f)
            snprintf(msg, sizeof msg, "expected %s, got '%c'", expected, c);
        else
            snprintf(msg, sizeof msg, "expected %s, got byte 0x%02x", expected, c);
    }
    return perr(p, p->pos, msg);
}

/* ---------------------------------------------------------------- freeing */

void nb__json_free(nb__json *v)
{
    /* Containers waiting to be freed are chained through their (unused) str field, so the
     * walk needs neither recursion nor memory. */
    if (!v) return;
    if (v->type != NB_JSON_ARRAY && v->type != NB_JSON_OBJECT) {
        nb_free(v->str);
        nb_free(v);
        return;
    }
    v->str = NULL;
    nb__json *head = v;
    while (head) {
        nb__json *c = head;
        head = (nb__json *)(void *)c->str;
        for (size_t i = 0; i < c->count; i++) {
            nb__json *it = c->items[i];
            if (c->keys) nb_free(c->keys[i]);
            if (!it) continue;
            if (it->type == NB_JSON_ARRAY || it->type == NB_JSON_OBJECT) {
                it->str = (char *)(void *)head;
                head = it;
            } else {
                nb_free(it->str);
                nb_free(it);
            }
        }
        nb_free(c->items);
        nb_free(c->keys);
        nb_free(c);
    }
}

/* ---------------------------------------------------------------- scalars */

/* Length of a valid UTF-8 sequence starting at s[0..avail), or 0 if invalid (overlong forms,
 * UTF-16 surrogates and code points above U+10FFFF are invalid, RFC 3629). */
static size_t utf8_len(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    size_t len;
    unsigned lo = 0x80, hi = 0xbf;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0) lo = 0xa0;
        if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0) lo = 0x90;
        if (c == 0xf4) hi = 0x8f;
    } else
        return 0;
    if (avail < len) return 0;
    if (s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf) return 0;
    return len;
}

static int hex4(const parser *p, size_t at, unsigned *out)
{
    unsigned v = 0;
    if (p->n - at < 4) return perr(p, at, "truncated \\u escape");
    for (int i = 0; i < 4; i++) {
        char c = p->s[at + (size_t)i];
        unsigned d;
        if (c >= '0' && c <= '9') d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') d = (unsigned)(c - 'A' + 10);
        else return perr(p, at + (size_t)i, "bad hex digit in \\u escape");
        v = v * 16 + d;
    }
    *out = v;
    return NB_OK;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Parse the string literal at p->pos (which is '"') into a fresh NUL-terminated buffer.
 * Every escape is at least as long as its UTF-8 output, so the raw length bounds the size. */
static int parse_string(parser *p, char **out, size_t *out_len)
{
    size_t start = p->pos + 1, end = start;
    while (end < p->n && p->s[end] != '"') end += p->s[end] == '\\' ? 2 : 1;
    if (end >= p->n) return perr(p, p->pos, "unterminated string");
    char *buf = nb__alloc(end - start + 1);
    if (!buf) return NB_ERR_NOMEM;
    size_t o = 0, i = start;
    int rc = NB_OK;
    while (i < end && rc == NB_OK) {
        unsigned char c = (unsigned char)p->s[i];
        if (c < 0x20) {
            rc = perr(p, i, "control character in string (must be escaped)");
        } else if (c >= 0x80) {
            size_t len = utf8_len((const unsigned char *)p->s + i, end - i);
            if (!len) {
                rc = perr(p, i, "invalid UTF-8 in string");
            } else {
                memcpy(buf + o, p->s + i, len);
                o += len;
                i += len;
            }
        } else if (c != '\\') {
            buf[o++] = (char)c;
            i++;
        } else {
            char e = p->s[i + 1];
            const char *simple = strchr("\"\\/bfnrt", e);
            if (e != '\0' && simple) {
                static const char repl[] = "\"\\/\b\f\n\r\t";
                buf[o++] = repl[simple - "\"\\/bfnrt"];
                i += 2;
            } else if (e == 'u') {
                unsigned cp, lo;
                rc = hex4(p, i + 2, &cp);
                if (rc == NB_OK && cp >= 0xdc00 && cp <= 0xdfff)
                    rc = perr(p, i, "lone low surrogate in \\u escape");
                else if (rc == NB_OK && cp >= 0xd800 && cp <= 0xdbff) {
                    if (end - (i + 6) < 6 || p->s[i + 6] != '\\' || p->s[i + 7] != 'u')
                        rc = perr(p, i, "high surrogate not followed by a \\u low surrogate");
                    else if ((rc = hex4(p, i + 8, &lo)) == NB_OK) {
                        if (lo < 0xdc00 || lo > 0xdfff)
                            rc = perr(p, i + 6, "expected a low surrogate after a high one");
                        else {
                            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                            i += 6;
                        }
                    }
                }
                if (rc == NB_OK) {
                    o += put_utf8(buf + o, cp);
                    i += 6;
                }
            } else {
                rc = perr(p, i, "invalid escape in string");
            }
        }
    }
    if (rc != NB_OK) {
        nb_free(buf);
        return rc;
    }
    buf[o] = '\0';
    *out = buf;
    *out_len = o;
    p->pos = end + 1;
    return NB_OK;
}

static int parse_number(parser *p, double *out)
{
    size_t start = p->pos, i = start;
    const char *s = p->s;
    if (i < p->n && s[i] == '-') i++;
    if (i < p->n && s[i] == '0') i++;
    else if (i < p->n && s[i] >= '1' && s[i] <= '9')
        while (i < p->n && s[i] >= '0' && s[i] <= '9') i++;
    else return perr(p, i, "invalid number: expected a digit");
    if (i < p->n && s[i] == '.') {
        i++;
        if (i >= p->n || s[i] < '0' || s[i] > '9')
            return perr(p, i, "invalid number: expected a digit after '.'");
        while (i < p->n && s[i] >= '0' && s[i] <= '9') i++;
    }
    if (i < p->n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < p->n && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= p->n || s[i] < '0' || s[i] > '9')
            return perr(p, i, "invalid number: expected a digit in the exponent");
        while (i < p->n && s[i] >= '0' && s[i] <= '9') i++;
    }
    /* strtod needs a terminated copy: the input need not end with NUL at n. */
    size_t len = i - start;
    char small[64], *tmp = small;
    if (len >= sizeof small && !(tmp = nb__alloc(len + 1))) return NB_ERR_NOMEM;
    memcpy(tmp, s + start, len);
    tmp[len] = '\0';
    double v = nb__strtod(tmp, NULL);
    if (tmp != small) nb_free(tmp);
    if (!isfinite(v)) return perr(p, start, "number out of range");
    *out = v;
    p->pos = i;
    return NB_OK;
}

/* ---------------------------------------------------------------- containers */

/* Append a slot to the innermost open container (with key, for objects; key is taken over
 * even on failure). The slot's value is NULL until set. */
static int add_slot(parser *p, char *key)
{
    frame *f = &p->stack[p->depth - 1];
    nb__json *c = f->c;
    if (c->count == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 4;
        nb__json **items = nb__realloc(c->items, cap * sizeof *items);
        if (!items) {
            nb_free(key);
            return NB_ERR_NOMEM;
        }
        c->items = items;
        if (c->type == NB_JSON_OBJECT) {
            char **keys = nb__realloc(c->keys, cap * sizeof *keys);
            if (!keys) {
                nb_free(key);
                return NB_ERR_NOMEM;
            }
            c->keys = keys;
        }
        f->cap = cap;
    }
    c->items[c->count] = NULL;
    if (c->keys) c->keys[c->count] = key;
    c->count++;
    return NB_OK;
}

/* Parse one value at p->pos into *slot; a container is left open on the stack. */
static int parse_value(parser *p, nb__json **slot)
{
    skip_ws(p);
    if (p->pos >= p->n) return unexpected(p, "a value");
    char c = p->s[p->pos];
    nb__json *v = nb__calloc(1, sizeof *v);
    if (!v) return NB_ERR_NOMEM;
    *slot = v; /* reachable from now on: freed with the root on any error */
    v->type = NB_JSON_NULL;
    if (c == '{' || c == '[') {
        v->type = c == '{' ? NB_JSON_OBJECT : NB_JSON_ARRAY;
        if (p->depth >= p->max_depth) {
            char msg[64];
            snprintf(msg, sizeof msg, "nesting deeper than %d levels", p->max_depth);
            return perr(p, p->pos, msg);
        }
        if (p->depth == p->stack_cap) {
            int cap = p->stack_cap > p->max_depth / 2 ? p->max_depth
                      : p->stack_cap ? p->stack_cap * 2 : 8;
            if (cap > p->max_depth) cap = p->max_depth;
            frame *st = nb__realloc(p->stack, (size_t)cap * sizeof *st);
            if (!st) return NB_ERR_NOMEM;
            p->stack = st;
            p->stack_cap = cap;
        }
        p->stack[p->depth].c = v;
        p->stack[p->depth].cap = 0;
        p->depth++;
        p->pos++;
        return NB_OK;
    }
    if (c == '"') {
        v->type = NB_JSON_STRING;
        return parse_string(p, &v->str, &v->len);
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        v->type = NB_JSON_NUMBER;
        return parse_number(p, &v->number);
    }
    static const char *const lits[3] = {"true", "false", "null"};
    for (int k = 0; k < 3; k++) {
        size_t len = strlen(lits[k]);
        if (p->n - p->pos >= len && memcmp(p->s + p->pos, lits[k], len) == 0) {
            v->type = k < 2 ? NB_JSON_BOOL : NB_JSON_NULL;
            v->boolean = k == 0;
            p->pos += len;
            return NB_OK;
        }
    }
    return unexpected(p, "a value");
}

/* In an open object, at a member: parse `"key" :` and add its slot. */
static int parse_key(parser *p)
{
    skip_ws(p);
    if (p->pos >= p->n || p->s[p->pos] != '"') return unexpected(p, "a string key");
    char *key;
    size_t len;
    int rc = parse_string(p, &key, &len);
    if (rc) return rc;
    if (memchr(key, '\0', len)) {
        nb_free(key);
        return perr(p, p->pos, "object key contains \\u0000");
    }
    skip_ws(p);
    if (p->pos >= p->n || p->s[p->pos] != ':') {
        nb_free(key);
        return unexpected(p, "':'");
    }
    p->pos++;
    return add_slot(p, key);
}

static int parse_doc(parser *p, nb__json **root)
{
    int rc = parse_value(p, root);
    /* Back here after each complete value, or right after a container opened: close the
     * innermost container or move on to its next member. */
    while (rc == NB_OK && p->depth > 0) {
        nb__json *c = p->stack[p->depth - 1].c;
        int is_obj = c->type == NB_JSON_OBJECT;
        char close = is_obj ? '}' : ']';
        skip_ws(p);
        if (p->pos < p->n && p->s[p->pos] == close) {
            p->pos++;
            p->depth--;
            continue;
        }
        if (c->count > 0) {
            if (p->pos >= p->n || p->s[p->pos] != ',') {
                rc = unexpected(p, is_obj ? "',' or '}'" : "',' or ']'");
                break;
            }
            p->pos++;
        }
        rc = is_obj ? parse_key(p) : add_slot(p, NULL);
        if (rc == NB_OK) rc = parse_value(p, &c->items[c->count - 1]);
    }
    if (rc != NB_OK) return rc;
    skip_ws(p);
    if (p->pos < p->n) return perr(p, p->pos, "unexpected content after the document");
    return NB_OK;
}

int nb__json_parse(const char *text, size_t n, int max_depth, const char *what, nb__json **out)
{
    *out = NULL;
    parser p;
    memset(&p, 0, sizeof p);
    p.s = text;
    p.n = n;
    p.what = what ? what : "JSON";
    p.max_depth = max_depth < 1 ? 1 : max_depth;
    nb__json *root = NULL;
    int rc = parse_doc(&p, &root);
    nb_free(p.stack);
    if (rc != NB_OK) {
        nb__json_free(root);
        return rc;
    }
    *out = root;
    return NB_OK;
}

const nb__json *nb__json_get(const nb__json *obj, const char *key)
{
    if (!obj || obj->type != NB_JSON_OBJECT) return NULL;
    for (size_t i = 0; i < obj->count; i++)
        if (strcmp(obj->keys[i], key) == 0) return obj->items[i];
    return NULL;
}

/* ---------------------------------------------------------------- writing */

void nb__json_put_string(nb__buf *b, const char *s)
{
    nb__buf_put(b, "\"", 1);
    for (const char *q = s; *q; q++) {
        unsigned char c = (unsigned char)*q;
        if (c == '"') nb__buf_put(b, "\\\"", 2);
        else if (c == '\\') nb__buf_put(b, "\\\\", 2);
        else if (c == '\n') nb__buf_put(b, "\\n", 2);
        else if (c == '\r') nb__buf_put(b, "\\r", 2);
        else if (c == '\t') nb__buf_put(b, "\\t", 2);
        else if (c < 0x20) nb__buf_printf(b, "\\u%04x", c);
        else nb__buf_put(b, q, 1);
    }
    nb__buf_put(b, "\"", 1);
}

void nb__json_put_float(nb__buf *b, double v)
{
    if (!isfinite(v)) {
        nb__buf_puts(b, "null");
        return;
    }
    /* The shortest precision whose text reads back as the same float32; 9 always does. */
    float f = (float)v;
    char tmp[32];
    for (int prec = 1; prec <= 9; prec++) {
        nb__snprintf(tmp, sizeof tmp, "%.*g", prec, (double)f);
        if (nb__strtof(tmp, NULL) == f) break;
    }
    nb__buf_puts(b, tmp);
}
