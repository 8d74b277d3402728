/* SPDX-License-Identifier: MIT */
/*
 * test_data.c - the dataset helpers and the preprocessing state: task and scaling names,
 * nb_dataset_create_from / getters / gather / shuffle / split (determinism pinned to golden indices,
 * disjointness), scaling fitted on a training split and applied to a validation split with
 * hand-computed values, and the preprocessing JSON: exact round trips, identical behaviour
 * after a round trip, and every malformed field rejected with its name.
 */
#include "data_fixture.h"
#include "ds_fixture.h"

static void test_names(void)
{
    nb_task t = NB_TASK_CLASSIFY;
    CHECK_OK(nb_task_parse("multilabel", &t));
    CHECK(t == NB_TASK_MULTILABEL);
    CHECK_OK(nb_task_parse("regress", &t));
    CHECK(t == NB_TASK_REGRESS && strcmp(nb_task_name(NB_TASK_BINARY), "binary") == 0);
    CHECK_ERR(nb_task_parse("cluster", &t), NB_ERR_ARG, "task \"cluster\"");
    CHECK(strcmp(nb_task_name((nb_task)9), "?") == 0);
    nb_scaling m = NB_SCALE_NONE;
    CHECK_OK(nb_scale_parse("standard", &m));
    CHECK(m == NB_SCALE_STANDARD && strcmp(nb_scale_name(NB_SCALE_MINMAX), "minmax") == 0);
    CHECK_ERR(nb_scale_parse("zscore", &m), NB_ERR_ARG, "scaling \"zscore\"");
    nb_data_opts o = nb_data_opts_default();
    CHECK(o.header == -1 && o.delimiter == 0 && o.label == NULL && o.split == NB_SPLIT_TRAIN);
}

/* 10 rows: x = (i, 100 + i), y = 10 i. */
static nb_dataset *make_rows(nb_task task, int n_classes)
{
    float x[20], y[10];
    for (int i = 0; i < 10; i++) {
        x[2 * i] = (float)i;
        x[2 * i + 1] = (float)(100 + i);
        y[i] = (float)(10 * i);
    }
    nb_dataset *ds = NULL;
    CHECK_OK(nb_dataset_create_from(x, 10, 2, y, 1, task, n_classes, &ds));
    if (!ds) exit(1);
    return ds;
}

static void test_create_gather(void)
{
    nb_dataset *ds = NULL;
    const float x6[6] = {1, 2, 3, 4, 5, 6}, y3[3] = {0, 1, 1};
    CHECK_ERR(nb_dataset_create_from(x6, 0, 2, y3, 1, NB_TASK_REGRESS, 0, &ds), NB_ERR_ARG, "must be >= 1");
    CHECK_ERR(nb_dataset_create_from(x6, INT64_MAX / 2, 4, NULL, 0, NB_TASK_REGRESS, 0, &ds), NB_ERR_NOMEM, "overflows");
    CHECK_ERR(nb_dataset_create_from(NULL, 3, 2, NULL, 0, NB_TASK_REGRESS, 0, &ds), NB_ERR_ARG, "x is NULL");
    CHECK_ERR(nb_dataset_create_from(x6, 3, 2, NULL, 1, NB_TASK_REGRESS, 0, &ds), NB_ERR_ARG, "y exactly when");
    CHECK_ERR(nb_dataset_create_from(x6, 3, 2, y3, 0, NB_TASK_REGRESS, 0, &ds), NB_ERR_ARG, "y exactly when");
    CHECK_ERR(nb_dataset_create_from(x6, 3, 2, y3, 1, (nb_task)7, 0, &ds), NB_ERR_ARG, "task 7 is not");
    CHECK_ERR(nb_dataset_create_from(x6, 3, 2, y3, 1, NB_TASK_BINARY, 3, &ds), NB_ERR_ARG,
              "n_classes 3 does not fit binary data");
    CHECK_ERR(nb_dataset_create_from(x6, 1, 6, x6, 6, NB_TASK_CLASSIFY, 2, &ds), NB_ERR_ARG,
              "classify data has 1 target per row, got n_targets 6");
    CHECK_ERR(nb_dataset_create_from(x6, 1, 6, x6, 3, NB_TASK_MULTILABEL, 2, &ds), NB_ERR_ARG,
              "n_classes 2 does not fit multilabel");
    CHECK(ds == NULL);
    /* the arrays are copied: the caller's may change afterwards */
    float xc[6] = {1, 2, 3, 4, 5, 6};
    CHECK_OK(nb_dataset_create_from(xc, 3, 2, NULL, 0, NB_TASK_REGRESS, 0, &ds));
    xc[5] = 0;
    CHECK(ds && nb_dataset_targets(ds) == NULL && nb_dataset_n_targets(ds) == 0 && ds_x(ds, 5) == 6.0f &&
          nb_dataset_n_rows(ds) == 3 && nb_dataset_n_features(ds) == 2 && nb_dataset_sample_rank(ds) == 1 &&
          nb_dataset_sample_shape(ds)[0] == 2 && nb_dataset_class_name(ds, 0) == NULL &&
          nb_dataset_n_classes(ds) == 0 && nb_dataset_task(ds) == NB_TASK_REGRESS);
    /* a sample shape: its product must be the feature count */
    CHECK_ERR(nb_dataset_set_sample_shape(ds, 2, (int64_t[]){2, 2}), NB_ERR_ARG, "(2, 2) does not hold the 2");
    CHECK_ERR(nb_dataset_set_sample_shape(ds, 4, (int64_t[]){1, 1, 1, 2}), NB_ERR_ARG, "does not hold");
    CHECK(ds && nb_dataset_sample_rank(ds) == 1);
    CHECK_OK(nb_dataset_set_sample_shape(ds, 3, (int64_t[]){1, 1, 2}));
    CHECK(ds && nb_dataset_sample_rank(ds) == 3 && nb_dataset_sample_shape(ds)[2] == 2);
    float xb[4];
    int64_t rows[2] = {0, 1};
    CHECK_ERR(nb_dataset_gather(ds, rows, 2, xb, xb), NB_ERR_ARG, "no targets");
    nb_dataset_free(ds);
    nb_dataset_free(NULL);

    ds = make_rows(NB_TASK_REGRESS, 0);
    CHECK(ds_y(ds, 9) == 90.0f && nb_dataset_targets(ds)[3] == 30.0f);
    float x[6], y[3];
    int64_t pick[3] = {7, 0, 7};
    CHECK_OK(nb_dataset_gather(ds, pick, 3, x, y));
    CHECK(x[0] == 7 && x[1] == 107 && x[2] == 0 && x[5] == 107 && y[0] == 70 && y[1] == 0);
    int64_t badrows[2] = {1, 10};
    CHECK_ERR(nb_dataset_gather(ds, badrows, 2, x, NULL), NB_ERR_ARG, "rows[1] = 10");
    nb_dataset_free(ds);
}

static void test_shuffle(void)
{
    int64_t a[100], b[100];
    nb_rng r1, r2;
    for (int i = 0; i < 100; i++) a[i] = b[i] = i;
    nb_rng_seed(&r1, 7);
    nb_rng_seed(&r2, 7);
    nb_shuffle_indices(&r1, a, 100);
    nb_shuffle_indices(&r2, b, 100);
    int seen[100] = {0}, moved = 0, same = 1;
    for (int i = 0; i < 100; i++) {
        seen[a[i]]++;
        moved += a[i] != i;
        same = same && a[i] == b[i];
    }
    int perm = 1;
    for (int i = 0; i < 100; i++) perm = perm && seen[i] == 1;
    CHECK(perm && same && moved > 80);
    int64_t one = 5;
    nb_shuffle_indices(&r1, &one, 1);
    nb_shuffle_indices(&r1, NULL, 0);
    CHECK(one == 5);
}

static void test_split(void)
{
    nb_dataset *all = make_rows(NB_TASK_CLASSIFY, 100), *tr = NULL, *va = NULL, *tr2 = NULL, *va2 = NULL;
    CHECK_OK(nb_dataset_split(all, 0.3, 42, &tr, &va));
    CHECK(tr && va && nb_dataset_n_rows(tr) == 7 && nb_dataset_n_rows(va) == 3 &&
          nb_dataset_n_targets(tr) == 1 && nb_dataset_n_features(va) == 2);
    float vx[6] = {0}, vx2[6];
    if (tr && va && nb_dataset_n_rows(tr) == 7 && nb_dataset_n_rows(va) == 3) {
        int seen[10] = {0}, sorted = 1;
        for (int i = 0; i < 7; i++) {
            int r = (int)ds_x(tr, 2 * i);
            seen[r]++;
            CHECK(ds_x(tr, 2 * i + 1) == (float)(100 + r) && ds_y(tr, i) == (float)(10 * r));
            if (i) sorted = sorted && ds_x(tr, 2 * i) > ds_x(tr, 2 * i - 2);
        }
        CHECK_OK(nb_dataset_rows(va, 0, 3, vx, NULL));
        for (int i = 0; i < 3; i++) seen[(int)vx[2 * i]]++;
        int disjoint = 1;
        for (int i = 0; i < 10; i++) disjoint = disjoint && seen[i] == 1;
        CHECK(disjoint && sorted && nb_dataset_task(va) == NB_TASK_CLASSIFY && nb_dataset_n_classes(va) == 100);
        /* golden: rows 3, 7, 8, from an independent Python transcription of xoshiro256**,
         * nb_rng_below and Fisher-Yates: a split is reproducible across machines */
        CHECK(vx[0] == 3 && vx[2] == 7 && vx[4] == 8);
    }
    CHECK_OK(nb_dataset_split(all, 0.3, 42, &tr2, &va2));
    CHECK(va2 && nb_dataset_rows(va2, 0, 3, vx2, NULL) == NB_OK && memcmp(vx, vx2, sizeof vx) == 0);
    nb_dataset_free(tr2), nb_dataset_free(va2);
    int differs = 0;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        CHECK_OK(nb_dataset_split(all, 0.3, seed, &tr2, &va2));
        differs += va2 && nb_dataset_rows(va2, 0, 3, vx2, NULL) == NB_OK && memcmp(vx, vx2, sizeof vx) != 0;
        nb_dataset_free(tr2), nb_dataset_free(va2);
    }
    CHECK(differs >= 3);
    CHECK_ERR(nb_dataset_split(all, 0.0, 1, &tr2, &va2), NB_ERR_ARG, "not in (0, 1)");
    CHECK_ERR(nb_dataset_split(all, 1.0, 1, &tr2, &va2), NB_ERR_ARG, "not in (0, 1)");
    CHECK_ERR(nb_dataset_split(all, 0.01, 1, &tr2, &va2), NB_ERR_ARG, "leaves an empty split");
    CHECK(tr2 == NULL && va2 == NULL);
    nb_dataset_free(tr), nb_dataset_free(va), nb_dataset_free(all);
}

/* Unlabeled rows of 3 features from literal values. */
static nb_dataset *rows3(int64_t n, const float *v)
{
    nb_dataset *ds = NULL;
    CHECK_OK(nb_dataset_create_from(v, n, 3, NULL, 0, NB_TASK_REGRESS, 0, &ds));
    if (!ds) exit(1);
    return ds;
}

/* Rows (0,10,5) (2,20,5) (4,30,5) (6,40,5): the third feature is constant. */
static nb_dataset *make_train(void)
{
    return rows3(4, (const float[12]){0, 10, 5, 2, 20, 5, 4, 30, 5, 6, 40, 5});
}

static void test_scaling(void)
{
    nb_preproc *pp;
    nb_dataset *tr = make_train(), *va = NULL;
    CHECK_OK(nb_preproc_create(&pp));
    CHECK_OK(nb_preproc_fit_scaling(pp, NB_SCALE_MINMAX, tr));
    va = rows3(1, (const float[3]){3, 25, 7});
    CHECK_OK(nb_preproc_apply_scaling(pp, va));
    /* (3-0)/6, (25-10)/30, constant feature: scale 1, so 7-5 */
    CHECK(ds_x(va, 0) == 0.5f && ds_x(va, 1) == 0.5f && ds_x(va, 2) == 2.0f);
    CHECK_OK(nb_preproc_apply_scaling(pp, tr));
    CHECK(ds_x(tr, 9) == 1.0f && ds_x(tr, 10) == 1.0f && ds_x(tr, 0) == 0.0f && ds_x(tr, 11) == 0.0f);
    nb_dataset_free(tr);
    nb_dataset_free(va);

    /* standard: means 3 and 25, population deviations sqrt(5) and sqrt(125) */
    tr = make_train();
    CHECK_OK(nb_preproc_fit_scaling(pp, NB_SCALE_STANDARD, tr));
    va = rows3(1, (const float[3]){8, 25, 5});
    CHECK_OK(nb_preproc_apply_scaling(pp, va));
    /* float32 arithmetic on a float32 deviation: a few ulps */
    CHECK_NEAR(ds_x(va, 0), 5.0 / sqrt(5.0), 1e-6, 1e-6);
    CHECK(ds_x(va, 1) == 0.0f && ds_x(va, 2) == 0.0f);
    nb_dataset_free(va);
    /* the state survives JSON exactly */
    char *json = NULL;
    nb_preproc *pp2 = NULL;
    CHECK_OK(nb_preproc_to_json(pp, &json));
    CHECK_OK(nb_preproc_from_json(json, &pp2));
    nb_dataset *vb = rows3(1, (const float[3]){8, 1, -3});
    va = rows3(1, (const float[3]){8, 1, -3});
    CHECK_OK(nb_preproc_apply_scaling(pp, va));
    CHECK_OK(nb_preproc_apply_scaling(pp2, vb));
    float sa[3], sb[3];
    CHECK_OK(nb_dataset_rows(va, 0, 1, sa, NULL));
    CHECK_OK(nb_dataset_rows(vb, 0, 1, sb, NULL));
    CHECK(memcmp(sa, sb, sizeof sa) == 0);
    nb_free(json);
    nb_preproc_free(pp2);
    nb_dataset_free(vb), nb_dataset_free(va);

    /* errors: feature count, non-finite training data, empty mode none is a no-op */
    nb_dataset *wide = NULL;
    CHECK_OK(nb_dataset_create_from((const float[4]){0}, 1, 4, NULL, 0, NB_TASK_REGRESS, 0, &wide));
    CHECK_ERR(nb_preproc_apply_scaling(pp, wide), NB_ERR_ARG, "fitted on 3");
    nb_dataset_free(tr);
    tr = rows3(4, (const float[12]){0, 10, 5, 2, NAN, 5, 4, 30, 5, 6, 40, 5});
    CHECK_ERR(nb_preproc_fit_scaling(pp, NB_SCALE_MINMAX, tr), NB_ERR_NUMERIC,
              "row 1, feature 1 is nan");
    CHECK_OK(nb_preproc_fit_scaling(pp, NB_SCALE_NONE, NULL));
    CHECK_OK(nb_preproc_apply_scaling(pp, wide));
    CHECK(ds_x(wide, 0) == 0.0f);
    nb_dataset_free(wide), nb_dataset_free(tr);
    nb_preproc_free(pp);

    /* one-hot columns stay 0/1 under standard scaling; numeric ones are standardized */
    nb_dataset *ds = NULL;
    CHECK_OK(nb_preproc_create(&pp));
    CHECK_OK(nb_dataset_load(fx_text("oh.csv", "c,n,y\nu,1,0\nv,3,1\n"), NULL, pp, &ds));
    CHECK_OK(nb_preproc_fit_scaling(pp, NB_SCALE_STANDARD, ds));
    CHECK_OK(nb_preproc_apply_scaling(pp, ds));
    CHECK(ds && ds_x(ds, 0) == 1 && ds_x(ds, 1) == 0 && ds_x(ds, 2) == -1 && ds_x(ds, 4) == 1 && ds_x(ds, 5) == 1);
    nb_dataset_free(ds);
    nb_preproc_free(pp);
}

static const char *csv_json =
    "{\"format\":\"nabla-preproc\",\"version\":1,\"source\":\"csv\",\"task\":\"classify\","
    "\"n_features\":3,\"sample_shape\":[3],\"classes\":[\"a\",\"b\"],\"csv\":{\"header\":true,"
    "\"columns\":[{\"name\":\"c\",\"type\":\"categorical\",\"values\":[\"x\",\"y\"]},"
    "{\"name\":\"n\",\"type\":\"numeric\"},{\"name\":\"l\",\"type\":\"label\"}],\"labels\":[2],"
    "\"label_encoding\":\"name\"},\"scaling\":{\"mode\":\"minmax\",\"offset\":[0,0,1],"
    "\"scale\":[1,1,2.5]}}";

static const char *idx_json =
    "{\"format\":\"nabla-preproc\",\"version\":1,\"source\":\"idx\",\"task\":\"classify\","
    "\"n_features\":6,\"sample_shape\":[1,2,3],\"classes\":[\"0\",\"1\",\"2\"],"
    "\"idx\":{\"type\":8},\"scaling\":{\"mode\":\"none\"}}";

static const char *none_json =
    "{\"format\":\"nabla-preproc\",\"version\":1,\"source\":\"none\",\"task\":\"classify\","
    "\"n_features\":0,\"sample_shape\":[],\"classes\":[],\"scaling\":{\"mode\":\"none\"}}";

static void round_trip(const char *json)
{
    nb_preproc *pp = NULL;
    char *back = NULL;
    CHECK_OK(nb_preproc_from_json(json, &pp));
    if (pp) CHECK_OK(nb_preproc_to_json(pp, &back));
    CHECK(back && strcmp(back, json) == 0);
    if (back && strcmp(back, json) != 0) fprintf(stderr, "got  %s\nwant %s\n", back, json);
    nb_free(back);
    nb_preproc_free(pp);
}

struct mutation {
    const char *from, *to, *message;
};

static void test_json(void)
{
    round_trip(csv_json);
    round_trip(idx_json);
    round_trip(none_json);
    nb_preproc *pp = NULL;
    CHECK_OK(nb_preproc_create(&pp));
    char *json = NULL;
    CHECK_OK(nb_preproc_to_json(pp, &json));
    CHECK(json && strcmp(json, none_json) == 0);
    nb_free(json);
    nb_preproc_free(pp);

    /* a schema read back from JSON enforces exactly what the learned one did */
    const char *train = fx_text("j.csv", "kind,w,\"q\"\"s\",label\nb,1,2,yes\na,3,4,no\n");
    const char *test = fx_text("k.csv", "w,kind,\"q\"\"s\"\n5,a,6\n7,b,8\n");
    nb_preproc *p1 = NULL, *p2 = NULL;
    nb_dataset *d1 = NULL, *d2 = NULL;
    nb_data_opts o = nb_data_opts_default();
    o.task = NB_TASK_BINARY;
    CHECK_OK(nb_preproc_create(&p1));
    CHECK_OK(nb_dataset_load(train, &o, p1, &d1));
    CHECK_OK(nb_preproc_fit_scaling(p1, NB_SCALE_MINMAX, d1));
    nb_dataset_free(d1);
    CHECK_OK(nb_preproc_to_json(p1, &json));
    CHECK_OK(nb_preproc_from_json(json, &p2));
    CHECK(p2 && nb_preproc_task(p2) == NB_TASK_BINARY && nb_preproc_n_features(p2) == 4);
    CHECK(p2 && strcmp(nb_preproc_class_name(p2, 1), "yes") == 0 &&
          nb_preproc_class_name(p2, 2) == NULL);
    CHECK_OK(nb_dataset_load(test, NULL, p1, &d1));
    CHECK_OK(nb_dataset_load(test, NULL, p2, &d2));
    CHECK_OK(nb_preproc_apply_scaling(p1, d1));
    CHECK_OK(nb_preproc_apply_scaling(p2, d2));
    float *x1 = d1 ? ds_x_copy(d1) : NULL, *x2 = d2 ? ds_x_copy(d2) : NULL;
    CHECK(x1 && x2 && nb_dataset_n_rows(d1) == 2 && memcmp(x1, x2, 8 * sizeof(float)) == 0);
    free(x1), free(x2);
    /* kind=a, kind=b, w scaled (5-1)/2, q"s scaled (6-2)/2 */
    CHECK(d1 && ds_x(d1, 0) == 1 && ds_x(d1, 1) == 0 && ds_x(d1, 2) == 2 && ds_x(d1, 3) == 2);
    nb_free(json);
    nb_dataset_free(d1), nb_dataset_free(d2);
    nb_preproc_free(p1), nb_preproc_free(p2);

    static const struct mutation muts[] = {
        {"\"version\":1", "\"version\":2", "preproc: version: expected an integer in 1..1"},
        {"\"task\":\"classify\"", "\"task\":\"cluster\"", "preproc: task: expected one of"},
        {"\"source\":\"csv\"", "\"source\":\"idx\"", "preproc: idx: expected an object"},
        {"\"type\":\"numeric\"", "\"type\":\"string\"", "preproc: csv.columns[1].type: expected"},
        {"[\"x\",\"y\"]", "[\"x\",3]", "preproc: csv.columns[0].values: expected an array of "
                                        "strings"},
        {"[\"x\",\"y\"]", "[\"x\",\"x\"]", "csv.columns[0].values[1]: \"x\" appears twice"},
        {"[\"x\",\"y\"]", "[]", "csv.columns[0].values: expected 1 to 4096 strings"},
        {"\"labels\":[2]", "\"labels\":[5]", "preproc: csv.labels[0]: expected an integer in 0..2"},
        {"\"labels\":[2]", "\"labels\":[1]", "csv.labels[0]: 1 is not a label column"},
        {"\"labels\":[2]", "\"labels\":[2,2]", "csv.labels: must list each"},
        {"\"n_features\":3", "\"n_features\":4", "preproc: n_features: 4, but the columns give 3"},
        {"[1,1,2.5]", "[1,0,2.5]", "preproc: scaling.scale[1]: expected a finite number > 0"},
        {"[1,1,2.5]", "[1,1,1e39]", "preproc: scaling.scale[2]: expected a finite number > 0"},
        {"[0,0,1]", "[0,0]", "preproc: scaling.offset: expected an array of one number per "
                             "feature"},
        {"\"mode\":\"minmax\"", "\"mode\":\"max\"", "preproc: scaling.mode: expected one of"},
        {"\"classes\":[\"a\",\"b\"]", "\"classes\":[\"a\",\"a\"]", "classes[1]: \"a\" appears "
                                                                    "twice"},
        {"\"label_encoding\":\"name\"", "\"label_encoding\":\"value\"",
         "csv.label_encoding: not valid for task classify"},
        {"\"label_encoding\":\"name\"", "\"label_encoding\":\"words\"", "csv.label_encoding: "
                                                                         "expected one of"},
        {"\"header\":true", "\"header\":false", "csv.columns[0].name: given, but the data has "
                                                "no header"},
        {"\"header\":true", "\"header\":1", "csv.header: expected true or false"},
        {"{\"name\":\"n\",", "{\"name\":\"\",", "csv.columns[1].name: expected a non-empty "
                                                "string or null"},
        {"\"task\":\"classify\"", "\"task\":\"binary\"", NULL}, /* two named classes: valid */
        {"\"scaling\":{", "\"scaling\":[{", "preproc: byte"},
    };
    for (size_t i = 0; i < sizeof muts / sizeof muts[0]; i++) {
        char doc[2048];
        const char *at = strstr(csv_json, muts[i].from);
        CHECK(at != NULL);
        if (!at) continue;
        snprintf(doc, sizeof doc, "%.*s%s%s", (int)(at - csv_json), csv_json, muts[i].to,
                 at + strlen(muts[i].from));
        nb_preproc *bad = NULL;
        int rc = nb_preproc_from_json(doc, &bad);
        if (!muts[i].message) {
            CHECK_OK(rc);
            nb_preproc_free(bad);
            continue;
        }
        CHECK_ERR(rc, NB_ERR_FORMAT, muts[i].message);
        CHECK(bad == NULL);
    }
    static const struct mutation idx_muts[] = {
        {"\"type\":8", "\"type\":7", "preproc: idx.type: 0x07 is not an IDX element type"},
        {"[1,2,3]", "[1,2,4]", "n_features 6 is not the product of sample_shape"},
        {"[1,2,3]", "[6]", "IDX data is classified images"},
        {"\"task\":\"classify\"", "\"task\":\"regress\"", "classes: 3 names do not fit task "
                                                          "regress"},
    };
    for (size_t i = 0; i < sizeof idx_muts / sizeof idx_muts[0]; i++) {
        char doc[1024];
        const char *at = strstr(idx_json, idx_muts[i].from);
        CHECK(at != NULL);
        if (!at) continue;
        snprintf(doc, sizeof doc, "%.*s%s%s", (int)(at - idx_json), idx_json, idx_muts[i].to,
                 at + strlen(idx_muts[i].from));
        nb_preproc *bad = NULL;
        CHECK_ERR(nb_preproc_from_json(doc, &bad), NB_ERR_FORMAT, idx_muts[i].message);
    }
    nb_preproc *bad = NULL;
    CHECK_ERR(nb_preproc_from_json("[]", &bad), NB_ERR_FORMAT, "preproc: the document");
    CHECK_ERR(nb_preproc_from_json("{}", &bad), NB_ERR_FORMAT, "preproc: version");

    /* target scaling: round trip, then each field checked */
    const char *reg = fx_text("r.csv", "a,y\n1,10\n2,30\n3,20\n");
    nb_data_opts ro = nb_data_opts_default();
    ro.task = NB_TASK_REGRESS;
    nb_preproc *rp = NULL, *rq = NULL;
    nb_dataset *rd = NULL;
    CHECK_OK(nb_preproc_create(&rp));
    CHECK_OK(nb_dataset_load(reg, &ro, rp, &rd));
    CHECK_OK(nb_preproc_fit_target_scaling(rp, NB_SCALE_STANDARD, rd));
    char *rj = NULL;
    CHECK_OK(nb_preproc_to_json(rp, &rj));
    CHECK(rj && strstr(rj, ",\"target_scaling\":{\"mode\":\"standard\",\"offset\":[2e+01],\"scale\":[8.164966]}}"));
    CHECK_OK(nb_preproc_from_json(rj, &rq));
    double mean = 0, sd = 0;
    CHECK(rq && nb_preproc_target_scaling(rq) == NB_SCALE_STANDARD);
    CHECK_OK(rq ? nb_preproc_target_stats(rq, 0, &mean, &sd) : NB_ERR_ARG);
    CHECK(mean == 20 && sd == (double)8.164966f);
    static const struct mutation tmuts[] = {
        {"\"scale\":[8.164966]", "\"scale\":[0]", "target_scaling.scale[0]: expected a finite number > 0"},
        {"\"offset\":[2e+01]", "\"offset\":[20,1]", "target_scaling.offset: expected an array of one number per target"},
        {"\"mode\":\"standard\"", "\"mode\":\"minmax\"", "target_scaling.mode: expected one of \"none\", \"standard\""},
    };
    for (size_t i = 0; rj && i < sizeof tmuts / sizeof tmuts[0]; i++) {
        char doc[2048];
        const char *at = strstr(rj, tmuts[i].from);
        CHECK(at != NULL);
        if (!at) continue;
        snprintf(doc, sizeof doc, "%.*s%s%s", (int)(at - rj), rj, tmuts[i].to, at + strlen(tmuts[i].from));
        CHECK_ERR(nb_preproc_from_json(doc, &bad), NB_ERR_FORMAT, tmuts[i].message);
    }
    char cdoc[1024]; /* class indices are never scaled */
    snprintf(cdoc, sizeof cdoc, "%.*s,\"target_scaling\":{\"mode\":\"standard\",\"offset\":[1],\"scale\":[1]}}",
             (int)strlen(idx_json) - 1, idx_json);
    CHECK_ERR(nb_preproc_from_json(cdoc, &bad), NB_ERR_FORMAT, "target_scaling: expected absent");
    nb_dataset *cd = NULL;
    CHECK_OK(nb_dataset_create_from((float[]){1, 2}, 2, 1, (float[]){0, 1}, 1, NB_TASK_CLASSIFY, 2, &cd));
    CHECK_ERR(nb_preproc_fit_target_scaling(rp, NB_SCALE_STANDARD, cd), NB_ERR_ARG,
              "standard applies to regression targets, not to classify data");
    CHECK(nb_preproc_target_scaling(rp) == NB_SCALE_STANDARD); /* unchanged on error */
    nb_dataset_free(cd);
    nb_free(rj);
    nb_dataset_free(rd);
    nb_preproc_free(rp);
    nb_preproc_free(rq);
}

static void test_json_alloc_failures(void)
{
    long steps = 0;
    for (long k = 1; k < 2000; k++) {
        nb_preproc *pp = NULL;
        char *back = NULL;
        fa_begin(k);
        int rc = nb_preproc_from_json(csv_json, &pp);
        if (rc == NB_OK) rc = nb_preproc_to_json(pp, &back);
        nb_free(back);
        nb_preproc_free(pp);
        long live = fa_live;
        fa_end();
        steps++;
        if ((rc != NB_OK && rc != NB_ERR_NOMEM) || live) {
            fprintf(stderr, "failing allocation %ld: status %d, %ld leaked: %s\n", k, rc, live,
                    nb_errmsg());
            CHECK(0);
            break;
        }
        if (rc == NB_OK) break;
    }
    CHECK(steps > 20);
}

/* Quoted verbatim in docs/DATA.md; test_docs checks that the two stay identical. */
static int train_val_from_csv(const char *path, nb_preproc **pp, nb_dataset **train,
                              nb_dataset **val)
{
    nb_data_opts opts = nb_data_opts_default();
    opts.label = "species"; /* the label column, by name */
    nb_dataset *all = NULL;
    int rc = nb_preproc_create(pp);
    if (rc == NB_OK) rc = nb_dataset_load(path, &opts, *pp, &all); /* learns the schema */
    if (rc == NB_OK) rc = nb_dataset_split(all, 0.25, 42, train, val);
    if (rc == NB_OK) rc = nb_preproc_fit_scaling(*pp, NB_SCALE_STANDARD, *train);
    if (rc == NB_OK) rc = nb_preproc_apply_scaling(*pp, *train);
    if (rc == NB_OK) rc = nb_preproc_apply_scaling(*pp, *val);
    nb_dataset_free(all);
    return rc; /* the caller frees *pp, *train and *val (NULL-safe) */
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* Extract the first ```lang block of docs/DATA.md into out. */
static bool doc_block(const char *lang, char *out, size_t cap)
{
    const char *doc = slurp("docs/DATA.md");
    char fence[16];
    snprintf(fence, sizeof fence, "```%s\n", lang);
    const char *a = doc ? strstr(doc, fence) : NULL;
    const char *b = a ? strstr(a + strlen(fence), "```\n") : NULL;
    if (!b || (size_t)(b - a) >= cap) return false;
    a += strlen(fence);
    memcpy(out, a, (size_t)(b - a));
    out[b - a] = '\0';
    return true;
}

static void test_docs(void)
{
    static char example[8192], json[8192];
    CHECK(doc_block("c", example, sizeof example));
    const char *self = slurp("tests/data/test_data.c");
    CHECK(self && strstr(self, example) != NULL); /* the documented code is this file's code */

    const char *iris = fx_text("iris.csv", "sepal,petal,species\n5.1,1.4,setosa\n"
                                           "7.0,4.7,versicolor\n6.3,6.0,virginica\n"
                                           "4.9,1.5,setosa\n");
    nb_preproc *pp = NULL;
    nb_dataset *tr = NULL, *va = NULL;
    CHECK_OK(train_val_from_csv(iris, &pp, &tr, &va));
    CHECK(tr && va && nb_dataset_n_rows(tr) == 3 && nb_dataset_n_rows(va) == 1 && nb_dataset_n_classes(tr) == 3);
    if (tr && nb_dataset_n_rows(tr) == 3) { /* standardized on the training part: each column has mean 0 */
        double m0 = 0, m1 = 0;
        for (int i = 0; i < 3; i++) m0 += (double)ds_x(tr, 2 * i), m1 += (double)ds_x(tr, 2 * i + 1);
        CHECK_NEAR(m0, 0, 1e-5, 0);
        CHECK_NEAR(m1, 0, 1e-5, 0);
    }
    nb_preproc_free(pp), nb_dataset_free(tr), nb_dataset_free(va);

    CHECK(doc_block("json", json, sizeof json));
    nb_preproc *doc_pp = NULL;
    CHECK_OK(nb_preproc_from_json(json, &doc_pp));
    CHECK(doc_pp && nb_preproc_n_features(doc_pp) == 4 && nb_preproc_n_classes(doc_pp) == 2);
    nb_preproc_free(doc_pp);
}

int main(void)
{
    fx_setup();
    test_names();
    test_create_gather();
    test_shuffle();
    test_split();
    test_scaling();
    test_json();
    test_json_alloc_failures();
    test_docs();
    fx_cleanup();
    return check_exit("test_data");
}
