/* SPDX-License-Identifier: MIT */
/*
 * nabla/base.h - the base of nabla's public API, what src/tensor and src/ops provide: the
 * version, status codes and error messages, the allocator hook, the seeded generator, float32
 * views and the thread count. It includes only C standard headers; every other public header
 * includes it. NB_API marks each public function: the library is built with
 * -fvisibility=hidden, so exactly these declarations are its exported names
 * (tests/check_exports.sh checks it).
 */
#ifndef NABLA_BASE_H
#define NABLA_BASE_H

#include <stddef.h>
#include <stdint.h>

/* NB_API marks the declarations of the library's exported functions (default visibility;
 * everything else is hidden). */
#if defined(__GNUC__) || defined(__clang__)
#define NB_API __attribute__((visibility("default")))
#else
#define NB_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define NB_VERSION_MAJOR 0
#define NB_VERSION_MINOR 3
#define NB_VERSION_PATCH 0
#define NB_VERSION_STRING "0.3.0"

/* nb_version: the library's version string, "MAJOR.MINOR.PATCH"; static storage. Compare it
 * with NB_VERSION_STRING to detect a header/library mismatch. */
NB_API const char *nb_version(void);

/* Status codes. Values are stable (they are the CLI's exit codes too, see docs/CLI.md). */
enum nb_status {
    NB_OK = 0,
    NB_ERR_NOMEM = 1,   /* an allocation failed or a size overflowed */
    NB_ERR_ARG = 2,     /* a bad argument or option value */
    NB_ERR_SHAPE = 3,   /* tensor shapes do not fit the operator */
    NB_ERR_IO = 4,      /* a file could not be opened, read, written or synced */
    NB_ERR_FORMAT = 5,  /* a file's content is malformed */
    NB_ERR_NUMERIC = 6, /* a NaN or infinity where a finite number is required */
    NB_ERR_STATE = 7,   /* a call out of order (e.g. forward before compile) */
    NB_ERR_INTERRUPTED = 8, /* stopped on request (signal); state was saved */
    NB_ERR_DIST = 9     /* the ranks of a distributed run disagree (data, config, drifted
                           parameters) or its transport failed */
};

/* NULL arguments, in every public function (tests/nn/test_api_null.c calls each with NULLs):
 *  - a NULL handle, buffer or out-pointer that the call needs is NB_ERR_ARG with a message
 *    naming the argument ("nb_model_load: path is NULL"); graph builders return -NB_ERR_ARG;
 *  - the free functions (nb_free, nb_graph_free, nb_model_free, nb_dataset_free, ...) take
 *    NULL as a no-op, and so do the void functions that only act on their arguments
 *    (nb_rng_seed, nb_shuffle_indices, nb_graph_zero_grad, nb_graph_set_training,
 *    nb_graph_seed, nb_dataset_prefetch, nb_preproc_unscale_targets);
 *  - getters given a NULL handle return 0 for counts, sizes and numbers (0.0 for floats),
 *    NULL for pointers, "" for nb_model_spec, NB_TASK_CLASSIFY for tasks, NB_SCALE_NONE for
 *    the target scaling, NB_OP_COUNT_ for nb_graph_node_op and 0 for flags such as
 *    nb_graph_training and nb_preproc_has_schema; nb_graph_status(NULL) is NB_ERR_ARG;
 *  - out-pointers documented as optional ("may be NULL") are simply not written. */

/* nb_status_name: "NB_OK", "NB_ERR_NOMEM", ... for a status code; static storage. */
NB_API const char *nb_status_name(int status);

/* nb_errmsg: the message of the last failed call in this thread ("" when none). The pointer is
 * valid until the next nabla call in this thread. Messages never end with a newline. */
NB_API const char *nb_errmsg(void);

/* nb_error_clear: forget the current thread's message. */
NB_API void nb_error_clear(void);

/* Allocator hook, as in Lua: fn(ud, NULL, n) allocates n bytes; fn(ud, p, n) with n > 0
 * reallocates p; fn(ud, p, 0) frees p and returns NULL. On failure it returns NULL and nabla
 * reports NB_ERR_NOMEM. All of nabla's heap memory goes through it. */
typedef void *(*nb_alloc_fn)(void *ud, void *ptr, size_t size);

/* nb_set_allocator: install fn (NULL restores the default built on malloc/realloc/free).
 * Not thread-safe: call it before any other nabla call, and free everything allocated with
 * one allocator before switching to another. */
NB_API void nb_set_allocator(nb_alloc_fn fn, void *ud);

/* nb_free: release a buffer nabla returned to the caller (e.g. from nb_graph_dot). NULL is
 * a no-op. */
NB_API void nb_free(void *ptr);

/* nb_check_output_path: whether nabla may write a file at path by replacing it atomically (a
 * temporary file beside it renamed over it), as every file nabla writes is written. A missing
 * path or an existing regular file is fine (NB_OK). Anything else is refused with NB_ERR_IO and a
 * message naming path and what it is: a symbolic link (renaming would replace the link, not
 * the file it points to: give the real path), a named pipe (FIFO), a device (/dev/null,
 * /dev/stdout's target), a directory or a socket. The check looks at path itself (lstat), not
 * at what a link points to. Model and checkpoint saves call it before writing anything; a
 * program that writes its own files the same way can call it first too. */
NB_API int nb_check_output_path(const char *path);

/* A seeded generator (xoshiro256**, seeded through splitmix64). The stream depends only on
 * the seed: integers are exact and the float conversions use only IEEE-exact arithmetic plus
 * nabla's own logarithm, so every machine produces the same numbers. Plain data: copy it to
 * save it. */
typedef struct nb_rng {
    uint64_t s[4];
} nb_rng;

/* nb_rng_seed: start the stream for seed (any value, 0 included). A generator that was never
 * seeded (all zero, e.g. `nb_rng r = {0}`) behaves as if seeded with 0; a NULL generator
 * gives 0. */
NB_API void nb_rng_seed(nb_rng *rng, uint64_t seed);

/* nb_rng_u64: the next 64 random bits. */
NB_API uint64_t nb_rng_u64(nb_rng *rng);

/* nb_rng_below: a uniform integer in [0, n) without modulo bias; n == 0 gives 0. */
NB_API uint64_t nb_rng_below(nb_rng *rng, uint64_t n);

/* nb_rng_uniform: a uniform float in [0, 1), a multiple of 2^-24. */
NB_API float nb_rng_uniform(nb_rng *rng);

/* nb_rng_normal: a standard normal float (Marsaglia's polar method, no cached spare, so the
 * state is just the four words). */
NB_API float nb_rng_normal(nb_rng *rng);

/* The largest rank of a tensor (a graph value, a view, a safetensors tensor). */
#define NB_MAX_RANK 4

/* A borrowed view of a float32 row-major array: used for graph values and custom operators.
 * n is the element count (product of shape). data is not owned by the view. */
typedef struct nb_view {
    int rank;
    int64_t shape[NB_MAX_RANK];
    size_t n;
    float *data;
} nb_view;

/* nb_set_threads: the number of threads nabla's kernels run on, the caller included; 0 or less
 * means 1, more than NB_MAX_THREADS means NB_MAX_THREADS. Until it is called, 1. Worker threads are started here (never
 * during a training step), sleep between jobs and are joined by the next call with another
 * count, so nb_set_threads(1) leaves none running; if the system refuses a thread, fewer run.
 * Threads split the outputs of a kernel (rows or columns of a matrix product, samples of a
 * convolution, planes of a pooling), never a sum: each number is computed by one thread in
 * the same order, so results are byte-identical for ANY thread count. That holds wherever
 * nabla's own matrix kernels run: x86-64 CPUs with AVX2 or AVX-512, and every CPU in builds
 * without BLAS; a BLAS build on other CPUs hands products to OpenBLAS, given n threads, whose
 * last bits may then depend on n. Calls from several application threads take turns. */
#define NB_MAX_THREADS 64
NB_API void nb_set_threads(int n);

#ifdef __cplusplus
}
#endif
#endif /* NABLA_BASE_H */
