/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/engine: records made as the shim makes them, with
 * each allocation in turn made to fail (issue #8). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/engine.h"
#include "core/key.h"
#include "core/record.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED true
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED true
#endif
#endif
#ifndef SANITIZED
#define SANITIZED false
#endif
/* A run that still fails an allocation after this many is stuck. */
#define MAX_POINTS 200000

extern char **environ;

/* Failure injection. Our own calls reach the wrappers below through
 * -Wl,--wrap (tests/CMakeLists.txt), OpenSSL's and jansson's through
 * their allocator hooks, installed in main() before either allocates.
 * Allocations are counted by kind, kest's own and jansson's apart from
 * OpenSSL's; only an attempt's child arms it, and then allocation
 * inj_at (from 1) of kind inj_kind fails. */
enum inj_kind { INJ_OURS, INJ_OSSL };

static bool inj_armed;
static long inj_count[2];
static int inj_kind;
static long inj_at;
static long inj_failed;

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
int __real_vasprintf(char **p, const char *fmt, va_list ap);
int __real___vasprintf_chk(char **p, int flag, const char *fmt,
                           va_list ap);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
int __wrap_asprintf(char **p, const char *fmt, ...);
int __wrap_vasprintf(char **p, const char *fmt, va_list ap);
int __wrap___asprintf_chk(char **p, int flag, const char *fmt, ...);
int __wrap___vasprintf_chk(char **p, int flag, const char *fmt,
                           va_list ap);

static bool inj_fail(enum inj_kind kind)
{
    if (!inj_armed) {
        return false;
    }
    inj_count[kind]++;
    if ((int)kind != inj_kind || inj_count[kind] != inj_at) {
        return false;
    }
    inj_failed++;
    errno = ENOMEM;
    return true;
}

void *__wrap_malloc(size_t n)
{
    return inj_fail(INJ_OURS) ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t k, size_t n)
{
    return inj_fail(INJ_OURS) ? NULL : __real_calloc(k, n);
}

void *__wrap_realloc(void *p, size_t n)
{
    return inj_fail(INJ_OURS) ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
    return inj_fail(INJ_OURS) ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
    return inj_fail(INJ_OURS) ? NULL : __real_strndup(s, n);
}

int __wrap_vasprintf(char **p, const char *fmt, va_list ap)
{
    return inj_fail(INJ_OURS) ? -1 : __real_vasprintf(p, fmt, ap);
}

int __wrap_asprintf(char **p, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = __wrap_vasprintf(p, fmt, ap);
    va_end(ap);
    return n;
}

/* _FORTIFY_SOURCE builds call these instead of [v]asprintf. */
int __wrap___vasprintf_chk(char **p, int flag, const char *fmt, va_list ap)
{
    if (inj_fail(INJ_OURS)) {
        return -1;
    }
    return __real___vasprintf_chk(p, flag, fmt, ap);
}

int __wrap___asprintf_chk(char **p, int flag, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = __wrap___vasprintf_chk(p, flag, fmt, ap);
    va_end(ap);
    return n;
}

static void *ossl_malloc(size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    return inj_fail(INJ_OSSL) ? NULL : __real_malloc(n);
}

static void *ossl_realloc(void *p, size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    return inj_fail(INJ_OSSL) ? NULL : __real_realloc(p, n);
}

static void ossl_free(void *p, const char *file, int line)
{
    (void)file;
    (void)line;
    free(p);
}

static void *jansson_malloc(size_t n)
{
    return inj_fail(INJ_OURS) ? NULL : __real_malloc(n);
}

/* One identity configuration, and where the attempt starts: in a fork
 * child of a process whose engine is set up and warm, as the shim
 * records (every allocation fails in turn), or at process start-up:
 * set-up, the key, the start record (every allocation of ours and
 * jansson's, and every ossl_stride-th of OpenSSL's, whose one-time
 * initialisation makes thousands). */
struct scenario {
    const char *type;      /* kest keygen --type */
    const char *principal; /* KEST_PRINCIPAL, or NULL for the kid URN */
    bool cold;
    long ossl_stride;
};

static const struct scenario scenarios[] = {
    {"ed25519", NULL, true, 16},
    {"ed25519", "spiffe://example.org/alloc-test", false, 1},
    {"p256", "spiffe://example.org/alloc-test", false, 1},
};

/* What one attempt's child did: the results of kest_engine_setup (cold
 * only), kest_engine_exec and kest_engine_exec_failed (called only
 * after a written exec record, as the shim does), and its records. */
struct outcome {
    int rc[3];
    bool called[3];
    char hash[3][65];
    char reason[3][160];
    char origin[65];
    unsigned long long seq;
    long count[2];
    long failed;
};

/* Body shapes of a clean run, which every record must match. */
struct shapes {
    struct buf op[4]; /* start, exec, exec_failed, process */
};

static const char *const shape_names[] = {"start", "exec", "exec_failed",
                                          "process"};

static char tmpdir[256];
static char keypath[512];
static char logpath[512];
static char env_log[600];
static char env_key[600];
static char env_principal[600];
/* Warm scenarios: the test process's own record state after
 * kest_engine_warm, and the log as it left it (its start record). */
static struct kest_proc warm_proc;
static size_t base_len;
static size_t base_lines;
/* The attempt being checked, for failure messages. */
static char attempt[64];

static void tmp_setup(void)
{
    const char *base = getenv("TMPDIR");

    snprintf(tmpdir, sizeof(tmpdir), "%s/kest-engine.XXXXXX",
             base != NULL && base[0] != '\0' ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(keypath, sizeof(keypath), "%s/key.pem", tmpdir);
    snprintf(logpath, sizeof(logpath), "%s/kest.log", tmpdir);
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void tmp_teardown(void)
{
    nftw(tmpdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* Run the kest command with argv; its stdout goes to out (if not NULL),
 * its stderr nowhere. Returns its exit status, or -1 if it died. */
static int run_kest(char *const argv[], struct buf *out)
{
    posix_spawn_file_actions_t fa;
    char tmp[4096];
    ssize_t n;
    pid_t pid;
    int pfd[2];
    int st;

    ck_assert_int_eq(pipe(pfd), 0);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addclose(&fa, pfd[0]);
    ck_assert_int_eq(posix_spawn(&pid, KEST_BIN, &fa, NULL, argv, environ),
                     0);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    while ((n = read(pfd[0], tmp, sizeof(tmp))) > 0) {
        if (out != NULL) {
            ck_assert_int_eq(buf_append(out, tmp, (size_t)n), 0);
        }
    }
    close(pfd[0]);
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void make_key(const struct scenario *sc)
{
    char *argv[] = {"kest", "keygen", "--type", (char *)sc->type, "--out",
                    keypath, NULL};

    ck_assert_int_eq(run_kest(argv, NULL), 0);
}

/* kest_engine_setup as the shim calls it, with only the settings of
 * scenario sc in the environment; p is made a root process. */
static int start_engine(const struct scenario *sc, struct kest_proc *p)
{
    char *env[] = {env_log, env_key, "KEST_PROVIDER=static", NULL, NULL};
    char **saved = environ;
    int rc;

    snprintf(env_log, sizeof(env_log), "KEST_LOG=%s", logpath);
    snprintf(env_key, sizeof(env_key), "KEST_KEY=%s", keypath);
    if (sc->principal != NULL) {
        snprintf(env_principal, sizeof(env_principal), "KEST_PRINCIPAL=%s",
                 sc->principal);
        env[3] = env_principal;
    }
    environ = env;
    rc = kest_engine_setup(0);
    kest_engine_proc_init(p);
    environ = saved;
    return rc;
}

/* OpenSSL 3.0 leaks what its one-time set-up (library context, name
 * map, providers) had made when it runs out of memory half-way, and
 * LeakSanitizer cannot tell those leaks from ours. Under it, a cold
 * attempt has OpenSSL do that set-up before failures start; the build
 * without sanitizers fails it too, and checks that nothing crashes. */
static void openssl_warm_up(void)
{
    char hash[RECORD_HASH_HEX];
    struct key *k = NULL;
    struct buf sig;

    buf_init(&sig);
    if (key_load_private(keypath, &k) < 0 || key_sign(k, "x", 1, &sig) < 0 ||
        record_hash_parts("a", 1, "b", 1, "c", 1, hash) < 0) {
        exit(4);
    }
    key_free(k);
    buf_cleanup(&sig);
}

/* The attempt itself: a process that execs /bin/true, recorded as the
 * shim records it, then learns that the exec failed. Reports through
 * fd and exits; a leak found at exit (ASan build) makes the status
 * non-zero. */
static void attempt_child(const struct scenario *sc, int kind, long at,
                          int fd)
{
    char *argv[] = {"/bin/true", "--alloc-test", NULL};
    char *envp[] = {"PATH=/usr/bin:/bin", "LANG=C", NULL};
    struct kest_exec ev = {.api = "execve", .path = "/bin/true", .fd = -100,
                           .argv = argv, .envp = envp};
    struct kest_proc p = warm_proc;
    struct outcome o;

    memset(&o, 0, sizeof(o));
    /* A fork child starts a new instance, as the shim's atfork does. */
    p.pid = (int32_t)getpid();
    p.instance[0] = '\0';
    p.seq = 0;
    if (SANITIZED && sc->cold) {
        openssl_warm_up();
    }
    inj_kind = kind;
    inj_at = at;
    inj_armed = true;
    if (sc->cold) {
        o.rc[0] = start_engine(sc, &p);
        o.called[0] = true;
        snprintf(o.reason[0], sizeof(o.reason[0]), "%s",
                 kest_engine_reason());
    }
    o.rc[1] = kest_engine_exec(&p, &ev, o.hash[1]);
    o.called[1] = true;
    snprintf(o.reason[1], sizeof(o.reason[1]), "%s", kest_engine_reason());
    if (o.rc[1] >= 0) {
        o.rc[2] = kest_engine_exec_failed(&p, o.hash[1], ENOENT, o.hash[2]);
        o.called[2] = true;
        snprintf(o.reason[2], sizeof(o.reason[2]), "%s",
                 kest_engine_reason());
    }
    inj_armed = false;
    memcpy(o.origin, p.origin, sizeof(o.origin));
    o.seq = p.seq;
    memcpy(o.count, inj_count, sizeof(o.count));
    o.failed = inj_failed;
    exit(write(fd, &o, sizeof(o)) == (ssize_t)sizeof(o) ? 0 : 3);
}

static void run_attempt(const struct scenario *sc, int kind, long at,
                        struct outcome *o)
{
    size_t got = 0;
    ssize_t n;
    pid_t pid;
    int pfd[2];
    int st;

    snprintf(attempt, sizeof(attempt), "%s%s, %s allocation %ld", sc->type,
             sc->cold ? " cold" : "", kind == INJ_OSSL ? "OpenSSL" : "kest",
             at);
    if (sc->cold) {
        unlink(logpath);
    }
    ck_assert_int_eq(pipe(pfd), 0);
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(pfd[0]);
        attempt_child(sc, kind, at, pfd[1]);
    }
    close(pfd[1]);
    while (got < sizeof(*o) &&
           (n = read(pfd[0], (char *)o + got, sizeof(*o) - got)) > 0) {
        got += (size_t)n;
    }
    close(pfd[0]);
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                  "%s failed: the process %s %d", attempt,
                  WIFSIGNALED(st) ? "died of signal" : "exited",
                  WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
    ck_assert_msg(got == sizeof(*o), "%s: no report", attempt);
}

static void shape_of(struct buf *out, const json_t *v)
{
    const char *k;
    json_t *x;
    size_t i;

    switch (json_typeof(v)) {
    case JSON_OBJECT:
        ck_assert_int_eq(buf_putc(out, '{'), 0);
        json_object_foreach((json_t *)v, k, x) {
            ck_assert_int_eq(buf_printf(out, "%s:", k), 0);
            shape_of(out, x);
            ck_assert_int_eq(buf_putc(out, ','), 0);
        }
        ck_assert_int_eq(buf_putc(out, '}'), 0);
        break;
    case JSON_ARRAY:
        ck_assert_int_eq(buf_printf(out, "[%zu:", json_array_size(v)), 0);
        json_array_foreach(v, i, x) {
            shape_of(out, x);
        }
        ck_assert_int_eq(buf_putc(out, ']'), 0);
        break;
    case JSON_STRING:
        ck_assert_int_eq(buf_putc(out, 's'), 0);
        break;
    case JSON_NULL:
        ck_assert_int_eq(buf_putc(out, 'n'), 0);
        break;
    default:
        ck_assert_int_eq(buf_putc(out, 'v'), 0);
        break;
    }
}

/* The parts of a record whose shape is checked: its event body (in a gap
 * record, the body of the event it stands for) and its process. */
static void record_parts(const json_t *pl, const json_t *part[4])
{
    const char *op = json_string_value(json_object_get(pl, "operation"));
    const json_t *gap = json_object_get(pl, "gap");
    const json_t *body = pl;
    size_t i;

    ck_assert_msg(op != NULL, "%s: a record without operation", attempt);
    if (strcmp(op, "gap") == 0) {
        op = json_string_value(json_object_get(gap, "event"));
        ck_assert_msg(op != NULL, "%s: a gap without event", attempt);
        body = gap;
    }
    for (i = 0; i < 3; i++) {
        part[i] = strcmp(op, shape_names[i]) == 0
                      ? json_object_get(body, op) : NULL;
    }
    part[3] = json_object_get(pl, "process");
}

/* Each line of the log: one JSON record whose parts have the shapes of
 * a clean run (ref), or, with learn set, become them. */
static void check_shapes(const struct buf *log, struct shapes *ref,
                         bool learn)
{
    const char *p = (const char *)log->data;
    const char *end = p + log->len;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const json_t *part[4];
        json_t *rec;
        size_t i;

        rec = json_loadb(p, (size_t)(nl - p), 0, NULL);
        ck_assert_msg(rec != NULL, "%s: a line is no JSON", attempt);
        record_parts(json_object_get(rec, "payload"), part);
        for (i = 0; i < NELEM(ref->op); i++) {
            struct buf s;

            if (part[i] == NULL) {
                continue;
            }
            buf_init(&s);
            shape_of(&s, part[i]);
            if (learn && ref->op[i].len == 0) {
                ck_assert_int_eq(buf_puts(&ref->op[i], (char *)s.data), 0);
            }
            ck_assert_msg(ref->op[i].data != NULL &&
                              strcmp((char *)s.data,
                                     (char *)ref->op[i].data) == 0,
                          "%s: a %s part lost data:\n%s\ninstead of\n%s",
                          attempt, shape_names[i], (char *)s.data,
                          ref->op[i].data ? (char *)ref->op[i].data : "-");
            buf_cleanup(&s);
        }
        json_decref(rec);
        p = nl + 1;
    }
}

static void read_log(struct buf *b)
{
    char tmp[4096];
    ssize_t n;
    int fd;

    fd = open(logpath, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ck_assert_int_eq(errno, ENOENT);
        return;
    }
    while ((n = read(fd, tmp, sizeof(tmp))) > 0) {
        ck_assert_int_eq(buf_append(b, tmp, (size_t)n), 0);
    }
    close(fd);
}

static bool good_rc(int rc, bool record)
{
    if (rc < 0) {
        return rc >= -4095;
    }
    return record ? rc == KEST_SIGNED || rc == KEST_GAP : rc == 0;
}

static const char *str_or(const json_t *v)
{
    return json_is_string(v) ? json_string_value(v) : "";
}

/* kest verify --json on the log: valid, with the signed records, gaps
 * and head that the calls reported. */
static void check_verify(const struct outcome *o, size_t lines)
{
    char *argv[] = {"kest", "verify", "--json", "--allow-gaps", "--key",
                    keypath, logpath, NULL};
    const char *head = o->origin;
    json_t *rep;
    struct buf out;
    long gaps = 0;
    int st;
    size_t i;

    for (i = 1; i < 3; i++) {
        if (o->called[i] && o->rc[i] >= 0) {
            head = o->hash[i];
            gaps += o->rc[i] == KEST_GAP;
        }
    }
    buf_init(&out);
    st = run_kest(argv, &out);
    rep = out.data ? json_loadb((char *)out.data, out.len, 0, NULL) : NULL;
    ck_assert_msg(st == 0 && rep != NULL, "%s: kest verify exit %d: %s",
                  attempt, st, out.data ? (char *)out.data : "");
    ck_assert_msg(json_is_true(json_object_get(rep, "valid")) &&
                      json_integer_value(json_object_get(rep, "records")) ==
                          (json_int_t)(lines - (size_t)gaps) &&
                      json_integer_value(json_object_get(rep, "gaps")) ==
                          gaps &&
                      strcmp(str_or(json_object_get(rep, "head")),
                             head) == 0,
                  "%s: wanted %zu records, %ld gaps, head %s; kest verify "
                  "says %s", attempt, lines, gaps, head, (char *)out.data);
    json_decref(rep);
    buf_cleanup(&out);
}

/* Everything the attempt left behind must be whole and consistent: the
 * log holds what was there before and one whole line per record the
 * calls appended, each as complete as in a clean run, and verifies. */
static void check_attempt(const struct outcome *o, struct shapes *ref,
                          bool learn)
{
    struct buf log;
    size_t lines = 0;
    size_t i;

    for (i = 0; i < 3; i++) {
        ck_assert_msg(!o->called[i] || good_rc(o->rc[i], i > 0),
                      "%s: call %zu returned %d", attempt, i, o->rc[i]);
        ck_assert_msg(!o->called[i] || o->rc[i] == 0 ||
                          o->reason[i][0] != '\0',
                      "%s: call %zu gave no reason", attempt, i);
    }
    buf_init(&log);
    read_log(&log);
    for (i = 0; i < log.len; i++) {
        lines += log.data[i] == '\n';
    }
    ck_assert_msg(log.len == 0 || log.data[log.len - 1] == '\n',
                  "%s: the log ends in a partial line", attempt);
    ck_assert_msg(log.len >= base_len && lines == base_lines + o->seq,
                  "%s: %zu lines for %zu + %llu records", attempt, lines,
                  base_lines, o->seq);
    /* The verdict does not depend on the build: the sanitizer build,
     * slow to start a process, leaves it to the other. */
    if (o->seq > 0) {
        check_shapes(&log, ref, learn);
        if (!SANITIZED) {
            check_verify(o, lines);
        }
    }
    buf_cleanup(&log);
    /* Warm: back to the parent's start record for the next child. */
    if (base_len > 0) {
        ck_assert_int_eq(truncate(logpath, (off_t)base_len), 0);
    }
}

/* The test process itself starts the engine and writes its start
 * record; attempts are its fork children. */
static void warm_up(const struct scenario *sc)
{
    struct stat st;

    ck_assert_int_eq(start_engine(sc, &warm_proc), 0);
    ck_assert_int_eq(kest_engine_warm(&warm_proc), 0);
    ck_assert_int_eq(stat(logpath, &st), 0);
    base_len = (size_t)st.st_size;
    base_lines = 1;
}

/* Fail allocation 1, 1 + stride, ... of one kind until an attempt runs
 * out of allocations before reaching the one to fail. Returns how many
 * were failed; tallies the record calls' outcomes. */
static long fail_each(const struct scenario *sc, int kind, long stride,
                      struct shapes *ref, long tally[3])
{
    struct outcome o;
    long at;
    long tried = 0;
    size_t i;

    for (at = 1; at < MAX_POINTS; at += stride) {
        run_attempt(sc, kind, at, &o);
        check_attempt(&o, ref, false);
        if (o.failed == 0) {
            return tried;
        }
        tried++;
        for (i = 1; i < 3; i++) {
            if (o.called[i]) {
                tally[o.rc[i] < 0 ? 2 : o.rc[i]]++;
            }
        }
    }
    ck_abort_msg("%s: still failing allocations", attempt);
    return tried;
}

START_TEST(test_engine_exec_alloc_failure)
{
    const struct scenario *sc = &scenarios[_i];
    long tally[3] = {0, 0, 0};
    struct shapes ref;
    struct outcome o;
    long ours;
    long ossl;
    size_t i;

    memset(&ref, 0, sizeof(ref));
    make_key(sc);
    if (!sc->cold) {
        warm_up(sc);
    }
    /* A clean run first: every outcome signed, the reference shapes. */
    run_attempt(sc, INJ_OURS, 0, &o);
    ck_assert_int_eq(o.rc[1], KEST_SIGNED);
    ck_assert_int_eq(o.rc[2], KEST_SIGNED);
    ck_assert_uint_eq(o.seq, sc->cold ? 3 : 2);
    check_attempt(&o, &ref, true);
    ours = fail_each(sc, INJ_OURS, 1, &ref, tally);
    ossl = fail_each(sc, INJ_OSSL, sc->ossl_stride, &ref, tally);
    printf("engine, %s key, %s: allocations failed in turn: %ld of kest's "
           "and jansson's (each one), %ld of OpenSSL's (one in %ld of "
           "%ld); record calls: %ld signed, %ld gap, %ld error\n",
           sc->type, sc->cold ? "process start-up" : "fork child", ours,
           ossl, sc->ossl_stride, o.count[INJ_OSSL], tally[0], tally[1],
           tally[2]);
    for (i = 0; i < NELEM(ref.op); i++) {
        buf_cleanup(&ref.op[i]);
    }
}
END_TEST

static Suite *engine_suite(void)
{
    Suite *s = suite_create("engine");
    TCase *tc;

    tc = tcase_create("kest_engine_exec");
    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
    tcase_set_timeout(tc, 900);
    tcase_add_loop_test(tc, test_engine_exec_alloc_failure, 0,
                        NELEM(scenarios));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    /* Before anything allocates through OpenSSL or jansson. */
    if (!CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free)) {
        fprintf(stderr, "test_engine: OpenSSL allocated too early\n");
        return 1;
    }
    json_set_alloc_funcs(jansson_malloc, free);
    sr = srunner_create(engine_suite());
    /* Each scenario needs a process whose engine is not set up yet. */
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
