/* SPDX-License-Identifier: Apache-2.0 */
/* Protobuf wire format, by hand. */
#include "providers/pb.h"

#include <errno.h>

void pb_reader_init(struct pb_reader *r, const void *msg, size_t n)
{
    r->p = msg;
    /* An empty message may come as (NULL, 0), where even +0 is
     * undefined. */
    r->end = msg ? r->p + n : r->p;
}

static int varint(struct pb_reader *r, uint64_t *v)
{
    uint64_t x = 0;
    int shift;

    for (shift = 0; shift < 64; shift += 7) {
        uint8_t b;

        if (r->p >= r->end) {
            return -EBADMSG;
        }
        b = *r->p++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            *v = x;
            return 0;
        }
    }
    return -EBADMSG;
}

static int fixed(struct pb_reader *r, size_t n, uint64_t *v)
{
    size_t i;

    if ((size_t)(r->end - r->p) < n) {
        return -EBADMSG;
    }
    *v = 0;
    for (i = 0; i < n; i++) {
        *v |= (uint64_t)r->p[i] << (8 * i);
    }
    r->p += n;
    return 0;
}

int pb_next(struct pb_reader *r, struct pb_field *f)
{
    uint64_t key;
    int rc;

    if (r->p >= r->end) {
        return 0;
    }
    rc = varint(r, &key);
    if (rc < 0) {
        return rc;
    }
    f->num = (uint32_t)(key >> 3);
    f->wire = (int)(key & 7);
    f->data = NULL;
    f->len = 0;
    f->value = 0;
    if (f->num == 0 || key >> 3 > 0x1fffffff) {
        return -EBADMSG;
    }
    switch (f->wire) {
    case 0:
        rc = varint(r, &f->value);
        break;
    case 1:
        rc = fixed(r, 8, &f->value);
        break;
    case 5:
        rc = fixed(r, 4, &f->value);
        break;
    case 2:
        rc = varint(r, &f->value);
        if (rc == 0 && f->value > (uint64_t)(r->end - r->p)) {
            rc = -EBADMSG;
        }
        if (rc == 0) {
            f->data = r->p;
            f->len = (size_t)f->value;
            r->p += f->len;
        }
        break;
    default:
        rc = -EBADMSG; /* groups (3, 4) are not used by these messages */
    }
    return rc < 0 ? rc : 1;
}

static int put_varint(struct buf *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;

    do {
        tmp[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v != 0) {
            tmp[n] |= 0x80;
        }
        n++;
    } while (v != 0);
    return buf_append(b, tmp, n);
}

int pb_put_bytes(struct buf *b, uint32_t num, const void *p, size_t n)
{
    int rc = put_varint(b, (uint64_t)num << 3 | 2);

    if (rc == 0) {
        rc = put_varint(b, n);
    }
    if (rc == 0) {
        rc = buf_append(b, p, n);
    }
    return rc;
}
