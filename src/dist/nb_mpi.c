/* SPDX-License-Identifier: MIT */
/*
 * nb_mpi.c - the nb_comm of nabla's CLI over MPI (the only file of nabla that includes mpi.h).
 *
 * Why not MPI_Allreduce: the order in which it adds the ranks' values is MPI's choice (ring,
 * recursive doubling, Rabenseifner, a tree that follows the topology, ...) and changes with
 * the process count, the message size, the network and the Open MPI version, so its float
 * sums are not reproducible from one run or machine to the next. allreduce_sum here fixes
 * the order instead and keeps the bandwidth of a reduce-scatter + all-gather: rank j owns the
 * chunk [n*j/N, n*(j+1)/N); every rank sends each owner its piece of that chunk (one
 * MPI_Alltoallv), the owner adds the N pieces in rank order 0, 1, ..., N-1 (rank 0's value,
 * plus rank 1's, ...), and MPI_Allgatherv hands every rank every summed chunk. Each element is
 * summed once, on one rank, in one order: the same bits everywhere, whatever MPI does. Each
 * rank sends and receives about 2n floats, as a ring all-reduce does. Small buffers (fewer
 * than N*64 floats) go in one MPI_Allgather of the whole buffer and are summed in the same
 * order on every rank: one round trip instead of two.
 */
#include "nb_mpi.h"

#include <limits.h>
#include <mpi.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* at most this many floats per collective call: MPI counts and displacements are ints */
#define SEG_FLOATS ((size_t)1 << 28)
#define SMALL_PER_RANK 64

typedef struct mpi_state {
    MPI_Comm comm; /* a duplicate of MPI_COMM_WORLD: nabla's messages never meet another's */
    int rank, size, live;
    int *cnt, *off;   /* size each: the chunk lengths and starts of the current segment */
    int *rcnt, *roff; /* size each: what this rank receives of its own chunk, and where */
    float *scratch;   /* grows to the largest need, then is reused: no malloc per call */
    size_t cap;
} mpi_state;

static mpi_state g_state;
static char g_err[512];

const char *nb_mpi_errmsg(void)
{
    return g_err;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int fail(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_err, sizeof g_err, fmt, ap);
    va_end(ap);
    return status;
}

/* what: the MPI call; rc its return */
static int mpi_fail(const char *what, int rc)
{
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS) snprintf(text, sizeof text, "error %d", rc);
    text[len >= 0 && len < (int)sizeof text ? len : (int)sizeof text - 1] = '\0';
    return fail(NB_ERR_DIST, "rank %d of %d: %s failed: %s", g_state.rank, g_state.size, what, text);
}

static int grow(mpi_state *s, size_t n)
{
    if (n <= s->cap) return 0;
    float *p = realloc(s->scratch, n * sizeof *p);
    if (!p) return fail(NB_ERR_NOMEM, "rank %d of %d: out of memory for %zu floats of reduction buffer", s->rank, s->size, n);
    s->scratch = p;
    s->cap = n;
    return 0;
}

/* n < N*64: everyone's whole buffer to everyone, each rank sums in rank order */
static int reduce_small(mpi_state *s, float *buf, size_t n)
{
    size_t N = (size_t)s->size;
    int rc;
    if ((rc = grow(s, N * n))) return rc;
    if ((rc = MPI_Allgather(buf, (int)n, MPI_FLOAT, s->scratch, (int)n, MPI_FLOAT, s->comm)) != MPI_SUCCESS)
        return mpi_fail("MPI_Allgather", rc);
    for (size_t i = 0; i < n; i++) {
        float v = s->scratch[i];
        for (size_t r = 1; r < N; r++) v += s->scratch[r * n + i];
        buf[i] = v;
    }
    return 0;
}

/* one segment of at most SEG_FLOATS: reduce-scatter by owner, ordered sum, all-gather */
static int reduce_segment(mpi_state *s, float *buf, size_t n)
{
    int N = s->size, me = s->rank, rc;
    for (int j = 0; j < N; j++) {
        size_t a = n * (size_t)j / (size_t)N, b = n * (size_t)(j + 1) / (size_t)N;
        s->off[j] = (int)a;
        s->cnt[j] = (int)(b - a);
    }
    size_t mine = (size_t)s->cnt[me];
    for (int r = 0; r < N; r++) {
        s->rcnt[r] = (int)mine;
        s->roff[r] = (int)(mine * (size_t)r);
    }
    if ((rc = grow(s, mine * (size_t)N))) return rc;
    if ((rc = MPI_Alltoallv(buf, s->cnt, s->off, MPI_FLOAT, s->scratch, s->rcnt, s->roff, MPI_FLOAT,
                            s->comm)) != MPI_SUCCESS)
        return mpi_fail("MPI_Alltoallv", rc);
    float *dst = buf + s->off[me];
    for (size_t i = 0; i < mine; i++) {
        float v = s->scratch[i];
        for (size_t r = 1; r < (size_t)N; r++) v += s->scratch[r * mine + i];
        dst[i] = v;
    }
    if ((rc = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, s->cnt, s->off, MPI_FLOAT,
                             s->comm)) != MPI_SUCCESS)
        return mpi_fail("MPI_Allgatherv", rc);
    return 0;
}

static int t_allreduce(void *ud, float *buf, size_t n)
{
    mpi_state *s = ud;
    if (s->size <= 1 || n == 0) return 0;
    if (!buf) return fail(NB_ERR_ARG, "allreduce_sum: buf is NULL");
    if (n < (size_t)s->size * SMALL_PER_RANK) return reduce_small(s, buf, n);
    for (size_t at = 0; at < n; at += SEG_FLOATS) {
        int rc = reduce_segment(s, buf + at, n - at < SEG_FLOATS ? n - at : SEG_FLOATS);
        if (rc) return rc;
    }
    return 0;
}

static int t_broadcast(void *ud, void *buf, size_t bytes, int root)
{
    mpi_state *s = ud;
    if (root < 0 || root >= s->size) return fail(NB_ERR_ARG, "broadcast: root %d is not a rank of %d", root, s->size);
    for (size_t at = 0; at < bytes; at += (size_t)INT_MAX) {
        size_t k = bytes - at < (size_t)INT_MAX ? bytes - at : (size_t)INT_MAX;
        int rc = MPI_Bcast((char *)buf + at, (int)k, MPI_BYTE, root, s->comm);
        if (rc != MPI_SUCCESS) return mpi_fail("MPI_Bcast", rc);
    }
    return 0;
}

static int t_barrier(void *ud)
{
    mpi_state *s = ud;
    int rc = MPI_Barrier(s->comm);
    return rc == MPI_SUCCESS ? 0 : mpi_fail("MPI_Barrier", rc);
}

static void t_abort(void *ud, int status)
{
    (void)ud;
    MPI_Abort(MPI_COMM_WORLD, status);
}

static void state_free(mpi_state *s)
{
    free(s->cnt);
    free(s->off);
    free(s->rcnt);
    free(s->roff);
    free(s->scratch);
    s->cnt = s->off = s->rcnt = s->roff = NULL;
    s->scratch = NULL;
    s->cap = 0;
}

static const char *level_name(int level)
{
    return level == MPI_THREAD_SINGLE ? "MPI_THREAD_SINGLE"
           : level == MPI_THREAD_FUNNELED ? "MPI_THREAD_FUNNELED"
           : level == MPI_THREAD_SERIALIZED ? "MPI_THREAD_SERIALIZED"
                                            : "MPI_THREAD_MULTIPLE";
}

int nb_mpi_init(int *argc, char ***argv, nb_comm *out)
{
    g_err[0] = '\0';
    if (!out) return fail(NB_ERR_ARG, "nb_mpi_init: out is NULL");
    memset(out, 0, sizeof *out);
    mpi_state *s = &g_state;
    if (s->live) return fail(NB_ERR_STATE, "nb_mpi_init: MPI is already initialised by this module; one transport per process");
    int provided = MPI_THREAD_SINGLE, rc = MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &provided);
    if (rc != MPI_SUCCESS) return fail(NB_ERR_DIST, "MPI_Init_thread failed (error %d): check the mpirun command and the MPI installation", rc);
    if (provided < MPI_THREAD_SERIALIZED) {
        MPI_Finalize();
        return fail(NB_ERR_DIST, "this MPI provides only %s; nabla reduces gradients on a thread of its own and needs "
                    "MPI_THREAD_SERIALIZED: use Open MPI (scripts/deps.sh installs libopenmpi-dev, openmpi-bin)",
                    level_name(provided));
    }
    /* failures come back as return codes, which the ranks then agree on, never as an abort */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    if ((rc = MPI_Comm_dup(MPI_COMM_WORLD, &s->comm)) != MPI_SUCCESS) {
        int st = mpi_fail("MPI_Comm_dup", rc);
        MPI_Finalize();
        return st;
    }
    MPI_Comm_set_errhandler(s->comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(s->comm, &s->rank);
    MPI_Comm_size(s->comm, &s->size);
    size_t N = (size_t)s->size;
    s->cnt = malloc(N * sizeof *s->cnt);
    s->off = malloc(N * sizeof *s->off);
    s->rcnt = malloc(N * sizeof *s->rcnt);
    s->roff = malloc(N * sizeof *s->roff);
    if (!s->cnt || !s->off || !s->rcnt || !s->roff) {
        state_free(s);
        MPI_Comm_free(&s->comm);
        MPI_Finalize();
        return fail(NB_ERR_NOMEM, "nb_mpi_init: out of memory for %zu ranks", N);
    }
    s->live = 1;
    out->rank = s->rank;
    out->size = s->size;
    out->ud = s;
    out->allreduce_sum = t_allreduce;
    out->broadcast = t_broadcast;
    out->barrier = t_barrier;
    out->abort = t_abort;
    return NB_OK;
}

void nb_mpi_finalize(nb_comm *c)
{
    if (!c || c->ud != &g_state || !g_state.live) return;
    mpi_state *s = &g_state;
    state_free(s);
    MPI_Comm_free(&s->comm);
    s->live = 0;
    MPI_Finalize();
    memset(c, 0, sizeof *c);
}
