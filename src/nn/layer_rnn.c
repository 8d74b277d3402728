/* SPDX-License-Identifier: MIT */
/*
 * layer_rnn.c - the recurrent layers rnn (tanh), lstm and gru: PyTorch's nn.RNN / nn.LSTM /
 * nn.GRU(F, H, batch_first=True), one layer, as the fused operator nb_rnn. Three kinds share
 * this file; the cell is the kind. The sample is (T, F): T steps of F features (an
 * embedding's output, another recurrent layer's sequence, or a single-channel image (1, H, W)
 * read as H steps of W features). What the layer hands on: "last" (default, (D H), each
 * row's state at its own last step), "sequence" ((T, D H), for a following recurrent layer)
 * or "mean" ((D H), over each row's valid steps). Rows' lengths come from the model: when
 * a first embedding layer read padded token ids (m->seq_ids), nb_seq_lengths of them, one
 * node (m->lengths) for every recurrent layer, so padded steps are skipped as PyTorch's
 * pack_padded_sequence does.
 * Spec: rnn|lstm|gru H [sequence|last|mean] [bidirectional].
 */
#include "layer.h"

#include <math.h>

static const char *const words[] = {"rnn", "lstm", "gru"};

static nb_rnn_cell cell_of(const nb__layer *l)
{
    return l->type == NB_LAYER_LSTM ? NB_CELL_LSTM : l->type == NB_LAYER_GRU ? NB_CELL_GRU : NB_CELL_TANH;
}

/* gates per cell: PyTorch's G of the (G H, .) weights */
static int64_t gates_of(const nb__layer *l)
{
    nb_rnn_cell c = cell_of(l);
    return c == NB_CELL_LSTM ? 4 : c == NB_CELL_GRU ? 3 : 1;
}

static const char *output_word(int output)
{
    return output == NB_RNN_SEQUENCE ? "sequence" : output == NB_RNN_MEAN ? "mean" : "last";
}

static int parse(const nb__words *s, nb__layer *l)
{
    if (s->n < 2 || !nb__arg_whole(s->w[1], 1, 1 << 24, &l->units))
        return nb__fail(NB_ERR_FORMAT, "spec:%d: '%s' takes a whole number of hidden units in 1..2^24%s%s%s", s->line, s->w[0],
                        s->n >= 2 ? ", got '" : "", s->n >= 2 ? s->w[1] : "", s->n >= 2 ? "'" : "");
    l->rnn_output = NB_RNN_LAST;
    l->bidirectional = 0;
    int seen_output = 0;
    for (int k = 2; k < s->n; k++) {
        const char *w = s->w[k];
        int out = strcmp(w, "last") == 0 ? NB_RNN_LAST : strcmp(w, "sequence") == 0 ? NB_RNN_SEQUENCE : strcmp(w, "mean") == 0 ? NB_RNN_MEAN : -1;
        if (out >= 0 && !seen_output) {
            l->rnn_output = out;
            seen_output = 1;
        } else if (out >= 0) {
            return nb__fail(NB_ERR_FORMAT, "spec:%d: '%s' takes one of sequence, last and mean, got a second ('%s')", s->line, s->w[0], w);
        } else if (strcmp(w, "bidirectional") == 0) {
            l->bidirectional = 1;
        } else {
            return nb__fail(NB_ERR_FORMAT, "spec:%d: unexpected '%s' after %s (options: sequence, last or mean; bidirectional)", s->line, w,
                            s->w[0]);
        }
    }
    return NB_OK;
}

static int check(nb__layer *l)
{
    const char *w = words[cell_of(l)];
    if (l->units < 1 || l->units > (1 << 24)) return nb__fail(NB_ERR_ARG, "%s: hidden must be in 1..2^24, got %d", w, l->units);
    if (l->rnn_output != NB_RNN_LAST && l->rnn_output != NB_RNN_SEQUENCE && l->rnn_output != NB_RNN_MEAN)
        return nb__fail(NB_ERR_ARG, "%s: output must be NB_RNN_LAST, NB_RNN_SEQUENCE or NB_RNN_MEAN, got %d", w, l->rnn_output);
    if (l->bidirectional != 0 && l->bidirectional != 1)
        return nb__fail(NB_ERR_ARG, "%s: bidirectional must be 0 or 1, got %d", w, l->bidirectional);
    return NB_OK;
}

static void text(const nb__layer *l, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s %d%s%s%s", words[cell_of(l)], l->units, l->rnn_output == NB_RNN_LAST ? "" : " ",
             l->rnn_output == NB_RNN_LAST ? "" : output_word(l->rnn_output), l->bidirectional ? " bidirectional" : "");
}

/* (T, F) per sample; a single-channel image (1, H, W) is H steps of W features */
static int steps_features(int in_rank, const int64_t *in, int64_t *T, int64_t *F)
{
    if (in_rank == 2) {
        *T = in[0], *F = in[1];
        return 1;
    }
    if (in_rank == 3 && in[0] == 1) {
        *T = in[1], *F = in[2];
        return 1;
    }
    return 0;
}

static int infer(const nb__layer *l, int in_rank, const int64_t *in, nb__layer_shape *out)
{
    char buf[96];
    int64_t T, F, H = l->units, G = gates_of(l), D = l->bidirectional ? 2 : 1;
    if (!steps_features(in_rank, in, &T, &F))
        return nb__fail(NB_ERR_SHAPE,
                        "needs a sequence (T, F) per sample (T steps of F features: an embedding's output, a recurrent layer's "
                        "'sequence', data with --input-shape TxF, or a one-channel image (1, H, W) as H steps of W), got %s",
                        nb__shape_str(in_rank, in, buf, sizeof buf));
    if (l->rnn_output == NB_RNN_SEQUENCE) {
        out->rank = 2;
        out->shape[0] = T, out->shape[1] = D * H;
    } else {
        out->rank = 1;
        out->shape[0] = D * H;
    }
    /* per step and direction: the input and recurrent products (2 G H (F + H)), the two
     * biases (2 G H) and the cell's elementwise work (about 5 H: gate nonlinearities and
     * the state update); summed over T steps */
    out->flops = (double)T * (double)D * (2.0 * (double)G * (double)H * ((double)F + (double)H) + 2.0 * (double)G * (double)H + 5.0 * (double)H);
    /* the gates and states of every step it saves for backpropagation through time */
    out->scratch = (double)T * (double)D * (double)(G + 2) * (double)H;
    return NB_OK;
}

static int tensors(const nb__layer *l, nb__tensor_def t[NB__LAYER_MAX_TENSORS])
{
    int64_t T, F, H = l->units, G = gates_of(l);
    if (!steps_features(l->in_rank, l->in_shape, &T, &F)) return 0;
    int D = l->bidirectional ? 2 : 1;
    for (int d = 0; d < D; d++) {
        const char *sfx = d ? "_reverse" : "";
        char name[32];
        snprintf(name, sizeof name, "weight_ih_l0%s", sfx);
        nb__tensor_set(&t[4 * d + 0], name, 1, 2, (int64_t[]){G * H, F});
        snprintf(name, sizeof name, "weight_hh_l0%s", sfx);
        nb__tensor_set(&t[4 * d + 1], name, 1, 2, (int64_t[]){G * H, H});
        snprintf(name, sizeof name, "bias_ih_l0%s", sfx);
        nb__tensor_set(&t[4 * d + 2], name, 1, 1, (int64_t[]){G * H});
        snprintf(name, sizeof name, "bias_hh_l0%s", sfx);
        nb__tensor_set(&t[4 * d + 3], name, 1, 1, (int64_t[]){G * H});
    }
    return 4 * D;
}

static int build(nb_model *m, int i, const nb__tensor_def *t, nb_node *cur)
{
    const nb__layer *l = &m->layers[i];
    int64_t T = 0, F = 0;
    steps_features(l->in_rank, l->in_shape, &T, &F);
    if (l->in_rank == 3) *cur = nb_reshape(m->g, *cur, 3, (int64_t[]){NB_BATCH, T, F}); /* (1, H, W) -> (H, W) */
    nb_node p[8];
    int n = l->bidirectional ? 8 : 4;
    for (int k = 0; k < n; k++) p[k] = nb__layer_tensor_new(m, i, &t[k]);
    nb_rnn_desc d = {.cell = cell_of(l), .hidden = l->units, .bidirectional = l->bidirectional, .output = (nb_rnn_output)l->rnn_output};
    /* one lengths node for the model, made by its first recurrent layer (a model without one
     * gets none): -1, every row has T steps, unless a first embedding read padded ids */
    if (m->lengths < 0 && m->seq_ids >= 0) m->lengths = nb_seq_lengths(m->g, m->seq_ids);
    *cur = nb_rnn(m->g, &d, *cur, m->lengths, p);
    return NB_OK;
}

/* PyTorch's reset_parameters: every tensor U(-1/sqrt(H), 1/sqrt(H)), in tensor order,
 * whatever the initialiser (the fan-based ones are for dense and conv weights) */
static int init(nb_model *m, const nb__layer *l, nb_init how, float scale, nb_rng *r)
{
    (void)how, (void)scale;
    float a = 1.0f / sqrtf((float)l->units);
    for (int k = 0; k < l->nt; k++) {
        nb_view v;
        if (nb_graph_value(m->g, nb__layer_tensor(m, l, k), &v)) continue;
        for (size_t j = 0; j < v.n; j++) v.data[j] = a * (2.0f * nb_rng_uniform(r) - 1.0f);
    }
    return NB_OK;
}

int nb_model_add_rnn(nb_model *m, nb_rnn_cell cell, int hidden, nb_rnn_output output, int bidirectional)
{
    if ((unsigned)cell > NB_CELL_GRU)
        return nb__fail(NB_ERR_ARG, "nb_model_add_rnn: cell must be NB_CELL_TANH, NB_CELL_LSTM or NB_CELL_GRU, got %d", (int)cell);
    nb__layer l = {.type = cell == NB_CELL_LSTM ? NB_LAYER_LSTM : cell == NB_CELL_GRU ? NB_LAYER_GRU : NB_LAYER_RNN,
                   .units = hidden, .rnn_output = (int)output, .bidirectional = bidirectional};
    return nb__layer_add(m, &l);
}

#define NB__RNN_DEF(w) \
    { .word = w, .parse = parse, .check = check, .text = text, .infer = infer, .tensors = tensors, .build = build, .init = init }
const nb__layer_def nb__layer_rnn = NB__RNN_DEF("rnn");
const nb__layer_def nb__layer_lstm = NB__RNN_DEF("lstm");
const nb__layer_def nb__layer_gru = NB__RNN_DEF("gru");
