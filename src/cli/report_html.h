/* SPDX-License-Identifier: MIT */
/*
 * report_html.h - the self-contained HTML training report (`nabla report`, `nabla train
 * --report`; issue 17): what its parts share. report_html.c writes the page (the run, the
 * curves, the confusion matrix, per-class bars, regression plots, the graph) and calls the
 * picture sections of report_img.c; png.c encodes images as PNG for data: URIs. Everything
 * user-supplied (class names, CSV headers, paths, the spec) goes through cli_html_text.
 */
#ifndef NB_CLI_REPORT_HTML_H
#define NB_CLI_REPORT_HTML_H

#include "cli.h"

/* What a report is made of: a trained model, the labelled data it is scored on (features
 * scaled as the model's preprocessing says), the predictions made once, and the history. */
typedef struct cli_report {
    const char *model_path;     /* as given; shown escaped */
    const char *data_name;      /* the data's path as given */
    nb_model *model;
    const nb_preproc *pp;       /* the model file's preprocessing (class names, schema), or NULL */
    const nb_dataset *data;     /* the labelled data scored */
    const cli_history *hist;    /* the training history (NULL: none) */
    const nb_metrics *metrics;  /* nb_model_evaluate on data */
    int64_t n;                  /* rows of data */
    int n_out;                  /* the model's outputs (classes for classify) */
    const float *pred;          /* n x n_out: probabilities (classify: softmax; binary and
                                   multilabel: sigmoid) or predictions (regress, the targets'
                                   original units) */
    const float *target;        /* n x n_targets: the class index (classify) or the targets
                                   (original units) */
    int64_t n_targets;
} cli_report;

/* report_html.c: the page and its commands */
/* cli_report_write: the whole self-contained HTML page of r to f. Returns 0 or a status it
 * has printed (NB_ERR_IO on a write error). */
int cli_report_write(FILE *f, const cli_report *r);

/* cli_report_make: score m on ds (loaded through pp as eval does: features scaled, targets as
 * the model learned them), predict every row, and write the report to out atomically; prints
 * "report: OUT" on msg (NULL: nothing). hist may be NULL. Prints errors. */
int cli_report_make(const char *out, const char *model_path, const char *data_name, nb_model *m,
                    const nb_preproc *pp, const nb_dataset *ds, const cli_history *hist,
                    FILE *msg);

/* png.c: pix is h rows of w pixels of channels bytes (1 gray, 3 RGB, 4 RGBA). cli_png_encode
 * gives the PNG file's bytes in *out (free() it) and its length; NB_ERR_ARG for a bad size,
 * NB_ERR_NOMEM. cli_html_png writes <img src="data:image/png;base64,..."> shown at
 * disp_w x disp_h CSS pixels (pixelated when enlarged) with alt text (escaped). */
int cli_png_encode(const unsigned char *pix, int w, int h, int channels, unsigned char **out, size_t *len);
int cli_html_png(FILE *f, const unsigned char *pix, int w, int h, int channels, int disp_w, int disp_h, const char *alt);
/* cli_html_text: s with & < > " ' escaped for HTML text and attribute values (and SVG). */
void cli_html_text(FILE *f, const char *s);
/* cli_colormap: t in [0, 1] (clamped; NaN: grey) to a perceptually ordered colour. */
void cli_colormap(double t, unsigned char rgb[3]);

/* report_img.c: each writes one <section class="..."> or nothing when it does not apply;
 * returns 0 or a status it has printed (cli_fail). */
int cli_report_gallery(FILE *f, const cli_report *r);     /* the most confused pairs with examples
                                                             and the misclassified rows: images, or
                                                             CSV rows as a table */
int cli_report_first_layer(FILE *f, const cli_report *r); /* dense weights on images as images,
                                                             conv filters as tiles */
int cli_report_regions(FILE *f, const cli_report *r);     /* 2-D inputs: decision regions and the
                                                             points */

#endif
