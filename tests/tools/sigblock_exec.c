/* SPDX-License-Identifier: Apache-2.0 */
/* Test tool: sigblock_exec PROG [ARG]... blocks every signal with
 * sigprocmask, then runs PROG by posix_spawn, fork + execv and vfork +
 * execv, tries an exec that fails, and execs PROG in place. After each
 * step it says if its own signal mask changed; PROG inherits the mask
 * and can show it (grep SigBlk /proc/self/status). */
#include <signal.h>
#include <unistd.h>

#include "tests/tools/hostile.h"

static sigset_t want;

static void mask_check(const char *step)
{
    sigset_t now;
    int sig;

    sigemptyset(&now);
    sigprocmask(SIG_SETMASK, NULL, &now);
    for (sig = 1; sig < NSIG; sig++) {
        if (sigismember(&now, sig) != sigismember(&want, sig)) {
            printf("%s: signal mask changed (signal %d)\n", step, sig);
            fflush(stdout);
            return;
        }
    }
}

int main(int argc, char **argv)
{
    int st = 0;

    if (argc < 2) {
        return tool_usage("sigblock_exec");
    }
    sigfillset(&want);
    sigprocmask(SIG_BLOCK, &want, NULL);
    sigemptyset(&want);
    sigprocmask(SIG_SETMASK, NULL, &want);
    st |= hostile_spawn(argv + 1);
    mask_check("posix_spawn");
    st |= hostile_fork(argv + 1);
    mask_check("fork");
    st |= hostile_vfork(argv + 1);
    mask_check("vfork");
    hostile_missing();
    mask_check("failed exec");
    printf("children: %d\n", st);
    fflush(stdout);
    execv(argv[1], argv + 1);
    return tool_failed("execv", errno);
}
