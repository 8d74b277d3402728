/* SPDX-License-Identifier: MIT */
/*
 * fuzz_idx.c - libFuzzer target for the IDX loader, plain and gzip (nb_dataset_load on
 * "idx:IMAGES[,LABELS]"). Input: byte 0 flags (bit 0 images gzipped, bit 1 labels gzipped,
 * bit 2 no label file, bit 3 class names given), bytes 1..4 the images' length (little
 * endian, clipped to what is left), then the images file, then the labels file. On success
 * the files must load again under the learned schema with the same values.
 */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5) return 0;
    unsigned flags = data[0];
    size_t len = (size_t)data[1] | (size_t)data[2] << 8 | (size_t)data[3] << 16 |
                 (size_t)data[4] << 24;
    const uint8_t *rest = data + 5;
    size_t left = size - 5;
    if (len > left) len = left;
    const char *im = fuzz_path(0, "images", flags & 1 ? ".gz" : "");
    const char *lb = fuzz_path(1, "labels", flags & 2 ? ".gz" : "");
    fuzz_write(im, rest, len);
    bool labeled = !(flags & 4);
    if (labeled) fuzz_write(lb, rest + len, left - len);
    char spec[1200];
    snprintf(spec, sizeof spec, "idx:%s%s%s", im, labeled ? "," : "", labeled ? lb : "");

    nb_data_opts o = nb_data_opts_default();
    o.max_bytes = (size_t)1 << 20;
    if (flags & 8) o.class_names = "zero,one,two,three";
    nb_preproc *pp = NULL;
    nb_dataset *ds = NULL, *again = NULL;
    if (nb_preproc_create(&pp) != NB_OK) abort();
    int rc = nb_dataset_load(spec, &o, pp, &ds);
    fuzz_check_msg(rc, "nb_dataset_load");
    if (rc == NB_OK) {
        if (nb_dataset_n_rows(ds) < 1 || nb_dataset_n_features(ds) != nb_preproc_n_features(pp) ||
            (nb_dataset_targets(ds) == NULL) == labeled)
            fuzz_fail("idx: a loaded dataset has impossible sizes");
        rc = nb_dataset_load(spec, &o, pp, &again);
        fuzz_check_msg(rc, "nb_dataset_load (enforcing)");
        if (rc != NB_OK && rc != NB_ERR_NOMEM) fuzz_fail("idx: files do not load under their schema");
        if (rc == NB_OK && !fuzz_same_data(ds, again))
            fuzz_fail("idx: values changed when loading again");
    } else if (ds) {
        fuzz_fail("idx: *out set on failure");
    }
    nb_dataset_free(ds);
    nb_dataset_free(again);
    nb_preproc_free(pp);
    unlink(im);
    if (labeled) unlink(lb);
    return 0;
}
