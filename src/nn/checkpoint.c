/* SPDX-License-Identifier: MIT */
/*
 * checkpoint.c - training checkpoints: a model file (it loads with nb_model_load) whose extra
 * "train.*" tensors hold the optimizer state and the early-stopping weights, and whose
 * "checkpoint" metadata (JSON) holds the position (epoch, step), the generators, the running
 * sums and the history. Doubles travel as C99 hex-float strings and generator words as hex,
 * so a resumed run continues bit for bit. Files are written atomically; the newest K kept.
 */
#include "nn.h"
#include "json.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CKPT_VERSION 1

static void put_hex_double(nb__buf *b, const char *key, double v)
{
    char tmp[64];
    nb__snprintf(tmp, sizeof tmp, "%a", v);
    nb__buf_printf(b, ",\"%s\":\"%s\"", key, tmp);
}

static void put_rng(nb__buf *b, const char *key, const nb_rng *r)
{
    nb__buf_printf(b, ",\"%s\":[", key);
    for (int i = 0; i < 4; i++) nb__buf_printf(b, "%s\"%016llx\"", i ? "," : "", (unsigned long long)r->s[i]);
    nb__buf_puts(b, "]");
}

static int state_json(const nb__run *r, int64_t n_train, nb__buf *b)
{
    const nb_optim_config *oc = nb_optim_config_get(r->opt);
    nb__buf_printf(b, "{\"version\":%d,\"epoch\":%d,\"step\":%lld,\"global_step\":%lld,\"n_train\":%lld,\"batch\":%lld",
                   CKPT_VERSION, r->epoch, (long long)r->step, (long long)r->global_step, (long long)n_train, (long long)r->B);
    nb__buf_printf(b, ",\"optimizer\":\"%s\",\"optim_steps\":%lld,\"since_best\":%d", nb_optim_type_name(oc->type),
                   (long long)nb_optim_steps(r->opt), r->since_best);
    put_hex_double(b, "total", r->total);
    put_hex_double(b, "correct", r->correct);
    put_hex_double(b, "best_loss", r->best_loss);
    put_rng(b, "epoch_rng", &r->epoch_rng);
    put_rng(b, "graph_rng", nb_graph_rng(r->m->g));
    /* a distributed run's: its size, and the dropout generators of ranks 1.. (rank 0's above) */
    int N = nb__dist_size(r->dist);
    if (N > 1) {
        nb__buf_printf(b, ",\"ranks\":%d", N);
        for (int q = 1; q < N; q++) {
            char key[32];
            snprintf(key, sizeof key, "graph_rng_%d", q);
            put_rng(b, key, &r->rank_rngs[q]);
        }
    }
    nb__buf_printf(b, ",\"best_epoch\":%d,\"history\":[", r->h->best_epoch);
    for (int i = 0; i < r->h->n; i++) {
        const nb_epoch_stats *e = &r->h->epochs[i];
        const double v[7] = {e->train_loss, e->train_acc, e->val_loss, e->val_acc, e->lr, e->seconds, e->samples_per_s};
        nb__buf_printf(b, "%s[%d", i ? "," : "", e->epoch);
        for (int k = 0; k < 7; k++) {
            char tmp[64];
            nb__snprintf(tmp, sizeof tmp, "%a", v[k]);
            nb__buf_printf(b, ",\"%s\"", tmp);
        }
        nb__buf_puts(b, "]");
    }
    nb__buf_puts(b, "]}");
    return b->status;
}

static int is_ckpt_name(const char *name)
{
    size_t len = strlen(name);
    if (len != 5 + 12 + 12 || strncmp(name, "ckpt-", 5) != 0 || strcmp(name + 17, ".safetensors") != 0) return 0;
    for (int i = 5; i < 17; i++)
        if (name[i] < '0' || name[i] > '9') return 0;
    return 1;
}

/* delete all but the newest keep checkpoints of dir (names sort by global step): repeatedly
 * remove the smallest name, so rotation needs no memory and cannot fail half-way */
static void rotate(const char *dir, int keep)
{
    for (;;) {
        DIR *d = opendir(dir);
        if (!d) return;
        char oldest[32] = "";
        int n = 0;
        struct dirent *de;
        while ((de = readdir(d)))
            if (is_ckpt_name(de->d_name)) {
                n++;
                if (!oldest[0] || strcmp(de->d_name, oldest) < 0) memcpy(oldest, de->d_name, 30); /* 29 chars + NUL */
            }
        closedir(d);
        if (n <= keep) return;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, oldest);
        if (unlink(path) != 0) return;
    }
}

int nb__ckpt_save(nb__run *r, int64_t n_train)
{
    const nb_train_config *cfg = r->cfg;
    int st, n_state = nb_optim_state_count(r->opt), n_extra = 0;
    char path[4096], names[8][64];
    nb_st_entry extra[9];
    nb__buf meta = {0};
    if (mkdir(cfg->checkpoint_dir, 0777) != 0 && errno != EEXIST)
        return nb__fail(NB_ERR_IO, "%s: cannot create checkpoint directory: %s", cfg->checkpoint_dir, strerror(errno));
    int len = snprintf(path, sizeof path, "%s/ckpt-%012lld.safetensors", cfg->checkpoint_dir, (long long)r->global_step);
    if (len < 0 || (size_t)len >= sizeof path) return nb__fail(NB_ERR_ARG, "%s: checkpoint path too long", cfg->checkpoint_dir);
    for (int i = 0; i < n_state && n_extra < 8; i++) {
        const char *name;
        float *data;
        size_t n;
        if ((st = nb_optim_state(r->opt, i, &name, &data, &n))) return st;
        snprintf(names[n_extra], sizeof names[0], "train.optim.%s", name);
        extra[n_extra] = (nb_st_entry){names[n_extra], {1, {(int64_t)n}, n, data}};
        n_extra++;
    }
    if (r->best) extra[n_extra++] = (nb_st_entry){"train.best", {1, {(int64_t)r->np}, r->np, r->best}};
    if ((st = state_json(r, n_train, &meta))) {
        nb__buf_free(&meta);
        return st;
    }
    const char *keys[] = {"checkpoint"}, *vals[] = {meta.data};
    st = nb__model_write(r->m, path, cfg->preproc, extra, n_extra, keys, vals, 1);
    nb__buf_free(&meta);
    if (st) return nb__fail_prefix(st, "checkpoint");
    rotate(cfg->checkpoint_dir, cfg->checkpoint_keep > 0 ? cfg->checkpoint_keep : 3);
    return NB_OK;
}

/* ---- loading
 *
 * A checkpoint is untrusted input like any model file (`--resume` of a file from elsewhere):
 * every field of the saved state is read into locals and checked (integers exact and in
 * range before any cast, doubles finite where a run could only have written finite ones,
 * generators non-zero, the position within the epoch and the run, the history's length and
 * epochs, no duplicate keys, tensors present, sized and finite) before any of it is used.
 * Products are formed only after their factors are bounded, so a crafted step x batch cannot
 * overflow past the check and make training index out of its batch. */

/* a JSON number that is an integer within [lo, hi]; the range is checked on the double (with
 * bounds well inside int64) before the cast, which would be undefined for NaN, inf or 1e30 */
static int get_i64(const nb__json *o, const char *path, const char *key, int64_t lo, int64_t hi, int64_t *out)
{
    const nb__json *v = nb__json_get(o, key);
    const double lim = 4611686018427387904.0; /* 2^62: exact, and well inside int64 */
    if (!v || v->type != NB_JSON_NUMBER)
        return nb__fail(NB_ERR_FORMAT, "%s: checkpoint field '%s' is missing or not a number", path, key);
    double d = v->number;
    if (!(d >= -lim && d <= lim) || d != floor(d) || (int64_t)d < lo || (int64_t)d > hi)
        return nb__fail(NB_ERR_FORMAT, "%s: checkpoint field '%s' is %.17g, not an integer in %lld..%lld", path, key, d,
                        (long long)lo, (long long)hi);
    *out = (int64_t)d;
    return NB_OK;
}

/* kinds of double a field may hold */
enum { FINITE, FINITE_OR_NAN, NOT_NAN_OR_NEG_INF };

static int parse_hex_double(const nb__json *v, const char *path, const char *what, int kind, double *out)
{
    char *end;
    if (!v || v->type != NB_JSON_STRING)
        return nb__fail(NB_ERR_FORMAT, "%s: checkpoint field '%s' is missing or not a number string", path, what);
    double d = nb__strtod(v->str, &end);
    if (end == v->str || *end || strlen(v->str) != v->len)
        return nb__fail(NB_ERR_FORMAT, "%s: checkpoint field '%s' is not a number", path, what);
    int ok = kind == FINITE ? isfinite(d) : kind == FINITE_OR_NAN ? !isinf(d) : !isnan(d) && d != -(double)INFINITY;
    if (!ok)
        return nb__fail(NB_ERR_FORMAT, "%s: checkpoint field '%s' is %g, which a run cannot have saved (%s)", path, what, d,
                        kind == FINITE ? "it must be finite" : kind == FINITE_OR_NAN ? "it must be finite or nan" : "it must be a number or inf");
    *out = d;
    return NB_OK;
}

static int get_double(const nb__json *o, const char *path, const char *key, int kind, double *out)
{
    return parse_hex_double(nb__json_get(o, key), path, key, kind, out);
}

/* a generator: 4 words of exactly 16 hex digits, not all zero (xoshiro's all-zero state only
 * ever produces zeros, so shuffling and dropout would silently stop being random) */
static int get_rng(const nb__json *o, const char *path, const char *key, nb_rng *r)
{
    const nb__json *a = nb__json_get(o, key);
    uint64_t any = 0;
    if (!a || a->type != NB_JSON_ARRAY || a->count != 4)
        return nb__fail(NB_ERR_FORMAT, "%s: checkpoint field '%s' is not 4 words", path, key);
    for (int i = 0; i < 4; i++) {
        const nb__json *w = a->items[i];
        if (w->type != NB_JSON_STRING || w->len != 16 || strlen(w->str) != 16 || strspn(w->str, "0123456789abcdefABCDEF") != 16)
            return nb__fail(NB_ERR_FORMAT, "%s: checkpoint field '%s' word %d is not 16 hex digits", path, key, i);
        r->s[i] = strtoull(w->str, NULL, 16);
        any |= r->s[i];
    }
    if (!any) return nb__fail(NB_ERR_FORMAT, "%s: checkpoint field '%s' is the all-zero generator state, which no run has", path, key);
    return NB_OK;
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* duplicate keys would make nb__json_get's answer depend on the order of the text; found by
 * sorting once, so a hostile object of many keys costs n log n */
static int check_keys(const nb__json *j, const char *path)
{
    if (j->count < 2) return NB_OK;
    const char **k = nb__alloc_array(j->count, sizeof *k);
    if (!k) return NB_ERR_NOMEM;
    for (size_t i = 0; i < j->count; i++) k[i] = j->keys[i];
    qsort(k, j->count, sizeof *k, cmp_key);
    int rc = NB_OK;
    for (size_t i = 1; i < j->count && !rc; i++)
        if (strcmp(k[i - 1], k[i]) == 0)
            rc = nb__fail(NB_ERR_FORMAT, "%s: checkpoint field '%.100s' appears more than once", path, k[i]);
    nb_free(k);
    return rc;
}

/* a float tensor of the checkpoint: present, n values, the first n_finite finite */
static int get_state(const nb_st *st, const char *path, const char *name, size_t n, size_t n_finite, const char *hint,
                     const float **out)
{
    nb_view view;
    if (nb_st_find(st, name, &view) || view.n != n)
        return nb__fail(NB_ERR_FORMAT, "%s: %s '%s' is missing or has the wrong size%s", path,
                        strncmp(name, "train.optim.", 12) == 0 ? "optimizer state" : "early-stopping weights", name, hint);
    for (size_t i = 0; i < n_finite; i++)
        if (!isfinite(view.data[i]))
            return nb__fail(NB_ERR_FORMAT, "%s: checkpoint tensor '%s' element %zu is %g (not finite)", path, name, i,
                            (double)view.data[i]);
    *out = view.data;
    return NB_OK;
}

enum { F_TRAIN_LOSS, F_TRAIN_ACC, F_VAL_LOSS, F_VAL_ACC, F_LR, F_SECONDS, F_SPS, N_F };

static int restore(nb__run *r, const nb_st *st, const nb__json *j, const char *path)
{
    const nb_train_config *cfg = r->cfg;
    int64_t version, epoch, step, global_step, n_train, batch, optim_steps, since_best, best_epoch;
    int rc;
    if ((rc = check_keys(j, path))) return rc;
    if ((rc = get_i64(j, path, "version", CKPT_VERSION, CKPT_VERSION, &version)) ||
        (rc = get_i64(j, path, "n_train", 1, INT64_MAX, &n_train)) || (rc = get_i64(j, path, "batch", 1, INT64_MAX, &batch)))
        return rc;
    if (n_train != r->n || batch != r->B)
        return nb__fail(NB_ERR_ARG, "%s: made with %lld training rows and batch %lld, this run has %lld and %lld (resume with the same data and options)",
                        path, (long long)n_train, (long long)batch, (long long)r->n, (long long)r->B);
    const nb__json *opt = nb__json_get(j, "optimizer");
    const char *want = nb_optim_type_name(nb_optim_config_get(r->opt)->type);
    if (!opt || opt->type != NB_JSON_STRING || strcmp(opt->str, want) != 0)
        return nb__fail(NB_ERR_ARG, "%s: made with optimizer %s, this run uses %s", path, opt && opt->type == NB_JSON_STRING ? opt->str : "?", want);
    /* the position: an epoch of this run, a step inside it (a checkpoint at an epoch's end
     * has step 0), and the global step that position implies (steps per epoch are fixed by
     * the rows and batch, which match). epoch <= cfg->epochs < 2^31 and step < S bound the
     * product before it is formed. */
    const int64_t S = r->h->epoch_steps > 0 ? r->h->epoch_steps : 1;
    if ((rc = get_i64(j, path, "epoch", 0, cfg->epochs, &epoch)) || (rc = get_i64(j, path, "step", 0, INT64_MAX, &step)))
        return rc;
    if (step >= S)
        return nb__fail(NB_ERR_FORMAT, "%s: checkpoint field 'step' %lld is past the end of the epoch (%lld steps of %lld rows)", path,
                        (long long)step, (long long)S, (long long)r->B);
    if (epoch > (INT64_MAX - step) / S)
        return nb__fail(NB_ERR_FORMAT, "%s: checkpoint field 'epoch' %lld times %lld steps overflows", path, (long long)epoch, (long long)S);
    const int64_t at = epoch * S + step;
    if ((rc = get_i64(j, path, "global_step", 0, INT64_MAX, &global_step))) return rc;
    if (global_step != at)
        return nb__fail(NB_ERR_FORMAT, "%s: checkpoint field 'global_step' %lld is not the position of epoch %lld, step %lld of this run "
                        "(%lld steps per epoch: %lld)", path, (long long)global_step, (long long)epoch + 1, (long long)step,
                        (long long)S, (long long)at);
    if ((rc = get_i64(j, path, "optim_steps", 0, global_step, &optim_steps)) ||
        (rc = get_i64(j, path, "since_best", 0, epoch, &since_best)) || (rc = get_i64(j, path, "best_epoch", 0, epoch, &best_epoch)))
        return rc;
    double total, correct, best_loss;
    nb_rng epoch_rng, graph_rng;
    if ((rc = get_double(j, path, "total", FINITE, &total)) || (rc = get_double(j, path, "correct", FINITE, &correct)) ||
        (rc = get_double(j, path, "best_loss", NOT_NAN_OR_NEG_INF, &best_loss)) || (rc = get_rng(j, path, "epoch_rng", &epoch_rng)) ||
        (rc = get_rng(j, path, "graph_rng", &graph_rng)))
        return rc;
    if (correct < 0)
        return nb__fail(NB_ERR_FORMAT, "%s: checkpoint field 'correct' %g is negative", path, correct);
    /* a distributed run resumes with as many ranks as wrote it: the batches' split and the
     * ranks' dropout streams depend on it */
    int64_t ranks = 1;
    const int N = nb__dist_size(r->dist), me = nb__dist_rank(r->dist);
    if (nb__json_get(j, "ranks") && (rc = get_i64(j, path, "ranks", 2, 1 << 20, &ranks))) return rc;
    if (ranks != N)
        return nb__fail(NB_ERR_ARG, "%s: written by a run of %lld process%s, this run has %d: resume with the same number (mpirun -np %lld)",
                        path, (long long)ranks, ranks == 1 ? "" : "es", N, (long long)ranks);
    if (me > 0) {
        char key[32];
        snprintf(key, sizeof key, "graph_rng_%d", me);
        if ((rc = get_rng(j, path, key, &graph_rng))) return rc;
    }
    const nb__json *hist = nb__json_get(j, "history");
    if (!hist || hist->type != NB_JSON_ARRAY || hist->count != (size_t)epoch)
        return nb__fail(NB_ERR_FORMAT, "%s: checkpoint field 'history' does not hold one entry per finished epoch (%lld)", path, (long long)epoch);
    for (size_t i = 0; i < hist->count; i++) {
        const nb__json *row = hist->items[i];
        if (row->type != NB_JSON_ARRAY || row->count != 1 + N_F || row->items[0]->type != NB_JSON_NUMBER ||
            row->items[0]->number != (double)(i + 1))
            return nb__fail(NB_ERR_FORMAT, "%s: checkpoint field 'history' entry %zu is malformed (not [%zu, 7 number strings])", path, i, i + 1);
        for (int k = 0; k < N_F; k++) {
            double d;
            if ((rc = parse_hex_double(row->items[k + 1], path, "history", k == F_VAL_LOSS || k == F_VAL_ACC ? FINITE_OR_NAN : FINITE, &d)))
                return rc;
        }
    }
    /* the tensors: optimizer state and early-stopping weights, checked before anything is copied */
    int n_state = nb_optim_state_count(r->opt);
    const float *state[8] = {0}, *best = NULL;
    if (n_state > 8) return nb__fail(NB_ERR_STATE, "%s: optimizer has %d state tensors, more than checkpoints hold", path, n_state);
    for (int i = 0; i < n_state; i++) {
        const char *name;
        float *data;
        size_t n;
        char tname[64];
        if ((rc = nb_optim_state(r->opt, i, &name, &data, &n))) return rc;
        snprintf(tname, sizeof tname, "train.optim.%s", name);
        if ((rc = get_state(st, path, tname, n, n, "", &state[i]))) return rc;
    }
    /* the best weights mean something (and must be finite) once a best epoch exists */
    if (r->best && (rc = get_state(st, path, "train.best", r->np, best_loss < (double)INFINITY ? r->np : 0,
                                   " (was nb_train_config.early_stop used?)", &best)))
        return rc;
    /* all checked: now use it (nb__copy_weights checks every tensor before copying any) */
    if ((rc = nb__copy_weights(r->m, st, path))) return rc;
    for (int i = 0; i < n_state; i++) {
        const char *name;
        float *data;
        size_t n;
        nb_optim_state(r->opt, i, &name, &data, &n);
        memcpy(data, state[i], n * sizeof(float));
    }
    if ((rc = nb_optim_set_steps(r->opt, optim_steps))) return rc;
    if (best) memcpy(r->best, best, r->np * sizeof(float));
    if ((rc = nb__grow_history(r->h, (int)hist->count))) return rc;
    for (size_t i = 0; i < hist->count; i++) {
        const nb__json *row = hist->items[i];
        nb_epoch_stats *e = &r->h->epochs[i];
        double *f[N_F] = {&e->train_loss, &e->train_acc, &e->val_loss, &e->val_acc, &e->lr, &e->seconds, &e->samples_per_s};
        e->epoch = (int)i + 1;
        for (int k = 0; k < N_F; k++) *f[k] = nb__strtod(row->items[k + 1]->str, NULL);
    }
    r->h->n = (int)hist->count;
    r->h->best_epoch = (int)best_epoch;
    r->total = total, r->correct = correct, r->best_loss = best_loss;
    r->epoch_rng = epoch_rng, *nb_graph_rng(r->m->g) = graph_rng;
    r->epoch = (int)epoch, r->step = step, r->global_step = global_step, r->since_best = (int)since_best;
    return NB_OK;
}

int nb__ckpt_load(nb__run *r, const char *path)
{
    nb_st *st;
    int rc = nb_st_load(path, &st);
    if (rc) return rc;
    const char *meta = nb_st_meta(st, "checkpoint"), *arch = nb_st_meta(st, "architecture");
    nb__json *j = NULL;
    if (!meta) {
        rc = nb__fail(NB_ERR_FORMAT, "%s: not a checkpoint (no 'checkpoint' metadata)", path);
    } else if (!arch || strcmp(arch, nb_model_spec(r->m)) != 0) {
        rc = nb__fail(NB_ERR_ARG, "%s: made for the model '%s', not '%s'", path, arch ? arch : "?", nb_model_spec(r->m));
    } else if (!(rc = nb__json_parse(meta, strlen(meta), 4, "checkpoint metadata", &j))) {
        rc = j->type == NB_JSON_OBJECT ? restore(r, st, j, path) : nb__fail(NB_ERR_FORMAT, "%s: checkpoint metadata is not an object", path);
    }
    nb__json_free(j);
    nb_st_free(st);
    return rc;
}
