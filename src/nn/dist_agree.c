/* SPDX-License-Identifier: MIT */
/*
 * dist_agree.c - the collective calls of a distributed run that are not training itself:
 * agreeing on one error for every rank, and the slot exchange the training loop uses to
 * learn every rank's figures (nb_comm has only a float sum; see dist.c).
 */
#include "nn.h"

#include <math.h>
#include <string.h>

int nb__dist_transport_fail(const nb_comm *c, const char *what)
{
    int st = nb__fail(NB_ERR_DIST, "rank %d of %d: the transport's %s failed; stopping every rank", c->rank, c->size, what);
    if (c->abort) c->abort(c->ud, NB_ERR_DIST);
    return st;
}

/* Every rank's k doubles, in rank order, into all[size * k] on every rank. A float sum can
 * carry them exactly only one rank at a time: rank r writes its values into its own slots
 * (each double as a float and the float of its remainder, ~48 bits) and everyone else adds
 * zeros there, so each slot's sum is the one value put in it, whatever the order of the sum. */
int nb__dist_gather_buf(const nb_comm *c, const double *mine, int k, double *all, float *buf)
{
    size_t n = (size_t)c->size * (size_t)k * 2;
    memset(buf, 0, n * sizeof *buf);
    float *slot = buf + (size_t)c->rank * (size_t)k * 2;
    for (int i = 0; i < k; i++) {
        float hi = (float)mine[i];
        slot[2 * i] = hi;
        slot[2 * i + 1] = isfinite(hi) ? (float)(mine[i] - (double)hi) : 0.0f;
    }
    if (c->allreduce_sum(c->ud, buf, n)) return nb__dist_transport_fail(c, "allreduce_sum");
    for (size_t i = 0; i < n / 2; i++) all[i] = (double)buf[2 * i] + (double)buf[2 * i + 1];
    return NB_OK;
}

int nb__dist_gather(const nb_comm *c, const double *mine, int k, double *all)
{
    float *buf = nb__alloc_array((size_t)c->size * (size_t)k * 2, sizeof *buf);
    if (!buf) return nb__fail(NB_ERR_NOMEM, "rank %d of %d: out of memory for the ranks' figures", c->rank, c->size);
    int st = nb__dist_gather_buf(c, mine, k, all, buf);
    nb_free(buf);
    return st;
}

int nb_comm_agree(const nb_comm *c, int status, const char *msg)
{
    if (!c || c->size <= 1) return status;
    char text[sizeof(((nb__dist_msg *)0)->text)];
    snprintf(text, sizeof text, "%s", msg ? msg : nb_errmsg()); /* before anything sets another */
    double mine = status, *all = nb__calloc((size_t)c->size, sizeof *all);
    if (!all) return nb__fail(NB_ERR_NOMEM, "rank %d of %d: out of memory agreeing on the ranks' status", c->rank, c->size);
    int st = nb__dist_gather(c, &mine, 1, all), failed = -1;
    for (int r = 0; !st && r < c->size && failed < 0; r++)
        if (all[r] != 0) failed = r;
    int code = failed >= 0 ? (int)all[failed] : NB_OK;
    nb_free(all);
    if (st || failed < 0) return st;
    /* the failing rank's message, to every rank */
    if (c->broadcast(c->ud, text, sizeof text, failed)) return nb__dist_transport_fail(c, "broadcast");
    text[sizeof text - 1] = '\0';
    return nb__fail(code, "rank %d of %d: %s", failed, c->size, text);
}
