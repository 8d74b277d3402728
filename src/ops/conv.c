/*
 * conv.c - 2-D convolution lowered to matrix products, as fast CPU libraries do: im2col
 * copies each sample's receptive fields into a (C*kh*kw, OH*OW) matrix so the convolution
 * becomes one GEMM per sample, and col2im scatters gradients back (adding where windows
 * overlap). nb__conv2d_ref is the direct seven-loop definition the tests use as the oracle.
 */
#include "ops.h"

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

/* as im2col, with rows ld floats apart (several samples side by side in one matrix). The
 * valid columns of each row are copied without bounds tests (a plain copy at stride 1) and
 * the padding written as zeros around them. */
void nb__im2col_strided(const nb__conv_geom *g, const float *x, float *col, size_t ld)
{
    size_t ohw = ld, OW = g->ow, sw = (size_t)g->sw;
    for (size_t c = 0; c < g->c; c++)
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
    size_t ohw = ld, OW = g->ow, sw = (size_t)g->sw;
    for (size_t c = 0; c < g->c; c++)
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
