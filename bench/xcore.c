/* SPDX-License-Identifier: MIT */
/*
 * xcore.c - what it costs two cores to share data, the price every split of a mini-batch
 * step over threads pays (bench/profile.sh prints it beside the profiles): a cache line's
 * round trip between the first two CPUs this process may run on (one thread on each, passing
 * a flag back and forth), and the rate at which one core reads 1 MB that the other core has
 * just written, against 1 MB it wrote itself. On one die with a shared L3 the round trip is
 * some 50-100 ns and the two rates close; across dies (or sockets, or a VM's vCPUs placed
 * on them) several hundred ns and the first rate a fraction of the second - then a thread
 * that reads what the other wrote loses what the split gained. Not library code: prints.
 * Usage: xcore   (exit status 0; "one CPU" when there is no second to pair with)
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TRIPS 100000
#define FLOATS ((size_t)1 << 18) /* 1 MB: fits the L2 of the cores measured, not an L1 */
#define ROUNDS 20

static _Alignas(64) atomic_int g_flag;
static _Alignas(64) atomic_int g_phase;
static float *g_buf;
static int g_cpu[2];

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int pin(int cpu)
{
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    return pthread_setaffinity_np(pthread_self(), sizeof s, &s);
}

/* the sum of n floats (n a multiple of 16, p 64-byte aligned) in four vector sums, whatever
 * the optimisation level: one scalar chain would run at the adder's pace, not the memory's,
 * and hide the difference this program measures */
typedef float vec4 __attribute__((vector_size(16))); /* SSE: every x86-64 has it */
static float read_all(const float *p, size_t n)
{
    vec4 a = {0}, b = {0}, c = {0}, d = {0};
    const vec4 *v = (const vec4 *)(const void *)p;
    for (size_t i = 0; i < n / 4; i += 4) a += v[i], b += v[i + 1], c += v[i + 2], d += v[i + 3];
    a += b + c + d;
    return a[0] + a[1] + a[2] + a[3];
}

static void write_all(float *p, size_t n, float v)
{
    for (size_t i = 0; i < n; i++) p[i] = v + (float)(i & 1023);
}

/* the other core: answers each flag, then writes the buffer for each round */
static void *partner(void *arg)
{
    (void)arg;
    pin(g_cpu[1]);
    for (int i = 0; i < TRIPS; i++) {
        while (atomic_load_explicit(&g_flag, memory_order_acquire) != 1) {}
        atomic_store_explicit(&g_flag, 0, memory_order_release);
    }
    for (int r = 0; r < ROUNDS; r++) {
        while (atomic_load_explicit(&g_phase, memory_order_acquire) != 2 * r + 1) {}
        write_all(g_buf, FLOATS, (float)r);
        atomic_store_explicit(&g_phase, 2 * r + 2, memory_order_release);
    }
    return NULL;
}

int main(void)
{
    cpu_set_t mine;
    int n = 0;
    if (sched_getaffinity(0, sizeof mine, &mine) != 0) return 0;
    for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
        if (CPU_ISSET(c, &mine)) g_cpu[n++] = c;
    if (n < 2) {
        printf("cross-core: one CPU, nothing to measure\n");
        return 0;
    }
    g_buf = aligned_alloc(64, FLOATS * sizeof(float));
    float *own = aligned_alloc(64, FLOATS * sizeof(float));
    if (!g_buf || !own || pin(g_cpu[0]) != 0) {
        printf("cross-core: could not allocate or pin; not measured\n");
        return 0;
    }
    memset(g_buf, 0, FLOATS * sizeof(float));
    pthread_t t;
    if (pthread_create(&t, NULL, partner, NULL) != 0) {
        printf("cross-core: no second thread; not measured\n");
        return 0;
    }
    double t0 = now();
    for (int i = 0; i < TRIPS; i++) {
        atomic_store_explicit(&g_flag, 1, memory_order_release);
        while (atomic_load_explicit(&g_flag, memory_order_acquire) != 0) {}
    }
    double trip = (now() - t0) / TRIPS;
    double remote = 1e30, local = 1e30; /* the best round of each */
    float sink = 0.0f; /* printed below, so the reads are not optimised away */
    for (int r = 0; r < ROUNDS; r++) {
        atomic_store_explicit(&g_phase, 2 * r + 1, memory_order_release);
        while (atomic_load_explicit(&g_phase, memory_order_acquire) != 2 * r + 2) {}
        double a = now();
        sink += read_all(g_buf, FLOATS);
        double b = now();
        write_all(own, FLOATS, (float)r);
        double c = now();
        sink += read_all(own, FLOATS);
        double d = now();
        if (b - a < remote) remote = b - a;
        if (d - c < local) local = d - c;
    }
    pthread_join(t, NULL);
    double mb = (double)(FLOATS * sizeof(float));
    printf("cross-core (cpu %d and %d): a cache line's round trip %.0f ns; reading 1 MB the other core just "
           "wrote %.1f GB/s, 1 MB this core wrote %.1f GB/s (%.2fx)%s\n",
           g_cpu[0], g_cpu[1], trip * 1e9, mb / remote * 1e-9, mb / local * 1e-9, remote / local,
           sink == -1.0f ? " " : ""); /* never -1: the sums are of non-negative floats */
    free(g_buf);
    free(own);
    return 0;
}
