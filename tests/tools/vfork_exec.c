/* SPDX-License-Identifier: Apache-2.0 */
/* Test tool: vfork_exec PROG [ARG]... vforks; the child execs PROG with
 * execve(2) while the parent is suspended on the shared memory; the
 * parent exits with the child's status. A failed exec is reported by
 * the parent from the errno the child left in shared memory. */
#include <unistd.h>

#include "tests/tools/tool.h"

static volatile int child_errno;

int main(int argc, char **argv)
{
    pid_t pid;
    int st;

    if (argc < 2) {
        return tool_usage("vfork_exec");
    }
    pid = vfork();
    if (pid < 0) {
        return tool_failed("vfork", errno);
    }
    if (pid == 0) {
        execve(argv[1], argv + 1, environ);
        child_errno = errno;
        _exit(127);
    }
    st = tool_wait(pid);
    if (child_errno != 0) {
        return tool_failed("execve", child_errno);
    }
    return st;
}
