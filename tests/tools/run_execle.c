/* SPDX-License-Identifier: Apache-2.0 */
/* Test tool: run_execle PROG [ARG]... (up to three ARGs) replaces itself
 * with PROG through the variadic execle(3), passing environ explicitly. */
#include <unistd.h>

#include "tests/tools/tool.h"

int main(int argc, char **argv)
{
    char *p = argv[1];

    switch (argc) {
    case 2:
        execle(p, p, (char *)NULL, environ);
        break;
    case 3:
        execle(p, p, argv[2], (char *)NULL, environ);
        break;
    case 4:
        execle(p, p, argv[2], argv[3], (char *)NULL, environ);
        break;
    case 5:
        execle(p, p, argv[2], argv[3], argv[4], (char *)NULL, environ);
        break;
    default:
        return tool_usage("run_execle");
    }
    return tool_failed("execle", errno);
}
