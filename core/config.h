/* SPDX-License-Identifier: Apache-2.0 */
/* kest settings, read from KEST_* environment variables
 * (docs/CONFIG.md lists every one). */
#ifndef KEST_CONFIG_H
#define KEST_CONFIG_H

#include <stdbool.h>
#include <sys/types.h>

#include "core/buf.h"

#define KEST_TIMEOUT_DEFAULT_MS 3000

/* The AWS provider's inputs: the SDKs' standard AWS_* variables plus
 * KEST_AWS_*. The three secrets are held in secmem (core/secmem.h) and
 * wiped by config_cleanup. */
struct config_aws {
    char *access_key_id;     /* AWS_ACCESS_KEY_ID */
    char *secret_access_key; /* AWS_SECRET_ACCESS_KEY */
    char *session_token;     /* AWS_SESSION_TOKEN */
    char *region;            /* AWS_REGION, else AWS_DEFAULT_REGION */
    char *endpoint;          /* AWS_ENDPOINT_URL */
    char *endpoint_sts;      /* AWS_ENDPOINT_URL_STS */
    char *endpoint_kms;      /* AWS_ENDPOINT_URL_KMS */
    char *role_arn;          /* AWS_ROLE_ARN */
    char *web_identity_token_file; /* AWS_WEB_IDENTITY_TOKEN_FILE */
    char *role_session_name; /* AWS_ROLE_SESSION_NAME */
    char *container_full_uri;     /* AWS_CONTAINER_CREDENTIALS_FULL_URI */
    char *container_relative_uri; /* ..._RELATIVE_URI */
    char *container_token;        /* AWS_CONTAINER_AUTHORIZATION_TOKEN */
    char *container_token_file;   /* ..._TOKEN_FILE */
    char *endpoint_agentcore;  /* AWS_ENDPOINT_URL_BEDROCK_AGENTCORE */
    char *agentcore_workload;  /* KEST_AGENTCORE_WORKLOAD */
    char *agentcore_user_id;   /* KEST_AGENTCORE_USER_ID */
    char *agentcore_user_token_file; /* KEST_AGENTCORE_USER_TOKEN_FILE */
    char *kms_key_id;        /* KEST_AWS_KMS_KEY_ID */
    bool sign_every;         /* KEST_AWS_SIGN=every (default: session) */
};

struct config {
    char *log_path;   /* KEST_LOG, or the default below */
    char *key_path;   /* KEST_KEY */
    char *principal;  /* KEST_PRINCIPAL */
    char *provider;   /* KEST_PROVIDER, NULL for auto-detection */
    char *env_allow;  /* KEST_ENV_ALLOW: comma list of names */
    char *spiffe_socket; /* KEST_SPIFFE_SOCKET, else SPIFFE_ENDPOINT_SOCKET */
    char *spiffe_id;     /* KEST_SPIFFE_ID */
    char *spiffe_jwt_audience; /* KEST_SPIFFE_JWT_AUDIENCE */
    char *oidc_token_file; /* KEST_OIDC_TOKEN_FILE */
    char *oidc_jwks;       /* KEST_OIDC_JWKS: file path or http(s) URL */
    char *oidc_issuer;     /* KEST_OIDC_ISSUER */
    char *oidc_audience;   /* KEST_OIDC_AUDIENCE */
    bool oidc_embed;       /* KEST_OIDC_EMBED=1: token in the record */
    struct config_aws aws;
    bool fail_closed; /* KEST_FAIL=closed */
    bool hash_exe;    /* KEST_HASH, default on */
    bool quiet;       /* KEST_QUIET=1 */
    int timeout_ms;   /* KEST_TIMEOUT_MS */
    mode_t log_mode;  /* KEST_LOG_MODE, octal, default 0600 */
};

/* Fill c from the environment. -ENOMEM, or -EINVAL with a logged reason
 * for a malformed value. Free with config_cleanup. */
__attribute__((warn_unused_result)) int config_from_env(struct config *c);
void config_cleanup(struct config *c);
/* The log used when KEST_LOG is unset:
 * $XDG_STATE_HOME/kest/kest.log, else $HOME/.local/state/kest/kest.log,
 * else /tmp/kest-UID.log. Appends to out. */
__attribute__((warn_unused_result)) int config_default_log(struct buf *out);
/* True if name (n bytes) is in the comma list. */
bool config_list_has(const char *list, const char *name, size_t n);

#endif
