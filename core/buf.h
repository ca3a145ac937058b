/* SPDX-License-Identifier: Apache-2.0 */
/* Growable byte buffer used by every encoder in core/. */
#ifndef KEST_BUF_H
#define KEST_BUF_H

#include <stddef.h>
#include <stdint.h>

#define KEST_WUR __attribute__((warn_unused_result))

struct buf {
    uint8_t *data;
    size_t len;
    size_t cap;
};

/* Start empty; no allocation until the first append. */
void buf_init(struct buf *b);
/* Free the storage; the buffer is empty and reusable afterwards. */
void buf_cleanup(struct buf *b);
/* Erase the contents with explicit_bzero, then free. */
void buf_wipe(struct buf *b);
/* Make room for extra more bytes plus a NUL; -ENOMEM on failure. */
KEST_WUR int buf_reserve(struct buf *b, size_t extra);
/* Append bytes; data stays NUL-terminated. 0 or -ENOMEM. */
KEST_WUR int buf_append(struct buf *b, const void *p, size_t n);
KEST_WUR int buf_puts(struct buf *b, const char *s);
KEST_WUR int buf_putc(struct buf *b, int c);
KEST_WUR int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Hand the NUL-terminated contents to the caller (free()); buffer empties.
 * Returns NULL only if allocation fails for an empty buffer. */
char *buf_steal(struct buf *b);

#endif
