/* SPDX-License-Identifier: MIT */
/*
 * import.c - `nabla import`: a model file from weights trained elsewhere (a PyTorch state_dict
 * saved as safetensors), a spec and a scaling, without training: a forced epoch would move the
 * weights and rewrite the batch-norm running statistics. The data sample gives the schema
 * (columns, label, class names) that predict and eval then enforce, and the statistics of a
 * fitted scaling. Every tensor of the file must be a tensor of the model and the reverse, so a
 * spec that does not mirror the nn.Sequential fails here instead of predicting nonsense.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

typedef struct import_args {
    const char *weights, *spec, *data, *out, *input_shape, *task, *label, *header, *class_names;
    const char *scale, *mean, *std;
    int quiet;
} import_args;

/* Parse a comma list of numbers into a malloc'ed array of *n floats (NULL: printed error). */
static float *parse_list(const char *opt, const char *text, int64_t *n)
{
    int64_t cap = 1;
    for (const char *p = text; *p; p++) cap += *p == ',';
    float *v = malloc((size_t)cap * sizeof *v);
    if (!v) {
        cli_fail(NB_ERR_NOMEM, "%s: out of memory", opt);
        return NULL;
    }
    const char *p = text;
    for (int64_t i = 0; i < cap; i++) {
        char *end;
        double d = strtod(p, &end);
        if (end == p || (*end && *end != ',') || !(d >= -3.4e38 && d <= 3.4e38)) {
            cli_fail(NB_ERR_ARG, "%s: expected a comma-separated list of numbers, got '%s'", opt, text);
            free(v);
            return NULL;
        }
        v[i] = (float)d;
        p = end + 1;
    }
    *n = cap;
    return v;
}

/* Widen k values to nf per-feature ones: k == 1 (every feature), k == the channels of a
 * (C, H, W) sample (as torchvision's Normalize), or k == nf. */
static int per_feature(const char *opt, const float *v, int64_t k, const nb_dataset *ds, float *out)
{
    int64_t nf = nb_dataset_n_features(ds);
    int rank = nb_dataset_sample_rank(ds);
    const int64_t *shape = nb_dataset_sample_shape(ds);
    int64_t per_c = rank == 3 && shape[0] == k ? nf / k : 0;
    if (k != 1 && k != nf && !per_c)
        return cli_fail(NB_ERR_ARG, "%s: %lld values for %lld features: give 1, one per feature%s",
                        opt, (long long)k, (long long)nf, rank == 3 ? " or one per channel" : "");
    for (int64_t j = 0; j < nf; j++) out[j] = k == 1 ? v[0] : k == nf ? v[j] : v[j / per_c];
    return NB_OK;
}

static int set_scaling(const import_args *a, nb_preproc *pp, const nb_dataset *ds)
{
    const char *mode = a->scale ? a->scale : a->mean ? "standard" : "none";
    if (a->mean || a->std) {
        if (!a->mean || !a->std)
            return cli_fail(NB_ERR_ARG, "import: --scale-mean and --scale-std go together");
        if (strcmp(mode, "standard") != 0)
            return cli_fail(NB_ERR_ARG, "import: --scale-mean/--scale-std are a standard scaling, not --scale %s", mode);
        int64_t nf = nb_dataset_n_features(ds), km = 0, ks = 0;
        float *m = parse_list("--scale-mean", a->mean, &km), *s = m ? parse_list("--scale-std", a->std, &ks) : NULL;
        float *off = malloc((size_t)nf * sizeof *off), *sc = malloc((size_t)nf * sizeof *sc);
        int rc = !m || !s ? NB_ERR_ARG : !off || !sc ? cli_fail(NB_ERR_NOMEM, "import: out of memory") : NB_OK;
        if (!rc) rc = per_feature("--scale-mean", m, km, ds, off);
        if (!rc) rc = per_feature("--scale-std", s, ks, ds, sc);
        if (!rc && (rc = nb_preproc_set_scaling(pp, NB_SCALE_STANDARD, nf, off, sc)))
            rc = cli_lib_fail(rc, "--scale-std");
        free(m), free(s), free(off), free(sc);
        return rc;
    }
    if (strcmp(mode, "unit") == 0) { /* pixels: x / 255, kept as minmax with fixed statistics */
        int64_t nf = nb_dataset_n_features(ds);
        float *off = calloc((size_t)nf, sizeof *off), *sc = malloc((size_t)nf * sizeof *sc);
        int rc = off && sc ? NB_OK : cli_fail(NB_ERR_NOMEM, "import: out of memory");
        for (int64_t j = 0; !rc && j < nf; j++) sc[j] = 255.0f;
        if (!rc && (rc = nb_preproc_set_scaling(pp, NB_SCALE_MINMAX, nf, off, sc))) rc = cli_lib_fail(rc, "--scale");
        free(off), free(sc);
        return rc;
    }
    nb_scaling s;
    if (nb_scale_parse(mode, &s))
        return cli_fail(NB_ERR_ARG, "--scale: expected none, unit, minmax or standard, got '%s'", mode);
    int rc = nb_preproc_fit_scaling(pp, s, ds); /* minmax / standard: fitted on --data */
    return rc ? cli_lib_fail(rc, "scaling") : NB_OK;
}

/* Every tensor of the weights file must be one of the model's (nb_model_load_weights has
 * checked the reverse): an extra one means the spec lacks a layer the network has. */
static int check_extra(const nb_model *m, const char *path)
{
    nb_st *st;
    int rc = nb_st_load(path, &st);
    if (rc) return cli_lib_fail(rc, path);
    int n = nb_model_n_param_tensors(m);
    for (int i = 0; !rc && i < nb_st_count(st); i++) {
        const char *name;
        nb_st_tensor(st, i, &name, NULL);
        int found = 0;
        for (int k = 0; !found && k < n; k++) {
            nb_param_info pi;
            found = !nb_model_param_info(m, k, &pi) && strcmp(pi.name, name) == 0;
        }
        if (!found)
            rc = cli_fail(NB_ERR_FORMAT, "%s: tensor '%s' is not part of the model '%s' (%d tensors); "
                          "make --model mirror the network layer by layer", path, name, nb_model_spec(m), n);
    }
    nb_st_free(st);
    return rc;
}

static int run(import_args *a, nb_model **m, nb_preproc **pp, nb_dataset **ds)
{
    nb_task task = NB_TASK_CLASSIFY;
    if (a->task && nb_task_parse(a->task, &task)) return cli_fail(NB_ERR_ARG, "--task: %s", nb_errmsg());
    int hdr = -1, rc;
    if (a->header && (rc = cli_header_mode(a->header, &hdr))) return rc;
    char *text = NULL;
    const char *spec = a->spec;
    if (cli_is_file(a->spec)) {
        if ((rc = cli_read_text(a->spec, 1 << 20, &text))) return rc;
        spec = text;
    }
    rc = nb_model_parse(spec, task, m);
    free(text);
    if (rc) return cli_lib_fail(rc, "--model");
    if (a->task && nb_model_task(*m) != task)
        return cli_fail(NB_ERR_ARG, "--task %s conflicts with the spec's 'task %s'", nb_task_name(task),
                        nb_task_name(nb_model_task(*m)));
    if ((rc = nb_preproc_create(pp))) return cli_lib_fail(rc, "preprocessing");
    nb_data_opts o = nb_data_opts_default();
    o.compact = 1;
    o.task = nb_model_task(*m);
    o.label = a->label;
    o.header = hdr;
    o.class_names = a->class_names;
    if ((rc = nb_dataset_load(a->data, &o, *pp, ds))) return cli_lib_fail(rc, a->data);
    if (!nb_dataset_n_targets(*ds))
        return cli_fail(NB_ERR_ARG, "--data: %s: the data has no label column (import takes the "
                        "classes and the label column from it)", a->data);
    if (a->input_shape) {
        int rank;
        int64_t shape[3];
        if ((rc = cli_parse_shape("--input-shape", a->input_shape, &rank, shape))) return rc;
        if ((rc = nb_preproc_set_sample_shape(*pp, rank, shape)) || (rc = nb_dataset_set_sample_shape(*ds, rank, shape)))
            return cli_fail(rc, "--input-shape %s: %s", a->input_shape, nb_errmsg());
    }
    if ((rc = set_scaling(a, *pp, *ds))) return rc;
    if (nb_preproc_vocab_size(*pp) > 0 && (rc = nb_model_set_vocab(*m, nb_preproc_vocab_size(*pp))))
        return cli_lib_fail(rc, "--model");
    if ((rc = nb_model_build(*m, nb_dataset_sample_rank(*ds), nb_dataset_sample_shape(*ds), cli_data_outputs(*ds))))
        return cli_lib_fail(rc, "--model");
    if ((rc = nb_model_load_weights(*m, a->weights))) return cli_lib_fail(rc, a->weights);
    if ((rc = check_extra(*m, a->weights))) return rc;
    if ((rc = cli_make_parent(a->out))) return rc;
    if ((rc = nb_model_save(*m, a->out, *pp))) return cli_lib_fail(rc, a->out);
    if (!a->quiet)
        fprintf(stderr, "imported %d tensors (%zu parameters) from %s into %s\n", nb_model_n_param_tensors(*m),
                nb_model_param_count(*m), a->weights, a->out);
    return NB_OK;
}

int cli_import(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, 2)) {
        fputs(cli_help_import, stdout);
        return cli_flush_stdout();
    }
    import_args a;
    memset(&a, 0, sizeof a);
    const cli_opt opts[] = {
        {"--weights", CLI_STR, &a.weights, 0, 0, 0, NULL},
        {"--model", CLI_STR, &a.spec, 0, 0, 0, NULL},
        {"--data", CLI_STR, &a.data, 0, 0, 0, "--fit"},
        {"--out", CLI_STR, &a.out, 0, 0, 0, NULL},
        {"--input-shape", CLI_STR, &a.input_shape, 0, 0, 0, NULL},
        {"--task", CLI_STR, &a.task, 0, 0, 0, NULL},
        {"--label", CLI_STR, &a.label, 0, 0, 0, NULL},
        {"--header", CLI_STR, &a.header, 0, 0, 0, NULL},
        {"--class-names", CLI_STR, &a.class_names, 0, 0, 0, NULL},
        {"--scale", CLI_STR, &a.scale, 0, 0, 0, NULL},
        {"--scale-mean", CLI_STR, &a.mean, 0, 0, 0, NULL},
        {"--scale-std", CLI_STR, &a.std, 0, 0, 0, NULL},
        {"--quiet", CLI_FLAG, &a.quiet, 0, 0, 0, "-q"},
    };
    int rc = cli_parse("import", argc, argv, 2, opts, (int)(sizeof opts / sizeof opts[0]));
    if (rc) return rc;
    if (!a.weights) return cli_fail(NB_ERR_ARG, "import: --weights FILE.safetensors is required");
    if (!a.spec) return cli_fail(NB_ERR_ARG, "import: --model SPEC is required");
    if (!a.data) return cli_fail(NB_ERR_ARG, "import: --data DATA is required (a labeled sample: the schema and classes)");
    if (!a.out) return cli_fail(NB_ERR_ARG, "import: --out FILE is required");
    if (a.out[strlen(a.out) - 1] == '/')
        return cli_fail(NB_ERR_ARG, "--out: expected a file name, got the directory '%s'", a.out);
    nb_model *m = NULL;
    nb_preproc *pp = NULL;
    nb_dataset *ds = NULL;
    rc = run(&a, &m, &pp, &ds);
    nb_dataset_free(ds);
    nb_preproc_free(pp);
    nb_model_free(m);
    return rc;
}
