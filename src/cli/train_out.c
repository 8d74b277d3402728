/* SPDX-License-Identifier: MIT */
/*
 * train_out.c - what `nabla train` writes once training has run: the banner before it, then the
 * model file (nb_model_save, atomic), history.csv and history.svg beside it, the one-time
 * test score on stdout and the --metrics-json file. Invariant: the model is saved before any
 * other output, so an error in a side file never loses the trained weights.
 */
#include "report_html.h"
#include "train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void train_banner(const train_args *a, const train_state *s, nb_scaling mode,
                  const nb_optim_config *oc)
{
    const nb_dataset *t = s->train;
    nb_task task = nb_dataset_task(t);
    fprintf(stderr, "data: %lld training rows", (long long)nb_dataset_n_rows(t));
    if (s->val) fprintf(stderr, ", %lld validation rows", (long long)nb_dataset_n_rows(s->val));
    if (s->test) fprintf(stderr, ", %lld test rows", (long long)nb_dataset_n_rows(s->test));
    fprintf(stderr, "; %lld features (scaling %s); task %s", (long long)nb_dataset_n_features(t),
            nb_scale_name(mode), nb_task_name(task));
    if (nb_preproc_target_scaling(s->pp) != NB_SCALE_NONE) fputs(" (targets standardized)", stderr);
    if (task == NB_TASK_CLASSIFY || task == NB_TASK_BINARY || task == NB_TASK_MULTILABEL)
        fprintf(stderr, ", %d %s", nb_dataset_n_classes(t), task == NB_TASK_MULTILABEL ? "labels" : "classes");
    fprintf(stderr, "\nmodel: %s (%zu parameters); %s lr %g, batch %lld, %lld epochs%s, seed %llu\n",
            nb_model_spec(s->model), nb_model_param_count(s->model),
            nb_optim_type_name(oc->type), (double)oc->lr, (long long)a->batch_size,
            (long long)a->epochs, a->epochs_auto ? " (auto: about 2000 steps, 10..1000)" : "",
            (unsigned long long)a->seed);
    const nb_comm *c = cli_dist_comm();
    if (c)
        fprintf(stderr, "ranks: %d (mpirun), global batch %lld, ~%.4g rows per rank\n", c->size,
                (long long)a->batch_size, (double)a->batch_size / c->size);
}

void train_comm_line(const train_state *s)
{
    const nb_history *h = &s->lib_hist;
    double hidden = h->comm_seconds > 0 ? 100.0 * (1.0 - h->comm_wait_seconds / h->comm_seconds) : 0.0;
    fprintf(stderr, "communication: %.3f MB per step per rank, %.2f s reducing, %.0f%% hidden behind backward "
            "(%.2f s waited)\n", (double)h->comm_bytes_per_step / 1e6, h->comm_seconds,
            hidden < 0 ? 0.0 : hidden, h->comm_wait_seconds);
}

static int write_csv(void *ud, FILE *f)
{
    return cli_history_csv(f, ud);
}

typedef struct svg_job {
    const cli_history *h;
    const char *title;
} svg_job;

static int write_svg(void *ud, FILE *f)
{
    const svg_job *j = ud;
    int rc = cli_history_svg(f, j->h, j->title);
    return rc == NB_ERR_NOMEM ? cli_fail(rc, "history.svg: out of memory") : rc;
}

typedef struct json_job {
    const train_args *a;
    train_state *s;
    const nb_metrics *test; /* NULL: none */
    int best_epoch;
    int kept_epoch; /* the epoch whose weights were saved */
} json_job;

static int write_json(void *ud, FILE *f)
{
    const json_job *jj = ud;
    const train_state *s = jj->s;
    cli_json j;
    cj_init(&j, f);
    cj_obj(&j, NULL);
    cj_str(&j, "model", jj->a->out);
    cj_str(&j, "spec", nb_model_spec(s->model));
    cj_str(&j, "task", nb_task_name(nb_model_task(s->model)));
    cj_int(&j, "parameters", (int64_t)nb_model_param_count(s->model));
    cj_int(&j, "train_rows", nb_dataset_n_rows(s->train));
    cj_int(&j, "val_rows", s->val ? nb_dataset_n_rows(s->val) : 0);
    cj_arr(&j, "epochs");
    for (int i = 0; i < s->hist.n; i++) {
        const nb_epoch_stats *e = &s->hist.e[i];
        cj_obj(&j, NULL);
        cj_int(&j, "epoch", e->epoch);
        cj_num(&j, "train_loss", e->train_loss);
        cj_num(&j, "train_acc", e->train_acc);
        cj_num(&j, "val_loss", e->val_loss);
        cj_num(&j, "val_acc", e->val_acc);
        cj_num(&j, "lr", e->lr);
        cj_num(&j, "seconds", e->seconds);
        cj_num(&j, "samples_per_s", e->samples_per_s);
        cj_end_obj(&j);
    }
    cj_end_arr(&j);
    if (jj->best_epoch > 0) cj_int(&j, "best_epoch", jj->best_epoch);
    else cj_null(&j, "best_epoch");
    cj_int(&j, "epoch_steps", s->lib_hist.epoch_steps);
    cj_int(&j, "epoch_samples", s->lib_hist.epoch_samples);
    if (jj->kept_epoch > 0) cj_int(&j, "kept_epoch", jj->kept_epoch);
    else cj_null(&j, "kept_epoch");
    cj_bool(&j, "stopped_early", s->lib_hist.stopped_early);
    cj_bool(&j, "interrupted", s->interrupted);
    if (s->lib_hist.comm_bytes_per_step > 0) { /* a distributed run (rank 0's figures) */
        cj_obj(&j, "communication");
        cj_int(&j, "ranks", cli_dist_comm() ? cli_dist_comm()->size : 1);
        cj_int(&j, "bytes_per_step", s->lib_hist.comm_bytes_per_step);
        cj_num(&j, "reduce_seconds", s->lib_hist.comm_seconds);
        cj_num(&j, "wait_seconds", s->lib_hist.comm_wait_seconds);
        cj_end_obj(&j);
    }
    if (jj->test) {
        int k = jj->test->n_classes;
        const char **names = k > 0 ? calloc((size_t)k, sizeof *names) : NULL;
        for (int c = 0; names && c < k; c++) names[c] = nb_preproc_class_name(s->pp, c);
        cj_obj(&j, "test");
        cli_metrics_json_body(&j, jj->test, names);
        cj_end_obj(&j);
        free(names);
    } else {
        cj_null(&j, "test");
    }
    cj_end_obj(&j);
    return ferror(f) ? NB_ERR_IO : NB_OK;
}

/* The best epoch: the library's when it returned a history, else the lowest validation loss
 * (the last epoch without validation data), as nb_history defines it. */
static int best_epoch(const train_state *s)
{
    if (s->lib_hist.n > 0) return s->lib_hist.best_epoch;
    int best = 0;
    double bl = (double)INFINITY;
    for (int i = 0; i < s->hist.n; i++) {
        double v = s->hist.e[i].val_loss;
        if (isnan(v)) best = s->hist.e[i].epoch;
        else if (v < bl) {
            bl = v;
            best = s->hist.e[i].epoch;
        }
    }
    return best;
}

static void print_test(FILE *f, const nb_metrics *m)
{
    fprintf(f, "test: n %lld  loss %.4f", (long long)m->n, m->loss);
    if (m->task == NB_TASK_REGRESS)
        fprintf(f, "  mse %.4g  mae %.4g  r2 %.4f\n", m->mse, m->mae, m->r2);
    else
        fprintf(f, "  accuracy %.2f%%\n", 100.0 * m->accuracy);
}

int train_diverged(const train_args *a, train_state *s)
{
    char msg[700];
    snprintf(msg, sizeof msg, "%s", nb_errmsg());
    const float *p = nb_model_params(s->model);
    size_t n = nb_model_param_count(s->model), i = 0;
    while (i < n && isfinite(p[i])) i++;
    if (i < n) return cli_fail(NB_ERR_NUMERIC, "%s; nothing saved to %s", msg, a->out);
    int rc = nb_model_save(s->model, a->out, s->pp);
    if (rc) return cli_fail(NB_ERR_NUMERIC, "%s; saving them to %s failed too: %s", msg, a->out, nb_errmsg());
    return cli_fail(NB_ERR_NUMERIC, "%s; those weights are saved to %s", msg, a->out);
}

/* the epoch whose weights training ended with: the best with early stopping (restored),
 * else the last; 0 after an interruption */
static int kept_epoch(const train_args *a, const train_state *s)
{
    if (s->interrupted) return 0; /* the weights so far, of no finished epoch */
    if (s->lib_hist.n == 0) return s->hist.n > 0 ? s->hist.e[s->hist.n - 1].epoch : 0;
    return a->early_stop && s->val ? s->lib_hist.best_epoch : s->lib_hist.epochs[s->lib_hist.n - 1].epoch;
}

/* --report: the HTML report on --test when given, else the validation part, else the
 * training data (rank 0 alone gets here) */
static int write_report(const train_args *a, train_state *s)
{
    const nb_dataset *ds = s->test ? s->test : s->val ? s->val : s->train;
    char name[512];
    if (s->test) snprintf(name, sizeof name, "%s", a->test);
    else if (s->val && a->val) snprintf(name, sizeof name, "%s", a->val);
    else if (s->val) snprintf(name, sizeof name, "%s (the validation part, --val-split %g)", a->train, a->val_split);
    else snprintf(name, sizeof name, "%s (the training data)", a->train);
    char *path = a->report ? NULL : cli_model_sibling(a->out, ".report.html");
    if (!a->report && !path) return cli_fail(NB_ERR_NOMEM, "--report: out of memory");
    int rc = cli_report_make(a->report ? a->report : path, a->out, name, s->model, s->pp, ds,
                             &s->hist, stderr);
    free(path);
    return rc;
}

int train_finish(const train_args *a, train_state *s)
{
    int rc = nb_model_save(s->model, a->out, s->pp);
    if (rc) return cli_lib_fail(rc, a->out);
    if (s->progress.push_failed) return cli_fail(NB_ERR_NOMEM, "history: out of memory");
    int kept = kept_epoch(a, s);
    if (!a->quiet && a->early_stop && s->val && kept > 0 && kept <= s->lib_hist.n) {
        const nb_history *h = &s->lib_hist;
        double vl = h->epochs[kept - 1].val_loss;
        if (h->stopped_early)
            fprintf(stderr, "early stop after epoch %d: no better validation loss for %lld epochs; kept epoch %d (val loss %.4g)\n",
                    h->epochs[h->n - 1].epoch, (long long)a->early_stop, kept, vl);
        else
            fprintf(stderr, "no early stop in %d epochs; kept the best, epoch %d (val loss %.4g)\n", h->n, kept, vl);
    }
    if (!a->quiet && !s->interrupted)
        fprintf(stderr, "saved %s (%.1f s)\n", a->out, cli_now() - s->t0);

    char *csv = cli_model_sibling(a->out, ".history.csv");
    char *svg = cli_model_sibling(a->out, ".history.svg");
    char title[160];
    const char *base = strrchr(a->out, '/');
    snprintf(title, sizeof title, "%s: %s", base ? base + 1 : a->out, nb_model_spec(s->model));
    svg_job sj = {&s->hist, title};
    if (!csv || !svg) rc = cli_fail(NB_ERR_NOMEM, "history: out of memory");
    if (!rc) rc = cli_write_atomic(csv, write_csv, &s->hist);
    if (!rc) rc = cli_write_atomic(svg, write_svg, &sj);
    if (!rc && !a->quiet && !s->interrupted) fprintf(stderr, "history: %s, %s\n", csv, svg);
    free(csv);
    free(svg);
    if (rc) return rc;

    nb_metrics mt;
    memset(&mt, 0, sizeof mt);
    int have_test = 0;
    if (s->test && !s->interrupted) {
        if ((rc = cli_evaluate(s->model, s->pp, s->test, a->test, &mt))) return rc;
        have_test = 1;
        /* with --metrics-json - stdout holds the JSON alone */
        int json_out = a->metrics_json && strcmp(a->metrics_json, "-") == 0;
        print_test(json_out ? stderr : stdout, &mt);
        rc = cli_flush_stdout();
    }
    json_job jj = {a, s, have_test ? &mt : NULL, best_epoch(s), kept};
    if (!rc && a->metrics_json) rc = cli_write_atomic(a->metrics_json, write_json, &jj);
    if (have_test) nb_metrics_free(&mt);
    if (rc) return rc;
    if ((a->report || a->report_default) && !s->interrupted && (rc = write_report(a, s))) return rc;
    if (s->interrupted)
        return cli_fail(NB_ERR_INTERRUPTED, "interrupted after %d finished epoch%s; weights so far "
                        "saved to %s, a checkpoint to resume from (--resume) in %s/", s->hist.n,
                        s->hist.n == 1 ? "" : "s", a->out, s->ckpt_dir);
    return NB_OK;
}
