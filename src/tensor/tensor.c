/*
 * tensor.c - owned float32 tensors: a shape and one contiguous row-major array.
 * Invariant: n == product(shape) and data holds n floats (at least one allocated byte).
 */
#include "internal.h"

#include <string.h>

struct nb_tensor {
    int rank;
    int64_t shape[NB_MAX_RANK];
    size_t n;
    float *data;
};

int nb_tensor_create(int rank, const int64_t *shape, nb_tensor **out)
{
    char buf[128];
    *out = NULL;
    if (rank < 0 || rank > NB_MAX_RANK || (rank > 0 && !shape))
        return nb__fail(NB_ERR_SHAPE, "tensor rank %d is not in 0..%d", rank, NB_MAX_RANK);
    for (int i = 0; i < rank; i++)
        if (shape[i] < 1)
            return nb__fail(NB_ERR_SHAPE, "tensor shape %s: dimension %d is %lld, must be >= 1",
                            nb__shape_str(rank, shape, buf, sizeof buf), i, (long long)shape[i]);
    size_t n;
    if (!nb__numel(rank, shape, &n))
        return nb__fail(NB_ERR_NOMEM, "tensor shape %s: element count overflows",
                        nb__shape_str(rank, shape, buf, sizeof buf));
    nb_tensor *t = nb__calloc(1, sizeof *t);
    if (!t) return NB_ERR_NOMEM;
    t->data = nb__calloc(n, sizeof(float));
    if (!t->data) {
        nb_free(t);
        return NB_ERR_NOMEM;
    }
    t->rank = rank;
    for (int i = 0; i < rank; i++) t->shape[i] = shape[i];
    t->n = n;
    *out = t;
    return NB_OK;
}

void nb_tensor_free(nb_tensor *t)
{
    if (!t) return;
    nb_free(t->data);
    nb_free(t);
}

nb_view nb_tensor_view(const nb_tensor *t)
{
    nb_view v;
    memset(&v, 0, sizeof v);
    v.rank = t->rank;
    memcpy(v.shape, t->shape, sizeof v.shape);
    v.n = t->n;
    v.data = t->data;
    return v;
}

float *nb_tensor_data(nb_tensor *t) { return t->data; }
size_t nb_tensor_numel(const nb_tensor *t) { return t->n; }

void nb_tensor_fill(nb_tensor *t, float v)
{
    for (size_t i = 0; i < t->n; i++) t->data[i] = v;
}

int nb_tensor_copy_in(nb_tensor *t, const float *src, size_t n)
{
    if (n != t->n)
        return nb__fail(NB_ERR_SHAPE, "tensor copy: %zu values given for %zu elements", n, t->n);
    memcpy(t->data, src, n * sizeof(float));
    return NB_OK;
}

int nb_tensor_copy_out(const nb_tensor *t, float *dst, size_t n)
{
    if (n != t->n)
        return nb__fail(NB_ERR_SHAPE, "tensor copy: room for %zu values, tensor has %zu", n, t->n);
    memcpy(dst, t->data, n * sizeof(float));
    return NB_OK;
}

void nb_tensor_rand_uniform(nb_tensor *t, nb_rng *rng, float lo, float hi)
{
    for (size_t i = 0; i < t->n; i++) t->data[i] = lo + (hi - lo) * nb_rng_uniform(rng);
}

void nb_tensor_rand_normal(nb_tensor *t, nb_rng *rng, float mean, float std)
{
    for (size_t i = 0; i < t->n; i++) t->data[i] = mean + std * nb_rng_normal(rng);
}
