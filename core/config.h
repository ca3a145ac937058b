/* SPDX-License-Identifier: Apache-2.0 */
/* kest settings, read from KEST_* environment variables
 * (docs/CONFIG.md lists every one). */
#ifndef KEST_CONFIG_H
#define KEST_CONFIG_H

#include <stdbool.h>
#include <sys/types.h>

#include "core/buf.h"

#define KEST_TIMEOUT_DEFAULT_MS 3000

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
