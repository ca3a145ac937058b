/* SPDX-License-Identifier: Apache-2.0 */
/* SPIFFE Workload API client: gRPC over HTTP/2 cleartext through
 * providers/h2.c (libnghttp2), messages decoded by hand
 * (../shared/reference/workload-api.md has the wire details). */
#ifndef KEST_WLAPI_H
#define KEST_WLAPI_H

#include <stdbool.h>

#include "core/buf.h"

struct http_resp;

#define WLAPI_MAX_MSG (4u << 20) /* gRPC's default message limit */

struct wlapi_addr {
    char unix_path[108]; /* set for unix: addresses */
    char base_url[80];   /* http://localhost or http://IP:port */
};

struct wlapi_x509 {
    char *spiffe_id;
    struct buf certs;  /* DER certificates, leaf first */
    struct buf key;    /* PKCS#8 DER private key (wiped on cleanup) */
    struct buf bundle; /* DER CA certificates of the trust domain */
};

/* Parse an endpoint address: unix:///abs, unix:/abs or tcp://IP:port.
 * Any other form is -EINVAL with a logged message quoting the value. */
__attribute__((warn_unused_result)) int
wlapi_addr_parse(const char *s, struct wlapi_addr *a);
/* The address from KEST_SPIFFE_SOCKET, else SPIFFE_ENDPOINT_SOCKET.
 * -ENOENT if neither is set. */
__attribute__((warn_unused_result)) int wlapi_addr_env(struct wlapi_addr *a);

/* One call; msg gets the first response message. Errors: -EACCES
 * (PermissionDenied), -EAGAIN (Unavailable), -EINVAL (InvalidArgument),
 * -ENOSYS (Unimplemented), -EPROTO (other status, compressed, truncated
 * or malformed), -EMSGSIZE (over 4 MiB), -ENOENT (no socket),
 * -ECONNREFUSED, -ETIMEDOUT, -ECONNRESET (the connection broke),
 * -EIO (the stream was reset), -ELIBACC (no libnghttp2). */
__attribute__((warn_unused_result)) int
wlapi_call(const struct wlapi_addr *a, const char *method,
           const struct buf *req, bool stream, int timeout_ms,
           struct buf *msg);

/* The pieces of a response, without I/O (exposed for tests/fuzz). A
 * gRPC message is framed by a compressed flag and a 32-bit big-endian
 * length: true once body (n bytes) holds a whole frame, or announces
 * one over the 4 MiB limit, so that a stream can stop reading. */
bool wlapi_frame_complete(const uint8_t *body, size_t n);
/* The first message of a response body into msg (replacing what it
 * held); -EPROTO if missing, compressed or truncated, -EMSGSIZE if over
 * 4 MiB. method names the call in the log. */
__attribute__((warn_unused_result)) int
wlapi_parse_frame(const uint8_t *body, size_t n, const char *method,
                  struct buf *msg);
/* The grpc-status trailer of r as an error, as wlapi_call returns them
 * (0 if absent or OK). */
__attribute__((warn_unused_result)) int
wlapi_parse_status(const struct http_resp *r, const char *method);

/* FetchX509SVID: the first SVID, or the one whose SPIFFE ID is want. */
__attribute__((warn_unused_result)) int
wlapi_fetch_x509(const struct wlapi_addr *a, const char *want,
                 int timeout_ms, struct wlapi_x509 *out);
/* Pick from an X509SVIDResponse already received (exposed for tests). */
__attribute__((warn_unused_result)) int
wlapi_parse_x509(const uint8_t *msg, size_t n, const char *want,
                 struct wlapi_x509 *out);
void wlapi_x509_cleanup(struct wlapi_x509 *x);

/* FetchJWTSVID for audience; *token is malloc'd. */
__attribute__((warn_unused_result)) int
wlapi_fetch_jwt(const struct wlapi_addr *a, const char *audience,
                const char *want, int timeout_ms, char **token);
/* The first token of a JWTSVIDResponse, malloc'd; -EPROTO if none. */
__attribute__((warn_unused_result)) int
wlapi_parse_jwt(const uint8_t *msg, size_t n, char **token);
/* Trust bundles: X.509 as concatenated PEM, or (jwt) one JWKS document
 * holding the keys of every trust domain. */
__attribute__((warn_unused_result)) int
wlapi_fetch_bundles(const struct wlapi_addr *a, bool jwt, int timeout_ms,
                    struct buf *out);
/* The same from a JWTBundlesResponse (jwt) or X509BundlesResponse
 * already received, appended to out; -EBADMSG if malformed. */
__attribute__((warn_unused_result)) int
wlapi_parse_bundles(const uint8_t *msg, size_t n, bool jwt,
                    struct buf *out);

#endif
