/* SPDX-License-Identifier: MIT */
/*
 * fuzz_onnx.c - libFuzzer target for ONNX files: the input is the file. nb_model_load_onnx
 * (protobuf reader, graph walk, layer mapping, initializer sizes, nabla metadata -> spec ->
 * build -> preprocessing JSON), then nb_model_load on the same bytes (the first-byte check
 * that sends them to the importer). A loaded model predicts one zero sample.
 */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_path(0, "model", ".onnx");
    fuzz_write(path, data, size);
    for (int pass = 0; pass < 2; pass++) {
        nb_model *m = NULL;
        nb_preproc *pp = NULL;
        int rc = pass ? nb_model_load(path, &m, &pp) : nb_model_load_onnx(path, &m, &pp);
        fuzz_check_msg(rc, pass ? "nb_model_load" : "nb_model_load_onnx");
        if (rc == NB_OK) fuzz_use_model(m, "onnx: a loaded model has impossible sizes");
        else if (m || pp) fuzz_fail("onnx: model or preprocessing set on failure");
        nb_model_free(m);
        nb_preproc_free(pp);
    }
    unlink(path);
    return 0;
}
