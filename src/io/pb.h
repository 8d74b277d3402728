/* SPDX-License-Identifier: MIT */
/*
 * pb.h - the protocol-buffers wire format, as far as ONNX files need it (README, "Dependencies":
 * why nabla has its own ~300-line codec instead of protobuf-c and generated code). A writer
 * that appends fields to a growing buffer (a nested message is written into its own writer,
 * then appended as one length-delimited field), and a reader that walks the fields of one
 * message in place: it never allocates, and every length it returns was checked against the
 * bytes that remain, so a hostile file can make it fail but never read past its buffer.
 * The field numbers of onnx.proto that nabla reads and writes are in onnx_proto.h.
 */
#ifndef NB_PB_H
#define NB_PB_H

#include "internal.h"

#include <stddef.h>
#include <stdint.h>

/* wire types */
enum { NB__PB_VARINT = 0, NB__PB_I64 = 1, NB__PB_LEN = 2, NB__PB_I32 = 5 };

/* ---- writing (pb_write.c). Every call is a no-op once oom is set; check oom at the end. */
typedef struct nb__pbw {
    uint8_t *b;
    size_t n, cap;
    int oom;
} nb__pbw;

NB_HIDDEN void nb__pbw_free(nb__pbw *w);
/* field: varint (int64 values are written as their two's-complement uint64, as protobuf does) */
NB_HIDDEN void nb__pbw_varint(nb__pbw *w, uint32_t field, uint64_t v);
NB_HIDDEN void nb__pbw_float(nb__pbw *w, uint32_t field, float v); /* fixed32 */
NB_HIDDEN void nb__pbw_bytes(nb__pbw *w, uint32_t field, const void *p, size_t n);
NB_HIDDEN void nb__pbw_string(nb__pbw *w, uint32_t field, const char *s);
/* sub's bytes as a length-delimited field (a nested message) */
NB_HIDDEN void nb__pbw_message(nb__pbw *w, uint32_t field, const nb__pbw *sub);
/* a packed repeated int64 field */
NB_HIDDEN void nb__pbw_packed_i64(nb__pbw *w, uint32_t field, const int64_t *v, size_t n);
/* a packed repeated float field (fixed32 each, little-endian) */
NB_HIDDEN void nb__pbw_packed_f32(nb__pbw *w, uint32_t field, const float *v, size_t n);

/* ---- reading (pb_read.c) */
typedef struct nb__pbr {
    const uint8_t *p, *end;
} nb__pbr;

typedef struct nb__pbf {
    uint32_t field;
    int wire;
    uint64_t u;          /* VARINT, I64 and I32 values (I32's 4 bytes in the low bits) */
    const uint8_t *data; /* LEN: the payload, len bytes, inside the reader's buffer */
    size_t len;
} nb__pbf;

static inline nb__pbr nb__pbr_make(const void *p, size_t n)
{
    nb__pbr r = {(const uint8_t *)p, (const uint8_t *)p + n};
    return r;
}
/* the next field of the message into f: 1, or 0 at its end, or -1 when malformed (a varint
 * over 10 bytes, a length past the end, wire types 3/4 (groups), 6, 7, or field number 0) */
NB_HIDDEN int nb__pbr_next(nb__pbr *r, nb__pbf *f);
/* a LEN field's payload as a reader of the nested message */
static inline nb__pbr nb__pbr_sub(const nb__pbf *f)
{
    return nb__pbr_make(f->data, f->len);
}
/* the float of an I32 field */
NB_HIDDEN float nb__pbf_float(const nb__pbf *f);
/* the elements of a repeated int64 field, which may come packed (one LEN field) or not (one
 * VARINT per element): call for each occurrence; fills v[*n ..] up to cap, counting every
 * element in *n even past cap (so a caller can see an overflow). -1 when malformed */
NB_HIDDEN int nb__pbf_i64s(const nb__pbf *f, int64_t *v, size_t cap, size_t *n);
/* the same for a repeated float field (packed LEN of 4-byte floats, or I32 one at a time) */
NB_HIDDEN int nb__pbf_f32s(const nb__pbf *f, float *v, size_t cap, size_t *n);

#endif
