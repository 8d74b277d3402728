/* SPDX-License-Identifier: MIT */
/*
 * modelfile.c - models as safetensors files: parameters under PyTorch's nn.Sequential names
 * and layouts, and metadata (format, version, architecture spec, task, input shape, outputs,
 * class names, preprocessing) from which nb_model_load rebuilds the model. Every tensor is
 * checked against the rebuilt model by name and shape before any weight is copied.
 */
#include "nn.h"
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#define FORMAT_NAME "nabla"
#define FORMAT_VERSION "1"
#define FMT(rc) ((rc) == NB_ERR_NOMEM ? NB_ERR_NOMEM : NB_ERR_FORMAT)

/* path NULL in nb__model_write: will the header fit? A CSV category of 9 MB trained, then the
 * save refused the 8 MiB header (issue 14, item 7); training checks this before any epoch and
 * names the largest metadata entry. */
static int check_header(const nb_st_entry *e, int n, const char **keys, const char **vals, int n_meta)
{
    size_t len;
    int st = nb_st_header_size(e, n, keys, vals, n_meta, &len);
    if (st || len <= NB_ST_MAX_HEADER) return st;
    int big = 0;
    for (int i = 1; i < n_meta; i++)
        if (strlen(vals[i]) > strlen(vals[big])) big = i;
    const char *what = !strcmp(keys[big], "preprocessing") ? "the data's one-hot categories, class names and scaling: look for a huge text value in a categorical column or the label"
                     : !strcmp(keys[big], "class_names") ? "the class names: look for a huge label value"
                     : !strcmp(keys[big], "architecture") ? "the model spec" : "training state";
    return nb__fail(NB_ERR_ARG, "the model file could not be saved: its header would take %zu bytes, more than the %d a model file may hold; "
                    "the largest part is metadata '%s' (%zu bytes: %s)", len, NB_ST_MAX_HEADER, keys[big], strlen(vals[big]), what);
}

int nb_model_save(nb_model *m, const char *path, const nb_preproc *pp)
{
    if (!m || !path) return nb__fail(NB_ERR_ARG, "save: %s is NULL", !m ? "model" : "path");
    return nb__model_write(m, path, pp, NULL, 0, NULL, NULL, 0);
}

int nb__model_load_done(int rc, nb_model *m, nb_preproc *pre, nb_model **out, nb_preproc **pp)
{
    if (rc) {
        nb_model_free(m);
        nb_preproc_free(pre);
        return rc;
    }
    *out = m;
    if (pp) *pp = pre;
    else nb_preproc_free(pre);
    return NB_OK;
}

int nb__model_meta_make(const nb_model *m, const nb_preproc *pp, nb__model_meta *mm)
{
    int st = NB_OK;
    memset(mm, 0, sizeof *mm);
    nb__buf_puts(&mm->shape, "[");
    for (int i = 0; i < m->sample_rank; i++) nb__buf_printf(&mm->shape, "%s%lld", i ? "," : "", (long long)m->sample_shape[i]);
    nb__buf_puts(&mm->shape, "]");
    nb__buf_puts(&mm->classes, "[");
    mm->n_classes = pp ? nb_preproc_n_classes(pp) : 0;
    for (int i = 0; i < mm->n_classes; i++) {
        if (i) nb__buf_puts(&mm->classes, ",");
        nb__json_put_string(&mm->classes, nb_preproc_class_name(pp, i));
    }
    nb__buf_puts(&mm->classes, "]");
    if (pp) st = nb_preproc_to_json(pp, &mm->pre);
    if (!st && (mm->shape.status || mm->classes.status)) st = NB_ERR_NOMEM;
    if (st) nb__model_meta_free(mm);
    return st;
}

void nb__model_meta_free(nb__model_meta *mm)
{
    nb_free(mm->pre);
    nb__buf_free(&mm->shape);
    nb__buf_free(&mm->classes);
    memset(mm, 0, sizeof *mm);
}

int nb__model_write(nb_model *m, const char *path, const nb_preproc *pp, const nb_st_entry *extra,
                    int n_extra, const char *const *xkeys, const char *const *xvals, int n_xmeta)
{
    if (!m || !m->built) return nb__fail(NB_ERR_STATE, "save: model is not built");
    int st = NB_OK, n = m->n_ptensors;
    nb_st_entry *e = nb__calloc((size_t)(n + n_extra + 1), sizeof *e);
    const char **keys = nb__calloc((size_t)(8 + n_xmeta), sizeof *keys);
    const char **vals = nb__calloc((size_t)(8 + n_xmeta), sizeof *vals);
    nb__model_meta mm = {0};
    if (!e || !keys || !vals) {
        st = NB_ERR_NOMEM;
        goto done;
    }
    for (int i = 0; i < n; i++) {
        e[i].name = m->ptensors[i].name;
        nb_graph_value(m->g, m->ptensors[i].node, &e[i].view);
    }
    for (int i = 0; i < n_extra; i++) e[n + i] = extra[i];
    if ((st = nb__model_meta_make(m, pp, &mm))) goto done;
    char outputs[24];
    snprintf(outputs, sizeof outputs, "%d", m->n_outputs);
    const char *k0[] = {"format", "format_version", "architecture", "task", "input_shape", "n_outputs", "class_names", "preprocessing"};
    const char *v0[] = {FORMAT_NAME, FORMAT_VERSION, nb_model_spec(m), nb_task_name(m->task), mm.shape.data, outputs, mm.classes.data, mm.pre};
    int nm = mm.pre ? 8 : 7;
    for (int i = 0; i < nm; i++) keys[i] = k0[i], vals[i] = v0[i];
    for (int i = 0; i < n_xmeta; i++) keys[nm + i] = xkeys[i], vals[nm + i] = xvals[i];
    st = path ? nb_st_save(path, e, n + n_extra, keys, vals, nm + n_xmeta) : check_header(e, n + n_extra, keys, vals, nm + n_xmeta);
done:
    nb_free(e);
    nb_free(keys);
    nb_free(vals);
    nb__model_meta_free(&mm);
    return st;
}

/* Check every parameter of m against st (name, shape, finiteness) before copying any of them.
 * A NaN or infinite weight would otherwise only show as `loss nan` in eval, or be trained on
 * and saved again; nb_model_load, nb_model_load_weights (--init) and checkpoint loading all
 * come through here, so loaded state is finite or refused. */
int nb__copy_weights(nb_model *m, const nb_st *st, const char *path)
{
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < m->n_ptensors; i++) {
            nb_view want, got;
            char a[96], b[96];
            nb_graph_value(m->g, m->ptensors[i].node, &want);
            if (nb_st_find(st, m->ptensors[i].name, &got))
                return nb__fail(NB_ERR_FORMAT, "%s: tensor '%s' is missing", path, m->ptensors[i].name);
            int same = got.rank == want.rank;
            for (int d = 0; same && d < want.rank; d++) same = got.shape[d] == want.shape[d];
            if (!same)
                return nb__fail(NB_ERR_FORMAT, "%s: tensor '%s' has shape %s, the model needs %s", path, m->ptensors[i].name,
                                nb__shape_str(got.rank, got.shape, a, sizeof a), nb__shape_str(want.rank, want.shape, b, sizeof b));
            for (size_t k = 0; pass == 0 && k < got.n; k++)
                if (!isfinite(got.data[k]))
                    return nb__fail(NB_ERR_NUMERIC, "%s: tensor '%s' holds %s at element %llu; a model's weights must be finite numbers", path,
                                    m->ptensors[i].name, isnan(got.data[k]) ? "NaN" : got.data[k] > 0 ? "inf" : "-inf", (unsigned long long)k);
            if (pass == 1) memcpy(want.data, got.data, want.n * sizeof(float));
        }
    return NB_OK;
}

/* An ONNX file (a protobuf ModelProto: its first byte 0x08 is field 1, ir_version, as a
 * varint) or safetensors (8-byte little-endian header length, then the JSON header's '{')?
 * A file that cannot be read, or is not a regular file (opening a FIFO would block), is left
 * to the safetensors loader, whose message names it. */
static int is_onnx(const char *path)
{
    unsigned char b[9];
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) return 0;
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t n = fread(b, 1, sizeof b, f);
    fclose(f);
    return n >= 1 && b[0] == 0x08 && !(n == 9 && b[8] == '{');
}

/* nb_model_load_weights from an ONNX file: the file is imported as a model, then every tensor
 * of m is copied from the tensor of the same name and shape (fine-tuning an imported model
 * with `nabla train --init M.onnx` and the spec `nabla summary --model M.onnx` prints) */
static int load_weights_onnx(nb_model *m, const char *path)
{
    nb_model *src = NULL;
    int rc = nb_model_load_onnx(path, &src, NULL);
    for (int pass = 0; !rc && pass < 2; pass++)
        for (int i = 0; !rc && i < m->n_ptensors; i++) {
            int j = 0;
            while (j < src->n_ptensors && strcmp(src->ptensors[j].name, m->ptensors[i].name)) j++;
            if (j == src->n_ptensors) {
                rc = nb__fail(NB_ERR_FORMAT, "%s: tensor '%s' is missing (the file's model is '%s')", path, m->ptensors[i].name, nb_model_spec(src));
                break;
            }
            nb_view want, got;
            char a[96], b[96];
            nb_graph_value(m->g, m->ptensors[i].node, &want);
            nb_graph_value(src->g, src->ptensors[j].node, &got);
            int same = got.rank == want.rank;
            for (int d = 0; same && d < want.rank; d++) same = got.shape[d] == want.shape[d];
            if (!same)
                rc = nb__fail(NB_ERR_FORMAT, "%s: tensor '%s' has shape %s, the model needs %s", path, m->ptensors[i].name,
                              nb__shape_str(got.rank, got.shape, a, sizeof a), nb__shape_str(want.rank, want.shape, b, sizeof b));
            else if (pass == 1) memcpy(want.data, got.data, want.n * sizeof(float));
        }
    nb_model_free(src);
    return rc;
}

int nb_model_load_weights(nb_model *m, const char *path)
{
    if (!m || !path) return nb__fail(NB_ERR_ARG, "load weights: %s is NULL", !m ? "model" : "path");
    if (!m->built) return nb__fail(NB_ERR_STATE, "load weights: model is not built");
    if (is_onnx(path)) return load_weights_onnx(m, path);
    nb_st *st;
    int rc = nb_st_load(path, &st);
    if (rc) return rc;
    rc = nb__copy_weights(m, st, path);
    nb_st_free(st);
    return rc;
}

static int parse_shape(const char *path, const char *text, int *rank, int64_t shape[3])
{
    nb__json *j;
    int st = nb__json_parse(text, strlen(text), 2, "input_shape", &j);
    if (st) return nb__fail_prefix(FMT(st), "%s: metadata", path);
    st = j->type == NB_JSON_ARRAY && j->count >= 1 && j->count <= 3 ? NB_OK : NB_ERR_FORMAT;
    for (size_t i = 0; !st && i < j->count; i++) {
        double v = j->items[i]->type == NB_JSON_NUMBER ? j->items[i]->number : -1;
        if (!(v >= 1 && v <= 1e9 && v == (double)(int64_t)v)) st = NB_ERR_FORMAT;
        else shape[i] = (int64_t)v;
    }
    *rank = (int)j->count;
    nb__json_free(j);
    return st ? nb__fail(NB_ERR_FORMAT, "%s: metadata input_shape '%.40s' is not a list of 1 to 3 positive sizes", path, text) : NB_OK;
}

/* The architecture and input shape of a model file are untrusted: a few hundred bytes could
 * ask nb_model_build for gigabytes (a 1x1 convolution over a 30000 x 30000 input, a dense
 * layer of 10^8 units). So before building, plan the per-sample shapes as the layers will
 * make them (nb__model_plan, the layer table's one shape derivation, in double totals: no
 * overflow) and refuse a model whose outputs plus scratch (im2col matrices) exceed
 * NB__FILE_MAX_VALUES per sample, or whose weight matrices and filters alone are more
 * numbers than the file holds. A shape error is reported after those limits, as nb_model_build
 * would report it. */
#define NB__FILE_MAX_VALUES 67108864.0 /* 2^26 floats (256 MiB) per sample */

static int check_size(nb_model *m, int rank, const int64_t *shape, const nb_st *st, const char *path)
{
    double held = 0;
    for (int i = 0; i < nb_st_count(st); i++) {
        nb_view v;
        nb_st_tensor(st, i, NULL, &v);
        held += (double)v.n;
    }
    nb__plan t;
    int rc = nb__model_plan(m, rank, shape, &t);
    if (t.values > NB__FILE_MAX_VALUES)
        return nb__fail(NB_ERR_FORMAT, "%s: the architecture needs about %.3g values per sample, more than the %.0f a model file may ask for", path,
                        t.values, NB__FILE_MAX_VALUES);
    if (t.weights > held)
        return nb__fail(NB_ERR_FORMAT, "%s: the architecture has %.0f weights, but the file holds only %.0f numbers", path, t.weights, held);
    return rc ? nb__fail_prefix(FMT(rc), "%s", path) : NB_OK;
}

/* The metadata must agree with the model as training would have made it (a hand-edited or
 * corrupted file could say binary with 3 outputs, or list 4 classes for 3 outputs, and then
 * evaluate and predict nonsense): a binary model has one logit; the preprocessing's task,
 * features per sample and targets per row (the trainer's own check, nb__check_targets) match
 * the model; class_names has one name per class; and a file whose class_names is not empty
 * was written with a preprocessing (every nabla version writes both from the same nb_preproc),
 * so a missing one is an error instead of silently unscaled features. */
static int check_meta(const nb_model *m, const nb_preproc *pre, const char *classes_s, const char *path)
{
    if (m->task == NB_TASK_BINARY && m->n_outputs != 1)
        return nb__fail(NB_ERR_FORMAT, "%s: metadata task 'binary' with %d outputs (a binary model has one logit)", path, m->n_outputs);
    nb__json *j;
    int rc = nb__json_parse(classes_s, strlen(classes_s), 2, "class_names", &j);
    if (rc) return nb__fail_prefix(FMT(rc), "%s: metadata", path);
    int ok = j->type == NB_JSON_ARRAY;
    for (size_t i = 0; ok && i < j->count; i++) ok = j->items[i]->type == NB_JSON_STRING;
    size_t n_names = j->count;
    nb__json_free(j);
    if (!ok) return nb__fail(NB_ERR_FORMAT, "%s: metadata class_names '%.40s' is not a list of names", path, classes_s);
    if (!pre) {
        if (n_names) return nb__fail(NB_ERR_FORMAT, "%s: metadata lacks preprocessing (its class_names lists %zu classes, so it was written with one); the feature scaling would be lost", path, n_names);
        return NB_OK;
    }
    if (!nb_preproc_has_schema(pre)) return NB_OK;
    if (nb_preproc_task(pre) != m->task)
        return nb__fail(NB_ERR_FORMAT, "%s: metadata preprocessing is for a %s task, the model's task is %s", path,
                        nb_task_name(nb_preproc_task(pre)), nb_task_name(m->task));
    int64_t per = 1;
    for (int i = 0; i < m->sample_rank; i++) per *= m->sample_shape[i];
    if (nb_preproc_n_features(pre) != per)
        return nb__fail(NB_ERR_FORMAT, "%s: metadata preprocessing has %lld features per sample, the model takes %lld", path,
                        (long long)nb_preproc_n_features(pre), (long long)per);
    if ((rc = nb__check_targets(m, nb_preproc_n_targets(pre), "metadata preprocessing")))
        return nb__fail_prefix(FMT(rc), "%s", path);
    int nc = nb_preproc_n_classes(pre);
    if ((m->task == NB_TASK_CLASSIFY || m->task == NB_TASK_MULTILABEL) && nc != m->n_outputs)
        return nb__fail(NB_ERR_FORMAT, "%s: metadata preprocessing lists %d classes, the model has %d outputs", path, nc, m->n_outputs);
    if ((size_t)nc != n_names)
        return nb__fail(NB_ERR_FORMAT, "%s: metadata class_names lists %zu names, the preprocessing %d classes", path, n_names, nc);
    return NB_OK;
}

int nb_model_load(const char *path, nb_model **out, nb_preproc **pp)
{
    if (!out) return nb__fail(NB_ERR_ARG, "nb_model_load: out is NULL");
    *out = NULL;
    if (pp) *pp = NULL;
    if (!path) return nb__fail(NB_ERR_ARG, "nb_model_load: path is NULL");
    if (is_onnx(path)) return nb_model_load_onnx(path, out, pp);
    nb_st *st;
    int rc = nb_st_load(path, &st);
    if (rc) return rc;
    nb_model *m = NULL;
    nb_preproc *pre = NULL;
    const char *fmt = nb_st_meta(st, "format"), *ver = nb_st_meta(st, "format_version");
    const char *arch = nb_st_meta(st, "architecture"), *task_s = nb_st_meta(st, "task");
    const char *shape_s = nb_st_meta(st, "input_shape"), *outs = nb_st_meta(st, "n_outputs");
    const char *pre_s = nb_st_meta(st, "preprocessing"), *classes_s = nb_st_meta(st, "class_names");
    nb_task task;
    int rank = 0;
    int64_t shape[3];
    char *end = NULL;
    long n_out = outs ? strtol(outs, &end, 10) : 0;
    if (!fmt || strcmp(fmt, FORMAT_NAME) != 0) {
        rc = nb__fail(NB_ERR_FORMAT, "%s: not a nabla model (metadata 'format' is %s%s%s); use nb_model_load_weights to load plain weights",
                      path, fmt ? "'" : "missing", fmt ? fmt : "", fmt ? "'" : "");
    } else if (!ver || strcmp(ver, FORMAT_VERSION) != 0) {
        rc = nb__fail(NB_ERR_FORMAT, "%s: model format version '%s' is not supported (this nabla reads version %s)", path, ver ? ver : "?", FORMAT_VERSION);
    } else if (!arch || !task_s || !shape_s || !outs || !classes_s) {
        /* every nabla version writes these (preprocessing only with a nb_preproc: check_meta) */
        rc = nb__fail(NB_ERR_FORMAT, "%s: metadata lacks %s", path,
                      !arch ? "architecture" : !task_s ? "task" : !shape_s ? "input_shape" : !outs ? "n_outputs" : "class_names");
    } else if (nb_task_parse(task_s, &task)) {
        rc = nb__fail(NB_ERR_FORMAT, "%s: metadata task '%.40s' is unknown", path, task_s);
    } else if (!end || *end || n_out < 1 || n_out > 1000000) {
        rc = nb__fail(NB_ERR_FORMAT, "%s: metadata n_outputs '%.40s' is not a positive count", path, outs);
    } else if (!(rc = parse_shape(path, shape_s, &rank, shape))) {
        /* out of memory stays NB_ERR_NOMEM; anything else the file's content caused is FORMAT */
        if ((rc = nb_model_parse(arch, task, &m))) rc = nb__fail_prefix(FMT(rc), "%s: metadata architecture", path);
        else if ((rc = check_size(m, rank, shape, st, path))) { /* the message names the limit */ }
        else if ((rc = nb_model_build(m, rank, shape, (int)n_out))) rc = nb__fail_prefix(FMT(rc), "%s", path);
        else if (!(rc = nb__copy_weights(m, st, path)) && pre_s && (rc = nb_preproc_from_json(pre_s, &pre)))
            rc = nb__fail_prefix(FMT(rc), "%s: metadata", path);
        int n_model = 0; /* a checkpoint's training state ("train.*") is not part of the model */
        for (int i = 0; i < nb_st_count(st); i++) {
            const char *name;
            nb_st_tensor(st, i, &name, NULL);
            n_model += strncmp(name, "train.", 6) != 0;
        }
        if (!rc && nb_model_n_param_tensors(m) != n_model)
            rc = nb__fail(NB_ERR_FORMAT, "%s: holds %d tensors, the architecture has %d", path, n_model, nb_model_n_param_tensors(m));
        if (!rc) rc = check_meta(m, pre, classes_s, path);
    }
    nb_st_free(st);
    return nb__model_load_done(rc, m, pre, out, pp);
}
