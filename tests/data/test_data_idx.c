/* SPDX-License-Identifier: MIT */
/*
 * test_data_idx.c - IDX loading: small files written here (plain and gzip) through every spec
 * form (idx:IMAGES,LABELS, idx:IMAGES, idx:PREFIX, a directory), element types, schema
 * enforcement, truncation at every byte, padding, wrong magic, count mismatches, fixed [0,1]
 * pixel scaling, Fashion-MNIST's test set when installed, and an allocation-failure walk.
 */
#include "data_fixture.h"
#include "ds_fixture.h"

#ifdef NB_HAVE_ZLIB
#include <zlib.h>
#endif

#define FASHION "/usr/share/datasets/fashion-mnist"

#ifdef NB_HAVE_ZLIB
static const char *write_gz(const char *name, const void *data, size_t n)
{
    const char *p = fx_path(name);
    gzFile gz = gzopen(p, "wb9");
    if (!gz || gzwrite(gz, data, (unsigned)n) != (int)n || gzclose(gz) != Z_OK) {
        fprintf(stderr, "cannot write %s\n", p);
        exit(1);
    }
    return p;
}
#endif

/* An IDX file in memory: header + body (body of n bytes). */
static size_t idx_bytes(unsigned char *out, int type, int ndims, const uint32_t *dims,
                        const void *body, size_t n)
{
    out[0] = out[1] = 0;
    out[2] = (unsigned char)type;
    out[3] = (unsigned char)ndims;
    for (int i = 0; i < ndims; i++)
        for (int b = 0; b < 4; b++) out[4 + 4 * i + b] = (unsigned char)(dims[i] >> (24 - 8 * b));
    memcpy(out + 4 + 4 * ndims, body, n);
    return 4 + 4 * (size_t)ndims + n;
}

/* 3 images of 2 x 3 bytes, labels 1 0 2. */
static const unsigned char pixels[18] = {0, 1, 2, 3, 4, 255, 10, 20, 30, 40, 50, 60,
                                         7, 7, 7, 7, 7, 128};
static const unsigned char labels[3] = {1, 0, 2};
static unsigned char img_file[64], lab_file[32];
static size_t img_n, lab_n;

static void make_small(void)
{
    uint32_t di[3] = {3, 2, 3}, dl[1] = {3};
    img_n = idx_bytes(img_file, 0x08, 3, di, pixels, sizeof pixels);
    lab_n = idx_bytes(lab_file, 0x08, 1, dl, labels, sizeof labels);
}

static const char *spec2(const char *a, const char *b)
{
    static char buf[1200];
    snprintf(buf, sizeof buf, "idx:%s,%s", a, b);
    return buf;
}

static bool small_ok(const nb_dataset *ds)
{
    if (!ds || nb_dataset_n_rows(ds) != 3 || nb_dataset_n_features(ds) != 6 || nb_dataset_sample_rank(ds) != 3) return false;
    if (nb_dataset_sample_shape(ds)[0] != 1 || nb_dataset_sample_shape(ds)[1] != 2 || nb_dataset_sample_shape(ds)[2] != 3)
        return false;
    for (int i = 0; i < 18; i++)
        if (ds_x(ds, i) != (float)pixels[i]) return false;
    return nb_dataset_targets(ds) && ds_y(ds, 0) == 1 && ds_y(ds, 1) == 0 && ds_y(ds, 2) == 2 && nb_dataset_n_classes(ds) == 3 &&
           strcmp(nb_dataset_class_name(ds, 2), "2") == 0 && nb_dataset_task(ds) == NB_TASK_CLASSIFY;
}

static void test_spec_forms(void)
{
    const char *im = fx_write("a-images-idx3-ubyte", img_file, img_n);
    const char *lb = fx_write("a-labels-idx1-ubyte", lab_file, lab_n);
    nb_dataset *ds = NULL;
    nb_preproc *pp;
    CHECK_OK(nb_preproc_create(&pp));
    CHECK_OK(nb_dataset_load(spec2(im, lb), NULL, pp, &ds));
    CHECK(small_ok(ds));
    CHECK(nb_preproc_has_schema(pp) && nb_preproc_n_features(pp) == 6 &&
          nb_preproc_n_classes(pp) == 3);
    nb_dataset_free(ds);
    /* minmax on bytes is the fixed x / 255: exact, whatever the data's range */
    CHECK_OK(nb_dataset_load(spec2(im, lb), NULL, pp, &ds));
    CHECK_OK(nb_preproc_fit_scaling(pp, NB_SCALE_MINMAX, ds));
    CHECK_OK(nb_preproc_apply_scaling(pp, ds));
    CHECK(ds && ds_x(ds, 5) == 1.0f && ds_x(ds, 0) == 0.0f && ds_x(ds, 17) == 128.0f / 255.0f);
    nb_dataset_free(ds);
    /* images only */
    char spec[600];
    snprintf(spec, sizeof spec, "idx:%s", im);
    CHECK_OK(nb_dataset_load(spec, NULL, pp, &ds));
    CHECK(ds && nb_dataset_n_rows(ds) == 3 && nb_dataset_targets(ds) == NULL && nb_dataset_n_targets(ds) == 0 && nb_dataset_n_classes(ds) == 3);
    nb_dataset_free(ds);
    nb_preproc_free(pp);
#ifdef NB_HAVE_ZLIB
    /* the prefix form finds a mix of plain and .gz files */
    write_gz("b-images-idx3-ubyte.gz", img_file, img_n);
    fx_write("b-labels-idx1-ubyte", lab_file, lab_n);
    snprintf(spec, sizeof spec, "idx:%s", fx_path("b"));
    CHECK_OK(nb_dataset_load(spec, NULL, NULL, &ds));
    CHECK(small_ok(ds));
    nb_dataset_free(ds);
    /* a directory: train-* learns, t10k-* is read against the schema */
    write_gz("train-images-idx3-ubyte.gz", img_file, img_n);
    write_gz("train-labels-idx1-ubyte.gz", lab_file, lab_n);
    unsigned char test_img[64], test_lab[32];
    uint32_t di[3] = {1, 2, 3}, dl[1] = {1};
    unsigned char one_label = 2;
    fx_write("t10k-images-idx3-ubyte", test_img, idx_bytes(test_img, 0x08, 3, di, pixels, 6));
    fx_write("t10k-labels-idx1-ubyte", test_lab, idx_bytes(test_lab, 0x08, 1, dl, &one_label, 1));
    CHECK_OK(nb_preproc_create(&pp));
    nb_data_opts o = nb_data_opts_default();
    o.class_names = "zero,one,two";
    CHECK_OK(nb_dataset_load(fx_dir, &o, pp, &ds));
    CHECK(ds && nb_dataset_n_rows(ds) == 3 && strcmp(nb_dataset_class_name(ds, 1), "one") == 0);
    nb_dataset_free(ds);
    o = nb_data_opts_default();
    o.split = NB_SPLIT_TEST;
    CHECK_OK(nb_dataset_load(fx_dir, &o, pp, &ds));
    CHECK(ds && nb_dataset_n_rows(ds) == 1 && ds_y(ds, 0) == 2.0f && strcmp(nb_dataset_class_name(ds, 2), "two") == 0);
    nb_dataset_free(ds);
    /* a label the model has no class for */
    one_label = 3;
    fx_write("t10k-labels-idx1-ubyte", test_lab, idx_bytes(test_lab, 0x08, 1, dl, &one_label, 1));
    CHECK_ERR(nb_dataset_load(fx_dir, &o, pp, &ds), NB_ERR_FORMAT,
              "t10k-labels-idx1-ubyte: label 3 of item 0 is out of range: the model has 3");
    /* images of another shape */
    uint32_t d2[3] = {1, 3, 2};
    fx_write("t10k-images-idx3-ubyte", test_img, idx_bytes(test_img, 0x08, 3, d2, pixels, 6));
    CHECK_ERR(nb_dataset_load(fx_dir, &o, pp, &ds), NB_ERR_FORMAT,
              "images of shape (1, 3, 2), but the model expects (1, 2, 3)");
    /* images of another element type */
    unsigned char f32[24] = {0};
    fx_write("t10k-images-idx3-ubyte", test_img, idx_bytes(test_img, 0x0D, 3, di, f32, 24));
    CHECK_ERR(nb_dataset_load(fx_dir, &o, pp, &ds), NB_ERR_FORMAT,
              "IDX element type 0x0D, but the model was trained on type 0x08");
    /* CSV data against an IDX schema */
    CHECK_ERR(nb_dataset_load(fx_text("x.csv", "1,2\n"), NULL, pp, &ds), NB_ERR_ARG,
              "the schema (model) is for IDX images");
    nb_preproc_free(pp);
#else
    fx_write("c-images-idx3-ubyte.gz", img_file, img_n);
    snprintf(spec, sizeof spec, "idx:%s,%s", fx_path("c-images-idx3-ubyte.gz"), lb);
    CHECK_ERR(nb_dataset_load(spec, NULL, NULL, &ds), NB_ERR_FORMAT, "built without zlib");
#endif
    CHECK_ERR(nb_dataset_load("idx:/nonexistent/x", NULL, NULL, &ds), NB_ERR_IO,
              "x-images-idx3-ubyte.gz exists");
    nb_data_opts o2 = nb_data_opts_default();
    o2.task = NB_TASK_REGRESS;
    CHECK_ERR(nb_dataset_load(spec2(im, lb), &o2, NULL, &ds), NB_ERR_ARG, "must be classify");
    o2 = nb_data_opts_default();
    o2.class_names = "a,b";
    CHECK_ERR(nb_dataset_load(spec2(im, lb), &o2, NULL, &ds), NB_ERR_ARG, "2 class names given");
    o2.class_names = "a,b,a";
    CHECK_ERR(nb_dataset_load(spec2(im, lb), &o2, NULL, &ds), NB_ERR_ARG, "\"a\" is given twice");
    CHECK(ds == NULL);
}

static void test_types(void)
{
    nb_dataset *ds = NULL;
    const char *lb = fx_write("t-lab", lab_file, lab_n);
    uint32_t d4[4] = {3, 1, 1, 2};
    unsigned char buf[128];
    /* int16, big-endian, signed */
    unsigned char s16[12] = {0xFF, 0xFE, 0x01, 0x00, 0, 0, 0x7F, 0xFF, 0x80, 0x00, 0, 3};
    const char *p = fx_write("t-i16", buf, idx_bytes(buf, 0x0B, 4, d4, s16, sizeof s16));
    CHECK_OK(nb_dataset_load(spec2(p, lb), NULL, NULL, &ds));
    CHECK(ds && nb_dataset_n_features(ds) == 2 && ds_x(ds, 0) == -2.0f && ds_x(ds, 1) == 256.0f &&
          ds_x(ds, 3) == 32767.0f && ds_x(ds, 4) == -32768.0f && ds_x(ds, 5) == 3.0f);
    nb_dataset_free(ds);
    /* float32: 1.5 = 0x3FC00000; a NaN is refused with its index */
    unsigned char f32[24] = {0x3F, 0xC0, 0, 0};
    p = fx_write("t-f32", buf, idx_bytes(buf, 0x0D, 4, d4, f32, sizeof f32));
    CHECK_OK(nb_dataset_load(spec2(p, lb), NULL, NULL, &ds));
    CHECK(ds && ds_x(ds, 0) == 1.5f && ds_x(ds, 1) == 0.0f);
    nb_dataset_free(ds);
    f32[8] = 0x7F, f32[9] = 0xC0;
    p = fx_write("t-f32", buf, idx_bytes(buf, 0x0D, 4, d4, f32, sizeof f32));
    CHECK_ERR(nb_dataset_load(spec2(p, lb), NULL, NULL, &ds), NB_ERR_FORMAT,
              "t-f32: element 2 is nan, not a finite float32");
    /* float64: -0.25 = 0xBFD0000000000000; 1e300 does not fit a float */
    unsigned char f64[48] = {0xBF, 0xD0};
    p = fx_write("t-f64", buf, idx_bytes(buf, 0x0E, 4, d4, f64, sizeof f64));
    CHECK_OK(nb_dataset_load(spec2(p, lb), NULL, NULL, &ds));
    CHECK(ds && ds_x(ds, 0) == -0.25f && nb_dataset_sample_shape(ds)[0] == 1 && nb_dataset_sample_shape(ds)[2] == 2);
    nb_dataset_free(ds);
    f64[8] = 0x7E, f64[9] = 0x37;
    p = fx_write("t-f64", buf, idx_bytes(buf, 0x0E, 4, d4, f64, sizeof f64));
    CHECK_ERR(nb_dataset_load(spec2(p, lb), NULL, NULL, &ds), NB_ERR_FORMAT, "element 1 is");
    /* labels must be unsigned bytes */
    uint32_t dl[1] = {3};
    int32_t l32[3] = {0, 0, 0};
    p = fx_write("t-l32", buf, idx_bytes(buf, 0x0C, 1, dl, l32, sizeof l32));
    const char *im = fx_write("t-img", img_file, img_n);
    CHECK_ERR(nb_dataset_load(spec2(im, p), NULL, NULL, &ds), NB_ERR_FORMAT,
              "labels must be IDX unsigned bytes");
    CHECK(ds == NULL);
}

static void test_malformed(void)
{
    nb_dataset *ds = NULL;
    const char *lb = fx_write("m-lab", lab_file, lab_n);
    unsigned char buf[128];
    /* every truncation of the images file, the header included */
    int bad = 0;
    for (size_t cut = 0; cut < img_n; cut++) {
        const char *p = fx_write("m-img", img_file, cut);
        int rc = nb_dataset_load(spec2(p, lb), NULL, NULL, &ds);
        const char *want = cut < 16 && cut >= 4 ? "truncated: the IDX header needs 16 bytes"
                           : cut < 4            ? "too short for an IDX header"
                                                : "truncated: the IDX header promises";
        if (rc != NB_ERR_FORMAT || !strstr(nb_errmsg(), want) || !strstr(nb_errmsg(), "m-img")) {
            fprintf(stderr, "cut %zu: %d %s\n", cut, rc, nb_errmsg());
            bad++;
        }
    }
    CHECK(bad == 0);
    /* and of the labels file */
    const char *im = fx_write("m-img", img_file, img_n);
    for (size_t cut = 0; cut < lab_n; cut++) {
        const char *p = fx_write("m-lab2", lab_file, cut);
        CHECK_ERR(nb_dataset_load(spec2(im, p), NULL, NULL, &ds), NB_ERR_FORMAT, "m-lab2: ");
    }
    /* bytes beyond the data */
    memcpy(buf, img_file, img_n);
    buf[img_n] = 0;
    const char *p = fx_write("m-pad", buf, img_n + 1);
    CHECK_ERR(nb_dataset_load(spec2(p, lb), NULL, NULL, &ds), NB_ERR_FORMAT,
              "m-pad: 1 bytes follow the 18 bytes of data");
    /* magic */
    memcpy(buf, img_file, img_n);
    buf[1] = 1;
    p = fx_write("m-magic", buf, img_n);
    CHECK_ERR(nb_dataset_load(spec2(p, lb), NULL, NULL, &ds), NB_ERR_FORMAT,
              "m-magic: not an IDX file: its magic bytes are 00 01 08 03");
    buf[1] = 0, buf[2] = 0x0A;
    p = fx_write("m-type", buf, img_n);
    CHECK_ERR(nb_dataset_load(spec2(p, lb), NULL, NULL, &ds), NB_ERR_FORMAT,
              "m-type: IDX element type 0x0A");
    /* a header promising 2^32-1 cubed bytes: refused before any allocation */
    uint32_t huge[3] = {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu};
    p = fx_write("m-huge", buf, idx_bytes(buf, 0x08, 3, huge, pixels, 18));
    CHECK_ERR(nb_dataset_load(spec2(p, lb), NULL, NULL, &ds), NB_ERR_FORMAT,
              "m-huge: truncated: the IDX header promises");
    /* counts */
    uint32_t d2[1] = {2};
    p = fx_write("m-lab3", buf, idx_bytes(buf, 0x08, 1, d2, labels, 2));
    CHECK_ERR(nb_dataset_load(spec2(im, p), NULL, NULL, &ds), NB_ERR_FORMAT,
              "m-lab3 has 2 labels but");
    uint32_t d0[3] = {0, 2, 3};
    p = fx_write("m-zero", buf, idx_bytes(buf, 0x08, 3, d0, pixels, 0));
    CHECK_ERR(nb_dataset_load(spec2(p, lb), NULL, NULL, &ds), NB_ERR_FORMAT, "dimension 0 is 0");
    uint32_t d1[2] = {3, 6};
    p = fx_write("m-2d", buf, idx_bytes(buf, 0x08, 2, d1, pixels, 18));
    CHECK_ERR(nb_dataset_load(spec2(p, lb), NULL, NULL, &ds), NB_ERR_FORMAT,
              "images must have 3 dimensions");
#ifdef NB_HAVE_ZLIB
    /* gzip data under a plain name gets a hint; truncated gzip files at many cuts fail */
    p = write_gz("m-img.gz", img_file, img_n);
    FILE *f = fopen(p, "rb");
    unsigned char gz[256];
    size_t gn = f ? fread(gz, 1, sizeof gz, f) : 0;
    if (f) fclose(f);
    p = fx_write("m-gzplain", gz, gn);
    CHECK_ERR(nb_dataset_load(spec2(p, lb), NULL, NULL, &ds), NB_ERR_FORMAT,
              "(this is gzip data: name it .gz)");
    bad = 0;
    for (size_t cut = 0; cut < gn; cut++) {
        p = fx_write("m-cut.gz", gz, cut);
        int rc = nb_dataset_load(spec2(p, lb), NULL, NULL, &ds);
        if (rc != NB_ERR_FORMAT || !strstr(nb_errmsg(), "m-cut.gz")) {
            fprintf(stderr, "gz cut %zu: %d %s\n", cut, rc, nb_errmsg());
            bad++;
        }
    }
    CHECK(bad == 0 && gn > 20);
    p = fx_write("m-cut.gz", gz, gn);
    CHECK_OK(nb_dataset_load(spec2(p, lb), NULL, NULL, &ds));
    CHECK(small_ok(ds));
    nb_dataset_free(ds);
#endif
}

static void test_fashion(void)
{
    FILE *f = fopen(FASHION "/t10k-labels-idx1-ubyte.gz", "rb");
    if (!f) {
        printf("test_data_idx: %s not installed, skipping the Fashion-MNIST checks\n", FASHION);
        return;
    }
    fclose(f);
#ifdef NB_HAVE_ZLIB
    nb_dataset *ds = NULL;
    nb_preproc *pp;
    CHECK_OK(nb_preproc_create(&pp));
    CHECK_OK(nb_dataset_load("idx:" FASHION "/t10k", NULL, pp, &ds));
    CHECK(ds && nb_dataset_n_rows(ds) == 10000 && nb_dataset_n_features(ds) == 784 && nb_dataset_n_classes(ds) == 10);
    if (ds && nb_dataset_n_rows(ds) == 10000 && nb_dataset_n_features(ds) == 784) {
        CHECK(nb_dataset_sample_shape(ds)[0] == 1 && nb_dataset_sample_shape(ds)[1] == 28 && nb_dataset_sample_shape(ds)[2] == 28);
        /* values read independently with Python's gzip module */
        CHECK(ds_y(ds, 0) == 9 && ds_y(ds, 1) == 2 && ds_y(ds, 2) == 1 && ds_y(ds, 9) == 7 &&
              ds_y(ds, 9999) == 5);
        CHECK(ds_x(ds, 215) == 3 && ds_x(ds, 216) == 1 && ds_x(ds, 221) == 37);
        CHECK(ds_x(ds, 784 + 300) == 255 && ds_x(ds, 784 + 301) == 237);
        double sum0 = 0, sum_last = 0;
        for (int j = 0; j < 784; j++) {
            sum0 += (double)ds_x(ds, j);
            sum_last += (double)ds_x(ds, 9999 * 784 + j);
        }
        CHECK(sum0 == 33456 && sum_last == 24390);
        int count[10] = {0};
        for (int i = 0; i < 10000; i++) count[(int)ds_y(ds, i)]++;
        CHECK(count[0] == 1000 && count[9] == 1000);
    }
    nb_dataset_free(ds);
    /* the directory form selects the same pair with NB_SPLIT_TEST */
    nb_data_opts o = nb_data_opts_default();
    o.split = NB_SPLIT_TEST;
    CHECK_OK(nb_dataset_load(FASHION, &o, pp, &ds));
    CHECK(ds && nb_dataset_n_rows(ds) == 10000 && ds_y(ds, 0) == 9);
    nb_dataset_free(ds);
    nb_preproc_free(pp);
#endif
}

static void test_alloc_failures(void)
{
#ifdef NB_HAVE_ZLIB
    const char *im = write_gz("f-img.gz", img_file, img_n); /* zlib's memory is walked too */
#else
    const char *im = fx_write("f-img", img_file, img_n);
#endif
    const char *lb = fx_write("f-lab", lab_file, lab_n);
    char spec[1200];
    snprintf(spec, sizeof spec, "idx:%s,%s", im, lb);
    long steps = 0;
    for (long k = 1; k < 1000; k++) {
        nb_preproc *pp = NULL;
        nb_dataset *ds = NULL;
        fa_begin(k);
        int rc = nb_preproc_create(&pp);
        if (rc == NB_OK) rc = nb_dataset_load(spec, NULL, pp, &ds);
        if (rc == NB_OK) rc = nb_preproc_fit_scaling(pp, NB_SCALE_STANDARD, ds);
        nb_dataset_free(ds);
        nb_preproc_free(pp);
        long live = fa_live;
        fa_end();
        steps++;
        if ((rc != NB_OK && rc != NB_ERR_NOMEM) || live != 0) {
            fprintf(stderr, "failing allocation %ld: status %d, %ld blocks leaked: %s\n", k, rc,
                    live, nb_errmsg());
            CHECK(0);
            break;
        }
        if (rc == NB_OK) break;
    }
    CHECK(steps > 8);
}

int main(void)
{
    fx_setup();
    make_small();
    test_spec_forms();
    test_types();
    test_malformed();
    test_fashion();
    test_alloc_failures();
    fx_cleanup();
    return check_exit("test_data_idx");
}
