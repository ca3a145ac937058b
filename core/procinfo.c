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
#include "core/jw.h"

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

/* ppid and real and effective ids of another process, from its status
 * file. 1 if read, 0 if it cannot be (the process is gone), -ENOMEM. */
static int other_ids(int32_t pid, long ids[5])
{
    char path[64];
    struct buf b;
    const char *p;
    int rc;

    buf_init(&b);
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    rc = read_small(path, &b);
    if (rc < 0 || b.data == NULL) {
        buf_cleanup(&b);
        return rc == -ENOMEM ? rc : 0;
    }
    p = strstr((char *)b.data, "\nPPid:");
    if (p != NULL) {
        ids[0] = strtol(p + 6, NULL, 10);
    }
    (void)status_ids((char *)b.data, "\nUid:", &ids[1], &ids[3]);
    (void)status_ids((char *)b.data, "\nGid:", &ids[2], &ids[4]);
    buf_cleanup(&b);
    return 1;
}

/* This process's executable, read once per process image: it changes
 * only by exec, which ends the image (a fork child reads its own). */
static pthread_mutex_t exe_mu = PTHREAD_MUTEX_INITIALIZER;
static pid_t exe_pid;
static char exe_path[PATH_MAX + 1];
static ssize_t exe_len = -1;

static void self_exe(struct jw_obj *o)
{
    pid_t me = getpid();

    pthread_mutex_lock(&exe_mu);
    if (exe_pid != me) {
        exe_len = readlink("/proc/self/exe", exe_path, sizeof(exe_path));
        if (exe_len >= (ssize_t)sizeof(exe_path)) {
            exe_len = -1;
        }
        exe_pid = me;
    }
    if (exe_len < 0) {
        jw_null(o, "exe");
    } else {
        jw_bytes(o, "exe", exe_path, (size_t)exe_len);
    }
    pthread_mutex_unlock(&exe_mu);
}

/* The link /proc/PID/NAME as member name: a byte string, or null. */
static void link_member(struct jw_obj *o, const char *name, int32_t pid)
{
    char path[64];
    char target[PATH_MAX + 1];
    ssize_t n;

    snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
    n = readlink(path, target, sizeof(target));
    if (n < 0 || n >= (ssize_t)sizeof(target)) {
        jw_null(o, name);
    } else {
        jw_bytes(o, name, target, (size_t)n);
    }
}

/* getcwd is a plain system call; /proc/self/cwd a procfs walk. The
 * link is still read when getcwd fails (a removed directory). */
static void self_cwd(struct jw_obj *o)
{
    char cwd[PATH_MAX + 1];

    if (getcwd(cwd, sizeof(cwd)) != NULL && cwd[0] == '/') {
        jw_bytes(o, "cwd", cwd, strlen(cwd));
        return;
    }
    link_member(o, "cwd", (int32_t)getpid());
}

int procinfo_write(struct jw_obj *parent, const char *name, int32_t pid,
                   const char *instance)
{
    long ids[5] = {-1, -1, -1, -1, -1};
    struct jw_obj o;
    int got = 1;

    jw_obj_begin(&o, parent->w);
    if (pid == (int32_t)getpid()) {
        ids[0] = getppid();
        ids[1] = getuid();
        ids[2] = getgid();
        ids[3] = geteuid();
        ids[4] = getegid();
        self_exe(&o);
        self_cwd(&o);
    } else {
        got = other_ids(pid, ids);
        if (got < 0) {
            return got;
        }
        link_member(&o, "exe", pid);
        link_member(&o, "cwd", pid);
    }
    jw_int(&o, "pid", pid);
    jw_str(&o, "instance", instance);
    if (got) {
        jw_int(&o, "ppid", ids[0]);
        jw_int(&o, "uid", ids[1]);
        jw_int(&o, "gid", ids[2]);
        jw_int(&o, "euid", ids[3]);
        jw_int(&o, "egid", ids[4]);
    }
    jw_obj_into(&o, parent, name);
    return 0;
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
