/* SPDX-License-Identifier: MIT */
/*
 * pb_read.c - the reader half of pb.h: walks one protobuf message's fields in place. Every
 * length is checked against the bytes that remain before it is used, varints stop at 10
 * bytes, and nothing is allocated, so a hostile ONNX file can make it fail but never make
 * it read past its buffer.
 */
#include "pb.h"

#include <string.h>

static int read_varint(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
    const uint8_t *p = *pp;
    uint64_t v = 0;
    for (int i = 0; i < 10; i++) {
        if (p >= end) return -1;
        uint8_t b = *p++;
        /* the 10th byte may carry only the top bit of a 64-bit value */
        if (i == 9 && b > 1) return -1;
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *pp = p;
            *out = v;
            return 0;
        }
    }
    return -1;
}

static uint64_t load_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

int nb__pbr_next(nb__pbr *r, nb__pbf *f)
{
    memset(f, 0, sizeof *f);
    if (r->p >= r->end) return 0;
    uint64_t key;
    if (read_varint(&r->p, r->end, &key)) return -1;
    uint64_t field = key >> 3;
    if (field == 0 || field > 536870911u) return -1; /* protobuf's field numbers are 1 .. 2^29-1 */
    f->field = (uint32_t)field;
    f->wire = (int)(key & 7);
    size_t left;
    switch (f->wire) {
    case NB__PB_VARINT:
        return read_varint(&r->p, r->end, &f->u) ? -1 : 1;
    case NB__PB_I64:
    case NB__PB_I32: {
        size_t w = f->wire == NB__PB_I64 ? 8 : 4;
        if ((size_t)(r->end - r->p) < w) return -1;
        f->u = load_le(r->p, (int)w);
        r->p += w;
        return 1;
    }
    case NB__PB_LEN: {
        uint64_t len;
        if (read_varint(&r->p, r->end, &len)) return -1;
        left = (size_t)(r->end - r->p);
        if (len > left) return -1;
        f->data = r->p;
        f->len = (size_t)len;
        r->p += len;
        return 1;
    }
    default: /* groups (3, 4) are obsolete and unused by onnx.proto; 6, 7 do not exist */
        return -1;
    }
}

float nb__pbf_float(const nb__pbf *f)
{
    uint32_t u = (uint32_t)f->u;
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

int nb__pbf_i64s(const nb__pbf *f, int64_t *v, size_t cap, size_t *n)
{
    if (f->wire == NB__PB_VARINT) {
        if (*n < cap) v[*n] = (int64_t)f->u;
        (*n)++;
        return 0;
    }
    if (f->wire != NB__PB_LEN) return -1;
    const uint8_t *p = f->data, *end = f->data + f->len;
    while (p < end) {
        uint64_t u;
        if (read_varint(&p, end, &u)) return -1;
        if (*n < cap) v[*n] = (int64_t)u;
        (*n)++;
    }
    return 0;
}

int nb__pbf_f32s(const nb__pbf *f, float *v, size_t cap, size_t *n)
{
    if (f->wire == NB__PB_I32) {
        if (*n < cap) v[*n] = nb__pbf_float(f);
        (*n)++;
        return 0;
    }
    if (f->wire != NB__PB_LEN || f->len % 4) return -1;
    for (size_t i = 0; i < f->len / 4; i++) {
        if (*n < cap) {
            uint32_t u = (uint32_t)load_le(f->data + 4 * i, 4);
            memcpy(&v[*n], &u, sizeof u);
        }
        (*n)++;
    }
    return 0;
}
