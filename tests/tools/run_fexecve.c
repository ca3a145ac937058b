/* SPDX-License-Identifier: Apache-2.0 */
/* Test tool: run_fexecve PROG [ARG]... opens PROG and replaces itself
 * with it through fexecve(3). PROG must be an ELF file: the descriptor
 * is close-on-exec, which a script could not be run from. */
#include <fcntl.h>
#include <unistd.h>

#include "tests/tools/tool.h"

int main(int argc, char **argv)
{
    int fd;

    if (argc < 2) {
        return tool_usage("run_fexecve");
    }
    fd = open(argv[1], O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return tool_failed("open", errno);
    }
    fexecve(fd, argv + 1, environ);
    return tool_failed("fexecve", errno);
}
