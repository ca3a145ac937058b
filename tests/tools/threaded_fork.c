/* SPDX-License-Identifier: Apache-2.0 */
/* Test tool: threaded_fork N PROG [ARG]... records one posix_spawn of
 * /bin/true, then runs eight threads hashing with OpenSSL (which takes
 * its internal locks all the time) while one more thread forks N times
 * and execs PROG in each child. A hook that locked or allocated in such
 * a child would sooner or later hang on a lock a hashing thread held. */
#include <openssl/evp.h>
#include <pthread.h>
#include <spawn.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "tests/tools/tool.h"

#define HASHERS 8

static atomic_int stop;

static void *hasher(void *arg)
{
    unsigned char data[4096];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned long n = 0;

    (void)arg;
    memset(data, 0x5a, sizeof(data));
    while (!atomic_load(&stop)) {
        void *junk = malloc(64 + n % 4096);

        data[0] = (unsigned char)n++;
        if (EVP_Digest(data, sizeof(data), md, NULL, EVP_sha256(),
                       NULL) != 1) {
            fputs("threaded_fork: EVP_Digest failed\n", stderr);
        }
        free(junk);
    }
    return NULL;
}

struct forker {
    long times;
    char **argv;
    long failed;
};

static void *forker(void *arg)
{
    struct forker *f = arg;
    long i;

    for (i = 0; i < f->times; i++) {
        pid_t pid = fork();

        if (pid == 0) {
            execv(f->argv[0], f->argv);
            _exit(127);
        }
        if (pid < 0 || tool_wait(pid) != 0) {
            f->failed++;
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    char *true_argv[] = {"true", NULL};
    pthread_t th[HASHERS + 1];
    struct forker f = {0, argv + 2, 0};
    pid_t pid;
    int i;

    if (argc < 3 || (f.times = atol(argv[1])) <= 0) {
        fputs("usage: threaded_fork N PROG [ARG]...\n", stderr);
        return 2;
    }
    if (posix_spawn(&pid, "/bin/true", NULL, NULL, true_argv, environ) ||
        tool_wait(pid) != 0) {
        return tool_failed("posix_spawn", errno);
    }
    for (i = 0; i < HASHERS; i++) {
        pthread_create(&th[i], NULL, hasher, NULL);
    }
    pthread_create(&th[HASHERS], NULL, forker, &f);
    pthread_join(th[HASHERS], NULL);
    atomic_store(&stop, 1);
    for (i = 0; i < HASHERS; i++) {
        pthread_join(th[i], NULL);
    }
    printf("forks %ld, failed %ld\n", f.times, f.failed);
    return f.failed == 0 ? 0 : 1;
}
