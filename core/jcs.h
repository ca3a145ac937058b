/* SPDX-License-Identifier: Apache-2.0 */
/* JSON Canonicalization Scheme (RFC 8785) over jansson values. */
#ifndef KEST_JCS_H
#define KEST_JCS_H

#include <jansson.h>

#include "core/buf.h"

/* Append the canonical form of v to out.
 * -EINVAL for values JCS cannot express (NaN, infinity, strings or keys
 * that are not valid UTF-8), -ENOMEM on allocation failure. */
KEST_WUR int jcs_encode(struct buf *out, const json_t *v);
/* Format a double as ECMAScript Number.prototype.toString does
 * (RFC 8785 section 3.2.2.3). 0 or -EINVAL for NaN and infinities. */
KEST_WUR int jcs_number(struct buf *out, double d);

/* Append s (n bytes) as a JCS string: quoted, with the minimal escapes.
 * -EINVAL (and out unchanged) if s is not valid UTF-8. */
KEST_WUR int jcs_string(struct buf *out, const char *s, size_t n);

/* Deepest nesting of arrays and objects that jcs_check and jcs_load
 * take (jansson reads 2048 levels; record payloads use a handful). */
#define JCS_MAX_DEPTH 512

/* Is p[0..n) exactly the canonical form of one JSON value, byte for
 * byte what jcs_encode writes for it? 0 if so, -EINVAL if not, -E2BIG
 * for nesting deeper than JCS_MAX_DEPTH, -ENOMEM. Keeps no state. */
KEST_WUR int jcs_check(const char *p, size_t n);
/* Read canonical text into *out (the caller json_decref()s it): the
 * value json_loadb(JSON_DECODE_ANY | JSON_ALLOW_NUL) gives. jcs_check's
 * errors, or -ERANGE for what jansson cannot hold (an integer beyond
 * json_int_t, a NUL in a key). */
KEST_WUR int jcs_load(const char *p, size_t n, json_t **out);
/* Which members of an object to build: a list ending in a NULL name.
 * only NULL builds the member whole; else, if the member is an object,
 * only its members that list names. */
struct jcs_keep {
    const char *name;
    const struct jcs_keep *only;
};

/* As jcs_load, but of an object only the members keep names are built
 * (keep NULL builds everything); the others are checked all the same,
 * -ERANGE included. */
KEST_WUR int jcs_load_members(const char *p, size_t n,
                              const struct jcs_keep *keep, json_t **out);

#endif
