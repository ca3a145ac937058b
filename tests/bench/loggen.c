/* SPDX-License-Identifier: Apache-2.0 */
/* Grows the log named by KEST_LOG (signed with the KEST_* identity) to at
 * least a given size with exec records shaped like a build's: a root
 * process execs a shell, the shell execs a compiler and an assembler. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/engine.h"

/* Names only are recorded; values stay out of the log. */
static char *bench_env[] = {
    "PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/home/ci", "LANG=C.UTF-8",
    "USER=ci", "SHELL=/bin/bash", "PWD=/home/ci/src", "TERM=xterm",
    "MAKEFLAGS=-j2", "MAKELEVEL=1", "MFLAGS=-j2", "CC=cc",
    "CFLAGS=-O2 -g", "LDFLAGS=", "CI=true", "CI_JOB_ID=4242",
    "CI_COMMIT_SHA=0123456789abcdef", "LOGNAME=ci", "SHLVL=2",
    "OLDPWD=/home/ci", "_=/usr/bin/make", NULL};

static int one(struct kest_proc *p, const char *path, char **argv,
               char hash[65])
{
    struct kest_exec ev;
    int rc;

    memset(&ev, 0, sizeof(ev));
    ev.api = "execve";
    ev.path = path;
    ev.fd = -100;
    ev.argv = argv;
    ev.envp = bench_env;
    rc = kest_engine_exec(p, &ev, hash);
    if (rc != KEST_SIGNED) {
        fprintf(stderr, "loggen: %s (rc %d)\n", kest_engine_reason(), rc);
        return -1;
    }
    return 0;
}

/* One shell below the root, and the two programs it runs. */
static int family(struct kest_proc *root, unsigned long i)
{
    char src[32], obj[32], dep[40], cmd[256], hash[65];
    char *sh[] = {"/bin/sh", "-c", cmd, NULL};
    char *cc[] = {"cc", "-O2", "-g", "-Wall", "-Wextra", "-std=c11",
                  "-D_GNU_SOURCE", "-DNDEBUG", "-Iinclude", "-Ibuild/include",
                  "-fPIC", "-pipe", "-MD", "-MP", "-MF", dep, "-c", src,
                  "-o", obj, NULL};
    char *as[] = {"as", "--64", "-o", obj, "/tmp/ccXXXXXX.s", NULL};
    struct kest_proc child;

    snprintf(src, sizeof(src), "src/f%lu.c", i);
    snprintf(obj, sizeof(obj), "obj/f%lu.o", i);
    snprintf(dep, sizeof(dep), "obj/f%lu.o.d", i);
    snprintf(cmd, sizeof(cmd),
             "cc -O2 -g -Wall -Wextra -std=c11 -D_GNU_SOURCE -DNDEBUG "
             "-Iinclude -Ibuild/include -fPIC -pipe -MD -MP -MF %s -c %s "
             "-o %s", dep, src, obj);
    if (one(root, "/bin/sh", sh, hash) < 0) {
        return -1;
    }
    memset(&child, 0, sizeof(child));
    child.pid = root->pid;
    memcpy(child.origin, hash, sizeof(child.origin));
    if (one(&child, "/usr/bin/cc", cc, hash) < 0 ||
        one(&child, "/usr/bin/as", as, hash) < 0) {
        return -1;
    }
    return 0;
}

static long long log_size(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

/* usage: loggen MIB. Several may run at once on one log; each stops once
 * the log has reached MIB mebibytes. */
int main(int argc, char **argv)
{
    const char *log = getenv("KEST_LOG");
    struct kest_proc root;
    long long target;
    unsigned long i;
    int rc;

    if (argc != 2 || atoll(argv[1]) <= 0 || log == NULL) {
        fputs("usage: KEST_LOG=... KEST_KEY=... loggen MIB\n", stderr);
        return 2;
    }
    target = atoll(argv[1]) * 1024 * 1024;
    rc = kest_engine_setup(0);
    if (rc < 0) {
        fprintf(stderr, "loggen: setup: %s\n", strerror(-rc));
        return 1;
    }
    kest_engine_proc_init(&root);
    for (i = 0; log_size(log) < target; i++) {
        if (family(&root, (unsigned long)getpid() * 1000000UL + i) < 0) {
            return 1;
        }
    }
    return 0;
}
