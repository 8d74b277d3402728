/* SPDX-License-Identifier: MIT */
/*
 * onnx.h - the small graph builder nb_model_save_onnx writes with (onnx_export.c), and which
 * each layer kind's onnx hook (layer.h) calls to express itself in ONNX opset 13 operators.
 * The GraphProto is written as it is built: nodes and initializers are appended to one
 * buffer in the order they are made (protobuf allows a repeated field's elements to come
 * interleaved with other fields), so a layer's nodes appear in the file in graph order.
 * Errors (out of memory) latch in the buffer's oom and are looked at once at the end.
 */
#ifndef NB_ONNX_H
#define NB_ONNX_H

#include "layer.h"
#include "../io/onnx_proto.h"
#include "../io/pb.h"

/* the longest value or node name the builder makes */
#define NB__ONNX_NAME 96

typedef struct nb__onnx_attr {
    const char *name;
    int type;           /* ONNX_ATYPE_INT, _FLOAT, _INTS or _STRING */
    int64_t i;
    float f;
    const int64_t *ints;
    int n;              /* elements of ints */
    const char *s;
} nb__onnx_attr;

struct nb__onnx {
    nb__pbw g;                   /* the GraphProto's nodes and initializers so far */
    int nodes, values;           /* counters: node names and fresh value names are unique */
    char prefix[48];             /* names of what is made now: "layers.3", "nabla.scale" */
    char seq_ids[NB__ONNX_NAME]; /* the int64 padded token ids a first embedding read, or "" */
    char lengths[NB__ONNX_NAME]; /* their int32 sequence lengths, made once by the first recurrent layer, or "" */
};

/* a fresh value name, "<prefix>.<what>_<k>", into buf (NB__ONNX_NAME bytes) */
NB_HIDDEN void nb__onnx_fresh(nb__onnx *o, const char *what, char *buf);
/* a node "<prefix>.<op>_<k>" of op_type op */
NB_HIDDEN void nb__onnx_node(nb__onnx *o, const char *op, const char *const *in, int n_in, const char *const *out, int n_out,
                             const nb__onnx_attr *a, int n_attr);
/* one node with inputs in[0 .. n_in) and one fresh output, whose name goes to out */
NB_HIDDEN void nb__onnx_op(nb__onnx *o, const char *op, const char *const *in, int n_in, const nb__onnx_attr *a, int n_attr,
                           char *out);
/* initializers (raw_data, little-endian) under name */
NB_HIDDEN void nb__onnx_init_f32(nb__onnx *o, const char *name, int rank, const int64_t *dims, const float *v);
NB_HIDDEN void nb__onnx_init_i64(nb__onnx *o, const char *name, int rank, const int64_t *dims, const int64_t *v);
/* a fresh 1-D int64 / float constant (an initializer) of n values; its name into out */
NB_HIDDEN void nb__onnx_const_i64(nb__onnx *o, const char *what, int n, const int64_t *v, char *out);
NB_HIDDEN void nb__onnx_const_f32(nb__onnx *o, const char *what, int rank, const int64_t *dims, const float *v, char *out);
/* layer l's tensor k as an initializer under its model name ("layers.3.weight"); the name
 * into out (NB__ONNX_NAME bytes); its values in *v (may be NULL) */
NB_HIDDEN int nb__onnx_tensor(nb__onnx *o, const nb_model *m, const nb__layer *l, int k, char *out, nb_view *v);
/* Reshape x to (batch, dims[0 .. n)) */
NB_HIDDEN void nb__onnx_reshape(nb__onnx *o, const char *x, int n, const int64_t *dims, char *out);

/* attribute shorthands */
static inline nb__onnx_attr nb__oa_int(const char *name, int64_t v)
{
    nb__onnx_attr a = {name, ONNX_ATYPE_INT, v, 0, NULL, 0, NULL};
    return a;
}
static inline nb__onnx_attr nb__oa_float(const char *name, float v)
{
    nb__onnx_attr a = {name, ONNX_ATYPE_FLOAT, 0, v, NULL, 0, NULL};
    return a;
}
static inline nb__onnx_attr nb__oa_ints(const char *name, int n, const int64_t *v)
{
    nb__onnx_attr a = {name, ONNX_ATYPE_INTS, 0, 0, v, n, NULL};
    return a;
}
static inline nb__onnx_attr nb__oa_str(const char *name, const char *s)
{
    nb__onnx_attr a = {name, ONNX_ATYPE_STRING, 0, 0, NULL, 0, s};
    return a;
}

#endif
