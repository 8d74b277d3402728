/* SPDX-License-Identifier: MIT */
/*
 * test_mpi_transport.c - nabla's MPI transport (src/dist/nb_mpi.c), run under mpirun -np 2 and
 * 3 by test_mpi_transport.sh. allreduce_sum must give, on every rank, exactly the float sum of
 * the ranks' values added in rank order (rank 0's, plus rank 1's, ...): checked bit for bit
 * against that sum computed here (every rank can make every rank's values), which is itself
 * checked against the double sum. The values span 2^-12 .. 2^12, so any other order of
 * addition would differ in the last bits. Also broadcast, barrier, and nb_comm_agree over
 * this transport: a failure on rank 1 alone comes back on every rank as "rank 1 of N: ...".
 */
#include "nabla.h"
#include "check.h"
#include "../../src/dist/nb_mpi.h"

#include <stdint.h>
#include <stdlib.h>

/* rank r's i-th value: a hash of (r, i, n) as a float of random sign and exponent */
static float value(int r, size_t i, size_t n)
{
    uint64_t x = ((uint64_t)r * 0x9E3779B97F4A7C15u) ^ ((uint64_t)i * 0xD1B54A32D192ED03u) ^ (uint64_t)n;
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9u;
    x ^= x >> 29;
    float m = (float)(x >> 40) / (float)(1u << 24);          /* [0, 1) */
    int e = (int)((x >> 8) % 25) - 12;                        /* 2^-12 .. 2^12 */
    return (x & 1 ? -1.0f : 1.0f) * ldexpf(0.5f + m, e);
}

static void check_allreduce(const nb_comm *c, size_t n)
{
    float *buf = malloc((n ? n : 1) * sizeof *buf);
    CHECK(buf != NULL);
    if (!buf) return;
    for (size_t i = 0; i < n; i++) buf[i] = value(c->rank, i, n);
    CHECK(c->allreduce_sum(c->ud, buf, n) == 0);
    size_t bad = 0, far = 0;
    for (size_t i = 0; i < n; i++) {
        float s = value(0, i, n);
        double d = (double)s, mag = fabs(d);
        for (int r = 1; r < c->size; r++) {
            float v = value(r, i, n);
            s += v;
            d += (double)v;
            mag += fabs((double)v);
        }
        if (memcmp(&s, &buf[i], sizeof s) != 0) bad++;
        /* the reference itself: N-1 float additions, each within half an ulp of its sum */
        if (!(fabs((double)s - d) <= (double)c->size * 0x1p-24 * mag)) far++;
    }
    if (bad || far)
        fprintf(stderr, "rank %d of %d: n = %zu: %zu sums differ from the rank-ordered float sum, %zu from the "
                "double sum\n", c->rank, c->size, n, bad, far);
    CHECK(bad == 0);
    CHECK(far == 0);
    free(buf);
}

int main(int argc, char **argv)
{
    CHECK(nb_mpi_launched());
    nb_comm c;
    int rc = nb_mpi_init(&argc, &argv, &c);
    if (rc) {
        fprintf(stderr, "nb_mpi_init: %s\n", nb_mpi_errmsg());
        return 1;
    }
    CHECK(c.size >= 2);
    CHECK(nb_mpi_launched_size() == c.size);
    CHECK(nb_mpi_launched_rank() == c.rank);
    const size_t N = (size_t)c.size;
    /* empty, one, a few, just above the small-buffer path, a million (uneven chunks: 1e6 % 3) */
    const size_t sizes[] = {0, 1, 7, N * 64 - 1, N * 64 + 3, 1000000};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) check_allreduce(&c, sizes[k]);
    check_allreduce(&c, 1000000); /* again: the grown scratch buffer is reused */

    /* broadcast from the last rank; 0 bytes is a no-op */
    unsigned char b[1000];
    for (int i = 0; i < 1000; i++) b[i] = (unsigned char)(c.rank == c.size - 1 ? i * 7 + 3 : 0);
    CHECK(c.broadcast(c.ud, b, sizeof b, c.size - 1) == 0);
    int same = 1;
    for (int i = 0; i < 1000; i++) same &= b[i] == (unsigned char)(i * 7 + 3);
    CHECK(same);
    CHECK(c.broadcast(c.ud, b, 0, 0) == 0);
    CHECK(c.broadcast(c.ud, b, 1, c.size) != 0); /* not a rank: refused locally, before MPI */
    CHECK(c.barrier(c.ud) == 0);

    /* agree: all fine; rank 1 alone fails; ranks 1 and 2 fail (the lowest wins) */
    CHECK(nb_comm_agree(&c, NB_OK, NULL) == NB_OK);
    char want[128];
    snprintf(want, sizeof want, "rank 1 of %d: cannot open 'missing.csv'", c.size);
    rc = nb_comm_agree(&c, c.rank == 1 ? NB_ERR_IO : NB_OK, c.rank == 1 ? "cannot open 'missing.csv'" : NULL);
    CHECK(rc == NB_ERR_IO);
    CHECK(strcmp(nb_errmsg(), want) == 0);
    if (strcmp(nb_errmsg(), want) != 0) fprintf(stderr, "rank %d: got \"%s\"\n", c.rank, nb_errmsg());
    rc = nb_comm_agree(&c, c.rank >= 1 ? NB_ERR_FORMAT + c.rank - 1 : NB_OK, c.rank >= 1 ? "bad row" : NULL);
    CHECK(rc == NB_ERR_FORMAT);
    snprintf(want, sizeof want, "rank 1 of %d: bad row", c.size);
    CHECK(strcmp(nb_errmsg(), want) == 0);

    nb_mpi_finalize(&c);
    CHECK(c.size == 0 && c.allreduce_sum == NULL);
    char name[64];
    snprintf(name, sizeof name, "test_mpi_transport (rank %d of %d)", c.rank, (int)N);
    return check_exit(name);
}
