/* SPDX-License-Identifier: MIT */
/*
 * test_data_delim.c - CSV delimiters (issue 13, items 14 and 22): an explicit
 * nb_data_opts.delimiter, detection when it is 0 (the default) for ',', ';', tab and runs of
 * spaces, the ambiguous cases (one column, a ';'-file with decimal commas, rows that disagree),
 * and lines of only spaces and tabs read as blank lines.
 */
#include "data_fixture.h"
#include "ds_fixture.h"

/* Learn name/text with delimiter d; check 4 rows of features (1,2),(3,4),(5,6),(7,8), y 0,1,0,1. */
static void check_grid(const char *name, const char *text, char d)
{
    nb_data_opts o = nb_data_opts_default();
    o.delimiter = d;
    nb_preproc *pp = NULL;
    nb_dataset *ds = NULL;
    CHECK_OK(nb_preproc_create(&pp));
    CHECK_OK(nb_dataset_load(fx_text(name, text), &o, pp, &ds));
    CHECK(ds && nb_dataset_n_rows(ds) == 4 && nb_dataset_n_features(ds) == 2);
    if (ds && nb_dataset_n_rows(ds) == 4 && nb_dataset_n_features(ds) == 2) {
        for (int i = 0; i < 8; i++) CHECK(ds_x(ds, i) == (float)(i + 1));
        CHECK(ds_y(ds, 0) == 0 && ds_y(ds, 1) == 1 && ds_y(ds, 3) == 1);
        CHECK(nb_preproc_n_classes(pp) == 2);
    }
    nb_dataset_free(ds);
    /* a second file of the same kind through the learned schema, delimiter detected again */
    ds = NULL;
    CHECK_OK(nb_dataset_load(fx_text(name, text), NULL, pp, &ds));
    CHECK(ds && nb_dataset_n_rows(ds) == 4 && ds_x(ds, 7) == 8.0f);
    nb_dataset_free(ds);
    nb_preproc_free(pp);
}

static void test_detect(void)
{
    CHECK(nb_data_opts_default().delimiter == 0);
    check_grid("c.csv", "a,b,y\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n", 0);
    check_grid("s.csv", "a;b;y\n1;2;0\n3;4;1\n5;6;0\n7;8;1\n", 0);
    check_grid("t.tsv", "a\tb\ty\n1\t2\t0\n3\t4\t1\n5\t6\t0\n7\t8\t1\n", 0);
    /* runs of spaces are one separator; leading and trailing spaces are none */
    check_grid("w.csv", "a  b y\n  1 2   0  \n3 4 1\n5    6 0\n7 8 1\n", 0);
    /* explicit delimiters */
    check_grid("s2.csv", "a;b;y\n1;2;0\n3;4;1\n5;6;0\n7;8;1\n", ';');
    check_grid("t2.csv", "a\tb\ty\n1\t2\t0\n3\t4\t1\n5\t6\t0\n7\t8\t1\n", '\t');
}

static void test_ambiguous(void)
{
    nb_preproc *pp = NULL;
    nb_dataset *ds = NULL;
    /* ';' is tried before ',': decimal commas are refused by name, not read as words */
    CHECK_OK(nb_preproc_create(&pp));
    CHECK_ERR(nb_dataset_load(fx_text("dc.csv", "a;b;y\n1,5;2;0\n3,25;4;1\n"), NULL, pp, &ds),
              NB_ERR_FORMAT, "dc.csv:2: column 0 (\"a\"): \"1,5\" has a decimal comma");
    nb_preproc_free(pp);
    /* a single column: no candidate splits it, so ',' (and the error is about the labels) */
    CHECK_OK(nb_preproc_create(&pp));
    CHECK_ERR(nb_dataset_load(fx_text("one.csv", "x\n1\n2\n"), NULL, pp, &ds), NB_ERR_ARG,
              "1 label columns leave no feature column in a file of 1 columns");
    nb_preproc_free(pp);
    /* rows whose comma count differs but whose ';' count agrees: ';' */
    nb_data_opts o = nb_data_opts_default();
    o.task = NB_TASK_CLASSIFY;
    CHECK_OK(nb_preproc_create(&pp));
    CHECK_OK(nb_dataset_load(fx_text("mix.csv", "a;b\n\"x,y\";0\nz;1\n"), &o, pp, &ds));
    CHECK(ds && nb_dataset_n_rows(ds) == 2 && nb_dataset_n_features(ds) == 2);
    nb_dataset_free(ds);
    nb_preproc_free(pp);
    /* an explicit ',' on a ';' file reads one column, as asked */
    o.delimiter = ',';
    CHECK_OK(nb_preproc_create(&pp));
    CHECK_ERR(nb_dataset_load(fx_text("s3.csv", "a;b;y\n1;2;0\n"), &o, pp, &ds), NB_ERR_ARG,
              "leave no feature column in a file of 1 columns");
    nb_preproc_free(pp);
    /* a quote or a line end cannot be a delimiter */
    o.delimiter = '"';
    CHECK_ERR(nb_dataset_load(fx_text("c.csv", "a,y\n1,0\n"), &o, NULL, &ds), NB_ERR_ARG,
              "the delimiter cannot be a quote or a line end");
}

static void test_blank_lines(void)
{
    /* lines of only spaces and tabs are blank lines, in the header region and between rows */
    check_grid("b.csv", " \t \na,b,y\n1,2,0\n   \n3,4,1\n\t\n5,6,0\n  \r\n7,8,1\n \t", 0);
    check_grid("bt.tsv", "a\tb\ty\n1\t2\t0\n \n3\t4\t1\n5\t6\t0\n\t\t\n7\t8\t1\n", 0);
}

int main(void)
{
    fx_setup();
    test_detect();
    test_ambiguous();
    test_blank_lines();
    fx_cleanup();
    return check_exit("test_data_delim");
}
