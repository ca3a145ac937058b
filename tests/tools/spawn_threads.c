/* SPDX-License-Identifier: Apache-2.0 */
/* Test tool: spawn_threads T N PROG [ARG]... starts T threads that wait
 * for each other, then each posix_spawns PROG N times and waits for it:
 * the first exec of a process, and every later one, raced from many
 * threads at once. Exits 0 if every child exited 0. */
#include <pthread.h>
#include <spawn.h>

#include "tests/tools/tool.h"

#define MAX_THREADS 64

static pthread_barrier_t start;
static long times;
static char **prog;

static void *spawner(void *arg)
{
    long *failed = arg;
    pid_t pid;
    long i;

    pthread_barrier_wait(&start);
    for (i = 0; i < times; i++) {
        if (posix_spawn(&pid, prog[0], NULL, NULL, prog, environ) != 0 ||
            tool_wait(pid) != 0) {
            (*failed)++;
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t th[MAX_THREADS];
    long failed[MAX_THREADS] = {0};
    long total = 0;
    int n, i;

    n = argc > 3 ? atoi(argv[1]) : 0;
    times = argc > 3 ? atol(argv[2]) : 0;
    if (n < 1 || n > MAX_THREADS || times < 1) {
        fputs("usage: spawn_threads T N PROG [ARG]...\n", stderr);
        return 2;
    }
    prog = argv + 3;
    pthread_barrier_init(&start, NULL, (unsigned)n);
    for (i = 0; i < n; i++) {
        pthread_create(&th[i], NULL, spawner, &failed[i]);
    }
    for (i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        total += failed[i];
    }
    printf("spawns %ld, failed %ld\n", n * times, total);
    return total == 0 ? 0 : 1;
}
