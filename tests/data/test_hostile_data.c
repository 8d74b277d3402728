/* SPDX-License-Identifier: MIT */
/*
 * test_hostile_data.c - hostile files for the data loaders (CSV, IDX plain and gzip, the
 * preprocessing JSON), beyond the matrices of test_data_csv.c, test_data_idx.c and
 * test_data.c: every truncation and bit flip of small valid files, huge counts and sizes, NaN
 * cells, wrong magic, duplicate names, and the memory a hostile file can make a loader take;
 * text columns: a 1 MB token, 10^6 distinct words, invalid UTF-8, hostile vocabularies.
 * Each case asserts a clean status and part of the message; the sanitizer build checks that
 * nothing leaks or crashes.
 */
#include "hostile_fixture.h"

#ifdef NB_HAVE_ZLIB
#include <zlib.h>
#endif

/* ---------------------------------------------------------------- helpers */

/* Load a data spec; success must give a consistent dataset, failure a clean status whose
 * message names the file. Returns the status. */
static int load_any(const char *spec, const char *file, const nb_data_opts *o)
{
    nb_preproc *pp = NULL;
    nb_dataset *ds = (nb_dataset *)&pp;
    CHECK_OK(nb_preproc_create(&pp));
    int rc = nb_dataset_load(spec, o, pp, &ds);
    if (rc == NB_OK) {
        CHECK(ds && nb_dataset_n_rows(ds) >= 1 && nb_dataset_n_features(ds) == nb_preproc_n_features(pp));
    } else {
        CHECK(ds == NULL && !nb_preproc_has_schema(pp));
        if ((rc != NB_ERR_FORMAT && rc != NB_ERR_ARG) || !strstr(nb_errmsg(), file)) {
            fprintf(stderr, "load_any %s: %d %s\n", spec, rc, nb_errmsg());
            CHECK(0);
        }
    }
    nb_dataset_free(ds);
    nb_preproc_free(pp);
    return rc;
}

static int learn_text(const char *name, const char *text, const nb_data_opts *o)
{
    nb_dataset *ds = NULL;
    int rc = nb_dataset_load(fx_text(name, text), o, NULL, &ds);
    nb_dataset_free(ds);
    return rc;
}

/* Load path under the schema learned from train (both CSV texts). */
static int enforce_text(const char *train, const char *name, const char *text)
{
    nb_preproc *pp = NULL;
    nb_dataset *ds = NULL;
    int rc = nb_preproc_create(&pp);
    if (rc == NB_OK) rc = nb_dataset_load(fx_text("enf-train.csv", train), NULL, pp, &ds);
    nb_dataset_free(ds);
    ds = NULL;
    if (rc == NB_OK) rc = nb_dataset_load(fx_text(name, text), NULL, pp, &ds);
    nb_dataset_free(ds);
    nb_preproc_free(pp);
    return rc;
}

#ifdef NB_HAVE_ZLIB
static size_t gz_bytes(const void *data, size_t n, unsigned char *out, size_t cap)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return 0;
    zs.next_in = (Bytef *)(uintptr_t)data;
    zs.avail_in = (uInt)n;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    int z = deflate(&zs, Z_FINISH);
    size_t len = cap - zs.avail_out;
    deflateEnd(&zs);
    return z == Z_STREAM_END ? len : 0;
}
#endif

/* ---------------------------------------------------------------- CSV */

static const char good_csv[] =
    "color,\"w, cm\",h,species\r\n"
    "red,1.5,2,setosa\r\n"
    "\"bl\"\"ue\",-2.5e1,.5,versicolor\r\n"
    "\n"
    "green,3,4,\"virg\ninica\"\r\n";

static void csv_truncations_and_flips(void)
{
    size_t n = strlen(good_csv);
    int ok = 0;
    for (size_t cut = 0; cut < n; cut++) { /* every prefix loads or fails cleanly */
        const char *p = fx_write("cut.csv", good_csv, cut);
        ok += load_any(p, "cut.csv", NULL) == NB_OK;
    }
    n_cases[L_CSV]++;
    CHECK(ok > 0 && ok < (int)n);
    char buf[sizeof good_csv];
    int bad = 0;
    for (size_t i = 0; i < n; i++) /* every single-bit flip */
        for (int b = 0; b < 8; b++) {
            memcpy(buf, good_csv, n);
            buf[i] = (char)(buf[i] ^ (1 << b));
            const char *p = fx_write("flip.csv", buf, n);
            bad += load_any(p, "flip.csv", NULL) != NB_OK;
        }
    n_cases[L_CSV]++;
    CHECK(bad > 0);
}

static void csv_counts_and_values(void)
{
    nb_data_opts o = nb_data_opts_default();
    /* a class index past the 65536-class cap is not a class */
    EXPECT(L_CSV, learn_text("c1.csv", "a,y\n1,0\n2,70000\n", NULL), NB_ERR_FORMAT,
           "c1.csv:3: column 1 (\"y\"): expected a class index 0..0, got \"70000\"");
    /* 4097 distinct categories in one column */
    char *s = malloc(4097 * 16 + 32);
    strcpy(s, "cat,y\n");
    for (int i = 0; i < 4097; i++) sprintf(s + strlen(s), "v%d,1\n", i);
    EXPECT(L_CSV, learn_text("c2.csv", s, NULL), NB_ERR_FORMAT,
           "c2.csv:4098: column 0 (\"cat\"): more than 4096 distinct values");
    free(s);
    /* 65537 distinct string labels */
    s = malloc(65537 * 16 + 32);
    strcpy(s, "a,y\n");
    char *at = s + strlen(s);
    for (int i = 0; i < 65537; i++) at += sprintf(at, "1,L%d\n", i);
    EXPECT(L_CSV, learn_text("c3.csv", s, NULL), NB_ERR_FORMAT,
           "c3.csv:65538: column 1 (\"y\"): more than 65536 distinct labels");
    free(s);
    /* NaN and infinity cells, in features and labels, under every spelling */
    EXPECT(L_CSV, learn_text("n1.csv", "a,y\n1,0\n1,NaN\n", NULL), NB_ERR_FORMAT,
           "n1.csv:3: column 1 (\"y\"): expected a class index 0..0, got \"NaN\"");
    o.task = NB_TASK_REGRESS;
    EXPECT(L_CSV, learn_text("n2.csv", "a,y\n1,0\n1,-nan\n", &o), NB_ERR_FORMAT,
           "n2.csv:3: column 1 (\"y\"): expected a finite number, got \"-nan\"");
    EXPECT(L_CSV, learn_text("n3.csv", "a,y\n1,0\n+Infinity,1\n", &o), NB_ERR_FORMAT,
           "n3.csv:3: column 0 (\"a\"): expected a finite number");
    EXPECT(L_CSV, learn_text("n4.csv", "a,y\n1,0\n1e309,1\n", &o), NB_ERR_FORMAT,
           "n4.csv:3: column 0 (\"a\"): expected a finite number");
    EXPECT(L_CSV, learn_text("n5.csv", "a,y\n1,0\n-3.5e38,1\n", &o), NB_ERR_FORMAT,
           "expected a finite number");
    EXPECT(L_CSV, learn_text("n6.csv", "a,y\n1,0\n0x1p3,1\n", &o), NB_ERR_FORMAT,
           "n6.csv:3: column 0 (\"a\"): expected a number, got \"0x1p3\"");
    EXPECT(L_CSV, learn_text("n7.csv", "a,y\n1,0\n1 2,1\n", &o), NB_ERR_FORMAT,
           "n7.csv:3: column 0 (\"a\"): expected a number, got \"1 2\"");
    EXPECT(L_CSV, learn_text("n8.csv", "a,y\n1,0\n1e,1\n", &o), NB_ERR_FORMAT,
           "expected a number, got \"1e\"");
    /* a cell of 100000 bytes is cut in the message */
    s = repeat("a,y\n1,0\n", "7x", 50000, ",1\n");
    EXPECT(L_CSV, learn_text("n9.csv", s, &o), NB_ERR_FORMAT, "7x7x...\"");
    free(s);
}

static void csv_structure(void)
{
    nb_data_opts o = nb_data_opts_default();
    /* 100000 columns, then a row one short: the count is reported, nothing large allocated */
    char *s = repeat("", "1,", 99999, "0\n");
    char *s2 = repeat("", "1,", 99998, "0\n");
    size_t n1 = strlen(s), n2 = strlen(s2);
    char *both = malloc(n1 + n2 + 1);
    memcpy(both, s, n1);
    memcpy(both + n1, s2, n2 + 1);
    EXPECT(L_CSV, learn_text("w.csv", both, NULL), NB_ERR_FORMAT,
           "w.csv:2: expected 100000 columns, got 99999");
    free(s), free(s2), free(both);
    EXPECT(L_CSV, learn_text("q1.csv", "a,b\n\"1\0\",0\n", NULL), NB_ERR_FORMAT, "q1.csv");
    CHECK_ERR(nb_dataset_load(fx_write("q2.csv", "a,b\n\"1\0\",0\n", 11), NULL, NULL,
                              &(nb_dataset *){NULL}), NB_ERR_FORMAT,
              "q2.csv:2: column 0: NUL byte");
    EXPECT(L_CSV, learn_text("q3.csv", "\"a,b\n1,0\n", NULL), NB_ERR_FORMAT,
           "q3.csv:1: column 0: quoted field is not closed");
    EXPECT(L_CSV, learn_text("q4.csv", "a,b\n,,\n", NULL), NB_ERR_FORMAT,
           "q4.csv:2: expected 2 columns, got 3");
    EXPECT(L_CSV, learn_text("q5.csv", "a,b\n,\n", NULL), NB_ERR_FORMAT,
           "q5.csv:2: column 0: empty cell"); /* ",": no number, so row 1 is data */
    EXPECT(L_CSV, learn_text("q6.csv", "\xEF\xBB\xBF", NULL), NB_ERR_FORMAT, "q6.csv: empty file");
    EXPECT(L_CSV, learn_text("q7.csv", "\xEF\xBB\xBF" "a,b\n", NULL), NB_ERR_FORMAT,
           "q7.csv: no data rows");
    /* a lone CR is data, so a CR-only file is one row of one name per cell */
    EXPECT(L_CSV, learn_text("q8.csv", "a,b\r1,0\r", NULL), NB_ERR_FORMAT, "q8.csv");
    EXPECT(L_CSV, learn_text("u1.csv", "a,\xC0\x80\n1,0\n", NULL), NB_ERR_FORMAT,
           "u1.csv:1: column 1: \"\xC0\x80\" is not valid UTF-8");
    EXPECT(L_CSV, learn_text("u2.csv", "a,y\nx,1\n\xED\xA0\x80,0\n", NULL), NB_ERR_FORMAT,
           "u2.csv:3: column 0 (\"a\"): \"\xED\xA0\x80\" is not valid UTF-8");
    /* options that cannot describe the file */
    o.label = "7";
    EXPECT(L_CSV, learn_text("o1.csv", "a,b\n1,0\n", &o), NB_ERR_ARG,
           "label column \"7\": no column has that name and not an index in -2..1");
    o.label = "a,a";
    o.task = NB_TASK_REGRESS;
    EXPECT(L_CSV, learn_text("o2.csv", "a,b,c\n1,0,2\n", &o), NB_ERR_ARG,
           "label \"a,a\": column 0 is named twice");
    o = nb_data_opts_default();
    o.class_names = "x,,y";
    EXPECT(L_CSV, learn_text("o3.csv", "a,b\n1,0\n", &o), NB_ERR_ARG,
           "class names \"x,,y\": item 1 is empty");
    o.class_names = "x,x";
    EXPECT(L_CSV, learn_text("o4.csv", "a,b\n1,0\n2,1\n", &o), NB_ERR_ARG,
           "class names: \"x\" is given twice");
    o = nb_data_opts_default();
    o.delimiter = '"';
    EXPECT(L_CSV, learn_text("o5.csv", "a,b\n1,0\n", &o), NB_ERR_ARG,
           "the delimiter cannot be a quote");
    o.delimiter = ';'; /* a comma file read with ';' has one column: no feature left */
    EXPECT(L_CSV, learn_text("o6.csv", "a,b\n1,0\n", &o), NB_ERR_ARG, "leave no feature column");
    /* prediction data against a learned schema */
    const char *train = "color,w,y\nred,1,0\nblue,2,1\n";
    EXPECT(L_CSV, enforce_text(train, "e1.csv", "color,color,y\nred,red,1\n"), NB_ERR_FORMAT,
           "e1.csv:1: column 1 (\"color\"): the name appears twice");
    EXPECT(L_CSV, enforce_text(train, "e2.csv", "color,w,y\n red,1,0\n"), NB_ERR_FORMAT,
           "e2.csv:2: column 0 (\"color\"): a category not in the training data, got \" red\"");
    EXPECT(L_CSV, enforce_text("1,2,0\n3,4,1\n", "e3.csv", "1,2,0,9\n"), NB_ERR_FORMAT,
           "e3.csv:1: expected 3 columns (or 2 without the label column), got 4");
    EXPECT(L_CSV, enforce_text(train, "e4.csv", "color,w,y\nred,1,2\n"), NB_ERR_FORMAT,
           "e4.csv:2: column 2 (\"y\"): expected a class index 0..1, got \"2\"");
}

static void csv_gzip(void)
{
#ifdef NB_HAVE_ZLIB
    static unsigned char gz[1 << 16], zeros[1 << 21];
    const char *text = "a,b\n1,0\n2,1\n";
    size_t n = gz_bytes(text, strlen(text), gz, sizeof gz);
    CHECK(n > 20);
    unsigned char bad[256];
    memcpy(bad, gz, n);
    bad[n - 5] ^= 0x40; /* the CRC-32 / length trailer */
    EXPECT(L_CSV, nb_dataset_load(fx_write("g1.csv.gz", bad, n), NULL, NULL, &(nb_dataset *){NULL}),
           NB_ERR_FORMAT, "g1.csv.gz: corrupt gzip data");
    memcpy(bad, gz, n);
    memcpy(bad + n, "junk", 4); /* bytes after the member that are not another member */
    EXPECT(L_CSV, nb_dataset_load(fx_write("g2.csv.gz", bad, n + 4), NULL, NULL,
                                  &(nb_dataset *){NULL}), NB_ERR_FORMAT, "g2.csv.gz");
    /* a 2 MiB bomb against a 1 MiB limit: refused, and the buffer never passes the limit */
    memset(zeros, '0', sizeof zeros);
    n = gz_bytes(zeros, sizeof zeros, gz, sizeof gz);
    CHECK(n > 0 && n < 8192);
    nb_data_opts o = nb_data_opts_default();
    o.max_bytes = (size_t)1 << 20;
    const char *p = fx_write("g3.csv.gz", gz, n);
    track_begin();
    int rc = nb_dataset_load(p, &o, NULL, &(nb_dataset *){NULL});
    track_end();
    EXPECT(L_CSV, rc, NB_ERR_FORMAT, "g3.csv.gz: more than 1048576 bytes when decompressed");
    CHECK(mem_peak <= ((size_t)1 << 20) + 2 * 65536 && mem_live == 0);
#endif
}

/* ---------------------------------------------------------------- text columns */

/* Learn a text schema from text (n bytes) under the tracking allocator; the vocabulary size
 * and features into *vocab, *nf; the first feature of row 0 into *first. */
static int learn_tokens(const char *name, const char *text, size_t n, const nb_data_opts *o,
                        int64_t *vocab, int64_t *nf, float *first)
{
    nb_preproc *pp = NULL;
    nb_dataset *ds = NULL;
    const char *path = fx_write(name, text, n);
    track_begin();
    int rc = nb_preproc_create(&pp);
    if (rc == NB_OK) rc = nb_dataset_load(path, o, pp, &ds);
    *vocab = nb_preproc_vocab_size(pp);
    *nf = nb_preproc_n_features(pp);
    *first = 0;
    if (ds && *nf > 0) {
        float *row = malloc((size_t)*nf * sizeof *row);
        if (row && nb_dataset_rows(ds, 0, 1, row, NULL) == NB_OK) *first = row[0];
        free(row);
    }
    nb_dataset_free(ds);
    nb_preproc_free(pp);
    track_end();
    return rc;
}

static void text_cases(void)
{
    int64_t vocab, nf;
    float first;
    nb_data_opts o = nb_data_opts_default();
    /* a 1 MB word: never stored (unknown), so it costs no memory beyond the file's copies */
    size_t mb = (size_t)1 << 20;
    char *big = repeat("text,y\n", "a", mb, ",0\nb,1\n");
    o.tokens = NB_TOKENS_WORDS;
    n_cases[L_CSV]++;
    CHECK_OK(learn_tokens("t1.csv", big, strlen(big), &o, &vocab, &nf, &first));
    CHECK(vocab == 3 && nf == 1 && first == 1.0f && mem_live == 0); /* b 2; the word is 1 */
    CHECK(mem_peak <= 4 * mb);
    /* the same as characters: two distinct tokens, the row capped at 1024 ids */
    o.tokens = NB_TOKENS_CHARS;
    n_cases[L_CSV]++;
    CHECK_OK(learn_tokens("t2.csv", big, strlen(big), &o, &vocab, &nf, &first));
    CHECK(vocab == 4 && nf == 1024 && first == 2.0f && mem_peak <= 4 * mb && mem_live == 0);
    free(big);
    /* 10^6 distinct words (1000 rows of "common" and 999 words of their own, ~9 MB): counted
     * once, sorted once; max_vocab caps the table; memory proportional to the file */
    size_t cap = 1000 * (7 + 999 * 9) + 64, len = 0;
    char *many = malloc(cap);
    len += (size_t)sprintf(many, "text,y\n");
    for (int r = 0; r < 1000; r++) {
        len += (size_t)sprintf(many + len, "common");
        for (int w = 0; w < 999; w++) len += (size_t)sprintf(many + len, " w%d", r * 1000 + w);
        len += (size_t)sprintf(many + len, ",%d\n", r % 2);
    }
    o.tokens = NB_TOKENS_WORDS;
    o.max_vocab = 1000;
    n_cases[L_CSV]++;
    CHECK_OK(learn_tokens("t3.csv", many, len, &o, &vocab, &nf, &first));
    CHECK(vocab == 1000 && nf == 1000 && first == 2.0f && mem_live == 0);
    CHECK(mem_peak <= 24 * len);
    free(many);
    o = nb_data_opts_default();
    o.tokens = NB_TOKENS_WORDS;
    EXPECT(L_CSV, learn_text("t4.csv", "text,y\nab\xf4\x90\x80\x80,0\n", &o), NB_ERR_FORMAT,
           "t4.csv:2: column 0 (\"text\"): invalid UTF-8 at byte 2 of the text (a value past U+10FFFF)");
    EXPECT(L_CSV, learn_text("t5.csv", "text,y\n\"ok\",0\n\"a\xc0\x80\",1\n", &o), NB_ERR_FORMAT,
           "t5.csv:3: column 0 (\"text\"): invalid UTF-8 at byte 1 of the text (an overlong form)");
    /* hostile schemas */
    static const char *const head = "{\"format\":\"nabla-preproc\",\"version\":1,\"source\":\"csv\","
        "\"task\":\"classify\",\"classes\":[\"0\",\"1\"],\"scaling\":{\"mode\":\"none\"},";
    static const struct {
        const char *body, *msg;
    } bad[] = {
        {"\"n_features\":3,\"sample_shape\":[3],\"csv\":{\"header\":false,\"columns\":[{\"name\":null,"
         "\"type\":\"numeric\"},{\"name\":null,\"type\":\"text\",\"tokens\":\"chars\",\"max_len\":2,"
         "\"values\":[]},{\"name\":null,\"type\":\"label\"}],\"labels\":[2],\"label_encoding\":\"index\"}}",
         "a text column must be the only feature column"},
        {"\"n_features\":2,\"sample_shape\":[2],\"csv\":{\"header\":false,\"columns\":[{\"name\":null,"
         "\"type\":\"text\",\"tokens\":\"chars\",\"max_len\":2,\"values\":[\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]},{\"name\":null,\"type\":\"label\"}],\"labels\":[1],"
         "\"label_encoding\":\"index\"}}",
         "csv.columns[0].values[0]: a token of 1 to 64 bytes"},
        {"\"n_features\":99999,\"sample_shape\":[99999],\"csv\":{\"header\":false,\"columns\":[{\"name\":null,"
         "\"type\":\"text\",\"tokens\":\"words\",\"max_len\":99999,\"values\":[]},{\"name\":null,"
         "\"type\":\"label\"}],\"labels\":[1],\"label_encoding\":\"index\"}}",
         "csv.columns[0].max_len: expected an integer in 1..65536"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char doc[2048];
        snprintf(doc, sizeof doc, "%s%s", head, bad[i].body);
        nb_preproc *pp = NULL;
        EXPECT(L_PRE, nb_preproc_from_json(doc, &pp), NB_ERR_FORMAT, bad[i].msg);
        CHECK(pp == NULL);
    }
    /* more values than the 65534 a vocabulary holds */
    char *vals = repeat("", "\"x\",", 65535, "");
    size_t vn = strlen(vals);
    vals[vn - 1] = '\0'; /* the last comma */
    size_t dn = vn + 1024;
    char *doc = malloc(dn);
    snprintf(doc, dn, "%s\"n_features\":2,\"sample_shape\":[2],\"csv\":{\"header\":false,\"columns\":"
             "[{\"name\":null,\"type\":\"text\",\"tokens\":\"words\",\"max_len\":2,\"values\":[%s]},"
             "{\"name\":null,\"type\":\"label\"}],\"labels\":[1],\"label_encoding\":\"index\"}}", head, vals);
    nb_preproc *pp = NULL;
    EXPECT(L_PRE, nb_preproc_from_json(doc, &pp), NB_ERR_FORMAT, "csv.columns[0].values: expected an array of strings");
    free(doc);
    free(vals);
}

/* ---------------------------------------------------------------- IDX */

static size_t idx_file(unsigned char *out, int type, int ndims, const uint32_t *dims,
                       const void *body, size_t body_n)
{
    out[0] = out[1] = 0;
    out[2] = (unsigned char)type;
    out[3] = (unsigned char)ndims;
    for (int i = 0; i < ndims; i++)
        for (int b = 0; b < 4; b++) out[4 + 4 * i + b] = (unsigned char)(dims[i] >> (24 - 8 * b));
    memcpy(out + 4 + 4 * ndims, body, body_n);
    return 4 + 4 * (size_t)ndims + body_n;
}

static const char *idx2(const char *im, const char *lb)
{
    static char buf[1100];
    snprintf(buf, sizeof buf, "idx:%s%s%s", im, lb ? "," : "", lb ? lb : "");
    return buf;
}

static int idx_load(const char *im, const char *lb, nb_preproc *pp)
{
    nb_dataset *ds = NULL;
    int rc = nb_dataset_load(idx2(im, lb), NULL, pp, &ds);
    nb_dataset_free(ds);
    return rc;
}

static void idx_cases(void)
{
    unsigned char img[64], lab[16], buf[1 << 12];
    static const unsigned char px[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    uint32_t d3[3] = {2, 2, 3}, d1[1] = {2};
    size_t in = idx_file(img, 0x08, 3, d3, px, 12), ln = idx_file(lab, 0x08, 1, d1, "\1\0", 2);
    const char *lb = fx_write("lab", lab, ln);
    /* every single-bit flip of the images file's header and data */
    int bad = 0;
    for (size_t i = 0; i < in; i++)
        for (int b = 0; b < 8; b++) {
            memcpy(buf, img, in);
            buf[i] ^= (unsigned char)(1 << b);
            const char *p = fx_write("flip-img", buf, in);
            bad += load_any(idx2(p, lb), "flip-img", NULL) != NB_OK;
        }
    n_cases[L_IDX]++;
    CHECK(bad >= 16 * 8 - 8); /* every header flip but those of the lowest label values */
    uint32_t dz[1] = {1};
    EXPECT(L_IDX, idx_load(fx_write("d0", buf, idx_file(buf, 8, 0, dz, "", 0)), lb, NULL),
           NB_ERR_FORMAT, "d0: IDX header: 0 dimensions (1 to 4 supported)");
    uint32_t d5[5] = {1, 1, 1, 1, 1};
    EXPECT(L_IDX, idx_load(fx_write("d5", buf, idx_file(buf, 8, 5, d5, "x", 1)), lb, NULL),
           NB_ERR_FORMAT, "d5: IDX header: 5 dimensions");
    /* products that overflow size_t, by the counts or by the element size */
    uint32_t big4[4] = {65536, 65536, 65536, 65536}, big3[3] = {0x80000000u, 0x80000000u, 4};
    EXPECT(L_IDX, idx_load(fx_write("o1", buf, idx_file(buf, 8, 4, big4, "", 0)), lb, NULL),
           NB_ERR_FORMAT, "o1: truncated: the IDX header promises too many bytes");
    EXPECT(L_IDX, idx_load(fx_write("o2", buf, idx_file(buf, 0x0E, 3, big3, "", 0)), lb, NULL),
           NB_ERR_FORMAT, "o2: truncated: the IDX header promises");
    uint32_t dzero[3] = {2, 0, 3};
    EXPECT(L_IDX, idx_load(fx_write("z1", buf, idx_file(buf, 8, 3, dzero, "", 0)), lb, NULL),
           NB_ERR_FORMAT, "z1: IDX dimension 1 is 0");
    EXPECT(L_IDX, idx_load(fx_write("e0", "", 0), lb, NULL), NB_ERR_FORMAT,
           "e0: 0 bytes, too short for an IDX header");
    /* labels and images swapped, labels of the wrong type or rank */
    EXPECT(L_IDX, idx_load(lb, fx_write("img", img, in), NULL), NB_ERR_FORMAT,
           "images must have 3 dimensions");
    const char *im = fx_write("img", img, in);
    EXPECT(L_IDX, idx_load(im, im, NULL), NB_ERR_FORMAT,
           "labels must be IDX unsigned bytes (type 08) in one dimension");
    int32_t l32[2] = {0, 0};
    EXPECT(L_IDX, idx_load(im, fx_write("l32", buf, idx_file(buf, 0x0C, 1, d1, l32, 8)), NULL),
           NB_ERR_FORMAT, "l32: labels must be IDX unsigned bytes (type 08)");
    /* elements that are not finite float32 */
    static const unsigned char f32nan[4] = {0x7F, 0xC0, 0, 0}, f32inf[4] = {0xFF, 0x80, 0, 0},
                               f64big[8] = {0x7E, 0x37, 0xE4, 0x3C, 0x88, 0, 0x75, 0x9C},
                               f64nan[8] = {0x7F, 0xF8, 0, 0, 0, 0, 0, 1};
    uint32_t one[3] = {1, 1, 1}, one1[1] = {1};
    const char *lb1 = fx_write("lab1", buf, idx_file(buf, 8, 1, one1, "\0", 1));
    EXPECT(L_IDX, idx_load(fx_write("fn", buf, idx_file(buf, 0x0D, 3, one, f32nan, 4)), lb1, NULL),
           NB_ERR_FORMAT, "fn: element 0 is nan, not a finite float32");
    EXPECT(L_IDX, idx_load(fx_write("fi", buf, idx_file(buf, 0x0D, 3, one, f32inf, 4)), lb1, NULL),
           NB_ERR_FORMAT, "fi: element 0 is -inf, not a finite float32");
    EXPECT(L_IDX, idx_load(fx_write("fb", buf, idx_file(buf, 0x0E, 3, one, f64big, 8)), lb1, NULL),
           NB_ERR_FORMAT, "fb: element 0 is 1e+300, not a finite float32");
    EXPECT(L_IDX, idx_load(fx_write("fm", buf, idx_file(buf, 0x0E, 3, one, f64nan, 8)), lb1, NULL),
           NB_ERR_FORMAT, "fm: element 0 is nan");
    /* files that do not fit a learned schema */
    nb_preproc *pp;
    CHECK_OK(nb_preproc_create(&pp));
    CHECK_OK(idx_load(im, lb, pp)); /* 2 classes, images (1, 2, 3) of type 08 */
    uint32_t d3b[3] = {2, 3, 2};
    EXPECT(L_IDX, idx_load(fx_write("s1", buf, idx_file(buf, 8, 3, d3b, px, 12)), lb, pp),
           NB_ERR_FORMAT, "s1: images of shape (1, 3, 2), but the model expects (1, 2, 3)");
    uint32_t d4[4] = {2, 2, 1, 3};
    EXPECT(L_IDX, idx_load(fx_write("s2", buf, idx_file(buf, 8, 4, d4, px, 12)), lb, pp),
           NB_ERR_FORMAT, "s2: images of shape (2, 1, 3)");
    EXPECT(L_IDX, idx_load(fx_write("s3", buf, idx_file(buf, 9, 3, d3, px, 12)), lb, pp),
           NB_ERR_FORMAT, "s3: IDX element type 0x09, but the model was trained on type 0x08");
    EXPECT(L_IDX, idx_load(im, fx_write("s4", buf, idx_file(buf, 8, 1, d1, "\0\7", 2)), pp),
           NB_ERR_FORMAT, "s4: label 7 of item 1 is out of range: the model has 2 classes");
    EXPECT(L_IDX, nb_dataset_load(fx_text("s5.csv", "1,0\n"), NULL, pp, &(nb_dataset *){NULL}),
           NB_ERR_ARG, "s5.csv: CSV data, but the schema (model) is for IDX images");
    nb_preproc_free(pp);
    CHECK_OK(nb_preproc_create(&pp));
    nb_dataset *ds = NULL;
    CHECK_OK(nb_dataset_load(fx_text("s6.csv", "1,0\n2,1\n"), NULL, pp, &ds));
    nb_dataset_free(ds);
    EXPECT(L_IDX, idx_load(im, lb, pp), NB_ERR_ARG,
           "IDX images, but the schema (model) is for CSV data");
    nb_preproc_free(pp);
    nb_data_opts o = nb_data_opts_default();
    char names[2048] = "c0";
    for (int i = 1; i < 257; i++) sprintf(names + strlen(names), ",c%d", i);
    o.class_names = names;
    EXPECT(L_IDX, nb_dataset_load(idx2(im, lb), &o, NULL, &(nb_dataset *){NULL}), NB_ERR_ARG,
           "257 class names given, but the labels need 2 to 256");
    o = nb_data_opts_default();
    o.max_bytes = 20;
    EXPECT(L_IDX, nb_dataset_load(idx2(im, lb), &o, NULL, &(nb_dataset *){NULL}), NB_ERR_FORMAT,
           "img: file is 28 bytes, more than the 20 allowed");
    EXPECT(L_IDX, nb_dataset_load("idx:,x", NULL, NULL, &(nb_dataset *){NULL}), NB_ERR_ARG,
           "expected idx:IMAGES,LABELS");
    EXPECT(L_IDX, nb_dataset_load("idx:", NULL, NULL, &(nb_dataset *){NULL}), NB_ERR_ARG,
           "data spec \"idx:\": name the IDX files");
    EXPECT(L_IDX, nb_dataset_load(fx_dir, NULL, NULL, &(nb_dataset *){NULL}), NB_ERR_IO,
           "/train-images-idx3-ubyte: neither it nor");
    EXPECT(L_IDX, nb_dataset_load(idx2(fx_path("nope"), NULL), NULL, NULL, &(nb_dataset *){NULL}),
           NB_ERR_IO, "nope-images-idx3-ubyte: neither it nor");
#ifdef NB_HAVE_ZLIB
    /* gzip: a corrupt stream, a bad trailer, a second member cut short, a bomb */
    static unsigned char gz[1 << 14], gz2[1 << 14];
    size_t gn = gz_bytes(img, in, gz, sizeof gz);
    memcpy(gz2, gz, gn);
    gz2[12] ^= 0xFF;
    EXPECT(L_IDX, idx_load(fx_write("c1.gz", gz2, gn), lb, NULL), NB_ERR_FORMAT,
           "c1.gz: corrupt gzip data");
    memcpy(gz2, gz, gn);
    gz2[gn - 1] ^= 1; /* the length in the trailer */
    EXPECT(L_IDX, idx_load(fx_write("c2.gz", gz2, gn), lb, NULL), NB_ERR_FORMAT,
           "c2.gz: corrupt gzip data");
    memcpy(gz2, gz, gn);
    memcpy(gz2 + gn, gz, gn / 2);
    EXPECT(L_IDX, idx_load(fx_write("c3.gz", gz2, gn + gn / 2), lb, NULL), NB_ERR_FORMAT,
           "c3.gz: truncated gzip data");
    static unsigned char zeros[1 << 20];
    gn = gz_bytes(zeros, sizeof zeros, gz, sizeof gz);
    o = nb_data_opts_default();
    o.max_bytes = 65536;
    track_begin();
    int rc = nb_dataset_load(idx2(fx_write("c4.gz", gz, gn), lb), &o, NULL, &(nb_dataset *){NULL});
    track_end();
    EXPECT(L_IDX, rc, NB_ERR_FORMAT, "c4.gz: more than 65536 bytes when decompressed");
    CHECK(mem_peak <= 65536 + 2 * 65536 && mem_live == 0); /* file + output buffer */
#endif
}

/* ---------------------------------------------------------------- preprocessing JSON */

static const char pre_csv[] =
    "{\"format\":\"nabla-preproc\",\"version\":1,\"source\":\"csv\",\"task\":\"classify\","
    "\"n_features\":3,\"sample_shape\":[3],\"classes\":[\"no\",\"yes\"],\"csv\":{\"header\":true,"
    "\"columns\":[{\"name\":\"c\",\"type\":\"categorical\",\"values\":[\"a\",\"b\"]},"
    "{\"name\":\"w\",\"type\":\"numeric\"},{\"name\":\"y\",\"type\":\"label\"}],\"labels\":[2],"
    "\"label_encoding\":\"name\"},\"scaling\":{\"mode\":\"standard\",\"offset\":[0,0,1.5],"
    "\"scale\":[1,1,2]}}";

static int pre_load(const char *json)
{
    nb_preproc *pp = (nb_preproc *)&pp;
    int rc = nb_preproc_from_json(json, &pp);
    CHECK(rc == NB_OK ? pp != NULL : pp == NULL);
    nb_preproc_free(pp);
    return rc;
}

/* pre_csv with the first occurrence of from replaced by to. */
static int pre_mut(const char *from, const char *to)
{
    static char doc[1 << 12];
    const char *at = strstr(pre_csv, from);
    CHECK(at != NULL);
    if (!at) return -1;
    snprintf(doc, sizeof doc, "%.*s%s%s", (int)(at - pre_csv), pre_csv, to, at + strlen(from));
    return pre_load(doc);
}

static void preproc_cases(void)
{
    CHECK_OK(pre_load(pre_csv));
    size_t n = strlen(pre_csv);
    char buf[sizeof pre_csv];
    int bad = 0;
    for (size_t cut = 0; cut < n; cut++) {
        memcpy(buf, pre_csv, cut);
        buf[cut] = '\0';
        if (pre_load(buf) != NB_ERR_FORMAT || strncmp(nb_errmsg(), "preproc: ", 9) != 0) bad++;
    }
    n_cases[L_PRE]++;
    CHECK(bad == 0);
    int ok = 0;
    bad = 0;
    for (size_t i = 0; i < n; i++)
        for (int b = 0; b < 7; b++) { /* bit 7 makes invalid UTF-8 or a NUL: covered above */
            memcpy(buf, pre_csv, n + 1);
            buf[i] = (char)(buf[i] ^ (1 << b));
            int rc = pre_load(buf);
            ok += rc == NB_OK;
            if (rc != NB_OK && (rc != NB_ERR_FORMAT || strncmp(nb_errmsg(), "preproc", 7) != 0))
                bad++;
        }
    n_cases[L_PRE]++;
    CHECK(bad == 0 && ok > 0);
    static const struct {
        const char *from, *to, *msg;
    } muts[] = {
        {"\"version\":1", "\"version\":\"1\"", "preproc: version: expected an integer in 1..1"},
        {"\"version\":1", "\"version\":1e400", "preproc: byte 36: number out of range"},
        {"\"task\":\"classify\"", "\"task\":\"classify\\u0000x\"", "preproc: task: expected one of"},
        {"\"n_features\":3", "\"n_features\":-3", "preproc: n_features: expected an integer in 0.."},
        {"\"n_features\":3", "\"n_features\":1e300", "n_features: expected an integer"},
        {"\"sample_shape\":[3]", "\"sample_shape\":[0]",
         "preproc: sample_shape[0]: expected an integer in 1.."},
        {"\"sample_shape\":[3]", "\"sample_shape\":[1,1,1,3]",
         "preproc: sample_shape: expected an array of at most 3 sizes"},
        {"\"sample_shape\":[3]", "\"sample_shape\":[2305843009213693952]",
         "preproc: sample_shape[0]: expected an integer in 1..2305843009213693951"},
        {"\"sample_shape\":[3]", "\"sample_shape\":[1073741824,1073741824,1073741824]",
         "preproc: sample_shape[2]: 1073741824 is not a usable size"},
        {"\"sample_shape\":[3]", "\"sample_shape\":[1,3]", NULL}, /* rows may have a shape */
        {"[\"no\",\"yes\"]", "[\"no\",\"y\\u0000s\"]",
         "preproc: classes: expected an array of strings (without NUL characters)"},
        {"[\"no\",\"yes\"]", "[0,1]", "preproc: classes: expected an array of strings"},
        {"[\"no\",\"yes\"]", "[\"no\",\"\\udc00\"]", "preproc: byte"},
        {"{\"name\":\"w\"", "{\"name\":\"c\"", "preproc: csv.columns[1].name: \"c\" appears twice"},
        {"\"columns\":[", "\"columns\":[{\"name\":\"y\",\"type\":\"label\"}],\"x\":[",
         "preproc: csv.columns: expected an array of at least two columns"},
        {"\"labels\":[2]", "\"labels\":[]", "preproc: csv.labels: expected a non-empty array"},
        {"\"labels\":[2]", "\"labels\":[-1]", "preproc: csv.labels[0]: expected an integer in 0..2"},
        {"\"labels\":[2]", "\"labels\":[0.5]", "csv.labels[0]: expected an integer"},
        {"\"labels\":[2]", "\"labels\":[0]", "preproc: csv.labels[0]: 0 is not a label column"},
        {"\"label_encoding\":\"name\"", "\"label_encoding\":\"index\"", NULL},
        {"\"task\":\"classify\"", "\"task\":\"multilabel\"",
         "preproc: classes: multilabel needs one name per label column"},
        {"\"offset\":[0,0,1.5]", "\"offset\":[0,0,1e39]",
         "preproc: scaling.offset[2]: expected a finite number"},
        {"\"scale\":[1,1,2]", "\"scale\":[1,1,2,4]", "preproc: scaling.scale: expected an array of "
                                                      "one number per feature"},
        {"\"scale\":[1,1,2]", "\"scale\":[1,1,-0.0]", "scaling.scale[2]: expected a finite number > 0"},
        {"\"scale\":[1,1,2]", "\"scale\":[1,1,null]", "scaling.scale[2]"},
        {"\"source\":\"csv\"", "\"source\":\"none\"",
         "preproc: source: expected \"csv\" or \"idx\" when there is a schema"},
        {"\"header\":true", "\"header\":null", "preproc: csv.header: expected true or false"},
        {"}}", "}}}", "preproc: byte 375: unexpected content after the document"},
    };
    for (size_t i = 0; i < sizeof muts / sizeof muts[0]; i++) {
        size_t before = (size_t)check_failures_;
        if (!muts[i].msg) CHECK_OK(pre_mut(muts[i].from, muts[i].to));
        else EXPECT(L_PRE, pre_mut(muts[i].from, muts[i].to), NB_ERR_FORMAT, muts[i].msg);
        if ((size_t)check_failures_ != before) fprintf(stderr, "  (preproc case %zu)\n", i);
    }
    /* a CSV schema's sample shape survives a round trip (it used to be flattened to [3]) */
    nb_preproc *pp = NULL;
    char *json = NULL;
    CHECK(pre_mut("\"sample_shape\":[3]", "\"sample_shape\":[1,3]") == NB_OK);
    const char *at = strstr(pre_csv, "\"sample_shape\":[3]");
    char doc[sizeof pre_csv + 8];
    snprintf(doc, sizeof doc, "%.*s\"sample_shape\":[3,1]%s", (int)(at - pre_csv), pre_csv,
             at + strlen("\"sample_shape\":[3]"));
    CHECK_OK(nb_preproc_from_json(doc, &pp));
    CHECK(pp && nb_preproc_to_json(pp, &json) == NB_OK && strstr(json, "\"sample_shape\":[3,1]"));
    nb_free(json);
    nb_preproc_free(pp);
    EXPECT(L_PRE, pre_mut("\"sample_shape\":[3]", "\"sample_shape\":[2,2]"), NB_ERR_FORMAT,
           "preproc: n_features 3 is not the product of sample_shape");
    /* nesting past 16, 65537 class names, 4097 categories */
    char *s = repeat("", "[", 17, "");
    EXPECT(L_PRE, pre_load(s), NB_ERR_FORMAT, "preproc: byte 16: nesting deeper than 16 levels");
    free(s);
    s = repeat("{\"version\":1,\"source\":\"idx\",\"task\":\"classify\",\"n_features\":1,"
               "\"sample_shape\":[1,1,1],\"idx\":{\"type\":8},\"classes\":[", "\"c\",", 65537,
               "\"c\"]}");
    EXPECT(L_PRE, pre_load(s), NB_ERR_FORMAT, "preproc: classes: expected an array of strings");
    free(s);
    s = repeat("{\"version\":1,\"source\":\"csv\",\"task\":\"regress\",\"n_features\":4097,"
               "\"sample_shape\":[4097],\"classes\":[],\"csv\":{\"header\":false,\"columns\":["
               "{\"name\":null,\"type\":\"label\"},{\"name\":null,\"type\":\"categorical\","
               "\"values\":[", "\"v\",", 4096, "\"w\"]}],\"labels\":[0],\"label_encoding\":"
               "\"value\"},\"scaling\":{\"mode\":\"none\"}}");
    EXPECT(L_PRE, pre_load(s), NB_ERR_FORMAT,
           "preproc: csv.columns[1].values: expected an array of strings");
    free(s);
    EXPECT(L_PRE, pre_load(""), NB_ERR_FORMAT, "preproc: byte 0: unexpected end of input");
    EXPECT(L_PRE, pre_load("{\"version\":1,\"source\":\"idx\",\"task\":\"classify\","
                           "\"n_features\":28,\"sample_shape\":[1,28],\"classes\":[\"a\"],"
                           "\"idx\":{\"type\":8},\"scaling\":{\"mode\":\"none\"}}"),
           NB_ERR_FORMAT, "preproc: IDX data is classified images of shape [c, h, w]");
    EXPECT(L_PRE, pre_load("{\"version\":1,\"source\":\"idx\",\"task\":\"classify\","
                           "\"n_features\":1,\"sample_shape\":[1,1,1],\"classes\":[\"a\"],"
                           "\"idx\":{\"type\":264},\"scaling\":{\"mode\":\"none\"}}"),
           NB_ERR_FORMAT, "preproc: idx.type: expected an integer in 0..255");
}

int main(void)
{
    fx_setup();
    csv_truncations_and_flips();
    csv_counts_and_values();
    csv_structure();
    csv_gzip();
    text_cases();
    idx_cases();
    preproc_cases();
    fx_cleanup();
    hostile_report((const int[]){L_CSV, L_IDX, L_PRE}, 3);
    return check_exit("test_hostile_data");
}
