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
#include "onnx.h"

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

/* ---- ONNX: one RNN / LSTM / GRU node over (T, N, F) */

/* the ONNX gate block g comes from PyTorch's (nabla's) block order[g]: LSTM i f g o -> i o f c,
 * GRU r z n -> z r h (with linear_before_reset=1, PyTorch's n gate); a tanh RNN has one */
static const int lstm_order[4] = {0, 3, 1, 2}, gru_order[3] = {1, 0, 2}, rnn_order[1] = {0};

/* W (D, G H, F), R (D, G H, H) and B (D, 2 G H) = [W_b, R_b] from the direction's tensors */
static int onnx_weights(nb__onnx *o, const nb_model *m, int i, const nb__layer *l, int64_t F, char names[3][NB__ONNX_NAME])
{
    int64_t H = l->units, G = gates_of(l), D = l->bidirectional ? 2 : 1;
    const int *order = l->type == NB_LAYER_LSTM ? lstm_order : l->type == NB_LAYER_GRU ? gru_order : rnn_order;
    size_t wn = (size_t)(D * G * H * F), rn = (size_t)(D * G * H * H), bn = (size_t)(D * 2 * G * H);
    float *buf = nb__alloc((wn + rn + bn) * sizeof *buf), *w = buf, *r = buf + wn, *b = r + rn;
    if (!buf) return NB_ERR_NOMEM;
    for (int d = 0; d < D; d++) {
        nb_view v[4];
        for (int k = 0; k < 4; k++)
            if (nb_graph_value(m->g, nb__layer_tensor(m, l, 4 * d + k), &v[k])) {
                nb_free(buf);
                return nb__fail(NB_ERR_STATE, "its weights are not in the graph");
            }
        for (int g = 0; g < G; g++) {
            size_t dst = (size_t)((d * G + g) * H), src = (size_t)(order[g] * H);
            memcpy(w + dst * (size_t)F, v[0].data + src * (size_t)F, (size_t)(H * F) * sizeof *w);
            memcpy(r + dst * (size_t)H, v[1].data + src * (size_t)H, (size_t)(H * H) * sizeof *r);
            memcpy(b + (size_t)(d * 2 * G * H + g * H), v[2].data + src, (size_t)H * sizeof *b);
            memcpy(b + (size_t)(d * 2 * G * H + G * H + g * H), v[3].data + src, (size_t)H * sizeof *b);
        }
    }
    snprintf(names[0], NB__ONNX_NAME, "layers.%d.weight_ih.onnx", i);
    snprintf(names[1], NB__ONNX_NAME, "layers.%d.weight_hh.onnx", i);
    snprintf(names[2], NB__ONNX_NAME, "layers.%d.bias.onnx", i);
    nb__onnx_init_f32(o, names[0], 3, (int64_t[]){D, G * H, F}, w);
    nb__onnx_init_f32(o, names[1], 3, (int64_t[]){D, G * H, H}, r);
    nb__onnx_init_f32(o, names[2], 2, (int64_t[]){D, 2 * G * H}, b);
    nb_free(buf);
    return NB_OK;
}

/* the inverse of onnx_weights (nabla's own ONNX files): each direction's four tensors back
 * from W, R and B in ONNX's gate order */
static int onnx_in(nb_model *m, const nb__layer *l, nb__onnx_get get, void *ud)
{
    int i = (int)(l - m->layers);
    int64_t H = l->units, G = gates_of(l), D = l->bidirectional ? 2 : 1, T = 0, F = 0;
    const int *order = l->type == NB_LAYER_LSTM ? lstm_order : l->type == NB_LAYER_GRU ? gru_order : rnn_order;
    steps_features(l->in_rank, l->in_shape, &T, &F);
    size_t wn = (size_t)(D * G * H * F), rn = (size_t)(D * G * H * H), bn = (size_t)(D * 2 * G * H);
    float *buf = nb__alloc((wn + rn + bn) * sizeof *buf), *w = buf, *r = buf + wn, *b = r + rn;
    char name[3][NB__ONNX_NAME];
    if (!buf) return NB_ERR_NOMEM;
    snprintf(name[0], NB__ONNX_NAME, "layers.%d.weight_ih.onnx", i);
    snprintf(name[1], NB__ONNX_NAME, "layers.%d.weight_hh.onnx", i);
    snprintf(name[2], NB__ONNX_NAME, "layers.%d.bias.onnx", i);
    int st = get(ud, name[0], wn, w);
    if (!st) st = get(ud, name[1], rn, r);
    if (!st) st = get(ud, name[2], bn, b);
    for (int d = 0; !st && d < D; d++) {
        nb_view v[4];
        for (int k = 0; k < 4 && !st; k++) st = nb_graph_value(m->g, nb__layer_tensor(m, l, 4 * d + k), &v[k]);
        for (int g = 0; !st && g < G; g++) {
            size_t src = (size_t)((d * G + g) * H), dst = (size_t)(order[g] * H);
            memcpy(v[0].data + dst * (size_t)F, w + src * (size_t)F, (size_t)(H * F) * sizeof *w);
            memcpy(v[1].data + dst * (size_t)H, r + src * (size_t)H, (size_t)(H * H) * sizeof *r);
            memcpy(v[2].data + dst, b + (size_t)(d * 2 * G * H + g * H), (size_t)H * sizeof *b);
            memcpy(v[3].data + dst, b + (size_t)(d * 2 * G * H + G * H + g * H), (size_t)H * sizeof *b);
        }
    }
    nb_free(buf);
    return st;
}

/* sequence_lens (N) int32 from the int64 ids (N, T): 1 + the last non-zero position, as
 * nb_seq_lengths counts (padding inside a row still counts): max over t of (id != 0) (t + 1) */
static void onnx_lengths(nb__onnx *o, int64_t T)
{
    char z[NB__ONNX_NAME], eq[NB__ONNX_NAME], nz[NB__ONNX_NAME], mask[NB__ONNX_NAME], pos[NB__ONNX_NAME];
    char mp[NB__ONNX_NAME], mx[NB__ONNX_NAME];
    int64_t *p = nb__alloc((size_t)T * sizeof *p);
    if (!p) {
        o->g.oom = 1;
        return;
    }
    for (int64_t t = 0; t < T; t++) p[t] = t + 1;
    nb__onnx_fresh(o, "zero", z);
    nb__onnx_init_i64(o, z, 1, (const int64_t[]){1}, (const int64_t[]){0});
    nb__onnx_const_i64(o, "positions", (int)T, p, pos);
    nb_free(p);
    nb__onnx_op(o, "Equal", (const char *[]){o->seq_ids, z}, 2, NULL, 0, eq);
    nb__onnx_op(o, "Not", (const char *[]){eq}, 1, NULL, 0, nz);
    nb__onnx_attr to64 = nb__oa_int("to", ONNX_DT_INT64), to32 = nb__oa_int("to", ONNX_DT_INT32);
    nb__onnx_op(o, "Cast", (const char *[]){nz}, 1, &to64, 1, mask);
    nb__onnx_op(o, "Mul", (const char *[]){mask, pos}, 2, NULL, 0, mp);
    nb__onnx_attr red[2] = {nb__oa_ints("axes", 1, (const int64_t[]){1}), nb__oa_int("keepdims", 0)};
    nb__onnx_op(o, "ReduceMax", (const char *[]){mp}, 1, red, 2, mx);
    nb__onnx_op(o, "Cast", (const char *[]){mx}, 1, &to32, 1, o->lengths);
}

static int onnx(nb__onnx *o, const nb_model *m, int i, const nb__layer *l, const char *in, char *out, size_t cap)
{
    int64_t T = 0, F = 0, H = l->units, D = l->bidirectional ? 2 : 1;
    char x[NB__ONNX_NAME], xt[NB__ONNX_NAME], wrb[3][NB__ONNX_NAME], y[NB__ONNX_NAME], yh[NB__ONNX_NAME];
    char t[NB__ONNX_NAME], u[NB__ONNX_NAME], res[NB__ONNX_NAME];
    int st;
    steps_features(l->in_rank, l->in_shape, &T, &F);
    snprintf(x, sizeof x, "%s", in);
    if (l->in_rank == 3) nb__onnx_reshape(o, in, 2, (const int64_t[]){T, F}, x); /* (1, H, W) -> (H, W) */
    nb__onnx_attr perm = nb__oa_ints("perm", 3, (const int64_t[]){1, 0, 2});
    nb__onnx_op(o, "Transpose", (const char *[]){x}, 1, &perm, 1, xt); /* nabla's (N, T, F) -> ONNX's (T, N, F) */
    if ((st = onnx_weights(o, m, i, l, F, wrb))) return st;
    if (o->seq_ids[0] && !o->lengths[0]) onnx_lengths(o, T);
    const char *op = l->type == NB_LAYER_LSTM ? "LSTM" : l->type == NB_LAYER_GRU ? "GRU" : "RNN";
    nb__onnx_attr a[3] = {nb__oa_int("hidden_size", H), nb__oa_str("direction", l->bidirectional ? "bidirectional" : "forward"),
                          nb__oa_int("linear_before_reset", 1)};
    nb__onnx_fresh(o, "Y", y);
    nb__onnx_fresh(o, "Y_h", yh);
    nb__onnx_node(o, op, (const char *[]){xt, wrb[0], wrb[1], wrb[2], o->lengths}, o->lengths[0] ? 5 : 4,
                  (const char *[]){y, yh}, 2, a, l->type == NB_LAYER_GRU ? 3 : 2);
    if (l->rnn_output == NB_RNN_SEQUENCE) { /* Y (T, D, N, H) -> (N, T, D H) */
        nb__onnx_attr p4 = nb__oa_ints("perm", 4, (const int64_t[]){2, 0, 1, 3});
        nb__onnx_op(o, "Transpose", (const char *[]){y}, 1, &p4, 1, t);
        nb__onnx_reshape(o, t, 2, (const int64_t[]){T, D * H}, res);
    } else if (l->rnn_output == NB_RNN_LAST) { /* Y_h (D, N, H) -> (N, D H) */
        nb__onnx_op(o, "Transpose", (const char *[]){yh}, 1, &perm, 1, t);
        nb__onnx_reshape(o, t, 1, (const int64_t[]){D * H}, res);
    } else { /* the mean over each row's steps: Y's padded steps are 0, so the sum over T / length */
        char axes[NB__ONNX_NAME], s[NB__ONNX_NAME], len[NB__ONNX_NAME];
        nb__onnx_const_i64(o, "axes", 1, (const int64_t[]){0}, axes);
        nb__onnx_attr keep = nb__oa_int("keepdims", 0);
        nb__onnx_op(o, "ReduceSum", (const char *[]){y, axes}, 2, &keep, 1, t);
        nb__onnx_op(o, "Transpose", (const char *[]){t}, 1, &perm, 1, u);
        nb__onnx_reshape(o, u, 1, (const int64_t[]){D * H}, s);
        if (o->lengths[0]) { /* (N) -> (N, 1) floats, at least 1: an empty row's sum is 0, and so its mean */
            char f[NB__ONNX_NAME], one[NB__ONNX_NAME], mx[NB__ONNX_NAME], ax1[NB__ONNX_NAME];
            nb__onnx_attr tof = nb__oa_int("to", ONNX_DT_FLOAT);
            nb__onnx_op(o, "Cast", (const char *[]){o->lengths}, 1, &tof, 1, f);
            nb__onnx_const_f32(o, "one", 1, (const int64_t[]){1}, (const float[]){1.0f}, one);
            nb__onnx_op(o, "Max", (const char *[]){f, one}, 2, NULL, 0, mx);
            nb__onnx_const_i64(o, "axes", 1, (const int64_t[]){1}, ax1);
            nb__onnx_op(o, "Unsqueeze", (const char *[]){mx, ax1}, 2, NULL, 0, len);
        } else {
            nb__onnx_const_f32(o, "steps", 1, (const int64_t[]){1}, (const float[]){(float)T}, len);
        }
        nb__onnx_op(o, "Div", (const char *[]){s, len}, 2, NULL, 0, res);
    }
    snprintf(out, cap, "%s", res);
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
    { .word = w, .parse = parse, .check = check, .text = text, .infer = infer, .tensors = tensors, .build = build, .init = init, .onnx = onnx, .onnx_in = onnx_in }
const nb__layer_def nb__layer_rnn = NB__RNN_DEF("rnn");
const nb__layer_def nb__layer_lstm = NB__RNN_DEF("lstm");
const nb__layer_def nb__layer_gru = NB__RNN_DEF("gru");
