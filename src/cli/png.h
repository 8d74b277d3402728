/* SPDX-License-Identifier: MIT */
/*
 * png.h - png.c's base64 writer, for the pictures that are not an <img> (an SVG <image> in
 * report_img.c); report_html.h declares the rest of png.c.
 */
#ifndef NB_CLI_PNG_H
#define NB_CLI_PNG_H

#include <stddef.h>
#include <stdio.h>

/* cli_base64: p[0..n) as base64 (RFC 4648, padded) to f. */
void cli_base64(FILE *f, const unsigned char *p, size_t n);

#endif
