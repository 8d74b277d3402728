/* SPDX-License-Identifier: MIT */
/*
 * error.c - status names and the per-thread error message (SQLite's errmsg, made
 * thread-local so threads reporting errors do not overwrite each other's messages).
 */
#include "internal.h"

#include <stdio.h>
#include <string.h>

static _Thread_local char g_msg[1024];

const char *nb_version(void) { return NB_VERSION_STRING; }

const char *nb_status_name(int status)
{
    switch (status) {
    case NB_OK: return "NB_OK";
    case NB_ERR_NOMEM: return "NB_ERR_NOMEM";
    case NB_ERR_ARG: return "NB_ERR_ARG";
    case NB_ERR_SHAPE: return "NB_ERR_SHAPE";
    case NB_ERR_IO: return "NB_ERR_IO";
    case NB_ERR_FORMAT: return "NB_ERR_FORMAT";
    case NB_ERR_NUMERIC: return "NB_ERR_NUMERIC";
    case NB_ERR_STATE: return "NB_ERR_STATE";
    case NB_ERR_INTERRUPTED: return "NB_ERR_INTERRUPTED";
    case NB_ERR_DIST: return "NB_ERR_DIST";
    default: return "NB_ERR_UNKNOWN";
    }
}

const char *nb_errmsg(void) { return g_msg; }

void nb_error_clear(void) { g_msg[0] = '\0'; }

int nb__vfail(int status, const char *fmt, va_list ap)
{
    nb__vsnprintf(g_msg, sizeof g_msg, fmt, ap);
    return status;
}

int nb__fail(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    nb__vfail(status, fmt, ap);
    va_end(ap);
    return status;
}

int nb__fail_prefix(int status, const char *fmt, ...)
{
    char prefix[256], old[sizeof g_msg];
    va_list ap;
    va_start(ap, fmt);
    nb__vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, g_msg, sizeof old);
    nb__snprintf(g_msg, sizeof g_msg, "%.255s: %.700s", prefix, old);
    return status;
}

const char *nb__shape_str(int rank, const int64_t *shape, char *buf, size_t cap)
{
    size_t len = 0;
    len += (size_t)snprintf(buf, cap, "(");
    for (int i = 0; i < rank && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, i ? ", %lld" : "%lld", (long long)shape[i]);
    if (len < cap) snprintf(buf + len, cap - len, rank == 1 ? ",)" : ")");
    return buf;
}
