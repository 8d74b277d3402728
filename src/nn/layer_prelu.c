/* SPDX-License-Identifier: MIT */
/*
 * layer_prelu.c - the parametric ReLU, PyTorch's nn.PReLU(num_parameters): y = max(0, x) +
 * a min(0, x) with learnt slopes a, tensor "weight" (num_parameters), initialised to 0.25.
 * One slope is shared by every element; C slopes go one per channel (dimension 1 of (N, C)
 * or (N, C, H, W)). Built from existing operators as relu(x) - a relu(-x), the slopes
 * reshaped to (C, 1, 1) to broadcast over a channel's plane. Spec: prelu [C].
 */
#include "layer.h"
#include "onnx.h"

static int parse(const nb__words *s, nb__layer *l)
{
    l->units = 1;
    if (s->n > 2 || (s->n == 2 && !nb__arg_whole(s->w[1], 1, 1e6, &l->units)))
        return nb__fail(NB_ERR_FORMAT, "spec:%d: 'prelu' takes at most one whole number, the slopes (1, or its input's channels)%s%s%s",
                        s->line, s->n == 2 ? ", got '" : "", s->n == 2 ? s->w[1] : "", s->n == 2 ? "'" : "");
    return NB_OK;
}

static int check(nb__layer *l)
{
    if (l->units < 1 || l->units > 1000000) return nb__fail(NB_ERR_ARG, "prelu: the number of slopes must be in 1..10^6, got %d", l->units);
    return NB_OK;
}

static void text(const nb__layer *l, char *buf, size_t cap)
{
    if (l->units == 1) snprintf(buf, cap, "prelu");
    else snprintf(buf, cap, "prelu %d", l->units);
}

static int infer(const nb__layer *l, int in_rank, const int64_t *in, nb__layer_shape *out)
{
    char buf[96];
    if (l->units != 1 && in[0] != l->units)
        return nb__fail(NB_ERR_SHAPE, "%d slopes, one per channel, but the input has %lld channels (%s per sample)", l->units,
                        (long long)in[0], nb__shape_str(in_rank, in, buf, sizeof buf));
    double n = nb__shape_copy(out, in_rank, in);
    out->flops = 5.0 * n;   /* neg, two relus, mul, sub: the operators it is built from */
    out->scratch = 4.0 * n; /* their outputs but the last */
    return NB_OK;
}

static int tensors(const nb__layer *l, nb__tensor_def t[NB__LAYER_MAX_TENSORS])
{
    nb__tensor_set(&t[0], "weight", 1, 1, (int64_t[]){l->units});
    return 1;
}

static int build(nb_model *m, int i, const nb__tensor_def *t, nb_node *cur)
{
    const nb__layer *l = &m->layers[i];
    nb_graph *g = m->g;
    nb_node a = nb__layer_tensor_new(m, i, &t[0]), x = *cur;
    if (l->units != 1 && l->in_rank > 1) { /* (C) -> (C, 1, ...): broadcasts over dimensions 2.. */
        int64_t s[NB_MAX_RANK] = {l->units, 1, 1, 1};
        a = nb_reshape(g, a, l->in_rank, s);
    }
    /* relu(x) - a relu(-x) = max(0, x) + a min(0, x); one statement per node, so the
     * nodes' order does not hang on the compiler's order of evaluating arguments */
    nb_node pos = nb_relu(g, x);
    nb_node neg = nb_relu(g, nb_neg(g, x));
    neg = nb_mul(g, neg, a);
    *cur = nb_sub(g, pos, neg);
    return NB_OK;
}

/* PyTorch's init=0.25 whatever the initialiser; draws nothing, so later layers' weights are
 * those of the same model without it */
/* PRelu: x < 0 ? a x : x, what relu(x) - a relu(-x) computes, bit for bit. With one slope
 * per channel of a rank > 1 input, the slopes are (C, 1, ...) so they broadcast per channel */
static int onnx(nb__onnx *o, const nb_model *m, int i, const nb__layer *l, const char *in, char *out, size_t cap)
{
    char a[NB__ONNX_NAME], y[NB__ONNX_NAME];
    nb_view v;
    int st;
    (void)i;
    if (l->units != 1 && l->in_rank > 1) {
        int64_t s[NB_MAX_RANK] = {l->units, 1, 1, 1};
        if ((st = nb_graph_value(m->g, nb__layer_tensor(m, l, 0), &v))) return st;
        snprintf(a, sizeof a, "%s.onnx", m->ptensors[l->t0].name);
        nb__onnx_init_f32(o, a, l->in_rank, s, v.data);
    } else if ((st = nb__onnx_tensor(o, m, l, 0, a, NULL))) {
        return st;
    }
    nb__onnx_op(o, "PRelu", (const char *[]){in, a}, 2, NULL, 0, y);
    snprintf(out, cap, "%s", y);
    return NB_OK;
}

/* the inverse (nabla's own ONNX files): the slopes are the same numbers whatever their shape */
static int onnx_in(nb_model *m, const nb__layer *l, nb__onnx_get get, void *ud)
{
    char a[NB__ONNX_NAME];
    nb_view v;
    int st = nb_graph_value(m->g, nb__layer_tensor(m, l, 0), &v);
    if (st) return st;
    snprintf(a, sizeof a, "%s%s", m->ptensors[l->t0].name, l->units != 1 && l->in_rank > 1 ? ".onnx" : "");
    return get(ud, a, v.n, v.data);
}

static int init(nb_model *m, const nb__layer *l, nb_init how, float scale, nb_rng *r)
{
    (void)how, (void)scale, (void)r;
    nb__fill(m->g, nb__layer_tensor(m, l, 0), 0.25f);
    return NB_OK;
}

int nb_model_add_prelu(nb_model *m, int num_parameters)
{
    nb__layer l = {.type = NB_LAYER_PRELU, .units = num_parameters};
    return nb__layer_add(m, &l);
}

const nb__layer_def nb__layer_prelu = {
    .word = "prelu", .parse = parse, .check = check, .text = text, .infer = infer,
    .tensors = tensors, .build = build, .init = init, .onnx = onnx, .onnx_in = onnx_in,
};
