/* SPDX-License-Identifier: Apache-2.0 */
/* Test tool: run_execl PROG [ARG]... (up to three ARGs) replaces itself
 * with PROG through the variadic execl(3). */
#include <unistd.h>

#include "tests/tools/tool.h"

int main(int argc, char **argv)
{
    char *p = argv[1];

    switch (argc) {
    case 2:
        execl(p, p, (char *)NULL);
        break;
    case 3:
        execl(p, p, argv[2], (char *)NULL);
        break;
    case 4:
        execl(p, p, argv[2], argv[3], (char *)NULL);
        break;
    case 5:
        execl(p, p, argv[2], argv[3], argv[4], (char *)NULL);
        break;
    default:
        return tool_usage("run_execl");
    }
    return tool_failed("execl", errno);
}
