/* SPDX-License-Identifier: MIT */
/*
 * fuzz_csv.c - libFuzzer target for the CSV loader (nb_dataset_load on "csv:PATH").
 * Input: byte 0 picks the options (task, header mode, delimiter, label column), the rest is
 * the file. Invariants checked on success: learning then enforcing the learned schema on the
 * same file gives the same rows bit for bit, and the schema survives a JSON round trip.
 */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    static const char delims[4] = {',', ';', '\t', '|'};
    static const char *const labels[4] = {NULL, "0", "-1", "0,1"};
    nb_data_opts o = nb_data_opts_default();
    o.task = (nb_task)(data[0] & 3);
    o.header = ((data[0] >> 2) & 3) % 3 - 1;
    o.delimiter = delims[(data[0] >> 4) & 3];
    o.label = labels[(data[0] >> 6) & 3];
    o.max_bytes = (size_t)1 << 20;
    const char *path = fuzz_path(0, "data", ".csv");
    fuzz_write(path, data + 1, size - 1);
    char spec[600];
    snprintf(spec, sizeof spec, "csv:%s", path);

    nb_preproc *pp = NULL;
    nb_dataset *ds = NULL;
    if (nb_preproc_create(&pp) != NB_OK) abort();
    int rc = nb_dataset_load(spec, &o, pp, &ds);
    fuzz_check_msg(rc, "nb_dataset_load");
    if (rc == NB_OK) {
        if (nb_dataset_n_rows(ds) < 1 || nb_dataset_n_features(ds) < 1 ||
            nb_preproc_n_features(pp) != nb_dataset_n_features(ds))
            fuzz_fail("csv: a loaded dataset has impossible sizes");
        fuzz_check_learned("csv", spec, &o, pp, ds);
    } else if (ds) {
        fuzz_fail("csv: *out set on failure");
    }
    nb_dataset_free(ds);
    nb_preproc_free(pp);
    unlink(path);
    return 0;
}
