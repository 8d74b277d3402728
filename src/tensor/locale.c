/* SPDX-License-Identifier: MIT */
/* Number text independent of the host program's locale.
 *
 * printf's %g/%f/%a and strtod follow LC_NUMERIC, and a host program (a GUI, typically) may call
 * setlocale(LC_ALL, "de_DE.UTF-8"): then "%g" writes "0,5" and strtod stops at the '.' of "0.5",
 * so model files, JSON and CSV would be written and read differently than under "C". Every number
 * that nabla writes or parses goes through these wrappers, which always use the "C" locale. They
 * use the POSIX 2008 per-thread locale calls, so the host's global locale is never touched and
 * other threads are not disturbed. */
#include "internal.h"

#include <locale.h>
#include <pthread.h>
#include <stdlib.h>

static locale_t g_c_locale;
static pthread_once_t g_c_once = PTHREAD_ONCE_INIT;

static void make_c_locale(void) { g_c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0); }

/* The "C" locale object, created once (thread-safe) and kept for the life of the process. NULL
 * only if newlocale fails, which glibc never does for "C" (it returns a static object). */
static locale_t c_locale(void)
{
    pthread_once(&g_c_once, make_c_locale);
    return g_c_locale;
}

double nb__strtod(const char *s, char **end)
{
    locale_t c = c_locale();
    return c ? strtod_l(s, end, c) : strtod(s, end);
}

float nb__strtof(const char *s, char **end)
{
    locale_t c = c_locale();
    return c ? strtof_l(s, end, c) : strtof(s, end);
}

int nb__vsnprintf(char *buf, size_t cap, const char *fmt, va_list ap)
{
    /* there is no vsnprintf_l in glibc: switch this thread's locale around the call */
    locale_t c = c_locale();
    locale_t old = c ? uselocale(c) : (locale_t)0;
    int n = vsnprintf(buf, cap, fmt, ap);
    if (old) uselocale(old);
    return n;
}

int nb__snprintf(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = nb__vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}
