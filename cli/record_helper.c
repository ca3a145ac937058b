/* SPDX-License-Identifier: Apache-2.0 */
/* kest-record: signs and appends records for hooks that cannot, or had
 * better not, do so themselves (vfork children, children of threaded
 * forks, fork children of a shell loop). Started by libkest.so as
 * "kest-record FD [NAME]": reads one event from FD ("-" for none),
 * answers with the outcome (see answer()), then, given NAME, lives on
 * as the shared recorder listening on that abstract socket until idle
 * (see serve()). Not for users. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/engine.h"

#define REQ_MAX (256u << 20)
/* The shared recorder leaves after this long without a request. */
#define SERVE_IDLE_MS 10000
/* ... and closes the log after this long without one. */
#define SERVE_CLOSE_MS 200
/* A connected client has this long to send its whole request. */
#define SERVE_READ_S 5

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

/* A decimal int; anything else makes the request malformed. */
static int int_field(const char *s, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno != 0 || v < INT_MIN ||
        v > INT_MAX) {
        return -EPROTO;
    }
    *out = (int)v;
    return 0;
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
        int rc = 0;

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
        case 'f': rc = int_field(s, &r->ev.fd); break;
        case 'g': rc = int_field(s, &r->ev.at_flags); break;
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
        case 'P': rc = int_field(s, &r->proc.pid); break;
        case 'i': copy_field(r->proc.instance, 33, s); break;
        case 'q': r->proc.seq = strtoull(s, NULL, 10); break;
        case 'O': copy_field(r->proc.origin, 65, s); break;
        case 'h': r->exec_hash = s; break;
        case 'n': rc = int_field(s, &r->err); break;
        default: return -EPROTO;
        }
        if (rc < 0) {
            return rc;
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

static void req_free(struct req *r)
{
    free(r->argv);
    free(r->envp);
    buf_cleanup(&r->raw);
    memset(r, 0, sizeof(*r));
}

/* Read, record and answer one request on fd. peer is the pid the
 * kernel vouches for, or 0 when the caller is our own parent. */
static int handle(int fd, pid_t peer)
{
    struct req r;
    char hash[65] = "";
    int rc;

    memset(&r, 0, sizeof(r));
    buf_init(&r.raw);
    rc = read_all(fd, &r.raw);
    if (rc == 0 && r.raw.len == 0 && peer != 0) {
        req_free(&r);
        return 0; /* a client looking whether we are up */
    }
    if (rc == 0) {
        rc = parse(&r);
    }
    /* A shared recorder speaks only for the process on the line. */
    if (rc == 0 && peer != 0 && r.proc.pid != (int32_t)peer) {
        rc = -EPERM;
    }
    if (rc == 0) {
        if (strcmp(r.op, "exec") == 0) {
            rc = kest_engine_exec(&r.proc, &r.ev, hash);
        } else if (strcmp(r.op, "warm") == 0) {
            /* A forking parent: its start record (if a root), which
             * its children will name as their parent. */
            rc = kest_engine_warm(&r.proc);
            memcpy(hash, r.proc.origin, sizeof(r.proc.origin));
        } else {
            rc = kest_engine_exec_failed(&r.proc,
                                         r.exec_hash ? r.exec_hash : "",
                                         r.err, hash);
        }
    }
    if (answer(fd, rc, hash, &r) < 0 && rc >= 0) {
        rc = -EIO;
    }
    req_free(&r);
    return rc;
}

static int listen_on(const char *name)
{
    struct sockaddr_un a;
    size_t n = strlen(name);
    int fd;

    if (n == 0 || n >= sizeof(a.sun_path) - 1) {
        return -EINVAL;
    }
    memset(&a, 0, sizeof(a));
    a.sun_family = AF_UNIX;
    memcpy(a.sun_path + 1, name, n); /* abstract: sun_path[0] is 0 */
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -errno;
    }
    if (bind(fd, (struct sockaddr *)&a,
             (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)) <
            0 ||
        listen(fd, 64) < 0) {
        int err = errno;

        close(fd);
        return -err;
    }
    return fd;
}

/* Serve requests from processes of our own user until idle. Clients
 * check our uid too (libkest.so), and each request must name the pid
 * the kernel reports for its connection. */
static void serve_loop(int lfd)
{
    struct pollfd p = {lfd, POLLIN, 0};
    struct timeval tv = {SERVE_READ_S, 0};

    for (;;) {
        struct ucred cred;
        socklen_t cl = sizeof(cred);
        int rc = poll(&p, 1, SERVE_CLOSE_MS);
        int c;

        if (rc == 0) {
            /* Idle: let go of the log (its file system may be about to
             * be unmounted), then leave if nobody comes. */
            kest_engine_idle();
            rc = poll(&p, 1, SERVE_IDLE_MS);
        }
        if (rc == 0) {
            return;
        }
        if (rc < 0) {
            if (errno == EINTR) {
                continue;
            }
            return;
        }
        c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) {
            continue;
        }
        if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0 &&
            cred.uid == geteuid() && cred.pid > 0) {
            setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
            (void)handle(c, cred.pid);
        }
        close(c);
    }
}

/* Become the shared recorder: a grandchild of whoever started us (so no
 * host process has to reap it), holding no descriptor of the host's.
 * Only for identities one process may sign with for many. */
static void serve(const char *name, int req_fd, bool detach)
{
    int lfd, fd;

    if (kest_engine_shareable() != 1) {
        return;
    }
    if (detach && fork() != 0) {
        return;
    }
    /* Keep no directory busy (an unmount must not wait for us) and
     * no terminal or pipe of the host's; stderr stays for KEST_DEBUG. */
    if (chdir("/") < 0) {
        _exit(0);
    }
    fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        if (getenv("KEST_DEBUG") == NULL) {
            dup2(fd, 2);
        }
        if (fd > 2) {
            close(fd);
        }
    }
    if (req_fd >= 0) {
        close(req_fd);
    }
    lfd = listen_on(name);
    if (lfd >= 0) {
        serve_loop(lfd);
    }
    _exit(0);
}

int main(int argc, char **argv)
{
    sigset_t none;
    int req_fd = -1;
    int rc = 0;

    if (argc < 2 || argc > 3) {
        fprintf(stderr, "kest-record: started by libkest.so only\n");
        return 2;
    }
    kest_engine_own_process();
    /* libkest.so starts us with every signal blocked. */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    (void)signal(SIGPIPE, SIG_IGN);
    /* Whatever else the host left open is not ours: a pipe kept open
     * here would keep its reader waiting. */
    if (strcmp(argv[1], "-") != 0 && int_field(argv[1], &req_fd) < 0) {
        fprintf(stderr, "kest-record: started by libkest.so only\n");
        return 2;
    }
    if (req_fd > 3) {
        close_range(3, (unsigned)req_fd - 1, 0);
    }
    close_range(req_fd >= 3 ? (unsigned)req_fd + 1 : 3, ~0u, 0);
    /* Started only to become the shared recorder: let the starter go on
     * at once (it waits for us to exit). */
    if (req_fd < 0 && argc == 3 && fork() != 0) {
        return 0;
    }
    /* A configuration error comes back from the record call with its
     * reason, as in the shim's own path. */
    (void)kest_engine_setup(getenv("KEST_DEBUG") != NULL);
    if (req_fd >= 0) {
        rc = handle(req_fd, 0);
        /* The caller reads to the end; a recorder forked below must not
         * hold that end open. */
        shutdown(req_fd, SHUT_RDWR);
    }
    if (argc == 3) {
        serve(argv[2], req_fd, req_fd >= 0);
    }
    return rc < 0 ? 1 : 0;
}
