/* SPDX-License-Identifier: Apache-2.0 */
/* libcurl, loaded on demand. */
#include "providers/http.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <strings.h>
#include <string.h>
#include <sys/stat.h>

#include "core/klog.h"

static struct {
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    void (*easy_cleanup)(CURL *);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
    const char *(*easy_strerror)(CURLcode);
    int state; /* 0 not tried, 1 ready, <0 failed */
} curl;

static pthread_mutex_t curl_mu = PTHREAD_MUTEX_INITIALIZER;

#define SYM(field, name) \
    (*(void **)&curl.field = dlsym(h, name)) != NULL

static int load_locked(void)
{
    void *h;

    h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        klog_error("http", "cannot load libcurl.so.4: %s", dlerror());
        return -ENOENT;
    }
    if (!(SYM(global_init, "curl_global_init") &&
          SYM(easy_init, "curl_easy_init") &&
          SYM(easy_setopt, "curl_easy_setopt") &&
          SYM(easy_perform, "curl_easy_perform") &&
          SYM(easy_getinfo, "curl_easy_getinfo") &&
          SYM(easy_cleanup, "curl_easy_cleanup") &&
          SYM(slist_append, "curl_slist_append") &&
          SYM(slist_free_all, "curl_slist_free_all") &&
          SYM(easy_strerror, "curl_easy_strerror"))) {
        klog_error("http", "libcurl.so.4 lacks a needed function");
        return -ENOENT;
    }
    if (curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        return -EIO;
    }
    klog_trace("http", "libcurl loaded");
    return 0;
}

int http_load(void)
{
    int rc;

    pthread_mutex_lock(&curl_mu);
    if (curl.state == 0) {
        rc = load_locked();
        curl.state = rc < 0 ? rc : 1;
    }
    rc = curl.state < 0 ? curl.state : 0;
    pthread_mutex_unlock(&curl_mu);
    return rc;
}

void http_resp_init(struct http_resp *r)
{
    r->status = 0;
    buf_init(&r->body);
    buf_init(&r->headers);
}

void http_resp_cleanup(struct http_resp *r)
{
    buf_cleanup(&r->body);
    buf_cleanup(&r->headers);
    r->status = 0;
}

struct xfer {
    const struct http_req *req;
    struct http_resp *resp;
    bool stopped; /* we ended the transfer on purpose */
    bool too_big;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct xfer *x = arg;
    size_t len = size * n;

    if (x->resp->body.len + len > x->req->max_body) {
        x->too_big = true;
        return 0;
    }
    if (buf_append(&x->resp->body, p, len) < 0) {
        return 0;
    }
    if (x->req->enough != NULL && x->req->enough(&x->resp->body,
                                                 x->req->ctx)) {
        x->stopped = true;
        return 0;
    }
    return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    struct xfer *x = arg;
    size_t len = size * n;

    if (x->resp->headers.len + len > 64 * 1024 ||
        buf_append(&x->resp->headers, p, len) < 0) {
        return 0;
    }
    return len;
}

static int map_error(CURLcode c, const struct http_req *req)
{
    struct stat st;

    switch (c) {
    case CURLE_COULDNT_CONNECT:
        if (req->unix_socket != NULL && stat(req->unix_socket, &st) < 0) {
            return -ENOENT;
        }
        return -ECONNREFUSED;
    case CURLE_OPERATION_TIMEDOUT:
        return -ETIMEDOUT;
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
        /* The peer hung up before the whole answer was in. */
        return -ECONNRESET;
    case CURLE_HTTP2:
    case CURLE_WEIRD_SERVER_REPLY:
        return -EPROTO;
    default:
        return -EIO;
    }
}

static struct curl_slist *header_list(const struct http_req *req)
{
    struct curl_slist *l = NULL;
    size_t i;

    for (i = 0; req->headers != NULL && req->headers[i] != NULL; i++) {
        struct curl_slist *n = curl.slist_append(l, req->headers[i]);

        if (n == NULL) {
            curl.slist_free_all(l);
            return NULL;
        }
        l = n;
    }
    return l;
}

static void set_options(CURL *h, const struct http_req *req,
                        struct curl_slist *hdrs, struct xfer *x)
{
    curl.easy_setopt(h, CURLOPT_URL, req->url);
    curl.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    /* h2c connection reuse is broken in curl 7.88 (curl #10634). */
    curl.easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
    curl.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl.easy_setopt(h, CURLOPT_TIMEOUT_MS, req->timeout_ms);
    curl.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, req->timeout_ms);
    if (req->unix_socket != NULL) {
        curl.easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, req->unix_socket);
    }
    if (req->h2c) {
        curl.easy_setopt(h, CURLOPT_HTTP_VERSION,
                         (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
    }
    if (hdrs != NULL) {
        curl.easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    }
    if (req->body != NULL) {
        curl.easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
        curl.easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)req->body_len);
    }
    curl.easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl.easy_setopt(h, CURLOPT_WRITEDATA, x);
    curl.easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl.easy_setopt(h, CURLOPT_HEADERDATA, x);
}

int http_do(const struct http_req *req, struct http_resp *resp)
{
    struct xfer x = {req, resp, false, false};
    struct curl_slist *hdrs = NULL;
    CURL *h;
    CURLcode c;
    int rc = http_load();

    if (rc < 0) {
        return rc;
    }
    h = curl.easy_init();
    if (h == NULL) {
        return -ENOMEM;
    }
    hdrs = header_list(req);
    set_options(h, req, hdrs, &x);
    c = curl.easy_perform(h);
    curl.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    if (x.too_big) {
        klog_error("http", "%s: response larger than %zu bytes", req->url,
                   req->max_body);
        rc = -EMSGSIZE;
    } else if (c != CURLE_OK && !(c == CURLE_WRITE_ERROR && x.stopped)) {
        rc = map_error(c, req);
        klog_trace("http", "%s: %s", req->url, curl.easy_strerror(c));
    }
    curl.slist_free_all(hdrs);
    curl.easy_cleanup(h);
    return rc;
}

int http_header(const struct http_resp *r, const char *name, char *out,
                size_t cap)
{
    const char *p = (const char *)r->headers.data;
    /* No headers at all leave data NULL, where even +0 is undefined. */
    const char *end = p ? p + r->headers.len : NULL;
    size_t n = strlen(name);
    int rc = -ENOENT;

    while (p != NULL && p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *stop = eol ? eol : end;

        if ((size_t)(stop - p) > n && p[n] == ':' &&
            strncasecmp(p, name, n) == 0) {
            const char *v = p + n + 1;
            size_t len;

            while (v < stop && (*v == ' ' || *v == '\t')) {
                v++;
            }
            len = (size_t)(stop - v);
            while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == ' ')) {
                len--;
            }
            if (len >= cap) {
                len = cap - 1;
            }
            memcpy(out, v, len);
            out[len] = '\0';
            rc = 0;
        }
        p = eol ? eol + 1 : NULL;
    }
    return rc;
}
