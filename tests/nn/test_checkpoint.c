/* SPDX-License-Identifier: MIT */
/*
 * test_checkpoint.c - checkpoints and exact resume: a run stopped at any step (mid-epoch, at
 * an epoch's end, with dropout, batch norm, Adam and early stopping in play) and resumed from
 * its checkpoint ends with the bit-identical weights and history of an uninterrupted run;
 * rotation keeps the newest K; checkpoints load as models; mismatched resumes are refused;
 * a numeric blow-up leaves the last good checkpoint intact.
 */
#include "nabla.h"
#include "check.h"
#include "ckpt_fixture.h"

#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[] = "/tmp/nabla-ckpt-XXXXXX";
static const char *SPEC = "dense 12; batchnorm; relu; dropout 0.2; dense 3";

static nb_model *fresh(void) { return fresh_model(SPEC); }

static void config(nb_train_config *cfg)
{
    *cfg = nb_train_config_default();
    cfg->epochs = 5;
    cfg->batch_size = 16; /* 100 rows: 7 steps per epoch, the last one short */
    cfg->optim = nb_optim_config_default(NB_OPTIM_ADAM);
    cfg->optim.lr = 0.01f;
    cfg->seed = 11;
    cfg->early_stop = 10;
}

static int stop_after; /* stop when this many steps are done */
static int steps_seen;
static int stopper(void *ud, const nb_progress *p)
{
    (void)ud;
    if (p->stats) return 0;
    return ++steps_seen == stop_after;
}

/* the newest checkpoint of dir, into path */
static int newest(char *path, size_t cap) /* cap >= 300 */
{
    DIR *d = opendir(dir);
    char best[256] = "";
    struct dirent *de;
    int n = 0;
    while (d && (de = readdir(d)))
        if (strncmp(de->d_name, "ckpt-", 5) == 0) {
            n++;
            if (strcmp(de->d_name, best) > 0) snprintf(best, sizeof best, "%s", de->d_name);
        }
    if (d) closedir(d);
    snprintf(path, cap, "%.40s/%.250s", dir, best);
    return n;
}

static int same_history(const nb_history *a, const nb_history *b)
{
    if (a->n != b->n || a->best_epoch != b->best_epoch) return 0;
    for (int i = 0; i < a->n; i++) {
        const nb_epoch_stats *x = &a->epochs[i], *y = &b->epochs[i];
        if (x->epoch != y->epoch || x->train_loss != y->train_loss || x->train_acc != y->train_acc ||
            x->val_loss != y->val_loss || x->val_acc != y->val_acc || x->lr != y->lr)
            return 0;
    }
    return 1;
}

static void test_resume_everywhere(void)
{
    nb_dataset *tr = data(100, 1), *va = data(30, 2);
    nb_train_config cfg;
    config(&cfg);
    nb_model *ref = fresh();
    nb_history href;
    CHECK_OK(nb_model_train(ref, tr, va, &cfg, &href));
    size_t np = nb_model_param_count(ref);
    /* stop after every possible step count (mid-epoch, epoch ends), resume, compare */
    int total_steps = 7 * cfg.epochs, checked = 0;
    for (stop_after = 1; stop_after < total_steps; stop_after += 3) {
        clear_dir(dir);
        nb_model *a = fresh();
        nb_train_config c1 = cfg;
        c1.checkpoint_dir = dir;
        c1.progress = stopper;
        steps_seen = 0;
        nb_history h1;
        CHECK_ERR(nb_model_train(a, tr, va, &c1, &h1), NB_ERR_INTERRUPTED, "interrupted");
        nb_history_free(&h1);
        nb_model_free(a);
        char path[512];
        CHECK(newest(path, sizeof path) == 1);
        nb_model *b = fresh(); /* a new process would start exactly like this */
        nb_train_config c2 = cfg;
        c2.resume = path;
        nb_history h2;
        CHECK_OK(nb_model_train(b, tr, va, &c2, &h2));
        int same = memcmp(nb_model_params(b), nb_model_params(ref), np * sizeof(float)) == 0;
        CHECK(same);
        CHECK(same_history(&h2, &href));
        if (!same) fprintf(stderr, "  resume after %d steps differs\n", stop_after);
        nb_history_free(&h2);
        nb_model_free(b);
        checked++;
    }
    CHECK(checked >= 10);
    /* a checkpoint is a model file too */
    char path[512];
    newest(path, sizeof path);
    nb_model *l;
    CHECK_OK(nb_model_load(path, &l, NULL));
    CHECK(l && strcmp(nb_model_spec(l), SPEC) == 0);
    nb_model_free(l);
    /* refused resumes */
    nb_model *c = fresh();
    nb_train_config bad = cfg;
    bad.resume = path;
    bad.batch_size = 8;
    CHECK_ERR(nb_model_train(c, tr, va, &bad, NULL), NB_ERR_ARG, "batch 16");
    bad = cfg;
    bad.resume = path;
    bad.optim = nb_optim_config_default(NB_OPTIM_SGD);
    CHECK_ERR(nb_model_train(c, tr, va, &bad, NULL), NB_ERR_ARG, "optimizer adam");
    nb_model_free(c);
    nb_model *other;
    nb_model_parse("dense 4; relu; dense 3", NB_TASK_CLASSIFY, &other);
    nb_model_build(other, 1, (int64_t[]){5}, 3);
    bad = cfg;
    bad.resume = path;
    CHECK_ERR(nb_model_train(other, tr, va, &bad, NULL), NB_ERR_ARG, "made for the model");
    nb_model_free(other);
    nb_history_free(&href);
    nb_model_free(ref);
    nb_dataset_free(tr);
    nb_dataset_free(va);
}

static void test_rotation_and_nan(void)
{
    clear_dir(dir);
    nb_dataset *tr = data(100, 1);
    nb_train_config cfg;
    config(&cfg);
    cfg.early_stop = 0;
    cfg.checkpoint_dir = dir;
    cfg.checkpoint_every_steps = 2;
    cfg.checkpoint_keep = 2;
    nb_model *m = fresh();
    CHECK_OK(nb_model_train(m, tr, NULL, &cfg, NULL));
    char path[512];
    CHECK(newest(path, sizeof path) == 2);
    /* 35 steps: the newest checkpoint is at step 34 (none is written after the last epoch) */
    CHECK(strstr(path, "ckpt-000000000034.safetensors") != NULL);
    /* a blow-up: NB_ERR_NUMERIC names the step; the last checkpoint still loads and is older */
    clear_dir(dir);
    nb_train_config boom = cfg;
    boom.optim.lr = 1e30f;
    boom.optim = nb_optim_config_default(NB_OPTIM_SGD);
    boom.optim.lr = 1e35f;
    boom.checkpoint_every_steps = 1;
    nb_model *b = fresh();
    int rc = nb_model_train(b, tr, NULL, &boom, NULL);
    CHECK(rc == NB_ERR_NUMERIC);
    CHECK(strstr(nb_errmsg(), "epoch 1, step ") != NULL);
    CHECK(strstr(nb_errmsg(), "gradient of layers.") != NULL || strstr(nb_errmsg(), "loss is") != NULL);
    if (newest(path, sizeof path) > 0) {
        nb_model *l;
        CHECK_OK(nb_model_load(path, &l, NULL));
        float *p = l ? nb_model_params(l) : NULL;
        int finite = 1;
        for (size_t i = 0; p && i < nb_model_param_count(l); i++) finite &= isfinite(p[i]) != 0;
        CHECK(finite);
        nb_model_free(l);
    }
    nb_model_free(b);
    nb_model_free(m);
    nb_dataset_free(tr);
}

int main(void)
{
    if (!mkdtemp(dir)) return 1;
    test_resume_everywhere();
    test_rotation_and_nan();
    clear_dir(dir);
    rmdir(dir);
    return check_exit("test_checkpoint");
}
