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
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HELPER_STACK (64 * 1024)
/* No shared recorder answers: record another way. */
#define NO_SERVER (-EHOSTUNREACH)

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

static void send_request(struct wbuf *w, const struct kest_proc *proc,
                         const struct kest_exec *ev, const char *op,
                         const char *exec_hash, int err)
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
    field_num(w, 'P', proc->pid);
    field_str(w, 'i', proc->instance);
    field_num(w, 'q', (long long)proc->seq);
    field_str(w, 'O', proc->origin);
    field_str(w, 'h', exec_hash);
    field_num(w, 'n', err);
    flush(w);
}

static void reverse(char *a, char *end)
{
    while (a < --end) {
        char t = *a;

        *a++ = *end;
        *end = t;
    }
}

struct child_args {
    int fd;          /* the request's socket, or -1 for none */
    const char *name; /* become the shared recorder by this name */
};

static int helper_child(void *arg)
{
    struct child_args *a = arg;
    char fdnum[16] = "-";
    char *argv[] = {"kest-record", fdnum, (char *)a->name, NULL};
    unsigned n = (unsigned)a->fd;
    size_t i = 0;

    /* The descriptor's number, by hand (no stdio here); none: "-". */
    if (a->fd >= 0) {
        do {
            fdnum[i++] = (char)('0' + n % 10);
            n /= 10;
        } while (n > 0);
        fdnum[i] = '\0';
        reverse(fdnum, fdnum + i);
        fcntl(a->fd, F_SETFD, 0);
    }
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
    if (p == NULL ||
        (strlen(out->hash) != 64 && strcmp(out->hash, "-") != 0) ||
        (strlen(out->origin) != 64 && strcmp(out->origin, "0") != 0) ||
        (strlen(out->instance) != 32 && strcmp(out->instance, "-") != 0)) {
        return -EPROTO;
    }
    if (out->hash[0] == '-') {
        out->hash[0] = '\0';
    }
    if (out->instance[0] == '-') {
        out->instance[0] = '\0';
    }
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

/* The process state moves on as kest-record reports it. */
static int take_reply(struct kest_proc *proc, const struct reply *rep,
                      char hash[65])
{
    memcpy(proc->origin, rep->origin, sizeof(rep->origin));
    memcpy(proc->instance, rep->instance, sizeof(rep->instance));
    proc->seq = rep->seq;
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

/* FNV-1a, two lanes with different offsets: a name, not a MAC (the
 * server's uid is what is checked). */
static void mix(uint64_t h[2], const void *p, size_t n)
{
    const uint8_t *b = p;
    size_t i;

    for (i = 0; i < n; i++) {
        h[0] = (h[0] ^ b[i]) * 0x100000001b3ull;
        h[1] = (h[1] ^ b[i]) * 0x100000001b3ull;
    }
    h[1] ^= h[1] >> 29;
}

static bool relative(const char *name)
{
    size_t n = strlen(name);
    size_t i;

    for (i = 0; shim.helper_env[i] != NULL; i++) {
        const char *e = shim.helper_env[i];

        if (strncmp(e, name, n) == 0 && e[n] == '=' && e[n + 1] != '/') {
            return true;
        }
    }
    return false;
}


/* The shared recorder's name for this configuration, into out (64
 * bytes): kest-record's file, the start-up settings, our effective uid,
 * root directory and mount namespace (a chroot or another namespace
 * sees other files). NULL when no recorder may be shared. */
const char *shim_server_name(char out[64])
{
    uint64_t h[2] = {0xcbf29ce484222325ull, 0x84222325cbf29ce4ull};
    char link[128];
    struct stat st;
    uid_t uid = geteuid();
    ssize_t n;
    size_t i;

    /* A log or key named relative to the working directory is not
     * shared: the recorder lives in "/". */
    if (!shim.shared || shim.helper[0] == '\0' || relative("KEST_LOG") ||
        relative("KEST_KEY") || stat(shim.helper, &st) < 0) {
        return NULL;
    }
    mix(h, &st.st_dev, sizeof(st.st_dev));
    mix(h, &st.st_ino, sizeof(st.st_ino));
    mix(h, &st.st_mtim, sizeof(st.st_mtim));
    for (i = 0; shim.helper_env[i] != NULL; i++) {
        mix(h, shim.helper_env[i], strlen(shim.helper_env[i]) + 1);
    }
    if (stat("/", &st) < 0) {
        return NULL;
    }
    mix(h, &st.st_dev, sizeof(st.st_dev));
    mix(h, &st.st_ino, sizeof(st.st_ino));
    /* The pid namespace too: the recorder checks each request's pid
     * against the one the kernel reports in its own namespace. */
    n = readlink("/proc/self/ns/mnt", link, sizeof(link));
    if (n <= 0) {
        return NULL;
    }
    mix(h, link, (size_t)n);
    n = readlink("/proc/self/ns/pid", link, sizeof(link));
    if (n <= 0) {
        return NULL;
    }
    mix(h, link, (size_t)n);
    /* "kest-UID-HASH", by hand: no stdio in a vfork child. */
    memcpy(out, "kest-", 5);
    n = 5;
    do {
        out[n++] = (char)('0' + uid % 10);
        uid /= 10;
    } while (uid > 0);
    reverse(out + 5, out + n);
    out[n++] = '-';
    for (i = 0; i < 32; i++) {
        out[n++] = "0123456789abcdef"[(h[i / 16] >> (60 - 4 * (i % 16))) &
                                     15];
    }
    out[n] = '\0';
    return out;
}

socklen_t shim_server_addr(struct sockaddr_un *a)
{
    char name[64];
    size_t n;

    if (shim_server_name(name) == NULL) {
        return 0;
    }
    n = strlen(name);
    memset(a, 0, sizeof(*a));
    a->sun_family = AF_UNIX;
    memcpy(a->sun_path + 1, name, n); /* abstract: sun_path[0] is 0 */
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

/* Send the request on fd and read the answer, within the wait. */
static int converse(int fd, const struct kest_proc *proc,
                    const struct kest_exec *ev, const char *op,
                    const char *exec_hash, int err, struct reply *rep)
{
    struct wbuf w;

    fcntl(fd, F_SETFL, O_NONBLOCK);
    w.fd = fd;
    w.len = 0;
    w.err = 0;
    w.deadline_ms = now_ms() + shim.helper_wait_ms;
    send_request(&w, proc, ev, op, exec_hash, err);
    shutdown(fd, SHUT_WR);
    return w.err < 0 ? w.err : read_reply(fd, w.deadline_ms, rep);
}

static int call_helper(struct kest_proc *proc, const struct kest_exec *ev,
                       const char *op, const char *exec_hash, int err,
                       char hash[65], struct reply *rep)
{
    struct child_args a;
    char name[64];
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
    a.name = shim_server_name(name);
    pid = start_helper(&a);
    close(sv[1]);
    if (pid < 0) {
        close(sv[0]);
        return pid;
    }
    rc = converse(sv[0], proc, ev, op, exec_hash, err, rep);
    close(sv[0]);
    if (rc == -ETIMEDOUT) {
        kill(pid, SIGKILL);
    }
    while (waitpid(pid, &st, __WALL) < 0 && errno == EINTR) {
    }
    return rc < 0 ? rc : take_reply(proc, rep, hash);
}

/* The shared recorder, if one of our own user listens under our name.
 * Returns NO_SERVER when none does (the caller records another way). */
static int call_server(struct kest_proc *proc, const struct kest_exec *ev,
                       const char *op, const char *exec_hash, int err,
                       char hash[65], struct reply *rep)
{
    struct sockaddr_un a;
    struct ucred cred;
    socklen_t cl = sizeof(cred);
    socklen_t n = shim_server_addr(&a);
    int fd, rc;

    if (n == 0) {
        return NO_SERVER;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        return NO_SERVER;
    }
    /* Non-blocking: a full backlog means "record another way". The
     * uid check keeps another user's squatter out. */
    if (connect(fd, (struct sockaddr *)&a, n) < 0 ||
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 ||
        cred.uid != geteuid()) {
        close(fd);
        return NO_SERVER;
    }
    rc = converse(fd, proc, ev, op, exec_hash, err, rep);
    close(fd);
    return rc < 0 ? rc : take_reply(proc, rep, hash);
}

/* Once per process, unless KEST_QUIET: the exec goes ahead unattested.
 * Same words as the in-process warning, from pieces (no stdio here). */
static void warn(bool *warned, const char *api, int rc,
                 const struct reply *rep)
{
    const char *parts[5] = {"kest: warning: ", api, " not attested: ",
                            rep->reason, "\n"};
    size_t i;

    if (shim.quiet || *warned) {
        return;
    }
    *warned = true;
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

struct remote {
    struct kest_proc *proc;
    bool *warned;
    bool locked;   /* proc is the process's own, shared by its threads */
    bool fallback; /* nothing written: let the caller record in process */
};

/* Threads of one process share its state (shim.proc), so their records
 * go one at a time, as the engine's lock orders them in process. Never
 * taken in a vfork child or a threaded fork's child. */
static pthread_mutex_t remote_mu = PTHREAD_MUTEX_INITIALIZER;

/* The shared recorder if one answers, else a kest-record started for
 * this record (which stays on as the shared recorder). */
static int remote_record(const struct remote *rm,
                         const struct kest_exec *ev, const char *op,
                         const char *exec_hash, int err, char hash[65],
                         struct reply *rep, bool *served)
{
    int rc;

    memset(rep, 0, sizeof(*rep));
    if (rm->locked) {
        pthread_mutex_lock(&remote_mu);
    }
    rc = call_server(rm->proc, ev, op, exec_hash, err, hash, rep);
    *served = rc != NO_SERVER;
    if (rc == NO_SERVER) {
        memset(rep, 0, sizeof(*rep));
        rc = call_helper(rm->proc, ev, op, exec_hash, err, hash, rep);
    }
    if (rm->locked) {
        pthread_mutex_unlock(&remote_mu);
    }
    return rc;
}

/* Record ev elsewhere, run it, record a failure. NO_SERVER (nothing
 * done) if rm allows a fallback and no record could be written. */
static int remote_exec(const struct remote *rm, const struct kest_exec *ev,
                       shim_run_fn run, void *arg)
{
    int saved = errno;
    char restored[256];
    char scratch[SHIM_PATH_MAX * 2];
    char *envp[shim_env_count(ev->envp) + SHIM_STICKY_MAX + 2];
    struct kest_exec rec = *ev;
    struct reply rep;
    char hash[65];
    bool served;
    int rc, r, err;

    shim_env_restored(ev->envp, restored, sizeof(restored));
    rec.restored = restored[0] ? restored : NULL;
    rc = remote_record(rm, &rec, "exec", NULL, 0, hash, &rep, &served);
    if (rc < 0 && rm->fallback) {
        errno = saved;
        return NO_SERVER;
    }
    shim_note_recorded(served);
    if (rc != KEST_SIGNED) {
        if (shim.fail_closed) {
            shim_say("refused (KEST_FAIL=closed): ", ev->api, "");
            errno = EACCES;
            return -1;
        }
        warn(rm->warned, ev->api, rc, &rep);
    }
    shim_env_build(ev->envp, rc >= 0 ? hash : rm->proc->origin, envp,
                   scratch, restored, sizeof(restored));
    errno = saved;
    r = run(ev, envp, arg);
    err = errno;
    if (r == -1 && rc >= 0) {
        char h2[65];

        (void)remote_record(rm, &rec, "exec_failed", hash, err, h2, &rep,
                            &served);
    }
    errno = err;
    return r;
}

int shim_helper_exec(const struct kest_exec *ev, shim_run_fn run,
                     void *arg)
{
    pid_t me = getpid();
    struct remote rm = {&slot.proc, &slot.warned, false, false};

    if (slot.pid != me) {
        slot.pid = me;
        slot.warned = false;
        slot.proc = shim.proc;
        slot.proc.pid = (int32_t)me;
        slot.proc.instance[0] = '\0';
        slot.proc.seq = 0;
    }
    return remote_exec(&rm, ev, run, arg);
}

int shim_server_exec(const struct kest_exec *ev, shim_run_fn run,
                     void *arg, bool *done)
{
    struct remote rm = {&shim.proc, &shim.warned, true, true};
    int r = remote_exec(&rm, ev, run, arg);

    *done = r != NO_SERVER;
    return r;
}

int shim_server_warm(bool start)
{
    struct kest_exec ev = {.api = "fork", .fd = -100};
    struct reply rep;
    char hash[65];
    int rc;

    memset(&rep, 0, sizeof(rep));
    if (start) {
        rc = call_helper(&shim.proc, &ev, "warm", NULL, 0, hash, &rep);
        return rc < 0 ? rc : 0;
    }
    rc = call_server(&shim.proc, &ev, "warm", NULL, 0, hash, &rep);
    return rc < 0 ? rc : 0;
}
