/* SPDX-License-Identifier: MIT */
/*
 * gemm.h - the parts of nabla's matrix product shared by its driver (gemm.c), the packing
 * routines (gemm_pack.c) and the micro-kernels (gemm_avx512.c, gemm_avx2.c, gemm_portable.c).
 * Invariant that makes results independent of the thread count and of the kernel: every
 * element of C is one chain acc = fma(a_k, b_k, acc) from acc = 0 over each K block, blocks
 * taken in order with the same boundaries (a function of K alone), each folded into C by the
 * kernel's epilogue below. (The portable kernel without hardware FMA multiplies and adds:
 * independent of the thread count still, other bits than the FMA kernels.)
 * Small products (nb__gemm_small_form) skip the packing: those of the axpy form keep exactly
 * the chain above; those of the dot form (a single row of A times B^T: a batch-1 dense layer)
 * sum each element in 16 lanes instead (below) - other last bits than the same row gets in a
 * product of more rows, but a pure function of the shape: never of the thread count or of
 * the FMA kernel (AVX-512 and AVX2 give the same bits).
 */
#ifndef NB_GEMM_H
#define NB_GEMM_H

#include "cpu.h"
#include "ops.h"

/* The K blocking is fixed for every kernel, thread count and shape: K is cut into
 * ceil(K / NB__GEMM_KC) blocks of near-equal size. Changing it changes results' last bits. */
#define NB__GEMM_KC 256

/* A micro-kernel computes an mr x (nv * vw) tile: acc = A_panel (mr x kc) B_panel (kc x nv*vw)
 * and folds it into the m x n top-left part of C (m <= mr, n <= nv * vw) as
 *   beta == 0: c = alpha acc;  beta == 1: c = c + alpha acc;  else c = beta c + alpha acc
 * with separately rounded operations. a is packed k-major (a[k * mr + r], zero-padded rows);
 * b holds row k of the panel at b + k * ldb (packed panels: ldb = their width). */
typedef void (*nb__gemm_ukernel)(size_t kc, const float *a, const float *b, size_t ldb, float *c,
                                 size_t ldc, size_t m, size_t n, float alpha, float beta);

/* Packing into the formats above; specialised (vectorised) versions may replace them. */
typedef void (*nb__gemm_pack_fn)(const float *src, size_t ld, size_t rows, size_t cols,
                                 size_t width, float *dst);

typedef struct nb__gemm_kernel {
    const char *name;
    size_t mr;        /* tile rows */
    size_t nr;        /* widest tile columns (a multiple of vw) */
    size_t vw;        /* columns per vector: narrower panels are padded to a multiple of it */
    size_t nc;        /* columns of the B block packed at once (a multiple of nr) */
    nb__gemm_ukernel ukernel;
    nb__gemm_pack_fn pack_rows; /* from a matrix whose rows are the packed panel's rows */
    nb__gemm_pack_fn pack_cols; /* from a matrix whose rows are the panel's columns */
} nb__gemm_kernel;

/* Generic packing of a rows x cols block into one panel of the given width (>= cols) whose
 * row r is dst[r * width ...], columns beyond cols zero.
 *  pack_rows: panel row r, column c = src[r * ld + c]
 *  pack_cols: panel row r, column c = src[c * ld + r]  (a transpose) */
NB_HIDDEN void nb__gemm_pack_rows(const float *src, size_t ld, size_t rows, size_t cols,
                                  size_t width, float *dst);
NB_HIDDEN void nb__gemm_pack_cols(const float *src, size_t ld, size_t rows, size_t cols,
                                  size_t width, float *dst);
/* pack_cols into part of a wider panel: fill columns (cols of data, then zeros) of rows whose
 * starts are stride apart, for vectorised packers that leave the ragged edge to it */
NB_HIDDEN void nb__gemm_pack_cols_part(const float *src, size_t ld, size_t rows, size_t cols,
                                       size_t fill, float *dst, size_t stride);

/* The kernels this build has (NULL when the compiler cannot target the instruction set);
 * the driver runs the one of the CPU tier (cpu.h). */
NB_HIDDEN const nb__gemm_kernel *nb__gemm_kernel_avx512(void);
NB_HIDDEN const nb__gemm_kernel *nb__gemm_kernel_avx2(void);
NB_HIDDEN const nb__gemm_kernel *nb__gemm_kernel_portable(void);

/* ---- small products (gemm_small.c), tried by nb__gemm and nb__gemm_builtin before the
 * packed path. The form is a function of the transposes and the shape alone:
 *  NB__GEMM_PACKED  K == 0, or M N K >= NB__GEMM_SMALL_MAX_FMAS (what the driver may thread),
 *                   or none of the below: gemm.c's path;
 *  NB__GEMM_AXPY    op(B) = B with M <= 8 or K <= 16: rows of B scaled by elements of A,
 *                   unpacked, with the packed kernels' chain per element (the same K blocks
 *                   and epilogue): the same bits as the packed path;
 *  NB__GEMM_DOT     op(A) = A and op(B) = B^T (both read along K) with M == 1:
 *                   lane l (0..15) accumulates the products of k = l (mod 16) by FMA in k order
 *                   (a last partial chunk padded with 0 * 0), then s[l] += s[l + w] for w = 8,
 *                   4, 2, 1, and s[0] goes through the epilogue.
 * nb__gemm_small computes C when the form is not PACKED (and alpha != 0) and returns 1, else
 * returns 0 having touched nothing. isa: the CPU tier, whose kernel it runs (on the generic
 * tier the portable code, CBLAS or not). */
#define NB__GEMM_SMALL_MAX_FMAS ((size_t)1 << 20)
enum { NB__GEMM_PACKED, NB__GEMM_AXPY, NB__GEMM_DOT };
NB_HIDDEN int nb__gemm_small_form(int trans_a, int trans_b, size_t M, size_t N, size_t K);
NB_HIDDEN int nb__gemm_small(nb__isa isa, int trans_a, int trans_b, size_t M, size_t N, size_t K,
                             float alpha, const float *A, size_t lda, const float *B, size_t ldb,
                             float beta, float *C, size_t ldc);

/* The scratch floats one thread's share of a product needs: a B block (KC x nc), an A panel
 * (mr x KC) and the strip buffer (NB__GEMM_STRIP, ops.h, gemm.c); the pool's
 * NB__SCRATCH_FLOATS must cover every kernel (tests check). */
#define NB__GEMM_SCRATCH(mr, nc) ((size_t)NB__GEMM_KC * ((size_t)(nc) + (size_t)(mr)) + NB__GEMM_STRIP)

#endif
