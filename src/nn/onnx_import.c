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
#include "onnx_import.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int malformed(const ctx *c, const char *what)
{
    return nb__fail(NB_ERR_FORMAT, "%s: malformed ONNX file (%s); is it an ONNX model (.onnx)?", c->path, what);
}

/* ------------------------------------------------------------------ tensors */

static int parse_tensor(const ctx *c, sl msg, tens *t)
{
    memset(t, 0, sizeof *t);
    t->msg = msg;
    nb__pbr r = rd(msg);
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
void nb__onnx_tensor_floats(const tens *t, float *dst)
{
    if (t->has_raw) {
        for (size_t i = 0; i < t->numel; i++) {
            uint32_t u = (uint32_t)le(t->raw.p + 4 * i, 4);
            memcpy(&dst[i], &u, 4);
        }
        return;
    }
    nb__pbr r = rd(t->msg);
    nb__pbf f;
    size_t n = 0;
    while (nb__pbr_next(&r, &f) == 1)
        if (f.field == ONNX_TENSOR_FLOAT_DATA) nb__pbf_f32s(&f, dst, t->numel, &n);
}

size_t nb__onnx_tensor_i64s(const tens *t, int64_t *dst, size_t cap)
{
    size_t n = 0;
    if (t->has_raw) {
        for (size_t i = 0; i < t->numel && i < cap; i++) dst[i] = (int64_t)le(t->raw.p + 8 * i, 8);
        return t->numel;
    }
    nb__pbr r = rd(t->msg);
    nb__pbf f;
    while (nb__pbr_next(&r, &f) == 1)
        if (f.field == ONNX_TENSOR_INT64_DATA) nb__pbf_i64s(&f, dst, cap, &n);
    return n;
}

const tens *nb__onnx_find_tensor(const ctx *c, sl name)
{
    for (int i = 0; i < c->nt; i++)
        if (nb__onnx_sleq(c->t[i].name, name)) return &c->t[i];
    return NULL;
}

/* ------------------------------------------------------------------ nodes and attributes */

static int parse_node(const ctx *c, sl msg, node *n)
{
    memset(n, 0, sizeof *n);
    n->msg = msg;
    nb__pbr r = rd(msg);
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
        else if (f.field == ONNX_NODE_DOMAIN && f.len && !nb__onnx_eq(fsl(&f), "ai.onnx"))
            return nb__fail(NB_ERR_FORMAT, "%s: a node uses operator domain '%.*s' (nabla reads the default ONNX domain only)", c->path, P(fsl(&f)));
    }
    if (rc < 0) return malformed(c, "node");
    if (n->n_in > 8 || n->n_out > 4 || n->n_out < 1) return malformed(c, "node inputs or outputs");
    return NB_OK;
}

/* the attribute named name of node n: its message in *a; 0 when absent */
int nb__onnx_attr(const node *n, const char *name, nb__pbr *a)
{
    nb__pbr r = rd(n->msg);
    nb__pbf f;
    while (nb__pbr_next(&r, &f) == 1) {
        if (f.field != ONNX_NODE_ATTRIBUTE || f.wire != NB__PB_LEN) continue;
        nb__pbr s = nb__pbr_sub(&f);
        nb__pbf g;
        while (nb__pbr_next(&s, &g) == 1)
            if (g.field == ONNX_ATTR_NAME && g.wire == NB__PB_LEN && nb__onnx_eq(fsl(&g), name)) {
                *a = nb__pbr_sub(&f);
                return 1;
            }
    }
    return 0;
}

int64_t nb__onnx_attr_int(const node *n, const char *name, int64_t def)
{
    nb__pbr a;
    nb__pbf f;
    if (!nb__onnx_attr(n, name, &a)) return def;
    while (nb__pbr_next(&a, &f) == 1)
        if (f.field == ONNX_ATTR_I && f.wire == NB__PB_VARINT) return (int64_t)f.u;
    return def;
}

float nb__onnx_attr_float(const node *n, const char *name, float def)
{
    nb__pbr a;
    nb__pbf f;
    if (!nb__onnx_attr(n, name, &a)) return def;
    while (nb__pbr_next(&a, &f) == 1)
        if (f.field == ONNX_ATTR_F && f.wire == NB__PB_I32) return nb__pbf_float(&f);
    return def;
}

/* ints attribute: count (possibly > cap), -1 absent */
long nb__onnx_attr_ints(const node *n, const char *name, int64_t *v, size_t cap)
{
    nb__pbr a;
    nb__pbf f;
    size_t k = 0;
    if (!nb__onnx_attr(n, name, &a)) return -1;
    while (nb__pbr_next(&a, &f) == 1)
        if (f.field == ONNX_ATTR_INTS && nb__pbf_i64s(&f, v, cap, &k)) return (long)cap + 1;
    return (long)k;
}

sl nb__onnx_attr_str(const node *n, const char *name)
{
    nb__pbr a;
    nb__pbf f;
    sl none = {NULL, 0};
    if (!nb__onnx_attr(n, name, &a)) return none;
    while (nb__pbr_next(&a, &f) == 1)
        if (f.field == ONNX_ATTR_S && f.wire == NB__PB_LEN) return fsl(&f);
    return none;
}

/* ------------------------------------------------------------------ the model and graph */

static int parse_value_info(ctx *c, sl msg)
{
    nb__pbr r = rd(msg);
    nb__pbf f;
    sl name = {NULL, 0}, type = {NULL, 0};
    while (nb__pbr_next(&r, &f) == 1) {
        if (f.field == ONNX_VALUE_NAME && f.wire == NB__PB_LEN) name = fsl(&f);
        if (f.field == ONNX_VALUE_TYPE && f.wire == NB__PB_LEN) type = fsl(&f);
    }
    if (nb__onnx_find_tensor(c, name)) return NB_OK; /* old exporters list initializers as inputs too */
    if (c->input_name.p) return nb__fail(NB_ERR_FORMAT, "%s: the graph has more than one input ('%.*s' and '%.*s'; nabla models take one)", c->path, P(c->input_name), P(name));
    c->input_name = name;
    /* type.tensor_type.shape.dim[] */
    sl tt = {NULL, 0}, shape = {NULL, 0};
    int elem = 0;
    r = rd(type);
    while (nb__pbr_next(&r, &f) == 1)
        if (f.field == ONNX_TYPE_TENSOR_TYPE && f.wire == NB__PB_LEN) tt = fsl(&f);
    r = rd(tt);
    while (nb__pbr_next(&r, &f) == 1) {
        if (f.field == ONNX_TTYPE_ELEM_TYPE && f.wire == NB__PB_VARINT) elem = (int)f.u;
        if (f.field == ONNX_TTYPE_SHAPE && f.wire == NB__PB_LEN) shape = fsl(&f);
    }
    if (elem != ONNX_DT_FLOAT)
        return nb__fail(NB_ERR_FORMAT, "%s: graph input '%.*s' is not a float tensor (element type %d; nabla reads float inputs)", c->path, P(name), elem);
    r = rd(shape);
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
    nb__pbr r = rd(g);
    while ((rc = nb__pbr_next(&r, &f)) == 1) {
        nt += f.field == ONNX_GRAPH_INITIALIZER;
        nn += f.field == ONNX_GRAPH_NODE;
    }
    if (rc < 0) return malformed(c, "graph");
    if (nn > MAX_NODES) return nb__fail(NB_ERR_FORMAT, "%s: the graph has %d nodes (nabla imports at most %d)", c->path, nn, MAX_NODES);
    c->t = nb__calloc((size_t)(nt + nn + 1), sizeof *c->t);
    c->nd = nb__calloc((size_t)nn + 1, sizeof *c->nd);
    if (!c->t || !c->nd) return NB_ERR_NOMEM;
    r = rd(g);
    while (nb__pbr_next(&r, &f) == 1) {
        if (f.wire != NB__PB_LEN) continue;
        if (f.field == ONNX_GRAPH_INITIALIZER) {
            if ((rc = parse_tensor(c, fsl(&f), &c->t[c->nt]))) return rc;
            c->nt++;
        } else if (f.field == ONNX_GRAPH_NODE) {
            node *n = &c->nd[c->nn];
            if ((rc = parse_node(c, fsl(&f), n))) return rc;
            c->nn++;
            if (nb__onnx_eq(n->op, "Constant")) { /* its value is an initializer under its output's name */
                nb__pbr a;
                nb__pbf v;
                int found = 0;
                if (nb__onnx_attr(n, "value", &a))
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
    r = rd(g);
    while (nb__pbr_next(&r, &f) == 1) {
        if (f.field == ONNX_GRAPH_INPUT && f.wire == NB__PB_LEN && (rc = parse_value_info(c, fsl(&f)))) return rc;
        c->n_graph_outputs += f.field == ONNX_GRAPH_OUTPUT;
    }
    if (!c->input_name.p) return nb__fail(NB_ERR_FORMAT, "%s: the graph has no input", c->path);
    return NB_OK;
}

const char *nb__onnx_meta(const ctx *c, const char *key, char **owned)
{
    for (int i = 0; i < c->n_meta; i++)
        if (nb__onnx_eq(c->meta_k[i], key)) {
            *owned = nb__alloc(c->meta_v[i].n + 1);
            if (!*owned) return NULL;
            if (c->meta_v[i].n) memcpy(*owned, c->meta_v[i].p, c->meta_v[i].n);
            (*owned)[c->meta_v[i].n] = 0;
            return *owned;
        }
    return NULL;
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
            if (dom.n && !nb__onnx_eq(dom, "ai.onnx")) {
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
        if (nb__onnx_meta(&c, "nabla.format", &fmt) && !strcmp(fmt, "nabla")) rc = nb__onnx_load_nabla(&c, &m, &pre);
        else rc = nb__onnx_load_chain(&c, &m);
        nb_free(fmt);
    }
    nb_free(c.t);
    nb_free(c.nd);
    nb_free(file);
    return nb__model_load_done(rc, m, pre, out, pp);
}
