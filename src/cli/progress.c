/* SPDX-License-Identifier: MIT */
/*
 * progress.c - training progress on stderr and the SIGINT/SIGTERM flag.
 * On a terminal one line per epoch is redrawn in place with '\r' (at most ~10 times a second)
 * and replaced by the epoch's summary when it ends; elsewhere (logs, pipes) only the summary
 * line of each finished epoch is written. The signal handler only sets a flag; the training
 * loop sees it through the callback's return value and stops after the current step.
 */
#include "cli.h"

#include <math.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t g_signal = 0;

static void on_signal(int sig)
{
    g_signal = sig;
}

void cli_signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND; /* a second Ctrl-C kills at once */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int cli_stderr_is_tty(void)
{
    return isatty(STDERR_FILENO);
}

int cli_interrupted(void)
{
    return g_signal != 0;
}

/* "12 s", "3 min 05 s", "2 h 07 min" */
static void fmt_duration(double s, char *buf, size_t cap)
{
    if (!(s >= 0) || s > 1e7) snprintf(buf, cap, "?");
    else if (s < 60) snprintf(buf, cap, "%.0f s", s);
    else if (s < 3600) snprintf(buf, cap, "%d min %02d s", (int)(s / 60), (int)fmod(s, 60));
    else snprintf(buf, cap, "%d h %02d min", (int)(s / 3600), (int)fmod(s / 60, 60));
}

void cli_epoch_line(const nb_epoch_stats *s, int epochs, char *buf, size_t cap)
{
    size_t len = 0;
#define PUT(...) \
    do { \
        if (len < cap) { \
            int w_ = snprintf(buf + len, cap - len, __VA_ARGS__); \
            if (w_ > 0) len += (size_t)w_; \
        } \
    } while (0)
    PUT("epoch %d/%d  train loss %.4f", s->epoch, epochs, s->train_loss);
    if (isfinite(s->train_acc)) PUT(" acc %.2f%%", 100.0 * s->train_acc);
    if (isfinite(s->val_loss)) PUT("  val loss %.4f", s->val_loss);
    if (isfinite(s->val_acc)) PUT(" acc %.2f%%", 100.0 * s->val_acc);
    PUT("  lr %.4g  %.1f s  %.0f samples/s", s->lr, s->seconds, s->samples_per_s);
#undef PUT
}

int cli_progress_cb(void *ud, const nb_progress *p)
{
    cli_progress *pr = ud;
    if (p->stats) {
        if (cli_history_push(pr->hist, p->stats) != NB_OK) pr->push_failed = 1;
        if (!pr->quiet) {
            char line[256];
            cli_epoch_line(p->stats, p->epochs, line, sizeof line);
            fprintf(stderr, "%s%s\n", pr->drawn ? "\r\033[K" : "", line);
            pr->drawn = 0;
        }
        pr->last_draw = -1;
    } else if (!pr->quiet && pr->tty && (p->seconds - pr->last_draw >= 0.1 || pr->last_draw < 0)) {
        pr->last_draw = p->seconds;
        double frac = p->total > 0 ? (double)p->done / (double)p->total : 0.0;
        double rate = p->seconds > 0 ? (double)p->done / p->seconds : 0.0;
        double left = rate > 0 ? ((double)(p->total - p->done) +
                                  (double)(p->epochs - p->epoch) * (double)p->total) / rate
                               : (double)NAN;
        char bar[21], eta[32];
        int fill = (int)(frac * 20.0);
        for (int i = 0; i < 20; i++) bar[i] = i < fill ? '#' : '.';
        bar[20] = '\0';
        fmt_duration(left, eta, sizeof eta);
        fprintf(stderr, "\r\033[Kepoch %d/%d [%s] %3.0f%%  %.0f samples/s  loss %.4f  ETA %s",
                p->epoch, p->epochs, bar, 100.0 * frac, rate, p->running_loss, eta);
        fflush(stderr);
        pr->drawn = 1;
    }
    return cli_interrupted();
}

void cli_progress_end(cli_progress *pr)
{
    if (pr->drawn) fputs("\n", stderr);
    pr->drawn = 0;
}
