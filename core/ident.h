/* SPDX-License-Identifier: Apache-2.0 */
/* The identity provider interface. core/ knows providers only through
 * this table of operations; providers/ fills it in. */
#ifndef KEST_IDENT_H
#define KEST_IDENT_H

#include <jansson.h>
#include <stdbool.h>

#include "core/buf.h"
#include "core/config.h"

struct ident_ops {
    const char *name;
    /* Signs with a session key bound to one process in its first
     * record, so one recorder cannot speak for many processes. */
    bool per_process;
    /* Auto-detection: true if this provider's settings are present. */
    bool (*detect)(const struct config *cfg);
    /* Fetch the identity and key; called on first need. 0 or -errno. */
    int (*open)(const struct config *cfg, void **state);
    /* Before each signature: renew short-lived material. May be NULL. */
    int (*refresh)(void *state);
    /* The principal, owned by the provider state. */
    const char *(*principal)(void *state);
    /* Add alg, kid and (if any) x5c to a JWS protected header. */
    int (*header)(void *state, json_t *hdr);
    /* Add provider fields to the record's identity block. May be NULL. */
    int (*describe)(void *state, json_t *identity);
    /* Sign msg, appending the JWS signature bytes to sig. */
    int (*sign)(void *state, const void *msg, size_t n, struct buf *sig);
    /* Wipe and free the state. */
    void (*release)(void *state);
};

struct ident {
    const struct ident_ops *ops;
    void *state;
};

/* Every provider, in auto-detection order, NULL-terminated; defined in
 * providers/registry.c. */
extern const struct ident_ops *const ident_registry[];

/* Select the provider (KEST_PROVIDER, else the first whose detect says
 * yes) and open it. -ENOENT if none applies. */
__attribute__((warn_unused_result)) int ident_open(const struct config *cfg,
                                                   struct ident *id);
void ident_close(struct ident *id);

#endif
