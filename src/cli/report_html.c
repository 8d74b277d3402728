/* SPDX-License-Identifier: MIT */
/*
 * report_html.c - the self-contained HTML training report (issue 17): `nabla report`, `nabla
 * train --report`. One HTML5 file with an inline style sheet and inline SVG (PNG pictures come
 * as data: URIs from report_img.c): no URL of any kind is fetched, no script runs. Sections,
 * in order: run, curves, confusion (classify), the picture sections of report_img.c,
 * regression (regress), graph. Invariants: every user-supplied text (class names, CSV headers,
 * paths, the spec, Graphviz's output aside) goes through cli_html_text; every number written into
 * an SVG coordinate is finite.
 */
#include "report_html.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* At most max characters of s (UTF-8 aware: never cuts inside a character), escaped, with an
 * ellipsis when cut: long class names on the heat map's axes. */
static void html_esc_cut(FILE *f, const char *s, int max)
{
    int chars = 0;
    size_t i = 0, n = strlen(s);
    while (i < n && chars < max) {
        i++;
        while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80) i++;
        chars++;
    }
    if (i >= n) {
        cli_html_text(f, s);
        return;
    }
    char *t = malloc(i + 1);
    if (!t) return;
    memcpy(t, s, i);
    t[i] = '\0';
    cli_html_text(f, t);
    fputs("\xe2\x80\xa6", f);
    free(t);
}

/* The heat map's colour: white through light blue to dark blue (t in [0, 1]; NaN grey). */
static void ramp(double t, unsigned char rgb[3])
{
    static const double stop[5][3] = {
        {247, 251, 255}, {198, 219, 239}, {107, 174, 214}, {33, 113, 181}, {8, 48, 107}};
    if (!(t == t)) {
        rgb[0] = rgb[1] = rgb[2] = 200;
        return;
    }
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double x = t * 4.0;
    int i = x >= 4.0 ? 3 : (int)x;
    double u = x - i;
    for (int c = 0; c < 3; c++) rgb[c] = (unsigned char)(stop[i][c] + (stop[i + 1][c] - stop[i][c]) * u + 0.5);
}

static const char *cname(const cli_report *r, int i, char *buf, size_t cap)
{
    return cli_class_name(r->pp, r->data, i, buf, cap);
}

static void open_section(FILE *f, const char *cls, const char *title)
{
    fprintf(f, "<section class=\"%s\">\n<h2>%s</h2>\n", cls, title);
}

/* ---------------------------------------------------------------- 1. the run */

static void row_text(FILE *f, const char *key, const char *val)
{
    fprintf(f, "<tr><th>%s</th><td>", key);
    cli_html_text(f, val);
    fputs("</td></tr>\n", f);
}

static void section_run(FILE *f, const cli_report *r)
{
    const nb_metrics *m = r->metrics;
    char buf[96];
    open_section(f, "run", "The run");
    fputs("<table class=\"kv\">\n", f);
    row_text(f, "model file", r->model_path);
    row_text(f, "data", r->data_name);
    fprintf(f, "<tr><th>rows</th><td class=\"num\">%lld</td></tr>\n", (long long)r->n);
    row_text(f, "model", nb_model_spec(r->model));
    row_text(f, "task", nb_task_name(nb_model_task(r->model)));
    nb_task task = nb_model_task(r->model);
    if (task != NB_TASK_REGRESS) {
        int k = m->n_classes > 0 ? m->n_classes : r->n_out;
        fprintf(f, "<tr><th>classes (%d)</th><td>", k);
        for (int c = 0; c < k && c < 200; c++) {
            if (c) fputs(", ", f);
            cli_html_text(f, cname(r, c, buf, sizeof buf));
        }
        if (k > 200) fprintf(f, ", &#8230; (%d in all)", k);
        fputs("</td></tr>\n", f);
    }
    /* the training: from the history's columns; the model file keeps no optimizer */
    const cli_history *h = r->hist;
    if (h && h->n > 0) {
        double secs = 0, lr0 = h->e[0].lr, lr1 = h->e[h->n - 1].lr;
        int varies = 0;
        for (int i = 0; i < h->n; i++) {
            if (isfinite(h->e[i].seconds)) secs += h->e[i].seconds;
            if (h->e[i].lr != lr0) varies = 1;
        }
        fprintf(f, "<tr><th>epochs</th><td class=\"num\">%d</td></tr>\n", h->n);
        fprintf(f, "<tr><th>training time</th><td class=\"num\">%.3g s</td></tr>\n", secs);
        if (isfinite(lr0) && varies)
            fprintf(f, "<tr><th>schedule</th><td>learning rate from %.4g (epoch 1) to %.4g (epoch %d)"
                    "</td></tr>\n", lr0, lr1, h->n);
        else if (isfinite(lr0))
            fprintf(f, "<tr><th>schedule</th><td>constant learning rate %.4g</td></tr>\n", lr0);
        fprintf(f, "<tr><th>best epoch</th><td class=\"num\">%d</td></tr>\n", cli_history_best(h));
    } else {
        fputs("<tr><th>training</th><td>no history (pass --history FILE, the MODEL.history.csv "
              "nabla train writes)</td></tr>\n", f);
    }
    fputs("<tr><th>optimizer</th><td>unknown: the model file does not store it</td></tr>\n", f);
    fputs("</table>\n<h3>Final figures on this data</h3>\n<table class=\"kv\">\n", f);
    fprintf(f, "<tr><th>loss</th><td class=\"num\">%.6g</td></tr>\n", m->loss);
    switch (m->task) {
    case NB_TASK_CLASSIFY:
    case NB_TASK_BINARY:
        fprintf(f, "<tr><th>accuracy</th><td class=\"num\">%.2f%%</td></tr>\n", 100.0 * m->accuracy);
        fprintf(f, "<tr><th>macro F1</th><td class=\"num\">%.4f</td></tr>\n", m->macro_f1);
        break;
    case NB_TASK_MULTILABEL:
        fprintf(f, "<tr><th>accuracy (per label)</th><td class=\"num\">%.2f%%</td></tr>\n", 100.0 * m->accuracy);
        fprintf(f, "<tr><th>exact match</th><td class=\"num\">%.2f%%</td></tr>\n", 100.0 * m->exact_match);
        fprintf(f, "<tr><th>hamming loss</th><td class=\"num\">%.4g</td></tr>\n", m->hamming_loss);
        break;
    case NB_TASK_REGRESS:
        fprintf(f, "<tr><th>R<sup>2</sup></th><td class=\"num\">%.4f</td></tr>\n", m->r2);
        fprintf(f, "<tr><th>MAE</th><td class=\"num\">%.6g</td></tr>\n", m->mae);
        fprintf(f, "<tr><th>MSE</th><td class=\"num\">%.6g</td></tr>\n", m->mse);
        break;
    }
    fputs("</table>\n<h3>Layers</h3>\n<table class=\"layers\">\n<tr><th>#</th><th>layer</th>"
          "<th>output shape</th><th>parameters</th><th>FLOPs/sample</th></tr>\n", f);
    int nl = nb_model_n_layers(r->model);
    for (int i = 0; i < nl; i++) {
        nb_layer_info li;
        if (nb_model_layer_info(r->model, i, &li)) continue;
        char shape[64];
        cli_fmt_shape(li.out_rank, li.out_shape, shape, sizeof shape);
        fprintf(f, "<tr><td class=\"num\">%d</td><td>", i);
        cli_html_text(f, li.text);
        fprintf(f, "</td><td>%s</td><td class=\"num\">%zu</td><td class=\"num\">%.0f</td></tr>\n",
                shape, li.n_params, li.flops);
    }
    fprintf(f, "<tr class=\"total\"><td></td><td>total</td><td></td><td class=\"num\">%zu</td>"
            "<td></td></tr>\n</table>\n</section>\n", nb_model_param_count(r->model));
}

/* ---------------------------------------------------------------- 2. the curves */

static int section_curves(FILE *f, const cli_report *r)
{
    open_section(f, "curves", "Training curves");
    const cli_history *h = r->hist;
    if (!h || h->n == 0) {
        fputs("<p class=\"note\">No training history: pass --history FILE (the MODEL.history.csv "
              "that nabla train writes).</p>\n</section>\n", f);
        return NB_OK;
    }
    int n = h->n;
    double *v = malloc(5 * (size_t)n * sizeof *v);
    if (!v) return cli_fail(NB_ERR_NOMEM, "report: out of memory");
    cli_panel p[3];
    int np = cli_history_panels(h, n, v, p);
    const double *vl = v + n;
    int best = p[0].best;
    fputs("<div class=\"plot\">\n", f);
    int rc = cli_svg_plot_doc(f, "loss and accuracy per epoch", p, np, n, 0);
    fputs("</div>\n<div class=\"plot small\">\n", f);
    if (!rc) rc = cli_svg_plot_doc(f, "learning rate per epoch", &p[2], 1, n, 0);
    fprintf(f, "</div>\n<p class=\"note\">Dashed line: the best epoch (%s), epoch %d.</p>\n"
            "</section>\n", isfinite(vl[best - 1]) ? "lowest validation loss" : "no validation "
            "data: the last", best);
    free(v);
    return rc;
}

/* ---------------------------------------------------------------- 3. confusion */

static int longest_name(const cli_report *r, int k)
{
    char buf[32];
    int w = 1;
    for (int c = 0; c < k; c++) {
        const char *s = cname(r, c, buf, sizeof buf);
        int chars = 0;
        for (; *s; s++) chars += ((unsigned char)*s & 0xC0) != 0x80;
        w = chars > w ? chars : w;
    }
    return w;
}

static void section_confusion(FILE *f, const cli_report *r)
{
    const nb_metrics *m = r->metrics;
    int k = m->n_classes;
    char buf[32];
    if (m->task != NB_TASK_CLASSIFY && m->task != NB_TASK_BINARY) return;
    if (k <= 0) return;
    open_section(f, "confusion", "Confusion matrix and per-class figures");
    if (m->confusion) {
        int big = k > 30;
        double cs = big ? fmax(4.0, 640.0 / k) : fmin(48.0, fmax(24.0, 520.0 / k));
        double fs = big ? fmin(9.0, cs - 1.0) : 11.0;
        int maxc = 18, lng = longest_name(r, k);
        int cut = lng < maxc ? lng : maxc;
        double lab = cut * fs * 0.62 + 12;      /* room for the row labels */
        int rot = big || cut * fs * 0.62 > cs - 4; /* column labels rotated when long */
        double top = rot ? lab * 0.75 + 30 : 40, left = lab + 30;
        double w = left + cs * k + 20, hgt = top + cs * k + 40;
        fprintf(f, "<div class=\"plot\"><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
                "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" "
                "font-size=\"%.0f\">\n", w, hgt, w, hgt, fs);
        fprintf(f, "<text x=\"%.1f\" y=\"14\" text-anchor=\"middle\" font-size=\"12\">predicted "
                "class</text>\n", left + cs * k / 2);
        fprintf(f, "<text x=\"12\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\" "
                "transform=\"rotate(-90 12 %.1f)\">true class</text>\n", top + cs * k / 2,
                top + cs * k / 2);
        for (int c = 0; c < k; c++) {
            double x = left + cs * (c + 0.5), y = top - 6;
            if (rot)
                fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" transform=\"rotate(-45 %.1f %.1f)\">", x, y, x, y);
            else
                fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", x, y);
            html_esc_cut(f, cname(r, c, buf, sizeof buf), maxc);
            fputs("</text>\n", f);
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", left - 4,
                    top + cs * (c + 0.5) + fs * 0.35);
            html_esc_cut(f, cname(r, c, buf, sizeof buf), maxc);
            fputs("</text>\n", f);
        }
        for (int t = 0; t < k; t++) {
            int64_t sum = 0;
            for (int p = 0; p < k; p++) sum += m->confusion[(size_t)t * (size_t)k + (size_t)p];
            for (int p = 0; p < k; p++) {
                int64_t cnt = m->confusion[(size_t)t * (size_t)k + (size_t)p];
                double u = sum > 0 ? (double)cnt / (double)sum : 0.0; /* share of the true class */
                unsigned char rgb[3];
                ramp(u, rgb);
                double x = left + cs * p, y = top + cs * t;
                fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                        "fill=\"#%02x%02x%02x\" stroke=\"#fff\" stroke-width=\"%s\"><title>",
                        x, y, cs, cs, rgb[0], rgb[1], rgb[2], big ? "0.3" : "1");
                cli_html_text(f, cname(r, t, buf, sizeof buf));
                fputs(" as ", f);
                cli_html_text(f, cname(r, p, buf, sizeof buf));
                fprintf(f, ": %lld</title></rect>\n", (long long)cnt);
                if (!big)
                    fprintf(f, "<text class=\"count\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                            "fill=\"%s\">%lld</text>\n", x + cs / 2, y + cs / 2 + 4,
                            u > 0.5 ? "#fff" : "#222", (long long)cnt);
            }
        }
        fputs("</svg></div>\n", f);
        fprintf(f, "<p class=\"note\">Rows: true class; columns: predicted class; colour: the "
                "share of the true class's rows%s.</p>\n", big ? " (more than 30 classes: counts "
                "in the tooltips)" : "");
    } else {
        fprintf(f, "<p class=\"note\">The confusion matrix is not kept for %d classes (more "
                "than %d).</p>\n", k, NB_CONFUSION_MAX_CLASSES);
    }
    /* precision, recall and F1 per class as horizontal bars */
    if (m->precision && m->recall && m->f1) {
        int big = k > 30;
        double bh = big ? 3.0 : 7.0, gap = big ? 3.0 : 8.0, grp = 3 * bh + gap;
        double fs = big ? 9.0 : 11.0;
        int cut = longest_name(r, k);
        cut = cut < 18 ? cut : 18;
        double left = cut * fs * 0.62 + 16, bw = 420, top = 34;
        double w = left + bw + 60, hgt = top + grp * k + 30;
        fprintf(f, "<div class=\"plot\"><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
                "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" "
                "font-size=\"%.0f\">\n", w, hgt, w, hgt, fs);
        static const char *const lname[3] = {"precision", "recall", "F1"};
        static const char *const col[3] = {"#1f77b4", "#ff7f0e", "#2ca02c"};
        for (int j = 0; j < 3; j++) {
            fprintf(f, "<rect x=\"%.1f\" y=\"8\" width=\"12\" height=\"10\" fill=\"%s\"/>"
                    "<text x=\"%.1f\" y=\"17\" font-size=\"11\">%s</text>\n", left + 110.0 * j,
                    col[j], left + 110.0 * j + 16, lname[j]);
        }
        for (int t = 0; t <= 10; t += 5) {
            double x = left + bw * t / 10.0;
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ccc\"/>"
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"10\">%.1f"
                    "</text>\n", x, top - 4, x, top + grp * k, x, top + grp * k + 14, t / 10.0);
        }
        for (int c = 0; c < k; c++) {
            double y = top + grp * c;
            const double val[3] = {m->precision[c], m->recall[c], m->f1[c]};
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", left - 6,
                    y + 1.5 * bh + fs * 0.35);
            html_esc_cut(f, cname(r, c, buf, sizeof buf), 18);
            fputs("</text>\n", f);
            for (int j = 0; j < 3; j++) {
                double v = isfinite(val[j]) ? fmin(1.0, fmax(0.0, val[j])) : 0.0;
                fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
                        "<title>%s %.4f</title></rect>\n", left, y + bh * j, bw * v, bh, col[j],
                        lname[j], v);
                if (!big)
                    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"8\">%.2f</text>\n",
                            left + bw * v + 3, y + bh * j + bh - 0.5, v);
            }
        }
        fputs("</svg></div>\n", f);
    }
    fputs("</section>\n", f);
}

/* ---------------------------------------------------------------- 7. regression */

/* A frame with nice ticks on both axes for [xa, xb] x [ya, yb] (already widened to ticks) */
static void axes(FILE *f, double L, double T, double W, double H, double xa, double xs, int nx,
                 double ya, double ys, int ny, const char *xlabel, const char *ylabel)
{
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#fff\" "
            "stroke=\"#444\"/>\n", L, T, W, H);
    double xb = xa + xs * (nx - 1), yb = ya + ys * (ny - 1);
    for (int i = 0; i < nx; i++) {
        double v = xa + xs * i, x = L + (v - xa) / (xb - xa) * W;
        if (fabs(v) < xs * 1e-9) v = 0;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>"
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.4g</text>\n", x, T + H, x,
                T + H + 4, x, T + H + 16, v);
    }
    for (int i = 0; i < ny; i++) {
        double v = ya + ys * i, y = T + H - (v - ya) / (yb - ya) * H;
        if (fabs(v) < ys * 1e-9) v = 0;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>"
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.4g</text>\n", L, y, L + W, y,
                L - 5, y + 4, v);
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", L + W / 2, T + H + 34);
    cli_html_text(f, xlabel);
    fprintf(f, "</text>\n<text x=\"14\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 "
            "14 %.1f)\">", T + H / 2, T + H / 2);
    cli_html_text(f, ylabel);
    fputs("</text>\n", f);
}

static void section_regression(FILE *f, const cli_report *r)
{
    if (r->metrics->task != NB_TASK_REGRESS || r->n <= 0) return;
    int64_t k = r->n_targets > 0 ? r->n_targets : 1, n = r->n;
    int no = r->n_out > 0 ? r->n_out : 1;
    open_section(f, "regression", "Predicted against true");
    double lo = (double)INFINITY, hi = -(double)INFINITY;
    double rlo = (double)INFINITY, rhi = -(double)INFINITY;
    for (int64_t i = 0; i < n; i++) {
        double t = (double)r->target[i * k], p = (double)r->pred[i * no];
        if (!isfinite(t) || !isfinite(p)) continue;
        lo = fmin(lo, fmin(t, p));
        hi = fmax(hi, fmax(t, p));
        rlo = fmin(rlo, p - t);
        rhi = fmax(rhi, p - t);
    }
    if (!(lo <= hi)) {
        fputs("<p class=\"note\">No finite prediction to draw.</p>\n</section>\n", f);
        return;
    }
    if (hi - lo < 1e-12 * (fabs(hi) + 1)) { lo -= 0.5; hi += 0.5; }
    if (rhi - rlo < 1e-12 * (fabs(rhi) + 1)) { rlo -= 0.5; rhi += 0.5; }
    const double L = 64, T = 16, W = 380, H = 300;
    double t0, ts;
    int nt = cli_nice_ticks(lo, hi, &t0, &ts);
    double a = t0, b = t0 + ts * (nt - 1);
    if (k > 1)
        fprintf(f, "<p class=\"note\">The first of %lld targets.</p>\n", (long long)k);
    fputs("<div class=\"row\">\n", f);
    fprintf(f, "<div class=\"plot\"><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
            "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"11\">\n",
            L + W + 20, T + H + 46, L + W + 20, T + H + 46);
    axes(f, L, T, W, H, a, ts, nt, a, ts, nt, "true value (the targets' units)",
         "predicted value (the targets' units)");
#define SX(v) (L + ((v) - a) / (b - a) * W)
#define SY(v) (T + H - ((v) - a) / (b - a) * H)
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#d62728\" "
            "stroke-dasharray=\"6 3\"/><text x=\"%.1f\" y=\"%.1f\" fill=\"#d62728\">"
            "dashed: y = x (a perfect prediction)</text>\n", SX(a), SY(a), SX(b), SY(b), L + 8,
            T + 16); /* top left: the line runs from bottom left to top right */
    int64_t stride = n > 4000 ? (n + 3999) / 4000 : 1; /* at most ~4000 points drawn */
    for (int64_t i = 0; i < n; i += stride) {
        double t = (double)r->target[i * k], p = (double)r->pred[i * no];
        if (!isfinite(t) || !isfinite(p)) continue;
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.2\" fill=\"#1f77b4\" fill-opacity=\"0.5\"/>\n",
                SX(t), SY(p));
    }
#undef SX
#undef SY
    fputs("</svg></div>\n", f);
    /* the residuals' histogram, 30 bins */
    enum { BINS = 30 };
    int64_t cnt[BINS] = {0}, top = 0;
    double bw = (rhi - rlo) / BINS;
    for (int64_t i = 0; i < n; i++) {
        double t = (double)r->target[i * k], p = (double)r->pred[i * no];
        if (!isfinite(t) || !isfinite(p)) continue;
        int j = (int)((p - t - rlo) / bw);
        j = j < 0 ? 0 : j >= BINS ? BINS - 1 : j;
        cnt[j]++;
    }
    for (int j = 0; j < BINS; j++) top = cnt[j] > top ? cnt[j] : top;
    double x0, xs, y0, ys;
    int nx = cli_nice_ticks(rlo, rhi, &x0, &xs), ny = cli_nice_ticks(0, (double)(top > 0 ? top : 1), &y0, &ys);
    double xa = x0, xb = x0 + xs * (nx - 1), yb = y0 + ys * (ny - 1);
    fprintf(f, "<div class=\"plot\"><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
            "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"11\">\n",
            L + W + 20, T + H + 46, L + W + 20, T + H + 46);
    axes(f, L, T, W, H, xa, xs, nx, y0, ys, ny, "residual: predicted - true (the targets' units)",
         "rows");
    for (int j = 0; j < BINS; j++) {
        double e0 = rlo + bw * j, e1 = e0 + bw;
        double px0 = L + (e0 - xa) / (xb - xa) * W, px1 = L + (e1 - xa) / (xb - xa) * W;
        double ph = (double)cnt[j] / (yb - y0) * H;
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#1f77b4\" "
                "stroke=\"#fff\" stroke-width=\"0.5\"><title>%lld</title></rect>\n", px0, T + H - ph,
                px1 - px0, ph, (long long)cnt[j]);
    }
    fputs("</svg></div>\n</div>\n</section>\n", f);
}

/* ---------------------------------------------------------------- 8. the graph */

/* 1 when an executable named name is on PATH */
static int on_path(const char *name)
{
    const char *p = getenv("PATH");
    if (!p) return 0;
    char buf[4096];
    while (*p) {
        const char *c = strchr(p, ':');
        size_t l = c ? (size_t)(c - p) : strlen(p);
        if (l > 0 && l + strlen(name) + 2 < sizeof buf) {
            memcpy(buf, p, l);
            buf[l] = '/';
            strcpy(buf + l + 1, name);
            struct stat st;
            if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0) return 1;
        }
        if (!c) break;
        p = c + 1;
    }
    return 0;
}

/* Graphviz's SVG of the DOT text, or NULL (no dot, it failed, or it ran past 30 s). */
static char *render_dot(const char *dot)
{
    if (!on_path("dot")) return NULL;
    char path[] = "/tmp/nabla-graph-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return NULL;
    size_t len = strlen(dot);
    int ok = write(fd, dot, len) == (ssize_t)len;
    close(fd);
    char *svg = NULL;
    size_t cap = 0, n = 0;
    if (ok) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "timeout 30 dot -Tsvg %s 2>/dev/null", path);
        FILE *p = popen(cmd, "r");
        if (p) {
            char chunk[65536];
            size_t got;
            while ((got = fread(chunk, 1, sizeof chunk, p)) > 0) {
                if (n + got + 1 > cap) {
                    size_t nc = (n + got + 1) * 2;
                    char *t = realloc(svg, nc);
                    if (!t) break;
                    svg = t;
                    cap = nc;
                }
                memcpy(svg + n, chunk, got);
                n += got;
            }
            int st = pclose(p);
            if (svg) svg[n] = '\0';
            if (!svg || st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                free(svg);
                svg = NULL;
            }
        }
    }
    unlink(path);
    return svg;
}

static void section_graph(FILE *f, const cli_report *r)
{
    open_section(f, "graph", "Computational graph");
    char *dot = NULL;
    nb_graph *g = nb_model_graph(r->model);
    if (!g || nb_graph_dot(g, 0, &dot)) {
        fprintf(f, "<p class=\"note\">The graph could not be written: ");
        cli_html_text(f, nb_errmsg());
        fputs("</p>\n</section>\n", f);
        return;
    }
    char *svg = render_dot(dot);
    const char *s = svg ? strstr(svg, "<svg") : NULL;
    if (s) {
        /* the XML prolog, DOCTYPE and comments before <svg> stay out; the xlink namespace
         * declaration is not needed inline (HTML knows it) */
        fputs("<div class=\"plot graph\">\n", f);
        const char *x = "xmlns:xlink=\"http://www.w3.org/1999/xlink\"";
        const char *hit = strstr(s, x);
        if (hit) {
            fwrite(s, 1, (size_t)(hit - s), f);
            fputs(hit + strlen(x), f);
        } else {
            fputs(s, f);
        }
        fputs("</div>\n<p class=\"note\">Rendered by Graphviz (dot -Tsvg).</p>\n", f);
    } else {
        fputs("<p class=\"note\">Graphviz was not found (or failed): the graph as DOT text; "
              "install graphviz to see it drawn.</p>\n<pre class=\"dot\">", f);
        cli_html_text(f, dot);
        fputs("</pre>\n", f);
    }
    free(svg);
    nb_free(dot);
    fputs("</section>\n", f);
}

/* ---------------------------------------------------------------- the page */

static const char style[] =
    "body{margin:0;background:#f3f4f6;color:#1f2933;font:15px/1.45 system-ui,-apple-system,"
    "'Segoe UI',Roboto,Helvetica,Arial,sans-serif}\n"
    "main{max-width:1100px;margin:0 auto;padding:24px 16px 48px}\n"
    "h1{font-size:26px;margin:8px 0 18px}h2{font-size:19px;margin:0 0 12px}"
    "h3{font-size:15px;margin:18px 0 8px}\n"
    "section{background:#fff;border:1px solid #e1e4e8;border-radius:8px;padding:18px 22px;"
    "margin:0 0 18px;box-shadow:0 1px 2px rgba(0,0,0,.05)}\n"
    "table{border-collapse:collapse;font-size:14px}th,td{padding:4px 10px;border-bottom:1px solid "
    "#eceef1;text-align:left;vertical-align:top}\n"
    "table.kv th{color:#52606d;font-weight:600;white-space:nowrap}"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
    "table.layers th{background:#f7f8fa}tr.total td{font-weight:600}\n"
    ".plot{overflow-x:auto;margin:8px 0}.plot svg{max-width:100%;height:auto}"
    ".small svg{max-width:50%}\n"
    ".row{display:flex;flex-wrap:wrap;gap:12px}.row .plot{flex:1 1 420px}\n"
    ".note{color:#52606d;font-size:13px}\n"
    "pre.dot{max-height:420px;overflow:auto;background:#f7f8fa;padding:10px;font-size:12px;"
    "white-space:pre-wrap}\n"
    "footer{color:#7b8794;font-size:12px;text-align:center}\n";

int cli_report_write(FILE *f, const cli_report *r)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>nabla "
          "report: ", f);
    cli_html_text(f, r->model_path);
    fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n<h1>Training report: ", style);
    cli_html_text(f, r->model_path);
    fputs("</h1>\n", f);
    section_run(f, r);
    int rc = section_curves(f, r);
    if (!rc) section_confusion(f, r);
    if (!rc) rc = cli_report_gallery(f, r);
    if (!rc) rc = cli_report_first_layer(f, r);
    if (!rc) rc = cli_report_regions(f, r);
    if (!rc) section_regression(f, r);
    if (!rc) section_graph(f, r);
    fprintf(f, "<footer>written by nabla %s</footer>\n</main>\n</body>\n</html>\n", nb_version());
    if (!rc && ferror(f)) rc = NB_ERR_IO;
    return rc;
}

/* ---------------------------------------------------------------- making one */

typedef struct page_job {
    const cli_report *r;
} page_job;

static int write_page(void *ud, FILE *f)
{
    return cli_report_write(f, ((const page_job *)ud)->r);
}

int cli_report_make(const char *out, const char *model_path, const char *data_name, nb_model *m,
                    const nb_preproc *pp, const nb_dataset *ds, const cli_history *hist,
                    FILE *msg)
{
    nb_metrics mt;
    memset(&mt, 0, sizeof mt);
    int rc = cli_evaluate(m, pp, ds, data_name, &mt);
    if (rc) return rc;
    int64_t n = nb_dataset_n_rows(ds), k = nb_dataset_n_targets(ds);
    int no = nb_model_n_outputs(m);
    float *pred = malloc((size_t)(n > 0 ? n : 1) * (size_t)(no > 0 ? no : 1) * sizeof *pred);
    float *y = malloc((size_t)(n > 0 ? n : 1) * (size_t)(k > 0 ? k : 1) * sizeof *y);
    if (!pred || !y) rc = cli_fail(NB_ERR_NOMEM, "report: out of memory for %lld predictions", (long long)n);
    if (!rc && n > 0 && (rc = nb_model_predict_data(m, ds, 0, n, pred))) rc = cli_lib_fail(rc, data_name);
    if (!rc) {
        const float *t = nb_dataset_targets(ds);
        if (t && k > 0) memcpy(y, t, (size_t)n * (size_t)k * sizeof *y);
        /* regression: both in the data's own units, as the report's axes say */
        if (pp && mt.task == NB_TASK_REGRESS && nb_preproc_target_scaling(pp) != NB_SCALE_NONE) {
            nb_preproc_unscale_targets(pp, pred, n);
            nb_preproc_unscale_targets(pp, y, n);
        }
        cli_report r = {model_path, data_name, m, pp, ds, hist, &mt, n, no, pred, y, k};
        page_job j = {&r};
        rc = cli_write_atomic(out, write_page, &j);
    }
    if (!rc && msg) {
        fprintf(msg, "report: %s\n", out);
        if (msg == stdout) rc = cli_flush_stdout();
    }
    free(pred);
    free(y);
    nb_metrics_free(&mt);
    return rc;
}

int cli_report_cmd(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, 2)) {
        fputs(cli_help_report, stdout);
        return cli_flush_stdout();
    }
    const char *model = NULL, *data = NULL, *history = NULL, *out = NULL, *header = NULL;
    const char *delim = NULL;
    const cli_opt opts[] = {
        {"--model", CLI_STR, &model, 0, 0, 0, NULL},
        {"--data", CLI_STR, &data, 0, 0, 0, NULL},
        {"--history", CLI_STR, &history, 0, 0, 0, NULL},
        {"--out", CLI_STR, &out, 0, 0, 0, NULL},
        {"--header", CLI_STR, &header, 0, 0, 0, NULL},
        {"--delimiter", CLI_STR, &delim, 0, 0, 0, NULL},
    };
    int rc = cli_parse("report", argc, argv, 2, opts, (int)(sizeof opts / sizeof opts[0]));
    if (rc) return rc;
    if (!model) return cli_fail(NB_ERR_ARG, "report: --model MODEL is required");
    if (!data) return cli_fail(NB_ERR_ARG, "report: --data DATA is required (labelled data to "
                               "score, usually the test set)");
    if (!out) return cli_fail(NB_ERR_ARG, "report: --out REPORT.html is required");
    if (strcmp(out, "-") != 0 && nb_check_output_path(out))
        return cli_fail(NB_ERR_IO, "--out: %s, or - for standard output", nb_errmsg());
    int hdr = -1;
    if (header && (rc = cli_header_mode(header, &hdr))) return rc;
    char dl = 0;
    if (delim && (rc = cli_delimiter(delim, &dl))) return rc;

    cli_history h = {0, 0, NULL};
    int have_hist = 0;
    char *sib = NULL;
    if (!history) { /* the file nabla train wrote beside the model, when there is one */
        sib = cli_model_sibling(model, ".history.csv");
        if (!sib) return cli_fail(NB_ERR_NOMEM, "report: out of memory");
        if (cli_is_file(sib)) history = sib;
    }
    if (history) {
        if ((rc = cli_history_read(history, &h))) {
            free(sib);
            cli_history_free(&h);
            return rc;
        }
        have_hist = 1;
    }
    nb_model *m;
    nb_preproc *pp;
    nb_dataset *ds;
    rc = cli_load_model_data(model, data, hdr, dl, 1, NB_MISSING_ERROR, &m, &pp, &ds);
    if (!rc) rc = cli_report_make(out, model, data, m, pp, ds, have_hist ? &h : NULL,
                                  strcmp(out, "-") == 0 ? stderr : stdout);
    nb_dataset_free(ds);
    nb_preproc_free(pp);
    nb_model_free(m);
    cli_history_free(&h);
    free(sib);
    return rc;
}
