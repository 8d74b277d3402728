/* SPDX-License-Identifier: MIT */
/*
 * summary.c - `nabla summary`: the layer table (index, layer text, output shape, parameters)
 * and totals of a saved model (shapes from the file) or of a spec (shapes from --input-shape or
 * --data). A file named *.safetensors or *.onnx, starting with ONNX's 0x08 or holding a NUL
 * byte in its first 8 is a model file
 * (damaged or not); any other existing file holds spec text; anything else is spec text.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* 1 when path is meant as a model file: named *.safetensors or *.onnx, or its first 8 bytes
 * hold a NUL (a safetensors length prefix has zero high bytes; spec text never holds one), or
 * it starts with 0x08 (an ONNX ModelProto's ir_version field; spec text never does). A damaged
 * header (its length or its '{' overwritten) is then reported by the model loader as a
 * malformed model file (exit 5), not read as spec text and blamed on the spec (exit 2). */
static int is_model_file(const char *path)
{
    size_t n = strlen(path);
    if (n > 12 && strcmp(path + n - 12, ".safetensors") == 0) return 1;
    if (n > 5 && strcmp(path + n - 5, ".onnx") == 0) return 1;
    unsigned char b[8];
    FILE *f = cli_open_regular(path); /* a FIFO: not a model file, and the loader says why */
    if (!f) return 0;
    size_t got = fread(b, 1, sizeof b, f);
    fclose(f);
    return memchr(b, 0, got) != NULL || (got && b[0] == 0x08);
}

/* "classes: a, b, c" in the model's order (that of predict --proba and eval), from the model
 * file's preprocessing or the --data set; "0, 1, ..." when unnamed. Nothing for regression. */
#define SUMMARY_MAX_CLASSES 1000
static void print_classes(const nb_model *m, const nb_preproc *pp, const nb_dataset *ds)
{
    nb_task task = nb_model_task(m);
    if (task == NB_TASK_REGRESS) return;
    int k = task == NB_TASK_BINARY ? 2 : nb_model_n_outputs(m);
    char buf[16];
    fputs("classes:", stdout);
    /* the first SUMMARY_MAX_CLASSES: a spec ending in dense 100000000 is a summary, not a
     * hundred million names */
    for (int c = 0; c < k && c < SUMMARY_MAX_CLASSES; c++) printf("%s %s", c ? "," : "", cli_class_name(pp, ds, c, buf, sizeof buf));
    if (k > SUMMARY_MAX_CLASSES) printf(", ... (%d classes)", k);
    putchar('\n');
}

static void print_table(const nb_model *m, const nb_preproc *pp, const nb_dataset *ds)
{
    int64_t in[3];
    int rank = nb_model_sample_shape(m, in);
    char shape[64];
    cli_fmt_shape(rank, in, shape, sizeof shape);
    printf("model:  %s\ntask:   %s\ninput:  %s\noutputs: %d\n", nb_model_spec(m),
           nb_task_name(nb_model_task(m)), shape, nb_model_n_outputs(m));
    print_classes(m, pp, ds);
    putchar('\n');
    printf("%4s  %-24s %-18s %12s %14s\n", "#", "layer", "output shape", "parameters", "FLOPs/sample");
    int n = nb_model_n_layers(m);
    double flops = 0;
    for (int i = 0; i < n; i++) {
        nb_layer_info li;
        if (nb_model_layer_info(m, i, &li)) continue;
        cli_fmt_shape(li.out_rank, li.out_shape, shape, sizeof shape);
        printf("%4d  %-24s %-18s %12zu %14.0f\n", i, li.text, shape, li.n_params, li.flops);
        flops += li.flops;
    }
    size_t p = nb_model_param_count(m);
    double b = (double)p * 4.0;
    printf("\nparameters: %zu\nbytes: %zu as float32 (%.1f KiB)\n", p, p * 4, b / 1024.0);
    printf("forward FLOPs per sample: %.0f (%.2f MFLOP; training is about 3x)\n", flops, flops / 1e6);
}

int cli_summary(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, 2)) {
        fputs(cli_help_summary, stdout);
        return cli_flush_stdout();
    }
    const char *spec = NULL, *shape_text = NULL, *data = NULL, *task = NULL, *label = NULL;
    const char *header = NULL;
    int64_t outputs = 0;
    const cli_opt opts[] = {
        {"--model", CLI_STR, &spec, 0, 0, 0, NULL},
        {"--input-shape", CLI_STR, &shape_text, 0, 0, 0, NULL},
        {"--data", CLI_STR, &data, 0, 0, 0, NULL},
        {"--outputs", CLI_INT, &outputs, 1, 1 << 30, 0, NULL},
        {"--task", CLI_STR, &task, 0, 0, 0, NULL},
        {"--label", CLI_STR, &label, 0, 0, 0, NULL},
        {"--header", CLI_STR, &header, 0, 0, 0, NULL},
    };
    int rc = cli_parse("summary", argc, argv, 2, opts, (int)(sizeof opts / sizeof opts[0]));
    if (rc) return rc;
    if (!spec) return cli_fail(NB_ERR_ARG, "summary: --model SPEC|MODEL is required");
    if (shape_text && data)
        return cli_fail(NB_ERR_ARG, "summary: --input-shape and --data exclude each other");
    nb_task t = NB_TASK_CLASSIFY;
    if (task && nb_task_parse(task, &t)) return cli_fail(NB_ERR_ARG, "--task: %s", nb_errmsg());
    int hdr = -1;
    if (header && (rc = cli_header_mode(header, &hdr))) return rc;

    nb_model *m = NULL;
    if ((rc = cli_refuse_special(spec))) return rc;
    if (cli_is_file(spec) && is_model_file(spec)) {
        nb_preproc *pp = NULL;
        if ((rc = nb_model_load(spec, &m, &pp))) return cli_lib_fail(rc, spec);
        print_table(m, pp, NULL);
        nb_preproc_free(pp);
        nb_model_free(m);
        return cli_flush_stdout();
    }
    int rank = 0;
    int64_t shape[3];
    if (shape_text && (rc = cli_parse_shape("--input-shape", shape_text, &rank, shape))) return rc;
    if (!shape_text && !data)
        return cli_fail(NB_ERR_ARG, "summary: a spec needs --input-shape SHAPE or --data DATA");

    char *text = NULL;
    if (cli_is_file(spec) && (rc = cli_read_text(spec, 1 << 20, &text))) return rc;
    rc = nb_model_parse(text ? text : spec, t, &m);
    free(text);
    if (rc) return cli_spec_fail(rc, spec, cli_is_file(spec));
    nb_preproc *pp = NULL;
    nb_dataset *ds = NULL;
    if (data) {
        nb_data_opts o = nb_data_opts_default();
        o.task = nb_model_task(m);
        o.label = label;
        o.header = hdr;
        rc = nb_preproc_create(&pp);
        if (!rc) rc = nb_dataset_load(data, &o, pp, &ds);
        if (rc) {
            rc = cli_lib_fail(rc, data);
        } else {
            rank = nb_dataset_sample_rank(ds);
            memcpy(shape, nb_dataset_sample_shape(ds), (size_t)rank * sizeof *shape);
            if (!outputs) outputs = cli_data_outputs(ds);
        }
    }
    /* planned, not built: a summary describes a model of any size without allocating it */
    if (!rc && (rc = nb_model_plan(m, rank, shape, (int)outputs))) rc = cli_lib_fail(rc, "--model");
    if (!rc) {
        print_table(m, pp, ds); /* the data's class names, as train would learn them */
        rc = cli_flush_stdout();
    }
    nb_dataset_free(ds);
    nb_preproc_free(pp);
    nb_model_free(m);
    return rc;
}
