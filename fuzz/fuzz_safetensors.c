/* SPDX-License-Identifier: MIT */
/*
 * fuzz_safetensors.c - libFuzzer target for safetensors files: nb_st_load (every tensor and
 * metadata entry is then read in full, so a view pointing outside its buffer is caught), and
 * nb_model_load on the same bytes (metadata -> spec -> model build -> weight checks ->
 * preprocessing JSON). A loaded model predicts one zero sample.
 */
#include "fuzz_util.h"

static void walk_st(const nb_st *st)
{
    volatile float sink = 0;
    for (int i = 0; i < nb_st_count(st); i++) {
        const char *name = NULL;
        nb_view v, w;
        if (nb_st_tensor(st, i, &name, &v) != NB_OK || !name) fuzz_fail("st: tensor i missing");
        for (size_t k = 0; k < v.n; k++) sink += v.data[k];
        if (nb_st_find(st, name, &w) != NB_OK || w.data != v.data || w.n != v.n)
            fuzz_fail("st: find disagrees with the index");
    }
    for (int i = 0; i < nb_st_meta_count(st); i++) {
        const char *k = NULL, *val = NULL;
        if (nb_st_meta_at(st, i, &k, &val) != NB_OK || nb_st_meta(st, k) != val)
            fuzz_fail("st: metadata lookup disagrees with the index");
        sink += (float)strlen(val);
    }
    (void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_path(0, "model", ".safetensors");
    fuzz_write(path, data, size);
    nb_st *st = NULL;
    int rc = nb_st_load(path, &st);
    fuzz_check_msg(rc, "nb_st_load");
    if (rc == NB_OK) walk_st(st);
    else if (st) fuzz_fail("st: *out set on failure");
    nb_st_free(st);

    nb_model *m = NULL;
    nb_preproc *pp = NULL;
    rc = nb_model_load(path, &m, &pp);
    fuzz_check_msg(rc, "nb_model_load");
    if (rc == NB_OK) fuzz_use_model(m, "st: a loaded model has impossible sizes");
    else if (m || pp) fuzz_fail("st: model or preprocessing set on failure");
    nb_model_free(m);
    nb_preproc_free(pp);
    unlink(path);
    return 0;
}
