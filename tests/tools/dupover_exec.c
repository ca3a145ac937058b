/* SPDX-License-Identifier: Apache-2.0 */
/* Test tool: dupover_exec [-r] FILE PROG [ARG]... records once
 * (posix_spawn of /bin/true, so a preloaded libkest.so has its log
 * open), then puts FILE, opened for appending like a log, on every
 * descriptor from 3 to 127 and on any descriptor that points at
 * $KEST_LOG, and runs PROG by fork, vfork and posix_spawn. It then
 * reports FILE's size (nothing but its own line may be in it) and execs
 * PROG in place. With -r, FILE (which may be the log itself) is opened
 * read-only, created if missing, and left as it is. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/tools/hostile.h"

#define TOP_FD 127

/* The log's descriptor may sit above TOP_FD: cover it too (close on
 * exec, so that children see the same descriptors as without kest). */
static void cover_log(int mine)
{
    const char *log = getenv("KEST_LOG");
    char want[PATH_MAX], link[32], got[PATH_MAX];
    struct dirent *e;
    DIR *d;

    if (log == NULL || realpath(log, want) == NULL) {
        return;
    }
    d = opendir("/proc/self/fd");
    if (d == NULL) {
        return;
    }
    while ((e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name);
        ssize_t n;

        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        n = readlink(link, got, sizeof(got) - 1);
        if (fd <= TOP_FD || n < 0) {
            continue;
        }
        got[n] = '\0';
        if (strcmp(got, want) == 0) {
            dup3(mine, fd, O_CLOEXEC);
        }
    }
    closedir(d);
}

int main(int argc, char **argv)
{
    char *true_argv[] = {"/bin/true", NULL};
    struct stat st;
    bool ro = argc > 1 && strcmp(argv[1], "-r") == 0;
    int mine, fd, rc;

    argv += ro ? 1 : 0;
    argc -= ro ? 1 : 0;
    if (argc < 3) {
        return tool_usage("dupover_exec");
    }
    rc = hostile_spawn(true_argv);
    if (ro) {
        mine = open(argv[1], O_RDONLY | O_CREAT, 0600);
    } else {
        mine = open(argv[1], O_RDWR | O_CREAT | O_TRUNC | O_APPEND, 0600);
    }
    if (mine < 0 || (!ro && write(mine, "mine\n", 5) != 5)) {
        return tool_failed("open", errno);
    }
    cover_log(mine);
    for (fd = 3; fd <= TOP_FD; fd++) {
        if (fd != mine && dup2(mine, fd) < 0) {
            return tool_failed("dup2", errno);
        }
    }
    rc |= hostile_fork(argv + 2);
    rc |= hostile_vfork(argv + 2);
    rc |= hostile_spawn(argv + 2);
    hostile_missing();
    if (fstat(mine, &st) < 0) {
        return tool_failed("fstat", errno);
    }
    if (ro) {
        printf("children: %d\n", rc);
    } else {
        printf("children: %d, own file: %lld bytes\n", rc,
               (long long)st.st_size);
    }
    fflush(stdout);
    execv(argv[2], argv + 2);
    return tool_failed("execv", errno);
}
