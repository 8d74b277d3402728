/* SPDX-License-Identifier: MIT */
/*
 * data_fixture.h - helpers shared by the data-layer tests: a private temporary directory
 * (mkdtemp under /tmp, emptied and removed by fx_cleanup), writing files into it, and a
 * counting allocator whose k-th allocation fails, for the allocation-failure walks.
 * Only test code includes this; it may use malloc and stdio freely.
 */
#ifndef NB_DATA_FIXTURE_H
#define NB_DATA_FIXTURE_H

#include "check.h"
#include "nabla.h"
#include "fault_alloc.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char fx_dir[64];
/* One stable buffer per distinct file name, so a returned path stays valid. */
static char fx_names[128][64];
static char fx_paths[128][512];
static int fx_npaths = 0;

static inline void fx_setup(void)
{
    strcpy(fx_dir, "/tmp/nb_data_test_XXXXXX");
    if (!mkdtemp(fx_dir)) {
        perror("mkdtemp");
        exit(1);
    }
}

static inline void fx_cleanup(void)
{
    DIR *d = opendir(fx_dir);
    if (!d) return;
    struct dirent *e;
    char p[1024];
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(p, sizeof p, "%s/%s", fx_dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(fx_dir);
}

/* fx_dir/name; the same name always gives the same (static) buffer. */
static inline const char *fx_path(const char *name)
{
    for (int i = 0; i < fx_npaths; i++)
        if (strcmp(fx_names[i], name) == 0) return fx_paths[i];
    if (fx_npaths == 128 || strlen(name) >= sizeof fx_names[0]) {
        fprintf(stderr, "fx_path: too many or too long names\n");
        exit(1);
    }
    snprintf(fx_names[fx_npaths], sizeof fx_names[0], "%s", name);
    snprintf(fx_paths[fx_npaths], sizeof fx_paths[0], "%s/%s", fx_dir, name);
    return fx_paths[fx_npaths++];
}

static inline const char *fx_write(const char *name, const void *data, size_t n)
{
    const char *p = fx_path(name);
    FILE *f = fopen(p, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
        perror(p);
        exit(1);
    }
    return p;
}

static inline const char *fx_text(const char *name, const char *text)
{
    return fx_write(name, text, strlen(text));
}

#endif
