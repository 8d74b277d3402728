/* SPDX-License-Identifier: MIT */
/*
 * conv.c - 2-D convolution lowered to matrix products, as fast CPU libraries do: im2col
 * copies each sample's receptive fields into a (C*kh*kw, OH*OW) matrix so the convolution
 * becomes one GEMM per sample, and col2im scatters gradients back (adding where windows
 * overlap). nb__conv2d_ref is the direct seven-loop definition the tests use as the oracle.
 */
#include "ops.h"
#include "simd.h"

#include <string.h>

size_t nb__conv_out(size_t in, int k, int stride, int pad, int dil)
{
    long span = (long)dil * (k - 1) + 1, avail = (long)in + 2L * pad;
    return avail < span ? 0 : (size_t)((avail - span) / stride + 1);
}

/* x is one sample (C, H, W); col is (C*kh*kw, OH*OW): row (c, i, j), column (oh, ow) holds
 * x[c, oh*s - p + i*d, ow*s - p + j*d], or 0 in the padding */
void nb__im2col(const nb__conv_geom *g, const float *x, float *col)
{
    nb__im2col_strided(g, x, col, g->oh * g->ow);
}

void nb__col2im(const nb__conv_geom *g, const float *col, float *dx)
{
    nb__col2im_strided(g, col, g->oh * g->ow, dx);
}

/* the output columns ow whose input column ow*s + off lies in [0, w): [*lo, *hi) */
static void valid_cols(const nb__conv_geom *g, long off, size_t *lo, size_t *hi)
{
    long s = g->sw, W = (long)g->w, OW = (long)g->ow;
    long a = off >= 0 ? 0 : (-off + s - 1) / s;         /* first ow with ow*s + off >= 0 */
    long b = W - off <= 0 ? 0 : (W - off - 1) / s + 1;  /* first ow with ow*s + off >= W */
    if (b > OW) b = OW;
    if (a > b) a = b;
    *lo = (size_t)a, *hi = (size_t)b;
}

/* tap (i, j)'s valid output rows [*r0, *r1) */
static void valid_rows(const nb__conv_geom *g, int i, size_t *r0, size_t *r1)
{
    long off = (long)i * g->dh - g->ph, H = (long)g->h, OH = (long)g->oh;
    long a = off >= 0 ? 0 : -off, b = H - off < OH ? H - off : OH;
    if (b < a) b = a;
    *r0 = (size_t)a, *r1 = (size_t)b;
}

/* The common "same" geometry: stride 1 and OW == W (padding keeps the width). Then the rows
 * of one kernel tap (c, i, j) that lie inside the plane form ONE contiguous run of the plane
 * shifted by d = (i dh - ph) W + (j dw - pw): col[q] = x[q + d] for q in [q0, q1), from
 * column lo of the first valid row to column hi of the last - except the first lo and last
 * OW - hi columns of each output row, which are padding (their x[q + d] is a neighbouring
 * row's edge, inside the plane). So one long loop per tap replaces a short copy per row -
 * small planes (14 x 14) make those short. Masks (one per j, P lanes, made once per call)
 * clear the padding columns by bits: x + 0 leaves every other element as it was (bar -0
 * turning +0), and each dx element still gets its terms in (c, i, j) order - the sums of the
 * row by row code. */
#define FLAT_MAX_TAPS 64     /* kh kw */
#define FLAT_MASK_MAX 8192   /* kw P lanes of masks, on the stack */
#define FLAT_XP_MAX 8192     /* floats of one padded plane, on the stack */
typedef struct flat_tap {
    size_t q0, q1, j, xoff; /* [q0, q1): the run; xoff: where q = 0 reads in the padded plane (below) */
    long d;
} flat_tap;

static int flat_ok(const nb__conv_geom *g)
{
    return g->sh == 1 && g->sw == 1 && g->ow == g->w && (size_t)g->kh * (size_t)g->kw <= FLAT_MAX_TAPS &&
           (size_t)g->kw * g->oh * g->ow <= FLAT_MASK_MAX && (g->h + 2 * (size_t)g->ph) * g->w + 2 * (size_t)g->pw <= FLAT_XP_MAX;
}

static void flat_setup(const nb__conv_geom *g, flat_tap *taps, int32_t *mask)
{
    size_t OW = g->ow, P = g->oh * OW;
    size_t lo_j[FLAT_MAX_TAPS], hi_j[FLAT_MAX_TAPS];
    for (int j = 0; j < g->kw; j++) { /* one row of the pattern, then doubled up to P */
        size_t lo, hi;
        int32_t *m = mask + (size_t)j * P;
        valid_cols(g, (long)j * g->dw - g->pw, &lo, &hi);
        lo_j[j] = lo, hi_j[j] = hi;
        for (size_t ow = 0; ow < OW; ow++) m[ow] = ow >= lo && ow < hi ? -1 : 0;
        for (size_t done = OW; done < P; done *= 2)
            memcpy(m + done, m, (done < P - done ? done : P - done) * sizeof(int32_t));
    }
    for (int i = 0; i < g->kh; i++)
        for (int j = 0; j < g->kw; j++) {
            flat_tap *t = &taps[(size_t)i * (size_t)g->kw + (size_t)j];
            size_t r0, r1;
            valid_rows(g, i, &r0, &r1);
            t->d = ((long)i * g->dh - g->ph) * (long)g->w + (long)j * g->dw - g->pw;
            /* the run: from column lo of row r0 to column hi of row r1 - 1 - outside it q + d
             * would leave the plane */
            t->q0 = t->q1 = 0;
            if (r0 < r1 && lo_j[j] < hi_j[j]) t->q0 = r0 * OW + lo_j[j], t->q1 = (r1 - 1) * OW + hi_j[j];
            t->j = (size_t)j;
            t->xoff = (size_t)i * (size_t)g->dh * g->w + (size_t)j * (size_t)g->dw;
        }
}

/* the flat geometry's copies, im2col and its adjoint col2im, per CPU tier: conv_simd.h */
#define NB__SIMD_BODY "conv_simd.h"
#include "simd_tiers.h"
NB__SIMD_PICK(im2col_flat)
NB__SIMD_PICK(col2im_flat)

NB__SIMD_PICK(pack_flat)

static void im2col_rows(const nb__conv_geom *g, size_t c0, size_t c1, const float *x, float *col, size_t ld);
static void col2im_rows(const nb__conv_geom *g, size_t c0, size_t c1, const float *col, size_t ld, float *dx);

/* the packer's context: the taps and masks set up once per product, read by every task */
typedef struct flat_pack {
    const nb__conv_geom *g;
    const float *x;
    pack_flat_fn fn;
    flat_tap tap[FLAT_MAX_TAPS];
    _Alignas(64) int32_t mask[FLAT_MASK_MAX];
} flat_pack;

static void pack_flat_cb(const void *ctx, size_t k0, size_t kc, size_t n0, size_t nc, size_t nr, size_t vw, float *dst)
{
    const flat_pack *f = ctx;
    f->fn(f->g, f->tap, f->mask, f->x, k0, kc, n0, nc, nr, vw, dst);
}

int nb__conv_gemm_fwd(const nb__conv_geom *g, size_t n, size_t O, const float *x, const float *w, float *yc)
{
    if (!flat_ok(g)) return 0;
    size_t K = g->c * (size_t)g->kh * (size_t)g->kw, P = g->oh * g->ow;
    flat_pack f;
    f.g = g, f.x = x, f.fn = pack_flat_pick();
    flat_setup(g, f.tap, f.mask);
    return nb__gemm_packb(O, n * P, K, w, K, pack_flat_cb, &f, yc, n * P);
}

/* n samples side by side: x (n, C, H, W), sample s in columns s P .. of col (K rows ld
 * floats apart), the rows of channels [c0, c1) only; the flat geometry sets its masks up
 * once for all of them */
void nb__im2col_n(const nb__conv_geom *g, size_t n, size_t c0, size_t c1, const float *x, float *col, size_t ld)
{
    size_t P = g->oh * g->ow, chw = g->c * g->h * g->w;
    if (flat_ok(g)) im2col_flat_pick()(g, n, c0, c1, x, col, ld);
    else
        for (size_t s = 0; s < n; s++) im2col_rows(g, c0, c1, x + s * chw, col + s * P, ld);
}

void nb__col2im_n(const nb__conv_geom *g, size_t n, size_t c0, size_t c1, const float *col, size_t ld, float *dx)
{
    size_t P = g->oh * g->ow, chw = g->c * g->h * g->w;
    if (flat_ok(g)) col2im_flat_pick()(g, n, c0, c1, col, ld, dx);
    else
        for (size_t s = 0; s < n; s++) col2im_rows(g, c0, c1, col + s * P, ld, dx + s * chw);
}

/* as im2col, with rows ld floats apart (several samples side by side in one matrix). The
 * valid columns of each row are copied without bounds tests (a plain copy at stride 1) and
 * the padding written as zeros around them. */
void nb__im2col_strided(const nb__conv_geom *g, const float *x, float *col, size_t ld)
{
    if (flat_ok(g)) im2col_flat_pick()(g, 1, 0, g->c, x, col, ld);
    else im2col_rows(g, 0, g->c, x, col, ld);
}

/* the row by row code, for the rows of channels [c0, c1) */
static void im2col_rows(const nb__conv_geom *g, size_t c0, size_t c1, const float *x, float *col, size_t ld)
{
    size_t ohw = ld, OW = g->ow, sw = (size_t)g->sw;
    for (size_t c = c0; c < c1; c++)
        for (int i = 0; i < g->kh; i++)
            for (int j = 0; j < g->kw; j++) {
                float *row = col + ((c * (size_t)g->kh + (size_t)i) * (size_t)g->kw + (size_t)j) * ohw;
                long off = (long)j * g->dw - g->pw;
                size_t lo, hi;
                valid_cols(g, off, &lo, &hi);
                for (size_t oh = 0; oh < g->oh; oh++) {
                    long h = (long)oh * g->sh - g->ph + (long)i * g->dh;
                    float *r = row + oh * OW;
                    if (h < 0 || h >= (long)g->h || lo == hi) {
                        memset(r, 0, OW * sizeof(float));
                        continue;
                    }
                    /* xs is input column lo*sw + off, the first inside the row */
                    const float *xs = x + (c * g->h + (size_t)h) * g->w + (size_t)((long)lo * g->sw + off);
                    for (size_t ow = 0; ow < lo; ow++) r[ow] = 0.0f; /* a column or two: no call */
                    if (sw == 1) memcpy(r + lo, xs, (hi - lo) * sizeof(float));
                    else
                        for (size_t ow = lo; ow < hi; ow++) r[ow] = xs[(ow - lo) * sw];
                    for (size_t ow = hi; ow < OW; ow++) r[ow] = 0.0f;
                }
            }
}

/* the adjoint of im2col: dx[c, h, w] += every col entry that was copied from it, in the same
 * order as before (c, i, j, oh, ow), padding entries skipped */
void nb__col2im_strided(const nb__conv_geom *g, const float *col, size_t ld, float *dx)
{
    if (flat_ok(g)) col2im_flat_pick()(g, 1, 0, g->c, col, ld, dx);
    else col2im_rows(g, 0, g->c, col, ld, dx);
}

/* the row by row code, for the planes of channels [c0, c1) */
static void col2im_rows(const nb__conv_geom *g, size_t c0, size_t c1, const float *col, size_t ld, float *dx)
{
    size_t ohw = ld, OW = g->ow, sw = (size_t)g->sw;
    for (size_t c = c0; c < c1; c++)
        for (int i = 0; i < g->kh; i++)
            for (int j = 0; j < g->kw; j++) {
                const float *row = col + ((c * (size_t)g->kh + (size_t)i) * (size_t)g->kw + (size_t)j) * ohw;
                long off = (long)j * g->dw - g->pw;
                size_t lo, hi;
                valid_cols(g, off, &lo, &hi);
                if (lo == hi) continue;
                for (size_t oh = 0; oh < g->oh; oh++) {
                    long h = (long)oh * g->sh - g->ph + (long)i * g->dh;
                    if (h < 0 || h >= (long)g->h) continue;
                    float *ds = dx + (c * g->h + (size_t)h) * g->w + (size_t)((long)lo * g->sw + off);
                    const float *r = row + oh * OW + lo;
                    if (sw == 1)
                        for (size_t k = 0; k < hi - lo; k++) ds[k] += r[k];
                    else
                        for (size_t k = 0; k < hi - lo; k++) ds[k * sw] += r[k];
                }
            }
}

void nb__conv2d_ref(const nb__conv_geom *g, size_t n, size_t o, const float *x, const float *w,
                    const float *b, float *y)
{
    for (size_t s = 0; s < n; s++)
        for (size_t oc = 0; oc < o; oc++)
            for (size_t oh = 0; oh < g->oh; oh++)
                for (size_t ow = 0; ow < g->ow; ow++) {
                    double acc = b ? (double)b[oc] : 0.0;
                    for (size_t c = 0; c < g->c; c++)
                        for (int i = 0; i < g->kh; i++)
                            for (int j = 0; j < g->kw; j++) {
                                long h = (long)oh * g->sh - g->ph + (long)i * g->dh;
                                long ww = (long)ow * g->sw - g->pw + (long)j * g->dw;
                                if (h < 0 || h >= (long)g->h || ww < 0 || ww >= (long)g->w) continue;
                                acc += (double)x[((s * g->c + c) * g->h + (size_t)h) * g->w + (size_t)ww] *
                                       (double)w[((oc * g->c + c) * (size_t)g->kh + (size_t)i) * (size_t)g->kw + (size_t)j];
                            }
                    y[((s * o + oc) * g->oh + oh) * g->ow + ow] = (float)acc;
                }
}
