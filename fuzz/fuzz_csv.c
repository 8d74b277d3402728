/* SPDX-License-Identifier: MIT */
/*
 * fuzz_csv.c - libFuzzer target for the CSV loader (nb_dataset_load on "csv:PATH").
 * Input: byte 0 picks the options (task, header mode, delimiter, label column), the rest is
 * the file. Invariants checked on success: learning then enforcing the learned schema on the
 * same file gives the same rows bit for bit, and the schema survives a JSON round trip.
 */
#include "fuzz_util.h"

/* to_json -> from_json -> to_json must reproduce the text exactly. */
static void check_json_round_trip(const nb_preproc *pp)
{
    char *a = NULL, *b = NULL;
    nb_preproc *back = NULL;
    int rc = nb_preproc_to_json(pp, &a);
    if (rc == NB_OK && (rc = nb_preproc_from_json(a, &back)) != NB_ERR_NOMEM && rc != NB_OK) {
        fprintf(stderr, "%s\n%s\n", a, nb_errmsg());
        fuzz_fail("csv: the learned schema's JSON does not read back");
    }
    if (rc == NB_OK && nb_preproc_to_json(back, &b) == NB_OK && strcmp(a, b) != 0)
        fuzz_fail("csv: the schema's JSON changes in a round trip");
    nb_free(a);
    nb_free(b);
    nb_preproc_free(back);
}

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
    nb_dataset *ds = NULL, *again = NULL;
    if (nb_preproc_create(&pp) != NB_OK) abort();
    int rc = nb_dataset_load(spec, &o, pp, &ds);
    fuzz_check_msg(rc, "nb_dataset_load");
    if (rc == NB_OK) {
        if (nb_dataset_n_rows(ds) < 1 || nb_dataset_n_features(ds) < 1 ||
            nb_preproc_n_features(pp) != nb_dataset_n_features(ds))
            fuzz_fail("csv: a loaded dataset has impossible sizes");
        check_json_round_trip(pp);
        rc = nb_dataset_load(spec, &o, pp, &again);
        fuzz_check_msg(rc, "nb_dataset_load (enforcing)");
        if (rc != NB_OK && rc != NB_ERR_NOMEM) {
            fprintf(stderr, "%s\n", nb_errmsg());
            fuzz_fail("csv: a file does not load under the schema learned from it");
        }
        if (rc == NB_OK && !fuzz_same_data(ds, again))
            fuzz_fail("csv: reloading under the learned schema changed the dataset");
    } else if (ds) {
        fuzz_fail("csv: *out set on failure");
    }
    nb_dataset_free(ds);
    nb_dataset_free(again);
    nb_preproc_free(pp);
    unlink(path);
    return 0;
}
