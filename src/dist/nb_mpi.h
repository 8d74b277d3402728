/* SPDX-License-Identifier: MIT */
/*
 * nb_mpi.h - nabla's MPI transport for distributed training (issue 16): an nb_comm over
 * MPI_COMM_WORLD. The library stays MPI-free; this module is built into the CLI only, when
 * Open MPI is installed (Makefile MPI=auto; scripts/deps.sh installs it), and the CLI then
 * compiles with NB_HAVE_MPI. This header does not include mpi.h, so its callers need none of
 * MPI's flags. Library rules hold here too: nothing prints, exits or aborts (but the nb_comm
 * abort, which is MPI_Abort on request); failures return NB_* codes with a message in
 * nb_mpi_errmsg().
 */
#ifndef NB_DIST_MPI_H
#define NB_DIST_MPI_H

#include "nabla/nn.h" /* nb_comm; the public API only (scripts/check-layers.sh) */

/* nb_mpi_launched: 1 when this process was started by mpirun / mpiexec (Open MPI's
 * OMPI_COMM_WORLD_SIZE, PMIx's PMIX_RANK or PMI's PMI_RANK is in the environment), else 0.
 * Needs no MPI: built into every CLI (launch.c). */
int nb_mpi_launched(void);

/* nb_mpi_launched_size: the process count mpirun started (OMPI_COMM_WORLD_SIZE, else
 * PMI_SIZE), or 0 when the environment does not say. Needs no MPI. */
int nb_mpi_launched_size(void);

/* nb_mpi_launched_rank: this process's rank as mpirun says (OMPI_COMM_WORLD_RANK, PMIX_RANK,
 * PMI_RANK), or -1 when it does not. Needs no MPI. */
int nb_mpi_launched_rank(void);

/* nb_mpi_init: MPI_Init_thread asking for MPI_THREAD_SERIALIZED (nabla reduces gradients on a
 * thread of its own, one call at a time); an MPI that provides less is refused (NB_ERR_DIST).
 * Errors on the communicator return (MPI_ERRORS_RETURN), never abort. Fills *out with rank,
 * size and the calls of the transport (its ud is this module's state). NB_OK, or NB_ERR_DIST /
 * NB_ERR_NOMEM / NB_ERR_ARG with nb_mpi_errmsg() set. One transport per process. */
int nb_mpi_init(int *argc, char ***argv, nb_comm *out);

/* nb_mpi_finalize: frees the transport's buffers and calls MPI_Finalize; *c is zeroed. A c
 * that nb_mpi_init did not fill (or NULL) does nothing. */
void nb_mpi_finalize(nb_comm *c);

/* nb_mpi_errmsg: the last failure's message ("" when none); static storage. */
const char *nb_mpi_errmsg(void);

#endif
