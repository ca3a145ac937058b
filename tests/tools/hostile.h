/* SPDX-License-Identifier: Apache-2.0 */
/* Steps shared by the hostile-host test programs (shim_hostile.sh): run
 * PROG by posix_spawn, by fork + execv and by vfork + execv, and try an
 * exec that must fail. Each reports the way tool.h does, so that runs
 * with and without libkest.so can be compared byte for byte. */
#ifndef KEST_TEST_HOSTILE_H
#define KEST_TEST_HOSTILE_H

#include <spawn.h>
#include <string.h>

#include "tests/tools/tool.h"

/* posix_spawn PROG and wait; errno must come back unchanged. */
static inline int hostile_spawn(char **argv)
{
    pid_t pid;
    int rc, after, st;

    errno = TOOL_ERRNO_MARK;
    rc = posix_spawn(&pid, argv[0], NULL, NULL, argv, environ);
    after = errno;
    if (rc != 0) {
        return tool_failed("posix_spawn", rc);
    }
    st = tool_wait(pid);
    tool_report_errno("posix_spawn", after);
    return st;
}

/* fork, execv PROG in the child (environ as it is now), wait. */
static inline int hostile_fork(char **argv)
{
    pid_t pid;
    int after, st;

    fflush(stdout);
    errno = TOOL_ERRNO_MARK;
    pid = fork();
    after = errno;
    if (pid < 0) {
        return tool_failed("fork", after);
    }
    if (pid == 0) {
        execv(argv[0], argv);
        _exit(tool_failed("execv", errno));
    }
    st = tool_wait(pid);
    tool_report_errno("fork", after);
    return st;
}

/* vfork, execv PROG in the child, wait. The child only execs or
 * leaves: it runs on our memory. */
static inline int hostile_vfork(char **argv)
{
    pid_t pid;

    fflush(stdout);
    pid = vfork();
    if (pid < 0) {
        return tool_failed("vfork", errno);
    }
    if (pid == 0) {
        execv(argv[0], argv);
        _exit(127);
    }
    return tool_wait(pid);
}

/* An exec that fails: the caller must see the kernel's ENOENT. */
static inline void hostile_missing(void)
{
    char *argv[] = {"missing", NULL};
    int rc;

    errno = 0;
    rc = execv("/nonexistent/kest-hostile", argv);
    printf("missing: rc=%d errno=%d\n", rc, errno);
    fflush(stdout);
}

#endif
