/* SPDX-License-Identifier: Apache-2.0 */
/* The SPIFFE Workload API over gRPC. */
#include "providers/wlapi.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/klog.h"
#include "providers/h2.h"
#include "providers/http.h"
#include "providers/pb.h"

static int bad_addr(const char *s, const char *why)
{
    klog_error("spire", "invalid Workload API address '%s': %s", s, why);
    return -EINVAL;
}

static int parse_tcp(const char *s, const char *hp, struct wlapi_addr *a)
{
    char host[64];
    const char *colon = strrchr(hp, ':');
    unsigned char ip[16];
    char *end;
    long port;
    size_t hl;

    if (colon == NULL) {
        return bad_addr(s, "tcp address needs IP:port");
    }
    hl = (size_t)(colon - hp);
    if (hl == 0 || hl >= sizeof(host)) {
        return bad_addr(s, "tcp address needs an IP literal");
    }
    memcpy(host, hp, hl);
    host[hl] = '\0';
    port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || port < 1 || port > 65535) {
        return bad_addr(s, "tcp port must be 1-65535 with nothing after");
    }
    if (host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        if (inet_pton(AF_INET6, host + 1, ip) != 1) {
            return bad_addr(s, "not an IPv6 literal");
        }
        host[hl - 1] = ']';
    } else if (inet_pton(AF_INET, host, ip) != 1) {
        return bad_addr(s, "tcp host must be an IP literal");
    }
    snprintf(a->base_url, sizeof(a->base_url), "http://%s:%ld", host, port);
    a->unix_path[0] = '\0';
    return 0;
}

int wlapi_addr_parse(const char *s, struct wlapi_addr *a)
{
    const char *path;

    memset(a, 0, sizeof(*a));
    if (strpbrk(s, "?#") != NULL) {
        return bad_addr(s, "query and fragment are not allowed");
    }
    if (strncmp(s, "tcp://", 6) == 0) {
        if (strpbrk(s + 6, "@/") != NULL) {
            return bad_addr(s, "tcp address takes no userinfo or path");
        }
        return parse_tcp(s, s + 6, a);
    }
    if (strncmp(s, "unix://", 7) == 0) {
        path = s + 7;
        if (path[0] != '/') {
            return bad_addr(s, path[0] ? "unix address has a host part"
                                       : "unix address has no path");
        }
    } else if (strncmp(s, "unix:", 5) == 0) {
        path = s + 5;
        if (path[0] != '/') {
            return bad_addr(s, "unix path must be absolute");
        }
    } else {
        return bad_addr(s, "scheme must be unix or tcp");
    }
    if (strlen(path) >= sizeof(a->unix_path)) {
        return bad_addr(s, "socket path too long");
    }
    strcpy(a->unix_path, path);
    strcpy(a->base_url, "http://localhost");
    return 0;
}

int wlapi_addr_env(struct wlapi_addr *a)
{
    const char *v = getenv("KEST_SPIFFE_SOCKET");

    if (v == NULL || *v == '\0') {
        v = getenv("SPIFFE_ENDPOINT_SOCKET");
    }
    if (v == NULL || *v == '\0') {
        klog_error("spire", "no Workload API address: set "
                   "SPIFFE_ENDPOINT_SOCKET or KEST_SPIFFE_SOCKET");
        return -ENOENT;
    }
    return wlapi_addr_parse(v, a);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | p[3];
}

bool wlapi_frame_complete(const uint8_t *body, size_t n)
{
    if (n < 5) {
        return false;
    }
    return be32(body + 1) > WLAPI_MAX_MSG ||
           n >= 5 + (size_t)be32(body + 1);
}

/* Stop a stream once one whole message (or an oversized length) is in. */
static bool one_frame(const struct buf *b, void *ctx)
{
    (void)ctx;
    return wlapi_frame_complete(b->data, b->len);
}

int wlapi_parse_status(const struct http_resp *r, const char *method)
{
    char st[16];
    char msg[256];
    long code;

    if (http_header(r, "grpc-status", st, sizeof(st)) < 0) {
        return 0;
    }
    code = strtol(st, NULL, 10);
    if (code == 0) {
        return 0;
    }
    if (http_header(r, "grpc-message", msg, sizeof(msg)) < 0) {
        msg[0] = '\0';
    }
    klog_error("spire", "%s: gRPC status %ld: %s", method, code, msg);
    switch (code) {
    case 3: return -EINVAL;
    case 7: return -EACCES;
    case 12: return -ENOSYS;
    case 14: return -EAGAIN;
    default: return -EPROTO;
    }
}

int wlapi_parse_frame(const uint8_t *body, size_t n, const char *method,
                      struct buf *msg)
{
    uint32_t len;

    if (n < 5) {
        klog_error("spire", "%s: no response message", method);
        return -EPROTO;
    }
    len = be32(body + 1);
    if (len > WLAPI_MAX_MSG) {
        klog_error("spire", "%s: message of %u bytes exceeds 4 MiB", method,
                   len);
        return -EMSGSIZE;
    }
    if (body[0] != 0) {
        klog_error("spire", "%s: compressed message refused", method);
        return -EPROTO;
    }
    if (n < 5 + (size_t)len) {
        klog_error("spire", "%s: truncated message", method);
        return -EPROTO;
    }
    msg->len = 0;
    return buf_append(msg, body + 5, len);
}

int wlapi_call(const struct wlapi_addr *a, const char *method,
               const struct buf *req, bool stream, int timeout_ms,
               struct buf *msg)
{
    static const char *const hdrs[] = {
        "content-type", "application/grpc", "te", "trailers",
        "workload.spiffe.io", "true", NULL,
    };
    struct h2_req rq;
    struct http_resp rs;
    struct buf frame;
    char path[128];
    uint8_t h[5] = {0, 0, 0, 0, 0};
    int rc;

    buf_init(&frame);
    http_resp_init(&rs);
    h[1] = (uint8_t)(req->len >> 24);
    h[2] = (uint8_t)(req->len >> 16);
    h[3] = (uint8_t)(req->len >> 8);
    h[4] = (uint8_t)req->len;
    rc = buf_append(&frame, h, sizeof(h));
    if (rc == 0 && req->len > 0) {
        rc = buf_append(&frame, req->data, req->len);
    }
    if (rc < 0) {
        goto out;
    }
    snprintf(path, sizeof(path), "/SpiffeWorkloadAPI/%s", method);
    memset(&rq, 0, sizeof(rq));
    rq.unix_path = a->unix_path[0] ? a->unix_path : NULL;
    /* base_url is http://localhost or http://IP:port. */
    rq.authority = a->base_url + strlen("http://");
    rq.path = path;
    rq.headers = hdrs;
    rq.body = frame.data;
    rq.body_len = frame.len;
    rq.timeout_ms = timeout_ms;
    rq.max_body = WLAPI_MAX_MSG + 5 + 65536;
    rq.enough = stream ? one_frame : NULL;
    rc = h2_post(&rq, &rs);
    if (rc < 0) {
        klog_error("spire", "%s: %s: %s", method,
                   rq.unix_path ? rq.unix_path : a->base_url,
                   strerror(-rc));
        goto out;
    }
    if (rs.status != 200) {
        klog_error("spire", "%s: HTTP status %ld", method, rs.status);
        rc = -EPROTO;
        goto out;
    }
    rc = wlapi_parse_status(&rs, method);
    if (rc == 0) {
        rc = wlapi_parse_frame(rs.body.data, rs.body.len, method, msg);
    }
out:
    buf_cleanup(&frame);
    buf_wipe(&rs.body); /* an X509SVIDResponse holds the SVID key */
    http_resp_cleanup(&rs);
    return rc;
}

void wlapi_x509_cleanup(struct wlapi_x509 *x)
{
    free(x->spiffe_id);
    x->spiffe_id = NULL;
    buf_cleanup(&x->certs);
    buf_wipe(&x->key);
    buf_cleanup(&x->bundle);
}

static int parse_svid(const uint8_t *p, size_t n, struct wlapi_x509 *x)
{
    struct pb_reader r;
    struct pb_field f;
    int rc;

    pb_reader_init(&r, p, n);
    while ((rc = pb_next(&r, &f)) > 0) {
        if (f.wire != 2) {
            continue;
        }
        if (f.num == 1) {
            free(x->spiffe_id);
            x->spiffe_id = strndup((const char *)f.data, f.len);
            if (x->spiffe_id == NULL) {
                return -ENOMEM;
            }
        } else if (f.num == 2 || f.num == 3 || f.num == 4) {
            struct buf *b = f.num == 2 ? &x->certs
                            : f.num == 3 ? &x->key : &x->bundle;

            b->len = 0;
            if (buf_append(b, f.data, f.len) < 0) {
                return -ENOMEM;
            }
        }
    }
    return rc;
}

int wlapi_parse_x509(const uint8_t *msg, size_t n, const char *want,
                     struct wlapi_x509 *out)
{
    struct pb_reader r;
    struct pb_field f;
    int rc;

    memset(out, 0, sizeof(*out));
    pb_reader_init(&r, msg, n);
    while ((rc = pb_next(&r, &f)) > 0) {
        if (f.num != 1 || f.wire != 2) {
            continue; /* crl, federated bundles, unknown fields */
        }
        wlapi_x509_cleanup(out);
        rc = parse_svid(f.data, f.len, out);
        if (rc < 0) {
            break;
        }
        if (out->spiffe_id == NULL || out->certs.len == 0 ||
            out->key.len == 0) {
            rc = -EBADMSG;
            break;
        }
        if (want == NULL || strcmp(want, out->spiffe_id) == 0) {
            return 0;
        }
    }
    wlapi_x509_cleanup(out);
    if (rc == 0) {
        klog_error("spire", want ? "no SVID with SPIFFE ID %s"
                                 : "response holds no SVID%s",
                   want ? want : "");
        return -ENOENT;
    }
    klog_error("spire", "malformed X509SVIDResponse");
    return rc == -ENOMEM ? rc : -EPROTO;
}

int wlapi_fetch_x509(const struct wlapi_addr *a, const char *want,
                     int timeout_ms, struct wlapi_x509 *out)
{
    struct buf req, msg;
    int rc;

    buf_init(&req);
    buf_init(&msg);
    rc = wlapi_call(a, "FetchX509SVID", &req, true, timeout_ms, &msg);
    if (rc == 0) {
        rc = wlapi_parse_x509(msg.data, msg.len, want, out);
    }
    buf_wipe(&msg);
    return rc;
}

/* JWTSVIDResponse: the token (field 2) of the first svids entry
 * (field 1) that has one. */
int wlapi_parse_jwt(const uint8_t *msg, size_t n, char **token)
{
    struct pb_reader r, s;
    struct pb_field f, g;

    *token = NULL;
    pb_reader_init(&r, msg, n);
    while (*token == NULL && pb_next(&r, &f) > 0) {
        if (f.num != 1 || f.wire != 2) {
            continue;
        }
        pb_reader_init(&s, f.data, f.len);
        while (*token == NULL && pb_next(&s, &g) > 0) {
            if (g.num == 2 && g.wire == 2) {
                *token = strndup((const char *)g.data, g.len);
            }
        }
    }
    if (*token == NULL) {
        klog_error("spire", "FetchJWTSVID: no JWT-SVID in the response");
        return -EPROTO;
    }
    return 0;
}

int wlapi_fetch_jwt(const struct wlapi_addr *a, const char *audience,
                    const char *want, int timeout_ms, char **token)
{
    struct buf req, msg;
    int rc;

    *token = NULL;
    buf_init(&req);
    buf_init(&msg);
    rc = pb_put_bytes(&req, 1, audience, strlen(audience));
    if (rc == 0 && want != NULL) {
        rc = pb_put_bytes(&req, 2, want, strlen(want));
    }
    if (rc == 0) {
        rc = wlapi_call(a, "FetchJWTSVID", &req, false, timeout_ms, &msg);
    }
    if (rc == 0) {
        rc = wlapi_parse_jwt(msg.data, msg.len, token);
    }
    buf_cleanup(&req);
    buf_wipe(&msg);
    return rc;
}

static int der_to_pem(const uint8_t *p, size_t n, struct buf *out)
{
    const uint8_t *end = p + n;
    BIO *bio = BIO_new(BIO_s_mem());
    char *pem;
    long len;
    int rc = 0;

    if (bio == NULL) {
        return -ENOMEM;
    }
    while (rc == 0 && p < end) {
        X509 *c = d2i_X509(NULL, &p, (long)(end - p));

        if (c == NULL || !PEM_write_bio_X509(bio, c)) {
            rc = -EBADMSG;
        }
        X509_free(c);
    }
    len = BIO_get_mem_data(bio, &pem);
    if (rc == 0) {
        rc = buf_append(out, pem, (size_t)len);
    }
    BIO_free(bio);
    return rc;
}

static int add_jwks(const uint8_t *p, size_t n, json_t *keys)
{
    json_t *doc = json_loadb((const char *)p, n, 0, NULL);
    json_t *k = json_object_get(doc, "keys");
    size_t i;
    int rc = 0;

    if (!json_is_array(k)) {
        rc = -EBADMSG;
    }
    for (i = 0; rc == 0 && i < json_array_size(k); i++) {
        rc = json_array_append(keys, json_array_get(k, i)) ? -ENOMEM : 0;
    }
    json_decref(doc);
    return rc;
}

int wlapi_parse_bundles(const uint8_t *msg, size_t n, bool jwt,
                        struct buf *out)
{
    struct pb_reader r, e;
    struct pb_field f, g;
    json_t *keys = json_array();
    int rc = keys ? 0 : -ENOMEM;

    pb_reader_init(&r, msg, n);
    /* JWTBundlesResponse.bundles is field 1, X509BundlesResponse's 2. */
    while (rc == 0 && (rc = pb_next(&r, &f)) > 0) {
        if (f.wire != 2 || f.num != (jwt ? 1u : 2u)) {
            rc = 0;
            continue;
        }
        pb_reader_init(&e, f.data, f.len);
        while ((rc = pb_next(&e, &g)) > 0) {
            if (g.num == 2 && g.wire == 2) {
                rc = jwt ? add_jwks(g.data, g.len, keys)
                         : der_to_pem(g.data, g.len, out);
                if (rc < 0) {
                    break;
                }
            }
        }
    }
    if (rc == 0 && jwt) {
        json_t *doc = json_pack("{s:O}", "keys", keys);
        char *s = doc ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS)
                      : NULL;

        rc = s ? buf_puts(out, s) : -ENOMEM;
        free(s);
        json_decref(doc);
    }
    json_decref(keys);
    return rc;
}

int wlapi_fetch_bundles(const struct wlapi_addr *a, bool jwt,
                        int timeout_ms, struct buf *out)
{
    struct buf req, msg;
    int rc;

    buf_init(&req);
    buf_init(&msg);
    rc = wlapi_call(a, jwt ? "FetchJWTBundles" : "FetchX509Bundles", &req,
                    true, timeout_ms, &msg);
    if (rc == 0) {
        rc = wlapi_parse_bundles(msg.data, msg.len, jwt, out);
    }
    buf_cleanup(&msg);
    return rc;
}
