/*
 * threads.c - the thread count nabla's kernels use. Matrix products run in the BLAS, so the
 * count is handed to OpenBLAS; its partitioning is fixed for a given count, which keeps
 * results identical run to run.
 */
#include "ops.h"

#ifdef NB_HAVE_CBLAS
void openblas_set_num_threads(int num_threads);
#endif

void nb_set_threads(int n)
{
    if (n < 1) n = 1;
#ifdef NB_HAVE_CBLAS
    openblas_set_num_threads(n);
#endif
}
