/* SPDX-License-Identifier: Apache-2.0 */
/* AWS Signature Version 4 for one HTTP request: canonical request,
 * string to sign, derived key and the Authorization header value. */
#ifndef KEST_SIGV4_H
#define KEST_SIGV4_H

#include <stddef.h>

#include "core/buf.h"

struct sigv4_header {
    const char *name;  /* any case; signed in lower case */
    const char *value; /* trimmed, inner runs of spaces folded */
};

struct sigv4_req {
    const char *method;   /* "POST" */
    const char *path;     /* absolute path, unencoded; "/" if empty */
    const char *query;    /* already canonical (sorted, encoded) or NULL */
    const struct sigv4_header *headers; /* all signed, incl. host and
                                         * x-amz-date */
    size_t nheaders;
    const void *body;
    size_t body_len;
    const char *amz_date; /* YYYYMMDDTHHMMSSZ */
    const char *region;
    const char *service;
    const char *access_key;
    const char *secret_key;
};

/* The canonical request (SigV4 task 1), appended to out. Header names
 * must be unique. -EINVAL for a malformed date or header, -ENOMEM. */
KEST_WUR int sigv4_canonical_request(const struct sigv4_req *r,
                                     struct buf *out);
/* The string to sign for a canonical request (task 2). */
KEST_WUR int sigv4_string_to_sign(const struct sigv4_req *r,
                                  const char *canonical, struct buf *out);
/* kSigning = HMAC chain over date, region, service, "aws4_request". */
KEST_WUR int sigv4_signing_key(const char *secret, const char *date8,
                               const char *region, const char *service,
                               unsigned char key[32]);
/* The Authorization header value ("AWS4-HMAC-SHA256 Credential=...,
 * SignedHeaders=..., Signature=<hex>"), appended to out. */
KEST_WUR int sigv4_authorization(const struct sigv4_req *r,
                                 struct buf *out);
/* Current UTC time as YYYYMMDDTHHMMSSZ (17 bytes with the NUL). */
void sigv4_now(char out[17]);

#endif
