/* SPDX-License-Identifier: Apache-2.0 */
/* Test tool: null_argv PROG execs PROG with a NULL argv, which Linux
 * accepts as an empty argument list. */
#include <unistd.h>

#include "tests/tools/tool.h"

int main(int argc, char **argv)
{
    /* volatile: the compiler knows execve's argv is declared non-null */
    char *const *volatile none = NULL;

    if (argc != 2) {
        fputs("usage: null_argv PROG\n", stderr);
        return 2;
    }
    execve(argv[1], none, environ);
    return tool_failed("execve", errno);
}
