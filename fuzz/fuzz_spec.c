/* SPDX-License-Identifier: MIT */
/*
 * fuzz_spec.c - libFuzzer target for the model spec parser (nb_model_parse). The input is
 * the spec text (cut at its first NUL). Invariant checked on success: the canonical spec
 * (nb_model_spec) parses again into a model with the same canonical spec and layer count.
 * Nothing is built: building allocates what the spec asks for, which is the caller's choice.
 */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    nb_model *m = NULL, *m2 = NULL;
    int rc = nb_model_parse(text, NB_TASK_CLASSIFY, &m);
    fuzz_check_msg(rc, "nb_model_parse");
    if (rc == NB_OK) {
        if (nb_model_n_layers(m) < 1) fuzz_fail("spec: a parsed model has no layers");
        const char *canon = nb_model_spec(m);
        /* the canonical text has no task line: parse it with the model's task */
        rc = nb_model_parse(canon, nb_model_task(m), &m2);
        if (rc != NB_OK && rc != NB_ERR_NOMEM) {
            fprintf(stderr, "%s -> %s: %s\n", text, canon, nb_errmsg());
            fuzz_fail("spec: the canonical spec does not parse");
        }
        if (rc == NB_OK && (strcmp(canon, nb_model_spec(m2)) != 0 ||
                            nb_model_n_layers(m) != nb_model_n_layers(m2) ||
                            nb_model_task(m) != nb_model_task(m2)))
            fuzz_fail("spec: the canonical spec changes when parsed again");
    } else if (m) {
        fuzz_fail("spec: *out set on failure");
    }
    nb_model_free(m);
    nb_model_free(m2);
    free(text);
    return 0;
}
