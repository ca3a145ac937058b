/* SPDX-License-Identifier: Apache-2.0 */
/* A record: a JWS (RFC 7515) whose payload is the canonical (RFC 8785)
 * entry, written as one JSON line {"payload","protected","signature"}.
 * Its hash is the hex SHA-256 of the compact JWS (docs/FORMAT.md). */
#ifndef KEST_RECORD_H
#define KEST_RECORD_H

#include <jansson.h>

#include "core/buf.h"
#include "core/ident.h"

#define RECORD_HASH_HEX 65 /* 64 hex digits and a NUL */
#define RECORD_SCHEMA "kest-c/1"

/* SHA-256, fetched from OpenSSL once per process (an implicit fetch
 * per digest costs a method-store lookup under a lock). */
const struct evp_md_st *record_sha256(void);
/* Hash of the compact JWS prot "." payload_b64 "." sig; -ENOMEM if
 * OpenSSL cannot make it. */
KEST_WUR int record_hash_parts(const char *prot, size_t pn,
                               const char *pay_b64, size_t bn,
                               const char *sig, size_t sn,
                               char out[RECORD_HASH_HEX]);
/* Hash of a line as kest writes it, without a JSON parse. -EINVAL if the
 * line does not have kest's exact layout. */
KEST_WUR int record_line_hash(const char *line, size_t n,
                              char out[RECORD_HASH_HEX]);
/* Sign payload with the identity: sets line (no newline) and hash. */
KEST_WUR int record_seal(const struct ident *id, const json_t *payload,
                         struct buf *line, char hash[RECORD_HASH_HEX]);
/* The unsigned form used for gap records: alg "none", empty signature. */
KEST_WUR int record_seal_unsigned(const json_t *payload, struct buf *line,
                                  char hash[RECORD_HASH_HEX]);
/* The same for a payload already in canonical form (core/jw.h). */
KEST_WUR int record_seal_canon(const struct ident *id, const struct buf *pay,
                               struct buf *line, char hash[RECORD_HASH_HEX]);
KEST_WUR int record_seal_canon_unsigned(const struct buf *pay,
                                        struct buf *line,
                                        char hash[RECORD_HASH_HEX]);
/* A new UUIDv7 (RFC 9562) in its 36-character text form. */
KEST_WUR int record_uuid7(char out[37]);
/* Lowercase hex of n bytes into out (2n+1 bytes). */
void record_hex(const uint8_t *in, size_t n, char *out);

#endif
