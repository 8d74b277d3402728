/* SPDX-License-Identifier: MIT */
/*
 * launch.c - whether mpirun started this process, read from the environment alone, so that
 * a CLI built without MPI can still tell that it was launched by mpirun and refuse to run N
 * independent copies that would each write the same files.
 */
#include "nb_mpi.h"

#include <stdlib.h>

int nb_mpi_launched(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK");
}

/* the first of vars that holds an integer in [lo, 2^30), else -1 */
static int env_int(const char *const *vars, size_t n_vars, long lo)
{
    for (size_t i = 0; i < n_vars; i++) {
        const char *v = getenv(vars[i]);
        char *end;
        long n = v ? strtol(v, &end, 10) : 0;
        if (v && end != v && *end == '\0' && n >= lo && n < (1L << 30)) return (int)n;
    }
    return -1;
}

int nb_mpi_launched_size(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"};
    int n = env_int(vars, 2, 1);
    return n < 0 ? 0 : n;
}

int nb_mpi_launched_rank(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"};
    return env_int(vars, 3, 0);
}
