/* SPDX-License-Identifier: MIT */
/*
 * step_kernels.c - the element loops of an optimizer step (step.c drives them): the update
 * rules and the gradient's sums of squares of step_rules.h, compiled for every CPU tier
 * (simd_tiers.h) and run on the tier every kernel family follows (cpu.h); all give the same
 * bits, so the tier changes only the speed.
 * Explicit vectors rather than the compiler's: the build targets baseline x86-64, and sqrtf's
 * errno semantics keep compilers from vectorising Adam's and RMSprop's loops at all.
 */
#include "optim_internal.h"
#include "../ops/simd.h"

#define NB__SIMD_BODY "../optim/step_rules.h"
#include "../ops/simd_tiers.h"
NB__SIMD_PICK(apply)
NB__SIMD_PICK(sumsq)
NB__SIMD_PICK(sumsq_f)

void nb__optim_apply(const nb__optim_rule *r, size_t lo, size_t hi) { apply_pick()(r, lo, hi); }

double nb__optim_sumsq(const float *g, size_t n) { return sumsq_pick()(g, n); }

float nb__optim_sumsq_f(const float *g, size_t n) { return sumsq_f_pick()(g, n); }
