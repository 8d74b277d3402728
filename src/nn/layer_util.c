/* SPDX-License-Identifier: MIT */
/*
 * layer_util.c - what the layer_*.c descriptors share: creating and finding a layer's
 * tensors under PyTorch's names (layers.<i>.<name>), fills and the fan-based initialisers,
 * window geometry, and the spec argument helpers (numbers, "3x2" pairs, window options,
 * canonical text of pairs). Nothing here knows a particular layer kind.
 */
#include "layer.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- tensors */

void nb__tensor_set(nb__tensor_def *t, const char *name, int trainable, int rank, const int64_t *shape)
{
    snprintf(t->name, sizeof t->name, "%s", name);
    t->trainable = trainable;
    t->rank = rank;
    for (int d = 0; d < rank; d++) t->shape[d] = shape[d];
}

nb_node nb__layer_tensor_new(nb_model *m, int i, const nb__tensor_def *t)
{
    char name[48];
    snprintf(name, sizeof name, "layers.%d.%s", i, t->name);
    nb_node p = t->trainable ? nb_param(m->g, name, t->rank, t->shape) : nb_const(m->g, name, t->rank, t->shape, NULL);
    if (p < 0) return p;
    nb__ptensor *a = nb__realloc(m->ptensors, (size_t)(m->n_ptensors + 1) * sizeof *a);
    if (!a) {
        m->oom = 1; /* the node exists but is not recorded: the layer must fail */
        return -NB_ERR_NOMEM;
    }
    m->ptensors = a;
    memcpy(a[m->n_ptensors].name, name, sizeof name);
    a[m->n_ptensors].node = p;
    a[m->n_ptensors].trainable = t->trainable;
    m->n_ptensors++;
    return p;
}

nb_node nb__layer_tensor(const nb_model *m, const nb__layer *l, int k)
{
    return k >= 0 && k < l->nt ? m->ptensors[l->t0 + k].node : -1;
}

/* ---------------------------------------------------------------- initialisation */

void nb__fill(nb_graph *g, nb_node x, float v)
{
    nb_view t;
    if (x >= 0 && !nb_graph_value(g, x, &t))
        for (size_t i = 0; i < t.n; i++) t.data[i] = v;
}

static void fill_uniform(nb_rng *r, float *p, size_t n, float a)
{
    for (size_t i = 0; i < n; i++) p[i] = a * (2.0f * nb_rng_uniform(r) - 1.0f);
}

static void fill_normal(nb_rng *r, float *p, size_t n, float std)
{
    for (size_t i = 0; i < n; i++) p[i] = std * nb_rng_normal(r);
}

int nb__init_weight_bias(nb_model *m, const nb__layer *l, nb_init init, float scale, nb_rng *r)
{
    nb_view w, b = {0};
    nb_graph_value(m->g, nb__layer_tensor(m, l, 0), &w);
    if (l->bias) nb_graph_value(m->g, nb__layer_tensor(m, l, 1), &b);
    /* fan_in = in * receptive field, fan_out = out * receptive field, as in PyTorch */
    float field = w.rank == 4 ? (float)(w.shape[2] * w.shape[3]) : 1.0f;
    float fan_in = (float)w.shape[1] * field, fan_out = (float)w.shape[0] * field;
    switch (init) {
    case NB_INIT_TORCH: /* kaiming_uniform(a=sqrt(5)) reduces to U(+-1/sqrt(fan_in)) */
        fill_uniform(r, w.data, w.n, 1.0f / sqrtf(fan_in));
        if (l->bias) fill_uniform(r, b.data, b.n, 1.0f / sqrtf(fan_in));
        return NB_OK;
    case NB_INIT_XAVIER_UNIFORM: fill_uniform(r, w.data, w.n, sqrtf(6.0f / (fan_in + fan_out))); break;
    case NB_INIT_XAVIER_NORMAL: fill_normal(r, w.data, w.n, sqrtf(2.0f / (fan_in + fan_out))); break;
    case NB_INIT_HE_UNIFORM: fill_uniform(r, w.data, w.n, sqrtf(6.0f / fan_in)); break;
    case NB_INIT_HE_NORMAL: fill_normal(r, w.data, w.n, sqrtf(2.0f / fan_in)); break;
    case NB_INIT_UNIFORM: fill_uniform(r, w.data, w.n, scale); break;
    case NB_INIT_NORMAL: fill_normal(r, w.data, w.n, scale); break;
    default: return nb__fail(NB_ERR_ARG, "unknown initialiser %d", (int)init);
    }
    if (l->bias) memset(b.data, 0, b.n * sizeof(float));
    return NB_OK;
}

/* ---------------------------------------------------------------- geometry */

double nb__numel_d(int rank, const int64_t *shape)
{
    double n = 1;
    for (int d = 0; d < rank; d++) n *= (double)shape[d];
    return n;
}

double nb__shape_copy(nb__layer_shape *out, int rank, const int64_t *in)
{
    out->rank = rank;
    for (int d = 0; d < rank; d++) out->shape[d] = in[d];
    return nb__numel_d(rank, in);
}

int64_t nb__window_out(int64_t in, int k, int stride, int pad, int dil)
{
    int64_t span = (int64_t)dil * (k - 1) + 1, avail = in + 2 * (int64_t)pad;
    return avail < span ? 0 : (avail - span) / stride + 1;
}

/* ---------------------------------------------------------------- spec arguments */

int nb__arg_number(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = nb__strtod(s, &end);
    if (end == s || *end || errno || v != v) return 0;
    *out = v;
    return 1;
}

void nb__fmt_param(char *buf, size_t cap, const char *word, float v)
{
    /* %g keeps the text of existing model files as it was ("dropout 0.1"); where its 6
     * digits name another float (0.99999988 prints "1", which parses back as no valid
     * dropout) 9 digits, which always read back as the same float */
    nb__snprintf(buf, cap, "%s %g", word, (double)v);
    const char *num = buf + strlen(word) + 1;
    if (strlen(buf) + 1 < cap && (float)nb__strtod(num, NULL) != v) nb__snprintf(buf, cap, "%s %.9g", word, (double)v);
}

int nb__arg_whole(const char *s, double lo, double hi, int *out)
{
    double v;
    /* the range test comes first, so the cast is defined */
    if (!nb__arg_number(s, &v) || v < lo || v > hi || v != (double)(int)v) return 0;
    *out = (int)v;
    return 1;
}

int nb__arg_pair(const char *s, int lo, int out[2])
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

int nb__parse_none(const nb__words *s, nb__layer *l)
{
    (void)l;
    return s->n == 1 ? NB_OK : nb__fail(NB_ERR_FORMAT, "spec:%d: '%s' takes no argument", s->line, s->w[0]);
}

void nb__text_word(const nb__layer *l, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", l->word);
}

int nb__arg_window(const nb__words *s, int from, int conv, int stride[2], int pad[2], int dil[2], int *bias)
{
    for (int k = from; k < s->n; k++) {
        const char *w = s->w[k];
        if (conv && strcmp(w, "nobias") == 0) {
            *bias = 0;
            continue;
        }
        int *dst = strcmp(w, "stride") == 0 ? stride : strcmp(w, "pad") == 0 ? pad : (conv && strcmp(w, "dilation") == 0) ? dil : NULL;
        if (!dst)
            return nb__fail(NB_ERR_FORMAT, "spec:%d: '%s': unexpected '%s' (options: stride S, pad P%s)", s->line, s->w[0], w,
                            conv ? ", dilation D, nobias" : "");
        if (k + 1 >= s->n || !nb__arg_pair(s->w[k + 1], dst == pad ? 0 : 1, dst))
            return nb__fail(NB_ERR_FORMAT, "spec:%d: '%s %s' needs a size such as 2 or 2x1%s", s->line, s->w[0], w,
                            dst == pad ? "" : " (>= 1)");
        k++;
    }
    return NB_OK;
}

void nb__text_pair(char *buf, size_t cap, const char *word, const int v[2], int skip_if)
{
    size_t len = strlen(buf);
    if (v[0] == skip_if && v[1] == skip_if) return;
    if (v[0] == v[1]) snprintf(buf + len, cap - len, "%s%s%d", *word ? " " : "", word, v[0]);
    else snprintf(buf + len, cap - len, "%s%s%dx%d", *word ? " " : "", word, v[0], v[1]);
}
