/* SPDX-License-Identifier: MIT */
/*
 * onnx_import_graph.c - the second half of nb_model_load_onnx (onnx_import.c reads the file):
 * a nabla file's model rebuilt from its spec with every tensor taken by name, or another
 * tool's graph walked as a chain from its input, each node mapped to a nabla layer whose
 * tensors are filled from the node's initializers (docs/MODEL_FORMAT.md, "ONNX import").
 */
#include "onnx_import.h"
#include "layer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    if (!transpose) nb__onnx_tensor_floats(t, v->data);
    else {
        float *tmp = nb__alloc(v->n * sizeof *tmp + 1);
        if (!tmp) return NB_ERR_NOMEM;
        nb__onnx_tensor_floats(t, tmp);
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

/* nb__onnx_get for the layers' onnx_in: the float initializer name, of numel values */
static int get_tensor(void *ud, const char *name, size_t numel, float *dst)
{
    const ctx *c = ud;
    sl want = {(const uint8_t *)name, strlen(name)};
    const tens *t = nb__onnx_find_tensor(c, want);
    if (!t) return nb__fail(NB_ERR_FORMAT, "%s: initializer '%s' is missing (the architecture's layer stores it)", c->path, name);
    nb_view v = {0};
    v.data = dst;
    v.n = numel;
    v.rank = 1;
    v.shape[0] = (int64_t)numel;
    return copy_tensor(c, t, &v, 0, "the architecture");
}

/* whether model tensor k belongs to a layer that reads its tensors itself (onnx_in) */
static int owned_by_onnx_in(const nb_model *m, int k)
{
    for (int i = 0; i < m->n_layers; i++) {
        const nb__layer *l = &m->layers[i];
        if (k >= l->t0 && k < l->t0 + l->nt) return nb__layer_table[l->type]->onnx_in != NULL;
    }
    return 0;
}

int nb__onnx_load_nabla(ctx *c, nb_model **out, nb_preproc **pre)
{
    char *arch = NULL, *task_s = NULL, *shape_s = NULL, *pre_s = NULL;
    int rc = NB_OK;
    nb_task task;
    nb__onnx_meta(c, "nabla.architecture", &arch);
    nb__onnx_meta(c, "nabla.task", &task_s);
    nb__onnx_meta(c, "nabla.input_shape", &shape_s);
    nb__onnx_meta(c, "nabla.preprocessing", &pre_s);
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
    /* layers whose onnx hook stored tensors transformed read them back through their onnx_in */
    for (int li = 0; !rc && li < m->n_layers; li++) {
        const nb__layer *l = &m->layers[li];
        const nb__layer_def *def = nb__layer_table[l->type];
        if (def->onnx_in) rc = def->onnx_in(m, l, get_tensor, c);
    }
    for (int i = 0; !rc && i < m->n_ptensors; i++) {
        if (owned_by_onnx_in(m, i)) continue;
        nb_view v;
        nb_graph_value(m->g, m->ptensors[i].node, &v);
        const char *name = m->ptensors[i].name;
        sl want = {(const uint8_t *)name, strlen(name)};
        const tens *t = nb__onnx_find_tensor(c, want);
        size_t nl = strlen(name);
        if (!t && nl >= 19 && !strcmp(name + nl - 19, "num_batches_tracked")) {
            memset(v.data, 0, v.n * sizeof(float)); /* a training counter, not needed to predict */
            continue;
        }
        if (!t) {
            /* a transformed tensor (the exporter's suffix, e.g. recurrent gates reordered to
             * ONNX's order) is not reversed yet */
            char alt[64];
            snprintf(alt, sizeof alt, "%s.onnx", name);
            sl alt_s = {(const uint8_t *)alt, strlen(alt)};
            int transformed = nb__onnx_find_tensor(c, alt_s) != NULL;
            rc = nb__fail(NB_ERR_FORMAT, "%s: initializer '%s' is missing (a nabla ONNX file holds each tensor of its architecture under the tensor's name)%s", c->path, name,
                          transformed ? "; a '.onnx' form of it is there, which this layer kind does not store" : "");
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

#define SUPPORTED "Gemm, MatMul + Add, Conv, Pad (zeros, before Conv or AveragePool), Relu, Sigmoid, Tanh, LeakyRelu, Elu, Softplus, PRelu, MaxPool, AveragePool, " \
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
        if (nb__onnx_eq(c->nd[i].op, "Constant")) continue;
        int hit = 0;
        for (int j = 0; j < (any ? c->nd[i].n_in : 1) && j < 8; j++) hit |= c->nd[i].n_in > 0 && nb__onnx_sleq(c->nd[i].in[j], v);
        if (hit && !cnt++) *first = i;
    }
    return cnt;
}

/* input j of node k as a float initializer or Constant */
static int weight(const ctx *c, int k, const node *n, int j, const tens **out)
{
    *out = NULL;
    if (j >= n->n_in || j >= 8 || !n->in[j].n) return NB_OK;
    const tens *t = nb__onnx_find_tensor(c, n->in[j]);
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
    long np = nb__onnx_attr_ints(n, "pads", p, 4);
    if (np != -1 && np != 4) return -1;
    if (p[0] != p[2] || p[1] != p[3] || p[0] < 0 || p[1] < 0 || p[0] > 65536 || p[1] > 65536) return -1;
    pad[0] = (int)p[0], pad[1] = (int)p[1];
    return 0;
}

static int pair(const node *n, const char *name, int v[2], int def)
{
    int64_t p[2] = {def, def};
    long np = nb__onnx_attr_ints(n, name, p, 2);
    if (np != -1 && np != 2) return -1;
    if (p[0] < 1 || p[1] < 1 || p[0] > 65536 || p[1] > 65536) return -1;
    v[0] = (int)p[0], v[1] = (int)p[1];
    return 0;
}

/* A Pad node's (top, left) padding of the image, when it pads H and W symmetrically with zeros
 * (constant mode, value 0) and leaves N and C alone; -1 otherwise. torch.onnx.export writes an
 * AvgPool2d as Pad + AveragePool (its pads all zero when the pool has none). */
static int zero_pad(const ctx *c, const node *n, int pad[2])
{
    int64_t p[8];
    long np;
    sl mode = nb__onnx_attr_str(n, "mode");
    if (mode.p && !nb__onnx_eq(mode, "constant")) return -1;
    if (n->n_in >= 2 && n->in[1].n) { /* opset 11+: pads (and the value) are inputs */
        const tens *t = nb__onnx_find_tensor(c, n->in[1]);
        if (!t || t->dtype != ONNX_DT_INT64 || t->numel != 8 || nb__onnx_tensor_i64s(t, p, 8) != 8) return -1;
        np = 8;
        if (n->n_in >= 3 && n->in[2].n) {
            const tens *v = nb__onnx_find_tensor(c, n->in[2]);
            float z = 1;
            if (!v || v->dtype != ONNX_DT_FLOAT || v->numel != 1) return -1;
            nb__onnx_tensor_floats(v, &z);
            if (z != 0) return -1;
        }
    } else {
        np = nb__onnx_attr_ints(n, "pads", p, 8);
        if (nb__onnx_attr_float(n, "value", 0) != 0) return -1;
    }
    if (np != 8 || p[0] || p[1] || p[4] || p[5] || p[2] != p[6] || p[3] != p[7] || p[2] < 0 || p[3] < 0 || p[2] > 65536 ||
        p[3] > 65536)
        return -1;
    pad[0] = (int)p[2], pad[1] = (int)p[3];
    return 0;
}

static int add_node(ctx *c, nb_model *m, int k, node *n, src *s, int last, int *final_op, sl *cur, int pend[2])
{
    const char *op_s = NULL;
    int rc = NB_OK, nl0 = m->n_layers;
    src one = {{NULL}, 0, k, 0};
    int pre[2] = {pend[0], pend[1]}; /* a zero Pad before this node, folded into its padding */
    pend[0] = pend[1] = 0;
    *cur = n->out[0];
    if ((pre[0] || pre[1]) && !nb__onnx_eq(n->op, "Conv") && !nb__onnx_eq(n->op, "AveragePool"))
        return unsup(c, k, n, "a zero Pad before this operator", "a Pad folded into the Conv or AveragePool after it");
    if (nb__onnx_eq(n->op, "Pad")) {
        if (zero_pad(c, n, pend)) return unsup(c, k, n, "this padding", "zeros on H and W, the same on both sides");
        return NB_OK;
    } else if (nb__onnx_eq(n->op, "Gemm")) {
        if (nb__onnx_attr_float(n, "alpha", 1) != 1 || nb__onnx_attr_float(n, "beta", 1) != 1) return unsup(c, k, n, "alpha or beta other than 1", "alpha = beta = 1");
        if (nb__onnx_attr_int(n, "transA", 0) != 0) return unsup(c, k, n, "transA = 1", "transA = 0");
        int64_t tb = nb__onnx_attr_int(n, "transB", 0);
        if (tb != 0 && tb != 1) return unsup(c, k, n, "this transB", "transB 0 or 1");
        if ((rc = weight(c, k, n, 1, &one.w[0])) || (rc = weight(c, k, n, 2, &one.w[1]))) return rc;
        if (!one.w[0] || one.w[0]->rank != 2) return unsup(c, k, n, "a weight B that is not a matrix", "B a 2-d initializer");
        int64_t units = tb ? one.w[0]->dims[0] : one.w[0]->dims[1];
        if (units < 1 || units > 1 << 24) return unsup(c, k, n, "this number of units", "1 to 2^24");
        if (one.w[1] && one.w[1]->numel != (size_t)units) return unsup(c, k, n, "a bias C that is not one value per unit", "C of shape (units)");
        one.transpose = !tb;
        rc = nb_model_add_dense(m, (int)units, one.w[1] != NULL);
    } else if (nb__onnx_eq(n->op, "MatMul")) {
        if ((rc = weight(c, k, n, 1, &one.w[0]))) return rc;
        if (!one.w[0] || one.w[0]->rank != 2) return unsup(c, k, n, "a second input that is not a matrix", "MatMul by a 2-d initializer");
        int64_t units = one.w[0]->dims[1];
        if (units < 1 || units > 1 << 24) return unsup(c, k, n, "this number of units", "1 to 2^24");
        one.transpose = 1;
        int a = -1;
        /* torch writes Linear on a batch as MatMul then Add of the bias */
        if (consumers(c, n->out[0], 1, &a) == 1 && nb__onnx_eq(c->nd[a].op, "Add") && c->nd[a].n_in == 2 && !c->nd[a].visited) {
            node *ad = &c->nd[a];
            int j = nb__onnx_sleq(ad->in[0], n->out[0]) ? 1 : 0;
            const tens *b = nb__onnx_find_tensor(c, ad->in[j]);
            if (b && b->dtype == ONNX_DT_FLOAT && b->numel == (size_t)units) {
                one.w[1] = b;
                ad->visited = 1;
                *cur = ad->out[0];
            }
        }
        rc = nb_model_add_dense(m, (int)units, one.w[1] != NULL);
    } else if (nb__onnx_eq(n->op, "Conv")) {
        int stride[2], dil[2], pad[2];
        if (nb__onnx_attr_int(n, "group", 1) != 1) return unsup(c, k, n, "group other than 1", "group = 1");
        sl ap = nb__onnx_attr_str(n, "auto_pad");
        if (ap.p && !nb__onnx_eq(ap, "NOTSET")) return unsup(c, k, n, "auto_pad", "auto_pad NOTSET with explicit pads");
        if (pads_sym(n, pad)) return unsup(c, k, n, "these pads", "2-d symmetric pads");
        pad[0] += pre[0], pad[1] += pre[1];
        if (pair(n, "strides", stride, 1) || pair(n, "dilations", dil, 1)) return unsup(c, k, n, "these strides or dilations", "2-d, 1 to 65536");
        if ((rc = weight(c, k, n, 1, &one.w[0])) || (rc = weight(c, k, n, 2, &one.w[1]))) return rc;
        if (!one.w[0] || one.w[0]->rank != 4) return unsup(c, k, n, "a weight that is not (out, in, kh, kw)", "2-d convolutions");
        const int64_t *d = one.w[0]->dims;
        int64_t ks[2] = {d[2], d[3]};
        if (nb__onnx_attr_ints(n, "kernel_shape", ks, 2) != -1 && (ks[0] != d[2] || ks[1] != d[3])) return unsup(c, k, n, "a kernel_shape unlike the weight's", "kernel_shape = the weight's");
        if (d[0] < 1 || d[0] > 1 << 24 || d[2] < 1 || d[3] < 1 || d[2] > 65536 || d[3] > 65536) return unsup(c, k, n, "this weight shape", "positive sizes");
        if (one.w[1] && one.w[1]->numel != (size_t)d[0]) return unsup(c, k, n, "a bias that is not one value per output channel", "bias (out_channels)");
        int kern[2] = {(int)d[2], (int)d[3]};
        rc = nb_model_add_conv2d(m, (int)d[0], kern, stride, pad, dil, one.w[1] != NULL);
    } else if (nb__onnx_eq(n->op, "MaxPool") || nb__onnx_eq(n->op, "AveragePool")) {
        int kern[2], stride[2], pad[2], dil[2];
        int64_t ks[2];
        if (nb__onnx_attr_ints(n, "kernel_shape", ks, 2) != 2 || ks[0] < 1 || ks[1] < 1 || ks[0] > 65536 || ks[1] > 65536) return unsup(c, k, n, "this kernel_shape", "2-d pooling");
        kern[0] = (int)ks[0], kern[1] = (int)ks[1];
        sl ap = nb__onnx_attr_str(n, "auto_pad");
        if (ap.p && !nb__onnx_eq(ap, "NOTSET")) return unsup(c, k, n, "auto_pad", "auto_pad NOTSET with explicit pads");
        if (pads_sym(n, pad)) return unsup(c, k, n, "these pads", "2-d symmetric pads");
        if (pair(n, "strides", stride, 1)) return unsup(c, k, n, "these strides", "2-d, 1 to 65536");
        if (pair(n, "dilations", dil, 1) || dil[0] != 1 || dil[1] != 1) return unsup(c, k, n, "dilations", "dilations 1");
        if (nb__onnx_attr_int(n, "ceil_mode", 0) != 0) return unsup(c, k, n, "ceil_mode = 1", "ceil_mode 0");
        if (nb__onnx_attr_int(n, "storage_order", 0) != 0) return unsup(c, k, n, "storage_order = 1", "storage_order 0");
        int avg = nb__onnx_eq(n->op, "AveragePool");
        /* nabla's average divides by the whole window, padding included: the same only when
         * count_include_pad is 1 or there is no padding (a Pad node's zeros always count) */
        if (avg && (pad[0] || pad[1]) && nb__onnx_attr_int(n, "count_include_pad", 0) != 1)
            return unsup(c, k, n, "count_include_pad = 0 with padding", "count_include_pad = 1, or no padding");
        pad[0] += pre[0], pad[1] += pre[1];
        rc = nb_model_add_pool(m, avg ? NB_LAYER_AVGPOOL : NB_LAYER_MAXPOOL, kern, stride, pad);
    } else if (nb__onnx_eq(n->op, "GlobalAveragePool")) {
        rc = nb_model_add_global_avgpool(m);
    } else if (nb__onnx_eq(n->op, "BatchNormalization")) {
        if (nb__onnx_attr_int(n, "training_mode", 0) != 0) return unsup(c, k, n, "training_mode = 1", "training_mode 0");
        if (nb__onnx_attr_int(n, "spatial", 1) != 1) return unsup(c, k, n, "spatial = 0", "spatial 1");
        float eps = nb__onnx_attr_float(n, "epsilon", 1e-5f);
        if (eps != 1e-5f) {
            char what[64];
            snprintf(what, sizeof what, "epsilon %g", (double)eps);
            return unsup(c, k, n, what, "epsilon 1e-05, nabla's and PyTorch's default");
        }
        for (int j = 0; j < 4; j++)
            if ((rc = weight(c, k, n, j + 1, &one.w[j]))) return rc;
        if (!one.w[3]) return unsup(c, k, n, "fewer than 5 inputs", "X, scale, B, mean, var");
        rc = nb_model_add_batchnorm(m);
    } else if (nb__onnx_eq(n->op, "Flatten")) {
        if (nb__onnx_attr_int(n, "axis", 1) != 1) return unsup(c, k, n, "axis other than 1", "axis 1");
        rc = nb_model_add_flatten(m);
    } else if (nb__onnx_eq(n->op, "Reshape")) {
        const tens *t = n->n_in >= 2 ? nb__onnx_find_tensor(c, n->in[1]) : NULL;
        int64_t sh[2] = {0, 0};
        if (!t || t->dtype != ONNX_DT_INT64 || t->numel != 2 || nb__onnx_tensor_i64s(t, sh, 2) != 2 || !((sh[0] == 0 || sh[0] == -1) && (sh[1] == -1 || sh[0] == -1)))
            return unsup(c, k, n, "a reshape other than a flatten", "a shape (0, -1) or (-1, features) from an initializer or Constant");
        one.reshape = sh[1] > 0 ? sh[1] : 0;
        rc = nb_model_add_flatten(m);
    } else if (nb__onnx_eq(n->op, "Relu")) op_s = "relu", rc = nb_model_add_activation(m, NB_OP_RELU, 0);
    else if (nb__onnx_eq(n->op, "Tanh")) op_s = "tanh", rc = nb_model_add_activation(m, NB_OP_TANH, 0);
    else if (nb__onnx_eq(n->op, "Softplus")) op_s = "softplus", rc = nb_model_add_activation(m, NB_OP_SOFTPLUS, 0);
    else if (nb__onnx_eq(n->op, "LeakyRelu") || nb__onnx_eq(n->op, "Elu")) {
        int leaky = nb__onnx_eq(n->op, "LeakyRelu");
        float a = nb__onnx_attr_float(n, "alpha", leaky ? 0.01f : 1.0f);
        if (!isfinite(a) || (!leaky && a < 0)) return unsup(c, k, n, "this alpha", "a finite alpha");
        /* nabla's parameter 0 means the default; an alpha of 0 is a ReLU */
        rc = a == 0 ? nb_model_add_activation(m, NB_OP_RELU, 0) : nb_model_add_activation(m, leaky ? NB_OP_LEAKY_RELU : NB_OP_ELU, a);
    } else if (nb__onnx_eq(n->op, "PRelu")) {
        if ((rc = weight(c, k, n, 1, &one.w[0]))) return rc;
        if (!one.w[0] || one.w[0]->numel < 1 || one.w[0]->numel > 1000000) return unsup(c, k, n, "this slope", "1 to 10^6 slopes");
        rc = nb_model_add_prelu(m, (int)one.w[0]->numel);
    } else if (nb__onnx_eq(n->op, "Sigmoid") || nb__onnx_eq(n->op, "Softmax") || nb__onnx_eq(n->op, "LogSoftmax")) {
        int sig = nb__onnx_eq(n->op, "Sigmoid");
        if (!sig) {
            int64_t ax = nb__onnx_attr_int(n, "axis", -1);
            if (ax != 1 && ax != -1) return unsup(c, k, n, "this axis", "axis 1 or -1");
        }
        if (last) *final_op = sig ? 1 : 2; /* the task's output: nabla applies it itself */
        else rc = nb_model_add_activation(m, sig ? NB_OP_SIGMOID : nb__onnx_eq(n->op, "Softmax") ? NB_OP_SOFTMAX : NB_OP_LOG_SOFTMAX, 0);
    } else if (nb__onnx_eq(n->op, "Dropout") || nb__onnx_eq(n->op, "Identity")) {
        /* inference: nothing to do */
    } else if (nb__onnx_eq(n->op, "LSTM") || nb__onnx_eq(n->op, "GRU") || nb__onnx_eq(n->op, "RNN") || nb__onnx_eq(n->op, "Gather")) {
        return unsup(c, k, n, "this operator in a file nabla did not write", "recurrent layers and embeddings are imported from nabla's own ONNX files only");
    } else {
        return unsup(c, k, n, "the operator", SUPPORTED);
    }
    (void)op_s;
    if (rc) return nb__fail_prefix(rc == NB_ERR_NOMEM ? rc : NB_ERR_FORMAT, "%s: node %d '%.*s' (%.*s)", c->path, k, P(n->name), P(n->op));
    if (m->n_layers > nl0) s[m->n_layers - 1] = one;
    return NB_OK;
}

/* every operator the chain walk below knows (Add only after a MatMul, Pad only before a Conv
 * or AveragePool, Constant as a weight) */
static const char *const KNOWN[] = {"Gemm", "MatMul", "Add", "Conv", "Pad", "MaxPool", "AveragePool", "GlobalAveragePool",
    "BatchNormalization", "Flatten", "Reshape", "Relu", "Tanh", "Softplus", "LeakyRelu", "Elu", "PRelu", "Sigmoid", "Softmax",
    "LogSoftmax", "Dropout", "Identity", "Constant", "LSTM", "GRU", "RNN", "Gather", NULL};

int nb__onnx_load_chain(ctx *c, nb_model **out)
{
    /* the first operator nabla has no layer for, named before the graph's shape is judged (a
     * GELU written as Div, Erf, Add, Mul is a branch too: its Div is what to report) */
    for (int i = 0; i < c->nn; i++) {
        int ok = 0;
        for (int j = 0; KNOWN[j] && !ok; j++) ok = nb__onnx_eq(c->nd[i].op, KNOWN[j]);
        if (!ok) return unsup(c, i, &c->nd[i], "the operator", SUPPORTED);
    }
    nb_model *m = NULL;
    src *s = nb__calloc((size_t)c->nn + 1, sizeof *s);
    int rc = s ? nb_model_create(NB_TASK_CLASSIFY, &m) : NB_ERR_NOMEM;
    int final_op = 0, pend[2] = {0, 0};
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
        rc = add_node(c, m, k, n, s, last, &final_op, &cur, pend);
    }
    for (int i = 0; !rc && i < c->nn; i++)
        if (!c->nd[i].visited && !nb__onnx_eq(c->nd[i].op, "Constant"))
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

