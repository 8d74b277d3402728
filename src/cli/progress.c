/* SPDX-License-Identifier: MIT */
/*
 * progress.c - training progress on stderr and the SIGINT/SIGTERM flag.
 * On a terminal one line per epoch is redrawn in place with '\r' (at most ~10 times a second),
 * fitted to the terminal's width so it never wraps (a wrapped line cannot be redrawn), and
 * replaced by the epoch's summary when it ends; elsewhere (logs, pipes) only the summary
 * line of each finished epoch is written. The signal handler only sets a flag; the training
 * loop sees it through the callback's return value and stops after the current step.
 */
#include "cli.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
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

/* Before training starts (loading data, building the model) nothing has been written and there
 * is nothing to save, and the loaders have no place to look at a flag: the signal ends the
 * process at once, with the documented exit code 8 and its one line (write and _exit are
 * async-signal-safe). Before, the default action killed it without either. */
static void on_signal_loading(int sig)
{
    static const char msg[] = "nabla: interrupted before training started; nothing was trained or saved\n";
    (void)sig;
    ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)w;
    _exit(8); /* NB_ERR_INTERRUPTED */
}

void cli_signals_install_loading(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal_loading;
    sigemptyset(&sa.sa_mask);
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

int cli_term_width(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    const char *c = getenv("COLUMNS");
    long v = c ? strtol(c, NULL, 10) : 0;
    return v > 0 && v < 10000 ? (int)v : 80;
}

void cli_eta_update(cli_eta *e, double now, double samples)
{
    e->now_s = samples;
    if (e->n == 0) {
        e->t0 = now;
    } else {
        e->steps++;
        int last = (e->head + e->n - 1) % CLI_ETA_N;
        if (now - e->t[last] < CLI_ETA_GAP) return;
    }
    if (e->n < CLI_ETA_N) {
        int i = (e->head + e->n) % CLI_ETA_N;
        e->t[i] = now, e->s[i] = samples;
        e->n++;
    } else { /* full: the oldest point makes room */
        e->t[e->head] = now, e->s[e->head] = samples;
        e->head = (e->head + 1) % CLI_ETA_N;
    }
}

double cli_eta_seconds(const cli_eta *e, double now, double remaining)
{
    if (e->n == 0 || e->steps < 1 || (now - e->t0 < 1.0 && e->steps < 10)) return (double)NAN;
    double dt = now - e->t[e->head], ds = e->now_s - e->s[e->head];
    if (!(dt > 0) || !(ds > 0)) return (double)NAN;
    return remaining > 0 ? remaining * dt / ds : 0.0;
}

void cli_progress_line(const nb_progress *p, const cli_eta *e, double now, int width, char *buf,
                       size_t cap)
{
    if (cap == 0) return;
    buf[0] = '\0';
    size_t max = width > 1 ? (size_t)width - 1 : 0;
    if (max >= cap) max = cap - 1;
    double frac = p->total > 0 ? (double)p->done / (double)p->total : 0.0;
    double total = (double)p->total;
    double left = (total - (double)p->done) + (double)(p->epochs - p->epoch) * total;
    double eta_s = e ? cli_eta_seconds(e, now, left) : (double)NAN;
    double rate = e && e->n > 0 && now > e->t[e->head] && e->steps > 0
                      ? (e->now_s - e->s[e->head]) / (now - e->t[e->head])
                      : (double)NAN;
    char eta[32], bar[24];
    fmt_duration(eta_s, eta, sizeof eta);
    /* from everything down to "epoch E/N": the first that fits wins */
    for (int level = 0; level < 7; level++) {
        int bar_w = level == 0 || level == 1 ? 20 : level == 2 ? 10 : 0;
        int show_rate = level == 0 && isfinite(rate);
        int show_loss = level <= 3, show_eta = level <= 4 && isfinite(eta_s), show_pct = level <= 5;
        int fill = (int)(frac * bar_w);
        for (int i = 0; i < bar_w; i++) bar[i] = i < fill ? '#' : '.';
        bar[bar_w] = '\0';
        char line[256];
        size_t len = 0;
#define PUT(...) \
    do { \
        if (len < sizeof line) { \
            int w_ = snprintf(line + len, sizeof line - len, __VA_ARGS__); \
            if (w_ > 0) len += (size_t)w_; \
        } \
    } while (0)
        PUT("epoch %d/%d", p->epoch, p->epochs);
        if (bar_w) PUT(" [%s]", bar);
        if (show_pct) PUT(" %3.0f%%", 100.0 * frac);
        if (show_rate) PUT("  %.0f samples/s", rate);
        if (show_loss) PUT("  loss %.4f", p->running_loss);
        if (show_eta) PUT("  ETA %s", eta);
#undef PUT
        if (len >= sizeof line) len = sizeof line - 1;
        if (len <= max || level == 6) {
            if (len > max) len = max; /* a very narrow terminal: cut, never wrap */
            memcpy(buf, line, len);
            buf[len] = '\0';
            return;
        }
    }
}

int cli_epoch_shown(int epoch, int epochs)
{
    int every = epochs > 50 ? (epochs + 49) / 50 : 1;
    return epoch == 1 || epoch >= epochs || epoch % every == 0;
}

int cli_progress_cb(void *ud, const nb_progress *p)
{
    cli_progress *pr = ud;
    double now = cli_now();
    if (!p->stats) /* samples trained in the run so far */
        cli_eta_update(&pr->eta, now, (double)(p->epoch - 1) * (double)p->total + (double)p->done);
    if (p->stats) {
        if (cli_history_push(pr->hist, p->stats) != NB_OK) pr->push_failed = 1;
        if (!pr->quiet && cli_epoch_shown(p->stats->epoch, p->epochs)) {
            char line[256];
            cli_epoch_line(p->stats, p->epochs, line, sizeof line);
            fprintf(stderr, "%s%s\n", pr->drawn ? "\r\033[K" : "", line);
            pr->drawn = 0;
        }
        pr->last_draw = -1;
    } else if (!pr->quiet && pr->tty && (p->seconds - pr->last_draw >= 0.1 || pr->last_draw < 0)) {
        pr->last_draw = p->seconds;
        char line[256];
        cli_progress_line(p, &pr->eta, now, cli_term_width(), line, sizeof line);
        fprintf(stderr, "\r\033[K%s", line);
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
