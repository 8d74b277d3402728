/* SPDX-License-Identifier: MIT */
/*
 * test_data_missing.c - missing-value tokens in numeric CSV columns (issue 13 item 15): ""
 * NA N/A NaN ? null decide no column's kind (one NA in row 1 no longer turns 4 features into
 * many one-hot ones) and are refused by name with file:line and column; a column of only
 * missing tokens or words stays categorical, as before. nb_data_opts.missing: mean fills a
 * missing cell with its column's mean over the training file's present values (stored in the
 * schema JSON and reused for later loads), drop leaves such rows out and counts them.
 */
#include "data_fixture.h"
#include "ds_fixture.h"

static int learn(const char *name, const char *text, nb_preproc **pp, nb_dataset **ds)
{
    *ds = NULL;
    int rc = nb_preproc_create(pp);
    return rc ? rc : nb_dataset_load(fx_text(name, text), NULL, *pp, ds);
}

static void test_tokens(void)
{
    static const char *const tokens[] = {"NA", "na", "N/A", "NaN", "nan", "?", "null", "NULL", " NA "};
    for (size_t i = 0; i < sizeof tokens / sizeof tokens[0]; i++) {
        char text[128], want[128];
        snprintf(text, sizeof text, "a,b,y\n%s,2,0\n1,3,1\n2,4,0\n", tokens[i]);
        snprintf(want, sizeof want, "m.csv:2: column 0 (\"a\"): \"%s\", a missing value in a "
                 "numeric column", tokens[i]);
        nb_preproc *pp = NULL;
        nb_dataset *ds = NULL;
        CHECK_ERR(learn("m.csv", text, &pp, &ds), NB_ERR_FORMAT, want);
        CHECK(ds == NULL && !nb_preproc_has_schema(pp));
        nb_preproc_free(pp);
    }
    /* an empty first cell, and a token further down */
    nb_preproc *pp = NULL;
    nb_dataset *ds = NULL;
    CHECK_ERR(learn("e.csv", "a,b,y\n,2,0\n1,3,1\n", &pp, &ds), NB_ERR_FORMAT,
              "e.csv:2: column 0 (\"a\"): empty cell, a missing value in a numeric column");
    nb_preproc_free(pp);
    CHECK_ERR(learn("d.csv", "a,b,y\n1,2,0\n1,3,1\n2,?,0\n", &pp, &ds), NB_ERR_FORMAT,
              "d.csv:4: column 1 (\"b\"): \"?\", a missing value in a numeric column");
    nb_preproc_free(pp);
}

static void test_kinds(void)
{
    nb_preproc *pp = NULL;
    nb_dataset *ds = NULL;
    /* the schema stays numeric: a clean file of the same columns loads with 2 features */
    CHECK_ERR(learn("k.csv", "a,b,y\nNA,2,0\n1,3,1\n", &pp, &ds), NB_ERR_FORMAT, "missing value");
    nb_preproc_free(pp);
    /* words: categorical, with a missing token among them a category like any word */
    CHECK_OK(learn("w.csv", "a,b,y\nNA,2,0\nred,3,1\nblue,4,0\n", &pp, &ds));
    CHECK(ds && nb_dataset_n_features(ds) == 4 && nb_preproc_n_features(pp) == 4);
    nb_dataset_free(ds);
    nb_preproc_free(pp);
    /* only missing tokens: categorical, as before */
    CHECK_OK(learn("o.csv", "a,b,y\nNA,2,0\n?,3,1\nNA,4,0\n", &pp, &ds));
    CHECK(ds && nb_dataset_n_features(ds) == 3);
    if (ds) CHECK(ds_x(ds, 0) == 0.0f && ds_x(ds, 1) == 1.0f && ds_x(ds, 3) == 1.0f);
    nb_dataset_free(ds);
    nb_preproc_free(pp);
}


static int load_mode(const char *name, const char *text, nb_missing mode, int64_t *dropped,
                     nb_preproc *pp, nb_dataset **ds)
{
    nb_data_opts o = nb_data_opts_default();
    o.missing = mode;
    o.dropped = dropped;
    return nb_dataset_load(fx_text(name, text), &o, pp, ds);
}

static void test_mean(void)
{
    nb_preproc *pp = NULL;
    nb_dataset *ds = NULL;
    int64_t dropped = -1;
    CHECK_OK(nb_preproc_create(&pp));
    /* a: present 1, 3, 8 -> mean 4; b: present 2, 4 -> mean 3; c (words) untouched */
    CHECK_OK(load_mode("mt.csv", "a,b,c,y\n1,NA,red,0\n?,2,blue,1\n3,4,red,0\n8,,blue,1\n",
                       NB_MISSING_MEAN, &dropped, pp, &ds));
    CHECK(dropped == 0 && nb_preproc_missing(pp) == NB_MISSING_MEAN);
    CHECK(ds && nb_dataset_n_rows(ds) == 4 && nb_dataset_n_features(ds) == 4);
    if (ds) {
        CHECK(ds_x(ds, 0) == 1.0f && ds_x(ds, 1) == 3.0f); /* row 0: b filled */
        CHECK(ds_x(ds, 4) == 4.0f && ds_x(ds, 5) == 2.0f); /* row 1: a filled */
        CHECK(ds_x(ds, 12) == 8.0f && ds_x(ds, 13) == 3.0f);
    }
    nb_dataset_free(ds);
    /* stored: the JSON carries the means, and a reloaded state fills with them, not with the
     * means of the new file */
    char *json = NULL;
    CHECK_OK(nb_preproc_to_json(pp, &json));
    CHECK(json && strstr(json, "\"type\":\"numeric\",\"mean\":4") &&
          strstr(json, "\"mean\":3") && strstr(json, "\"missing\":\"mean\""));
    nb_preproc *back = NULL;
    if (json) CHECK_OK(nb_preproc_from_json(json, &back));
    if (back) {
        CHECK(nb_preproc_missing(back) == NB_MISSING_MEAN);
        char *again = NULL;
        CHECK_OK(nb_preproc_to_json(back, &again));
        CHECK(again && strcmp(again, json) == 0);
        nb_free(again);
        /* default opts against the schema: its mode; unlabeled prediction rows */
        CHECK_OK(load_mode("mp.csv", "a,b,c\nNA,100,red\n50,?,blue\n", NB_MISSING_ERROR, NULL,
                           back, &ds));
        if (ds) CHECK(ds_x(ds, 0) == 4.0f && ds_x(ds, 1) == 100.0f && ds_x(ds, 4) == 50.0f &&
                      ds_x(ds, 5) == 3.0f);
        nb_dataset_free(ds);
        /* drop overrides the stored mode */
        CHECK_OK(load_mode("mq.csv", "a,b,c\nNA,100,red\n50,1,blue\n", NB_MISSING_DROP, &dropped,
                           back, &ds));
        CHECK(dropped == 1 && ds && nb_dataset_n_rows(ds) == 1 && ds_x(ds, 0) == 50.0f);
        nb_dataset_free(ds);
    }
    nb_preproc_free(back);
    nb_free(json);
    nb_preproc_free(pp);
    /* a schema learned without the option has no means: mean is refused, error stays */
    CHECK_OK(nb_preproc_create(&pp));
    CHECK_OK(load_mode("mc.csv", "a,b,y\n1,2,0\n3,4,1\n", NB_MISSING_ERROR, NULL, pp, &ds));
    nb_dataset_free(ds);
    CHECK_ERR(load_mode("mn.csv", "a,b\nNA,2\n", NB_MISSING_MEAN, NULL, pp, &ds), NB_ERR_ARG,
              "mn.csv: missing values cannot become means: the schema (model) stores none");
    CHECK_ERR(load_mode("mn.csv", "a,b\nNA,2\n", NB_MISSING_ERROR, NULL, pp, &ds), NB_ERR_FORMAT,
              "mn.csv:2: column 0 (\"a\"): \"NA\", a missing value");
    nb_preproc_free(pp);
}

static void test_drop(void)
{
    nb_preproc *pp = NULL;
    nb_dataset *ds = NULL;
    int64_t dropped = -1;
    CHECK_OK(nb_preproc_create(&pp));
    CHECK_OK(load_mode("dr.csv", "a,b,y\n1,NA,0\n2,5,1\n?,6,0\n4,7,1\n", NB_MISSING_DROP, &dropped,
                       pp, &ds));
    CHECK(dropped == 2 && ds && nb_dataset_n_rows(ds) == 2);
    if (ds) CHECK(ds_x(ds, 0) == 2.0f && ds_x(ds, 1) == 5.0f && ds_x(ds, 2) == 4.0f &&
                  ds_x(ds, 3) == 7.0f && ds_y(ds, 0) == 1.0f && ds_y(ds, 1) == 1.0f);
    nb_dataset_free(ds);
    char *json = NULL;
    CHECK_OK(nb_preproc_to_json(pp, &json));
    CHECK(json && strstr(json, "\"missing\":\"drop\"") && !strstr(json, "\"mean\""));
    nb_free(json);
    /* later loads drop by the schema's mode; every row dropped is an error */
    CHECK_OK(load_mode("dv.csv", "a,b,y\n1,2,0\nNA,3,1\n", NB_MISSING_ERROR, &dropped, pp, &ds));
    CHECK(dropped == 1 && ds && nb_dataset_n_rows(ds) == 1);
    nb_dataset_free(ds);
    CHECK_ERR(load_mode("da.csv", "a,b,y\nNA,2,0\n1,?,1\n", NB_MISSING_ERROR, NULL, pp, &ds),
              NB_ERR_FORMAT, "da.csv: every one of the 2 data rows has a missing value");
    CHECK(ds == NULL);
    nb_preproc_free(pp);
    /* learning: every row dropped */
    CHECK_OK(nb_preproc_create(&pp));
    CHECK_ERR(load_mode("dn.csv", "a,b,y\nNA,2,0\n1,?,1\n", NB_MISSING_DROP, NULL, pp, &ds),
              NB_ERR_FORMAT, "every one of the 2 data rows has a missing value");
    CHECK(!nb_preproc_has_schema(pp));
    nb_preproc_free(pp);
}

static void test_all_missing(void)
{
    nb_preproc *pp = NULL;
    nb_dataset *ds = NULL;
    CHECK_OK(nb_preproc_create(&pp));
    CHECK_ERR(load_mode("am.csv", "a,b,y\n1,NA,0\n2,?,1\n", NB_MISSING_MEAN, NULL, pp, &ds),
              NB_ERR_FORMAT, "am.csv: column 1 (\"b\"): every value is missing, so there is "
              "nothing to take a mean of");
    CHECK_ERR(load_mode("ae.csv", "a,b,y\n1,,0\n2,,1\n", NB_MISSING_DROP, NULL, pp, &ds),
              NB_ERR_FORMAT, "ae.csv: column 1 (\"b\"): every value is missing");
    CHECK(!nb_preproc_has_schema(pp));
    nb_preproc_free(pp);
    /* options and names */
    nb_missing m;
    CHECK_OK(nb_missing_parse("drop", &m));
    CHECK(m == NB_MISSING_DROP && strcmp(nb_missing_name(NB_MISSING_MEAN), "mean") == 0);
    CHECK_ERR(nb_missing_parse("zero", &m), NB_ERR_ARG, "\"zero\": expected error, mean or drop");
    CHECK_ERR(load_mode("ao.csv", "a,y\n1,0\n", (nb_missing)7, NULL, NULL, &ds), NB_ERR_ARG,
              "missing 7 is not error, mean or drop");
}

static void test_json_fields(void)
{
    /* the reader validates the new fields; a file without them loads with mode error */
    static const char *const head = "{\"format\":\"nabla-preproc\",\"version\":1,\"source\":\"csv\","
        "\"task\":\"classify\",\"n_features\":1,\"sample_shape\":[1],\"classes\":[\"0\",\"1\"],"
        "\"csv\":{\"header\":true,\"columns\":[{\"name\":\"a\",\"type\":\"numeric\"%s},"
        "{\"name\":\"y\",\"type\":\"label\"}],\"labels\":[1],\"label_encoding\":\"index\"%s},"
        "\"scaling\":{\"mode\":\"none\"}}";
    struct { const char *col, *csv; int rc; const char *msg; } cases[] = {
        {"", "", NB_OK, NULL},
        {",\"mean\":2.5", ",\"missing\":\"mean\"", NB_OK, NULL},
        {"", ",\"missing\":\"drop\"", NB_OK, NULL},
        {"", ",\"missing\":\"mean\"", NB_ERR_FORMAT, "csv.columns[0].mean: expected a finite number"},
        {",\"mean\":\"x\"", ",\"missing\":\"mean\"", NB_ERR_FORMAT, "csv.columns[0].mean: expected a finite"},
        {",\"mean\":1e300", ",\"missing\":\"mean\"", NB_ERR_FORMAT, "csv.columns[0].mean: expected a finite"},
        {",\"mean\":1", "", NB_ERR_FORMAT, "csv.columns[0].mean: expected no mean"},
        {"", ",\"missing\":\"zero\"", NB_ERR_FORMAT, "csv.missing: expected one of \"error\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char json[1024];
        snprintf(json, sizeof json, head, cases[i].col, cases[i].csv);
        nb_preproc *pp = NULL;
        if (cases[i].rc == NB_OK) {
            CHECK_OK(nb_preproc_from_json(json, &pp));
            char *back = NULL;
            if (pp) CHECK_OK(nb_preproc_to_json(pp, &back));
            CHECK(back && strcmp(back, json) == 0); /* byte-identical round trip */
            nb_free(back);
        } else {
            CHECK_ERR(nb_preproc_from_json(json, &pp), cases[i].rc, cases[i].msg);
        }
        nb_preproc_free(pp);
    }
}

int main(void)
{
    fx_setup();
    test_tokens();
    test_kinds();
    test_mean();
    test_drop();
    test_all_missing();
    test_json_fields();
    fx_cleanup();
    return check_exit("test_data_missing");
}
