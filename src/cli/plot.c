/* SPDX-License-Identifier: MIT */
/*
 * plot.c - line charts as standalone SVG, drawn by nabla itself (no plotting library): panels
 * side by side, each with a frame, "nice" ticks (1, 2 or 5 times a power of ten), tick labels,
 * axis labels, the series as polylines (a NaN breaks a line) with point markers when there are
 * few points, and a legend. Invariants: the document is well-formed XML (every text is escaped)
 * and every coordinate written is finite.
 */
#include "cli.h"
#include "report_html.h" /* cli_html_text: one escaper for SVG and HTML */

#include <math.h>
#include <string.h>

#define PANEL_W 440.0
#define PANEL_H 320.0
#define TITLE_H 30.0
#define M_LEFT 64.0
#define M_RIGHT 16.0
#define M_TOP 28.0
#define M_BOTTOM 46.0

/* The nice step (1, 2 or 5 times a power of ten) closest above raw. */
static double nice_step(double raw)
{
    double p = pow(10.0, floor(log10(raw)));
    double m = raw / p;
    double s = m <= 1.0 ? 1.0 : m <= 2.0 ? 2.0 : m <= 5.0 ? 5.0 : 10.0;
    return s * p;
}

int cli_nice_ticks(double lo, double hi, double *t0, double *step)
{
    double s = nice_step((hi - lo) / 5.0);
    double a = floor(lo / s + 1e-9) * s, b = ceil(hi / s - 1e-9) * s;
    int n = (int)floor((b - a) / s + 0.5) + 1;
    if (n < 2) {
        b = a + s;
        n = 2;
    }
    while (n > 12) { /* cannot happen with a /5 step, but keep the promise */
        s *= 2.0;
        a = floor(lo / s) * s;
        n = (int)ceil((hi - a) / s - 1e-9) + 1;
    }
    *t0 = a;
    *step = s;
    return n;
}

/* Decimals needed to print multiples of step exactly enough. */
static int decimals(double step)
{
    int d = (int)-floor(log10(step) + 1e-9);
    return d < 0 ? 0 : d > 8 ? 8 : d;
}

static void draw_panel(FILE *f, const cli_panel *p, double ox, double oy, int n)
{
    double x0 = ox + M_LEFT, x1 = ox + PANEL_W - M_RIGHT;
    double y0 = oy + M_TOP, y1 = oy + PANEL_H - M_BOTTOM; /* y0 top, y1 bottom */
    double lo = (double)INFINITY, hi = -(double)INFINITY;
    for (int s = 0; s < p->n_series; s++)
        for (int i = 0; i < n; i++) {
            double v = p->series[s].y[i];
            if (isfinite(v)) {
                lo = v < lo ? v : lo;
                hi = v > hi ? v : hi;
            }
        }
    fprintf(f, "<g>\n<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"14\" "
            "font-weight=\"bold\">", (x0 + x1) / 2, oy + 18);
    cli_html_text(f, p->title);
    fputs("</text>\n", f);
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"white\" "
            "stroke=\"#444\"/>\n", x0, y0, x1 - x0, y1 - y0);
    /* axis labels */
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">epoch</text>\n",
            (x0 + x1) / 2, oy + PANEL_H - 8);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 %.1f "
            "%.1f)\">", ox + 16, (y0 + y1) / 2, ox + 16, (y0 + y1) / 2);
    cli_html_text(f, p->ylabel);
    fputs("</text>\n", f);
    if (!(lo <= hi)) {
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#888\">no data"
                "</text>\n</g>\n", (x0 + x1) / 2, (y0 + y1) / 2);
        return;
    }
    if (hi - lo < 1e-12 * (fabs(hi) + 1.0)) { /* a flat line: give it some room */
        double pad = fabs(hi) > 0 ? fabs(hi) * 0.1 : 0.5;
        lo -= pad;
        hi += pad;
    }
    double t0, ts;
    int nt = cli_nice_ticks(lo, hi, &t0, &ts);
    double ya = t0, yb = t0 + ts * (nt - 1);
    /* x runs over epochs 1..n; one epoch sits in the middle */
    double xa = n > 1 ? 1.0 : 0.0, xb = n > 1 ? (double)n : 2.0;
#define PX(x) (x0 + ((x) - xa) / (xb - xa) * (x1 - x0))
#define PY(y) (y1 - ((y) - ya) / (yb - ya) * (y1 - y0))
    int dec = decimals(ts);
    for (int k = 0; k < nt; k++) {
        double v = t0 + ts * k, y = PY(v);
        if (fabs(v) < ts * 1e-9) v = 0.0; /* no "-0.0" labels */
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n",
                x0, y, x1, y);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>\n",
                x0 - 4, y, x0, y);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.*f</text>\n", x0 - 7,
                y + 4, dec, v);
    }
    /* x ticks: every epoch when few, else 1 and the multiples of a nice integer step */
    double xs = n > 1 ? nice_step((n - 1) / 8.0) : 1.0;
    if (xs < 1.0) xs = 1.0;
    for (double e = 1.0; e <= n + 1e-9;) {
        double x = PX(e);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>\n", x,
                y1, x, y1 + 4);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.0f</text>\n", x, y1 + 17,
                e);
        double next = floor(e / xs + 1e-9) * xs + xs;
        if (e == 1.0 && xs > 1.0 && next - 1.0 < xs / 2) next += xs; /* keep labels apart */
        e = next;
    }
    /* the series */
    for (int s = 0; s < p->n_series; s++) {
        const cli_series *se = &p->series[s];
        int pen = 0;
        fprintf(f, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"2\" d=\"", se->color);
        for (int i = 0; i < n; i++) {
            double v = se->y[i];
            if (!isfinite(v)) {
                pen = 0;
                continue;
            }
            fprintf(f, "%s%.1f %.1f ", pen ? "L" : "M", PX(i + 1.0), PY(v));
            pen = 1;
        }
        fputs("\"/>\n", f);
        for (int i = 0; n <= 60 && i < n; i++)
            if (isfinite(se->y[i]))
                fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>\n",
                        PX(i + 1.0), PY(se->y[i]), se->color);
    }
    /* the best epoch: a dashed vertical line and its label at the top of the frame */
    if (p->best >= 1 && p->best <= n) {
        double bx = PX((double)p->best);
        fprintf(f, "<line class=\"best\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                "stroke=\"#2ca02c\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\"/>\n",
                bx, y0, bx, y1);
        int right = bx > (x0 + x1) / 2; /* the label on the side with room */
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" fill=\"#2ca02c\">best "
                "epoch %d</text>\n", right ? bx - 4 : bx + 4, y1 - 6, right ? "end" : "start",
                p->best);
    }
    /* legend inside the frame, top right or bottom right: whichever hides fewer points; only
     * the series that have a value (no "validation" entry without validation data) */
    int shown[4], ns = 0;
    for (int s = 0; s < p->n_series && s < 4; s++) {
        int any = 0;
        for (int i = 0; i < n && !any; i++) any = isfinite(p->series[s].y[i]);
        if (any) shown[ns++] = s;
    }
    double lw = 0, lh = 8.0 + 16.0 * ns;
    for (int k = 0; k < ns; k++) {
        int s = shown[k];
        double w = 7.0 * (double)strlen(p->series[s].label);
        lw = w > lw ? w : lw;
    }
    lw += 36;
    double lx = x1 - lw - 6, ly = y0 + 6;
    int hidden_top = 0, hidden_bottom = 0;
    for (int s = 0; s < p->n_series; s++)
        for (int i = 0; i < n; i++) {
            double v = p->series[s].y[i], px = PX(i + 1.0), py = PY(v);
            if (!isfinite(v) || px < lx - 4) continue;
            hidden_top += py <= ly + lh + 4;
            hidden_bottom += py >= y1 - 6 - lh - 4;
        }
    if (hidden_bottom < hidden_top) ly = y1 - 6 - lh;
#undef PX
#undef PY
    if (ns == 0) {
        fputs("</g>\n", f);
        return;
    }
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"white\" "
            "fill-opacity=\"0.85\" stroke=\"#bbb\"/>\n", lx, ly, lw, lh);
    for (int k = 0; k < ns; k++) {
        int s = shown[k];
        double yy = ly + 14 + 16.0 * k;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                "stroke-width=\"2\"/>\n", lx + 6, yy - 4, lx + 26, yy - 4, p->series[s].color);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">", lx + 31, yy);
        cli_html_text(f, p->series[s].label);
        fputs("</text>\n", f);
    }
    fputs("</g>\n", f);
}

int cli_svg_plot(FILE *f, const char *title, const cli_panel *panels, int n_panels, int n)
{
    return cli_svg_plot_doc(f, title, panels, n_panels, n, 1);
}

int cli_svg_plot_doc(FILE *f, const char *title, const cli_panel *panels, int n_panels, int n,
                     int prolog)
{
    if (n_panels < 1) n_panels = 1;
    if (n_panels > 3) n_panels = 3;
    if (n < 1) n = 1;
    double w = PANEL_W * n_panels, h = PANEL_H + TITLE_H;
    if (prolog) fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
            "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"11\">\n",
            w, h, w, h);
    fprintf(f, "<rect width=\"%.0f\" height=\"%.0f\" fill=\"white\"/>\n", w, h);
    fprintf(f, "<text x=\"%.1f\" y=\"20\" text-anchor=\"middle\" font-size=\"15\">", w / 2);
    cli_html_text(f, title);
    fputs("</text>\n", f);
    for (int i = 0; i < n_panels; i++) draw_panel(f, &panels[i], PANEL_W * i, TITLE_H, n);
    fputs("</svg>\n", f);
    return ferror(f) ? NB_ERR_IO : NB_OK;
}
