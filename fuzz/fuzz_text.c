/* SPDX-License-Identifier: MIT */
/*
 * fuzz_text.c - libFuzzer target for CSV text columns (nb_data_opts.tokens): the UTF-8
 * decoder, both tokenizers, the vocabulary and the ids of a row.
 * Input: byte 0 picks tokens (chars or words), header mode and delimiter; byte 1 picks
 * max_vocab (0 or 2..8), min_count (1..4) and max_len (0 = learned, or 1..3); the rest is the
 * file. Invariants checked on success: every feature is an integer id in
 * [0, nb_preproc_vocab_size), the sample shape is (n_features), learning then enforcing the
 * learned schema on the same file gives the same rows bit for bit, and the schema survives a
 * JSON round trip.
 */
#include "fuzz_util.h"

#include <math.h>

static void check_ids(const nb_dataset *ds, int64_t vocab)
{
    int64_t nf = nb_dataset_n_features(ds);
    float row[4096];
    if (nf > (int64_t)(sizeof row / sizeof row[0])) return; /* at most 1024 learned, 3 given */
    if (nb_dataset_sample_rank(ds) != 1 || nb_dataset_sample_shape(ds)[0] != nf)
        fuzz_fail("text: the sample shape is not (max_len)");
    for (int64_t i = 0; i < nb_dataset_n_rows(ds); i++) {
        if (nb_dataset_rows(ds, i, 1, row, NULL) != NB_OK) fuzz_fail("text: a row does not read");
        for (int64_t k = 0; k < nf; k++)
            if (!(row[k] >= 0 && row[k] < (float)vocab && row[k] == floorf(row[k])))
                fuzz_fail("text: a feature is not an id of the vocabulary");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    static const char delims[4] = {',', ';', '\t', '|'};
    nb_data_opts o = nb_data_opts_default();
    o.tokens = data[0] & 1 ? NB_TOKENS_WORDS : NB_TOKENS_CHARS;
    o.header = ((data[0] >> 1) & 3) % 3 - 1;
    o.delimiter = delims[(data[0] >> 3) & 3];
    o.max_vocab = (data[1] & 7) ? (data[1] & 7) + 1 : 0;
    o.min_count = ((data[1] >> 3) & 3) + 1;
    o.max_len = (data[1] >> 5) & 3;
    o.max_bytes = (size_t)1 << 20;
    const char *path = fuzz_path(0, "text", ".csv");
    fuzz_write(path, data + 2, size - 2);
    char spec[600];
    snprintf(spec, sizeof spec, "csv:%s", path);

    nb_preproc *pp = NULL;
    nb_dataset *ds = NULL;
    if (nb_preproc_create(&pp) != NB_OK) abort();
    int rc = nb_dataset_load(spec, &o, pp, &ds);
    fuzz_check_msg(rc, "nb_dataset_load");
    if (rc == NB_OK) {
        int64_t vocab = nb_preproc_vocab_size(pp);
        if (vocab < 2 || (o.max_vocab && vocab > o.max_vocab) ||
            nb_preproc_n_features(pp) != nb_dataset_n_features(ds) ||
            (o.max_len && nb_dataset_n_features(ds) != o.max_len))
            fuzz_fail("text: a loaded dataset has impossible sizes");
        check_ids(ds, vocab);
        fuzz_check_learned("text", spec, &o, pp, ds);
    } else if (ds) {
        fuzz_fail("text: *out set on failure");
    }
    nb_dataset_free(ds);
    nb_preproc_free(pp);
    unlink(path);
    return 0;
}
