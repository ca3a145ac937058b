/* SPDX-License-Identifier: Apache-2.0 */
/* Base64 (RFC 4648): the URL-safe unpadded form JWS uses, and the
 * standard padded form of x5c. */
#ifndef KEST_B64_H
#define KEST_B64_H

#include "core/buf.h"

/* Append base64url (no padding) of in to out. 0 or -ENOMEM. */
KEST_WUR int b64url_encode(struct buf *out, const void *in, size_t n);
/* Strict decode: no padding, no white space, unused bits zero.
 * Appends to out. 0, -EINVAL for bad input, -ENOMEM. */
KEST_WUR int b64url_decode(struct buf *out, const char *in, size_t n);
/* Standard alphabet with '=' padding, for x5c. */
KEST_WUR int b64std_encode(struct buf *out, const void *in, size_t n);
KEST_WUR int b64std_decode(struct buf *out, const char *in, size_t n);

#endif
