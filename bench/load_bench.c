/* SPDX-License-Identifier: MIT */
/*
 * load_bench.c - `make bench-load`: the time nb_model_load takes on model files whose JSON
 * header is padded to about 1 MB and 8 MB (just under NB_ST_MAX_HEADER) with extra metadata
 * keys. Loading must grow linearly (n log n) with the header: a pairwise duplicate-key check
 * made a 1.4 MB header take 13-24 s. tests/io/test_safetensors.c proves the same by counting
 * comparisons; this measures the time. Prints one line per size:
 * "model-load-HEADER SECONDS s keys=N header_bytes=B". Uses only nabla.h; exits non-zero on
 * any failure.
 */
#include <nabla.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int fail(const char *what)
{
    fprintf(stderr, "load_bench: %s: %s\n", what, nb_errmsg());
    return 1;
}

/* Re-save the model file src with n_extra more metadata keys (each ,"pad0000001":"" = 16
 * header bytes) into dst; the model still loads. */
static int pad(const char *src, const char *dst, int n_extra)
{
    nb_st *st;
    if (nb_st_load(src, &st)) return fail(src);
    int n = nb_st_count(st), nm = nb_st_meta_count(st), rc = 1;
    nb_st_entry *t = calloc((size_t)n, sizeof *t);
    const char **keys = calloc((size_t)(nm + n_extra), sizeof *keys);
    const char **vals = calloc((size_t)(nm + n_extra), sizeof *vals);
    char *names = malloc((size_t)n_extra * 16);
    if (!t || !keys || !vals || !names) goto out;
    for (int i = 0; i < n; i++)
        if (nb_st_tensor(st, i, &t[i].name, &t[i].view)) goto out;
    for (int i = 0; i < nm; i++)
        if (nb_st_meta_at(st, i, &keys[i], &vals[i])) goto out;
    for (int i = 0; i < n_extra; i++) {
        snprintf(names + (size_t)i * 16, 16, "pad%07d", i);
        keys[nm + i] = names + (size_t)i * 16;
        vals[nm + i] = "";
    }
    rc = nb_st_save(dst, t, n, keys, vals, nm + n_extra) ? fail(dst) : 0;
out:
    free(t);
    free(keys);
    free(vals);
    free(names);
    nb_st_free(st);
    return rc;
}

int main(void)
{
    char dir[] = "/tmp/nabla-load-bench-XXXXXX", base[64], big[64];
    if (!mkdtemp(dir)) return perror("mkdtemp"), 1;
    snprintf(base, sizeof base, "%s/base.safetensors", dir);
    snprintf(big, sizeof big, "%s/big.safetensors", dir);
    nb_model *m;
    const int64_t shape[1] = {3};
    if (nb_model_parse("dense 2", NB_TASK_CLASSIFY, &m) || nb_model_build(m, 1, shape, 2) ||
        nb_model_save(m, base, NULL))
        return fail("model");
    nb_model_free(m);
    const struct {
        const char *name;
        long bytes;
    } sizes[] = {{"1MB", 1000000}, {"8MB", 8000000}};
    int rc = 0;
    for (int s = 0; s < 2 && !rc; s++) {
        int n_extra = (int)(sizes[s].bytes / 16);
        if ((rc = pad(base, big, n_extra))) break;
        FILE *f = fopen(big, "rb");
        unsigned char len[8] = {0};
        if (!f || fread(len, 1, 8, f) != 8) return perror(big), 1;
        fclose(f);
        unsigned long long hl = 0;
        for (int i = 7; i >= 0; i--) hl = hl << 8 | len[i];
        double t0 = now_s();
        nb_model *l;
        if (nb_model_load(big, &l, NULL)) return fail(big);
        double t = now_s() - t0;
        nb_model_free(l);
        printf("model-load-%s %.3f s keys=%d header_bytes=%llu\n", sizes[s].name, t, n_extra, hl);
        fflush(stdout); /* each size as soon as it is measured */
    }
    remove(base);
    remove(big);
    remove(dir);
    return rc;
}
