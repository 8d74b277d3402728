/* SPDX-License-Identifier: MIT */
/*
 * onnx_export.c - nb_model_save_onnx: a built model's inference graph as an ONNX file (IR 8,
 * opset 13; docs/MODEL_FORMAT.md, "ONNX export"). The graph reads "input" (batch, sample
 * shape...), applies the preprocessing's per-feature scaling as nabla does ((x - offset) /
 * scale: nodes "nabla.scale.*"), then every layer through its descriptor's onnx hook, then
 * the outputs ("nabla.output.*"): "logits" and "probabilities" (softmax or sigmoid), or a
 * regression's "prediction" with the target scaling undone. The spec, task, input shape,
 * class names and preprocessing ride along as metadata_props. Written atomically.
 */
#include "onnx.h"

#include "../data/data_internal.h"
#include "json.h"

#include <string.h>

/* ---------------------------------------------------------------- the builder */

void nb__onnx_fresh(nb__onnx *o, const char *what, char *buf)
{
    snprintf(buf, NB__ONNX_NAME, "%s.%s_%d", o->prefix, what, o->values++);
}

static void attr(nb__pbw *n, const nb__onnx_attr *a)
{
    nb__pbw w = {0};
    nb__pbw_string(&w, ONNX_ATTR_NAME, a->name);
    switch (a->type) {
    case ONNX_ATYPE_FLOAT: nb__pbw_float(&w, ONNX_ATTR_F, a->f); break;
    case ONNX_ATYPE_INT: nb__pbw_varint(&w, ONNX_ATTR_I, (uint64_t)a->i); break;
    case ONNX_ATYPE_STRING: nb__pbw_string(&w, ONNX_ATTR_S, a->s); break;
    default: /* INTS: one varint each, as proto2's unpacked repeated field */
        for (int k = 0; k < a->n; k++) nb__pbw_varint(&w, ONNX_ATTR_INTS, (uint64_t)a->ints[k]);
    }
    nb__pbw_varint(&w, ONNX_ATTR_TYPE, (uint64_t)a->type);
    nb__pbw_message(n, ONNX_NODE_ATTRIBUTE, &w);
    nb__pbw_free(&w);
}

void nb__onnx_node(nb__onnx *o, const char *op, const char *const *in, int n_in, const char *const *out, int n_out,
                   const nb__onnx_attr *a, int n_attr)
{
    nb__pbw n = {0};
    char name[NB__ONNX_NAME + 32];
    snprintf(name, sizeof name, "%s.%s_%d", o->prefix, op, o->nodes++);
    for (int k = 0; k < n_in; k++) nb__pbw_string(&n, ONNX_NODE_INPUT, in[k]);
    for (int k = 0; k < n_out; k++) nb__pbw_string(&n, ONNX_NODE_OUTPUT, out[k]);
    nb__pbw_string(&n, ONNX_NODE_NAME, name);
    nb__pbw_string(&n, ONNX_NODE_OP_TYPE, op);
    for (int k = 0; k < n_attr; k++) attr(&n, &a[k]);
    nb__pbw_message(&o->g, ONNX_GRAPH_NODE, &n);
    nb__pbw_free(&n);
}

void nb__onnx_op(nb__onnx *o, const char *op, const char *const *in, int n_in, const nb__onnx_attr *a, int n_attr, char *out)
{
    char y[NB__ONNX_NAME];
    nb__onnx_fresh(o, op, y);
    const char *outs[1] = {y};
    nb__onnx_node(o, op, in, n_in, outs, 1, a, n_attr);
    memcpy(out, y, sizeof y);
}

static void init_raw(nb__onnx *o, const char *name, int dtype, int rank, const int64_t *dims, const void *v, size_t elem)
{
    nb__pbw t = {0};
    size_t n = 1;
    for (int k = 0; k < rank; k++) {
        nb__pbw_varint(&t, ONNX_TENSOR_DIMS, (uint64_t)dims[k]);
        n *= (size_t)dims[k];
    }
    nb__pbw_varint(&t, ONNX_TENSOR_DATA_TYPE, (uint64_t)dtype);
    nb__pbw_string(&t, ONNX_TENSOR_NAME, name);
    /* raw_data is little-endian: the values' bytes as they are on the little-endian hosts
     * nabla runs on, converted one by one elsewhere */
    uint8_t probe[2] = {1, 0};
    uint16_t one;
    memcpy(&one, probe, 2);
    if (one == 1) {
        nb__pbw_bytes(&t, ONNX_TENSOR_RAW_DATA, v, n * elem);
    } else {
        uint8_t *b = nb__alloc(n * elem + 1);
        if (!b) t.oom = 1;
        else {
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < elem; j++) b[i * elem + j] = ((const uint8_t *)v)[i * elem + elem - 1 - j];
            nb__pbw_bytes(&t, ONNX_TENSOR_RAW_DATA, b, n * elem);
            nb_free(b);
        }
    }
    nb__pbw_message(&o->g, ONNX_GRAPH_INITIALIZER, &t);
    nb__pbw_free(&t);
}

void nb__onnx_init_f32(nb__onnx *o, const char *name, int rank, const int64_t *dims, const float *v)
{
    init_raw(o, name, ONNX_DT_FLOAT, rank, dims, v, 4);
}

void nb__onnx_init_i64(nb__onnx *o, const char *name, int rank, const int64_t *dims, const int64_t *v)
{
    init_raw(o, name, ONNX_DT_INT64, rank, dims, v, 8);
}

void nb__onnx_const_i64(nb__onnx *o, const char *what, int n, const int64_t *v, char *out)
{
    nb__onnx_fresh(o, what, out);
    nb__onnx_init_i64(o, out, 1, (int64_t[]){n}, v);
}

void nb__onnx_const_f32(nb__onnx *o, const char *what, int rank, const int64_t *dims, const float *v, char *out)
{
    nb__onnx_fresh(o, what, out);
    nb__onnx_init_f32(o, out, rank, dims, v);
}

int nb__onnx_tensor(nb__onnx *o, const nb_model *m, const nb__layer *l, int k, char *out, nb_view *v)
{
    nb_view w;
    int st = nb_graph_value(m->g, nb__layer_tensor(m, l, k), &w);
    if (st) return st;
    snprintf(out, NB__ONNX_NAME, "%s", m->ptensors[l->t0 + k].name);
    nb__onnx_init_f32(o, out, w.rank, w.shape, w.data);
    if (v) *v = w;
    return NB_OK;
}

void nb__onnx_reshape(nb__onnx *o, const char *x, int n, const int64_t *dims, char *out)
{
    int64_t s[NB_MAX_RANK + 1] = {0}; /* 0: Reshape copies the batch dimension */
    char shape[NB__ONNX_NAME];
    for (int k = 0; k < n; k++) s[k + 1] = dims[k];
    nb__onnx_const_i64(o, "shape", n + 1, s, shape);
    nb__onnx_op(o, "Reshape", (const char *[]){x, shape}, 2, NULL, 0, out);
}

/* ---------------------------------------------------------------- the model */

/* a float tensor value (batch, dims...) */
static void value_info(nb__pbw *g, uint32_t field, const char *name, int rank, const int64_t *dims)
{
    nb__pbw v = {0}, type = {0}, tt = {0}, shape = {0};
    nb__pbw d = {0};
    nb__pbw_string(&d, ONNX_DIM_PARAM, "batch");
    nb__pbw_message(&shape, ONNX_SHAPE_DIM, &d);
    for (int k = 0; k < rank; k++) {
        nb__pbw_free(&d);
        nb__pbw_varint(&d, ONNX_DIM_VALUE, (uint64_t)dims[k]);
        nb__pbw_message(&shape, ONNX_SHAPE_DIM, &d);
    }
    nb__pbw_varint(&tt, ONNX_TTYPE_ELEM_TYPE, ONNX_DT_FLOAT);
    nb__pbw_message(&tt, ONNX_TTYPE_SHAPE, &shape);
    nb__pbw_message(&type, ONNX_TYPE_TENSOR_TYPE, &tt);
    nb__pbw_string(&v, ONNX_VALUE_NAME, name);
    nb__pbw_message(&v, ONNX_VALUE_TYPE, &type);
    nb__pbw_message(g, field, &v);
    nb__pbw_free(&d), nb__pbw_free(&shape), nb__pbw_free(&tt), nb__pbw_free(&type), nb__pbw_free(&v);
}

static void meta(nb__pbw *w, const char *key, const char *value)
{
    nb__pbw e = {0};
    nb__pbw_string(&e, ONNX_ENTRY_KEY, key);
    nb__pbw_string(&e, ONNX_ENTRY_VALUE, value);
    nb__pbw_message(w, ONNX_MODEL_METADATA_PROPS, &e);
    nb__pbw_free(&e);
}

/* the scaling x' = (x - offset) / scale, as nb_preproc_apply_scaling computes it: a
 * subtraction then a division, each rounded to float */
static void scale_nodes(nb__onnx *o, const nb_model *m, const nb_preproc *pp, char *cur)
{
    int64_t n = 1;
    for (int k = 0; k < m->sample_rank; k++) n *= m->sample_shape[k];
    if (!pp || pp->scale_mode == NB_SCALE_NONE || pp->n_scale != n) return;
    char off[NB__ONNX_NAME] = "nabla.scale.offset", sc[NB__ONNX_NAME] = "nabla.scale.scale";
    snprintf(o->prefix, sizeof o->prefix, "nabla.scale");
    nb__onnx_init_f32(o, off, m->sample_rank, m->sample_shape, pp->offset);
    nb__onnx_init_f32(o, sc, m->sample_rank, m->sample_shape, pp->scale);
    nb__onnx_op(o, "Sub", (const char *[]){cur, off}, 2, NULL, 0, cur);
    nb__onnx_op(o, "Div", (const char *[]){cur, sc}, 2, NULL, 0, cur);
}

/* the output nodes on top of the last layer's value x (rank: its per-sample rank) */
static void output_nodes(nb__onnx *o, const nb_model *m, const nb_preproc *pp, const char *x, int rank, const int64_t *shape,
                         nb__pbw *outs)
{
    snprintf(o->prefix, sizeof o->prefix, "nabla.output");
    if (m->task == NB_TASK_REGRESS) {
        int64_t k = shape[rank - 1];
        const char *cur = x;
        char a[NB__ONNX_NAME], b[NB__ONNX_NAME];
        if (pp && pp->t_mode != NB_SCALE_NONE && pp->n_tscale == k) { /* y * t_scale + t_offset, as nb_preproc_unscale_targets */
            nb__onnx_init_f32(o, "nabla.output.target_scale", 1, &k, pp->t_scale);
            nb__onnx_init_f32(o, "nabla.output.target_offset", 1, &k, pp->t_offset);
            nb__onnx_op(o, "Mul", (const char *[]){cur, "nabla.output.target_scale"}, 2, NULL, 0, a);
            nb__onnx_op(o, "Add", (const char *[]){a, "nabla.output.target_offset"}, 2, NULL, 0, b);
            cur = b;
        }
        nb__onnx_node(o, "Identity", &cur, 1, (const char *[]){"prediction"}, 1, NULL, 0);
        value_info(outs, ONNX_GRAPH_OUTPUT, "prediction", rank, shape);
        return;
    }
    nb__onnx_node(o, "Identity", &x, 1, (const char *[]){"logits"}, 1, NULL, 0);
    if (m->task == NB_TASK_CLASSIFY) {
        nb__onnx_attr ax = nb__oa_int("axis", rank > 1 ? -1 : 1);
        nb__onnx_node(o, "Softmax", (const char *[]){"logits"}, 1, (const char *[]){"probabilities"}, 1, &ax, 1);
    } else {
        nb__onnx_node(o, "Sigmoid", (const char *[]){"logits"}, 1, (const char *[]){"probabilities"}, 1, NULL, 0);
    }
    value_info(outs, ONNX_GRAPH_OUTPUT, "logits", rank, shape);
    value_info(outs, ONNX_GRAPH_OUTPUT, "probabilities", rank, shape);
}

/* the metadata_props of common18 / MODEL_FORMAT.md, "ONNX export" */
static int metadata(nb__pbw *w, const nb_model *m, const nb_preproc *pp)
{
    nb__model_meta mm;
    int st = nb__model_meta_make(m, pp, &mm);
    if (st) return st;
    meta(w, "nabla.format", "nabla");
    meta(w, "nabla.format_version", "1");
    meta(w, "nabla.architecture", nb_model_spec(m));
    meta(w, "nabla.task", nb_task_name(m->task));
    meta(w, "nabla.input_shape", mm.shape.data);
    if (mm.n_classes) meta(w, "nabla.class_names", mm.classes.data);
    if (mm.pre) meta(w, "nabla.preprocessing", mm.pre);
    nb__model_meta_free(&mm);
    return st;
}

/* the ModelProto's bytes into *w; the graph's node count into *n_nodes */
static int encode(const nb_model *m, const nb_preproc *pp, nb__pbw *w, int *n_nodes)
{
    nb__onnx o;
    memset(&o, 0, sizeof o);
    char cur[NB__ONNX_NAME] = "input";
    int st = NB_OK, rank = m->sample_rank;
    const int64_t *shape = m->sample_shape;
    /* GraphProto fields may come in any order: the input first, the outputs last */
    value_info(&o.g, ONNX_GRAPH_INPUT, "input", m->sample_rank, m->sample_shape);
    nb__pbw_string(&o.g, ONNX_GRAPH_NAME, "nabla");
    scale_nodes(&o, m, pp, cur);
    for (int i = 0; i < m->n_layers && !st; i++) {
        const nb__layer *l = &m->layers[i];
        const nb__layer_def *d = nb__layer_table[l->type];
        char out[NB__ONNX_NAME];
        if (!d->onnx) {
            st = nb__fail(NB_ERR_ARG, "save_onnx: layer %d (%s) has no ONNX form; export a model without it", i, l->word);
            break;
        }
        snprintf(o.prefix, sizeof o.prefix, "layers.%d", i);
        if ((st = d->onnx(&o, m, i, l, cur, out, sizeof out))) {
            st = nb__fail_prefix(st, "save_onnx: layer %d (%s)", i, l->word);
            break;
        }
        memcpy(cur, out, sizeof cur);
        rank = l->out_rank;
        shape = l->out_shape;
    }
    if (!st) output_nodes(&o, m, pp, cur, rank, shape, &o.g);
    *n_nodes = o.nodes;
    if (!st) {
        nb__pbw opset = {0};
        nb__pbw_string(&opset, ONNX_OPSET_DOMAIN, "");
        nb__pbw_varint(&opset, ONNX_OPSET_VERSION, NB__ONNX_OPSET);
        nb__pbw_varint(w, ONNX_MODEL_IR_VERSION, NB__ONNX_IR_VERSION);
        nb__pbw_string(w, ONNX_MODEL_PRODUCER_NAME, "nabla");
        nb__pbw_string(w, ONNX_MODEL_PRODUCER_VERSION, nb_version());
        nb__pbw_message(w, ONNX_MODEL_GRAPH, &o.g);
        nb__pbw_message(w, ONNX_MODEL_OPSET_IMPORT, &opset);
        nb__pbw_free(&opset);
        st = metadata(w, m, pp);
    }
    nb__pbw_free(&o.g);
    if (!st && w->oom) st = nb__fail(NB_ERR_NOMEM, "save_onnx: out of memory encoding the model");
    return st;
}

int nb_model_save_onnx(nb_model *m, const char *path, const nb_preproc *pp)
{
    if (!m) return nb__fail(NB_ERR_ARG, "nb_model_save_onnx: model is NULL");
    if (!path) return nb__fail(NB_ERR_ARG, "nb_model_save_onnx: path is NULL");
    if (!m->built) return nb__fail(NB_ERR_STATE, "save_onnx: model is not built; build (or train or load) it first");
    nb__pbw w = {0};
    int n = 0, st = encode(m, pp, &w, &n);
    if (!st) st = nb__write_file_atomic(path, w.b, w.n);
    nb__pbw_free(&w);
    return st;
}
