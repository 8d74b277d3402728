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
#include "../ops/ops.h" /* nb__threads: the thread count every rank must share */
#include "../optim/optim.h"

#include <math.h>
#include <string.h>
#include <time.h>

/* The optimizer's update claims each tensor's first half on the calling thread and its
 * second half on the workers (nb__optim_set_spans), as the products split the weights. */
static int optim_layout(const nb_model *m, nb_optim *o)
{
    int n;
    nb__param_span *sp = nb__graph_param_spans_new(m->g, &n);
    size_t *v = sp ? nb__alloc_array(2 * (size_t)(n > 0 ? n : 1), sizeof *v) : NULL;
    int st = v ? NB_OK : nb__fail(NB_ERR_NOMEM, "train: out of memory for %d parameter spans", n);
    if (!st) {
        for (int i = 0; i < n; i++) v[i] = sp[i].off, v[n + i] = sp[i].n;
        nb__optim_set_spans(o, v, v + n, n);
    }
    nb_free(sp);
    nb_free(v);
    return st;
}

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

/* the loss sum and correct count of rows [lo, hi) of d, in batches of `rows` rows (the training
 * batch size, so the graph's memory plan does not grow for validation) */
static int score_rows(nb_model *m, const nb_dataset *d, int64_t rows, int64_t lo, int64_t hi, double sums[2])
{
    int64_t nt = nb_dataset_n_targets(d);
    int st = NB_OK;
    sums[0] = sums[1] = 0;
    nb_graph_set_training(m->g, 0); /* dropout off, batch norm on running statistics */
    for (int64_t first = lo; first < hi; first += rows) {
        int64_t cnt = hi - first < rows ? hi - first : rows;
        if ((st = nb__model_batch(m, d, NULL, first, cnt, 1))) break;
        nb_view lv;
        nb_graph_value(m->g, m->loss, &lv);
        sums[0] += (double)lv.data[0] * (double)cnt;
        sums[1] += nb__batch_correct(m, cnt, nt);
    }
    nb_graph_set_training(m->g, 1);
    return st;
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

/* the checks every rank makes alone before a run; a distributed run agrees on them */
static int check_run(nb_model *m, const nb_dataset *train, const nb_dataset *val, const nb_train_config *cfg, int bn)
{
    int st, N = cfg->comm && cfg->comm->size > 1 ? cfg->comm->size : 1;
    if ((st = check_targets(m, train, "training data"))) return st;
    if (val && (st = check_targets(m, val, "validation data"))) return st;
    if ((st = check_output_activation(m))) return st;
    /* the model file must be writable after the run: its metadata (spec, the data's categories
     * and class names) is checked now, not after the last epoch */
    if ((st = nb__model_write(m, NULL, cfg->preproc, NULL, 0, NULL, NULL, 0))) return nb__fail_prefix(st, "train");
    if (cfg->epochs < NB_EPOCHS_AUTO)
        return nb__fail(NB_ERR_ARG, "train: nb_train_config.epochs %d must be >= 0 (or NB_EPOCHS_AUTO)", cfg->epochs);
    if (cfg->batch_size < 1) return nb__fail(NB_ERR_ARG, "train: nb_train_config.batch_size %lld must be >= 1", (long long)cfg->batch_size);
    if (cfg->early_stop < 0) return nb__fail(NB_ERR_ARG, "train: nb_train_config.early_stop %d must be >= 0", cfg->early_stop);
    if (cfg->checkpoint_every_epochs < 0 || cfg->checkpoint_every_steps < 0 || cfg->checkpoint_keep < 0)
        return nb__fail(NB_ERR_ARG, "train: checkpoint intervals and count must be >= 0");
    int64_t n = nb_dataset_n_rows(train), B = cfg->batch_size < n ? cfg->batch_size : n;
    if (bn >= 0 && B < 2 * N) {
        if (N > 1)
            return nb__fail(NB_ERR_ARG, "train: layer %d (batchnorm) needs >= 2 rows on each of the %d ranks, a batch of >= %d rows; "
                                        "the batch has %lld: set nb_train_config.batch_size >= %d%s", bn, N, 2 * N, (long long)B, 2 * N,
                            n < 2 * N ? " and train on more rows" : "");
        return nb__fail(NB_ERR_ARG, "train: layer %d (batchnorm) would see one value per channel in a batch of 1 row (%s); "
                                    "batch norm needs >= 2 rows per batch: %s", bn,
                        n == 1 ? "the training data has 1 row" : "nb_train_config.batch_size is 1",
                        n == 1 ? "train on more rows, or remove 'batchnorm'" : "set nb_train_config.batch_size >= 2");
    }
    return NB_OK;
}

/* A distributed run starts from rank 0's parameters, and every rank must train the same
 * model on the same data with the same settings: a cheap fingerprint of each is compared
 * with rank 0's, so a wrong file on one machine is named before it trains into nonsense. */
static int dist_start(nb__run *r, const nb_dataset *train, int64_t nt)
{
    nb__dist *d = r->dist;
    const nb_comm *c = nb__dist_comm(d);
    if (c->broadcast(c->ud, nb_model_params(r->m), r->np * sizeof(float), 0)) return nb__dist_transport_fail(c, "broadcast");
    int64_t n = nb_dataset_n_rows(train), nf = nb_dataset_n_features(train);
    uint64_t dh = 0xcbf29ce484222325ULL;
    float *row = nb__alloc_array((size_t)(nf + nt), sizeof(float));
    int st = row ? NB_OK : NB_ERR_NOMEM;
    for (int64_t k = 0; !st && k < 64 && k < n; k++) { /* 64 rows spread over the data */
        int64_t i = n <= 64 ? k : k * (n - 1) / 63;
        if (!(st = nb_dataset_rows(train, i, 1, row, nt ? row + nf : NULL))) dh = nb__dist_hash(row, (size_t)(nf + nt) * sizeof(float), dh);
    }
    nb_free(row);
    const nb_train_config *cfg = r->cfg;
    uint64_t ch = nb__dist_hash(&cfg->optim.lr, sizeof cfg->optim.lr, 0xcbf29ce484222325ULL);
    ch = nb__dist_hash(&cfg->optim.type, sizeof cfg->optim.type, ch);
    ch = nb__dist_hash(&cfg->seed, sizeof cfg->seed, ch);
    enum { F_ROWS, F_FEAT, F_TGT, F_PARAMS, F_BATCH, F_EPOCHS, F_THREADS, F_SHUFFLE, F_DATA, F_CFG = F_DATA + 4, F_K = F_CFG + 4 };
    static const char *const what[F_K] = {"training rows", "features per row", "targets per row", "parameters", "batch size",
                                          "epochs", "threads (nb_set_threads)", "shuffle", "data", "data", "data", "data",
                                          "optimizer or seed", "optimizer or seed", "optimizer or seed", "optimizer or seed"};
    double mine[F_K] = {(double)n, (double)nf, (double)nt, (double)r->np, (double)r->B, cfg->epochs, nb__threads(), cfg->shuffle != 0};
    nb__dist_hash_pieces(dh, mine + F_DATA);
    nb__dist_hash_pieces(ch, mine + F_CFG);
    double *all = nb__alloc_array((size_t)c->size * F_K, sizeof *all);
    if (!all) st = NB_ERR_NOMEM;
    if ((st = nb_comm_agree(c, st, NULL))) {
        nb_free(all);
        return st;
    }
    st = nb__dist_gather(c, mine, F_K, all);
    for (int q = 1; !st && q < c->size; q++)
        for (int f = 0; f < F_K; f++)
            if (all[(size_t)q * F_K + f] != all[f]) {
                st = f >= F_DATA ? nb__fail(NB_ERR_DIST, "rank %d of %d trains on different %s than rank 0: every rank must load the same data with the same options (docs/DISTRIBUTED.md)",
                                            q, c->size, f < F_CFG ? "data" : "settings (optimizer, learning rate or seed)")
                                 : nb__fail(NB_ERR_DIST, "rank %d of %d has %.17g %s, rank 0 has %.17g: every rank must load the same data with the same options (docs/DISTRIBUTED.md)",
                                            q, c->size, all[(size_t)q * F_K + f], what[f], all[f]);
                break;
            }
    nb_free(all);
    return st;
}

/* Every rank's parameters hashed and compared with rank 0's: the ranks must never drift */
static int dist_drift(const nb__dist *d, const double *all, int64_t step)
{
    int N = nb__dist_size(d);
    for (int q = 1; q < N; q++)
        for (int k = 0; k < 4; k++)
            if (all[(size_t)q * NB__X_K + NB__X_HASH + k] != all[NB__X_HASH + k])
                return nb__fail(NB_ERR_DIST, "after step %lld the parameters of rank %d of %d differ from rank 0's: the ranks drifted "
                                             "(a transport whose all-reduce does not give every rank the same bits?); training stopped",
                                (long long)step, q, N);
    return NB_OK;
}

/* one exchange of figures at an epoch's end or the run's end: stop requests and hashes */
static int dist_sync(nb__run *r, int stop, int hash, int *stop_any)
{
    double mine[NB__X_K] = {0}, *all = nb__alloc_array((size_t)nb__dist_size(r->dist), NB__X_K * sizeof(double));
    if (!all) return nb__fail(NB_ERR_NOMEM, "train: out of memory");
    mine[NB__X_STOP] = stop;
    if (hash) nb__dist_hash_pieces(nb__dist_params_hash(r->dist), mine + NB__X_HASH);
    int st = nb__dist_gather(nb__dist_comm(r->dist), mine, NB__X_K, all);
    *stop_any = 0;
    for (int q = 0; !st && q < nb__dist_size(r->dist); q++) *stop_any |= all[(size_t)q * NB__X_K + NB__X_STOP] != 0;
    if (!st && hash) st = dist_drift(r->dist, all, r->global_step);
    nb_free(all);
    return st;
}

/* checkpoints: rank 0 writes, every rank learns whether it could. Each rank's dropout
 * generator goes in, so a resumed run draws the masks the uninterrupted one would. */
static int checkpoint(nb__run *r, int64_t n)
{
    if (!r->dist) return nb__ckpt_save(r, n);
    const nb_comm *c = nb__dist_comm(r->dist);
    for (int q = 0; q < c->size; q++) {
        r->rank_rngs[q] = *nb_graph_rng(r->m->g);
        if (c->broadcast(c->ud, &r->rank_rngs[q], sizeof r->rank_rngs[q], q)) return nb__dist_transport_fail(c, "broadcast");
    }
    int st = c->rank == 0 ? nb__ckpt_save(r, n) : NB_OK;
    return nb_comm_agree(c, st, NULL);
}

/* the loss and accuracy of the validation data; a distributed run shares the rows over the
 * ranks and adds their sums in rank order */
static int score_all(nb__run *r, const nb_dataset *val, double *loss, double *acc)
{
    int64_t n = nb_dataset_n_rows(val), lo = 0, hi = n, nt = nb_dataset_n_targets(val);
    nb__dist_part(r->dist, n, &lo, &hi);
    double sums[2];
    int st = score_rows(r->m, val, r->B, lo, hi, sums);
    if (r->dist) {
        const nb_comm *c = nb__dist_comm(r->dist);
        if ((st = nb_comm_agree(c, st, NULL))) return st;
        double *all = nb__alloc_array((size_t)c->size, 2 * sizeof(double));
        if (!all) return nb__fail(NB_ERR_NOMEM, "train: out of memory");
        if (!(st = nb__dist_gather(c, sums, 2, all))) {
            sums[0] = sums[1] = 0;
            for (int q = 0; q < c->size; q++) sums[0] += all[2 * q], sums[1] += all[2 * q + 1];
        }
        nb_free(all);
    }
    if (st) return st;
    *loss = sums[0] / (double)n;
    *acc = sums[1] / ((double)n * (double)(r->m->task == NB_TASK_MULTILABEL ? nt : 1));
    return NB_OK;
}

int nb_model_train(nb_model *m, const nb_dataset *train, const nb_dataset *val,
                   const nb_train_config *user_cfg, nb_history *hist)
{
    int st;
    nb_history local = {0};
    nb_history *h = hist ? hist : &local;
    memset(h, 0, sizeof *h);
    if (!user_cfg) return nb__fail(NB_ERR_ARG, "train: config is NULL");
    const nb_comm *comm = user_cfg->comm && user_cfg->comm->size > 1 ? user_cfg->comm : NULL;
    /* the rest of the run (history, checkpoints, schedule) sees the resolved epoch count */
    nb_train_config resolved = *user_cfg;
    const nb_train_config *cfg = &resolved;
    int bn = m && m->built ? bn_one_value_layer(m) : -1;
    st = check_run(m, train, val, cfg, bn);
    if (comm) st = nb_comm_agree(comm, st, NULL); /* collective 1: every rank's checks */
    if (st) return st;
    if (resolved.epochs == NB_EPOCHS_AUTO) {
        resolved.epochs = nb_train_auto_epochs(nb_dataset_n_rows(train), resolved.batch_size);
        if (resolved.optim.total_epochs == 0) resolved.optim.total_epochs = resolved.epochs;
    }
    nb__run r;
    memset(&r, 0, sizeof r);
    r.m = m, r.cfg = cfg, r.h = h, r.n = nb_dataset_n_rows(train);
    r.B = cfg->batch_size < r.n ? cfg->batch_size : r.n;
    const int64_t N = comm ? comm->size : 1;
    /* the rows trained per epoch: a last batch that would give a rank 1 row is skipped (see
     * nb_model_train in nn.h); with one process, a 1-row last batch */
    int64_t n_run = bn >= 0 && r.n % r.B != 0 && r.n % r.B < 2 * N ? r.n - r.n % r.B : r.n;
    r.np = nb_model_param_count(m);
    float *params = nb_model_params(m), *grads;
    {
        size_t ng;
        grads = nb_graph_grads(m->g, &ng);
    }
    int64_t n = r.n, B = r.B, nt = nb_dataset_n_targets(train);
    size_t np = r.np;
    double *xall = NULL; /* a step's figures of every rank */
    int64_t *idx = nb__alloc_array((size_t)n, sizeof *idx);
    /* zeroed: a checkpoint before the first best epoch saves it, and must not save stale memory */
    r.best = val && cfg->early_stop ? nb__calloc(np ? np : 1, sizeof(float)) : NULL;
    if (!idx || (val && cfg->early_stop && !r.best)) st = nb__fail(NB_ERR_NOMEM, "train: out of memory for %lld row indices", (long long)n);
    if (!st && comm && (!(r.rank_rngs = nb__alloc_array((size_t)N, sizeof *r.rank_rngs)) ||
                        !(xall = nb__alloc_array((size_t)N, NB__X_K * sizeof *xall))))
        st = nb__fail(NB_ERR_NOMEM, "train: out of memory");
    if (!st) st = nb_optim_create(&cfg->optim, np, &r.opt);
    if (!st) st = optim_layout(m, r.opt);
    if (!st) st = nb__model_bufs(m, B, nt);
    if (!st) st = nb__dist_create(&r.dist, cfg, m);
    h->epoch_samples = n_run;
    h->epoch_steps = (n_run + B - 1) / B;
    nb_rng rng;
    nb_rng_seed(&rng, cfg->seed);
    r.epoch_rng = rng;
    /* dropout masks get their own stream, derived from the same seed; each rank its own */
    nb_graph_seed(m->g, cfg->seed ^ 0x6a09e667f3bcc909ULL ^ ((uint64_t)(comm ? comm->rank : 0) * 0x9e3779b97f4a7c15ULL));
    r.best_loss = (double)INFINITY;
    int resumed = 0;
    if (!st && cfg->resume) {
        st = nb__ckpt_load(&r, cfg->resume);
        resumed = !st;
    }
    if (comm) {
        st = nb_comm_agree(comm, st, NULL); /* collective 2: every rank set up (and resumed) */
        if (!st) st = dist_start(&r, train, nt);
    }
    if (st) goto done;
    nb_graph_set_training(m->g, 1);
    const int K = cfg->comm_check_every;
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
        int stop_pending = 0, stop_local = 0;
        for (int64_t first = r.step * B; first < n_run; first += B) {
            int64_t cnt = n_run - first < B ? n_run - first : B, step = r.step, lo, hi;
            nb__dist_part(r.dist, cnt, &lo, &hi);
            const int64_t mine = hi - lo;
            /* the next batch's rows of this rank */
            int64_t ncnt = first + cnt < n_run ? (n_run - first - cnt < B ? n_run - first - cnt : B) : 0, nlo, nhi, pf = 0;
            nb__dist_part(r.dist, ncnt, &nlo, &nhi);
            const int64_t *next = idx + first + cnt + nlo, n_next = nhi - nlo;
            nb_dataset_prefetch(train, next, n_next, PREFETCH_LINES, &pf);
            nb__graph_defer_zero_grad(m->g); /* paid by the backward below (or at done) */
            float loss = 0;
            double correct = 0;
            int lst = NB_OK; /* this rank's own failure, agreed on below in a distributed run */
            if (r.dist) nb__dist_begin_step(r.dist, mine, cnt);
            if (mine > 0) {
                lst = nb__model_batch(m, train, idx + first + lo, 0, mine, 1);
                nb_dataset_prefetch(train, next, n_next, PREFETCH_LINES, &pf);
                if (!lst) {
                    nb_view lv;
                    nb_graph_value(m->g, m->loss, &lv);
                    loss = lv.data[0];
                    if (!r.dist && !isfinite(loss)) {
                        st = nonfinite_loss(m, e, step, loss);
                        goto done;
                    }
                    correct = nb__batch_correct(m, mine, nt);
                    lst = nb_graph_backward(m->g, m->loss);
                }
                if (lst && !r.dist) {
                    st = lst;
                    goto done;
                }
                nb_dataset_prefetch(train, next, n_next, PREFETCH_LINES, &pf);
            } else {
                nb__graph_flush_zero_grad(m->g); /* no rows here this step: a zero gradient */
            }
            /* the step's loss summed over its rows, and its correct count: every rank's in a
             * distributed run */
            double step_sum = (double)loss * (double)cnt, step_correct = correct;
            if (r.dist) {
                char msg[sizeof(nb__dist_msg)];
                snprintf(msg, sizeof msg, "%s", lst ? nb_errmsg() : "");
                if ((st = nb__dist_reduce_grads(r.dist))) goto done;
                double x[NB__X_K] = {(double)loss * (double)mine, correct, lst, stop_local};
                const int check = K > 0 && r.global_step % K == 0;
                if (check) nb__dist_hash_pieces(nb__dist_params_hash(r.dist), x + NB__X_HASH);
                if ((st = nb__dist_exchange(r.dist, x, xall))) goto done;
                int any_fail = 0, stop_any = 0, bad = -1;
                step_sum = step_correct = 0;
                for (int q = 0; q < N; q++) {
                    const double *xq = xall + (size_t)q * NB__X_K;
                    any_fail |= xq[NB__X_STATUS] != 0;
                    stop_any |= xq[NB__X_STOP] != 0;
                    if (bad < 0 && !isfinite(xq[NB__X_LOSS])) bad = q;
                    step_sum += xq[NB__X_LOSS];
                    step_correct += xq[NB__X_CORRECT];
                }
                if (any_fail) { /* every rank learns the failing rank's message */
                    st = nb_comm_agree(nb__dist_comm(r.dist), lst, msg);
                    st = nb__fail_prefix(st, "epoch %d, step %lld", e + 1, (long long)step + 1);
                    goto done;
                }
                if (bad >= 0) {
                    st = nb__fail(NB_ERR_NUMERIC, "epoch %d, step %lld: the loss of rank %d's rows is %g; training stopped (weights are those before this step; try a smaller nb_optim_config.lr or nb_optim_config.clip_norm)",
                                  e + 1, (long long)step + 1, bad, xall[(size_t)bad * NB__X_K + NB__X_LOSS]);
                    goto done;
                }
                if (check && (st = dist_drift(r.dist, xall, r.global_step))) goto done;
                stop_local = stop_any; /* a stop asked on any rank at the last step: all stop now */
            }
            if ((st = nb_optim_step(r.opt, params, grads, np))) {
                st = st == NB_ERR_NUMERIC ? nonfinite_grad(m, grads, e, step) : nb__fail_prefix(st, "epoch %d, step %lld", e + 1, (long long)step + 1);
                goto done;
            }
            nb_dataset_prefetch(train, next, n_next, PREFETCH_LINES, &pf);
            nb__model_step_layers(m);
            if (r.dist && (st = nb__dist_sync_fixed(r.dist, mine, cnt))) goto done;
            r.total += step_sum;
            r.correct += step_correct;
            r.step++;
            r.global_step++;
            int stop = 0;
            if (r.dist) { /* the stop agreed above; this step's own request goes in the next exchange */
                stop = stop_local;
                stop_local = 0;
            }
            if (cfg->progress) {
                nb_progress p = {e + 1, cfg->epochs, first + cnt, n_run, r.total / (double)(first + cnt), now_s() - t0, NULL, step_sum / (double)cnt};
                int ask = cfg->progress(cfg->progress_ud, &p);
                if (r.dist) stop_local = ask;
                else stop = ask;
            }
            int last = first + cnt >= n_run;
            if (cfg->checkpoint_dir && !last && (stop || (cfg->checkpoint_every_steps && r.global_step % cfg->checkpoint_every_steps == 0)))
                if ((st = checkpoint(&r, n))) goto done;
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
        if (val && (st = score_all(&r, val, &es->val_loss, &es->val_acc))) goto done;
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
        if (r.dist) { /* the requests of this epoch's last step and its end, agreed */
            int any;
            if ((st = dist_sync(&r, stop | stop_local, 0, &any))) goto done;
            stop = any;
        }
        /* the epoch is complete: a checkpoint here resumes at the start of the next one */
        r.epoch = e + 1, r.step = 0, r.total = r.correct = 0;
        r.epoch_rng = rng;
        int early = r.best && r.since_best >= cfg->early_stop;
        if (cfg->checkpoint_dir && !early && e + 1 < cfg->epochs &&
            (stop || (cfg->checkpoint_every_epochs && (e + 1) % cfg->checkpoint_every_epochs == 0) ||
             (cfg->checkpoint_every_steps && r.global_step % cfg->checkpoint_every_steps == 0)))
            if ((st = checkpoint(&r, n))) goto done;
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
    if (r.dist) { /* the last proof that the ranks hold the same weights */
        int any;
        st = dist_sync(&r, 0, 1, &any);
    }
done:
    if (r.dist) nb__dist_stats(r.dist, h);
    nb__dist_free(r.dist);
    nb__graph_flush_zero_grad(m->g); /* a step that stopped before its backward */
    nb_graph_set_training(m->g, 0); /* a trained model predicts in evaluation mode */
    nb_optim_free(r.opt);
    nb_free(idx);
    nb_free(xall);
    nb_free(r.rank_rngs);
    nb_free(r.best);
    if (h == &local) nb_history_free(&local);
    return st;
}
