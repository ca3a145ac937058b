/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for core/config: KEST_* variables, defaults and errors. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *const env_names[] = {
    "KEST_LOG",  "KEST_KEY",        "KEST_PRINCIPAL", "KEST_PROVIDER",
    "KEST_ENV_ALLOW", "KEST_HASH",  "KEST_QUIET",     "KEST_FAIL",
    "KEST_TIMEOUT_MS", "KEST_LOG_MODE", "XDG_STATE_HOME", "HOME",
    "KEST_AWS_SIGN", "KEST_AWS_KMS_KEY_ID", "AWS_REGION",
    "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN", "KEST_AGENTCORE_WORKLOAD",
};

struct setting {
    const char *name;
    const char *value;
};

static const struct setting good[] = {
    {"KEST_FAIL", "open"},        {"KEST_FAIL", "closed"},
    {"KEST_FAIL", ""},            {"KEST_TIMEOUT_MS", "1"},
    {"KEST_TIMEOUT_MS", "600000"}, {"KEST_TIMEOUT_MS", ""},
    {"KEST_LOG_MODE", "600"},     {"KEST_LOG_MODE", "0600"},
    {"KEST_LOG_MODE", "0640"},    {"KEST_LOG_MODE", "0664"},
    {"KEST_HASH", "1"},           {"KEST_HASH", "yes"},
    {"KEST_HASH", "true"},        {"KEST_HASH", "on"},
    {"KEST_HASH", "0"},           {"KEST_HASH", "no"},
    {"KEST_HASH", "false"},       {"KEST_HASH", "off"},
    {"KEST_QUIET", "1"},          {"KEST_QUIET", "off"},
    {"KEST_AWS_SIGN", "session"}, {"KEST_AWS_SIGN", "every"},
    {"KEST_AWS_SIGN", ""},
};

static const struct setting bad[] = {
    {"KEST_FAIL", "bogus"},
    {"KEST_FAIL", "CLOSED"},
    {"KEST_FAIL", "openx"},
    {"KEST_FAIL", "closed "},
    {"KEST_TIMEOUT_MS", "0"},
    {"KEST_TIMEOUT_MS", "-1"},
    {"KEST_TIMEOUT_MS", "600001"},
    {"KEST_TIMEOUT_MS", "abc"},
    {"KEST_TIMEOUT_MS", "10ms"},
    {"KEST_TIMEOUT_MS", "1e3"},
    {"KEST_TIMEOUT_MS", "99999999999999999999999"},
    {"KEST_LOG_MODE", "0400"},
    {"KEST_LOG_MODE", "0666"},
    {"KEST_LOG_MODE", "0200"},
    {"KEST_LOG_MODE", "0700"},
    {"KEST_LOG_MODE", "0777"},
    {"KEST_LOG_MODE", "-600"},
    {"KEST_LOG_MODE", "rw"},
    {"KEST_LOG_MODE", "9"},
    {"KEST_LOG_MODE", "0600x"},
    {"KEST_AWS_SIGN", "EVERY"},
    {"KEST_AWS_SIGN", "always"},
    {"KEST_HASH", "maybe"},
    {"KEST_HASH", "2"},
    {"KEST_QUIET", "loud"},
};

struct where {
    const char *xdg;
    const char *home;
    const char *want; /* NULL: /tmp/kest-UID.log */
};

static const struct where defaults[] = {
    {"/xdg", "/home/t", "/xdg/kest/kest.log"},
    {NULL, "/home/t", "/home/t/.local/state/kest/kest.log"},
    {"relative/xdg", "/home/t", "/home/t/.local/state/kest/kest.log"},
    {"", "/home/t", "/home/t/.local/state/kest/kest.log"},
    {"/xdg", NULL, "/xdg/kest/kest.log"},
    {NULL, NULL, NULL},
    {NULL, "relative/home", NULL},
    {"", "", NULL},
};

struct member {
    const char *list;
    const char *name;
    size_t n; /* 0: strlen(name) */
    bool want;
};

static const struct member members[] = {
    {"PATH,HOME,LANG", "HOME", 0, true},
    {"PATH,HOME,LANG", "PATH", 0, true},
    {"PATH,HOME,LANG", "LANG", 0, true},
    {"PATH,HOME,LANG", "TERM", 0, false},
    {"PATH,HOME,LANG", "HOM", 0, false},
    {"PATH,HOME,LANG", "HOMES", 0, false},
    {"PATH,HOME,LANG", "PATH,HOME", 0, false},
    {"HOME", "HOME=/root", 4, true},
    {"HOME", "HOME", 3, false},
    {"PATH,", "PATH", 0, true},
    {",PATH", "PATH", 0, true},
    {"", "PATH", 0, false},
    {NULL, "PATH", 0, false},
    {"path", "PATH", 0, false},
};

static void env_clear(void)
{
    size_t i;

    for (i = 0; i < NELEM(env_names); i++) {
        unsetenv(env_names[i]);
    }
    setenv("HOME", "/home/tester", 1);
}

static void set_or_unset(const char *name, const char *value)
{
    if (value != NULL) {
        ck_assert_int_eq(setenv(name, value, 1), 0);
    } else {
        ck_assert_int_eq(unsetenv(name), 0);
    }
}

static void expect_tmp_log(const char *got)
{
    char want[64];

    snprintf(want, sizeof(want), "/tmp/kest-%u.log", (unsigned)getuid());
    ck_assert_str_eq(got, want);
}

START_TEST(test_config_from_env_defaults)
{
    struct config c;

    ck_assert_int_eq(config_from_env(&c), 0);
    ck_assert_str_eq(c.log_path, "/home/tester/.local/state/kest/kest.log");
    ck_assert_ptr_null(c.key_path);
    ck_assert_ptr_null(c.principal);
    ck_assert_ptr_null(c.provider);
    ck_assert_ptr_null(c.env_allow);
    ck_assert(!c.fail_closed);
    ck_assert(c.hash_exe);
    ck_assert(!c.quiet);
    ck_assert_int_eq(c.timeout_ms, KEST_TIMEOUT_DEFAULT_MS);
    ck_assert_int_eq(c.timeout_ms, 3000);
    ck_assert_uint_eq(c.log_mode, 0600);
    config_cleanup(&c);
}
END_TEST

START_TEST(test_config_from_env_default_log)
{
    const struct where *w = &defaults[_i];
    struct config c;

    set_or_unset("XDG_STATE_HOME", w->xdg);
    set_or_unset("HOME", w->home);
    ck_assert_int_eq(config_from_env(&c), 0);
    if (w->want != NULL) {
        ck_assert_str_eq(c.log_path, w->want);
    } else {
        expect_tmp_log(c.log_path);
    }
    config_cleanup(&c);
}
END_TEST

START_TEST(test_config_from_env_values)
{
    struct config c;

    setenv("KEST_LOG", "/var/log/kest/x.log", 1);
    setenv("KEST_KEY", "/etc/kest/key.pem", 1);
    setenv("KEST_PRINCIPAL", "alice@example.org", 1);
    setenv("KEST_PROVIDER", "static", 1);
    setenv("KEST_ENV_ALLOW", "PATH,HOME", 1);
    setenv("KEST_FAIL", "closed", 1);
    setenv("KEST_HASH", "off", 1);
    setenv("KEST_QUIET", "yes", 1);
    setenv("KEST_TIMEOUT_MS", "250", 1);
    setenv("KEST_LOG_MODE", "0640", 1);
    ck_assert_int_eq(config_from_env(&c), 0);
    ck_assert_str_eq(c.log_path, "/var/log/kest/x.log");
    ck_assert_str_eq(c.key_path, "/etc/kest/key.pem");
    ck_assert_str_eq(c.principal, "alice@example.org");
    ck_assert_str_eq(c.provider, "static");
    ck_assert_str_eq(c.env_allow, "PATH,HOME");
    ck_assert(c.fail_closed);
    ck_assert(!c.hash_exe);
    ck_assert(c.quiet);
    ck_assert_int_eq(c.timeout_ms, 250);
    ck_assert_uint_eq(c.log_mode, 0640);
    config_cleanup(&c);
    ck_assert_ptr_null(c.log_path);
    ck_assert_ptr_null(c.key_path);
}
END_TEST

START_TEST(test_config_from_env_empty_is_unset)
{
    struct config c;

    setenv("KEST_LOG", "", 1);
    setenv("KEST_KEY", "", 1);
    setenv("KEST_PROVIDER", "", 1);
    setenv("KEST_HASH", "", 1);
    ck_assert_int_eq(config_from_env(&c), 0);
    ck_assert_str_eq(c.log_path, "/home/tester/.local/state/kest/kest.log");
    ck_assert_ptr_null(c.key_path);
    ck_assert_ptr_null(c.provider);
    ck_assert(c.hash_exe);
    config_cleanup(&c);
}
END_TEST

START_TEST(test_config_from_env_accepts)
{
    struct config c;

    ck_assert_int_eq(setenv(good[_i].name, good[_i].value, 1), 0);
    ck_assert_msg(config_from_env(&c) == 0, "%s=%s refused", good[_i].name,
                  good[_i].value);
    ck_assert_ptr_nonnull(c.log_path);
    config_cleanup(&c);
}
END_TEST

START_TEST(test_config_from_env_rejects)
{
    struct config c;

    ck_assert_int_eq(setenv(bad[_i].name, bad[_i].value, 1), 0);
    ck_assert_msg(config_from_env(&c) == -EINVAL, "%s=%s accepted",
                  bad[_i].name, bad[_i].value);
    /* Nothing is left allocated for the caller on failure. */
    ck_assert_ptr_null(c.log_path);
    ck_assert_ptr_null(c.key_path);
}
END_TEST

START_TEST(test_config_from_env_parsed_values)
{
    struct config c;

    setenv("KEST_LOG_MODE", "600", 1);
    setenv("KEST_TIMEOUT_MS", "600000", 1);
    setenv("KEST_FAIL", "open", 1);
    setenv("KEST_QUIET", "off", 1);
    ck_assert_int_eq(config_from_env(&c), 0);
    ck_assert_uint_eq(c.log_mode, 0600);
    ck_assert_int_eq(c.timeout_ms, 600000);
    ck_assert(!c.fail_closed);
    ck_assert(!c.quiet);
    config_cleanup(&c);
}
END_TEST

START_TEST(test_config_from_env_aws)
{
    struct config c;

    setenv("AWS_DEFAULT_REGION", "eu-west-1", 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
    setenv("KEST_AWS_KMS_KEY_ID", "alias/kest", 1);
    setenv("KEST_AGENTCORE_WORKLOAD", "my-agent", 1);
    ck_assert_int_eq(config_from_env(&c), 0);
    ck_assert_str_eq(c.aws.region, "eu-west-1");
    ck_assert_str_eq(c.aws.access_key_id, "AKIDEXAMPLE");
    ck_assert_str_eq(c.aws.secret_access_key, "secret");
    ck_assert_ptr_null(c.aws.session_token);
    ck_assert_str_eq(c.aws.kms_key_id, "alias/kest");
    ck_assert_str_eq(c.aws.agentcore_workload, "my-agent");
    ck_assert(!c.aws.sign_every);
    config_cleanup(&c);
    /* AWS_REGION wins over AWS_DEFAULT_REGION, as in the AWS SDKs. */
    setenv("AWS_REGION", "us-west-2", 1);
    setenv("KEST_AWS_SIGN", "every", 1);
    ck_assert_int_eq(config_from_env(&c), 0);
    ck_assert_str_eq(c.aws.region, "us-west-2");
    ck_assert(c.aws.sign_every);
    config_cleanup(&c);
    ck_assert_ptr_null(c.aws.secret_access_key);
}
END_TEST

START_TEST(test_config_default_log_appends)
{
    struct buf b;

    unsetenv("XDG_STATE_HOME");
    buf_init(&b);
    ck_assert_int_eq(buf_puts(&b, "log="), 0);
    ck_assert_int_eq(config_default_log(&b), 0);
    ck_assert_str_eq((char *)b.data,
                     "log=/home/tester/.local/state/kest/kest.log");
    buf_cleanup(&b);
}
END_TEST

START_TEST(test_config_list_has_members)
{
    const struct member *m = &members[_i];
    size_t n = m->n != 0 ? m->n : strlen(m->name);

    ck_assert_msg(config_list_has(m->list, m->name, n) == m->want,
                  "'%s' in '%s'", m->name, m->list ? m->list : "(null)");
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc;

    tc = tcase_create("config_from_env");
    tcase_add_checked_fixture(tc, env_clear, NULL);
    tcase_add_test(tc, test_config_from_env_defaults);
    tcase_add_loop_test(tc, test_config_from_env_default_log, 0,
                        NELEM(defaults));
    tcase_add_test(tc, test_config_from_env_values);
    tcase_add_test(tc, test_config_from_env_empty_is_unset);
    tcase_add_loop_test(tc, test_config_from_env_accepts, 0, NELEM(good));
    tcase_add_loop_test(tc, test_config_from_env_rejects, 0, NELEM(bad));
    tcase_add_test(tc, test_config_from_env_parsed_values);
    tcase_add_test(tc, test_config_from_env_aws);
    suite_add_tcase(s, tc);

    tc = tcase_create("config_default_log");
    tcase_add_checked_fixture(tc, env_clear, NULL);
    tcase_add_test(tc, test_config_default_log_appends);
    suite_add_tcase(s, tc);

    tc = tcase_create("config_list_has");
    tcase_add_loop_test(tc, test_config_list_has_members, 0,
                        NELEM(members));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(config_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
