/* SPDX-License-Identifier: MIT */
/*
 * cpu.c - the tier every kernel family runs (cpu.h): detected once from the CPU (racing first
 * callers compute and store the same answer, so an atomic suffices), or forced by tests.
 */
#include "cpu.h"

#include <stdatomic.h>

static atomic_int g_forced = NB__ISA_AUTO; /* nb__cpu_use; AUTO: the detected tier */
static atomic_int g_detected = NB__ISA_AUTO; /* AUTO until the first nb__cpu_isa */

/* whether this CPU and build run the tier */
static int cpu_runs(nb__isa isa)
{
#ifdef NB__HAVE_X86_VARIANTS
    __builtin_cpu_init();
    if (isa == NB__ISA_AVX512)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
    if (isa == NB__ISA_AVX2) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    return isa == NB__ISA_GENERIC;
}

nb__isa nb__cpu_isa(void)
{
    int f = atomic_load_explicit(&g_forced, memory_order_relaxed);
    if (f != NB__ISA_AUTO) return (nb__isa)f;
    int d = atomic_load_explicit(&g_detected, memory_order_relaxed);
    if (d == NB__ISA_AUTO) {
        d = cpu_runs(NB__ISA_AVX512) ? NB__ISA_AVX512 : cpu_runs(NB__ISA_AVX2) ? NB__ISA_AVX2 : NB__ISA_GENERIC;
        atomic_store_explicit(&g_detected, d, memory_order_relaxed);
    }
    return (nb__isa)d;
}

int nb__cpu_use(nb__isa isa)
{
    static const char *const names[] = {"generic", "avx2", "avx512"};
    if (isa != NB__ISA_AUTO && (isa < NB__ISA_GENERIC || isa > NB__ISA_AVX512))
        return nb__fail(NB_ERR_ARG, "CPU tier %d: no such tier", (int)isa);
    if (isa != NB__ISA_AUTO && !cpu_runs(isa))
        return nb__fail(NB_ERR_ARG, "CPU tier %s: this CPU or build cannot run it", names[isa]);
    atomic_store_explicit(&g_forced, (int)isa, memory_order_relaxed);
    return NB_OK;
}
