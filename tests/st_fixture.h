/* SPDX-License-Identifier: MIT */
/*
 * st_fixture.h - shared by the safetensors tests: a mkdtemp directory and its cleanup, raw file
 * helpers, a hand-built file writer (write_st), and the sample model (ranks 0..4, one empty
 * tensor, NaN/inf/subnormal/-0 values, metadata with escapes and UTF-8).
 * Header-only: every function is static inline so each test uses what it needs.
 */
#ifndef NB_ST_FIXTURE_H
#define NB_ST_FIXTURE_H

#include "check.h"
#include "nabla.h"

#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* one F32 tensor entry of a header */
#define T1(shape, off) "{\"dtype\":\"F32\",\"shape\":" shape ",\"data_offsets\":" off "}"

static char g_dir[64];

/* g_dir/name; the pointer stays valid for the whole run (one slot per distinct name). */
static inline const char *tmp_path(const char *name)
{
    static char buf[32][512];
    static int used = 0;
    char want[512];
    snprintf(want, sizeof want, "%s/%s", g_dir, name);
    for (int i = 0; i < used; i++)
        if (strcmp(buf[i], want) == 0) return buf[i];
    if (used == 32) return "/nonexistent/too-many-temp-names";
    memcpy(buf[used], want, sizeof want);
    return buf[used++];
}

static inline int write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(data, 1, n, f);
    return (fclose(f) == 0 && w == n) ? 0 : -1;
}

/* The whole file in a malloc'd buffer (NULL if unreadable). */
static inline unsigned char *read_bytes(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char *buf = malloc(1 << 20);
    *n = buf ? fread(buf, 1, 1 << 20, f) : 0;
    fclose(f);
    return buf;
}

/* Whether any file in g_dir has ".tmp." in its name (a leftover of an atomic write). */
static inline int temp_files_left(void)
{
    DIR *d = opendir(g_dir);
    int found = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        if (strstr(e->d_name, ".tmp.")) found = 1;
    if (d) closedir(d);
    return found;
}

static inline void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++, v >>= 8) p[i] = (unsigned char)v;
}

/* A safetensors file with the given header text (no padding) and data bytes. */
static inline void write_st(const char *path, const char *header, const void *data, size_t data_len)
{
    size_t hl = strlen(header);
    unsigned char *buf = calloc(1, 8 + hl + data_len + 1);
    put_u64(buf, hl);
    memcpy(buf + 8, header, hl);
    if (data_len) {
        if (data) memcpy(buf + 8 + hl, data, data_len);
        else memset(buf + 8 + hl, 0x11, data_len);
    }
    CHECK(write_bytes(path, buf, 8 + hl + data_len) == 0);
    free(buf);
}

static inline uint32_t bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static inline float from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* ---- the sample model: five tensors of ranks 0..4 (one empty), awkward values, metadata */
static float g_scalar[1], g_vec[5], g_mat[6], g_r4[12];
static nb_st_entry g_entries[5];
static const char *const g_keys[3] = {"format", "note", "empty"};
static const char *const g_vals[3] = {"nabla", "quote \" backslash \\ newline \n \xc3\xa9\xe2\x82\xac", ""};

static inline void make_sample(void)
{
    g_scalar[0] = -0.0f;
    const uint32_t special[5] = {0x7fc00001u /* NaN with payload */, 0x7f800000u /* inf */,
                                 0x00000001u /* smallest subnormal */, 0xff7fffffu /* -FLT_MAX */,
                                 0x3eaaaaabu /* 1/3 */};
    for (int i = 0; i < 5; i++) g_vec[i] = from_bits(special[i]);
    for (int i = 0; i < 6; i++) g_mat[i] = 0.125f * (float)i - 0.25f;
    for (int i = 0; i < 12; i++) g_r4[i] = (float)(i * i) * 1e-3f;
    const struct { const char *name; int rank; int64_t shape[4]; size_t n; float *data; } t[5] = {
        {"scalar", 0, {0}, 1, g_scalar},
        {"layer.0.weight \xce\xb8", 1, {5}, 5, g_vec},
        {"mat", 2, {2, 3}, 6, g_mat},
        {"empty", 2, {0, 3}, 0, NULL},
        {"r4", 4, {2, 1, 3, 2}, 12, g_r4},
    };
    for (int i = 0; i < 5; i++) {
        memset(&g_entries[i], 0, sizeof g_entries[i]);
        g_entries[i].name = t[i].name;
        g_entries[i].view.rank = t[i].rank;
        memcpy(g_entries[i].view.shape, t[i].shape, sizeof t[i].shape);
        g_entries[i].view.n = t[i].n;
        g_entries[i].view.data = t[i].data;
    }
}

/* Call first: creates the temp directory. */
static inline int fixture_init(void)
{
    strcpy(g_dir, "/tmp/nb_st_XXXXXX");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return -1;
    }
    return 0;
}

static inline void cleanup(void)
{
    DIR *d = opendir(g_dir);
    for (struct dirent *e; d && (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) unlink(tmp_path(e->d_name));
    if (d) closedir(d);
    rmdir(g_dir);
}
#endif
