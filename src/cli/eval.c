/* SPDX-License-Identifier: MIT */
/*
 * eval.c - `nabla eval` (alias `nabla test`): score a saved model on labeled data read through
 * the model's preprocessing, print the report on stdout and optionally the same figures as
 * JSON (--metrics-json, written atomically).
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

typedef struct eval_json {
    const char *model, *data;
    const nb_metrics *m;
    const nb_preproc *pp;
    const nb_dataset *ds;
} eval_json;

static int write_json(void *ud, FILE *f)
{
    const eval_json *e = ud;
    int k = e->m->n_classes;
    const char **names = k > 0 ? calloc((size_t)k, sizeof *names) : NULL;
    char (*bufs)[16] = k > 0 ? calloc((size_t)k, sizeof *bufs) : NULL;
    if (k > 0 && (!names || !bufs)) {
        free(names);
        free(bufs);
        return cli_fail(NB_ERR_NOMEM, "--metrics-json: out of memory");
    }
    for (int c = 0; c < k; c++) names[c] = cli_class_name(e->pp, e->ds, c, bufs[c], sizeof bufs[c]);
    cli_json j;
    cj_init(&j, f);
    cj_obj(&j, NULL);
    cj_str(&j, "model", e->model);
    cj_str(&j, "data", e->data);
    cli_metrics_json_body(&j, e->m, names);
    cj_end_obj(&j);
    free(names);
    free(bufs);
    return ferror(f) ? NB_ERR_IO : NB_OK;
}

int cli_eval(int argc, char **argv)
{
    const char *cmd = argv[1];
    if (cli_wants_help(argc, argv, 2)) {
        fputs(cli_help_eval, stdout);
        return cli_flush_stdout();
    }
    const char *model = NULL, *data = NULL, *header = NULL, *delim = NULL, *json = NULL;
    const char *missing = NULL;
    int64_t threads = 1;
    const cli_opt opts[] = {
        {"--threads", CLI_INT, &threads, 1, NB_MAX_THREADS, 0, NULL},
        {"--model", CLI_STR, &model, 0, 0, 0, NULL},
        {"--data", CLI_STR, &data, 0, 0, 0, NULL},
        {"--header", CLI_STR, &header, 0, 0, 0, NULL},
        {"--delimiter", CLI_STR, &delim, 0, 0, 0, NULL},
        {"--metrics-json", CLI_STR, &json, 0, 0, 0, NULL},
        {"--missing", CLI_STR, &missing, 0, 0, 0, NULL},
    };
    int rc = cli_parse(cmd, argc, argv, 2, opts, (int)(sizeof opts / sizeof opts[0]));
    if (rc) return rc;
    if (!model) return cli_fail(NB_ERR_ARG, "%s: --model MODEL is required", cmd);
    if (!data) return cli_fail(NB_ERR_ARG, "%s: --data DATA is required", cmd);
    nb_set_threads((int)threads); /* the same figures for any count (README, Reproducibility) */
    int hdr = -1;
    if (header && (rc = cli_header_mode(header, &hdr))) return rc;
    if (json && strcmp(json, "-") != 0 && nb_check_output_path(json))
        return cli_fail(NB_ERR_IO, "--metrics-json: %s, or - for standard output", nb_errmsg());
    char dl = 0;
    if (delim && (rc = cli_delimiter(delim, &dl))) return rc;
    /* the model's stored mode unless overridden; "error" would be that default's name for
     * models trained without the option, so only the two that change something are taken */
    nb_missing miss = NB_MISSING_ERROR;
    if (missing && (nb_missing_parse(missing, &miss) || miss == NB_MISSING_ERROR))
        return cli_fail(NB_ERR_ARG, "--missing: expected mean or drop (default: as the model was "
                        "trained), got '%s'", missing);

    nb_model *m;
    nb_preproc *pp;
    nb_dataset *ds;
    nb_metrics mt;
    memset(&mt, 0, sizeof mt);
    rc = cli_load_model_data(model, data, hdr, dl, 1, miss, &m, &pp, &ds);
    if (!rc) rc = cli_evaluate(m, pp, ds, data, &mt);
    if (!rc) {
        /* with --metrics-json - stdout holds the JSON alone; the report goes to stderr */
        int json_out = json && strcmp(json, "-") == 0;
        cli_print_metrics(json_out ? stderr : stdout, &mt, pp, ds);
        rc = cli_flush_stdout();
    }
    eval_json ej = {model, data, &mt, pp, ds};
    if (!rc && json) rc = cli_write_atomic(json, write_json, &ej);
    nb_metrics_free(&mt);
    nb_dataset_free(ds);
    nb_preproc_free(pp);
    nb_model_free(m);
    return rc;
}
