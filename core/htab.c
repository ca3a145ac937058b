/* SPDX-License-Identifier: Apache-2.0 */
/* A small hash table for digests. Only the first HTAB_KEEP bytes of a
 * key are stored: 128 bits tell digests apart (finding a second record
 * whose hash shares them takes 2^128 work), and a million-record log
 * then costs the verifier tens, not hundreds, of megabytes. */
#include "core/htab.h"

#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

void htab_init(struct htab *t)
{
    memset(t, 0, sizeof(*t));
}

void htab_cleanup(struct htab *t)
{
    free(t->keys);
    free(t->vals);
    free(t->used);
    htab_init(t);
}

#define HTAB_KEEP 16

static size_t slot_of(const struct htab *t, const uint8_t key[32])
{
    uint64_t h;

    memcpy(&h, key, sizeof(h));
    return (size_t)(h & (t->cap - 1));
}

uint64_t *htab_get(const struct htab *t, const uint8_t key[32])
{
    size_t i;

    if (t->cap == 0) {
        return NULL;
    }
    for (i = slot_of(t, key); t->used[i]; i = (i + 1) & (t->cap - 1)) {
        if (memcmp(t->keys[i], key, HTAB_KEEP) == 0) {
            return &t->vals[i];
        }
    }
    return NULL;
}

static int grow(struct htab *t)
{
    struct htab n;
    size_t i;

    n.cap = t->cap ? t->cap * 2 : 1024;
    n.n = 0;
    n.keys = malloc(n.cap * HTAB_KEEP);
    n.vals = malloc(n.cap * sizeof(uint64_t));
    n.used = calloc(n.cap, 1);
    if (n.keys == NULL || n.vals == NULL || n.used == NULL) {
        htab_cleanup(&n);
        return -1;
    }
    for (i = 0; i < t->cap; i++) {
        if (t->used[i]) {
            bool added;

            uint8_t k[32] = {0};

            memcpy(k, t->keys[i], HTAB_KEEP);
            *htab_put(&n, k, &added) = t->vals[i];
        }
    }
    htab_cleanup(t);
    *t = n;
    return 0;
}

uint64_t *htab_put(struct htab *t, const uint8_t key[32], bool *added)
{
    uint64_t *v = htab_get(t, key);
    size_t i;

    *added = false;
    if (v != NULL) {
        return v;
    }
    /* Linear probing stays short up to three quarters full. */
    if ((t->n + 1) * 4 > t->cap * 3 && grow(t) < 0) {
        return NULL;
    }
    for (i = slot_of(t, key); t->used[i]; i = (i + 1) & (t->cap - 1)) {
    }
    t->used[i] = 1;
    memcpy(t->keys[i], key, HTAB_KEEP);
    t->vals[i] = 0;
    t->n++;
    *added = true;
    return &t->vals[i];
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

void htab_key(const char *s, size_t n, uint8_t key[32])
{
    size_t i;

    if (n == 64 || n == 32) {
        memset(key, 0, 32);
        for (i = 0; i < n; i += 2) {
            int hi = hexval(s[i]);
            int lo = hexval(s[i + 1]);

            if (hi < 0 || lo < 0) {
                break;
            }
            key[i / 2] = (uint8_t)(hi << 4 | lo);
        }
        if (i == n) {
            return;
        }
    }
    SHA256((const unsigned char *)s, n, key);
}
