/* SPDX-License-Identifier: MIT */
/*
 * test_kill_save.c - SIGKILL during a save never leaves a broken model: a child process saves
 * a model over the same path in a tight loop (alternating two weight sets) and is killed at
 * a random moment, 60 times; every time, the file at the path loads and holds one of the two
 * weight sets exactly. (Temp files of killed writers may remain; the model never breaks.)
 */
#include "nabla.h"
#include "check.h"

#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[] = "/tmp/nabla-kill-XXXXXX";

static nb_model *model(float v)
{
    nb_model *m;
    if (nb_model_parse("dense 64; relu; dense 8", NB_TASK_CLASSIFY, &m) || nb_model_build(m, 1, (int64_t[]){128}, 8)) return NULL;
    float *p = nb_model_params(m);
    for (size_t i = 0; i < nb_model_param_count(m); i++) p[i] = v + (float)i * 1e-6f;
    return m;
}

int main(void)
{
    if (!mkdtemp(dir)) return 1;
    char path[256];
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    nb_model *a = model(1.0f), *b = model(2.0f);
    CHECK(a && b);
    if (!a || !b) return check_exit("test_kill_save");
    CHECK_OK(nb_model_save(a, path, NULL));
    size_t np = nb_model_param_count(a);
    srand(12345);
    int loads = 0;
    for (int k = 0; k < 60; k++) {
        pid_t pid = fork();
        if (pid == 0) { /* child: save forever */
            for (unsigned i = 0;; i++) nb_model_save(i % 2 ? b : a, path, NULL);
        }
        struct timespec ts = {0, (long)(rand() % 3000) * 1000L}; /* 0-3 ms: mid-write often */
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        nb_model *l = NULL;
        int rc = nb_model_load(path, &l, NULL);
        CHECK_OK(rc);
        if (rc == NB_OK) {
            const float *p = nb_model_params(l);
            int is_a = memcmp(p, nb_model_params(a), np * sizeof(float)) == 0;
            int is_b = memcmp(p, nb_model_params(b), np * sizeof(float)) == 0;
            CHECK(is_a || is_b);
            loads++;
        }
        nb_model_free(l);
    }
    CHECK(loads == 60);
    /* clean up, stale temp files included */
    DIR *d = opendir(dir);
    struct dirent *de;
    char p2[512];
    while (d && (de = readdir(d)))
        if (de->d_name[0] != '.') {
            snprintf(p2, sizeof p2, "%s/%s", dir, de->d_name);
            unlink(p2);
        }
    if (d) closedir(d);
    rmdir(dir);
    nb_model_free(a);
    nb_model_free(b);
    return check_exit("test_kill_save");
}
