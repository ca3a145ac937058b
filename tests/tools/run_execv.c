/* SPDX-License-Identifier: Apache-2.0 */
/* Test tool: run_execv PROG [ARG]... replaces itself with PROG through
 * execv(3), argv[0] being PROG as given. */
#include <unistd.h>

#include "tests/tools/tool.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        return tool_usage("run_execv");
    }
    execv(argv[1], argv + 1);
    return tool_failed("execv", errno);
}
