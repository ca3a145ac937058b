/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/secmem: secret buffers sit on pages the kernel
 * leaves out of core dumps ("dd" in /proc/self/smaps), are erased, and
 * OpenSSL keeps the private half of our keys on such pages too. */
#include <check.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/key.h"
#include "core/secmem.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
/* Needles are kept masked, so that the test's own copy never matches. */
#define MASK 0x5a

static const size_t sizes[] = {1, 15, 16, 100, 4080, 4096, 70000};

/* The VmFlags line of the mapping that holds p; false if none does. */
static bool vm_flags(const void *p, char *flags, size_t cap)
{
    uintptr_t a = (uintptr_t)p;
    bool in = false;
    char line[512];
    FILE *f = fopen("/proc/self/smaps", "re");

    ck_assert_ptr_nonnull(f);
    while (fgets(line, sizeof(line), f) != NULL) {
        unsigned long lo, hi;

        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
            strchr(line, '-') < strchr(line, ' ')) {
            in = a >= lo && a < hi;
        } else if (in && strncmp(line, "VmFlags:", 8) == 0) {
            snprintf(flags, cap, "%s", line + 8);
            fclose(f);
            return true;
        }
    }
    fclose(f);
    return false;
}

/* True if the page holding p is left out of core dumps. */
static bool dontdump(const void *p)
{
    char flags[512];

    return vm_flags(p, flags, sizeof(flags)) && strstr(flags, " dd") != NULL;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (p[i] != 0) {
            return false;
        }
    }
    return true;
}

START_TEST(test_secmem_alloc_dontdump)
{
    size_t n = sizes[_i];
    uint8_t *p = secmem_alloc(n);

    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq((uintptr_t)p % 16, 0);
    ck_assert_uint_ge(secmem_size(p), n);
    ck_assert(all_zero(p, secmem_size(p)));
    memset(p, 0xa5, n);
    ck_assert_msg(dontdump(p), "first byte of %zu not excluded", n);
    ck_assert_msg(dontdump(p + n - 1), "last byte of %zu not excluded", n);
    secmem_free(p);
}
END_TEST

START_TEST(test_secmem_alloc_too_big)
{
    ck_assert_ptr_null(secmem_alloc(SIZE_MAX));
    ck_assert_ptr_null(secmem_alloc(SIZE_MAX - 16));
}
END_TEST

/* Forked children record with what they inherit: no MADV_WIPEONFORK. */
START_TEST(test_secmem_alloc_fork_keeps)
{
    uint8_t *p = secmem_alloc(64);
    int status;
    pid_t pid;

    ck_assert_ptr_nonnull(p);
    memset(p, 0x42, 64);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        _exit(p[0] == 0x42 && p[63] == 0x42 && dontdump(p) ? 0 : 1);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    secmem_free(p);
}
END_TEST

START_TEST(test_secmem_wipe_zeroes)
{
    size_t n = sizes[_i];
    uint8_t *p = secmem_alloc(n);

    ck_assert_ptr_nonnull(p);
    memset(p, 0xa5, secmem_size(p));
    secmem_wipe(p);
    ck_assert(all_zero(p, secmem_size(p)));
    ck_assert(dontdump(p)); /* still ours, still excluded */
    secmem_wipe(NULL);
    secmem_free(p);
}
END_TEST

START_TEST(test_secmem_free_unmaps)
{
    char flags[512];
    uint8_t *p = secmem_alloc(sizes[_i]);

    ck_assert_ptr_nonnull(p);
    memset(p, 0xa5, sizes[_i]);
    secmem_free(p);
    ck_assert_msg(!vm_flags(p, flags, sizeof(flags)), "still mapped");
    secmem_free(NULL);
}
END_TEST

static const struct {
    const char *in;
    size_t max; /* 0: secmem_strdup */
    const char *want;
} dups[] = {
    {"", 0, ""},
    {"AKIAIOSFODNN7EXAMPLE", 0, "AKIAIOSFODNN7EXAMPLE"},
    {"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", 8, "wJalrXUt"},
    {"short", 64, "short"},
    {"eyJhbGciOiJFUzI1NiJ9.e30.sig", 1, "e"},
    {NULL, 0, NULL},
    {NULL, 5, NULL},
};

START_TEST(test_secmem_strdup_copies)
{
    char *d = dups[_i].max ? secmem_strndup(dups[_i].in, dups[_i].max)
                           : secmem_strdup(dups[_i].in);

    if (dups[_i].want == NULL) {
        ck_assert_ptr_null(d);
        return;
    }
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(d, dups[_i].want);
    ck_assert_ptr_ne(d, dups[_i].in);
    ck_assert(dontdump(d));
    secmem_free(d);
}
END_TEST

START_TEST(test_secmem_crypto_init_secure_heap)
{
    void *p;

    ck_assert(secmem_crypto_init());
    ck_assert(secmem_crypto_init()); /* once per process */
    ck_assert_int_eq(CRYPTO_secure_malloc_initialized(), 1);
    p = OPENSSL_secure_malloc(32);
    ck_assert_ptr_nonnull(p);
    ck_assert(CRYPTO_secure_allocated(p));
    ck_assert(dontdump(p));
    OPENSSL_secure_free(p);
}
END_TEST

/* A host program that started its own secure heap keeps it: ours
 * (64 KiB) would fit 40000 bytes, the host's 32 KiB does not. In a
 * child of its own, which first drops a heap an earlier test started
 * (CK_FORK=no runs every test in one process). */
static int host_heap_child(void)
{
    void *p;

    if (CRYPTO_secure_malloc_initialized() && !CRYPTO_secure_malloc_done()) {
        return 4;
    }
    if (CRYPTO_secure_malloc_init(32 * 1024, 16) == 0 ||
        !secmem_crypto_init()) {
        return 1;
    }
    p = OPENSSL_secure_malloc(40000);
    if (p != NULL) {
        return 2;
    }
    p = OPENSSL_secure_malloc(64);
    if (p == NULL) {
        return 3;
    }
    OPENSSL_secure_free(p);
    return 0;
}

START_TEST(test_secmem_crypto_init_host_heap)
{
    int status;
    pid_t pid = fork();

    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        _exit(host_heap_child());
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

/* The raw Ed25519 private key of k, masked. */
static void masked_seed(const struct key *k, uint8_t out[32])
{
    uint8_t *raw = secmem_alloc(32);
    size_t n = 32;
    size_t i;

    ck_assert_ptr_nonnull(raw);
    ck_assert_int_eq(EVP_PKEY_get_raw_private_key(key_pkey(k), raw, &n), 1);
    ck_assert_uint_eq(n, 32);
    for (i = 0; i < 32; i++) {
        out[i] = raw[i] ^ MASK;
    }
    secmem_free(raw);
}

static bool match_at(const uint8_t *p, const uint8_t masked[32])
{
    size_t i;

    for (i = 0; i < 32; i++) {
        if ((uint8_t)(p[i] ^ MASK) != masked[i]) {
            return false;
        }
    }
    return true;
}

/* Copies of the key inside OpenSSL's secure heap; each must sit on a
 * page left out of core dumps. */
static int secure_copies(const uint8_t masked[32])
{
    char line[512];
    FILE *f = fopen("/proc/self/maps", "re");
    int hits = 0;

    ck_assert_ptr_nonnull(f);
    while (fgets(line, sizeof(line), f) != NULL) {
        unsigned long lo, hi, a;
        char perm[5];

        if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perm) != 3 ||
            perm[0] != 'r' || !CRYPTO_secure_allocated((void *)lo)) {
            continue;
        }
        for (a = lo; a + 32 <= hi; a++) {
            if (match_at((const uint8_t *)a, masked)) {
                ck_assert_msg(dontdump((void *)a), "key copy not excluded");
                hits++;
            }
        }
    }
    fclose(f);
    return hits;
}

/* 0: a key made in memory (the OIDC and AWS session keys); 1: a key
 * read from a file (KEST_KEY). */
START_TEST(test_secmem_crypto_init_key_in_secure_heap)
{
    char dir[] = "/tmp/kest-secmem.XXXXXX";
    char path[64];
    uint8_t masked[32];
    struct key *k = NULL;

    ck_assert_int_eq(key_generate(KEY_ED25519, &k), 0);
    if (_i == 1) {
        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/key.pem", dir);
        ck_assert_int_eq(key_write_private(k, path), 0);
        key_free(k);
        k = NULL;
        ck_assert_int_eq(key_load_private(path, &k), 0);
        unlink(path);
        rmdir(dir);
    }
    ck_assert(CRYPTO_secure_malloc_initialized());
    masked_seed(k, masked);
    ck_assert_int_ge(secure_copies(masked), 1);
    key_free(k);
    /* OpenSSL clears the secure copy when the key goes. */
    ck_assert_int_eq(secure_copies(masked), 0);
}
END_TEST

int main(void)
{
    Suite *s;
    SRunner *sr;
    TCase *tc;
    int failed;

    secmem_crypto_allow(); /* as kest's own programs do */
    s = suite_create("secmem");

    tc = tcase_create("secmem_alloc");
    tcase_add_loop_test(tc, test_secmem_alloc_dontdump, 0, NELEM(sizes));
    tcase_add_test(tc, test_secmem_alloc_too_big);
    tcase_add_test(tc, test_secmem_alloc_fork_keeps);
    suite_add_tcase(s, tc);

    tc = tcase_create("secmem_wipe");
    tcase_add_loop_test(tc, test_secmem_wipe_zeroes, 0, NELEM(sizes));
    suite_add_tcase(s, tc);

    tc = tcase_create("secmem_free");
    tcase_add_loop_test(tc, test_secmem_free_unmaps, 0, NELEM(sizes));
    suite_add_tcase(s, tc);

    tc = tcase_create("secmem_strdup");
    tcase_add_loop_test(tc, test_secmem_strdup_copies, 0, NELEM(dups));
    suite_add_tcase(s, tc);

    tc = tcase_create("secmem_crypto_init");
    tcase_add_test(tc, test_secmem_crypto_init_secure_heap);
    tcase_add_test(tc, test_secmem_crypto_init_host_heap);
    tcase_add_loop_test(tc, test_secmem_crypto_init_key_in_secure_heap, 0,
                        2);
    suite_add_tcase(s, tc);

    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
