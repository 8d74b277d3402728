/* SPDX-License-Identifier: MIT */
/*
 * test_onnx_torch.c - nb_model_load_onnx on the files torch.onnx.export wrote
 * (tests/onnx/make_torch_fixtures.py, committed under tests/onnx/torch/): the model's shape,
 * task and outputs are the graph's, nb_model_predict gives PyTorch's eval-mode probabilities
 * within 1e-5, nb_model_load (told ONNX by the first bytes) gives the same bits, the weights
 * load onto a model parsed from nb_model_spec with nb_model_load_weights to the same bits, and
 * graphs with an operator nabla lacks are NB_ERR_FORMAT naming it. In C so that the sanitizers
 * run the importer on real PyTorch output (tests/onnx/test_torch_onnx.sh does the CLI side).
 */
#include "nabla.h"
#include "check.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIR "tests/onnx/torch/"
enum { MAX_ROWS = 64, MAX_COLS = 256 };

/* A CSV file of numbers (%.9g: float32 exactly), optionally after a header line: rows * cols
 * values into v; returns the row count (0 on any error), *cols the values per row. */
static int read_csv(const char *path, int header, float *v, int *cols)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: cannot open (run from the repository root)\n", path);
        return 0;
    }
    static char line[MAX_COLS * 24];
    int rows = 0;
    *cols = 0;
    while (fgets(line, sizeof line, f)) {
        if (header-- > 0) continue;
        if (rows == MAX_ROWS) break;
        int c = 0;
        for (char *p = line, *end; *p && *p != '\n'; p = *end == ',' ? end + 1 : end) {
            double d = strtod(p, &end);
            if (end == p || c == MAX_COLS) {
                fclose(f);
                return 0;
            }
            v[(size_t)rows * MAX_COLS + (size_t)c++] = (float)d;
        }
        if (rows && c != *cols) {
            fclose(f);
            return 0;
        }
        *cols = c;
        rows++;
    }
    fclose(f);
    return rows;
}

static float csv_in[MAX_ROWS * MAX_COLS], csv_ref[MAX_ROWS * MAX_COLS];

/* file (an .onnx under DIR) against data (its CSV: features then the label y) and PyTorch's
 * probabilities ref; rank/shape: the sample shape the graph's input declares */
static void check_fixture(const char *file, const char *data, const char *ref, int rank,
                          const int64_t *shape, int classes)
{
    char path[256];
    snprintf(path, sizeof path, DIR "%s", file);
    int cols = 0, k = 0;
    int n = read_csv(data, 1, csv_in, &cols);
    CHECK(read_csv(ref, 0, csv_ref, &k) == n && n > 0 && k == classes);
    if (n == 0 || k != classes) return;
    int features = cols - 1; /* the last column is the label */
    float *x = malloc((size_t)n * (size_t)features * sizeof *x);
    float *out = malloc((size_t)n * (size_t)k * sizeof *out);
    float *out2 = malloc((size_t)n * (size_t)k * sizeof *out2);
    CHECK(x && out && out2);
    if (!x || !out || !out2) goto done;
    for (int i = 0; i < n; i++)
        memcpy(x + (size_t)i * (size_t)features, csv_in + (size_t)i * MAX_COLS,
               (size_t)features * sizeof *x);

    nb_model *m = NULL;
    nb_preproc *pp = (nb_preproc *)&pp; /* must come back NULL: the file is not nabla's */
    CHECK_OK(nb_model_load_onnx(path, &m, &pp));
    if (!m) {
        fprintf(stderr, "  (%s)\n", path);
        goto done;
    }
    CHECK(pp == NULL);
    CHECK(nb_model_task(m) == NB_TASK_CLASSIFY);
    CHECK(nb_model_n_outputs(m) == classes);
    int64_t got[3] = {0, 0, 0};
    CHECK(nb_model_sample_shape(m, got) == rank);
    for (int i = 0; i < rank; i++) CHECK(got[i] == shape[i]);

    /* float32 kernels summing in another order than PyTorch's: 1e-5 absolute on probabilities */
    CHECK_OK(nb_model_predict(m, x, n, out));
    double worst = 0;
    for (size_t i = 0; i < (size_t)n * (size_t)k; i++) {
        double d = fabs((double)out[i] - (double)csv_ref[(i / (size_t)k) * MAX_COLS + i % (size_t)k]);
        if (!(d <= worst)) worst = d;
    }
    CHECK_NEAR(worst, 0, 1e-5, 0);
    if (!(worst <= 1e-5)) fprintf(stderr, "  %s: max |nabla - torch| = %.3g\n", file, worst);

    /* nb_model_load tells ONNX by its first bytes: the same model, the same bits */
    nb_model *m2 = NULL;
    CHECK_OK(nb_model_load(path, &m2, NULL));
    if (m2) {
        CHECK_OK(nb_model_predict(m2, x, n, out2));
        CHECK(memcmp(out, out2, (size_t)n * (size_t)k * sizeof *out) == 0);
        nb_model_free(m2);
        m2 = NULL;
    }

    /* the weights onto the same architecture built from its spec (what train --init does) */
    CHECK_OK(nb_model_parse(nb_model_spec(m), NB_TASK_CLASSIFY, &m2));
    if (m2) {
        CHECK_OK(nb_model_build(m2, rank, shape, classes));
        CHECK_OK(nb_model_load_weights(m2, path));
        memset(out2, 0, (size_t)n * (size_t)k * sizeof *out2);
        CHECK_OK(nb_model_predict(m2, x, n, out2));
        CHECK(memcmp(out, out2, (size_t)n * (size_t)k * sizeof *out) == 0);
        nb_model_free(m2);
    }
    nb_model_free(m);
done:
    free(x);
    free(out);
    free(out2);
}

int main(void)
{
    const int64_t mlp[1] = {20}, mlp_bn[1] = {6}, cnn[3] = {1, 14, 14};
    check_fixture("torch_mlp.onnx", DIR "torch_mlp.csv", DIR "torch_mlp_proba.txt", 1, mlp, 3);
    check_fixture("torch_mlp_opset17.onnx", DIR "torch_mlp.csv", DIR "torch_mlp_proba.txt", 1, mlp, 3);
    check_fixture("torch_mlp_softmax.onnx", DIR "torch_mlp.csv", DIR "torch_mlp_proba.txt", 1, mlp, 3);
    check_fixture("torch_mlp_bn.onnx", DIR "torch_mlp_bn.csv", DIR "torch_mlp_bn_proba.txt", 1, mlp_bn, 4);
    check_fixture("torch_cnn.onnx", DIR "torch_cnn.csv", DIR "torch_cnn_proba.txt", 3, cnn, 10);

    /* operators nabla lacks: NB_ERR_FORMAT naming the first one, and no model */
    nb_model *m = NULL;
    CHECK_ERR(nb_model_load_onnx(DIR "torch_upsample.onnx", &m, NULL), NB_ERR_FORMAT, "Resize");
    CHECK(m == NULL);
    CHECK_ERR(nb_model_load_onnx(DIR "torch_gelu.onnx", &m, NULL), NB_ERR_FORMAT, "Div");
    CHECK(m == NULL);
    /* not an ONNX file at all (a CSV) */
    CHECK_ERR(nb_model_load_onnx(DIR "torch_mlp.csv", &m, NULL), NB_ERR_FORMAT, NULL);
    CHECK(m == NULL);
    return check_exit("test_onnx_torch");
}
