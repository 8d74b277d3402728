/* SPDX-License-Identifier: MIT */
/*
 * test_set_scaling.c - nb_preproc_set_scaling: known constants (nabla import) scale rows as
 * (x - offset) / scale, survive the JSON of a model file, and bad values are refused without
 * touching the earlier scaling.
 */
#include "check.h"
#include "nabla/data.h"

#include <math.h>
#include <stdlib.h>

static float row0(const nb_dataset *ds, int j)
{
    float x[3];
    return nb_dataset_rows(ds, 0, 1, x, NULL) ? NAN : x[j];
}

int main(void)
{
    nb_preproc *pp = NULL, *pp2 = NULL;
    nb_dataset *ds = NULL, *d2 = NULL;
    CHECK_OK(nb_preproc_create(&pp));
    CHECK_OK(nb_preproc_set_scaling(pp, NB_SCALE_STANDARD, 3, (const float[3]){1, -2, 0},
                                    (const float[3]){2, 0.5f, 255}));
    CHECK_OK(nb_dataset_create_from((const float[3]){5, -1, 51}, 1, 3, NULL, 0, NB_TASK_REGRESS, 0, &ds));
    CHECK_OK(nb_preproc_apply_scaling(pp, ds));
    CHECK(row0(ds, 0) == 2.0f && row0(ds, 1) == 2.0f && row0(ds, 2) == 0.2f);

    /* the model file keeps it (JSON) */
    char *json = NULL;
    CHECK_OK(nb_preproc_to_json(pp, &json));
    CHECK_OK(nb_preproc_from_json(json, &pp2));
    CHECK_OK(nb_dataset_create_from((const float[3]){5, -1, 51}, 1, 3, NULL, 0, NB_TASK_REGRESS, 0, &d2));
    CHECK_OK(nb_preproc_apply_scaling(pp2, d2));
    CHECK(row0(d2, 0) == 2.0f && row0(d2, 1) == 2.0f && row0(d2, 2) == 0.2f);

    /* errors name the feature; the scaling stays as it was */
    CHECK_ERR(nb_preproc_set_scaling(pp, NB_SCALE_STANDARD, 3, (const float[3]){0, 0, 0},
                                     (const float[3]){1, 0, 1}), NB_ERR_ARG, "scale of feature 1 is 0");
    CHECK_ERR(nb_preproc_set_scaling(pp, NB_SCALE_MINMAX, 2, (const float[2]){NAN, 0},
                                     (const float[2]){1, 1}), NB_ERR_ARG, "offset of feature 0 is nan");
    CHECK_ERR(nb_preproc_set_scaling(pp, (nb_scaling)7, 1, NULL, NULL), NB_ERR_ARG, "mode 7");
    char *json2 = NULL;
    CHECK_OK(nb_preproc_to_json(pp, &json2));
    CHECK(json && json2 && strcmp(json, json2) == 0);
    CHECK_OK(nb_preproc_set_scaling(pp, NB_SCALE_NONE, 0, NULL, NULL));
    nb_free(json2);
    CHECK_OK(nb_preproc_to_json(pp, &json2));
    CHECK(json2 && strstr(json2, "\"mode\":\"none\"") != NULL);

    nb_free(json), nb_free(json2);
    nb_dataset_free(ds), nb_dataset_free(d2);
    nb_preproc_free(pp), nb_preproc_free(pp2);
    return check_exit("test_set_scaling");
}
