/* SPDX-License-Identifier: Apache-2.0 */
/* Appending to the log under an advisory lock. */
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/klog.h"

/* Our descriptor is moved up here so that programs which reuse low
 * numbers (dup2 over 3, closefrom 3) are less likely to meet it. */
#define LOG_FD_FLOOR 100
/* First look at this much of the tail for the last line (a record is a
 * few KiB; the window grows if the line began before it). */
#define LOG_TAIL_CHUNK 8192

int log_init(struct log *lg, const char *path, mode_t mode, int timeout_ms)
{
    memset(lg, 0, sizeof(*lg));
    lg->fd = -1;
    lg->mode = mode;
    lg->timeout_ms = timeout_ms;
    lg->path = strdup(path);
    return lg->path ? 0 : -ENOMEM;
}

void log_forget(struct log *lg)
{
    lg->fd = -1;
    lg->end = -1;
    lg->last[0] = '\0';
}

void log_close(struct log *lg)
{
    if (lg->fd >= 0 && lg->pid == getpid()) {
        close(lg->fd);
    }
    log_forget(lg);
}

void log_cleanup(struct log *lg)
{
    log_close(lg);
    free(lg->path);
    lg->path = NULL;
}

/* Is lg->fd still the descriptor open_log made? The host may have
 * closed it or put something else on that number, even its own
 * descriptor of the log: only one opened as open_log does (read-write,
 * appending, non-blocking, close-on-exec) is taken for ours. */
static bool fd_is_ours(const struct log *lg)
{
    struct stat st;
    int fl, fdfl;

    if (fstat(lg->fd, &st) < 0 || st.st_dev != lg->dev ||
        st.st_ino != lg->ino) {
        return false;
    }
    fl = fcntl(lg->fd, F_GETFL);
    fdfl = fcntl(lg->fd, F_GETFD);
    return fl >= 0 && fdfl >= 0 && (fl & O_ACCMODE) == O_RDWR &&
           (fl & (O_APPEND | O_NONBLOCK)) == (O_APPEND | O_NONBLOCK) &&
           (fdfl & FD_CLOEXEC) != 0;
}

/* Can lg->fd take the next append? Where host code runs beside us, the
 * descriptor itself is checked first (fd_is_ours). */
static bool still_ours(struct log *lg)
{
    struct stat st;

    if (lg->fd < 0 || (!lg->own_fds && !fd_is_ours(lg))) {
        return false;
    }
    /* The path may name another file by now (rotated, removed,
     * replaced): records go where the path leads, as a fresh process's
     * would. A long-lived recorder depends on this. */
    if (lstat(lg->path, &st) < 0 || st.st_dev != lg->dev ||
        st.st_ino != lg->ino) {
        if (lg->pid == getpid()) {
            close(lg->fd);
        }
        lg->fd = -1;
        return false;
    }
    if (lg->pid != getpid()) {
        /* Inherited across fork: the lock belongs to the shared open
         * file description, so this process needs its own. */
        close(lg->fd);
        return false;
    }
    return true;
}

static int make_parent_dir(const char *path)
{
    char dir[4096];
    char *slash;

    if (strlen(path) >= sizeof(dir)) {
        return -ENAMETOOLONG;
    }
    strcpy(dir, path);
    slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir) {
        return 0;
    }
    *slash = '\0';
    if (mkdir(dir, 0700) == 0 || errno == EEXIST) {
        return 0;
    }
    if (errno == ENOENT) {
        int rc = make_parent_dir(dir);

        if (rc == 0 && mkdir(dir, 0700) < 0 && errno != EEXIST) {
            return -errno;
        }
        return rc;
    }
    return -errno;
}

static int open_log(struct log *lg)
{
    struct stat st;
    int fd;
    int hi;
    int flags = O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
                O_NOCTTY | O_NONBLOCK;

    fd = open(lg->path, flags, lg->mode);
    if (fd < 0 && errno == ENOENT && make_parent_dir(lg->path) == 0) {
        fd = open(lg->path, flags, lg->mode);
    }
    if (fd < 0) {
        int err = errno;

        klog_error("log", "%s: %s", lg->path,
                   err == ELOOP ? "is a symbolic link (refused)"
                                : strerror(err));
        return -err;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        klog_error("log", "%s: not a regular file", lg->path);
        close(fd);
        return -EINVAL;
    }
    hi = fcntl(fd, F_DUPFD_CLOEXEC, LOG_FD_FLOOR);
    if (hi >= 0) {
        close(fd);
        fd = hi;
    }
    lg->fd = fd;
    lg->pid = getpid();
    lg->dev = st.st_dev;
    lg->ino = st.st_ino;
    lg->end = -1;
    lg->last[0] = '\0';
    return 0;
}

static int lock_log(struct log *lg)
{
    struct timespec start, now, nap = {0, 20000};
    long waited;

    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        if (flock(lg->fd, LOCK_EX | LOCK_NB) == 0) {
            return 0;
        }
        if (errno != EWOULDBLOCK && errno != EINTR) {
            return -errno;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        waited = (now.tv_sec - start.tv_sec) * 1000 +
                 (now.tv_nsec - start.tv_nsec) / 1000000;
        if (waited >= lg->timeout_ms) {
            klog_error("log", "%s: lock not free after %d ms", lg->path,
                       lg->timeout_ms);
            return -ETIMEDOUT;
        }
        nanosleep(&nap, NULL);
        if (nap.tv_nsec < 2000000) {
            nap.tv_nsec *= 2;
        }
    }
}

/* Scan back from size for the last whole line that is a record; set prev
 * to its hash ("0" if there is none) and *torn if the file does not end
 * with a newline (a crash or full disk cut the last append short). */
static int find_prev(struct log *lg, off_t size, char prev[RECORD_HASH_HEX],
                     bool *torn)
{
    size_t window = LOG_TAIL_CHUNK;
    struct buf b;
    off_t from;
    ssize_t n;
    int rc = 0;

    strcpy(prev, "0");
    *torn = false;
    buf_init(&b);
    while (size > 0) {
        uint8_t *nl;
        size_t end;

        from = size > (off_t)window ? size - (off_t)window : 0;
        b.len = 0;
        rc = buf_reserve(&b, (size_t)(size - from));
        if (rc < 0) {
            break;
        }
        n = pread(lg->fd, b.data, (size_t)(size - from), from);
        if (n != size - from) {
            rc = n < 0 ? -errno : -EIO;
            break;
        }
        b.len = (size_t)n;
        *torn = b.data[b.len - 1] != '\n';
        nl = memrchr(b.data, '\n', b.len);
        end = nl ? (size_t)(nl - b.data) : 0;
        while (nl != NULL) {
            size_t start;

            nl = end > 0 ? memrchr(b.data, '\n', end) : NULL;
            start = nl ? (size_t)(nl - b.data) + 1 : 0;
            if (nl == NULL && from > 0) {
                break; /* the line begins before the window */
            }
            rc = record_line_hash((char *)b.data + start, end - start,
                                  prev);
            /* Only a damaged line is passed over: one whose hash could
             * not be made (no memory) must not restart the chain. */
            if (rc != -EINVAL) {
                goto out;
            }
            rc = 0;
            end = start > 0 ? start - 1 : 0;
        }
        if (from == 0) {
            break;
        }
        if (window >= 64u * 1024 * 1024) {
            rc = -EFBIG;
            break;
        }
        window *= 4;
    }
out:
    buf_cleanup(&b);
    return rc;
}

static int write_line(struct log *lg, off_t size, bool torn,
                      struct buf *line)
{
    ssize_t n;
    size_t len;
    int rc;

    rc = buf_putc(line, '\n');
    if (rc < 0) {
        return rc;
    }
    if (torn) {
        /* Start on a fresh line; the torn one stays for the verifier. */
        rc = buf_reserve(line, 1);
        if (rc < 0) {
            return rc;
        }
        memmove(line->data + 1, line->data, line->len + 1);
        line->data[0] = '\n';
        line->len++;
    }
    len = line->len;
    n = write(lg->fd, line->data, len);
    if (n == (ssize_t)len) {
        lg->end = size + (off_t)len;
        return 0;
    }
    rc = n < 0 ? -errno : -ENOSPC;
    klog_error("log", "%s: append failed: %s", lg->path, strerror(-rc));
    /* Cut the partial line off again so earlier records stay whole. */
    if (n > 0 && ftruncate(lg->fd, size) < 0) {
        klog_error("log", "%s: cannot remove partial line: %s", lg->path,
                   strerror(errno));
    }
    lg->end = -1;
    return rc;
}

int log_append(struct log *lg, log_seal_fn seal, void *ctx,
               char hash[RECORD_HASH_HEX])
{
    char prev[RECORD_HASH_HEX];
    struct buf line;
    struct stat st;
    bool torn = false;
    int rc;

    buf_init(&line);
    if (!still_ours(lg)) {
        log_forget(lg);
        rc = open_log(lg);
        if (rc < 0) {
            return rc;
        }
    }
    rc = lock_log(lg);
    if (rc < 0) {
        return rc;
    }
    if (fstat(lg->fd, &st) < 0) {
        rc = -errno;
        goto out;
    }
    if (st.st_size == lg->end && lg->last[0] != '\0') {
        strcpy(prev, lg->last);
    } else {
        rc = find_prev(lg, st.st_size, prev, &torn);
        if (rc < 0) {
            goto out;
        }
    }
    rc = seal(ctx, prev, &line, hash);
    if (rc < 0) {
        goto out;
    }
    rc = write_line(lg, st.st_size, torn, &line);
    if (rc == 0) {
        memcpy(lg->last, hash, RECORD_HASH_HEX);
    }
out:
    flock(lg->fd, LOCK_UN);
    buf_cleanup(&line);
    return rc;
}
