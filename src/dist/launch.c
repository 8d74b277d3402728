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

int nb_mpi_launched_size(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        char *end;
        long n = v ? strtol(v, &end, 10) : 0;
        if (v && end != v && *end == '\0' && n > 0 && n < (1L << 30)) return (int)n;
    }
    return 0;
}
