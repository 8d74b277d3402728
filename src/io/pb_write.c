/* SPDX-License-Identifier: MIT */
/*
 * pb_write.c - the writer half of pb.h: fields appended to a growing buffer. A failed
 * allocation latches oom and turns every later call into a no-op, so an encoder writes a
 * whole message without checking each field and looks at oom once at the end.
 */
#include "pb.h"

#include <string.h>

void nb__pbw_free(nb__pbw *w)
{
    nb_free(w->b);
    w->b = NULL;
    w->n = w->cap = 0;
}

/* room for add more bytes; 0 (and oom set) when there is none */
static int reserve(nb__pbw *w, size_t add)
{
    if (w->oom) return 0;
    if (add <= w->cap - w->n) return 1;
    if (add > SIZE_MAX / 2 - w->n) { /* a size no buffer can have */
        w->oom = 1;
        return 0;
    }
    size_t cap = w->cap ? w->cap : 64;
    while (cap - w->n < add) cap *= 2; /* doubling: appending n bytes costs O(n) in all */
    uint8_t *p = nb__realloc(w->b, cap);
    if (!p) {
        w->oom = 1;
        return 0;
    }
    w->b = p;
    w->cap = cap;
    return 1;
}

static void put(nb__pbw *w, const void *p, size_t n)
{
    if (n && reserve(w, n)) {
        memcpy(w->b + w->n, p, n);
        w->n += n;
    }
}

static void raw_varint(nb__pbw *w, uint64_t v)
{
    uint8_t b[10];
    size_t n = 0;
    do {
        b[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    put(w, b, n);
}

static void tag(nb__pbw *w, uint32_t field, int wire) { raw_varint(w, ((uint64_t)field << 3) | (uint64_t)wire); }

/* little-endian whatever the host's order, as the wire format is */
static void raw_f32(nb__pbw *w, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    uint8_t b[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
    put(w, b, 4);
}

void nb__pbw_varint(nb__pbw *w, uint32_t field, uint64_t v)
{
    tag(w, field, NB__PB_VARINT);
    raw_varint(w, v);
}

void nb__pbw_float(nb__pbw *w, uint32_t field, float v)
{
    tag(w, field, NB__PB_I32);
    raw_f32(w, v);
}

void nb__pbw_bytes(nb__pbw *w, uint32_t field, const void *p, size_t n)
{
    tag(w, field, NB__PB_LEN);
    raw_varint(w, n);
    put(w, p, n);
}

void nb__pbw_string(nb__pbw *w, uint32_t field, const char *s) { nb__pbw_bytes(w, field, s, strlen(s)); }

void nb__pbw_message(nb__pbw *w, uint32_t field, const nb__pbw *sub)
{
    if (sub->oom) w->oom = 1; /* the nested message is incomplete: so is this one */
    nb__pbw_bytes(w, field, sub->b, sub->n);
}

static size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v > 0x7f) v >>= 7, n++;
    return n;
}

void nb__pbw_packed_i64(nb__pbw *w, uint32_t field, const int64_t *v, size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) len += varint_len((uint64_t)v[i]);
    tag(w, field, NB__PB_LEN);
    raw_varint(w, len);
    for (size_t i = 0; i < n; i++) raw_varint(w, (uint64_t)v[i]);
}

void nb__pbw_packed_f32(nb__pbw *w, uint32_t field, const float *v, size_t n)
{
    tag(w, field, NB__PB_LEN);
    raw_varint(w, (uint64_t)n * 4);
    for (size_t i = 0; i < n; i++) raw_f32(w, v[i]);
}
