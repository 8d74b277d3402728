/* SPDX-License-Identifier: MIT */
/*
 * ckpt_fixture.h - the small run the checkpoint tests stop and resume (test_checkpoint.c,
 * test_hostile_checkpoint.c): three classes in 5 features, each class lifting its own
 * feature by 1.5 over unit normal noise, and a model of the file's SPEC initialised the same
 * way every time, as a new process would start; clear_dir empties a checkpoint directory.
 */
#ifndef NB_CKPT_FIXTURE_H
#define NB_CKPT_FIXTURE_H

#include "nabla.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* n rows of the three classes (row i is class i % 3); NULL when out of memory. */
static inline nb_dataset *data(int64_t n, uint64_t seed)
{
    nb_dataset *ds = NULL;
    float *x = malloc((size_t)n * 5 * sizeof *x), *y = malloc((size_t)n * sizeof *y);
    nb_rng r;
    nb_rng_seed(&r, seed);
    for (int64_t i = 0; x && y && i < n; i++) {
        int c = (int)(i % 3);
        for (int j = 0; j < 5; j++) x[i * 5 + j] = (j == c ? 1.5f : 0.0f) + nb_rng_normal(&r);
        y[i] = (float)c;
    }
    if (x && y && nb_dataset_create_from(x, n, 5, y, 1, NB_TASK_CLASSIFY, 3, &ds)) ds = NULL;
    free(x), free(y);
    return ds;
}

/* The model of spec, built for 5 features and 3 classes, He-uniform from seed 0. */
static inline nb_model *fresh_model(const char *spec)
{
    nb_model *m;
    if (nb_model_parse(spec, NB_TASK_CLASSIFY, &m)) return NULL;
    if (nb_model_build(m, 1, (int64_t[]){5}, 3) || nb_model_init(m, NB_INIT_HE_UNIFORM, 0, 4)) {
        nb_model_free(m);
        return NULL;
    }
    return m;
}

/* remove every file of the checkpoint directory dir (the runs' checkpoints), keeping it */
static inline void clear_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char path[512];
    while (d && (de = readdir(d)))
        if (de->d_name[0] != '.') {
            snprintf(path, sizeof path, "%.200s/%.200s", dir, de->d_name);
            unlink(path);
        }
    if (d) closedir(d);
}

#endif
