/* SPDX-License-Identifier: Apache-2.0 */
/* Test tool: fork_exec PROG [ARG]... first starts /bin/true with
 * posix_spawn (so libkest.so has recorded, opened the log and loaded
 * its core in this process), then forks and execs PROG with execv(3)
 * in the child. Exits with PROG's status. */
#include <spawn.h>
#include <unistd.h>

#include "tests/tools/tool.h"

int main(int argc, char **argv)
{
    char *true_argv[] = {"true", NULL};
    pid_t pid;
    int rc;

    if (argc < 2) {
        return tool_usage("fork_exec");
    }
    rc = posix_spawn(&pid, "/bin/true", NULL, NULL, true_argv, environ);
    if (rc != 0) {
        return tool_failed("posix_spawn", rc);
    }
    if (tool_wait(pid) != 0) {
        return 1;
    }
    fflush(stdout);
    pid = fork();
    if (pid < 0) {
        return tool_failed("fork", errno);
    }
    if (pid == 0) {
        execv(argv[1], argv + 1);
        _exit(tool_failed("execv", errno));
    }
    return tool_wait(pid);
}
