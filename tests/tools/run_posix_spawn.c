/* SPDX-License-Identifier: Apache-2.0 */
/* Test tool: run_posix_spawn PROG [ARG]... starts PROG with posix_spawn(3),
 * waits, and exits with its status. errno must come back unchanged. */
#include <spawn.h>

#include "tests/tools/tool.h"

int main(int argc, char **argv)
{
    pid_t pid;
    int rc, after, st;

    if (argc < 2) {
        return tool_usage("run_posix_spawn");
    }
    errno = TOOL_ERRNO_MARK;
    rc = posix_spawn(&pid, argv[1], NULL, NULL, argv + 1, environ);
    after = errno;
    if (rc != 0) {
        return tool_failed("posix_spawn", rc);
    }
    st = tool_wait(pid);
    tool_report_errno("posix_spawn", after);
    return st;
}
