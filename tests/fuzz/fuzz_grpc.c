/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz a Workload API response as providers/h2.c hands it over: the
 * header and trailer lines (grpc-status, grpc-message), then the body
 * with its gRPC frame (compressed flag, 32-bit length), then each response
 * message decoder (X509SVID, JWTSVID, JWT and X.509 bundles). Input:
 * header lines up to a blank line ("\r\n\r\n"), then the body; without
 * a blank line it is all body. */
#include "tests/fuzz/fuzz.h"

#include <errno.h>
#include <jansson.h>

#include "providers/http.h"
#include "providers/wlapi.h"

/* An exact copy (n bytes, no terminator), so that ASan sees one byte
 * read too far; NULL when empty, as h2.c leaves an empty body. */
static uint8_t *exact(const uint8_t *p, size_t n)
{
    uint8_t *c;

    if (n == 0) {
        return NULL;
    }
    c = malloc(n);
    if (c == NULL) {
        abort();
    }
    memcpy(c, p, n);
    return c;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | p[3];
}

static void check_status(const struct http_resp *r)
{
    char st[16];
    int rc = wlapi_parse_status(r, "Fuzz");

    FUZZ_ASSERT(rc == 0 || rc == -EINVAL || rc == -EACCES ||
                rc == -ENOSYS || rc == -EAGAIN || rc == -EPROTO);
    if (http_header(r, "grpc-status", st, sizeof(st)) == 0) {
        FUZZ_ASSERT(memchr(st, '\0', sizeof(st)) != NULL);
    } else {
        FUZZ_ASSERT(rc == 0);
    }
}

/* The frame parser and the stream's stop test agree, and what is
 * taken is exactly the announced bytes after the 5-byte prefix. */
static void check_frame(const uint8_t *body, size_t n, struct buf *msg)
{
    bool done = wlapi_frame_complete(body, n);
    int rc = wlapi_parse_frame(body, n, "Fuzz", msg);

    FUZZ_ASSERT(rc == 0 || rc == -EPROTO || rc == -EMSGSIZE);
    if (rc == 0) {
        FUZZ_ASSERT(done && n >= 5 && body[0] == 0);
        FUZZ_ASSERT(msg->len == be32(body + 1) && msg->len <= n - 5);
        FUZZ_ASSERT(msg->len <= WLAPI_MAX_MSG);
        FUZZ_ASSERT(msg->len == 0 ||
                    memcmp(msg->data, body + 5, msg->len) == 0);
    } else if (rc == -EMSGSIZE) {
        FUZZ_ASSERT(done && be32(body + 1) > WLAPI_MAX_MSG);
    }
    if (!done) {
        FUZZ_ASSERT(rc != 0 && rc != -EMSGSIZE);
    }
}

static void check_messages(const uint8_t *m, size_t n)
{
    struct wlapi_x509 x;
    struct buf out;
    json_t *doc;
    char *token = NULL;
    int rc;

    if (wlapi_parse_x509(m, n, NULL, &x) == 0) {
        FUZZ_ASSERT(x.spiffe_id != NULL && x.certs.len > 0 &&
                    x.key.len > 0);
        wlapi_x509_cleanup(&x);
    }
    rc = wlapi_parse_jwt(m, n, &token);
    FUZZ_ASSERT((rc == 0) == (token != NULL));
    if (token != NULL) {
        FUZZ_ASSERT(strlen(token) <= n);
        free(token);
    }
    buf_init(&out);
    if (wlapi_parse_bundles(m, n, true, &out) == 0) {
        /* One JWKS document holding every trust domain's keys. */
        doc = json_loadb((const char *)out.data, out.len, 0, NULL);
        FUZZ_ASSERT(json_is_array(json_object_get(doc, "keys")));
        json_decref(doc);
    }
    buf_cleanup(&out);
    if (wlapi_parse_bundles(m, n, false, &out) == 0 && out.len > 0) {
        FUZZ_ASSERT(out.len > 27 &&
                    memcmp(out.data, "-----BEGIN CERTIFICATE-----",
                           27) == 0);
    }
    buf_cleanup(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *blank = memmem(data, size, "\r\n\r\n", 4);
    size_t hl = blank ? (size_t)(blank - data) + 2 : 0;
    size_t skip = blank ? hl + 2 : 0;
    struct http_resp r;
    struct buf msg;

    http_resp_init(&r);
    buf_init(&msg);
    r.status = 200;
    r.headers.data = exact(data, hl);
    r.headers.len = hl;
    r.body.data = exact(data + skip, size - skip);
    r.body.len = size - skip;
    check_status(&r);
    check_frame(r.body.data, r.body.len, &msg);
    if (msg.data != NULL) {
        check_messages(msg.data, msg.len);
    } else if (size == 0) {
        /* The decoders take an empty message as (NULL, 0) too. */
        check_messages(NULL, 0);
    }
    buf_cleanup(&msg);
    http_resp_cleanup(&r);
    return 0;
}
