/* SPDX-License-Identifier: MIT */
/*
 * onnx_import.c - nb_model_load_onnx (docs/MODEL_FORMAT.md, "ONNX import"). Two kinds of file:
 *  - one nabla wrote (metadata "nabla.format" = "nabla"): the model is rebuilt from its spec
 *    and input shape (metadata), and every tensor is taken from the initializer of the same
 *    name, checked by shape: the graph's nodes (scaling, output) need not be interpreted, and
 *    layers with no single ONNX operator (silu, maxout) come back exactly;
 *  - any other (torch.onnx.export of an nn.Sequential): the nodes are walked as a chain from
 *    the graph input and each is mapped to a nabla layer, its initializers copied into the
 *    built layer's tensors.
 * The file is untrusted: the protobuf reader checks every length (pb_read.c), an initializer's
 * element count must be backed by its bytes, and the model's per-sample size is planned and
 * capped before anything is built, so nothing is allocated from a size the file did not pay
 * for in bytes.
 */
#include "nn.h"
#include "../io/pb.h"
#include "../io/onnx_proto.h"

#include <math.h>
#include <stdlib.h>
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

static int eq(sl s, const char *c)
{
    size_t n = strlen(c);
    return s.n == n && (n == 0 || memcmp(s.p, c, n) == 0);
}

static int sleq(sl a, sl b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

static sl fsl(const nb__pbf *f)
{
    sl s = {f->data, f->len};
    return s;
}

/* printable prefix of a name for messages */
#define P(s) (int)((s).n > 60 ? 60 : (s).n), (const char *)(s).p

static int malformed(const ctx *c, const char *what)
{
    return nb__fail(NB_ERR_FORMAT, "%s: malformed ONNX file (%s); is it an ONNX model (.onnx)?", c->path, what);
}

/* ------------------------------------------------------------------ tensors */

static int parse_tensor(const ctx *c, sl msg, tens *t)
{
    memset(t, 0, sizeof *t);
    t->msg = msg;
    nb__pbr r = nb__pbr_make(msg.p, msg.n);
    nb__pbf f;
    int rc;
    size_t nd = 0, nf = 0, ni = 0;
    while ((rc = nb__pbr_next(&r, &f)) == 1) {
        switch (f.field) {
        case ONNX_TENSOR_DIMS:
            if (nb__pbf_i64s(&f, t->dims, MAX_DIMS, &nd)) return malformed(c, "tensor dims");
            break;
        case ONNX_TENSOR_DATA_TYPE: t->dtype = (int)f.u; break;
        case ONNX_TENSOR_NAME:
            if (f.wire != NB__PB_LEN) return malformed(c, "tensor name");
            t->name = fsl(&f);
            break;
        case ONNX_TENSOR_RAW_DATA:
            if (f.wire != NB__PB_LEN) return malformed(c, "tensor raw_data");
            t->raw = fsl(&f);
            t->has_raw = 1;
            break;
        case ONNX_TENSOR_FLOAT_DATA:
            if (nb__pbf_f32s(&f, NULL, 0, &nf)) return malformed(c, "tensor float_data");
            break;
        case ONNX_TENSOR_INT64_DATA:
            if (nb__pbf_i64s(&f, NULL, 0, &ni)) return malformed(c, "tensor int64_data");
            break;
        case ONNX_TENSOR_EXTERNAL_DATA: t->external = 1; break;
        case ONNX_TENSOR_DATA_LOCATION: t->external |= f.u == 1; break;
        default: break;
        }
    }
    if (rc < 0) return malformed(c, "tensor");
    if (t->external)
        return nb__fail(NB_ERR_FORMAT, "%s: initializer '%.*s' keeps its data in an external file, which is not supported "
                        "(save the model with its weights inside: onnx.save(model, path, save_as_external_data=False))", c->path, P(t->name));
    if (nd > MAX_DIMS) return nb__fail(NB_ERR_FORMAT, "%s: initializer '%.*s' has %zu dimensions (at most %d)", c->path, P(t->name), nd, MAX_DIMS);
    t->rank = (int)nd;
    double numel = 1;
    for (int i = 0; i < t->rank; i++) {
        if (t->dims[i] < 0) return nb__fail(NB_ERR_FORMAT, "%s: initializer '%.*s' has a negative dimension", c->path, P(t->name));
        numel *= (double)t->dims[i];
    }
    size_t esize = t->dtype == ONNX_DT_FLOAT ? 4 : t->dtype == ONNX_DT_INT64 ? 8 : 0;
    if (!esize) return NB_OK; /* other types are refused where a value is used */
    size_t have = t->has_raw ? t->raw.n / esize : t->dtype == ONNX_DT_FLOAT ? nf : ni;
    /* the element count must be the count of values present: a huge dims array is refused
     * here, before anything is sized from it */
    if (numel != (double)have || (t->has_raw && t->raw.n % esize))
        return nb__fail(NB_ERR_FORMAT, "%s: initializer '%.*s' has dims of %.0f elements but holds %zu bytes of data (%s)", c->path,
                        P(t->name), numel, t->has_raw ? t->raw.n : have * esize, t->has_raw ? "raw_data" : t->dtype == ONNX_DT_FLOAT ? "float_data" : "int64_data");
    t->numel = have;
    return NB_OK;
}

static uint64_t le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* the values of a float tensor into dst (numel floats) */
static void tensor_floats(const tens *t, float *dst)
{
    if (t->has_raw) {
        for (size_t i = 0; i < t->numel; i++) {
            uint32_t u = (uint32_t)le(t->raw.p + 4 * i, 4);
            memcpy(&dst[i], &u, 4);
        }
        return;
    }
    nb__pbr r = nb__pbr_make(t->msg.p, t->msg.n);
    nb__pbf f;
    size_t n = 0;
    while (nb__pbr_next(&r, &f) == 1)
        if (f.field == ONNX_TENSOR_FLOAT_DATA) nb__pbf_f32s(&f, dst, t->numel, &n);
}

static size_t tensor_i64s(const tens *t, int64_t *dst, size_t cap)
{
    size_t n = 0;
    if (t->has_raw) {
        for (size_t i = 0; i < t->numel && i < cap; i++) dst[i] = (int64_t)le(t->raw.p + 8 * i, 8);
        return t->numel;
    }
    nb__pbr r = nb__pbr_make(t->msg.p, t->msg.n);
    nb__pbf f;
    while (nb__pbr_next(&r, &f) == 1)
        if (f.field == ONNX_TENSOR_INT64_DATA) nb__pbf_i64s(&f, dst, cap, &n);
    return n;
}

static const tens *find_tensor(const ctx *c, sl name)
{
    for (int i = 0; i < c->nt; i++)
        if (sleq(c->t[i].name, name)) return &c->t[i];
    return NULL;
}

/* ------------------------------------------------------------------ nodes and attributes */

static int parse_node(const ctx *c, sl msg, node *n)
{
    memset(n, 0, sizeof *n);
    n->msg = msg;
    nb__pbr r = nb__pbr_make(msg.p, msg.n);
    nb__pbf f;
    int rc;
    while ((rc = nb__pbr_next(&r, &f)) == 1) {
        if (f.wire != NB__PB_LEN) continue;
        if (f.field == ONNX_NODE_INPUT) {
            if (n->n_in < 8) n->in[n->n_in] = fsl(&f);
            n->n_in++;
        } else if (f.field == ONNX_NODE_OUTPUT) {
            if (n->n_out < 4) n->out[n->n_out] = fsl(&f);
            n->n_out++;
        } else if (f.field == ONNX_NODE_NAME) n->name = fsl(&f);
        else if (f.field == ONNX_NODE_OP_TYPE) n->op = fsl(&f);
        else if (f.field == ONNX_NODE_DOMAIN && f.len && !eq(fsl(&f), "ai.onnx"))
            return nb__fail(NB_ERR_FORMAT, "%s: a node uses operator domain '%.*s' (nabla reads the default ONNX domain only)", c->path, P(fsl(&f)));
    }
    if (rc < 0) return malformed(c, "node");
    if (n->n_in > 8 || n->n_out > 4 || n->n_out < 1) return malformed(c, "node inputs or outputs");
    return NB_OK;
}

/* the attribute named name of node n: its message in *a; 0 when absent */
static int attr(const node *n, const char *name, nb__pbr *a)
{
    nb__pbr r = nb__pbr_make(n->msg.p, n->msg.n);
    nb__pbf f;
    while (nb__pbr_next(&r, &f) == 1) {
        if (f.field != ONNX_NODE_ATTRIBUTE || f.wire != NB__PB_LEN) continue;
        nb__pbr s = nb__pbr_sub(&f);
        nb__pbf g;
        while (nb__pbr_next(&s, &g) == 1)
            if (g.field == ONNX_ATTR_NAME && g.wire == NB__PB_LEN && eq(fsl(&g), name)) {
                *a = nb__pbr_sub(&f);
                return 1;
            }
    }
    return 0;
}

static int64_t attr_int(const node *n, const char *name, int64_t def)
{
    nb__pbr a;
    nb__pbf f;
    if (!attr(n, name, &a)) return def;
    while (nb__pbr_next(&a, &f) == 1)
        if (f.field == ONNX_ATTR_I && f.wire == NB__PB_VARINT) return (int64_t)f.u;
    return def;
}

static float attr_float(const node *n, const char *name, float def)
{
    nb__pbr a;
    nb__pbf f;
    if (!attr(n, name, &a)) return def;
    while (nb__pbr_next(&a, &f) == 1)
        if (f.field == ONNX_ATTR_F && f.wire == NB__PB_I32) return nb__pbf_float(&f);
    return def;
}

/* ints attribute: count (possibly > cap), -1 absent */
static long attr_ints(const node *n, const char *name, int64_t *v, size_t cap)
{
    nb__pbr a;
    nb__pbf f;
    size_t k = 0;
    if (!attr(n, name, &a)) return -1;
    while (nb__pbr_next(&a, &f) == 1)
        if (f.field == ONNX_ATTR_INTS && nb__pbf_i64s(&f, v, cap, &k)) return (long)cap + 1;
    return (long)k;
}

static sl attr_str(const node *n, const char *name)
{
    nb__pbr a;
    nb__pbf f;
    sl none = {NULL, 0};
    if (!attr(n, name, &a)) return none;
    while (nb__pbr_next(&a, &f) == 1)
        if (f.field == ONNX_ATTR_S && f.wire == NB__PB_LEN) return fsl(&f);
    return none;
}

/* ------------------------------------------------------------------ the model and graph */

static int parse_value_info(ctx *c, sl msg)
{
    nb__pbr r = nb__pbr_make(msg.p, msg.n);
    nb__pbf f;
    sl name = {NULL, 0}, type = {NULL, 0};
    while (nb__pbr_next(&r, &f) == 1) {
        if (f.field == ONNX_VALUE_NAME && f.wire == NB__PB_LEN) name = fsl(&f);
        if (f.field == ONNX_VALUE_TYPE && f.wire == NB__PB_LEN) type = fsl(&f);
    }
    if (find_tensor(c, name)) return NB_OK; /* old exporters list initializers as inputs too */
    if (c->input_name.p) return nb__fail(NB_ERR_FORMAT, "%s: the graph has more than one input ('%.*s' and '%.*s'; nabla models take one)", c->path, P(c->input_name), P(name));
    c->input_name = name;
    /* type.tensor_type.shape.dim[] */
    sl tt = {NULL, 0}, shape = {NULL, 0};
    int elem = 0;
    r = nb__pbr_make(type.p, type.n);
    while (nb__pbr_next(&r, &f) == 1)
        if (f.field == ONNX_TYPE_TENSOR_TYPE && f.wire == NB__PB_LEN) tt = fsl(&f);
    r = nb__pbr_make(tt.p, tt.n);
    while (nb__pbr_next(&r, &f) == 1) {
        if (f.field == ONNX_TTYPE_ELEM_TYPE && f.wire == NB__PB_VARINT) elem = (int)f.u;
        if (f.field == ONNX_TTYPE_SHAPE && f.wire == NB__PB_LEN) shape = fsl(&f);
    }
    if (elem != ONNX_DT_FLOAT)
        return nb__fail(NB_ERR_FORMAT, "%s: graph input '%.*s' is not a float tensor (element type %d; nabla reads float inputs)", c->path, P(name), elem);
    r = nb__pbr_make(shape.p, shape.n);
    int k = 0;
    while (nb__pbr_next(&r, &f) == 1) {
        if (f.field != ONNX_SHAPE_DIM || f.wire != NB__PB_LEN) continue;
        nb__pbr d = nb__pbr_sub(&f);
        nb__pbf g;
        int64_t v = -1;
        while (nb__pbr_next(&d, &g) == 1)
            if (g.field == ONNX_DIM_VALUE && g.wire == NB__PB_VARINT) v = (int64_t)g.u;
        if (k >= 1 && k <= 3) {
            if (v < 1 || v > 1000000000)
                return nb__fail(NB_ERR_FORMAT, "%s: graph input '%.*s' dimension %d is not a fixed positive size (nabla needs the sample shape; only dimension 0, the batch, may be dynamic)",
                                c->path, P(name), k);
            c->in_shape[k - 1] = v;
        }
        k++;
    }
    if (k < 2 || k > 4)
        return nb__fail(NB_ERR_FORMAT, "%s: graph input '%.*s' has %d dimensions (nabla takes (batch, features), (batch, C, H, W) and the like: 2 to 4)", c->path, P(name), k);
    c->in_rank = k - 1;
    return NB_OK;
}

static int parse_graph(ctx *c, sl g)
{
    int nt = 0, nn = 0, rc;
    nb__pbf f;
    /* count first: the arrays are sized by fields present, each at least two bytes of the file */
    nb__pbr r = nb__pbr_make(g.p, g.n);
    while ((rc = nb__pbr_next(&r, &f)) == 1) {
        nt += f.field == ONNX_GRAPH_INITIALIZER;
        nn += f.field == ONNX_GRAPH_NODE;
    }
    if (rc < 0) return malformed(c, "graph");
    if (nn > MAX_NODES) return nb__fail(NB_ERR_FORMAT, "%s: the graph has %d nodes (nabla imports at most %d)", c->path, nn, MAX_NODES);
    c->t = nb__calloc((size_t)(nt + nn + 1), sizeof *c->t);
    c->nd = nb__calloc((size_t)nn + 1, sizeof *c->nd);
    if (!c->t || !c->nd) return NB_ERR_NOMEM;
    r = nb__pbr_make(g.p, g.n);
    while (nb__pbr_next(&r, &f) == 1) {
        if (f.wire != NB__PB_LEN) continue;
        if (f.field == ONNX_GRAPH_INITIALIZER) {
            if ((rc = parse_tensor(c, fsl(&f), &c->t[c->nt]))) return rc;
            c->nt++;
        } else if (f.field == ONNX_GRAPH_NODE) {
            node *n = &c->nd[c->nn];
            if ((rc = parse_node(c, fsl(&f), n))) return rc;
            c->nn++;
            if (eq(n->op, "Constant")) { /* its value is an initializer under its output's name */
                nb__pbr a;
                nb__pbf v;
                int found = 0;
                if (attr(n, "value", &a))
                    while (nb__pbr_next(&a, &v) == 1)
                        if (v.field == ONNX_ATTR_T && v.wire == NB__PB_LEN) {
                            if ((rc = parse_tensor(c, fsl(&v), &c->t[c->nt]))) return rc;
                            c->t[c->nt++].name = n->out[0];
                            found = 1;
                        }
                if (!found)
                    return nb__fail(NB_ERR_FORMAT, "%s: node %d '%.*s' (Constant): an attribute other than 'value' (a tensor) is not supported (value)", c->path, c->nn - 1, P(n->name));
            }
        } else if (f.field == ONNX_GRAPH_SPARSE_INITIALIZER) {
            return nb__fail(NB_ERR_FORMAT, "%s: the graph has a sparse initializer, which is not supported (dense initializers)", c->path);
        }
    }
    r = nb__pbr_make(g.p, g.n);
    while (nb__pbr_next(&r, &f) == 1) {
        if (f.field == ONNX_GRAPH_INPUT && f.wire == NB__PB_LEN && (rc = parse_value_info(c, fsl(&f)))) return rc;
        c->n_graph_outputs += f.field == ONNX_GRAPH_OUTPUT;
    }
    if (!c->input_name.p) return nb__fail(NB_ERR_FORMAT, "%s: the graph has no input", c->path);
    return NB_OK;
}

static const char *meta(const ctx *c, const char *key, char **owned)
{
    for (int i = 0; i < c->n_meta; i++)
        if (eq(c->meta_k[i], key)) {
            *owned = nb__alloc(c->meta_v[i].n + 1);
            if (!*owned) return NULL;
            if (c->meta_v[i].n) memcpy(*owned, c->meta_v[i].p, c->meta_v[i].n);
            (*owned)[c->meta_v[i].n] = 0;
            return *owned;
        }
    return NULL;
}


/* ------------------------------------------------------------------ files nabla wrote */

static int copy_tensor(const ctx *c, const tens *t, nb_view *v, int transpose, const char *what)
{
    if (t->dtype != ONNX_DT_FLOAT)
        return nb__fail(NB_ERR_FORMAT, "%s: initializer '%.*s' has data type %d, %s needs float (1)", c->path, P(t->name), t->dtype, what);
    if (t->numel != v->n) {
        char b[96];
        return nb__fail(NB_ERR_FORMAT, "%s: initializer '%.*s' holds %zu values, %s needs %s = %zu", c->path, P(t->name), t->numel, what,
                        nb__shape_str(v->rank, v->shape, b, sizeof b), v->n);
    }
    if (!transpose) tensor_floats(t, v->data);
    else {
        float *tmp = nb__alloc(v->n * sizeof *tmp + 1);
        if (!tmp) return NB_ERR_NOMEM;
        tensor_floats(t, tmp);
        int64_t rows = v->shape[0], cols = v->shape[1]; /* v (out, in) <- t (in, out) */
        for (int64_t i = 0; i < rows; i++)
            for (int64_t j = 0; j < cols; j++) v->data[i * cols + j] = tmp[j * rows + i];
        nb_free(tmp);
    }
    for (size_t k = 0; k < v->n; k++)
        if (!isfinite(v->data[k]))
            return nb__fail(NB_ERR_NUMERIC, "%s: initializer '%.*s' holds %s at element %zu; a model's weights must be finite numbers", c->path,
                            P(t->name), isnan(v->data[k]) ? "NaN" : "inf", k);
    return NB_OK;
}

/* the model's per-sample size and weights, planned before building (as check_size in
 * modelfile.c): a graph input of 10^9 x 10^9 or a few initializers cannot make the build
 * allocate more than the file paid for */
static int plan_checked(const ctx *c, nb_model *m, double held)
{
    nb__plan t;
    int rc = nb__model_plan(m, c->in_rank, c->in_shape, &t);
    if (t.values > FILE_MAX_VALUES)
        return nb__fail(NB_ERR_FORMAT, "%s: the model needs about %.3g values per sample, more than the %.0f a model file may ask for", c->path,
                        t.values, FILE_MAX_VALUES);
    if (t.weights > held)
        return nb__fail(NB_ERR_FORMAT, "%s: the model has %.0f weights, but the file holds only %.0f numbers", c->path, t.weights, held);
    return rc ? nb__fail_prefix(rc == NB_ERR_NOMEM ? rc : NB_ERR_FORMAT, "%s", c->path) : NB_OK;
}

static double held_values(const ctx *c)
{
    double h = 0;
    for (int i = 0; i < c->nt; i++) h += (double)c->t[i].numel;
    return h;
}

static int parse_dims(const char *s, int *rank, int64_t shape[3])
{
    int k = 0;
    while (*s == ' ' || *s == '[') s++;
    while (*s && *s != ']') {
        char *e;
        long long v = strtoll(s, &e, 10);
        if (e == s || k >= 3 || v < 1 || v > 1000000000) return -1;
        shape[k++] = v;
        s = e;
        while (*s == ' ' || *s == ',') s++;
    }
    *rank = k;
    return k >= 1 ? 0 : -1;
}

static int load_nabla(ctx *c, nb_model **out, nb_preproc **pre)
{
    char *arch = NULL, *task_s = NULL, *shape_s = NULL, *pre_s = NULL;
    int rc = NB_OK;
    nb_task task;
    meta(c, "nabla.architecture", &arch);
    meta(c, "nabla.task", &task_s);
    meta(c, "nabla.input_shape", &shape_s);
    meta(c, "nabla.preprocessing", &pre_s);
    nb_model *m = NULL;
    if (!arch || !task_s || !shape_s)
        rc = nb__fail(NB_ERR_FORMAT, "%s: a nabla ONNX file lacks metadata %s", c->path, !arch ? "nabla.architecture" : !task_s ? "nabla.task" : "nabla.input_shape");
    else if (nb_task_parse(task_s, &task))
        rc = nb__fail(NB_ERR_FORMAT, "%s: metadata nabla.task '%.40s' is unknown", c->path, task_s);
    else if (parse_dims(shape_s, &c->in_rank, c->in_shape))
        rc = nb__fail(NB_ERR_FORMAT, "%s: metadata nabla.input_shape '%.40s' is not a list of 1 to 3 positive sizes", c->path, shape_s);
    else if ((rc = nb_model_parse(arch, task, &m)))
        rc = nb__fail_prefix(rc == NB_ERR_NOMEM ? rc : NB_ERR_FORMAT, "%s: metadata nabla.architecture", c->path);
    else if (!(rc = plan_checked(c, m, held_values(c))) && (rc = nb_model_build(m, c->in_rank, c->in_shape, 0)))
        rc = nb__fail_prefix(rc == NB_ERR_NOMEM ? rc : NB_ERR_FORMAT, "%s", c->path);
    for (int i = 0; !rc && i < m->n_ptensors; i++) {
        nb_view v;
        nb_graph_value(m->g, m->ptensors[i].node, &v);
        const char *name = m->ptensors[i].name;
        sl want = {(const uint8_t *)name, strlen(name)};
        const tens *t = find_tensor(c, want);
        size_t nl = strlen(name);
        if (!t && nl >= 19 && !strcmp(name + nl - 19, "num_batches_tracked")) {
            memset(v.data, 0, v.n * sizeof(float)); /* a training counter, not needed to predict */
            continue;
        }
        if (!t) {
            rc = nb__fail(NB_ERR_FORMAT, "%s: initializer '%s' is missing (a nabla ONNX file holds each tensor of its architecture under the tensor's name%s)",
                          c->path, name, m->layers[0].type >= NB_LAYER_EMBEDDING || m->n_layers > 1 ? "; recurrent layers' reordered gates are not imported yet" : "");
            break;
        }
        int same = t->rank == v.rank;
        for (int d = 0; same && d < v.rank; d++) same = t->dims[d] == v.shape[d];
        if (!same) {
            char a[96];
            rc = nb__fail(NB_ERR_FORMAT, "%s: initializer '%s' does not have the shape %s the architecture needs", c->path, name, nb__shape_str(v.rank, v.shape, a, sizeof a));
            break;
        }
        rc = copy_tensor(c, t, &v, 0, "the architecture");
    }
    if (!rc && pre_s && (rc = nb_preproc_from_json(pre_s, pre)))
        rc = nb__fail_prefix(rc == NB_ERR_NOMEM ? rc : NB_ERR_FORMAT, "%s: metadata nabla.preprocessing", c->path);
    nb_free(arch);
    nb_free(task_s);
    nb_free(shape_s);
    nb_free(pre_s);
    if (rc) nb_model_free(m);
    else *out = m;
    return rc;
}

/* ------------------------------------------------------------------ files of other tools */

#define SUPPORTED "Gemm, MatMul + Add, Conv, Relu, Sigmoid, Tanh, LeakyRelu, Elu, Softplus, PRelu, MaxPool, AveragePool, " \
                  "GlobalAveragePool, BatchNormalization, Flatten, Reshape (flatten), Softmax, LogSoftmax, Dropout, Identity"

static int unsup(const ctx *c, int k, const node *n, const char *what, const char *supported)
{
    return nb__fail(NB_ERR_FORMAT, "%s: node %d '%.*s' (%.*s): %s is not supported (%s)", c->path, k, P(n->name), P(n->op), what, supported);
}

typedef struct src {
    const tens *w[4];
    int transpose, node;
    int64_t reshape; /* a Reshape to (-1, reshape): checked against the planned width */
} src;

/* the nodes whose input 0 (or any input: any) is v */
static int consumers(const ctx *c, sl v, int any, int *first)
{
    int cnt = 0;
    for (int i = 0; i < c->nn; i++) {
        if (eq(c->nd[i].op, "Constant")) continue;
        int hit = 0;
        for (int j = 0; j < (any ? c->nd[i].n_in : 1) && j < 8; j++) hit |= c->nd[i].n_in > 0 && sleq(c->nd[i].in[j], v);
        if (hit && !cnt++) *first = i;
    }
    return cnt;
}

/* input j of node k as a float initializer or Constant */
static int weight(const ctx *c, int k, const node *n, int j, const tens **out)
{
    *out = NULL;
    if (j >= n->n_in || j >= 8 || !n->in[j].n) return NB_OK;
    const tens *t = find_tensor(c, n->in[j]);
    if (!t)
        return nb__fail(NB_ERR_FORMAT, "%s: node %d '%.*s' (%.*s): input '%.*s' is not an initializer or a Constant (nabla imports a chain of layers whose weights are constants)",
                        c->path, k, P(n->name), P(n->op), P(n->in[j]));
    if (t->dtype != ONNX_DT_FLOAT)
        return nb__fail(NB_ERR_FORMAT, "%s: node %d '%.*s' (%.*s): initializer '%.*s' has data type %d, not float (1)", c->path, k, P(n->name), P(n->op), P(t->name), t->dtype);
    *out = t;
    return NB_OK;
}

static int pads_sym(const node *n, int pad[2])
{
    int64_t p[4] = {0, 0, 0, 0};
    long np = attr_ints(n, "pads", p, 4);
    if (np != -1 && np != 4) return -1;
    if (p[0] != p[2] || p[1] != p[3] || p[0] < 0 || p[1] < 0 || p[0] > 65536 || p[1] > 65536) return -1;
    pad[0] = (int)p[0], pad[1] = (int)p[1];
    return 0;
}

static int pair(const node *n, const char *name, int v[2], int def)
{
    int64_t p[2] = {def, def};
    long np = attr_ints(n, name, p, 2);
    if (np != -1 && np != 2) return -1;
    if (p[0] < 1 || p[1] < 1 || p[0] > 65536 || p[1] > 65536) return -1;
    v[0] = (int)p[0], v[1] = (int)p[1];
    return 0;
}

static int add_node(ctx *c, nb_model *m, int k, node *n, src *s, int last, int *final_op, sl *cur)
{
    const char *op_s = NULL;
    int rc = NB_OK, nl0 = m->n_layers;
    src one = {{NULL}, 0, k, 0};
    *cur = n->out[0];
    if (eq(n->op, "Gemm")) {
        if (attr_float(n, "alpha", 1) != 1 || attr_float(n, "beta", 1) != 1) return unsup(c, k, n, "alpha or beta other than 1", "alpha = beta = 1");
        if (attr_int(n, "transA", 0) != 0) return unsup(c, k, n, "transA = 1", "transA = 0");
        int64_t tb = attr_int(n, "transB", 0);
        if (tb != 0 && tb != 1) return unsup(c, k, n, "this transB", "transB 0 or 1");
        if ((rc = weight(c, k, n, 1, &one.w[0])) || (rc = weight(c, k, n, 2, &one.w[1]))) return rc;
        if (!one.w[0] || one.w[0]->rank != 2) return unsup(c, k, n, "a weight B that is not a matrix", "B a 2-d initializer");
        int64_t units = tb ? one.w[0]->dims[0] : one.w[0]->dims[1];
        if (units < 1 || units > 1 << 24) return unsup(c, k, n, "this number of units", "1 to 2^24");
        if (one.w[1] && one.w[1]->numel != (size_t)units) return unsup(c, k, n, "a bias C that is not one value per unit", "C of shape (units)");
        one.transpose = !tb;
        rc = nb_model_add_dense(m, (int)units, one.w[1] != NULL);
    } else if (eq(n->op, "MatMul")) {
        if ((rc = weight(c, k, n, 1, &one.w[0]))) return rc;
        if (!one.w[0] || one.w[0]->rank != 2) return unsup(c, k, n, "a second input that is not a matrix", "MatMul by a 2-d initializer");
        int64_t units = one.w[0]->dims[1];
        if (units < 1 || units > 1 << 24) return unsup(c, k, n, "this number of units", "1 to 2^24");
        one.transpose = 1;
        int a = -1;
        /* torch writes Linear on a batch as MatMul then Add of the bias */
        if (consumers(c, n->out[0], 1, &a) == 1 && eq(c->nd[a].op, "Add") && c->nd[a].n_in == 2 && !c->nd[a].visited) {
            node *ad = &c->nd[a];
            int j = sleq(ad->in[0], n->out[0]) ? 1 : 0;
            const tens *b = find_tensor(c, ad->in[j]);
            if (b && b->dtype == ONNX_DT_FLOAT && b->numel == (size_t)units) {
                one.w[1] = b;
                ad->visited = 1;
                *cur = ad->out[0];
            }
        }
        rc = nb_model_add_dense(m, (int)units, one.w[1] != NULL);
    } else if (eq(n->op, "Conv")) {
        int stride[2], dil[2], pad[2];
        if (attr_int(n, "group", 1) != 1) return unsup(c, k, n, "group other than 1", "group = 1");
        sl ap = attr_str(n, "auto_pad");
        if (ap.p && !eq(ap, "NOTSET")) return unsup(c, k, n, "auto_pad", "auto_pad NOTSET with explicit pads");
        if (pads_sym(n, pad)) return unsup(c, k, n, "these pads", "2-d symmetric pads");
        if (pair(n, "strides", stride, 1) || pair(n, "dilations", dil, 1)) return unsup(c, k, n, "these strides or dilations", "2-d, 1 to 65536");
        if ((rc = weight(c, k, n, 1, &one.w[0])) || (rc = weight(c, k, n, 2, &one.w[1]))) return rc;
        if (!one.w[0] || one.w[0]->rank != 4) return unsup(c, k, n, "a weight that is not (out, in, kh, kw)", "2-d convolutions");
        const int64_t *d = one.w[0]->dims;
        int64_t ks[2] = {d[2], d[3]};
        if (attr_ints(n, "kernel_shape", ks, 2) != -1 && (ks[0] != d[2] || ks[1] != d[3])) return unsup(c, k, n, "a kernel_shape unlike the weight's", "kernel_shape = the weight's");
        if (d[0] < 1 || d[0] > 1 << 24 || d[2] < 1 || d[3] < 1 || d[2] > 65536 || d[3] > 65536) return unsup(c, k, n, "this weight shape", "positive sizes");
        if (one.w[1] && one.w[1]->numel != (size_t)d[0]) return unsup(c, k, n, "a bias that is not one value per output channel", "bias (out_channels)");
        int kern[2] = {(int)d[2], (int)d[3]};
        rc = nb_model_add_conv2d(m, (int)d[0], kern, stride, pad, dil, one.w[1] != NULL);
    } else if (eq(n->op, "MaxPool") || eq(n->op, "AveragePool")) {
        int kern[2], stride[2], pad[2], dil[2];
        int64_t ks[2];
        if (attr_ints(n, "kernel_shape", ks, 2) != 2 || ks[0] < 1 || ks[1] < 1 || ks[0] > 65536 || ks[1] > 65536) return unsup(c, k, n, "this kernel_shape", "2-d pooling");
        kern[0] = (int)ks[0], kern[1] = (int)ks[1];
        sl ap = attr_str(n, "auto_pad");
        if (ap.p && !eq(ap, "NOTSET")) return unsup(c, k, n, "auto_pad", "auto_pad NOTSET with explicit pads");
        if (pads_sym(n, pad)) return unsup(c, k, n, "these pads", "2-d symmetric pads");
        if (pair(n, "strides", stride, 1)) return unsup(c, k, n, "these strides", "2-d, 1 to 65536");
        if (pair(n, "dilations", dil, 1) || dil[0] != 1 || dil[1] != 1) return unsup(c, k, n, "dilations", "dilations 1");
        if (attr_int(n, "ceil_mode", 0) != 0) return unsup(c, k, n, "ceil_mode = 1", "ceil_mode 0");
        if (attr_int(n, "storage_order", 0) != 0) return unsup(c, k, n, "storage_order = 1", "storage_order 0");
        int avg = eq(n->op, "AveragePool");
        /* nabla's average divides by the whole window, padding included: the same only when
         * count_include_pad is 1 or there is no padding */
        if (avg && (pad[0] || pad[1]) && attr_int(n, "count_include_pad", 0) != 1)
            return unsup(c, k, n, "count_include_pad = 0 with padding", "count_include_pad = 1, or no padding");
        rc = nb_model_add_pool(m, avg ? NB_LAYER_AVGPOOL : NB_LAYER_MAXPOOL, kern, stride, pad);
    } else if (eq(n->op, "GlobalAveragePool")) {
        rc = nb_model_add_global_avgpool(m);
    } else if (eq(n->op, "BatchNormalization")) {
        if (attr_int(n, "training_mode", 0) != 0) return unsup(c, k, n, "training_mode = 1", "training_mode 0");
        if (attr_int(n, "spatial", 1) != 1) return unsup(c, k, n, "spatial = 0", "spatial 1");
        float eps = attr_float(n, "epsilon", 1e-5f);
        if (eps != 1e-5f) {
            char what[64];
            snprintf(what, sizeof what, "epsilon %g", (double)eps);
            return unsup(c, k, n, what, "epsilon 1e-05, nabla's and PyTorch's default");
        }
        for (int j = 0; j < 4; j++)
            if ((rc = weight(c, k, n, j + 1, &one.w[j]))) return rc;
        if (!one.w[3]) return unsup(c, k, n, "fewer than 5 inputs", "X, scale, B, mean, var");
        rc = nb_model_add_batchnorm(m);
    } else if (eq(n->op, "Flatten")) {
        if (attr_int(n, "axis", 1) != 1) return unsup(c, k, n, "axis other than 1", "axis 1");
        rc = nb_model_add_flatten(m);
    } else if (eq(n->op, "Reshape")) {
        const tens *t = n->n_in >= 2 ? find_tensor(c, n->in[1]) : NULL;
        int64_t sh[2] = {0, 0};
        if (!t || t->dtype != ONNX_DT_INT64 || t->numel != 2 || tensor_i64s(t, sh, 2) != 2 || !((sh[0] == 0 || sh[0] == -1) && (sh[1] == -1 || sh[0] == -1)))
            return unsup(c, k, n, "a reshape other than a flatten", "a shape (0, -1) or (-1, features) from an initializer or Constant");
        one.reshape = sh[1] > 0 ? sh[1] : 0;
        rc = nb_model_add_flatten(m);
    } else if (eq(n->op, "Relu")) op_s = "relu", rc = nb_model_add_activation(m, NB_OP_RELU, 0);
    else if (eq(n->op, "Tanh")) op_s = "tanh", rc = nb_model_add_activation(m, NB_OP_TANH, 0);
    else if (eq(n->op, "Softplus")) op_s = "softplus", rc = nb_model_add_activation(m, NB_OP_SOFTPLUS, 0);
    else if (eq(n->op, "LeakyRelu") || eq(n->op, "Elu")) {
        int leaky = eq(n->op, "LeakyRelu");
        float a = attr_float(n, "alpha", leaky ? 0.01f : 1.0f);
        if (!isfinite(a) || (!leaky && a < 0)) return unsup(c, k, n, "this alpha", "a finite alpha");
        /* nabla's parameter 0 means the default; an alpha of 0 is a ReLU */
        rc = a == 0 ? nb_model_add_activation(m, NB_OP_RELU, 0) : nb_model_add_activation(m, leaky ? NB_OP_LEAKY_RELU : NB_OP_ELU, a);
    } else if (eq(n->op, "PRelu")) {
        if ((rc = weight(c, k, n, 1, &one.w[0]))) return rc;
        if (!one.w[0] || one.w[0]->numel < 1 || one.w[0]->numel > 1000000) return unsup(c, k, n, "this slope", "1 to 10^6 slopes");
        rc = nb_model_add_prelu(m, (int)one.w[0]->numel);
    } else if (eq(n->op, "Sigmoid") || eq(n->op, "Softmax") || eq(n->op, "LogSoftmax")) {
        int sig = eq(n->op, "Sigmoid");
        if (!sig) {
            int64_t ax = attr_int(n, "axis", -1);
            if (ax != 1 && ax != -1) return unsup(c, k, n, "this axis", "axis 1 or -1");
        }
        if (last) *final_op = sig ? 1 : 2; /* the task's output: nabla applies it itself */
        else rc = nb_model_add_activation(m, sig ? NB_OP_SIGMOID : eq(n->op, "Softmax") ? NB_OP_SOFTMAX : NB_OP_LOG_SOFTMAX, 0);
    } else if (eq(n->op, "Dropout") || eq(n->op, "Identity")) {
        /* inference: nothing to do */
    } else if (eq(n->op, "LSTM") || eq(n->op, "GRU") || eq(n->op, "RNN") || eq(n->op, "Gather")) {
        return unsup(c, k, n, "this operator in a file nabla did not write", "recurrent layers and embeddings are imported from nabla's own ONNX files only");
    } else {
        return unsup(c, k, n, "the operator", SUPPORTED);
    }
    (void)op_s;
    if (rc) return nb__fail_prefix(rc == NB_ERR_NOMEM ? rc : NB_ERR_FORMAT, "%s: node %d '%.*s' (%.*s)", c->path, k, P(n->name), P(n->op));
    if (m->n_layers > nl0) s[m->n_layers - 1] = one;
    return NB_OK;
}

static int load_chain(ctx *c, nb_model **out)
{
    nb_model *m = NULL;
    src *s = nb__calloc((size_t)c->nn + 1, sizeof *s);
    int rc = s ? nb_model_create(NB_TASK_CLASSIFY, &m) : NB_ERR_NOMEM;
    int final_op = 0;
    sl cur = c->input_name;
    while (!rc) {
        int k = -1, cnt = consumers(c, cur, 0, &k), other = -1;
        if (cnt > 1) {
            rc = nb__fail(NB_ERR_FORMAT, "%s: value '%.*s' feeds %d nodes (nabla imports a sequential chain of nodes, without branches)", c->path, P(cur), cnt);
            break;
        }
        if (cnt == 0) {
            if (consumers(c, cur, 1, &other)) {
                node *n = &c->nd[other];
                rc = unsup(c, other, n, "a node whose data input is not its first", "sequential chains");
            }
            break;
        }
        node *n = &c->nd[k];
        if (n->visited) {
            rc = nb__fail(NB_ERR_FORMAT, "%s: node %d '%.*s' (%.*s): the graph has a cycle through it (nabla imports a sequential chain of nodes)", c->path, k, P(n->name), P(n->op));
            break;
        }
        n->visited = 1;
        int last = !consumers(c, n->out[0], 1, &other);
        rc = add_node(c, m, k, n, s, last, &final_op, &cur);
    }
    for (int i = 0; !rc && i < c->nn; i++)
        if (!c->nd[i].visited && !eq(c->nd[i].op, "Constant"))
            rc = nb__fail(NB_ERR_FORMAT, "%s: node %d '%.*s' (%.*s) is not on the chain from the graph input '%.*s' (nabla imports a sequential chain of nodes; branches, "
                          "cycles and inputs from nowhere are not supported)", c->path, i, P(c->nd[i].name), P(c->nd[i].op), P(c->input_name));
    if (!rc && m->n_layers == 0) rc = nb__fail(NB_ERR_FORMAT, "%s: the graph has no layers nabla can import", c->path);
    if (!rc) rc = plan_checked(c, m, held_values(c));
    const nb__layer *L = rc ? NULL : &m->layers[m->n_layers - 1];
    if (!rc && L->out_rank != 1)
        rc = nb__fail(NB_ERR_FORMAT, "%s: the model's output is not a vector per sample (add a Flatten before the last layer)", c->path);
    for (int i = 0; !rc && i < m->n_layers; i++)
        if (s[i].reshape && s[i].reshape != m->layers[i].out_shape[0])
            rc = nb__fail(NB_ERR_FORMAT, "%s: node %d: a Reshape to (-1, %lld) where a sample holds %lld values", c->path, s[i].node, (long long)s[i].reshape,
                          (long long)m->layers[i].out_shape[0]);
    if (!rc) {
        /* the task (docs/MODEL_FORMAT.md): a final Softmax / LogSoftmax -> classify, a final
         * Sigmoid -> binary (1 output) or multilabel; none -> classify with more than one output,
         * regress with one */
        int64_t no = L->out_shape[0];
        m->task = final_op == 2 ? NB_TASK_CLASSIFY : final_op == 1 ? (no == 1 ? NB_TASK_BINARY : NB_TASK_MULTILABEL) : no > 1 ? NB_TASK_CLASSIFY : NB_TASK_REGRESS;
        if (m->task == NB_TASK_CLASSIFY && no < 2) rc = nb__fail(NB_ERR_FORMAT, "%s: a Softmax over 1 output (a classifier needs 2 or more)", c->path);
        else if ((rc = nb_model_build(m, c->in_rank, c->in_shape, (int)no)))
            rc = nb__fail_prefix(rc == NB_ERR_NOMEM ? rc : NB_ERR_FORMAT, "%s", c->path);
    }
    for (int i = 0; !rc && i < m->n_layers; i++) {
        const nb__layer *l = &m->layers[i];
        for (int j = 0; !rc && j < l->nt; j++) {
            nb_view v;
            nb_graph_value(m->g, m->ptensors[l->t0 + j].node, &v);
            const tens *t = j < 4 ? s[i].w[j] : NULL;
            char what[64];
            snprintf(what, sizeof what, "layer %d (%s)", i, l->word);
            if (!t) memset(v.data, 0, v.n * sizeof(float)); /* num_batches_tracked */
            else rc = copy_tensor(c, t, &v, j == 0 && s[i].transpose, what);
        }
    }
    nb_free(s);
    if (rc) nb_model_free(m);
    else *out = m;
    return rc;
}

int nb_model_load_onnx(const char *path, nb_model **out, nb_preproc **pp)
{
    if (!out) return nb__fail(NB_ERR_ARG, "nb_model_load_onnx: out is NULL");
    *out = NULL;
    if (pp) *pp = NULL;
    if (!path) return nb__fail(NB_ERR_ARG, "nb_model_load_onnx: path is NULL");
    const uint64_t cap64 = (uint64_t)1 << 32; /* as nb_model_load's */
    size_t cap = cap64 > SIZE_MAX / 4 ? SIZE_MAX / 4 : (size_t)cap64;
    char *file;
    size_t size;
    int rc = nb__read_file(path, cap, &file, &size);
    if (rc) return rc;
    ctx c;
    memset(&c, 0, sizeof c);
    c.path = path;
    nb__pbr r = nb__pbr_make(file, size);
    nb__pbf f;
    sl graph = {NULL, 0};
    int have_opset = 0;
    while ((rc = nb__pbr_next(&r, &f)) == 1) {
        if (f.field == ONNX_MODEL_GRAPH && f.wire == NB__PB_LEN) graph = fsl(&f);
        else if (f.field == ONNX_MODEL_OPSET_IMPORT && f.wire == NB__PB_LEN) {
            nb__pbr o = nb__pbr_sub(&f);
            nb__pbf g;
            sl dom = {NULL, 0};
            int64_t ver = 0;
            while (nb__pbr_next(&o, &g) == 1) {
                if (g.field == ONNX_OPSET_DOMAIN && g.wire == NB__PB_LEN) dom = fsl(&g);
                if (g.field == ONNX_OPSET_VERSION && g.wire == NB__PB_VARINT) ver = (int64_t)g.u;
            }
            if (dom.n && !eq(dom, "ai.onnx")) {
                rc = nb__fail(NB_ERR_FORMAT, "%s: operator set domain '%.*s' is not supported (nabla reads the default ONNX domain, opsets 7 to 18)", path, P(dom));
                break;
            }
            if (ver < 7 || ver > 18) {
                rc = nb__fail(NB_ERR_FORMAT, "%s: opset %lld is not supported (nabla reads opsets 7 to 18 of the default domain)", path, (long long)ver);
                break;
            }
            have_opset = 1;
        } else if (f.field == ONNX_MODEL_METADATA_PROPS && f.wire == NB__PB_LEN && c.n_meta < 16) {
            nb__pbr o = nb__pbr_sub(&f);
            nb__pbf g;
            sl k = {NULL, 0}, v = {NULL, 0};
            while (nb__pbr_next(&o, &g) == 1) {
                if (g.field == ONNX_ENTRY_KEY && g.wire == NB__PB_LEN) k = fsl(&g);
                if (g.field == ONNX_ENTRY_VALUE && g.wire == NB__PB_LEN) v = fsl(&g);
            }
            c.meta_k[c.n_meta] = k;
            c.meta_v[c.n_meta++] = v;
        }
    }
    nb_model *m = NULL;
    nb_preproc *pre = NULL;
    if (rc < 0) rc = malformed(&c, size ? "the model's fields run past the end of the file" : "the file is empty");
    else if (rc) { /* the message is set */ }
    else if (!graph.p) rc = malformed(&c, "no graph");
    else if (!have_opset) rc = nb__fail(NB_ERR_FORMAT, "%s: the model imports no opset of the default ONNX domain (nabla reads opsets 7 to 18)", path);
    else if (!(rc = parse_graph(&c, graph))) {
        char *fmt = NULL;
        if (meta(&c, "nabla.format", &fmt) && !strcmp(fmt, "nabla")) rc = load_nabla(&c, &m, &pre);
        else rc = load_chain(&c, &m);
        nb_free(fmt);
    }
    nb_free(c.t);
    nb_free(c.nd);
    nb_free(file);
    if (rc) {
        nb_model_free(m);
        nb_preproc_free(pre);
        return rc;
    }
    *out = m;
    if (pp) *pp = pre;
    else nb_preproc_free(pre);
    return NB_OK;
}
