/* SPDX-License-Identifier: MIT */
/*
 * fuzz_checkpoint.c - libFuzzer target for checkpoints given to --resume: the input is a
 * checkpoint file (a model file with "train.*" tensors and "checkpoint" metadata), resumed
 * through nb_model_train with a fixed small run (24 rows, batch 8: 3 steps per epoch, 2
 * epochs; Adam, dropout, early stopping on 8 validation rows), so the whole path is reached:
 * safetensors parsing, the metadata checks, the weights, the optimizer state, the position
 * in the run and the training that continues from it.
 * Invariants besides "no crash, no leak, no UB": a failed resume leaves a message; a
 * resumed run's history has one entry per epoch, numbered 1..n, with n <= epochs.
 * Seeds: with NB_FUZZ_CKPT_SEEDS=DIR in the environment, the first input also runs this
 * configuration from scratch with a checkpoint after every step into DIR, so the seeds
 * (fuzz/make_seeds.sh) are checkpoints of exactly the run the target resumes.
 */
#include "fuzz_util.h"

#include <math.h>

#define ROWS 24
#define VAL_ROWS 8
#define NF 4

static nb_dataset *g_train, *g_val;

static nb_dataset *make_data(int64_t n, uint64_t seed)
{
    float x[ROWS * NF], y[ROWS];
    nb_rng r;
    nb_rng_seed(&r, seed);
    for (int64_t i = 0; i < n; i++) {
        int c = (int)(i % 3);
        for (int j = 0; j < NF; j++) x[i * NF + j] = (j == c ? 1.5f : 0.0f) + nb_rng_normal(&r);
        y[i] = (float)c;
    }
    nb_dataset *ds = NULL;
    if (nb_dataset_create_from(x, n, NF, y, 1, NB_TASK_CLASSIFY, 3, &ds)) fuzz_fail("checkpoint: cannot create the data");
    return ds;
}

static nb_model *fresh(void)
{
    nb_model *m = NULL;
    if (nb_model_parse("dense 4; relu; dropout 0.2; dense 3", NB_TASK_CLASSIFY, &m) ||
        nb_model_build(m, 1, (int64_t[]){NF}, 3) || nb_model_init(m, NB_INIT_HE_UNIFORM, 0, 7))
        fuzz_fail("checkpoint: cannot build the model");
    return m;
}

static nb_train_config config(void)
{
    nb_train_config cfg = nb_train_config_default();
    cfg.epochs = 2;
    cfg.batch_size = 8;
    cfg.optim = nb_optim_config_default(NB_OPTIM_ADAM);
    cfg.optim.lr = 0.01f;
    cfg.seed = 3;
    cfg.early_stop = 3;
    return cfg;
}

static void write_seeds(const char *dir)
{
    nb_train_config cfg = config();
    cfg.checkpoint_dir = dir;
    cfg.checkpoint_every_steps = 1;
    cfg.checkpoint_keep = 100;
    nb_model *m = fresh();
    if (nb_model_train(m, g_train, g_val, &cfg, NULL)) fuzz_fail("checkpoint: the seed run failed");
    nb_model_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g_train) {
        g_train = make_data(ROWS, 1);
        g_val = make_data(VAL_ROWS, 2);
        const char *seeds = getenv("NB_FUZZ_CKPT_SEEDS");
        if (seeds && *seeds) write_seeds(seeds);
    }
    const char *path = fuzz_path(0, "ckpt", ".safetensors");
    fuzz_write(path, data, size);
    nb_train_config cfg = config();
    cfg.resume = path;
    nb_model *m = fresh();
    nb_history h;
    int rc = nb_model_train(m, g_train, g_val, &cfg, &h);
    fuzz_check_msg(rc, "nb_model_train (resume)");
    if (rc == NB_OK) {
        if (h.n < 0 || h.n > cfg.epochs) fuzz_fail("checkpoint: history longer than the run");
        for (int i = 0; i < h.n; i++)
            if (h.epochs[i].epoch != i + 1) fuzz_fail("checkpoint: history epochs out of order");
    }
    nb_history_free(&h); /* filled on failure too */
    nb_model_free(m);
    unlink(path);
    return 0;
}
