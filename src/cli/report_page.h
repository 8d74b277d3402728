/* SPDX-License-Identifier: MIT */
/*
 * report_page.h - the HTML report's page and its commands (report_html.c): kept apart from
 * report_html.h, which the picture sections share, so the two halves of issue 17 meet only in
 * that fixed interface.
 */
#ifndef NB_CLI_REPORT_PAGE_H
#define NB_CLI_REPORT_PAGE_H

#include "report_html.h"

/* cli_report_write: the whole self-contained HTML page of r to f. Returns 0 or a status it
 * has printed (NB_ERR_IO on a write error). */
int cli_report_write(FILE *f, const cli_report *r);

/* cli_report_make: score m on ds (loaded through pp as eval does: features scaled, targets as
 * the model learned them), predict every row, and write the report to out atomically; prints
 * "report: OUT" on msg (NULL: nothing). hist may be NULL. Prints errors. */
int cli_report_make(const char *out, const char *model_path, const char *data_name, nb_model *m,
                    const nb_preproc *pp, const nb_dataset *ds, const cli_history *hist,
                    FILE *msg);

#endif
