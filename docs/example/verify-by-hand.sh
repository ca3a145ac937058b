#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Verify the second record of record.jsonl with jq, basenc and openssl
# only, as docs/FORMAT.md explains step by step.
set -eu
cd "$(dirname "$0")"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
sed -n 2p record.jsonl > "$t/line.json"

# 1. JCS(payload): the payload's bytes exactly as they stand in the line.
jq -cj .payload "$t/line.json" > "$t/payload.json"
# 2. The JWS signing input: protected "." base64url(JCS(payload)).
printf '%s.%s' "$(jq -j .protected "$t/line.json")" \
    "$(basenc --base64url -w0 "$t/payload.json" | tr -d =)" > "$t/input"
# 3. The signature, base64url-decoded (padding restored first).
s=$(jq -j .signature "$t/line.json")
while [ $(( ${#s} % 4 )) -ne 0 ]; do s="$s="; done
printf '%s' "$s" | basenc --base64url -d > "$t/sig"
# 4. Ed25519 verification of the signing input.
openssl pkeyutl -verify -pubin -inkey key.pub.pem -rawin \
    -in "$t/input" -sigfile "$t/sig"
# 5. The record's hash: SHA-256 of the compact JWS. The next record's
#    log_prev (if any) and kest verify's "head" name this value.
printf '%s.%s' "$(cat "$t/input")" "$(jq -j .signature "$t/line.json")" |
    sha256sum | cut -d' ' -f1
