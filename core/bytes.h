/* SPDX-License-Identifier: Apache-2.0 */
/* Lossless JSON form of raw byte strings (argv, paths, environment).
 * Valid UTF-8 becomes a JSON string; anything else becomes the object
 * {"b64": "<base64url of the raw bytes>"} (docs/FORMAT.md). */
#ifndef KEST_BYTES_H
#define KEST_BYTES_H

#include <jansson.h>
#include <stdbool.h>

#include "core/buf.h"

/* True if s[0..n) is well-formed UTF-8 (RFC 3629: no overlong forms,
 * no surrogates, nothing above U+10FFFF). */
bool bytes_valid_utf8(const char *s, size_t n);
/* New JSON value for the bytes; NULL on allocation failure. */
json_t *bytes_to_json(const char *s, size_t n);
/* Decode a value made by bytes_to_json into out (appended, NUL-ended).
 * -EINVAL if v is neither form. */
KEST_WUR int bytes_from_json(const json_t *v, struct buf *out);

#endif
