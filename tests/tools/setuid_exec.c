/* SPDX-License-Identifier: Apache-2.0 */
/* Installed setuid root by the system-mode test: execs argv[1..] while
 * running in secure-execution mode (AT_SECURE). */
#include <stdio.h>
#include <sys/auxv.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        return 2;
    }
    printf("secure=%lu\n", getauxval(AT_SECURE));
    fflush(stdout);
    execv(argv[1], argv + 1);
    perror("execv");
    return 127;
}
