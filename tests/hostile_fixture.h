/* SPDX-License-Identifier: MIT */
/*
 * hostile_fixture.h - what the hostile-file tests share: a case counter per loader (EXPECT
 * asserts the status and part of the message and counts the case), the byte-counting allocator
 * of alloc_fixture.h (what a hostile file can make a loader take), and a string repeater.
 * test_hostile_data.c covers CSV, IDX and the preprocessing JSON; test_hostile_model.c the
 * model spec, safetensors and model files.
 */
#ifndef NB_HOSTILE_FIXTURE_H
#define NB_HOSTILE_FIXTURE_H

#include "alloc_fixture.h"
#include "data_fixture.h"

#include <stdint.h>

enum { L_CSV, L_IDX, L_SPEC, L_ST, L_PRE, L_COUNT };
static int n_cases[L_COUNT];

/* One case: status st and a message containing sub. */
#define EXPECT(loader, expr, st, sub)                                                          \
    do {                                                                                       \
        n_cases[loader]++;                                                                     \
        CHECK_ERR(expr, st, sub);                                                              \
    } while (0)

/* Print the case counts of the given loaders; with the other tests' matrices, at least 30
 * malformed cases per loader: this file's part must be at least 20. */
static inline void hostile_report(const int *loaders, int n)
{
    static const char *const names[L_COUNT] = {"csv", "idx", "spec", "safetensors/model", "preproc-json"};
    for (int i = 0; i < n; i++) {
        printf("%s%s %d", i ? ", " : "cases: ", names[loaders[i]], n_cases[loaders[i]]);
        CHECK(n_cases[loaders[i]] >= 20);
    }
    printf("\n");
}

/* A string of n copies of unit (malloc'd, NUL-terminated) between head and tail. */
static inline char *repeat(const char *head, const char *unit, size_t n, const char *tail)
{
    size_t h = strlen(head), u = strlen(unit), t = strlen(tail);
    char *s = malloc(h + u * n + t + 1);
    if (!s) exit(1);
    memcpy(s, head, h);
    for (size_t i = 0; i < n; i++) memcpy(s + h + i * u, unit, u);
    memcpy(s + h + u * n, tail, t + 1);
    return s;
}

#endif
