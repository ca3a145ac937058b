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
/* Order of two member names (valid UTF-8) as RFC 8785 sorts them: by
 * UTF-16 code units. <0, 0 or >0. */
int jcs_key_cmp(const char *a, size_t an, const char *b, size_t bn);

#endif
