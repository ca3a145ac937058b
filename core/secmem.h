/* SPDX-License-Identifier: Apache-2.0 */
/* Memory for secrets (private key text, tokens, credentials): pages of
 * their own, left out of core dumps, erased before they are released. */
#ifndef KEST_SECMEM_H
#define KEST_SECMEM_H

#include <stdbool.h>
#include <stddef.h>

/* n zeroed bytes on anonymous pages marked MADV_DONTDUMP (and locked in
 * RAM where RLIMIT_MEMLOCK allows). Forked children keep them, as they
 * keep the rest of the heap. NULL if out of memory. Release with
 * secmem_free, never free(). */
void *secmem_alloc(size_t n);
/* A NUL-terminated secmem copy of s, or of its first n bytes at most;
 * NULL if s is NULL or out of memory. */
char *secmem_strdup(const char *s);
char *secmem_strndup(const char *s, size_t n);
/* Erase every byte of p's allocation with explicit_bzero; p stays. */
void secmem_wipe(void *p);
/* Erase, unlock and unmap p's allocation. NULL is ignored. */
void secmem_free(void *p);
/* Usable bytes of p's allocation (at least what was asked for). */
size_t secmem_size(const void *p);

/* Called first by kest's own programs, never inside a host program:
 * permits secmem_crypto_init to start OpenSSL's secure heap. */
void secmem_crypto_allow(void);
/* Start OpenSSL's secure heap (64 KiB), from which it allocates the
 * private parts of the keys it parses or makes, so that those are left
 * out of core dumps too. Done once per process, only if allowed (see
 * secmem_crypto_allow) and nobody did; a refused mlock is tolerated.
 * True if a secure heap is in use. */
bool secmem_crypto_init(void);

#endif
