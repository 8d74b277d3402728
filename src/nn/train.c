/* SPDX-License-Identifier: MIT */
/*
 * train.c - the training loop: epochs of seeded, reshuffled mini-batches, one optimizer step
 * per batch over the flat parameter buffer, validation after every epoch, early stopping
 * that restores the best weights, and a stop on the first non-finite loss or gradient.
 * Same data + config + seed + thread count = bit-identical weights: every source of
 * randomness is the seeded nb_rng, and summation orders are fixed.
 */
#include "nn.h"
#include "../autograd/autograd.h"

#include <math.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

nb_train_config nb_train_config_default(void)
{
    nb_train_config cfg;
    memset(&cfg, 0, sizeof cfg); /* what is not set below is 0 or NULL */
    cfg.epochs = NB_EPOCHS_AUTO;
    cfg.batch_size = 64;
    /* Adam trains small tables and images alike without tuning; SGD lr 0.01 did not */
    cfg.optim = nb_optim_config_default(NB_OPTIM_ADAM);
    cfg.shuffle = 1;
    cfg.comm_bucket_bytes = 256 * 1024; /* a few buckets for the reference MLP's 0.9 MB */
    cfg.comm_overlap = 1;
    cfg.comm_check_every = 100;
    return cfg;
}

int nb_train_auto_epochs(int64_t n_rows, int64_t batch_size)
{
    const int64_t target_steps = 2000, lo = 10, hi = 1000;
    if (n_rows < 1 || batch_size < 1) return (int)lo;
    int64_t steps = n_rows / batch_size + (n_rows % batch_size != 0);
    int64_t e = (target_steps + steps - 1) / steps;
    return (int)(e < lo ? lo : e > hi ? hi : e);
}

void nb_history_free(nb_history *h)
{
    if (!h) return;
    nb_free(h->epochs);
    h->epochs = NULL;
    h->n = 0;
    h->epoch_steps = h->epoch_samples = 0;
}

/* nt targets per row against what m's task and outputs need; nb_model_load checks a model
 * file's preprocessing with it too, so a file holds only what training could have made. */
int nb__check_targets(const nb_model *m, int64_t nt, const char *what)
{
    int64_t want = m->task == NB_TASK_CLASSIFY ? 1 : m->n_outputs;
    if (nt != want)
        return nb__fail(NB_ERR_SHAPE, "%s: %lld targets per row, the %s model needs %lld", what,
                        (long long)nt, nb_task_name(m->task), (long long)want);
    return NB_OK;
}

static int check_targets(const nb_model *m, const nb_dataset *d, const char *what)
{
    int st = nb__check_data(m, d, what);
    if (st) return st;
    return nb__check_targets(m, nb_dataset_n_targets(d), what);
}

/* loss and accuracy of m on d, in batches of `rows` rows (the training batch size, so the
 * graph's memory plan does not grow for validation) */
static int score(nb_model *m, const nb_dataset *d, int64_t rows, double *loss, double *acc)
{
    double total = 0, correct = 0;
    int64_t n = nb_dataset_n_rows(d), nt = nb_dataset_n_targets(d);
    int st;
    nb_graph_set_training(m->g, 0); /* dropout off, batch norm on running statistics */
    for (int64_t first = 0; first < n; first += rows) {
        int64_t cnt = n - first < rows ? n - first : rows;
        if ((st = nb__model_batch(m, d, NULL, first, cnt, 1))) return st;
        nb_view lv;
        nb_graph_value(m->g, m->loss, &lv);
        total += (double)lv.data[0] * (double)cnt;
        correct += nb__batch_correct(m, cnt, nt);
    }
    nb_graph_set_training(m->g, 1);
    *loss = total / (double)n;
    *acc = correct / ((double)n * (double)(m->task == NB_TASK_MULTILABEL ? nt : 1));
    return NB_OK;
}

/* The history grows as epochs finish: --epochs 1000000000 is in range, and preallocating it
 * asked for 64 GB before the first step. nb_history (public) has no capacity field, so the
 * capacity is a function of the count: 16, then the next power of two (hist_cap). */
static size_t hist_cap(size_t n)
{
    size_t c = 16;
    while (c < n) c *= 2;
    return c;
}

int nb__grow_history(nb_history *h, int n)
{
    if (h->epochs && (size_t)n <= hist_cap((size_t)h->n)) return NB_OK;
    nb_epoch_stats *p = nb__realloc(h->epochs, hist_cap((size_t)n) * sizeof *p);
    if (!p) return nb__fail(NB_ERR_NOMEM, "train: out of memory for the history of %d epochs", n);
    h->epochs = p;
    return NB_OK;
}

/* Moving the next batch's rows into the cache (L2) while this step computes: they are random
 * rows of the dataset, each otherwise a wait on memory when the gather reads it (~15% of a
 * batch-1 logistic regression's step). The prefetches (nb_dataset_prefetch) are issued a few
 * at a time at the step's phase boundaries: a core tracks only ~12 outstanding misses, and a
 * burst of more stalls it just as the gather would. Speed only: nothing reads what it fetches. */
#define PREFETCH_LINES 12 /* cache lines per call */

/* name the parameter tensor holding the first non-finite gradient */
static int nonfinite_grad(nb_model *m, const float *grads, int e, int64_t step)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s", nb_errmsg());
    for (int i = 0; i < m->n_ptensors; i++) {
        nb_param_info pi;
        if (nb_model_param_info(m, i, &pi) || !pi.trainable) continue;
        for (size_t j = 0; j < pi.n; j++)
            if (!isfinite(grads[pi.offset + j]))
                return nb__fail(NB_ERR_NUMERIC, "epoch %d, step %lld: the gradient of %s[%zu] is %g; training stopped (weights are those before this step; try a smaller nb_optim_config.lr or nb_optim_config.clip_norm)",
                                e + 1, (long long)step + 1, pi.name, j, (double)grads[pi.offset + j]);
    }
    return nb__fail(NB_ERR_NUMERIC, "epoch %d, step %lld: %s", e + 1, (long long)step + 1, msg);
}

/* An activation after the output layer (the last dense or conv layer) changes the logits the
 * task's loss reads, which already applies the output activation: "dense 3; relu" clips
 * every negative logit to 0 and trains badly without any error. Refused, except identity
 * (a no-op) and a last softmax (classify) or sigmoid (binary, multilabel), which the model
 * takes as the output activation itself (docs/SPEC.md). */
static int check_output_activation(const nb_model *m)
{
    int n = nb_model_n_layers(m), out = -1;
    nb_layer_info li, oi;
    for (int i = 0; i < n; i++)
        if (!nb_model_layer_info(m, i, &li) && (li.type == NB_LAYER_DENSE || li.type == NB_LAYER_CONV2D)) out = i;
    if (out < 0 || nb_model_layer_info(m, out, &oi)) return NB_OK;
    for (int i = out + 1; i < n; i++) {
        if (nb_model_layer_info(m, i, &li)) continue;
        if (li.type == NB_LAYER_ACTIVATION) {
            if (li.op == NB_OP_IDENTITY) continue;
            if (i == n - 1 && ((m->task == NB_TASK_CLASSIFY && li.op == NB_OP_SOFTMAX) ||
                               ((m->task == NB_TASK_BINARY || m->task == NB_TASK_MULTILABEL) && li.op == NB_OP_SIGMOID)))
                continue;
        } else if (li.type != NB_LAYER_PRELU) {
            continue;
        }
        const char *what = m->task == NB_TASK_CLASSIFY ? "already applies softmax in its loss"
                         : m->task == NB_TASK_REGRESS  ? "predicts the output layer's values as they are (a linear output)"
                                                       : "already applies sigmoid in its loss";
        /* NB_ERR_FORMAT like every other fault of a spec (the CLI's exit 5): the layer
         * sequence is wrong for its task, whichever way the model was built */
        return nb__fail(NB_ERR_FORMAT, "train: layer %d (%s) follows the output layer %d (%s): the %s task %s; remove '%s' "
                                    "(an activation belongs between layers)",
                        i, li.text, out, oi.text, nb_task_name(m->task), what, li.text);
    }
    return NB_OK;
}

/* the index of the first batch-norm layer that normalises one value per channel and sample
 * (after a dense layer, or a conv with 1x1 output): a 1-row batch gives it one value per
 * channel, which it cannot train on. -1 when there is none. */
static int bn_one_value_layer(const nb_model *m)
{
    for (int i = 0; i < nb_model_n_layers(m); i++) {
        nb_layer_info li;
        if (nb_model_layer_info(m, i, &li) || li.type != NB_LAYER_BATCHNORM) continue;
        int64_t per = 1;
        for (int k = 1; k < li.out_rank; k++) per *= li.out_shape[k];
        if (per == 1) return i;
    }
    return -1;
}

/* the loss went non-finite: the weights of before this step are reported as such only when
 * they are finite; an earlier step whose update overflowed a weight (a finite gradient times
 * a huge learning rate) shows only here, and its weights cannot be restored */
static int nonfinite_loss(nb_model *m, int e, int64_t step, float loss)
{
    for (int i = 0; i < m->n_ptensors; i++) {
        nb_param_info pi;
        if (nb_model_param_info(m, i, &pi) || !pi.trainable) continue;
        for (size_t j = 0; j < pi.n; j++)
            if (!isfinite(pi.data[j]))
                return nb__fail(NB_ERR_NUMERIC, "epoch %d, step %lld: the loss is %g: the previous step's update made %s[%zu] %g; training stopped (the weights are not finite; try a smaller nb_optim_config.lr or nb_optim_config.clip_norm)",
                                e + 1, (long long)step + 1, (double)loss, pi.name, j, (double)pi.data[j]);
    }
    return nb__fail(NB_ERR_NUMERIC, "epoch %d, step %lld: the loss is %g; training stopped (weights are those before this step; try a smaller nb_optim_config.lr or nb_optim_config.clip_norm)",
                    e + 1, (long long)step + 1, (double)loss);
}

int nb_model_train(nb_model *m, const nb_dataset *train, const nb_dataset *val,
                   const nb_train_config *user_cfg, nb_history *hist)
{
    int st;
    nb_history local = {0};
    nb_history *h = hist ? hist : &local;
    memset(h, 0, sizeof *h);
    if (!user_cfg) return nb__fail(NB_ERR_ARG, "train: config is NULL");
    if ((st = check_targets(m, train, "training data"))) return st;
    if (val && (st = check_targets(m, val, "validation data"))) return st;
    if ((st = check_output_activation(m))) return st;
    /* the model file must be writable after the run: its metadata (spec, the data's categories
     * and class names) is checked now, not after the last epoch */
    if ((st = nb__model_write(m, NULL, user_cfg->preproc, NULL, 0, NULL, NULL, 0))) return nb__fail_prefix(st, "train");
    if (user_cfg->epochs < NB_EPOCHS_AUTO)
        return nb__fail(NB_ERR_ARG, "train: nb_train_config.epochs %d must be >= 0 (or NB_EPOCHS_AUTO)", user_cfg->epochs);
    /* the rest of the run (history, checkpoints, schedule) sees the resolved epoch count */
    nb_train_config resolved = *user_cfg;
    const nb_train_config *cfg = &resolved;
    if (resolved.epochs == NB_EPOCHS_AUTO) {
        resolved.epochs = nb_train_auto_epochs(nb_dataset_n_rows(train), resolved.batch_size);
        if (resolved.optim.total_epochs == 0) resolved.optim.total_epochs = resolved.epochs;
    }
    if (cfg->batch_size < 1) return nb__fail(NB_ERR_ARG, "train: nb_train_config.batch_size %lld must be >= 1", (long long)cfg->batch_size);
    if (cfg->early_stop < 0) return nb__fail(NB_ERR_ARG, "train: nb_train_config.early_stop %d must be >= 0", cfg->early_stop);
    if (cfg->checkpoint_every_epochs < 0 || cfg->checkpoint_every_steps < 0 || cfg->checkpoint_keep < 0)
        return nb__fail(NB_ERR_ARG, "train: checkpoint intervals and count must be >= 0");
    nb__run r;
    memset(&r, 0, sizeof r);
    r.m = m, r.cfg = cfg, r.h = h, r.n = nb_dataset_n_rows(train);
    r.B = cfg->batch_size < r.n ? cfg->batch_size : r.n;
    int bn = bn_one_value_layer(m);
    if (bn >= 0 && r.B == 1)
        return nb__fail(NB_ERR_ARG, "train: layer %d (batchnorm) would see one value per channel in a batch of 1 row (%s); "
                                    "batch norm needs >= 2 rows per batch: %s", bn,
                        r.n == 1 ? "the training data has 1 row" : "nb_train_config.batch_size is 1",
                        r.n == 1 ? "train on more rows, or remove 'batchnorm'" : "set nb_train_config.batch_size >= 2");
    /* the rows trained per epoch: a 1-row last batch is skipped (see nb_model_train in nn.h) */
    int64_t n_run = bn >= 0 && r.n % r.B == 1 ? r.n - 1 : r.n;
    r.np = nb_model_param_count(m);
    float *params = nb_model_params(m), *grads;
    {
        size_t ng;
        grads = nb_graph_grads(m->g, &ng);
    }
    int64_t n = r.n, B = r.B, nt = nb_dataset_n_targets(train);
    size_t np = r.np;
    int64_t *idx = nb__alloc_array((size_t)n, sizeof *idx);
    /* zeroed: a checkpoint before the first best epoch saves it, and must not save stale memory */
    r.best = val && cfg->early_stop ? nb__calloc(np ? np : 1, sizeof(float)) : NULL;
    if (!idx || (val && cfg->early_stop && !r.best)) {
        st = NB_ERR_NOMEM;
        goto done;
    }
    if ((st = nb_optim_create(&cfg->optim, np, &r.opt))) goto done;
    if ((st = nb__model_bufs(m, B, nt))) goto done;
    h->epoch_samples = n_run;
    h->epoch_steps = (n_run + B - 1) / B;
    nb_rng rng;
    nb_rng_seed(&rng, cfg->seed);
    r.epoch_rng = rng;
    /* dropout masks get their own stream, derived from the same seed */
    nb_graph_seed(m->g, cfg->seed ^ 0x6a09e667f3bcc909ULL);
    r.best_loss = (double)INFINITY;
    int resumed = 0;
    if (cfg->resume) {
        if ((st = nb__ckpt_load(&r, cfg->resume))) goto done;
        resumed = 1;

    }
    nb_graph_set_training(m->g, 1);
    for (int e = r.epoch; e < cfg->epochs; e++) {
        double t0 = now_s();
        if (!(resumed && e == r.epoch)) { /* a fresh epoch; a resumed one keeps its position */
            r.epoch = e, r.step = 0, r.total = r.correct = 0;
            r.epoch_rng = rng;
        }
        /* this epoch's order is a function of the generator at its start, so a resumed run
         * redraws exactly the permutation the interrupted run was in */
        rng = r.epoch_rng;
        for (int64_t i = 0; i < n; i++) idx[i] = i;
        if (cfg->shuffle) nb_shuffle_indices(&rng, idx, n);
        if ((st = nb_optim_set_epoch(r.opt, e))) goto done;
        int stop_pending = 0;
        for (int64_t first = r.step * B; first < n_run; first += B) {
            int64_t cnt = n_run - first < B ? n_run - first : B, step = r.step;
            const int64_t *next = idx + first + cnt; /* the next batch's rows */
            int64_t n_next = first + cnt < n_run ? (n_run - first - cnt < B ? n_run - first - cnt : B) : 0, pf = 0;
            nb_dataset_prefetch(train, next, n_next, PREFETCH_LINES, &pf);
            nb__graph_defer_zero_grad(m->g); /* paid by the backward below (or at done) */
            if ((st = nb__model_batch(m, train, idx + first, 0, cnt, 1))) goto done;
            nb_dataset_prefetch(train, next, n_next, PREFETCH_LINES, &pf);
            nb_view lv;
            nb_graph_value(m->g, m->loss, &lv);
            float loss = lv.data[0];
            if (!isfinite(loss)) {
                st = nonfinite_loss(m, e, step, loss);
                goto done;
            }
            if ((st = nb_graph_backward(m->g, m->loss))) goto done;
            nb_dataset_prefetch(train, next, n_next, PREFETCH_LINES, &pf);
            if ((st = nb_optim_step(r.opt, params, grads, np))) {
                st = st == NB_ERR_NUMERIC ? nonfinite_grad(m, grads, e, step) : nb__fail_prefix(st, "epoch %d, step %lld", e + 1, (long long)step + 1);
                goto done;
            }
            nb_dataset_prefetch(train, next, n_next, PREFETCH_LINES, &pf);
            nb__model_step_layers(m);
            r.total += (double)loss * (double)cnt;
            r.correct += nb__batch_correct(m, cnt, nt);
            r.step++;
            r.global_step++;
            int stop = 0;
            if (cfg->progress) {
                nb_progress p = {e + 1, cfg->epochs, first + cnt, n_run, r.total / (double)(first + cnt), now_s() - t0, NULL, (double)loss};
                stop = cfg->progress(cfg->progress_ud, &p);
            }
            int last = first + cnt >= n_run;
            if (cfg->checkpoint_dir && !last && (stop || (cfg->checkpoint_every_steps && r.global_step % cfg->checkpoint_every_steps == 0)))
                if ((st = nb__ckpt_save(&r, n))) goto done;
            if (stop && !last) {
                st = nb__fail(NB_ERR_INTERRUPTED, "training interrupted in epoch %d after step %lld", e + 1, (long long)step + 1);
                goto done;
            }
            stop_pending = stop; /* on the epoch's last step: finish the epoch, then stop */
        }
        if ((st = nb__grow_history(h, h->n + 1))) goto done;
        nb_epoch_stats *es = &h->epochs[h->n++];
        es->epoch = e + 1;
        es->train_loss = r.total / (double)n_run;
        es->train_acc = r.correct / ((double)n_run * (double)(m->task == NB_TASK_MULTILABEL ? nt : 1));
        es->val_loss = es->val_acc = (double)NAN;
        es->lr = (double)nb_optim_lr(r.opt);
        if (val && (st = score(m, val, B, &es->val_loss, &es->val_acc))) goto done;
        es->seconds = now_s() - t0;
        es->samples_per_s = (double)n_run / (es->seconds > 0 ? es->seconds : 1e-9);
        h->best_epoch = e + 1;
        if (val) {
            if (es->val_loss < r.best_loss) {
                r.best_loss = es->val_loss;
                r.since_best = 0;
                if (r.best) memcpy(r.best, params, np * sizeof(float));
            } else {
                r.since_best++;
            }
        }
        int stop = stop_pending;
        if (cfg->progress) {
            nb_progress p = {e + 1, cfg->epochs, n_run, n_run, es->train_loss, es->seconds, es, (double)NAN};
            stop |= cfg->progress(cfg->progress_ud, &p);
        }
        /* the epoch is complete: a checkpoint here resumes at the start of the next one */
        r.epoch = e + 1, r.step = 0, r.total = r.correct = 0;
        r.epoch_rng = rng;
        int early = r.best && r.since_best >= cfg->early_stop;
        if (cfg->checkpoint_dir && !early && e + 1 < cfg->epochs &&
            (stop || (cfg->checkpoint_every_epochs && (e + 1) % cfg->checkpoint_every_epochs == 0) ||
             (cfg->checkpoint_every_steps && r.global_step % cfg->checkpoint_every_steps == 0)))
            if ((st = nb__ckpt_save(&r, n))) goto done;
        if (stop && e + 1 < cfg->epochs) { /* after the last epoch there is nothing to stop */
            st = nb__fail(NB_ERR_INTERRUPTED, "training interrupted after epoch %d", e + 1);
            goto done;
        }
        if (early) {
            h->stopped_early = 1;
            break;
        }
    }
    if (val && h->n > 0) { /* report (and with early stopping, restore) the best epoch */
        for (int i = 0; i < h->n; i++)
            if (h->epochs[i].val_loss == r.best_loss) {
                h->best_epoch = i + 1;
                break;
            }
        if (r.best && r.best_loss < (double)INFINITY) memcpy(params, r.best, np * sizeof(float));
    }
done:
    nb__graph_flush_zero_grad(m->g); /* a step that stopped before its backward */
    nb_graph_set_training(m->g, 0); /* a trained model predicts in evaluation mode */
    nb_optim_free(r.opt);
    nb_free(idx);
    nb_free(r.best);
    if (h == &local) nb_history_free(&local);
    return st;
}
