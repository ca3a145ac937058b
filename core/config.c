/* SPDX-License-Identifier: Apache-2.0 */
/* Settings from the environment. */
#include "core/config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/klog.h"
#include "core/secmem.h"

static int dup_env(const char *name, char **out)
{
    const char *v = getenv(name);

    *out = NULL;
    if (v == NULL || *v == '\0') {
        return 0;
    }
    *out = strdup(v);
    return *out ? 0 : -ENOMEM;
}

/* As dup_env, into secmem. */
static int dup_env_secret(const char *name, char **out)
{
    const char *v = getenv(name);

    *out = NULL;
    if (v == NULL || *v == '\0') {
        return 0;
    }
    *out = secmem_strdup(v);
    return *out ? 0 : -ENOMEM;
}

int config_default_log(struct buf *out)
{
    const char *xdg = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");

    if (xdg != NULL && xdg[0] == '/') {
        return buf_printf(out, "%s/kest/kest.log", xdg);
    }
    if (home != NULL && home[0] == '/') {
        return buf_printf(out, "%s/.local/state/kest/kest.log", home);
    }
    return buf_printf(out, "/tmp/kest-%u.log", (unsigned)getuid());
}

static int parse_bool(const char *name, bool dflt, bool *out)
{
    const char *v = getenv(name);

    *out = dflt;
    if (v == NULL || *v == '\0') {
        return 0;
    }
    if (strcmp(v, "1") == 0 || strcmp(v, "yes") == 0 ||
        strcmp(v, "true") == 0 || strcmp(v, "on") == 0) {
        *out = true;
    } else if (strcmp(v, "0") == 0 || strcmp(v, "no") == 0 ||
               strcmp(v, "false") == 0 || strcmp(v, "off") == 0) {
        *out = false;
    } else {
        klog_error("config", "%s: not a boolean: '%s'", name, v);
        return -EINVAL;
    }
    return 0;
}

static int parse_misc(struct config *c)
{
    const char *v;
    char *end;
    long n;

    v = getenv("KEST_FAIL");
    if (v != NULL && *v != '\0') {
        if (strcmp(v, "closed") != 0 && strcmp(v, "open") != 0) {
            klog_error("config", "KEST_FAIL: expected open or closed: '%s'",
                       v);
            return -EINVAL;
        }
        c->fail_closed = strcmp(v, "closed") == 0;
    }
    v = getenv("KEST_TIMEOUT_MS");
    if (v != NULL && *v != '\0') {
        errno = 0;
        n = strtol(v, &end, 10);
        if (errno != 0 || *end != '\0' || n < 1 || n > 600000) {
            klog_error("config", "KEST_TIMEOUT_MS: not 1..600000: '%s'", v);
            return -EINVAL;
        }
        c->timeout_ms = (int)n;
    }
    v = getenv("KEST_LOG_MODE");
    if (v != NULL && *v != '\0') {
        n = strtol(v, &end, 8);
        if (*end != '\0' || n < 0 || n > 0666 || (n & 0600) != 0600 ||
            (n & 0002) != 0) {
            klog_error("config", "KEST_LOG_MODE: not an octal mode with "
                       "owner read/write and no world write: '%s'", v);
            return -EINVAL;
        }
        c->log_mode = (mode_t)n;
    }
    return 0;
}

static int oidc_from_env(struct config *c)
{
    int rc;

    rc = dup_env("KEST_OIDC_TOKEN_FILE", &c->oidc_token_file);
    if (rc == 0) {
        rc = dup_env("KEST_OIDC_JWKS", &c->oidc_jwks);
    }
    if (rc == 0) {
        rc = dup_env("KEST_OIDC_ISSUER", &c->oidc_issuer);
    }
    if (rc == 0) {
        rc = dup_env("KEST_OIDC_AUDIENCE", &c->oidc_audience);
    }
    if (rc == 0) {
        rc = parse_bool("KEST_OIDC_EMBED", false, &c->oidc_embed);
    }
    return rc;
}

static int aws_sign_mode(struct config_aws *a)
{
    const char *v = getenv("KEST_AWS_SIGN");

    if (v == NULL || *v == '\0' || strcmp(v, "session") == 0) {
        a->sign_every = false;
    } else if (strcmp(v, "every") == 0) {
        a->sign_every = true;
    } else {
        klog_error("config", "KEST_AWS_SIGN: expected session or every: "
                   "'%s'", v);
        return -EINVAL;
    }
    return 0;
}

static int aws_from_env(struct config_aws *a)
{
    static const struct {
        const char *name;
        size_t off;
        bool secret;
    } vars[] = {
#define AWSVAR(n, f) {n, offsetof(struct config_aws, f), false}
#define AWSSECRET(n, f) {n, offsetof(struct config_aws, f), true}
        AWSVAR("AWS_ACCESS_KEY_ID", access_key_id),
        AWSSECRET("AWS_SECRET_ACCESS_KEY", secret_access_key),
        AWSSECRET("AWS_SESSION_TOKEN", session_token),
        AWSVAR("AWS_REGION", region),
        AWSVAR("AWS_ENDPOINT_URL", endpoint),
        AWSVAR("AWS_ENDPOINT_URL_STS", endpoint_sts),
        AWSVAR("AWS_ENDPOINT_URL_KMS", endpoint_kms),
        AWSVAR("AWS_ROLE_ARN", role_arn),
        AWSVAR("AWS_WEB_IDENTITY_TOKEN_FILE", web_identity_token_file),
        AWSVAR("AWS_ROLE_SESSION_NAME", role_session_name),
        AWSVAR("AWS_CONTAINER_CREDENTIALS_FULL_URI", container_full_uri),
        AWSVAR("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
               container_relative_uri),
        AWSSECRET("AWS_CONTAINER_AUTHORIZATION_TOKEN", container_token),
        AWSVAR("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
               container_token_file),
        AWSVAR("AWS_ENDPOINT_URL_BEDROCK_AGENTCORE", endpoint_agentcore),
        AWSVAR("KEST_AGENTCORE_WORKLOAD", agentcore_workload),
        AWSVAR("KEST_AGENTCORE_USER_ID", agentcore_user_id),
        AWSVAR("KEST_AGENTCORE_USER_TOKEN_FILE", agentcore_user_token_file),
        AWSVAR("KEST_AWS_KMS_KEY_ID", kms_key_id),
#undef AWSVAR
#undef AWSSECRET
    };
    size_t i;
    int rc = 0;

    for (i = 0; rc == 0 && i < sizeof(vars) / sizeof(vars[0]); i++) {
        char **field = (char **)((char *)a + vars[i].off);

        rc = vars[i].secret ? dup_env_secret(vars[i].name, field)
                            : dup_env(vars[i].name, field);
    }
    if (rc == 0 && a->region == NULL) {
        rc = dup_env("AWS_DEFAULT_REGION", &a->region);
    }
    return rc == 0 ? aws_sign_mode(a) : rc;
}

static void aws_cleanup(struct config_aws *a)
{
    free(a->access_key_id);
    secmem_free(a->secret_access_key);
    secmem_free(a->session_token);
    free(a->region);
    free(a->endpoint);
    free(a->endpoint_sts);
    free(a->endpoint_kms);
    free(a->role_arn);
    free(a->web_identity_token_file);
    free(a->role_session_name);
    free(a->container_full_uri);
    free(a->container_relative_uri);
    secmem_free(a->container_token);
    free(a->container_token_file);
    free(a->endpoint_agentcore);
    free(a->agentcore_workload);
    free(a->agentcore_user_id);
    free(a->agentcore_user_token_file);
    free(a->kms_key_id);
}

int config_from_env(struct config *c)
{
    struct buf b;
    int rc;

    memset(c, 0, sizeof(*c));
    c->timeout_ms = KEST_TIMEOUT_DEFAULT_MS;
    c->log_mode = 0600;
    rc = dup_env("KEST_LOG", &c->log_path);
    if (rc == 0 && c->log_path == NULL) {
        buf_init(&b);
        rc = config_default_log(&b);
        c->log_path = rc == 0 ? buf_steal(&b) : NULL;
        buf_cleanup(&b);
    }
    if (rc == 0) {
        rc = dup_env("KEST_KEY", &c->key_path);
    }
    if (rc == 0) {
        rc = dup_env("KEST_PRINCIPAL", &c->principal);
    }
    if (rc == 0) {
        rc = dup_env("KEST_PROVIDER", &c->provider);
    }
    if (rc == 0) {
        rc = dup_env("KEST_ENV_ALLOW", &c->env_allow);
    }
    if (rc == 0) {
        rc = dup_env("KEST_SPIFFE_SOCKET", &c->spiffe_socket);
    }
    if (rc == 0 && c->spiffe_socket == NULL) {
        rc = dup_env("SPIFFE_ENDPOINT_SOCKET", &c->spiffe_socket);
    }
    if (rc == 0) {
        rc = dup_env("KEST_SPIFFE_ID", &c->spiffe_id);
    }
    if (rc == 0) {
        rc = dup_env("KEST_SPIFFE_JWT_AUDIENCE", &c->spiffe_jwt_audience);
    }
    if (rc == 0) {
        rc = oidc_from_env(c);
    }
    if (rc == 0) {
        rc = aws_from_env(&c->aws);
    }
    if (rc == 0) {
        rc = parse_bool("KEST_HASH", true, &c->hash_exe);
    }
    if (rc == 0) {
        rc = parse_bool("KEST_QUIET", false, &c->quiet);
    }
    if (rc == 0) {
        rc = parse_misc(c);
    }
    if (rc < 0) {
        config_cleanup(c);
    }
    return rc;
}

void config_cleanup(struct config *c)
{
    free(c->log_path);
    free(c->key_path);
    free(c->principal);
    free(c->provider);
    free(c->env_allow);
    free(c->spiffe_socket);
    free(c->spiffe_id);
    free(c->spiffe_jwt_audience);
    free(c->oidc_token_file);
    free(c->oidc_jwks);
    free(c->oidc_issuer);
    free(c->oidc_audience);
    aws_cleanup(&c->aws);
    memset(c, 0, sizeof(*c));
}

bool config_list_has(const char *list, const char *name, size_t n)
{
    const char *p = list;

    while (p != NULL && *p != '\0') {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);

        if (len == n && memcmp(p, name, n) == 0) {
            return true;
        }
        p = e ? e + 1 : NULL;
    }
    return false;
}
