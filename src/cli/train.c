/* SPDX-License-Identifier: MIT */
/*
 * train.c - `nabla train`: options, then load -> split -> scale -> build -> init -> train ->
 * save -> (test once). Invariants: scaling statistics come from the training part only; the
 * test set is loaded first (so a bad path fails before a long run) but is scored only once,
 * after training, and never influences a choice; the model file is written atomically by
 * nb_model_save, also after an interruption (exit 8), and MODEL.history.csv / .svg go beside
 * it (named after the model, so runs that share a directory keep their own). Outputs after training are in train_out.c.
 */
#include "train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void args_default(train_args *a)
{
    memset(a, 0, sizeof *a);
    a->val_split = (double)NAN;
    a->lr = a->momentum = a->weight_decay = a->gamma = (double)NAN;
    a->beta1 = a->beta2 = a->eps = a->rms_alpha = (double)NAN;
    a->min_lr = 0.0;
    a->init_scale = 0.01;
    a->epochs = 0; /* auto: nb_train_auto_epochs of the training rows, as the library's default */
    a->batch_size = 64;
    a->min_count = 1;
    a->check_every = -1; /* the library's default */
}

/* --checkpoint-every N (epochs) or Ns / Nsteps (steps), --checkpoint-dir (default: DIR of --out
 * + "/checkpoints"), --keep-checkpoints, --resume. Checkpoints are always possible, so that
 * Ctrl-C can write one even without --checkpoint-every. */
static int checkpoint_config(const train_args *a, train_state *s, nb_train_config *cfg)
{
    if (a->ckpt_every) {
        char *end;
        long long v = strtoll(a->ckpt_every, &end, 10);
        int steps = strcmp(end, "s") == 0 || strcmp(end, "steps") == 0;
        if (end == a->ckpt_every || v < 1 || v > (1LL << 40) || (*end && !steps))
            return cli_fail(NB_ERR_ARG, "--checkpoint-every: expected N (epochs) or Ns (steps), got '%s'", a->ckpt_every);
        if (steps) cfg->checkpoint_every_steps = v;
        else if (v > 1000000000) return cli_fail(NB_ERR_ARG, "--checkpoint-every: %lld epochs is too many", v);
        else cfg->checkpoint_every_epochs = (int)v;
    }
    s->ckpt_dir = a->ckpt_dir ? strdup(a->ckpt_dir) : cli_model_sibling(a->out, ".checkpoints");
    if (!s->ckpt_dir) return cli_fail(NB_ERR_NOMEM, "checkpoints: out of memory");
    cfg->checkpoint_dir = s->ckpt_dir;
    cfg->checkpoint_keep = a->ckpt_keep ? (int)a->ckpt_keep : 3;
    cfg->resume = a->resume;
    cfg->preproc = s->pp;
    return NB_OK;
}

static int parse_args(int argc, char **argv, train_args *a)
{
    const double big = 9.2e18;
    const cli_opt opts[] = {
        {"--train", CLI_STR, &a->train, 0, 0, 0, NULL},
        {"--val", CLI_STR, &a->val, 0, 0, 0, NULL},
        {"--val-split", CLI_NUM, &a->val_split, 0, 1, CLI_OPEN_LO | CLI_OPEN_HI, NULL},
        {"--test", CLI_STR, &a->test, 0, 0, 0, NULL},
        {"--task", CLI_STR, &a->task, 0, 0, 0, NULL},
        {"--label", CLI_STR, &a->label, 0, 0, 0, NULL},
        {"--header", CLI_STR, &a->header, 0, 0, 0, NULL},
        {"--delimiter", CLI_STR, &a->delimiter, 0, 0, 0, NULL},
        {"--class-names", CLI_STR, &a->class_names, 0, 0, 0, NULL},
        {"--scale", CLI_STR, &a->scale, 0, 0, 0, NULL},
        {"--target-scale", CLI_STR, &a->target_scale, 0, 0, 0, NULL},
        {"--missing", CLI_STR, &a->missing, 0, 0, 0, NULL},
        {"--tokens", CLI_STR, &a->tokens, 0, 0, 0, NULL},
        {"--max-vocab", CLI_INT, &a->max_vocab, 2, 65536, 0, NULL},
        {"--min-count", CLI_INT, &a->min_count, 1, big, 0, NULL},
        {"--max-len", CLI_INT, &a->max_len, 1, 65536, 0, NULL},
        {"--limit", CLI_INT, &a->limit, 1, big, 0, NULL},
        {"--input-shape", CLI_STR, &a->input_shape, 0, 0, 0, NULL},
        {"--model", CLI_STR, &a->spec, 0, 0, 0, NULL},
        {"--out", CLI_STR, &a->out, 0, 0, 0, NULL},
        {"--init", CLI_STR, &a->init, 0, 0, 0, NULL},
        {"--init-method", CLI_STR, &a->init_method, 0, 0, 0, NULL},
        {"--init-scale", CLI_NUM, &a->init_scale, 0, (double)INFINITY, CLI_OPEN_LO, NULL},
        {"--epochs", CLI_INT, &a->epochs, 1, 1e9, 0, NULL},
        {"--batch-size", CLI_INT, &a->batch_size, 1, big, 0, NULL},
        {"--optimizer", CLI_STR, &a->optimizer, 0, 0, 0, NULL},
        {"--lr", CLI_NUM, &a->lr, 0, (double)INFINITY, CLI_OPEN_LO, NULL},
        {"--momentum", CLI_NUM, &a->momentum, 0, 1, CLI_OPEN_HI, NULL},
        {"--weight-decay", CLI_NUM, &a->weight_decay, 0, (double)INFINITY, 0, NULL},
        {"--l2", CLI_NUM, &a->l2, 0, (double)INFINITY, 0, NULL},
        {"--beta1", CLI_NUM, &a->beta1, 0, 1, CLI_OPEN_HI, NULL},
        {"--beta2", CLI_NUM, &a->beta2, 0, 1, CLI_OPEN_HI, NULL},
        {"--eps", CLI_NUM, &a->eps, 0, (double)INFINITY, 0, NULL},
        {"--rms-alpha", CLI_NUM, &a->rms_alpha, 0, 1, CLI_OPEN_HI, NULL},
        {"--clip-grad-norm", CLI_NUM, &a->clip, 0, (double)INFINITY, 0, "--clip-norm"},
        {"--schedule", CLI_STR, &a->schedule, 0, 0, 0, NULL},
        {"--step-epochs", CLI_INT, &a->step_epochs, 1, 1e9, 0, NULL},
        {"--gamma", CLI_NUM, &a->gamma, 0, 1, CLI_OPEN_LO, NULL},
        {"--min-lr", CLI_NUM, &a->min_lr, 0, (double)INFINITY, 0, NULL},
        {"--early-stop", CLI_INT, &a->early_stop, 0, 1e9, 0, NULL},
        {"--seed", CLI_U64, &a->seed, 0, 0, 0, NULL},
        {"--no-shuffle", CLI_FLAG, &a->no_shuffle, 0, 0, 0, NULL},
        {"--threads", CLI_INT, &a->threads, 1, NB_MAX_THREADS, 0, NULL},
        {"--no-overlap", CLI_FLAG, &a->no_overlap, 0, 0, 0, NULL},
        {"--bucket-kb", CLI_INT, &a->bucket_kb, 1, 1 << 20, 0, NULL},
        {"--check-every", CLI_INT, &a->check_every, 0, 1e9, 0, NULL},
        {"--metrics-json", CLI_STR, &a->metrics_json, 0, 0, 0, NULL},
        {"--report", CLI_STR, &a->report, 0, 0, 0, NULL},
        {"--checkpoint-every", CLI_STR, &a->ckpt_every, 0, 0, 0, NULL},
        {"--checkpoint-dir", CLI_STR, &a->ckpt_dir, 0, 0, 0, NULL},
        {"--keep-checkpoints", CLI_INT, &a->ckpt_keep, 1, 1e6, 0, NULL},
        {"--resume", CLI_STR, &a->resume, 0, 0, 0, NULL},
        {"--quiet", CLI_FLAG, &a->quiet, 0, 0, 0, "-q"},
    };
    /* --report takes an optional FILE: alone (last, or before another option) it means
     * MODEL.report.html; that bare word is taken out before the parser sees it */
    char **av = malloc((size_t)(argc + 1) * sizeof *av);
    if (!av) return cli_fail(NB_ERR_NOMEM, "train: out of memory");
    int ac = 0;
    for (int i = 0; i < argc; i++) {
        if (i >= 2 && strcmp(argv[i], "--report") == 0 &&
            (i + 1 == argc || strncmp(argv[i + 1], "--", 2) == 0)) {
            a->report_default = 1;
            a->report = NULL;
            continue;
        }
        av[ac++] = argv[i];
    }
    av[ac] = NULL;
    int rc = cli_parse("train", ac, av, 2, opts, (int)(sizeof opts / sizeof opts[0]));
    free(av);
    if (rc) return rc;
    if (a->report) a->report_default = 0; /* the last --report counts */
    if (!a->train) return cli_fail(NB_ERR_ARG, "train: --train DATA is required");
    if (!a->spec) return cli_fail(NB_ERR_ARG, "train: --model SPEC is required");
    if (!a->out) return cli_fail(NB_ERR_ARG, "train: --out FILE is required");
    if (a->val && !isnan(a->val_split))
        return cli_fail(NB_ERR_ARG, "train: --val and --val-split exclude each other");
    if (a->early_stop && !a->val && isnan(a->val_split))
        return cli_fail(NB_ERR_ARG, "--early-stop: needs validation data (--val-split or --val)");
    a->header_mode = -1;
    if (a->header && (rc = cli_header_mode(a->header, &a->header_mode))) return rc;
    a->delim = 0;
    if (a->delimiter && (rc = cli_delimiter(a->delimiter, &a->delim))) return rc;
    a->scale_mode = -1; /* auto */
    if (a->scale && strcmp(a->scale, "auto") != 0) {
        nb_scaling s;
        if (nb_scale_parse(a->scale, &s))
            return cli_fail(NB_ERR_ARG, "--scale: expected auto, none, minmax or standard, got '%s'",
                            a->scale);
        a->scale_mode = (int)s;
    }
    a->tscale_mode = -1; /* auto */
    if (a->target_scale && strcmp(a->target_scale, "auto") != 0) {
        if (strcmp(a->target_scale, "standard") == 0) a->tscale_mode = NB_SCALE_STANDARD;
        else if (strcmp(a->target_scale, "none") == 0) a->tscale_mode = NB_SCALE_NONE;
        else return cli_fail(NB_ERR_ARG, "--target-scale: expected auto, standard or none, got '%s'", a->target_scale);
    }
    a->missing_mode = NB_MISSING_ERROR;
    if (a->missing && nb_missing_parse(a->missing, &a->missing_mode))
        return cli_fail(NB_ERR_ARG, "--missing: expected error, mean or drop, got '%s'", a->missing);
    a->tokens_mode = NB_TOKENS_NONE;
    if (a->tokens && strcmp(a->tokens, "chars") == 0) a->tokens_mode = NB_TOKENS_CHARS;
    else if (a->tokens && strcmp(a->tokens, "words") == 0) a->tokens_mode = NB_TOKENS_WORDS;
    else if (a->tokens) return cli_fail(NB_ERR_ARG, "--tokens: expected chars or words, got '%s'", a->tokens);
    if (!a->tokens && (a->max_vocab || a->min_count != 1 || a->max_len))
        return cli_fail(NB_ERR_ARG, "--max-vocab, --min-count and --max-len shape the tokens of a "
                        "text column: give --tokens chars or --tokens words too");
    a->task_value = NB_TASK_CLASSIFY;
    if (a->task && nb_task_parse(a->task, &a->task_value))
        return cli_fail(NB_ERR_ARG, "--task: %s", nb_errmsg());
    /* the library's default optimizer (Adam); a --momentum without --optimizer asks for SGD
     * with momentum, as before Adam became the default */
    a->optim_type = a->momentum > 0 ? NB_OPTIM_SGD : nb_train_config_default().optim.type;
    if (a->optimizer && nb_optim_type_parse(a->optimizer, &a->optim_type))
        return cli_fail(NB_ERR_ARG, "--optimizer: %s", nb_errmsg());
    a->sched = NB_SCHED_CONSTANT;
    if (a->schedule && nb_schedule_parse(a->schedule, &a->sched))
        return cli_fail(NB_ERR_ARG, "--schedule: %s", nb_errmsg());
    a->init_kind = NB_INIT_TORCH;
    if (a->init_method && nb_init_parse(a->init_method, &a->init_kind))
        return cli_fail(NB_ERR_ARG, "--init-method: %s", nb_errmsg());
    if (a->out[strlen(a->out) - 1] == '/')
        return cli_fail(NB_ERR_ARG, "--out: expected a file name, got the directory '%s'", a->out);
    if (strcmp(a->out, "-") == 0)
        return cli_fail(NB_ERR_ARG, "--out -: the model file is binary and is not written to "
                        "standard output; give a file path");
    /* refused now, not after a long run (the writers check again) */
    if (nb_check_output_path(a->out)) return cli_fail(NB_ERR_IO, "--out: %s", nb_errmsg());
    if (a->metrics_json && strcmp(a->metrics_json, "-") != 0 && nb_check_output_path(a->metrics_json))
        return cli_fail(NB_ERR_IO, "--metrics-json: %s, or - for standard output", nb_errmsg());
    if (a->report && strcmp(a->report, "-") != 0 && nb_check_output_path(a->report))
        return cli_fail(NB_ERR_IO, "--report: %s, or - for standard output", nb_errmsg());
    return NB_OK;
}

/* The optimizer settings from the options; library defaults for what was not given. epochs:
 * the run's epoch count (--epochs, or the automatic one once the data is known). */
static int optim_config(const train_args *a, int64_t epochs, nb_optim_config *oc)
{
    nb_optim_type type = a->optim_type;
    /* plain SGD with a momentum is the momentum rule, as PyTorch's SGD(momentum=...) */
    if (type == NB_OPTIM_SGD && a->momentum > 0)
        type = NB_OPTIM_MOMENTUM;
    *oc = nb_optim_config_default(type);
    if (!isnan(a->lr)) oc->lr = (float)a->lr;
    if (!isnan(a->momentum)) oc->momentum = (float)a->momentum;
    if (!isnan(a->weight_decay)) oc->weight_decay = (float)a->weight_decay;
    if (!isnan(a->beta1)) oc->beta1 = (float)a->beta1;
    if (!isnan(a->beta2)) oc->beta2 = (float)a->beta2;
    if (!isnan(a->eps)) oc->eps = (float)a->eps;
    if (!isnan(a->rms_alpha)) oc->rms_alpha = (float)a->rms_alpha;
    if (!isnan(a->gamma)) oc->gamma = (float)a->gamma;
    oc->l2 = (float)a->l2;
    oc->clip_norm = (float)a->clip;
    oc->schedule = a->sched;
    oc->step_epochs = (int)(a->step_epochs ? a->step_epochs : (epochs / 3 > 0 ? epochs / 3 : 1));
    oc->total_epochs = (int)epochs;
    oc->min_lr = (float)a->min_lr;
    if (nb_optim_config_check(oc)) return cli_lib_fail(NB_ERR_ARG, "optimizer");
    return NB_OK;
}

/* Load an extra labeled set (validation or test) through the learned schema. */
static int load_labeled(const train_args *a, const char *opt, const char *spec, nb_preproc *pp,
                        nb_dataset **out)
{
    nb_data_opts o = nb_data_opts_default();
    o.task = a->task_value;
    o.label = a->label;
    o.header = a->header_mode;
    o.delimiter = a->delim;
    o.split = NB_SPLIT_TEST; /* a directory given as validation or test data: its t10k-* */
    o.class_names = a->class_names;
    o.compact = 1; /* byte images stay bytes: a quarter of the memory */
    int64_t dropped = 0;
    o.dropped = &dropped; /* the mode is the schema's, learned from --train */
    int rc = nb_dataset_load(spec, &o, pp, out);
    if (rc) return cli_lib_fail(rc, spec);
    if (!a->quiet) cli_report_dropped(spec, dropped);
    if (!nb_dataset_n_targets(*out)) {
        nb_dataset_free(*out);
        *out = NULL;
        return cli_fail(NB_ERR_ARG, "%s: %s: the data has no label column", opt, spec);
    }
    return NB_OK;
}

/* Parse the spec (inline text or a file) with the task; settle the task of the data. */
/* Class names go into predict's output, one line per row: a control character (a newline
 * above all) would split or garble those lines, so names with one are refused here, where
 * they are made (CSV labels or --class-names), with the name escaped in the message. Data of
 * a single class trains (as PyTorch would), with a warning: the model can only learn that
 * class, and accuracy on such data says nothing. */
static int check_classes(const train_args *a, const nb_dataset *ds)
{
    nb_task task = nb_dataset_task(ds);
    int n = nb_dataset_n_classes(ds);
    for (int i = 0; i < n; i++) {
        const char *name = nb_dataset_class_name(ds, i);
        if (!name) continue;
        for (const unsigned char *c = (const unsigned char *)name; *c; c++)
            if (*c < 0x20 || *c == 0x7f) {
                char q[256]; /* the name escaped (\xNN), so the message stays one line */
                size_t k = 0;
                for (const unsigned char *p = (const unsigned char *)name; *p && k + 5 < sizeof q; p++)
                    k += (size_t)snprintf(q + k, sizeof q - k, *p < 0x20 || *p == 0x7f ? "\\x%02x" : "%c", *p);
                return cli_fail(a->class_names ? NB_ERR_ARG : NB_ERR_FORMAT,
                                "%s: class name \"%s\" holds a control character: predict writes one line per "
                                "row; rename the class %s", a->class_names ? "--class-names" : a->train, q,
                                a->class_names ? "in --class-names" : "in the data");
            }
    }
    if (!cli_dist_rank0() || (task != NB_TASK_CLASSIFY && task != NB_TASK_BINARY)) return NB_OK;
    const float *y = nb_dataset_targets(ds);
    int64_t rows = nb_dataset_n_rows(ds);
    if (!y || rows < 1) return NB_OK;
    for (int64_t r = 1; r < rows; r++)
        if (y[r] != y[0]) return NB_OK;
    const char *name = nb_dataset_class_name(ds, (int)y[0]);
    fprintf(stderr, "nabla: warning: every training row is of class %s%s%s: the model can only learn to "
            "predict it, and its accuracy will be trivial; give data with at least two classes\n",
            name ? "'" : "", name ? name : "", name ? "'" : "(unnamed)");
    return NB_OK;
}

static int make_model(train_args *a, nb_model **m)
{
    char *text = NULL;
    const char *spec = a->spec;
    int rc, is_file = cli_is_file(a->spec);
    if ((rc = cli_refuse_special(a->spec))) return rc;
    if (is_file) {
        if ((rc = cli_read_text(a->spec, 1 << 20, &text))) return rc;
        spec = text;
    }
    rc = nb_model_parse(spec, a->task_value, m);
    free(text);
    if (rc) return cli_spec_fail(rc, a->spec, is_file);
    nb_task t = nb_model_task(*m);
    if (a->task && t != a->task_value)
        return cli_fail(NB_ERR_ARG, "--task %s conflicts with the spec's 'task %s'",
                        nb_task_name(a->task_value), nb_task_name(t));
    a->task_value = t; /* a spec's task line decides when --task is absent */
    return NB_OK;
}

int cli_train(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, 2)) {
        if (!cli_dist_rank0()) return NB_OK; /* under mpirun: printed once */
        fputs(cli_help_train, stdout);
        return cli_flush_stdout();
    }
    train_args a;
    args_default(&a);
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc;
    const nb_comm *comm = cli_dist_comm(); /* mpirun -np N: rank 0 alone prints and writes */
    int rank0 = cli_dist_rank0();
    if (!rank0) a.quiet = 1;

    train_state s;
    memset(&s, 0, sizeof s);
    nb_optim_config oc; /* checked now, so a bad option fails before the data is read */
    if ((rc = optim_config(&a, a.epochs ? a.epochs : nb_train_auto_epochs(0, 1), &oc))) return rc;
    /* the output directories exist before a long run, not after it */
    if (rank0 && ((rc = cli_make_parent(a.out)) ||
        (a.metrics_json && strcmp(a.metrics_json, "-") != 0 && (rc = cli_make_parent(a.metrics_json))) ||
        (a.report && strcmp(a.report, "-") != 0 && (rc = cli_make_parent(a.report)))))
        return rc;
    cli_signals_install_loading(); /* Ctrl-C while loading: exit 8, not a plain kill */
    if ((rc = make_model(&a, &s.model))) goto done;
    nb_set_threads(a.threads ? (int)a.threads : 1); /* fixed, so results repeat across machines */

    if ((rc = nb_preproc_create(&s.pp))) {
        rc = cli_lib_fail(rc, "preprocessing");
        goto done;
    }
    nb_data_opts o = nb_data_opts_default();
    o.compact = 1; /* byte images stay bytes: a quarter of the memory */
    o.task = a.task_value;
    o.label = a.label;
    o.header = a.header_mode;
    o.delimiter = a.delim;
    o.class_names = a.class_names;
    o.missing = a.missing_mode;
    o.tokens = a.tokens_mode;
    o.max_vocab = a.max_vocab;
    o.min_count = a.min_count;
    o.max_len = a.max_len;
    int64_t dropped = 0;
    o.dropped = &dropped;
    if ((rc = nb_dataset_load(a.train, &o, s.pp, &s.all))) {
        rc = cli_lib_fail(rc, a.train);
        goto done;
    }
    if (!a.quiet) cli_report_dropped(a.train, dropped);
    if (!nb_dataset_n_targets(s.all)) {
        rc = cli_fail(NB_ERR_ARG, "--train: %s: the data has no label column", a.train);
        goto done;
    }
    /* the first N rows; the arrays stay allocated whole, which nb_dataset_free handles */
    if (a.limit && a.limit < nb_dataset_n_rows(s.all)) nb_dataset_truncate(s.all, a.limit);
    if ((rc = check_classes(&a, s.all))) goto done;
    if (a.input_shape) {
        /* CSV rows as images or sequences: kept in the schema for every later load. IDX
         * images, the only data that loads with a shape of its own (1, H, W), keep theirs in
         * the schema; the new shape (28x28: 28 steps of 28 features for a recurrent layer)
         * is the model's sample shape, which its file keeps, and eval and predict check only
         * the feature count against it */
        int rank, idx = nb_dataset_sample_rank(s.all) == 3;
        int64_t shape[3];
        if ((rc = cli_parse_shape("--input-shape", a.input_shape, &rank, shape))) goto done;
        if ((!idx && (rc = nb_preproc_set_sample_shape(s.pp, rank, shape))) ||
            (rc = nb_dataset_set_sample_shape(s.all, rank, shape))) {
            rc = cli_fail(rc, "--input-shape %s: %s", a.input_shape, nb_errmsg());
            goto done;
        }
    }
    if (a.test && (rc = load_labeled(&a, "--test", a.test, s.pp, &s.test))) goto done;
    if (a.val) {
        if ((rc = load_labeled(&a, "--val", a.val, s.pp, &s.val))) goto done;
        s.train = s.all;
        s.all = NULL;
    } else if (!isnan(a.val_split)) {
        if ((rc = nb_dataset_split(s.all, a.val_split, a.seed, &s.train, &s.val))) {
            rc = cli_fail(rc, "--val-split %g: %s", a.val_split, nb_errmsg());
            goto done;
        }
        nb_dataset_free(s.all); /* the two parts are copies: do not hold the data twice */
        s.all = NULL;
    } else {
        s.train = s.all;
        s.all = NULL;
    }

    /* scaling: fitted on the training part only, then applied to every part */
    nb_scaling mode = a.scale_mode >= 0 ? (nb_scaling)a.scale_mode
                      : nb_dataset_sample_rank(s.train) > 1 ? NB_SCALE_MINMAX /* IDX images: exact /255 */
                                                 : NB_SCALE_STANDARD;
    if ((rc = nb_preproc_fit_scaling(s.pp, mode, s.train)) ||
        (rc = nb_preproc_apply_scaling(s.pp, s.train)) ||
        (s.val && (rc = nb_preproc_apply_scaling(s.pp, s.val))) ||
        (s.test && (rc = nb_preproc_apply_scaling(s.pp, s.test)))) {
        rc = cli_lib_fail(rc, "scaling");
        goto done;
    }
    /* regression targets: standardized by default with the training part's statistics, kept in
     * the model file; predictions and metrics are mapped back to the original units */
    nb_scaling tmode = a.tscale_mode >= 0 ? (nb_scaling)a.tscale_mode
                       : a.task_value == NB_TASK_REGRESS ? NB_SCALE_STANDARD : NB_SCALE_NONE;
    if (tmode != NB_SCALE_NONE && a.task_value != NB_TASK_REGRESS) {
        rc = cli_fail(NB_ERR_ARG, "--target-scale standard: only regression targets are scaled (the task is %s)",
                      nb_task_name(a.task_value));
        goto done;
    }
    if ((rc = nb_preproc_fit_target_scaling(s.pp, tmode, s.train)) ||
        (rc = nb_preproc_apply_target_scaling(s.pp, s.train)) ||
        (s.val && (rc = nb_preproc_apply_target_scaling(s.pp, s.val))) ||
        (s.test && (rc = nb_preproc_apply_target_scaling(s.pp, s.test)))) {
        rc = cli_lib_fail(rc, "--target-scale");
        goto done;
    }

    /* a text column's vocabulary sizes an embedding that does not name its own */
    if (nb_preproc_vocab_size(s.pp) > 0 && (rc = nb_model_set_vocab(s.model, nb_preproc_vocab_size(s.pp)))) {
        rc = cli_lib_fail(rc, "--model");
        goto done;
    }
    if ((rc = nb_model_build(s.model, nb_dataset_sample_rank(s.train),
                             nb_dataset_sample_shape(s.train), cli_data_outputs(s.train))) ||
        (rc = nb_model_init(s.model, a.init_kind, (float)a.init_scale, a.seed))) {
        rc = cli_lib_fail(rc, "--model");
        goto done;
    }
    if (a.init && (rc = nb_model_load_weights(s.model, a.init))) {
        rc = cli_lib_fail(rc, a.init);
        goto done;
    }

    if (!a.epochs) { /* the library's NB_EPOCHS_AUTO, resolved here for the banner */
        a.epochs = nb_train_auto_epochs(nb_dataset_n_rows(s.train), a.batch_size);
        a.epochs_auto = 1;
        if ((rc = optim_config(&a, a.epochs, &oc))) goto done;
    }
    nb_train_config cfg = nb_train_config_default();
    if ((rc = checkpoint_config(&a, &s, &cfg))) goto done;
    cfg.epochs = (int)a.epochs;
    cfg.batch_size = a.batch_size;
    cfg.optim = oc;
    cfg.shuffle = !a.no_shuffle;
    cfg.comm_overlap = !a.no_overlap;
    if (a.bucket_kb) cfg.comm_bucket_bytes = a.bucket_kb * 1024;
    if (a.check_every >= 0) cfg.comm_check_every = (int)a.check_every;
    cfg.seed = a.seed;
    cfg.early_stop = (int)a.early_stop;
    s.progress.quiet = a.quiet;
    s.progress.tty = cli_stderr_is_tty();
    s.progress.last_draw = -1;
    s.progress.hist = &s.hist;
    cfg.progress = cli_progress_cb;
    cfg.progress_ud = &s.progress;
    if (!a.quiet) train_banner(&a, &s, mode, &oc);

    if (comm) {
        /* the setup agreement (collective 1, main.c): a rank that failed before here has
         * returned to main, whose call matches this one */
        if ((rc = cli_dist_agree(NB_OK))) goto done;
        cfg.comm = comm;
    }

    cli_signals_install();
    s.t0 = cli_now();
    rc = nb_model_train(s.model, s.train, s.val, &cfg, &s.lib_hist);
    cli_progress_end(&s.progress);
    if (rc == NB_OK && comm && !a.quiet) train_comm_line(&s);
    if (rc == NB_ERR_NUMERIC) {
        rc = rank0 ? train_diverged(&a, &s) : NB_OK; /* rank 0 saves; its line is agreed on */
        if (comm) rc = cli_dist_agree(rc);        /* the final agreement (3, main.c) */
        goto done;
    }
    if (rc != NB_OK && rc != NB_ERR_INTERRUPTED) {
        rc = cli_lib_fail(rc, "training");
        goto done;
    }
    s.interrupted = rc == NB_ERR_INTERRUPTED;
    rc = NB_OK;
    if (a.resume && s.lib_hist.n > s.hist.n) { /* the history includes the epochs before the resume */
        s.hist.n = 0;
        for (int i = 0; i < s.lib_hist.n && !rc; i++)
            if (cli_history_push(&s.hist, &s.lib_hist.epochs[i]))
                rc = cli_fail(NB_ERR_NOMEM, "history: out of memory");
    }
    if (!rc && rank0) rc = train_finish(&a, &s);
    /* the final agreement (collective 3, main.c): a write failure on rank 0 (or an
     * interruption it reports) gives every rank its exit status */
    if (comm) rc = cli_dist_agree(rc);
done:
    free(s.ckpt_dir);
    nb_history_free(&s.lib_hist);
    cli_history_free(&s.hist);
    nb_dataset_free(s.all);
    nb_dataset_free(s.train);
    nb_dataset_free(s.val);
    nb_dataset_free(s.test);
    nb_preproc_free(s.pp);
    nb_model_free(s.model);
    return rc;
}
