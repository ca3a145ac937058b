/* SPDX-License-Identifier: Apache-2.0 */
/* Provider selection. */
#include "core/ident.h"

#include <errno.h>
#include <string.h>

#include "core/klog.h"

int ident_open(const struct config *cfg, struct ident *id)
{
    const struct ident_ops *ops = NULL;
    size_t i;
    int rc;

    id->ops = NULL;
    id->state = NULL;
    for (i = 0; ident_registry[i] != NULL; i++) {
        const struct ident_ops *o = ident_registry[i];

        if (cfg->provider ? strcmp(cfg->provider, o->name) == 0
                          : o->detect(cfg)) {
            ops = o;
            break;
        }
    }
    if (ops == NULL) {
        if (cfg->provider) {
            klog_error("ident", "unknown provider '%s'", cfg->provider);
            return -EINVAL;
        }
        klog_error("ident", "no identity configured (set KEST_KEY or "
                   "KEST_PROVIDER)");
        return -ENOENT;
    }
    rc = ops->open(cfg, &id->state);
    if (rc < 0) {
        return rc;
    }
    id->ops = ops;
    klog_info("ident", "provider %s, principal %s", ops->name,
              ops->principal(id->state));
    return 0;
}

void ident_close(struct ident *id)
{
    if (id->ops != NULL) {
        id->ops->release(id->state);
    }
    id->ops = NULL;
    id->state = NULL;
}
