/* SPDX-License-Identifier: Apache-2.0 */
/* Signing keys: loading, JWK thumbprints (RFC 7638), JWS algorithms
 * (RFC 7518, RFC 8037) and raw signatures. */
#ifndef KEST_KEY_H
#define KEST_KEY_H

#include <jansson.h>
#include <stdbool.h>

#include "core/buf.h"

enum key_type {
    KEY_ED25519 = 1,
    KEY_P256 = 2,
    KEY_RSA = 3,
};

struct key;
struct evp_pkey_st;

/* Load a PEM private key (PKCS#8, SEC1 or PKCS#1). Refuses with -EPERM a
 * file that group or others may read, -ENOTSUP an unsupported type. The
 * caller frees *out with key_free. */
KEST_WUR int key_load_private(const char *path, struct key **out);
/* Load a PEM public key, or the public half of a PEM private key. */
KEST_WUR int key_load_public(const char *path, struct key **out);
/* Parse a PEM public or private key from memory. */
KEST_WUR int key_parse_pem(const char *pem, size_t n, bool priv,
                           struct key **out);
/* Wrap an OpenSSL key; takes a reference of its own. */
KEST_WUR int key_from_pkey(struct evp_pkey_st *pk, struct key **out);
/* Make a new key of the given type. */
KEST_WUR int key_generate(enum key_type type, struct key **out);
/* Write PKCS#8 PEM with O_EXCL and mode 0600 (public: SPKI, 0644). */
KEST_WUR int key_write_private(const struct key *k, const char *path);
KEST_WUR int key_write_public(const struct key *k, const char *path);
void key_free(struct key *k);

enum key_type key_get_type(const struct key *k);
/* JWS "alg" this key signs with: EdDSA, ES256, RS256 (or PS256). */
const char *key_alg(const struct key *k);
/* RSA keys only: sign with PS256 instead of RS256. */
void key_use_pss(struct key *k);
/* RFC 7638 thumbprint, base64url of SHA-256; lives as long as k. */
const char *key_kid(const struct key *k);
/* The public key as a JWK object (new reference), NULL on failure. */
json_t *key_jwk(const struct key *k);
struct evp_pkey_st *key_pkey(const struct key *k);

/* Sign msg; appends the JWS signature bytes (ES256 as raw r||s). */
KEST_WUR int key_sign(const struct key *k, const void *msg, size_t n,
                      struct buf *sig);
/* 0 if sig is valid for msg under alg; -EBADMSG if not; -EPROTO if alg
 * does not belong to this key's type. */
KEST_WUR int key_verify(const struct key *k, const char *alg,
                        const void *msg, size_t n, const uint8_t *sig,
                        size_t siglen);

#endif
