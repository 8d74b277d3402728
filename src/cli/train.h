/* SPDX-License-Identifier: MIT */
/*
 * train.h - what train.c (options and the training flow) shares with train_out.c (the
 * banner, saving, history files, the test score and --metrics-json). Private to those two.
 * Invariant: a train_state owns every handle in it; train.c frees them all on every path.
 */
#ifndef NB_CLI_TRAIN_H
#define NB_CLI_TRAIN_H

#include "cli.h"

typedef struct train_args {
    const char *train, *val, *test, *task, *label, *header, *delimiter, *class_names, *scale;
    const char *spec, *out, *init, *init_method, *optimizer, *schedule, *metrics_json, *input_shape;
    const char *ckpt_every, *ckpt_dir, *resume, *target_scale, *missing, *tokens;
    const char *report; /* --report FILE, or --report alone: MODEL.report.html (report_default) */
    int report_default;
    int64_t max_vocab, min_count, max_len; /* --max-vocab, --min-count, --max-len */
    int64_t ckpt_keep;
    double val_split, init_scale, lr, momentum, weight_decay, l2, beta1, beta2, eps, rms_alpha;
    double clip, gamma, min_lr;
    int64_t limit, epochs, batch_size, step_epochs, early_stop, threads;
    uint64_t seed;
    int no_shuffle, quiet;
    int no_overlap;                    /* --no-overlap: one all-reduce after backward */
    int64_t bucket_kb, check_every;    /* --bucket-kb (0: the library's), --check-every (-1: its) */
    int epochs_auto; /* no --epochs: the count came from nb_train_auto_epochs */
    /* decoded from the text options */
    char delim;
    int header_mode, scale_mode; /* scale_mode -1: auto */
    int tscale_mode;             /* -1: auto (standard for regress, else none) */
    nb_missing missing_mode;     /* --missing: error (default), mean or drop */
    nb_tokens tokens_mode;       /* --tokens: none (default), chars or words */
    nb_task task_value;
    nb_optim_type optim_type;
    nb_schedule sched;
    nb_init init_kind;
} train_args;

typedef struct train_state {
    nb_model *model;
    nb_preproc *pp;
    nb_dataset *all, *train, *val, *test;
    nb_history lib_hist;
    cli_history hist; /* recorded by the progress callback: complete even when interrupted */
    cli_progress progress;
    int interrupted;
    char *ckpt_dir;   /* where checkpoints go (default: beside --out) */
    double t0;
} train_state;

/* train_banner: one stderr line describing the data, the model and the optimizer. */
void train_banner(const train_args *a, const train_state *s, nb_scaling mode,
                  const nb_optim_config *oc);

/* train_comm_line: after a distributed run (rank 0): the communication figures of nb_history
 * on stderr: MB each rank exchanged per step, seconds reducing, the share hidden behind
 * backward. */
void train_comm_line(const train_state *s);

/* train_finish: after nb_model_train returned NB_OK or NB_ERR_INTERRUPTED: save the model,
 * write history.csv / history.svg, score --test (not when interrupted), write --metrics-json.
 * Returns the exit status (NB_ERR_INTERRUPTED after an interruption whose save succeeded). */
/* training stopped on a non-finite loss or gradient (exit 6): save the weights of before the
 * failing step to --out (atomic, as for an interruption) when they are finite, and say so */
int train_diverged(const train_args *a, train_state *s);
int train_finish(const train_args *a, train_state *s);

#endif
