/* SPDX-License-Identifier: Apache-2.0 */
/* Base64 and base64url codecs (RFC 4648 sections 4 and 5). */
#include "core/b64.h"

#include <errno.h>
#include <string.h>

static const char url_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char std_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int encode(struct buf *out, const uint8_t *in, size_t n,
                  const char *alpha, int pad)
{
    size_t i;
    size_t olen = (n + 2) / 3 * 4;
    char *o;
    int rc;

    rc = buf_reserve(out, olen);
    if (rc < 0) {
        return rc;
    }
    o = (char *)out->data + out->len;
    for (i = 0; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
                     in[i + 2];
        *o++ = alpha[v >> 18];
        *o++ = alpha[(v >> 12) & 63];
        *o++ = alpha[(v >> 6) & 63];
        *o++ = alpha[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        *o++ = alpha[v >> 18];
        *o++ = alpha[(v >> 12) & 63];
        if (pad) {
            *o++ = '=';
            *o++ = '=';
        }
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        *o++ = alpha[v >> 18];
        *o++ = alpha[(v >> 12) & 63];
        *o++ = alpha[(v >> 6) & 63];
        if (pad) {
            *o++ = '=';
        }
    }
    out->len = (size_t)(o - (char *)out->data);
    out->data[out->len] = '\0';
    return 0;
}

int b64url_encode(struct buf *out, const void *in, size_t n)
{
    return encode(out, in, n, url_alpha, 0);
}

int b64std_encode(struct buf *out, const void *in, size_t n)
{
    return encode(out, in, n, std_alpha, 1);
}

static int value_of(char c, int url)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == (url ? '-' : '+')) {
        return 62;
    }
    if (c == (url ? '_' : '/')) {
        return 63;
    }
    return -1;
}

static int decode(struct buf *out, const char *in, size_t n, int url)
{
    size_t start = out->len;
    uint32_t acc = 0;
    size_t i;
    int bits = 0;
    int rc;

    if (n % 4 == 1) {
        return -EINVAL;
    }
    rc = buf_reserve(out, n / 4 * 3 + 3);
    if (rc < 0) {
        return rc;
    }
    for (i = 0; i < n; i++) {
        int v = value_of(in[i], url);

        if (v < 0) {
            goto bad;
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out->data[out->len++] = (uint8_t)(acc >> bits);
        }
    }
    /* Leftover bits must be zero, so each byte string has one encoding. */
    if ((acc & ((1u << bits) - 1)) != 0) {
        goto bad;
    }
    out->data[out->len] = '\0';
    return 0;
bad:
    /* Leave out as it was: no half-decoded bytes after its end. */
    out->len = start;
    out->data[start] = '\0';
    return -EINVAL;
}

int b64url_decode(struct buf *out, const char *in, size_t n)
{
    return decode(out, in, n, 1);
}

int b64std_decode(struct buf *out, const char *in, size_t n)
{
    size_t pad = 0;

    if (n % 4 != 0) {
        return -EINVAL;
    }
    while (pad < 2 && n > pad && in[n - 1 - pad] == '=') {
        pad++;
    }
    if (memchr(in, '=', n - pad) != NULL) {
        return -EINVAL;
    }
    return decode(out, in, n - pad, 0);
}
