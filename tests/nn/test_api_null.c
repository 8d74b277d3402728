/* SPDX-License-Identifier: MIT */
/*
 * test_api_null.c - C API misuse (issue 14, item 13): every public function is called with
 * NULL for each pointer argument it takes (the handle, then each buffer or out-pointer, the
 * other arguments valid). A function that needs the pointer returns NB_ERR_ARG (builders:
 * -NB_ERR_ARG) with a message naming the argument; free functions take NULL as a no-op;
 * getters return the value their header documents for NULL; optional pointers are accepted.
 * Each function runs in its own child process with an alarm, so a crash or an endless loop
 * is reported by name and the other functions still run; `make sanitize` runs it under ASan.
 * The table below names every public function: `test_api_null --list` prints the names and
 * tests/check_exports.sh compares them with the public headers, so a new function without
 * a case here fails `make test`.
 */
#include "check.h"
#include "nabla.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *cur;
static int bad;
static char dir[64];

static void miss(const char *expr, const char *what)
{
    fprintf(stderr, "FAIL %s: %s: %s\n", cur, expr, what);
    bad++;
}

/* status NB_ERR_ARG and a message naming sub */
static void want_arg(int rc, const char *expr, const char *sub)
{
    char buf[512];
    if (rc != NB_ERR_ARG || !strstr(nb_errmsg(), sub)) {
        snprintf(buf, sizeof buf, "got %d '%s', want NB_ERR_ARG naming '%s'", rc, nb_errmsg(), sub);
        miss(expr, buf);
    }
}
#define ARG(expr, sub) (nb_error_clear(), want_arg((expr), #expr, sub))
#define NODE(expr, sub) (nb_error_clear(), want_arg(-(int)(expr), #expr, sub))
#define VAL(expr, want) ((expr) == (want) ? (void)0 : miss(#expr, "unexpected value"))
#define RUNS(expr) ((void)(expr)) /* no crash, nothing to check */

/* ---------------------------------------------------------------- valid handles */

static nb_graph *graph(nb_node *x)
{
    nb_graph *g;
    if (nb_graph_create(&g)) abort();
    *x = nb_param(g, "x", 2, (int64_t[]){2, 2});
    return g;
}

/* Builders latch their first error in the graph: a fresh graph for each failing call. */
#define FRESH(expr, sub)                                                                       \
    do {                                                                                       \
        nb_node x;                                                                             \
        nb_graph *g = graph(&x);                                                               \
        NODE(expr, sub);                                                                       \
        (void)x;                                                                               \
        nb_graph_free(g);                                                                      \
    } while (0)

static nb_model *model(void)
{
    nb_model *m;
    if (nb_model_parse("dense 2", NB_TASK_CLASSIFY, &m) || nb_model_build(m, 1, (int64_t[]){3}, 2)) abort();
    return m;
}

static nb_dataset *dataset(void)
{
    static const float x[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, y[4] = {0, 1, 0, 1};
    nb_dataset *d;
    if (nb_dataset_create_from(x, 4, 3, y, 1, NB_TASK_CLASSIFY, 2, &d)) abort();
    return d;
}

static nb_preproc *preproc(void)
{
    nb_preproc *pp;
    if (nb_preproc_create(&pp)) abort();
    return pp;
}

static nb_optim *optim(void)
{
    nb_optim_config cfg = nb_optim_config_default(NB_OPTIM_SGD);
    nb_optim *o;
    if (nb_optim_create(&cfg, 4, &o)) abort();
    return o;
}

static const char *path(const char *name)
{
    static char buf[128];
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

static nb_st *st(void)
{
    nb_model *m = model();
    nb_st *s;
    if (nb_model_save(m, path("m.st"), NULL) || nb_st_load(path("m.st"), &s)) abort();
    nb_model_free(m);
    return s;
}

/* ---------------------------------------------------------------- base.h */

static void c_nb_version(void) { VAL(nb_version() != NULL, 1); }
static void c_nb_status_name(void) { VAL(nb_status_name(NB_ERR_ARG) != NULL, 1); }
static void c_nb_errmsg(void) { VAL(nb_errmsg() != NULL, 1); }
static void c_nb_error_clear(void) { RUNS(nb_error_clear()); }
static void c_nb_set_allocator(void) { RUNS(nb_set_allocator(NULL, NULL)); }
static void c_nb_free(void) { RUNS(nb_free(NULL)); }
static void c_nb_check_output_path(void) { ARG(nb_check_output_path(NULL), "path"); }
static void c_nb_rng_seed(void) { RUNS(nb_rng_seed(NULL, 1)); }
static void c_nb_rng_u64(void) { VAL(nb_rng_u64(NULL), 0); }
static void c_nb_rng_below(void) { VAL(nb_rng_below(NULL, 10), 0); }
static void c_nb_rng_uniform(void) { VAL(nb_rng_uniform(NULL), 0.0f); }
static void c_nb_rng_normal(void)
{
    VAL(nb_rng_normal(NULL), 0.0f);
    /* a generator never seeded (all zero) is xoshiro's fixed point: nb_rng_normal looped
     * forever rejecting (-1, -1); it now behaves as seeded with 0 */
    nb_rng z = {{0}}, s;
    nb_rng_seed(&s, 0);
    VAL(nb_rng_normal(&z) == nb_rng_normal(&s) && nb_rng_u64(&z) == nb_rng_u64(&s), 1);
}
static void c_nb_set_threads(void) { RUNS(nb_set_threads(1)); }

#include "api_null_graph.h" /* the graph.h cases */

/* ---------------------------------------------------------------- data.h */

static void c_nb_task_parse(void)
{
    nb_task t;
    ARG(nb_task_parse(NULL, &t), "name");
    ARG(nb_task_parse("classify", NULL), "out");
}

static void c_nb_task_name(void) { VAL(nb_task_name(NB_TASK_CLASSIFY) != NULL, 1); }

static void c_nb_dataset_create_from(void)
{
    static const float x[3] = {1, 2, 3};
    nb_dataset *d;
    ARG(nb_dataset_create_from(NULL, 1, 3, NULL, 0, NB_TASK_REGRESS, 0, &d), "x");
    ARG(nb_dataset_create_from(x, 1, 3, NULL, 0, NB_TASK_REGRESS, 0, NULL), "out");
}

static void c_nb_dataset_n_rows(void) { VAL(nb_dataset_n_rows(NULL), 0); }
static void c_nb_dataset_n_features(void) { VAL(nb_dataset_n_features(NULL), 0); }
static void c_nb_dataset_n_targets(void) { VAL(nb_dataset_n_targets(NULL), 0); }
static void c_nb_dataset_sample_rank(void) { VAL(nb_dataset_sample_rank(NULL), 0); }
static void c_nb_dataset_sample_shape(void) { VAL(nb_dataset_sample_shape(NULL) == NULL, 1); }
static void c_nb_dataset_targets(void) { VAL(nb_dataset_targets(NULL) == NULL, 1); }
static void c_nb_dataset_task(void) { VAL(nb_dataset_task(NULL), NB_TASK_CLASSIFY); }
static void c_nb_dataset_n_classes(void) { VAL(nb_dataset_n_classes(NULL), 0); }
static void c_nb_dataset_class_name(void) { VAL(nb_dataset_class_name(NULL, 0) == NULL, 1); }

static void c_nb_dataset_set_sample_shape(void)
{
    nb_dataset *d = dataset();
    ARG(nb_dataset_set_sample_shape(NULL, 1, (int64_t[]){3}), "dataset");
    ARG(nb_dataset_set_sample_shape(d, 1, NULL), "shape");
    nb_dataset_free(d);
}

static void c_nb_dataset_free(void) { RUNS(nb_dataset_free(NULL)); }

static void c_nb_dataset_split(void)
{
    nb_dataset *d = dataset(), *a, *b;
    ARG(nb_dataset_split(NULL, 0.5, 1, &a, &b), "dataset");
    ARG(nb_dataset_split(d, 0.5, 1, NULL, &b), "train");
    ARG(nb_dataset_split(d, 0.5, 1, &a, NULL), "val");
    nb_dataset_free(d);
}

static void c_nb_shuffle_indices(void)
{
    nb_rng r;
    int64_t idx[4] = {0, 1, 2, 3};
    nb_rng_seed(&r, 1);
    RUNS(nb_shuffle_indices(NULL, idx, 4)); /* void: nothing happens */
    RUNS(nb_shuffle_indices(&r, NULL, 4));
    VAL(idx[0] == 0 && idx[3] == 3, 1);
}

static void c_nb_dataset_truncate(void) { ARG(nb_dataset_truncate(NULL, 1), "dataset"); }

static void c_nb_dataset_rows(void)
{
    nb_dataset *d = dataset();
    float x[6], y[2];
    ARG(nb_dataset_rows(NULL, 0, 2, x, y), "dataset");
    ARG(nb_dataset_rows(d, 0, 2, NULL, y), "x_out");
    VAL(nb_dataset_rows(d, 0, 2, x, NULL), NB_OK); /* y_out optional */
    nb_dataset_free(d);
}

static void c_nb_dataset_prefetch(void)
{
    nb_dataset *d = dataset();
    int64_t rows[2] = {0, 1}, cursor = 0;
    RUNS(nb_dataset_prefetch(NULL, rows, 2, 1, &cursor));
    RUNS(nb_dataset_prefetch(d, NULL, 2, 1, &cursor));
    RUNS(nb_dataset_prefetch(d, rows, 2, 1, NULL));
    nb_dataset_free(d);
}

static void c_nb_dataset_gather(void)
{
    nb_dataset *d = dataset();
    int64_t rows[2] = {0, 1};
    float x[6], y[2];
    ARG(nb_dataset_gather(NULL, rows, 2, x, y), "dataset");
    ARG(nb_dataset_gather(d, NULL, 2, x, y), "rows");
    ARG(nb_dataset_gather(d, rows, 2, NULL, y), "x_out");
    VAL(nb_dataset_gather(d, rows, 2, x, NULL), NB_OK);
    nb_dataset_free(d);
}

static void c_nb_scale_parse(void)
{
    nb_scaling s;
    ARG(nb_scale_parse(NULL, &s), "name");
    ARG(nb_scale_parse("minmax", NULL), "out");
}

static void c_nb_scale_name(void) { VAL(nb_scale_name(NB_SCALE_MINMAX) != NULL, 1); }
static void c_nb_missing_parse(void)
{
    nb_missing m;
    ARG(nb_missing_parse(NULL, &m), "name");
    ARG(nb_missing_parse("mean", NULL), "out");
}
static void c_nb_missing_name(void) { VAL(nb_missing_name(NB_MISSING_DROP) != NULL, 1); }
static void c_nb_preproc_missing(void) { VAL(nb_preproc_missing(NULL), NB_MISSING_ERROR); }
static void c_nb_preproc_create(void) { ARG(nb_preproc_create(NULL), "out"); }
static void c_nb_preproc_free(void) { RUNS(nb_preproc_free(NULL)); }
static void c_nb_preproc_has_schema(void) { VAL(nb_preproc_has_schema(NULL), 0); }
static void c_nb_preproc_task(void) { VAL(nb_preproc_task(NULL), NB_TASK_CLASSIFY); }
static void c_nb_preproc_n_features(void) { VAL(nb_preproc_n_features(NULL), 0); }
static void c_nb_preproc_vocab_size(void) { VAL(nb_preproc_vocab_size(NULL), 0); }
static void c_nb_preproc_n_targets(void) { VAL(nb_preproc_n_targets(NULL), 0); }
static void c_nb_preproc_n_classes(void) { VAL(nb_preproc_n_classes(NULL), 0); }
static void c_nb_preproc_class_name(void) { VAL(nb_preproc_class_name(NULL, 0) == NULL, 1); }

static void c_nb_preproc_set_sample_shape(void)
{
    nb_preproc *pp = preproc();
    ARG(nb_preproc_set_sample_shape(NULL, 1, (int64_t[]){3}), "preproc");
    ARG(nb_preproc_set_sample_shape(pp, 1, NULL), "shape");
    nb_preproc_free(pp);
}

static void c_nb_preproc_fit_scaling(void)
{
    nb_preproc *pp = preproc();
    nb_dataset *d = dataset();
    ARG(nb_preproc_fit_scaling(NULL, NB_SCALE_MINMAX, d), "preproc");
    ARG(nb_preproc_fit_scaling(pp, NB_SCALE_MINMAX, NULL), "dataset");
    nb_preproc_free(pp);
    nb_dataset_free(d);
}

static void c_nb_preproc_apply_scaling(void)
{
    nb_preproc *pp = preproc();
    nb_dataset *d = dataset();
    ARG(nb_preproc_apply_scaling(NULL, d), "preproc");
    ARG(nb_preproc_apply_scaling(pp, NULL), "dataset");
    nb_preproc_free(pp);
    nb_dataset_free(d);
}

static void c_nb_preproc_set_scaling(void)
{
    nb_preproc *pp = preproc();
    static const float o[3], s[3] = {1, 1, 1};
    ARG(nb_preproc_set_scaling(NULL, NB_SCALE_MINMAX, 3, o, s), "preproc");
    ARG(nb_preproc_set_scaling(pp, NB_SCALE_MINMAX, 3, NULL, s), "offset");
    ARG(nb_preproc_set_scaling(pp, NB_SCALE_MINMAX, 3, o, NULL), "scale");
    nb_preproc_free(pp);
}

static void c_nb_preproc_fit_target_scaling(void)
{
    nb_preproc *pp = preproc();
    nb_dataset *d = dataset();
    ARG(nb_preproc_fit_target_scaling(NULL, NB_SCALE_STANDARD, d), "preproc");
    ARG(nb_preproc_fit_target_scaling(pp, NB_SCALE_STANDARD, NULL), "dataset");
    nb_preproc_free(pp);
    nb_dataset_free(d);
}

static void c_nb_preproc_apply_target_scaling(void)
{
    nb_preproc *pp = preproc();
    nb_dataset *d = dataset();
    ARG(nb_preproc_apply_target_scaling(NULL, d), "preproc");
    ARG(nb_preproc_apply_target_scaling(pp, NULL), "dataset");
    nb_preproc_free(pp);
    nb_dataset_free(d);
}

static void c_nb_preproc_unscale_targets(void)
{
    nb_preproc *pp = preproc();
    float y[2] = {1, 2};
    RUNS(nb_preproc_unscale_targets(NULL, y, 2));
    RUNS(nb_preproc_unscale_targets(pp, NULL, 2));
    VAL(y[0] == 1 && y[1] == 2, 1);
    nb_preproc_free(pp);
}

static void c_nb_preproc_target_scaling(void) { VAL(nb_preproc_target_scaling(NULL), NB_SCALE_NONE); }

static void c_nb_preproc_target_stats(void)
{
    nb_preproc *pp = preproc();
    double m, s;
    ARG(nb_preproc_target_stats(NULL, 0, &m, &s), "preproc");
    RUNS(nb_preproc_target_stats(pp, 0, NULL, NULL));
    nb_preproc_free(pp);
}

static void c_nb_preproc_to_json(void)
{
    nb_preproc *pp = preproc();
    char *j = NULL;
    ARG(nb_preproc_to_json(NULL, &j), "preproc");
    ARG(nb_preproc_to_json(pp, NULL), "json");
    nb_preproc_free(pp);
}

static void c_nb_preproc_from_json(void)
{
    nb_preproc *pp;
    ARG(nb_preproc_from_json(NULL, &pp), "json");
    ARG(nb_preproc_from_json("{}", NULL), "out");
}

static void c_nb_data_opts_default(void) { RUNS(nb_data_opts_default()); }

static void c_nb_dataset_load(void)
{
    nb_dataset *d;
    ARG(nb_dataset_load(NULL, NULL, NULL, &d), "spec");
    ARG(nb_dataset_load(path("none.csv"), NULL, NULL, NULL), "out");
}

static void c_nb_dataset_load_csv_text(void)
{
    nb_dataset *d;
    ARG(nb_dataset_load_csv_text(NULL, NULL, 3, NULL, NULL, &d), "text");
    ARG(nb_dataset_load_csv_text(NULL, "a,b\n1,2\n", 8, NULL, NULL, NULL), "out");
}

/* ---------------------------------------------------------------- io.h */

static void c_nb_st_load(void)
{
    nb_st *s;
    ARG(nb_st_load(NULL, &s), "path");
    ARG(nb_st_load(path("none.st"), NULL), "out");
}

static void c_nb_st_free(void) { RUNS(nb_st_free(NULL)); }
static void c_nb_st_count(void) { VAL(nb_st_count(NULL), 0); }

static void c_nb_st_tensor(void)
{
    nb_view v;
    const char *name;
    ARG(nb_st_tensor(NULL, 0, &name, &v), "st");
}

static void c_nb_st_find(void)
{
    nb_st *s = st();
    nb_view v;
    ARG(nb_st_find(NULL, "layers.0.bias", &v), "st");
    ARG(nb_st_find(s, NULL, &v), "name");
    VAL(nb_st_find(s, "layers.0.bias", NULL), NB_OK); /* view optional: a presence test */
    nb_st_free(s);
}

static void c_nb_st_meta(void)
{
    nb_st *s = st();
    VAL(nb_st_meta(NULL, "task") == NULL, 1);
    VAL(nb_st_meta(s, NULL) == NULL, 1);
    nb_st_free(s);
}

static void c_nb_st_meta_count(void) { VAL(nb_st_meta_count(NULL), 0); }

static void c_nb_st_meta_at(void)
{
    const char *k, *v;
    ARG(nb_st_meta_at(NULL, 0, &k, &v), "st");
}

static void c_nb_st_header_size(void)
{
    static float d[1];
    nb_st_entry e = {"a", {1, {1}, 1, d}};
    size_t len;
    ARG(nb_st_header_size(&e, 1, NULL, NULL, 0, NULL), "len");
    ARG(nb_st_header_size(NULL, 1, NULL, NULL, 0, &len), "tensors");
    const char *k[1] = {"k"};
    ARG(nb_st_header_size(&e, 1, NULL, k, 1, &len), "meta_keys");
    ARG(nb_st_header_size(&e, 1, k, NULL, 1, &len), "meta_values");
}

static void c_nb_st_save(void)
{
    static float d[1];
    nb_st_entry e = {"a", {1, {1}, 1, d}};
    ARG(nb_st_save(NULL, &e, 1, NULL, NULL, 0), "path");
    ARG(nb_st_save(path("w.st"), NULL, 1, NULL, NULL, 0), "tensors");
    const char *k[1] = {"k"};
    ARG(nb_st_save(path("w.st"), &e, 1, NULL, k, 1), "meta_keys");
    ARG(nb_st_save(path("w.st"), &e, 1, k, NULL, 1), "meta_values");
}

/* ---------------------------------------------------------------- optim.h */

static void c_nb_optim_config_default(void) { RUNS(nb_optim_config_default(NB_OPTIM_ADAM)); }
static void c_nb_optim_config_check(void) { ARG(nb_optim_config_check(NULL), "config"); }

static void c_nb_optim_create(void)
{
    nb_optim_config cfg = nb_optim_config_default(NB_OPTIM_SGD);
    nb_optim *o;
    ARG(nb_optim_create(NULL, 4, &o), "config");
    ARG(nb_optim_create(&cfg, 4, NULL), "out");
}

static void c_nb_optim_free(void) { RUNS(nb_optim_free(NULL)); }

static void c_nb_optim_step(void)
{
    nb_optim *o = optim();
    float p[4] = {0}, gr[4] = {0};
    ARG(nb_optim_step(NULL, p, gr, 4), "optimizer");
    ARG(nb_optim_step(o, NULL, gr, 4), "params");
    ARG(nb_optim_step(o, p, NULL, 4), "grads");
    nb_optim_free(o);
}

static void c_nb_optim_grad_norm(void) { VAL(nb_optim_grad_norm(NULL), 0.0); }
static void c_nb_optim_set_epoch(void) { ARG(nb_optim_set_epoch(NULL, 1), "optimizer"); }
static void c_nb_optim_lr(void) { VAL(nb_optim_lr(NULL), 0.0f); }
static void c_nb_optim_config_get(void) { VAL(nb_optim_config_get(NULL) == NULL, 1); }
static void c_nb_optim_steps(void) { VAL(nb_optim_steps(NULL), 0); }
static void c_nb_optim_set_steps(void) { ARG(nb_optim_set_steps(NULL, 1), "optimizer"); }
static void c_nb_optim_state_count(void) { VAL(nb_optim_state_count(NULL), 0); }

static void c_nb_optim_state(void)
{
    const char *name;
    float *data;
    size_t n;
    ARG(nb_optim_state(NULL, 0, &name, &data, &n), "optimizer");
}

static void c_nb_optim_type_parse(void)
{
    nb_optim_type t;
    ARG(nb_optim_type_parse(NULL, &t), "name");
    ARG(nb_optim_type_parse("sgd", NULL), "out");
}

static void c_nb_schedule_parse(void)
{
    nb_schedule s;
    ARG(nb_schedule_parse(NULL, &s), "name");
    ARG(nb_schedule_parse("constant", NULL), "out");
}

static void c_nb_optim_type_name(void) { VAL(nb_optim_type_name(NB_OPTIM_SGD) != NULL, 1); }
static void c_nb_schedule_name(void) { VAL(nb_schedule_name(NB_SCHED_CONSTANT) != NULL, 1); }

/* ---------------------------------------------------------------- nn.h */

static void c_nb_init_parse(void)
{
    nb_init i;
    ARG(nb_init_parse(NULL, &i), "name");
    ARG(nb_init_parse("torch", NULL), "out");
}

static void c_nb_model_create(void) { ARG(nb_model_create(NB_TASK_CLASSIFY, NULL), "out"); }
static void c_nb_model_free(void) { RUNS(nb_model_free(NULL)); }
static void c_nb_model_add_dense(void) { ARG(nb_model_add_dense(NULL, 2, 1), "model"); }
static void c_nb_model_add_activation(void) { ARG(nb_model_add_activation(NULL, NB_OP_RELU, 0), "model"); }
static void c_nb_model_add_flatten(void) { ARG(nb_model_add_flatten(NULL), "model"); }
static void c_nb_model_add_conv2d(void) { ARG(nb_model_add_conv2d(NULL, 2, (int[]){3, 3}, NULL, NULL, NULL, 1), "model"); }

static void c_nb_model_add_pool(void)
{
    nb_model *m;
    nb_model_create(NB_TASK_CLASSIFY, &m);
    ARG(nb_model_add_pool(NULL, NB_LAYER_MAXPOOL, (int[]){2, 2}, NULL, NULL), "model");
    ARG(nb_model_add_pool(m, NB_LAYER_MAXPOOL, NULL, NULL, NULL), "kernel");
    nb_model_free(m);
}

static void c_nb_model_add_global_avgpool(void) { ARG(nb_model_add_global_avgpool(NULL), "model"); }
static void c_nb_model_add_dropout(void) { ARG(nb_model_add_dropout(NULL, 0.5f), "model"); }
static void c_nb_model_add_batchnorm(void) { ARG(nb_model_add_batchnorm(NULL), "model"); }
static void c_nb_model_add_prelu(void) { ARG(nb_model_add_prelu(NULL, 1), "model"); }
static void c_nb_model_add_embedding(void) { ARG(nb_model_add_embedding(NULL, 4, 10, 1), "model"); }
static void c_nb_model_set_vocab(void) { ARG(nb_model_set_vocab(NULL, 10), "model"); }
static void c_nb_model_add_rnn(void) { ARG(nb_model_add_rnn(NULL, NB_CELL_LSTM, 8, NB_RNN_LAST, 0), "model"); }

static void c_nb_model_parse(void)
{
    nb_model *m;
    ARG(nb_model_parse(NULL, NB_TASK_CLASSIFY, &m), "spec");
    ARG(nb_model_parse("dense 2", NB_TASK_CLASSIFY, NULL), "out");
}

static void c_nb_model_spec(void) { VAL(strcmp(nb_model_spec(NULL), ""), 0); }

static void c_nb_model_build(void)
{
    nb_model *m;
    nb_model_parse("dense 2", NB_TASK_CLASSIFY, &m);
    ARG(nb_model_build(NULL, 1, (int64_t[]){3}, 2), "model");
    ARG(nb_model_build(m, 1, NULL, 2), "sample_shape");
    nb_model_free(m);
}

static void c_nb_model_plan(void)
{
    nb_model *m;
    nb_model_parse("dense 2", NB_TASK_CLASSIFY, &m);
    ARG(nb_model_plan(NULL, 1, (int64_t[]){3}, 2), "model");
    ARG(nb_model_plan(m, 1, NULL, 2), "sample_shape");
    nb_model_free(m);
}

static void c_nb_model_init(void) { ARG(nb_model_init(NULL, NB_INIT_TORCH, 0, 1), "model"); }
static void c_nb_model_task(void) { VAL(nb_model_task(NULL), NB_TASK_CLASSIFY); }
static void c_nb_model_graph(void) { VAL(nb_model_graph(NULL) == NULL, 1); }
static void c_nb_model_param_count(void) { VAL(nb_model_param_count(NULL), 0); }
static void c_nb_model_params(void) { VAL(nb_model_params(NULL) == NULL, 1); }
static void c_nb_model_n_outputs(void) { VAL(nb_model_n_outputs(NULL), 0); }

static void c_nb_model_sample_shape(void)
{
    nb_model *m = model();
    int64_t s[3];
    VAL(nb_model_sample_shape(NULL, s), 0);
    VAL(nb_model_sample_shape(m, NULL), 1); /* shape optional: the rank */
    nb_model_free(m);
}

static void c_nb_model_n_param_tensors(void) { VAL(nb_model_n_param_tensors(NULL), 0); }

static void c_nb_model_param_info(void)
{
    nb_model *m = model();
    nb_param_info pi;
    ARG(nb_model_param_info(NULL, 0, &pi), "model");
    ARG(nb_model_param_info(m, 0, NULL), "out");
    nb_model_free(m);
}

static void c_nb_model_n_layers(void) { VAL(nb_model_n_layers(NULL), 0); }

static void c_nb_model_layer_info(void)
{
    nb_model *m = model();
    nb_layer_info li;
    ARG(nb_model_layer_info(NULL, 0, &li), "model");
    ARG(nb_model_layer_info(m, 0, NULL), "out");
    nb_model_free(m);
}

static void c_nb_model_predict(void)
{
    nb_model *m = model();
    float x[3] = {0}, out[2];
    ARG(nb_model_predict(NULL, x, 1, out), "model");
    ARG(nb_model_predict(m, NULL, 1, out), "x");
    ARG(nb_model_predict(m, x, 1, NULL), "out");
    nb_model_free(m);
}

static void c_nb_model_predict_data(void)
{
    nb_model *m = model();
    nb_dataset *d = dataset();
    float out[8];
    ARG(nb_model_predict_data(NULL, d, 0, 4, out), "model");
    ARG(nb_model_predict_data(m, NULL, 0, 4, out), "dataset");
    ARG(nb_model_predict_data(m, d, 0, 4, NULL), "out");
    nb_model_free(m);
    nb_dataset_free(d);
}

static void c_nb_model_evaluate(void)
{
    nb_model *m = model();
    nb_dataset *d = dataset();
    nb_metrics mt;
    ARG(nb_model_evaluate(NULL, d, &mt), "model");
    ARG(nb_model_evaluate(m, NULL, &mt), "dataset");
    ARG(nb_model_evaluate(m, d, NULL), "out");
    nb_model_free(m);
    nb_dataset_free(d);
}

static void c_nb_metrics_free(void) { RUNS(nb_metrics_free(NULL)); }
static void c_nb_train_config_default(void) { RUNS(nb_train_config_default()); }
static void c_nb_train_auto_epochs(void) { RUNS(nb_train_auto_epochs(100, 10)); }
static void c_nb_history_free(void) { RUNS(nb_history_free(NULL)); }
/* no communicator (or one of size 1): the status comes back unchanged, nothing is called */
static void c_nb_comm_agree(void) { VAL(nb_comm_agree(NULL, NB_ERR_IO, NULL), NB_ERR_IO); VAL(nb_comm_agree(NULL, NB_OK, "x"), NB_OK); }

static void c_nb_model_train(void)
{
    nb_model *m = model();
    nb_dataset *d = dataset();
    nb_train_config cfg = nb_train_config_default();
    cfg.epochs = 1;
    ARG(nb_model_train(NULL, d, NULL, &cfg, NULL), "model");
    ARG(nb_model_train(m, NULL, NULL, &cfg, NULL), "train");
    ARG(nb_model_train(m, d, NULL, NULL, NULL), "config");
    nb_model_free(m);
    nb_dataset_free(d);
}

static void c_nb_model_save(void)
{
    nb_model *m = model();
    ARG(nb_model_save(NULL, path("s.st"), NULL), "model");
    ARG(nb_model_save(m, NULL, NULL), "path");
    nb_model_free(m);
}

static void c_nb_model_load(void)
{
    nb_model *m = model(), *l;
    nb_model_save(m, path("l.st"), NULL);
    nb_model_free(m);
    ARG(nb_model_load(NULL, &l, NULL), "path");
    ARG(nb_model_load(path("l.st"), NULL, NULL), "out");
}

static void c_nb_model_save_onnx(void)
{
    nb_model *m = model();
    ARG(nb_model_save_onnx(NULL, path("s.onnx"), NULL), "model");
    ARG(nb_model_save_onnx(m, NULL, NULL), "path");
    nb_model_free(m);
}

static void c_nb_model_load_weights(void)
{
    nb_model *m = model();
    nb_model_save(m, path("w.st"), NULL);
    ARG(nb_model_load_weights(NULL, path("w.st")), "model");
    ARG(nb_model_load_weights(m, NULL), "path");
    nb_model_free(m);
}

static void c_nb_model_load_onnx(void)
{
    nb_model *l;
    ARG(nb_model_load_onnx(NULL, &l, NULL), "path");
    ARG(nb_model_load_onnx("tests/onnx/cases/regress.onnx", NULL, NULL), "out");
}

/* ---------------------------------------------------------------- the table */

#define T(name) {#name, c_##name}
static const struct {
    const char *name;
    void (*run)(void);
} cases[] = {
    T(nb_version), T(nb_status_name), T(nb_errmsg), T(nb_error_clear), T(nb_set_allocator),
    T(nb_free), T(nb_check_output_path), T(nb_rng_seed), T(nb_rng_u64), T(nb_rng_below),
    T(nb_rng_uniform), T(nb_rng_normal), T(nb_set_threads),
    T(nb_graph_create), T(nb_graph_free), T(nb_graph_status), T(nb_input), T(nb_param),
    T(nb_const), T(nb_require_grad), T(nb_op), T(nb_add), T(nb_sub), T(nb_mul), T(nb_div),
    T(nb_neg), T(nb_scale), T(nb_exp), T(nb_log), T(nb_square), T(nb_sqrt), T(nb_matmul),
    T(nb_sum), T(nb_mean), T(nb_max), T(nb_sum_all), T(nb_mean_all), T(nb_reshape),
    T(nb_flatten), T(nb_sigmoid), T(nb_tanh), T(nb_relu), T(nb_leaky_relu), T(nb_elu),
    T(nb_softplus), T(nb_silu), T(nb_identity), T(nb_step), T(nb_maxout), T(nb_softmax),
    T(nb_log_softmax), T(nb_softmax_ce), T(nb_bce_logits), T(nb_mse), T(nb_conv2d),
    T(nb_conv2d_bias), T(nb_maxpool2d), T(nb_avgpool2d), T(nb_global_avgpool), T(nb_dropout),
    T(nb_batchnorm), T(nb_embedding), T(nb_seq_lengths), T(nb_rnn), T(nb_graph_set_training), T(nb_graph_training), T(nb_graph_seed),
    T(nb_graph_rng), T(nb_custom), T(nb_graph_compile), T(nb_graph_set_batch),
    T(nb_graph_batch), T(nb_graph_feed), T(nb_graph_forward), T(nb_graph_backward),
    T(nb_graph_zero_grad), T(nb_graph_value), T(nb_graph_grad), T(nb_graph_set_reuse),
    T(nb_graph_keep), T(nb_graph_params), T(nb_graph_grads), T(nb_graph_node_count),
    T(nb_graph_node_op), T(nb_graph_node_name), T(nb_graph_node_inputs), T(nb_graph_find),
    T(nb_graph_node_shape), T(nb_op_name), T(nb_graph_dot), T(nb_graph_save_dot),
    T(nb_gradcheck),
    T(nb_task_parse), T(nb_task_name), T(nb_dataset_create_from), T(nb_dataset_n_rows),
    T(nb_dataset_n_features), T(nb_dataset_n_targets), T(nb_dataset_sample_rank),
    T(nb_dataset_sample_shape), T(nb_dataset_targets), T(nb_dataset_task),
    T(nb_dataset_n_classes), T(nb_dataset_class_name), T(nb_dataset_set_sample_shape),
    T(nb_dataset_free), T(nb_dataset_split), T(nb_shuffle_indices), T(nb_dataset_truncate),
    T(nb_dataset_rows), T(nb_dataset_prefetch), T(nb_dataset_gather), T(nb_scale_parse),
    T(nb_scale_name), T(nb_missing_parse), T(nb_missing_name), T(nb_preproc_missing),
    T(nb_preproc_create), T(nb_preproc_free), T(nb_preproc_has_schema),
    T(nb_preproc_task), T(nb_preproc_n_features), T(nb_preproc_n_targets),
    T(nb_preproc_n_classes), T(nb_preproc_class_name), T(nb_preproc_set_sample_shape),
    T(nb_preproc_vocab_size),
    T(nb_preproc_fit_scaling), T(nb_preproc_apply_scaling), T(nb_preproc_set_scaling),
    T(nb_preproc_fit_target_scaling), T(nb_preproc_apply_target_scaling),
    T(nb_preproc_unscale_targets), T(nb_preproc_target_scaling), T(nb_preproc_target_stats),
    T(nb_preproc_to_json), T(nb_preproc_from_json), T(nb_data_opts_default),
    T(nb_dataset_load), T(nb_dataset_load_csv_text),
    T(nb_st_load), T(nb_st_free), T(nb_st_count), T(nb_st_tensor), T(nb_st_find), T(nb_st_meta),
    T(nb_st_meta_count), T(nb_st_meta_at), T(nb_st_save), T(nb_st_header_size),
    T(nb_optim_config_default), T(nb_optim_config_check), T(nb_optim_create), T(nb_optim_free),
    T(nb_optim_step), T(nb_optim_grad_norm), T(nb_optim_set_epoch), T(nb_optim_lr),
    T(nb_optim_config_get), T(nb_optim_steps), T(nb_optim_set_steps), T(nb_optim_state_count),
    T(nb_optim_state), T(nb_optim_type_parse), T(nb_schedule_parse), T(nb_optim_type_name),
    T(nb_schedule_name),
    T(nb_init_parse), T(nb_model_create), T(nb_model_free), T(nb_model_add_dense),
    T(nb_model_add_activation), T(nb_model_add_flatten), T(nb_model_add_conv2d),
    T(nb_model_add_pool), T(nb_model_add_global_avgpool), T(nb_model_add_dropout),
    T(nb_model_add_batchnorm), T(nb_model_add_prelu), T(nb_model_add_embedding), T(nb_model_set_vocab), T(nb_model_add_rnn), T(nb_model_parse), T(nb_model_spec),
    T(nb_model_build), T(nb_model_plan), T(nb_model_init), T(nb_model_task), T(nb_model_graph),
    T(nb_model_param_count), T(nb_model_params), T(nb_model_n_outputs), T(nb_model_sample_shape),
    T(nb_model_n_param_tensors), T(nb_model_param_info), T(nb_model_n_layers),
    T(nb_model_layer_info), T(nb_model_predict), T(nb_model_predict_data), T(nb_model_evaluate),
    T(nb_metrics_free), T(nb_train_config_default), T(nb_train_auto_epochs), T(nb_history_free), T(nb_comm_agree),
    T(nb_model_train), T(nb_model_save), T(nb_model_load), T(nb_model_load_weights),
    T(nb_model_save_onnx), T(nb_model_load_onnx),
};

int main(int argc, char **argv)
{
    size_t n = sizeof cases / sizeof cases[0];
    if (argc > 1 && strcmp(argv[1], "--list") == 0) {
        for (size_t i = 0; i < n; i++) printf("%s\n", cases[i].name);
        return 0;
    }
    snprintf(dir, sizeof dir, "/tmp/nb_api_null.XXXXXX");
    if (!mkdtemp(dir)) return 1;
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        const char *only = argc > 1 ? argv[1] : NULL;
        if (only && strcmp(only, cases[i].name) != 0) continue;
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            alarm(20); /* an endless loop is a failure, not a hung test */
            cur = cases[i].name;
            cases[i].run();
            _exit(bad ? 1 : 0);
        }
        int ws = 0;
        if (pid < 0 || waitpid(pid, &ws, 0) != pid) ws = -1;
        if (ws == -1 || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
            failed++;
            if (ws != -1 && WIFSIGNALED(ws))
                fprintf(stderr, "FAIL %s: killed by signal %d%s\n", cases[i].name, WTERMSIG(ws),
                        WTERMSIG(ws) == SIGALRM ? " (an endless loop)" : "");
            else if (ws != -1 && WEXITSTATUS(ws) != 1)
                fprintf(stderr, "FAIL %s: exit %d (a crash under the sanitizer?)\n", cases[i].name, WEXITSTATUS(ws));
        }
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) { /* best effort */ }
    printf("test_api_null: %zu functions, %d failed\n", n, failed);
    return failed ? 1 : 0;
}
