/* SPDX-License-Identifier: MIT */
/*
 * test_dist.c - data-parallel training (nb_train_config.comm) over a transport made of
 * threads in this process: each "rank" is a thread with its own model, and the all-reduce
 * adds the ranks' buffers in rank order, as nabla's MPI transport does. It checks, without
 * MPI and under the sanitizers, what the MPI tests check across processes: N ranks give the
 * 1-process weights within float rounding and the same bits on every rank and on a repeat;
 * overlapped buckets and one block give the same bits; uneven and tiny batches; one rank's
 * failure (other data, a model it cannot train, out of memory) comes back on every rank with
 * its message; drift and a stop asked on one rank;
 * resume with dropout and batch norm gives the uninterrupted run's bits.
 */
#include "nabla.h"
#include "check.h"
#include "ckpt_fixture.h"

#include <pthread.h>
#include <stdlib.h>

#define MAXR 4

/* the allocator of every rank: malloc's, except that a thread with tl_refuse set is refused
 * anything of that many bytes or more (out of memory on one rank alone) */
static _Thread_local size_t tl_refuse;
static void *rank_alloc(void *ud, void *ptr, size_t size)
{
    (void)ud;
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    return tl_refuse && size >= tl_refuse ? NULL : realloc(ptr, size);
}

typedef struct world {
    int size;
    pthread_barrier_t bar;
    void *ptr[MAXR];
    float bias; /* added by rank 1's all-reduce of gradients: a broken transport, ranks drift */
    int aborted;
} world;

typedef struct rank_ctx {
    world *w;
    nb_comm comm;
    int rank;
    float *tmp;
    size_t tmp_n;
    /* the run */
    const char *spec;
    nb_dataset *train, *val;
    nb_train_config cfg;
    int stop_at;       /* the progress callback of rank 1 asks to stop at this step (0: never) */
    size_t oom;        /* rank 1 is refused allocations of this many bytes in training (0: none) */
    int64_t steps;
    int rc;
    char msg[1024];
    float *params;
    size_t np;
} rank_ctx;

static int t_allreduce(void *ud, float *buf, size_t n)
{
    rank_ctx *c = ud;
    if (n > c->tmp_n) {
        free(c->tmp);
        c->tmp = malloc(n * sizeof *c->tmp);
        c->tmp_n = c->tmp ? n : 0;
    }
    int ok = c->tmp != NULL;
    c->w->ptr[c->rank] = buf;
    pthread_barrier_wait(&c->w->bar);
    for (size_t i = 0; ok && i < n; i++) {
        float s = ((float *)c->w->ptr[0])[i];
        for (int q = 1; q < c->w->size; q++) s += ((float *)c->w->ptr[q])[i];
        c->tmp[i] = s + (c->rank == 1 && n >= 64 ? c->w->bias : 0.0f); /* gradients, not the figures */
    }
    pthread_barrier_wait(&c->w->bar);
    if (ok) memcpy(buf, c->tmp, n * sizeof *buf);
    return !ok;
}

static int t_broadcast(void *ud, void *buf, size_t bytes, int root)
{
    rank_ctx *c = ud;
    if (c->rank == root) c->w->ptr[root] = buf;
    pthread_barrier_wait(&c->w->bar);
    if (c->rank != root) memcpy(buf, c->w->ptr[root], bytes);
    pthread_barrier_wait(&c->w->bar);
    return 0;
}

static int t_barrier(void *ud)
{
    pthread_barrier_wait(&((rank_ctx *)ud)->w->bar);
    return 0;
}

static void t_abort(void *ud, int status)
{
    (void)status;
    ((rank_ctx *)ud)->w->aborted = 1;
}

static int progress(void *ud, const nb_progress *p)
{
    rank_ctx *c = ud;
    if (p->stats) return 0;
    c->steps++;
    return c->rank == 1 && c->stop_at && c->steps == c->stop_at;
}

static void *run_rank(void *arg)
{
    rank_ctx *c = arg;
    nb_model *m = fresh_model(c->spec);
    if (!m) {
        c->rc = -1;
        return NULL;
    }
    if (c->rank == 1) nb_model_init(m, NB_INIT_HE_UNIFORM, 0, 99); /* rank 0's weights must win */
    nb_train_config cfg = c->cfg;
    cfg.comm = &c->comm;
    cfg.progress = progress;
    cfg.progress_ud = c;
    if (c->rank == 1) tl_refuse = c->oom;
    c->rc = nb_model_train(m, c->train, c->val, &cfg, NULL);
    tl_refuse = 0;
    snprintf(c->msg, sizeof c->msg, "%s", nb_errmsg());
    c->np = nb_model_param_count(m);
    c->params = malloc(c->np * sizeof *c->params);
    if (c->params) memcpy(c->params, nb_model_params(m), c->np * sizeof *c->params);
    nb_model_free(m);
    return NULL;
}

/* train on `size` thread ranks; rank r uses train[r] (NULL: train[0]) */
static size_t g_oom; /* rank_ctx.oom of the next run_world */
static void run_world(int size, const char *spec, nb_dataset *const *train, nb_dataset *val, const nb_train_config *cfg,
                      float bias, int stop_at, rank_ctx *out)
{
    world w = {.size = size, .bias = bias};
    pthread_barrier_init(&w.bar, NULL, (unsigned)size);
    pthread_t th[MAXR];
    for (int r = 0; r < size; r++) {
        rank_ctx *c = &out[r];
        memset(c, 0, sizeof *c);
        c->w = &w, c->rank = r, c->spec = spec, c->cfg = *cfg, c->val = val, c->stop_at = stop_at, c->oom = g_oom;
        c->train = train[r] ? train[r] : train[0];
        c->comm = (nb_comm){r, size, c, t_allreduce, t_broadcast, t_barrier, t_abort};
    }
    for (int r = 0; r < size; r++) pthread_create(&th[r], NULL, run_rank, &out[r]);
    for (int r = 0; r < size; r++) pthread_join(th[r], NULL);
    for (int r = 0; r < size; r++) free(out[r].tmp);
    CHECK(!w.aborted);
    pthread_barrier_destroy(&w.bar);
}

static void free_world(int size, rank_ctx *c)
{
    for (int r = 0; r < size; r++) free(c[r].params);
}

/* the 1-process weights of the same run */
static float *single(const char *spec, nb_dataset *train, const nb_train_config *cfg, size_t *np)
{
    nb_model *m = fresh_model(spec);
    nb_train_config c = *cfg;
    CHECK_OK(nb_model_train(m, train, NULL, &c, NULL));
    *np = nb_model_param_count(m);
    float *p = malloc(*np * sizeof *p);
    memcpy(p, nb_model_params(m), *np * sizeof *p);
    nb_model_free(m);
    return p;
}

static double max_diff(const float *a, const float *b, size_t n)
{
    double d = 0;
    for (size_t i = 0; i < n; i++) d = fmax(d, fabs((double)a[i] - (double)b[i]));
    return d;
}

static int same_bits(const rank_ctx *a, const rank_ctx *b)
{
    return a->params && b->params && a->np == b->np && memcmp(a->params, b->params, a->np * sizeof(float)) == 0;
}

static const char *MLP = "dense 16; relu; dense 3";

/* N ranks = 1 process within rounding; every rank the same bits; repeat, overlap, size 1 */
static void test_equivalence(void)
{
    nb_dataset *ds[MAXR] = {data(302, 7)};
    nb_train_config cfg = nb_train_config_default();
    cfg.epochs = 1;
    cfg.comm_bucket_bytes = 256; /* several buckets for this small model */
    size_t np;
    float *one = single(MLP, ds[0], &cfg, &np);
    for (int size = 2; size <= 3; size++) {
        rank_ctx a[MAXR], b[MAXR];
        run_world(size, MLP, ds, NULL, &cfg, 0, 0, a);
        for (int r = 0; r < size; r++) {
            CHECK_OK(a[r].rc);
            CHECK(a[r].np == np);
            CHECK(same_bits(&a[r], &a[0]));
        }
        double d = max_diff(a[0].params, one, np);
        printf("  %d ranks vs 1 process after 1 epoch (302 rows, batch 64, Adam): max |dw| = %.3g\n", size, d);
        CHECK(d < 1e-5);
        CHECK(d > 0 || size == 2); /* a different order of additions: equal only within rounding */
        run_world(size, MLP, ds, NULL, &cfg, 0, 0, b); /* a repeat: the same bits */
        CHECK(same_bits(&a[0], &b[0]));
        free_world(size, b);
        nb_train_config one_block = cfg;
        one_block.comm_overlap = 0;
        run_world(size, MLP, ds, NULL, &one_block, 0, 0, b); /* buckets or one block: the same sums */
        CHECK(same_bits(&a[0], &b[0]));
        free_world(size, b);
        free_world(size, a);
    }
    rank_ctx s[1];
    run_world(1, MLP, ds, NULL, &cfg, 0, 0, s); /* a comm of size 1 is the single process */
    CHECK_OK(s[0].rc);
    CHECK(s[0].params && memcmp(s[0].params, one, np * sizeof(float)) == 0);
    free_world(1, s);
    free(one);
    nb_dataset_free(ds[0]);
}

/* fewer rows than ranks x batch, and fewer than ranks in a batch: ranks with no rows */
static void test_small_data(void)
{
    nb_dataset *ds[MAXR] = {data(5, 3)};
    nb_train_config cfg = nb_train_config_default();
    cfg.epochs = 3;
    cfg.batch_size = 2; /* batches of 2, 2, 1 rows over 3 ranks: a rank has none in each */
    size_t np;
    float *one = single(MLP, ds[0], &cfg, &np);
    rank_ctx a[MAXR];
    run_world(3, MLP, ds, NULL, &cfg, 0, 0, a);
    for (int r = 0; r < 3; r++) {
        CHECK_OK(a[r].rc);
        CHECK(same_bits(&a[r], &a[0]));
    }
    CHECK(a[0].params && max_diff(a[0].params, one, np) < 1e-5);
    free_world(3, a);
    cfg.batch_size = 64; /* 5 rows < 3 x 64: one batch of 5 */
    free(one);
    one = single(MLP, ds[0], &cfg, &np);
    run_world(3, MLP, ds, NULL, &cfg, 0, 0, a);
    CHECK_OK(a[0].rc);
    CHECK(a[0].params && max_diff(a[0].params, one, np) < 1e-5);
    free_world(3, a);
    free(one);
    nb_dataset_free(ds[0]);
}

/* one rank's failure, a non-finite loss on one rank, drift, a stop asked on one rank */
static void test_failures(void)
{
    nb_dataset *good = data(120, 1), *other = data(121, 1), *ds[MAXR] = {good, other};
    nb_train_config cfg = nb_train_config_default();
    cfg.epochs = 2;
    rank_ctx a[MAXR];
    run_world(2, MLP, ds, NULL, &cfg, 0, 0, a); /* rank 1 loaded different data */
    for (int r = 0; r < 2; r++) {
        CHECK(a[r].rc == NB_ERR_DIST);
        CHECK(strstr(a[r].msg, "rank 1 of 2 has 121 training rows, rank 0 has 120") != NULL);
    }
    free_world(2, a);
    /* a model that rank 1 cannot train: its check fails, and every rank says so */
    nb_dataset *wide = NULL;
    float x[7 * 4] = {0}, y[4] = {0, 1, 2, 0};
    CHECK_OK(nb_dataset_create_from(x, 4, 7, y, 1, NB_TASK_CLASSIFY, 3, &wide));
    nb_dataset *ds2[MAXR] = {good, wide};
    run_world(2, MLP, ds2, NULL, &cfg, 0, 0, a);
    for (int r = 0; r < 2; r++) {
        CHECK(a[r].rc == NB_ERR_SHAPE);
        CHECK(strstr(a[r].msg, "rank 1 of 2: training data: samples have 7 features") != NULL);
    }
    free_world(2, a);
    nb_dataset_free(wide);
    /* rank 1's rows overflow: the loss of rank 1 is named, on every rank */
    float *hx = malloc(120 * 5 * sizeof *hx), *hy = malloc(120 * sizeof *hy);
    CHECK_OK(nb_dataset_rows(good, 0, 120, hx, hy));
    for (int j = 0; j < 5; j++) hx[119 * 5 + j] = 3e38f;
    nb_dataset *huge = NULL;
    CHECK_OK(nb_dataset_create_from(hx, 120, 5, hy, 1, NB_TASK_CLASSIFY, 3, &huge));
    free(hx), free(hy);
    nb_dataset *ds3[MAXR] = {huge};
    nb_train_config ns = cfg;
    ns.shuffle = 0; /* row 119 is in rank 1's half of the last batch */
    run_world(2, MLP, ds3, NULL, &ns, 0, 0, a);
    for (int r = 0; r < 2; r++) {
        CHECK(a[r].rc == NB_ERR_NUMERIC);
        CHECK(strstr(a[r].msg, "the loss of rank 1's rows is") != NULL);
    }
    free_world(2, a);
    nb_dataset_free(huge);
    nb_dataset *same[MAXR] = {good};
    /* out of memory on rank 1 alone (its row indices, 960 bytes): every rank says so */
    g_oom = 900;
    run_world(2, MLP, same, NULL, &cfg, 0, 0, a);
    g_oom = 0;
    for (int r = 0; r < 2; r++) {
        CHECK(a[r].rc == NB_ERR_NOMEM);
        CHECK(strstr(a[r].msg, "rank 1 of 2: ") == a[r].msg && strstr(a[r].msg, "out of memory") != NULL);
    }
    free_world(2, a);
    /* a transport that gives rank 1 other bits: drift, found at the next check */
    nb_train_config ck = cfg;
    ck.comm_check_every = 1;
    run_world(2, MLP, same, NULL, &ck, 1e-3f, 0, a);
    for (int r = 0; r < 2; r++) {
        CHECK(a[r].rc == NB_ERR_DIST);
        CHECK(strstr(a[r].msg, "the parameters of rank 1 of 2 differ from rank 0's") != NULL);
    }
    free_world(2, a);
    /* Ctrl-C seen by rank 1 alone: every rank stops at the same step */
    run_world(2, MLP, same, NULL, &cfg, 0, 1, a);
    for (int r = 0; r < 2; r++) CHECK(a[r].rc == NB_ERR_INTERRUPTED);
    CHECK(a[0].steps == 2 && a[1].steps == 2); /* asked after step 1, agreed in step 2 */
    CHECK(same_bits(&a[0], &a[1]));
    free_world(2, a);
    nb_dataset_free(good);
    nb_dataset_free(other);
}

/* stopped and resumed with the same ranks: the uninterrupted run's bits (dropout, batch norm) */
static char dir[] = "/tmp/nb_test_dist_XXXXXX";
static void test_resume(void)
{
    const char *spec = "dense 12; batchnorm; relu; dropout 0.3; dense 3";
    nb_dataset *ds[MAXR] = {data(203, 5)};
    nb_train_config cfg = nb_train_config_default();
    cfg.epochs = 3;
    cfg.batch_size = 32;
    rank_ctx full[MAXR], a[MAXR], b[MAXR];
    run_world(2, spec, ds, NULL, &cfg, 0, 0, full);
    CHECK_OK(full[0].rc);
    CHECK(same_bits(&full[0], &full[1])); /* batch norm's statistics kept equal */
    nb_train_config ck = cfg;
    ck.checkpoint_dir = dir;
    run_world(2, spec, ds, NULL, &ck, 0, 9, a); /* rank 1 asks to stop in epoch 2 */
    CHECK(a[0].rc == NB_ERR_INTERRUPTED && a[1].rc == NB_ERR_INTERRUPTED);
    char path[512] = "";
    DIR *d = opendir(dir);
    struct dirent *de;
    int files = 0;
    while (d && (de = readdir(d)))
        if (de->d_name[0] != '.') files++, snprintf(path, sizeof path, "%.200s/%.200s", dir, de->d_name);
    if (d) closedir(d);
    CHECK(files == 1 && strstr(path, "ckpt-000000000010") != NULL); /* one, written by rank 0 */
    nb_train_config rs = cfg;
    rs.resume = path;
    run_world(2, spec, ds, NULL, &rs, 0, 0, b);
    CHECK_OK(b[0].rc);
    CHECK(same_bits(&b[0], &full[0]) && same_bits(&b[1], &full[1]));
    free_world(2, b);
    run_world(3, spec, ds, NULL, &rs, 0, 0, b); /* another rank count is refused on every rank */
    for (int r = 0; r < 3; r++) CHECK(b[r].rc == NB_ERR_ARG && strstr(b[r].msg, "mpirun -np 2") != NULL);
    free_world(3, b);
    free_world(2, a);
    free_world(2, full);
    clear_dir(dir);
    nb_dataset_free(ds[0]);
}

int main(void)
{
    if (!mkdtemp(dir)) return 1;
    nb_set_allocator(rank_alloc, NULL);
    test_equivalence();
    test_small_data();
    test_failures();
    test_resume();
    rmdir(dir);
    return check_exit("test_dist");
}
