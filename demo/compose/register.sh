#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Create the agent's join token and the workload's registration entry,
# then print the export line for docker compose.
set -eu
server="docker compose exec -T spire-server /opt/spire/bin/spire-server"
token=$($server token generate -spiffeID spiffe://example.org/node \
    | awk '/Token:/ {print $2}')
# The workload runs as uid 1000 in its container (see Dockerfile); the
# unix attestor selects it by uid.
$server entry create -parentID spiffe://example.org/node \
    -spiffeID spiffe://example.org/workload -selector unix:uid:1000
echo "export SPIRE_JOIN_TOKEN=$token"
