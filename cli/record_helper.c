/* SPDX-License-Identifier: Apache-2.0 */
/* kest-record: signs and appends one record for a hook that cannot do so
 * itself (vfork child, child of a multithreaded fork). Started by
 * libkest.so with the socket's descriptor number as its argument; reads
 * the event, answers with the outcome (see answer()). Not for users. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/engine.h"

#define REQ_MAX (256u << 20)

struct req {
    struct buf raw;
    struct kest_exec ev;
    struct kest_proc proc;
    const char *op;
    const char *exec_hash;
    int err;
    char **argv;
    char **envp;
};

static int read_all(int fd, struct buf *b)
{
    for (;;) {
        ssize_t n;

        if (buf_reserve(b, 65536) < 0) {
            return -ENOMEM;
        }
        n = read(fd, b->data + b->len, 65536);
        if (n == 0) {
            return 0;
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        b->len += (size_t)n;
        if (b->len > REQ_MAX) {
            return -E2BIG;
        }
    }
}

static int push(char ***v, size_t *n, char *s)
{
    char **nv = realloc(*v, (*n + 2) * sizeof(char *));

    if (nv == NULL) {
        return -ENOMEM;
    }
    nv[(*n)++] = s;
    nv[*n] = NULL;
    *v = nv;
    return 0;
}

static void copy_field(char *dst, size_t cap, const char *s)
{
    snprintf(dst, cap, "%s", s);
}

/* Fields are NUL-terminated in place: each one's length prefix belongs
 * to the next field, so its first byte can take the terminator. */
static int parse(struct req *r)
{
    uint8_t *p = r->raw.data + 5;
    uint8_t *end = r->raw.data + r->raw.len;
    size_t nargv = 0, nenv = 0;
    bool has_argv = false;

    if (r->raw.len < 5 || memcmp(r->raw.data, "KREQ1", 5) != 0) {
        return -EPROTO;
    }
    r->ev.fd = -100;
    while (p < end) {
        char tag;
        uint32_t n;
        char *s;

        if (end - p < 5) {
            return -EPROTO;
        }
        tag = (char)p[0];
        n = (uint32_t)p[1] | (uint32_t)p[2] << 8 | (uint32_t)p[3] << 16 |
            (uint32_t)p[4] << 24;
        if ((size_t)(end - p - 5) < n) {
            return -EPROTO;
        }
        memmove(p, p + 5, n);
        p[n] = '\0';
        s = (char *)p;
        p += n + 5;
        switch (tag) {
        case 'o': r->op = s; break;
        case 'a': r->ev.api = s; break;
        case 'p': r->ev.path = s; break;
        case 'f': r->ev.fd = atoi(s); break;
        case 'g': r->ev.at_flags = atoi(s); break;
        case 's': r->ev.search_path = s; break;
        case 'r': r->ev.restored = s; break;
        case 'V': has_argv = true; break;
        case 'v':
            if (push(&r->argv, &nargv, s) < 0) {
                return -ENOMEM;
            }
            break;
        case 'e':
            if (push(&r->envp, &nenv, s) < 0) {
                return -ENOMEM;
            }
            break;
        case 'P': r->proc.pid = atoi(s); break;
        case 'i': copy_field(r->proc.instance, 33, s); break;
        case 'q': r->proc.seq = strtoull(s, NULL, 10); break;
        case 'O': copy_field(r->proc.origin, 65, s); break;
        case 'h': r->exec_hash = s; break;
        case 'n': r->err = atoi(s); break;
        default: return -EPROTO;
        }
    }
    if (has_argv && r->argv == NULL && push(&r->argv, &nargv, NULL) < 0) {
        return -ENOMEM;
    }
    r->ev.argv = has_argv ? r->argv : NULL;
    r->ev.envp = r->envp;
    return r->op && r->ev.api && r->proc.origin[0] ? 0 : -EPROTO;
}

/* "RC HASH ORIGIN INSTANCE SEQ REASON\n", "-" for an empty field. */
static int answer(int fd, int rc, const char *hash, const struct req *r)
{
    const char *why = "";
    char out[1024];
    int n;

    if (rc != KEST_SIGNED) {
        why = r->op != NULL ? kest_engine_reason() : "";
        why = why[0] ? why : strerror(rc < 0 ? -rc : EPROTO);
    }
    n = snprintf(out, sizeof(out), "%d %s %s %s %llu %s", rc,
                 hash[0] ? hash : "-", r->proc.origin[0] ? r->proc.origin
                                                         : "0",
                 r->proc.instance[0] ? r->proc.instance : "-",
                 (unsigned long long)r->proc.seq, why);
    if (n < 0) {
        return -EINVAL;
    }
    if (n > (int)sizeof(out) - 2) {
        n = (int)sizeof(out) - 2;
    }
    out[n++] = '\n';
    return write(fd, out, (size_t)n) == n ? 0 : -EIO;
}

int main(int argc, char **argv)
{
    struct req r;
    char hash[65] = "";
    sigset_t none;
    int fd, rc;

    if (argc != 2) {
        fprintf(stderr, "kest-record: started by libkest.so only\n");
        return 2;
    }
    /* libkest.so starts us with every signal blocked. */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    fd = atoi(argv[1]);
    memset(&r, 0, sizeof(r));
    buf_init(&r.raw);
    rc = read_all(fd, &r.raw);
    if (rc == 0) {
        rc = parse(&r);
    }
    if (rc == 0) {
        /* A configuration error comes back from the record call below
         * with its reason, as in the shim's own path. */
        (void)kest_engine_setup(getenv("KEST_DEBUG") != NULL);
        if (strcmp(r.op, "exec") == 0) {
            rc = kest_engine_exec(&r.proc, &r.ev, hash);
        } else {
            rc = kest_engine_exec_failed(&r.proc,
                                         r.exec_hash ? r.exec_hash : "",
                                         r.err, hash);
        }
    }
    if (answer(fd, rc, hash, &r) < 0 && rc >= 0) {
        rc = -EIO;
    }
    free(r.argv);
    free(r.envp);
    buf_cleanup(&r.raw);
    return rc < 0 ? 1 : 0;
}
