/* SPDX-License-Identifier: MIT */
/*
 * test_safetensors_save.c - saving safetensors files: argument checks, failed saves (missing
 * directory, rename onto a directory, a full disk) leaving the previous file byte-identical
 * with no temp file, allocation failure at every step of load and save with leak counting,
 * and the independent numpy reader tests/safetensors_check.py on a file nabla wrote.
 */
#define _POSIX_C_SOURCE 200809L
#include "st_fixture.h"
#include "fault_alloc.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

static void test_save_args(void)
{
    float d[6] = {0};
    nb_st_entry e[2] = {{"a", {2, {2, 3}, 6, d}}, {"b", {1, {6}, 6, d}}};
    const char *path = tmp_path("args.safetensors");
    const char *k2[2] = {"k", "k"}, *v2[2] = {"1", "2"}, *bad_utf8[1] = {"\xc3("};
    CHECK_ERR(nb_st_save(path, e, -1, NULL, NULL, 0), NB_ERR_ARG, "bad tensor list");
    CHECK_ERR(nb_st_save(path, NULL, 1, NULL, NULL, 0), NB_ERR_ARG, "tensors is NULL");
    CHECK_ERR(nb_st_save(path, e, 2, NULL, NULL, 1), NB_ERR_ARG, "meta_keys is NULL");
    CHECK_ERR(nb_st_save(path, e, 2, k2, v2, 2), NB_ERR_ARG, "duplicate metadata key 'k'");
    CHECK_ERR(nb_st_save(path, e, 2, bad_utf8, v2, 1), NB_ERR_ARG, "not valid UTF-8");
    e[1].name = "a";
    CHECK_ERR(nb_st_save(path, e, 2, NULL, NULL, 0), NB_ERR_ARG, "duplicate tensor name 'a'");
    e[1].name = "__metadata__";
    CHECK_ERR(nb_st_save(path, e, 2, NULL, NULL, 0), NB_ERR_ARG, "__metadata__ is reserved");
    e[1].name = "";
    CHECK_ERR(nb_st_save(path, e, 2, NULL, NULL, 0), NB_ERR_ARG, "tensor 1 has no name");
    e[1].name = NULL;
    CHECK_ERR(nb_st_save(path, e, 2, NULL, NULL, 0), NB_ERR_ARG, "tensor 1 has no name");
    e[1].name = "\xed\xa0\x80"; /* an encoded surrogate */
    CHECK_ERR(nb_st_save(path, e, 2, NULL, NULL, 0), NB_ERR_ARG, "name is not valid UTF-8");
    e[1].name = "b";
    e[1].view.n = 5;
    CHECK_ERR(nb_st_save(path, e, 2, NULL, NULL, 0), NB_ERR_ARG,
              "tensor 'b': shape (6,) does not hold n = 5 elements");
    e[1].view.n = 6;
    e[1].view.rank = 5;
    CHECK_ERR(nb_st_save(path, e, 2, NULL, NULL, 0), NB_ERR_ARG, "rank 5 is not in 0..4");
    e[1].view.rank = 1;
    e[1].view.shape[0] = -6;
    CHECK_ERR(nb_st_save(path, e, 2, NULL, NULL, 0), NB_ERR_ARG, "shape (-6,) does not hold");
    e[1].view.shape[0] = 6;
    e[1].view.data = NULL;
    CHECK_ERR(nb_st_save(path, e, 2, NULL, NULL, 0), NB_ERR_ARG, "tensor 'b': data is NULL");
    CHECK(access(path, F_OK) != 0); /* nothing was written */
    CHECK(strncmp(nb_errmsg(), path, strlen(path)) == 0);
}

/* Failed saves leave the previous file byte-identical and no temp file behind. */
static void test_save_failures(void)
{
    make_sample();
    const char *path = tmp_path("keep.safetensors");
    float w[3] = {1, 2, 3};
    nb_st_entry e = {"w", {1, {3}, 3, w}};
    CHECK_OK(nb_st_save(path, &e, 1, NULL, NULL, 0));
    size_t n0 = 0, n1 = 0;
    unsigned char *before = read_bytes(path, &n0);

    CHECK_ERR(nb_st_save(tmp_path("missing-dir/x.safetensors"), &e, 1, NULL, NULL, 0), NB_ERR_IO,
              "missing-dir/x.safetensors: cannot create");
    /* the target is a directory: refused before anything is written */
    CHECK(mkdir(tmp_path("adir"), 0700) == 0);
    CHECK_ERR(nb_st_save(tmp_path("adir"), &e, 1, NULL, NULL, 0), NB_ERR_IO, "is a directory, not a regular file");
    CHECK(rmdir(tmp_path("adir")) == 0);
    /* disk full: a file size limit makes the write fail part-way (EFBIG instead of ENOSPC) */
    struct rlimit old, lim;
    CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
    lim = old;
    lim.rlim_cur = 100;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
    int rc = nb_st_save(path, g_entries, 5, g_keys, g_vals, 3);
    const char *msg = nb_errmsg();
    CHECK(setrlimit(RLIMIT_FSIZE, &old) == 0);
    signal(SIGXFSZ, prev);
    CHECK(rc == NB_ERR_IO && strstr(msg, "write failed"));
    /* /dev/full: a device is never replaced by a file (as root the temp file could be created
     * in /dev and renamed over it), so the save is refused up front */
    CHECK_ERR(nb_st_save("/dev/full", &e, 1, NULL, NULL, 0), NB_ERR_IO, "'/dev/full' is a device, not a regular file");
    struct stat dst;
    CHECK(stat("/dev/full", &dst) == 0 && S_ISCHR(dst.st_mode));
    unsigned char *after = read_bytes(path, &n1);
    CHECK(before && after && n0 == n1 && memcmp(before, after, n0) == 0);
    CHECK(!temp_files_left());
    free(before);
    free(after);
}


static void fa_alloc_failures(void)
{
    make_sample();
    const char *path = tmp_path("alloc.safetensors");
    CHECK_OK(nb_st_save(path, g_entries, 5, g_keys, g_vals, 3));
    size_t n0 = 0, n1 = 0;
    unsigned char *ref = read_bytes(path, &n0);
    nb_set_allocator(fa_alloc, NULL);
    fa_calls = fa_live = fa_fail_at = 0;
    nb_st *st = NULL;
    CHECK_OK(nb_st_load(path, &st));
    long total_load = fa_calls;
    nb_st_free(st);
    CHECK(fa_live == 0 && total_load > 10);
    int bad = 0;
    for (long k = 1; k <= total_load; k++) {
        fa_calls = fa_live = 0;
        fa_fail_at = k;
        st = NULL;
        int rc = nb_st_load(path, &st);
        if (rc != NB_ERR_NOMEM || st || fa_live != 0) {
            if (!bad++) fprintf(stderr, "load alloc failure %ld: rc %d live %ld\n", k, rc, fa_live);
            nb_st_free(st);
        }
    }
    CHECK(bad == 0);
    fa_calls = fa_live = fa_fail_at = 0;
    CHECK_OK(nb_st_save(path, g_entries, 5, g_keys, g_vals, 3));
    long total_save = fa_calls;
    CHECK(fa_live == 0 && total_save > 2);
    for (long k = 1; k <= total_save; k++) {
        fa_calls = fa_live = 0;
        fa_fail_at = k;
        int rc = nb_st_save(path, g_entries, 5, g_keys, g_vals, 3);
        if (rc != NB_ERR_NOMEM || fa_live != 0) {
            if (!bad++) fprintf(stderr, "save alloc failure %ld: rc %d live %ld\n", k, rc, fa_live);
        }
    }
    CHECK(bad == 0);
    fa_fail_at = 0;
    nb_set_allocator(NULL, NULL);
    unsigned char *after = read_bytes(path, &n1);
    CHECK(ref && after && n0 == n1 && memcmp(ref, after, n0) == 0);
    CHECK(!temp_files_left());
    free(ref);
    free(after);
}

/* ---- the independent reader */
static int run(const char *cmd)
{
    int st = system(cmd);
    return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_python(void)
{
    if (run("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0) {
        printf("python3-numpy missing: install it (scripts/deps.sh) to run the safetensors "
               "cross-check\n");
        CHECK(!"python3-numpy missing");
        return;
    }
    make_sample();
    const char *path = tmp_path("py.safetensors"), *exp = tmp_path("py.json");
    CHECK_OK(nb_st_save(path, g_entries, 5, g_keys, g_vals, 3));
    FILE *f = fopen(exp, "w");
    CHECK(f != NULL);
    if (!f) return;
    fprintf(f, "{\"tensors\": {");
    for (int i = 0; i < 5; i++) {
        const nb_view *v = &g_entries[i].view;
        fprintf(f, "%s\"%s\": {\"shape\": [", i ? ", " : "", i == 1 ? "layer.0.weight \\u03b8"
                                                                    : g_entries[i].name);
        for (int d = 0; d < v->rank; d++) fprintf(f, d ? ", %lld" : "%lld", (long long)v->shape[d]);
        fprintf(f, "], \"bits\": [");
        for (size_t k = 0; k < v->n; k++) fprintf(f, k ? ", %u" : "%u", (unsigned)bits(v->data[k]));
        fprintf(f, "]}");
    }
    fprintf(f, "}, \"metadata\": {\"format\": \"nabla\", \"empty\": \"\"}}\n");
    fclose(f);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/safetensors_check.py %s --expect %s "
             "--tensor 'mat:2x3:-0.25,-0.125,0,0.125,0.25,0.375' --meta format=nabla --quiet",
             path, exp);
    CHECK(run(cmd) == 0);
    /* the checker must be able to fail: a wrong value, and a file breaking the layout rules */
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/safetensors_check.py %s --quiet "
             "--tensor 'mat:2x3:-0.25,-0.125,0,0.125,0.25,0.376' >/dev/null", path);
    CHECK(run(cmd) == 1);
    const char *odd = tmp_path("odd.safetensors");
    write_st(odd, "{\"a\":" T1("[1]", "[0,4]") "}", NULL, 4); /* 55-byte header: unaligned */
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/safetensors_check.py %s >/dev/null", odd);
    CHECK(run(cmd) == 1);
}

int main(void)
{
    if (fixture_init()) return 1;
    test_save_args();
    test_save_failures();
    fa_alloc_failures();
    test_python();
    cleanup();
    return check_exit("test_safetensors_save");
}
