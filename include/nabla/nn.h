/* SPDX-License-Identifier: MIT */
/*
 * nabla/nn.h - sequential models (src/nn): layers, building, initialisation, prediction,
 * metrics, training with its history and checkpoints, and model files. The top of the
 * library: it includes the headers of every layer below it (graph, data, io, optim).
 */
#ifndef NABLA_NN_H
#define NABLA_NN_H

#include "base.h"
#include "graph.h"
#include "data.h"
#include "io.h"
#include "optim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A sequential model: layers applied in order, as PyTorch's nn.Sequential. Layers are
 * sub-graphs of operators; a model owns its compiled graph, whose flat parameter buffer holds
 * every weight (in layer order, weight before bias). */
typedef struct nb_model nb_model;

/* Layer kinds; values are stable. Activation layers carry an operator (NB_OP_RELU, ...). */
typedef enum nb_layer_type {
    NB_LAYER_DENSE = 0,      /* y = x W^T + b, W stored (out, in) as PyTorch's Linear */
    NB_LAYER_ACTIVATION = 1, /* an elementwise activation, softmax, log-softmax or maxout */
    NB_LAYER_FLATTEN = 2,    /* (N, d1, d2, ...) -> (N, d1*d2*...) */
    NB_LAYER_CONV2D = 3,     /* W (out_c, in_c, kh, kw) and b (out_c), as PyTorch's Conv2d */
    NB_LAYER_MAXPOOL = 4,    /* max pooling (MaxPool2d) */
    NB_LAYER_AVGPOOL = 5,    /* average pooling (AvgPool2d) */
    NB_LAYER_GLOBAL_AVGPOOL = 6, /* (N, C, H, W) -> (N, C) */
    NB_LAYER_DROPOUT = 7,    /* inverted dropout, active in training only */
    NB_LAYER_BATCHNORM = 8,  /* BatchNorm1d after dense / BatchNorm2d after conv */
    NB_LAYER_PRELU = 9,      /* max(0,x) + a min(0,x), a learnt: one slope or one per channel */
    NB_LAYER_EMBEDDING = 10, /* token ids (T) -> (T, dim), rows of a (V, dim) table, as nn.Embedding */
    NB_LAYER_RNN = 11,       /* a tanh recurrent layer over (T, F) steps, as nn.RNN (nb_rnn) */
    NB_LAYER_LSTM = 12,      /* an LSTM layer, as nn.LSTM */
    NB_LAYER_GRU = 13,       /* a GRU layer, as nn.GRU */
    NB_LAYER_COUNT_ = 14     /* number of layer kinds; not a layer */
} nb_layer_type;

/* Weight initialisers; all draw from a seeded nb_rng in parameter order.
 *  TORCH: PyTorch's default for Linear: W and b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
 *  XAVIER_UNIFORM: U(-a, a), a = sqrt(6 / (fan_in + fan_out)); XAVIER_NORMAL: N(0, 2/(in+out)).
 *  HE_UNIFORM: U(-a, a), a = sqrt(6 / fan_in); HE_NORMAL: N(0, 2/fan_in).
 *  UNIFORM: U(-scale, scale); NORMAL: N(0, scale^2).
 * Biases are zero except with TORCH. */
typedef enum nb_init {
    NB_INIT_TORCH = 0, NB_INIT_XAVIER_UNIFORM = 1, NB_INIT_XAVIER_NORMAL = 2,
    NB_INIT_HE_UNIFORM = 3, NB_INIT_HE_NORMAL = 4, NB_INIT_UNIFORM = 5, NB_INIT_NORMAL = 6
} nb_init;

/* nb_init_parse: "torch", "xavier", "xavier-normal", "he", "he-normal", "uniform", "normal";
 * NB_ERR_ARG otherwise. */
NB_API int nb_init_parse(const char *name, nb_init *out);

/* nb_model_create: an empty model for task (the loss and output activation follow the task:
 * classify -> softmax cross-entropy, binary/multilabel -> one sigmoid per output with binary
 * cross-entropy, regress -> linear output with the halved mean squared error).
 * nb_model_free releases the model and its graph; NULL is a no-op. */
NB_API int nb_model_create(nb_task task, nb_model **out);
NB_API void nb_model_free(nb_model *m);

/* Adding layers (before nb_model_build): nb_model_add_dense (units >= 1, bias 0/1);
 * nb_model_add_activation (op one of sigmoid, tanh, relu, leaky_relu (param = slope, 0 means
 * 0.01), elu (param = alpha, 0 means 1), softplus, silu, identity, step, softmax,
 * log_softmax, maxout (param = k pieces)); nb_model_add_flatten. NB_ERR_ARG naming the
 * layer. */
NB_API int nb_model_add_dense(nb_model *m, int units, int bias);
NB_API int nb_model_add_activation(nb_model *m, nb_op_type op, float param);
NB_API int nb_model_add_flatten(nb_model *m);

/* nb_model_add_conv2d: out_channels filters of kernel (kh, kw); stride, pad, dilation are
 * (height, width) pairs, NULL meaning 1, 0, 1. nb_model_add_pool: type NB_LAYER_MAXPOOL or
 * NB_LAYER_AVGPOOL over kernel (kh, kw), stride NULL = the kernel, pad NULL = 0.
 * nb_model_add_global_avgpool, nb_model_add_dropout (0 <= p < 1), nb_model_add_batchnorm
 * (momentum 0.1, eps 1e-5; per channel after a conv, per feature after a dense layer).
 * NB_ERR_ARG naming the layer and value. */
NB_API int nb_model_add_conv2d(nb_model *m, int out_channels, const int kernel[2],
                               const int stride[2], const int pad[2], const int dilation[2],
                               int bias);
NB_API int nb_model_add_pool(nb_model *m, nb_layer_type type, const int kernel[2],
                             const int stride[2], const int pad[2]);
NB_API int nb_model_add_global_avgpool(nb_model *m);
NB_API int nb_model_add_dropout(nb_model *m, float p);
NB_API int nb_model_add_batchnorm(nb_model *m);

/* nb_model_add_prelu: PyTorch's nn.PReLU(num_parameters): y = max(0, x) + a min(0, x) with
 * learnt slopes a (tensor "weight" of shape (num_parameters), initialised to 0.25 whatever
 * the initialiser): 1 slope shared by every element, or one per channel (dimension 1 of
 * (N, C) or (N, C, H, W)), then num_parameters must equal C at nb_model_build.
 * NB_ERR_ARG unless 1 <= num_parameters <= 10^6. */
NB_API int nb_model_add_prelu(nb_model *m, int num_parameters);

/* nb_model_add_embedding: PyTorch's nn.Embedding(vocab, dim, padding_idx=0 when padding is 1,
 * None when 0): the model's first layer, reading a sample of token ids (T) (whole numbers in
 * [0, vocab) as floats; another id fails the forward with NB_ERR_ARG) and giving (T, dim).
 * Tensor "weight" (vocab, dim), N(0, 1) whatever the initialiser, with row 0 zero and never
 * trained when padding is 1. vocab 0 takes the model's (nb_model_set_vocab) when the model is
 * planned; the canonical spec then says "vocab V". NB_ERR_ARG unless dim >= 1 and
 * 0 <= vocab <= 2^24 (ids are floats); nb_model_build fails (NB_ERR_SHAPE) for an embedding
 * that is not the first layer and (NB_ERR_ARG) for one without a vocabulary size.
 * nb_model_set_vocab: the vocabulary size (1..2^24) of the embedding layers whose spec gives
 * none; the trainer sets it from the data. Before nb_model_build (NB_ERR_STATE after). */
NB_API int nb_model_add_embedding(nb_model *m, int dim, int64_t vocab, int padding);
NB_API int nb_model_set_vocab(nb_model *m, int64_t vocab);

/* nb_model_add_rnn: a recurrent layer, PyTorch's nn.RNN (NB_CELL_TANH) / nn.LSTM / nn.GRU(F,
 * hidden, batch_first=True), one layer, run by nb_rnn (graph.h). It reads a sample (T, F), T
 * steps of F features (an embedding's output, a previous recurrent layer's NB_RNN_SEQUENCE
 * output, or a one-channel image (1, H, W) read as H steps of W features), and hands on
 * (D hidden) with NB_RNN_LAST (each row's state at its last step) or NB_RNN_MEAN (the mean over
 * its valid steps), or (T, D hidden) with NB_RNN_SEQUENCE; D is 2 when bidirectional (the
 * reverse direction's values after the forward's). When the model's first layer is an
 * embedding with padding, its ids' lengths (nb_seq_lengths) are every recurrent layer's:
 * padded steps are skipped as pack_padded_sequence does; otherwise every row has T steps.
 * Tensors weight_ih_l0 (G hidden, F), weight_hh_l0 (G hidden, hidden), bias_ih_l0, bias_hh_l0
 * (G hidden) and, bidirectional, the same with _reverse (G = 1, 4, 3), all U(+-1/sqrt(hidden))
 * whatever the initialiser, as PyTorch's. Spec: rnn|lstm|gru H [sequence|last|mean]
 * [bidirectional]. NB_ERR_ARG unless cell is a nb_rnn_cell, 1 <= hidden <= 2^24, output a
 * nb_rnn_output and bidirectional 0 or 1; nb_model_build fails (NB_ERR_SHAPE) for an input
 * that is not (T, F) or (1, H, W). */
NB_API int nb_model_add_rnn(nb_model *m, nb_rnn_cell cell, int hidden, nb_rnn_output output, int bidirectional);

/* nb_model_parse: a model from the spec text (docs/SPEC.md): layers separated by ';' or new
 * lines, '#' starts a comment, e.g. "dense 256; relu; dense 128; relu; dense 10". Layer words:
 * dense N [nobias], conv N KxK [stride S] [pad P] [dilation D] [nobias], maxpool KxK [stride S]
 * [pad P], avgpool KxK [stride S] [pad P], gap, dropout P, batchnorm, flatten, sigmoid, tanh,
 * relu, leaky_relu [slope], elu [alpha], softplus, silu (alias swish), identity, step,
 * softmax, log_softmax, maxout K, prelu [C], embedding DIM [vocab V] [nopad], rnn|lstm|gru H
 * [sequence|last|mean] [bidirectional] (sizes "3" or "3x2" for height x width).
 * A line "task classify|binary|multilabel|regress" sets the task (else default_task).
 * At most 4096 layers. Errors are NB_ERR_FORMAT naming the line and word:
 * "spec:2: unknown layer 'dense2'". */
NB_API int nb_model_parse(const char *spec, nb_task default_task, nb_model **out);

/* nb_model_spec: the model's canonical spec text (one layer per "; "), borrowed, valid while m
 * lives; nb_model_parse of it gives the same model. */
NB_API const char *nb_model_spec(const nb_model *m);

/* nb_model_build: create and compile the graph for samples of the given shape (rank 1..3,
 * e.g. (784) or (1, 28, 28)), checking that the last layer's width matches n_outputs (classes
 * for classify, 1 for binary, labels/targets for multilabel/regress; 0 accepts whatever the
 * last layer gives, e.g. for a summary): NB_ERR_SHAPE naming both numbers. Parameters are then initialised with nb_model_init(m, NB_INIT_TORCH, 0). Call once. */
NB_API int nb_model_build(nb_model *m, int sample_rank, const int64_t *sample_shape, int n_outputs);

/* nb_model_build refuses, with NB_ERR_NOMEM before allocating anything, a model whose tensors,
 * parameter gradients and one sample's activations (with their gradients) need more bytes than
 * the machine's physical memory, or than 1 TiB (docs/SPEC.md, "Size limits").
 * nb_model_plan: the checks and shapes of nb_model_build without building (no graph, no
 * weights; it allocates nothing): afterwards nb_model_layer_info, nb_model_param_count,
 * nb_model_sample_shape and nb_model_n_outputs describe the model as built, whatever its size
 * (a summary of "dense 100000000"). It may be called again with another shape; nb_model_build
 * may follow. */
NB_API int nb_model_plan(nb_model *m, int sample_rank, const int64_t *sample_shape, int n_outputs);

/* nb_model_init: (re)initialise every parameter with init (scale for UNIFORM/NORMAL) from a
 * generator seeded with seed. The same seed gives the same weights on every machine. */
NB_API int nb_model_init(nb_model *m, nb_init init, float scale, uint64_t seed);

/* Introspection after build: the task, the graph (borrowed; for advanced use such as
 * nb_graph_dot or nb_gradcheck), parameter count and buffer, sample shape and output width.
 * The model's graph recycles activations in evaluation mode (nb_graph_set_reuse): after an
 * evaluation-mode forward only the input "x", the logits, the loss and the prediction (the
 * last node) keep their values; call nb_graph_set_reuse(g, 0) to read the others. */
NB_API nb_task nb_model_task(const nb_model *m);
NB_API nb_graph *nb_model_graph(nb_model *m);
NB_API size_t nb_model_param_count(const nb_model *m);
NB_API float *nb_model_params(nb_model *m);
NB_API int nb_model_n_outputs(const nb_model *m);
NB_API int nb_model_sample_shape(const nb_model *m, int64_t shape[3]);

/* Per-tensor and per-layer description (for summaries and model files): the PyTorch-style
 * name ("layers.0.weight"), shape and the offset in the flat buffer. nb_model_n_param_tensors
 * counts every tensor a model file holds, batch-norm buffers included. */
typedef struct nb_param_info {
    const char *name;
    int rank;
    int64_t shape[NB_MAX_RANK];
    size_t offset, n;   /* offset in the flat parameter buffer (trainable tensors only) */
    int trainable;      /* 0 for batch-norm buffers (running_mean, running_var,
                           num_batches_tracked), which model files carry too */
    const float *data;  /* the values, borrowed until nb_model_free */
} nb_param_info;
NB_API int nb_model_n_param_tensors(const nb_model *m);
NB_API int nb_model_param_info(const nb_model *m, int i, nb_param_info *out);

typedef struct nb_layer_info {
    nb_layer_type type;
    nb_op_type op;       /* activation layers */
    int units, bias;     /* dense */
    float param;         /* activation layers: their parameter; dropout layers: p */
    int out_rank;
    int64_t out_shape[NB_MAX_RANK]; /* per sample (without the batch dimension) */
    size_t n_params;
    double flops;        /* forward floating-point operations per sample (a multiply-add is 2) */
    char text[80];       /* the layer as spec text, e.g. "dense 256" */
} nb_layer_info;
NB_API int nb_model_n_layers(const nb_model *m);
NB_API int nb_model_layer_info(const nb_model *m, int i, nb_layer_info *out);

/* nb_model_predict: outputs for n samples x (n * features floats): class probabilities
 * (classify), sigmoid probabilities (binary, multilabel) or values (regress), n * n_outputs
 * floats into out. Runs in batches in evaluation mode (the graph's batch size and mode
 * change), in the forward-only layout with recycled activations: a batch is as many rows (64
 * to 1024) as keep its activations near 32 MiB, so memory stays bounded whatever n; each
 * row's output is the same bits as in one forward over all n rows. */
NB_API int nb_model_predict(nb_model *m, const float *x, int64_t n, float *out);
/* nb_model_predict_data: the same for rows first .. first + n - 1 of a dataset (its features;
 * targets, if any, are not read). Each batch's rows go straight from the dataset into the
 * model's input - compact (byte) rows converted on the way - with no float copy of the data
 * or of the batch in between; the outputs are the bits nb_model_predict gives for the same
 * rows as floats. */
NB_API int nb_model_predict_data(nb_model *m, const nb_dataset *d, int64_t first, int64_t n,
                                 float *out);

/* Metrics of a model on a labeled dataset. Fields by task:
 *  all: n, loss (the training objective, averaged over samples).
 *  classify/binary: accuracy, confusion[n_classes * n_classes] (row = true class, column =
 *    predicted; NULL past NB_CONFUSION_MAX_CLASSES classes, where it would take
 *    8 n_classes^2 bytes: 32 GiB at 65536), per-class precision/recall/f1 (0 when undefined)
 *    and support (true rows of the class), macro_f1: these from per-class counts, for any
 *    number of classes.
 *  multilabel: accuracy (per-label, averaged), label_accuracy[n_classes], hamming_loss,
 *    exact_match.
 *  regress: mse (plain mean of squared errors, without the loss's 1/2), mae, r2.
 * Arrays are owned by the struct: release with nb_metrics_free. */
typedef struct nb_metrics {
    nb_task task;
    int64_t n;
    int n_classes;
    double loss, accuracy, macro_f1;
    int64_t *confusion;
    double *precision, *recall, *f1, *label_accuracy;
    double hamming_loss, exact_match;
    double mse, mae, r2;
    int64_t *support;
} nb_metrics;
#define NB_CONFUSION_MAX_CLASSES 1024
NB_API int nb_model_evaluate(nb_model *m, const nb_dataset *d, nb_metrics *out);
NB_API void nb_metrics_free(nb_metrics *mt);

/* One epoch of a training history. val_* are NaN without validation data. */
typedef struct nb_epoch_stats {
    int epoch;           /* 1-based */
    double train_loss, train_acc, val_loss, val_acc;
    double lr, seconds, samples_per_s;
} nb_epoch_stats;

/* Progress during training, passed to the callback after every step (done < total) and at the
 * end of each epoch (done == total, with stats filled). */
typedef struct nb_progress {
    int epoch, epochs;
    int64_t done, total;  /* samples of this epoch */
    double running_loss, seconds; /* mean loss so far this epoch; seconds since it began */
    const nb_epoch_stats *stats; /* non-NULL at the end of an epoch */
    double step_loss;     /* the loss of the step just taken (NaN at the end of an epoch) */
} nb_progress;

/* Distributed (data-parallel) training (docs/DISTRIBUTED.md). nabla itself never talks to
 * a network: training takes this small interface, and the transport behind it is the
 * caller's. nabla's own, over MPI, lives outside the library (src/dist/nb_mpi.h,
 * built into the CLI when Open MPI is installed); a C user can plug in another. Every rank
 * runs nb_model_train on the same data with the same config; each computes the gradient of
 * its share of every global batch, the shares are summed with allreduce_sum, and every rank
 * takes the same optimizer step. The calls below come from one thread at a time, but not
 * always from the thread that called nb_model_train (gradients are reduced on a thread of
 * nabla's while backward goes on: an MPI transport needs MPI_THREAD_SERIALIZED). Each
 * returns 0, or non-zero when the transport failed (nabla then calls abort). */
typedef struct nb_comm {
    int rank;  /* this process, 0 .. size - 1 */
    int size;  /* processes in the run (1: training is exactly the single-process one) */
    void *ud;  /* passed to every call */
    /* sum buf[0..n) over the ranks, in place, into every rank's buf. The result must be the
     * same bits on every rank and must not depend on timing (nabla's MPI transport adds the
     * ranks' values in rank order 0, 1, ..., size-1 whatever MPI's algorithm would do), or
     * repeated runs differ and the ranks drift (which nb_model_train detects: NB_ERR_DIST). */
    int (*allreduce_sum)(void *ud, float *buf, size_t n);
    /* root's bytes into every rank's buf */
    int (*broadcast)(void *ud, void *buf, size_t bytes, int root);
    int (*barrier)(void *ud);
    /* stop every rank now, with exit status `status`: called only when the transport itself
     * failed, so that the ranks can no longer agree on an error (every other failure, of one
     * rank or all, is agreed on and returned on every rank: nb_comm_agree). May return. */
    void (*abort)(void *ud, int status);
} nb_comm;

/* nb_comm_agree: collective; every rank passes its own status and message (msg NULL: this
 * thread's nb_errmsg()). NB_OK on every rank when every status is NB_OK; otherwise every rank
 * returns the status of the lowest failing rank, and nb_errmsg() is "rank R of N: <its
 * message>" on every rank, so one rank can print it for all. NB_ERR_DIST when the transport
 * failed (after calling c->abort). c NULL or of size 1: returns status unchanged. */
NB_API int nb_comm_agree(const nb_comm *c, int status, const char *msg);

/* Training configuration; start from nb_train_config_default() (every *_default function
 * returns its struct by value: nb_train_config cfg = nb_train_config_default();). Error
 * messages name a field as nb_train_config.<field>. */
typedef struct nb_train_config {
    int epochs;               /* default NB_EPOCHS_AUTO: nb_train_auto_epochs of the data */
    int64_t batch_size;       /* default 64; the whole set when >= n (full-batch GD) */
    nb_optim_config optim;    /* default nb_optim_config_default(NB_OPTIM_ADAM): lr 1e-3.
                                 The defaults before 0.4 were SGD lr 0.01 and 10 epochs, which
                                 undertrain small tables (iris: 47% test accuracy). */
    int shuffle;              /* reshuffle the rows every epoch (default 1) */
    uint64_t seed;            /* shuffling (and dropout) generator seed; default 0 */
    int early_stop;           /* patience in epochs on validation loss; 0 = off. When it
                                 stops, the best epoch's weights are restored. */
    int (*progress)(void *ud, const nb_progress *p); /* optional; non-zero return stops
                                 training with NB_ERR_INTERRUPTED after the current step
                                 (writing a checkpoint first when checkpoint_dir is set) */
    void *progress_ud;
    /* Checkpoints (docs/RELIABILITY.md): with checkpoint_dir set, a checkpoint is written
     * after every checkpoint_every_epochs epochs and/or every checkpoint_every_steps steps,
     * and when the progress callback stops training; only the newest checkpoint_keep
     * (default 3) are kept. Each is a model file (it loads with nb_model_load) that also
     * holds the optimizer state, the generators, the position in the epoch, early-stopping
     * state and the history: "DIR/ckpt-<global step, 12 digits>.safetensors", written
     * atomically. resume names a checkpoint to continue from: the run then ends with exactly
     * the weights and history of an uninterrupted run with the same data, config, seed and
     * thread count. preproc (optional) is stored in checkpoints like nb_model_save does. */
    const char *checkpoint_dir;
    int checkpoint_every_epochs;
    int64_t checkpoint_every_steps;
    int checkpoint_keep;
    const char *resume;
    const nb_preproc *preproc;
    /* Data parallelism (docs/DISTRIBUTED.md): comm NULL trains in this process alone. With a
     * comm of size N, rows [first + cnt*r/N, first + cnt*(r+1)/N) of every global batch of
     * cnt <= batch_size rows are rank r's; the gradient is the same mean over the global
     * batch as one process computes (equal within float rounding), summed in a fixed order,
     * so a run repeats bit for bit with the same N and thread count. Parameters start as rank
     * 0's (broadcast); the losses, accuracies and validation figures are the global ones on
     * every rank; only rank 0 writes checkpoints; resume needs the same N. Every
     * comm_check_every steps (default 100) and at the end a hash of the parameters is
     * compared across ranks: a difference is NB_ERR_DIST. Gradients are reduced in buckets
     * of about comm_bucket_bytes (default 256 KiB) on a thread of nabla's as backward
     * produces them (comm_overlap 1, the default), or in one block after backward (0). */
    const nb_comm *comm;
    int64_t comm_bucket_bytes;
    int comm_overlap;
    int comm_check_every;
} nb_train_config;
NB_API nb_train_config nb_train_config_default(void);

/* nb_train_config.epochs NB_EPOCHS_AUTO: as many epochs as give about 2000 optimizer steps,
 * nb_train_auto_epochs(rows of the training data, batch_size); nb_optim_config.total_epochs 0
 * then becomes that count too (a cosine schedule needs it). */
#define NB_EPOCHS_AUTO (-1)

/* nb_train_auto_epochs: the epoch count NB_EPOCHS_AUTO stands for: ceil(2000 / steps per
 * epoch), steps per epoch = ceil(n_rows / batch_size), clamped to [10, 1000]. Small tables get
 * enough steps (iris, 100 rows in batches of 64: 1000 epochs), large sets the usual 10
 * (Fashion-MNIST, 60000 rows: 10). 10 when n_rows or batch_size is < 1. */
NB_API int nb_train_auto_epochs(int64_t n_rows, int64_t batch_size);

/* The history of a training run: one entry per epoch run, best_epoch (1-based, by validation
 * loss, or the last epoch without validation data) and whether early stopping fired. */
typedef struct nb_history {
    int n;
    nb_epoch_stats *epochs;
    int best_epoch;
    int stopped_early;
    int64_t epoch_steps;   /* optimizer steps in each full epoch */
    int64_t epoch_samples; /* rows trained on in each epoch: the training rows, or one less
                              when a 1-row last batch is skipped for batch norm (see
                              nb_model_train) */
    /* distributed runs (nb_train_config.comm), else 0: the floats each rank passes to
     * allreduce_sum per step (gradients, batch-norm statistics, the step's figures) times 4;
     * seconds the transport spent reducing gradients (on nabla's thread when overlapped) and
     * seconds training waited for it after backward: 1 - wait/comm is the share hidden
     * behind computation */
    int64_t comm_bytes_per_step;
    double comm_seconds, comm_wait_seconds;
} nb_history;
NB_API void nb_history_free(nb_history *h);

/* nb_model_train: mini-batch training of a built model on train (its features scaled already),
 * scoring val after every epoch when given. Each epoch visits every row once, in a fresh
 * permutation drawn from the seeded generator (or in file order with shuffle 0); the last
 * batch may be smaller. With batch norm a batch of one row would give a batch-norm layer
 * one value per channel (after a dense layer, or a conv whose output is 1x1), which batch
 * norm cannot train on: when the last batch of an epoch would be one such row (e.g. 65 rows,
 * batch_size 64) it is skipped in that epoch (with shuffle a different random row each epoch;
 * with shuffle 0 the dataset's last row is never trained on); nb_history.epoch_samples and
 * .epoch_steps show it. batch_size 1, or a training set of one row, with such a layer fails with
 * NB_ERR_ARG; with nb_train_config.comm of N ranks each rank's share of a batch must have 2
 * rows, so batch_size must be >= 2N and a last batch of fewer than 2N rows is skipped. An activation layer (or prelu) after the output layer (the last dense or conv)
 * is NB_ERR_FORMAT (a fault of the spec, as in nb_model_parse) naming both layers: the task's loss applies the output activation; only
 * identity, and a last softmax (classify) or sigmoid (binary, multilabel), which is taken as
 * that output activation, may follow it. The first non-finite loss or gradient stops training with
 * NB_ERR_NUMERIC naming the epoch, the step and (for a gradient) the parameter tensor; the
 * weights are those before that step (the last good step's, a checkpoint of them is up to the
 * caller, e.g. nb_model_save) and no checkpoint is written after it. When an update with a
 * finite gradient overflowed a weight (a huge learning rate), the next loss is not finite and
 * the message says instead that the weights are not finite, naming the first one. hist (may be NULL)
 * receives every epoch; release it with nb_history_free. The same data, config, seed and
 * thread count give bit-identical weights. */
NB_API int nb_model_train(nb_model *m, const nb_dataset *train, const nb_dataset *val,
                          const nb_train_config *cfg, nb_history *hist);

/* Model files (safetensors, docs/MODEL_FORMAT.md). nb_model_save writes the parameters as
 * "layers.N.weight" / "layers.N.bias" F32 tensors (PyTorch's nn.Sequential names and (out, in)
 * layouts) and metadata: format "nabla", format_version "1", architecture (the spec), task,
 * input_shape, n_outputs, class_names (JSON array) and preprocessing (nb_preproc_to_json; pp
 * may be NULL). Atomic: temp file, fsync, rename. nb_model_load rebuilds the model from the
 * metadata, checks every tensor's name and shape (NB_ERR_FORMAT naming the tensor) and
 * returns the preprocessing (NULL when the file has none) in *pp (may be NULL). The file is
 * untrusted: before building, NB_ERR_FORMAT refuses an architecture that would need more than
 * 2^26 values (layer outputs and im2col matrices) per sample, or whose dense and conv weights
 * are more numbers than the file holds, so a small file cannot make the loader allocate
 * gigabytes. */
NB_API int nb_model_save(nb_model *m, const char *path, const nb_preproc *pp);
NB_API int nb_model_load(const char *path, nb_model **out, nb_preproc **pp);

/* nb_model_load_weights: copy the parameters of a built model from a safetensors file
 * written by any tool (e.g. PyTorch's state_dict of the same nn.Sequential): every parameter
 * must be present with the same shape; other tensors are ignored. NB_ERR_FORMAT naming the
 * missing or mismatched tensor. */
NB_API int nb_model_load_weights(nb_model *m, const char *path);

/* ONNX (docs/MODEL_FORMAT.md, "ONNX"). nb_model_save_onnx writes the inference graph of a built
 * model as an ONNX file (IR 8, opset 13): input "input" of shape (batch, sample shape...) with
 * a dynamic batch dimension, the scaling of pp (may be NULL) as the graph's first nodes, and
 * output "probabilities" (softmax / sigmoid; regression: "prediction", unscaled) besides
 * "logits"; the task, class names, spec and preprocessing ride along as metadata_props, so
 * nb_model_load_onnx gives the same model back. Atomic as nb_model_save. nb_model_load_onnx
 * reads such a file or one torch.onnx.export wrote for an nn.Sequential of the layers nabla
 * has, builds the model with its weights and returns the preprocessing (NULL unless the file
 * came from nabla) in *pp (may be NULL). The file is untrusted: NB_ERR_FORMAT names the first
 * unsupported operator or attribute (node name and op_type) or malformed field, and nothing is
 * allocated from a size the file has not backed with bytes. nb_model_load and
 * nb_model_load_weights take ONNX files too (told apart by their first bytes). */
NB_API int nb_model_save_onnx(nb_model *m, const char *path, const nb_preproc *pp);
NB_API int nb_model_load_onnx(const char *path, nb_model **out, nb_preproc **pp);

#ifdef __cplusplus
}
#endif
#endif /* NABLA_NN_H */
