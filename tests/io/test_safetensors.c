/* SPDX-License-Identifier: MIT */
/*
 * test_safetensors.c - loading safetensors files: bit-exact round trips with metadata, a file
 * from another writer (F64/F16/BF16, unpadded header), and a matrix of malformed files, every
 * truncation of a valid file included, each rejected with its status and message.
 * Saving's failure modes are in test_safetensors_save.c.
 * `test_safetensors --write-linear FILE` writes the sample model tests/torch_load_check.py uses.
 */
#define _POSIX_C_SOURCE 200809L
#include "st_fixture.h"

static void check_sample(const nb_st *st)
{
    CHECK(nb_st_count(st) == 5);
    for (int i = 0; i < 5 && i < nb_st_count(st); i++) {
        const char *name = NULL;
        nb_view v;
        CHECK_OK(nb_st_tensor(st, i, &name, &v));
        const nb_view *w = &g_entries[i].view;
        CHECK(name && strcmp(name, g_entries[i].name) == 0);
        CHECK(v.rank == w->rank && v.n == w->n && v.data != NULL);
        for (int d = 0; d < w->rank; d++) CHECK(v.shape[d] == w->shape[d]);
        int same = 1;
        for (size_t k = 0; k < w->n && k < v.n; k++) same &= bits(v.data[k]) == bits(w->data[k]);
        CHECK(same);
    }
    nb_view v;
    CHECK_OK(nb_st_find(st, "mat", &v));
    CHECK(v.rank == 2 && v.shape[0] == 2 && v.shape[1] == 3 && v.data[5] == g_mat[5]);
    CHECK_ERR(nb_st_find(st, "nope", &v), NB_ERR_ARG, "no tensor named 'nope'");
    CHECK_ERR(nb_st_tensor(st, 5, NULL, &v), NB_ERR_ARG, "tensor index 5 is not in 0..4");
    CHECK_ERR(nb_st_tensor(st, -1, NULL, NULL), NB_ERR_ARG, "tensor index -1");
    CHECK(nb_st_meta_count(st) == 3);
    for (int i = 0; i < 3; i++) {
        const char *k = NULL, *val = NULL;
        CHECK_OK(nb_st_meta_at(st, i, &k, &val));
        CHECK(k && val && strcmp(k, g_keys[i]) == 0 && strcmp(val, g_vals[i]) == 0);
        CHECK(nb_st_meta(st, g_keys[i]) && strcmp(nb_st_meta(st, g_keys[i]), g_vals[i]) == 0);
    }
    CHECK(nb_st_meta(st, "missing") == NULL);
    CHECK_ERR(nb_st_meta_at(st, 3, NULL, NULL), NB_ERR_ARG, "metadata index 3");
}

static void test_round_trip(void)
{
    make_sample();
    const char *path = tmp_path("model.safetensors");
    CHECK_OK(nb_st_save(path, g_entries, 5, g_keys, g_vals, 3));
    nb_st *st = NULL;
    CHECK_OK(nb_st_load(path, &st));
    if (st) check_sample(st);
    nb_st_free(st);
    nb_st_free(NULL);

    /* the exact bytes of a small file: header padded to a multiple of 8, data right after */
    float w[2] = {1.0f, -2.0f};
    nb_st_entry e = {"w", {1, {2}, 2, w}};
    CHECK_OK(nb_st_save(path, &e, 1, NULL, NULL, 0));
    const char *hdr = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}   ";
    const unsigned char expect_data[8] = {0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0};
    size_t n = 0;
    unsigned char *buf = read_bytes(path, &n);
    CHECK(buf && n == 8 + 56 + 8);
    if (buf && n == 72) {
        CHECK(buf[0] == 56 && buf[1] == 0 && buf[7] == 0);
        CHECK(memcmp(buf + 8, hdr, 56) == 0);
        CHECK(memcmp(buf + 64, expect_data, 8) == 0);
    }
    free(buf);

    /* no tensors at all */
    CHECK_OK(nb_st_save(path, NULL, 0, NULL, NULL, 0));
    CHECK_OK(nb_st_load(path, &st));
    CHECK(st && nb_st_count(st) == 0 && nb_st_meta_count(st) == 0);
    nb_st_free(st);
    buf = read_bytes(path, &n);
    CHECK(buf && n == 16 && memcmp(buf + 8, "{}      ", 8) == 0);
    free(buf);
    CHECK(!temp_files_left());
}

/* A file as another writer would make it: F64, F16, BF16 and F32, an unpadded header whose
 * key order differs from the data order, and metadata. */
static void test_foreign(void)
{
    unsigned char data[64];
    size_t at = 0;
    const double f64[4] = {1.5, -2.25, 1e300, 1e-50}; /* the last two overflow / underflow */
    for (int i = 0; i < 4; i++) {
        uint64_t u;
        memcpy(&u, &f64[i], 8);
        put_u64(data + at, u);
        at += 8;
    }
    const uint16_t bf16[3] = {0x3f80, 0xc040, 0x7f80};          /* 1, -3, inf */
    const uint16_t f16[5] = {0x3c00, 0x0001, 0xfc00, 0x7bff, 0xc000}; /* 1, 2^-24, -inf, 65504, -2 */
    for (int i = 0; i < 3; i++, at += 2) {
        data[at] = (unsigned char)bf16[i];
        data[at + 1] = (unsigned char)(bf16[i] >> 8);
    }
    for (int i = 0; i < 5; i++, at += 2) {
        data[at] = (unsigned char)f16[i];
        data[at + 1] = (unsigned char)(f16[i] >> 8);
    }
    const unsigned char f32[4] = {0x00, 0x00, 0x20, 0x41}; /* 10.0 */
    memcpy(data + at, f32, 4);
    at += 4;
    CHECK(at == 32 + 6 + 10 + 4);
    const char *hdr = "{\"h\":{\"dtype\":\"F16\",\"shape\":[5],\"data_offsets\":[38,48]},"
                      "\"__metadata__\":{\"format\":\"pt\"},"
                      " \"d\" : {\"shape\":[2,2],\"dtype\":\"F64\",\"data_offsets\":[0,32]},"
                      "\"f\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[48,52]},"
                      "\"b\":{\"dtype\":\"BF16\",\"shape\":[3,1],\"data_offsets\":[32,38]}}";
    const char *path = tmp_path("foreign.safetensors");
    write_st(path, hdr, data, at);
    nb_st *st = NULL;
    CHECK_OK(nb_st_load(path, &st));
    if (!st) return;
    CHECK(nb_st_count(st) == 4);
    const char *name;
    nb_view v;
    CHECK_OK(nb_st_tensor(st, 0, &name, &v)); /* header order */
    CHECK(strcmp(name, "h") == 0 && v.rank == 1 && v.n == 5);
    CHECK(v.data[0] == 1.0f && v.data[1] == 0x1p-24f && isinf(v.data[2]) && v.data[2] < 0);
    CHECK(v.data[3] == 65504.0f && v.data[4] == -2.0f);
    CHECK_OK(nb_st_find(st, "d", &v));
    CHECK(v.rank == 2 && v.shape[0] == 2 && v.shape[1] == 2 && v.n == 4);
    CHECK(v.data[0] == 1.5f && v.data[1] == -2.25f && isinf(v.data[2]) && v.data[2] > 0);
    CHECK(v.data[3] == 0.0f);
    CHECK_OK(nb_st_find(st, "b", &v));
    CHECK(v.rank == 2 && v.shape[0] == 3 && v.shape[1] == 1);
    CHECK(v.data[0] == 1.0f && v.data[1] == -3.0f && isinf(v.data[2]));
    CHECK_OK(nb_st_find(st, "f", &v));
    CHECK(v.rank == 0 && v.n == 1 && v.data[0] == 10.0f);
    CHECK(nb_st_meta(st, "format") && strcmp(nb_st_meta(st, "format"), "pt") == 0);
    nb_st_free(st);
}

static void expect_bad(const char *path, int status, const char *msg)
{
    nb_st *st = (nb_st *)&st;
    CHECK_ERR(nb_st_load(path, &st), status, msg);
    CHECK(st == NULL);
    CHECK(strncmp(nb_errmsg(), path, strlen(path)) == 0);
}


static void test_malformed(void)
{
    static const struct {
        const char *header;
        size_t data_len;
        const char *msg;
    } cases[] = {
        {"{\"a\":" T1("[2]", "[0,8]"), 8, "header: byte 53: unexpected end of input"},
        {"{\"a\":" T1("[2]", "[0,8]") ",}", 8, "header: byte 54: expected a string key"},
        {"{\"a\":" T1("[2]", "[0,8]") "} x", 8, "unexpected content after the document"},
        {"{\"a\":" T1("[2]", "[0,8]") "}\n// c", 8, "unexpected content"},
        {"[1, 2]", 0, "header does not start with '{'"},
        {" {}", 0, "header does not start with '{'"},
        {"{\"a\":1}", 0, "tensor 'a': entry is not an object"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "tensor 'a': missing field 'data_offsets'"},
        {"{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "missing field 'dtype'"},
        {"{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8, "missing field 'shape'"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}", 8,
         "tensor 'a': unknown field 'x'"},
        {"{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
         "duplicate field 'dtype'"},
        {"{\"a\":{\"dtype\":\"C64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8,
         "tensor 'a': unsupported dtype 'C64'"},
        {"{\"a\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
         "tensor 'a': shape (2,) of I64 does not match the 8 bytes"},
        {"{\"a\":{\"dtype\":\"f32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "unsupported dtype 'f32'"},
        {"{\"a\":{\"dtype\":32,\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "dtype is not a string"},
        {"{\"a\":" T1("[-2]", "[0,8]") "}", 8, "tensor 'a': shape[0] is not an integer in 0..2^53"},
        {"{\"a\":" T1("[2.5]", "[0,8]") "}", 8, "shape[0] is not an integer"},
        {"{\"a\":" T1("[2,1e16]", "[0,8]") "}", 8, "shape[1] is not an integer"},
        {"{\"a\":" T1("[\"2\"]", "[0,8]") "}", 8, "shape[0] is not an integer"},
        {"{\"a\":" T1("[1,1,1,1,2]", "[0,8]") "}", 8, "tensor 'a': rank 5 is more than 4"},
        {"{\"a\":" T1("2", "[0,8]") "}", 8, "shape is not an array"},
        {"{\"a\":" T1("[3]", "[0,8]") "}", 8, "shape (3,) of F32 does not match the 8 bytes"},
        {"{\"a\":" T1("[4194304,4194304,4194304,4194304]", "[0,8]") "}", 8, "does not match"},
        {"{\"a\":" T1("[3]", "[0,12]") "}", 8, "data_offsets [0, 12] go past the 8 data bytes"},
        {"{\"a\":" T1("[0]", "[8,0]") "}", 8, "data_offsets [8, 0] end before they begin"},
        {"{\"a\":" T1("[2]", "[0,8,8]") "}", 8, "data_offsets is not [begin, end]"},
        {"{\"a\":" T1("[2]", "[-8,0]") "}", 8, "data_offsets is not [begin, end]"},
        {"{\"a\":" T1("[2]", "[\"0\",\"8\"]") "}", 8, "data_offsets is not"},
        {"{\"a\":" T1("[2]", "[0,8]") ",\"b\":" T1("[2]", "[4,12]") "}", 12,
         "tensor 'b' data_offsets [4, 12] overlap tensor 'a'"},
        {"{\"a\":" T1("[2]", "[0,8]") ",\"b\":" T1("[2]", "[0,8]") "}", 8, "overlap"},
        {"{\"a\":" T1("[1]", "[0,4]") ",\"b\":" T1("[1]", "[8,12]") "}", 12,
         "data bytes [4, 8) belong to no tensor (a hole before tensor 'b')"},
        {"{\"a\":" T1("[1]", "[4,8]") "}", 8, "data bytes [0, 4) belong to no tensor"},
        {"{\"a\":" T1("[1]", "[0,4]") "}", 8, "data bytes [4, 8) at the end belong to no tensor"},
        {"{}", 4, "data bytes [0, 4) at the end"},
        {"{\"a\":" T1("[1]", "[0,4]") ",\"a\":" T1("[1]", "[4,8]") "}", 8,
         "duplicate tensor name 'a'"},
        {"{\"\":" T1("[1]", "[0,4]") "}", 4, "a tensor has an empty name"},
        {"{\"__metadata__\":{\"k\":1}}", 0, "__metadata__ 'k': value is not a string"},
        {"{\"__metadata__\":{\"k\":null}}", 0, "value is not a string"},
        {"{\"__metadata__\":[\"k\"]}", 0, "__metadata__ is not an object"},
        {"{\"__metadata__\":{},\"__metadata__\":{}}", 0, "more than one __metadata__"},
        {"{\"__metadata__\":{\"k\":\"a\",\"k\":\"b\"}}", 0, "__metadata__: duplicate key 'k'"},
        {"{\"__metadata__\":{\"k\":\"a\\u0000b\"}}", 0, "value contains \\u0000"},
        {"{\"__metadata__\":{\"k\":[[[[[[[[1]]]]]]]]}}", 0, "nesting deeper than 8 levels"},
        {"{\"\xff\":" T1("[1]", "[0,4]") "}", 4, "header: byte 2: invalid UTF-8"},
        {"{\"a\":" T1("[1]", "[0,4]") ",\"b\":" T1("[1]", "[4,8]") ",\"c\":NaN}", 8,
         "expected a value"},
    };
    const char *path = tmp_path("bad.safetensors");
    int n_cases = (int)(sizeof cases / sizeof cases[0]);
    for (int i = 0; i < n_cases; i++) {
        write_st(path, cases[i].header, NULL, cases[i].data_len);
        size_t before = (size_t)check_failures_;
        expect_bad(path, NB_ERR_FORMAT, cases[i].msg);
        if ((size_t)check_failures_ != before) fprintf(stderr, "  (case %d)\n", i);
    }

    /* header length fields that do not fit the file */
    unsigned char small[16] = {0};
    CHECK(write_bytes(path, small, 0) == 0);
    expect_bad(path, NB_ERR_FORMAT, "file is 0 bytes, too short for the 8-byte header length");
    CHECK(write_bytes(path, small, 7) == 0);
    expect_bad(path, NB_ERR_FORMAT, "file is 7 bytes");
    put_u64(small, (uint64_t)1 << 63);
    memcpy(small + 8, "{}      ", 8);
    CHECK(write_bytes(path, small, 16) == 0);
    expect_bad(path, NB_ERR_FORMAT, "header length 9223372036854775808 is more than the 8 bytes");
    put_u64(small, UINT64_MAX);
    CHECK(write_bytes(path, small, 16) == 0);
    expect_bad(path, NB_ERR_FORMAT, "header length 18446744073709551615");
    /* text where a model belongs: an impossible length and no '{' after it */
    CHECK(write_bytes(path, (const unsigned char *)"a,b,label\n1,2,0\n", 16) == 0);
    expect_bad(path, NB_ERR_FORMAT, "bad.safetensors: not a safetensors file (its first 8 bytes are not a "
                                    "header length; is it a CSV or a spec?)");
    put_u64(small, 9);
    CHECK(write_bytes(path, small, 16) == 0);
    expect_bad(path, NB_ERR_FORMAT, "header length 9 is more than the 8 bytes after it");
    put_u64(small, 0);
    CHECK(write_bytes(path, small, 16) == 0);
    expect_bad(path, NB_ERR_FORMAT, "header does not start with '{'");
    /* over the NB_ST_MAX_HEADER (8 MiB) limit: a sparse file big enough that the length fits */
    put_u64(small, NB_ST_MAX_HEADER + 1);
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(small, 1, 16, f) == 16 && ftruncate(fileno(f), 8 + NB_ST_MAX_HEADER + 1) == 0);
    if (f) fclose(f);
    expect_bad(path, NB_ERR_FORMAT, "header length 8388609 is more than the 8388608 allowed");
    expect_bad(tmp_path("no-such-file"), NB_ERR_IO, "cannot open");
    expect_bad(g_dir, NB_ERR_IO, "not a regular file");

    /* every truncation of a valid file fails cleanly */
    make_sample();
    const char *good = tmp_path("good.safetensors");
    CHECK_OK(nb_st_save(good, g_entries, 5, g_keys, g_vals, 3));
    size_t n = 0;
    unsigned char *buf = read_bytes(good, &n);
    CHECK(buf && n > 200);
    int bad = 0;
    for (size_t len = 0; buf && len < n; len++) {
        nb_st *st = NULL;
        CHECK(write_bytes(path, buf, len) == 0);
        int rc = nb_st_load(path, &st);
        if (rc != NB_ERR_FORMAT || st || strncmp(nb_errmsg(), path, strlen(path)) != 0) {
            if (!bad++) fprintf(stderr, "truncation at %zu: %d %s\n", len, rc, nb_errmsg());
        }
        nb_st_free(st);
    }
    CHECK(bad == 0);
    free(buf);
}

/* The sample Linear(4 -> 3) model of tests/torch_load_check.py. */
static int write_linear(const char *path)
{
    float w[12], b[3] = {0.5f, -0.5f, 1.5f};
    for (int i = 0; i < 12; i++) w[i] = 0.25f * (float)i - 1.0f;
    nb_st_entry e[2] = {{"fc.weight", {2, {3, 4}, 12, w}}, {"fc.bias", {1, {3}, 3, b}}};
    const char *k[1] = {"format"}, *v[1] = {"pt"};
    int rc = nb_st_save(path, e, 2, k, v, 1);
    if (rc) fprintf(stderr, "%s\n", nb_errmsg());
    return rc ? 1 : 0;
}

/* little-endian bytes of v, nbytes wide (two's complement for negative values) */
static void put_le(unsigned char *p, uint64_t v, int nbytes)
{
    for (int i = 0; i < nbytes; i++, v >>= 8) p[i] = (unsigned char)v;
}

/* The integer dtypes PyTorch writes (num_batches_tracked is I64) load as exact floats, and a
 * value float32 cannot hold exactly is refused with the tensor's name and the value. */
static void test_integers(void)
{
    const char *path = tmp_path("ints.safetensors");
    unsigned char d[64];
    int64_t i64[4] = {0, -1, 16777216, INT64_MIN};
    for (int i = 0; i < 4; i++) put_le(d + 8 * i, (uint64_t)i64[i], 8);
    put_le(d + 32, (uint64_t)-7, 4);         /* I32 -7 */
    put_le(d + 36, 0x7fffff80u, 4); /* I32 2147483520 = (2^24 - 1) * 2^7 */
    put_le(d + 40, 0xfe, 1), put_le(d + 41, 0x80, 1); /* I8 -2, -128 */
    put_le(d + 42, 0xfe, 1), put_le(d + 43, 0x80, 1); /* U8 254, 128 */
    put_le(d + 44, 0x8000, 2), put_le(d + 46, 300, 2); /* I16 -32768, 300 */
    put_le(d + 48, UINT64_MAX << 40, 8);       /* U64 2^64 - 2^40: 24 significant bits */
    write_st(path,
             "{\"a\":{\"dtype\":\"I64\",\"shape\":[4],\"data_offsets\":[0,32]},"
             "\"b\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[32,40]},"
             "\"c\":{\"dtype\":\"I8\",\"shape\":[2],\"data_offsets\":[40,42]},"
             "\"d\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[42,44]},"
             "\"e\":{\"dtype\":\"I16\",\"shape\":[2],\"data_offsets\":[44,48]},"
             "\"f\":{\"dtype\":\"U64\",\"shape\":[],\"data_offsets\":[48,56]}}",
             d, 56);
    nb_st *st;
    CHECK_OK(nb_st_load(path, &st));
    if (st) {
        nb_view v;
        const float want[][4] = {{0, -1, 16777216.0f, -0x1p63f}, {-7, 2147483520.0f},
                                 {-2, -128}, {254, 128}, {-32768, 300}, {0x1p64f - 0x1p40f}};
        const char *names[] = {"a", "b", "c", "d", "e", "f"};
        const size_t ns[] = {4, 2, 2, 2, 2, 1};
        for (int t = 0; t < 6; t++) {
            CHECK_OK(nb_st_find(st, names[t], &v));
            CHECK(v.n == ns[t]);
            for (size_t k = 0; k < ns[t] && k < v.n; k++) CHECK(v.data[k] == want[t][k]);
        }
        nb_st_free(st);
    }
    /* 2^24 + 1 rounds in float32: refused, not silently changed */
    put_le(d, 0, 8), put_le(d + 8, 16777217, 8);
    write_st(path, "{\"n\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]}}", d, 16);
    CHECK_ERR(nb_st_load(path, &st), NB_ERR_FORMAT,
              "tensor 'n': I64 value 16777217 at index 1 is not exactly representable in float32");
    put_le(d, (uint64_t)INT64_MIN + 1, 8);
    write_st(path, "{\"n\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]}}", d, 8);
    CHECK_ERR(nb_st_load(path, &st), NB_ERR_FORMAT, "I64 value -9223372036854775807 at index 0");
    put_le(d, UINT64_MAX, 8);
    write_st(path, "{\"n\":{\"dtype\":\"U64\",\"shape\":[],\"data_offsets\":[0,8]}}", d, 8);
    CHECK_ERR(nb_st_load(path, &st), NB_ERR_FORMAT, "U64 value 18446744073709551615 at index 0");
}

/* A PyTorch state_dict of "dense 2; batchnorm" as torch.save -> safetensors writes it:
 * num_batches_tracked is an I64 scalar. It loads into a nabla model end to end. */
static void test_torch_batchnorm(void)
{
    const char *path = tmp_path("torch_bn.safetensors");
    unsigned char d[96];
    const float f[] = {0.5f, -1, 2, 0.25f, 1, -2, /* layers.0.weight (2, 3) */
                       0.1f, 0.2f,                 /* layers.0.bias */
                       1.5f, 0.5f, 0, 1,           /* layers.1.weight, bias */
                       3, -3, 4, 9};               /* running_mean, running_var */
    memcpy(d, f, sizeof f); /* little-endian hosts only, as the rest of the fixtures */
    put_le(d + 64, 1234, 8);
    write_st(path,
             "{\"layers.0.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
             "\"layers.0.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[24,32]},"
             "\"layers.1.weight\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[32,40]},"
             "\"layers.1.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[40,48]},"
             "\"layers.1.running_mean\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[48,56]},"
             "\"layers.1.running_var\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[56,64]},"
             "\"layers.1.num_batches_tracked\":{\"dtype\":\"I64\",\"shape\":[],"
             "\"data_offsets\":[64,72]}}",
             d, 72);
    nb_model *m;
    CHECK_OK(nb_model_parse("dense 2; batchnorm", NB_TASK_REGRESS, &m));
    if (!m) return;
    CHECK_OK(nb_model_build(m, 1, (int64_t[]){3}, 2));
    CHECK_OK(nb_model_load_weights(m, path));
    int found = 0;
    for (int i = 0; i < nb_model_n_param_tensors(m); i++) {
        nb_param_info pi;
        CHECK_OK(nb_model_param_info(m, i, &pi));
        if (strcmp(pi.name, "layers.1.num_batches_tracked") == 0) {
            found++;
            CHECK(pi.rank == 0 && pi.data[0] == 1234.0f);
        }
        if (strcmp(pi.name, "layers.1.running_var") == 0) {
            found++;
            CHECK(pi.data[0] == 4.0f && pi.data[1] == 9.0f);
        }
    }
    CHECK(found == 2);
    /* evaluation mode uses the loaded statistics: x = (1, 0, 0) -> dense (0.6, 0.45) ->
     * 1.5 * (0.6 - 3) / sqrt(4 + 1e-5), 0.5 * (0.45 + 3) / sqrt(9 + 1e-5) + 1 */
    float out[2];
    CHECK_OK(nb_model_predict(m, (const float[]){1, 0, 0}, 1, out));
    CHECK(fabsf(out[0] - 1.5f * (0.6f - 3) / sqrtf(4 + 1e-5f)) < 1e-5f);
    CHECK(fabsf(out[1] - (0.5f * (0.45f + 3) / sqrtf(9 + 1e-5f) + 1)) < 1e-5f);
    nb_model_free(m);
}

/* the library's count of key comparisons made by this thread's duplicate checks */
extern _Thread_local size_t nb__st_key_compares;

/* A header of n metadata keys (k000000..), with key dup repeated at the end when dup >= 0. */
static char *many_keys_header(int n, int dup)
{
    size_t cap = (size_t)n * 16 + 64;
    char *h = malloc(cap), *p = h;
    if (!h) return NULL;
    p += sprintf(p, "{\"__metadata__\":{");
    for (int i = 0; i < n; i++) p += sprintf(p, "%s\"k%06d\":\"\"", i ? "," : "", i);
    if (dup >= 0) p += sprintf(p, ",\"k%06d\":\"x\"", dup);
    sprintf(p, "}}");
    return h;
}

/* Loading is n log n in the header's keys: a pairwise duplicate check made a 1.4 MB header
 * take 13-24 s. Counts comparisons rather than time (bench/load_bench.c measures time). */
static void test_many_keys(void)
{
    const int n = 100000;
    char *h = many_keys_header(n, -1);
    CHECK(h != NULL);
    if (!h) return;
    write_st(tmp_path("keys.safetensors"), h, "", 0);
    free(h);
    nb_st *st = NULL;
    nb__st_key_compares = 0;
    CHECK_OK(nb_st_load(tmp_path("keys.safetensors"), &st));
    size_t cmps = nb__st_key_compares;
    /* qsort makes ~n log2 n = 1.7 M; pairwise would make n^2 / 2 = 5e9 */
    CHECK(cmps > 0 && cmps < (size_t)n * 17 * 4);
    if (cmps >= (size_t)n * 17 * 4) fprintf(stderr, "%zu key comparisons for %d keys\n", cmps, n);
    CHECK(st && nb_st_meta(st, "k099999") && nb_st_meta(st, "k000000") && !nb_st_meta(st, "k100000"));
    nb_st_free(st);
    /* a duplicate among them is still found, and named */
    h = many_keys_header(n, 54321);
    write_st(tmp_path("keys.safetensors"), h, "", 0);
    free(h);
    st = NULL;
    expect_bad(tmp_path("keys.safetensors"), NB_ERR_FORMAT, "__metadata__: duplicate key 'k054321'");
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write-linear") == 0) return write_linear(argv[2]);
    if (fixture_init()) return 1;
    test_round_trip();
    test_foreign();
    test_malformed();
    test_integers();
    test_torch_batchnorm();
    test_many_keys();
    cleanup();
    return check_exit("test_safetensors");
}
