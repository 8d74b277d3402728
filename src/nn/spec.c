/*
 * spec.c - the model spec text format (docs/SPEC.md): layers separated by ';' or new lines,
 * '#' to the end of a line is a comment, words separated by blanks. The parser is a single
 * loop over statements (no recursion); every error names the line and the word.
 */
#include "nn.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *word;
    nb_op_type op;
    int has_param; /* 0 none, 1 optional number, 2 required whole number */
} acts[] = {
    {"sigmoid", NB_OP_SIGMOID, 0},     {"tanh", NB_OP_TANH, 0},
    {"relu", NB_OP_RELU, 0},           {"leaky_relu", NB_OP_LEAKY_RELU, 1},
    {"elu", NB_OP_ELU, 1},             {"softplus", NB_OP_SOFTPLUS, 0},
    {"identity", NB_OP_IDENTITY, 0},   {"step", NB_OP_STEP, 0},
    {"softmax", NB_OP_SOFTMAX, 0},     {"log_softmax", NB_OP_LOG_SOFTMAX, 0},
    {"maxout", NB_OP_MAXOUT, 2},
};
#define N_ACTS ((int)(sizeof acts / sizeof acts[0]))

/* "3" for a square pair, "3x2" otherwise */
static void put_pair(char *buf, size_t cap, const char *word, const int v[2], int skip_if)
{
    size_t len = strlen(buf);
    if (v[0] == skip_if && v[1] == skip_if) return;
    if (v[0] == v[1]) snprintf(buf + len, cap - len, "%s%s%d", *word ? " " : "", word, v[0]);
    else snprintf(buf + len, cap - len, "%s%s%dx%d", *word ? " " : "", word, v[0], v[1]);
}

void nb__layer_text(const nb__layer *l, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (l->type == NB_LAYER_DENSE) {
        snprintf(buf, cap, "dense %d%s", l->units, l->bias ? "" : " nobias");
    } else if (l->type == NB_LAYER_FLATTEN) {
        snprintf(buf, cap, "flatten");
    } else if (l->type == NB_LAYER_CONV2D) {
        snprintf(buf, cap, "conv %d %dx%d", l->units, l->kernel[0], l->kernel[1]);
        put_pair(buf, cap, "stride ", l->stride, 1);
        put_pair(buf, cap, "pad ", l->pad, 0);
        put_pair(buf, cap, "dilation ", l->dilation, 1);
        if (!l->bias) snprintf(buf + strlen(buf), cap - strlen(buf), " nobias");
    } else if (l->type == NB_LAYER_MAXPOOL || l->type == NB_LAYER_AVGPOOL) {
        snprintf(buf, cap, "%s", l->type == NB_LAYER_MAXPOOL ? "maxpool " : "avgpool ");
        put_pair(buf, cap, "", l->kernel, -1);
        if (l->stride[0] != l->kernel[0] || l->stride[1] != l->kernel[1]) put_pair(buf, cap, "stride ", l->stride, -1);
        put_pair(buf, cap, "pad ", l->pad, 0);
    } else if (l->type == NB_LAYER_GLOBAL_AVGPOOL) {
        snprintf(buf, cap, "gap");
    } else if (l->type == NB_LAYER_DROPOUT) {
        snprintf(buf, cap, "dropout %g", (double)l->param);
    } else if (l->type == NB_LAYER_BATCHNORM) {
        snprintf(buf, cap, "batchnorm");
    } else {
        for (int i = 0; i < N_ACTS; i++)
            if (acts[i].op == l->op) {
                if (acts[i].has_param) snprintf(buf, cap, "%s %g", acts[i].word, (double)l->param);
                else snprintf(buf, cap, "%s", acts[i].word);
                return;
            }
        snprintf(buf, cap, "?");
    }
}

const char *nb_model_spec(const nb_model *m) { return m && m->spec ? m->spec : ""; }

int nb__model_respec(nb_model *m)
{
    /* nb__add_layer, the only caller, appends one layer at a time and, even when it fails,
     * leaves m->spec as the text of the layers before the new one: so only the new layer's
     * text is appended. Re-formatting every layer on every append made parsing a spec of n
     * layers O(n^2) in formatting work (16000 layers took 39 s). */
    char text[96];
    if (m->n_layers < 1) return NB_OK;
    nb__layer_text(&m->layers[m->n_layers - 1], text, sizeof text);
    size_t old = m->n_layers > 1 && m->spec ? strlen(m->spec) : 0, add = strlen(text);
    char *p = nb__realloc(old ? m->spec : NULL, old + 2 + add + 1);
    if (!p) return NB_ERR_NOMEM;
    if (!old) nb_free(m->spec); /* a first layer replaces whatever text there was */
    memcpy(p + old, "; ", old ? 2 : 0);
    memcpy(p + old + (old ? 2 : 0), text, add + 1);
    m->spec = p;
    return NB_OK;
}

/* A spec comes from a user or from a model file (untrusted): no sequential network of nabla's
 * needs thousands of layers, and the cap bounds the work a hostile text can ask for. */
#define SPEC_MAX_LAYERS 4096

/* words of one statement: at most 12 */
typedef struct {
    char w[12][40];
    int n;
} stmt;

static int parse_number(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || v != v) return 0;
    *out = v;
    return 1;
}

/* "3" -> (3, 3), "3x2" -> (3, 2); values in [lo, 4096] */
static int parse_pair(const char *s, int lo, int out[2])
{
    char *end;
    long a = strtol(s, &end, 10), b = a;
    if (end == s) return 0;
    if (*end == 'x') {
        const char *t = end + 1;
        b = strtol(t, &end, 10);
        if (end == t) return 0;
    }
    if (*end || a < lo || b < lo || a > 4096 || b > 4096) return 0;
    out[0] = (int)a, out[1] = (int)b;
    return 1;
}

/* conv / pool options after the fixed words: stride S, pad P, dilation D, nobias */
static int window_options(const stmt *s, int from, int line, int conv, int stride[2], int pad[2], int dil[2], int *bias)
{
    for (int k = from; k < s->n; k++) {
        const char *w = s->w[k];
        if (conv && strcmp(w, "nobias") == 0) {
            *bias = 0;
            continue;
        }
        int *dst = strcmp(w, "stride") == 0 ? stride : strcmp(w, "pad") == 0 ? pad : (conv && strcmp(w, "dilation") == 0) ? dil : NULL;
        if (!dst)
            return nb__fail(NB_ERR_FORMAT, "spec:%d: '%s': unexpected '%s' (options: stride S, pad P%s)", line, s->w[0], w,
                            conv ? ", dilation D, nobias" : "");
        if (k + 1 >= s->n || !parse_pair(s->w[k + 1], dst == pad ? 0 : 1, dst))
            return nb__fail(NB_ERR_FORMAT, "spec:%d: '%s %s' needs a size such as 2 or 2x1%s", line, s->w[0], w, dst == pad ? "" : " (>= 1)");
        k++;
    }
    return NB_OK;
}

static int add_statement(nb_model *m, const stmt *s, int line, nb_task *task, int *task_set)
{
    const char *w0 = s->w[0];
    double v = 0;
    if (strcmp(w0, "task") == 0) {
        if (s->n != 2 || nb_task_parse(s->w[1], task))
            return nb__fail(NB_ERR_FORMAT, "spec:%d: 'task' takes one of classify, binary, multilabel, regress", line);
        *task_set = 1;
        return NB_OK;
    }
    if (strcmp(w0, "dense") == 0 || strcmp(w0, "linear") == 0) {
        if (s->n < 2 || s->n > 3 || !parse_number(s->w[1], &v) || v < 1 || v > 1e8 || v != (double)(int)v)
            return nb__fail(NB_ERR_FORMAT, "spec:%d: 'dense' takes a whole number of units >= 1%s%s%s", line,
                            s->n >= 2 ? ", got '" : "", s->n >= 2 ? s->w[1] : "", s->n >= 2 ? "'" : "");
        if (s->n == 3 && strcmp(s->w[2], "nobias") != 0)
            return nb__fail(NB_ERR_FORMAT, "spec:%d: unexpected '%s' after dense (only 'nobias')", line, s->w[2]);
        return nb_model_add_dense(m, (int)v, s->n == 2);
    }
    if (strcmp(w0, "conv") == 0 || strcmp(w0, "conv2d") == 0) {
        int k[2], stride[2] = {1, 1}, pad[2] = {0, 0}, dil[2] = {1, 1}, bias = 1, st;
        if (s->n < 3 || !parse_number(s->w[1], &v) || v < 1 || v > 1e6 || v != (double)(int)v || !parse_pair(s->w[2], 1, k))
            return nb__fail(NB_ERR_FORMAT, "spec:%d: 'conv' takes output channels and a kernel size, e.g. conv 16 3x3 pad 1", line);
        if ((st = window_options(s, 3, line, 1, stride, pad, dil, &bias))) return st;
        return nb_model_add_conv2d(m, (int)v, k, stride, pad, dil, bias);
    }
    if (strcmp(w0, "maxpool") == 0 || strcmp(w0, "avgpool") == 0) {
        int k[2], stride[2] = {0, 0}, pad[2] = {0, 0}, dil[2], bias, st;
        if (s->n < 2 || !parse_pair(s->w[1], 1, k))
            return nb__fail(NB_ERR_FORMAT, "spec:%d: '%s' takes a window size, e.g. %s 2", line, w0, w0);
        if ((st = window_options(s, 2, line, 0, stride, pad, dil, &bias))) return st;
        st = nb_model_add_pool(m, w0[0] == 'm' ? NB_LAYER_MAXPOOL : NB_LAYER_AVGPOOL, k, stride[0] ? stride : NULL, pad);
        return st ? nb__fail_prefix(st == NB_ERR_NOMEM ? st : NB_ERR_FORMAT, "spec:%d", line) : NB_OK;
    }
    if (strcmp(w0, "gap") == 0 || strcmp(w0, "global_avgpool") == 0) {
        if (s->n != 1) return nb__fail(NB_ERR_FORMAT, "spec:%d: '%s' takes no argument", line, w0);
        return nb_model_add_global_avgpool(m);
    }
    if (strcmp(w0, "dropout") == 0) {
        if (s->n != 2 || !parse_number(s->w[1], &v) || !(v >= 0 && v < 1))
            return nb__fail(NB_ERR_FORMAT, "spec:%d: 'dropout' takes a probability in [0, 1)", line);
        return nb_model_add_dropout(m, (float)v);
    }
    if (strcmp(w0, "batchnorm") == 0 || strcmp(w0, "bn") == 0) {
        if (s->n != 1) return nb__fail(NB_ERR_FORMAT, "spec:%d: '%s' takes no argument", line, w0);
        return nb_model_add_batchnorm(m);
    }
    if (strcmp(w0, "flatten") == 0) {
        if (s->n != 1) return nb__fail(NB_ERR_FORMAT, "spec:%d: 'flatten' takes no argument", line);
        return nb_model_add_flatten(m);
    }
    for (int i = 0; i < N_ACTS; i++) {
        if (strcmp(w0, acts[i].word) != 0) continue;
        if (s->n > 1 + (acts[i].has_param != 0) || (acts[i].has_param == 2 && s->n != 2))
            return nb__fail(NB_ERR_FORMAT, "spec:%d: '%s' takes %s", line, w0,
                            acts[i].has_param == 2 ? "one whole number" : acts[i].has_param ? "at most one number" : "no argument");
        if (s->n == 2 && !parse_number(s->w[1], &v))
            return nb__fail(NB_ERR_FORMAT, "spec:%d: '%s': '%s' is not a number", line, w0, s->w[1]);
        int st = nb_model_add_activation(m, acts[i].op, (float)v);
        return st ? nb__fail_prefix(st == NB_ERR_NOMEM ? st : NB_ERR_FORMAT, "spec:%d", line) : NB_OK;
    }
    return nb__fail(NB_ERR_FORMAT, "spec:%d: unknown layer '%s'", line, w0);
}

int nb_model_parse(const char *text, nb_task default_task, nb_model **out)
{
    *out = NULL;
    if (!text) return nb__fail(NB_ERR_ARG, "spec is NULL");
    nb_task task = default_task;
    int task_set = 0, st = NB_OK, line = 1;
    nb_model *m;
    if ((st = nb_model_create(default_task, &m))) return st;
    stmt s = {0};
    const char *p = text;
    for (;;) {
        char c = *p;
        if (c == '#') { /* comment to end of line */
            while (*p && *p != '\n') p++;
            continue;
        }
        if (c == '\0' || c == ';' || c == '\n') {
            if (s.n && (st = add_statement(m, &s, line, &task, &task_set))) break;
            if (m->n_layers > SPEC_MAX_LAYERS) {
                st = nb__fail(NB_ERR_FORMAT, "spec:%d: more than %d layers", line, SPEC_MAX_LAYERS);
                break;
            }
            s.n = 0;
            if (c == '\0') break;
            if (c == '\n') line++;
            p++;
            continue;
        }
        if (isspace((unsigned char)c)) {
            p++;
            continue;
        }
        size_t len = 0;
        const char *start = p;
        while (*p && !isspace((unsigned char)*p) && *p != ';' && *p != '#') p++, len++;
        if (s.n == 12 || len >= sizeof s.w[0]) {
            st = nb__fail(NB_ERR_FORMAT, "spec:%d: '%.*s' is too long or one word too many", line, (int)(len > 30 ? 30 : len), start);
            break;
        }
        memcpy(s.w[s.n], start, len);
        s.w[s.n++][len] = '\0';
    }
    if (!st && m->n_layers == 0) st = nb__fail(NB_ERR_FORMAT, "spec: no layers");
    if (st) {
        nb_model_free(m);
        return st;
    }
    m->task = task_set ? task : default_task;
    *out = m;
    return NB_OK;
}
