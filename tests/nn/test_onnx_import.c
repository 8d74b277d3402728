/* SPDX-License-Identifier: MIT */
/*
 * test_onnx_import.c - nb_model_load_onnx on the files tests/onnx/make_import_cases.py writes
 * with onnx.helper (tests/onnx/cases/): each supported operator's predictions against the
 * numpy values the script computed, the task each file's last node gives, and each refusal
 * (unknown operator, group 2, external data, dims not backed by bytes, truncation, cycle,
 * dangling input, branch, other domain or opset) with its exact message; every truncation of
 * a valid file fails cleanly. nb_model_load and nb_model_load_weights take the same files.
 */
#include "check.h"
#include "nabla.h"

#include <stdio.h>
#include <stdlib.h>

#define DIR "tests/onnx/cases/"

static void check_case(const char *name, nb_task task)
{
    char path[256], ref[256];
    snprintf(path, sizeof path, DIR "%s.onnx", name);
    snprintf(ref, sizeof ref, DIR "%s.txt", name);
    FILE *f = fopen(ref, "r");
    CHECK(f != NULL);
    if (!f) return;
    int rows = 0, feat = 0, outs = 0;
    char task_s[32] = "";
    CHECK(fscanf(f, "%d %d %d %31s", &rows, &feat, &outs, task_s) == 4);
    float *x = calloc((size_t)rows * feat, sizeof *x), *y = calloc((size_t)rows * outs, sizeof *y),
          *got = calloc((size_t)rows * outs, sizeof *got);
    for (int i = 0; i < rows * feat; i++) CHECK(fscanf(f, "%f", &x[i]) == 1);
    for (int i = 0; i < rows * outs; i++) CHECK(fscanf(f, "%f", &y[i]) == 1);
    fclose(f);
    nb_model *m = NULL;
    nb_preproc *pp = (nb_preproc *)1;
    CHECK_OK(nb_model_load_onnx(path, &m, &pp));
    CHECK(pp == NULL); /* a file from another tool has no preprocessing */
    if (m) {
        CHECK(nb_model_task(m) == task && strcmp(nb_task_name(task), task_s) == 0);
        CHECK(nb_model_n_outputs(m) == outs);
        CHECK_OK(nb_model_predict(m, x, rows, got));
        /* float32 forward against numpy's double: a few ulps through a handful of layers */
        for (int i = 0; i < rows * outs; i++) CHECK_NEAR(got[i], y[i], 2e-6, 2e-5);
        nb_model_free(m);
    }
    /* nb_model_load tells ONNX from safetensors by the first bytes */
    CHECK_OK(nb_model_load(path, &m, NULL));
    if (m) {
        CHECK_OK(nb_model_predict(m, x, rows, got));
        for (int i = 0; i < rows * outs; i++) CHECK_NEAR(got[i], y[i], 2e-6, 2e-5);
        /* nb_model_load_weights from the same file into the same architecture: identical */
        nb_model *m2 = NULL;
        int64_t shape[3];
        int rank = nb_model_sample_shape(m, shape);
        CHECK_OK(nb_model_parse(nb_model_spec(m), nb_model_task(m), &m2));
        if (m2) {
            CHECK_OK(nb_model_build(m2, rank, shape, outs));
            CHECK_OK(nb_model_load_weights(m2, path));
            float *g2 = calloc((size_t)rows * outs, sizeof *g2);
            CHECK_OK(nb_model_predict(m2, x, rows, g2));
            CHECK(memcmp(g2, got, (size_t)rows * outs * sizeof *g2) == 0);
            free(g2);
        }
        nb_model_free(m2);
        nb_model_free(m);
    }
    free(x);
    free(y);
    free(got);
}

static void check_bad(const char *name, const char *msg)
{
    char path[256], want[512];
    snprintf(path, sizeof path, DIR "%s.onnx", name);
    snprintf(want, sizeof want, "%s: %s", path, msg);
    nb_model *m = (nb_model *)1;
    CHECK_ERR(nb_model_load_onnx(path, &m, NULL), NB_ERR_FORMAT, want);
    CHECK(m == NULL);
}

/* every prefix of a valid file: an error or (at a field boundary) a model, never a crash */
static void check_truncations(const char *name)
{
    char path[256];
    snprintf(path, sizeof path, DIR "%s.onnx", name);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (!f) return;
    static unsigned char buf[65536];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    const char *tmp = "build/test_onnx_import.tmp.onnx";
    int fails = 0;
    for (size_t k = 0; k < n; k++) {
        FILE *o = fopen(tmp, "wb");
        if (!o) break;
        fwrite(buf, 1, k, o);
        fclose(o);
        nb_model *m = NULL;
        int rc = nb_model_load_onnx(tmp, &m, NULL);
        fails += rc != NB_OK;
        CHECK(rc == NB_OK || rc == NB_ERR_FORMAT || rc == NB_ERR_IO);
        nb_model_free(m);
    }
    CHECK(fails == (int)n); /* the graph comes before the opsets: any cut loses one of them */
    remove(tmp);
}

int main(void)
{
    check_case("gemm_softmax", NB_TASK_CLASSIFY);
    check_case("matmul_binary", NB_TASK_BINARY);
    check_case("activations", NB_TASK_CLASSIFY);
    check_case("regress", NB_TASK_REGRESS);
    check_case("multilabel_bn", NB_TASK_MULTILABEL);
    check_case("cnn", NB_TASK_CLASSIFY);
    check_case("cnn_gap_reshape", NB_TASK_CLASSIFY);
    check_case("nabla_meta", NB_TASK_CLASSIFY);
    check_case("pad", NB_TASK_CLASSIFY);

    check_bad("bad_unknown_op", "node 1 'cos0' (Cos): the operator is not supported (Gemm, MatMul + Add, Conv,");
    check_bad("bad_lstm", "node 1 'lstm0' (LSTM): this operator in a file nabla did not write is not supported (recurrent layers and embeddings are imported from nabla's own ONNX files only)");
    check_bad("bad_group", "node 0 'conv' (Conv): group other than 1 is not supported (group = 1)");
    check_bad("bad_epsilon", "node 1 'bn' (BatchNormalization): epsilon 0.001 is not supported (epsilon 1e-05, nabla's and PyTorch's default)");
    check_bad("bad_avgpool_pad", "node 0 'avg' (AveragePool): count_include_pad = 0 with padding is not supported (count_include_pad = 1, or no padding)");
    check_bad("bad_dangling", "node 0 'fc' (Gemm): input 'missing_w' is not an initializer or a Constant");
    check_bad("bad_cycle", "node 1 'b' (Relu): the graph has a cycle through it");
    check_bad("bad_branch", "value 'h' feeds 2 nodes (nabla imports a sequential chain of nodes, without branches)");
    check_bad("bad_domain", "operator set domain 'com.microsoft' is not supported (nabla reads the default ONNX domain, opsets 7 to 18)");
    check_bad("bad_opset", "opset 19 is not supported (nabla reads opsets 7 to 18 of the default domain)");
    check_bad("bad_external", "initializer 'w' keeps its data in an external file, which is not supported");
    check_bad("bad_unbacked", "initializer 'w' has dims of 1000000000 elements but holds 32 bytes of data (raw_data)");
    check_bad("bad_truncated", "malformed ONNX file");
    check_bad("bad_pad_maxpool", "node 1 'max' (MaxPool): a zero Pad before this operator is not supported (a Pad folded into the Conv or AveragePool after it)");
    check_bad("bad_nabla_missing", "initializer 'layers.2.bias' is missing (a nabla ONNX file holds each tensor of its architecture under the tensor's name");
    nb_model *m = NULL;
    CHECK_ERR(nb_model_load_onnx(DIR "missing.onnx", &m, NULL), NB_ERR_IO, "missing.onnx");
    check_truncations("gemm_softmax");
    check_truncations("cnn");
    return check_exit("test_onnx_import");
}
