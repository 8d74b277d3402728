/* SPDX-License-Identifier: MIT */
/*
 * source.c - reads a data file whole: plain files directly, ".gz" files by inflating them
 * with zlib (when built with NB_HAVE_ZLIB), zlib's own memory routed through nabla's
 * allocator so fault injection covers it. Invariants: the result never exceeds max_bytes,
 * the output buffer grows by doubling (so it is at most twice the data), and truncated or
 * corrupt gzip streams are errors, never silently short data.
 */
#include "data_internal.h"

#include <string.h>
#ifdef NB_HAVE_ZLIB
#include <zlib.h>
#endif

bool nb__has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

#ifdef NB_HAVE_ZLIB
static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    (void)opaque;
    return nb__alloc_array(items, size);
}

static void z_free(voidpf opaque, voidpf p)
{
    (void)opaque;
    nb_free(p);
}

/* Inflate src[0..n) (one or more concatenated gzip members) into *data. */
static int gunzip(const char *path, const unsigned char *src, size_t n, size_t max_bytes,
                  char **data, size_t *out_n)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    zs.zalloc = z_alloc;
    zs.zfree = z_free;
    /* 15 + 16: a gzip wrapper is required (windowBits 15, the largest) */
    if (inflateInit2(&zs, 15 + 16) != Z_OK)
        return nb__fail(NB_ERR_NOMEM, "%s: cannot start gzip decompression", path);
    size_t cap = n < max_bytes / 4 ? n * 4 : max_bytes;
    if (cap < 4096) cap = 4096;
    if (cap - 1 > max_bytes) cap = max_bytes + 1;
    char *buf = nb__alloc(cap + 1);
    size_t len = 0, in_pos = 0;
    int rc = buf ? NB_OK : NB_ERR_NOMEM;
    bool ended = false;
    while (rc == NB_OK) {
        if (len == cap) {
            if (cap > max_bytes) {
                rc = nb__fail(NB_ERR_FORMAT, "%s: more than %zu bytes when decompressed", path,
                              max_bytes);
                break;
            }
            size_t ncap = cap <= max_bytes / 2 ? cap * 2 : max_bytes + 1;
            char *nb = nb__realloc(buf, ncap + 1);
            if (!nb) {
                rc = NB_ERR_NOMEM;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        size_t in_left = n - in_pos, out_left = cap - len;
        zs.next_in = (Bytef *)(uintptr_t)(src + in_pos);
        zs.avail_in = in_left > UINT32_MAX ? UINT32_MAX : (uInt)in_left;
        zs.next_out = (Bytef *)(buf + len);
        zs.avail_out = out_left > UINT32_MAX ? UINT32_MAX : (uInt)out_left;
        uInt given_in = zs.avail_in, given_out = zs.avail_out;
        int z = inflate(&zs, Z_NO_FLUSH);
        in_pos += given_in - zs.avail_in;
        len += given_out - zs.avail_out;
        if (z == Z_STREAM_END) {
            ended = true;
            if (in_pos == n) break;
            /* another gzip member follows (as `cat a.gz b.gz` makes) */
            if (inflateReset(&zs) != Z_OK)
                rc = nb__fail(NB_ERR_FORMAT, "%s: corrupt gzip data", path);
            ended = false;
        } else if (z == Z_MEM_ERROR) {
            rc = nb__fail(NB_ERR_NOMEM, "%s: out of memory decompressing", path);
        } else if (z == Z_BUF_ERROR && len < cap) {
            break; /* no progress with room to write: the input ended mid-stream */
        } else if (z != Z_OK && z != Z_BUF_ERROR) {
            rc = nb__fail(NB_ERR_FORMAT, "%s: corrupt gzip data (%s)", path,
                          zs.msg ? zs.msg : "inflate failed");
        }
    }
    inflateEnd(&zs);
    if (rc == NB_OK && !ended)
        rc = nb__fail(NB_ERR_FORMAT, "%s: truncated gzip data (the stream ends after %zu of "
                      "its bytes)", path, n);
    if (rc) {
        nb_free(buf);
        return rc;
    }
    buf[len] = '\0';
    *data = buf;
    *out_n = len;
    return NB_OK;
}
#endif

int nb__data_read(const char *path, size_t max_bytes, char **data, size_t *n)
{
    *data = NULL;
    *n = 0;
    if (max_bytes > SIZE_MAX / 4) max_bytes = SIZE_MAX / 4; /* room for the growth arithmetic */
    if (!nb__has_suffix(path, ".gz")) return nb__read_file(path, max_bytes, data, n);
#ifdef NB_HAVE_ZLIB
    char *raw;
    size_t raw_n;
    int rc = nb__read_file(path, max_bytes, &raw, &raw_n);
    if (rc) return rc;
    rc = gunzip(path, (const unsigned char *)raw, raw_n, max_bytes, data, n);
    nb_free(raw);
    return rc;
#else
    (void)max_bytes;
    return nb__fail(NB_ERR_FORMAT, "%s: cannot read a .gz file: nabla was built without zlib "
                    "(install zlib1g-dev and rebuild, or gunzip the file)", path);
#endif
}
