/* SPDX-License-Identifier: MIT */
/*
 * util.c - the CLI's error reporting and small file helpers.
 * Invariants: every error is printed as exactly one line "nabla: <message>" on stderr, in
 * the CLI's words (the library's API names are rewritten to the options that set them), and
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

/* The one table from the library's names for what an option sets (library messages name the
 * API field, e.g. nb_optim_config.lr, since a C caller has no options) to the option of
 * `nabla train` that sets it. A name absent here is printed as the library wrote it. */
static const struct {
    const char *api, *option;
} api_options[] = {
    {"nb_optim_config.lr", "--lr"},
    {"nb_optim_config.momentum", "--momentum"},
    {"nb_optim_config.l2", "--l2"},
    {"nb_optim_config.weight_decay", "--weight-decay"},
    {"nb_optim_config.beta1", "--beta1"},
    {"nb_optim_config.beta2", "--beta2"},
    {"nb_optim_config.eps", "--eps"},
    {"nb_optim_config.rms_alpha", "--rms-alpha"},
    {"nb_optim_config.clip_norm", "--clip-grad-norm"},
    {"nb_optim_config.schedule", "--schedule"},
    {"nb_optim_config.step_epochs", "--step-epochs"},
    {"nb_optim_config.gamma", "--gamma"},
    {"nb_optim_config.total_epochs", "--epochs"}, /* the cosine schedule spans the run */
    {"nb_optim_config.min_lr", "--min-lr"},
    {"nb_train_config.epochs", "--epochs"},
    {"nb_train_config.batch_size", "--batch-size"},
    {"nb_train_config.early_stop", "--early-stop"},
    {"nb_train_config.comm_bucket_bytes", "--bucket-kb"},
    {"nb_train_config.comm_check_every", "--check-every"},
    {"nb_dataset_set_sample_shape", "--input-shape"},
    {"nb_data_opts.task", "--task"},
    {"nb_data_opts.label", "--label"},
    {"nb_data_opts.delimiter", "--delimiter"},
    {"nb_data_opts.missing", "--missing"},
    {"nb_model_load_weights", "nabla train --init"},
};

static int ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

void cli_api_to_options(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    if (cap == 0) return;
    for (const char *p = in; *p && o + 1 < cap;) {
        const char *repl = NULL;
        size_t len = 0;
        /* a whole name only: nb_optim_config.lr is not the start of nb_optim_config.lr_x */
        if (p == in || !ident_char(p[-1]))
            for (size_t k = 0; k < sizeof api_options / sizeof api_options[0]; k++) {
                size_t l = strlen(api_options[k].api);
                if (strncmp(p, api_options[k].api, l) == 0 && !ident_char(p[l])) {
                    repl = api_options[k].option, len = l;
                    break;
                }
            }
        if (repl) {
            for (; *repl && o + 1 < cap; repl++) out[o++] = *repl;
            p += len;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
}

int cli_fail(int status, const char *fmt, ...)
{
    char text[1024], msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    cli_api_to_options(text, msg, sizeof msg);
    /* one line, whatever the message holds */
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    if (cli_dist_comm()) { /* the ranks agree on one failure; rank 0 prints it (dist.c) */
        cli_dist_keep(msg);
        return status;
    }
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

int cli_spec_fail(int rc, const char *spec, int is_file)
{
    size_t n = strlen(spec);
    int ends = 0;
    static const char *const exts[] = {".spec", ".txt", ".safetensors", ".onnx", ".csv", ".tsv", ".gz"};
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        size_t l = strlen(exts[i]);
        ends = ends || (n > l && strcmp(spec + n - l, exts[i]) == 0);
    }
    /* a spec never holds '/' and its words have no '.' followed by letters; one word that
     * looks like a file name was meant as one */
    int one_word = strcspn(spec, " \t;\n") == n;
    int pathlike = strchr(spec, '/') || ends || (one_word && strchr(spec, '.'));
    if (!is_file && pathlike)
        return cli_fail(NB_ERR_IO, "--model: no file '%s' and it is not a layer spec", spec);
    if (is_file && (ends && (strstr(spec, ".csv") || strstr(spec, ".tsv"))))
        return cli_fail(rc, "--model: '%s' is data, not a layer spec (the data goes to --train "
                        "or --data)", spec);
    return cli_lib_fail(rc, "--model");
}

int cli_is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int cli_refuse_special(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) return NB_OK;
    return cli_fail(NB_ERR_IO, "%s: is %s, not a regular file; nabla reads model and data files whole: "
                    "give the path of a regular file", path,
                    S_ISFIFO(st.st_mode) ? "a named pipe (FIFO)" : "a device or special file");
}

int cli_read_stream(FILE *f, const char *path, size_t max_bytes, char **out, size_t *n)
{
    *out = NULL;
    if (n) *n = 0;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (!buf) return cli_fail(NB_ERR_NOMEM, "%s: out of memory", path);
    for (;;) {
        if (len + 1 >= cap) {
            if (cap > max_bytes) {
                free(buf);
                return cli_fail(NB_ERR_FORMAT, "%s: larger than %zu bytes", path, max_bytes);
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return cli_fail(NB_ERR_NOMEM, "%s: out of memory", path);
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - 1 - len, f);
        len += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
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
    if (n) *n = len;
    return NB_OK;
}

FILE *cli_open_regular(const char *path)
{
    /* O_NONBLOCK: opening a FIFO for reading would wait forever for a writer */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        errno = EFTYPE_CLI;
        return NULL;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        int e = errno;
        close(fd);
        errno = e;
    }
    return f;
}

int cli_read_text(const char *path, size_t max_bytes, char **out)
{
    *out = NULL;
    FILE *f = cli_open_regular(path);
    if (!f)
        return errno == EFTYPE_CLI
                   ? cli_fail(NB_ERR_IO, "%s: is not a regular file (a named pipe, device or directory); give the path "
                              "of a regular file", path)
                   : cli_fail(NB_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    int rc = cli_read_stream(f, path, max_bytes, out, NULL);
    fclose(f);
    return rc;
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

char *cli_model_sibling(const char *model, const char *suffix)
{
    const char *slash = strrchr(model, '/');
    const char *base = slash ? slash + 1 : model;
    const char *dot = strrchr(base, '.');
    /* "m.safetensors" -> "m"; a name that is only an extension (".nbm") or has none stays */
    size_t stem = dot && dot > base ? (size_t)(dot - model) : strlen(model);
    size_t n = strlen(suffix);
    char *s = malloc(stem + n + 1);
    if (!s) return NULL;
    memcpy(s, model, stem);
    memcpy(s + stem, suffix, n + 1);
    return s;
}

int cli_write_atomic(const char *path, int (*write)(void *ud, FILE *f), void *ud)
{
    if (strcmp(path, "-") == 0) { /* standard output: written in place, nothing to rename */
        int rc = write(ud, stdout);
        return rc ? rc : cli_flush_stdout();
    }
    /* the library's check, so the CLI's files and the model file follow one rule */
    if (nb_check_output_path(path) != NB_OK)
        return cli_fail(NB_ERR_IO, "%s, or - for standard output", nb_errmsg());
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
    for (char *p = dir; *p; p++) {
        if (*p != '/' || p == dir) continue; /* "/x": the root exists; "x": dir is "" */
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

void cli_fmt_shape(int rank, const int64_t *shape, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < rank && len < cap; i++) {
        int w = snprintf(buf + len, cap - len, "%s%lld", i ? ", " : "(", (long long)shape[i]);
        if (w > 0) len += (size_t)w;
    }
    if (len < cap) snprintf(buf + len, cap - len, rank ? ")" : "()");
}
