/* SPDX-License-Identifier: MIT */
/*
 * fault_alloc.h - the one fault-injecting allocator of the tests: through nabla's allocator
 * hook, the fa_fail_at-th allocation (1-based; 0: never) fails, fa_calls counts allocations
 * and fa_live the blocks still allocated, so a failure path that leaks shows fa_live != 0.
 * fa_begin(k) installs it with the k-th call failing; fa_end() restores the default.
 */
#ifndef NB_FAULT_ALLOC_H
#define NB_FAULT_ALLOC_H

#include "nabla.h"

#include <stdlib.h>

static long fa_fail_at = 0, fa_calls = 0, fa_live = 0;

static inline void *fa_alloc(void *ud, void *ptr, size_t size)
{
    (void)ud;
    if (size == 0) {
        if (ptr) fa_live--;
        free(ptr);
        return NULL;
    }
    fa_calls++;
    if (fa_fail_at && fa_calls == fa_fail_at) return NULL;
    void *p = realloc(ptr, size);
    if (p && !ptr) fa_live++;
    return p;
}

static inline void fa_begin(long fail_at)
{
    fa_fail_at = fail_at;
    fa_calls = 0;
    fa_live = 0;
    nb_set_allocator(fa_alloc, NULL);
}

static inline void fa_end(void)
{
    nb_set_allocator(NULL, NULL);
    fa_fail_at = 0;
}

#endif
