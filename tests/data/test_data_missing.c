/* SPDX-License-Identifier: MIT */
/*
 * test_data_missing.c - missing-value tokens in numeric CSV columns (issue 13 item 15): ""
 * NA N/A NaN ? null decide no column's kind (one NA in row 1 no longer turns 4 features into
 * many one-hot ones) and are refused by name with file:line and column; a column of only
 * missing tokens or words stays categorical, as before.
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

int main(void)
{
    fx_setup();
    test_tokens();
    test_kinds();
    fx_cleanup();
    return check_exit("test_data_missing");
}
