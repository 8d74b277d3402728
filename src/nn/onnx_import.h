/* SPDX-License-Identifier: MIT */
/*
 * onnx_import.h - what the two halves of the ONNX importer share: onnx_import.c reads the
 * file (ModelProto, GraphProto, tensors, nodes, attributes: slices of the file's bytes, never
 * copies), onnx_import_graph.c turns the graph into a model (a nabla file by its spec, another
 * tool's by walking its chain of nodes).
 */
#ifndef NB_ONNX_IMPORT_H
#define NB_ONNX_IMPORT_H

#include "nn.h"
#include "../io/pb.h"
#include "../io/onnx_proto.h"

#include <string.h>

#define MAX_NODES 16384     /* a sequential model has at most 4096 layers (docs/SPEC.md) */
#define MAX_DIMS 8
#define FILE_MAX_VALUES 67108864.0 /* per sample, as model files (modelfile.c) */

typedef struct sl {
    const uint8_t *p;
    size_t n;
} sl;

typedef struct tens {
    sl name, raw, msg;
    int rank, dtype, external, has_raw;
    int64_t dims[MAX_DIMS];
    size_t numel;
} tens;

typedef struct node {
    sl name, op, msg;
    sl in[8], out[4];
    int n_in, n_out, visited;
} node;

typedef struct ctx {
    const char *path;
    tens *t;
    int nt;
    node *nd;
    int nn;
    sl input_name;
    int in_rank;
    int64_t in_shape[3];
    int n_graph_outputs;
    sl meta_k[16], meta_v[16];
    int n_meta;
} ctx;

static inline int nb__onnx_eq(sl s, const char *c)
{
    size_t n = strlen(c);
    return s.n == n && (n == 0 || memcmp(s.p, c, n) == 0);
}

static inline int nb__onnx_sleq(sl a, sl b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

static inline sl fsl(const nb__pbf *f)
{
    sl s = {f->data, f->len};
    return s;
}

/* a reader of slice s; an absent field (p NULL) reads as an empty message (NULL + 0 is
 * undefined behaviour in C, so nb__pbr_make never sees it) */
static inline nb__pbr rd(sl s)
{
    static const uint8_t none[1];
    return s.p ? nb__pbr_make(s.p, s.n) : nb__pbr_make(none, 0);
}

/* printable prefix of a name for messages */
#define P(s) (int)((s).n > 60 ? 60 : (s).n), (s).p ? (const char *)(s).p : ""

/* the initializer or Constant value named name, or NULL */
NB_HIDDEN const tens *nb__onnx_find_tensor(const ctx *c, sl name);
/* a float tensor's numel values into dst; an int64 tensor's first cap values (returns numel) */
NB_HIDDEN void nb__onnx_tensor_floats(const tens *t, float *dst);
NB_HIDDEN size_t nb__onnx_tensor_i64s(const tens *t, int64_t *dst, size_t cap);
/* node n's attribute name as a message reader (0: absent), and its value by type, def when
 * absent; attr_ints: the count (may exceed cap), -1 when absent */
NB_HIDDEN int nb__onnx_attr(const node *n, const char *name, nb__pbr *a);
NB_HIDDEN int64_t nb__onnx_attr_int(const node *n, const char *name, int64_t def);
NB_HIDDEN float nb__onnx_attr_float(const node *n, const char *name, float def);
NB_HIDDEN long nb__onnx_attr_ints(const node *n, const char *name, int64_t *v, size_t cap);
NB_HIDDEN sl nb__onnx_attr_str(const node *n, const char *name);
/* a metadata value as a new NUL-terminated string in *owned (nb_free), or NULL when absent */
NB_HIDDEN const char *nb__onnx_meta(const ctx *c, const char *key, char **owned);
/* the model of a nabla file / of another tool's chain of nodes */
NB_HIDDEN int nb__onnx_load_nabla(ctx *c, nb_model **out, nb_preproc **pre);
NB_HIDDEN int nb__onnx_load_chain(ctx *c, nb_model **out);

#endif
