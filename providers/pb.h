/* SPDX-License-Identifier: Apache-2.0 */
/* The few pieces of the protobuf wire format the Workload API needs:
 * reading fields (every length checked), skipping what is unknown, and
 * writing length-delimited fields. */
#ifndef KEST_PB_H
#define KEST_PB_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

struct pb_reader {
    const uint8_t *p;
    const uint8_t *end;
};

struct pb_field {
    uint32_t num;
    int wire;            /* 0 varint, 1 fixed64, 2 bytes, 5 fixed32 */
    uint64_t value;      /* wire types 0, 1, 5 */
    const uint8_t *data; /* wire type 2: points into the message */
    size_t len;
};

void pb_reader_init(struct pb_reader *r, const void *msg, size_t n);
/* Next field: 1 with *f set, 0 at the end, -EBADMSG if malformed
 * (truncated varint or length, groups, field number 0). */
__attribute__((warn_unused_result)) int pb_next(struct pb_reader *r,
                                                struct pb_field *f);
/* Append field num as a length-delimited value. */
__attribute__((warn_unused_result)) int pb_put_bytes(struct buf *b,
                                                     uint32_t num,
                                                     const void *p,
                                                     size_t n);

#endif
