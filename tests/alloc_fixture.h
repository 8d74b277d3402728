/* SPDX-License-Identifier: MIT */
/*
 * alloc_fixture.h - an allocator hook (nb_set_allocator) that counts live bytes and their peak
 * and refuses any request that would take the live total past a cap, so a test can assert what
 * a call may take ("asked for 64 GB" shows as NB_ERR_NOMEM instead of swapping the machine).
 * Every block carries its size in a 16-byte prefix, which keeps malloc's alignment.
 */
#ifndef NB_ALLOC_FIXTURE_H
#define NB_ALLOC_FIXTURE_H

#include "nabla.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static size_t mem_live, mem_peak, mem_cap;

static inline void *track_alloc(void *ud, void *ptr, size_t size)
{
    (void)ud;
    unsigned char *p = ptr ? (unsigned char *)ptr - 16 : NULL;
    size_t old = 0;
    if (p) memcpy(&old, p, sizeof old);
    if (size == 0) {
        mem_live -= old;
        free(p);
        return NULL;
    }
    if (size > mem_cap || mem_live - old + size > mem_cap) return NULL;
    unsigned char *q = realloc(p, size + 16);
    if (!q) return NULL;
    memcpy(q, &size, sizeof size);
    mem_live = mem_live - old + size;
    if (mem_live > mem_peak) mem_peak = mem_live;
    return q + 16;
}

/* Count from zero, refusing past cap bytes live (SIZE_MAX: no cap). Blocks must not cross
 * allocators: free what was taken before track_begin with the same hook, or before it. */
static inline void track_begin_cap(size_t cap)
{
    mem_live = mem_peak = 0;
    mem_cap = cap;
    nb_set_allocator(track_alloc, NULL);
}

static inline void track_begin(void) { track_begin_cap(SIZE_MAX); }

static inline void track_end(void) { nb_set_allocator(NULL, NULL); }

#endif
