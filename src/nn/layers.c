/* SPDX-License-Identifier: MIT */
/*
 * layers.c - the layer table and the walks over a model's layers that go through it:
 * finding a kind by spec word, checking and recording a layer (with the model's canonical
 * spec text), per-sample shape planning, building and per-step upkeep. Kinds are reached
 * only through nb__layer_table; this file knows none of them.
 * Invariant: a recorded layer passed its descriptor's check; a built layer's graph output has
 * the shape its plan inferred and it made exactly the tensors its descriptor lists.
 */
#include "layer.h"

#include <string.h>

const nb__layer_def *const nb__layer_table[] = {
    [NB_LAYER_DENSE] = &nb__layer_dense,
    [NB_LAYER_ACTIVATION] = &nb__layer_activation,
    [NB_LAYER_FLATTEN] = &nb__layer_flatten,
    [NB_LAYER_CONV2D] = &nb__layer_conv2d,
    [NB_LAYER_MAXPOOL] = &nb__layer_maxpool,
    [NB_LAYER_AVGPOOL] = &nb__layer_avgpool,
    [NB_LAYER_GLOBAL_AVGPOOL] = &nb__layer_gap,
    [NB_LAYER_DROPOUT] = &nb__layer_dropout,
    [NB_LAYER_BATCHNORM] = &nb__layer_batchnorm,
    [NB_LAYER_PRELU] = &nb__layer_prelu,
    [NB_LAYER_EMBEDDING] = &nb__layer_embedding,
    [NB_LAYER_RNN] = &nb__layer_rnn,
    [NB_LAYER_LSTM] = &nb__layer_lstm,
    [NB_LAYER_GRU] = &nb__layer_gru,
};
/* a kind added to the enum without a line here fails to compile (a gap in the middle
 * leaves a NULL entry, which tests/nn/test_layers.c reports) */
_Static_assert(sizeof nb__layer_table / sizeof nb__layer_table[0] == NB_LAYER_COUNT_,
               "nb__layer_table needs one entry per nb_layer_type");

int nb__layer_find(const char *word)
{
    for (int k = 0; k < NB_LAYER_COUNT_; k++) {
        const nb__layer_def *d = nb__layer_table[k];
        if (d->match ? d->match(word) : strcmp(word, d->word) == 0) return k;
        for (const char *const *a = d->aliases; a && *a; a++)
            if (strcmp(word, *a) == 0) return k;
    }
    return -1;
}

/* ---------------------------------------------------------------- recording */

int nb__layer_add(nb_model *m, nb__layer *l)
{
    if (!m) return nb__fail(NB_ERR_ARG, "model is NULL");
    if ((int)l->type < 0 || l->type >= NB_LAYER_COUNT_) return nb__fail(NB_ERR_ARG, "model: unknown layer type %d", (int)l->type);
    const nb__layer_def *d = nb__layer_table[l->type];
    int st;
    l->word = d->word;
    if (d->check && (st = d->check(l))) return st;
    if (!m) return nb__fail(NB_ERR_ARG, "model is NULL");
    if (m->built) return nb__fail(NB_ERR_STATE, "model is built: no more layers can be added");
    if (m->n_layers == m->cap_layers) {
        int cap = m->cap_layers ? m->cap_layers * 2 : 8;
        if (cap > 100000) return nb__fail(NB_ERR_ARG, "model: too many layers");
        nb__layer *p = nb__realloc(m->layers, (size_t)cap * sizeof *p);
        if (!p) return NB_ERR_NOMEM;
        m->layers = p;
        m->cap_layers = cap;
    }
    m->layers[m->n_layers++] = *l;
    if (nb__model_respec(m)) {
        m->n_layers--;
        return NB_ERR_NOMEM;
    }
    return NB_OK;
}

void nb__layer_text(const nb__layer *l, char *buf, size_t cap)
{
    buf[0] = '\0';
    nb__layer_table[l->type]->text(l, buf, cap);
}

const char *nb_model_spec(const nb_model *m) { return m && m->spec ? m->spec : ""; }

int nb__model_respec(nb_model *m)
{
    /* nb__layer_add, the only caller, appends one layer at a time and, even when it fails,
     * leaves m->spec as the text of the layers before the new one: so only the new layer's
     * text is appended. Re-formatting every layer on every append made parsing a spec of n
     * layers O(n^2) in formatting work (16000 layers took 39 s). */
    char text[96];
    if (m->n_layers < 1) return NB_OK;
    nb__layer_text(&m->layers[m->n_layers - 1], text, sizeof text);
    size_t old = m->n_layers > 1 && m->spec ? strlen(m->spec) : 0, add = strlen(text);
    char *p = nb__realloc(old ? m->spec : NULL, old + 2 + add + 1);
    if (!p) return NB_ERR_NOMEM;
    if (!old) nb_free(m->spec); /* a first layer replaces whatever text there was */
    memcpy(p + old, "; ", old ? 2 : 0);
    memcpy(p + old + (old ? 2 : 0), text, add + 1);
    m->spec = p;
    return NB_OK;
}

int nb__model_respec_all(nb_model *m)
{
    char text[96];
    size_t total = 1;
    for (int i = 0; i < m->n_layers; i++) {
        nb__layer_text(&m->layers[i], text, sizeof text);
        total += strlen(text) + 2;
    }
    char *p = nb__alloc(total), *q = p;
    if (!p) return NB_ERR_NOMEM;
    for (int i = 0; i < m->n_layers; i++) {
        nb__layer_text(&m->layers[i], text, sizeof text);
        size_t n = strlen(text);
        if (i) memcpy(q, "; ", 2), q += 2;
        memcpy(q, text, n);
        q += n;
    }
    *q = '\0';
    nb_free(m->spec);
    m->spec = p;
    return NB_OK;
}

/* ---------------------------------------------------------------- planning and building */

/* Per-sample sizes stay below 2^53 values: exact in a double, and no int64 product in any
 * descriptor (a flatten, a dense layer's fan-in) can overflow. */
#define NB__MAX_SAMPLE_VALUES 9007199254740992.0

int nb__model_plan(nb_model *m, int rank, const int64_t *shape, nb__plan *tot)
{
    nb__plan t = {nb__numel_d(rank, shape), 0, 0, 0};
    int in_rank = rank, st = NB_OK;
    const int64_t *in = shape;
    for (int i = 0; i < m->n_layers && !st; i++) {
        nb__layer *l = &m->layers[i];
        const nb__layer_def *d = nb__layer_table[l->type];
        nb__layer_shape out = {0};
        nb__tensor_def ts[NB__LAYER_MAX_TENSORS];
        l->in_rank = in_rank;
        memcpy(l->in_shape, in, (size_t)in_rank * sizeof *in);
        if (nb__numel_d(in_rank, in) > NB__MAX_SAMPLE_VALUES)
            st = nb__fail(NB_ERR_SHAPE, "its input has more than 2^53 values per sample");
        else if (!(st = d->bind ? d->bind(m, i, l) : NB_OK) && !(st = d->infer(l, in_rank, in, &out)) && (out.rank < 1 || out.rank >= NB_MAX_RANK))
            st = nb__fail(NB_ERR_SHAPE, "gives a rank-%d output per sample", out.rank);
        if (st) {
            st = nb__fail_prefix(st, "layer %d (%s)", i, l->word);
            break;
        }
        l->out_rank = out.rank;
        memcpy(l->out_shape, out.shape, sizeof out.shape);
        l->flops = out.flops;
        t.values += nb__numel_d(out.rank, out.shape) + out.scratch;
        for (int k = 0, n = d->tensors ? d->tensors(l, ts) : 0; k < n; k++) {
            double e = nb__numel_d(ts[k].rank, ts[k].shape);
            if (ts[k].rank >= 2) t.weights += e;
            t.tensor_values += e;
            if (ts[k].trainable) t.params += e;
        }
        in_rank = l->out_rank;
        in = l->out_shape;
    }
    if (tot) *tot = t;
    return st;
}

/* Build layer i's nodes on *cur; its output must have the per-sample shape that layer
 * `plan` was inferred to have (i itself, but for the pair below). */
static int build_layer(nb_model *m, int i, int plan, nb_node *cur)
{
    nb_graph *g = m->g;
    nb__layer *l = &m->layers[i];
    const nb__layer *p = &m->layers[plan];
    const nb__layer_def *d = nb__layer_table[l->type];
    nb__tensor_def ts[NB__LAYER_MAX_TENSORS];
    int nt = d->tensors ? d->tensors(l, ts) : 0, st = NB_OK;
    l->t0 = m->n_ptensors;
    l->nt = 0;
    if ((st = d->build(m, i, ts, cur))) return nb__fail_prefix(st, "layer %d (%s)", i, l->word);
    if (m->oom) return nb__fail(NB_ERR_NOMEM, "layer %d (%s): out of memory", i, l->word);
    if ((st = nb_graph_status(g)) || *cur < 0) /* a negative node carries its builder's status */
        return nb__fail_prefix(st ? st : -*cur, "layer %d (%s)", i, l->word);
    l->nt = m->n_ptensors - l->t0;
    /* the descriptor's own contract: what it listed and inferred is what it built */
    int64_t s[NB_MAX_RANK];
    int rank = nb_graph_node_shape(g, *cur, s), same = rank == p->out_rank + 1 && l->nt == nt;
    for (int k = 0; same && k < p->out_rank; k++) same = s[k + 1] == p->out_shape[k];
    if (!same) {
        char a[96], b[96];
        return nb__fail(NB_ERR_STATE, "layer %d (%s): built %s per sample with %d tensors, its plan says %s with %d", i, l->word,
                        nb__shape_str(rank - 1, s + 1, a, sizeof a), l->nt, nb__shape_str(p->out_rank, p->out_shape, b, sizeof b), nt);
    }
    return NB_OK;
}

/* A ReLU right before a max pool is built after it, on the pooled values. The two commute
 * bit for bit, forward and backward: ReLU is monotone and exact, so where a window's maximum
 * is positive both orders pick the same element (the first maximum) and pass its gradient;
 * where it is not, both give +0 and send back +0 gradients (the pool's choice among the
 * zeros does not matter); a NaN wins the pool and passes the ReLU either way. The ReLU then
 * runs on a quarter of the elements (a 2x2 pool), forward and backward - in the reference
 * CNN, two passes over its largest activations. Only a ReLU: an activation that is strictly
 * increasing may still round two inputs to one output and change the pool's choice. A 2x2
 * pool then applies the ReLU itself (nb__maxpool2d_relu, from pool_build): one node. */
int nb__relu_then_maxpool(const nb_model *m, int i)
{
    return i + 1 < m->n_layers && m->layers[i].type == NB_LAYER_ACTIVATION && m->layers[i].op == NB_OP_RELU &&
           m->layers[i + 1].type == NB_LAYER_MAXPOOL;
}

int nb__model_build_layers(nb_model *m, nb_node *cur)
{
    for (int i = 0; i < m->n_layers; i++) {
        int st;
        if (nb__relu_then_maxpool(m, i)) { /* the pool's build applies the ReLU: this one builds nothing */
            if ((st = build_layer(m, i + 1, i + 1, cur))) return st;
            m->layers[i].t0 = m->n_ptensors, m->layers[i].nt = 0;
            i++;
        } else if ((st = build_layer(m, i, i, cur)))
            return st;
    }
    return NB_OK;
}

void nb__model_step_layers(nb_model *m)
{
    for (int i = 0; i < m->n_layers; i++) {
        const nb__layer_def *d = nb__layer_table[m->layers[i].type];
        if (d->step) d->step(m, &m->layers[i]);
    }
}
