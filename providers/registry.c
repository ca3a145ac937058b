/* SPDX-License-Identifier: Apache-2.0 */
/* Auto-detection order, as in Kest: SPIRE, AgentCore, AWS with a KMS key,
 * OIDC token file, static key. */
#include "providers/providers.h"

#include <stddef.h>

const struct ident_ops *const ident_registry[] = {
    &provider_spire,
    &provider_agentcore,
    &provider_aws,
    &provider_oidc,
    &provider_static,
    NULL,
};
