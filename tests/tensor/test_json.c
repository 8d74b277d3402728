/* SPDX-License-Identifier: MIT */
/*
 * test_json.c - the internal JSON reader and writers: valid documents give the expected tree,
 * every kind of malformed document is rejected with its byte offset, nesting beyond the cap
 * fails without recursion, and an allocation failure at every step is clean and leak-free.
 */
#include "check.h"
#include "fault_alloc.h"
#include "json.h"

#include <stdlib.h>


static int parse(const char *s, int depth, nb__json **out)
{
    return nb__json_parse(s, strlen(s), depth, "doc", out);
}

static void test_valid(void)
{
    nb__json *v = NULL;
    const char *doc = " {\"a\": [1, -2.5e3, 0, true, false, null], \"b\": {\"c\": \"x\\ty\"},"
                      " \"empty\": {}, \"none\": [], \"a\": 7}\r\n";
    CHECK_OK(parse(doc, 8, &v));
    CHECK(v && v->type == NB_JSON_OBJECT && v->count == 5);
    if (v && v->count == 5) {
        const nb__json *a = nb__json_get(v, "a"); /* the first of two "a" members */
        CHECK(a && a->type == NB_JSON_ARRAY && a->count == 6);
        if (a && a->count == 6) {
            CHECK(a->items[0]->type == NB_JSON_NUMBER && a->items[0]->number == 1.0);
            CHECK(a->items[1]->number == -2500.0);
            CHECK(a->items[2]->number == 0.0);
            CHECK(a->items[3]->type == NB_JSON_BOOL && a->items[3]->boolean == 1);
            CHECK(a->items[4]->type == NB_JSON_BOOL && a->items[4]->boolean == 0);
            CHECK(a->items[5]->type == NB_JSON_NULL);
        }
        const nb__json *c = nb__json_get(nb__json_get(v, "b"), "c");
        CHECK(c && c->type == NB_JSON_STRING && c->len == 3 && strcmp(c->str, "x\ty") == 0);
        CHECK(nb__json_get(v, "empty")->count == 0);
        CHECK(nb__json_get(v, "none")->type == NB_JSON_ARRAY);
        CHECK(nb__json_get(v, "missing") == NULL);
        CHECK(nb__json_get(a, "x") == NULL); /* not an object */
        CHECK(strcmp(v->keys[4], "a") == 0 && v->items[4]->number == 7.0);
    }
    nb__json_free(v);

    /* scalars at top level */
    CHECK_OK(parse("42", 1, &v));
    CHECK(v && v->type == NB_JSON_NUMBER && v->number == 42.0);
    nb__json_free(v);
    CHECK_OK(parse("\"\"", 1, &v));
    CHECK(v && v->type == NB_JSON_STRING && v->len == 0 && v->str[0] == '\0');
    nb__json_free(v);
    CHECK_OK(parse("-0.0e+0", 1, &v));
    CHECK(v && v->number == 0.0 && signbit(v->number));
    nb__json_free(v);
    CHECK_OK(parse("1E-2", 1, &v));
    CHECK(v && v->number == 0.01);
    nb__json_free(v);

    /* escapes: \uXXXX incl. a surrogate pair, raw UTF-8 passthrough, escaped NUL */
    CHECK_OK(parse("\"\\u00e9\\u20AC\\ud83d\\ude00 \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
                   "\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0000z\"", 1, &v));
    const char expect[] = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
                          "\"\\/\b\f\n\r\t\0z";
    CHECK(v && v->len == sizeof expect - 1 && memcmp(v->str, expect, sizeof expect) == 0);
    nb__json_free(v);

    /* not NUL-terminated input: the parser must stop at n */
    char buf[4] = {'1', '2', '3', '4'};
    CHECK_OK(nb__json_parse(buf, 2, 1, "doc", &v));
    CHECK(v && v->number == 12.0);
    nb__json_free(v);
    CHECK_OK(nb__json_parse("[1]xyz", 3, 1, "doc", &v));
    nb__json_free(v);

    /* nesting exactly at the cap */
    CHECK_OK(parse("[[[{\"k\":[]}]]]", 5, &v));
    nb__json_free(v);
    nb__json_free(NULL);
}

static void test_malformed(void)
{
    static const struct {
        const char *doc, *msg;
    } cases[] = {
        {"", "byte 0: unexpected end of input, expected a value"},
        {"   ", "byte 3: unexpected end of input"},
        {"[1,]", "byte 3: expected a value, got ']'"},
        {"{\"a\":1,}", "byte 7: expected a string key, got '}'"},
        {"{\"a\" 1}", "byte 5: expected ':'"},
        {"{a:1}", "byte 1: expected a string key"},
        {"{\"a\":1 \"b\":2}", "byte 7: expected ',' or '}'"},
        {"[1 2]", "byte 3: expected ',' or ']'"},
        {"[1", "byte 2: unexpected end of input, expected ',' or ']'"},
        {"{", "byte 1: unexpected end of input, expected a string key"},
        {"[}", "byte 1: expected a value, got '}'"},
        {"[1}", "byte 2: expected ',' or ']'"},
        {"{\"a\":1]", "byte 6: expected ',' or '}'"},
        {"1 2", "byte 2: unexpected content after the document"},
        {"{} x", "byte 3: unexpected content"},
        {"// c\n1", "byte 0: expected a value, got '/'"},
        {"[1,/*x*/2]", "byte 3: expected a value"},
        {"NaN", "expected a value, got 'N'"},
        {"Infinity", "expected a value"},
        {"-Infinity", "byte 1: invalid number"},
        {"tru", "expected a value"},
        {"nul", "expected a value"},
        {"True", "expected a value"},
        {"01", "byte 1: unexpected content"},
        {"-", "byte 1: invalid number: expected a digit"},
        {"+1", "expected a value, got '+'"},
        {".5", "expected a value"},
        {"1.", "byte 2: invalid number: expected a digit after '.'"},
        {"1.e3", "byte 2: invalid number"},
        {"1e", "byte 2: invalid number: expected a digit in the exponent"},
        {"1e+", "byte 3: invalid number"},
        {"0x10", "byte 1: unexpected content"},
        {"1e400", "byte 0: number out of range"},
        {"-1e400", "number out of range"},
        {"\"abc", "byte 0: unterminated string"},
        {"\"a\\\"", "unterminated string"},
        {"\"a\tb\"", "byte 2: control character in string"},
        {"\"a\nb\"", "control character"},
        {"\"\\x\"", "byte 1: invalid escape"},
        {"\"\\u12G4\"", "byte 5: bad hex digit"},
        {"\"\\u12\"", "byte 3: truncated \\u escape"},
        {"\"\\u12\"  ", "byte 5: bad hex digit"},
        {"\"\\ud800\"", "byte 1: high surrogate not followed"},
        {"\"\\ud800\\n\"", "high surrogate not followed"},
        {"\"\\ud800\\u0041\"", "byte 7: expected a low surrogate"},
        {"\"\\udc00\"", "byte 1: lone low surrogate"},
        {"\"\xff\"", "byte 1: invalid UTF-8"},
        {"\"\xc0\x80\"", "invalid UTF-8"},              /* overlong NUL */
        {"\"\xe0\x80\xaf\"", "invalid UTF-8"},          /* overlong '/' */
        {"\"\xed\xa0\x80\"", "invalid UTF-8"},          /* encoded surrogate */
        {"\"\xf4\x90\x80\x80\"", "invalid UTF-8"},      /* above U+10FFFF */
        {"\"\xe2\x82\"", "invalid UTF-8"},              /* truncated sequence */
        {"\xef\xbb\xbf{}", "byte 0: expected a value, got byte 0xef"}, /* BOM */
        {"{\"a\\u0000b\":1}", "object key contains \\u0000"},
        {"[\"a\",]", "byte 5: expected a value"},
        {"'a'", "expected a value, got '''"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nb__json *v = (nb__json *)&v; /* must be reset to NULL on failure */
        int rc = parse(cases[i].doc, 8, &v);
        CHECK_ERR(rc, NB_ERR_FORMAT, cases[i].msg);
        CHECK(v == NULL);
        CHECK(strncmp(nb_errmsg(), "doc: byte ", 10) == 0);
        if (rc != NB_ERR_FORMAT) nb__json_free(v);
    }
}

static void test_depth(void)
{
    /* far beyond the cap: must fail quickly, with no recursion and memory bounded by the cap */
    size_t n = 1000000;
    char *s = malloc(n + 1);
    CHECK(s != NULL);
    if (!s) return;
    memset(s, '[', n);
    s[n] = '\0';
    nb__json *v = NULL;
    CHECK_ERR(nb__json_parse(s, n, 64, "deep", &v), NB_ERR_FORMAT,
              "deep: byte 64: nesting deeper than 64 levels");
    CHECK(v == NULL);
    /* deep but allowed, mixed objects and arrays: builds and frees without recursion */
    size_t depth = 20000, k = 0;
    for (size_t i = 0; i < depth; i++) {
        if (i % 2) s[k++] = '[';
        else {
            memcpy(s + k, "{\"k\":", 5);
            k += 5;
        }
    }
    s[k++] = '1';
    for (size_t i = depth; i-- > 0;) s[k++] = i % 2 ? ']' : '}';
    CHECK_OK(nb__json_parse(s, k, (int)depth, "deep", &v));
    const nb__json *w = v;
    size_t got = 0;
    while (w && (w->type == NB_JSON_ARRAY || w->type == NB_JSON_OBJECT) && w->count == 1) {
        w = w->items[0];
        got++;
    }
    CHECK(got == depth && w && w->type == NB_JSON_NUMBER && w->number == 1.0);
    nb__json_free(v);
    CHECK_ERR(nb__json_parse(s, k, (int)depth - 1, "deep", &v), NB_ERR_FORMAT, "nesting deeper");
    free(s);
}

static void fa_alloc_failures(void)
{
    const char *doc = "{\"name\": \"w\\u00e9ight\", \"shape\": [2, 3, 4, 5, 6, 7],"
                      " \"nested\": {\"a\": [[1], [2, {\"b\": null}]], \"long\": "
                      "1.00000000000000000000000000000000000000000000000000000000000000000001},"
                      " \"k1\": 1, \"k2\": 2, \"k3\": 3, \"k4\": 4, \"k5\": true}";
    nb__json *ref = NULL;
    nb_set_allocator(fa_alloc, NULL);
    fa_fail_at = 0;
    fa_calls = 0;
    CHECK_OK(parse(doc, 8, &ref));
    long total = fa_calls;
    CHECK(total > 20);
    nb__json_free(ref);
    CHECK(fa_live == 0);
    int failures = 0;
    for (long k = 1; k <= total; k++) {
        fa_calls = 0;
        fa_live = 0;
        fa_fail_at = k;
        nb__json *v = NULL;
        int rc = parse(doc, 8, &v);
        if (rc != NB_ERR_NOMEM || v != NULL || fa_live != 0) {
            failures++;
            fprintf(stderr, "alloc failure at %ld: rc %d, live %ld\n", k, rc, fa_live);
        }
        if (rc == NB_OK) nb__json_free(v);
    }
    CHECK(failures == 0);
    fa_fail_at = 0;
    nb_set_allocator(NULL, NULL);
}

static void test_writers(void)
{
    nb__buf b = {0};
    nb__json_put_string(&b, "a\"b\\c\n\t\r\x01\x1f \xc3\xa9/");
    nb__buf_puts(&b, " ");
    nb__json_put_float(&b, (double)0.1f);
    nb__buf_puts(&b, " ");
    nb__json_put_float(&b, 1.0 / 3.0);
    nb__buf_puts(&b, " ");
    nb__json_put_float(&b, -0.0);
    nb__buf_puts(&b, " ");
    nb__json_put_float(&b, 16777217.0);
    nb__buf_puts(&b, " ");
    nb__json_put_float(&b, (double)INFINITY);
    nb__buf_puts(&b, " ");
    nb__json_put_float(&b, (double)NAN);
    nb__buf_puts(&b, " ");
    nb__json_put_float(&b, 3.4028234663852886e38);
    CHECK(b.status == NB_OK);
    const char *want = "\"a\\\"b\\\\c\\n\\t\\r\\u0001\\u001f \xc3\xa9/\" 0.1 0.33333334 -0 "
                       "16777216 null null 3.4028235e+38";
    CHECK(b.data && strcmp(b.data, want) == 0);
    if (b.data && strcmp(b.data, want) != 0) fprintf(stderr, "got: %s\n", b.data);

    /* what the writer produces, the reader reads back */
    nb__buf arr = {0};
    nb__buf_puts(&arr, "[");
    nb__json_put_string(&arr, "q\"\x02\xf0\x9f\x98\x80");
    float vals[4] = {1e-45f, 123.456f, -7.5e-8f, 65504.0f};
    for (int i = 0; i < 4; i++) {
        nb__buf_puts(&arr, ",");
        nb__json_put_float(&arr, (double)vals[i]);
    }
    nb__buf_puts(&arr, "]");
    nb__json *v = NULL;
    CHECK_OK(nb__json_parse(arr.data, arr.len, 2, "rt", &v));
    CHECK(v && v->count == 5);
    if (v && v->count == 5) {
        CHECK(strcmp(v->items[0]->str, "q\"\x02\xf0\x9f\x98\x80") == 0);
        for (int i = 0; i < 4; i++) CHECK((float)v->items[i + 1]->number == vals[i]);
    }
    nb__json_free(v);
    nb__buf_free(&arr);
    nb__buf_free(&b);
}

int main(void)
{
    test_valid();
    test_malformed();
    test_depth();
    fa_alloc_failures();
    test_writers();
    return check_exit("test_json");
}
