/* SPDX-License-Identifier: MIT */
/*
 * optim.h - what the layers above use of src/optim beyond the public nabla/optim.h.
 */
#ifndef NB_OPTIM_H
#define NB_OPTIM_H

#include "../tensor/internal.h"
#include "nabla/optim.h"

/* Where the parameter tensors lie in the flat buffer: n spans [off[i], off[i] + len[i]),
 * in order. A step's update then lets the calling thread claim first the parts in the first
 * half of their tensor, and the workers the parts in the second half (optim_internal.h):
 * the halves that the threads computed in the weight-gradient products and read in the
 * forward ones, which split a weight by its rows and give the caller the first (ops.h,
 * nb__gemm_rows). Only which thread updates a part changes, so no result does; spans that
 * do not tile [0, n) in order leave the parts in flat order. */
NB_HIDDEN void nb__optim_set_spans(nb_optim *o, const size_t *off, const size_t *len, int n);

#endif
