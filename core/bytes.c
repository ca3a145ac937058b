/* SPDX-License-Identifier: Apache-2.0 */
/* Lossless byte strings in JSON. */
#include "core/bytes.h"

#include <errno.h>
#include <string.h>

#include "core/b64.h"

bool bytes_valid_utf8(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;

    while (i < n) {
        unsigned c = s[i];
        unsigned cp;
        size_t len;
        size_t k;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (n - i < len) {
            return false;
        }
        for (k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) {
                return false;
            }
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
            return false;
        }
        i += len;
    }
    return true;
}

json_t *bytes_to_json(const char *s, size_t n)
{
    struct buf b;
    json_t *v;

    if (bytes_valid_utf8(s, n)) {
        return json_stringn_nocheck(s, n);
    }
    buf_init(&b);
    if (b64url_encode(&b, s, n) < 0) {
        return NULL;
    }
    v = json_pack("{s:s%}", "b64", (const char *)b.data, b.len);
    buf_cleanup(&b);
    return v;
}

int bytes_from_json(const json_t *v, struct buf *out)
{
    const json_t *b;
    size_t start;
    int rc;

    if (json_is_string(v)) {
        return buf_append(out, json_string_value(v), json_string_length(v));
    }
    b = json_object_get(v, "b64");
    if (!json_is_object(v) || json_object_size(v) != 1 ||
        !json_is_string(b)) {
        return -EINVAL;
    }
    start = out->len;
    rc = b64url_decode(out, json_string_value(b), json_string_length(b));
    /* Valid UTF-8 has exactly one encoding: the plain string. */
    if (rc == 0 && bytes_valid_utf8((char *)out->data + start,
                                    out->len - start)) {
        out->len = start;
        out->data[start] = '\0';
        rc = -EINVAL;
    }
    return rc;
}
