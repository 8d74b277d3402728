/* SPDX-License-Identifier: MIT */
/*
 * test_data_labels.c - what a classify label column of numbers may hold (issue 13 item 17):
 * integer class indices that repeat and word labels load; non-integer numbers and integers so
 * varied that classes hardly repeat are refused with --task regress suggested (API names in
 * the library's message).
 */
#include "data_fixture.h"
#include "ds_fixture.h"

#include <stdio.h>
#include <stdlib.h>

static int load_new(const char *name, const char *text, const nb_data_opts *o, nb_dataset **ds)
{
    nb_preproc *pp = NULL;
    *ds = NULL;
    int rc = nb_preproc_create(&pp);
    if (rc == NB_OK) rc = nb_dataset_load(fx_text(name, text), o, pp, ds);
    nb_preproc_free(pp);
    return rc;
}

/* rows x,label with label = fmt(i) */
static char *rows(int n, int kind)
{
    char *t = malloc((size_t)n * 40 + 16);
    size_t len = (size_t)sprintf(t, "x,y\n");
    for (int i = 0; i < n; i++) {
        if (kind == 0) len += (size_t)sprintf(t + len, "%d,%d\n", i, i % 7);          /* classes */
        else if (kind == 1) len += (size_t)sprintf(t + len, "%d,%d.%d\n", i, i % 9, i % 10 + 1);
        else len += (size_t)sprintf(t + len, "%d,%d\n", i, i * 3);                   /* ids */
    }
    return t;
}

static void test_numbers_as_classes(void)
{
    nb_dataset *ds;
    char *t = rows(200, 0);
    CHECK_OK(load_new("k.csv", t, NULL, &ds));
    CHECK(ds && nb_dataset_n_classes(ds) == 7 && ds_y(ds, 8) == 1.0f);
    nb_dataset_free(ds);
    free(t);

    t = rows(200, 1);
    CHECK_ERR(load_new("f.csv", t, NULL, &ds), NB_ERR_ARG,
              "f.csv: the label column 1 (\"y\") holds 81 distinct non-integer numbers such as "
              "0.1: a classify task needs class labels; for numbers use nb_data_opts.task regress "
              "(or another nb_data_opts.label)");
    CHECK(ds == NULL);
    nb_data_opts o = nb_data_opts_default();
    o.task = NB_TASK_REGRESS;
    CHECK_OK(load_new("f.csv", t, &o, &ds));
    CHECK(ds && nb_dataset_n_rows(ds) == 200 && ds_y(ds, 12) == 3.3f);
    nb_dataset_free(ds);
    free(t);

    /* one fractional label is enough */
    CHECK_ERR(load_new("one.csv", "x,y\n1,0\n2,1\n3,2.5\n4,1\n", NULL, &ds), NB_ERR_ARG,
              "holds 1 distinct non-integer number such as 2.5");

    t = rows(200, 2);
    CHECK_ERR(load_new("id.csv", t, NULL, &ds), NB_ERR_ARG,
              "id.csv: the label column 1 (\"y\") holds 200 distinct integers in 200 rows, too "
              "varied for class labels: for numbers use nb_data_opts.task regress");
    free(t);
    /* few rows of distinct integers (<= 50) stay classes: small demo files */
    CHECK_OK(load_new("small.csv", "x,y\n1,0\n2,1\n3,2\n4,3\n", NULL, &ds));
    CHECK(ds && nb_dataset_n_classes(ds) == 4);
    nb_dataset_free(ds);
    /* word labels are untouched */
    CHECK_OK(load_new("w.csv", "x,y\n1,cat\n2,dog\n3,cat\n", NULL, &ds));
    CHECK(ds && nb_dataset_n_classes(ds) == 2);
    nb_dataset_free(ds);
}

int main(void)
{
    fx_setup();
    test_numbers_as_classes();
    fx_cleanup();
    return check_exit("test_data_labels");
}
