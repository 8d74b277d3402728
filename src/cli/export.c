/* SPDX-License-Identifier: MIT */
/*
 * export.c - `nabla export`: a model file as an ONNX file (nb_model_save_onnx) that other
 * runtimes (onnxruntime, OpenCV's dnn, ...) run: the preprocessing's scaling and the output
 * activation are part of the graph; one-hot encoding of categorical columns and text
 * tokenising are not (docs/MODEL_FORMAT.md, "ONNX export"). The one-line report counts the
 * nodes by reading the written file back, so it describes what is on disk.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* a protobuf varint at *p (< end); 0 when malformed */
static int varint(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
    *v = 0;
    for (int s = 0; s < 70 && *p < end; s += 7) {
        unsigned char b = *(*p)++;
        *v |= (uint64_t)(b & 0x7f) << s;
        if (!(b & 0x80)) return 1;
    }
    return 0;
}

/* the fields number `want` (length-delimited) of message [p, end): count them, or find the
 * first one's payload (*sub, *sub_end); -1 when malformed */
static long fields(const unsigned char *p, const unsigned char *end, uint64_t want, const unsigned char **sub,
                   const unsigned char **sub_end)
{
    long n = 0;
    while (p < end) {
        uint64_t tag, v;
        if (!varint(&p, end, &tag)) return -1;
        switch (tag & 7) {
        case 0: if (!varint(&p, end, &v)) return -1; break;
        case 1: if (end - p < 8) return -1; p += 8; break;
        case 5: if (end - p < 4) return -1; p += 4; break;
        case 2:
            if (!varint(&p, end, &v) || v > (uint64_t)(end - p)) return -1;
            if ((tag >> 3) == want) {
                if (sub && !n) *sub = p, *sub_end = p + v;
                n++;
            }
            p += v;
            break;
        default: return -1;
        }
    }
    return n;
}

/* the graph's node count in the ONNX file at path (ModelProto.graph = 7, GraphProto.node = 1),
 * or -1 when it cannot be read */
static long count_nodes(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    unsigned char *b = size > 0 && fseek(f, 0, SEEK_SET) == 0 ? malloc((size_t)size) : NULL;
    long nodes = -1;
    if (b && fread(b, 1, (size_t)size, f) == (size_t)size) {
        const unsigned char *g = NULL, *ge = NULL;
        if (fields(b, b + size, 7, &g, &ge) == 1) nodes = fields(g, ge, 1, NULL, NULL);
    }
    free(b);
    fclose(f);
    return nodes;
}

static void dims(char *buf, size_t cap, int rank, const int64_t *s)
{
    size_t k = (size_t)snprintf(buf, cap, "[batch");
    for (int i = 0; i < rank && k < cap; i++) k += (size_t)snprintf(buf + k, cap - k, ",%lld", (long long)s[i]);
    if (k < cap) snprintf(buf + k, cap - k, "]");
}

int cli_export(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, 2)) {
        fputs(cli_help_export, stdout);
        return cli_flush_stdout();
    }
    const char *model = NULL, *onnx = NULL;
    int quiet = 0;
    const cli_opt opts[] = {
        {"--model", CLI_STR, &model, 0, 0, 0, NULL},
        {"--onnx", CLI_STR, &onnx, 0, 0, 0, "--out"},
        {"--quiet", CLI_FLAG, &quiet, 0, 0, 0, NULL},
    };
    int rc = cli_parse("export", argc, argv, 2, opts, (int)(sizeof opts / sizeof opts[0]));
    if (rc) return rc;
    if (!model) return cli_fail(NB_ERR_ARG, "export: --model MODEL.safetensors is required");
    if (!onnx) return cli_fail(NB_ERR_ARG, "export: --onnx FILE.onnx is required");
    nb_model *m = NULL;
    nb_preproc *pp = NULL;
    if ((rc = nb_model_load(model, &m, &pp))) return cli_lib_fail(rc, model);
    if ((rc = cli_make_parent(onnx)) == NB_OK && (rc = nb_model_save_onnx(m, onnx, pp))) rc = cli_lib_fail(rc, onnx);
    if (!rc && !quiet) {
        int64_t in[3];
        int rank = nb_model_sample_shape(m, in);
        nb_layer_info li;
        char a[96], b[96];
        dims(a, sizeof a, rank, in);
        if (nb_model_layer_info(m, nb_model_n_layers(m) - 1, &li)) li.out_rank = 1, li.out_shape[0] = nb_model_n_outputs(m);
        dims(b, sizeof b, li.out_rank, li.out_shape);
        long nodes = count_nodes(onnx);
        if (nb_model_task(m) == NB_TASK_REGRESS)
            printf("exported %s: %ld nodes, opset 13, inputs input%s, outputs prediction%s\n", onnx, nodes, a, b);
        else
            printf("exported %s: %ld nodes, opset 13, inputs input%s, outputs logits%s probabilities%s\n", onnx, nodes, a, b, b);
        rc = cli_flush_stdout();
    }
    nb_preproc_free(pp);
    nb_model_free(m);
    return rc;
}
