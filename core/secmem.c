/* SPDX-License-Identifier: Apache-2.0 */
/* Secret buffers on dump-excluded pages, and OpenSSL's secure heap. */
#include "core/secmem.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The mapping's length sits in front of the caller's bytes; 16 keeps
 * those aligned as malloc's are. */
#define SECMEM_HEAD 16
/* OpenSSL's secure heap, a power of two: an RSA-4096 key takes about
 * 4 KiB of it, an Ed25519 key 32 bytes; the rest is headroom for a
 * host program that shares our libcrypto. */
#define SECMEM_CRYPTO_HEAP (64 * 1024)
#define SECMEM_CRYPTO_MIN 16

static pthread_once_t crypto_once = PTHREAD_ONCE_INIT;

static uint8_t *base_of(const void *p)
{
    return (uint8_t *)p - SECMEM_HEAD;
}

void *secmem_alloc(size_t n)
{
    long page = sysconf(_SC_PAGESIZE);
    size_t pg = page > 0 ? (size_t)page : 4096;
    size_t len;
    uint8_t *m;

    if (n > SIZE_MAX - SECMEM_HEAD - pg) {
        return NULL;
    }
    len = (n + SECMEM_HEAD + pg - 1) / pg * pg;
    m = mmap(NULL, len, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        return NULL;
    }
    /* Without the exclusion this would be ordinary memory: refuse. No
     * MADV_WIPEONFORK: forked children record with what they inherit. */
    if (madvise(m, len, MADV_DONTDUMP) < 0) {
        munmap(m, len);
        return NULL;
    }
    /* Out of swap too, where RLIMIT_MEMLOCK allows; best effort. */
    (void)mlock(m, len);
    memcpy(m, &len, sizeof(len));
    return m + SECMEM_HEAD;
}

size_t secmem_size(const void *p)
{
    size_t len;

    memcpy(&len, base_of(p), sizeof(len));
    return len - SECMEM_HEAD;
}

static char *copy(const char *s, size_t n)
{
    char *d = secmem_alloc(n + 1);

    if (d != NULL) {
        memcpy(d, s, n);
    }
    return d;
}

char *secmem_strndup(const char *s, size_t n)
{
    return s != NULL ? copy(s, strnlen(s, n)) : NULL;
}

char *secmem_strdup(const char *s)
{
    return s != NULL ? copy(s, strlen(s)) : NULL;
}

void secmem_wipe(void *p)
{
    if (p != NULL) {
        explicit_bzero(p, secmem_size(p));
    }
}

void secmem_free(void *p)
{
    uint8_t *m;
    size_t len;

    if (p == NULL) {
        return;
    }
    m = base_of(p);
    memcpy(&len, m, sizeof(len));
    explicit_bzero(m, len);
    (void)munlock(m, len);
    munmap(m, len);
}

/* Set by kest's own programs (the kest command, kest-record). Inside a
 * host program the secure heap is not started: OpenSSL allows one per
 * process, so the host could no longer start its own, and OpenSSL
 * aborts the process if setting one up runs out of memory. */
static bool crypto_allowed;

void secmem_crypto_allow(void)
{
    crypto_allowed = true;
}

static void crypto_start(void)
{
    /* A host program sharing our libcrypto may run one already: then
     * its heap serves us too. (OpenSSL allows one per process, so a
     * host that starts its own after us is refused; see
     * docs/THREAT-MODEL.md.) 2 means mlock was refused: the arena is
     * still left out of core dumps. */
    if (crypto_allowed && !CRYPTO_secure_malloc_initialized()) {
        (void)CRYPTO_secure_malloc_init(SECMEM_CRYPTO_HEAP,
                                        SECMEM_CRYPTO_MIN);
    }
}

bool secmem_crypto_init(void)
{
    (void)pthread_once(&crypto_once, crypto_start);
    return CRYPTO_secure_malloc_initialized() == 1;
}
