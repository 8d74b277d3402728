/* SPDX-License-Identifier: MIT */
/*
 * test_hostile_checkpoint.c - crafted checkpoints given to --resume (nb_train_config.resume):
 * each field of the saved state is edited in a real checkpoint (taken mid-epoch, in the
 * second epoch) and the resume must be refused with NB_ERR_FORMAT naming the field, before
 * any of it is used: a step whose product with the batch overflows (it used to pass the range
 * check and make training index before its permutation: SIGSEGV), integers too large for any
 * integer type (the cast was undefined), NaN and -inf, the all-zero generator state, a
 * duplicate key, a global step past the run, history that does not fit, non-finite optimizer
 * state. The unedited file resumes, so each refusal is the edit's doing.
 */
#include "nabla.h"
#include "check.h"
#include "ckpt_fixture.h"

#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[] = "/tmp/nabla-hckpt-XXXXXX";
static const char *SPEC = "dense 8; relu; dropout 0.2; dense 3";

static nb_model *fresh(void) { return fresh_model(SPEC); }

static void config(nb_train_config *cfg)
{
    *cfg = nb_train_config_default();
    cfg->epochs = 3;
    cfg->batch_size = 16; /* 100 rows: 7 steps per epoch */
    cfg->optim = nb_optim_config_default(NB_OPTIM_ADAM);
    cfg->optim.lr = 0.01f;
    cfg->seed = 5;
    cfg->early_stop = 5;
}

static int steps_seen;
static int stop_at_10(void *ud, const nb_progress *p)
{
    (void)ud;
    return !p->stats && ++steps_seen == 10; /* epoch 2, step 3 */
}

static char good[512], bad[512];

/* The checkpoint of a run stopped after 10 steps, into good. */
static int make_checkpoint(nb_dataset *tr, nb_dataset *va)
{
    nb_train_config cfg;
    config(&cfg);
    cfg.checkpoint_dir = dir;
    cfg.progress = stop_at_10;
    nb_model *m = fresh();
    steps_seen = 0;
    int rc = nb_model_train(m, tr, va, &cfg, NULL);
    nb_model_free(m);
    snprintf(good, sizeof good, "%.400s/ckpt-%012d.safetensors", dir, 10);
    snprintf(bad, sizeof bad, "%.400s/bad.safetensors", dir);
    return rc == NB_ERR_INTERRUPTED && access(good, R_OK) == 0;
}

/* Copy good to bad with the checkpoint metadata's text edited: the value of "key" (up to the
 * next ',' or '}', or the closing ']' of an array) replaced by value; key NULL appends value
 * before the final '}'. With tensor set, that tensor's first element becomes x. */
static int write_bad(const char *key, const char *value, const char *tensor, float x)
{
    nb_st *st;
    if (nb_st_load(good, &st)) return -1;
    int n = nb_st_count(st), nm = nb_st_meta_count(st), rc = -1;
    nb_st_entry t[16];
    const char *keys[32], *vals[32];
    char *meta = NULL;
    if (n > 16 || nm > 32) goto out;
    for (int i = 0; i < n; i++) nb_st_tensor(st, i, &t[i].name, &t[i].view);
    for (int i = 0; i < nm; i++) nb_st_meta_at(st, i, &keys[i], &vals[i]);
    for (int i = 0; i < nm; i++) {
        if (strcmp(keys[i], "checkpoint") != 0) continue;
        const char *old = vals[i];
        size_t len = strlen(old), cap = len + strlen(value) + 64;
        if (!(meta = malloc(cap))) goto out;
        if (!key) {
            snprintf(meta, cap, "%.*s%s}", (int)(len - 1), old, value);
        } else {
            char pat[64];
            snprintf(pat, sizeof pat, "\"%s\":", key);
            const char *at = strstr(old, pat);
            if (!at) goto out;
            at += strlen(pat);
            /* history, the last field, is an array of arrays: it ends at the last ']' */
            const char *end = strcmp(key, "history") == 0 ? strrchr(at, ']') + 1
                              : *at == '['                 ? strchr(at, ']') + 1
                                                           : at + strcspn(at, ",}");
            snprintf(meta, cap, "%.*s%s%s", (int)(at - old), old, value, end);
        }
        vals[i] = meta;
    }
    float *copy = NULL;
    for (int i = 0; tensor && i < n; i++)
        if (strcmp(t[i].name, tensor) == 0 && t[i].view.n > 0 && (copy = malloc(t[i].view.n * sizeof *copy))) {
            memcpy(copy, t[i].view.data, t[i].view.n * sizeof *copy);
            copy[0] = x;
            t[i].view.data = copy;
        }
    rc = nb_st_save(bad, t, n, keys, vals, nm) || (tensor && !copy) ? -1 : 0;
    free(copy);
out:
    free(meta);
    nb_st_free(st);
    return rc;
}

static int resume(const char *path, nb_dataset *tr, nb_dataset *va)
{
    nb_train_config cfg;
    config(&cfg);
    cfg.resume = path;
    nb_model *m = fresh();
    int rc = nb_model_train(m, tr, va, &cfg, NULL);
    nb_model_free(m);
    return rc;
}

static void test_fields(void)
{
    nb_dataset *tr = data(100, 1), *va = data(30, 2);
    CHECK(make_checkpoint(tr, va));
    CHECK_OK(resume(good, tr, va)); /* the control: unedited, it resumes */
    static const struct {
        const char *key, *value, *msg;
    } cases[] = {
        /* 2^59 x 16 = 2^63 wraps negative: it passed "step * batch >= rows", then training
         * read idx[-2^63] */
        {"step", "576460752303423488", "'step' 576460752303423488 is past the end of the epoch"},
        {"step", "7", "'step' 7 is past the end of the epoch (7 steps"},
        {"step", "-1", "'step'"},
        {"step", "3.5", "'step' is 3.5, not an integer"},
        /* integers no int64 holds: casting them was undefined behaviour */
        {"step", "1e300", "'step' is 1.0000000000000001e+300"},
        {"optim_steps", "1e30", "'optim_steps'"},
        {"since_best", "-1e300", "'since_best'"},
        {"best_epoch", "1e300", "'best_epoch'"},
        {"best_epoch", "3", "'best_epoch' is 3, not an integer in 0..1"},
        {"epoch", "1e19", "'epoch'"},
        {"epoch", "4", "'epoch'"},
        {"history", "[[1e300,\"0x0p+0\",\"0x0p+0\",\"0x0p+0\",\"0x0p+0\",\"0x0p+0\",\"0x0p+0\",\"0x0p+0\"]]", "'history' entry 0 is malformed"},
        {"history", "[]", "'history' does not hold one entry per finished epoch"},
        /* the global step must be where epoch and step say the run is */
        {"global_step", "1000000", "'global_step' 1000000 is not the position of epoch 2, step 3"},
        {"global_step", "9", "'global_step' 9"},
        {"optim_steps", "11", "'optim_steps' is 11, not an integer in 0..10"},
        /* doubles */
        {"total", "\"nan\"", "'total' is nan"},
        {"total", "\"inf\"", "'total' is inf"},
        {"correct", "\"-0x1p+0\"", "'correct' -1 is negative"},
        {"best_loss", "\"nan\"", "'best_loss' is nan"},
        {"best_loss", "\"-inf\"", "'best_loss' is -inf"},
        {"total", "\"0x1p+0junk\"", "'total' is not a number"},
        /* generators */
        {"epoch_rng", "[\"0000000000000000\",\"0000000000000000\",\"0000000000000000\",\"0000000000000000\"]",
         "'epoch_rng' is the all-zero generator state"},
        {"graph_rng", "[\"0000000000000000\",\"0000000000000000\",\"0000000000000000\",\"0000000000000000\"]",
         "'graph_rng' is the all-zero generator state"},
        {"epoch_rng", "[\"-000000000000001\",\"0000000000000001\",\"0000000000000000\",\"0000000000000000\"]",
         "'epoch_rng' word 0 is not 16 hex digits"},
        {"epoch_rng", "[\" 0x0000000000001\",\"0000000000000001\",\"0000000000000000\",\"0000000000000000\"]",
         "'epoch_rng' word 0 is not 16 hex digits"},
        /* a key twice: which one counts would depend on the reader */
        {NULL, ",\"step\":0", "'step' appears more than once"},
        {NULL, ",\"total\":\"0x0p+0\"", "'total' appears more than once"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK(write_bad(cases[i].key, cases[i].value, NULL, 0) == 0);
        CHECK_ERR(resume(bad, tr, va), NB_ERR_FORMAT, cases[i].msg);
    }
    /* non-finite tensors of the saved state */
    CHECK(write_bad("step", "3", "train.optim.adam.v", (float)NAN) == 0);
    CHECK_ERR(resume(bad, tr, va), NB_ERR_FORMAT, "checkpoint tensor 'train.optim.adam.v' element 0 is nan");
    CHECK(write_bad("step", "3", "train.best", (float)INFINITY) == 0);
    CHECK_ERR(resume(bad, tr, va), NB_ERR_FORMAT, "checkpoint tensor 'train.best' element 0 is inf");
    nb_dataset_free(tr);
    nb_dataset_free(va);
}

int main(void)
{
    if (!mkdtemp(dir)) return 1;
    test_fields();
    clear_dir(dir);
    rmdir(dir);
    return check_exit("test_hostile_checkpoint");
}
