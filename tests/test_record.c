/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/record: UUIDv7, record hashes and JWS lines. */
#include <check.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "core/b64.h"
#include "core/ident.h"
#include "core/jcs.h"
#include "core/key.h"
#include "core/record.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* RFC 8037 appendix A.1, the key that signed tests/data/golden.jsonl. */
#define RFC8037_D "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"

/* An identity backed by a core/key, with switches for failures. */
struct tident {
    struct key *key;
    int fail; /* 1: header fails, 2: sign fails */
};

static const char *tid_principal(void *state)
{
    (void)state;
    return "urn:kest:test";
}

static int tid_header(void *state, json_t *hdr)
{
    struct tident *t = state;

    if (t->fail == 1) {
        return -EACCES;
    }
    if (json_object_set_new(hdr, "alg", json_string(key_alg(t->key))) ||
        json_object_set_new(hdr, "kid", json_string(key_kid(t->key)))) {
        return -ENOMEM;
    }
    return 0;
}

static int tid_sign(void *state, const void *msg, size_t n,
                    struct buf *sig)
{
    struct tident *t = state;

    if (t->fail == 2) {
        return -EIO;
    }
    return key_sign(t->key, msg, n, sig);
}

static const struct ident_ops tid_ops = {
    .name = "test",
    .principal = tid_principal,
    .header = tid_header,
    .sign = tid_sign,
};

static const enum key_type types[] = {KEY_ED25519, KEY_P256, KEY_RSA};

struct parts {
    const char *prot;
    const char *pay;
    const char *sig;
};

static const struct parts hash_cases[] = {
    {"a", "b", "c"},
    {"", "", ""},
    {"eyJhbGciOiJub25lIn0", "e30", ""},
    {"x", "", "y"},
};

/* Lines record_line_hash must refuse. */
static const char *const bad_lines[] = {
    "",
    "{}",
    "{\"payload\":{}}",
    "{\"payload\":{},\"protected\":\"e30\"}",
    "{\"payload\":{},\"signature\":\"\",\"protected\":\"e30\"}",
    "{\"protected\":\"e30\",\"payload\":{},\"signature\":\"\"}",
    "{\"payload\":{},\"protected\":\"e30\",\"signature\":\"\"}\n",
    " {\"payload\":{},\"protected\":\"e30\",\"signature\":\"\"}",
    "{\"payload\":{},\"protected\":\"e30\",\"signature\":\"\"} ",
    "{\"payload\":{},\"protected\":\"e30\",\"signature\":\"ab\" }",
    "{\"payload\":{},\"protected\":\"e3=0\",\"signature\":\"\"}",
    "{\"payload\":{},\"protected\":\"e30\",\"signature\":\"a+b\"}",
    "{\"payload\":{},\"protected\":\"e30\",\"signature\":\"a/b\"}",
    "{\"payload\":{},\"protected\":\"e 30\",\"signature\":\"\"}",
    "{\"payload\":,\"protected\":\"e30\",\"signature\":\"\"}",
    "{\"payload\":[],\"protected\":\"e30\",\"signature\":\"\"}",
    "{\"payload\":\"x\",\"protected\":\"e30\",\"signature\":\"\"}",
    "{\"payload\":{},\"protected\":\"e30\",\"signature\":\"\"",
};

static void sha256_hex(const char *s, size_t n, char out[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];

    SHA256((const unsigned char *)s, n, md);
    record_hex(md, sizeof(md), out);
}

static struct key *rfc8037_key(void)
{
    struct buf d;
    EVP_PKEY *pk;
    struct key *k = NULL;

    buf_init(&d);
    ck_assert_int_eq(b64url_decode(&d, RFC8037_D, strlen(RFC8037_D)), 0);
    pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, d.data,
                                      d.len);
    ck_assert_ptr_nonnull(pk);
    ck_assert_int_eq(key_from_pkey(pk, &k), 0);
    EVP_PKEY_free(pk);
    buf_wipe(&d);
    return k;
}

/* A payload with member names and strings that look like the line's own
 * separators. */
static json_t *tricky_payload(void)
{
    json_t *pl = json_pack("{s:s, s:s, s:i, s:[s,s], s:{s:s}}",
                           "operation", "exec",
                           "protected", "\",\"protected\":\"e30",
                           "seq", 7,
                           "argv", "\",\"signature\":\"", "caf\xc3\xa9",
                           "signature", "payload", "\"}");

    ck_assert_ptr_nonnull(pl);
    ck_assert_int_eq(json_object_set_new(pl, "nul",
                                         json_stringn("a\0b", 3)), 0);
    return pl;
}

/* Split a kest line into its three members, checking the layout. */
static void split_line(const struct buf *line, json_t **payload,
                       const char **prot, const char **sig, json_t **root)
{
    json_error_t err;
    struct buf canon;

    *root = json_loadb((char *)line->data, line->len,
                       JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
    ck_assert_msg(*root != NULL, "not JSON: %s", err.text);
    ck_assert_uint_eq(json_object_size(*root), 3);
    *payload = json_object_get(*root, "payload");
    *prot = json_string_value(json_object_get(*root, "protected"));
    *sig = json_string_value(json_object_get(*root, "signature"));
    ck_assert(json_is_object(*payload));
    ck_assert_ptr_nonnull(*prot);
    ck_assert_ptr_nonnull(*sig);
    /* The line is its own canonical form, members in RFC 8785 order. */
    buf_init(&canon);
    ck_assert_int_eq(jcs_encode(&canon, *root), 0);
    ck_assert_uint_eq(canon.len, line->len);
    ck_assert_mem_eq(canon.data, line->data, line->len);
    ck_assert_ptr_null(memchr(line->data, '\n', line->len));
    buf_cleanup(&canon);
}

/* prot "." base64url(JCS(payload)), the JWS signing input. */
static void signing_input(const char *prot, const json_t *payload,
                          struct buf *out)
{
    struct buf pay;

    buf_init(&pay);
    buf_init(out);
    ck_assert_int_eq(jcs_encode(&pay, payload), 0);
    ck_assert_int_eq(buf_puts(out, prot), 0);
    ck_assert_int_eq(buf_putc(out, '.'), 0);
    ck_assert_int_eq(b64url_encode(out, pay.data, pay.len), 0);
    buf_cleanup(&pay);
}

static void expect_header(const char *prot, const char *want)
{
    struct buf hdr;

    buf_init(&hdr);
    ck_assert_int_eq(b64url_decode(&hdr, prot, strlen(prot)), 0);
    ck_assert_str_eq((char *)hdr.data, want);
    buf_cleanup(&hdr);
}

static void read_lines(const char *path, char ***lines, size_t *n)
{
    FILE *f = fopen(path, "re");
    char *l = NULL;
    size_t cap = 0;
    ssize_t got;

    ck_assert_ptr_nonnull(f);
    *lines = NULL;
    *n = 0;
    while ((got = getline(&l, &cap, f)) > 0) {
        ck_assert_int_eq(l[got - 1], '\n');
        l[got - 1] = '\0';
        *lines = realloc(*lines, (*n + 1) * sizeof(**lines));
        ck_assert_ptr_nonnull(*lines);
        (*lines)[(*n)++] = strdup(l);
    }
    free(l);
    fclose(f);
}

START_TEST(test_record_uuid7_format)
{
    struct timeval before, after;
    uint64_t lo, hi, ms = 0;
    char u[37];
    int i;

    gettimeofday(&before, NULL);
    ck_assert_int_eq(record_uuid7(u), 0);
    gettimeofday(&after, NULL);
    ck_assert_uint_eq(strlen(u), 36);
    for (i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            ck_assert_int_eq(u[i], '-');
        } else {
            ck_assert_ptr_nonnull(strchr("0123456789abcdef", u[i]));
        }
    }
    ck_assert_int_eq(u[14], '7');
    ck_assert_ptr_nonnull(strchr("89ab", u[19]));
    /* The first 48 bits are the Unix time in milliseconds. */
    for (i = 0; i < 13; i++) {
        if (u[i] != '-') {
            ms = ms << 4 | (uint64_t)(strchr("0123456789abcdef", u[i]) -
                                      "0123456789abcdef");
        }
    }
    lo = (uint64_t)before.tv_sec * 1000 + (uint64_t)before.tv_usec / 1000;
    hi = (uint64_t)after.tv_sec * 1000 + (uint64_t)after.tv_usec / 1000;
    ck_assert_uint_ge(ms, lo);
    ck_assert_uint_le(ms, hi);
}
END_TEST

static int cmp_str(const void *a, const void *b)
{
    return strcmp(a, b);
}

START_TEST(test_record_uuid7_unique)
{
    enum { N = 2000 };
    static char ids[N][37];
    bool variants[4] = {false};
    int i;

    for (i = 0; i < N; i++) {
        ck_assert_int_eq(record_uuid7(ids[i]), 0);
        variants[strchr("89ab", ids[i][19]) - "89ab"] = true;
    }
    /* The random bits are random: all four variant nibbles turn up. */
    ck_assert(variants[0] && variants[1] && variants[2] && variants[3]);
    qsort(ids, N, sizeof(ids[0]), cmp_str);
    for (i = 1; i < N; i++) {
        ck_assert_str_ne(ids[i - 1], ids[i]);
    }
}
END_TEST

START_TEST(test_record_hex_lowercase)
{
    static const uint8_t in[] = {0x00, 0xff, 0x10, 0xab, 0x9c};
    char out[11];

    memset(out, 'X', sizeof(out));
    record_hex(in, sizeof(in), out);
    ck_assert_str_eq(out, "00ff10ab9c");
    record_hex(in, 0, out);
    ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_record_hash_parts_compact_jws)
{
    const struct parts *p = &hash_cases[_i];
    char joined[64];
    char want[65];
    char got[RECORD_HASH_HEX];
    int n;

    n = snprintf(joined, sizeof(joined), "%s.%s.%s", p->prot, p->pay,
                 p->sig);
    sha256_hex(joined, (size_t)n, want);
    ck_assert_int_eq(record_hash_parts(p->prot, strlen(p->prot), p->pay,
                                       strlen(p->pay), p->sig,
                                       strlen(p->sig), got), 0);
    ck_assert_str_eq(got, want);
}
END_TEST

START_TEST(test_record_hash_parts_lengths)
{
    char a[RECORD_HASH_HEX];
    char b[RECORD_HASH_HEX];

    /* Only the given lengths count, not what follows in memory. */
    ck_assert_int_eq(record_hash_parts("aXX", 1, "bYY", 1, "cZZ", 1, a), 0);
    ck_assert_int_eq(record_hash_parts("a", 1, "b", 1, "c", 1, b), 0);
    ck_assert_str_eq(a, b);
    ck_assert_int_eq(record_hash_parts("a", 1, "b", 1, "d", 1, b), 0);
    ck_assert_str_ne(a, b);
    ck_assert_int_eq(record_hash_parts("a.b", 3, "c", 1, "", 0, b), 0);
    ck_assert_str_ne(a, b);
}
END_TEST

START_TEST(test_record_seal_layout)
{
    struct tident t = {NULL, 0};
    struct ident id = {&tid_ops, &t};
    json_t *pl = tricky_payload();
    json_t *root, *got_pl;
    const char *prot, *sig;
    struct buf line, input, raw, want_hdr;
    char hash[RECORD_HASH_HEX];
    char want[65];

    ck_assert_int_eq(key_generate(types[_i], &t.key), 0);
    buf_init(&line);
    ck_assert_int_eq(buf_puts(&line, "stale contents"), 0);
    ck_assert_int_eq(record_seal(&id, pl, &line, hash), 0);
    ck_assert_int_eq(memcmp(line.data, "{\"payload\":{", 12), 0);
    split_line(&line, &got_pl, &prot, &sig, &root);
    ck_assert(json_equal(got_pl, pl));
    buf_init(&want_hdr);
    ck_assert_int_ge(buf_printf(&want_hdr, "{\"alg\":\"%s\",\"kid\":\"%s\","
                                "\"typ\":\"JWS\"}", key_alg(t.key),
                                key_kid(t.key)), 0);
    expect_header(prot, (char *)want_hdr.data);
    /* The signature is over the JWS signing input. */
    signing_input(prot, pl, &input);
    buf_init(&raw);
    ck_assert_int_eq(b64url_decode(&raw, sig, strlen(sig)), 0);
    ck_assert_int_eq(key_verify(t.key, key_alg(t.key), input.data,
                                input.len, raw.data, raw.len), 0);
    /* The hash is that of the compact serialization. */
    ck_assert_int_eq(buf_putc(&input, '.'), 0);
    ck_assert_int_eq(buf_puts(&input, sig), 0);
    sha256_hex((char *)input.data, input.len, want);
    ck_assert_str_eq(hash, want);
    ck_assert_int_eq(record_line_hash((char *)line.data, line.len, want),
                     0);
    ck_assert_str_eq(want, hash);
    json_decref(root);
    json_decref(pl);
    buf_cleanup(&line);
    buf_cleanup(&input);
    buf_cleanup(&raw);
    buf_cleanup(&want_hdr);
    key_free(t.key);
}
END_TEST

START_TEST(test_record_seal_golden)
{
    struct tident t = {rfc8037_key(), 0};
    struct ident id = {&tid_ops, &t};
    char prev[RECORD_HASH_HEX] = "0";
    char hash[RECORD_HASH_HEX];
    char head[80] = {0};
    char **lines;
    size_t n, i;
    struct buf line;
    FILE *f;

    read_lines(KEST_TESTDATA "/golden.jsonl", &lines, &n);
    ck_assert_uint_eq(n, 2);
    buf_init(&line);
    for (i = 0; i < n; i++) {
        json_t *root = json_loads(lines[i], 0, NULL);
        json_t *pl = json_object_get(root, "payload");

        ck_assert_str_eq(json_string_value(json_object_get(pl,
                                                           "log_prev")),
                         prev);
        ck_assert_int_eq(record_seal(&id, pl, &line, hash), 0);
        ck_assert_str_eq((char *)line.data, lines[i]);
        memcpy(prev, hash, sizeof(prev));
        json_decref(root);
        free(lines[i]);
    }
    f = fopen(KEST_TESTDATA "/golden.head", "re");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(head, sizeof(head), f));
    fclose(f);
    ck_assert_str_eq(hash, head);
    free(lines);
    buf_cleanup(&line);
    key_free(t.key);
}
END_TEST

START_TEST(test_record_seal_failures)
{
    struct tident t = {NULL, 0};
    struct ident id = {&tid_ops, &t};
    json_t *pl = json_pack("{s:s}", "operation", "exec");
    json_t *bad = json_object();
    struct buf line;
    char hash[RECORD_HASH_HEX];

    ck_assert_int_eq(key_generate(KEY_ED25519, &t.key), 0);
    buf_init(&line);
    t.fail = 1;
    ck_assert_int_eq(record_seal(&id, pl, &line, hash), -EACCES);
    t.fail = 2;
    ck_assert_int_eq(record_seal(&id, pl, &line, hash), -EIO);
    t.fail = 0;
    ck_assert_int_eq(json_object_set_new(bad, "argv",
                                         json_stringn_nocheck("\xff", 1)),
                     0);
    ck_assert_int_eq(record_seal(&id, bad, &line, hash), -EINVAL);
    ck_assert_int_eq(record_seal_unsigned(bad, &line, hash), -EINVAL);
    json_decref(pl);
    json_decref(bad);
    buf_cleanup(&line);
    key_free(t.key);
}
END_TEST

START_TEST(test_record_seal_unsigned_gap)
{
    json_t *pl = tricky_payload();
    json_t *root, *got_pl;
    const char *prot, *sig;
    struct buf line, input;
    char hash[RECORD_HASH_HEX];
    char want[65];

    buf_init(&line);
    ck_assert_int_eq(record_seal_unsigned(pl, &line, hash), 0);
    split_line(&line, &got_pl, &prot, &sig, &root);
    ck_assert(json_equal(got_pl, pl));
    expect_header(prot, "{\"alg\":\"none\"}");
    ck_assert_str_eq(sig, "");
    ck_assert_int_eq(memcmp(line.data + line.len - 16,
                            ",\"signature\":\"\"}", 16), 0);
    signing_input(prot, pl, &input);
    ck_assert_int_eq(buf_putc(&input, '.'), 0);
    sha256_hex((char *)input.data, input.len, want);
    ck_assert_str_eq(hash, want);
    ck_assert_int_eq(record_line_hash((char *)line.data, line.len, want),
                     0);
    ck_assert_str_eq(want, hash);
    json_decref(root);
    json_decref(pl);
    buf_cleanup(&line);
    buf_cleanup(&input);
}
END_TEST

START_TEST(test_record_line_hash_changes)
{
    json_t *pl = json_pack("{s:s}", "operation", "exec");
    char hash[RECORD_HASH_HEX];
    char other[RECORD_HASH_HEX];
    struct buf line;
    char *at;

    buf_init(&line);
    ck_assert_int_eq(record_seal_unsigned(pl, &line, hash), 0);
    at = strstr((char *)line.data, "exec");
    ck_assert_ptr_nonnull(at);
    at[3] = 'k';
    ck_assert_int_eq(record_line_hash((char *)line.data, line.len, other),
                     0);
    ck_assert_str_ne(other, hash);
    json_decref(pl);
    buf_cleanup(&line);
}
END_TEST

START_TEST(test_record_line_hash_rejects)
{
    char out[RECORD_HASH_HEX];

    ck_assert_msg(record_line_hash(bad_lines[_i], strlen(bad_lines[_i]),
                                   out) == -EINVAL,
                  "accepted %s", bad_lines[_i]);
}
END_TEST

static Suite *record_suite(void)
{
    Suite *s = suite_create("record");
    TCase *tc;

    tc = tcase_create("record_uuid7");
    tcase_add_test(tc, test_record_uuid7_format);
    tcase_add_test(tc, test_record_uuid7_unique);
    suite_add_tcase(s, tc);

    tc = tcase_create("record_hex");
    tcase_add_test(tc, test_record_hex_lowercase);
    suite_add_tcase(s, tc);

    tc = tcase_create("record_hash_parts");
    tcase_add_loop_test(tc, test_record_hash_parts_compact_jws, 0,
                        NELEM(hash_cases));
    tcase_add_test(tc, test_record_hash_parts_lengths);
    suite_add_tcase(s, tc);

    tc = tcase_create("record_seal");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_record_seal_layout, 0, NELEM(types));
    tcase_add_test(tc, test_record_seal_golden);
    tcase_add_test(tc, test_record_seal_failures);
    suite_add_tcase(s, tc);

    tc = tcase_create("record_seal_unsigned");
    tcase_add_test(tc, test_record_seal_unsigned_gap);
    suite_add_tcase(s, tc);

    tc = tcase_create("record_line_hash");
    tcase_add_test(tc, test_record_line_hash_changes);
    tcase_add_loop_test(tc, test_record_line_hash_rejects, 0,
                        NELEM(bad_lines));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(record_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
