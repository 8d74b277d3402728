/* SPDX-License-Identifier: MIT */
/*
 * cpu.h - the one CPU-feature module: which instruction-set tier every multi-versioned kernel
 * runs (the GEMM's micro-kernels, the kernels simd_tiers.h compiles per tier, the narrow
 * planes' max pooling). The tier is detected once, from the CPU, and every kernel family follows the same
 * one, so a machine never mixes tiers; tests and benchmarks may force another with
 * nb__cpu_use. Every tier gives the same bits (the kernels' headers say why); only the speed
 * depends on it. Tiers are cumulative: a CPU that runs one runs those below it.
 */
#ifndef NB_CPU_H
#define NB_CPU_H

#include "internal.h"

/* GENERIC: the build's baseline (SSE2 on x86-64); AVX2: AVX2 with FMA (the GEMM kernel needs
 * both, and the two come together on every x86 CPU that has AVX2); AVX512: AVX-512
 * F, BW, DQ and VL (Skylake-SP and later, Zen 4). AUTO: only for nb__cpu_use. */
typedef enum { NB__ISA_AUTO = -1, NB__ISA_GENERIC, NB__ISA_AVX2, NB__ISA_AVX512 } nb__isa;

/* The tier in force: the one forced by nb__cpu_use, else the best this CPU and build run
 * (found on the first call; safe to call from any thread). */
NB_HIDDEN nb__isa nb__cpu_isa(void);
/* Forces a tier for every kernel family at once, or AUTO to go back to the detected one.
 * NB_ERR_ARG, with a message, when this CPU or build cannot run it (nothing changes then).
 * For tests and benchmarks: call it while no kernel runs (single-threaded callers). */
NB_HIDDEN int nb__cpu_use(nb__isa isa);

/* How a kernel is compiled for a tier: function attributes only, so the build stays at the
 * baseline and one binary holds every tier (simd.h says how a kernel is written once). */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define NB__HAVE_X86_VARIANTS 1
#define NB__TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl")))
#define NB__TARGET_AVX2 __attribute__((target("avx2,fma")))
#endif

#endif
