/* SPDX-License-Identifier: Apache-2.0 */
/* Process facts from the kernel, never from the environment. */
#include "core/procinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/bytes.h"

json_t *procinfo_link(int32_t pid, const char *name)
{
    char path[64];
    char target[PATH_MAX + 1];
    ssize_t n;

    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
    n = readlink(path, target, sizeof(target));
    if (n < 0 || n >= (ssize_t)sizeof(target)) {
        return json_null();
    }
    return bytes_to_json(target, (size_t)n);
}

static int read_small(const char *path, struct buf *out)
{
    char tmp[4096];
    ssize_t n;
    int fd;
    int rc = 0;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    while ((n = read(fd, tmp, sizeof(tmp))) > 0) {
        if (out->len > (1u << 24)) {
            rc = -1;
            break;
        }
        if (buf_append(out, tmp, (size_t)n) < 0) {
            rc = -ENOMEM; /* not to be mistaken for a vanished process */
            break;
        }
    }
    if (n < 0) {
        rc = -1;
    }
    close(fd);
    return rc;
}

/* Real and effective ids from a "Uid:" or "Gid:" line of status. */
static int status_ids(const char *status, const char *tag, long *real,
                      long *eff)
{
    const char *p = strstr(status, tag);
    char *end;

    if (p == NULL) {
        return -1;
    }
    p += strlen(tag);
    *real = strtol(p, &end, 10);
    if (end == p) {
        return -1;
    }
    p = end;
    *eff = strtol(p, &end, 10);
    return end == p ? -1 : 0;
}

static json_t *other_ids(int32_t pid)
{
    long ppid = -1, uid = -1, euid = -1, gid = -1, egid = -1;
    char path[64];
    struct buf b;
    const char *p;
    json_t *v;
    int rc;

    buf_init(&b);
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    rc = read_small(path, &b);
    if (rc < 0 || b.data == NULL) {
        buf_cleanup(&b);
        return rc == -ENOMEM ? NULL : json_null();
    }
    p = strstr((char *)b.data, "\nPPid:");
    if (p != NULL) {
        ppid = strtol(p + 6, NULL, 10);
    }
    (void)status_ids((char *)b.data, "\nUid:", &uid, &euid);
    (void)status_ids((char *)b.data, "\nGid:", &gid, &egid);
    buf_cleanup(&b);
    v = json_pack("{s:I, s:I, s:I, s:I, s:I}", "ppid", (json_int_t)ppid,
                  "uid", (json_int_t)uid, "gid", (json_int_t)gid, "euid",
                  (json_int_t)euid, "egid", (json_int_t)egid);
    return v;
}

/* This process's executable, read once per process image: it changes
 * only by exec, which ends the image (a fork child reads its own). */
static pthread_mutex_t exe_mu = PTHREAD_MUTEX_INITIALIZER;
static pid_t exe_pid;
static char exe_path[PATH_MAX + 1];
static ssize_t exe_len = -1;

static json_t *self_exe(void)
{
    pid_t me = getpid();
    json_t *v;

    pthread_mutex_lock(&exe_mu);
    if (exe_pid != me) {
        exe_len = readlink("/proc/self/exe", exe_path, sizeof(exe_path));
        if (exe_len >= (ssize_t)sizeof(exe_path)) {
            exe_len = -1;
        }
        exe_pid = me;
    }
    v = exe_len < 0 ? json_null()
                    : bytes_to_json(exe_path, (size_t)exe_len);
    pthread_mutex_unlock(&exe_mu);
    return v;
}

/* getcwd is a plain system call; /proc/self/cwd a procfs walk. The
 * link is still read when getcwd fails (a removed directory). */
static json_t *self_cwd(void)
{
    char cwd[PATH_MAX + 1];

    if (getcwd(cwd, sizeof(cwd)) != NULL && cwd[0] == '/') {
        return bytes_to_json(cwd, strlen(cwd));
    }
    return procinfo_link((int32_t)getpid(), "cwd");
}

json_t *procinfo_json(int32_t pid, const char *instance)
{
    json_t *v;
    json_t *ids;
    bool self;

    if (pid == (int32_t)getpid()) {
        ids = json_pack("{s:i, s:I, s:I, s:I, s:I}", "ppid", (int)getppid(),
                        "uid", (json_int_t)getuid(), "gid",
                        (json_int_t)getgid(), "euid", (json_int_t)geteuid(),
                        "egid", (json_int_t)getegid());
    } else {
        ids = other_ids(pid);
    }
    if (ids == NULL) {
        return NULL;
    }
    self = pid == (int32_t)getpid();
    v = json_pack("{s:i, s:o, s:o, s:s}", "pid", (int)pid, "exe",
                  self ? self_exe() : procinfo_link(pid, "exe"), "cwd",
                  self ? self_cwd() : procinfo_link(pid, "cwd"), "instance",
                  instance);
    if (v != NULL && json_is_object(ids) && json_object_update(v, ids) < 0) {
        json_decref(v);
        v = NULL;
    }
    json_decref(ids);
    return v;
}

json_t *procinfo_cmdline(int32_t pid)
{
    char path[64];
    struct buf b;
    json_t *arr = json_array();
    size_t i = 0;
    int rc;

    buf_init(&b);
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    rc = arr != NULL ? read_small(path, &b) : -ENOMEM;
    /* Unreadable (the process is gone): an empty argv, same shape. */
    while (rc == 0 && i < b.len) {
        size_t n = strnlen((char *)b.data + i, b.len - i);

        if (json_array_append_new(arr, bytes_to_json((char *)b.data + i,
                                                     n)) < 0) {
            rc = -ENOMEM;
        }
        i += n + 1;
    }
    buf_cleanup(&b);
    if (rc == -ENOMEM) {
        json_decref(arr);
        return NULL;
    }
    return json_pack("{s:o}", "argv", arr);
}
