/*
 * util.c - the CLI's error reporting and small file helpers.
 * Invariants: every error is printed as exactly one line "nabla: <message>" on stderr, and
 * files the CLI writes (history, metrics) appear atomically: a temporary file in the same
 * directory is written, flushed, fsynced and renamed over the target.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int cli_fail(int status, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* one line, whatever the message holds */
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    fflush(stdout);
    fprintf(stderr, "nabla: %s\n", msg);
    return status;
}

int cli_lib_fail(int status, const char *what)
{
    const char *m = nb_errmsg();
    if (m && *m) return cli_fail(status, "%s", m);
    return cli_fail(status, "%s: %s", what, nb_status_name(status));
}

int cli_is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int cli_read_text(const char *path, size_t max_bytes, char **out)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return cli_fail(NB_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return cli_fail(NB_ERR_NOMEM, "%s: out of memory", path);
    }
    for (;;) {
        if (len + 1 >= cap) {
            if (cap > max_bytes) {
                free(buf);
                fclose(f);
                return cli_fail(NB_ERR_FORMAT, "%s: larger than %zu bytes", path, max_bytes);
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                fclose(f);
                return cli_fail(NB_ERR_NOMEM, "%s: out of memory", path);
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - 1 - len, f);
        len += got;
        if (got == 0) break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        return cli_fail(NB_ERR_IO, "%s: read error", path);
    }
    if (len > max_bytes) {
        free(buf);
        return cli_fail(NB_ERR_FORMAT, "%s: larger than %zu bytes", path, max_bytes);
    }
    buf[len] = '\0';
    if (strlen(buf) != len) {
        free(buf);
        return cli_fail(NB_ERR_FORMAT, "%s: not a text file (it holds a NUL byte)", path);
    }
    *out = buf;
    return NB_OK;
}

char *cli_sibling(const char *path, const char *name)
{
    const char *slash = strrchr(path, '/');
    size_t dir = slash ? (size_t)(slash - path) + 1 : 0; /* keeps the '/' */
    size_t n = strlen(name);
    char *s = malloc(dir + n + 1);
    if (!s) return NULL;
    memcpy(s, path, dir);
    memcpy(s + dir, name, n + 1);
    return s;
}

int cli_write_atomic(const char *path, int (*write)(void *ud, FILE *f), void *ud)
{
    size_t n = strlen(path);
    char *tmp = malloc(n + 16);
    if (!tmp) return cli_fail(NB_ERR_NOMEM, "%s: out of memory", path);
    memcpy(tmp, path, n);
    memcpy(tmp + n, ".tmp.XXXXXX", 12);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return cli_fail(NB_ERR_IO, "%s: cannot create: %s", path, strerror(e));
    }
    /* mkstemp makes the file 0600; give it the usual permissions of a new file */
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        unlink(tmp);
        free(tmp);
        return cli_fail(NB_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    }
    int rc = write(ud, f);
    if (rc == NB_OK && (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0))
        rc = cli_fail(NB_ERR_IO, "%s: write error: %s", path, strerror(errno));
    if (fclose(f) != 0 && rc == NB_OK)
        rc = cli_fail(NB_ERR_IO, "%s: write error: %s", path, strerror(errno));
    if (rc == NB_OK && rename(tmp, path) != 0)
        rc = cli_fail(NB_ERR_IO, "%s: cannot rename into place: %s", path, strerror(errno));
    if (rc != NB_OK) unlink(tmp);
    free(tmp);
    return rc;
}

int cli_make_parent(const char *path)
{
    char *dir = cli_sibling(path, "");
    if (!dir) return cli_fail(NB_ERR_NOMEM, "%s: out of memory", path);
    /* create each missing component of "a/b/c/", left to right */
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
            int e = errno;
            int rc = cli_fail(NB_ERR_IO, "%s: cannot create directory: %s", dir, strerror(e));
            free(dir);
            return rc;
        }
        *p = '/';
    }
    free(dir);
    return NB_OK;
}

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int cli_flush_stdout(void)
{
    if (fflush(stdout) != 0 || ferror(stdout))
        return cli_fail(NB_ERR_IO, "stdout: write error: %s", strerror(errno));
    return NB_OK;
}
