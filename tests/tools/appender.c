/* SPDX-License-Identifier: Apache-2.0 */
/* Test tool: appends N signed exec records to the log that the KEST_*
 * variables name, through the engine API, as one process instance. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine.h"

static int parse_count(const char *s, unsigned long *out)
{
    char *end;

    errno = 0;
    *out = strtoul(s, &end, 10);
    if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0) {
        return -EINVAL;
    }
    return 0;
}

static int append_one(struct kest_proc *proc, unsigned long i)
{
    char num[24];
    char hash[65];
    char *argv[3];
    char *envp[1];
    struct kest_exec ev;
    int rc;

    snprintf(num, sizeof(num), "%lu", i);
    argv[0] = "true";
    argv[1] = num;
    argv[2] = NULL;
    envp[0] = NULL;
    memset(&ev, 0, sizeof(ev));
    ev.api = "appender";
    ev.path = "/bin/true";
    ev.fd = -100;
    ev.argv = argv;
    ev.envp = envp;
    rc = kest_engine_exec(proc, &ev, hash);
    if (rc != KEST_SIGNED) {
        fprintf(stderr, "appender: record %lu: %s (rc %d)\n", i,
                kest_engine_reason(), rc);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct kest_proc proc;
    unsigned long n;
    unsigned long i;
    int rc;

    kest_engine_own_process(); /* a stand-in for kest-record */
    if (argc != 2 || parse_count(argv[1], &n) < 0) {
        fputs("usage: appender N\n", stderr);
        return 2;
    }
    rc = kest_engine_setup(0);
    if (rc < 0) {
        fprintf(stderr, "appender: setup: %s\n", strerror(-rc));
        return 1;
    }
    kest_engine_proc_init(&proc);
    for (i = 0; i < n; i++) {
        if (append_one(&proc, i) < 0) {
            return 1;
        }
    }
    return 0;
}
