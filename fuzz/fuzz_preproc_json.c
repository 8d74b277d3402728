/* SPDX-License-Identifier: MIT */
/*
 * fuzz_preproc_json.c - libFuzzer target for the preprocessing JSON reader
 * (nb_preproc_from_json). The input is the JSON text (cut at its first NUL). Invariant on
 * success: writing the state and reading it back gives the same text again, and the getters
 * agree with the schema (class names exist for every index).
 */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    nb_preproc *pp = NULL, *back = NULL;
    char *a = NULL, *b = NULL;
    int rc = nb_preproc_from_json(text, &pp);
    fuzz_check_msg(rc, "nb_preproc_from_json");
    if (rc == NB_OK) {
        for (int i = 0; i < nb_preproc_n_classes(pp); i++)
            if (!nb_preproc_class_name(pp, i)) fuzz_fail("preproc: a class has no name");
        if (nb_preproc_n_features(pp) < 0 || nb_preproc_n_targets(pp) < 0)
            fuzz_fail("preproc: negative sizes");
        rc = nb_preproc_to_json(pp, &a);
        if (rc == NB_OK && (rc = nb_preproc_from_json(a, &back)) != NB_OK && rc != NB_ERR_NOMEM) {
            fprintf(stderr, "%s\n-> %s\n%s\n", text, a, nb_errmsg());
            fuzz_fail("preproc: written JSON does not read back");
        }
        if (rc == NB_OK && nb_preproc_to_json(back, &b) == NB_OK && strcmp(a, b) != 0)
            fuzz_fail("preproc: JSON changes in a round trip");
    } else if (pp) {
        fuzz_fail("preproc: *out set on failure");
    }
    nb_free(a);
    nb_free(b);
    nb_preproc_free(pp);
    nb_preproc_free(back);
    free(text);
    return 0;
}
