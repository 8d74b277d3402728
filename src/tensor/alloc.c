/* SPDX-License-Identifier: MIT */
/*
 * alloc.c - the one allocator hook every nabla allocation goes through, and overflow-checked
 * size arithmetic. Tests swap the hook to count allocations or make the k-th one fail.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static void *default_alloc(void *ud, void *ptr, size_t size)
{
    (void)ud;
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, size);
}

static nb_alloc_fn g_alloc = default_alloc;
static void *g_alloc_ud = NULL;

void nb_set_allocator(nb_alloc_fn fn, void *ud)
{
    g_alloc = fn ? fn : default_alloc;
    g_alloc_ud = fn ? ud : NULL;
}

void *nb__alloc(size_t size)
{
    void *p = g_alloc(g_alloc_ud, NULL, size ? size : 1);
    if (!p) nb__fail(NB_ERR_NOMEM, "out of memory allocating %zu bytes", size);
    return p;
}

void *nb__alloc_array(size_t count, size_t size)
{
    size_t total;
    if (!nb__mul_size(count, size, &total)) {
        nb__fail(NB_ERR_NOMEM, "allocation of %zu x %zu bytes overflows", count, size);
        return NULL;
    }
    return nb__alloc(total);
}

void *nb__calloc(size_t count, size_t size)
{
    size_t total;
    if (!nb__mul_size(count, size, &total)) {
        nb__fail(NB_ERR_NOMEM, "allocation of %zu x %zu bytes overflows", count, size);
        return NULL;
    }
    void *p = nb__alloc(total);
    if (p) memset(p, 0, total);
    return p;
}

void *nb__realloc(void *ptr, size_t size)
{
    void *p = g_alloc(g_alloc_ud, ptr, size ? size : 1);
    if (!p) nb__fail(NB_ERR_NOMEM, "out of memory reallocating to %zu bytes", size);
    return p;
}

void nb_free(void *ptr)
{
    if (ptr) g_alloc(g_alloc_ud, ptr, 0);
}

char *nb__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = nb__alloc(n);
    if (p) memcpy(p, s, n);
    return p;
}

bool nb__mul_size(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a) return false;
    *out = a * b;
    return true;
}

bool nb__add_size(size_t a, size_t b, size_t *out)
{
    if (b > SIZE_MAX - a) return false;
    *out = a + b;
    return true;
}

bool nb__numel(int rank, const int64_t *shape, size_t *out)
{
    size_t n = 1;
    for (int i = 0; i < rank; i++) {
        if (shape[i] < 0 || (uint64_t)shape[i] > SIZE_MAX) return false;
        if (!nb__mul_size(n, (size_t)shape[i], &n)) return false;
    }
    /* keep byte counts of float arrays representable too */
    if (n > SIZE_MAX / sizeof(float)) return false;
    *out = n;
    return true;
}
