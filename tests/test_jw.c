/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/jw: what it writes must be byte for byte what
 * jcs_encode() writes for the same value built with jansson, whatever
 * order the members are added in; and every misuse must fail. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/b64.h"
#include "core/bytes.h"
#include "core/jcs.h"
#include "core/jw.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void want_same(const struct buf *got, const json_t *ref)
{
    struct buf b;

    buf_init(&b);
    ck_assert_int_eq(jcs_encode(&b, ref), 0);
    ck_assert_msg(got->len == b.len && memcmp(got->data, b.data, b.len) == 0,
                  "jw:  %.*s\njcs: %.*s", (int)got->len, (char *)got->data,
                  (int)b.len, (char *)b.data);
    buf_cleanup(&b);
}

/* Byte strings that exercise every escape and the UTF-8 checks. */
static const struct {
    const char *s;
    size_t n;
} strs[] = {
    {"", 0},
    {"plain", 5},
    {"\"quoted\" and \\back\\", 19},
    {"\b\f\n\r\t\x01\x1f\x7f", 8},
    {"nul\0inside", 10},
    {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14},
    {"\xe2\x80\xa8\xe2\x80\xa9/", 7},
    {"\xff\xfe", 2},
    {"ok\xe2\x82", 4},
    {"\xed\xa0\x80", 3},
    {"\xc0\x80", 2},
    {"tail\x80", 5},
};

START_TEST(test_bytes_match_core)
{
    size_t i;

    for (i = 0; i < NELEM(strs); i++) {
        struct jw w;
        struct jw_obj o;
        struct buf out;
        json_t *ref;

        jw_init(&w);
        buf_init(&out);
        jw_obj_begin(&o, &w);
        jw_bytes(&o, "v", strs[i].s, strs[i].n);
        jw_arr_begin(&o, "a");
        jw_arr_bytes(&o, strs[i].s, strs[i].n);
        jw_arr_bytes(&o, "x", 1);
        jw_arr_end(&o);
        ck_assert_int_eq(jw_obj_end(&o, &out), 0);
        ref = json_pack("{s:o, s:[o, s]}", "v",
                        bytes_to_json(strs[i].s, strs[i].n), "a",
                        bytes_to_json(strs[i].s, strs[i].n), "x");
        ck_assert_ptr_nonnull(ref);
        want_same(&out, ref);
        json_decref(ref);
        buf_cleanup(&out);
        jw_cleanup(&w);
    }
}
END_TEST

START_TEST(test_strings_need_utf8)
{
    size_t i;

    for (i = 0; i < NELEM(strs); i++) {
        bool valid = bytes_valid_utf8(strs[i].s, strs[i].n);
        struct jw w;
        struct jw_obj o;
        struct buf out;
        int rc;

        jw_init(&w);
        buf_init(&out);
        jw_obj_begin(&o, &w);
        jw_strn(&o, "s", strs[i].s, strs[i].n);
        jw_int(&o, "after", 1); /* ignored once an error stuck */
        rc = jw_obj_end(&o, &out);
        ck_assert_int_eq(rc, valid ? 0 : -EINVAL);
        if (valid) {
            json_t *ref = json_pack("{s:s%, s:i}", "s", strs[i].s,
                                    strs[i].n, "after", 1);

            want_same(&out, ref);
            json_decref(ref);
        } else {
            ck_assert_uint_eq(out.len, 0);
        }
        buf_cleanup(&out);
        jw_cleanup(&w);
    }
}
END_TEST

/* The payload's shape, members added in the worst order: reversed,
 * nested objects closed into their parents, numbers at the limits. */
START_TEST(test_nested_any_order)
{
    struct jw w;
    struct jw_obj top, proc, inner;
    struct buf out;
    json_t *ref, *part;

    jw_init(&w);
    buf_init(&out);
    jw_obj_begin(&top, &w);
    jw_int(&top, "timestamp_ms", 9007199254740991LL);
    jw_int(&top, "seq", -9007199254740991LL);
    jw_obj_begin(&proc, &w);
    jw_int(&proc, "uid", 0);
    jw_null(&proc, "exe");
    jw_obj_begin(&inner, &w);
    jw_str(&inner, "z", "last");
    jw_str(&inner, "a", NULL);
    jw_obj_into(&inner, &proc, "deeper");
    jw_str(&proc, "cwd", "/");
    jw_obj_into(&proc, &top, "process");
    part = json_pack("{s:[i, s, n], s:{}}", "k", 1, "two", "e");
    jw_json(&top, "from_jansson", part);
    jw_raw(&top, "raw", "[1,2]", 5);
    jw_arr_begin(&top, "empty");
    jw_arr_end(&top);
    jw_obj_begin(&inner, &w);
    jw_obj_into(&inner, &top, "eobj");
    jw_str(&top, "Upper", "sorts before lower case");
    jw_str(&top, "a", "");
    ck_assert_int_eq(jw_obj_end(&top, &out), 0);

    ref = json_pack("{s:I, s:I, s:{s:i, s:n, s:{s:s, s:n}, s:s}, s:O,"
                    " s:[i, i], s:[], s:{}, s:s, s:s}",
                    "timestamp_ms", (json_int_t)9007199254740991LL, "seq",
                    (json_int_t)-9007199254740991LL, "process", "uid", 0,
                    "exe", "deeper", "z", "last", "a", "cwd", "/",
                    "from_jansson", part, "raw", 1, 2, "empty", "eobj",
                    "Upper", "sorts before lower case", "a", "");
    ck_assert_ptr_nonnull(ref);
    want_same(&out, ref);
    json_decref(ref);
    json_decref(part);
    buf_cleanup(&out);
    jw_cleanup(&w);
}
END_TEST

START_TEST(test_misuse_fails)
{
    struct jw w;
    struct jw_obj o;
    struct buf out;
    int i;

    /* A name given twice. */
    jw_init(&w);
    buf_init(&out);
    jw_obj_begin(&o, &w);
    jw_int(&o, "seq", 1);
    jw_int(&o, "seq", 2);
    ck_assert_int_eq(jw_obj_end(&o, &out), -EINVAL);
    ck_assert_uint_eq(out.len, 0);
    jw_cleanup(&w);

    /* More members than an object holds. */
    jw_init(&w);
    jw_obj_begin(&o, &w);
    for (i = 0; i <= JW_MEMBERS; i++) {
        static char names[JW_MEMBERS + 1][8];

        snprintf(names[i], sizeof(names[i]), "m%02d", i);
        jw_int(&o, names[i], i);
    }
    ck_assert_int_eq(jw_obj_end(&o, &out), -EINVAL);
    jw_cleanup(&w);

    /* Integers JCS cannot print exactly, and a value never made. */
    jw_init(&w);
    jw_obj_begin(&o, &w);
    jw_int(&o, "big", 9007199254740992LL);
    ck_assert_int_eq(jw_obj_end(&o, &out), -EINVAL);
    jw_cleanup(&w);
    jw_init(&w);
    jw_obj_begin(&o, &w);
    jw_json(&o, "none", NULL);
    ck_assert_int_eq(jw_obj_end(&o, &out), -ENOMEM);
    jw_cleanup(&w);
    buf_cleanup(&out);
}
END_TEST

/* Many values through both paths: random bytes, random member order. */
START_TEST(test_random_against_jcs)
{
    static const char *const names[] = {"api", "argv", "env", "fd",
                                        "path", "resolved", "sha256",
                                        "env_restored"};
    unsigned seed = 12345;
    int round;

    for (round = 0; round < 300; round++) {
        struct jw w;
        struct jw_obj o;
        struct buf out;
        json_t *ref = json_object();
        size_t order[NELEM(names)];
        size_t i;

        jw_init(&w);
        buf_init(&out);
        jw_obj_begin(&o, &w);
        for (i = 0; i < NELEM(names); i++) {
            order[i] = i;
        }
        for (i = NELEM(names) - 1; i > 0; i--) {
            size_t j = (size_t)rand_r(&seed) % (i + 1);
            size_t t = order[i];

            order[i] = order[j];
            order[j] = t;
        }
        for (i = 0; i < NELEM(names); i++) {
            char s[24];
            size_t n = (size_t)rand_r(&seed) % sizeof(s);
            size_t k;

            for (k = 0; k < n; k++) {
                /* Mostly text, sometimes any byte. */
                s[k] = (char)(rand_r(&seed) % 4 ? ' ' + rand_r(&seed) % 95
                                                : rand_r(&seed) % 256);
            }
            jw_bytes(&o, names[order[i]], s, n);
            json_object_set_new(ref, names[order[i]], bytes_to_json(s, n));
        }
        ck_assert_int_eq(jw_obj_end(&o, &out), 0);
        want_same(&out, ref);
        json_decref(ref);
        buf_cleanup(&out);
        jw_cleanup(&w);
    }
}
END_TEST

static Suite *jw_suite(void)
{
    Suite *s = suite_create("jw");
    TCase *tc = tcase_create("jw");

    tcase_add_test(tc, test_bytes_match_core);
    tcase_add_test(tc, test_strings_need_utf8);
    tcase_add_test(tc, test_nested_any_order);
    tcase_add_test(tc, test_misuse_fails);
    tcase_add_test(tc, test_random_against_jcs);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(jw_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
