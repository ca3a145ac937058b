/* SPDX-License-Identifier: Apache-2.0 */
/* JWT (RFC 7519) validation against a JWKS (RFC 7517): for JWT-SVIDs in
 * records and for OIDC tokens. Only asymmetric algorithms from an
 * allowlist; "none" and HMAC are never accepted, and the key's type must
 * fit the algorithm, so no alg/key confusion is possible. */
#ifndef KEST_JWT_H
#define KEST_JWT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/key.h"

/* A public key from a JWK object (EC P-256, RSA, OKP Ed25519). */
__attribute__((warn_unused_result)) int jwt_key_from_jwk(const json_t *jwk,
                                                         struct key **out);
/* Verify token's signature with the JWKS key named by its kid (or the
 * only key, if the JWKS has one and the token names none), check alg is
 * in algs (comma list; NULL: ES256,RS256,PS256,EdDSA), and check exp and
 * nbf against now (Unix seconds) with skew seconds of slack. On success
 * *claims holds a new reference to the claims. On failure -EBADMSG (or
 * -EKEYEXPIRED for time) with the reason in why. */
__attribute__((warn_unused_result)) int
jwt_verify(const char *token, const json_t *jwks, const char *algs,
           int64_t now, int skew, json_t **claims, char *why, size_t cap);

#endif
