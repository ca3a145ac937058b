/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP through libcurl, which is opened with dlopen on first use so that
 * processes which never make a request never map it (8,000+ relocations
 * and 30 libraries). Used by the cloud providers (OIDC, AWS); the
 * Workload API has providers/h2.c. struct http_resp and http_header
 * serve both and never load libcurl. */
#ifndef KEST_HTTP_H
#define KEST_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

struct http_req {
    const char *url;
    const char *unix_socket;     /* connect here instead of the URL host */
    bool h2c;                    /* HTTP/2 with prior knowledge */
    const char *const *headers;  /* "Name: value", NULL-terminated */
    const void *body;            /* POST body, or NULL for GET */
    size_t body_len;
    long timeout_ms;
    size_t max_body;             /* larger responses fail with -EMSGSIZE */
    /* Streaming: after each chunk, stop reading once this returns true. */
    bool (*enough)(const struct buf *body, void *ctx);
    void *ctx;
};

struct http_resp {
    long status;        /* HTTP status, 0 if none arrived */
    struct buf body;
    struct buf headers; /* every header and trailer line, as received */
};

/* Load libcurl.so.4 (RTLD_LOCAL) and initialise it, once per process.
 * -ENOENT if it cannot be loaded. */
__attribute__((warn_unused_result)) int http_load(void);
/* Perform one request on a fresh connection. 0 once a response (any
 * status) arrived; -ECONNREFUSED, -ENOENT (no socket), -ETIMEDOUT,
 * -EMSGSIZE, -EIO. The caller cleans up resp with http_resp_cleanup. */
__attribute__((warn_unused_result)) int
http_do(const struct http_req *req, struct http_resp *resp);
void http_resp_init(struct http_resp *r);
void http_resp_cleanup(struct http_resp *r);
/* Value of the last header or trailer named name (case-insensitive),
 * copied into out (NUL-terminated). -ENOENT if absent. */
__attribute__((warn_unused_result)) int
http_header(const struct http_resp *r, const char *name, char *out,
            size_t cap);

#endif
