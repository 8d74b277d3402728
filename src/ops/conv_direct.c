/*
 * conv_direct.c - convolutions with few taps per output (K = C kh kw <= NB__DIRECT_MAX_TAPS
 * and a small sample: a first layer on images), computed sample by sample instead of through
 * the batch's lowered matrix and a GEMM. With K = 9 (one channel, 3 x 3) a GEMM's K loop is
 * too short for its packing to pay, and the batch's col matrix, the (O, N*P) <-> (N, O, P)
 * permutes and a separate bias pass each cost a trip to memory over the layer's output. Here
 * samples are lowered a group at a time into a small col (K, G P) in the thread's scratch
 * (the caches), forward writes y once in its final layout with the bias, and backward reads
 * dy once for dW and db together.
 *
 * Outputs run 16 positions at a time (nb__v16, simd.h) along the flattened plane p = oh OW +
 * ow: y = b, then y = y + col_t w_t for the taps t in order, each product and sum rounded -
 * so the bits depend neither on the instruction set, nor the blocking of output channels,
 * nor the split of samples over threads.
 * dW and db: lane l of an accumulator sums the products at positions p = 16 q + l over
 * samples and q in order; the 16 lanes are then added left to right. Tasks own output
 * channels, so no sum is ever split between threads, and how channels are grouped into tasks
 * changes no sum.
 */
#include "ops.h"
#include "simd.h"

#include <string.h>

/* channels one call of the backward body accumulates (their sums live on its stack) */
#define NB__DIRECT_MAX_CH 8

/* A group of G samples lowered together: col (K, ld), sample g in columns g P .. g P + P - 1,
 * ld = G P + 16 with the last 16 zeros, so a ragged last vector of 16 positions can be read
 * whole (its lanes past P are the next sample's or zeros; they are never stored, and their
 * products are cleared). The group (about GROUP_FLOATS, at least one sample) lives in the
 * thread's scratch, which it always fits (GROUP_FLOATS + 16 K < NB__SCRATCH_FLOATS); a task
 * without scratch (nested, see ops.h) lowers one sample into a stack buffer, which
 * nb__conv_direct_ok makes sure it fits. Setting im2col up once per group pays off. */
#define GROUP_FLOATS ((size_t)1 << 15) /* col of a group: 128 KB, well inside L2 */
static size_t group_of(const nb__conv_geom *g, const float *scratch)
{
    size_t K = g->c * (size_t)g->kh * (size_t)g->kw, P = g->oh * g->ow;
    size_t fit = scratch ? GROUP_FLOATS / (K * P) : 1;
    return fit ? fit : 1;
}

int nb__conv_direct_ok(const nb__conv_geom *g)
{
    size_t K = g->c * (size_t)g->kh * (size_t)g->kw;
    return K <= NB__DIRECT_MAX_TAPS && K * (g->oh * g->ow + 16) <= NB__DIRECT_MAX_COL;
}

/* samples [s0, s0 + n) of x into col, ld = n P + 16 */
static void lower(const nb__conv_geom *g, size_t n, const float *x, float *col)
{
    size_t K = g->c * (size_t)g->kh * (size_t)g->kw, P = g->oh * g->ow, ld = n * P + 16;
    nb__im2col_n(g, n, 0, g->c, x, col, ld);
    for (size_t t = 0; t < K; t++) memset(col + t * ld + n * P, 0, 16 * sizeof(float));
}

/* ---- forward: y (n, O, OH, OW) = w (O, C, kh, kw) * x (n, C, H, W) + b */

/* nb output channels at positions [16 v, 16 v + 16) of a sample: acc = b, acc += col_t w_t
 * per tap; wt holds the block's weights tap-major (wt[t * 16 + k]), so one pointer reaches
 * them all */
NB__INLINE void fwd_block(const float *col, size_t ld, size_t K, const float *wt, const float *bias, int nb, size_t v,
                          float *y0, size_t P)
{
    nb__v16 acc[16];
    for (int k = 0; k < nb; k++)
        for (int l = 0; l < 16; l++) acc[k][l] = bias[k];
    for (size_t t = 0; t < K; t++, wt += 16) {
        nb__v16 xv = NB__V16C(col + t * ld + 16 * v);
        for (int k = 0; k < nb; k++) acc[k] += xv * wt[k];
    }
    float *dst = y0 + 16 * v; /* channel k's plane is P floats after channel k - 1's */
    if (16 * v + 16 <= P)
        for (int k = 0; k < nb; k++, dst += P) NB__V16(dst) = acc[k];
    else
        for (int k = 0; k < nb; k++, dst += P) nb__v16_store_part(dst, &acc[k], P - 16 * v); /* a plane's ragged end */
}

/* OB channels at a time: as many accumulators as the registers hold (the blocking does not
 * change any result) */
NB__INLINE void fwd_body(const nb__conv_geom *g, size_t s0, size_t s1, size_t O, const float *x, const float *w,
                         const float *b, float *y, float *scratch, const int OB)
{
    _Alignas(64) float stack_col[NB__DIRECT_MAX_COL];
    float *col = scratch ? scratch : stack_col, wt[NB__DIRECT_MAX_TAPS * 16], bias[16];
    size_t K = g->c * (size_t)g->kh * (size_t)g->kw, P = g->oh * g->ow, CHW = g->c * g->h * g->w, G = group_of(g, scratch);
    for (size_t a = s0; a < s1; a += G) {
        size_t n = s1 - a < G ? s1 - a : G, ld = n * P + 16;
        lower(g, n, x + a * CHW, col);
        for (size_t o0 = 0; o0 < O; o0 += (size_t)OB) {
            int nb = O - o0 < (size_t)OB ? (int)(O - o0) : OB;
            for (int k = 0; k < nb; k++) {
                bias[k] = b ? b[o0 + (size_t)k] : 0.0f;
                for (size_t t = 0; t < K; t++) wt[t * 16 + (size_t)k] = w[(o0 + (size_t)k) * K + t];
            }
            for (size_t s = 0; s < n; s++) {
                float *y0 = y + ((a + s) * O + o0) * P;
                for (size_t v = 0; v < (P + 15) / 16; v++) {
                    if (nb == OB) fwd_block(col + s * P, ld, K, wt, bias, OB, v, y0, P); /* constant: unrolled */
                    else fwd_block(col + s * P, ld, K, wt, bias, nb, v, y0, P);
                }
            }
        }
    }
}

/* blocks of 16, 4 or 2 channels: what each tier's registers hold as accumulators */
NB__SIMD_VARIANTS(fwd, (const nb__conv_geom *g, size_t s0, size_t s1, size_t O, const float *x, const float *w,
                        const float *b, float *y, float *scratch),
                  fwd_body(g, s0, s1, O, x, w, b, y, scratch,
                           nb__tier == NB__ISA_AVX512 ? 16 : nb__tier == NB__ISA_AVX2 ? 4 : 2))

typedef struct direct_job {
    const nb__conv_geom *g;
    size_t n, O, tasks;
    const float *x, *w, *b, *dy;
    float *y, *dw, *db;
} direct_job;

static void fwd_task(void *ctx, size_t t, float *scratch)
{
    const direct_job *j = ctx;
    size_t s0 = j->n * t / j->tasks, s1 = j->n * (t + 1) / j->tasks;
    fwd_pick()(j->g, s0, s1, j->O, j->x, j->w, j->b, j->y, scratch);
}

/* tasks for work of this many output floats: one per thread, or 1 when a worker's wake-up
 * would cost more (only the speed depends on it) */
static size_t tasks_for(size_t items, size_t floats)
{
    size_t t = (size_t)nb__threads();
    if (t < 2 || floats < ((size_t)1 << 15)) return 1;
    return items < t ? items : t;
}

void nb__conv_direct_fwd(const nb__conv_geom *g, size_t n, size_t O, const float *x, const float *w, const float *b,
                         float *y)
{
    direct_job j = {g, n, O, tasks_for(n, n * O * g->oh * g->ow), x, w, b, NULL, y, NULL, NULL};
    nb__parallel_for(j.tasks, fwd_task, &j);
}

/* ---- backward: dw (O, C, kh, kw) += sum over samples and outputs of dy x, db (O) += sum of dy */

enum { GROUP = 4 }; /* channels whose sums for one tap run together */

/* the sums of one tap t for G (1 or GROUP) channels over one sample: a[k] += dy[k] col_t at
 * every position, 16 at a time in order (bias: a[k] += dy[k]). In a ragged last vector the
 * lanes past P are cleared: dy there is the next plane's (cleared by the mask) or read
 * part-wise at the very end of dy, and col the next sample's (the products are cleared too:
 * 0 inf is NaN). Named accumulators and no branch on data: they stay in registers. */
NB__INLINE void bwd_tap(const float *ct, size_t P, const float *const *dyk, const float *dy_end, nb__v16 *acc,
                        const int G, const int bias, const nb__v16i *mask)
{
    nb__v16 a0 = acc[0], a1 = {0}, a2 = {0}, a3 = {0}, xv = {0};
    if (G > 1) a1 = acc[1], a2 = acc[2], a3 = acc[3];
    size_t full = P / 16 * 16;
    for (size_t p = 0; p < full; p += 16) {
        if (bias) {
            a0 += NB__V16C(dyk[0] + p);
            if (G > 1) a1 += NB__V16C(dyk[1] + p), a2 += NB__V16C(dyk[2] + p), a3 += NB__V16C(dyk[3] + p);
            continue;
        }
        xv = NB__V16C(ct + p);
        a0 += NB__V16C(dyk[0] + p) * xv;
        if (G > 1) a1 += NB__V16C(dyk[1] + p) * xv, a2 += NB__V16C(dyk[2] + p) * xv, a3 += NB__V16C(dyk[3] + p) * xv;
    }
    if (full < P) {
        if (!bias) xv = NB__V16C(ct + full);
        for (int k = 0; k < G; k++) {
            nb__v16 d;
            if (dyk[k] + full + 16 <= dy_end) d = NB__V16_AND(NB__V16C(dyk[k] + full), *mask);
            else nb__v16_load_part(&d, dyk[k] + full, P - full);
            if (!bias) d = NB__V16_AND(d * xv, *mask);
            if (k == 0) a0 += d;
            else if (k == 1) a1 += d;
            else if (k == 2) a2 += d;
            else a3 += d;
        }
    }
    acc[0] = a0;
    if (G > 1) acc[1] = a1, acc[2] = a2, acc[3] = a3;
}

/* channels [o0, o1) over all samples, a lowered group at a time, sample by sample, group of
 * channels by group, tap by tap: few accumulators at a time, whatever K. Each sum acc[o][t]
 * runs over samples and positions in order, however channels are grouped into tasks. */
NB__INLINE void bwd_body(const nb__conv_geom *g, size_t n, size_t O, size_t o0, size_t o1, const float *x, const float *dy,
                         float *dw, float *db, float *scratch)
{
    _Alignas(64) float stack_col[NB__DIRECT_MAX_COL];
    float *col = scratch ? scratch : stack_col;
    nb__v16 acc[NB__DIRECT_MAX_CH][NB__DIRECT_MAX_TAPS + 1];
    size_t K = g->c * (size_t)g->kh * (size_t)g->kw, P = g->oh * g->ow, CHW = g->c * g->h * g->w, G = group_of(g, scratch);
    const float *dy_end = dy + n * O * P;
    nb__v16i mask; /* lanes of a plane's ragged end that hold real positions */
    for (int l = 0; l < 16; l++) mask[l] = (size_t)l < P % 16 ? -1 : 0;
    for (size_t o = 0; o < o1 - o0; o++)
        for (size_t t = 0; t <= K; t++)
            for (int l = 0; l < 16; l++) acc[o][t][l] = 0.0f;
    for (size_t a = 0; a < n; a += G) {
        size_t m = n - a < G ? n - a : G, ld = m * P + 16;
        if (dw) lower(g, m, x + a * CHW, col);
        for (size_t s = a; s < a + m; s++)
            for (size_t oa = o0; oa < o1;) {
                int nb = o1 - oa < GROUP ? 1 : GROUP; /* groups of 4, then one by one */
                const float *dyk[GROUP];
                for (int k = 0; k < nb; k++) dyk[k] = dy + (s * O + oa + (size_t)k) * P;
                for (size_t t = dw ? 0 : K; t <= K; t++) {
                    nb__v16 v[GROUP];
                    for (int k = 0; k < nb; k++) v[k] = acc[oa - o0 + (size_t)k][t];
                    const float *ct = col + t * ld + (s - a) * P;
                    if (nb == GROUP) {
                        if (t == K) bwd_tap(ct, P, dyk, dy_end, v, GROUP, 1, &mask);
                        else bwd_tap(ct, P, dyk, dy_end, v, GROUP, 0, &mask);
                    } else {
                        if (t == K) bwd_tap(ct, P, dyk, dy_end, v, 1, 1, &mask);
                        else bwd_tap(ct, P, dyk, dy_end, v, 1, 0, &mask);
                    }
                    for (int k = 0; k < nb; k++) acc[oa - o0 + (size_t)k][t] = v[k];
                }
                oa += (size_t)nb;
            }
    }
    for (size_t o = o0; o < o1; o++) {
        if (dw)
            for (size_t t = 0; t < K; t++) dw[o * K + t] += nb__v16_sum(&acc[o - o0][t]);
        if (db) db[o] += nb__v16_sum(&acc[o - o0][K]);
    }
}

NB__SIMD_VARIANTS(bwd, (const nb__conv_geom *g, size_t n, size_t O, size_t o0, size_t o1, const float *x,
                        const float *dy, float *dw, float *db, float *scratch),
                  bwd_body(g, n, O, o0, o1, x, dy, dw, db, scratch))

/* task t of T owns channels [t O / T, (t + 1) O / T), NB__DIRECT_MAX_CH per call of the
 * body: no sum is split between tasks */
static void bwd_task(void *ctx, size_t t, float *scratch)
{
    const direct_job *j = ctx;
    size_t a0 = j->O * t / j->tasks, a1 = j->O * (t + 1) / j->tasks;
    for (size_t o0 = a0; o0 < a1; o0 += NB__DIRECT_MAX_CH) {
        size_t o1 = a1 - o0 > NB__DIRECT_MAX_CH ? o0 + NB__DIRECT_MAX_CH : a1;
        bwd_pick()(j->g, j->n, j->O, o0, o1, j->x, j->dy, j->dw, j->db, scratch);
    }
}

void nb__conv_direct_bwd(const nb__conv_geom *g, size_t n, size_t O, const float *x, const float *dy, float *dw,
                         float *db)
{
    if (!dw && !db) return;
    direct_job j = {g, n, O, tasks_for(O, n * O * g->oh * g->ow), x, NULL, NULL, dy, NULL, dw, db};
    nb__parallel_for(j.tasks, bwd_task, &j);
}
