/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for providers/sigv4: the AWS documentation's derived-key
 * example and requests whose every step botocore 1.29.27 computed
 * (tests/doubles/aws_api.py vector prints them). */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/record.h"
#include "providers/sigv4.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char secret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

static const struct sigv4_header sts_hdrs[] = {
    {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
    {"Host", "sts.us-east-1.amazonaws.com"},
    {"X-Amz-Date", "20150830T123600Z"},
};
static const char sts_body[] = "Action=GetCallerIdentity&Version=2011-06-15";

/* Unsorted, mixed case, a session token with +/= and a value whose
 * spaces must be trimmed and folded. */
static const struct sigv4_header kms_hdrs[] = {
    {"X-Custom", "  a   b  c "},
    {"x-amz-target", "TrentService.Sign"},
    {"Host", "127.0.0.1:8080"},
    {"X-Amz-Security-Token", "tok+/=en"},
    {"content-type", "application/x-amz-json-1.1"},
    {"X-Amz-Date", "20240229T235959Z"},
};
static const char kms_body[] = "{\"KeyId\":\"k\"}";

struct vec {
    struct sigv4_req req;
    const char *canonical;
    const char *to_sign;
    const char *signature;
};

static const struct vec vecs[] = {
    {{"POST", "/", NULL, sts_hdrs, NELEM(sts_hdrs), sts_body,
      sizeof(sts_body) - 1, "20150830T123600Z", "us-east-1", "sts",
      "AKIDEXAMPLE", secret},
     "POST\n/\n\n"
     "content-type:application/x-www-form-urlencoded; charset=utf-8\n"
     "host:sts.us-east-1.amazonaws.com\n"
     "x-amz-date:20150830T123600Z\n\n"
     "content-type;host;x-amz-date\n"
     "ab821ae955788b0e33ebd34c208442ccfc2d406e2edc5e7a39bd6458fbb4f843",
     "AWS4-HMAC-SHA256\n20150830T123600Z\n"
     "20150830/us-east-1/sts/aws4_request\n"
     "74f85d64795bc5f30af8b92378344f5c25c0d305498fca44ea38f6a5a1d5860f",
     "52a8540fea00e731072179f763577cbe2a45eac2c5d32fb4d785f3eefac88165"},
    {{"POST", "/", NULL, kms_hdrs, NELEM(kms_hdrs), kms_body,
      sizeof(kms_body) - 1, "20240229T235959Z", "eu-west-1", "kms",
      "AKIDEXAMPLE", secret},
     "POST\n/\n\n"
     "content-type:application/x-amz-json-1.1\n"
     "host:127.0.0.1:8080\n"
     "x-amz-date:20240229T235959Z\n"
     "x-amz-security-token:tok+/=en\n"
     "x-amz-target:TrentService.Sign\n"
     "x-custom:a b c\n\n"
     "content-type;host;x-amz-date;x-amz-security-token;x-amz-target;"
     "x-custom\n"
     "cd2f96c51b168539dbe79c2ceb0011c9f28f6e78135eaada501405be0c522c1a",
     "AWS4-HMAC-SHA256\n20240229T235959Z\n"
     "20240229/eu-west-1/kms/aws4_request\n"
     "63c0dab049b9e65ebcfa117b02fd6c0ef25fdb829017c0e93e60b39f3d213afc",
     "a734e7eba62cf02a680f5f59327d49d07f464d63473ac7a86a09196d21f49fca"},
};

static char *text(struct buf *b)
{
    ck_assert_int_eq(buf_putc(b, '\0'), 0);
    return (char *)b->data;
}

START_TEST(test_sigv4_signing_key_aws_example)
{
    /* "Examples of how to derive a signing key", AWS General Reference. */
    unsigned char k[32];
    char hex[65];

    ck_assert_int_eq(sigv4_signing_key(secret, "20120215", "us-east-1",
                                       "iam", k), 0);
    record_hex(k, 32, hex);
    ck_assert_str_eq(hex, "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1"
                          "a9e090d414db404d");
}
END_TEST

START_TEST(test_sigv4_canonical_request_botocore)
{
    struct buf b;

    buf_init(&b);
    ck_assert_int_eq(sigv4_canonical_request(&vecs[_i].req, &b), 0);
    ck_assert_str_eq(text(&b), vecs[_i].canonical);
    buf_cleanup(&b);
}
END_TEST

START_TEST(test_sigv4_string_to_sign_botocore)
{
    struct buf b;

    buf_init(&b);
    ck_assert_int_eq(sigv4_string_to_sign(&vecs[_i].req, vecs[_i].canonical,
                                          &b), 0);
    ck_assert_str_eq(text(&b), vecs[_i].to_sign);
    buf_cleanup(&b);
}
END_TEST

START_TEST(test_sigv4_authorization_botocore)
{
    const struct sigv4_req *r = &vecs[_i].req;
    struct buf b;
    char *a;

    buf_init(&b);
    ck_assert_int_eq(sigv4_authorization(r, &b), 0);
    a = text(&b);
    ck_assert_ptr_nonnull(strstr(a, vecs[_i].signature));
    ck_assert_int_eq(strncmp(a, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/",
                             40), 0);
    ck_assert_ptr_nonnull(strstr(a, "/aws4_request, SignedHeaders="));
    buf_cleanup(&b);
}
END_TEST

START_TEST(test_sigv4_authorization_wrong_secret)
{
    struct sigv4_req r = vecs[0].req;
    struct buf b;

    r.secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEz";
    buf_init(&b);
    ck_assert_int_eq(sigv4_authorization(&r, &b), 0);
    ck_assert_ptr_null(strstr(text(&b), vecs[0].signature));
    buf_cleanup(&b);
}
END_TEST

START_TEST(test_sigv4_authorization_body_changes_signature)
{
    struct sigv4_req r = vecs[0].req;
    struct buf b;

    r.body = "Action=GetCallerIdentity&Version=2011-06-16";
    buf_init(&b);
    ck_assert_int_eq(sigv4_authorization(&r, &b), 0);
    ck_assert_ptr_null(strstr(text(&b), vecs[0].signature));
    buf_cleanup(&b);
}
END_TEST

static const char *const bad_dates[] = {
    "", "20150830T123600", "20150830 123600Z", "2015083XT123600Z",
    "20150830T123600ZZ",
};

START_TEST(test_sigv4_canonical_request_bad_date)
{
    struct sigv4_req r = vecs[0].req;
    struct buf b;

    r.amz_date = bad_dates[_i];
    buf_init(&b);
    ck_assert_int_eq(sigv4_canonical_request(&r, &b), -EINVAL);
    buf_cleanup(&b);
}
END_TEST

START_TEST(test_sigv4_canonical_request_bad_headers)
{
    static const struct sigv4_header dup[] = {
        {"Host", "a"}, {"host", "b"},
    };
    static const struct sigv4_header crlf[] = {
        {"Host", "a\r\nX-Evil: 1"},
    };
    struct sigv4_req r = vecs[0].req;
    struct buf b;

    buf_init(&b);
    r.headers = dup;
    r.nheaders = NELEM(dup);
    ck_assert_int_eq(sigv4_canonical_request(&r, &b), -EINVAL);
    r.headers = crlf;
    r.nheaders = NELEM(crlf);
    ck_assert_int_eq(sigv4_canonical_request(&r, &b), -EINVAL);
    r.nheaders = 0;
    ck_assert_int_eq(sigv4_canonical_request(&r, &b), -EINVAL);
    buf_cleanup(&b);
}
END_TEST

START_TEST(test_sigv4_now_shape)
{
    char d[17];

    sigv4_now(d);
    ck_assert_uint_eq(strlen(d), 16);
    ck_assert_int_eq(d[8], 'T');
    ck_assert_int_eq(d[15], 'Z');
}
END_TEST

static Suite *sigv4_suite(void)
{
    Suite *s = suite_create("sigv4");
    TCase *tc;

    tc = tcase_create("sigv4_signing_key");
    tcase_add_test(tc, test_sigv4_signing_key_aws_example);
    suite_add_tcase(s, tc);

    tc = tcase_create("sigv4_canonical_request");
    tcase_add_loop_test(tc, test_sigv4_canonical_request_botocore, 0,
                        NELEM(vecs));
    tcase_add_loop_test(tc, test_sigv4_canonical_request_bad_date, 0,
                        NELEM(bad_dates));
    tcase_add_test(tc, test_sigv4_canonical_request_bad_headers);
    suite_add_tcase(s, tc);

    tc = tcase_create("sigv4_string_to_sign");
    tcase_add_loop_test(tc, test_sigv4_string_to_sign_botocore, 0,
                        NELEM(vecs));
    suite_add_tcase(s, tc);

    tc = tcase_create("sigv4_authorization");
    tcase_add_loop_test(tc, test_sigv4_authorization_botocore, 0,
                        NELEM(vecs));
    tcase_add_test(tc, test_sigv4_authorization_wrong_secret);
    tcase_add_test(tc, test_sigv4_authorization_body_changes_signature);
    suite_add_tcase(s, tc);

    tc = tcase_create("sigv4_now");
    tcase_add_test(tc, test_sigv4_now_shape);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(sigv4_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
