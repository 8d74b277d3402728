/* SPDX-License-Identifier: MIT */
/*
 * test_onnx_export.c - nb_model_save_onnx (src/nn/onnx_export.c and the layers' onnx hooks):
 * models covering every layer kind and every activation are exported, and each file is
 * walked with a tiny protobuf field walker of this test's own (independent of the library's
 * reader) to check the ModelProto's fields (IR 8, opset 13, producer, metadata), the graph's
 * input and outputs and the op_types of its nodes in order. Failure paths: an unbuilt model
 * (NB_ERR_STATE), an unwritable path (NB_ERR_IO), and out-of-memory at every allocation, the
 * previous file kept each time. Numerical agreement with independent runtimes (OpenCV and a
 * numpy evaluator of the ONNX spec) is tests/cli/test_export.sh's.
 */
#include "nabla.h"
#include "check.h"
#include "fault_alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---------------------------------------------------------------- a field walker */

typedef struct {
    const uint8_t *p, *end;
} rd;

typedef struct {
    uint32_t field;
    int wire;
    uint64_t u;
    const uint8_t *data;
    size_t len;
} fld;

static int varint(rd *r, uint64_t *v)
{
    *v = 0;
    for (int s = 0; s < 70 && r->p < r->end; s += 7) {
        uint8_t b = *r->p++;
        *v |= (uint64_t)(b & 0x7f) << s;
        if (!(b & 0x80)) return 1;
    }
    return 0;
}

/* 1: a field, 0: the end, -1: malformed */
static int next(rd *r, fld *f)
{
    uint64_t t;
    if (r->p == r->end) return 0;
    if (!varint(r, &t)) return -1;
    f->field = (uint32_t)(t >> 3), f->wire = (int)(t & 7);
    switch (f->wire) {
    case 0: return varint(r, &f->u) ? 1 : -1;
    case 5:
        if (r->end - r->p < 4) return -1;
        memcpy(&f->u, r->p, 4), r->p += 4;
        return 1;
    case 2:
        if (!varint(r, &f->u) || f->u > (uint64_t)(r->end - r->p)) return -1;
        f->data = r->p, f->len = (size_t)f->u, r->p += f->len;
        return 1;
    default: return -1;
    }
}

static rd sub(const fld *f) { return (rd){f->data, f->data + f->len}; }

/* the first LEN field number n of message r's, as a C string in buf ("" if none) */
static void str_of(rd r, uint32_t n, char *buf, size_t cap)
{
    fld f;
    buf[0] = '\0';
    while (next(&r, &f) > 0)
        if (f.field == n && f.wire == 2) {
            snprintf(buf, cap, "%.*s", (int)f.len, (const char *)f.data);
            return;
        }
}

typedef struct {
    uint64_t ir, opset;
    char producer[32], ops[2048], inputs[256], outputs[256], inits[2048], meta[1024], in_dims[128];
    int nodes, malformed, opsets;
} summary;

static void add_word(char *buf, size_t cap, const char *w)
{
    size_t n = strlen(buf);
    snprintf(buf + n, cap - n, "%s%s", n ? " " : "", w);
}

static void read_graph(rd g, summary *s)
{
    fld f;
    int st;
    char w[256];
    while ((st = next(&g, &f)) > 0) {
        if (f.wire != 2) continue;
        if (f.field == 1) { /* NodeProto: op_type 4 */
            str_of(sub(&f), 4, w, sizeof w);
            add_word(s->ops, sizeof s->ops, w);
            s->nodes++;
        } else if (f.field == 5) { /* TensorProto: name 8 */
            str_of(sub(&f), 8, w, sizeof w);
            add_word(s->inits, sizeof s->inits, w);
        } else if (f.field == 11 || f.field == 12) { /* ValueInfoProto: name 1 */
            str_of(sub(&f), 1, w, sizeof w);
            add_word(f.field == 11 ? s->inputs : s->outputs, 256, w);
            if (f.field == 11) { /* type 2 -> tensor_type 1 -> shape 2 -> dim 1 -> value 1 / param 2 */
                rd v = sub(&f);
                fld a, b, c, d, e;
                while (next(&v, &a) > 0)
                    if (a.field == 2) {
                        rd t = sub(&a);
                        while (next(&t, &b) > 0)
                            if (b.field == 1) {
                                rd tt = sub(&b);
                                while (next(&tt, &c) > 0)
                                    if (c.field == 2) {
                                        rd sh = sub(&c);
                                        while (next(&sh, &d) > 0) {
                                            rd dm = sub(&d);
                                            while (next(&dm, &e) > 0) {
                                                if (e.field == 1) snprintf(w, sizeof w, "%llu", (unsigned long long)e.u);
                                                else snprintf(w, sizeof w, "%.*s", (int)e.len, (const char *)e.data);
                                                add_word(s->in_dims, sizeof s->in_dims, w);
                                            }
                                        }
                                    }
                            }
                    }
            }
        }
    }
    if (st < 0) s->malformed = 1;
}

static int walk(const char *path, summary *s)
{
    memset(s, 0, sizeof *s);
    FILE *fp = fopen(path, "rb");
    if (!fp) return 0;
    static uint8_t buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    rd r = {buf, buf + n};
    fld f;
    int st;
    while ((st = next(&r, &f)) > 0) {
        if (f.field == 1) s->ir = f.u;
        if (f.field == 2) snprintf(s->producer, sizeof s->producer, "%.*s", (int)f.len, (const char *)f.data);
        if (f.field == 7) read_graph(sub(&f), s);
        if (f.field == 8) { /* OperatorSetIdProto: domain 1 "", version 2 */
            rd o = sub(&f);
            fld g;
            char dom[32];
            str_of(o, 1, dom, sizeof dom);
            while (next(&o, &g) > 0)
                if (g.field == 2 && !dom[0]) s->opset = g.u;
            s->opsets++;
        }
        if (f.field == 14) {
            char k[64];
            str_of(sub(&f), 1, k, sizeof k);
            add_word(s->meta, sizeof s->meta, k);
        }
    }
    if (st < 0) s->malformed = 1;
    return 1;
}

/* ---------------------------------------------------------------- the models */

static char dir[64];

static const char *path(const char *name)
{
    static char buf[4][160];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static nb_model *made(const char *spec, nb_task task, int rank, const int64_t *shape, int outs)
{
    nb_model *m = NULL;
    if (nb_model_parse(spec, task, &m) || nb_model_build(m, rank, shape, outs) || nb_model_init(m, NB_INIT_TORCH, 0, 1)) {
        fprintf(stderr, "%s: %s\n", spec, nb_errmsg());
        nb_model_free(m);
        return NULL;
    }
    return m;
}

static void export_case(const char *spec, nb_task task, int rank, const int64_t *shape, int outs, const nb_preproc *pp,
                        const char *ops, const char *outputs, const char *in_dims)
{
    nb_model *m = made(spec, task, rank, shape, outs);
    summary s;
    CHECK(m != NULL);
    if (!m) return;
    CHECK_OK(nb_model_save_onnx(m, path("m.onnx"), pp));
    CHECK(walk(path("m.onnx"), &s));
    CHECK(!s.malformed);
    CHECK(s.ir == 8 && s.opset == 13 && s.opsets == 1);
    CHECK(strcmp(s.producer, "nabla") == 0);
    CHECK(strcmp(s.inputs, "input") == 0);
    CHECK(strcmp(s.outputs, outputs) == 0);
    CHECK(strcmp(s.in_dims, in_dims) == 0);
    if (strcmp(s.ops, ops) != 0) fprintf(stderr, "%s:\n  got  %s\n  want %s\n", spec, s.ops, ops);
    CHECK(strcmp(s.ops, ops) == 0);
    CHECK(strncmp(s.meta, "nabla.format nabla.format_version nabla.architecture nabla.task nabla.input_shape", 80) == 0);
    CHECK((strstr(s.meta, "nabla.preprocessing") != NULL) == (pp != NULL));
    nb_model_free(m);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/nb_onnx_export.XXXXXX");
    if (!mkdtemp(dir)) return 1;

    /* an MLP with the preprocessing's scaling as the first nodes */
    nb_preproc *pp = NULL;
    CHECK_OK(nb_preproc_create(&pp));
    CHECK_OK(nb_preproc_set_scaling(pp, NB_SCALE_STANDARD, 4, (const float[]){1, 2, 3, 4}, (const float[]){2, 2, 2, 2}));
    export_case("dense 8; relu; dense 3; softmax", NB_TASK_CLASSIFY, 1, (const int64_t[]){4}, 3, pp,
                "Sub Div Gemm Relu Gemm Identity Softmax", "logits probabilities", "batch 4");
    {
        summary s;
        CHECK(walk(path("m.onnx"), &s));
        CHECK(strcmp(s.inits, "nabla.scale.offset nabla.scale.scale layers.0.weight layers.0.bias layers2.weight layers.2.bias") != 0);
        CHECK(strstr(s.inits, "nabla.scale.offset nabla.scale.scale layers.0.weight layers.0.bias layers.2.weight layers.2.bias") != NULL);
    }
    nb_preproc_free(pp);

    /* every activation (regression: one "prediction" output) */
    export_case("dense 8; sigmoid; tanh; leaky_relu 0.2; elu 0.5; softplus; step; silu; identity; log_softmax; softmax; relu; "
                "dense 4; maxout 2",
                NB_TASK_REGRESS, 1, (const int64_t[]){3}, 2, NULL,
                "Gemm Sigmoid Tanh LeakyRelu Elu Softplus Sign Relu Sigmoid Mul Identity LogSoftmax Softmax Relu Gemm Reshape "
                "ReduceMax Identity",
                "prediction", "batch 3");

    /* convolution, batch norm (2d and 1d), prelu (per channel and shared), pooling with
     * padding, flatten, dropout; binary: the trailing sigmoid is the output's */
    export_case("conv 4 3x3 pad 1; batchnorm; prelu 4; maxpool 2; conv 2 3 stride 2 nobias; avgpool 2 pad 1; flatten; "
                "dropout 0.5; dense 3; batchnorm; prelu; dense 1; sigmoid",
                NB_TASK_BINARY, 3, (const int64_t[]){1, 8, 8}, 1, NULL,
                "Conv BatchNormalization PRelu MaxPool Conv AveragePool Flatten Identity Gemm BatchNormalization PRelu Gemm "
                "Identity Sigmoid",
                "logits probabilities", "batch 1 8 8");

    /* global average pooling; dense straight on an image (its own Flatten) */
    export_case("conv 3 3; gap; dense 2", NB_TASK_MULTILABEL, 3, (const int64_t[]){2, 5, 5}, 2, NULL,
                "Conv GlobalAveragePool Flatten Gemm Identity Sigmoid", "logits probabilities", "batch 2 5 5");
    export_case("conv 3 3 dilation 2; dense 2", NB_TASK_CLASSIFY, 3, (const int64_t[]){1, 6, 6}, 2, NULL,
                "Conv Flatten Gemm Identity Softmax", "logits probabilities", "batch 1 6 6");

    /* text: embedding, its sequence lengths made once, LSTM (sequence, both directions), GRU (mean) */
    export_case("embedding 4 vocab 10; lstm 5 sequence bidirectional; gru 3 mean; dense 2; softmax", NB_TASK_CLASSIFY, 1,
                (const int64_t[]){6}, 2, NULL,
                "Cast Gather Transpose Equal Not Cast Mul ReduceMax Cast LSTM Transpose Reshape Transpose GRU ReduceSum "
                "Transpose Reshape Cast Max Unsqueeze Div Gemm Identity Softmax",
                "logits probabilities", "batch 6");
    /* a one-channel image as a sequence; the last state; a tanh RNN */
    export_case("rnn 4; dense 2", NB_TASK_REGRESS, 3, (const int64_t[]){1, 3, 5}, 2, NULL,
                "Reshape Transpose RNN Transpose Reshape Gemm Identity", "prediction", "batch 1 3 5");
    /* a sequence without padding (no embedding): no sequence_lens; mean over all T; dense on (T, H) */
    export_case("gru 3 sequence; lstm 2 mean bidirectional; dense 1", NB_TASK_REGRESS, 2, (const int64_t[]){4, 2}, 1, NULL,
                "Transpose GRU Transpose Reshape Transpose LSTM ReduceSum Transpose Reshape Div Gemm Identity", "prediction",
                "batch 4 2");
    export_case("lstm 3 sequence; dense 2", NB_TASK_REGRESS, 2, (const int64_t[]){4, 2}, 2, NULL,
                "Transpose LSTM Transpose Reshape Flatten Gemm Identity", "prediction", "batch 4 2");
    /* embedding without padding: no lengths */
    export_case("embedding 3 vocab 5 nopad; rnn 2 bidirectional; dense 2", NB_TASK_CLASSIFY, 1, (const int64_t[]){3}, 2, NULL,
                "Cast Gather Transpose RNN Transpose Reshape Gemm Identity Softmax", "logits probabilities", "batch 3");

    /* failure paths */
    nb_model *m = NULL;
    CHECK_OK(nb_model_parse("dense 2", NB_TASK_CLASSIFY, &m));
    CHECK_ERR(nb_model_save_onnx(m, path("x.onnx"), NULL), NB_ERR_STATE, "not built");
    CHECK(access(path("x.onnx"), F_OK) != 0);
    nb_model_free(m);
    m = made("dense 4; relu; dense 2", NB_TASK_CLASSIFY, 1, (const int64_t[]){3}, 2);
    CHECK(m != NULL);
    CHECK_ERR(nb_model_save_onnx(m, "/nonexistent-nabla-dir/m.onnx", NULL), NB_ERR_IO, "/nonexistent-nabla-dir/m.onnx");
    /* an existing file survives every failed export: out of memory at each allocation in turn */
    FILE *f = fopen(path("keep.onnx"), "wb");
    CHECK(f && fputs("previous", f) >= 0 && fclose(f) == 0);
    int failures = 0;
    for (long k = 1; k < 400; k++) {
        fa_begin(k);
        int st = nb_model_save_onnx(m, path("keep.onnx"), NULL);
        fa_end();
        if (st == NB_OK) break;
        failures++;
        CHECK(st == NB_ERR_NOMEM);
        char got[16] = {0};
        f = fopen(path("keep.onnx"), "rb");
        CHECK(f && fread(got, 1, 15, f) == 8 && fclose(f) == 0);
        CHECK(strcmp(got, "previous") == 0);
    }
    CHECK(failures > 3);
    summary s;
    CHECK(walk(path("keep.onnx"), &s) && !s.malformed && s.nodes == 5);
    nb_model_free(m);

    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) return 1;
    return check_exit("test_onnx_export");
}
