/* SPDX-License-Identifier: MIT */
/*
 * threadpool.c - nabla's worker threads and nb_set_threads. Workers are started by
 * nb_set_threads (never inside a training step), spin briefly and then sleep on a condition
 * variable between jobs, and are joined when the count changes, so nb_set_threads(1) leaves
 * no thread behind.
 * Tasks are claimed dynamically (ops.h): any thread, the caller included, takes the next
 * unclaimed task from one atomic word, so a descheduled worker delays at most the task it
 * holds, and one that wakes after the job has been claimed finds nothing and is not waited
 * for. What a task computes depends on its index alone, so results never depend on which
 * thread ran it.
 * Invariants: g_run is held for a whole job and for every change of the worker set, so the
 * caller's static scratch and g_job are used by one job at a time; g_job is read by a worker
 * only after it claimed a task, i.e. while the job cannot end (its task is unfinished).
 */
#include "ops.h"

#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <time.h>

typedef struct job {
    nb__task_fn fn;
    void *ctx;
    size_t n;
} job;

/* Waking a sleeping thread costs a futex round trip (5-20 us on a VM), longer than many of
 * the GEMMs and passes of a mini-batch step. So a worker that finished a job spins for a
 * while (about 0.1 ms) watching for the next one before it sleeps, and the caller spins for
 * the last claimed tasks the same way: OpenMP runtimes do the same (GOMP_SPINCOUNT). Spinning
 * changes only when work starts, never what a task computes. */
#define SPIN_ROUNDS 4096

static pthread_mutex_t g_run = PTHREAD_MUTEX_INITIALIZER; /* one job (or resize) at a time */
static pthread_mutex_t g_m = PTHREAD_MUTEX_INITIALIZER;   /* guards sleeping and the set */
static pthread_cond_t g_work = PTHREAD_COND_INITIALIZER;  /* a new job or quit, for workers */
static pthread_cond_t g_done = PTHREAD_COND_INITIALIZER;  /* the last worker finished */
static pthread_t g_tid[NB__MAX_THREADS];
static int g_threads = 1;               /* 1 + workers running; written under g_run and g_m */
static atomic_int g_width = 1;          /* the threads jobs are cut for (nb__job_threads); under g_run */
static atomic_ulong g_gen;              /* job generation: workers run each new one once */
static atomic_int g_quit;
static atomic_ullong g_claim;         /* the claim word (see claim) */
static unsigned g_jobno;                /* under g_run */
static atomic_size_t g_unfinished;      /* tasks of the current job not yet finished */
static atomic_int g_sleepers;           /* workers blocked (or about to block) on g_work */
static atomic_int g_caller_sleeps;      /* the caller is blocked (or about to) on g_done */
static job g_job;                       /* written before g_gen is bumped, read after */
static _Alignas(64) float g_scratch0[NB__SCRATCH_FLOATS]; /* the calling thread's, under g_run */
static _Thread_local int tl_in_task;
static _Thread_local float *tl_lent; /* nb__lend_scratch: the scratch nested calls may use */

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* The claim word: the job's number (24 bits, against ABA) in bits 40..63, and the unclaimed
 * tasks [lo, hi) in bits 20..39 (lo) and 0..19 (hi). The caller claims from the front and the
 * workers from the back, so with a prompt worker each thread runs the same contiguous part of
 * every job as a static split would (its slice of a weight matrix stays in its cache), and
 * either takes over the other's part when that one is late. */
#define CLAIM_BITS 20
#define CLAIM_MASK ((1ull << CLAIM_BITS) - 1)
#define CLAIM_MAX_TASKS CLAIM_MASK

/* Claim one task of the current job (front: the caller's end): its index, or SIZE_MAX when
 * none is left (the job is over or wholly claimed). On success the job cannot end before
 * this task is finished. */
static size_t claim(int front)
{
    unsigned long long v = atomic_load_explicit(&g_claim, memory_order_acquire);
    for (;;) {
        unsigned long long lo = v >> CLAIM_BITS & CLAIM_MASK, hi = v & CLAIM_MASK;
        if (lo >= hi) return SIZE_MAX;
        unsigned long long w = front ? v + (1ull << CLAIM_BITS) : v - 1;
        if (atomic_compare_exchange_weak_explicit(&g_claim, &v, w, memory_order_acq_rel, memory_order_acquire))
            return (size_t)(front ? lo : hi - 1);
    }
}

/* Run claimed tasks until none is left; returns how many this thread ran. The first claim
 * is made before g_job is read (see the invariants). */
static size_t run_claimed(float *scratch, int front)
{
    size_t done = 0, i;
    while ((i = claim(front)) != SIZE_MAX) {
        job j = g_job;
        j.fn(j.ctx, i, scratch);
        done++;
        if (atomic_fetch_sub_explicit(&g_unfinished, 1, memory_order_acq_rel) == 1 && atomic_load(&g_caller_sleeps)) {
            pthread_mutex_lock(&g_m);
            pthread_cond_signal(&g_done);
            pthread_mutex_unlock(&g_m);
        }
    }
    return done;
}

typedef struct worker_arg {
    int index;
    unsigned long gen; /* the generation when it was started: jobs after it are its to run */
} worker_arg;
static worker_arg g_args[NB__MAX_THREADS];

/* Wait until g_gen moves past seen (or quit): spin, then sleep. The sleeper announces itself
 * in g_sleepers before its last look at g_gen, and the caller bumps g_gen before it looks at
 * g_sleepers (both sequentially consistent), so one of them always sees the other: either
 * the worker sees the new job or the caller sees a sleeper and wakes it under g_m. */
static unsigned long next_gen(unsigned long seen)
{
    for (int r = 0; r < SPIN_ROUNDS; r++) {
        unsigned long g = atomic_load_explicit(&g_gen, memory_order_acquire);
        if (g != seen || atomic_load_explicit(&g_quit, memory_order_relaxed)) return g;
        cpu_relax();
    }
    pthread_mutex_lock(&g_m);
    atomic_fetch_add(&g_sleepers, 1);
    while (atomic_load(&g_gen) == seen && !atomic_load(&g_quit)) pthread_cond_wait(&g_work, &g_m);
    atomic_fetch_sub(&g_sleepers, 1);
    pthread_mutex_unlock(&g_m);
    return atomic_load(&g_gen);
}

static void *worker_main(void *p)
{
    /* the packing scratch lives on this thread's stack (sized for it at creation): no heap,
     * and it goes away with the thread */
    _Alignas(64) float scratch[NB__SCRATCH_FLOATS];
    const worker_arg *a = p;
    unsigned long seen = a->gen;
    tl_in_task = 1;
    for (;;) {
        seen = next_gen(seen);
        if (atomic_load(&g_quit)) break;
        /* a late wake-up finds every task claimed and goes back to waiting: the caller never
         * waits for a worker that holds no task */
        run_claimed(scratch, 0);
    }
    return NULL;
}

/* the caller's wait for the tasks that others claimed and still run: spin, then sleep (the
 * same handshake as next_gen) */
static void wait_claimed(void)
{
    for (int r = 0; r < SPIN_ROUNDS; r++) {
        if (atomic_load_explicit(&g_unfinished, memory_order_acquire) == 0) return;
        cpu_relax();
    }
    pthread_mutex_lock(&g_m);
    atomic_store(&g_caller_sleeps, 1);
    while (atomic_load(&g_unfinished) > 0) pthread_cond_wait(&g_done, &g_m);
    atomic_store(&g_caller_sleeps, 0);
    pthread_mutex_unlock(&g_m);
}

/* A thread of the pool on a core that another process keeps busy is switched out for a
 * scheduler slice (milliseconds) - far longer than the small jobs of a mini-batch step - and
 * the job waits for the task it holds: a worker's, or the caller's own. Claiming makes that
 * one task, not a share; what is left is told apart by the clock: a window of consecutive
 * jobs (at least STALL_S long, with the caller's own work between them) in which the caller
 * was not running (switched out, or asleep waiting for a worker's task) for over STALL_S and
 * over a third of the window is a stall (a long job's last task, a few per cent of the job
 * waited for, is not), and the next g_solo jobs run on the caller alone - the idle workers
 * sleep and the scheduler gives the caller a core of its own - a run that doubles with each
 * stall in a row (up to SOLO_MAX jobs, a fraction of a second of training) and halves after
 * CALM_JOBS jobs without a stall, so a machine that is quiet again is back on every thread
 * within about SOLO_MAX jobs. While it runs alone, jobs are also cut for one thread
 * (nb__job_threads), so a solo run does the work exactly as --threads 1 does, not in smaller
 * tasks that each pack their operand again (measured: a CNN epoch 8-10% slower than
 * --threads 1 with one core busy).
 * The caller's CPU clock is a system call (1.3 us on the VMs measured, where a mini-batch
 * step runs 10-60 jobs of 10-100 us), so it is read once per window, not twice per job: at
 * the end of the job that closes a window, and at the start of a job when the open window
 * began over STALL_S ago (the caller has been outside the pool since: not the pool's time to
 * judge).
 * Only which thread runs a task, and how work is cut, change; results never do. */
#define STALL_S 200e-6
#define SOLO_MAX 2048
#define CALM_JOBS 64
static int g_solo;         /* jobs left to run on the caller alone; under g_run */
static int g_solo_next = 1; /* the next solo run's length; under g_run */
static int g_calm;         /* parallel jobs without a stall since the last stall or halving */
/* the open window: its start on the wall clock and the calling thread's CPU clock (per thread:
 * a CPU clock is its own thread's); wall 0: none open */
static _Thread_local double tl_win_wall, tl_win_cpu;

/* g_width from g_solo and g_threads; g_run held */
static void set_width(void)
{
    atomic_store_explicit(&g_width, g_solo > 0 ? 1 : g_threads, memory_order_relaxed);
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* a parallel job starts at wall time now: open a window unless one is open and recent */
static void window_open(double now)
{
    if (tl_win_wall > 0.0 && now - tl_win_wall < STALL_S) return;
    tl_win_wall = now;
    tl_win_cpu = clock_s(CLOCK_THREAD_CPUTIME_ID);
}

/* a parallel job ended at wall time now: a job without a stall, or the end of a window that is
 * judged (the caller's CPU seconds in it against its wall seconds) and closed */
static void stall_check(double now)
{
    double wall = now - tl_win_wall, lost = 0.0;
    if (wall >= STALL_S) {
        double cpu = clock_s(CLOCK_THREAD_CPUTIME_ID);
        lost = wall - (cpu - tl_win_cpu);
        tl_win_wall = now, tl_win_cpu = cpu; /* the next window starts here */
    }
    if (lost > STALL_S && 3 * lost > wall) {
        g_solo = g_solo_next;
        if (g_solo_next < SOLO_MAX) g_solo_next *= 2;
        g_calm = 0;
        tl_win_wall = 0.0; /* the solo run reads no clock: open afresh after it */
        set_width();
    } else if (g_solo_next > 1 && ++g_calm >= CALM_JOBS) {
        g_solo_next /= 2;
        g_calm = 0;
    }
}

void nb__parallel_for(size_t n_tasks, nb__task_fn fn, void *ctx)
{
    if (n_tasks == 0) return;
    if (tl_in_task) { /* nested: inline, with the scratch the outer task lent, if any (ops.h) */
        for (size_t i = 0; i < n_tasks; i++) fn(ctx, i, tl_lent);
        return;
    }
    pthread_mutex_lock(&g_run);
    tl_in_task = 1;
    if (g_threads == 1 || n_tasks == 1 || n_tasks > CLAIM_MAX_TASKS || g_solo > 0) {
        /* (over 2^20 tasks do not fit the claim word: no caller makes that many) */
        if (g_solo > 0 && --g_solo == 0) set_width();
        for (size_t i = 0; i < n_tasks; i++) fn(ctx, i, g_scratch0);
    } else {
        window_open(clock_s(CLOCK_MONOTONIC));
        g_job = (job){fn, ctx, n_tasks};
        atomic_store_explicit(&g_unfinished, n_tasks, memory_order_relaxed);
        g_jobno++;
        /* release: a claim (acquire) sees g_job and g_unfinished */
        atomic_store_explicit(&g_claim, (unsigned long long)(g_jobno & 0xffffff) << (2 * CLAIM_BITS) | n_tasks, memory_order_release);
        atomic_fetch_add(&g_gen, 1); /* seq_cst: the sleepers' handshake (next_gen) */
        if (atomic_load(&g_sleepers) > 0) {
            pthread_mutex_lock(&g_m);
            pthread_cond_broadcast(&g_work);
            pthread_mutex_unlock(&g_m);
        }
        run_claimed(g_scratch0, 1);
        wait_claimed();
        stall_check(clock_s(CLOCK_MONOTONIC));
    }
    tl_in_task = 0;
    pthread_mutex_unlock(&g_run);
}

void nb__lend_scratch(float *scratch)
{
    tl_lent = scratch;
}

int nb__job_threads(void)
{
    if (tl_in_task) return 1; /* a nested job runs inline on this thread */
    return atomic_load_explicit(&g_width, memory_order_relaxed);
}

int nb__threads(void)
{
    pthread_mutex_lock(&g_m);
    int t = g_threads;
    pthread_mutex_unlock(&g_m);
    return t;
}

/* join every worker; g_run held */
static void stop_workers(void)
{
    pthread_mutex_lock(&g_m);
    int n = g_threads;
    g_quit = 1;
    pthread_cond_broadcast(&g_work);
    pthread_mutex_unlock(&g_m);
    for (int w = 1; w < n; w++) pthread_join(g_tid[w], NULL);
    pthread_mutex_lock(&g_m);
    g_quit = 0;
    g_threads = 1;
    pthread_mutex_unlock(&g_m);
}

/* start workers 1 .. n-1; g_run held, none running. A failure leaves fewer threads, which
 * changes speed only, never results. */
static void start_workers(int n)
{
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0) return;
    /* the scratch array plus room for the kernels' own frames (and sanitizer redzones) */
    pthread_attr_setstacksize(&attr, NB__SCRATCH_FLOATS * sizeof(float) + ((size_t)1 << 20));
    /* workers take no signals: handlers (the CLI's SIGINT) run in the application's threads */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_mutex_lock(&g_m);
    unsigned long gen = g_gen;
    pthread_mutex_unlock(&g_m);
    int started = 1;
    for (int w = 1; w < n; w++) {
        g_args[w].index = w;
        g_args[w].gen = gen;
        if (pthread_create(&g_tid[w], &attr, worker_main, &g_args[w]) != 0) break;
        started = w + 1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    pthread_mutex_lock(&g_m);
    g_threads = started;
    pthread_mutex_unlock(&g_m);
}

void nb_set_threads(int n)
{
    if (n < 1) n = 1;
    if (n > NB__MAX_THREADS) n = NB__MAX_THREADS;
    pthread_mutex_lock(&g_run);
    if (n != g_threads) {
        stop_workers();
        if (n > 1) start_workers(n);
        g_solo = 0, g_solo_next = 1, g_calm = 0; /* new threads: no stall seen on them yet */
    }
    set_width();
    pthread_mutex_unlock(&g_run);
}
