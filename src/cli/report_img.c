/* SPDX-License-Identifier: MIT */
/*
 * report_img.c - the picture sections of the HTML report (report_html.h): to be written
 * (issue 17); until then each writes nothing.
 */
#include "report_html.h"

int cli_report_gallery(FILE *f, const cli_report *r)
{
    (void)f, (void)r;
    return NB_OK;
}

int cli_report_first_layer(FILE *f, const cli_report *r)
{
    (void)f, (void)r;
    return NB_OK;
}

int cli_report_regions(FILE *f, const cli_report *r)
{
    (void)f, (void)r;
    return NB_OK;
}
