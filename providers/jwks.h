/* SPDX-License-Identifier: Apache-2.0 */
/* An OIDC issuer's JWKS, from a file, an http(s) URL or OpenID Connect
 * discovery. */
#ifndef KEST_JWKS_H
#define KEST_JWKS_H

#include <jansson.h>
#include <stddef.h>

/* Load the JWKS named by src (a path, or an http:// or https:// URL);
 * if src is NULL, discover it from issuer's
 * /.well-known/openid-configuration (whose "issuer" must be issuer).
 * *out receives a new reference to an object with a "keys" array.
 * -ENOENT (nothing configured or no file), -EBADMSG, -ETIMEDOUT, -EIO,
 * -ECONNREFUSED; the reason is logged. */
__attribute__((warn_unused_result)) int
jwks_load(const char *src, const char *issuer, int timeout_ms, json_t **out);
/* A JWKS document received from src (named in the log): a JSON object,
 * duplicate names refused, with a "keys" array. *out receives a new
 * reference; -EBADMSG otherwise. */
__attribute__((warn_unused_result)) int
jwks_parse(const char *text, size_t n, const char *src, json_t **out);
/* An OpenID Provider configuration document received from src: its
 * http(s) jwks_uri, malloc'd into *jwks_uri, if its "issuer" is issuer;
 * -EBADMSG otherwise. */
__attribute__((warn_unused_result)) int
jwks_parse_discovery(const char *text, size_t n, const char *src,
                     const char *issuer, char **jwks_uri);

#endif
