/*
 * simd.c - which instruction set the multi-versioned kernels (simd.h) run: chosen once from
 * the CPU, or forced by tests. Every choice gives the same results, only the speed differs.
 */
#include "simd.h"

#include <stdatomic.h>

static atomic_int g_forced = -1; /* nb__simd_use; -1: pick by CPU */
static atomic_int g_auto = -1;   /* what the CPU check found */

static int cpu_runs(nb__isa isa)
{
#ifdef NB__HAVE_X86_VARIANTS
    __builtin_cpu_init();
    if (isa == NB__ISA_AVX512)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
    if (isa == NB__ISA_AVX2) return __builtin_cpu_supports("avx2");
#endif
    return isa == NB__ISA_GENERIC;
}

nb__isa nb__simd_isa(void)
{
    int f = atomic_load_explicit(&g_forced, memory_order_relaxed);
    if (f >= 0) return (nb__isa)f;
    int a = atomic_load_explicit(&g_auto, memory_order_relaxed);
    if (a < 0) { /* racing first callers compute the same answer */
        a = cpu_runs(NB__ISA_AVX512) ? NB__ISA_AVX512 : cpu_runs(NB__ISA_AVX2) ? NB__ISA_AVX2 : NB__ISA_GENERIC;
        atomic_store_explicit(&g_auto, a, memory_order_relaxed);
    }
    return (nb__isa)a;
}

int nb__simd_use(nb__isa isa)
{
    if (isa != NB__ISA_AUTO && !cpu_runs(isa)) return nb__fail(NB_ERR_ARG, "this CPU or build cannot run that instruction set");
    atomic_store_explicit(&g_forced, (int)isa, memory_order_relaxed);
    return NB_OK;
}
