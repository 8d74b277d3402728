/* SPDX-License-Identifier: MIT */
/*
 * report_img.c - the picture sections of the HTML report (report_html.h; issue 17): the
 * mistakes (the most confused class pairs with examples and the most confident misclassified
 * rows, as images or as table rows), what the first layer learned (dense weights over an
 * image as images, convolution filters as tiles) and the decision regions of a model of two
 * features. Each section is <section class="NAME"><h2>Title</h2>..., or nothing when it does
 * not apply. Invariants: every user-supplied text (class names) goes through cli_html_text,
 * every number written is finite, nothing is printed but a failure (cli_fail), and the work
 * is bounded whatever the data's size: one pass over the predictions, at most a few dozen
 * rows read back, one 200 x 200 grid predicted in chunks.
 */
#include "report_html.h"
#include "png.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PAIRS 5          /* the most confused (true, predicted) pairs shown */
#define PAIR_EXAMPLES 6  /* example rows per pair */
#define MISTAKES 48      /* misclassified rows shown */
#define TABLE_COLS 12    /* features shown per row of CSV data */
#define UNITS 64         /* dense units or conv filters shown */
#define CHANNELS 16      /* channels shown per conv filter */
#define GRID 200         /* decision-region cells a side */
#define POINTS 2000      /* data points drawn over the regions */

/* 1 when a sample is an image (C, H, W) with C 1 or 3 - the model's input shape, else the
 * data's - whose C*H*W is n_feat; then *c, *h, *w. */
static int img_shape(const cli_report *r, int64_t n_feat, int64_t *c, int64_t *h, int64_t *w)
{
    int64_t s[3] = {0, 0, 0};
    int rank = r->model ? nb_model_sample_shape(r->model, s) : 0;
    if (rank != 3 && r->data && nb_dataset_sample_rank(r->data) == 3) {
        const int64_t *d = nb_dataset_sample_shape(r->data);
        rank = 3;
        memcpy(s, d, sizeof s);
    }
    /* 4096 a side keeps every PNG within the encoder's limits and the page sane */
    if (rank != 3 || (s[0] != 1 && s[0] != 3) || s[1] < 1 || s[2] < 1 || s[1] > 4096 ||
        s[2] > 4096 || s[0] * s[1] * s[2] != n_feat)
        return 0;
    *c = s[0], *h = s[1], *w = s[2];
    return 1;
}

/* An image's C planes of H x W values as H x W pixels of C bytes, min-max over its finite
 * values to 0..255 (a flat image mid-grey, a non-finite value black). */
static void img_pixels(const float *x, int64_t c, int64_t h, int64_t w, unsigned char *out)
{
    int64_t hw = h * w;
    float lo = (float)INFINITY, hi = -(float)INFINITY;
    for (int64_t i = 0; i < c * hw; i++)
        if (isfinite(x[i])) {
            lo = x[i] < lo ? x[i] : lo;
            hi = x[i] > hi ? x[i] : hi;
        }
    double scale = hi > lo ? 255.0 / ((double)hi - (double)lo) : 0.0;
    for (int64_t k = 0; k < c; k++)
        for (int64_t p = 0; p < hw; p++) {
            float v = x[k * hw + p];
            out[p * c + k] = !isfinite(v) ? 0 : scale > 0 ? (unsigned char)lround(((double)v - (double)lo) * scale) : 128;
        }
}

/* Shown size: 3x up to 64 pixels a side, larger images with their longer side 192 px. */
static void img_disp(int64_t h, int64_t w, int *dh, int *dw)
{
    int64_t m = h > w ? h : w;
    double s = m <= 64 ? 3.0 : 192.0 / (double)m;
    *dh = (int)ceil((double)h * s);
    *dw = (int)ceil((double)w * s);
}

/* ---------------------------------------------------------------- the mistakes */

typedef struct img_hit {
    int64_t row;
    float p;   /* the predicted class's probability */
    int t, c;  /* true and predicted class */
} img_hit;

/* Keep h among the cap most confident of a[0..*n) (descending p; ties: the earlier row). */
static void img_keep(img_hit *a, int *n, int cap, img_hit h)
{
    if (*n == cap && !(h.p > a[cap - 1].p)) return;
    int i = *n < cap ? (*n)++ : cap - 1;
    for (; i > 0 && h.p > a[i - 1].p; i--) a[i] = a[i - 1];
    a[i] = h;
}

typedef struct img_pair {
    int t, c;
    int64_t count;
    int n_ex;
    img_hit ex[PAIR_EXAMPLES];
} img_pair;

/* What showing rows needs: the data's shape and two scratch buffers. */
typedef struct img_rows {
    const cli_report *r;
    int64_t nf, c, h, w;
    int is_img;
    float *x;            /* one row */
    unsigned char *pix;  /* one image */
} img_rows;

static void img_prob(FILE *f, float p)
{
    if (isfinite(p)) fprintf(f, "%.3f", (double)p);
    else fputs("?", f);
}

/* A row as an image with its caption (true, predicted, probability). */
static int img_figure(FILE *f, const img_rows *v, const img_hit *hit, int show_classes)
{
    char b1[16], b2[16], alt[64];
    int rc = nb_dataset_rows(v->r->data, hit->row, 1, v->x, NULL);
    if (rc) return cli_lib_fail(rc, "report: reading a misclassified row");
    img_pixels(v->x, v->c, v->h, v->w, v->pix);
    int dh, dw;
    img_disp(v->h, v->w, &dh, &dw);
    snprintf(alt, sizeof alt, "row %lld", (long long)hit->row + 1);
    fputs("<figure style=\"display:inline-block;margin:4px;text-align:center;vertical-align:top\">", f);
    rc = cli_html_png(f, v->pix, (int)v->w, (int)v->h, (int)v->c, dw, dh, alt);
    if (rc) return rc;
    fprintf(f, "<figcaption style=\"font-size:11px\">row %lld<br>", (long long)hit->row + 1);
    if (show_classes) {
        fputs("true: ", f);
        cli_html_text(f, cli_class_name(v->r->pp, v->r->data, hit->t, b1, sizeof b1));
        fputs("<br>predicted: ", f);
        cli_html_text(f, cli_class_name(v->r->pp, v->r->data, hit->c, b2, sizeof b2));
        fputs("<br>", f);
    }
    fputs("p = ", f);
    img_prob(f, hit->p);
    fputs("</figcaption></figure>\n", f);
    return NB_OK;
}

static void img_table_head(FILE *f, const img_rows *v)
{
    fputs("<table class=\"rows\"><tr><th>row</th><th>true</th><th>predicted</th><th>p</th>", f);
    for (int64_t j = 0; j < v->nf && j < TABLE_COLS; j++) fprintf(f, "<th>f%lld</th>", (long long)j);
    if (v->nf > TABLE_COLS) fprintf(f, "<th>(%lld more)</th>", (long long)(v->nf - TABLE_COLS));
    fputs("</tr>\n", f);
}

static int img_table_row(FILE *f, const img_rows *v, const img_hit *hit)
{
    char b1[16], b2[16];
    int rc = nb_dataset_rows(v->r->data, hit->row, 1, v->x, NULL);
    if (rc) return cli_lib_fail(rc, "report: reading a misclassified row");
    fprintf(f, "<tr><td>%lld</td><td>", (long long)hit->row + 1);
    cli_html_text(f, cli_class_name(v->r->pp, v->r->data, hit->t, b1, sizeof b1));
    fputs("</td><td>", f);
    cli_html_text(f, cli_class_name(v->r->pp, v->r->data, hit->c, b2, sizeof b2));
    fputs("</td><td>", f);
    img_prob(f, hit->p);
    fputs("</td>", f);
    for (int64_t j = 0; j < v->nf && j < TABLE_COLS; j++) {
        if (isfinite(v->x[j])) fprintf(f, "<td>%.4g</td>", (double)v->x[j]);
        else fputs("<td>-</td>", f);
    }
    if (v->nf > TABLE_COLS) fputs("<td></td>", f);
    fputs("</tr>\n", f);
    return NB_OK;
}

/* hits[0..n) as images, or as one table. */
static int img_show(FILE *f, const img_rows *v, const img_hit *hits, int n, int show_classes)
{
    int rc = NB_OK;
    if (!v->is_img) img_table_head(f, v);
    for (int i = 0; i < n && !rc; i++)
        rc = v->is_img ? img_figure(f, v, &hits[i], show_classes) : img_table_row(f, v, &hits[i]);
    if (!v->is_img) fputs("</table>\n", f);
    return rc;
}

int cli_report_gallery(FILE *f, const cli_report *r)
{
    if (!f || !r || !r->model || !r->data || !r->pred || !r->target || r->n < 1 ||
        r->n_targets < 1 || r->n_out < 2 || nb_model_task(r->model) != NB_TASK_CLASSIFY)
        return NB_OK;
    int k = r->n_out;
    int64_t n = r->n < nb_dataset_n_rows(r->data) ? r->n : nb_dataset_n_rows(r->data);
    img_rows v = {r, nb_dataset_n_features(r->data), 0, 0, 0, 0, NULL, NULL};
    v.is_img = img_shape(r, v.nf, &v.c, &v.h, &v.w);

    /* the most confused pairs: the largest off-diagonal counts (ties: row-major order) */
    img_pair pairs[PAIRS];
    int np = 0;
    const int64_t *cm = r->metrics && r->metrics->n_classes == k ? r->metrics->confusion : NULL;
    for (int t = 0; cm && t < k; t++)
        for (int c = 0; c < k; c++) {
            int64_t m = cm[(int64_t)t * k + c];
            if (t == c || m <= 0 || (np == PAIRS && m <= pairs[PAIRS - 1].count)) continue;
            int i = np < PAIRS ? np++ : PAIRS - 1;
            for (; i > 0 && m > pairs[i - 1].count; i--) pairs[i] = pairs[i - 1];
            pairs[i] = (img_pair){t, c, m, 0, {{0, 0, 0, 0}}};
        }

    /* one pass over the predictions: the mistakes, the most confident kept */
    img_hit top[MISTAKES];
    int nm = 0;
    int64_t wrong = 0, scored = 0;
    for (int64_t i = 0; i < n; i++) {
        const float *p = r->pred + i * k;
        float tv = r->target[i * r->n_targets];
        if (!(tv >= 0 && tv < (float)k)) continue; /* not a class (NaN included) */
        int best = -1;
        float bp = -(float)INFINITY;
        for (int j = 0; j < k; j++)
            if (p[j] > bp) best = j, bp = p[j]; /* a NaN probability never wins */
        scored++;
        int t = (int)tv;
        if (best < 0 || best == t) continue;
        wrong++;
        img_hit h = {i, bp, t, best};
        img_keep(top, &nm, MISTAKES, h);
        for (int q = 0; q < np; q++)
            if (pairs[q].t == t && pairs[q].c == best) img_keep(pairs[q].ex, &pairs[q].n_ex, PAIR_EXAMPLES, h);
    }

    /* no mistakes: nothing to picture (the confusion matrix already shows a clean diagonal) */
    if (wrong == 0) return NB_OK;
    fputs("<section class=\"gallery\"><h2>Mistakes</h2>\n", f);
    fprintf(f, "<p>%lld of %lld rows misclassified (%.1f%%).</p>\n", (long long)wrong,
            (long long)scored, scored > 0 ? 100.0 * (double)wrong / (double)scored : 0.0);
    if (!v.is_img) /* what the table's numbers are: the row as the model saw it */
        fputs("<p class=\"note\">f0, f1, ...: the model's input features, after the scaling stored in the model "
              "(row: the row's number in the data).</p>\n", f);
    int rc = NB_OK;
    if (nm > 0 || np > 0) {
        v.x = malloc((size_t)v.nf * sizeof *v.x);
        v.pix = v.is_img ? malloc((size_t)(v.c * v.h * v.w)) : NULL;
        if (!v.x || (v.is_img && !v.pix)) rc = cli_fail(NB_ERR_NOMEM, "report: out of memory for the gallery");
    }
    char b1[16], b2[16];
    if (!rc && np > 0) {
        fputs("<h3>The most confused pairs</h3>\n", f);
        for (int q = 0; q < np && !rc; q++) {
            fputs("<div class=\"pair\"><p>true <b>", f);
            cli_html_text(f, cli_class_name(r->pp, r->data, pairs[q].t, b1, sizeof b1));
            fputs("</b> predicted as <b>", f);
            cli_html_text(f, cli_class_name(r->pp, r->data, pairs[q].c, b2, sizeof b2));
            fprintf(f, "</b>: %lld time%s</p>\n", (long long)pairs[q].count, pairs[q].count == 1 ? "" : "s");
            rc = img_show(f, &v, pairs[q].ex, pairs[q].n_ex, 0);
            fputs("</div>\n", f);
        }
    }
    if (!rc && nm > 0) {
        fprintf(f, "<h3>Misclassified %s, most confident first%s</h3>\n", v.is_img ? "images" : "rows",
                wrong > nm ? " (the first 48)" : "");
        rc = img_show(f, &v, top, nm, 1);
    }
    fputs("</section>\n", f);
    free(v.x);
    free(v.pix);
    return rc;
}

/* ---------------------------------------------------------------- the first layer */

/* v[0..n) min-max over its finite values to the colour map, into rgb (3 n bytes). */
static void img_map(const float *v, int64_t n, unsigned char *rgb)
{
    float lo = (float)INFINITY, hi = -(float)INFINITY;
    for (int64_t i = 0; i < n; i++)
        if (isfinite(v[i])) {
            lo = v[i] < lo ? v[i] : lo;
            hi = v[i] > hi ? v[i] : hi;
        }
    for (int64_t i = 0; i < n; i++)
        cli_colormap(!isfinite(v[i]) ? (double)NAN : hi > lo ? ((double)v[i] - (double)lo) / ((double)hi - (double)lo) : 0.5,
                     rgb + 3 * i);
}

/* Dense weights (units, C*H*W) over an image: one picture per unit. */
static int img_dense(FILE *f, const nb_param_info *P, const nb_layer_info *L,
                     int li, int64_t c, int64_t h, int64_t w)
{
    int64_t units = P->shape[0], in = P->shape[1], shown = units < UNITS ? units : UNITS;
    unsigned char *pix = malloc((size_t)(h * w * 3));
    if (!pix) return cli_fail(NB_ERR_NOMEM, "report: out of memory for the first layer");
    fprintf(f, "<p>Layer %d (", li + 1);
    cli_html_text(f, L->text);
    fprintf(f, "): each unit's %lld input weights as a %lldx%lld image (%s, from its most negative "
            "to its most positive weight)%s.</p>\n<div>", (long long)in, (long long)h, (long long)w,
            c == 1 ? "dark blue to yellow" : "each colour channel's weights as that colour",
            units > shown ? "; the first 64 units" : "");
    int dh, dw, rc = NB_OK;
    img_disp(h, w, &dh, &dw);
    dh = dh * 2 / 3, dw = dw * 2 / 3; /* 64 of them: 2x rather than 3x */
    for (int64_t u = 0; u < shown && !rc; u++) {
        const float *wt = P->data + u * in;
        char alt[32];
        if (c == 1) img_map(wt, h * w, pix);
        else img_pixels(wt, c, h, w, pix);
        snprintf(alt, sizeof alt, "unit %lld", (long long)u + 1);
        rc = cli_html_png(f, pix, (int)w, (int)h, 3, dw > 0 ? dw : 1, dh > 0 ? dh : 1, alt);
        fputc('\n', f);
    }
    fputs("</div>\n", f);
    free(pix);
    return rc;
}

/* Conv filters (out_c, in_c, kh, kw): each filter's channels side by side, one tile each. */
static int img_conv(FILE *f, const nb_param_info *P, const nb_layer_info *L, int li)
{
    int64_t oc = P->shape[0], ic = P->shape[1], kh = P->shape[2], kw = P->shape[3];
    int64_t shown = oc < UNITS ? oc : UNITS, icn = ic < CHANNELS ? ic : CHANNELS;
    int64_t tw = icn * (kw + 1) - 1; /* a white column between channels */
    unsigned char *pix = malloc((size_t)(tw * kh * 3));
    if (!pix) return cli_fail(NB_ERR_NOMEM, "report: out of memory for the first layer");
    fprintf(f, "<p>Layer %d (", li + 1);
    cli_html_text(f, L->text);
    fprintf(f, "): each filter's %lldx%lld weights per input channel", (long long)kh, (long long)kw);
    if (ic > 1) fputs(", side by side", f);
    if (icn < ic) fprintf(f, " (the first %lld of %lld channels)", (long long)icn, (long long)ic);
    fprintf(f, ", dark blue (most negative) to yellow (most positive) per filter%s.</p>\n<div>",
            oc > shown ? "; the first 64 filters" : "");
    int64_t scale = 48 / kh < 1 ? 1 : 48 / kh > 12 ? 12 : 48 / kh;
    int rc = NB_OK;
    for (int64_t o = 0; o < shown && !rc; o++) {
        const float *wt = P->data + o * ic * kh * kw;
        /* one min-max over the filter's channels shown, so they compare */
        float lo = (float)INFINITY, hi = -(float)INFINITY;
        for (int64_t i = 0; i < icn * kh * kw; i++)
            if (isfinite(wt[i])) {
                lo = wt[i] < lo ? wt[i] : lo;
                hi = wt[i] > hi ? wt[i] : hi;
            }
        memset(pix, 255, (size_t)(tw * kh * 3));
        for (int64_t cc = 0; cc < icn; cc++)
            for (int64_t y = 0; y < kh; y++)
                for (int64_t x = 0; x < kw; x++) {
                    float v = wt[(cc * kh + y) * kw + x];
                    cli_colormap(!isfinite(v) ? (double)NAN : hi > lo ? ((double)v - (double)lo) / ((double)hi - (double)lo) : 0.5,
                                 pix + 3 * (y * tw + cc * (kw + 1) + x));
                }
        char alt[32];
        snprintf(alt, sizeof alt, "filter %lld", (long long)o + 1);
        fputs("<span style=\"display:inline-block;margin:3px\">", f);
        rc = cli_html_png(f, pix, (int)tw, (int)kh, 3, (int)(tw * scale), (int)(kh * scale), alt);
        fputs("</span>\n", f);
    }
    fputs("</div>\n", f);
    free(pix);
    return rc;
}

int cli_report_first_layer(FILE *f, const cli_report *r)
{
    if (!f || !r || !r->model) return NB_OK;
    nb_layer_info L;
    int li = -1, nl = nb_model_n_layers(r->model);
    for (int i = 0; i < nl; i++) {
        if (nb_model_layer_info(r->model, i, &L)) return NB_OK;
        if (L.n_params > 0) {
            li = i;
            break;
        }
    }
    if (li < 0 || (L.type != NB_LAYER_DENSE && L.type != NB_LAYER_CONV2D)) return NB_OK;
    /* parameters are in layer order, weight first: tensor 0 is this layer's weight */
    nb_param_info P;
    if (nb_model_n_param_tensors(r->model) < 1 || nb_model_param_info(r->model, 0, &P) || !P.data ||
        !P.name || strlen(P.name) < 6 || strcmp(P.name + strlen(P.name) - 6, "weight") != 0)
        return NB_OK;
    int64_t c = 0, h = 0, w = 0;
    if (L.type == NB_LAYER_DENSE &&
        !(P.rank == 2 && P.shape[0] >= 1 && img_shape(r, P.shape[1], &c, &h, &w)))
        return NB_OK;
    /* a kernel over 256 a side is no picture: say nothing */
    if (L.type == NB_LAYER_CONV2D &&
        !(P.rank == 4 && P.shape[2] >= 1 && P.shape[2] <= 256 && P.shape[3] >= 1 && P.shape[3] <= 256))
        return NB_OK;
    fputs("<section class=\"first-layer\"><h2>What the first layer learned</h2>\n", f);
    int rc = L.type == NB_LAYER_DENSE ? img_dense(f, &P, &L, li, c, h, w) : img_conv(f, &P, &L, li);
    fputs("</section>\n", f);
    return rc;
}

/* ---------------------------------------------------------------- decision regions */

/* Class colours: Tableau's 10, then hues a golden angle apart. */
static void img_class_rgb(int c, unsigned char rgb[3])
{
    static const unsigned char t10[10][3] = {
        {31, 119, 180}, {255, 127, 14}, {44, 160, 44},   {214, 39, 40},  {148, 103, 189},
        {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207},
    };
    if (c < 0) {
        rgb[0] = rgb[1] = rgb[2] = 200;
        return;
    }
    if (c < 10) {
        memcpy(rgb, t10[c], 3);
        return;
    }
    double hue = fmod(c * 0.6180339887, 1.0) * 6.0, s = 0.65, v = 0.85;
    int i = (int)hue;
    double fr = hue - i, p = v * (1 - s), q = v * (1 - s * fr), t = v * (1 - s * (1 - fr));
    double rr[6] = {v, q, p, p, t, v}, gg[6] = {t, v, v, q, p, p}, bb[6] = {p, p, t, v, v, q};
    rgb[0] = (unsigned char)lround(255 * rr[i % 6]);
    rgb[1] = (unsigned char)lround(255 * gg[i % 6]);
    rgb[2] = (unsigned char)lround(255 * bb[i % 6]);
}

/* The class of one output row: binary p >= 0.5; classify the most probable; -1 for NaN. */
static int img_decide(const float *p, int n_out, int binary)
{
    if (binary) return p[0] >= 0.5f ? 1 : p[0] < 0.5f ? 0 : -1;
    int best = -1;
    float bp = -(float)INFINITY;
    for (int j = 0; j < n_out; j++)
        if (p[j] > bp) best = j, bp = p[j];
    return best;
}

static int img_decimals(double step)
{
    int d = (int)-floor(log10(step) + 1e-9);
    return d < 0 ? 0 : d > 8 ? 8 : d;
}

#define RW 400.0 /* plot size in px */
#define RL 64.0  /* left margin (tick labels, y label) */
#define RT 10.0
#define RB 48.0  /* bottom margin (tick labels, x label) */
#define RR 12.0

/* One axis's ticks inside [lo, hi] with labels: x (horizontal) or y. */
static void img_axis(FILE *f, double lo, double hi, int x_axis)
{
    double t0, st;
    int nt = cli_nice_ticks(lo, hi, &t0, &st), dec = img_decimals(st);
    for (int i = 0; i < nt; i++) {
        double v = t0 + st * i;
        if (v < lo - 1e-9 * st || v > hi + 1e-9 * st) continue;
        double pos = (v - lo) / (hi - lo) * RW;
        if (fabs(v) < st * 1e-9) v = 0.0; /* no "-0.0" */
        if (x_axis)
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>"
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.*f</text>\n",
                    RL + pos, RT + RW, RL + pos, RT + RW + 5, RL + pos, RT + RW + 18, dec, v);
        else
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>"
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.*f</text>\n",
                    RL - 5, RT + RW - pos, RL, RT + RW - pos, RL - 8, RT + RW - pos + 4, dec, v);
    }
}

int cli_report_regions(FILE *f, const cli_report *r)
{
    if (!f || !r || !r->model || !r->data || !r->target || r->n < 1 || r->n_targets < 1) return NB_OK;
    nb_task task = nb_model_task(r->model);
    int64_t s[3];
    if ((task != NB_TASK_CLASSIFY && task != NB_TASK_BINARY) || nb_dataset_n_features(r->data) != 2 ||
        nb_model_sample_shape(r->model, s) != 1 || s[0] != 2)
        return NB_OK;
    int binary = task == NB_TASK_BINARY, n_out = nb_model_n_outputs(r->model);
    int k = binary ? 2 : n_out;
    if (n_out < 1 || (binary && n_out != 1)) return NB_OK;
    int64_t n = r->n < nb_dataset_n_rows(r->data) ? r->n : nb_dataset_n_rows(r->data);

    enum { CHUNK = 4000 }; /* rows read or predicted at once: 20 grid rows */
    float *buf = malloc(CHUNK * 2 * sizeof *buf), *out = malloc((size_t)CHUNK * (size_t)n_out * sizeof *out);
    unsigned char *img = malloc(GRID * GRID * 3), *present = calloc((size_t)k, 1);
    unsigned char *png = NULL;
    size_t png_n = 0;
    int rc = NB_OK;
    if (!buf || !out || !img || !present) {
        rc = cli_fail(NB_ERR_NOMEM, "report: out of memory for the decision regions");
        goto done;
    }
    /* the data's range, +5% each side */
    double lo[2] = {HUGE_VAL, HUGE_VAL}, hi[2] = {-HUGE_VAL, -HUGE_VAL};
    for (int64_t i = 0; i < n && !rc; i += CHUNK) {
        int64_t m = n - i < CHUNK ? n - i : CHUNK;
        rc = nb_dataset_rows(r->data, i, m, buf, NULL);
        if (rc) {
            rc = cli_lib_fail(rc, "report: reading the data");
            break;
        }
        for (int64_t j = 0; j < 2 * m; j++)
            if (isfinite(buf[j])) {
                double x = (double)buf[j];
                lo[j & 1] = x < lo[j & 1] ? x : lo[j & 1];
                hi[j & 1] = x > hi[j & 1] ? x : hi[j & 1];
            }
    }
    if (rc || !(lo[0] <= hi[0]) || !(lo[1] <= hi[1])) goto done; /* no finite point: no plane */
    for (int d = 0; d < 2; d++) {
        double span = hi[d] - lo[d];
        double pad = span > 1e-12 * (fabs(hi[d]) + 1.0) ? 0.05 * span : fabs(hi[d]) > 0 ? 0.1 * fabs(hi[d]) : 0.5;
        lo[d] -= pad;
        hi[d] += pad;
    }
    /* the grid, top row first (largest f1), cell centres, predicted in chunks */
    for (int64_t g = 0; g < GRID * GRID; g += CHUNK) {
        int64_t m = GRID * GRID - g < CHUNK ? GRID * GRID - g : CHUNK;
        for (int64_t j = 0; j < m; j++) {
            int64_t gx = (g + j) % GRID, gy = (g + j) / GRID;
            buf[2 * j] = (float)(lo[0] + (gx + 0.5) / GRID * (hi[0] - lo[0]));
            buf[2 * j + 1] = (float)(hi[1] - (gy + 0.5) / GRID * (hi[1] - lo[1]));
        }
        rc = nb_model_predict(r->model, buf, m, out);
        if (rc) {
            rc = cli_lib_fail(rc, "report: predicting the decision regions");
            goto done;
        }
        for (int64_t j = 0; j < m; j++) {
            int c = img_decide(out + j * n_out, n_out, binary);
            unsigned char *px = img + 3 * (g + j);
            img_class_rgb(c, px);
            if (c >= 0) present[c] = 1;
            for (int q = 0; q < 3; q++) px[q] = (unsigned char)(255 - (255 - px[q]) * 2 / 5); /* lighter */
        }
    }
    rc = cli_png_encode(img, GRID, GRID, 3, &png, &png_n);
    if (rc) {
        rc = cli_fail(rc, "report: out of memory encoding the decision regions");
        goto done;
    }
    fputs("<section class=\"regions\"><h2>Decision regions</h2>\n", f);
    fprintf(f, "<p>The class the model predicts over the plane of its two inputs (a %dx%d grid over "
            "the data's range and 5%% more), with %s%lld rows of the data on top, coloured by "
            "their true class.</p>\n", GRID, GRID, n > POINTS ? "2000 of the " : "the ", (long long)n);
    double W = RL + RW + RR, H = RT + RW + RB;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 "
            "%.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n", W, H, W, H);
    fprintf(f, "<image x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" preserveAspectRatio=\"none\" "
            "style=\"image-rendering:pixelated\" href=\"data:image/png;base64,", RL, RT, RW, RW);
    cli_base64(f, png, png_n);
    fputs("\"/>\n", f);
    fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#444\"/>\n",
            RL, RT, RW, RW);
    img_axis(f, lo[0], hi[0], 1);
    img_axis(f, lo[1], hi[1], 0);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">f0 (first feature)</text>\n",
            RL + RW / 2, H - 8);
    fprintf(f, "<text x=\"16\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 16 %.1f)\">"
            "f1 (second feature)</text>\n", RT + RW / 2, RT + RW / 2);
    /* the points: every row, or 2000 evenly spaced */
    int64_t npts = n < POINTS ? n : POINTS;
    for (int64_t j = 0; j < npts; j++) {
        int64_t i = n <= POINTS ? j : j * n / POINTS;
        float tv = r->target[i * r->n_targets];
        if (!(tv >= 0 && tv < (float)k)) continue;
        int c = binary ? tv >= 0.5f : (int)tv;
        rc = nb_dataset_rows(r->data, i, 1, buf, NULL);
        if (rc) {
            rc = cli_lib_fail(rc, "report: reading the data");
            break;
        }
        if (!isfinite(buf[0]) || !isfinite(buf[1])) continue;
        present[c] = 1;
        unsigned char rgb[3];
        img_class_rgb(c, rgb);
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"#%02x%02x%02x\" stroke=\"#222\" "
                "stroke-width=\"0.8\"/>\n", RL + ((double)buf[0] - lo[0]) / (hi[0] - lo[0]) * RW,
                RT + (hi[1] - (double)buf[1]) / (hi[1] - lo[1]) * RW, rgb[0], rgb[1], rgb[2]);
    }
    fputs("</svg>\n<div class=\"legend\">", f);
    for (int c = 0; c < k; c++) {
        if (!present[c]) continue;
        unsigned char rgb[3];
        char b[16];
        img_class_rgb(c, rgb);
        fprintf(f, "<span style=\"display:inline-block;margin-right:12px\"><span style=\"display:inline-"
                "block;width:12px;height:12px;border:1px solid #222;background:#%02x%02x%02x\"></span> ",
                rgb[0], rgb[1], rgb[2]);
        cli_html_text(f, cli_class_name(r->pp, r->data, c, b, sizeof b));
        fputs("</span>", f);
    }
    fputs("</div>\n</section>\n", f);
done:
    free(png);
    free(buf);
    free(out);
    free(img);
    free(present);
    return rc;
}
