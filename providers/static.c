/* SPDX-License-Identifier: Apache-2.0 */
/* Static identity: a PEM private key file (KEST_KEY) and a principal
 * string (KEST_PRINCIPAL) that the operator vouches for. */
#include "providers/providers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/key.h"
#include "core/klog.h"

struct static_state {
    struct key *key;
    char *principal;
};

static bool static_detect(const struct config *cfg)
{
    return cfg->key_path != NULL;
}

static int static_open(const struct config *cfg, void **state)
{
    struct static_state *st;
    int rc;

    if (cfg->key_path == NULL) {
        klog_error("static", "KEST_KEY is not set");
        return -ENOENT;
    }
    st = calloc(1, sizeof(*st));
    if (st == NULL) {
        return -ENOMEM;
    }
    rc = key_load_private(cfg->key_path, &st->key);
    if (rc < 0) {
        if (rc != -EPERM) {
            klog_error("static", "%s: cannot load key: %s", cfg->key_path,
                       strerror(-rc));
        }
        goto out;
    }
    if (cfg->principal != NULL) {
        st->principal = strdup(cfg->principal);
    } else if (asprintf(&st->principal, "urn:kest:key:%s",
                        key_kid(st->key)) < 0) {
        st->principal = NULL;
    }
    rc = st->principal ? 0 : -ENOMEM;
out:
    if (rc < 0) {
        key_free(st->key);
        free(st);
        return rc;
    }
    *state = st;
    return 0;
}

static const char *static_principal(void *state)
{
    return ((struct static_state *)state)->principal;
}

static int static_header(void *state, json_t *hdr)
{
    struct static_state *st = state;

    if (json_object_set_new(hdr, "alg", json_string(key_alg(st->key))) ||
        json_object_set_new(hdr, "kid", json_string(key_kid(st->key)))) {
        return -ENOMEM;
    }
    return 0;
}

static int static_sign(void *state, const void *msg, size_t n,
                       struct buf *sig)
{
    return key_sign(((struct static_state *)state)->key, msg, n, sig);
}

static void static_release(void *state)
{
    struct static_state *st = state;

    key_free(st->key);
    free(st->principal);
    free(st);
}

const struct ident_ops provider_static = {
    .name = "static",
    .detect = static_detect,
    .open = static_open,
    .refresh = NULL,
    .principal = static_principal,
    .header = static_header,
    .describe = NULL,
    .sign = static_sign,
    .release = static_release,
};
