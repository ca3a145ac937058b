/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/bytes: UTF-8 validation and the lossless JSON
 * form of byte strings. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/b64.h"
#include "core/bytes.h"

#define S(x) x, sizeof(x) - 1
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct seq {
    const char *s;
    size_t n;
};

static const struct seq good_utf8[] = {
    {S("")},
    {S("plain ascii")},
    {S("\0")},                      /* NUL is a valid code point */
    {S("a\0b")},
    {S("\x7f")},
    {S("\xc2\x80")},                /* U+0080 */
    {S("\xc3\xa9")},                /* U+00E9 */
    {S("\xdf\xbf")},                /* U+07FF */
    {S("\xe0\xa0\x80")},            /* U+0800 */
    {S("\xe2\x82\xac")},            /* U+20AC */
    {S("\xed\x9f\xbf")},            /* U+D7FF, just below surrogates */
    {S("\xee\x80\x80")},            /* U+E000, just above them */
    {S("\xef\xbf\xbf")},            /* U+FFFF */
    {S("\xf0\x90\x80\x80")},        /* U+10000 */
    {S("\xf0\x9f\x98\x80")},        /* U+1F600 */
    {S("\xf4\x8f\xbf\xbf")},        /* U+10FFFF */
    {S("mixed \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 end")},
};

static const struct seq bad_utf8[] = {
    {S("\x80")},                    /* lone continuation bytes */
    {S("\xbf")},
    {S("a\x80z")},
    {S("\xc0\x80")},                /* overlong NUL */
    {S("\xc1\xbf")},                /* overlong U+007F */
    {S("\xe0\x80\x80")},            /* overlong 3-byte forms */
    {S("\xe0\x9f\xbf")},
    {S("\xf0\x80\x80\x80")},        /* overlong 4-byte forms */
    {S("\xf0\x8f\xbf\xbf")},
    {S("\xed\xa0\x80")},            /* U+D800 */
    {S("\xed\xaf\xbf")},            /* U+DBFF */
    {S("\xed\xb0\x80")},            /* U+DC00 */
    {S("\xed\xbf\xbf")},            /* U+DFFF */
    {S("\xed\xa0\xbd\xed\xb8\x80")}, /* CESU-8 pair for U+1F600 */
    {S("\xf4\x90\x80\x80")},        /* U+110000 */
    {S("\xf5\x80\x80\x80")},
    {S("\xf7\xbf\xbf\xbf")},
    {S("\xf8\x88\x80\x80\x80")},    /* 5- and 6-byte forms */
    {S("\xfc\x84\x80\x80\x80\x80")},
    {S("\xfe")},
    {S("\xff")},
    {S("\xc3")},                    /* truncated sequences */
    {S("\xe2\x82")},
    {S("\xf0\x9f\x98")},
    {S("ok\xc3")},
    {S("\xc3\x28")},                /* bad continuation bytes */
    {S("\xe2\x28\xa1")},
    {S("\xe2\x82\x28")},
    {S("\xf0\x9f\x28\x80")},
    {S("\xf0\x9f\x98\x28")},
};

/* Values bytes_from_json must refuse. */
static const char *const bad_json[] = {
    "{}",
    "{\"b64\":5}",
    "{\"b64\":null}",
    "{\"b64\":[\"Zg\"]}",
    "{\"B64\":\"Zg\"}",
    "{\"b64\":\"Zg\",\"x\":1}",
    "{\"b64\":\"Zg==\"}",
    "{\"b64\":\"Zg=\"}",
    "{\"b64\":\"Z\"}",
    "{\"b64\":\"Zh\"}",
    "{\"b64\":\"Zm+v\"}",
    "{\"b64\":\"Zm9v \"}",
    "{\"raw\":\"Zm9v\"}",
    /* valid UTF-8 in b64 form: the plain string is its only encoding */
    "{\"b64\":\"Zm9v\"}",
    "[\"Zm9v\"]",
    "[]",
    "5",
    "1.5",
    "null",
    "true",
};

static uint64_t rng_state;

static uint32_t rng_next(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

/* Random bytes that mix ASCII, well-formed multi-byte sequences and
 * arbitrary bytes (\xff, lone continuations, truncations). */
static size_t random_bytes(char *out, size_t cap)
{
    static const char *const pieces[] = {
        "a", "\0", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\n",
    };
    size_t n = rng_next() % cap;
    size_t i = 0;

    while (i < n) {
        uint32_t r = rng_next();

        if (r % 4 == 0 && i + 4 <= n) {
            const char *p = pieces[r / 4 % NELEM(pieces)];
            size_t k = p[0] == '\0' ? 1 : strlen(p);

            memcpy(out + i, p, k);
            i += k;
        } else {
            out[i++] = (char)(r >> 8);
        }
    }
    return i;
}

START_TEST(test_bytes_valid_utf8_accepts)
{
    const struct seq *c = &good_utf8[_i];

    ck_assert_msg(bytes_valid_utf8(c->s, c->n), "rejected good #%d", _i);
}
END_TEST

START_TEST(test_bytes_valid_utf8_rejects)
{
    const struct seq *c = &bad_utf8[_i];

    ck_assert_msg(!bytes_valid_utf8(c->s, c->n), "accepted bad #%d", _i);
}
END_TEST

START_TEST(test_bytes_valid_utf8_honours_length)
{
    /* Cut inside a sequence: the length given is what counts. */
    ck_assert(!bytes_valid_utf8("\xc3\xa9", 1));
    ck_assert(!bytes_valid_utf8("\xf0\x9f\x98\x80", 3));
    ck_assert(bytes_valid_utf8("ab\xff", 2));
    ck_assert(bytes_valid_utf8("\xff", 0));
}
END_TEST

START_TEST(test_bytes_to_json_string_form)
{
    const struct seq *c = &good_utf8[_i];
    json_t *v = bytes_to_json(c->s, c->n);

    ck_assert_ptr_nonnull(v);
    ck_assert(json_is_string(v));
    ck_assert_uint_eq(json_string_length(v), c->n);
    if (c->n > 0) {
        ck_assert_mem_eq(json_string_value(v), c->s, c->n);
    }
    json_decref(v);
}
END_TEST

START_TEST(test_bytes_to_json_object_form)
{
    const struct seq *c = &bad_utf8[_i];
    json_t *v = bytes_to_json(c->s, c->n);
    json_t *b;
    struct buf want;

    buf_init(&want);
    ck_assert_int_eq(b64url_encode(&want, c->s, c->n), 0);
    ck_assert_ptr_nonnull(v);
    ck_assert(json_is_object(v));
    ck_assert_uint_eq(json_object_size(v), 1);
    b = json_object_get(v, "b64");
    ck_assert(json_is_string(b));
    ck_assert_str_eq(json_string_value(b), (char *)want.data);
    buf_cleanup(&want);
    json_decref(v);
}
END_TEST

START_TEST(test_bytes_to_json_ff)
{
    json_t *v = bytes_to_json("\xff", 1);
    char *text;

    ck_assert_ptr_nonnull(v);
    text = json_dumps(v, JSON_COMPACT);
    ck_assert_str_eq(text, "{\"b64\":\"_w\"}");
    free(text);
    json_decref(v);
}
END_TEST

START_TEST(test_bytes_from_json_roundtrip_random)
{
    char raw[96];
    size_t n;
    json_t *v;
    json_t *back;
    char *text;
    struct buf out;

    rng_state = 0x2545f4914f6cdd1dull + (uint64_t)_i * 7919;
    n = random_bytes(raw, sizeof(raw));
    v = bytes_to_json(raw, n);
    ck_assert_ptr_nonnull(v);
    /* Through text and back, as a log reader would see it. */
    text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    ck_assert_ptr_nonnull(text);
    back = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    ck_assert_ptr_nonnull(back);
    buf_init(&out);
    ck_assert_int_eq(bytes_from_json(back, &out), 0);
    ck_assert_uint_eq(out.len, n);
    if (n > 0) {
        ck_assert_mem_eq(out.data, raw, n);
    }
    ck_assert_int_eq(json_is_string(v), bytes_valid_utf8(raw, n));
    buf_cleanup(&out);
    json_decref(back);
    json_decref(v);
    free(text);
}
END_TEST

START_TEST(test_bytes_from_json_appends)
{
    json_t *s = json_string("bar");
    json_t *o = bytes_to_json("\xff\xfe", 2);
    struct buf out;

    buf_init(&out);
    ck_assert_int_eq(buf_puts(&out, "foo"), 0);
    ck_assert_int_eq(bytes_from_json(s, &out), 0);
    ck_assert_int_eq(bytes_from_json(o, &out), 0);
    ck_assert_uint_eq(out.len, 8);
    ck_assert_mem_eq(out.data, "foobar\xff\xfe", 9);
    buf_cleanup(&out);
    json_decref(s);
    json_decref(o);
}
END_TEST

START_TEST(test_bytes_from_json_rejects)
{
    json_t *v = json_loads(bad_json[_i], JSON_DECODE_ANY, NULL);
    struct buf out;

    ck_assert_ptr_nonnull(v);
    buf_init(&out);
    ck_assert_int_eq(buf_puts(&out, "keep"), 0);
    ck_assert_msg(bytes_from_json(v, &out) == -EINVAL, "accepted %s",
                  bad_json[_i]);
    ck_assert_str_eq((char *)out.data, "keep");
    buf_cleanup(&out);
    json_decref(v);
}
END_TEST

static Suite *bytes_suite(void)
{
    Suite *s = suite_create("bytes");
    TCase *tc;

    tc = tcase_create("bytes_valid_utf8");
    tcase_add_loop_test(tc, test_bytes_valid_utf8_accepts, 0,
                        NELEM(good_utf8));
    tcase_add_loop_test(tc, test_bytes_valid_utf8_rejects, 0,
                        NELEM(bad_utf8));
    tcase_add_test(tc, test_bytes_valid_utf8_honours_length);
    suite_add_tcase(s, tc);

    tc = tcase_create("bytes_to_json");
    tcase_add_loop_test(tc, test_bytes_to_json_string_form, 0,
                        NELEM(good_utf8));
    tcase_add_loop_test(tc, test_bytes_to_json_object_form, 0,
                        NELEM(bad_utf8));
    tcase_add_test(tc, test_bytes_to_json_ff);
    suite_add_tcase(s, tc);

    tc = tcase_create("bytes_from_json");
    tcase_add_loop_test(tc, test_bytes_from_json_roundtrip_random, 0, 300);
    tcase_add_test(tc, test_bytes_from_json_appends);
    tcase_add_loop_test(tc, test_bytes_from_json_rejects, 0,
                        NELEM(bad_json));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(bytes_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
