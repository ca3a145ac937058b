/* SPDX-License-Identifier: Apache-2.0 */
/* Recording from a vfork child or the child of a multithreaded fork.
 * Such a hook may not allocate, take locks, or change memory its parent
 * will look at, so it hands the event to kest-record, a fresh process
 * that signs and appends, and waits for the record's hash. Only system
 * calls and stack memory are used here. */
#include "shim/shim.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HELPER_STACK (64 * 1024)

/* The process state of a vfork child lives in the TLS of the thread that
 * called vfork: that thread is suspended until the child execs and never
 * reads this slot, so the parent sees no change. */
static SHIM_TLS struct {
    pid_t pid;
    bool warned;
    struct kest_proc proc;
} slot;

struct wbuf {
    int fd;
    size_t len;
    int err;
    long deadline_ms;
    char data[4096];
};

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int wait_fd(int fd, short ev, long deadline)
{
    struct pollfd p = {fd, ev, 0};
    long left = deadline - now_ms();
    int rc;

    if (left <= 0) {
        return -ETIMEDOUT;
    }
    rc = poll(&p, 1, (int)left);
    if (rc == 0) {
        return -ETIMEDOUT;
    }
    return rc < 0 && errno != EINTR ? -errno : 0;
}

static void flush(struct wbuf *w)
{
    size_t off = 0;

    while (w->err == 0 && off < w->len) {
        /* MSG_NOSIGNAL: if kest-record is gone, SIGPIPE would kill the
         * host's child instead of just failing the record. */
        ssize_t n = send(w->fd, w->data + off, w->len - off, MSG_NOSIGNAL);

        if (n > 0) {
            off += (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            w->err = wait_fd(w->fd, POLLOUT, w->deadline_ms);
        } else {
            w->err = -EPIPE;
        }
    }
    w->len = 0;
}

static void put(struct wbuf *w, const void *p, size_t n)
{
    const char *s = p;

    while (n > 0 && w->err == 0) {
        size_t k = sizeof(w->data) - w->len;

        if (k > n) {
            k = n;
        }
        memcpy(w->data + w->len, s, k);
        w->len += k;
        s += k;
        n -= k;
        if (w->len == sizeof(w->data)) {
            flush(w);
        }
    }
}

/* One field: tag byte, 32-bit little-endian length, bytes. */
static void field(struct wbuf *w, char tag, const char *s, size_t n)
{
    uint8_t h[5] = {(uint8_t)tag, (uint8_t)n, (uint8_t)(n >> 8),
                    (uint8_t)(n >> 16), (uint8_t)(n >> 24)};

    put(w, h, sizeof(h));
    put(w, s, n);
}

static void field_str(struct wbuf *w, char tag, const char *s)
{
    if (s != NULL) {
        field(w, tag, s, strlen(s));
    }
}

static void field_num(struct wbuf *w, char tag, long long v)
{
    char tmp[24];
    char *p = tmp + sizeof(tmp);
    unsigned long long u = v < 0 ? (unsigned long long)-v
                                 : (unsigned long long)v;

    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u > 0);
    if (v < 0) {
        *--p = '-';
    }
    field(w, tag, p, (size_t)(tmp + sizeof(tmp) - p));
}

static void send_request(struct wbuf *w, const struct kest_exec *ev,
                         const char *op, const char *exec_hash, int err)
{
    size_t i;

    put(w, "KREQ1", 5);
    field_str(w, 'o', op);
    field_str(w, 'a', ev->api);
    field_str(w, 'p', ev->path);
    field_num(w, 'f', ev->fd);
    field_num(w, 'g', ev->at_flags);
    field_str(w, 's', ev->search_path);
    field_str(w, 'r', ev->restored);
    if (ev->argv != NULL) {
        field(w, 'V', "", 0);
        for (i = 0; ev->argv[i] != NULL; i++) {
            field_str(w, 'v', ev->argv[i]);
        }
    }
    for (i = 0; ev->envp != NULL && ev->envp[i] != NULL; i++) {
        field_str(w, 'e', ev->envp[i]);
    }
    field_num(w, 'P', slot.proc.pid);
    field_str(w, 'i', slot.proc.instance);
    field_num(w, 'q', (long long)slot.proc.seq);
    field_str(w, 'O', slot.proc.origin);
    field_str(w, 'h', exec_hash);
    field_num(w, 'n', err);
    flush(w);
}

struct child_args {
    int fd;
};

static int helper_child(void *arg)
{
    struct child_args *a = arg;
    char fdnum[16];
    char *argv[] = {"kest-record", fdnum, NULL};
    int n = a->fd, i = 0;
    char rev[16];

    do {
        rev[i++] = (char)('0' + n % 10);
        n /= 10;
    } while (n > 0);
    for (n = 0; n < i; n++) {
        fdnum[n] = rev[i - 1 - n];
    }
    fdnum[i] = '\0';
    fcntl(a->fd, F_SETFD, 0);
    syscall(SYS_execve, shim.helper, argv, shim.helper_env);
    syscall(SYS_exit, 127);
    return 127;
}

/* Copy the space-delimited token at p into out (cap bytes with its
 * NUL). Returns the rest of the text, or NULL if the token is empty or
 * too long. */
static const char *token(const char *p, const char *end, char *out,
                         size_t cap)
{
    size_t n = 0;

    while (p < end && *p != ' ' && *p != '\n') {
        if (n + 1 >= cap) {
            return NULL;
        }
        out[n++] = *p++;
    }
    out[n] = '\0';
    if (n == 0) {
        return NULL;
    }
    return p < end && *p == ' ' ? p + 1 : p;
}

struct reply {
    int rc;
    char hash[65];      /* "" when nothing was written */
    char origin[65];    /* "0" or a record hash */
    char instance[33];  /* "" when none was made */
    unsigned long long seq;
    char reason[256];
};

/* "RC HASH ORIGIN INSTANCE SEQ REASON\n"; "-" stands for an empty
 * field. Checked for shape only: kest-record is our own program. */
static int parse_reply(const char *r, size_t n, struct reply *out)
{
    const char *end = r + n;
    const char *p = r;
    char num[24];
    char seq[24];
    size_t k = 0;

    p = token(p, end, num, sizeof(num));
    p = p ? token(p, end, out->hash, sizeof(out->hash)) : NULL;
    p = p ? token(p, end, out->origin, sizeof(out->origin)) : NULL;
    p = p ? token(p, end, out->instance, sizeof(out->instance)) : NULL;
    p = p ? token(p, end, seq, sizeof(seq)) : NULL;
    if (p == NULL || (strlen(out->hash) != 64 && strcmp(out->hash, "-")) ||
        (strlen(out->origin) != 64 && strcmp(out->origin, "0")) ||
        (strlen(out->instance) != 32 && strcmp(out->instance, "-"))) {
        return -EPROTO;
    }
    out->hash[0] = out->hash[0] == '-' ? '\0' : out->hash[0];
    out->instance[0] = out->instance[0] == '-' ? '\0' : out->instance[0];
    out->rc = (int)strtol(num, NULL, 10);
    out->seq = strtoull(seq, NULL, 10);
    while (p < end && *p != '\n' && k + 1 < sizeof(out->reason)) {
        out->reason[k++] = *p++;
    }
    out->reason[k] = '\0';
    return 0;
}

static int read_reply(int fd, long deadline, struct reply *out)
{
    char r[512];
    size_t n = 0;
    int rc;

    for (;;) {
        ssize_t k = read(fd, r + n, sizeof(r) - 1 - n);

        if (k > 0) {
            n += (size_t)k;
            if (n == sizeof(r) - 1) {
                break;
            }
            continue;
        }
        if (k == 0) {
            break;
        }
        if (errno != EAGAIN && errno != EINTR) {
            return -errno;
        }
        rc = wait_fd(fd, POLLIN, deadline);
        if (rc < 0) {
            return rc;
        }
    }
    r[n] = '\0';
    return parse_reply(r, n, out);
}

/* The child's process state moves on as kest-record reports it. */
static int take_reply(const struct reply *rep, char hash[65])
{
    memcpy(slot.proc.origin, rep->origin, sizeof(rep->origin));
    memcpy(slot.proc.instance, rep->instance, sizeof(rep->instance));
    slot.proc.seq = rep->seq;
    memcpy(hash, rep->hash, sizeof(rep->hash));
    if (rep->rc >= 0 && hash[0] == '\0') {
        return -EPROTO;
    }
    return rep->rc;
}

/* Start kest-record on a private stack. Every signal stays blocked
 * until it has replaced its image, so no handler of the host runs in a
 * child that shares the host's memory (what posix_spawn does too). */
static pid_t start_helper(struct child_args *a)
{
    sigset_t all, old;
    void *stack;
    pid_t pid;

    stack = mmap(NULL, HELPER_STACK, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
        return -ENOMEM;
    }
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, &old);
    /* CLONE_VFORK: we wait until kest-record has replaced the image, so
     * the stack can go; no exit signal, so no SIGCHLD reaches the host's
     * handlers. */
    pid = clone(helper_child, (char *)stack + HELPER_STACK,
                CLONE_VM | CLONE_VFORK, a);
    sigprocmask(SIG_SETMASK, &old, NULL);
    munmap(stack, HELPER_STACK);
    return pid < 0 ? -EAGAIN : pid;
}

static int call_helper(const struct kest_exec *ev, const char *op,
                       const char *exec_hash, int err, char hash[65],
                       struct reply *rep)
{
    struct child_args a;
    struct wbuf w;
    pid_t pid;
    int sv[2];
    int st;
    int rc;

    if (shim.helper[0] == '\0') {
        return -ENOENT;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        return -errno;
    }
    a.fd = sv[1];
    pid = start_helper(&a);
    close(sv[1]);
    if (pid < 0) {
        close(sv[0]);
        return pid;
    }
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    w.fd = sv[0];
    w.len = 0;
    w.err = 0;
    w.deadline_ms = now_ms() + shim.helper_wait_ms;
    send_request(&w, ev, op, exec_hash, err);
    shutdown(sv[0], SHUT_WR);
    rc = w.err < 0 ? w.err : read_reply(sv[0], w.deadline_ms, rep);
    close(sv[0]);
    if (rc == -ETIMEDOUT) {
        kill(pid, SIGKILL);
    }
    while (waitpid(pid, &st, __WALL) < 0 && errno == EINTR) {
    }
    return rc < 0 ? rc : take_reply(rep, hash);
}

/* Once per process, unless KEST_QUIET: the exec goes ahead unattested.
 * Same words as the in-process warning, from pieces (no stdio here). */
static void warn(const char *api, int rc, const struct reply *rep)
{
    const char *parts[5] = {"kest: warning: ", api, " not attested: ",
                            rep->reason, "\n"};
    size_t i;

    if (shim.quiet || slot.warned) {
        return;
    }
    slot.warned = true;
    if (rep->reason[0] == '\0') {
        parts[3] = rc == -ETIMEDOUT ? "kest-record timed out"
                                    : "kest-record failed";
    }
    for (i = 0; i < 5; i++) {
        if (write(2, parts[i], strlen(parts[i])) < 0) {
            return;
        }
    }
}

int shim_helper_exec(const struct kest_exec *ev, shim_run_fn run,
                     void *arg)
{
    int saved = errno;
    pid_t me = getpid();
    char restored[256];
    char scratch[SHIM_PATH_MAX * 2];
    char *envp[shim_env_count(ev->envp) + SHIM_STICKY_MAX + 2];
    struct kest_exec rec = *ev;
    struct reply rep;
    char hash[65];
    int rc, r, err;

    if (slot.pid != me) {
        slot.pid = me;
        slot.warned = false;
        slot.proc = shim.proc;
        slot.proc.pid = (int32_t)me;
        slot.proc.instance[0] = '\0';
        slot.proc.seq = 0;
    }
    shim_env_restored(ev->envp, restored, sizeof(restored));
    rec.restored = restored[0] ? restored : NULL;
    memset(&rep, 0, sizeof(rep));
    rc = call_helper(&rec, "exec", NULL, 0, hash, &rep);
    shim_note_recorded();
    if (rc != KEST_SIGNED) {
        if (shim.fail_closed) {
            shim_say("refused (KEST_FAIL=closed): ", ev->api, "");
            errno = EACCES;
            return -1;
        }
        warn(ev->api, rc, &rep);
    }
    shim_env_build(ev->envp, rc >= 0 ? hash : slot.proc.origin, envp,
                   scratch, restored, sizeof(restored));
    errno = saved;
    r = run(ev, envp, arg);
    err = errno;
    if (r == -1 && rc >= 0) {
        char h2[65];

        (void)call_helper(&rec, "exec_failed", hash, err, h2, &rep);
    }
    errno = err;
    return r;
}
