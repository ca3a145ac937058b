/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/b64: RFC 4648 vectors and strict decoding. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/b64.h"

#define S(x) x, sizeof(x) - 1
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct vec {
    const char *raw;
    const char *url;
    const char *std;
};

/* RFC 4648 section 10, with the padding dropped for the URL form. */
static const struct vec rfc4648[] = {
    {"", "", ""},
    {"f", "Zg", "Zg=="},
    {"fo", "Zm8", "Zm8="},
    {"foo", "Zm9v", "Zm9v"},
    {"foob", "Zm9vYg", "Zm9vYg=="},
    {"fooba", "Zm9vYmE", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
};

struct bad {
    const char *in;
    size_t n;
};

static const struct bad url_bad[] = {
    {S("Zg==")},      /* padding is not allowed in the URL form */
    {S("Zg=")},
    {S("Zm8=")},
    {S("=")},
    {S("Z")},         /* length % 4 == 1 */
    {S("Zm9vY")},
    {S("Zh")},        /* leftover bits not zero */
    {S("Zm9")},
    {S("Zm9v!A")},
    {S("Zm9v\n")},
    {S(" Zm9v")},
    {S("Zm+v")},      /* standard alphabet */
    {S("Zm/v")},
    {S("Zm9v YmFy")},
    {S("Zm\0v")},
    {S("Zm9v\xc3\xa9")},
};

static const struct bad std_bad[] = {
    {S("Zg")},        /* padding is required */
    {S("Zm8")},
    {S("Zg=")},
    {S("Zg===")},
    {S("Z===")},
    {S("====")},
    {S("Zm9v====")},
    {S("=Zg=")},
    {S("Zg=A")},
    {S("Zh==")},      /* leftover bits not zero */
    {S("Zm9=")},
    {S("Zm-v")},      /* URL alphabet */
    {S("Zm_v")},
    {S("Zm9v\r\n")},
    {S("Zm\0v")},
};

static uint64_t rng_state;

static void rng_seed(int i)
{
    rng_state = 0x9e3779b97f4a7c15ull ^ ((uint64_t)i * 0x100000001b3ull);
}

static uint8_t rng_byte(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint8_t)(rng_state >> 24);
}

START_TEST(test_b64_url_encode_rfc4648)
{
    const struct vec *v = &rfc4648[_i];
    struct buf b;

    buf_init(&b);
    ck_assert_int_eq(b64url_encode(&b, v->raw, strlen(v->raw)), 0);
    ck_assert_uint_eq(b.len, strlen(v->url));
    ck_assert_str_eq((char *)b.data, v->url);
    buf_cleanup(&b);
}
END_TEST

START_TEST(test_b64_url_encode_alphabet)
{
    static const uint8_t in[] = {0xfb, 0xff, 0xbf, 0x00};
    struct buf b;

    buf_init(&b);
    ck_assert_int_eq(buf_puts(&b, "x."), 0);
    ck_assert_int_eq(b64url_encode(&b, in, sizeof(in)), 0);
    /* Appends after what is there; 62 and 63 are '-' and '_'. */
    ck_assert_str_eq((char *)b.data, "x.-_-_AA");
    buf_cleanup(&b);
}
END_TEST

START_TEST(test_b64_url_decode_rfc4648)
{
    const struct vec *v = &rfc4648[_i];
    struct buf b;

    buf_init(&b);
    ck_assert_int_eq(b64url_decode(&b, v->url, strlen(v->url)), 0);
    ck_assert_uint_eq(b.len, strlen(v->raw));
    if (b.len > 0) {
        ck_assert_mem_eq(b.data, v->raw, b.len);
        ck_assert_int_eq(b.data[b.len], '\0');
    }
    buf_cleanup(&b);
}
END_TEST

START_TEST(test_b64_url_decode_rejects)
{
    const struct bad *c = &url_bad[_i];
    struct buf b;

    buf_init(&b);
    ck_assert_msg(b64url_decode(&b, c->in, c->n) == -EINVAL,
                  "accepted bad input #%d", _i);
    buf_cleanup(&b);
}
END_TEST

START_TEST(test_b64_url_decode_failure_keeps_out)
{
    struct buf b;

    /* Five good quads, then a bad character: nothing may be appended. */
    buf_init(&b);
    ck_assert_int_eq(buf_puts(&b, "keep"), 0);
    ck_assert_int_eq(b64url_decode(&b, S("Zm9vYmFyZm9vYmFyZm9v*A")),
                     -EINVAL);
    ck_assert_uint_eq(b.len, 4);
    ck_assert_str_eq((char *)b.data, "keep");
    buf_cleanup(&b);
}
END_TEST

START_TEST(test_b64_url_decode_roundtrip)
{
    uint8_t raw[300];
    struct buf enc, dec;
    size_t n = (size_t)_i;
    size_t i;

    buf_init(&enc);
    buf_init(&dec);
    rng_seed(_i);
    for (i = 0; i < n; i++) {
        raw[i] = rng_byte();
    }
    ck_assert_int_eq(b64url_encode(&enc, raw, n), 0);
    ck_assert_uint_eq(enc.len, (n * 4 + 2) / 3);
    ck_assert_ptr_null(memchr(enc.data, '=', enc.len));
    ck_assert_int_eq(b64url_decode(&dec, (char *)enc.data, enc.len), 0);
    ck_assert_uint_eq(dec.len, n);
    if (n > 0) {
        ck_assert_mem_eq(dec.data, raw, n);
    }
    buf_cleanup(&enc);
    buf_cleanup(&dec);
}
END_TEST

START_TEST(test_b64_std_encode_rfc4648)
{
    const struct vec *v = &rfc4648[_i];
    struct buf b;

    buf_init(&b);
    ck_assert_int_eq(b64std_encode(&b, v->raw, strlen(v->raw)), 0);
    ck_assert_uint_eq(b.len, strlen(v->std));
    ck_assert_str_eq((char *)b.data, v->std);
    buf_cleanup(&b);
}
END_TEST

START_TEST(test_b64_std_encode_alphabet)
{
    static const uint8_t in[] = {0xfb, 0xff, 0xbf, 0x00};
    struct buf b;

    buf_init(&b);
    ck_assert_int_eq(b64std_encode(&b, in, sizeof(in)), 0);
    ck_assert_str_eq((char *)b.data, "+/+/AA==");
    buf_cleanup(&b);
}
END_TEST

START_TEST(test_b64_std_decode_rfc4648)
{
    const struct vec *v = &rfc4648[_i];
    struct buf b;

    buf_init(&b);
    ck_assert_int_eq(b64std_decode(&b, v->std, strlen(v->std)), 0);
    ck_assert_uint_eq(b.len, strlen(v->raw));
    if (b.len > 0) {
        ck_assert_mem_eq(b.data, v->raw, b.len);
    }
    buf_cleanup(&b);
}
END_TEST

START_TEST(test_b64_std_decode_rejects)
{
    const struct bad *c = &std_bad[_i];
    struct buf b;

    buf_init(&b);
    ck_assert_msg(b64std_decode(&b, c->in, c->n) == -EINVAL,
                  "accepted bad input #%d", _i);
    buf_cleanup(&b);
}
END_TEST

START_TEST(test_b64_std_decode_roundtrip)
{
    uint8_t raw[300];
    struct buf enc, dec;
    size_t n = (size_t)_i;
    size_t i;

    buf_init(&enc);
    buf_init(&dec);
    rng_seed(_i);
    for (i = 0; i < n; i++) {
        raw[i] = rng_byte();
    }
    ck_assert_int_eq(b64std_encode(&enc, raw, n), 0);
    ck_assert_uint_eq(enc.len, (n + 2) / 3 * 4);
    ck_assert_int_eq(b64std_decode(&dec, (char *)enc.data, enc.len), 0);
    ck_assert_uint_eq(dec.len, n);
    if (n > 0) {
        ck_assert_mem_eq(dec.data, raw, n);
    }
    buf_cleanup(&enc);
    buf_cleanup(&dec);
}
END_TEST

static Suite *b64_suite(void)
{
    Suite *s = suite_create("b64");
    TCase *tc;

    tc = tcase_create("b64url_encode");
    tcase_add_loop_test(tc, test_b64_url_encode_rfc4648, 0,
                        NELEM(rfc4648));
    tcase_add_test(tc, test_b64_url_encode_alphabet);
    suite_add_tcase(s, tc);

    tc = tcase_create("b64url_decode");
    tcase_add_loop_test(tc, test_b64_url_decode_rfc4648, 0,
                        NELEM(rfc4648));
    tcase_add_loop_test(tc, test_b64_url_decode_rejects, 0, NELEM(url_bad));
    tcase_add_test(tc, test_b64_url_decode_failure_keeps_out);
    tcase_add_loop_test(tc, test_b64_url_decode_roundtrip, 0, 300);
    suite_add_tcase(s, tc);

    tc = tcase_create("b64std_encode");
    tcase_add_loop_test(tc, test_b64_std_encode_rfc4648, 0,
                        NELEM(rfc4648));
    tcase_add_test(tc, test_b64_std_encode_alphabet);
    suite_add_tcase(s, tc);

    tc = tcase_create("b64std_decode");
    tcase_add_loop_test(tc, test_b64_std_decode_rfc4648, 0,
                        NELEM(rfc4648));
    tcase_add_loop_test(tc, test_b64_std_decode_rejects, 0, NELEM(std_bad));
    tcase_add_loop_test(tc, test_b64_std_decode_roundtrip, 0, 300);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(b64_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
