/* SPDX-License-Identifier: Apache-2.0 */
/* Test tool: run_execve PROG [ARG]... replaces itself with PROG through
 * execve(3), argv[0] being PROG as given. */
#include <unistd.h>

#include "tests/tools/tool.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        return tool_usage("run_execve");
    }
    execve(argv[1], argv + 1, environ);
    return tool_failed("execve", errno);
}
