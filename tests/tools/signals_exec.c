/* SPDX-License-Identifier: Apache-2.0 */
/* Test tool: signals_exec N PROG [ARG]... installs its own SIGSEGV and
 * SIGALRM handlers (no SA_RESTART, so slow calls fail with EINTR), sets
 * an interval timer firing every 500 us, and runs PROG N times each by
 * posix_spawn, fork + execv and vfork + execv. It then reports whether
 * both handlers are still its own, how many SIGSEGV it caught, and
 * whether the timer fired at all. */
#include <signal.h>
#include <sys/time.h>
#include <unistd.h>

#include "tests/tools/hostile.h"

static volatile sig_atomic_t segvs;
static volatile sig_atomic_t alarms;

static void on_segv(int sig)
{
    static const char msg[] = "signals_exec: SIGSEGV\n";

    (void)sig;
    segvs++;
    if (write(2, msg, sizeof(msg) - 1) < 0) {
        _exit(99);
    }
    _exit(99);
}

static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

static int install(int sig, void (*fn)(int))
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    return sigaction(sig, &sa, NULL);
}

static int is_ours(int sig, void (*fn)(int))
{
    struct sigaction sa;

    return sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == fn &&
           (sa.sa_flags & SA_RESTART) == 0;
}

static int set_timer(long usec)
{
    struct itimerval it = {{0, usec}, {0, usec}};

    return setitimer(ITIMER_REAL, &it, NULL);
}

int main(int argc, char **argv)
{
    long i, n;
    int st = 0;

    if (argc < 3 || (n = strtol(argv[1], NULL, 10)) < 1) {
        return tool_usage("signals_exec");
    }
    if (install(SIGSEGV, on_segv) < 0 || install(SIGALRM, on_alarm) < 0 ||
        set_timer(500) < 0) {
        return tool_failed("sigaction", errno);
    }
    for (i = 0; i < n; i++) {
        st |= hostile_spawn(argv + 2);
        st |= hostile_fork(argv + 2);
        st |= hostile_vfork(argv + 2);
    }
    hostile_missing();
    set_timer(0);
    printf("children: %d, SIGSEGV handler %s, SIGALRM handler %s, "
           "SIGSEGV caught %d, timer fired: %s\n", st,
           is_ours(SIGSEGV, on_segv) ? "ours" : "replaced",
           is_ours(SIGALRM, on_alarm) ? "ours" : "replaced", (int)segvs,
           alarms > 0 ? "yes" : "no");
    return 0;
}
