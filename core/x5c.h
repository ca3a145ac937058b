/* SPDX-License-Identifier: Apache-2.0 */
/* X.509 identities in JWS headers (x5c, RFC 7515 section 4.1.6) and the
 * SPIFFE rules for them: chain to a trust bundle, URI SAN as identity. */
#ifndef KEST_X5C_H
#define KEST_X5C_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/key.h"

struct x509_st;
struct x509_store_st;

/* The single URI SAN of cert (a SPIFFE ID) into out. -ENOENT if it has
 * none, -EINVAL if it has several or it does not fit. */
__attribute__((warn_unused_result)) int x5c_uri_san(struct x509_st *cert,
                                                    char *out, size_t cap);
/* Validity period of cert as Unix times. */
__attribute__((warn_unused_result)) int
x5c_validity(struct x509_st *cert, time_t *not_before, time_t *not_after);
/* Load every certificate of a PEM file as trust anchors. The caller
 * frees *out with x5c_store_free. */
__attribute__((warn_unused_result)) int
x5c_load_bundle(const char *path, struct x509_store_st **out);
void x5c_store_free(struct x509_store_st *s);
/* The Unix times [from, until) at which a chain that verified would
 * verify again: every certificate of it, the anchor too, is valid. */
struct x5c_valid {
    time_t from;
    time_t until;
};

/* Check an x5c array: the chain leads to an anchor in store at time
 * at_ms (so the record's time lies inside every certificate's validity),
 * the leaf's URI SAN equals principal. On success *leaf gets the leaf's
 * public key (free with key_free) and, if valid is not NULL, the times
 * the same answer holds for. On failure, -EBADMSG with the reason in
 * why. */
__attribute__((warn_unused_result)) int
x5c_check(const json_t *x5c, struct x509_store_st *store, int64_t at_ms,
          const char *principal, struct key **leaf, struct x5c_valid *valid,
          char *why, size_t cap);

#endif
