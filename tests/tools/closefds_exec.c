/* SPDX-License-Identifier: Apache-2.0 */
/* Test tool: closefds_exec PROG [ARG]... records once (posix_spawn of
 * /bin/true, so a preloaded libkest.so has its log open), then closes
 * every descriptor but stdout and stderr before each way of running
 * PROG: close_range before posix_spawn and vfork, a loop to 1024 before
 * fork, and again before it execs PROG in place. */
#include <unistd.h>

#include "tests/tools/hostile.h"

static void close_loop(void)
{
    int fd;

    for (fd = 0; fd < 1024; fd++) {
        if (fd != 1 && fd != 2) {
            close(fd);
        }
    }
}

static void close_all(void)
{
    close(0);
    if (close_range(3, ~0U, 0) < 0) {
        close_loop();
    }
}

int main(int argc, char **argv)
{
    char *true_argv[] = {"/bin/true", NULL};
    int st;

    if (argc < 2) {
        return tool_usage("closefds_exec");
    }
    st = hostile_spawn(true_argv);
    close_all();
    st |= hostile_spawn(argv + 1);
    close_loop();
    st |= hostile_fork(argv + 1);
    close_all();
    st |= hostile_vfork(argv + 1);
    hostile_missing();
    printf("children: %d\n", st);
    fflush(stdout);
    close_loop();
    execv(argv[1], argv + 1);
    return tool_failed("execv", errno);
}
