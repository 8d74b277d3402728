/* SPDX-License-Identifier: MIT */
/*
 * test_pb_write.c - the protobuf writer (src/io/pb_write.c) against byte strings computed by
 * hand from the wire format's definition (protobuf.dev, "Encoding"): tags, varints of every
 * length (a negative int64 takes ten bytes), fixed32 floats, length-delimited fields, nested
 * messages and packed repeated fields, and the out-of-memory latch.
 */
#include "nabla.h"
#include "check.h"
#include "fault_alloc.h"
#include "../../src/io/pb.h"

#include <string.h>

static int same(const nb__pbw *w, const uint8_t *want, size_t n)
{
    if (w->oom || w->n != n || memcmp(w->b, want, n) != 0) {
        fprintf(stderr, "got %zu bytes:", w->n);
        for (size_t i = 0; i < w->n; i++) fprintf(stderr, " %02x", w->b[i]);
        fprintf(stderr, "\n");
        return 0;
    }
    return 1;
}

int main(void)
{
    { /* field 1 varint 150: the protobuf documentation's own example */
        nb__pbw w = {0};
        nb__pbw_varint(&w, 1, 150);
        CHECK(same(&w, (const uint8_t[]){0x08, 0x96, 0x01}, 3));
        nb__pbw_free(&w);
    }
    { /* 0, 127, 128; a field number over 15 takes a two-byte tag: (16 << 3 | 0) = 128 */
        nb__pbw w = {0};
        nb__pbw_varint(&w, 2, 0);
        nb__pbw_varint(&w, 3, 127);
        nb__pbw_varint(&w, 16, 128);
        CHECK(same(&w, (const uint8_t[]){0x10, 0x00, 0x18, 0x7f, 0x80, 0x01, 0x80, 0x01}, 8));
        nb__pbw_free(&w);
    }
    { /* int64 -1 as two's complement: nine 0xff then 0x01 */
        nb__pbw w = {0};
        nb__pbw_varint(&w, 2, (uint64_t)(int64_t)-1);
        CHECK(same(&w, (const uint8_t[]){0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 11));
        nb__pbw_free(&w);
    }
    { /* float 1.0f = 0x3f800000 little-endian, wire type 5: tag (2 << 3 | 5) = 0x15 */
        nb__pbw w = {0};
        nb__pbw_float(&w, 2, 1.0f);
        nb__pbw_float(&w, 2, -2.5f); /* 0xc0200000 */
        CHECK(same(&w, (const uint8_t[]){0x15, 0x00, 0x00, 0x80, 0x3f, 0x15, 0x00, 0x00, 0x20, 0xc0}, 10));
        nb__pbw_free(&w);
    }
    { /* string "testing" in field 2: the documentation's example 12 07 74 65 73 74 69 6e 67 */
        nb__pbw w = {0};
        nb__pbw_string(&w, 2, "testing");
        CHECK(same(&w, (const uint8_t[]){0x12, 0x07, 't', 'e', 's', 't', 'i', 'n', 'g'}, 9));
        nb__pbw_string(&w, 1, ""); /* an empty string is a tag and a zero length */
        CHECK(w.n == 11 && w.b[9] == 0x0a && w.b[10] == 0x00);
        nb__pbw_free(&w);
    }
    { /* nested: field 3 holding {field 1 = 150}: 1a 03 08 96 01 */
        nb__pbw sub = {0}, w = {0};
        nb__pbw_varint(&sub, 1, 150);
        nb__pbw_message(&w, 3, &sub);
        CHECK(same(&w, (const uint8_t[]){0x1a, 0x03, 0x08, 0x96, 0x01}, 5));
        nb__pbw_free(&sub);
        nb__pbw_free(&w);
    }
    { /* packed int64 {3, 270, 86942} in field 4: 22 06 03 8e 02 9e a7 05 (the documentation's) */
        nb__pbw w = {0};
        nb__pbw_packed_i64(&w, 4, (const int64_t[]){3, 270, 86942}, 3);
        CHECK(same(&w, (const uint8_t[]){0x22, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05}, 8));
        nb__pbw_free(&w);
        /* a negative element is ten bytes inside the packed payload */
        nb__pbw_packed_i64(&w, 1, (const int64_t[]){-1}, 1);
        CHECK(w.n == 12 && w.b[0] == 0x0a && w.b[1] == 10 && w.b[11] == 0x01);
        nb__pbw_free(&w);
    }
    { /* packed float {1, 0.5} in field 7: 3a 08 00 00 80 3f 00 00 00 3f */
        nb__pbw w = {0};
        nb__pbw_packed_f32(&w, 7, (const float[]){1.0f, 0.5f}, 2);
        CHECK(same(&w, (const uint8_t[]){0x3a, 0x08, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x3f}, 10));
        nb__pbw_free(&w);
    }
    { /* a long payload grows the buffer past its first size; a 300-byte length is a 2-byte varint */
        nb__pbw w = {0};
        uint8_t big[300];
        for (int i = 0; i < 300; i++) big[i] = (uint8_t)i;
        nb__pbw_bytes(&w, 1, big, sizeof big);
        CHECK(!w.oom && w.n == 303 && w.b[1] == 0xac && w.b[2] == 0x02 && memcmp(w.b + 3, big, 300) == 0);
        nb__pbw_free(&w);
    }
    { /* out of memory: latched, later calls do nothing, free is safe; a nested oom propagates */
        nb__pbw w = {0}, sub = {0};
        fa_begin(1);
        nb__pbw_varint(&w, 1, 150);
        fa_end();
        CHECK(w.oom && w.n == 0);
        nb__pbw_varint(&w, 1, 150);
        CHECK(w.oom && w.n == 0);
        nb__pbw_free(&w);
        sub.oom = 1;
        nb__pbw_message(&w, 1, &sub);
        CHECK(w.oom);
        nb__pbw_free(&w);
    }
    return check_exit("test_pb_write");
}
