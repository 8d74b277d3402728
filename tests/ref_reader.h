/* SPDX-License-Identifier: MIT */
/*
 * ref_reader.h - reads the PyTorch goldens in tests/ref/ (conv_ref.txt, embed_ref.txt,
 * rnn_ref.txt) that the make_..._ref.py scripts write as "tensor NAME RANK D0 .. Dk v0 v1 ..."
 * with the values as C99 hex floats (%a), so they come back bit for bit (test_conv_ref.c,
 * test_embed.c, test_rnn.c).
 */
#ifndef NB_REF_READER_H
#define NB_REF_READER_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int rank;
    int64_t shape[4];
    size_t n;
    float *v; /* malloc'd: the caller frees it */
} ref_t;

/* the next tensor of f into t, which must be named want; 0 on any mismatch or short read */
static inline int read_tensor(FILE *f, const char *want, ref_t *t)
{
    char name[16];
    t->v = NULL;
    if (fscanf(f, " tensor %15s %d", name, &t->rank) != 2 || strcmp(name, want) != 0 || t->rank < 1 || t->rank > 4) return 0;
    t->n = 1;
    for (int i = 0; i < t->rank; i++) {
        long long d;
        if (fscanf(f, "%lld", &d) != 1 || d < 1 || d > 4096) return 0;
        t->shape[i] = d;
        t->n *= (size_t)d;
    }
    if (!(t->v = malloc(t->n * sizeof(float)))) return 0;
    for (size_t i = 0; i < t->n; i++)
        if (fscanf(f, "%a", &t->v[i]) != 1) return 0;
    return 1;
}

#endif
