/* SPDX-License-Identifier: Apache-2.0 */
/* Test tool: run_execvp PROG [ARG]... replaces itself with PROG through
 * execvp(3), argv[0] being PROG as given. */
#include <unistd.h>

#include "tests/tools/tool.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        return tool_usage("run_execvp");
    }
    execvp(argv[1], argv + 1);
    return tool_failed("execvp", errno);
}
