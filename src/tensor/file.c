/* SPDX-License-Identifier: MIT */
/*
 * file.c - whole-file reads with a size cap, and atomic writes (temp file, flush, fsync,
 * rename, fsync of the directory) so a crash never leaves a half-written file in place of a
 * good one.
 */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int nb__read_file(const char *path, size_t max_size, char **data, size_t *n)
{
    *data = NULL;
    *n = 0;
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait forever for a writer; the
     * flag is cleared once fstat has shown a regular file (where it changes nothing anyway) */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return nb__fail(NB_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int fifo = S_ISFIFO(st.st_mode), dir = S_ISDIR(st.st_mode);
        close(fd);
        return nb__fail(NB_ERR_IO, "%s: is %s, not a regular file; nabla reads model and data files whole: "
                        "give the path of a regular file", path,
                        fifo ? "a named pipe (FIFO)" : dir ? "a directory" : "a device or special file");
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        int e = errno;
        close(fd);
        return nb__fail(NB_ERR_IO, "%s: cannot open: %s", path, strerror(e));
    }
    if ((uint64_t)st.st_size > max_size) {
        fclose(f);
        return nb__fail(NB_ERR_FORMAT, "%s: file is %lld bytes, more than the %zu allowed", path,
                        (long long)st.st_size, max_size);
    }
    size_t size = (size_t)st.st_size;
    char *buf = nb__alloc(size + 1);
    if (!buf) {
        fclose(f);
        return NB_ERR_NOMEM;
    }
    size_t got = fread(buf, 1, size, f);
    int err = ferror(f);
    fclose(f);
    if (got != size || err) {
        nb_free(buf);
        return nb__fail(NB_ERR_IO, "%s: read %zu of %zu bytes", path, got, size);
    }
    buf[size] = '\0';
    *data = buf;
    *n = size;
    return NB_OK;
}

/* the directory of path into dir (size 4096); 0 when it does not fit */
static int dir_of(const char *path, char *dir)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        strcpy(dir, ".");
    } else {
        size_t len = (size_t)(slash - path);
        if (len == 0) len = 1;
        if (len >= 4096) return 0;
        memcpy(dir, path, len);
        dir[len] = '\0';
    }
    return 1;
}

/* A process killed during a save (kill -9, power loss) leaves PATH.tmp.<pid> behind, and
 * nothing else would ever remove it: each save removes those of the same target whose process
 * is gone (kill(pid, 0) fails with ESRCH). Kept: names that are not exactly that pattern, our
 * own pid, live processes, processes of other users (EPERM: alive), files of other users and
 * anything that is not a regular file. A pid reused by an unrelated process keeps the file
 * (the safe side). Best effort: any failure leaves the files as they are. */
static void remove_stale_temps(const char *path)
{
    char dir[4096], full[4096];
    if (!dir_of(path, dir)) return;
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t blen = strlen(base);
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        if (strncmp(name, base, blen) != 0 || strncmp(name + blen, ".tmp.", 5) != 0) continue;
        const char *digits = name + blen + 5;
        long pid = 0;
        size_t i = 0;
        for (; digits[i] >= '0' && digits[i] <= '9' && i < 9; i++) pid = pid * 10 + (digits[i] - '0');
        if (i == 0 || digits[i] != '\0' || digits[0] == '0' || pid == (long)getpid()) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        int len = snprintf(full, sizeof full, "%s/%s", dir, name);
        if (len < 0 || (size_t)len >= sizeof full) continue;
        struct stat st;
        if (lstat(full, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) continue;
        unlink(full);
    }
    closedir(d);
}

static void sync_dir_of(const char *path)
{
    char dir[4096];
    if (!dir_of(path, dir)) return;
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        fsync(fd); /* best effort: some file systems refuse fsync on directories */
        close(fd);
    }
}

int nb_check_output_path(const char *path)
{
    if (!path) return nb__fail(NB_ERR_ARG, "output path is NULL");
    if (!*path) return nb__fail(NB_ERR_ARG, "no output path given");
    struct stat st;
    /* lstat: rename() would replace a link itself, and as root a temp file renamed over
     * /dev/full or /dev/stdout would replace the device or the link with a regular file */
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT) return NB_OK;
        return nb__fail(NB_ERR_IO, "'%s': cannot examine the output path: %s", path, strerror(errno));
    }
    if (S_ISREG(st.st_mode)) return NB_OK;
    if (S_ISLNK(st.st_mode))
        return nb__fail(NB_ERR_IO, "'%s' is a symbolic link, not a regular file; nabla replaces files "
                        "atomically and will not replace a link: give the real path", path);
    const char *what = S_ISDIR(st.st_mode)    ? "a directory"
                       : S_ISFIFO(st.st_mode) ? "a named pipe (FIFO)"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                       : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
                                                                     : "a special file";
    return nb__fail(NB_ERR_IO, "'%s' is %s, not a regular file; nabla replaces files atomically "
                    "and will not replace it: give the path of a regular file", path, what);
}

int nb__write_file_atomic(const char *path, const void *data, size_t n)
{
    char tmp[4096];
    /* refused before anything is written: nothing but a regular file is ever replaced */
    int rc = nb_check_output_path(path);
    if (rc) return rc;
    int len = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (len < 0 || (size_t)len >= sizeof tmp)
        return nb__fail(NB_ERR_ARG, "%s: path too long", path);
    remove_stale_temps(path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return nb__fail(NB_ERR_IO, "%s: cannot create %s: %s", path, tmp, strerror(errno));
    int ok = fwrite(data, 1, n, f) == n;
    ok = (fflush(f) == 0) && ok;
    int saved = errno;
    ok = ok && fsync(fileno(f)) == 0;
    if (!ok) saved = errno;
    ok = (fclose(f) == 0) && ok;
    if (!ok) {
        remove(tmp);
        return nb__fail(NB_ERR_IO, "%s: write failed: %s", path, strerror(saved ? saved : EIO));
    }
    if (rename(tmp, path) != 0) {
        saved = errno;
        remove(tmp);
        return nb__fail(NB_ERR_IO, "%s: cannot rename temp file: %s", path, strerror(saved));
    }
    sync_dir_of(path);
    return NB_OK;
}
