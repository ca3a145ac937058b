/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/htab: insertion, lookup, growth and key
 * derivation. */
#include <check.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/htab.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char hex64[] =
    "00112233445566778899aabbccddeeff0123456789abcdeffedcba9876543210";

/* Texts that are not lowercase hex of 32 or 64 digits get hashed. */
static const char *const hashed[] = {
    "",
    "urn:kest:key:abc",
    "00112233445566778899AABBCCDDEEFF0123456789ABCDEFFEDCBA9876543210",
    "00112233445566778899aabbccddeeff0123456789abcdeffedcba987654321g",
    "00112233445566778899aabbccddeef",
    "00112233445566778899aabbccddeeff0",
    "0011223344556677",
};

/* A key whose first eight bytes, the slot, are the same for all i; i
 * goes into the bytes that still tell keys apart (8 to 15). */
static void same_slot_key(uint32_t i, uint8_t key[32])
{
    memset(key, 0xa5, 32);
    memcpy(key + 12, &i, sizeof(i));
}

static void spread_key(uint32_t i, uint8_t key[32])
{
    uint8_t in[4];

    memcpy(in, &i, sizeof(in));
    SHA256(in, sizeof(in), key);
}

START_TEST(test_htab_put_then_get)
{
    struct htab t;
    uint8_t a[32], b[32];
    uint64_t *v;
    uint64_t *again;
    bool added = false;

    htab_init(&t);
    spread_key(1, a);
    spread_key(2, b);
    ck_assert_ptr_null(htab_get(&t, a));
    v = htab_put(&t, a, &added);
    ck_assert_ptr_nonnull(v);
    ck_assert(added);
    ck_assert_uint_eq(*v, 0);
    *v = 42;
    again = htab_put(&t, a, &added);
    ck_assert(!added);
    ck_assert_ptr_eq(again, v);
    ck_assert_uint_eq(*again, 42);
    ck_assert_ptr_eq(htab_get(&t, a), v);
    ck_assert_ptr_null(htab_get(&t, b));
    ck_assert_uint_eq(t.n, 1);
    htab_cleanup(&t);
    ck_assert_ptr_null(htab_get(&t, a));
    ck_assert_uint_eq(t.n, 0);
}
END_TEST

START_TEST(test_htab_put_growth)
{
    void (*make)(uint32_t, uint8_t[32]) = _i == 0 ? spread_key
                                                  : same_slot_key;
    uint32_t count = _i == 0 ? 20000 : 3000;
    struct htab t;
    uint8_t key[32];
    uint32_t i;
    bool added;

    /* Past the first 1024 slots, with and without colliding slots. */
    htab_init(&t);
    for (i = 0; i < count; i++) {
        uint64_t *v;

        make(i, key);
        v = htab_put(&t, key, &added);
        ck_assert_ptr_nonnull(v);
        ck_assert(added);
        *v = (uint64_t)i * 3 + 1;
    }
    ck_assert_uint_eq(t.n, count);
    /* At most three quarters full. */
    ck_assert_uint_ge(t.cap * 3, 4 * (size_t)count);
    ck_assert_uint_eq(t.cap & (t.cap - 1), 0);
    for (i = 0; i < count; i++) {
        uint64_t *v;

        make(i, key);
        v = htab_get(&t, key);
        ck_assert_msg(v != NULL, "key %u lost", i);
        ck_assert_uint_eq(*v, (uint64_t)i * 3 + 1);
    }
    make(count, key);
    ck_assert_ptr_null(htab_get(&t, key));
    htab_cleanup(&t);
}
END_TEST

START_TEST(test_htab_put_reuse_after_cleanup)
{
    struct htab t;
    uint8_t key[32];
    bool added;
    uint32_t i;

    htab_init(&t);
    for (i = 0; i < 2000; i++) {
        spread_key(i, key);
        ck_assert_ptr_nonnull(htab_put(&t, key, &added));
    }
    htab_cleanup(&t);
    spread_key(7, key);
    ck_assert_ptr_null(htab_get(&t, key));
    ck_assert_ptr_nonnull(htab_put(&t, key, &added));
    ck_assert(added);
    ck_assert_uint_eq(t.n, 1);
    htab_cleanup(&t);
}
END_TEST

START_TEST(test_htab_key_hex64)
{
    uint8_t key[32];
    size_t i;

    htab_key(hex64, 64, key);
    for (i = 0; i < 32; i++) {
        unsigned byte;

        ck_assert_int_eq(sscanf(hex64 + 2 * i, "%2x", &byte), 1);
        ck_assert_uint_eq(key[i], byte);
    }
}
END_TEST

START_TEST(test_htab_key_hex32)
{
    static const uint8_t zero[16] = {0};
    uint8_t key[32];
    size_t i;

    memset(key, 0xee, sizeof(key));
    htab_key(hex64, 32, key);
    for (i = 0; i < 16; i++) {
        unsigned byte;

        ck_assert_int_eq(sscanf(hex64 + 2 * i, "%2x", &byte), 1);
        ck_assert_uint_eq(key[i], byte);
    }
    ck_assert_mem_eq(key + 16, zero, 16);
}
END_TEST

START_TEST(test_htab_key_hashed)
{
    const char *s = hashed[_i];
    uint8_t want[32];
    uint8_t key[32];

    SHA256((const unsigned char *)s, strlen(s), want);
    htab_key(s, strlen(s), key);
    ck_assert_mem_eq(key, want, 32);
}
END_TEST

START_TEST(test_htab_key_length_counts)
{
    uint8_t a[32], b[32];

    /* Only n bytes are read: a prefix is a different key. */
    htab_key("urn:kest:key:abc", 13, a);
    htab_key("urn:kest:key:", 13, b);
    ck_assert_mem_eq(a, b, 32);
    htab_key("urn:kest:key:abc", 16, b);
    ck_assert_mem_ne(a, b, 32);
}
END_TEST

static Suite *htab_suite(void)
{
    Suite *s = suite_create("htab");
    TCase *tc;

    tc = tcase_create("htab_put");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_htab_put_then_get);
    tcase_add_loop_test(tc, test_htab_put_growth, 0, 2);
    tcase_add_test(tc, test_htab_put_reuse_after_cleanup);
    suite_add_tcase(s, tc);

    tc = tcase_create("htab_key");
    tcase_add_test(tc, test_htab_key_hex64);
    tcase_add_test(tc, test_htab_key_hex32);
    tcase_add_loop_test(tc, test_htab_key_hashed, 0, NELEM(hashed));
    tcase_add_test(tc, test_htab_key_length_counts);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(htab_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
