/* SPDX-License-Identifier: MIT */
/*
 * test_data_text.c - a CSV text column as a token sequence (issue 15, "Data"): characters
 * (code points of UTF-8, "größe" and "łódź" one token per letter) and words; ids by falling
 * count then bytes with 0 padding and 1 unknown; min_count and max_vocab; max_len learned,
 * given and truncating (the FIRST tokens kept); tokens unseen at training -> 1; every kind of
 * invalid UTF-8 refused with file:line, at training and against a schema; mixing with numeric
 * or further text columns refused; the preprocessing JSON round trip; data without text (or
 * without the option) unchanged. Expected ids are counted by hand in the comments.
 */
#include "data_fixture.h"
#include "ds_fixture.h"

static nb_data_opts text_opts(nb_tokens t)
{
    nb_data_opts o = nb_data_opts_default();
    o.tokens = t;
    return o;
}

static int learn(const char *name, const char *csv, const nb_data_opts *o, nb_preproc **pp,
                 nb_dataset **ds)
{
    *ds = NULL;
    int rc = nb_preproc_create(pp);
    return rc ? rc : nb_dataset_load_csv_text(name, csv, strlen(csv), o, *pp, ds);
}

/* row i of ds equals want[0..n) */
static void check_row(const nb_dataset *ds, int64_t i, const float *want, int64_t n)
{
    CHECK(ds && nb_dataset_n_features(ds) == n);
    if (!ds || nb_dataset_n_features(ds) != n) return;
    for (int64_t k = 0; k < n; k++) {
        float got = ds_x(ds, i * n + k);
        if (got != want[k]) {
            fprintf(stderr, "row %lld id %lld: %g, expected %g\n", (long long)i, (long long)k,
                    (double)got, (double)want[k]);
            CHECK(0);
        }
    }
}

static void test_chars(void)
{
    nb_preproc *pp;
    nb_dataset *ds;
    nb_data_opts o = text_opts(NB_TOKENS_CHARS);
    /* counts b 3, a 2, c 1: ids b 2, a 3, c 4; the longest row has 4 characters */
    CHECK_OK(learn("c.csv", "text,y\nabca,0\nbb,1\n\"\",0\n", &o, &pp, &ds));
    CHECK(nb_preproc_vocab_size(pp) == 5 && nb_preproc_n_features(pp) == 4);
    CHECK(ds && nb_dataset_n_rows(ds) == 3 && nb_dataset_sample_rank(ds) == 1 &&
          nb_dataset_sample_shape(ds)[0] == 4);
    check_row(ds, 0, (const float[]){3, 2, 4, 3}, 4);
    check_row(ds, 1, (const float[]){2, 2, 0, 0}, 4);
    check_row(ds, 2, (const float[]){0, 0, 0, 0}, 4); /* empty text: all padding */
    nb_dataset_free(ds);
    nb_preproc_free(pp);
    /* multi-byte letters are one token each: g r ö ß e / ł ó d ź; counts all 1 except none,
     * so ids follow the bytes: d e g r ó ö ß ź ł (UTF-8 byte order) */
    CHECK_OK(learn("u.csv", "w,y\ngröße,0\nłódź,1\n", &o, &pp, &ds));
    CHECK(nb_preproc_vocab_size(pp) == 11 && nb_preproc_n_features(pp) == 5);
    /* d2 e3 g4 r5 ß6 ó7 ö8 ł9 ź10: ß C3 9F < ó C3 B3 < ö C3 B6 < ł C5 82 < ź C5 BA */
    check_row(ds, 0, (const float[]){4, 5, 8, 6, 3}, 5);
    check_row(ds, 1, (const float[]){9, 7, 2, 10, 0}, 5);
    nb_dataset_free(ds);
    nb_preproc_free(pp);
    /* 4-byte code points (emoji) and spaces are characters too */
    CHECK_OK(learn("e.csv", "w,y\n\"a \xF0\x9F\x98\x80\",0\nb,1\n", &o, &pp, &ds));
    CHECK(nb_preproc_vocab_size(pp) == 6 && nb_preproc_n_features(pp) == 3);
    /* ' ' 2, a 3, b 4, U+1F600 5 (all once: bytes order) */
    check_row(ds, 0, (const float[]){3, 2, 5}, 3);
    nb_dataset_free(ds);
    nb_preproc_free(pp);
}

static void test_words(void)
{
    nb_preproc *pp;
    nb_dataset *ds;
    nb_data_opts o = text_opts(NB_TOKENS_WORDS);
    /* the 3, cat 2, dog 2, a 1: ids the 2, cat 3, dog 4, a 5 (cat < dog by bytes) */
    CHECK_OK(learn("w.csv", "text,y\n\"the dog  the\",0\n\" cat\tdog \",1\n\"a the cat\",0\n",
                   &o, &pp, &ds));
    CHECK(nb_preproc_vocab_size(pp) == 6 && nb_preproc_n_features(pp) == 3);
    check_row(ds, 0, (const float[]){2, 4, 2}, 3);
    check_row(ds, 1, (const float[]){3, 4, 0}, 3);
    check_row(ds, 2, (const float[]){5, 2, 3}, 3);
    /* against the schema: unseen words -> 1, longer rows truncated to the first 3 */
    nb_dataset *t = NULL;
    const char *csv = "text,y\n\"zebra the\",0\n\"cat cat cat cat dog\",1\n";
    CHECK_OK(nb_dataset_load_csv_text("t.csv", csv, strlen(csv), NULL, pp, &t));
    check_row(t, 0, (const float[]){1, 2, 0}, 3);
    check_row(t, 1, (const float[]){3, 3, 3}, 3);
    nb_dataset_free(t);
    /* prediction data: the text column alone */
    csv = "text\n\"dog a\"\n";
    CHECK_OK(nb_dataset_load_csv_text("p.csv", csv, strlen(csv), NULL, pp, &t));
    CHECK(t && nb_dataset_n_targets(t) == 0);
    check_row(t, 0, (const float[]){4, 5, 0}, 3);
    nb_dataset_free(t);
    nb_dataset_free(ds);
    nb_preproc_free(pp);
}

static void test_limits(void)
{
    nb_preproc *pp;
    nb_dataset *ds;
    const char *csv = "text,y\n\"x x x y y z\",0\n\"w x\",1\n";
    nb_data_opts o = text_opts(NB_TOKENS_WORDS);
    /* counts x 4, y 2, w 1, z 1: min_count 2 keeps x 2, y 3; w and z unknown */
    o.min_count = 2;
    CHECK_OK(learn("m.csv", csv, &o, &pp, &ds));
    CHECK(nb_preproc_vocab_size(pp) == 4 && nb_preproc_n_features(pp) == 6);
    check_row(ds, 0, (const float[]){2, 2, 2, 3, 3, 1}, 6);
    check_row(ds, 1, (const float[]){1, 2, 0, 0, 0, 0}, 6);
    nb_dataset_free(ds);
    nb_preproc_free(pp);
    /* max_vocab counts 0 and 1: 4 ids keep x and y; w ties z, w first by bytes at 5 */
    o.min_count = 1;
    o.max_vocab = 4;
    CHECK_OK(learn("v.csv", csv, &o, &pp, &ds));
    CHECK(nb_preproc_vocab_size(pp) == 4);
    check_row(ds, 0, (const float[]){2, 2, 2, 3, 3, 1}, 6);
    nb_dataset_free(ds);
    nb_preproc_free(pp);
    o.max_vocab = 5;
    CHECK_OK(learn("v.csv", csv, &o, &pp, &ds));
    CHECK(nb_preproc_vocab_size(pp) == 5);
    check_row(ds, 1, (const float[]){4, 2, 0, 0, 0, 0}, 6);
    nb_dataset_free(ds);
    nb_preproc_free(pp);
    /* max_len 2: the FIRST two tokens */
    o.max_vocab = 0;
    o.max_len = 2;
    CHECK_OK(learn("l.csv", csv, &o, &pp, &ds));
    CHECK(nb_preproc_n_features(pp) == 2);
    check_row(ds, 0, (const float[]){2, 2}, 2);
    check_row(ds, 1, (const float[]){4, 2}, 2);
    nb_dataset_free(ds);
    nb_preproc_free(pp);
    /* a learned length is capped at 1024; a word over 64 bytes is always unknown */
    size_t n = 8 + 2 * 1500 + 8 + 80 + 16;
    char *big = malloc(n), *p = big;
    p += sprintf(p, "text,y\n");
    for (int i = 0; i < 1500; i++) *p++ = 'q', *p++ = ' ';
    p += sprintf(p, ",0\n");
    for (int i = 0; i < 80; i++) *p++ = 'L';
    p += sprintf(p, " q,1\n");
    o = text_opts(NB_TOKENS_WORDS);
    CHECK_OK(learn("b.csv", big, &o, &pp, &ds));
    CHECK(nb_preproc_n_features(pp) == 1024 && nb_preproc_vocab_size(pp) == 3);
    if (ds) CHECK(ds_x(ds, 1023) == 2 && ds_x(ds, 1024) == 1 && ds_x(ds, 1025) == 2 && ds_x(ds, 1026) == 0);
    nb_dataset_free(ds);
    nb_preproc_free(pp);
    free(big);
    /* bad options */
    o.max_vocab = 1;
    CHECK_ERR(learn("x.csv", csv, &o, &pp, &ds), NB_ERR_ARG, "max_vocab 1 is not 0 (no cap) or 2..65536");
    nb_preproc_free(pp);
    o = text_opts(NB_TOKENS_WORDS);
    o.max_len = 65537;
    CHECK_ERR(learn("x.csv", csv, &o, &pp, &ds), NB_ERR_ARG, "max_len 65537");
    nb_preproc_free(pp);
    o = text_opts((nb_tokens)3);
    CHECK_ERR(learn("x.csv", csv, &o, &pp, &ds), NB_ERR_ARG, "tokens 3 is not none, chars or words");
    nb_preproc_free(pp);
}

/* Every invalid UTF-8 form, at training and against a schema, names file:line and the byte. */
static void test_invalid_utf8(void)
{
    static const struct {
        const char *bytes, *why;
    } bad[] = {
        {"ab\xC0\xAF", "an overlong form"},          {"\xE0\x80\xAF", "an overlong form"},
        {"\xF0\x82\x82\xAC", "an overlong form"},    {"ab\xED\xA0\x80", "a UTF-16 surrogate"},
        {"\xED\xBF\xBF", "a UTF-16 surrogate"},      {"ab\xC3", "a truncated sequence"},
        {"\xE2\x82x", "a truncated sequence"},       {"\xF0\x9F\x98", "a truncated sequence"},
        {"\x80", "a continuation byte without a lead byte"},
        {"\xF5\x80\x80\x80", "a byte that never occurs in UTF-8"},
        {"\xFF", "a byte that never occurs in UTF-8"},
        {"\xF4\x90\x80\x80", "a value past U+10FFFF"},
    };
    for (int mode = NB_TOKENS_CHARS; mode <= NB_TOKENS_WORDS; mode++)
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            char csv[128], want[160];
            snprintf(csv, sizeof csv, "text,y\nok,0\n\"fine\",1\n%s,0\n", bad[i].bytes);
            size_t at = bad[i].bytes[0] == 'a' ? 2 : 0;
            snprintf(want, sizeof want, "bad.csv:4: column 0 (\"text\"): invalid UTF-8 at byte %zu "
                     "of the text (%s", at, bad[i].why);
            nb_preproc *pp;
            nb_dataset *ds;
            nb_data_opts o = text_opts((nb_tokens)mode);
            CHECK_ERR(learn("bad.csv", csv, &o, &pp, &ds), NB_ERR_FORMAT, want);
            CHECK(ds == NULL && !nb_preproc_has_schema(pp));
            nb_preproc_free(pp);
            /* against a schema learned from clean text */
            CHECK_OK(learn("good.csv", "text,y\nok,0\nfine,1\n", &o, &pp, &ds));
            nb_dataset_free(ds);
            ds = NULL;
            CHECK_ERR(nb_dataset_load_csv_text("bad.csv", csv, strlen(csv), NULL, pp, &ds),
                      NB_ERR_FORMAT, want);
            CHECK(ds == NULL);
            nb_preproc_free(pp);
        }
    /* a NUL byte */
    nb_preproc *pp;
    nb_dataset *ds = NULL;
    nb_data_opts o = text_opts(NB_TOKENS_CHARS);
    static const char nul[] = "text,y\nok,0\na\0b,1\n";
    CHECK_OK(nb_preproc_create(&pp));
    CHECK_ERR(nb_dataset_load_csv_text("nul.csv", nul, sizeof nul - 1, &o, pp, &ds),
              NB_ERR_FORMAT, "nul.csv:3: column 0: NUL byte");
    nb_preproc_free(pp);
}

static void test_columns(void)
{
    nb_preproc *pp;
    nb_dataset *ds;
    nb_data_opts o = text_opts(NB_TOKENS_CHARS);
    CHECK_ERR(learn("mix.csv", "age,text,y\n3,ab,0\n4,cd,1\n", &o, &pp, &ds), NB_ERR_FORMAT,
              "mix.csv: column 1 (\"text\") holds text and column 0 (\"age\") numbers: mixing a "
              "text column with numeric feature columns is not supported");
    nb_preproc_free(pp);
    CHECK_ERR(learn("two.csv", "a,b,y\nab,cd,0\nx,y,1\n", &o, &pp, &ds), NB_ERR_FORMAT,
              "two.csv: columns 0 (\"a\") and 1 (\"b\") both hold text");
    nb_preproc_free(pp);
    CHECK_ERR(learn("num.csv", "a,y\n1,0\n2,1\n", &o, &pp, &ds), NB_ERR_FORMAT,
              "num.csv: no feature column holds text");
    nb_preproc_free(pp);
    /* the label column may hold text (class names), and the text may come first or last */
    o.label = "0";
    o.header = 1; /* every cell is text: not detected */
    CHECK_OK(learn("lab.csv", "y,text\npos,ab\nneg,b\n", &o, &pp, &ds));
    CHECK(nb_preproc_n_classes(pp) == 2 && nb_preproc_vocab_size(pp) == 4);
    check_row(ds, 0, (const float[]){3, 2}, 2); /* b 2, a 3 */
    CHECK(ds && nb_dataset_targets(ds)[0] == 1.0f); /* classes neg, pos */
    nb_dataset_free(ds);
    nb_preproc_free(pp);
    /* without the option a text column stays categorical (one-hot), and there is no vocab */
    CHECK_OK(learn("cat.csv", "text,y\nab,0\ncd,1\nab,0\n", NULL, &pp, &ds));
    CHECK(nb_preproc_n_features(pp) == 2 && nb_preproc_vocab_size(pp) == 0);
    nb_dataset_free(ds);
    nb_preproc_free(pp);
    CHECK(nb_preproc_vocab_size(NULL) == 0);
}

static void test_json(void)
{
    nb_preproc *pp, *back = NULL;
    nb_dataset *ds;
    nb_data_opts o = text_opts(NB_TOKENS_WORDS);
    o.max_len = 4;
    CHECK_OK(learn("j.csv", "text,y\n\"b a \xC5\x82\xC3\xB3" "d\xC5\xBA b\",0\n\"a b\",1\n", &o, &pp, &ds));
    char *json = NULL, *again = NULL;
    CHECK_OK(nb_preproc_to_json(pp, &json));
    CHECK(json && strstr(json, "{\"name\":\"text\",\"type\":\"text\",\"tokens\":\"words\","
                               "\"max_len\":4,\"values\":[\"b\",\"a\",\"\xC5\x82\xC3\xB3" "d\xC5\xBA\"]}"));
    CHECK_OK(nb_preproc_from_json(json, &back));
    CHECK_OK(nb_preproc_to_json(back, &again));
    CHECK(json && again && strcmp(json, again) == 0);
    CHECK(nb_preproc_vocab_size(back) == 5 && nb_preproc_n_features(back) == 4);
    nb_dataset *t = NULL;
    const char *csv = "text,y\n\"\xC5\x82\xC3\xB3" "d\xC5\xBA new a\",1\n";
    CHECK_OK(nb_dataset_load_csv_text("k.csv", csv, strlen(csv), NULL, back, &t));
    check_row(t, 0, (const float[]){4, 1, 3, 0}, 4);
    nb_dataset_free(t);
    /* a character model stores "chars" */
    nb_preproc *pc;
    nb_dataset *dc;
    nb_data_opts oc = text_opts(NB_TOKENS_CHARS);
    CHECK_OK(learn("jc.csv", "text,y\nab,0\nb,1\n", &oc, &pc, &dc));
    char *jc = NULL;
    CHECK_OK(nb_preproc_to_json(pc, &jc));
    CHECK(jc && strstr(jc, "\"tokens\":\"chars\",\"max_len\":2,\"values\":[\"b\",\"a\"]"));
    nb_free(jc);
    nb_dataset_free(dc);
    nb_preproc_free(pc);
    /* tampered files are refused by field */
    static const struct {
        const char *from, *to, *msg;
    } bad[] = {
        {"\"tokens\":\"words\"", "\"tokens\":\"bytes\"", "csv.columns[0].tokens: expected one of"},
        {"\"max_len\":4", "\"max_len\":0", "csv.columns[0].max_len: expected an integer in 1..65536"},
        {"\"max_len\":4", "\"max_len\":5", "n_features: 4, but the columns give 5"},
        {"[\"b\",\"a\"", "[\"b\",\"b\"", "csv.columns[0].values[1]: \"b\" appears twice"},
        {"[\"b\",\"a\"", "[\"b\",\"\"", "csv.columns[0].values[1]: a token of 1 to 64 bytes"},
        {"\"values\":[", "\"values\":7,\"x\":[", "csv.columns[0].values: expected an array"},
    };
    for (size_t i = 0; json && i < sizeof bad / sizeof bad[0]; i++) {
        char *at = strstr(json, bad[i].from);
        CHECK(at != NULL);
        if (!at) continue;
        char tampered[4096];
        snprintf(tampered, sizeof tampered, "%.*s%s%s", (int)(at - json), json, bad[i].to,
                 at + strlen(bad[i].from));
        nb_preproc *x = (nb_preproc *)&x;
        CHECK_ERR(nb_preproc_from_json(tampered, &x), NB_ERR_FORMAT, bad[i].msg);
        CHECK(x == NULL);
    }
    nb_free(json);
    nb_free(again);
    nb_preproc_free(back);
    nb_dataset_free(ds);
    nb_preproc_free(pp);
}

/* Data without text, and text without the option, keep the JSON they had before text existed
 * (captured from the library before this change). */
#define UNCHANGED_JSON \
    "{\"format\":\"nabla-preproc\",\"version\":1,\"source\":\"csv\",\"task\":\"classify\",\"n" \
    "_features\":3,\"sample_shape\":[3],\"classes\":[\"0\",\"1\"],\"csv\":{\"header\":true,\"" \
    "columns\":[{\"name\":\"a\",\"type\":\"numeric\"},{\"name\":\"color\",\"type\":\"categori" \
    "cal\",\"values\":[\"blue\",\"red\"]},{\"name\":\"y\",\"type\":\"label\"}],\"labels\":[2]" \
    ",\"label_encoding\":\"index\"},\"scaling\":{\"mode\":\"none\"}}"

static void test_unchanged(void)
{
    nb_preproc *pp;
    nb_dataset *ds;
    char *json = NULL;
    CHECK_OK(learn("n.csv", "a,color,y\n1.5,red,0\n2,blue,1\n", NULL, &pp, &ds));
    CHECK_OK(nb_preproc_to_json(pp, &json));
    CHECK(json && strcmp(json, UNCHANGED_JSON) == 0);
    if (json && strcmp(json, UNCHANGED_JSON)) fprintf(stderr, "got %s\n", json);
    nb_free(json);
    nb_dataset_free(ds);
    nb_preproc_free(pp);
}

/* A file of text only ("word,lang"): numbers cannot tell a header, a label that never recurs
 * does (csv_schema.c, text_header) */
static void test_text_header(void)
{
    nb_preproc *pp;
    nb_dataset *ds;
    nb_data_opts o = text_opts(NB_TOKENS_CHARS);
    /* "lang" never recurs, "en" does: a header, 3 rows, 2 classes */
    CHECK_OK(learn("h.csv", "word,lang\nabc,en\nxyz,de\nqqq,en\n", &o, &pp, &ds));
    CHECK(ds && nb_dataset_n_rows(ds) == 3 && nb_preproc_n_classes(pp) == 2);
    CHECK(pp && !strcmp(nb_preproc_class_name(pp, 0), "de"));
    nb_dataset_free(ds);
    nb_preproc_free(pp);
    /* no header: the first row's "en" recurs */
    CHECK_OK(learn("n.csv", "abc,en\nxyz,de\nqqq,en\n", &o, &pp, &ds));
    CHECK(ds && nb_dataset_n_rows(ds) == 3 && nb_preproc_n_classes(pp) == 2);
    nb_dataset_free(ds);
    nb_preproc_free(pp);
    /* nothing recurs: no sign of a header, so none (--header yes tells) */
    CHECK_OK(learn("u.csv", "word,lang\nabc,en\nxyz,de\n", &o, &pp, &ds));
    CHECK(ds && nb_dataset_n_rows(ds) == 3 && nb_preproc_n_classes(pp) == 3);
    nb_dataset_free(ds);
    nb_preproc_free(pp);
    o.header = 0; /* --header no wins over the detection */
    CHECK_OK(learn("h.csv", "word,lang\nabc,en\nxyz,de\nqqq,en\n", &o, &pp, &ds));
    CHECK(ds && nb_dataset_n_rows(ds) == 4 && nb_preproc_n_classes(pp) == 3);
    nb_dataset_free(ds);
    nb_preproc_free(pp);
}

int main(void)
{
    fx_setup();
    test_chars();
    test_text_header();
    test_words();
    test_limits();
    test_invalid_utf8();
    test_columns();
    test_json();
    test_unchanged();
    fx_cleanup();
    return check_exit("test_data_text");
}
