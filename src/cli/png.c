/* SPDX-License-Identifier: MIT */
/*
 * png.c - what the HTML report (report_html.h) needs to show pictures without any file beside
 * it: PNG encoding (8-bit gray, RGB or RGBA, filter 0, one IDAT chunk) for data: URIs, base64,
 * the one HTML/SVG text escaper, and the colour map. The image data is compressed with zlib's
 * compress2 when nabla is built with zlib (NB_HAVE_ZLIB); without it, with stored (unc-
 * ompressed) deflate blocks, which every PNG reader accepts: the report stays correct, only
 * larger. The CRC-32 is computed here either way, so both builds share that code.
 */
#include "report_html.h"
#include "png.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef NB_HAVE_ZLIB
#include <zlib.h>
#endif

#define PNG_MAX_SIDE 16384

/* The CRC-32 of PNG (ISO 3309, polynomial 0xedb88320 reflected), table made on each call:
 * 256 entries cost less than one small image and keep the encoder free of shared state. */
static void crc_table(uint32_t t[256])
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        t[n] = c;
    }
}

static uint32_t crc32_of(const uint32_t t[256], const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) c = t[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

#ifndef NB_HAVE_ZLIB
/* Adler-32 of the uncompressed data, which ends a zlib stream (RFC 1950). */
static uint32_t adler32_of(const unsigned char *p, size_t n)
{
    uint32_t a = 1, b = 0;
    while (n > 0) {
        /* 5552 bytes is the most that cannot overflow b before the modulo (zlib's NMAX) */
        size_t k = n < 5552 ? n : 5552;
        n -= k;
        for (; k > 0; k--) {
            a += *p++;
            b += a;
        }
        a %= 65521u;
        b %= 65521u;
    }
    return b << 16 | a;
}
#endif

/* A zlib stream of raw (n bytes) into a new buffer *out, *len bytes. */
static int deflate_raw(const unsigned char *raw, size_t n, unsigned char **out, size_t *len)
{
#ifdef NB_HAVE_ZLIB
    uLongf cap = compressBound((uLong)n);
    unsigned char *z = malloc(cap);
    if (!z) return NB_ERR_NOMEM;
    /* level 6 (zlib's default): report images are small, the time goes to the page */
    if (compress2(z, &cap, raw, (uLong)n, 6) != Z_OK) {
        free(z);
        return NB_ERR_NOMEM; /* compress2 fails only for memory once the bound is given */
    }
    *out = z;
    *len = cap;
    return NB_OK;
#else
    size_t blocks = n / 65535 + 1, cap = 2 + n + 5 * blocks + 4;
    unsigned char *z = malloc(cap), *p = z;
    if (!z) return NB_ERR_NOMEM;
    *p++ = 0x78; /* deflate, 32 KiB window */
    *p++ = 0x01; /* no dictionary, fastest; 0x7801 is a multiple of 31 as RFC 1950 asks */
    size_t left = n;
    const unsigned char *q = raw;
    do {
        size_t k = left < 65535 ? left : 65535;
        left -= k;
        *p++ = left == 0; /* BFINAL on the last block, BTYPE 00 (stored) */
        p[0] = (unsigned char)k;
        p[1] = (unsigned char)(k >> 8);
        p[2] = (unsigned char)~k;
        p[3] = (unsigned char)(~k >> 8);
        p += 4;
        memcpy(p, q, k);
        p += k;
        q += k;
    } while (left > 0);
    put32(p, adler32_of(raw, n));
    p += 4;
    *out = z;
    *len = (size_t)(p - z);
    return NB_OK;
#endif
}

/* Append one chunk (length, type, data, CRC over type and data) at *p. */
static unsigned char *chunk(unsigned char *p, const uint32_t t[256], const char type[4],
                            const unsigned char *data, size_t n)
{
    put32(p, (uint32_t)n);
    memcpy(p + 4, type, 4);
    if (n) memcpy(p + 8, data, n);
    put32(p + 8 + n, crc32_of(t, p + 4, n + 4));
    return p + 12 + n;
}

int cli_png_encode(const unsigned char *pix, int w, int h, int channels, unsigned char **out,
                   size_t *len)
{
    if (out) *out = NULL;
    if (len) *len = 0;
    if (!pix || !out || !len || w < 1 || h < 1 || w > PNG_MAX_SIDE || h > PNG_MAX_SIDE ||
        (channels != 1 && channels != 3 && channels != 4))
        return NB_ERR_ARG;
    /* at most 16384 * (1 + 16384 * 4) bytes, about 1 GiB: fits a size_t and a uLong */
    size_t row = (size_t)w * (size_t)channels, n = (size_t)h * (row + 1);
    unsigned char *raw = malloc(n);
    if (!raw) return NB_ERR_NOMEM;
    for (size_t y = 0; y < (size_t)h; y++) {
        raw[y * (row + 1)] = 0; /* filter type None: the images are small, zlib does the rest */
        memcpy(raw + y * (row + 1) + 1, pix + y * row, row);
    }
    unsigned char *z = NULL;
    size_t zn = 0;
    int rc = deflate_raw(raw, n, &z, &zn);
    free(raw);
    if (rc) return rc;
    unsigned char *png = malloc(8 + 25 + 12 + zn + 12);
    if (!png) {
        free(z);
        return NB_ERR_NOMEM;
    }
    uint32_t t[256];
    crc_table(t);
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    static const unsigned char colour_type[5] = {0, 0, 0, 2, 6}; /* gray, -, -, RGB, RGBA */
    unsigned char ihdr[13];
    put32(ihdr, (uint32_t)w);
    put32(ihdr + 4, (uint32_t)h);
    ihdr[8] = 8; /* bits per sample */
    ihdr[9] = colour_type[channels];
    ihdr[10] = ihdr[11] = ihdr[12] = 0; /* deflate, filter method 0, no interlace */
    memcpy(png, sig, 8);
    unsigned char *p = chunk(png + 8, t, "IHDR", ihdr, 13);
    p = chunk(p, t, "IDAT", z, zn);
    p = chunk(p, t, "IEND", NULL, 0);
    free(z);
    *out = png;
    *len = (size_t)(p - png);
    return NB_OK;
}

void cli_base64(FILE *f, const unsigned char *p, size_t n)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char buf[4];
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        buf[0] = a[v >> 18], buf[1] = a[v >> 12 & 63], buf[2] = a[v >> 6 & 63], buf[3] = a[v & 63];
        fwrite(buf, 1, 4, f);
    }
    if (i < n) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
        buf[0] = a[v >> 18], buf[1] = a[v >> 12 & 63];
        buf[2] = i + 1 < n ? a[v >> 6 & 63] : '=';
        buf[3] = '=';
        fwrite(buf, 1, 4, f);
    }
}

int cli_html_png(FILE *f, const unsigned char *pix, int w, int h, int channels, int disp_w,
                 int disp_h, const char *alt)
{
    unsigned char *png = NULL;
    size_t n = 0;
    int rc = cli_png_encode(pix, w, h, channels, &png, &n);
    if (rc == NB_ERR_ARG)
        return cli_fail(rc, "report: cannot encode a %dx%d image with %d channels as PNG "
                        "(1..%d pixels a side, 1, 3 or 4 channels)", w, h, channels, PNG_MAX_SIDE);
    if (rc) return cli_fail(rc, "report: out of memory encoding a %dx%d image", w, h);
    fputs("<img src=\"data:image/png;base64,", f);
    cli_base64(f, png, n);
    free(png);
    fprintf(f, "\" width=\"%d\" height=\"%d\" style=\"image-rendering:pixelated\" alt=\"",
            disp_w > 0 ? disp_w : w, disp_h > 0 ? disp_h : h);
    cli_html_text(f, alt);
    fputs("\">", f);
    return NB_OK;
}

void cli_html_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default:
            /* XML 1.0 (SVG) forbids most control characters even when escaped, and HTML
             * reports them as parse errors; bytes >= 0x80 (UTF-8) pass as they are */
            fputc((unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s, f);
        }
    }
}

void cli_colormap(double t, unsigned char rgb[3])
{
    /* viridis sampled at 0, 1/8, ..., 1 (matplotlib's _viridis_data): dark blue through teal
     * and green to yellow, lightness rising steadily, readable in grey and by most colour-
     * blind readers; linear in between is within a few units of the full table */
    static const unsigned char v[9][3] = {
        {68, 1, 84},    {71, 44, 122},  {59, 81, 139},  {44, 113, 142}, {33, 144, 141},
        {39, 173, 129}, {92, 200, 99},  {170, 220, 50}, {253, 231, 37},
    };
    if (isnan(t)) {
        rgb[0] = rgb[1] = rgb[2] = 160;
        return;
    }
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double x = t * 8;
    int i = (int)x;
    if (i > 7) i = 7;
    double u = x - i;
    for (int c = 0; c < 3; c++)
        rgb[c] = (unsigned char)lround(v[i][c] + u * (v[i + 1][c] - v[i][c]));
}
