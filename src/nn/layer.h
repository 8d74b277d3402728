/* SPDX-License-Identifier: MIT */
/*
 * layer.h - the layer table: one descriptor per nb_layer_type, indexed by its explicit,
 * append-only value, as the operator table is in src/autograd. A descriptor owns everything
 * about its kind: spec words, argument parsing and checking, canonical text, per-sample shape
 * inference (with flops and scratch), its tensors' PyTorch names and shapes, graph building,
 * initialisation and per-step upkeep. Code outside the layer_*.c files reaches a kind only
 * through this table; docs/ARCHITECTURE.md ("Layer table") lists the places a new kind touches.
 */
#ifndef NB_LAYER_H
#define NB_LAYER_H

#include "nn.h"

#include <string.h>

/* the words of one spec statement: at most NB__SPEC_WORDS of at most 39 bytes */
#define NB__SPEC_WORDS 12
typedef struct nb__words {
    char w[NB__SPEC_WORDS][40];
    int n;
    int line; /* for messages: "spec:<line>: ..." */
} nb__words;

/* A layer's output per sample, and what computing it costs. */
typedef struct nb__layer_shape {
    int rank;
    int64_t shape[NB_MAX_RANK];
    double flops;   /* forward flops per sample (a multiply-add is 2) */
    double scratch; /* values per sample the forward holds besides its output (conv's im2col) */
} nb__layer_shape;

/* One tensor of a layer as a model file holds it: layers.<i>.<name>, PyTorch's name and
 * layout. trainable 0 marks a buffer (batch norm's running statistics): a constant node. */
#define NB__LAYER_MAX_TENSORS 32
typedef struct nb__tensor_def {
    char name[32];
    int rank;
    int64_t shape[NB_MAX_RANK];
    int trainable;
} nb__tensor_def;

/* the ONNX graph builder of nb_model_save_onnx (onnx.h) */
typedef struct nb__onnx nb__onnx;
/* the ONNX reader's float initializer name, checked to hold numel values, into dst
 * (NB_ERR_FORMAT naming it when it is missing or of another size) */
typedef int (*nb__onnx_get)(void *ud, const char *name, size_t numel, float *dst);

typedef struct nb__layer_def {
    /* the canonical spec word and its other spellings (NULL-terminated; NULL when none);
     * a kind with several words (the activations) leaves word NULL and answers match */
    const char *word;
    const char *const *aliases;
    int (*match)(const char *word);
    /* the statement's words into l (l->type is set); NB_ERR_FORMAT "spec:<line>: ..." */
    int (*parse)(const nb__words *s, nb__layer *l);
    /* validate and normalise l (defaults), for the spec and the nb_model_add_* builders
     * alike; may set l->word; NB_ERR_ARG "<word>: ...". NULL: nothing to check */
    int (*check)(nb__layer *l);
    /* canonical spec text: parsing it gives the same layer */
    void (*text)(const nb__layer *l, char *buf, size_t cap);
    /* before infer, at every plan: what the layer takes from the model (the embedding's
     * vocabulary, nb_model_set_vocab) and whether its place suits it (layer i); may change
     * its text (nb_model_build then rewrites the spec). Errors as infer's. NULL: nothing */
    int (*bind)(const nb_model *m, int i, nb__layer *l);
    /* the output per sample from the input per sample (in_rank 1..NB_MAX_RANK-1), or
     * NB_ERR_SHAPE with a message the caller prefixes with "layer <i> (<word>)" */
    int (*infer)(const nb__layer *l, int in_rank, const int64_t *in, nb__layer_shape *out);
    /* the tensors, from l->in_rank / l->in_shape; returns how many. NULL: none */
    int (*tensors)(const nb__layer *l, nb__tensor_def t[NB__LAYER_MAX_TENSORS]);
    /* the sub-graph on top of *cur (updated), creating tensor k with nb__layer_tensor_new
     * in the order of t; errors may be left latched in the graph */
    int (*build)(nb_model *m, int i, const nb__tensor_def *t, nb_node *cur);
    /* (re)initialise the layer's tensors, drawing from r in tensor order. NULL: none */
    int (*init)(nb_model *m, const nb__layer *l, nb_init init, float scale, nb_rng *r);
    /* after every training step (batch norm counts num_batches_tracked). NULL: none */
    void (*step)(nb_model *m, const nb__layer *l);
    /* ONNX export (onnx_export.c): the layer's nodes in opset 13 operators, reading value in
     * (batch, l->in_shape...) and naming its output (batch, l->out_shape...) in out (cap
     * bytes), as nabla's inference computes it. NULL: the kind cannot be exported */
    int (*onnx)(nb__onnx *o, const nb_model *m, int i, const nb__layer *l, const char *in, char *out, size_t cap);
    /* ONNX import of nabla's own files (onnx_import_graph.c): the inverse of onnx for the
     * tensors it stored transformed (a suffix ".onnx"): fill the built layer's tensors
     * through get. NULL: every tensor is stored as is, under its own name */
    int (*onnx_in)(nb_model *m, const nb__layer *l, nb__onnx_get get, void *ud);
} nb__layer_def;

NB_HIDDEN extern const nb__layer_def *const nb__layer_table[NB_LAYER_COUNT_];
NB_HIDDEN extern const nb__layer_def nb__layer_dense, nb__layer_activation, nb__layer_flatten,
    nb__layer_conv2d, nb__layer_maxpool, nb__layer_avgpool, nb__layer_gap, nb__layer_dropout,
    nb__layer_batchnorm, nb__layer_prelu, nb__layer_embedding, nb__layer_rnn, nb__layer_lstm, nb__layer_gru;

/* the kind whose word (or alias) is word, or -1 */
NB_HIDDEN int nb__layer_find(const char *word);
/* check l through its descriptor, then append it to m (NB_ERR_ARG / NB_ERR_STATE / NOMEM) */
NB_HIDDEN int nb__layer_add(nb_model *m, nb__layer *l);

/* --- helpers for the layer_*.c files (layer_util.c) */

/* tensor k of layer i, as t describes it, created in the graph and recorded under its name */
NB_HIDDEN nb_node nb__layer_tensor_new(nb_model *m, int i, const nb__tensor_def *t);
/* tensor k of a built layer (its node), or -1 */
NB_HIDDEN nb_node nb__layer_tensor(const nb_model *m, const nb__layer *l, int k);
/* t = {name, trainable, rank, shape} */
NB_HIDDEN void nb__tensor_set(nb__tensor_def *t, const char *name, int trainable, int rank, const int64_t *shape);
/* set every element of node x to v */
NB_HIDDEN void nb__fill(nb_graph *g, nb_node x, float v);
/* PyTorch's fan-based initialisers for tensor 0 (the weight) and, with l->bias, tensor 1 */
NB_HIDDEN int nb__init_weight_bias(nb_model *m, const nb__layer *l, nb_init init, float scale, nb_rng *r);
/* elements of a per-sample shape, in double (no overflow) */
NB_HIDDEN double nb__numel_d(int rank, const int64_t *shape);
/* out gets the shape rank, in (an elementwise layer); returns its element count */
NB_HIDDEN double nb__shape_copy(nb__layer_shape *out, int rank, const int64_t *in);
/* a sliding window's output length: PyTorch's floor((in + 2 pad - dil (k - 1) - 1) / stride) + 1, 0 when empty */
NB_HIDDEN int64_t nb__window_out(int64_t in, int k, int stride, int pad, int dil);

/* spec argument helpers: each returns 1 when s is well formed */
NB_HIDDEN int nb__arg_number(const char *s, double *out);
/* "word v" into buf: v as %g when that reads back as v (the text of existing files), else
 * with the 9 digits that always do, so a spec's canonical text parses to the same model */
NB_HIDDEN void nb__fmt_param(char *buf, size_t cap, const char *word, float v);
/* a whole number in [lo, hi] */
NB_HIDDEN int nb__arg_whole(const char *s, double lo, double hi, int *out);
/* "3" -> (3, 3), "3x2" -> (3, 2); values in [lo, 4096] */
NB_HIDDEN int nb__arg_pair(const char *s, int lo, int out[2]);
/* parse and text of a kind without arguments: NB_ERR_FORMAT "spec:<line>: '<word>' takes no
 * argument" unless the statement is one word; the text is the kind's word */
NB_HIDDEN int nb__parse_none(const nb__words *s, nb__layer *l);
NB_HIDDEN void nb__text_word(const nb__layer *l, char *buf, size_t cap);
/* window options from word from on: stride S, pad P and, when conv, dilation D and nobias */
NB_HIDDEN int nb__arg_window(const nb__words *s, int from, int conv, int stride[2], int pad[2], int dil[2], int *bias);
/* append " <word><a>" or " <word><a>x<b>" to buf unless both values are skip_if */
NB_HIDDEN void nb__text_pair(char *buf, size_t cap, const char *word, const int v[2], int skip_if);

#endif
