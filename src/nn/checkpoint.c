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

/* ---- loading */

static int get_i64(const nb__json *o, const char *key, int64_t lo, int64_t hi, int64_t *out)
{
    const nb__json *v = nb__json_get(o, key);
    if (!v || v->type != NB_JSON_NUMBER || v->number != (double)(int64_t)v->number || v->number < (double)lo || v->number > (double)hi)
        return nb__fail(NB_ERR_FORMAT, "checkpoint metadata: '%s' is missing or out of range", key);
    *out = (int64_t)v->number;
    return NB_OK;
}

static int parse_hex_double(const nb__json *v, const char *what, double *out)
{
    char *end;
    if (!v || v->type != NB_JSON_STRING) return nb__fail(NB_ERR_FORMAT, "checkpoint metadata: '%s' is not a number string", what);
    *out = nb__strtod(v->str, &end);
    if (end == v->str || *end) return nb__fail(NB_ERR_FORMAT, "checkpoint metadata: '%s' is not a number", what);
    return NB_OK;
}

static int get_double(const nb__json *o, const char *key, double *out)
{
    return parse_hex_double(nb__json_get(o, key), key, out);
}

static int get_rng(const nb__json *o, const char *key, nb_rng *r)
{
    const nb__json *a = nb__json_get(o, key);
    if (!a || a->type != NB_JSON_ARRAY || a->count != 4) return nb__fail(NB_ERR_FORMAT, "checkpoint metadata: '%s' is not 4 words", key);
    for (int i = 0; i < 4; i++) {
        const nb__json *w = a->items[i];
        char *end;
        if (w->type != NB_JSON_STRING || w->len != 16) return nb__fail(NB_ERR_FORMAT, "checkpoint metadata: '%s' is not 4 words", key);
        r->s[i] = strtoull(w->str, &end, 16);
        if (*end) return nb__fail(NB_ERR_FORMAT, "checkpoint metadata: '%s' is not 4 words", key);
    }
    return NB_OK;
}

static int restore(nb__run *r, const nb_st *st, const nb__json *j, const char *path)
{
    const nb_train_config *cfg = r->cfg;
    int64_t v[8] = {0};
    int rc;
    if ((rc = get_i64(j, "version", CKPT_VERSION, CKPT_VERSION, &v[0])) || (rc = get_i64(j, "epoch", 0, cfg->epochs, &v[1])) ||
        (rc = get_i64(j, "step", 0, INT64_MAX / 2, &v[2])) || (rc = get_i64(j, "global_step", 0, INT64_MAX / 2, &v[3])) ||
        (rc = get_i64(j, "n_train", 1, INT64_MAX / 2, &v[4])) || (rc = get_i64(j, "batch", 1, INT64_MAX / 2, &v[5])) ||
        (rc = get_i64(j, "optim_steps", 0, INT64_MAX / 2, &v[6])) || (rc = get_i64(j, "since_best", 0, 1 << 30, &v[7])))
        return rc;
    if (v[4] != r->n || v[5] != r->B)
        return nb__fail(NB_ERR_ARG, "%s: made with %lld training rows and batch %lld, this run has %lld and %lld (resume with the same data and options)",
                        path, (long long)v[4], (long long)v[5], (long long)r->n, (long long)r->B);
    const nb__json *opt = nb__json_get(j, "optimizer");
    const char *want = nb_optim_type_name(nb_optim_config_get(r->opt)->type);
    if (!opt || opt->type != NB_JSON_STRING || strcmp(opt->str, want) != 0)
        return nb__fail(NB_ERR_ARG, "%s: made with optimizer %s, this run uses %s", path, opt && opt->type == NB_JSON_STRING ? opt->str : "?", want);
    if (v[2] * r->B >= r->n) return nb__fail(NB_ERR_FORMAT, "%s: step %lld is past the end of the epoch", path, (long long)v[2]);
    if ((rc = nb__copy_weights(r->m, st, path))) return rc;
    for (int i = 0; i < nb_optim_state_count(r->opt); i++) {
        const char *name;
        float *data;
        size_t n;
        char tname[64];
        nb_view view;
        nb_optim_state(r->opt, i, &name, &data, &n);
        snprintf(tname, sizeof tname, "train.optim.%s", name);
        if (nb_st_find(st, tname, &view) || view.n != n)
            return nb__fail(NB_ERR_FORMAT, "%s: optimizer state '%s' is missing or has the wrong size", path, tname);
        memcpy(data, view.data, n * sizeof(float));
    }
    if ((rc = nb_optim_set_steps(r->opt, v[6]))) return rc;
    if (r->best) {
        nb_view view;
        if (nb_st_find(st, "train.best", &view) || view.n != r->np)
            return nb__fail(NB_ERR_FORMAT, "%s: early-stopping weights 'train.best' are missing (was nb_train_config.early_stop used?)", path);
        memcpy(r->best, view.data, r->np * sizeof(float));
    }
    if ((rc = get_double(j, "total", &r->total)) || (rc = get_double(j, "correct", &r->correct)) ||
        (rc = get_double(j, "best_loss", &r->best_loss)) || (rc = get_rng(j, "epoch_rng", &r->epoch_rng)) ||
        (rc = get_rng(j, "graph_rng", nb_graph_rng(r->m->g))))
        return rc;
    const nb__json *hist = nb__json_get(j, "history"), *be = nb__json_get(j, "best_epoch");
    if (!hist || hist->type != NB_JSON_ARRAY || hist->count != (size_t)v[1] || !be || be->type != NB_JSON_NUMBER)
        return nb__fail(NB_ERR_FORMAT, "%s: checkpoint history does not match its epoch", path);
    if ((rc = nb__grow_history(r->h, (int)hist->count))) return rc;
    for (size_t i = 0; i < hist->count; i++) {
        const nb__json *row = hist->items[i];
        nb_epoch_stats *e = &r->h->epochs[i];
        if (row->type != NB_JSON_ARRAY || row->count != 8 || row->items[0]->type != NB_JSON_NUMBER)
            return nb__fail(NB_ERR_FORMAT, "%s: checkpoint history entry %zu is malformed", path, i);
        e->epoch = (int)row->items[0]->number;
        double *f[7] = {&e->train_loss, &e->train_acc, &e->val_loss, &e->val_acc, &e->lr, &e->seconds, &e->samples_per_s};
        for (int k = 0; k < 7; k++)
            if ((rc = parse_hex_double(row->items[k + 1], "history", f[k]))) return rc;
    }
    r->h->n = (int)hist->count;
    r->h->best_epoch = (int)be->number;
    r->epoch = (int)v[1], r->step = v[2], r->global_step = v[3], r->since_best = (int)v[7];
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
