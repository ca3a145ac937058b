/* SPDX-License-Identifier: Apache-2.0 */
/* Shared bits of the exec-variant test programs: how they report a
 * failed call and a child's status, so the shim tests can compare runs
 * with and without libkest.so byte for byte. libc only. */
#ifndef KEST_TEST_TOOL_H
#define KEST_TEST_TOOL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* The errno a test sets before a call that must leave it alone. */
#define TOOL_ERRNO_MARK 1234

extern char **environ;

/* "API: errno=N" on stdout, exit status 127: what every tool prints
 * when the call under test fails. */
static inline int tool_failed(const char *api, int err)
{
    printf("%s: errno=%d\n", api, err);
    fflush(stdout);
    return 127;
}

/* A successful call must not change errno (POSIX leaves it alone). */
static inline void tool_check_errno(const char *api)
{
    if (errno != TOOL_ERRNO_MARK) {
        printf("%s: errno changed from %d to %d\n", api, TOOL_ERRNO_MARK,
               errno);
        fflush(stdout);
    }
}

/* The same, for an errno value saved right after the call; reported
 * after the child has finished, so the lines never race its output. */
static inline void tool_report_errno(const char *api, int saved)
{
    if (saved != TOOL_ERRNO_MARK) {
        printf("%s: errno changed from %d to %d\n", api, TOOL_ERRNO_MARK,
               saved);
        fflush(stdout);
    }
}

/* Wait for pid; its exit status, or 128 + signal. */
static inline int tool_wait(pid_t pid)
{
    int st;

    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) {
            return tool_failed("waitpid", errno);
        }
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static inline int tool_usage(const char *name)
{
    fprintf(stderr, "usage: %s PROG [ARG]...\n", name);
    return 2;
}

#endif
