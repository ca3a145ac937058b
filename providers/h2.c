/* SPDX-License-Identifier: Apache-2.0 */
/* h2c requests on libnghttp2, loaded on demand, over a non-blocking
 * socket that this file drives itself (nghttp2 only frames). */
#include "providers/h2.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/klog.h"
#include "providers/http.h"

/* Header and trailer lines kept per response, as for libcurl. */
#define H2_MAX_HEADERS (64 * 1024)
/* Pseudo-headers plus the caller's. */
#define H2_MAX_NV 16

/* The functions used, typed after the header's prototypes. */
#define NG_FN(name) __typeof__(&nghttp2_##name) name

static struct {
    NG_FN(session_callbacks_new);
    NG_FN(session_callbacks_set_on_header_callback);
    NG_FN(session_callbacks_set_on_data_chunk_recv_callback);
    NG_FN(session_callbacks_set_on_frame_recv_callback);
    NG_FN(session_callbacks_set_on_frame_send_callback);
    NG_FN(session_callbacks_set_on_stream_close_callback);
    NG_FN(session_client_new);
    NG_FN(session_del);
    NG_FN(submit_settings);
    NG_FN(session_set_local_window_size);
    NG_FN(submit_request);
    NG_FN(session_mem_send);
    NG_FN(session_mem_recv);
    NG_FN(session_want_read);
    NG_FN(session_want_write);
    NG_FN(strerror);
    nghttp2_session_callbacks *cbs; /* shared by every session */
    int state;                      /* 0 not tried, 1 ready, <0 failed */
} ng;

static pthread_mutex_t ng_mu = PTHREAD_MUTEX_INITIALIZER;

/* One exchange, as the nghttp2 callbacks see it. */
struct h2_x {
    const struct h2_req *req;
    struct http_resp *resp;
    int32_t stream;
    size_t sent; /* request body bytes handed to nghttp2 */
    int err;     /* the first failure a callback saw */
    bool done;   /* the response ended, or enough() said so */
};

/* The connection. in holds the response as received (the SVID key
 * among it) and is wiped. */
struct h2_conn {
    int fd;
    nghttp2_session *s;
    long long deadline;  /* CLOCK_MONOTONIC milliseconds */
    const uint8_t *out;  /* from nghttp2, not yet written */
    size_t out_n;
    bool peer_gone;      /* writing failed: read what it may have said */
    uint8_t in[16384];
};

union h2_sa {
    struct sockaddr sa;
    struct sockaddr_un un;
    struct sockaddr_in in4;
    struct sockaddr_in6 in6;
};

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static ssize_t on_read_body(nghttp2_session *s, int32_t id, uint8_t *buf,
                            size_t cap, uint32_t *flags,
                            nghttp2_data_source *src, void *arg)
{
    struct h2_x *x = arg;
    size_t n = x->req->body_len - x->sent;

    (void)s;
    (void)id;
    (void)src;
    if (n > cap) {
        n = cap;
    }
    if (n > 0) {
        memcpy(buf, (const uint8_t *)x->req->body + x->sent, n);
    }
    x->sent += n;
    if (x->sent == x->req->body_len) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    }
    return (ssize_t)n;
}

/* nghttp2 has checked names and values (RFC 9113 8.2.1: no CR, LF or
 * NUL, lower-case names, :status three digits), so a line cannot be
 * forged. */
static int on_header(nghttp2_session *s, const nghttp2_frame *f,
                     const uint8_t *name, size_t nl, const uint8_t *value,
                     size_t vl, uint8_t flags, void *arg)
{
    struct h2_x *x = arg;
    struct buf *h = &x->resp->headers;
    size_t i;

    (void)s;
    (void)flags;
    if (f->hd.type != NGHTTP2_HEADERS || f->hd.stream_id != x->stream) {
        return 0;
    }
    if (nl == 7 && memcmp(name, ":status", 7) == 0) {
        x->resp->status = 0;
        for (i = 0; i < vl && i < 3 && value[i] >= '0' && value[i] <= '9';
             i++) {
            x->resp->status = x->resp->status * 10 + (value[i] - '0');
        }
        return 0;
    }
    if (nl + vl + 4 > H2_MAX_HEADERS - h->len) {
        klog_trace("h2", "headers over %d bytes", H2_MAX_HEADERS);
        x->err = -EIO;
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    if (buf_append(h, name, nl) < 0 || buf_append(h, ": ", 2) < 0 ||
        buf_append(h, value, vl) < 0 || buf_append(h, "\r\n", 2) < 0) {
        x->err = -ENOMEM;
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    return 0;
}

/* NGHTTP2_ERR_PAUSE makes nghttp2_session_mem_recv return at once. */
static int on_data(nghttp2_session *s, uint8_t flags, int32_t id,
                   const uint8_t *p, size_t n, void *arg)
{
    struct h2_x *x = arg;
    struct buf *b = &x->resp->body;

    (void)s;
    (void)flags;
    if (id != x->stream) {
        return 0;
    }
    if (n > x->req->max_body - b->len) {
        x->err = -EMSGSIZE;
        return NGHTTP2_ERR_PAUSE;
    }
    if (buf_append(b, p, n) < 0) {
        x->err = -ENOMEM;
        return NGHTTP2_ERR_PAUSE;
    }
    if (x->req->enough != NULL && x->req->enough(b, x->req->ctx)) {
        x->done = true;
        return NGHTTP2_ERR_PAUSE;
    }
    return 0;
}

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *f,
                         void *arg)
{
    struct h2_x *x = arg;

    (void)s;
    if (f->hd.stream_id == x->stream &&
        (f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) &&
        (f->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
        x->done = true;
    }
    return 0;
}

/* nghttp2 sends GOAWAY when what arrived is not HTTP/2 (a connection
 * error): the connection is useless, as if the peer had hung up. */
static int on_frame_send(nghttp2_session *s, const nghttp2_frame *f,
                         void *arg)
{
    struct h2_x *x = arg;

    (void)s;
    if (f->hd.type == NGHTTP2_GOAWAY && !x->done && x->err == 0) {
        klog_trace("h2", "bad HTTP/2 from the peer (error code %u)",
                   f->goaway.error_code);
        x->err = -ECONNRESET;
    }
    return 0;
}

/* Our stream ended before the response did: reset by the peer, refused
 * by its GOAWAY, or reset by nghttp2 over a malformed response. */
static int on_stream_close(nghttp2_session *s, int32_t id, uint32_t code,
                           void *arg)
{
    struct h2_x *x = arg;

    (void)s;
    if (id == x->stream && !x->done && x->err == 0) {
        klog_trace("h2", "stream closed early (error code %u)", code);
        x->err = -EIO;
    }
    return 0;
}

#define SYM(name) \
    ((*(void **)&ng.name = dlsym(h, "nghttp2_" #name)) != NULL)

static int load_locked(void)
{
    void *h = dlopen("libnghttp2.so.14", RTLD_NOW | RTLD_LOCAL);

    if (h == NULL) {
        klog_error("h2", "cannot load libnghttp2.so.14: %s", dlerror());
        return -ELIBACC;
    }
    if (!(SYM(session_callbacks_new) &&
          SYM(session_callbacks_set_on_header_callback) &&
          SYM(session_callbacks_set_on_data_chunk_recv_callback) &&
          SYM(session_callbacks_set_on_frame_recv_callback) &&
          SYM(session_callbacks_set_on_frame_send_callback) &&
          SYM(session_callbacks_set_on_stream_close_callback) &&
          SYM(session_client_new) && SYM(session_del) &&
          SYM(submit_settings) && SYM(session_set_local_window_size) &&
          SYM(submit_request) && SYM(session_mem_send) &&
          SYM(session_mem_recv) && SYM(session_want_read) &&
          SYM(session_want_write) && SYM(strerror))) {
        klog_error("h2", "libnghttp2.so.14 lacks a needed function");
        return -ELIBACC;
    }
    if (ng.session_callbacks_new(&ng.cbs) != 0) {
        return -ENOMEM;
    }
    ng.session_callbacks_set_on_header_callback(ng.cbs, on_header);
    ng.session_callbacks_set_on_data_chunk_recv_callback(ng.cbs, on_data);
    ng.session_callbacks_set_on_frame_recv_callback(ng.cbs, on_frame_recv);
    ng.session_callbacks_set_on_frame_send_callback(ng.cbs, on_frame_send);
    ng.session_callbacks_set_on_stream_close_callback(ng.cbs,
                                                      on_stream_close);
    klog_trace("h2", "libnghttp2 loaded");
    return 0;
}

int h2_load(void)
{
    int rc;

    pthread_mutex_lock(&ng_mu);
    rc = 0;
    if (ng.state == 0) {
        rc = load_locked();
        /* Out of memory may pass; a missing library will not. */
        if (rc != -ENOMEM) {
            ng.state = rc < 0 ? rc : 1;
        }
    }
    if (ng.state < 0) {
        rc = ng.state;
    }
    pthread_mutex_unlock(&ng_mu);
    return rc;
}

/* IP:port or [IPv6]:port, literals only (as wlapi_addr_parse allows). */
static int tcp_addr(const char *auth, union h2_sa *a, socklen_t *len)
{
    const char *colon = strrchr(auth, ':');
    char host[64];
    char *end;
    long port;
    size_t hl;

    memset(a, 0, sizeof(*a));
    if (colon == NULL || colon == auth) {
        return -EINVAL;
    }
    hl = (size_t)(colon - auth);
    if (hl >= sizeof(host)) {
        return -EINVAL;
    }
    port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || port < 1 || port > 65535) {
        return -EINVAL;
    }
    memcpy(host, auth, hl);
    host[hl] = '\0';
    if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        a->in6.sin6_family = AF_INET6;
        a->in6.sin6_port = htons((uint16_t)port);
        *len = sizeof(a->in6);
        return inet_pton(AF_INET6, host + 1, &a->in6.sin6_addr) == 1
                   ? 0 : -EINVAL;
    }
    a->in4.sin_family = AF_INET;
    a->in4.sin_port = htons((uint16_t)port);
    *len = sizeof(a->in4);
    return inet_pton(AF_INET, host, &a->in4.sin_addr) == 1 ? 0 : -EINVAL;
}

static int sock_addr(const struct h2_req *req, union h2_sa *a,
                     socklen_t *len)
{
    size_t n;

    if (req->unix_path == NULL) {
        return tcp_addr(req->authority, a, len);
    }
    n = strlen(req->unix_path);
    if (n >= sizeof(a->un.sun_path)) {
        return -ENAMETOOLONG;
    }
    memset(a, 0, sizeof(*a));
    a->un.sun_family = AF_UNIX;
    memcpy(a->un.sun_path, req->unix_path, n + 1);
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    return 0;
}

/* A TCP connect in progress: 0 once up, else the errno it failed
 * with (ETIMEDOUT at the deadline). */
static int await_connect(int fd, long long deadline)
{
    struct pollfd p = {fd, POLLOUT, 0};
    socklen_t len = sizeof(int);
    int err = 0;
    int rc;

    do {
        long long left = deadline - now_ms();

        if (left <= 0) {
            return ETIMEDOUT;
        }
        rc = poll(&p, 1, (int)left);
    } while (rc < 0 && errno == EINTR);
    if (rc == 0) {
        return ETIMEDOUT;
    }
    if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
        return errno;
    }
    return err;
}

/* connect(2) on a non-blocking socket. A Unix socket whose backlog is
 * full answers EAGAIN instead of waiting: try again every millisecond
 * until the deadline. */
static int try_connect(int fd, const union h2_sa *a, socklen_t len,
                       long long deadline)
{
    const struct timespec nap = {0, 1000000};

    for (;;) {
        int err = connect(fd, &a->sa, len) == 0 ? 0 : errno;

        if (a->sa.sa_family != AF_UNIX &&
            (err == EINPROGRESS || err == EINTR)) {
            return await_connect(fd, deadline);
        }
        if (err != EAGAIN && err != EINTR) {
            return err;
        }
        if (now_ms() >= deadline) {
            return ETIMEDOUT;
        }
        if (err == EAGAIN) {
            nanosleep(&nap, NULL);
        }
    }
}

static int open_conn(const struct h2_req *req, long long deadline,
                     int *out)
{
    union h2_sa a;
    socklen_t len = 0;
    int fd, err;
    int rc = sock_addr(req, &a, &len);

    if (rc < 0) {
        return rc;
    }
    fd = socket(a.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                0);
    if (fd < 0) {
        return -errno;
    }
    err = try_connect(fd, &a, len, deadline);
    if (err == 0) {
        *out = fd;
        return 0;
    }
    close(fd);
    klog_trace("h2", "connect %s: %s",
               req->unix_path ? req->unix_path : req->authority,
               strerror(err));
    if (err == ENOENT || err == ENOTDIR) {
        return -ENOENT;
    }
    return err == ETIMEDOUT ? -ETIMEDOUT : -ECONNREFUSED;
}

/* Below the limit, a body one byte too long still fits in the window,
 * so that it fails with -EMSGSIZE rather than a stall. */
static int32_t window(size_t max_body)
{
    if (max_body >= NGHTTP2_MAX_WINDOW_SIZE) {
        return NGHTTP2_MAX_WINDOW_SIZE;
    }
    if (max_body < NGHTTP2_INITIAL_WINDOW_SIZE) {
        return NGHTTP2_INITIAL_WINDOW_SIZE;
    }
    return (int32_t)max_body + 1;
}

static void nv_set(nghttp2_nv *nv, const char *name, const char *value)
{
    nv->name = (uint8_t *)name;
    nv->namelen = strlen(name);
    nv->value = (uint8_t *)value;
    nv->valuelen = strlen(value);
    nv->flags = NGHTTP2_NV_FLAG_NONE;
}

/* Queue the client's SETTINGS, a connection window for the whole
 * response and the request (the preface goes out with them). */
static int start(struct h2_conn *c, struct h2_x *x)
{
    const struct h2_req *req = x->req;
    int32_t win = window(req->max_body);
    const nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, (uint32_t)win},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, H2_MAX_HEADERS},
    };
    nghttp2_data_provider body;
    nghttp2_nv nv[H2_MAX_NV];
    size_t n = 4;
    size_t i;

    nv_set(&nv[0], ":method", "POST");
    nv_set(&nv[1], ":scheme", "http");
    nv_set(&nv[2], ":authority", req->authority);
    nv_set(&nv[3], ":path", req->path);
    for (i = 0; req->headers != NULL && req->headers[i] != NULL &&
                req->headers[i + 1] != NULL;
         i += 2) {
        if (n == H2_MAX_NV) {
            return -EINVAL;
        }
        nv_set(&nv[n++], req->headers[i], req->headers[i + 1]);
    }
    if (ng.session_client_new(&c->s, ng.cbs, x) != 0 ||
        ng.submit_settings(c->s, NGHTTP2_FLAG_NONE, iv,
                           sizeof(iv) / sizeof(iv[0])) != 0 ||
        ng.session_set_local_window_size(c->s, NGHTTP2_FLAG_NONE, 0,
                                         win) != 0) {
        return -ENOMEM;
    }
    memset(&body, 0, sizeof(body));
    body.read_callback = on_read_body;
    x->stream = ng.submit_request(c->s, NULL, nv, n, &body, NULL);
    if (x->stream < 0) {
        return x->stream == NGHTTP2_ERR_NOMEM ? -ENOMEM : -EINVAL;
    }
    return 0;
}

/* Write what nghttp2 has queued until the socket is full. */
static int pump_out(struct h2_conn *c, struct h2_x *x)
{
    for (;;) {
        ssize_t n;

        if (c->out_n == 0) {
            n = ng.session_mem_send(c->s, &c->out);
            if (n <= 0) {
                return n == 0 ? 0 : x->err ? x->err
                                   : n == NGHTTP2_ERR_NOMEM ? -ENOMEM
                                                            : -EIO;
            }
            c->out_n = (size_t)n;
        }
        if (c->peer_gone) {
            /* Nothing reaches the peer any more, but nghttp2 must still
             * see its frames leave: a stream whose HEADERS it never
             * handed over would not take the answer. */
            c->out_n = 0;
            continue;
        }
        n = send(c->fd, c->out, c->out_n, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            return 0;
        }
        if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
            /* It may have answered before it left. */
            c->peer_gone = true;
            return 0;
        }
        if (n < 0) {
            return -EIO;
        }
        c->out += n;
        c->out_n -= (size_t)n;
    }
}

/* Wait for the socket: 1 if there is something to read, 0 to go round
 * again, -ETIMEDOUT at the deadline. */
static int wait_io(const struct h2_conn *c)
{
    struct pollfd p = {c->fd, POLLIN, 0};
    long long left = c->deadline - now_ms();
    int rc;

    if (left <= 0) {
        return -ETIMEDOUT;
    }
    if (c->out_n > 0 && !c->peer_gone) {
        p.events |= POLLOUT;
    }
    rc = poll(&p, 1, (int)left);
    if (rc < 0) {
        return errno == EINTR ? 0 : -EIO;
    }
    if (rc == 0) {
        return -ETIMEDOUT;
    }
    return (p.revents & (POLLIN | POLLHUP | POLLERR)) ? 1 : 0;
}

static int pump_in(struct h2_conn *c, struct h2_x *x)
{
    ssize_t n = recv(c->fd, c->in, sizeof(c->in), 0);
    ssize_t used;

    if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) {
            return 0;
        }
        return errno == ECONNRESET ? -ECONNRESET : -EIO;
    }
    if (n == 0) {
        klog_trace("h2", "the peer closed the connection");
        return -ECONNRESET;
    }
    used = ng.session_mem_recv(c->s, c->in, (size_t)n);
    if (x->err != 0 || used >= 0) {
        return x->err;
    }
    klog_trace("h2", "nghttp2: %s", ng.strerror((int)used));
    return used == NGHTTP2_ERR_NOMEM ? -ENOMEM : -ECONNRESET;
}

static int exchange(struct h2_conn *c, struct h2_x *x)
{
    for (;;) {
        int rc = pump_out(c, x);

        if (rc == 0 && x->err == 0 && !x->done &&
            !ng.session_want_read(c->s) && !ng.session_want_write(c->s)) {
            rc = -ECONNRESET; /* nghttp2 gave up on the connection */
        }
        if (rc == 0 && x->err == 0 && !x->done) {
            rc = wait_io(c);
            if (rc > 0) {
                rc = pump_in(c, x);
            }
        }
        if (x->err != 0) {
            return x->err;
        }
        if (x->done) {
            return 0;
        }
        if (rc < 0) {
            return rc;
        }
    }
}

int h2_post(const struct h2_req *req, struct http_resp *resp)
{
    struct h2_conn *c = NULL;
    struct h2_x x;
    int rc = h2_load();

    if (rc < 0) {
        return rc;
    }
    memset(&x, 0, sizeof(x));
    x.req = req;
    x.resp = resp;
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return -ENOMEM;
    }
    c->fd = -1;
    c->deadline = now_ms() + req->timeout_ms;
    rc = open_conn(req, c->deadline, &c->fd);
    if (rc < 0) {
        goto out;
    }
    rc = start(c, &x);
    if (rc < 0) {
        goto out;
    }
    rc = exchange(c, &x);
    if (rc == -EMSGSIZE) {
        klog_error("h2", "%s: response larger than %zu bytes", req->path,
                   req->max_body);
    }
out:
    if (c->s != NULL) {
        ng.session_del(c->s);
    }
    if (c->fd >= 0) {
        close(c->fd);
    }
    explicit_bzero(c->in, sizeof(c->in));
    free(c);
    return rc;
}
