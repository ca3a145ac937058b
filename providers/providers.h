/* SPDX-License-Identifier: Apache-2.0 */
/* The concrete identity providers. */
#ifndef KEST_PROVIDERS_H
#define KEST_PROVIDERS_H

#include "core/ident.h"

extern const struct ident_ops provider_static;
extern const struct ident_ops provider_spire;
extern const struct ident_ops provider_oidc;
extern const struct ident_ops provider_aws;
extern const struct ident_ops provider_agentcore;

#endif
