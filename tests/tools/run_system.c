/* SPDX-License-Identifier: Apache-2.0 */
/* Test tool: run_system CMD runs CMD through system(3) and exits with
 * its status. errno must come back unchanged. */
#include "tests/tools/tool.h"

int main(int argc, char **argv)
{
    int st;

    if (argc != 2) {
        fputs("usage: run_system CMD\n", stderr);
        return 2;
    }
    errno = TOOL_ERRNO_MARK;
    st = system(argv[1]);
    if (st == -1) {
        return tool_failed("system", errno);
    }
    tool_check_errno("system");
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
