/* SPDX-License-Identifier: Apache-2.0 */
/* h2c client: one request each against a peer in a child process that
 * plays a scripted answer (raw HTTP/2 frames, HPACK literals) or a
 * fault: hang-up, garbage, a stall, a reset, oversized parts. */
#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "providers/h2.h"
#include "providers/http.h"
#include "providers/wlapi.h"

enum { DATA = 0, HEADERS = 1, RST_STREAM = 3, SETTINGS = 4, GOAWAY = 7,
       CONTINUATION = 9 };
enum { END_STREAM = 1, ACK = 1, END_HEADERS = 4 };
#define PREFACE_LEN 24

/* What the peer does on its one connection. */
enum mode {
    HANGUP,   /* close at once */
    GARBAGE,  /* read the preface, answer with the answer bytes, stall */
    DEAF,     /* read the preface, shut its reading side, SETTINGS,
               * then the answer after 200 ms, stall */
    ANSWER,   /* read the request, send the answer, stall */
    CUT,      /* read the request, send the answer, close */
};

/* A gRPC frame of "hello". */
static const char grpc_msg[] = "\0\0\0\0\x05hello";
#define GRPC_LEN 10

static void frame(struct buf *b, int type, int flags, uint32_t stream,
                  const void *p, size_t n)
{
    uint8_t h[9] = {(uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n,
                    (uint8_t)type, (uint8_t)flags,
                    (uint8_t)(stream >> 24), (uint8_t)(stream >> 16),
                    (uint8_t)(stream >> 8), (uint8_t)stream};

    ck_assert_int_eq(buf_append(b, h, sizeof(h)), 0);
    if (n > 0) {
        ck_assert_int_eq(buf_append(b, p, n), 0);
    }
}

/* An HPACK integer (RFC 7541 5.1) after the given high bits. */
static void hp_int(struct buf *b, int bits, uint8_t high, size_t v)
{
    size_t max = ((size_t)1 << bits) - 1;

    if (v < max) {
        ck_assert_int_eq(buf_putc(b, high | (uint8_t)v), 0);
        return;
    }
    ck_assert_int_eq(buf_putc(b, high | (uint8_t)max), 0);
    for (v -= max; v >= 128; v >>= 7) {
        ck_assert_int_eq(buf_putc(b, (int)(0x80 | (v & 0x7f))), 0);
    }
    ck_assert_int_eq(buf_putc(b, (int)v), 0);
}

/* A literal field without indexing, new name, no Huffman (6.2.2). */
static void hp_lit(struct buf *b, const char *name, const char *value)
{
    hp_int(b, 4, 0, 0);
    hp_int(b, 7, 0, strlen(name));
    ck_assert_int_eq(buf_puts(b, name), 0);
    hp_int(b, 7, 0, strlen(value));
    ck_assert_int_eq(buf_puts(b, value), 0);
}

/* :status through static table entry 8's name. */
static void hp_status(struct buf *b, const char *code)
{
    hp_int(b, 4, 0, 8);
    hp_int(b, 7, 0, strlen(code));
    ck_assert_int_eq(buf_puts(b, code), 0);
}

static void headers(struct buf *b, int flags, const struct buf *block)
{
    frame(b, HEADERS, END_HEADERS | flags, 1, block->data, block->len);
}

static void resp_headers(struct buf *b, const char *status, int flags)
{
    struct buf h;

    buf_init(&h);
    hp_status(&h, status);
    hp_lit(&h, "content-type", "application/grpc");
    headers(b, flags, &h);
    buf_cleanup(&h);
}

static void trailers(struct buf *b, const char *st, const char *msg)
{
    struct buf h;

    buf_init(&h);
    hp_lit(&h, "grpc-status", st);
    hp_lit(&h, "grpc-message", msg);
    headers(b, END_STREAM, &h);
    buf_cleanup(&h);
}

static void a_unary(struct buf *b)
{
    resp_headers(b, "200", 0);
    frame(b, DATA, 0, 1, grpc_msg, GRPC_LEN);
    trailers(b, "0", "fine");
}

static void a_trailers_only(struct buf *b)
{
    struct buf h;

    buf_init(&h);
    hp_status(&h, "200");
    hp_lit(&h, "content-type", "application/grpc");
    hp_lit(&h, "grpc-status", "7");
    hp_lit(&h, "grpc-message", "no identity issued");
    headers(b, END_STREAM, &h);
    buf_cleanup(&h);
}

/* One message in two DATA frames, the stream left open. */
static void a_stream(struct buf *b)
{
    resp_headers(b, "200", 0);
    frame(b, DATA, 0, 1, grpc_msg, 3);
    frame(b, DATA, 0, 1, grpc_msg + 3, GRPC_LEN - 3);
}

/* The prefix announces 10 bytes; 7 come. */
static void a_half(struct buf *b)
{
    resp_headers(b, "200", 0);
    frame(b, DATA, 0, 1, grpc_msg, 7);
}

static void a_rst(struct buf *b)
{
    static const uint8_t internal[4] = {0, 0, 0, 2};

    resp_headers(b, "200", 0);
    frame(b, RST_STREAM, 0, 1, internal, 4);
}

static void a_goaway(struct buf *b)
{
    static const uint8_t none[8] = {0};

    frame(b, GOAWAY, 0, 0, none, 8);
}

static void a_garbage(struct buf *b)
{
    ck_assert_int_eq(buf_puts(b, "HTTP/1.1 200 OK\r\n\r\nnot a frame at "
                                 "all, just text"), 0);
}

/* A value that would add a line of its own if it got through. */
static void a_crlf(struct buf *b)
{
    struct buf h;

    buf_init(&h);
    hp_status(&h, "200");
    hp_lit(&h, "x-note", "a\r\ngrpc-status: 0");
    headers(b, END_STREAM, &h);
    buf_cleanup(&h);
}

static void a_no_status(struct buf *b)
{
    struct buf h;

    buf_init(&h);
    hp_lit(&h, "content-type", "application/grpc");
    headers(b, END_STREAM, &h);
    buf_cleanup(&h);
}

static void a_404(struct buf *b)
{
    resp_headers(b, "404", END_STREAM);
}

/* Trailers of 5 x 15,000 bytes, over the 64 KiB kept, in a HEADERS
 * frame and CONTINUATION frames of one field each. */
static void a_huge_trailers(struct buf *b)
{
    char *v = malloc(15001);
    struct buf h;
    int i;

    ck_assert_ptr_nonnull(v);
    memset(v, 'x', 15000);
    v[15000] = '\0';
    resp_headers(b, "200", 0);
    for (i = 0; i < 5; i++) {
        buf_init(&h);
        hp_lit(&h, "x-pad", v);
        frame(b, i == 0 ? HEADERS : CONTINUATION,
              (i == 0 ? END_STREAM : 0) | (i == 4 ? END_HEADERS : 0), 1,
              h.data, h.len);
        buf_cleanup(&h);
    }
    free(v);
}

static ssize_t read_exact(int fd, uint8_t *p, size_t n)
{
    size_t got = 0;

    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);

        if (r <= 0) {
            return -1;
        }
        got += (size_t)r;
    }
    return (ssize_t)got;
}

static void write_all(int fd, const void *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n); /* the peer may die of SIGPIPE */

        if (w <= 0) {
            return;
        }
        p = (const uint8_t *)p + w;
        n -= (size_t)w;
    }
}

/* The request up to its END_STREAM: SETTINGS answered, DATA of stream
 * 1 copied to report. 0 once it is all in. */
static int read_request(int c, int report)
{
    static uint8_t p[1 << 16];
    uint8_t h[9];

    if (read_exact(c, p, PREFACE_LEN) < 0 ||
        memcmp(p, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", PREFACE_LEN) != 0) {
        return -1;
    }
    write_all(c, "\0\0\0\x04\0\0\0\0\0", 9);
    for (;;) {
        size_t n;
        uint32_t id;

        if (read_exact(c, h, 9) < 0) {
            return -1;
        }
        n = (size_t)h[0] << 16 | (size_t)h[1] << 8 | h[2];
        id = ((uint32_t)h[5] << 24 | (uint32_t)h[6] << 16 |
              (uint32_t)h[7] << 8 | h[8]) & 0x7fffffff;
        if (n > sizeof(p) || (n > 0 && read_exact(c, p, n) < 0)) {
            return -1;
        }
        if (h[3] == SETTINGS && !(h[4] & ACK)) {
            write_all(c, "\0\0\0\x04\x01\0\0\0\0", 9);
        }
        if (h[3] == DATA && id == 1 && report >= 0) {
            write_all(report, p, n);
        }
        if ((h[3] == HEADERS || h[3] == DATA) && (h[4] & END_STREAM)) {
            return 0;
        }
    }
}

static void play(int c, enum mode m, const struct buf *answer, int report)
{
    uint8_t pre[PREFACE_LEN];

    switch (m) {
    case HANGUP:
        return;
    case GARBAGE:
        if (read_exact(c, pre, sizeof(pre)) < 0) {
            return;
        }
        break;
    case DEAF:
        if (read_exact(c, pre, sizeof(pre)) < 0) {
            return;
        }
        /* Every write of the client's now fails with EPIPE. */
        shutdown(c, SHUT_RD);
        write_all(c, "\0\0\0\x04\0\0\0\0\0", 9);
        usleep(50000); /* well inside the client's 400 ms */
        break;
    case ANSWER:
    case CUT:
        if (read_request(c, report) < 0) {
            return;
        }
        break;
    }
    write_all(c, answer->data, answer->len);
    if (m == CUT) {
        return;
    }
    pause();
}

/* The peer: accepts one connection on lfd and plays m on it. */
static pid_t peer(int lfd, enum mode m, void (*answer)(struct buf *),
                  int report)
{
    struct buf a;
    pid_t pid;

    buf_init(&a);
    if (answer != NULL) {
        answer(&a);
    }
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int c = accept(lfd, NULL, NULL);

        if (c >= 0) {
            play(c, m, &a, report);
            close(c);
        }
        _exit(0);
    }
    buf_cleanup(&a);
    return pid;
}

static void peer_end(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static char dir[64];
static char sock_path[128];

/* A listening Unix socket at sock_path, in a fresh directory. */
static int listen_unix(void)
{
    struct sockaddr_un a;
    int fd;

    strcpy(dir, "/tmp/kest-h2-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(sock_path, sizeof(sock_path), "%s/api.sock", dir);
    memset(&a, 0, sizeof(a));
    a.sun_family = AF_UNIX;
    strcpy(a.sun_path, sock_path);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(fd, 4), 0);
    return fd;
}

static void unlisten_unix(int fd)
{
    close(fd);
    unlink(sock_path);
    rmdir(dir);
}

static bool one_frame(const struct buf *b, void *ctx)
{
    (void)ctx;
    return wlapi_frame_complete(b->data, b->len);
}

static const char *const grpc_hdrs[] = {
    "content-type", "application/grpc", "te", "trailers",
    "workload.spiffe.io", "true", NULL,
};

static void req_init(struct h2_req *rq, bool stream, int timeout_ms)
{
    memset(rq, 0, sizeof(*rq));
    rq->unix_path = sock_path;
    rq->authority = "localhost";
    rq->path = "/SpiffeWorkloadAPI/FetchX509SVID";
    rq->headers = grpc_hdrs;
    rq->body = "\0\0\0\0\0";
    rq->body_len = 5;
    rq->timeout_ms = timeout_ms;
    rq->max_body = 1 << 20;
    rq->enough = stream ? one_frame : NULL;
}

static long elapsed_ms(const struct timespec *t0)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 +
           (t.tv_nsec - t0->tv_nsec) / 1000000;
}

#define ANY_LEN ((size_t)-1)

static const struct {
    const char *what;
    enum mode mode;
    void (*answer)(struct buf *);
    bool stream;      /* stop after one gRPC message */
    size_t max_body;  /* 0: 1 MiB */
    int rc;
    long status;
    const char *grpc; /* grpc-status, NULL if it must be absent */
    size_t body_len;
} cases[] = {
    {"unary: headers, message, trailers", ANSWER, a_unary, false, 0, 0,
     200, "0", GRPC_LEN},
    {"trailers only", ANSWER, a_trailers_only, false, 0, 0, 200, "7", 0},
    {"stream: stop after one message", ANSWER, a_stream, true, 0, 0, 200,
     NULL, GRPC_LEN},
    {"stream that never ends, without enough", ANSWER, a_stream, false, 0,
     -ETIMEDOUT, 200, NULL, GRPC_LEN},
    {"max_body exactly", ANSWER, a_unary, false, GRPC_LEN, 0, 200, "0",
     GRPC_LEN},
    {"max_body one byte short", ANSWER, a_unary, false, GRPC_LEN - 1,
     -EMSGSIZE, 200, NULL, 0},
    {"404 is a response", ANSWER, a_404, false, 0, 0, 404, NULL, 0},
    {"hang-up at once", HANGUP, NULL, false, 0, -ECONNRESET, 0, NULL, 0},
    {"garbage instead of HTTP/2", GARBAGE, a_garbage, false, 0,
     -ECONNRESET, 0, NULL, 0},
    {"half a message, then close", CUT, a_half, true, 0, -ECONNRESET, 200,
     NULL, 7},
    {"half a message, then stall", ANSWER, a_half, true, 0, -ETIMEDOUT,
     200, NULL, 7},
    {"stream reset by the peer", ANSWER, a_rst, false, 0, -EIO, 200, NULL,
     0},
    {"refused by GOAWAY", ANSWER, a_goaway, false, 0, -EIO, 0, NULL, 0},
    {"CR LF in a header value", ANSWER, a_crlf, false, 0, -EIO, ANY_LEN,
     NULL, 0},
    {"no :status", ANSWER, a_no_status, false, 0, -EIO, 0, NULL, 0},
    {"trailers over 64 KiB", ANSWER, a_huge_trailers, false, 0, -EIO, 200,
     NULL, 0},
    {"cannot write, answer read anyway", DEAF, a_trailers_only, false, 0,
     0, 200, "7", 0},
};

START_TEST(test_h2_post_table)
{
    struct h2_req rq;
    struct http_resp rs;
    struct timespec t0;
    char st[16];
    int lfd = listen_unix();
    pid_t pid = peer(lfd, cases[_i].mode, cases[_i].answer, -1);
    int rc;

    /* A write to a closed peer must not raise SIGPIPE. */
    signal(SIGPIPE, SIG_DFL);
    req_init(&rq, cases[_i].stream, 400);
    if (cases[_i].max_body != 0) {
        rq.max_body = cases[_i].max_body;
    }
    http_resp_init(&rs);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = h2_post(&rq, &rs);
    ck_assert_msg(rc == cases[_i].rc, "%s: rc %d (%s), want %d",
                  cases[_i].what, rc, strerror(-rc), cases[_i].rc);
    ck_assert_msg(elapsed_ms(&t0) < 1400, "%s: took %ld ms",
                  cases[_i].what, elapsed_ms(&t0));
    if (cases[_i].status != (long)ANY_LEN) {
        ck_assert_int_eq(rs.status, cases[_i].status);
    }
    if (cases[_i].grpc != NULL) {
        ck_assert_int_eq(http_header(&rs, "grpc-status", st, sizeof(st)),
                         0);
        ck_assert_str_eq(st, cases[_i].grpc);
    } else if (rc == 0) {
        ck_assert_int_eq(http_header(&rs, "grpc-status", st, sizeof(st)),
                         -ENOENT);
    }
    if (rc == 0 || cases[_i].body_len != 0) {
        ck_assert_uint_eq(rs.body.len, cases[_i].body_len);
    }
    if (rs.body.len > 0) {
        ck_assert_int_eq(memcmp(rs.body.data, grpc_msg, rs.body.len), 0);
    }
    http_resp_cleanup(&rs);
    peer_end(pid);
    unlisten_unix(lfd);
}
END_TEST

/* The headers land as lines http_header and wlapi_parse_status read. */
START_TEST(test_h2_post_lines)
{
    struct h2_req rq;
    struct http_resp rs;
    char v[64];
    int lfd = listen_unix();
    pid_t pid = peer(lfd, ANSWER, a_unary, -1);

    req_init(&rq, false, 2000);
    http_resp_init(&rs);
    ck_assert_int_eq(h2_post(&rq, &rs), 0);
    ck_assert_int_eq(http_header(&rs, "Content-Type", v, sizeof(v)), 0);
    ck_assert_str_eq(v, "application/grpc");
    ck_assert_int_eq(http_header(&rs, "grpc-message", v, sizeof(v)), 0);
    ck_assert_str_eq(v, "fine");
    ck_assert_ptr_null(memmem(rs.headers.data, rs.headers.len, ":status",
                              7));
    ck_assert_int_eq(wlapi_parse_status(&rs, "Test"), 0);
    http_resp_cleanup(&rs);
    peer_end(pid);
    unlisten_unix(lfd);

    lfd = listen_unix();
    pid = peer(lfd, ANSWER, a_trailers_only, -1);
    http_resp_init(&rs);
    ck_assert_int_eq(h2_post(&rq, &rs), 0);
    ck_assert_int_eq(wlapi_parse_status(&rs, "Test"), -EACCES);
    http_resp_cleanup(&rs);
    peer_end(pid);
    unlisten_unix(lfd);
}
END_TEST

/* The peer got the body whole, then END_STREAM (it answers only then). */
START_TEST(test_h2_post_request_body)
{
    static const char body[] = "\0\0\0\0\x03" "abc";
    struct h2_req rq;
    struct http_resp rs;
    uint8_t got[64];
    int p[2];
    int lfd = listen_unix();
    pid_t pid;
    ssize_t n;

    ck_assert_int_eq(pipe(p), 0);
    pid = peer(lfd, ANSWER, a_unary, p[1]);
    close(p[1]);
    req_init(&rq, false, 2000);
    rq.body = body;
    rq.body_len = 8;
    http_resp_init(&rs);
    ck_assert_int_eq(h2_post(&rq, &rs), 0);
    peer_end(pid);
    n = read(p[0], got, sizeof(got));
    ck_assert_int_eq(n, 8);
    ck_assert_int_eq(memcmp(got, body, 8), 0);
    close(p[0]);
    http_resp_cleanup(&rs);
    unlisten_unix(lfd);
}
END_TEST

START_TEST(test_h2_post_no_socket)
{
    static const char *const paths[] = {
        "/nonexistent/kest/api.sock",
        "/etc/passwd/api.sock", /* a path through a file: ENOTDIR */
    };
    struct h2_req rq;
    struct http_resp rs;
    size_t i;

    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        req_init(&rq, true, 1000);
        rq.unix_path = paths[i];
        http_resp_init(&rs);
        ck_assert_int_eq(h2_post(&rq, &rs), -ENOENT);
        http_resp_cleanup(&rs);
    }
}
END_TEST

/* A socket file nobody listens on (an agent that died), and a TCP port
 * bound but not listening. */
START_TEST(test_h2_post_refused)
{
    struct sockaddr_in in;
    socklen_t len = sizeof(in);
    struct h2_req rq;
    struct http_resp rs;
    char auth[32];
    int lfd = listen_unix();
    int tfd;

    close(lfd);
    req_init(&rq, true, 1000);
    http_resp_init(&rs);
    ck_assert_int_eq(h2_post(&rq, &rs), -ECONNREFUSED);
    unlink(sock_path);
    rmdir(dir);

    tfd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&in, 0, sizeof(in));
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(tfd, (struct sockaddr *)&in, sizeof(in)), 0);
    ck_assert_int_eq(getsockname(tfd, (struct sockaddr *)&in, &len), 0);
    snprintf(auth, sizeof(auth), "127.0.0.1:%u", ntohs(in.sin_port));
    rq.unix_path = NULL;
    rq.authority = auth;
    ck_assert_int_eq(h2_post(&rq, &rs), -ECONNREFUSED);
    close(tfd);
    http_resp_cleanup(&rs);
}
END_TEST

START_TEST(test_h2_post_tcp)
{
    static const char *const bad[] = {
        "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
        "localhost:80", ":80", "[::1:80", "[]:80", "1.2.3.4:80x",
    };
    struct sockaddr_in in;
    socklen_t len = sizeof(in);
    struct h2_req rq;
    struct http_resp rs;
    char auth[32];
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    pid_t pid;
    size_t i;

    memset(&in, 0, sizeof(in));
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&in, sizeof(in)), 0);
    ck_assert_int_eq(listen(lfd, 4), 0);
    ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&in, &len), 0);
    snprintf(auth, sizeof(auth), "127.0.0.1:%u", ntohs(in.sin_port));
    pid = peer(lfd, ANSWER, a_unary, -1);
    req_init(&rq, false, 2000);
    rq.unix_path = NULL;
    rq.authority = auth;
    http_resp_init(&rs);
    ck_assert_int_eq(h2_post(&rq, &rs), 0);
    ck_assert_int_eq(rs.status, 200);
    ck_assert_uint_eq(rs.body.len, GRPC_LEN);
    http_resp_cleanup(&rs);
    peer_end(pid);
    close(lfd);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        rq.authority = bad[i];
        http_resp_init(&rs);
        ck_assert_msg(h2_post(&rq, &rs) == -EINVAL, "accepted %s", bad[i]);
        http_resp_cleanup(&rs);
    }
}
END_TEST

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;

    ck_assert_ptr_nonnull(d);
    while (readdir(d) != NULL) {
        n++;
    }
    closedir(d);
    return n;
}

/* Mid-exchange (from enough): every socket but the listener is
 * non-blocking and close-on-exec. */
static bool check_fds(const struct buf *b, void *ctx)
{
    int lfd = *(int *)ctx;
    int fd;

    for (fd = 3; fd < 256; fd++) {
        struct stat st;

        if (fd == lfd || fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode)) {
            continue;
        }
        ck_assert_msg(fcntl(fd, F_GETFD) & FD_CLOEXEC, "fd %d", fd);
        ck_assert_msg(fcntl(fd, F_GETFL) & O_NONBLOCK, "fd %d", fd);
    }
    return wlapi_frame_complete(b->data, b->len);
}

START_TEST(test_h2_post_fds)
{
    static const enum mode modes[] = {ANSWER, HANGUP, GARBAGE, CUT};
    static void (*const answers[])(struct buf *) = {
        a_stream, NULL, a_garbage, a_half,
    };
    struct h2_req rq;
    struct http_resp rs;
    int before = count_fds();
    int lfd;
    size_t i;

    for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        pid_t pid;

        lfd = listen_unix();
        pid = peer(lfd, modes[i], answers[i], -1);
        req_init(&rq, true, 1000);
        rq.enough = check_fds;
        rq.ctx = &lfd;
        http_resp_init(&rs);
        ck_assert_int_eq(h2_post(&rq, &rs), i == 0 ? 0 : -ECONNRESET);
        http_resp_cleanup(&rs);
        peer_end(pid);
        unlisten_unix(lfd);
    }
    /* A refused connect and a timeout leave nothing behind either. */
    lfd = listen_unix();
    close(lfd);
    http_resp_init(&rs);
    ck_assert_int_eq(h2_post(&rq, &rs), -ECONNREFUSED);
    unlink(sock_path);
    rmdir(dir);
    lfd = listen_unix();
    ck_assert_int_eq(h2_post(&rq, &rs), -ETIMEDOUT);
    unlisten_unix(lfd);
    http_resp_cleanup(&rs);
    ck_assert_int_eq(count_fds(), before);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("h2");
    TCase *tc = tcase_create("h2_post");
    SRunner *sr;
    int failed;

    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, test_h2_post_table, 0,
                        sizeof(cases) / sizeof(cases[0]));
    tcase_add_test(tc, test_h2_post_lines);
    tcase_add_test(tc, test_h2_post_request_body);
    tcase_add_test(tc, test_h2_post_no_socket);
    tcase_add_test(tc, test_h2_post_refused);
    tcase_add_test(tc, test_h2_post_tcp);
    tcase_add_test(tc, test_h2_post_fds);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
