/* SPDX-License-Identifier: Apache-2.0 */
/* One HTTP/2 cleartext POST (h2c, prior knowledge) on libnghttp2, which
 * is opened with dlopen on first use: 0.1 ms where libcurl takes 4 ms.
 * Used by the Workload API client (providers/wlapi.c). */
#ifndef KEST_H2_H
#define KEST_H2_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

struct http_resp;

struct h2_req {
    const char *unix_path;      /* connect here; NULL: TCP to authority */
    const char *authority;      /* :authority; IP:port or [IPv6]:port */
    const char *path;           /* :path */
    const char *const *headers; /* name, value, ..., NULL; lower case */
    const void *body;           /* the whole request body */
    size_t body_len;
    int timeout_ms;             /* bounds the whole exchange */
    size_t max_body;            /* larger responses fail with -EMSGSIZE */
    /* Streaming: after each chunk, stop reading once this returns true. */
    bool (*enough)(const struct buf *body, void *ctx);
    void *ctx;
};

/* Load libnghttp2.so.14 (RTLD_LOCAL), once per process. -ELIBACC if it
 * or one of the functions it needs is missing. */
__attribute__((warn_unused_result)) int h2_load(void);
/* POST on a fresh connection, closed before returning. resp (set up with
 * http_resp_init) gets the status, the body and one "name: value\r\n"
 * line per header and trailer, for http_header. 0 once the response
 * ended or enough said so (any status); -ENOENT (no socket),
 * -ECONNREFUSED, -ETIMEDOUT, -EMSGSIZE, -ECONNRESET (the peer hung up
 * before the end, or sent what is not HTTP/2), -EIO (the peer reset the
 * stream, or sent a malformed response), -ENOMEM, -ELIBACC. */
__attribute__((warn_unused_result)) int
h2_post(const struct h2_req *req, struct http_resp *resp);

#endif
