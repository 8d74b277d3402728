/* SPDX-License-Identifier: MIT */
/*
 * test_hostile_model.c - hostile model specs, safetensors and model files, beyond the
 * matrices of test_safetensors.c and test_nn.c: every truncation and bit flip of a small
 * valid file, wrong dtype and version, duplicate names, overlapping offsets, and the memory a
 * hostile file can make a loader take (a model file may not ask for more than it holds).
 * Each case asserts a clean status and part of the message.
 */
#include "hostile_fixture.h"

#include <math.h>

/* ---------------------------------------------------------------- model spec */

static int parse(const char *text)
{
    nb_model *m = NULL;
    int rc = nb_model_parse(text, NB_TASK_CLASSIFY, &m);
    CHECK(rc == NB_OK ? m != NULL : m == NULL);
    nb_model_free(m);
    return rc;
}

static void spec_cases(void)
{
    static const struct {
        const char *text, *msg;
    } cases[] = {
        {"a b c d e f g h i j k l m", "spec:1: 'm' is too long or one word too many"},
        {"dense 1234567890123456789012345678901234567890", "is too long"},
        {"dense 1e9", "spec:1: 'dense' takes a whole number of units >= 1, got '1e9'"},
        {"dense 2.5", "got '2.5'"},
        {"dense nan", "got 'nan'"},
        {"dense inf", "got 'inf'"},
        {"dense", "'dense' takes a whole number of units >= 1"},
        {"dense 10 bias", "spec:1: unexpected 'bias' after dense (only 'nobias')"},
        {"conv 0 3", "spec:1: 'conv' takes output channels and a kernel size"},
        {"conv 8 0x3", "'conv' takes output channels"},
        {"conv 8 4097", "'conv' takes output channels"},
        {"conv 8 3x3x3", "'conv' takes output channels"},
        {"conv 8 x3", "'conv' takes output channels"},
        {"conv 8 3 stride 0", "spec:1: 'conv stride' needs a size such as 2 or 2x1 (>= 1)"},
        {"conv 8 3 pad -1", "spec:1: 'conv pad' needs a size such as 2 or 2x1"},
        {"conv 8 3 dilation 0x1", "'conv dilation' needs a size"},
        {"conv 8 3 stride", "'conv stride' needs a size"},
        {"conv 8 3 groups 2", "spec:1: 'conv': unexpected 'groups'"},
        {"maxpool 2 dilation 2", "spec:1: 'maxpool': unexpected 'dilation' (options: stride S, pad P)"},
        {"avgpool 2 nobias", "'avgpool': unexpected 'nobias'"},
        {"maxpool 3 pad 2", "spec:1: maxpool: kernel and stride must be >= 1, padding between 0 "
                            "and half the kernel"},
        {"avgpool 0", "spec:1: 'avgpool' takes a window size"},
        {"dropout 1", "spec:1: 'dropout' takes a probability in [0, 1)"},
        {"dropout -0.5", "'dropout' takes a probability"},
        {"dropout nan", "'dropout' takes a probability"},
        {"maxout 0", "spec:1: maxout: k must be a whole number >= 1, got 0"},
        {"maxout 2.5", "maxout: k must be a whole number >= 1, got 2.5"},
        {"maxout 2000", "got 2000"},
        {"leaky_relu abc", "spec:1: 'leaky_relu': 'abc' is not a number"},
        {"leaky_relu 1e31", "spec:1: leaky_relu: bad parameter"},
        {"elu 1 2", "spec:1: 'elu' takes at most one number"},
        {"task cluster; dense 2", "spec:1: 'task' takes one of classify"},
        {"task classify regress", "'task' takes one of"},
        {"gap 2", "spec:1: 'gap' takes no argument"},
        {"batchnorm on", "'batchnorm' takes no argument"},
        {"flatten x", "'flatten' takes no argument"},
        {"relu;\n\n\xC3\xA9t\xC3\xA9", "spec:3: unknown layer '\xC3\xA9t\xC3\xA9'"},
        {"dense 4 # relu\n# only comments\n ; ;\n\tdense2", "spec:4: unknown layer 'dense2'"},
        {" ;;; \n\n# x", "spec: no layers"},
        {"", "spec: no layers"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t before = (size_t)check_failures_;
        EXPECT(L_SPEC, parse(cases[i].text), NB_ERR_FORMAT, cases[i].msg);
        if ((size_t)check_failures_ != before) fprintf(stderr, "  (spec case %zu)\n", i);
    }
    nb_model *m = NULL;
    EXPECT(L_SPEC, nb_model_parse(NULL, NB_TASK_CLASSIFY, &m), NB_ERR_ARG, "spec is NULL");
    /* 4097 layers are refused, 4096 parse (and quickly: the canonical text grows linearly) */
    char *s = repeat("", "relu;", 4097, "");
    EXPECT(L_SPEC, parse(s), NB_ERR_FORMAT, "spec:1: more than 4096 layers");
    s[5 * 4096] = '\0';
    CHECK_OK(nb_model_parse(s, NB_TASK_CLASSIFY, &m));
    CHECK(m && nb_model_n_layers(m) == 4096 && strlen(nb_model_spec(m)) == 4096 * 6 - 2);
    nb_model_free(m);
    free(s);
    /* a megabyte of blanks around one layer, and a comment swallowing a ';' */
    s = repeat("", " \t", 500000, "relu # ; dense 3\n");
    CHECK_OK(nb_model_parse(s, NB_TASK_CLASSIFY, &m));
    CHECK(m && nb_model_n_layers(m) == 1 && strcmp(nb_model_spec(m), "relu") == 0);
    nb_model_free(m);
    free(s);
}

/* ---------------------------------------------------------------- safetensors and model files */

static void put_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++, v >>= 8) p[i] = (unsigned char)v;
}

/* A safetensors file: header text and data bytes. */
static const char *st_write(const char *name, const char *header, const void *data, size_t n)
{
    size_t hl = strlen(header);
    unsigned char *buf = malloc(8 + hl + n + 1);
    put_le64(buf, hl);
    memcpy(buf + 8, header, hl);
    if (n) memcpy(buf + 8 + hl, data, n);
    const char *p = fx_write(name, buf, 8 + hl + n);
    free(buf);
    return p;
}

static int st_load(const char *path)
{
    nb_st *st = (nb_st *)&st;
    int rc = nb_st_load(path, &st);
    CHECK(rc == NB_OK ? st != NULL : st == NULL);
    nb_st_free(st);
    return rc;
}

static int model_load(const char *path)
{
    nb_model *m = (nb_model *)&m;
    nb_preproc *pp = (nb_preproc *)&pp;
    int rc = nb_model_load(path, &m, &pp);
    CHECK(rc == NB_OK ? m != NULL : m == NULL && pp == NULL);
    if (rc == NB_OK) nb_model_free(m), nb_preproc_free(pp);
    return rc;
}

/* A nabla model file for "dense 2" on 3 inputs with the given metadata overrides:
 * meta is the __metadata__ object's members, tensors the tensor entries. */
static const char *model_file(const char *name, const char *meta, const char *tensors,
                              size_t data_n)
{
    char header[4096];
    snprintf(header, sizeof header, "{\"__metadata__\":{%s}%s%s}", meta, *tensors ? "," : "",
             tensors);
    static const float zeros[64];
    return st_write(name, header, zeros, data_n);
}

#define META(fmt, ver, arch, task, shape, outs)                                                \
    "\"format\":\"" fmt "\",\"format_version\":\"" ver "\",\"architecture\":\"" arch          \
    "\",\"task\":\"" task "\",\"input_shape\":\"" shape "\",\"n_outputs\":\"" outs "\","             \
    "\"class_names\":\"[]\""
#define W_D2 "\"layers.0.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}," \
             "\"layers.0.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[24,32]}"

static void model_cases(void)
{
    CHECK_OK(model_load(model_file("ok.st", META("nabla", "1", "dense 2", "classify", "[3]", "2"),
                                   W_D2, 32)));
    static const struct {
        const char *meta, *tensors;
        size_t data_n;
        const char *msg;
    } cases[] = {
        {META("nablax", "1", "dense 2", "classify", "[3]", "2"), W_D2, 32,
         "not a nabla model (metadata 'format' is 'nablax')"},
        {META("nabla", "2", "dense 2", "classify", "[3]", "2"), W_D2, 32,
         "model format version '2' is not supported"},
        {"\"format\":\"nabla\",\"format_version\":\"1\"", W_D2, 32, "metadata lacks architecture"},
        {META("nabla", "1", "dense 2", "cluster", "[3]", "2"), W_D2, 32,
         "metadata task 'cluster' is unknown"},
        {META("nabla", "1", "dense 2", "classify", "[3]", "0"), W_D2, 32,
         "metadata n_outputs '0' is not a positive count"},
        {META("nabla", "1", "dense 2", "classify", "[3]", "2x"), W_D2, 32, "n_outputs '2x'"},
        {META("nabla", "1", "dense 2", "classify", "[3]", "99999999999"), W_D2, 32,
         "n_outputs '99999999999'"},
        {META("nabla", "1", "dense 2", "classify", "[0]", "2"), W_D2, 32,
         "metadata input_shape '[0]' is not a list of 1 to 3 positive sizes"},
        {META("nabla", "1", "dense 2", "classify", "[1,1,1,3]", "2"), W_D2, 32, "input_shape"},
        {META("nabla", "1", "dense 2", "classify", "[1.5]", "2"), W_D2, 32, "input_shape '[1.5]'"},
        {META("nabla", "1", "dense 2", "classify", "[[3]]", "2"), W_D2, 32, "input_shape '[[3]]'"},
        {META("nabla", "1", "dense 2", "classify", "3", "2"), W_D2, 32, "input_shape '3'"},
        {META("nabla", "1", "dense 2", "classify", "[3", "2"), W_D2, 32,
         "metadata: input_shape: byte 2: unexpected end of input"},
        {META("nabla", "1", "dense two", "classify", "[3]", "2"), W_D2, 32,
         "metadata architecture: spec:1: 'dense' takes a whole number"},
        {META("nabla", "1", "dense 2", "classify", "[4]", "2"), W_D2, 32,
         "tensor 'layers.0.weight' has shape (2, 3), the model needs (2, 4)"},
        {META("nabla", "1", "dense 2", "classify", "[3]", "3"), W_D2, 32,
         "the last layer gives (2,) per sample, but the classify task needs 3 outputs"},
        {META("nabla", "1", "dense 2", "classify", "[3]", "2"),
         "\"layers.0.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}", 24,
         "tensor 'layers.0.bias' is missing"},
        {META("nabla", "1", "dense 2", "classify", "[3]", "2"),
         W_D2 ",\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[32,36]}", 36,
         "holds 3 tensors, the architecture has 2"},
        {META("nabla", "1", "conv 1 1x1; gap", "regress", "[1,8000,8000]", "1"),
         "\"layers.0.weight\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1],\"data_offsets\":[0,4]},"
         "\"layers.0.bias\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}", 8,
         "the architecture needs about 1.92e+08 values per sample, more than the 67108864"},
        {META("nabla", "1", "conv 1 8x8 nobias; gap", "regress", "[1,1100,1100]", "1"),
         "\"layers.0.weight\":{\"dtype\":\"F32\",\"shape\":[1,1,8,8],\"data_offsets\":[0,256]}",
         256, "the architecture needs about 7.89e+07 values per sample"}, /* im2col: 64 x 1093^2 */
        {META("nabla", "1", "dense 100000", "regress", "[20000]", "100000"),
         "\"layers.0.weight\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}", 4,
         "the architecture has 2000000000 weights, but the file holds only 1 numbers"},
        {META("nabla", "1", "dense 2", "classify", "[3]", "2") ",\"preprocessing\":\"{\\\"x\"",
         W_D2, 32, "metadata: preproc: byte 1: unterminated string"},
        {META("nabla", "1", "dense 2", "classify", "[3]", "2") ",\"preprocessing\":\"{}\"", W_D2,
         32, "metadata: preproc: version: expected an integer in 1..1"},
        {META("nabla", "1", "dense 2", "classify", "[3]", "2"),
         "\"layers.0.weight\":{\"dtype\":\"F32\\u0000\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
         "\"layers.0.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[24,32]}", 32,
         "tensor 'layers.0.weight': unsupported dtype 'F32'"},
        {META("nabla", "1", "dense 2", "classify", "[3]", "2"),
         "\"layers.0.weight\":{\"dtype\":\"F32\",\"shape\":[2,1e400],\"data_offsets\":[0,24]}", 24,
         "header: byte 198: number out of range"},
        {META("nabla", "1", "dense 2", "classify", "[3]", "2"),
         "\"a\":{\"dtype\":\"F32\",\"shape\":[9007199254740992,9007199254740992],"
         "\"data_offsets\":[0,0]}", 0, "tensor 'a': shape (9007199254740992, 9007199254740992) "
         "of F32 does not match the 0 bytes"},
        {META("nabla", "1", "dense 2", "classify", "[3]", "2"),
         "\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,18014398509481984]}", 0,
         "data_offsets is not [begin, end] of integers in 0..2^53"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t before = (size_t)check_failures_;
        const char *p = model_file("bad.st", cases[i].meta, cases[i].tensors, cases[i].data_n);
        EXPECT(L_ST, model_load(p), NB_ERR_FORMAT, cases[i].msg);
        CHECK(strstr(nb_errmsg(), p) == nb_errmsg());
        if ((size_t)check_failures_ != before) fprintf(stderr, "  (model case %zu)\n", i);
    }
    /* an architecture of 5000 layers */
    char *arch = repeat("\"architecture\":\"", "relu;", 5000, "dense 2\"");
    char *meta = malloc(strlen(arch) + 256);
    sprintf(meta, "\"format\":\"nabla\",\"format_version\":\"1\",%s,\"task\":\"classify\","
                  "\"input_shape\":\"[3]\",\"n_outputs\":\"2\",\"class_names\":\"[]\"", arch);
    char *header = malloc(strlen(meta) + 512);
    sprintf(header, "{\"__metadata__\":{%s}," W_D2 "}", meta);
    static const float zeros[8];
    EXPECT(L_ST, model_load(st_write("layers.st", header, zeros, 32)), NB_ERR_FORMAT,
           "metadata architecture: spec:1: more than 4096 layers");
    free(arch), free(meta), free(header);
}

/* Non-finite weights (issue 14, item 6): a NaN or infinity in a loaded model is refused with
 * NB_ERR_NUMERIC naming the tensor and element, by nb_model_load and by nb_model_load_weights
 * (train --init); eval would otherwise print `loss nan`, and training would save NaN again. */
static void nonfinite_cases(void)
{
    const char *header = "{\"__metadata__\":{" META("nabla", "1", "dense 2", "classify", "[3]", "2") "}," W_D2 "}";
    static const struct {
        int tensor_index;
        float value;
        const char *msg;
    } cases[] = {
        {4, NAN, "tensor 'layers.0.weight' holds NaN at element 4;"},
        {0, INFINITY, "tensor 'layers.0.weight' holds inf at element 0;"},
        {7, -INFINITY, "tensor 'layers.0.bias' holds -inf at element 1;"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        float w[8] = {0.5f, -0.25f, 1, 2, 3, 4, 0, 0};
        w[cases[i].tensor_index] = cases[i].value;
        const char *p = st_write("nan.st", header, w, sizeof w);
        EXPECT(L_ST, model_load(p), NB_ERR_NUMERIC, cases[i].msg);
        CHECK(strstr(nb_errmsg(), p) == nb_errmsg());
        nb_model *m;
        CHECK_OK(nb_model_parse("dense 2", NB_TASK_CLASSIFY, &m));
        CHECK_OK(nb_model_build(m, 1, (int64_t[]){3}, 2));
        nb_view before;
        nb_graph_value(nb_model_graph(m), nb_graph_find(nb_model_graph(m), "layers.0.weight"), &before);
        float keep = before.data[0];
        EXPECT(L_ST, nb_model_load_weights(m, p), NB_ERR_NUMERIC, cases[i].msg);
        CHECK(before.data[0] == keep);
        nb_model_free(m);
    }
    float w[8] = {0.5f, -0.25f, 1, 2, 3, 4, 0, 0};
    CHECK_OK(model_load(st_write("finite.st", header, w, sizeof w)));
}

/* Metadata that disagrees with the model (issue 14, item 8): the loader checks it as the
 * trainer would have made it. The preprocessing is a real one, learned from CSV text. */
static char *preproc_json_escaped(const char *csv)
{
    nb_preproc *pp;
    nb_dataset *ds;
    char *json = NULL;
    CHECK_OK(nb_preproc_create(&pp));
    CHECK_OK(nb_dataset_load_csv_text("t.csv", csv, strlen(csv), NULL, pp, &ds));
    CHECK_OK(nb_preproc_fit_scaling(pp, NB_SCALE_STANDARD, ds));
    CHECK_OK(nb_preproc_to_json(pp, &json));
    char *out = malloc(2 * strlen(json) + 1), *o = out;
    for (const char *c = json; *c; c++) {
        if (*c == '"' || *c == '\\') *o++ = '\\';
        *o++ = *c;
    }
    *o = '\0';
    nb_free(json);
    nb_dataset_free(ds);
    nb_preproc_free(pp);
    return out;
}

static void meta_cases(void)
{
    char *pre3 = preproc_json_escaped("a,b,c,label\n1,2,3,x\n4,5,6,y\n7,8,9,z\n1,5,9,x\n");
    char *pre4 = preproc_json_escaped("a,b,c,label\n1,2,3,w\n4,5,6,x\n7,8,9,y\n1,5,9,z\n");
    const char *w33 = "\"layers.0.weight\":{\"dtype\":\"F32\",\"shape\":[3,3],\"data_offsets\":[0,36]},"
                      "\"layers.0.bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[36,48]}";
    const char *common = "\"format\":\"nabla\",\"format_version\":\"1\",\"architecture\":\"dense 3\","
                         "\"input_shape\":\"[3]\",\"n_outputs\":\"3\"";
    static const char *const xyz = "[\\\"x\\\",\\\"y\\\",\\\"z\\\"]", *wxyz = "[\\\"w\\\",\\\"x\\\",\\\"y\\\",\\\"z\\\"]";
    const struct {
        const char *task, *classes, *pre, *msg;
    } cases[] = {
        {"classify", xyz, pre3, NULL}, /* consistent: loads */
        {"binary", "[]", NULL, "metadata task 'binary' with 3 outputs (a binary model has one logit)"},
        {"classify", wxyz, pre4, "metadata preprocessing lists 4 classes, the model has 3 outputs"},
        {"classify", xyz, NULL, "metadata lacks preprocessing (its class_names lists 3 classes"},
        {"classify", NULL, pre3, "metadata lacks class_names"},
        {"classify", "[]", pre3, "metadata class_names lists 0 names, the preprocessing 3 classes"},
        {"classify", "[1,2,3]", pre3, "metadata class_names '[1,2,3]' is not a list of names"},
        {"regress", "[]", pre3, "metadata preprocessing is for a classify task, the model's task is regress"},
    };
    char *header = malloc(strlen(pre4) + 4096);
    static const float zeros[12];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t before = (size_t)check_failures_;
        int n = sprintf(header, "{\"__metadata__\":{%s,\"task\":\"%s\"", common, cases[i].task);
        if (cases[i].classes) n += sprintf(header + n, ",\"class_names\":\"%s\"", cases[i].classes);
        if (cases[i].pre) n += sprintf(header + n, ",\"preprocessing\":\"%s\"", cases[i].pre);
        sprintf(header + n, "},%s}", w33);
        const char *p = st_write("meta.st", header, zeros, 48);
        if (cases[i].msg) {
            EXPECT(L_ST, model_load(p), NB_ERR_FORMAT, cases[i].msg);
            CHECK(strstr(nb_errmsg(), p) == nb_errmsg());
        } else {
            CHECK_OK(model_load(p));
        }
        if ((size_t)check_failures_ != before) fprintf(stderr, "  (meta case %zu)\n", i);
    }
    free(header), free(pre3), free(pre4);
}

static void st_cases(void)
{
    /* a real model file (CNN with batch norm and preprocessing): every truncation and every
     * bit flip loads or fails cleanly */
    nb_model *m;
    CHECK_OK(nb_model_parse("conv 2 3x3 pad 1; relu; batchnorm; gap; dense 2", NB_TASK_CLASSIFY, &m));
    CHECK_OK(nb_model_build(m, 3, (int64_t[]){1, 4, 4}, 2));
    const char *good = fx_path("good.st");
    CHECK_OK(nb_model_save(m, good, NULL));
    nb_model_free(m);
    FILE *f = fopen(good, "rb");
    static unsigned char buf[8192], flip[8192];
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f) fclose(f);
    CHECK(n > 500 && n < sizeof buf);
    int bad = 0;
    for (size_t cut = 0; cut < n; cut++) {
        const char *p = fx_write("cut.st", buf, cut);
        int rc = model_load(p);
        if (rc != NB_ERR_FORMAT || strstr(nb_errmsg(), p) != nb_errmsg()) bad++;
    }
    n_cases[L_ST]++;
    CHECK(bad == 0);
    int ok = 0;
    bad = 0;
    for (size_t i = 0; i < n; i++)
        for (int b = 0; b < 8; b += 3) { /* bits 0, 3, 6 of every byte */
            memcpy(flip, buf, n);
            flip[i] ^= (unsigned char)(1 << b);
            const char *p = fx_write("flip.st", flip, n);
            int rc = model_load(p);
            ok += rc == NB_OK;
            if (rc != NB_OK && ((rc != NB_ERR_FORMAT && rc != NB_ERR_NUMERIC) || strstr(nb_errmsg(), p) != nb_errmsg())) {
                if (!bad++) fprintf(stderr, "flip %zu.%d: %d %s\n", i, b, rc, nb_errmsg());
            }
            CHECK(st_load(p) == NB_OK || nb_errmsg()[0]);
        }
    n_cases[L_ST]++;
    CHECK(bad == 0 && ok > 0);
    /* a header exactly at the limit loads; its tree is one string */
    size_t cap = NB_ST_MAX_HEADER;
    char *big = repeat("{\"__metadata__\":{\"k\":\"", "x", cap - 25, "\"}}");
    CHECK(strlen(big) == cap);
    CHECK_OK(st_load(st_write("cap.st", big, NULL, 0)));
    free(big);
    /* a hostile header of a megabyte of tiny values: the JSON tree stays within ~40 bytes per
     * header byte (so NB_ST_MAX_HEADER bounds it near 320 MiB), and is all freed */
    size_t hn = (size_t)1 << 20;
    big = repeat("{\"a\":[", "0,", hn / 2 - 4, "0]}");
    const char *p = st_write("tree.st", big, NULL, 0);
    track_begin();
    int rc = st_load(p);
    track_end();
    EXPECT(L_ST, rc, NB_ERR_FORMAT, "tree.st: tensor 'a': entry is not an object");
    CHECK(mem_peak > 20 * hn && mem_peak < 48 * hn && mem_live == 0);
    free(big);
    /* writers refuse what readers would refuse */
    big = repeat("", "y", cap, "");
    const char *k[1] = {"k"}, *v[1] = {big};
    EXPECT(L_ST, nb_st_save(fx_path("w.st"), NULL, 0, k, v, 1), NB_ERR_ARG,
           "more than the 8388608 a reader accepts");
    free(big);
    /* a zero-sized tensor with a huge dimension is valid data, but not a model's weight */
    p = st_write("z.st", "{\"a\":{\"dtype\":\"F16\",\"shape\":[0,9007199254740992],"
                         "\"data_offsets\":[0,0]}}", NULL, 0);
    nb_st *st;
    CHECK_OK(nb_st_load(p, &st));
    nb_view view;
    CHECK(st && nb_st_tensor(st, 0, NULL, &view) == NB_OK && view.n == 0 && view.rank == 2);
    nb_st_free(st);
    n_cases[L_ST]++;
}

int main(void)
{
    fx_setup();
    spec_cases();
    model_cases();
    nonfinite_cases();
    meta_cases();
    st_cases();
    fx_cleanup();
    hostile_report((const int[]){L_SPEC, L_ST}, 2);
    return check_exit("test_hostile_model");
}
