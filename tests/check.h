/* SPDX-License-Identifier: MIT */
/*
 * check.h - the tiny test harness: CHECK* macros record failures with file, line and the
 * values involved; a test's main returns check_exit(), so its exit code is its verdict.
 * Tolerances: |a - b| <= atol + rtol * |b|, each use with a written reason.
 */
#ifndef NB_CHECK_H
#define NB_CHECK_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int check_failures_ = 0;
static int check_count_ = 0;

#define CHECK(cond)                                                                         \
    do {                                                                                    \
        check_count_++;                                                                     \
        if (!(cond)) {                                                                      \
            check_failures_++;                                                              \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);        \
        }                                                                                   \
    } while (0)

#define CHECK_OK(expr)                                                                      \
    do {                                                                                    \
        check_count_++;                                                                     \
        int rc_ = (expr);                                                                   \
        if (rc_ != 0) {                                                                     \
            check_failures_++;                                                              \
            fprintf(stderr, "%s:%d: %s returned %d: %s\n", __FILE__, __LINE__, #expr, rc_,  \
                    nb_errmsg());                                                           \
        }                                                                                   \
    } while (0)

/* Expect status st and a message containing substring sub (NULL: any message). */
#define CHECK_ERR(expr, st, sub)                                                            \
    do {                                                                                    \
        check_count_++;                                                                     \
        int rc_ = (expr);                                                                   \
        const char *m_ = nb_errmsg(), *s_ = (sub);                                          \
        if (rc_ != (st) || (s_ && !strstr(m_, s_))) {                                       \
            check_failures_++;                                                              \
            fprintf(stderr, "%s:%d: %s: expected status %d with \"%s\", got %d \"%s\"\n",   \
                    __FILE__, __LINE__, #expr, (int)(st), s_ ? s_ : "", rc_, m_);             \
        }                                                                                   \
    } while (0)

#define CHECK_NEAR(a, b, atol, rtol)                                                        \
    do {                                                                                    \
        check_count_++;                                                                     \
        double a_ = (double)(a), b_ = (double)(b);                                          \
        if (!(fabs(a_ - b_) <= (atol) + (rtol) * fabs(b_))) {                               \
            check_failures_++;                                                              \
            fprintf(stderr, "%s:%d: %s = %.9g, expected %s = %.9g\n", __FILE__, __LINE__,   \
                    #a, a_, #b, b_);                                                        \
        }                                                                                   \
    } while (0)

static inline int check_exit(const char *name)
{
    if (check_failures_) {
        fprintf(stderr, "%s: %d of %d checks FAILED\n", name, check_failures_, check_count_);
        return 1;
    }
    printf("%s: %d checks passed\n", name, check_count_);
    return 0;
}

#endif
