/* SPDX-License-Identifier: Apache-2.0 */
/* Workload API client: endpoint addresses and response decoding. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "providers/pb.h"
#include "providers/wlapi.h"

static const struct {
    const char *in;
    int ok;
    const char *path; /* unix path, or base URL for tcp */
} addrs[] = {
    {"unix:///run/spire/agent/public/api.sock", 1,
     "/run/spire/agent/public/api.sock"},
    {"unix:/tmp/api.sock", 1, "/tmp/api.sock"},
    {"tcp://127.0.0.1:8081", 1, "http://127.0.0.1:8081"},
    {"tcp://[::1]:8081", 1, "http://[::1]:8081"},
    {"unix:relative/api.sock", 0, NULL},
    {"unix://", 0, NULL},
    {"unix://foo", 0, NULL},
    {"unix://foo/api.sock", 0, NULL},
    {"unix:///tmp/api.sock?x=1", 0, NULL},
    {"unix:///tmp/api.sock#frag", 0, NULL},
    {"tcp://host.example:8081", 0, NULL},
    {"tcp://1.2.3.4", 0, NULL},
    {"tcp://1.2.3.4:0", 0, NULL},
    {"tcp://1.2.3.4:70000", 0, NULL},
    {"tcp://1.2.3.4:80/path", 0, NULL},
    {"tcp://user@1.2.3.4:80", 0, NULL},
    {"http://1.2.3.4:80", 0, NULL},
    {"/tmp/api.sock", 0, NULL},
    {"", 0, NULL},
};

START_TEST(test_wlapi_addr_parse_table)
{
    struct wlapi_addr a;
    int rc = wlapi_addr_parse(addrs[_i].in, &a);

    if (!addrs[_i].ok) {
        ck_assert_msg(rc == -EINVAL, "accepted '%s'", addrs[_i].in);
        return;
    }
    ck_assert_msg(rc == 0, "rejected '%s'", addrs[_i].in);
    if (strncmp(addrs[_i].in, "unix:", 5) == 0) {
        ck_assert_str_eq(a.unix_path, addrs[_i].path);
    } else {
        ck_assert_str_eq(a.base_url, addrs[_i].path);
        ck_assert_str_eq(a.unix_path, "");
    }
}
END_TEST

/* An X509SVID message with the given id, certs and key bytes. */
static void svid(struct buf *out, const char *id, const char *certs,
                 const char *key)
{
    struct buf m;

    buf_init(&m);
    ck_assert_int_eq(pb_put_bytes(&m, 1, id, strlen(id)), 0);
    ck_assert_int_eq(pb_put_bytes(&m, 2, certs, strlen(certs)), 0);
    ck_assert_int_eq(pb_put_bytes(&m, 3, key, strlen(key)), 0);
    ck_assert_int_eq(pb_put_bytes(&m, 5, "hint", 4), 0);
    ck_assert_int_eq(pb_put_bytes(out, 1, m.data, m.len), 0);
    buf_cleanup(&m);
}

START_TEST(test_wlapi_parse_x509_pick)
{
    struct wlapi_x509 x;
    struct buf msg;

    buf_init(&msg);
    ck_assert_int_eq(pb_put_bytes(&msg, 2, "crl", 3), 0);
    svid(&msg, "spiffe://example.org/a", "CERTA", "KEYA");
    svid(&msg, "spiffe://example.org/b", "CERTB", "KEYB");
    /* An unknown varint field must be skipped, not rejected. */
    ck_assert_int_eq(buf_append(&msg, "\x38\x05", 2), 0);

    ck_assert_int_eq(wlapi_parse_x509(msg.data, msg.len, NULL, &x), 0);
    ck_assert_str_eq(x.spiffe_id, "spiffe://example.org/a");
    ck_assert_int_eq(x.certs.len, 5);
    ck_assert_int_eq(memcmp(x.key.data, "KEYA", 4), 0);
    wlapi_x509_cleanup(&x);

    ck_assert_int_eq(wlapi_parse_x509(msg.data, msg.len,
                                      "spiffe://example.org/b", &x), 0);
    ck_assert_str_eq(x.spiffe_id, "spiffe://example.org/b");
    ck_assert_int_eq(memcmp(x.certs.data, "CERTB", 5), 0);
    wlapi_x509_cleanup(&x);

    ck_assert_int_eq(wlapi_parse_x509(msg.data, msg.len,
                                      "spiffe://example.org/c", &x),
                     -ENOENT);
    buf_cleanup(&msg);
}
END_TEST

START_TEST(test_wlapi_parse_x509_malformed)
{
    static const struct {
        const char *bytes;
        size_t n;
    } bad[] = {
        {"\x0a\x05\x0a\x01", 4},   /* length past the end */
        {"\x0a\xff\xff\xff", 4},   /* truncated varint length */
        {"\x0b\x00", 2},           /* wire type 3 (group) */
        {"\x02\x00", 2},           /* field number 0 */
        {"\x0a\x00", 2},           /* an SVID with no id, certs or key */
    };
    struct wlapi_x509 x;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = wlapi_parse_x509((const uint8_t *)bad[i].bytes, bad[i].n,
                                  NULL, &x);

        ck_assert_msg(rc < 0, "case %zu accepted", i);
    }
    ck_assert_int_eq(wlapi_parse_x509((const uint8_t *)"", 0, NULL, &x),
                     -ENOENT);
}
END_TEST

START_TEST(test_wlapi_call_no_socket)
{
    struct wlapi_addr a;
    struct buf req, msg;

    buf_init(&req);
    buf_init(&msg);
    ck_assert_int_eq(wlapi_addr_parse("unix:///nonexistent/kest/api.sock",
                                      &a), 0);
    ck_assert_int_eq(wlapi_call(&a, "FetchX509SVID", &req, true, 1000,
                                &msg), -ENOENT);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("wlapi");
    TCase *tc = tcase_create("wlapi");
    SRunner *sr;
    int failed;

    tcase_add_loop_test(tc, test_wlapi_addr_parse_table, 0,
                        sizeof(addrs) / sizeof(addrs[0]));
    tcase_add_test(tc, test_wlapi_parse_x509_pick);
    tcase_add_test(tc, test_wlapi_parse_x509_malformed);
    tcase_add_test(tc, test_wlapi_call_no_socket);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
