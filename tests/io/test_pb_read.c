/* SPDX-License-Identifier: MIT */
/*
 * test_pb_read.c - the protobuf wire reader (src/io/pb_read.c) on hand-made byte strings:
 * each wire type, packed and unpacked repeated fields, and malformed input (truncated
 * varints and lengths, an 11-byte varint, groups, wire types 6/7, field number 0), every
 * truncation of a valid message included: each fails cleanly, never reading past the end.
 */
#include "check.h"
#include "nabla.h"
#include "../../src/io/pb.h"

#include <stdlib.h>

/* every field of buf; returns the count, or -1 at the first malformed one */
static int walk(const uint8_t *buf, size_t n)
{
    nb__pbr r = nb__pbr_make(buf, n);
    nb__pbf f;
    int k = 0, rc;
    while ((rc = nb__pbr_next(&r, &f)) == 1) k++;
    return rc < 0 ? -1 : k;
}

int main(void)
{
    /* field 1 varint 150 (the protobuf docs' example), field 2 "hi", field 3 fixed32 1.5f,
     * field 4 fixed64 */
    const uint8_t msg[] = {0x08, 0x96, 0x01, 0x12, 0x02, 'h', 'i', 0x1d, 0x00, 0x00, 0xc0, 0x3f,
                           0x21, 1, 2, 3, 4, 5, 6, 7, 8};
    nb__pbr r = nb__pbr_make(msg, sizeof msg);
    nb__pbf f;
    CHECK(nb__pbr_next(&r, &f) == 1 && f.field == 1 && f.wire == NB__PB_VARINT && f.u == 150);
    CHECK(nb__pbr_next(&r, &f) == 1 && f.field == 2 && f.wire == NB__PB_LEN && f.len == 2 && !memcmp(f.data, "hi", 2));
    CHECK(nb__pbr_next(&r, &f) == 1 && f.field == 3 && f.wire == NB__PB_I32 && nb__pbf_float(&f) == 1.5f);
    CHECK(nb__pbr_next(&r, &f) == 1 && f.field == 4 && f.wire == NB__PB_I64 && f.u == 0x0807060504030201ull);
    CHECK(nb__pbr_next(&r, &f) == 0);
    CHECK(walk(msg, sizeof msg) == 4);
    /* every proper prefix that cuts a field is malformed; the ones at field ends are fine */
    for (size_t n = 0; n < sizeof msg; n++) {
        int w = walk(msg, n);
        int boundary = n == 0 || n == 3 || n == 7 || n == 12;
        CHECK(boundary ? w >= 0 : w == -1);
    }
    /* a nested message */
    const uint8_t nest[] = {0x3a, 0x03, 0x08, 0x07, 0x00};
    r = nb__pbr_make(nest, sizeof nest);
    CHECK(nb__pbr_next(&r, &f) == 1 && f.field == 7 && f.len == 3);
    nb__pbr sub = nb__pbr_sub(&f);
    nb__pbf g;
    CHECK(nb__pbr_next(&sub, &g) == 1 && g.field == 1 && g.u == 7);
    CHECK(nb__pbr_next(&sub, &g) == -1); /* the nested 0x00 is field 0 */
    /* the largest varint: 10 bytes, top byte 1; 11 bytes or a 10th byte > 1 is malformed */
    const uint8_t big[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    r = nb__pbr_make(big, sizeof big);
    CHECK(nb__pbr_next(&r, &f) == 1 && f.u == UINT64_MAX);
    const uint8_t over[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    CHECK(walk(over, sizeof over) == -1);
    const uint8_t eleven[] = {0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    CHECK(walk(eleven, sizeof eleven) == -1);
    /* a length past the end, including one near 2^64 (no pointer overflow) */
    const uint8_t longlen[] = {0x12, 0x05, 'a', 'b'};
    CHECK(walk(longlen, sizeof longlen) == -1);
    const uint8_t hugelen[] = {0x12, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 'a'};
    CHECK(walk(hugelen, sizeof hugelen) == -1);
    /* groups, wire types 6 and 7, field number 0 */
    const uint8_t bad_wire[][2] = {{0x0b, 0}, {0x0c, 0}, {0x0e, 0}, {0x0f, 0}, {0x00, 0}, {0x02, 0}};
    for (int i = 0; i < 6; i++) CHECK(walk(bad_wire[i], 2) == -1);
    /* the largest field number (2^29 - 1) and one above it (key varint of 5 bytes) */
    const uint8_t maxfield[] = {0xf8, 0xff, 0xff, 0xff, 0x0f, 0x01};
    r = nb__pbr_make(maxfield, sizeof maxfield);
    CHECK(nb__pbr_next(&r, &f) == 1 && f.field == 536870911u && f.u == 1);
    const uint8_t overfield[] = {0x80, 0x80, 0x80, 0x80, 0x10, 0x01};
    CHECK(walk(overfield, sizeof overfield) == -1);
    /* repeated int64: packed (with -1 as a 10-byte varint), then unpacked; counting past cap */
    const uint8_t packed[] = {0x0a, 0x0c, 0x03, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00,
                              0x08, 0x2a};
    int64_t v[3] = {0};
    size_t n = 0;
    r = nb__pbr_make(packed, sizeof packed);
    CHECK(nb__pbr_next(&r, &f) == 1 && nb__pbf_i64s(&f, v, 2, &n) == 0);
    CHECK(n == 3 && v[0] == 3 && v[1] == -1 && v[2] == 0);
    CHECK(nb__pbr_next(&r, &f) == 1 && nb__pbf_i64s(&f, v, 3, &n) == 0);
    CHECK(n == 4 && v[2] == 0); /* v[2] untouched: the packed 0 was past cap 2, 42 past cap 3 */
    n = 0;
    CHECK(nb__pbf_i64s(&f, v, 3, &n) == 0 && n == 1 && v[0] == 42);
    /* a packed field whose last varint is cut */
    const uint8_t cut[] = {0x0a, 0x02, 0x01, 0x80};
    r = nb__pbr_make(cut, sizeof cut);
    n = 0;
    CHECK(nb__pbr_next(&r, &f) == 1 && nb__pbf_i64s(&f, v, 3, &n) == -1);
    /* repeated float: packed 1.0, -2.0; one I32; a packed length not a multiple of 4 */
    const uint8_t fl[] = {0x22, 0x08, 0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0, 0x25, 0, 0, 0x40, 0x40, 0x22, 0x03, 1, 2, 3};
    float x[4] = {0};
    n = 0;
    r = nb__pbr_make(fl, sizeof fl);
    CHECK(nb__pbr_next(&r, &f) == 1 && nb__pbf_f32s(&f, x, 4, &n) == 0);
    CHECK(nb__pbr_next(&r, &f) == 1 && nb__pbf_f32s(&f, x, 4, &n) == 0);
    CHECK(n == 3 && x[0] == 1.0f && x[1] == -2.0f && x[2] == 3.0f);
    CHECK(nb__pbr_next(&r, &f) == 1 && nb__pbf_f32s(&f, x, 4, &n) == -1);
    /* a varint field given to the float reader, an I64 to the int reader: malformed */
    nb__pbf wrong = {.field = 1, .wire = NB__PB_VARINT};
    CHECK(nb__pbf_f32s(&wrong, x, 4, &n) == -1);
    wrong.wire = NB__PB_I64;
    CHECK(nb__pbf_i64s(&wrong, v, 3, &n) == -1);
    /* random bytes: the walk ends (never reads past the end; ASan checks the builds) */
    uint32_t s = 12345;
    for (int t = 0; t < 2000; t++) {
        uint8_t *buf = malloc(32);
        size_t len = (size_t)(t % 32);
        for (size_t i = 0; i < len; i++) buf[i] = (uint8_t)((s = s * 1103515245u + 12345u) >> 16);
        int w = walk(buf, len);
        CHECK(w >= -1);
        free(buf);
    }
    return check_exit("test_pb_read");
}
