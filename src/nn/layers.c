/*
 * layers.c - each layer kind as a sub-graph of operators: dense, conv2d, pooling, global
 * average pooling, dropout, batch norm, flatten and the activations; their parameters under
 * PyTorch's nn.Sequential names, their initialisation and their flops per sample.
 * A trailing softmax (classify) or sigmoid (binary, multilabel) is the output activation:
 * the fused loss reads the logits before it, so it is never applied twice.
 */
#include "nn.h"

#include <math.h>
#include <string.h>

static void pair(int dst[2], const int *src, int dflt)
{
    dst[0] = src ? src[0] : dflt;
    dst[1] = src ? src[1] : dflt;
}

int nb_model_add_conv2d(nb_model *m, int out_channels, const int kernel[2], const int stride[2],
                        const int pad[2], const int dilation[2], int bias)
{
    nb__layer l = {.type = NB_LAYER_CONV2D, .units = out_channels, .bias = bias != 0};
    pair(l.kernel, kernel, 0);
    pair(l.stride, stride, 1);
    pair(l.pad, pad, 0);
    pair(l.dilation, dilation, 1);
    if (out_channels < 1 || out_channels > 1000000)
        return nb__fail(NB_ERR_ARG, "conv: output channels must be >= 1, got %d", out_channels);
    if (l.kernel[0] < 1 || l.kernel[1] < 1 || l.kernel[0] > 4096 || l.kernel[1] > 4096 || l.stride[0] < 1 || l.stride[1] < 1 ||
        l.pad[0] < 0 || l.pad[1] < 0 || l.dilation[0] < 1 || l.dilation[1] < 1)
        return nb__fail(NB_ERR_ARG, "conv: kernel, stride and dilation must be >= 1 and padding >= 0");
    return nb__add_layer(m, &l);
}

int nb_model_add_pool(nb_model *m, nb_layer_type type, const int kernel[2], const int stride[2], const int pad[2])
{
    if (type != NB_LAYER_MAXPOOL && type != NB_LAYER_AVGPOOL)
        return nb__fail(NB_ERR_ARG, "pool: type must be NB_LAYER_MAXPOOL or NB_LAYER_AVGPOOL");
    nb__layer l = {.type = type};
    pair(l.kernel, kernel, 0);
    pair(l.stride, stride ? stride : kernel, 1);
    pair(l.pad, pad, 0);
    pair(l.dilation, NULL, 1);
    if (l.kernel[0] < 1 || l.kernel[1] < 1 || l.stride[0] < 1 || l.stride[1] < 1 || l.pad[0] < 0 || l.pad[1] < 0 ||
        2 * l.pad[0] > l.kernel[0] || 2 * l.pad[1] > l.kernel[1])
        return nb__fail(NB_ERR_ARG, "%s: kernel and stride must be >= 1, padding between 0 and half the kernel",
                        type == NB_LAYER_MAXPOOL ? "maxpool" : "avgpool");
    return nb__add_layer(m, &l);
}

int nb_model_add_global_avgpool(nb_model *m)
{
    nb__layer l = {.type = NB_LAYER_GLOBAL_AVGPOOL};
    return nb__add_layer(m, &l);
}

int nb_model_add_dropout(nb_model *m, float p)
{
    if (!(p >= 0.0f && p < 1.0f)) return nb__fail(NB_ERR_ARG, "dropout: p must be in [0, 1), got %g", (double)p);
    nb__layer l = {.type = NB_LAYER_DROPOUT, .param = p};
    return nb__add_layer(m, &l);
}

int nb_model_add_batchnorm(nb_model *m)
{
    nb__layer l = {.type = NB_LAYER_BATCHNORM};
    return nb__add_layer(m, &l);
}

static int add_tensor(nb_model *m, int layer, const char *what, nb_node node, int trainable)
{
    nb__ptensor *p = nb__realloc(m->ptensors, (size_t)(m->n_ptensors + 1) * sizeof *p);
    if (!p) {
        m->oom = 1; /* the node exists but is not recorded: the layer must fail */
        return NB_ERR_NOMEM;
    }
    m->ptensors = p;
    snprintf(p[m->n_ptensors].name, sizeof p->name, "layers.%d.%s", layer, what);
    p[m->n_ptensors].node = node;
    p[m->n_ptensors].trainable = trainable;
    m->n_ptensors++;
    return NB_OK;
}

/* a trainable tensor of layer i named layers.i.what */
static nb_node param(nb_model *m, int i, const char *what, int rank, const int64_t *shape)
{
    char name[48];
    snprintf(name, sizeof name, "layers.%d.%s", i, what);
    nb_node p = nb_param(m->g, name, rank, shape);
    if (p >= 0 && add_tensor(m, i, what, p, 1)) return -NB_ERR_NOMEM;
    return p;
}

static nb_node buffer(nb_model *m, int i, const char *what, int rank, const int64_t *shape)
{
    char name[48];
    snprintf(name, sizeof name, "layers.%d.%s", i, what);
    nb_node p = nb_const(m->g, name, rank, shape, NULL);
    if (p >= 0 && add_tensor(m, i, what, p, 0)) return -NB_ERR_NOMEM;
    return p;
}

static nb_node activation(nb_graph *g, const nb__layer *l, nb_node a)
{
    switch (l->op) {
    case NB_OP_LEAKY_RELU: return nb_leaky_relu(g, a, l->param);
    case NB_OP_ELU: return nb_elu(g, a, l->param);
    case NB_OP_MAXOUT: return nb_maxout(g, a, (int)l->param);
    case NB_OP_SOFTMAX: return nb_softmax(g, a, -1);
    case NB_OP_LOG_SOFTMAX: return nb_log_softmax(g, a, -1);
    default: return nb_op(g, l->op, 1, &a, NULL);
    }
}

static int is_output_act(const nb_model *m, const nb__layer *l)
{
    if (l->type != NB_LAYER_ACTIVATION) return 0;
    if (m->task == NB_TASK_CLASSIFY) return l->op == NB_OP_SOFTMAX;
    if (m->task == NB_TASK_BINARY || m->task == NB_TASK_MULTILABEL) return l->op == NB_OP_SIGMOID;
    return 0;
}

static const char *kind_name(const nb__layer *l)
{
    static const char *names[] = {"dense", "activation", "flatten", "conv", "maxpool", "avgpool", "gap", "dropout", "batchnorm"};
    return l->type == NB_LAYER_ACTIVATION ? nb_op_name(l->op) : names[l->type];
}

int nb__layer_build(nb_model *m, int i, nb_node *cur)
{
    nb_graph *g = m->g;
    nb__layer *l = &m->layers[i];
    int64_t s[NB_MAX_RANK];
    int rank = nb_graph_node_shape(g, *cur, s), st;
    size_t in_elems = 1;
    for (int d = 1; d < rank; d++) in_elems *= (size_t)s[d];
    int64_t in_c = rank >= 2 ? s[1] : 0;
    l->in = *cur;
    l->w = l->b = l->rm = l->rv = l->nbt = -1;
    switch (l->type) {
    case NB_LAYER_DENSE:
        if (rank != 2) *cur = nb_flatten(g, *cur); /* dense reads (N, features) */
        rank = nb_graph_node_shape(g, *cur, s);
        if (rank != 2) break;
        l->w = param(m, i, "weight", 2, (int64_t[]){l->units, s[1]});
        *cur = nb_matmul(g, *cur, l->w, 0, 1); /* x (N, in) W^T (in, out) */
        if (l->bias) *cur = nb_add(g, *cur, l->b = param(m, i, "bias", 1, (int64_t[]){l->units}));
        l->flops = 2.0 * (double)s[1] * l->units + (l->bias ? l->units : 0);
        break;
    case NB_LAYER_CONV2D:
        if (rank != 4) {
            char buf[96];
            return nb__fail(NB_ERR_SHAPE, "layer %d (conv): needs image input (C, H, W), got %s per sample; give images (IDX) or a sample shape (nb_dataset_set_sample_shape)", i,
                            nb__shape_str(rank - 1, s + 1, buf, sizeof buf));
        }
        l->w = param(m, i, "weight", 4, (int64_t[]){l->units, s[1], l->kernel[0], l->kernel[1]});
        if (l->bias) l->b = param(m, i, "bias", 1, (int64_t[]){l->units});
        *cur = l->bias ? nb_conv2d_bias(g, *cur, l->w, l->b, l->stride, l->pad, l->dilation)
                       : nb_conv2d(g, *cur, l->w, l->stride, l->pad, l->dilation);
        break;
    case NB_LAYER_MAXPOOL: case NB_LAYER_AVGPOOL:
        if (rank != 4) return nb__fail(NB_ERR_SHAPE, "layer %d (%s): needs (C, H, W) input", i, kind_name(l));
        *cur = (l->type == NB_LAYER_MAXPOOL ? nb_maxpool2d : nb_avgpool2d)(g, *cur, l->kernel, l->stride, l->pad);
        break;
    case NB_LAYER_GLOBAL_AVGPOOL:
        *cur = nb_global_avgpool(g, *cur);
        l->flops = (double)in_elems;
        break;
    case NB_LAYER_DROPOUT:
        *cur = nb_dropout(g, *cur, l->param);
        l->flops = (double)in_elems;
        break;
    case NB_LAYER_BATCHNORM:
        if (rank != 2 && rank != 4) return nb__fail(NB_ERR_SHAPE, "layer %d (batchnorm): needs (C) or (C, H, W) input", i);
        l->w = param(m, i, "weight", 1, (int64_t[]){s[1]});
        l->b = param(m, i, "bias", 1, (int64_t[]){s[1]});
        l->rm = buffer(m, i, "running_mean", 1, (int64_t[]){s[1]});
        l->rv = buffer(m, i, "running_var", 1, (int64_t[]){s[1]});
        l->nbt = buffer(m, i, "num_batches_tracked", 0, NULL);
        *cur = nb_batchnorm(g, *cur, l->w, l->b, l->rm, l->rv, 0.1f, 1e-5f);
        l->flops = 4.0 * (double)in_elems;
        break;
    case NB_LAYER_FLATTEN:
        *cur = nb_flatten(g, *cur);
        break;
    default: /* activations; a trailing output activation is the loss's business */
        if (!(i == m->n_layers - 1 && is_output_act(m, l))) *cur = activation(g, l, *cur);
        l->flops = (double)in_elems;
    }
    if (m->oom) return nb__fail(NB_ERR_NOMEM, "layer %d (%s): out of memory", i, kind_name(l));
    if ((st = nb_graph_status(g)) || *cur < 0) /* a negative node carries its builder's status */
        return nb__fail_prefix(st ? st : -*cur, "layer %d (%s)", i, kind_name(l));
    rank = nb_graph_node_shape(g, *cur, s);
    l->out = *cur;
    l->out_rank = rank - 1;
    for (int d = 1; d < rank; d++) l->out_shape[d - 1] = s[d];
    size_t out_elems = 1;
    for (int d = 1; d < rank; d++) out_elems *= (size_t)s[d];
    if (l->type == NB_LAYER_CONV2D) /* per output element: C_in*kh*kw multiply-adds (+ bias) */
        l->flops = (double)out_elems * (2.0 * (double)in_c * l->kernel[0] * l->kernel[1] + (l->bias ? 1 : 0));
    else if (l->type == NB_LAYER_MAXPOOL || l->type == NB_LAYER_AVGPOOL)
        l->flops = (double)out_elems * l->kernel[0] * l->kernel[1];
    return NB_OK;
}

static void fill_uniform(nb_rng *r, float *p, size_t n, float a)
{
    for (size_t i = 0; i < n; i++) p[i] = a * (2.0f * nb_rng_uniform(r) - 1.0f);
}

static void fill_normal(nb_rng *r, float *p, size_t n, float std)
{
    for (size_t i = 0; i < n; i++) p[i] = std * nb_rng_normal(r);
}

static void fill(nb_graph *g, nb_node x, float v)
{
    nb_view t;
    if (x >= 0 && !nb_graph_value(g, x, &t))
        for (size_t i = 0; i < t.n; i++) t.data[i] = v;
}

int nb__layer_init(nb_model *m, const nb__layer *l, nb_init init, float scale, nb_rng *r)
{
    if (l->type == NB_LAYER_BATCHNORM) { /* PyTorch's reset: gamma 1, beta 0, mean 0, var 1 */
        fill(m->g, l->w, 1.0f), fill(m->g, l->b, 0.0f), fill(m->g, l->rm, 0.0f), fill(m->g, l->rv, 1.0f), fill(m->g, l->nbt, 0.0f);
        return NB_OK;
    }
    if (l->type != NB_LAYER_DENSE && l->type != NB_LAYER_CONV2D) return NB_OK;
    nb_view w, b = {0};
    nb_graph_value(m->g, l->w, &w);
    if (l->bias) nb_graph_value(m->g, l->b, &b);
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

void nb__count_bn_step(nb_model *m)
{
    for (int i = 0; i < m->n_layers; i++)
        if (m->layers[i].type == NB_LAYER_BATCHNORM) {
            nb_view v;
            if (!nb_graph_value(m->g, m->layers[i].nbt, &v)) v.data[0] += 1.0f;
        }
}
