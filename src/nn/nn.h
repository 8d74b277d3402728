/* SPDX-License-Identifier: MIT */
/*
 * nn.h - internal structure of a sequential model. Layers are recorded by the builder calls
 * or the spec parser, then nb_model_build turns them into graph nodes once; everything about
 * a layer kind is in its descriptor (layer.h). Parameter
 * tensors are named as PyTorch's nn.Sequential names them (layers.<index>.weight/.bias),
 * where the index counts every layer, activations included.
 */
#ifndef NB_NN_H
#define NB_NN_H

#include "../autograd/autograd.h"
#include "nabla/nn.h"

typedef struct nb__layer {
    nb_layer_type type;
    const char *word;            /* its spec word ("dense", "leaky_relu"), static; set when added */
    nb_op_type op;               /* activations: the operator */
    int units, bias;             /* dense units, conv output channels, prelu slopes; bias 0/1 */
    float param;                 /* activation parameter, dropout p */
    int kernel[2], stride[2], pad[2], dilation[2]; /* conv / pooling */
    int in_rank, out_rank;       /* per-sample input and output shapes (nb__model_plan) */
    int64_t in_shape[NB_MAX_RANK], out_shape[NB_MAX_RANK];
    int64_t vocab, vocab_bound;  /* embedding: rows as given (0: the model's), as bound by the plan */
    int padding;                 /* embedding: 1 when id 0 is padding */
    int rnn_output, bidirectional; /* rnn / lstm / gru: an nb_rnn_output; 0 or 1 */
    double flops;                /* forward flops per sample */
    int t0, nt;                  /* its tensors: m->ptensors[t0 .. t0 + nt) after build */
} nb__layer;

typedef struct nb__ptensor {
    char name[48];
    nb_node node;
    int trainable;               /* 0: a batch-norm buffer (a constant node) */
} nb__ptensor;

struct nb_model {
    nb_task task;
    nb__layer *layers;
    int n_layers, cap_layers;
    char *spec;                  /* canonical spec, rebuilt whenever a layer is added */
    nb_graph *g;
    int built;
    int planned;                 /* nb_model_plan (or build) set the shapes below and the layers' */
    int sample_rank;
    int64_t sample_shape[3];
    int64_t vocab;               /* nb_model_set_vocab: rows of an embedding whose spec gives none */
    nb_node seq_ids, lengths;    /* while building: the padded token ids a first embedding layer
                                  * reads (else -1), and the rows' lengths over them, made once
                                  * by the first recurrent layer and read by every one (else -1) */
    int n_outputs;
    nb_node x, t, logits, loss, pred;
    nb__ptensor *ptensors;
    int n_ptensors;
    int oom;                     /* a tensor could not be recorded while building */
    float *ybuf;                 /* the mini-batch targets (gathered features go straight into the graph) */
    int64_t buf_rows;
    nb_graph **clones;           /* prediction on several threads: a copy of g per thread (batch.c) */
    int n_clones;
};

/* Rows per forward pass when evaluating or predicting (nb__eval_rows): as many as keep the
 * pass's activations near NB__EVAL_BYTES - an MLP gets NB__EVAL_ROWS_MAX rows (big, efficient
 * products), a CNN with large feature maps fewer (its memory stays modest) - and never fewer
 * than NB__EVAL_ROWS_MIN. A function of the model alone, so results never depend on it.
 * Training-time validation uses the training batch size instead. */
#define NB__EVAL_BYTES ((double)(32 << 20))
#define NB__EVAL_ROWS_MIN 64
#define NB__EVAL_ROWS_MAX 1024
NB_HIDDEN int64_t nb__eval_rows(const nb_model *m);
/* rows of the next evaluation batch of at most rows when left rows remain, except that a
 * last batch of one row is avoided (rows + 1 left go as two halves), because a one-row
 * product takes the dot-product path (src/ops/gemm.h) whose last bits differ from the same
 * row in a bigger batch: predictions in batches then equal one forward over all rows */
static inline int64_t nb__eval_chunk(int64_t left, int64_t rows)
{
    if (left <= rows) return left;
    return left == rows + 1 ? rows / 2 + 1 : rows;
}

/* (re)allocate the target buffer for rows rows */
NB_HIDDEN int nb__model_bufs(nb_model *m, int64_t rows, int64_t n_targets);
/* run forward for count rows of ds starting at rows[] (or contiguous from first when rows is
 * NULL): fills the graph's x (straight from the dataset, no copy in between) and, with
 * need_targets, t, and computes the loss and the prediction node */
NB_HIDDEN int nb__model_batch(nb_model *m, const nb_dataset *ds, const int64_t *rows,
                              int64_t first, int64_t count, int need_targets);
/* correct predictions in the current batch (per element for multilabel), from the logits */
NB_HIDDEN double nb__batch_correct(nb_model *m, int64_t count, int64_t n_targets);
/* the layer as spec text ("dense 256", "leaky_relu 0.1"), through the layer table */
NB_HIDDEN void nb__layer_text(const nb__layer *l, char *buf, size_t cap);
/* append the last layer's text to m->spec, the canonical text of the layers before it (so
 * nb_model_spec never fails); nb__layer_add calls it after each append */
NB_HIDDEN int nb__model_respec(nb_model *m);
/* m->spec rebuilt from every layer's text (after a plan bound what a layer takes from the
 * model, the embedding's vocabulary) */
NB_HIDDEN int nb__model_respec_all(nb_model *m);
/* What a model asks for per sample, for the loader's limits: values (the input, every
 * layer's output and scratch such as im2col matrices) and weights (elements of the tensors
 * of rank >= 2: matrices and filters). */
typedef struct nb__plan {
    double values, weights;
    double params, tensor_values; /* elements of the trainable tensors; of all tensors */
} nb__plan;
/* The most memory nb_model_build lets a model ask for (its tensors, the parameters' gradients
 * and one sample's activations with theirs), when physical memory is larger or unknown:
 * docs/SPEC.md */
#define NB__MAX_MODEL_BYTES 1099511627776.0 /* 1 TiB */
/* nb__model_plan: every layer's per-sample input and output shape and flops from the sample
 * shape, through each kind's infer (the one derivation of shapes: build, load and summaries
 * use it). NB_ERR_SHAPE "layer <i> (<word>): ..." at the first layer that cannot take its
 * input; tot (may be NULL) receives the totals of the layers walked, the failing one included */
NB_HIDDEN int nb__model_plan(nb_model *m, int rank, const int64_t *shape, nb__plan *tot);
/* build every planned layer on top of *cur (updating it), checking each against its plan */
NB_HIDDEN int nb__model_build_layers(nb_model *m, nb_node *cur);
/* layer i is a ReLU and layer i + 1 a max pool: the model builds the pool first and the ReLU
 * on the pooled values (layers.c), in one node for a 2x2 pool (nb__maxpool2d_relu) */
NB_HIDDEN int nb__relu_then_maxpool(const nb_model *m, int i);
/* after each training step: every layer's step hook (batch norm's num_batches_tracked) */
NB_HIDDEN void nb__model_step_layers(nb_model *m);
/* A training run's state: everything a checkpoint must hold to continue bit for bit. */
typedef struct nb__run {
    nb_model *m;
    const nb_train_config *cfg;
    nb_history *h;
    nb_optim *opt;
    int64_t n, B;        /* training rows, batch size */
    size_t np;
    int epoch;           /* the epoch in progress (0-based) */
    int64_t step;        /* steps done in it */
    int64_t global_step; /* steps done in the whole run */
    nb_rng epoch_rng;    /* the shuffling generator at the start of this epoch */
    double total, correct; /* this epoch's running loss sum and correct count */
    double best_loss;    /* early stopping */
    int since_best;
    float *best;         /* best weights (early stopping), or NULL */
    struct nb__dist *dist; /* a distributed run's state (dist.c), or NULL */
    nb_rng *rank_rngs;   /* distributed checkpoints: every rank's dropout generator (rank 0 saves) */
} nb__run;

/* checkpoint.c: write r's state to cfg->checkpoint_dir (then keep the newest cfg->checkpoint_keep);
 * load it back from path into an initialised run (model built, optimizer created) */
NB_HIDDEN int nb__ckpt_save(nb__run *r, int64_t n_train);
NB_HIDDEN int nb__ckpt_load(nb__run *r, const char *path);
/* room for n history entries (the history grows as epochs finish) */
NB_HIDDEN int nb__grow_history(nb_history *h, int n);
/* check every model tensor against st by name and shape, then copy them all */
NB_HIDDEN int nb__copy_weights(nb_model *m, const nb_st *st, const char *path);

/* The metadata both model formats carry (safetensors' and ONNX's metadata_props): the sample
 * shape and the class names as JSON arrays, and the preprocessing's JSON (NULL without pp) */
typedef struct nb__model_meta {
    nb__buf shape, classes;
    char *pre;
    int n_classes;
} nb__model_meta;
NB_HIDDEN int nb__model_meta_make(const nb_model *m, const nb_preproc *pp, nb__model_meta *mm);
NB_HIDDEN void nb__model_meta_free(nb__model_meta *mm);
/* the end of a model loader (safetensors or ONNX): on failure free m and pre and return rc;
 * else hand m to *out and pre to *pp (freed when pp is NULL) */
NB_HIDDEN int nb__model_load_done(int rc, nb_model *m, nb_preproc *pre, nb_model **out, nb_preproc **pp);

/* nb_model_save with extra tensors and metadata (checkpoints) */
/* path NULL: only check that the header fits (NB_ERR_ARG naming the largest metadata) */
NB_HIDDEN int nb__model_write(nb_model *m, const char *path, const nb_preproc *pp,
                              const nb_st_entry *extra, int n_extra, const char *const *xkeys,
                              const char *const *xvals, int n_xmeta);
NB_HIDDEN int nb__check_data(const nb_model *m, const nb_dataset *d, const char *what);
NB_HIDDEN int nb__check_targets(const nb_model *m, int64_t nt, const char *what);

/* dist.c: data parallelism in nb_model_train (nb_train_config.comm). NULL is a run of one
 * process, which every call below but create and free takes as such. */
typedef struct nb__dist nb__dist;
NB_HIDDEN int nb__dist_create(nb__dist **out, const nb_train_config *cfg, nb_model *m);
NB_HIDDEN void nb__dist_free(nb__dist *d);
NB_HIDDEN int nb__dist_rank(const nb__dist *d);
NB_HIDDEN int nb__dist_size(const nb__dist *d);
NB_HIDDEN const nb_comm *nb__dist_comm(const nb__dist *d);
/* this rank's rows [lo, hi) of a global batch of cnt rows */
NB_HIDDEN void nb__dist_part(const nb__dist *d, int64_t cnt, int64_t *lo, int64_t *hi);
/* before a step's forward: this rank has mine of the batch's cnt rows */
NB_HIDDEN void nb__dist_begin_step(nb__dist *d, int64_t mine, int64_t cnt);
/* after backward: every gradient bucket summed over the ranks (collective) */
NB_HIDDEN int nb__dist_reduce_grads(nb__dist *d);
/* after the optimizer step: the untrained parameters (batch norm's running statistics)
 * averaged over the ranks, weighted by their rows (collective) */
NB_HIDDEN int nb__dist_sync_fixed(nb__dist *d, int64_t mine, int64_t cnt);
NB_HIDDEN uint64_t nb__dist_hash(const void *data, size_t bytes, uint64_t h);
NB_HIDDEN void nb__dist_hash_pieces(uint64_t h, double out[4]);
NB_HIDDEN uint64_t nb__dist_params_hash(const nb__dist *d);
NB_HIDDEN void nb__dist_stats(const nb__dist *d, nb_history *h);
/* a step's figures of one rank, exchanged with nb__dist_gather */
enum { NB__X_LOSS, NB__X_CORRECT, NB__X_STATUS, NB__X_STOP, NB__X_HASH, NB__X_K = NB__X_HASH + 4 };

/* dist_agree.c: the transport failed (what: the call): NB_ERR_DIST, after c->abort */
NB_HIDDEN int nb__dist_transport_fail(const nb_comm *c, const char *what);
/* every rank's k doubles into all[size * k] (rank order) on every rank: collective */
NB_HIDDEN int nb__dist_gather(const nb_comm *c, const double *mine, int k, double *all);
/* the same through buf (size * k * 2 floats): a training step allocates nothing */
NB_HIDDEN int nb__dist_gather_buf(const nb_comm *c, const double *mine, int k, double *all, float *buf);
/* nb__dist_gather_buf of NB__X_K figures through the run's own buffer */
NB_HIDDEN int nb__dist_exchange(nb__dist *d, const double *mine, double *all);
typedef struct nb__dist_msg { char text[1024]; } nb__dist_msg; /* an error message's size */

#endif
