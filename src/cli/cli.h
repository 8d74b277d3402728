/* SPDX-License-Identifier: MIT */
/*
 * cli.h - declarations shared by the files of the nabla command-line tool (src/cli only).
 * The CLI sees the library only through the public nabla.h. Every cli_* function that can
 * fail prints its own one-line "nabla: ..." message to stderr and returns the status that is
 * the process's exit code (docs/CLI.md), so a subcommand just returns what it got.
 * Data goes to stdout; progress, logs and errors go to stderr.
 */
#ifndef NB_CLI_H
#define NB_CLI_H

#include "nabla.h"

#include <stdint.h>
#include <stdio.h>

/* ---------------------------------------------------------------- errors (util.c) */

/* cli_api_to_options: in with each library name of a setting (nb_optim_config.lr,
 * nb_train_config.batch_size, ...) replaced by the option that sets it (--lr, --batch-size),
 * from the one table in util.c, into out (cap bytes, truncated, always NUL-terminated). */
void cli_api_to_options(const char *in, char *out, size_t cap);

/* cli_fail: print "nabla: <fmt...>" and a newline on stderr, in the CLI's words
 * (cli_api_to_options); return status. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
int cli_fail(int status, const char *fmt, ...);

/* cli_lib_fail: report a failed library call: "nabla: <nb_errmsg()>", or "nabla: <what>:
 * <status name>" when the library left no message; return status. */
int cli_lib_fail(int status, const char *what);

/* ---------------------------------------------------------------- distributed runs (dist.c) */

/* cli_dist_set: the communicator of `mpirun -np N nabla train` (NULL, or of size 1: a single
 * process, and everything below is a no-op). From then on cli_fail and cli_lib_fail keep
 * their line (cli_dist_line) instead of printing it. */
void cli_dist_set(const nb_comm *c);
/* cli_dist_comm: the communicator set, NULL unless the run has more than one rank. */
const nb_comm *cli_dist_comm(void);
/* cli_dist_rank0: 1 on rank 0 and in a single process: the one that prints and writes files. */
int cli_dist_rank0(void);
void cli_dist_keep(const char *line);
const char *cli_dist_line(void);
/* cli_dist_synced: this rank has made the setup agreement (cli_dist_agree). */
int cli_dist_synced(void);
/* cli_dist_agree: collective: nb_comm_agree of status with the kept line as its message;
 * returns the agreed status, and on failure keeps the agreed "rank R of N: ..." line. */
int cli_dist_agree(int status);

/* ---------------------------------------------------------------- files (util.c) */

/* cli_is_file: 1 when path names an existing regular file. */
int cli_is_file(const char *path);

/* cli_spec_fail: report the failure rc of parsing the --model spec given as text spec
 * (is_file: it named a file, whose text was parsed): "no file 'net.spec' and it is not a
 * layer spec" when it is no file but looks like a path ('/', a .spec/.txt/.csv/...
 * ending, or one word with a '.'), "'x.csv' is data" for a data file, else the library's
 * message. Returns the status printed. */
int cli_spec_fail(int rc, const char *spec, int is_file);

/* cli_read_text: the whole file at path, NUL-terminated, in *out (free() it); at most
 * max_bytes. Prints and returns NB_ERR_IO / NB_ERR_FORMAT / NB_ERR_NOMEM. */
int cli_read_text(const char *path, size_t max_bytes, char **out);

/* cli_read_stream: as cli_read_text, from an open stream f (e.g. stdin) named path in
 * messages; *n (when n is not NULL) is the length. f is not closed. */
int cli_read_stream(FILE *f, const char *path, size_t max_bytes, char **out, size_t *n);

/* cli_sibling: "dir of path" + "/" + name into a malloc'ed string (NULL on no memory). */
char *cli_sibling(const char *path, const char *name);

/* cli_model_sibling: the model path with its extension (the last ".xyz" of its file name)
 * replaced by suffix, in a malloc'ed string (NULL on no memory): ("runs/mlp.nbm",
 * ".history.csv") -> "runs/mlp.history.csv". Files that belong to one model are named this way
 * so that two models in one directory keep theirs apart. */
char *cli_model_sibling(const char *model, const char *suffix);

/* cli_make_parent: create the missing directories leading to path (mkdir -p of its
 * directory). Prints and returns NB_ERR_IO. */
int cli_make_parent(const char *path);

/* cli_write_atomic: write a file through write(ud, f) into a temporary file beside path, then
 * flush, fsync and rename it over path, so readers see the old file or the new one, never a
 * half-written one. A path that is not a missing or regular file (a symbolic link, FIFO,
 * device, directory, socket: nb_check_output_path) is refused before anything is written;
 * path "-" writes to stdout instead. write returns 0 or a status it has printed. Prints I/O
 * errors. */
int cli_write_atomic(const char *path, int (*write)(void *ud, FILE *f), void *ud);

/* cli_fmt_shape: "(1, 28, 28)" of a shape into buf (cap bytes, truncated); "()" for rank 0. */
void cli_fmt_shape(int rank, const int64_t *shape, char *buf, size_t cap);

/* cli_now: monotonic seconds. */
double cli_now(void);

/* cli_flush_stdout: flush stdout and report a write error (NB_ERR_IO) once. */
int cli_flush_stdout(void);

/* ---------------------------------------------------------------- options (args.c) */

enum cli_kind {
    CLI_FLAG, /* no value; *(int *)dst = 1 */
    CLI_STR,  /* *(const char **)dst = the text */
    CLI_INT,  /* *(int64_t *)dst, an integer in [lo, hi] */
    CLI_U64,  /* *(uint64_t *)dst, any integer 0 .. 2^64-1 */
    CLI_NUM   /* *(double *)dst, a finite number in lo..hi (open ends per `open`) */
};

#define CLI_OPEN_LO 1 /* lo itself is not allowed */
#define CLI_OPEN_HI 2 /* hi itself is not allowed */
/* a macro's value as a string literal, for help texts that quote a library limit
 * (CLI_XSTR(NB_MAX_THREADS) is "64"): the text and the parser's bound cannot drift apart */
#define CLI_STR_(x) #x
#define CLI_XSTR(x) CLI_STR_(x)

/* One option of a subcommand. alias (may be NULL) is a second spelling. */
typedef struct cli_opt {
    const char *name;
    enum cli_kind kind;
    void *dst;
    double lo, hi;
    int open;
    const char *alias;
} cli_opt;

/* cli_parse: parse argv[first..argc) against opts (n of them): "--name value", "--name=value"
 * and flags. Returns NB_OK, or NB_ERR_ARG after printing one line naming the option (unknown
 * option, missing value, value that does not parse or is out of range, stray argument).
 * cmd names the subcommand in messages. A repeated option keeps its last value. */
int cli_parse(const char *cmd, int argc, char **argv, int first, const cli_opt *opts, int n);

/* cli_wants_help: 1 when argv[first..argc) holds --help or -h (help wins over errors). */
int cli_wants_help(int argc, char **argv, int first);

/* cli_describe: the allowed range of a numeric option as words ("a positive number",
 * "a number in (0, 1)", "an integer >= 1") into buf. */
void cli_describe(const cli_opt *o, char *buf, size_t cap);

/* cli_parse_shape: "784" or "1x28x28" (1 to 3 positive dimensions) into rank/shape;
 * NB_ERR_ARG naming opt after printing. */
int cli_parse_shape(const char *opt, const char *text, int *rank, int64_t shape[3]);

/* cli_header_mode: "yes" 1, "no" 0, "auto" -1 into *out; NB_ERR_ARG naming --header. */
int cli_header_mode(const char *text, int *out);

/* cli_delimiter: "auto" 0 (detect), "tab" (or "\t"), "space", or one character other than a
 * quote or line end into *out; NB_ERR_ARG naming --delimiter. */
int cli_delimiter(const char *text, char *out);

/* ---------------------------------------------------------------- JSON output (json_out.c) */

/* A streaming JSON writer with indentation; keys are NULL inside arrays and at the root.
 * Non-finite numbers are written as null (JSON has no NaN). Nesting is at most 15 deep. */
typedef struct cli_json {
    FILE *f;
    int depth;
    int count[16]; /* members written so far at each depth */
} cli_json;

void cj_init(cli_json *j, FILE *f);
void cj_obj(cli_json *j, const char *key);
void cj_arr(cli_json *j, const char *key);
void cj_end_obj(cli_json *j);
void cj_end_arr(cli_json *j);
void cj_num(cli_json *j, const char *key, double v);
void cj_int(cli_json *j, const char *key, int64_t v);
void cj_str(cli_json *j, const char *key, const char *s);
void cj_bool(cli_json *j, const char *key, int v);
void cj_null(cli_json *j, const char *key);
/* cli_open_regular: path opened for reading, or NULL with errno set; a path that is not a
 * regular file (a FIFO, whose open would block, a device, a directory) gives errno
 * EFTYPE_CLI without blocking. */
#define EFTYPE_CLI EINVAL
/* cli_refuse_special: NB_ERR_IO (with its line) when path exists and is a FIFO, device or
 * socket (a --model that could be a file or a spec: never taken as spec text); else NB_OK */
int cli_refuse_special(const char *path);
FILE *cli_open_regular(const char *path);

/* cj_string: s as a JSON string literal, quotes and escapes included. */
void cj_string(FILE *f, const char *s);

/* ---------------------------------------------------------------- plots (plot.c) */

/* One line of a chart: n values (NaN points are skipped and break the line). */
typedef struct cli_series {
    const char *label;
    const char *color;
    const double *y;
} cli_series;

/* One panel: a title, a y-axis label and up to 4 series over x = 1..n (epochs). */
typedef struct cli_panel {
    const char *title;
    const char *ylabel;
    int n_series;
    cli_series series[4];
    int best;         /* the epoch marked "best epoch" with a vertical line; 0: none */
} cli_panel;

/* cli_svg_plot: a standalone SVG document with n_panels (1..3) side by side, each with axes,
 * ticks, tick labels, an x label "epoch", a y label and a legend, written to f. n points per
 * series (n >= 1). Panels whose series are all NaN say "no data". Returns 0, or NB_ERR_IO
 * when f reports a write error. */
int cli_svg_plot(FILE *f, const char *title, const cli_panel *panels, int n_panels, int n);
/* cli_svg_plot_doc: the same; prolog 0 leaves out the XML declaration, for an <svg> inlined in
 * HTML (the report). Legends list only the series with a finite value. */
int cli_svg_plot_doc(FILE *f, const char *title, const cli_panel *panels, int n_panels, int n,
                     int prolog);

/* cli_nice_ticks: "nice" tick positions (1, 2 or 5 times a power of ten) covering [lo, hi]:
 * *t0 the first tick, *step the spacing, return the count (2..12). lo < hi required. */
int cli_nice_ticks(double lo, double hi, double *t0, double *step);

/* ---------------------------------------------------------------- history (history.c) */

/* A growing list of epoch figures, kept by the CLI itself so it is complete even when
 * training stops early, fails, or is interrupted. */
typedef struct cli_history {
    int n, cap;
    nb_epoch_stats *e;
} cli_history;

int cli_history_push(cli_history *h, const nb_epoch_stats *s);
void cli_history_free(cli_history *h);

/* cli_history_csv: epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds (NaN: empty cell;
 * accuracies as fractions). cli_history_svg: the loss and accuracy panels. Both write to f. */
int cli_history_csv(FILE *f, const cli_history *h);
int cli_history_svg(FILE *f, const cli_history *h, const char *title);
/* cli_history_panels: the loss, accuracy and learning-rate panels of the first n epochs of h
 * (NaN past h->n) over v (5 * n doubles), each marking the best epoch; returns how many of the
 * first two hold data (1: no accuracy, e.g. regression). history.svg and the report share it. */
int cli_history_panels(const cli_history *h, int n, double *v, cli_panel p[3]);
/* cli_history_best: the best epoch of h: the lowest validation loss, or the last epoch when no
 * epoch has one; 0 for an empty history. */
int cli_history_best(const cli_history *h);
/* cli_history_read: parse a history.csv (cli_history_csv's columns, found by name in its
 * header; empty cells and nan: NaN) at path into h (empty on entry). Prints and returns
 * NB_ERR_IO / NB_ERR_FORMAT / NB_ERR_NOMEM. */
int cli_history_read(const char *path, cli_history *h);

/* cli_metrics_json_body: the members of m (task-specific fields) into the open object of j;
 * names are the class names (n_classes of them, may be NULL). */
void cli_metrics_json_body(cli_json *j, const nb_metrics *m, const char *const *names);

/* ---------------------------------------------------------------- progress (progress.c) */

/* The training rate behind the ETA: points (time, samples trained in the run) at least
 * CLI_ETA_GAP seconds apart, the last CLI_ETA_N of them, so the rate is that of the recent
 * window. The first point is taken after the first step, so its warm-up (first-touch page
 * faults, thread start-up, caches) never counts. */
#define CLI_ETA_N 40
#define CLI_ETA_GAP 0.25
typedef struct cli_eta {
    double t[CLI_ETA_N], s[CLI_ETA_N];
    int n, head;        /* points held; index of the oldest */
    double t0;          /* when the first step ended (the first point) */
    long long steps;    /* steps seen after the first */
    double now_s;       /* samples at the latest update */
} cli_eta;

/* cli_eta_update: record that samples (in the run, all epochs) were trained by time now. */
void cli_eta_update(cli_eta *e, double now, double samples);

/* cli_eta_seconds: the time left to train remaining samples at the recent rate, or NaN while
 * there is too little to go on: until a step after the first has ended and 1 s has passed
 * since the first ended (or 10 steps have). */
double cli_eta_seconds(const cli_eta *e, double now, double remaining);

/* cli_progress_line: the terminal progress line of an epoch in progress, at most width - 1
 * characters (the last column would wrap on some terminals; a wrapped line cannot be redrawn
 * with \r), into buf. Fields, dropped from the least important when the line does not fit:
 * samples/s, then the bar (narrowed first), the loss, the ETA, the percentage; "epoch E/N"
 * stays (cut short itself below ~12 columns). A pure function of its arguments. */
void cli_progress_line(const nb_progress *p, const cli_eta *e, double now, int width, char *buf,
                       size_t cap);

/* cli_term_width: the terminal's columns: TIOCGWINSZ on stderr, else $COLUMNS, else 80. */
int cli_term_width(void);

typedef struct cli_progress {
    int quiet;
    int tty;            /* stderr is a terminal: redraw one line with \r */
    double last_draw;   /* seconds of the last redraw within the epoch */
    int drawn;          /* a partial line is on the terminal */
    cli_history *hist;  /* receives every finished epoch */
    int push_failed;    /* out of memory while recording (reported after training) */
    cli_eta eta;        /* zeroed with the rest */
} cli_progress;

/* cli_signals_install: SIGINT/SIGTERM set a flag (and restore the default action, so a second
 * signal kills at once). cli_interrupted: the flag. */
void cli_signals_install(void);
/* cli_signals_install_loading: until cli_signals_install, SIGINT/SIGTERM print one line and
 * exit 8 at once (nothing is trained or written yet) */
void cli_signals_install_loading(void);
int cli_interrupted(void);

/* cli_stderr_is_tty: 1 when stderr is a terminal (progress is then redrawn in place). */
int cli_stderr_is_tty(void);

/* cli_progress_cb: the nb_train_config.progress callback; ud is a cli_progress. Returns
 * non-zero once a signal arrived. */
int cli_progress_cb(void *ud, const nb_progress *p);

/* cli_progress_end: finish a partial terminal line (after an interruption or error). */
void cli_progress_end(cli_progress *pr);

/* cli_epoch_line: the plain one-line summary of a finished epoch into buf. */
void cli_epoch_line(const nb_epoch_stats *s, int epochs, char *buf, size_t cap);
/* cli_epoch_shown: whether epoch (1-based) of epochs gets its line on stderr. A long run (the
 * automatic count gives small tables up to 1000 epochs) shows about 50 lines: the first, every
 * ceil(epochs/50)-th and the last; history.csv keeps every epoch. */
int cli_epoch_shown(int epoch, int epochs);

/* ---------------------------------------------------------------- shared model/data helpers */

/* cli_class_name: the name of class i from pp, else from ds, else its number (into buf). */
const char *cli_class_name(const nb_preproc *pp, const nb_dataset *ds, int i, char *buf,
                           size_t cap);

/* cli_data_outputs: the model outputs ds's task asks for: the class count (classify), 1
 * (binary), the targets per row (multilabel, regress). */
int cli_data_outputs(const nb_dataset *ds);

/* cli_load_model_data: load the model file and, through its preprocessing (or none), the
 * dataset spec with header mode header (-1 auto); apply the model's scaling. Spec "-" is CSV
 * text on standard input (read whole, not compressed; "stdin" in messages). need_labels:
 * fail when the data has no label column (eval); without it (predict) rows dropped for
 * missing values are refused, since each output line must answer an input row. missing:
 * NB_MISSING_ERROR for the model's stored mode, else an override (--missing). Rows dropped
 * are reported on stderr. Prints errors. */
int cli_load_model_data(const char *model_path, const char *data_spec, int header,
                        char delimiter, int need_labels, nb_missing missing, nb_model **m,
                        nb_preproc **pp, nb_dataset **ds);

/* cli_report_dropped: "DATA: dropped N rows with missing values" on stderr when n > 0. */
void cli_report_dropped(const char *data, int64_t n);

/* cli_evaluate: nb_model_evaluate of m on ds (loaded through pp, targets scaled as the model
 * learned them), with a regression's mse, mae and r2 in the original units of the targets when
 * pp scales them (the loss stays the training objective, on scaled targets). Prints errors
 * naming what. */
int cli_evaluate(nb_model *m, const nb_preproc *pp, const nb_dataset *ds, const char *what,
                 nb_metrics *mt);

/* cli_print_metrics: the human-readable report of m (stdout). */
void cli_print_metrics(FILE *f, const nb_metrics *m, const nb_preproc *pp, const nb_dataset *ds);

/* ---------------------------------------------------------------- subcommands */

/* --help texts (help.c) */
extern const char cli_help_main[], cli_help_train[], cli_help_eval[], cli_help_predict[],
    cli_help_summary[], cli_help_import[], cli_help_report[], cli_help_export[];

int cli_train(int argc, char **argv);
int cli_eval(int argc, char **argv);
int cli_predict(int argc, char **argv);
int cli_summary(int argc, char **argv);
int cli_import(int argc, char **argv);
int cli_export(int argc, char **argv);
int cli_report_cmd(int argc, char **argv); /* report_html.c */

#endif
