/* SPDX-License-Identifier: Apache-2.0 */
/* Test tool: clearenv_exec PROG [ARG]... calls clearenv(3) (environ
 * becomes NULL), then runs PROG by posix_spawn, fork + execv and vfork +
 * execv, tries an exec that fails, and execs PROG in place with execv:
 * every exec gets an empty environment. */
#include <stdlib.h>
#include <unistd.h>

#include "tests/tools/hostile.h"

int main(int argc, char **argv)
{
    int st = 0;

    if (argc < 2) {
        return tool_usage("clearenv_exec");
    }
    if (clearenv() != 0) {
        return tool_failed("clearenv", errno);
    }
    st |= hostile_spawn(argv + 1);
    st |= hostile_fork(argv + 1);
    st |= hostile_vfork(argv + 1);
    hostile_missing();
    printf("children: %d, environ %s\n", st,
           environ == NULL || environ[0] == NULL ? "empty" : "not empty");
    fflush(stdout);
    execv(argv[1], argv + 1);
    return tool_failed("execv", errno);
}
