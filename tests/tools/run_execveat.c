/* SPDX-License-Identifier: Apache-2.0 */
/* Test tool: run_execveat PROG [ARG]... opens the directory of PROG and
 * replaces itself with PROG's last component relative to it, through
 * execveat(2). */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "tests/tools/tool.h"

int main(int argc, char **argv)
{
    char dir[4096];
    const char *name;
    char *slash;
    int fd;

    if (argc < 2 || strlen(argv[1]) >= sizeof(dir)) {
        return tool_usage("run_execveat");
    }
    strcpy(dir, argv[1]);
    slash = strrchr(dir, '/');
    if (slash == NULL) {
        strcpy(dir, ".");
        name = argv[1];
    } else {
        *slash = '\0';
        name = argv[1] + (slash - dir) + 1;
        if (dir[0] == '\0') {
            strcpy(dir, "/");
        }
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return tool_failed("open", errno);
    }
    execveat(fd, name, argv + 1, environ, 0);
    return tool_failed("execveat", errno);
}
