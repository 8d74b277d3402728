/* SPDX-License-Identifier: MIT */
/*
 * test_faults.c - fault injection through the allocator hook: the k-th allocation fails, for
 * every k, while parsing and building a model, training it (with checkpoints), saving it and
 * loading it back. Each run must return NB_ERR_NOMEM cleanly and free everything it allocated.
 * Then I/O faults: saving to a missing directory or over a device leaves the previous model
 * file byte-identical, and a symbolic link or FIFO at the path is refused, left as it was.
 */
#include "nabla.h"
#include "check.h"
#include "fault_alloc.h"

#include <stdlib.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>


static char dir[] = "/tmp/nabla-faults-XXXXXX";
static char model_path[300], ckpt_dir[300];

static nb_dataset *data(void)
{
    float x[40 * 4], y[40];
    for (int i = 0; i < 40; i++) {
        for (int j = 0; j < 4; j++) x[i * 4 + j] = (float)((i * 7 + j * 3) % 11) / 11.0f - 0.4f + (j == i % 2);
        y[i] = (float)(i % 2);
    }
    nb_dataset *ds;
    return nb_dataset_create_from(x, 40, 4, y, 1, NB_TASK_CLASSIFY, 2, &ds) ? NULL : ds;
}

/* the whole life of a model; returns the first failing status */
static int scenario(const nb_dataset *d)
{
    nb_model *m = NULL, *l = NULL;
    nb_metrics mt = {0};
    nb_history h = {0};
    int st = nb_model_parse("dense 6; batchnorm; relu; dropout 0.1; dense 2", NB_TASK_CLASSIFY, &m);
    if (!st) st = nb_model_build(m, 1, (int64_t[]){4}, 2);
    if (!st) {
        nb_train_config cfg = nb_train_config_default();
        cfg.epochs = 2;
        cfg.batch_size = 16;
        cfg.optim = nb_optim_config_default(NB_OPTIM_ADAM);
        cfg.checkpoint_dir = ckpt_dir;
        cfg.checkpoint_every_epochs = 1;
        st = nb_model_train(m, d, d, &cfg, &h);
    }
    if (!st) st = nb_model_evaluate(m, d, &mt);
    if (!st) st = nb_model_save(m, model_path, NULL);
    if (!st) st = nb_model_load(model_path, &l, NULL);
    nb_metrics_free(&mt);
    nb_history_free(&h);
    nb_model_free(m);
    nb_model_free(l);
    return st;
}

static void clear_ckpts(void)
{
    DIR *dd = opendir(ckpt_dir);
    struct dirent *de;
    char p[700];
    while (dd && (de = readdir(dd)))
        if (de->d_name[0] != '.') {
            snprintf(p, sizeof p, "%s/%s", ckpt_dir, de->d_name);
            unlink(p);
        }
    if (dd) closedir(dd);
}

int main(void)
{
    if (!mkdtemp(dir)) return 1;
    snprintf(model_path, sizeof model_path, "%s/m.safetensors", dir);
    snprintf(ckpt_dir, sizeof ckpt_dir, "%s/ckpt", dir);
    nb_dataset *d = data();
    fa_begin(0);
    CHECK_OK(scenario(d));
    long total = fa_calls;
    CHECK(fa_live == 0);
    CHECK(total > 50);
    int nomem = 0;
    for (long k = 1; k <= total; k++) {
        clear_ckpts();
        fa_begin(k);
        int st = scenario(d);
        if (st != NB_ERR_NOMEM) fprintf(stderr, "  allocation %ld failed: status %d (%s)\n", k, st, nb_errmsg());
        CHECK(st == NB_ERR_NOMEM);
        CHECK(fa_live == 0);
        nomem += st == NB_ERR_NOMEM;
    }
    fa_end();
    printf("fault injection: %ld allocations, each failed once: %d clean NB_ERR_NOMEM\n", total, nomem);

    /* I/O faults leave the previous model byte-identical, with no temp file behind */
    nb_model *m;
    CHECK_OK(nb_model_parse("dense 3", NB_TASK_CLASSIFY, &m));
    CHECK_OK(nb_model_build(m, 1, (int64_t[]){4}, 3));
    CHECK_OK(nb_model_save(m, model_path, NULL));
    FILE *f = fopen(model_path, "rb");
    char before[4096], after[4096];
    size_t nb = fread(before, 1, sizeof before, f);
    fclose(f);
    nb_model_params(m)[0] = 42.0f;
    char bad[400];
    snprintf(bad, sizeof bad, "%s/missing/m.safetensors", dir);
    CHECK_ERR(nb_model_save(m, bad, NULL), NB_ERR_IO, "missing/m.safetensors");
    CHECK_ERR(nb_model_save(m, "/dev/full", NULL), NB_ERR_IO, "/dev/full");
    CHECK_ERR(nb_model_save(m, dir, NULL), NB_ERR_IO, "is a directory, not a regular file");
    /* a symbolic link is refused: renaming over it would replace the link (and as root, one
     * like /dev/stdout), so the link and the file it points to stay as they were */
    char link[400], fifo[400];
    snprintf(link, sizeof link, "%s/link.safetensors", dir);
    snprintf(fifo, sizeof fifo, "%s/fifo.safetensors", dir);
    CHECK(symlink(model_path, link) == 0);
    CHECK_ERR(nb_model_save(m, link, NULL), NB_ERR_IO, "link.safetensors' is a symbolic link");
    struct stat lst;
    CHECK(lstat(link, &lst) == 0 && S_ISLNK(lst.st_mode));
    CHECK(mkfifo(fifo, 0600) == 0);
    CHECK_ERR(nb_model_save(m, fifo, NULL), NB_ERR_IO, "is a named pipe (FIFO), not a regular file");
    CHECK(lstat(fifo, &lst) == 0 && S_ISFIFO(lst.st_mode));
    CHECK(unlink(link) == 0 && unlink(fifo) == 0);
    CHECK(nb_check_output_path(model_path) == NB_OK);
    CHECK(nb_check_output_path(bad) == NB_OK); /* missing: fine here, the save then says why */
    f = fopen(model_path, "rb");
    size_t na = fread(after, 1, sizeof after, f);
    fclose(f);
    CHECK(na == nb && memcmp(before, after, nb) == 0);
    int temps = 0;
    DIR *dd = opendir(dir);
    struct dirent *de;
    while (dd && (de = readdir(dd))) temps += strstr(de->d_name, ".tmp.") != NULL;
    if (dd) closedir(dd);
    CHECK(temps == 0);
    nb_model_free(m);
    clear_ckpts();
    rmdir(ckpt_dir);
    unlink(model_path);
    rmdir(dir);
    nb_dataset_free(d);
    return check_exit("test_faults");
}
