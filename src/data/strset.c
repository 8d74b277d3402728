/* SPDX-License-Identifier: MIT */
/*
 * strset.c - a set of distinct strings (open addressing, FNV-1a hash) used for the
 * vocabularies of categorical columns and the names of classes.
 * Invariants: items[0..n) are distinct owned copies; table_cap is 0 or a power of two at
 * least twice n, and table[h] holds index + 1 of the item hashed there (0 = empty slot).
 */
#include "data_internal.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* Insert index i (item already in items[i]) into a table with room for it. */
static void table_put(uint32_t *table, size_t cap, const char *s, size_t i)
{
    size_t h = (size_t)hash_str(s) & (cap - 1);
    while (table[h]) h = (h + 1) & (cap - 1);
    table[h] = (uint32_t)(i + 1);
}

static int rebuild(nb__strset *set, size_t cap)
{
    uint32_t *t = nb__calloc(cap, sizeof *t);
    if (!t) return NB_ERR_NOMEM;
    for (size_t i = 0; i < set->n; i++) table_put(t, cap, set->items[i], i);
    nb_free(set->table);
    set->table = t;
    set->table_cap = cap;
    return NB_OK;
}

int64_t nb__strset_find(const nb__strset *set, const char *s)
{
    if (!set->table_cap) return -1;
    size_t h = (size_t)hash_str(s) & (set->table_cap - 1);
    while (set->table[h]) {
        size_t i = set->table[h] - 1;
        if (strcmp(set->items[i], s) == 0) return (int64_t)i;
        h = (h + 1) & (set->table_cap - 1);
    }
    return -1;
}

int nb__strset_add(nb__strset *set, const char *s, size_t *index)
{
    int64_t found = nb__strset_find(set, s);
    if (found >= 0) {
        if (index) *index = (size_t)found;
        return NB_OK;
    }
    if (set->n >= UINT32_MAX / 4) return nb__fail(NB_ERR_NOMEM, "string set too large");
    if (set->n == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 8;
        char **items = nb__realloc(set->items, cap * sizeof *items);
        if (!items) return NB_ERR_NOMEM;
        set->items = items;
        set->cap = cap;
    }
    /* keep the load factor at most 1/2 so probes stay short */
    if ((set->n + 1) * 2 > set->table_cap) {
        int rc = rebuild(set, set->table_cap ? set->table_cap * 2 : 16);
        if (rc) return rc;
    }
    char *copy = nb__strdup(s);
    if (!copy) return NB_ERR_NOMEM;
    set->items[set->n] = copy;
    table_put(set->table, set->table_cap, copy, set->n);
    if (index) *index = set->n;
    set->n++;
    return NB_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int nb__strset_sort(nb__strset *set)
{
    if (set->n > 1) qsort(set->items, set->n, sizeof *set->items, cmp_str);
    return set->table_cap ? rebuild(set, set->table_cap) : NB_OK;
}

int nb__strset_from(nb__strset *set, char *const *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int rc = nb__strset_add(set, items[i], NULL);
        if (rc) return rc;
    }
    return NB_OK;
}

char **nb__strset_take(nb__strset *set, size_t *n)
{
    char **items = set->items;
    *n = set->n;
    set->items = NULL;
    set->n = set->cap = 0;
    nb__strset_free(set);
    return items;
}

void nb__strset_free(nb__strset *set)
{
    for (size_t i = 0; i < set->n; i++) nb_free(set->items[i]);
    nb_free(set->items);
    nb_free(set->table);
    memset(set, 0, sizeof *set);
}
