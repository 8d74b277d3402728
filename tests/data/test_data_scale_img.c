/* SPDX-License-Identifier: MIT */
/*
 * test_data_scale_img.c - minmax scaling of CSV rows given an image shape (issue 13 item 22):
 * 8-bit pixel values (integers 0..255 reaching past 127) get the fixed x / 255 that IDX bytes
 * get; other values, and rows without an image shape, keep the per-feature training range.
 */
#include "data_fixture.h"
#include "ds_fixture.h"

/* Load text, optionally shape rows 1x2x2, fit minmax and apply; returns the scaled dataset. */
static nb_dataset *scaled(const char *name, const char *text, bool image)
{
    nb_preproc *pp = NULL;
    nb_dataset *ds = NULL;
    CHECK_OK(nb_preproc_create(&pp));
    CHECK_OK(nb_dataset_load(fx_text(name, text), NULL, pp, &ds));
    if (ds && image) {
        int64_t shape[3] = {1, 2, 2};
        CHECK_OK(nb_preproc_set_sample_shape(pp, 3, shape));
        CHECK_OK(nb_dataset_set_sample_shape(ds, 3, shape));
    }
    if (ds) {
        CHECK_OK(nb_preproc_fit_scaling(pp, NB_SCALE_MINMAX, ds));
        CHECK_OK(nb_preproc_apply_scaling(pp, ds));
    }
    nb_preproc_free(pp);
    return ds;
}

static void test_pixels(void)
{
    const char *bytes = "p0,p1,p2,p3,y\n0,51,255,10,0\n0,102,200,20,1\n0,51,0,30,0\n";
    nb_dataset *ds = scaled("px.csv", bytes, true);
    CHECK(ds && nb_dataset_n_features(ds) == 4);
    if (ds) {
        CHECK(ds_x(ds, 0) == 0.0f && ds_x(ds, 1) == 51.0f / 255.0f && ds_x(ds, 2) == 1.0f);
        CHECK(ds_x(ds, 3) == 10.0f / 255.0f && ds_x(ds, 5) == 102.0f / 255.0f);
    }
    nb_dataset_free(ds);
    /* the same values without an image shape: per-feature ranges, as before */
    ds = scaled("px1.csv", bytes, false);
    if (ds) CHECK(ds_x(ds, 1) == 0.0f && ds_x(ds, 5) == 1.0f && ds_x(ds, 3) == 0.0f);
    nb_dataset_free(ds);
    /* fractions, or small integers (0..16 digits), are not 8-bit pixels */
    ds = scaled("fr.csv", "p0,p1,p2,p3,y\n0,0.5,1,2,0\n1,1.5,3,4,1\n", true);
    if (ds) CHECK(ds_x(ds, 1) == 0.0f && ds_x(ds, 5) == 1.0f);
    nb_dataset_free(ds);
    ds = scaled("dg.csv", "p0,p1,p2,p3,y\n0,8,16,2,0\n1,16,3,4,1\n", true);
    if (ds) CHECK(ds_x(ds, 1) == 0.0f && ds_x(ds, 5) == 1.0f);
    nb_dataset_free(ds);
}

int main(void)
{
    fx_setup();
    test_pixels();
    fx_cleanup();
    return check_exit("test_data_scale_img");
}
