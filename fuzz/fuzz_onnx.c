/* SPDX-License-Identifier: MIT */
/*
 * fuzz_onnx.c - libFuzzer target for ONNX files: the input is the file. nb_model_load_onnx
 * (protobuf reader, graph walk, layer mapping, initializer sizes, nabla metadata -> spec ->
 * build -> preprocessing JSON), then nb_model_load on the same bytes (the first-byte check
 * that sends them to the importer). A loaded model predicts one zero sample.
 */
#include "fuzz_util.h"

static void use_model(nb_model *m)
{
    int64_t shape[3];
    int rank = nb_model_sample_shape(m, shape);
    int64_t nf = 1;
    for (int i = 0; i < rank; i++) nf *= shape[i];
    int nout = nb_model_n_outputs(m);
    if (rank < 1 || nf < 1 || nout < 1) fuzz_fail("onnx: a loaded model has impossible sizes");
    if (nf > 4096 || nout > 4096) return;
    float *x = calloc((size_t)nf, sizeof *x), *y = calloc((size_t)nout, sizeof *y);
    if (x && y) fuzz_check_msg(nb_model_predict(m, x, 1, y), "nb_model_predict");
    free(x);
    free(y);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_path(0, "model", ".onnx");
    fuzz_write(path, data, size);
    for (int pass = 0; pass < 2; pass++) {
        nb_model *m = NULL;
        nb_preproc *pp = NULL;
        int rc = pass ? nb_model_load(path, &m, &pp) : nb_model_load_onnx(path, &m, &pp);
        fuzz_check_msg(rc, pass ? "nb_model_load" : "nb_model_load_onnx");
        if (rc == NB_OK) use_model(m);
        else if (m || pp) fuzz_fail("onnx: model or preprocessing set on failure");
        nb_model_free(m);
        nb_preproc_free(pp);
    }
    unlink(path);
    return 0;
}
