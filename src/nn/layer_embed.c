/* SPDX-License-Identifier: MIT */
/*
 * layer_embed.c - the embedding layer, PyTorch's nn.Embedding(V, DIM, padding_idx=0): the
 * first layer of a model whose sample is (T) token ids (floats holding whole numbers, as the
 * data gives them), out (T, DIM). Tensor "weight" (V, DIM), N(0, 1) with the padding row 0;
 * id 0 is padding (its row stays 0: it gets no gradient) unless "nopad". V comes from the
 * spec ("vocab V") or from nb_model_set_vocab, bound when the model is planned, and the
 * canonical text then carries it, so a model file's architecture alone rebuilds the table.
 * Spec: embedding DIM [vocab V] [nopad].
 */
#include "layer.h"
#include "onnx.h"

/* ids are floats: above 2^24 not every whole number has one */
#define NB__MAX_VOCAB 16777216.0

static int parse(const nb__words *s, nb__layer *l)
{
    if (s->n < 2 || !nb__arg_whole(s->w[1], 1, 1e8, &l->units))
        return nb__fail(NB_ERR_FORMAT, "spec:%d: 'embedding' takes a whole number of dimensions >= 1%s%s%s", s->line,
                        s->n >= 2 ? ", got '" : "", s->n >= 2 ? s->w[1] : "", s->n >= 2 ? "'" : "");
    l->padding = 1;
    for (int k = 2; k < s->n; k++) {
        int v;
        if (strcmp(s->w[k], "nopad") == 0) {
            l->padding = 0;
        } else if (strcmp(s->w[k], "vocab") == 0) {
            if (k + 1 >= s->n || !nb__arg_whole(s->w[k + 1], 1, NB__MAX_VOCAB, &v))
                return nb__fail(NB_ERR_FORMAT, "spec:%d: 'vocab' takes the vocabulary size, a whole number in 1..2^24%s%s%s", s->line,
                                k + 1 < s->n ? ", got '" : "", k + 1 < s->n ? s->w[k + 1] : "", k + 1 < s->n ? "'" : "");
            l->vocab = v;
            k++;
        } else {
            return nb__fail(NB_ERR_FORMAT, "spec:%d: unexpected '%s' after embedding (only 'vocab V' and 'nopad')", s->line, s->w[k]);
        }
    }
    return NB_OK;
}

static int check(nb__layer *l)
{
    if (l->units < 1) return nb__fail(NB_ERR_ARG, "embedding: dim must be >= 1, got %d", l->units);
    if (l->vocab < 0 || (double)l->vocab > NB__MAX_VOCAB)
        return nb__fail(NB_ERR_ARG, "embedding: vocab must be in 1..2^24 (ids are floats), or 0 for the model's (nb_model_set_vocab), got %lld",
                        (long long)l->vocab);
    l->padding = l->padding != 0;
    return NB_OK;
}

/* the bound vocabulary once planned, so the text of a built model rebuilds it */
static int64_t vocab_of(const nb__layer *l) { return l->vocab ? l->vocab : l->vocab_bound; }

static void text(const nb__layer *l, char *buf, size_t cap)
{
    int64_t v = vocab_of(l);
    int n = snprintf(buf, cap, "embedding %d", l->units);
    if (v && n >= 0 && (size_t)n < cap) n += snprintf(buf + n, cap - (size_t)n, " vocab %lld", (long long)v);
    if (!l->padding && n >= 0 && (size_t)n < cap) snprintf(buf + n, cap - (size_t)n, " nopad");
}

static int bind(const nb_model *m, int i, nb__layer *l)
{
    if (i != 0)
        return nb__fail(NB_ERR_SHAPE, "must be the model's first layer: it reads the token ids of a sample, not another layer's output");
    l->vocab_bound = l->vocab ? l->vocab : m->vocab;
    if (!l->vocab_bound)
        return nb__fail(NB_ERR_ARG, "no vocabulary size: give 'vocab V' in the spec, or set the model's with nb_model_set_vocab before building");
    return NB_OK;
}

static int infer(const nb__layer *l, int in_rank, const int64_t *in, nb__layer_shape *out)
{
    char buf[96];
    if (in_rank > 2)
        return nb__fail(NB_ERR_SHAPE, "needs token ids (T) per sample, got %s", nb__shape_str(in_rank, in, buf, sizeof buf));
    nb__shape_copy(out, in_rank, in);
    out->shape[in_rank] = l->units;
    out->rank = in_rank + 1;
    out->flops = 0; /* a copy of rows */
    return NB_OK;
}

static int tensors(const nb__layer *l, nb__tensor_def t[NB__LAYER_MAX_TENSORS])
{
    nb__tensor_set(&t[0], "weight", 1, 2, (int64_t[]){vocab_of(l), l->units});
    return 1;
}

static int build(nb_model *m, int i, const nb__tensor_def *t, nb_node *cur)
{
    const nb__layer *l = &m->layers[i];
    nb_node w = nb__layer_tensor_new(m, i, &t[0]);
    /* right-padded ids (0 = padding) of (T) samples: every recurrent layer after this one
     * runs each row for its own length over them (layer_rnn.c), skipping the padded steps */
    if (l->padding && l->in_rank == 1) m->seq_ids = *cur;
    *cur = nb_embedding(m->g, *cur, w, l->padding ? 0 : -1);
    return NB_OK;
}

/* PyTorch's normal_() whatever the initialiser (it is no fan-based weight), then the padding
 * row zeroed, as nn.Embedding's reset_parameters does */
/* Gather of the rows the ids pick, ids cast to int64 (nabla's are floats holding whole
 * numbers). The padding id 0 picks row 0 like any other (nabla keeps that row zero by never
 * training it). Padded (T) ids are kept for the recurrent layers' sequence lengths */
static int onnx(nb__onnx *o, const nb_model *m, int i, const nb__layer *l, const char *in, char *out, size_t cap)
{
    char w[NB__ONNX_NAME], ids[NB__ONNX_NAME], y[NB__ONNX_NAME];
    int st;
    (void)i;
    nb__onnx_attr to = nb__oa_int("to", ONNX_DT_INT64), ax = nb__oa_int("axis", 0);
    nb__onnx_op(o, "Cast", (const char *[]){in}, 1, &to, 1, ids);
    if ((st = nb__onnx_tensor(o, m, l, 0, w, NULL))) return st;
    nb__onnx_op(o, "Gather", (const char *[]){w, ids}, 2, &ax, 1, y);
    if (l->padding && l->in_rank == 1) snprintf(o->seq_ids, sizeof o->seq_ids, "%s", ids);
    snprintf(out, cap, "%s", y);
    return NB_OK;
}

static int init(nb_model *m, const nb__layer *l, nb_init how, float scale, nb_rng *r)
{
    (void)how, (void)scale;
    nb_view w;
    nb_graph_value(m->g, nb__layer_tensor(m, l, 0), &w);
    for (size_t k = 0; k < w.n; k++) w.data[k] = nb_rng_normal(r);
    if (l->padding) memset(w.data, 0, (size_t)w.shape[1] * sizeof(float));
    return NB_OK;
}

int nb_model_add_embedding(nb_model *m, int dim, int64_t vocab, int padding)
{
    nb__layer l = {.type = NB_LAYER_EMBEDDING, .units = dim, .vocab = vocab, .padding = padding};
    return nb__layer_add(m, &l);
}

int nb_model_set_vocab(nb_model *m, int64_t vocab)
{
    if (!m) return nb__fail(NB_ERR_ARG, "model is NULL");
    if (m->built) return nb__fail(NB_ERR_STATE, "nb_model_set_vocab: the model is built; set the vocabulary before nb_model_build");
    if (vocab < 1 || (double)vocab > NB__MAX_VOCAB)
        return nb__fail(NB_ERR_ARG, "nb_model_set_vocab: vocab must be in 1..2^24 (ids are floats), got %lld", (long long)vocab);
    m->vocab = vocab;
    return NB_OK;
}

const nb__layer_def nb__layer_embedding = {
    .word = "embedding", .parse = parse, .check = check, .text = text, .bind = bind, .infer = infer,
    .tensors = tensors, .build = build, .init = init, .onnx = onnx,
};
