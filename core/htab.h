/* SPDX-License-Identifier: Apache-2.0 */
/* Open-addressing table from 32-byte keys (digests) to 64-bit values,
 * for the verifier's record, process and principal sets. Keys are told
 * apart by their first 16 bytes. */
#ifndef KEST_HTAB_H
#define KEST_HTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct htab {
    uint8_t (*keys)[16]; /* the first 16 bytes of each key */
    uint64_t *vals;
    uint8_t *used;
    size_t cap;
    size_t n;
};

void htab_init(struct htab *t);
void htab_cleanup(struct htab *t);
/* Pointer to the value for key, inserting 0 if absent (*added set).
 * NULL if out of memory. */
uint64_t *htab_put(struct htab *t, const uint8_t key[32], bool *added);
/* Pointer to the value, or NULL if absent. */
uint64_t *htab_get(const struct htab *t, const uint8_t key[32]);
/* Key from text: hex digits decode, anything else is hashed. */
void htab_key(const char *s, size_t n, uint8_t key[32]);

#endif
