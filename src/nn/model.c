/* SPDX-License-Identifier: MIT */
/*
 * model.c - sequential models: creation, building the recorded layers (planned, then built
 * through the layer table, layers.c) into a compiled graph with the loss and output
 * activation the task calls for, and introspection.
 * A trailing softmax (classify) or sigmoid (binary, multilabel) layer is the output
 * activation: the fused loss reads the logits before it, so it is never applied twice.
 */
#include "layer.h"

#include <limits.h>
#include <string.h>
#include <unistd.h>

int nb_model_create(nb_task task, nb_model **out)
{
    if (!out) return nb__fail(NB_ERR_ARG, "nb_model_create: out is NULL");
    *out = NULL;
    if ((int)task < NB_TASK_CLASSIFY || task > NB_TASK_REGRESS)
        return nb__fail(NB_ERR_ARG, "model: unknown task %d", (int)task);
    nb_model *m = nb__calloc(1, sizeof *m);
    if (!m) return NB_ERR_NOMEM;
    m->task = task;
    *out = m;
    return NB_OK;
}

void nb_model_free(nb_model *m)
{
    if (!m) return;
    for (int i = 0; i < m->n_clones; i++) nb_graph_free(m->clones[i]); /* before the graph they borrow from */
    nb_free(m->clones);
    nb_graph_free(m->g);
    nb_free(m->layers);
    nb_free(m->spec);
    nb_free(m->ptensors);
    nb_free(m->ybuf);
    nb_free(m);
}

/* The checks and shapes nb_model_plan and nb_model_build share: every layer's shape from the
 * layer table (shape errors name the layer before any graph exists), the output width
 * (*n_outputs 0 becomes the last layer's), and the totals in tot. Allocates nothing. */
static int plan(nb_model *m, int sample_rank, const int64_t *sample_shape, int *n_outputs, nb__plan *tot)
{
    int st;
    if (!m) return nb__fail(NB_ERR_ARG, "model is NULL");
    if (!sample_shape) return nb__fail(NB_ERR_ARG, "build: sample_shape is NULL");
    if (m->built) return nb__fail(NB_ERR_STATE, "model is already built");
    m->planned = 0;
    if (m->n_layers == 0) return nb__fail(NB_ERR_ARG, "model has no layers");
    if (sample_rank < 1 || sample_rank > 3)
        return nb__fail(NB_ERR_SHAPE, "model: sample rank %d is not in 1..3", sample_rank);
    if (*n_outputs < 0) return nb__fail(NB_ERR_ARG, "model: %d outputs", *n_outputs);
    for (int i = 0; i < sample_rank; i++)
        if (sample_shape[i] < 1) {
            char buf[96];
            return nb__fail(NB_ERR_SHAPE, "model: sample shape %s has a size < 1", nb__shape_str(sample_rank, sample_shape, buf, sizeof buf));
        }
    if ((st = nb__model_plan(m, sample_rank, sample_shape, tot))) return st;
    const nb__layer *last = &m->layers[m->n_layers - 1];
    int n_out = *n_outputs;
    if (last->out_rank == 1 && n_out == 0 && last->out_shape[0] <= INT_MAX) n_out = (int)last->out_shape[0]; /* whatever the last layer gives */
    if (last->out_rank != 1 || last->out_shape[0] != n_out) {
        char buf[96];
        return nb__fail(NB_ERR_SHAPE, "model: the last layer gives %s per sample, but the %s task needs %d output%s (%s)",
                        nb__shape_str(last->out_rank, last->out_shape, buf, sizeof buf), nb_task_name(m->task), n_out,
                        n_out == 1 ? "" : "s",
                        m->task == NB_TASK_CLASSIFY ? "one per class" : m->task == NB_TASK_BINARY ? "one logit" : "one per target");
    }
    *n_outputs = n_out;
    m->sample_rank = sample_rank;
    for (int i = 0; i < sample_rank; i++) m->sample_shape[i] = sample_shape[i];
    m->n_outputs = n_out;
    m->planned = 1;
    return NB_OK;
}

int nb_model_plan(nb_model *m, int sample_rank, const int64_t *sample_shape, int n_outputs)
{
    nb__plan t;
    return plan(m, sample_rank, sample_shape, &n_outputs, &t);
}

/* The memory a built model needs, from its plan: every tensor's values, the trainable ones'
 * gradients, and one sample's activations with their gradients (a batch needs that many times
 * more, and the optimizer up to two more copies of the parameters). Physical memory
 * (sysconf) is the limit: past it the kernel's overcommit lets the allocation succeed and
 * then kills the process when the pages are touched (summary of "conv 4 3x3; flatten;
 * dense 10" at 1x8192x8192, 21 GB, was OOM-killed). */
static double phys_bytes(void)
{
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGESIZE)
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    if (pages > 0 && size > 0) return (double)pages * (double)size;
#endif
    return NB__MAX_MODEL_BYTES;
}

static int check_memory(const nb__plan *t)
{
    double need = ((t->tensor_values + t->params) + 2.0 * t->values) * (double)sizeof(float);
    double limit = phys_bytes();
    if (limit > NB__MAX_MODEL_BYTES) limit = NB__MAX_MODEL_BYTES;
    if (need <= limit) return NB_OK;
    return nb__fail(NB_ERR_NOMEM, "model: it needs about %.3g GB (%.0f parameters with their gradients, and one sample's activations), more than %s (%.3g GB); use fewer units or filters, or a smaller input",
                    need / 1e9, t->params, limit == NB__MAX_MODEL_BYTES ? "the limit of a model" : "this machine's memory", limit / 1e9);
}

int nb_model_build(nb_model *m, int sample_rank, const int64_t *sample_shape, int n_outputs)
{
    nb__plan t;
    int st = plan(m, sample_rank, sample_shape, &n_outputs, &t);
    if (st || (st = check_memory(&t))) return st;
    /* a layer that bound something of the model (the embedding's vocabulary) says so in the
     * spec a model file keeps; the others' text is unchanged (no allocation for them) */
    for (int i = 0; i < m->n_layers; i++)
        if (nb__layer_table[m->layers[i].type]->bind) {
            if ((st = nb__model_respec_all(m))) return st;
            break;
        }
    if ((st = nb_graph_create(&m->g))) return st;
    nb_graph *g = m->g;
    int64_t xs[NB_MAX_RANK] = {NB_BATCH};
    for (int i = 0; i < sample_rank; i++) xs[i + 1] = sample_shape[i];
    m->x = nb_input(g, "x", sample_rank + 1, xs);
    nb_node cur = m->x;
    m->seq_ids = m->lengths = -1; /* all T steps, unless a first embedding reads padded ids */
    if ((st = nb__model_build_layers(m, &cur))) goto fail;
    m->logits = cur;
    switch (m->task) {
    case NB_TASK_CLASSIFY:
        m->t = nb_input(g, "target", 1, (int64_t[]){NB_BATCH});
        m->loss = nb_softmax_ce(g, cur, m->t);
        m->pred = nb_softmax(g, cur, -1);
        break;
    case NB_TASK_BINARY: case NB_TASK_MULTILABEL:
        m->t = nb_input(g, "target", 2, (int64_t[]){NB_BATCH, n_outputs});
        m->loss = nb_bce_logits(g, cur, m->t);
        m->pred = nb_sigmoid(g, cur);
        break;
    default:
        m->t = nb_input(g, "target", 2, (int64_t[]){NB_BATCH, n_outputs});
        m->loss = nb_mse(g, cur, m->t);
        m->pred = cur;
    }
    /* inference (evaluation mode) recycles activation buffers; the library reads only the
     * logits, loss and prediction after a forward (metrics, accuracy, predict) */
    nb_graph_set_reuse(g, 1);
    if ((st = nb_graph_status(g)) || (st = nb_graph_keep(g, m->logits)) || (st = nb_graph_keep(g, m->loss)) ||
        (st = nb_graph_keep(g, m->pred)) || (st = nb_graph_compile(g)))
        goto fail;
    m->built = 1;
    return nb_model_init(m, NB_INIT_TORCH, 0.0f, 0);
fail:
    nb_graph_free(m->g);
    m->g = NULL;
    nb_free(m->ptensors);
    m->ptensors = NULL;
    m->n_ptensors = 0;
    m->oom = 0;
    return st;
}

nb_task nb_model_task(const nb_model *m) { return m ? m->task : NB_TASK_CLASSIFY; }
nb_graph *nb_model_graph(nb_model *m) { return m ? m->g : NULL; }
int nb_model_n_outputs(const nb_model *m) { return m ? m->n_outputs : 0; }

/* a planned layer's trainable elements, from its tensor definitions */
static size_t layer_params(const nb__layer *l)
{
    nb__tensor_def ts[NB__LAYER_MAX_TENSORS];
    const nb__layer_def *d = nb__layer_table[l->type];
    double n = 0;
    for (int k = 0, nt = d->tensors ? d->tensors(l, ts) : 0; k < nt; k++)
        if (ts[k].trainable) n += nb__numel_d(ts[k].rank, ts[k].shape);
    return n < (double)SIZE_MAX ? (size_t)n : SIZE_MAX;
}

size_t nb_model_param_count(const nb_model *m)
{
    size_t n = 0;
    if (m && m->g) nb_graph_params(m->g, &n);
    else if (m && m->planned) /* from the plan: the trainable tensors' sizes */
        for (int i = 0; i < m->n_layers; i++) n += layer_params(&m->layers[i]);
    return n;
}

float *nb_model_params(nb_model *m)
{
    size_t n;
    return m && m->g ? nb_graph_params(m->g, &n) : NULL;
}

int nb_model_sample_shape(const nb_model *m, int64_t shape[3])
{
    int rank = m ? m->sample_rank : 0;
    for (int i = 0; shape && i < 3; i++) shape[i] = i < rank ? m->sample_shape[i] : 0;
    return rank;
}

int nb_model_n_param_tensors(const nb_model *m) { return m ? m->n_ptensors : 0; }

int nb_model_param_info(const nb_model *m, int i, nb_param_info *out)
{
    if (!m || !out) return nb__fail(NB_ERR_ARG, "nb_model_param_info: %s is NULL", !m ? "model" : "out");
    memset(out, 0, sizeof *out);
    if (!m->built || i < 0 || i >= m->n_ptensors)
        return nb__fail(NB_ERR_ARG, "model has no parameter tensor %d", i);
    nb_view v;
    nb_graph_value(m->g, m->ptensors[i].node, &v);
    size_t n;
    float *base = nb_graph_params(m->g, &n);
    out->name = m->ptensors[i].name;
    out->rank = v.rank;
    memcpy(out->shape, v.shape, sizeof out->shape);
    out->trainable = m->ptensors[i].trainable;
    out->offset = out->trainable ? (size_t)(v.data - base) : 0;
    out->n = v.n;
    out->data = v.data;
    return NB_OK;
}

int nb_model_n_layers(const nb_model *m) { return m ? m->n_layers : 0; }

int nb_model_layer_info(const nb_model *m, int i, nb_layer_info *out)
{
    if (!m || !out) return nb__fail(NB_ERR_ARG, "nb_model_layer_info: %s is NULL", !m ? "model" : "out");
    memset(out, 0, sizeof *out);
    if (i < 0 || i >= m->n_layers) return nb__fail(NB_ERR_ARG, "model has no layer %d", i);
    const nb__layer *l = &m->layers[i];
    out->type = l->type;
    out->op = l->op;
    out->units = l->units;
    out->bias = l->bias;
    out->param = l->param;
    int known = m->built || m->planned;
    out->out_rank = known ? l->out_rank : 0;
    memcpy(out->out_shape, l->out_shape, sizeof out->out_shape);
    out->flops = known ? l->flops : 0;
    if (!m->built && m->planned) out->n_params = layer_params(l);
    for (int k = 0; m->built && k < l->nt; k++) { /* trainable tensors of this layer */
        nb_view v;
        if (m->ptensors[l->t0 + k].trainable && !nb_graph_value(m->g, m->ptensors[l->t0 + k].node, &v)) out->n_params += v.n;
    }
    nb__layer_text(l, out->text, sizeof out->text);
    return NB_OK;
}
