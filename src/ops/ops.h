/* SPDX-License-Identifier: MIT */
/*
 * ops.h - compute kernels on raw float arrays. They know nothing of graphs: shapes come in
 * as integers, every kernel states its shapes, and backward kernels ADD into their outputs,
 * except where an assign flag, an _assign variant or a GEMM beta of 0 lets the caller (the
 * autograd plan's WRITE edges) have them store instead.
 * Each fast kernel has a plain reference beside it that tests use as the oracle.
 */
#ifndef NB_OPS_H
#define NB_OPS_H

#include "internal.h"

/* C = alpha op(A) op(B) + beta C; op(A) is (M, K), op(B) is (K, N), C is (M, N), row-major
 * with leading dimensions lda/ldb/ldc. beta == 0 overwrites C (NaNs in it vanish), alpha == 0
 * or K == 0 only scales C, as BLAS does. Runs the kernel of the CPU tier (cpu.h) on the thread
 * pool, or on the generic tier CBLAS when built with it (with as many threads of its own as
 * the pool has; OpenBLAS gets 1 thread whenever nabla's kernels run). Every element's sum
 * runs in one thread in a fixed order, so the result is the same bits for every thread count. */
NB_HIDDEN void nb__gemm(int trans_a, int trans_b, size_t M, size_t N, size_t K, float alpha,
                        const float *A, size_t lda, const float *B, size_t ldb, float beta,
                        float *C, size_t ldc);
/* nb__gemm, with C split by rows over the threads wherever it has a row panel per thread: for
 * a weight gradient dW (out, in), whose rows are the ones each thread reads in the forward
 * product (x W^T splits W by rows) and updates in the optimizer step (contiguous parts of the
 * flat buffer), so a thread's slice of dW stays in its own core's cache between the three
 * (measured: MLP training -7..10% with the two threads on two dies). The same bits. */
NB_HIDDEN void nb__gemm_rows(int trans_a, int trans_b, size_t M, size_t N, size_t K, float alpha,
                             const float *A, size_t lda, const float *B, size_t ldb, float beta,
                             float *C, size_t ldc);
/* nabla's own kernels only (never CBLAS), so tests cover them on every build */
NB_HIDDEN void nb__gemm_builtin(int trans_a, int trans_b, size_t M, size_t N, size_t K,
                                float alpha, const float *A, size_t lda, const float *B,
                                size_t ldb, float beta, float *C, size_t ldc);
/* C (M, N) = A (M, K) B without B in memory: pack fills B's blocks straight into the kernel's
 * panel layout - rows [k0, k0 + kc) and columns [n0, n0 + nc) of B as panels of nr columns
 * (the panel of columns jr .. at dst + jr kc, its row k at + (k - k0) width, width = its
 * columns rounded up to a multiple of vw, the padding zeros). The bits of nb__gemm(0, 0, M,
 * N, K, 1, A, lda, B, N, 0, C, ldc) for the B pack stands for; 0 (nothing done) where nb__gemm
 * would call CBLAS, or M, N or K is 0. Lowered convolutions lower this way (conv.c). */
typedef void (*nb__gemm_packb_fn)(const void *ctx, size_t k0, size_t kc, size_t n0, size_t nc, size_t nr, size_t vw,
                                  float *dst);
NB_HIDDEN int nb__gemm_packb(size_t M, size_t N, size_t K, const float *A, size_t lda, nb__gemm_packb_fn pack,
                             const void *ctx, float *C, size_t ldc);
/* B packed once for many products with it (a dense layer's weights, over the pieces of one
 * prediction call): nb__gemm_prepack_floats(N, K) floats hold op(B) (K, N) for the current
 * CPU tier's kernel; nb__gemm_prepack fills them and returns the tier as a tag. Then
 * nb__gemm_prepacked computes C (M, N) = A (M, K) op(B) on the calling thread with the bits
 * of nb__gemm(0, tb, M, N, K, 1, A, lda, B, ldb, 0, C, ldc) - or returns 0 (nothing done)
 * where they could differ: M < 2 (the dot form), CBLAS, another tier than tag's. */
NB_HIDDEN size_t nb__gemm_prepack_floats(size_t N, size_t K);
NB_HIDDEN int nb__gemm_prepack(int tb, size_t N, size_t K, const float *B, size_t ldb, float *dst);
NB_HIDDEN int nb__gemm_prepacked(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *packed, int tag,
                                 float *C, size_t ldc);
/* the oracle: the naive triple loop with double accumulation */
NB_HIDDEN void nb__gemm_ref(int trans_a, int trans_b, size_t M, size_t N, size_t K, float alpha,
                            const float *A, size_t lda, const float *B, size_t ldb, float beta,
                            float *C, size_t ldc);
/* Whether nb__gemm calls CBLAS on the generic tier (where the build has it: the default) or
 * nabla's portable kernel - an implementation choice, not a CPU tier, for tests and
 * benchmarks (single-threaded callers). NB_ERR_ARG for on in a build without CBLAS.
 * nb__gemm_name says what nb__gemm runs now: "avx512", "avx2", "cblas" or "portable". */
NB_HIDDEN int nb__gemm_use_cblas(int on);
NB_HIDDEN const char *nb__gemm_name(void);

/* The thread pool (threadpool.c). nb__parallel_for runs fn(ctx, i, scratch) once for every
 * task i < n_tasks and returns when all are done. Tasks are claimed dynamically: every thread
 * (nb_set_threads; the caller included) takes the next unclaimed task - the caller from the
 * front, the workers from the back, so a prompt worker runs the same part of every job - until
 * none is left, so a busy core's thread delays the job by at most the one task it holds; the
 * caller waits only for tasks claimed and still running, never for a worker that wakes late,
 * and after a job that waited long for one (a worker switched out) runs the next jobs alone.
 * Which thread runs a task depends on timing, so what a task computes and writes must depend
 * on its index (and the problem) alone, never on the thread or on nb__threads(): then results
 * are the same bits for any thread count and timing. Cut work into several tasks per thread
 * (nb__job_tasks) so a slow thread holds up little. scratch is NB__SCRATCH_FLOATS floats (64-byte aligned) owned by
 * the running thread for the duration of the task: the GEMM packs operands into it. Workers
 * spin briefly, then sleep on a condition variable between jobs; one job runs at a time (concurrent callers
 * wait). A task that calls nb__parallel_for or nb__gemm (nested) gets its tasks run inline,
 * cut for one thread (nb__job_threads), with scratch NULL - unless the task lent them its own
 * scratch (nb__lend_scratch, until it lends NULL): then they run as on a pool of one thread,
 * the same bits as any thread count. A task that runs a whole graph on its own samples
 * (batch.c) does that; one that uses its scratch itself must not lend it. No allocation:
 * worker stacks hold their scratch, the caller's is static. */
#define NB__MAX_THREADS NB_MAX_THREADS
#define NB__GEMM_STRIP ((size_t)32768) /* a column split's strip of C (gemm.c, gemm.h) */
#define NB__SCRATCH_FLOATS ((size_t)256 * (960 + 16) + NB__GEMM_STRIP)
typedef void (*nb__task_fn)(void *ctx, size_t task, float *scratch);
NB_HIDDEN void nb__parallel_for(size_t n_tasks, nb__task_fn fn, void *ctx);
/* the number of threads jobs run on now (1 + workers running) */
NB_HIDDEN int nb__threads(void);
/* the number of threads to cut the next job for: nb__threads(), or 1 while the pool runs jobs
 * on the caller alone (a worker's core was found busy, threadpool.c) or inside a task (a
 * nested job runs inline). Lock-free; a stale
 * value only cuts one job for the wrong count (speed, never results). */
NB_HIDDEN int nb__job_threads(void);
/* inside a task: let the jobs this thread starts before the next call use scratch (the
 * task's own; NULL ends the loan) */
NB_HIDDEN void nb__lend_scratch(float *scratch);
/* Elementwise and row-wise jobs: below NB__PARALLEL_MIN_FLOATS floats a worker's wake-up
 * costs more than it saves, so they stay on the caller. nb__job_tasks: how many tasks for
 * `parts` independent parts (rows, planes, blocks) holding `floats` floats in all - up to
 * NB__TASKS_PER_THREAD per thread, so a thread on a busy core holds up at most a small task
 * while the others claim the rest, but no task under NB__TASK_MIN_FLOATS floats (a claim and
 * a cache line shared at each boundary cost more), at most one per part, or 1.
 * nb__run_tasks: fn over tasks 0 .. n - 1, one task inline (no pool lock; scratch NULL, so
 * only for tasks that need none). Only the speed depends on either: each part is computed the
 * same way by whichever task owns it. */
#define NB__PARALLEL_MIN_FLOATS ((size_t)1 << 15)
#define NB__TASKS_PER_THREAD 4
#define NB__TASK_MIN_FLOATS ((size_t)1 << 13)
static inline size_t nb__job_tasks(size_t parts, size_t floats)
{
    size_t t = (size_t)nb__job_threads();
    if (t < 2 || parts < 2 || floats < NB__PARALLEL_MIN_FLOATS) return 1;
    size_t n = t * NB__TASKS_PER_THREAD, by_size = floats / NB__TASK_MIN_FLOATS;
    if (n > by_size) n = by_size > t ? by_size : t;
    return parts < n ? parts : n;
}
static inline void nb__run_tasks(size_t n, nb__task_fn fn, void *ctx)
{
    if (n <= 1) fn(ctx, 0, NULL);
    else nb__parallel_for(n, fn, ctx);
}

/* Broadcast binary ops over 4-d padded shapes: out (o0..o3), a and b given by their strides
 * in elements (0 along a broadcast dimension; so the innermost, sa[3] and sb[3], are 0 or 1).
 * The forward is vectorised along rows and split over the pool by rows; either way each
 * element is one IEEE operation, so the bits never depend on the CPU or the thread count. */
typedef enum { NB__BIN_ADD, NB__BIN_SUB, NB__BIN_MUL, NB__BIN_DIV } nb__binop;
typedef struct nb__bcast {
    size_t shape[4];
    size_t sa[4], sb[4];
} nb__bcast;
NB_HIDDEN void nb__binary_fwd(nb__binop op, const nb__bcast *bc, const float *a, const float *b,
                              float *out);
/* count rows of nf bytes to floats, out[i][j] = ((float)row[j] - off[j]) / scale[j] (scale NULL:
 * (float)row[j]), the rows base + r nf for r = idx[i] (idx NULL: r = first + i); big batches
 * split over the pool (not from inside a task) */
NB_HIDDEN void nb__bytes_to_rows(const uint8_t *base, size_t nf, const int64_t *idx, size_t first, size_t count,
                                 const float *off, const float *scale, float *out);
/* da += d out/d a * dout, db likewise (either may be NULL); out is the forward result. */
NB_HIDDEN void nb__binary_bwd(nb__binop op, const nb__bcast *bc, const float *a, const float *b,
                              const float *out, const float *dout, float *da, float *db);

/* Activations: y = f(x) over n elements, and dx += f'(x) dy written with x and/or y. Big
 * tensors are split over the thread pool (elementwise: results never depend on the split).
 * nb__act_bwd_assign writes dx = f'(x) dy instead: for callers that know dx holds zeros and
 * gets no other contribution (it saves reading dx). */
typedef enum {
    NB__ACT_SIGMOID, NB__ACT_TANH, NB__ACT_RELU, NB__ACT_LEAKY, NB__ACT_ELU, NB__ACT_SOFTPLUS,
    NB__ACT_STEP, NB__ACT_IDENTITY, NB__ACT_EXP, NB__ACT_LOG, NB__ACT_SQUARE, NB__ACT_SQRT,
    NB__ACT_NEG, NB__ACT_SCALE, NB__ACT_SILU
} nb__act;
NB_HIDDEN void nb__act_fwd(nb__act f, float alpha, size_t n, const float *x, float *y);
NB_HIDDEN void nb__act_bwd(nb__act f, float alpha, size_t n, const float *x, const float *y,
                           const float *dy, float *dx);
NB_HIDDEN void nb__act_bwd_assign(nb__act f, float alpha, size_t n, const float *x, const float *y,
                                  const float *dy, float *dx);
/* ReLU keeping its gate: y = max(x, 0) as nb__act_fwd does (NaN passes, as PyTorch's), and
 * bit l of gate[b] set when !(x[16 b + l] <= 0) ((n + 15) / 16 words); backward from the gate
 * alone: dx (+)= gate ? dy : 0 (assign as above) - it reads 1/16 of what x would cost. */
NB_HIDDEN void nb__relu_fwd_gate(size_t n, const float *x, float *y, uint16_t *gate);
NB_HIDDEN void nb__relu_bwd_gate(size_t n, const uint16_t *gate, const float *dy, float *dx, int assign);
NB_HIDDEN float nb__sigmoidf(float x);

/* Blocked summation of a long float sequence: runs of NB__SUM_BLOCK terms are added
 * sequentially (as fast as a plain loop), and the run sums are combined pairwise by a binary
 * counter, so the error grows like BLOCK + log2(n / BLOCK) roundings instead of n (a plain
 * float loop over 10^6 terms is off by ~2e-5 relative). The tree's shape depends on the count
 * alone: deterministic for any thread count, and a sum of at most NB__SUM_BLOCK terms is the
 * plain sequential sum, bit for bit. Use: for each run, nb__cascade_push(&c, run_sum); then
 * nb__cascade_total(&c). */
#define NB__SUM_BLOCK 128
typedef struct nb__cascade {
    float st[64]; /* st[i] sums 2^k runs for decreasing k; at most 64 levels for a size_t count */
    int top;
    size_t runs;
} nb__cascade;

static inline void nb__cascade_init(nb__cascade *c)
{
    c->top = 0;
    c->runs = 0;
}

static inline void nb__cascade_push(nb__cascade *c, float v)
{
    for (size_t r = c->runs; r & 1; r >>= 1) v = c->st[--c->top] + v; /* merge equal-sized subtrees */
    c->st[c->top++] = v;
    c->runs++;
}

/* the remaining subtrees, smallest (latest) first; 0 for no runs */
static inline float nb__cascade_total(const nb__cascade *c)
{
    if (c->top == 0) return 0.0f;
    float s = c->st[c->top - 1];
    for (int i = c->top - 2; i >= 0; i--) s = c->st[i] + s;
    return s;
}

/* Reductions around an axis of a tensor seen as (outer, len, inner). */
NB_HIDDEN void nb__sum_axis(size_t outer, size_t len, size_t inner, const float *x, float *y);
NB_HIDDEN void nb__max_axis(size_t outer, size_t len, size_t inner, const float *x, float *y,
                            int32_t *arg);

/* Softmax / log-softmax along the axis of an (outer, len, inner) tensor, and backward. */
NB_HIDDEN void nb__softmax_fwd(int log, size_t outer, size_t len, size_t inner, const float *x,
                               float *y);
NB_HIDDEN void nb__softmax_bwd(int log, size_t outer, size_t len, size_t inner, const float *y,
                               const float *dy, float *dx);

/* Geometry of a 2-D window operation (convolution or pooling) on one (C, H, W) sample:
 * kernel kh x kw, stride sh, sw, zero padding ph, pw, dilation dh, dw, output oh x ow. */
typedef struct nb__conv_geom {
    size_t c, h, w, oh, ow;
    int kh, kw, sh, sw, ph, pw, dh, dw;
} nb__conv_geom;
/* output size along one axis: (in + 2 pad - dil (k - 1) - 1) / stride + 1, or 0 if too small */
NB_HIDDEN size_t nb__conv_out(size_t in, int k, int stride, int pad, int dil);
NB_HIDDEN void nb__im2col(const nb__conv_geom *g, const float *x, float *col);
NB_HIDDEN void nb__col2im(const nb__conv_geom *g, const float *col, float *dx);
/* the same with col's rows ld floats apart (ld >= OH*OW), for batched lowering */
NB_HIDDEN void nb__im2col_strided(const nb__conv_geom *g, const float *x, float *col, size_t ld);
NB_HIDDEN void nb__col2im_strided(const nb__conv_geom *g, const float *col, size_t ld, float *dx);
/* the same for n samples: x / dx (n, C, H, W), sample s in columns s OH OW .. of col, for
 * the channels [c0, c1) only: im2col_n writes their rows of col, col2im_n their planes of dx
 * (the rest is left alone) */
NB_HIDDEN void nb__im2col_n(const nb__conv_geom *g, size_t n, size_t c0, size_t c1, const float *x, float *col,
                            size_t ld);
NB_HIDDEN void nb__col2im_n(const nb__conv_geom *g, size_t n, size_t c0, size_t c1, const float *col, size_t ld,
                            float *dx);
/* The passes of a convolution lowered chunk by chunk (conv_batch.c): one job on the thread
 * pool finishes chunk a (na samples: y split by samples, dx by samples or input channels) and
 * starts chunk b (nb samples: dyc split by output channels, im2col by samples or input
 * channels) - either may be empty.
 * With K = C kh kw and P = OH OW, a chunk's col is (K, n P), yc / dyc (O, n P), sample s in
 * columns s P ..; pointers left NULL skip their part.
 *  finish a:  y (na, O, P) = yc + bias[o] (bias may be NULL);  dx (na, C, H, W) += col2im(dcol)
 *  start b:   col = im2col(x (nb, C, H, W));  dyc = dy (nb, O, P) permuted, and with sums
 *             sums[s O + o] = the sum of plane dy[s, o] (lane l of 16 adds p = l mod 16 in
 *             order, then the lanes are added left to right: a fixed order)
 * Each output element is computed by one task, so the thread count never changes results. */
typedef struct nb__conv_pass {
    const nb__conv_geom *g;
    size_t O;
    size_t na;          /* finishing */
    const float *yc, *bias;
    float *y;
    const float *dcol;
    float *dx;
    size_t nb;          /* starting */
    const float *x;
    float *col;
    const float *dy;
    float *dyc, *sums;
    int by_rows;        /* im2col and col2im split by input channels, not samples (speed only) */
} nb__conv_pass;
NB_HIDDEN void nb__conv_pass_run(const nb__conv_pass *p);
/* yc (O, n P) = W (O, K) times the lowered matrix of n samples x (n, C, H, W), the columns
 * packed straight from x (nb__gemm_packb): the bits of im2col_n then nb__gemm, without the
 * lowered matrix. 0 (nothing done) outside the flat geometry (stride 1, OW == W, conv.c) or
 * where nb__gemm_packb declines. */
NB_HIDDEN int nb__conv_gemm_fwd(const nb__conv_geom *g, size_t n, size_t O, const float *x, const float *w, float *yc);
/* Direct convolution for few taps (conv_direct.c): K = C kh kw <= NB__DIRECT_MAX_TAPS and a
 * sample's lowered matrix (K, OH OW + 16) of at most NB__DIRECT_MAX_COL floats (it fits on
 * the stack), as nb__conv_direct_ok says. fwd: y (n, O, OH, OW) = conv(x, w) + b
 * (b may be NULL), split over samples. bwd: dw (O, C, kh, kw) += and db (O) += (either may be
 * NULL) from dy (n, O, OH, OW), split over output channels. Same bits for every thread count
 * and instruction set; other last bits than the lowered path. */
#define NB__DIRECT_MAX_TAPS 32
#define NB__DIRECT_MAX_COL 8192
NB_HIDDEN int nb__conv_direct_ok(const nb__conv_geom *g);
NB_HIDDEN void nb__conv_direct_fwd(const nb__conv_geom *g, size_t n, size_t O, const float *x,
                                   const float *w, const float *b, float *y);
NB_HIDDEN void nb__conv_direct_bwd(const nb__conv_geom *g, size_t n, size_t O, const float *x,
                                   const float *dy, float *dw, float *db);
/* direct convolution of n samples x (n, C, H, W) by w (o, C, kh, kw) plus b (o) or NULL */
NB_HIDDEN void nb__conv2d_ref(const nb__conv_geom *g, size_t n, size_t o, const float *x,
                              const float *w, const float *b, float *y);
/* pooling over planes (N*C) of (H, W); the window of g (c unused). Planes are split over the
 * thread pool; each writes only its own outputs (backward: its own plane of dx). Max
 * backward adds, or with assign (nothing else adds to dx) stores every element of dx: the
 * gradient where a window took its maximum, +0 elsewhere - what zeroing dx and adding would
 * leave, in one pass, and the zeros written by the task that owns the plane. With relu, read
 * by the 2x2 window's kernels only (nb__maxpool2d_relu fuses no other), forward applies a ReLU
 * to the pooled values and gives the windows it stops arg-max -1, whose gradient backward
 * routes to no element. */
NB_HIDDEN void nb__maxpool_fwd(const nb__conv_geom *g, size_t planes, const float *x, float *y,
                               int32_t *arg, int relu);
NB_HIDDEN void nb__maxpool_bwd(const nb__conv_geom *g, size_t planes, const int32_t *arg,
                               const float *dy, float *dx, int assign);
/* average pooling: forward when dy is NULL (x -> y), else backward (dx += from dy) */
NB_HIDDEN void nb__avgpool(const nb__conv_geom *g, size_t planes, const float *x, float *y,
                           const float *dy, float *dx);

/* Embedding lookup (embed.c). ids (n) are row numbers already checked to lie in [0, V);
 * table is (V, D), out (n, D): out row i = table row ids[i]. Rows are split over the pool. */
NB_HIDDEN void nb__embed_fwd(size_t n, size_t D, const int32_t *ids, const float *table,
                             float *out);
/* dtable (V, D) += dy (n, D) row i into row ids[i], for every i in order, skipping the rows
 * whose id is pad (-1: none). The pool splits the D columns, never the ids: every element of
 * dtable sums its contributions in the order of i in one thread, so repeated ids give the
 * same bits for any thread count, with no atomics. */
NB_HIDDEN void nb__embed_bwd(size_t n, size_t D, const int32_t *ids, int32_t pad,
                             const float *dy, float *dtable);
/* the oracle for the backward: one plain loop, the same float additions in the same order */
NB_HIDDEN void nb__embed_bwd_ref(size_t n, size_t D, const int32_t *ids, int32_t pad,
                                 const float *dy, float *dtable);

/* A whole recurrent layer (rnn.c): x (B, T, F) through cell (0 tanh: G = 1; 1 LSTM: G = 4,
 * gates i, f, g, o; 2 GRU: G = 3, gates r, z, n - nb_rnn_cell's values and PyTorch's
 * formulas) in dirs (1 or 2) directions, row b running its first len[b] (in [0, T]) steps,
 * the reverse direction from step len[b] - 1 back to 0; zero initial states. w holds 4
 * pointers per direction: w_ih (G H, F), w_hh (G H, H), b_ih (G H), b_hh (G H). output
 * (nb_rnn_output): 0 y (B, D H) the final states [fwd, rev]; 1 y (B, T, D H) every step's
 * state (0 past len[b]); 2 y (B, D H) the mean over the valid steps (0 for len 0).
 * fwd writes y and saves into aux (nb__rnn_aux_floats floats) what bwd reads; bwd ADDS into
 * dx (B, T, F) and dw's 4 per direction (each may be NULL) from dy, and overwrites aux's
 * scratch (so a second bwd after one fwd gives the same gradients). Products run on nb__gemm
 * (any thread count gives the same bits); sums over rows and steps run in a fixed order. */
typedef struct nb__rnn {
    int cell, output, dirs;
    size_t B, T, F, H;
    const int32_t *len;
} nb__rnn;
NB_HIDDEN size_t nb__rnn_aux_floats(const nb__rnn *r);
/* the gates' tanh and sigmoid (plain float code that vectorises; a few ulp from double's) */
NB_HIDDEN float nb__rnn_tanh(float x);
NB_HIDDEN float nb__rnn_sigmoid(float x);
NB_HIDDEN void nb__rnn_fwd(const nb__rnn *r, const float *x, const float *const *w, float *y, float *aux);
NB_HIDDEN void nb__rnn_bwd(const nb__rnn *r, const float *x, const float *const *w, const float *dy, float *dx,
                           float *const *dw, float *aux);

#endif
