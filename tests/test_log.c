/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/log: the hash chain, torn tails, fork, locking and
 * refusing what is not a regular file. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/record.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_SEALS 64

/* The seal callback's state: what it was given, what it should do. */
struct sealer {
    int n;
    char prev[MAX_SEALS][RECORD_HASH_HEX];
    int fail;
    size_t pad;
};

static char tmpdir[256];
static char logpath[512];

static const char *const torn_tails[] = {
    "x",
    "{\"payload\":{",
    "{\"payload\":{},\"protected\":\"e30\",\"signature\":\"\"}",
    "\xff\xfe partial",
};

static void tmp_setup(void)
{
    const char *base = getenv("TMPDIR");

    snprintf(tmpdir, sizeof(tmpdir), "%s/kest-log.XXXXXX",
             base != NULL && base[0] != '\0' ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(logpath, sizeof(logpath), "%s/kest.log", tmpdir);
    umask(022);
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
    nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int seal_cb(void *ctx, const char *prev, struct buf *line,
                   char hash[RECORD_HASH_HEX])
{
    struct sealer *s = ctx;
    json_t *pl;
    int rc;

    if (s->fail != 0) {
        return s->fail;
    }
    ck_assert_int_lt(s->n, MAX_SEALS);
    pl = json_pack("{s:s, s:i, s:i}", "log_prev", prev, "n", s->n, "pid",
                   (int)getpid());
    ck_assert_ptr_nonnull(pl);
    if (s->pad > 0) {
        char *fill = malloc(s->pad + 1);

        memset(fill, 'p', s->pad);
        fill[s->pad] = '\0';
        ck_assert_int_eq(json_object_set_new(pl, "fill",
                                             json_string(fill)), 0);
        free(fill);
    }
    rc = record_seal_unsigned(pl, line, hash);
    json_decref(pl);
    snprintf(s->prev[s->n], RECORD_HASH_HEX, "%s", prev);
    s->n++;
    return rc;
}

static void init_log(struct log *lg, const char *path, mode_t mode,
                     int timeout_ms)
{
    ck_assert_int_eq(log_init(lg, path, mode, timeout_ms), 0);
}

static void append_ok(struct log *lg, struct sealer *s,
                      char hash[RECORD_HASH_HEX])
{
    ck_assert_int_eq(log_append(lg, seal_cb, s, hash), 0);
}

static void read_file(const char *path, struct buf *out)
{
    char chunk[8192];
    ssize_t n;
    int fd = open(path, O_RDONLY);

    ck_assert_int_ge(fd, 0);
    buf_init(out);
    while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
        ck_assert_int_eq(buf_append(out, chunk, (size_t)n), 0);
    }
    close(fd);
}

static void append_raw(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_APPEND);
    size_t n = strlen(text);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, n), (ssize_t)n);
    close(fd);
}

/* Split the file into lines (the last may lack its newline); the caller
 * frees each and the array. */
static size_t file_lines(const char *path, char ***out)
{
    struct buf b;
    size_t n = 0;
    size_t at = 0;

    read_file(path, &b);
    *out = NULL;
    while (at < b.len) {
        char *nl = memchr(b.data + at, '\n', b.len - at);
        size_t len = nl ? (size_t)(nl - (char *)b.data) - at : b.len - at;

        *out = realloc(*out, (n + 1) * sizeof(**out));
        ck_assert_ptr_nonnull(*out);
        (*out)[n++] = strndup((char *)b.data + at, len);
        at += len + 1;
    }
    buf_cleanup(&b);
    return n;
}

static void free_lines(char **lines, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(lines[i]);
    }
    free(lines);
}

static void line_hash(const char *line, char out[RECORD_HASH_HEX])
{
    ck_assert_msg(record_line_hash(line, strlen(line), out) == 0,
                  "not a record: %s", line);
}

/* Every record names the one before it, the first names "0". */
static void check_chain(const char *path, size_t want_records)
{
    char prev[RECORD_HASH_HEX] = "0";
    char **lines;
    size_t n = file_lines(path, &lines);
    size_t i;

    ck_assert_uint_eq(n, want_records);
    for (i = 0; i < n; i++) {
        json_t *root = json_loads(lines[i], 0, NULL);
        const char *lp;

        ck_assert_ptr_nonnull(root);
        lp = json_string_value(json_object_get(
            json_object_get(root, "payload"), "log_prev"));
        ck_assert_str_eq(lp, prev);
        line_hash(lines[i], prev);
        json_decref(root);
    }
    free_lines(lines, n);
}

START_TEST(test_log_append_first_and_second)
{
    struct sealer s = {0};
    struct log lg;
    char h1[RECORD_HASH_HEX], h2[RECORD_HASH_HEX], got[RECORD_HASH_HEX];
    char **lines;
    size_t n;

    init_log(&lg, logpath, 0600, 1000);
    append_ok(&lg, &s, h1);
    append_ok(&lg, &s, h2);
    ck_assert_str_eq(s.prev[0], "0");
    ck_assert_str_eq(s.prev[1], h1);
    ck_assert_str_ne(h1, h2);
    n = file_lines(logpath, &lines);
    ck_assert_uint_eq(n, 2);
    line_hash(lines[0], got);
    ck_assert_str_eq(got, h1);
    line_hash(lines[1], got);
    ck_assert_str_eq(got, h2);
    free_lines(lines, n);
    log_cleanup(&lg);
}
END_TEST

START_TEST(test_log_append_long_chain)
{
    struct sealer s = {0};
    struct log lg;
    char h[RECORD_HASH_HEX];
    int i;

    init_log(&lg, logpath, 0600, 1000);
    for (i = 0; i < 40; i++) {
        append_ok(&lg, &s, h);
    }
    log_cleanup(&lg);
    check_chain(logpath, 40);
}
END_TEST

START_TEST(test_log_append_two_writers)
{
    struct sealer s1 = {0}, s2 = {0};
    struct log a, b;
    char h[RECORD_HASH_HEX];
    int i;

    /* Each sees the other's records although its cache says otherwise. */
    init_log(&a, logpath, 0600, 1000);
    init_log(&b, logpath, 0600, 1000);
    for (i = 0; i < 6; i++) {
        append_ok(i % 3 == 0 ? &b : &a, i % 3 == 0 ? &s2 : &s1, h);
    }
    log_cleanup(&a);
    log_cleanup(&b);
    check_chain(logpath, 6);
}
END_TEST

START_TEST(test_log_append_mode)
{
    static const mode_t want[] = {0600, 0640, 0644};
    struct sealer s = {0};
    struct log lg;
    struct stat st;
    char h[RECORD_HASH_HEX];

    init_log(&lg, logpath, want[_i], 1000);
    append_ok(&lg, &s, h);
    ck_assert_int_eq(stat(logpath, &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, want[_i]);
    ck_assert(S_ISREG(st.st_mode));
    log_cleanup(&lg);
}
END_TEST

START_TEST(test_log_append_makes_parent_dirs)
{
    struct sealer s = {0};
    struct log lg;
    struct stat st;
    char path[600];
    char h[RECORD_HASH_HEX];

    snprintf(path, sizeof(path), "%s/a/b/kest.log", tmpdir);
    init_log(&lg, path, 0600, 1000);
    append_ok(&lg, &s, h);
    log_cleanup(&lg);
    check_chain(path, 1);
    snprintf(path, sizeof(path), "%s/a/b", tmpdir);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    ck_assert_uint_eq(st.st_mode & 0777, 0700);
}
END_TEST

START_TEST(test_log_append_torn_tail)
{
    struct sealer s = {0};
    struct log lg;
    char h[3][RECORD_HASH_HEX];
    char got[RECORD_HASH_HEX];
    char **lines;
    size_t n;

    init_log(&lg, logpath, 0600, 1000);
    append_ok(&lg, &s, h[0]);
    append_ok(&lg, &s, h[1]);
    /* A crash or a full disk cut a later append short. */
    append_raw(logpath, torn_tails[_i]);
    append_ok(&lg, &s, h[2]);
    ck_assert_str_eq(s.prev[2], h[1]);
    n = file_lines(logpath, &lines);
    ck_assert_uint_eq(n, 4);
    ck_assert_str_eq(lines[2], torn_tails[_i]);
    line_hash(lines[3], got);
    ck_assert_str_eq(got, h[2]);
    free_lines(lines, n);
    /* And the file ends on a newline again. */
    append_ok(&lg, &s, h[0]);
    ck_assert_str_eq(s.prev[3], h[2]);
    log_cleanup(&lg);
}
END_TEST

START_TEST(test_log_append_skips_damaged_line)
{
    struct sealer s = {0};
    struct log lg;
    char h1[RECORD_HASH_HEX], h2[RECORD_HASH_HEX];
    struct buf before, after;

    init_log(&lg, logpath, 0600, 1000);
    append_ok(&lg, &s, h1);
    append_raw(logpath, "not a record\n");
    read_file(logpath, &before);
    append_ok(&lg, &s, h2);
    ck_assert_str_eq(s.prev[1], h1);
    /* A whole line needs no extra newline in front of the next one. */
    read_file(logpath, &after);
    ck_assert_int_eq(after.data[before.len], '{');
    buf_cleanup(&before);
    buf_cleanup(&after);
    log_cleanup(&lg);
}
END_TEST

START_TEST(test_log_append_big_records)
{
    struct sealer big = {0}, s = {0};
    struct log a, b;
    char h[RECORD_HASH_HEX];
    char hb[RECORD_HASH_HEX];

    /* Records longer than the tail window make the scan look further
     * back. */
    big.pad = 300 * 1024;
    init_log(&a, logpath, 0600, 1000);
    init_log(&b, logpath, 0600, 1000);
    append_ok(&a, &s, h);
    append_ok(&b, &big, hb);
    append_raw(logpath, "torn");
    append_ok(&a, &s, h);
    ck_assert_str_eq(s.prev[1], hb);
    log_cleanup(&a);
    log_cleanup(&b);
}
END_TEST

START_TEST(test_log_append_after_fork)
{
    struct sealer s = {0};
    struct log lg;
    char h1[RECORD_HASH_HEX], h3[RECORD_HASH_HEX];
    char child[RECORD_HASH_HEX];
    char **lines;
    size_t n;
    pid_t pid;
    int status;

    init_log(&lg, logpath, 0600, 1000);
    append_ok(&lg, &s, h1);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        char h2[RECORD_HASH_HEX];
        int rc = log_append(&lg, seal_cb, &s, h2);

        /* Report through the exit status; no Check calls here. */
        _exit(rc != 0 ? 1 : strcmp(s.prev[1], h1) != 0 ? 2 : 0);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    append_ok(&lg, &s, h3);
    n = file_lines(logpath, &lines);
    ck_assert_uint_eq(n, 3);
    line_hash(lines[1], child);
    ck_assert_str_eq(s.prev[1], child);
    free_lines(lines, n);
    log_cleanup(&lg);
    check_chain(logpath, 3);
}
END_TEST

START_TEST(test_log_append_concurrent)
{
    enum { KIDS = 4, EACH = 25 };
    pid_t pids[KIDS];
    int status;
    int i;

    /* Writers race for the lock; the chain must still be one line. */
    for (i = 0; i < KIDS; i++) {
        pids[i] = fork();
        ck_assert_int_ge(pids[i], 0);
        if (pids[i] == 0) {
            struct sealer s = {0};
            struct log lg;
            char h[RECORD_HASH_HEX];
            int k;
            int rc = log_init(&lg, logpath, 0600, 10000);

            for (k = 0; rc == 0 && k < EACH; k++) {
                rc = log_append(&lg, seal_cb, &s, h);
            }
            _exit(rc == 0 ? 0 : 1);
        }
    }
    for (i = 0; i < KIDS; i++) {
        ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
        ck_assert(WIFEXITED(status));
        ck_assert_int_eq(WEXITSTATUS(status), 0);
    }
    check_chain(logpath, KIDS * EACH);
}
END_TEST

START_TEST(test_log_append_fd_taken_over)
{
    struct sealer s = {0};
    struct log lg;
    char h[RECORD_HASH_HEX];
    int fd;
    int other;

    init_log(&lg, logpath, 0600, 1000);
    append_ok(&lg, &s, h);
    fd = lg.fd;
    ck_assert_int_ge(fd, 100);
    /* The host closes our descriptor and reuses the number. */
    other = open("/dev/null", O_RDWR);
    ck_assert_int_ge(other, 0);
    ck_assert_int_eq(dup2(other, fd), fd);
    close(other);
    append_ok(&lg, &s, h);
    ck_assert_int_ne(lg.fd, fd);
    ck_assert_int_ne(fcntl(fd, F_GETFD), -1);
    close(fd);
    log_cleanup(&lg);
    check_chain(logpath, 2);
}
END_TEST

/* The host puts its own descriptor of the log itself (read-only, or
 * appending but not ours) on our number; a fork child must leave it
 * open for the program it execs, and write through one of its own. */
START_TEST(test_log_append_fd_taken_by_host_log_fd)
{
    static const int modes[] = {O_RDONLY, O_WRONLY | O_APPEND};
    struct sealer s = {0};
    struct log lg;
    char h[RECORD_HASH_HEX];
    pid_t pid;
    int status;
    int fd;
    int other;

    init_log(&lg, logpath, 0600, 1000);
    append_ok(&lg, &s, h);
    fd = lg.fd;
    other = open(logpath, modes[_i]);
    ck_assert_int_ge(other, 0);
    ck_assert_int_eq(dup2(other, fd), fd);
    close(other);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        char h2[RECORD_HASH_HEX];
        int code = 0;

        /* Report through the exit status; no Check calls here. */
        if (log_append(&lg, seal_cb, &s, h2) != 0) {
            code = 1;
        } else if (fcntl(fd, F_GETFD) < 0) {
            code = 2; /* the host's descriptor was closed */
        } else if (lg.fd == fd) {
            code = 3; /* and we wrote through it */
        }
        _exit(code);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    append_ok(&lg, &s, h);
    ck_assert_int_ne(lg.fd, fd);
    ck_assert_int_ne(fcntl(fd, F_GETFD), -1);
    close(fd);
    log_cleanup(&lg);
    check_chain(logpath, 3);
}
END_TEST

START_TEST(test_log_append_refuses_symlink)
{
    struct sealer s = {0};
    struct log lg;
    char target[600];
    char h[RECORD_HASH_HEX];
    struct buf b;

    snprintf(target, sizeof(target), "%s/target", tmpdir);
    if (_i == 0) {
        int fd = open(target, O_WRONLY | O_CREAT, 0600);

        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, "x\n", 2), 2);
        close(fd);
    }
    ck_assert_int_eq(symlink(target, logpath), 0);
    init_log(&lg, logpath, 0600, 1000);
    ck_assert_int_eq(log_append(&lg, seal_cb, &s, h), -ELOOP);
    ck_assert_int_eq(s.n, 0);
    if (_i == 0) {
        read_file(target, &b);
        ck_assert_uint_eq(b.len, 2);
        buf_cleanup(&b);
    } else {
        ck_assert_int_eq(access(target, F_OK), -1);
    }
    log_cleanup(&lg);
}
END_TEST

START_TEST(test_log_append_refuses_non_file)
{
    struct sealer s = {0};
    struct log lg;
    char h[RECORD_HASH_HEX];

    if (_i == 0) {
        ck_assert_int_eq(mkdir(logpath, 0700), 0);
    } else {
        ck_assert_int_eq(mkfifo(logpath, 0600), 0);
    }
    init_log(&lg, logpath, 0600, 1000);
    ck_assert_int_lt(log_append(&lg, seal_cb, &s, h), 0);
    ck_assert_int_eq(s.n, 0);
    log_cleanup(&lg);
}
END_TEST

static long elapsed_ms(const struct timespec *from)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - from->tv_sec) * 1000 +
           (now.tv_nsec - from->tv_nsec) / 1000000;
}

START_TEST(test_log_append_lock_timeout)
{
    struct sealer s = {0};
    struct log lg;
    struct timespec t0;
    char h[RECORD_HASH_HEX];
    int fd;

    init_log(&lg, logpath, 0600, 150);
    append_ok(&lg, &s, h);
    fd = open(logpath, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(flock(fd, LOCK_EX), 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(log_append(&lg, seal_cb, &s, h), -ETIMEDOUT);
    ck_assert_int_ge(elapsed_ms(&t0), 150);
    ck_assert_int_lt(elapsed_ms(&t0), 5000);
    ck_assert_int_eq(s.n, 1);
    close(fd);
    append_ok(&lg, &s, h);
    log_cleanup(&lg);
    check_chain(logpath, 2);
}
END_TEST

/* In a child: a short write must be cut off and leave the chain whole.
 * Exit status 0 when all went as it should. */
static int short_write_child(void)
{
    struct sealer s = {0};
    struct rlimit rl;
    struct stat st;
    struct log lg;
    char h1[RECORD_HASH_HEX], h2[RECORD_HASH_HEX];
    off_t size;

    signal(SIGXFSZ, SIG_IGN);
    if (log_init(&lg, logpath, 0600, 1000) < 0 ||
        log_append(&lg, seal_cb, &s, h1) < 0 || stat(logpath, &st) < 0 ||
        getrlimit(RLIMIT_FSIZE, &rl) < 0) {
        return 1;
    }
    /* Room for part of the next record only: the disk is "full". */
    size = st.st_size;
    rl.rlim_cur = (rlim_t)size + 100;
    s.pad = 1000;
    if (setrlimit(RLIMIT_FSIZE, &rl) < 0 ||
        log_append(&lg, seal_cb, &s, h2) != -ENOSPC) {
        return 2;
    }
    if (stat(logpath, &st) < 0 || st.st_size != size) {
        return 3;
    }
    rl.rlim_cur = rl.rlim_max;
    s.pad = 0;
    if (setrlimit(RLIMIT_FSIZE, &rl) < 0 ||
        log_append(&lg, seal_cb, &s, h2) < 0 || strcmp(s.prev[2], h1)) {
        return 4;
    }
    log_cleanup(&lg);
    return 0;
}

START_TEST(test_log_append_short_write)
{
    int status;
    pid_t pid = fork();

    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        _exit(short_write_child());
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    check_chain(logpath, 2);
}
END_TEST

START_TEST(test_log_append_seal_failure)
{
    struct sealer s = {0};
    struct log lg, other;
    struct stat before, after;
    char h1[RECORD_HASH_HEX], h2[RECORD_HASH_HEX];

    init_log(&lg, logpath, 0600, 1000);
    init_log(&other, logpath, 0600, 100);
    append_ok(&lg, &s, h1);
    ck_assert_int_eq(stat(logpath, &before), 0);
    s.fail = -EPERM;
    ck_assert_int_eq(log_append(&lg, seal_cb, &s, h2), -EPERM);
    ck_assert_int_eq(stat(logpath, &after), 0);
    ck_assert_int_eq(after.st_size, before.st_size);
    /* The lock was let go: another writer gets in at once. */
    s.fail = 0;
    append_ok(&other, &s, h2);
    ck_assert_str_eq(s.prev[1], h1);
    log_cleanup(&lg);
    log_cleanup(&other);
}
END_TEST

START_TEST(test_log_init_copies_path)
{
    struct sealer s = {0};
    struct log lg;
    char path[600];
    char h[RECORD_HASH_HEX];

    snprintf(path, sizeof(path), "%s", logpath);
    init_log(&lg, path, 0600, 1000);
    ck_assert_int_eq(lg.fd, -1);
    ck_assert_int_eq(access(logpath, F_OK), -1);
    memset(path, 0, sizeof(path));
    append_ok(&lg, &s, h);
    ck_assert_int_eq(access(logpath, F_OK), 0);
    log_cleanup(&lg);
    ck_assert_ptr_null(lg.path);
    ck_assert_int_eq(lg.fd, -1);
}
END_TEST

START_TEST(test_log_forget_reopens)
{
    struct sealer s = {0};
    struct log lg;
    char h[RECORD_HASH_HEX];
    int fd;

    init_log(&lg, logpath, 0600, 1000);
    append_ok(&lg, &s, h);
    fd = lg.fd;
    log_forget(&lg);
    ck_assert_int_eq(lg.fd, -1);
    /* Forgotten, not closed. */
    ck_assert_int_ne(fcntl(fd, F_GETFD), -1);
    append_ok(&lg, &s, h);
    ck_assert_str_ne(s.prev[1], "0");
    close(fd);
    log_cleanup(&lg);
    check_chain(logpath, 2);
}
END_TEST

static TCase *tcase_new(const char *name)
{
    TCase *tc = tcase_create(name);

    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
    tcase_set_timeout(tc, 30);
    return tc;
}

static Suite *log_suite(void)
{
    Suite *s = suite_create("log");
    TCase *tc;

    tc = tcase_new("log_append");
    tcase_add_test(tc, test_log_append_first_and_second);
    tcase_add_test(tc, test_log_append_long_chain);
    tcase_add_test(tc, test_log_append_two_writers);
    tcase_add_loop_test(tc, test_log_append_mode, 0, 3);
    tcase_add_test(tc, test_log_append_makes_parent_dirs);
    tcase_add_loop_test(tc, test_log_append_torn_tail, 0,
                        NELEM(torn_tails));
    tcase_add_test(tc, test_log_append_skips_damaged_line);
    tcase_add_test(tc, test_log_append_big_records);
    tcase_add_test(tc, test_log_append_after_fork);
    tcase_add_test(tc, test_log_append_concurrent);
    tcase_add_test(tc, test_log_append_fd_taken_over);
    tcase_add_loop_test(tc, test_log_append_fd_taken_by_host_log_fd, 0,
                        2);
    tcase_add_loop_test(tc, test_log_append_refuses_symlink, 0, 2);
    tcase_add_loop_test(tc, test_log_append_refuses_non_file, 0, 2);
    tcase_add_test(tc, test_log_append_lock_timeout);
    tcase_add_test(tc, test_log_append_seal_failure);
    tcase_add_test(tc, test_log_append_short_write);
    suite_add_tcase(s, tc);

    tc = tcase_new("log_init");
    tcase_add_test(tc, test_log_init_copies_path);
    suite_add_tcase(s, tc);

    tc = tcase_new("log_forget");
    tcase_add_test(tc, test_log_forget_reopens);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(log_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
