/* SPDX-License-Identifier: Apache-2.0 */
/* Test tool: run_popen CMD reads CMD's output through popen(3), copies
 * it to stdout and exits with CMD's status. */
#include "tests/tools/tool.h"

int main(int argc, char **argv)
{
    char buf[4096];
    size_t n;
    FILE *f;
    int st;

    if (argc != 2) {
        fputs("usage: run_popen CMD\n", stderr);
        return 2;
    }
    errno = TOOL_ERRNO_MARK;
    f = popen(argv[1], "r");
    if (f == NULL) {
        return tool_failed("popen", errno);
    }
    tool_check_errno("popen");
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
        fwrite(buf, 1, n, stdout);
    }
    fflush(stdout);
    st = pclose(f);
    if (st == -1) {
        return tool_failed("pclose", errno);
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
