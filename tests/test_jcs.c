/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/jcs: RFC 8785 vectors, key order, escapes and
 * ECMAScript number formatting. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jcs.h"

#define S(x) x, sizeof(x) - 1
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The reference vectors in /work/shared/testdata/jcs. */
static const char *const vectors[] = {
    "arrays", "french", "structures", "unicode", "values",
};

struct esc {
    const char *in;
    size_t n;
    const char *want;
};

/* RFC 8785 section 3.2.2.2: short escapes where JSON has them, \u00xx in
 * lowercase for other controls, everything else literal. */
static const struct esc escapes[] = {
    {S("\0"), "\"\\u0000\""},
    {S("\x01"), "\"\\u0001\""},
    {S("\x0b"), "\"\\u000b\""},
    {S("\x1a"), "\"\\u001a\""},
    {S("\x1f"), "\"\\u001f\""},
    {S("\b"), "\"\\b\""},
    {S("\t"), "\"\\t\""},
    {S("\n"), "\"\\n\""},
    {S("\f"), "\"\\f\""},
    {S("\r"), "\"\\r\""},
    {S("\""), "\"\\\"\""},
    {S("\\"), "\"\\\\\""},
    {S("/"), "\"/\""},
    {S("\x7f"), "\"\x7f\""},
    {S(" ~"), "\" ~\""},
    {S("\xc2\x80"), "\"\xc2\x80\""},
    {S("\xe2\x80\xa8"), "\"\xe2\x80\xa8\""},
    {S("\xef\xbf\xbf"), "\"\xef\xbf\xbf\""},
    {S("a\"b\\c/d\te\x1b"), "\"a\\\"b\\\\c/d\\te\\u001b\""},
};

/* Invalid UTF-8 that must not reach the output, as a string or a key. */
static const struct esc bad_utf8[] = {
    {S("\xff"), NULL},
    {S("\xc0\x80"), NULL},
    {S("\xed\xa0\x80"), NULL},
    {S("\xf4\x90\x80\x80"), NULL},
    {S("ok\xe2\x82"), NULL},
    {S("\x80"), NULL},
};

struct keypair {
    const char *lo;
    const char *hi;
};

/* lo sorts before hi when compared as UTF-16 code units. */
static const struct keypair key_pairs[] = {
    {"", "a"},
    {"a", "ab"},
    {"A", "a"},
    {"1", "A"},
    {"10", "9"},
    {"\x7f", "\xc2\x80"},
    {"\xed\x9f\xbf", "\xf0\x90\x80\x80"},      /* U+D7FF, U+10000 */
    {"\xf0\x90\x80\x80", "\xee\x80\x80"},      /* U+10000, U+E000 */
    {"\xf0\x9f\x98\x80", "\xef\xbf\xbf"},      /* U+1F600, U+FFFF */
    {"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x81"},
};

struct inum {
    json_int_t v;
    const char *want;
};

/* Integers are numbers in RFC 8785, so large ones print as the double
 * they round to. */
static const struct inum ints[] = {
    {0, "0"},
    {1, "1"},
    {-1, "-1"},
    {42, "42"},
    {9007199254740991LL, "9007199254740991"},
    {-9007199254740991LL, "-9007199254740991"},
    {9007199254740992LL, "9007199254740992"},
    {9007199254740993LL, "9007199254740992"},
    {123456789012345678LL, "123456789012345680"},
    {1000000000000000000LL, "1000000000000000000"},
    {INT64_MAX, "9223372036854776000"},
    {INT64_MIN, "-9223372036854776000"},
};

struct dnum {
    uint64_t bits;
    const char *want;
};

/* RFC 8785 appendix B, plus the edges of the three output forms. */
static const struct dnum doubles[] = {
    {0x0000000000000000ull, "0"},
    {0x8000000000000000ull, "0"},
    {0x0000000000000001ull, "5e-324"},
    {0x8000000000000001ull, "-5e-324"},
    {0x7fefffffffffffffull, "1.7976931348623157e+308"},
    {0xffefffffffffffffull, "-1.7976931348623157e+308"},
    {0x4340000000000000ull, "9007199254740992"},
    {0xc340000000000000ull, "-9007199254740992"},
    {0x4430000000000000ull, "295147905179352830000"},
    {0x44b52d02c7e14af5ull, "9.999999999999997e+22"},
    {0x44b52d02c7e14af6ull, "1e+23"},
    {0x44b52d02c7e14af7ull, "1.0000000000000001e+23"},
    {0x444b1ae4d6e2ef4eull, "999999999999999700000"},
    {0x444b1ae4d6e2ef4full, "999999999999999900000"},
    {0x444b1ae4d6e2ef50ull, "1e+21"},
    {0x3eb0c6f7a0b5ed8cull, "9.999999999999997e-7"},
    {0x3eb0c6f7a0b5ed8dull, "0.000001"},
    {0x41b3de4355555553ull, "333333333.3333332"},
    {0x41b3de4355555554ull, "333333333.33333325"},
    {0x41b3de4355555555ull, "333333333.3333333"},
    {0x41b3de4355555556ull, "333333333.3333334"},
    {0x41b3de4355555557ull, "333333333.33333343"},
    {0xbecbf647612f3696ull, "-0.0000033333333333333333"},
    {0x43143ff3c1cb0959ull, "1424953923781206.2"},
};

struct dlit {
    double d;
    const char *want;
};

static const struct dlit literals[] = {
    {1e21, "1e+21"},
    {1e20, "100000000000000000000"},
    {123456789012345680000.0, "123456789012345680000"},
    {1.2e21, "1.2e+21"},
    {0.000001, "0.000001"},
    {1e-7, "1e-7"},
    {-1.5e-7, "-1.5e-7"},
    {5e-324, "5e-324"},
    {1.7976931348623157e308, "1.7976931348623157e+308"},
    {2.2250738585072014e-308, "2.2250738585072014e-308"},
    {1.0000000000000002, "1.0000000000000002"},
    {123e-20, "1.23e-18"},
    {0.1, "0.1"},
    {0.5, "0.5"},
    {1.5, "1.5"},
    {4.35, "4.35"},
    {100.0, "100"},
    {-42.0, "-42"},
};

static void read_all(const char *path, struct buf *out)
{
    char chunk[4096];
    size_t n;
    FILE *f = fopen(path, "rb");

    ck_assert_msg(f != NULL, "cannot open %s", path);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        ck_assert_int_eq(buf_append(out, chunk, n), 0);
    }
    ck_assert_int_eq(ferror(f), 0);
    fclose(f);
}

/* Reference vector i: its input and its canonical output, appended. */
static void read_vector(size_t i, struct buf *in, struct buf *want)
{
    char path[4096];

    snprintf(path, sizeof(path), "%s/%s.input.json", KEST_SHARED_JCS,
             vectors[i]);
    read_all(path, in);
    snprintf(path, sizeof(path), "%s/%s.output.json", KEST_SHARED_JCS,
             vectors[i]);
    read_all(path, want);
}

static double from_bits(uint64_t bits)
{
    double d;

    memcpy(&d, &bits, sizeof(d));
    return d;
}

/* Canonical form of v, which must succeed; the caller frees. */
static char *encode_ok(const json_t *v)
{
    struct buf b;

    buf_init(&b);
    ck_assert_int_eq(jcs_encode(&b, v), 0);
    return buf_steal(&b);
}

START_TEST(test_jcs_encode_rfc8785_vectors)
{
    struct buf in, want, got;
    json_error_t err;
    json_t *v;

    buf_init(&in);
    buf_init(&want);
    buf_init(&got);
    read_vector((size_t)_i, &in, &want);
    v = json_loadb((char *)in.data, in.len, JSON_DECODE_ANY, &err);
    ck_assert_msg(v != NULL, "%s: %s", vectors[_i], err.text);
    ck_assert_int_eq(jcs_encode(&got, v), 0);
    ck_assert_msg(got.len == want.len &&
                      memcmp(got.data, want.data, got.len) == 0,
                  "%s: got %s", vectors[_i], (char *)got.data);
    json_decref(v);
    buf_cleanup(&in);
    buf_cleanup(&want);
    buf_cleanup(&got);
}
END_TEST

START_TEST(test_jcs_encode_key_order_rfc8785)
{
    /* RFC 8785 section 3.2.3, plus "a" and U+00E9. */
    static const char in[] =
        "{\"\\u20ac\":\"Euro Sign\",\"\\r\":\"Carriage Return\","
        "\"\\ufb33\":\"Hebrew Letter Dalet With Dagesh\",\"1\":\"One\","
        "\"\\ud83d\\ude00\":\"Emoji: Grinning Face\","
        "\"\\u0080\":\"Control\",\"a\":\"Letter a\","
        "\"\\u00f6\":\"Latin Small Letter O With Diaeresis\","
        "\"\\u00e9\":\"e acute\"}";
    static const char want[] =
        "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"a\":\"Letter a\","
        "\"\xc2\x80\":\"Control\",\"\xc3\xa9\":\"e acute\","
        "\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\","
        "\"\xe2\x82\xac\":\"Euro Sign\","
        "\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\","
        "\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}";
    json_t *v = json_loads(in, 0, NULL);
    char *got;

    ck_assert_ptr_nonnull(v);
    got = encode_ok(v);
    ck_assert_str_eq(got, want);
    free(got);
    json_decref(v);
}
END_TEST

START_TEST(test_jcs_encode_key_order_pairs)
{
    const struct keypair *p = &key_pairs[_i];
    json_t *v = json_object();
    char want[128];
    char *got;

    /* Insert the larger key first so that insertion order cannot pass. */
    ck_assert_int_eq(json_object_set_new(v, p->hi, json_integer(1)), 0);
    ck_assert_int_eq(json_object_set_new(v, p->lo, json_integer(2)), 0);
    snprintf(want, sizeof(want), "{\"%s\":2,\"%s\":1}", p->lo, p->hi);
    got = encode_ok(v);
    ck_assert_str_eq(got, want);
    free(got);
    json_decref(v);
}
END_TEST

START_TEST(test_jcs_encode_string_escapes)
{
    const struct esc *e = &escapes[_i];
    json_t *v = json_stringn(e->in, e->n);
    char *got;

    ck_assert_ptr_nonnull(v);
    got = encode_ok(v);
    ck_assert_str_eq(got, e->want);
    free(got);
    json_decref(v);
}
END_TEST

START_TEST(test_jcs_encode_key_escapes)
{
    const struct esc *e = &escapes[_i];
    json_t *v = json_object();
    char want[64];
    char *got;

    ck_assert_int_eq(json_object_setn(v, e->in, e->n, json_null()), 0);
    snprintf(want, sizeof(want), "{%s:null}", e->want);
    got = encode_ok(v);
    ck_assert_str_eq(got, want);
    free(got);
    json_decref(v);
}
END_TEST

START_TEST(test_jcs_encode_rejects_bad_utf8_string)
{
    const struct esc *e = &bad_utf8[_i];
    json_t *v = json_pack("[i,{s:[o]}]", 1, "k",
                          json_stringn_nocheck(e->in, e->n));
    struct buf b;

    ck_assert_ptr_nonnull(v);
    buf_init(&b);
    ck_assert_int_eq(jcs_encode(&b, v), -EINVAL);
    buf_cleanup(&b);
    json_decref(v);
}
END_TEST

START_TEST(test_jcs_encode_rejects_bad_utf8_key)
{
    const struct esc *e = &bad_utf8[_i];
    json_t *inner = json_object();
    json_t *v = json_object();
    struct buf b;

    ck_assert_int_eq(json_object_setn_nocheck(inner, e->in, e->n,
                                              json_true()), 0);
    ck_assert_int_eq(json_object_set_new(v, "ok", inner), 0);
    buf_init(&b);
    ck_assert_int_eq(jcs_encode(&b, v), -EINVAL);
    buf_cleanup(&b);
    json_decref(v);
}
END_TEST

START_TEST(test_jcs_encode_integers)
{
    json_t *v = json_integer(ints[_i].v);
    char *got;

    got = encode_ok(v);
    ck_assert_str_eq(got, ints[_i].want);
    free(got);
    json_decref(v);
}
END_TEST

START_TEST(test_jcs_encode_literals_and_nesting)
{
    json_t *v = json_loads("[null,true,false,{},[],{\"b\":[{\"d\":0,"
                           "\"c\":-0.0}],\"a\":\"\"},-0.0,1E2,2.50]",
                           0, NULL);
    struct buf b;

    ck_assert_ptr_nonnull(v);
    buf_init(&b);
    /* Output is appended after what the buffer holds. */
    ck_assert_int_eq(buf_puts(&b, ">"), 0);
    ck_assert_int_eq(jcs_encode(&b, v), 0);
    ck_assert_str_eq((char *)b.data, ">[null,true,false,{},[],{\"a\":\"\","
                     "\"b\":[{\"c\":0,\"d\":0}]},0,100,2.5]");
    buf_cleanup(&b);
    json_decref(v);
}
END_TEST

START_TEST(test_jcs_number_rfc8785_bits)
{
    struct buf b;

    buf_init(&b);
    ck_assert_int_eq(jcs_number(&b, from_bits(doubles[_i].bits)), 0);
    ck_assert_str_eq((char *)b.data, doubles[_i].want);
    buf_cleanup(&b);
}
END_TEST

START_TEST(test_jcs_number_literals)
{
    struct buf b;

    buf_init(&b);
    ck_assert_int_eq(jcs_number(&b, literals[_i].d), 0);
    ck_assert_str_eq((char *)b.data, literals[_i].want);
    buf_cleanup(&b);
}
END_TEST

START_TEST(test_jcs_number_rejects_nonfinite)
{
    const double bad[] = {NAN, -NAN, INFINITY, -INFINITY};
    struct buf b;

    buf_init(&b);
    ck_assert_int_eq(jcs_number(&b, bad[_i]), -EINVAL);
    ck_assert_uint_eq(b.len, 0);
    buf_cleanup(&b);
}
END_TEST

START_TEST(test_jcs_number_roundtrip)
{
    uint64_t bits = 0x9e3779b97f4a7c15ull * (uint64_t)(_i + 1);
    double d;
    struct buf b;

    /* Whatever the form, the text must read back as the same double. */
    bits ^= bits >> 29;
    d = from_bits(bits);
    if (!isfinite(d)) {
        d = from_bits(bits & 0x3fffffffffffffffull);
    }
    buf_init(&b);
    ck_assert_int_eq(jcs_number(&b, d), 0);
    ck_assert_msg(strtod((char *)b.data, NULL) == d || d == 0,
                  "%s does not read back", (char *)b.data);
    ck_assert_ptr_null(strchr((char *)b.data, 'E'));
    buf_cleanup(&b);
}
END_TEST

/* Canonical texts jcs_check must accept as they are. */
static const char *const canonical[] = {
    "{}",
    "[]",
    "0",
    "-1",
    "\"\"",
    "null",
    "[true,false,null]",
    "{\"\":0}",
    "{\"a\":{\"b\":[1,{}]},\"b\":[]}",
    "\"\\u0000\\u001f\\b\\t\\n\\f\\r\\\"\\\\/\x7f\"",
    "{\"\\n\":1,\"\\\"\":2,\"\\\\\":3}",
    "{\"\xf0\x9f\x98\x80\":1,\"\xee\x80\x80\":2}", /* U+1F600, U+E000 */
    "{\"\xe2\x82\xac\":1,\"\xf0\x9f\x98\x80\":2}", /* U+20AC, U+1F600 */
    "1e+21",
    "100000000000000000000",
    "-5e-324",
    "0.000001",
    "1e-7",
    "9007199254740992",
    "1152921504606847000",
    "999999999999999",
    "-999999999999999",
    "[1.5,-0.5,333333333.3333333]",
};

/* Not canonical, one way each. */
static const char *const noncanonical[] = {
    "",
    " {}",
    "{} ",
    "{}\n",
    "{\"a\": 1}",
    "{\"a\" :1}",
    "[1, 2]",
    "{\"b\":1,\"a\":2}",
    "{\"a\":1,\"a\":1}",
    "{\"a\":{\"d\":1,\"c\":2}}",
    "{\"ab\":1,\"a\":2}",
    "{\"\xee\x80\x80\":1,\"\xf0\x9f\x98\x80\":2}", /* U+E000, U+1F600 */
    "{\"\\n\":1,\"\\n\":2}",
    "{\"\\\\\":1,\"\\\"\":2}",
    "\"\\u0041\"",
    "\"\\/\"",
    "\"\\u001F\"",
    "\"\\u000a\"",
    "\"\\u007f\"",
    "\"\\u00e9\"",
    "\"\\ud800\"",
    "\"\\ud83d\\ude00\"",
    "\"\\x\"",
    "\"\\",
    "\"\x01\"",
    "\"\t\"",
    "\"\xff\"",
    "\"\xc0\x80\"",
    "\"\xed\xa0\x80\"",
    "\"\xf4\x90\x80\x80\"",
    "\"ok\xe2\x82\"",
    "\"\x80\"",
    "{\"\xff\":1}",
    "1.0",
    "1e2",
    "1E+21",
    "1e21",
    "-0",
    "-0.0",
    "01",
    "-01",
    "00",
    "0.10",
    ".5",
    "+1",
    "1.",
    "-",
    "1e",
    "1e+",
    "9007199254740993",
    "123456789012345678",
    "1000000000000000000000",
    "NaN",
    "Infinity",
    "{}x",
    "{}{}",
    "[]]",
    "\"a\"b",
    "truex",
    "nul",
    "True",
    "[1,]",
    "{\"a\":1,}",
    "{,}",
    "[,1]",
    "{\"a\"}",
    "{\"a\":}",
    "{1:2}",
    "[1:2]",
    "{\"a\":1]",
    "[1}",
    "\"\\u0000",
};

static bool encodes_to_itself(const char *text, size_t n)
{
    json_t *v = json_loadb(text, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    struct buf b;
    bool same;

    if (v == NULL) {
        return false;
    }
    buf_init(&b);
    same = jcs_encode(&b, v) == 0 && b.len == n &&
           memcmp(b.data, text, n) == 0;
    buf_cleanup(&b);
    json_decref(v);
    return same;
}

/* jcs_check must agree with "parse, encode, compare" on any text
 * jansson reads; -E2BIG aside. */
static void check_agrees(const char *text, size_t n)
{
    int rc = jcs_check(text, n);
    json_t *v = json_loadb(text, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);

    if (rc != -E2BIG && v != NULL) {
        ck_assert_msg((rc == 0) == encodes_to_itself(text, n),
                      "jcs_check %d on %.*s", rc, (int)n, text);
    }
    json_decref(v);
}

static void check_encoded(const json_t *v)
{
    char *text = encode_ok(v);

    ck_assert_msg(jcs_check(text, strlen(text)) == 0, "rejects %s", text);
    free(text);
}

START_TEST(test_jcs_check_rfc8785_vectors)
{
    struct buf in, want;
    json_t *v;

    buf_init(&in);
    buf_init(&want);
    read_vector((size_t)_i, &in, &want);
    ck_assert_int_eq(jcs_check((char *)want.data, want.len), 0);
    ck_assert_int_eq(jcs_check((char *)in.data, in.len), -EINVAL);
    v = json_loadb((char *)in.data, in.len, JSON_DECODE_ANY, NULL);
    ck_assert_ptr_nonnull(v);
    check_encoded(v);
    json_decref(v);
    buf_cleanup(&in);
    buf_cleanup(&want);
}
END_TEST

/* Every output of the encoder tests above passes the check. */
START_TEST(test_jcs_check_encoder_outputs)
{
    json_t *v = json_array();
    json_t *o = json_object();
    size_t i;

    for (i = 0; i < NELEM(escapes); i++) {
        json_array_append_new(v, json_stringn(escapes[i].in, escapes[i].n));
        json_object_setn_new(o, escapes[i].in, escapes[i].n,
                             json_integer((json_int_t)i));
    }
    for (i = 0; i < NELEM(key_pairs); i++) {
        json_object_set_new(o, key_pairs[i].lo, json_true());
        json_object_set_new(o, key_pairs[i].hi, json_false());
    }
    for (i = 0; i < NELEM(ints); i++) {
        json_array_append_new(v, json_integer(ints[i].v));
    }
    for (i = 0; i < NELEM(doubles); i++) {
        json_array_append_new(v, json_real(from_bits(doubles[i].bits)));
    }
    for (i = 0; i < NELEM(literals); i++) {
        json_array_append_new(v, json_real(literals[i].d));
    }
    for (i = 0; i < 200; i++) {
        uint64_t bits = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1);
        double d = from_bits(bits ^ bits >> 29);

        json_array_append_new(v, json_real(isfinite(d) ? d : 1.5));
    }
    json_array_append_new(v, o);
    check_encoded(v);
    for (i = 0; i < json_array_size(v); i++) {
        check_encoded(json_array_get(v, i));
    }
    json_decref(v);
}
END_TEST

START_TEST(test_jcs_check_accepts)
{
    const char *t = canonical[_i];

    ck_assert_msg(jcs_check(t, strlen(t)) == 0, "rejects %s", t);
    ck_assert_msg(encodes_to_itself(t, strlen(t)) ||
                      strcmp(t, "100000000000000000000") == 0,
                  "the encoder does not write %s", t);
}
END_TEST

START_TEST(test_jcs_check_rejects)
{
    const char *t = noncanonical[_i];

    ck_assert_msg(jcs_check(t, strlen(t)) == -EINVAL, "accepts %s", t);
    ck_assert(!encodes_to_itself(t, strlen(t)));
}
END_TEST

/* Each prefix of a document is cut short: none is canonical. */
START_TEST(test_jcs_check_truncated)
{
    static const char doc[] =
        "{\"a\":[1,-2.5,\"x\\n\\u0001\xc3\xa9\",true,false,null,{}],"
        "\"b\":{\"c\":\"\xf0\x9f\x98\x80\"},\"d\":1e+21}";
    size_t n;

    ck_assert_int_eq(jcs_check(doc, sizeof(doc) - 1), 0);
    for (n = 0; n < sizeof(doc) - 1; n++) {
        ck_assert_msg(jcs_check(doc, n) == -EINVAL, "accepts %.*s", (int)n,
                      doc);
    }
}
END_TEST

/* Deleting, doubling or replacing any one byte of canonical text
 * leaves the check in agreement with parse, encode and compare. */
START_TEST(test_jcs_check_mutations)
{
    static const char subst[] = " \"\\,:0159.eE+-{}[]atu\x7f\x80\xc3\xee";
    const char *t = _i < (int)NELEM(canonical) ? canonical[_i]
                    : "{\"a\":[1,-2.5,\"x\\n\xc3\xa9\"],\"b\":{\"c\":0}}";
    size_t n = strlen(t);
    char m[256];
    size_t i, k;

    ck_assert_uint_lt(n + 1, sizeof(m));
    for (i = 0; i < n; i++) {
        memcpy(m, t, i);
        memcpy(m + i, t + i + 1, n - i - 1);
        check_agrees(m, n - 1);
        memcpy(m, t, i + 1);
        memcpy(m + i + 1, t + i, n - i);
        check_agrees(m, n + 1);
        for (k = 0; k < sizeof(subst) - 1; k++) {
            memcpy(m, t, n);
            m[i] = subst[k];
            check_agrees(m, n);
        }
    }
}
END_TEST

/* Nesting is bounded by JCS_MAX_DEPTH and takes no recursion: a deep
 * input is refused, not a stack overflow. */
START_TEST(test_jcs_check_depth)
{
    size_t big = 1000000;
    char *t = malloc(2 * big);
    size_t d;

    ck_assert_ptr_nonnull(t);
    for (d = JCS_MAX_DEPTH; d <= JCS_MAX_DEPTH + 1; d++) {
        memset(t, '[', d);
        memset(t + d, ']', d);
        ck_assert_int_eq(jcs_check(t, 2 * d),
                         d <= JCS_MAX_DEPTH ? 0 : -E2BIG);
    }
    memset(t, '[', big);
    memset(t + big, ']', big);
    ck_assert_int_eq(jcs_check(t, 2 * big), -E2BIG);
    ck_assert_int_eq(jcs_check(t, big), -E2BIG);
    free(t);
}
END_TEST

START_TEST(test_jcs_load_matches_jansson)
{
    static const char doc[] =
        "{\"\\n\\\"\":\"a\\u0000b\\t\xc3\xa9\",\"a\":[1,-2.5,1e+21,"
        "-9223372036854776000,true,false,null,{},[],\"\"],"
        "\"b\":{\"c\":\"\xf0\x9f\x98\x80\"}}";
    const char *t = _i < (int)NELEM(canonical) ? canonical[_i] : doc;
    json_t *want = json_loadb(t, strlen(t), JSON_DECODE_ANY |
                              JSON_ALLOW_NUL, NULL);
    json_t *got = NULL;
    int rc = jcs_load(t, strlen(t), &got);

    if (want == NULL) {
        /* 100000000000000000000: too big for json_int_t */
        ck_assert_int_eq(rc, -ERANGE);
        ck_assert_ptr_null(got);
        return;
    }
    ck_assert_int_eq(rc, 0);
    ck_assert_msg(json_equal(got, want), "differs for %s", t);
    ck_assert_int_eq(json_typeof(got), json_typeof(want));
    json_decref(got);
    json_decref(want);
}
END_TEST

START_TEST(test_jcs_load_rejects)
{
    static const char *const bad[] = {
        "{\"\\u0000\":1}", "[10000000000000000000]", "{\"a\":1,\"a\":2}",
        "[1.0]", "{\"a\" :1}",
    };
    static const int want[] = {-ERANGE, -ERANGE, -EINVAL, -EINVAL, -EINVAL};
    json_t *got = json_true();

    ck_assert_int_eq(jcs_load(bad[_i], strlen(bad[_i]), &got), want[_i]);
    ck_assert_ptr_null(got);
}
END_TEST

START_TEST(test_jcs_load_members_keeps)
{
    static const char doc[] =
        "{\"\\n\":[{\"j\":1}],\"a\":{\"b\":1,\"x\":[2]},"
        "\"b\":[1,{\"c\":\"]}\\\"\"}],\"c\":\"x\",\"d\":-1.5,"
        "\"e\":{\"f\":{\"g\":1,\"h\":2},\"i\":3}}";
    static const struct jcs_keep only_f[] = {{"f", NULL}, {NULL, NULL}};
    static const struct jcs_keep only_j[] = {{"k", NULL}, {NULL, NULL}};
    static const struct jcs_keep keep[] = {
        {"a", NULL}, {"d", NULL}, {"zz", NULL}, {"e", only_f},
        {"\n", only_j}, {NULL, NULL},
    };
    json_t *want = json_loads("{\"a\":{\"b\":1,\"x\":[2]},\"d\":-1.5,"
                              "\"e\":{\"f\":{\"g\":1,\"h\":2}},"
                              "\"\\n\":[{\"j\":1}]}", 0, NULL);
    json_t *got = NULL;

    ck_assert_ptr_nonnull(want);
    ck_assert_int_eq(jcs_load_members(doc, sizeof(doc) - 1, keep, &got), 0);
    ck_assert(json_equal(got, want));
    json_decref(got);
    /* Not an object: all of it. */
    ck_assert_int_eq(jcs_load_members("[1,{\"c\":2}]", 11, keep, &got), 0);
    ck_assert_uint_eq(json_array_size(got), 2);
    json_decref(got);
    json_decref(want);
}
END_TEST

/* What is not built is checked all the same. */
START_TEST(test_jcs_load_members_checks_the_rest)
{
    static const char *const bad[] = {
        "{\"a\":1,\"b\":10000000000000000000}",
        "{\"a\":1,\"b\":{\"\\u0000\":1}}",
        "{\"a\":1,\"b\":[1.0]}",
        "{\"a\":1,\"b\":{\"y\":1,\"x\":2}}",
    };
    static const int want[] = {-ERANGE, -ERANGE, -EINVAL, -EINVAL};
    static const struct jcs_keep keep[] = {{"a", NULL}, {NULL, NULL}};
    json_t *got = json_true();

    ck_assert_int_eq(jcs_load_members(bad[_i], strlen(bad[_i]), keep, &got),
                     want[_i]);
    ck_assert_ptr_null(got);
}
END_TEST

static Suite *jcs_suite(void)
{
    Suite *s = suite_create("jcs");
    TCase *tc;

    tc = tcase_create("jcs_encode");
    tcase_add_loop_test(tc, test_jcs_encode_rfc8785_vectors, 0,
                        NELEM(vectors));
    tcase_add_test(tc, test_jcs_encode_key_order_rfc8785);
    tcase_add_loop_test(tc, test_jcs_encode_key_order_pairs, 0,
                        NELEM(key_pairs));
    tcase_add_loop_test(tc, test_jcs_encode_string_escapes, 0,
                        NELEM(escapes));
    tcase_add_loop_test(tc, test_jcs_encode_key_escapes, 0, NELEM(escapes));
    tcase_add_loop_test(tc, test_jcs_encode_rejects_bad_utf8_string, 0,
                        NELEM(bad_utf8));
    tcase_add_loop_test(tc, test_jcs_encode_rejects_bad_utf8_key, 0,
                        NELEM(bad_utf8));
    tcase_add_loop_test(tc, test_jcs_encode_integers, 0, NELEM(ints));
    tcase_add_test(tc, test_jcs_encode_literals_and_nesting);
    suite_add_tcase(s, tc);

    tc = tcase_create("jcs_number");
    tcase_add_loop_test(tc, test_jcs_number_rfc8785_bits, 0,
                        NELEM(doubles));
    tcase_add_loop_test(tc, test_jcs_number_literals, 0, NELEM(literals));
    tcase_add_loop_test(tc, test_jcs_number_rejects_nonfinite, 0, 4);
    tcase_add_loop_test(tc, test_jcs_number_roundtrip, 0, 200);
    suite_add_tcase(s, tc);

    tc = tcase_create("jcs_check");
    tcase_add_loop_test(tc, test_jcs_check_rfc8785_vectors, 0,
                        NELEM(vectors));
    tcase_add_test(tc, test_jcs_check_encoder_outputs);
    tcase_add_loop_test(tc, test_jcs_check_accepts, 0, NELEM(canonical));
    tcase_add_loop_test(tc, test_jcs_check_rejects, 0, NELEM(noncanonical));
    tcase_add_test(tc, test_jcs_check_truncated);
    tcase_add_loop_test(tc, test_jcs_check_mutations, 0,
                        NELEM(canonical) + 1);
    tcase_add_test(tc, test_jcs_check_depth);
    suite_add_tcase(s, tc);

    tc = tcase_create("jcs_load");
    tcase_add_loop_test(tc, test_jcs_load_matches_jansson, 0,
                        NELEM(canonical) + 1);
    tcase_add_loop_test(tc, test_jcs_load_rejects, 0, 5);
    suite_add_tcase(s, tc);

    tc = tcase_create("jcs_load_members");
    tcase_add_test(tc, test_jcs_load_members_keeps);
    tcase_add_loop_test(tc, test_jcs_load_members_checks_the_rest, 0, 4);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(jcs_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
