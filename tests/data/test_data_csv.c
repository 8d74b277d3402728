/* SPDX-License-Identifier: MIT */
/*
 * test_data_csv.c - CSV loading: header modes, label kinds (integer, string, binary,
 * multilabel, regression), one-hot categorical columns, RFC 4180 quoting, schema enforcement
 * on a second file, every malformed case with its file:line and column, and an
 * allocation-failure walk over a learning load and an enforcing load.
 */
#include "data_fixture.h"
#include "ds_fixture.h"

#ifdef NB_HAVE_ZLIB
#include <zlib.h>
#endif

static nb_data_opts opts(nb_task task, const char *label, int header)
{
    nb_data_opts o = nb_data_opts_default();
    o.task = task;
    o.label = label;
    o.header = header;
    return o;
}

/* Load text (written to name) learning a schema into a fresh preproc. */
static int learn(const char *name, const char *text, const nb_data_opts *o, nb_preproc **pp,
                 nb_dataset **ds)
{
    *ds = NULL;
    *pp = NULL;
    int rc = nb_preproc_create(pp);
    if (rc) return rc;
    return nb_dataset_load(fx_text(name, text), o, *pp, ds);
}

static bool row_is(const nb_dataset *ds, int64_t i, const float *want)
{
    for (int64_t j = 0; j < nb_dataset_n_features(ds); j++)
        if (ds_x(ds, i * nb_dataset_n_features(ds) + j) != want[j]) return false;
    return true;
}

static void test_header_modes(void)
{
    const char *with = "a,b,label\n1,2.5,0\n3,-4,1\n5,6e-1,2\n";
    nb_preproc *pp;
    nb_dataset *ds;
    nb_data_opts o = nb_data_opts_default();
    CHECK_OK(learn("h.csv", with, &o, &pp, &ds));
    CHECK(ds && nb_dataset_n_rows(ds) == 3 && nb_dataset_n_features(ds) == 2 && nb_dataset_n_targets(ds) == 1);
    if (ds && nb_dataset_n_rows(ds) == 3) {
        CHECK(nb_dataset_sample_rank(ds) == 1 && nb_dataset_sample_shape(ds)[0] == 2);
        CHECK(ds_x(ds, 0) == 1.0f && ds_x(ds, 1) == 2.5f && ds_x(ds, 3) == -4.0f && ds_x(ds, 5) == 0.6f);
        CHECK(ds_y(ds, 0) == 0 && ds_y(ds, 1) == 1 && ds_y(ds, 2) == 2);
        CHECK(nb_dataset_task(ds) == NB_TASK_CLASSIFY && nb_dataset_n_classes(ds) == 3);
        CHECK(nb_dataset_class_name(ds, 0) && strcmp(nb_dataset_class_name(ds, 2), "2") == 0);
    }
    CHECK(nb_preproc_has_schema(pp) && nb_preproc_n_features(pp) == 2);
    CHECK(nb_preproc_n_targets(pp) == 1 && nb_preproc_n_classes(pp) == 3);
    nb_dataset_free(ds);
    /* a class index beyond the training data's classes, in test data */
    CHECK_ERR(nb_dataset_load(fx_text("h5.csv", "a,b,label\n1,2,1\n1,2,5\n"), NULL, pp, &ds),
              NB_ERR_FORMAT, "h5.csv:3: column 2 (\"label\"): expected a class index 0..2, got "
                             "\"5\"");
    CHECK(ds == NULL);
    nb_preproc_free(pp);

    /* the same rows without a header: auto-detect sees none, header=0 says none */
    const char *without = "1,2.5,0\n3,-4,1\n5,6e-1,2";
    for (int h = -1; h <= 0; h++) {
        o = opts(NB_TASK_CLASSIFY, NULL, h);
        CHECK_OK(learn("n.csv", without, &o, &pp, &ds));
        CHECK(ds && nb_dataset_n_rows(ds) == 3 && ds_x(ds, 2) == 3.0f && ds_y(ds, 2) == 2.0f);
        nb_dataset_free(ds);
        nb_preproc_free(pp);
    }
    /* header=1 takes a numeric first row as names */
    o = opts(NB_TASK_REGRESS, "2", 1);
    CHECK_OK(learn("n1.csv", without, &o, &pp, &ds));
    CHECK(ds && nb_dataset_n_rows(ds) == 2 && ds_x(ds, 0) == 3.0f && ds_y(ds, 1) == 2.0f);
    nb_dataset_free(ds);
    nb_preproc_free(pp);
    /* header=0 on a file with a header: the names become data, so every column's first cell
     * is text: both features are one-hot (4 values each) and the labels are 4 strings */
    o = opts(NB_TASK_CLASSIFY, NULL, 0);
    CHECK_OK(learn("h.csv", with, &o, &pp, &ds));
    CHECK(ds && nb_dataset_n_rows(ds) == 4 && nb_dataset_n_features(ds) == 8 && nb_dataset_n_classes(ds) == 4);
    CHECK(ds && strcmp(nb_dataset_class_name(ds, 3), "label") == 0 && ds_y(ds, 0) == 3.0f);
    nb_dataset_free(ds);
    nb_preproc_free(pp);
}

static void test_string_labels_and_quotes(void)
{
    /* BOM, CRLF, quoted fields with delimiters, "" and a newline, no final newline */
    const char *text = "\xEF\xBB\xBF" "sepal,\"petal, cm\",species\r\n"
                       "1,2,setosa\r\n"
                       "3,\"4\",\"virginica\"\r\n"
                       "\r\n"
                       "5,6,\"setosa\"\n"
                       "7,8,\"versi\"\"color\nx\"";
    nb_preproc *pp;
    nb_dataset *ds;
    nb_data_opts o = nb_data_opts_default();
    CHECK_OK(learn("s.csv", text, &o, &pp, &ds));
    CHECK(ds && nb_dataset_n_rows(ds) == 4 && nb_dataset_n_classes(ds) == 3);
    if (ds && nb_dataset_n_rows(ds) == 4 && nb_dataset_n_classes(ds) == 3) {
        CHECK(strcmp(nb_dataset_class_name(ds, 0), "setosa") == 0);
        CHECK(strcmp(nb_dataset_class_name(ds, 1), "versi\"color\nx") == 0);
        CHECK(strcmp(nb_dataset_class_name(ds, 2), "virginica") == 0);
        CHECK(ds_y(ds, 0) == 0 && ds_y(ds, 1) == 2 && ds_y(ds, 2) == 0 && ds_y(ds, 3) == 1);
        CHECK(ds_x(ds, 2) == 3.0f && ds_x(ds, 3) == 4.0f);
    }
    nb_dataset_free(ds);
    /* the same schema reads a prediction file with its columns reordered and no label */
    CHECK_OK(nb_dataset_load(fx_text("p.csv", "\"petal, cm\",sepal\n10,20\n"), NULL, pp, &ds));
    CHECK(ds && nb_dataset_n_rows(ds) == 1 && nb_dataset_targets(ds) == NULL && nb_dataset_n_targets(ds) == 0);
    if (ds) {
        CHECK(ds_x(ds, 0) == 20.0f && ds_x(ds, 1) == 10.0f);
        CHECK(nb_dataset_n_classes(ds) == 3 && strcmp(nb_dataset_class_name(ds, 2), "virginica") == 0);
    }
    nb_dataset_free(ds);
    /* an unknown class in labeled test data names file, line and column */
    CHECK_ERR(nb_dataset_load(fx_text("t.csv", "sepal,petal, cm,species\n1,2,setosa\n"), NULL,
                              pp, &ds),
              NB_ERR_FORMAT, "t.csv:1: column 1 (\"petal\"): no such column");
    CHECK_ERR(nb_dataset_load(fx_text("t2.csv", "species,sepal,\"petal, cm\"\nsetosa,1,2\n"
                                      "rose,3,4\n"), NULL, pp, &ds),
              NB_ERR_FORMAT, "t2.csv:3: column 0 (\"species\"): a class not in the training "
                             "data, got \"rose\"");
    CHECK_ERR(nb_dataset_load(fx_text("t3.csv", "sepal,species\n1,setosa\n"), NULL, pp, &ds),
              NB_ERR_FORMAT, "t3.csv:1: missing column \"petal, cm\"");
    nb_preproc_free(pp);
}

static void test_categorical(void)
{
    const char *text = "color,size,y\nred,1,0\nblue,2,1\ngreen,3,0\nred,4,1\n";
    nb_preproc *pp;
    nb_dataset *ds;
    nb_data_opts o = opts(NB_TASK_BINARY, "y", -1);
    CHECK_OK(learn("c.csv", text, &o, &pp, &ds));
    CHECK(ds && nb_dataset_n_rows(ds) == 4 && nb_dataset_n_features(ds) == 4 && nb_dataset_task(ds) == NB_TASK_BINARY);
    if (ds && nb_dataset_n_features(ds) == 4) {
        float r0[] = {0, 0, 1, 1}, r1[] = {1, 0, 0, 2}, r2[] = {0, 1, 0, 3};
        CHECK(row_is(ds, 0, r0) && row_is(ds, 1, r1) && row_is(ds, 2, r2));
        CHECK(ds_y(ds, 1) == 1.0f && ds_y(ds, 2) == 0.0f && nb_dataset_n_classes(ds) == 2);
    }
    nb_dataset_free(ds);
    /* the schema as JSON names the one-hot vocabulary in sorted order */
    char *json = NULL;
    CHECK_OK(nb_preproc_to_json(pp, &json));
    CHECK(json && strstr(json, "\"values\":[\"blue\",\"green\",\"red\"]"));
    nb_free(json);
    /* headerless prediction data by position; an unknown category is an error */
    CHECK_OK(nb_dataset_load(fx_text("cp.csv", "green,7\n"), NULL, pp, &ds));
    float want[] = {0, 1, 0, 7};
    CHECK(ds && nb_dataset_targets(ds) == NULL && row_is(ds, 0, want));
    nb_dataset_free(ds);
    CHECK_ERR(nb_dataset_load(fx_text("cq.csv", "color,size,y\nred,1,1\npurple,2,0\n"), NULL, pp,
                              &ds),
              NB_ERR_FORMAT, "cq.csv:3: column 0 (\"color\"): a category not in the training "
                             "data, got \"purple\"");
    CHECK_ERR(nb_dataset_load(fx_text("cr.csv", "color,size,y\nred,1,2\n"), NULL, pp, &ds),
              NB_ERR_FORMAT, "cr.csv:2: column 2 (\"y\"): expected 0 or 1, got \"2\"");
    CHECK_ERR(nb_dataset_load(fx_text("cs.csv", "red,1\nred,1,0\n"), NULL, pp, &ds),
              NB_ERR_FORMAT, "cs.csv:2: expected 2 columns, got 3");
    nb_preproc_free(pp);

    /* binary labels given as two strings; a third one is an error on its line */
    o = opts(NB_TASK_BINARY, NULL, -1);
    CHECK_OK(learn("b.csv", "x,ok\n1,yes\n2,no\n3,yes\n", &o, &pp, &ds));
    CHECK(ds && ds_y(ds, 0) == 1.0f && ds_y(ds, 1) == 0.0f && strcmp(nb_dataset_class_name(ds, 0), "no") == 0);
    nb_dataset_free(ds);
    nb_preproc_free(pp);
    CHECK_ERR(learn("b3.csv", "x,ok\n1,yes\n2,no\n3,maybe\n", &o, &pp, &ds), NB_ERR_FORMAT,
              "b3.csv:4: column 1 (\"ok\"): a third distinct label \"maybe\"");
    nb_preproc_free(pp);
}

static void test_multilabel_regress(void)
{
    nb_preproc *pp;
    nb_dataset *ds;
    nb_data_opts o = opts(NB_TASK_MULTILABEL, "b,a", -1);
    CHECK_OK(learn("m.csv", "f1,a,f2,b\n1,0,2,1\n3,1,4,1\n", &o, &pp, &ds));
    CHECK(ds && nb_dataset_n_features(ds) == 2 && nb_dataset_n_targets(ds) == 2 && nb_dataset_n_classes(ds) == 2);
    if (ds && nb_dataset_n_targets(ds) == 2) {
        CHECK(strcmp(nb_dataset_class_name(ds, 0), "b") == 0 && strcmp(nb_dataset_class_name(ds, 1), "a") == 0);
        CHECK(ds_y(ds, 0) == 1 && ds_y(ds, 1) == 0 && ds_y(ds, 2) == 1 && ds_y(ds, 3) == 1);
        CHECK(ds_x(ds, 0) == 1 && ds_x(ds, 1) == 2 && ds_x(ds, 3) == 4);
    }
    nb_dataset_free(ds);
    CHECK_ERR(nb_dataset_load(fx_text("m2.csv", "f1,a,f2,b\n1,0,2,0.5\n"), NULL, pp, &ds),
              NB_ERR_FORMAT, "m2.csv:2: column 3 (\"b\"): expected 0 or 1, got \"0.5\"");
    CHECK_ERR(nb_dataset_load(fx_text("m3.csv", "f1,a,f2\n1,0,2\n"), NULL, pp, &ds),
              NB_ERR_FORMAT, "m3.csv:1: missing label column \"b\"");
    nb_preproc_free(pp);

    o = opts(NB_TASK_REGRESS, "-1", -1);
    o.delimiter = ';';
    CHECK_OK(learn("r.csv", "x;t\n1;2.25\n-2;1e3\n", &o, &pp, &ds));
    CHECK(ds && nb_dataset_n_targets(ds) == 1 && ds_y(ds, 0) == 2.25f && ds_y(ds, 1) == 1000.0f);
    CHECK(ds && nb_dataset_n_classes(ds) == 0 && nb_dataset_class_name(ds, 0) == NULL && nb_dataset_task(ds) == NB_TASK_REGRESS);
    nb_dataset_free(ds);
    nb_preproc_free(pp);
    o = opts(NB_TASK_REGRESS, "t", -1);
    CHECK_ERR(learn("r2.csv", "x,t\n1,2\n2,inf\n", &o, &pp, &ds), NB_ERR_FORMAT,
              "r2.csv:3: column 1 (\"t\"): expected a finite number, got \"inf\"");
    nb_preproc_free(pp);

    /* label option errors */
    o = opts(NB_TASK_CLASSIFY, "nope", -1);
    CHECK_ERR(learn("l.csv", "a,b\n1,0\n", &o, &pp, &ds), NB_ERR_ARG, "label column \"nope\"");
    nb_preproc_free(pp);
    o = opts(NB_TASK_CLASSIFY, "a,b", -1);
    CHECK_ERR(learn("l.csv", "a,b,c\n1,0,1\n", &o, &pp, &ds), NB_ERR_ARG,
              "takes one label column, got 2");
    nb_preproc_free(pp);
    o = opts(NB_TASK_CLASSIFY, "0", -1);
    CHECK_OK(learn("l.csv", "a,b\n1,0\n0,5\n", &o, &pp, &ds));
    CHECK(ds && nb_dataset_n_classes(ds) == 2 && ds_x(ds, 1) == 5.0f && ds_y(ds, 1) == 0.0f);
    nb_dataset_free(ds);
    nb_preproc_free(pp);
    /* caller's class names for integer labels */
    o = opts(NB_TASK_CLASSIFY, NULL, -1);
    o.class_names = "cat,dog,bird";
    CHECK_OK(learn("cn.csv", "a,b\n1,0\n0,1\n", &o, &pp, &ds));
    CHECK(ds && nb_dataset_n_classes(ds) == 3 && strcmp(nb_dataset_class_name(ds, 2), "bird") == 0);
    nb_dataset_free(ds);
    nb_preproc_free(pp);
    o.class_names = "cat";
    CHECK_ERR(learn("cn.csv", "a,b\n1,0\n0,1\n", &o, &pp, &ds), NB_ERR_ARG, "1 class names given");
    nb_preproc_free(pp);
}

struct bad_case {
    const char *text;
    const char *message; /* after the file name */
};

static void test_malformed(void)
{
    static const struct bad_case cases[] = {
        {"", ": empty file"},
        {"\n\n", ": empty file"},
        {"a,b,c\n", ": no data rows"},
        {"a,b,c\n1,2,3\n4,5\n", ":3: expected 3 columns, got 2"},
        {"a,b,c\n1,2,3\n4,5,6,7\n", ":3: expected 3 columns, got 4"},
        {"a,b,c\n1,,3\n", ":2: column 1 (\"b\"): empty cell"},
        {"a,b,c\n1,2,\n", ":2: column 2 (\"c\"): empty cell"},
        {"a,b,c\n1,2,0\n1,nan,0\n", ":3: column 1 (\"b\"): \"nan\", a missing value in a numeric column"},
        {"a,b,c\n1,2,0\n1,inf,0\n", ":3: column 1 (\"b\"): expected a finite number, got \"inf\""},
        {"a,b,c\n1,2,0\n1,-Inf,0\n", ":3: column 1 (\"b\"): expected a finite number"},
        {"a,b,c\n1,2,0\n1,1e39,0\n", ":3: column 1 (\"b\"): expected a finite number"},
        {"a,age,c\n1,2,0\n1,3,1\n4,abc,1\n",
         ":4: column 1 (\"age\"): expected a number, got \"abc\""},
        {"a,b,c\n1,2,0\n1,0x10,0\n", ":3: column 1 (\"b\"): expected a number, got \"0x10\""},
        {"a,b,c\n1,2,1\n1,2,1.5\n",
         ": the label column 2 (\"c\") holds 1 distinct non-integer number such as 1.5"},
        {"a,b,c\n1,2,-1\n", ":2: column 2 (\"c\"): expected a class index"},
        {"a,b,c\n1,2,3\n1,2,x\n", ":3: column 2 (\"c\"): expected a class index 0..3, got \"x\""},
        {"a,b,c\n1,\"2,3\n", ":2: column 1: quoted field is not closed"},
        {"a,b,c\n1,2\"x\",3\n", ":2: column 1: quote inside an unquoted field"},
        {"a,b,c\n1,\"2\"x,3\n", ":2: column 1: unexpected character after a closing quote"},
        {"a,b,c\nu,2,0\n\"x\ny\",2,0\nv,q,0\n", ":5: column 1 (\"b\"): expected a number"},
        {"a,,c\n1,2,3\n", ":1: column 1: empty column name"},
        {"a,b,a\n1,2,3\n", ":1: column 2: name \"a\" is also the name of column 0"},
        {"a,b,c\n1,\xff,0\n", ":2: column 1 (\"b\"): \"\xff\" is not valid UTF-8"},
        {"x\n1\n", "no feature column"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[32], want[256];
        snprintf(name, sizeof name, "bad%zu.csv", i);
        snprintf(want, sizeof want, "%s%s", name, cases[i].message);
        nb_preproc *pp;
        nb_dataset *ds;
        nb_data_opts o = nb_data_opts_default();
        int rc = learn(name, cases[i].text, &o, &pp, &ds);
        int st = strstr(cases[i].message, "feature column") || strstr(cases[i].message, "holds")
                     ? NB_ERR_ARG : NB_ERR_FORMAT;
        const char *sub = cases[i].message[0] == ':' ? want : cases[i].message;
        CHECK_ERR(rc, st, sub);
        CHECK(ds == NULL && pp && !nb_preproc_has_schema(pp));
        nb_preproc_free(pp);
    }
    /* a NUL byte means this is not a text file */
    nb_preproc *pp;
    nb_dataset *ds;
    CHECK_OK(nb_preproc_create(&pp));
    CHECK_ERR(nb_dataset_load(fx_write("nul.csv", "a,b\n1,\0\n", 8), NULL, pp, &ds),
              NB_ERR_FORMAT, "nul.csv:2: column 1: NUL byte");
    CHECK_ERR(nb_dataset_load(fx_path("missing.csv"), NULL, pp, &ds), NB_ERR_IO, "missing.csv");
    CHECK_ERR(nb_dataset_load(fx_text("data.txt", "1,2\n"), NULL, pp, &ds), NB_ERR_ARG,
              "unknown kind of data");
    char spec[600];
    snprintf(spec, sizeof spec, "csv:%s", fx_path("data.txt"));
    CHECK_OK(nb_dataset_load(spec, NULL, pp, &ds));
    CHECK(ds && nb_dataset_n_rows(ds) == 1 && ds_x(ds, 0) == 1.0f && ds_y(ds, 0) == 2.0f);
    nb_dataset_free(ds);
    nb_preproc_free(pp);
    /* the cap on file size */
    nb_data_opts o = nb_data_opts_default();
    o.max_bytes = 4;
    CHECK_ERR(nb_dataset_load(fx_path("h.csv"), &o, NULL, &ds), NB_ERR_FORMAT, "allowed");
}

/* CSV from memory (how the CLI reads standard input): the same schema learning and checks as
 * a file, the name in messages, and no read past n (the text is not NUL-terminated) */
static void test_csv_text(void)
{
    static const char text[] = "x,y,kind\n1,2,b\n3,4,a\n5,6,b\nTRAILING";
    size_t n = sizeof text - 1 - strlen("TRAILING");
    nb_preproc *pp;
    nb_dataset *ds = NULL;
    CHECK_OK(nb_preproc_create(&pp));
    CHECK_OK(nb_dataset_load_csv_text("mem", text, n, NULL, pp, &ds));
    CHECK(ds && nb_dataset_n_rows(ds) == 3 && nb_dataset_n_features(ds) == 2);
    if (ds && nb_dataset_n_rows(ds) == 3) {
        CHECK(strcmp(nb_preproc_class_name(pp, 0), "a") == 0 && strcmp(nb_preproc_class_name(pp, 1), "b") == 0);
        CHECK(ds_y(ds, 0) == 1 && ds_y(ds, 1) == 0 && ds_x(ds, 2) == 3.0f);
    }
    nb_dataset_free(ds);
    /* against the learned schema: a row with an unknown class names "mem" and the line */
    CHECK_ERR(nb_dataset_load_csv_text("mem", "x,y,kind\n1,2,c\n", 15, NULL, pp, &ds), NB_ERR_FORMAT,
              "mem:2");
    CHECK(ds == NULL);
    nb_data_opts o = nb_data_opts_default();
    o.max_bytes = 4;
    CHECK_ERR(nb_dataset_load_csv_text("mem", text, n, &o, NULL, &ds), NB_ERR_FORMAT, "allowed");
    nb_preproc_free(pp);
}

static void test_gzip(void)
{
#ifdef NB_HAVE_ZLIB
    const char *p = fx_path("z.csv.gz");
    gzFile gz = gzopen(p, "wb");
    CHECK(gz != NULL);
    if (!gz) return;
    gzputs(gz, "a,b\n1,0\n2,1\n3,0\n");
    gzclose(gz);
    nb_dataset *ds = NULL;
    CHECK_OK(nb_dataset_load(p, NULL, NULL, &ds));
    CHECK(ds && nb_dataset_n_rows(ds) == 3 && ds_x(ds, 2) == 3.0f && ds_y(ds, 1) == 1.0f);
    nb_dataset_free(ds);
    /* a truncated gzip file is an error, not short data */
    FILE *f = fopen(p, "rb");
    char buf[256];
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f) fclose(f);
    fx_write("zt.csv.gz", buf, n - 9);
    CHECK_ERR(nb_dataset_load(fx_path("zt.csv.gz"), NULL, NULL, &ds), NB_ERR_FORMAT,
              "zt.csv.gz: truncated gzip data");
#else
    nb_dataset *ds = NULL;
    CHECK_ERR(nb_dataset_load(fx_text("z.csv.gz", "not really gzip"), NULL, NULL, &ds),
              NB_ERR_FORMAT, "z.csv.gz: cannot read a .gz file: nabla was built without zlib");
#endif
}

/* Every allocation of a learning load, then of an enforcing load, fails in turn: each must
 * report NB_ERR_NOMEM and leave no block behind. */
static void test_alloc_failures(void)
{
    const char *train = fx_text("f.csv", "color,\"w, kg\",size,species\n"
                                         "red,1.5,3,setosa\nblue,2,4,\"virginica\"\n"
                                         "green,2,5,setosa\nred,8,9,versicolor\n");
    const char *test = fx_text("g.csv", "size,color,\"w, kg\"\n1,red,2\n3,blue,4\n");
    int phases[2] = {0, 0};
    for (int phase = 0; phase < 2; phase++) {
        nb_preproc *base = NULL;
        if (phase == 1) {
            nb_dataset *tmp;
            CHECK_OK(nb_preproc_create(&base));
            CHECK_OK(nb_dataset_load(train, NULL, base, &tmp));
            nb_dataset_free(tmp);
        }
        for (long k = 1; k < 5000; k++) {
            nb_preproc *pp = NULL;
            nb_dataset *ds = NULL;
            char *json = NULL;
            fa_begin(k);
            int rc = phase == 0 ? nb_preproc_create(&pp) : NB_OK;
            if (rc == NB_OK && phase == 0) rc = nb_dataset_load(train, NULL, pp, &ds);
            if (rc == NB_OK && phase == 0) rc = nb_preproc_to_json(pp, &json);
            if (rc == NB_OK && phase == 1) rc = nb_dataset_load(test, NULL, base, &ds);
            nb_free(json);
            nb_dataset_free(ds);
            nb_preproc_free(pp);
            long live = fa_live;
            fa_end();
            if (rc != NB_OK && rc != NB_ERR_NOMEM) {
                fprintf(stderr, "phase %d, failing allocation %ld: %d %s\n", phase, k, rc,
                        nb_errmsg());
                CHECK(0);
                break;
            }
            if (live != 0) {
                fprintf(stderr, "phase %d, failing allocation %ld: %ld blocks leaked\n", phase,
                        k, live);
                CHECK(0);
                break;
            }
            phases[phase]++;
            if (rc == NB_OK) break;
        }
        nb_preproc_free(base);
    }
    CHECK(phases[0] > 20 && phases[1] > 10); /* the walks really visited many allocations */
}

int main(void)
{
    fx_setup();
    test_header_modes();
    test_string_labels_and_quotes();
    test_categorical();
    test_multilabel_regress();
    test_malformed();
    test_gzip();
    test_csv_text();
    test_alloc_failures();
    fx_cleanup();
    return check_exit("test_data_csv");
}
