# SPDX-License-Identifier: Apache-2.0
# The AWS provider end to end against the aws_api.py double, which
# checks every SigV4 signature with botocore: kest run with static,
# web-identity and container credentials, session-key and every-record
# KMS signing, Bedrock AgentCore workload identities, kest verify
# --kms-key, forgeries, auto-detection, and failures (wrong secret, KMS
# access denied, endpoint down, slow, answering 500, a truncated answer,
# no answer) under KEST_FAIL open and closed.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
API=$KEST_SRC/tests/doubles/aws_api.py
KEYS=$T/keys
unset KEST_PROVIDER KEST_TIMEOUT_MS KEST_QUIET KEST_OIDC_TOKEN_FILE \
    KEST_AWS_KMS_KEY_ID KEST_AWS_SIGN SPIFFE_ENDPOINT_SOCKET \
    KEST_SPIFFE_SOCKET
for v in $(env | sed -n 's/^\(AWS_[A-Z_]*\)=.*/\1/p'); do
    unset "$v"
done


# start_server NAME MODE [ARGS...]: sets URL to its address.
start_server() {
    local name=$1 mode=$2
    shift 2
    spawn_double "$name" "$PY" "$API" serve "$KEYS" --mode "$mode" \
        --ready-file "$T/$name.ready" --calls-log "$T/$name.calls" "$@" &&
        URL=$READY
}
# with_aws CMD...: CMD with the double's static credentials and KMS key
with_aws() {
    AWS_ACCESS_KEY_ID=AKIAKESTTEST AWS_SECRET_ACCESS_KEY=$SECRET \
        AWS_ENDPOINT_URL=$URL AWS_REGION=eu-west-1 \
        KEST_AWS_KMS_KEY_ID=alias/kest "$@"
}
vok() { "$KEST" verify -q --kms-key "$KEYS/kms.pub.pem" "$@"; }
hdr_field() {
    jq -r '.protected' "$1" | while read -r p; do
        printf '%s' "$p" | tr '_-' '/+' | base64 -d 2>/dev/null | jq -r "$2"
    done | sort -u | tr '\n' ' '
}
ops() { jq -r '"\(.op)=\(.status)"' "$1" | sort -u | tr '\n' ' '; }

"$PY" "$API" keygen "$KEYS" || { fail "aws_api.py keygen"; finish; exit 1; }
SECRET=$(jq -r .AKIAKESTTEST.secret "$KEYS/users.json")
ARN=arn:aws:iam::111122223333:user/kest-ci
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null |
    openssl pkey -pubout -out "$T/other.pub.pem" 2>/dev/null
start_server ok ok || { fail "ok: server starts"; finish; exit 1; }
OK_URL=$URL

# 1. Static credentials, a session key bound by KMS, auto-detected.
sec_session() {
    local L=$T/ok.log
    with_aws krun "$L" -- bash -c '/bin/true; ls / >/dev/null'
    check "session: kest run exits 0, nothing on stderr" \
        same "0 " "$RC $(cat "$T/err")"
    check "session: 4 records (run, bash, true, ls)" same 4 "$(wc -l <"$L")"
    check "session: all signed" signed "$L"
    check "session: auto-detected provider aws, principal is the ARN" \
        all_recs "$L" ".identity.provider == \"aws\" and
                      .labels.principal == \"$ARN\""
    check "session: every header is EdDSA (session key)" same "EdDSA " \
        "$(hdr_field "$L" .alg)"
    check "session: first record carries the KMS binding" \
        same true "$(head -1 "$L" | jq '.payload.identity |
            (.kms_binding.principal == "'"$ARN"'") and
            (.kms_binding.kms_key_id == "alias/kest") and
            (.kms_binding.session_jwk.kty == "OKP") and
            (.kms_binding_sig | length == 86)')"
    check "session: bash's second record carries no new binding" \
        same false "$(sed -n 2p "$L" | jq '.payload.identity |
            has("kms_binding")')"
    check "session: the double saw signed STS and KMS calls only" \
        same "GetCallerIdentity=200 Sign=200 " "$(ops "$T/ok.calls")"
    check "session: verify --kms-key passes" vok "$L"
    check "session: verify without --kms-key says to use it" \
        vfails "ok.log:1: .*verify with --kms-key" "$L"
    check "session: verify with another key fails the binding" \
        vfails "ok.log:1: kms_binding is not signed by the --kms-key" \
        --kms-key "$T/other.pub.pem" "$L"
    cp "$L" "$T/ok.keep"
}

# 2. Forgeries the verifier must catch.
sec_tamper() {
    local L=$T/ok.keep X=$T/x.log
    jq -c '.payload.identity.kms_binding.principal = "arn:aws:iam::1:root"' \
        "$L" | head -1 >"$X"
    tail -n +2 "$L" >>"$X"
    check "tamper: an edited binding no longer verifies" \
        vfails "x.log:1: kms_binding is not signed" \
        --kms-key "$KEYS/kms.pub.pem" "$X"
    sed -n 2p "$L" >"$X"
    check "tamper: a record whose binding is missing fails" \
        vfails "x.log:1: no verified KMS binding" \
        --kms-key "$KEYS/kms.pub.pem" "$X"
}

# 3. KEST_AWS_SIGN=every: each record signed in KMS (ES256).
sec_every() {
    local L=$T/every.log kid
    : >"$T/ok.calls"
    KEST_AWS_SIGN=every with_aws krun "$L" -- bash -c '/bin/true'
    check "every: all signed" signed "$L"
    check "every: headers are ES256" same "ES256 " "$(hdr_field "$L" .alg)"
    kid=$(hdr_field "$L" .kid)
    check "every: no record carries a binding" \
        all_recs "$L" '(.identity | has("kms_binding")) | not'
    check "every: KMS GetPublicKey then one Sign per record" \
        same "$(($(wc -l <"$L")))" "$(grep -c '"Sign"' "$T/ok.calls")"
    check "every: one kid for all records" same 1 "$(echo "$kid" | wc -w)"
    check "every: verify --kms-key passes" vok "$L"
    check "every: verify with another key fails" \
        vfails "KMS-signed record: kid .* is not the --kms-key key" \
        --kms-key "$T/other.pub.pem" "$L"
}

# 4. Temporary credentials: web identity and the container endpoint.
sec_sources() {
    local L=$T/src.log
    AWS_ROLE_ARN=arn:aws:iam::111122223333:role/ci \
        AWS_WEB_IDENTITY_TOKEN_FILE=$KEYS/web.token AWS_ENDPOINT_URL=$URL \
        AWS_REGION=eu-west-1 KEST_AWS_KMS_KEY_ID=alias/kest \
        krun "$L" -- bash -c '/bin/true'
    check "web identity: all signed as the assumed role" \
        all_recs "$L" '.operation != "gap" and .labels.principal ==
            "arn:aws:sts::111122223333:assumed-role/ci/kest"'
    check "web identity: verify passes" vok "$L"
    printf 'not-the-token\n' >"$T/bad.token"
    AWS_ROLE_ARN=arn:aws:iam::111122223333:role/ci \
        AWS_WEB_IDENTITY_TOKEN_FILE=$T/bad.token AWS_ENDPOINT_URL=$URL \
        KEST_AWS_KMS_KEY_ID=alias/kest krun "$L" -- /bin/true
    check "web identity, refused token: gap" \
        gap_says "$L" "AssumeRoleWithWebIdentity: HTTP 403 AccessDenied"
    AWS_CONTAINER_CREDENTIALS_FULL_URI=$URL/creds \
        AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=$KEYS/container.token \
        AWS_ENDPOINT_URL=$URL KEST_AWS_KMS_KEY_ID=alias/kest \
        krun "$L" -- bash -c '/bin/true'
    check "container: all signed as the task role, with a session token" \
        all_recs "$L" '.operation != "gap" and .labels.principal ==
            "arn:aws:sts::111122223333:assumed-role/kest-task/task-1"'
    check "container: verify passes" vok "$L"
    AWS_CONTAINER_CREDENTIALS_FULL_URI=$URL/creds \
        AWS_CONTAINER_AUTHORIZATION_TOKEN=wrong AWS_ENDPOINT_URL=$URL \
        KEST_AWS_KMS_KEY_ID=alias/kest krun "$L" -- /bin/true
    check "container, wrong authorization token: gap" \
        gap_says "$L" "container credentials: HTTP 403"
    AWS_CONTAINER_CREDENTIALS_FULL_URI=http://192.0.2.1/creds \
        AWS_CONTAINER_AUTHORIZATION_TOKEN=secret AWS_ENDPOINT_URL=$URL \
        KEST_AWS_KMS_KEY_ID=alias/kest krun "$L" -- /bin/true
    check "container, plain http to another host: refused, gap" \
        gap_says "$L" "container credentials need https"
}

# Temporary credentials close to expiry are renewed before a record.
sec_renew() {
    local L=$T/renew.log n_long n_short
    web() {
        AWS_ROLE_ARN=arn:aws:iam::111122223333:role/ci \
            AWS_WEB_IDENTITY_TOKEN_FILE=$KEYS/web.token \
            AWS_ENDPOINT_URL=$URL KEST_AWS_KMS_KEY_ID=alias/kest \
            KEST_AWS_SIGN=every "$@"
    }
    : >"$T/ok.calls"
    web krun "$L" -- bash -c '/bin/true; /bin/true; /bin/true'
    n_long=$(grep -c AssumeRole "$T/ok.calls")
    start_server short ok --cred-ttl 60 || { fail "short: starts"; return; }
    web krun "$L" -- bash -c '/bin/true; /bin/true; /bin/true'
    n_short=$(grep -c AssumeRole "$T/short.calls")
    check "renew: all signed with credentials that expire in 60 s" \
        signed "$L"
    check "renew: more AssumeRoleWithWebIdentity calls ($n_short > $n_long)" \
        test "$n_short" -gt "$n_long"
    check "renew: verify passes" vok "$L"
    stop_server short
    URL=$OK_URL
}

# 5. Auto-detection needs both a KMS key and credentials.
sec_detect() {
    local L=$T/det.log
    AWS_ACCESS_KEY_ID=AKIAKESTTEST AWS_SECRET_ACCESS_KEY=$SECRET \
        AWS_ENDPOINT_URL=$URL KEST_KEY=$KEY krun "$L" -- /bin/true
    check "no KMS key: the static provider, not aws" \
        all_recs "$L" '.identity.provider == "static"'
    KEST_AWS_KMS_KEY_ID=alias/kest AWS_ENDPOINT_URL=$URL KEST_KEY=$KEY \
        krun "$L" -- /bin/true
    check "no credentials: the static provider, not aws" \
        all_recs "$L" '.identity.provider == "static"'
}

# 6. Failures: open gives a gap and runs the command; closed refuses.
bad_case() {
    local what=$1 pat=$2 L=$T/bad.log
    shift 2
    rm -f "$T/ran"
    "$@" krun "$L" -- /usr/bin/touch "$T/ran"
    check "$what, open: exit 0, the command ran, gap '$pat'" \
        eval '[ "$RC" = 0 ] && [ -e "$T/ran" ] && gap_says "$L" "$pat" &&
              all_recs "$L" ".operation == \"gap\""'
    check "$what, open: one warning saying so" \
        one_line "$T/err" "warning: not attested: .*$pat"
    rm -f "$T/ran"
    "$@" krun "$L" --fail closed -- /usr/bin/touch "$T/ran"
    check "$what, closed: refused (126), the command did not run" \
        same "126 no" "$RC $([ -e "$T/ran" ] && echo yes || echo no)"
    check "$what, closed: one message saying why" \
        one_line "$T/err" "refused.*$pat"
}
wrong_secret() {
    AWS_ACCESS_KEY_ID=AKIAKESTTEST AWS_SECRET_ACCESS_KEY=${SECRET}x \
        AWS_ENDPOINT_URL=$URL KEST_AWS_KMS_KEY_ID=alias/kest "$@"
}
sec_failures() {
    bad_case "wrong secret (403)" \
        "STS GetCallerIdentity: HTTP 403 SignatureDoesNotMatch" wrong_secret
    start_server deny kms-denied || { fail "deny: server starts"; return; }
    bad_case "KMS access denied" \
        "TrentService.Sign: HTTP 400 AccessDeniedException" with_aws
    stop_server deny
    start_server down ok || { fail "down: server starts"; return; }
    stop_server down
    bad_case "endpoint down" "Connection refused" with_aws
    start_server slow slow --delay-ms 4000 || { fail "slow: starts"; return; }
    KEST_TIMEOUT_MS=300 bad_case "slow endpoint past KEST_TIMEOUT_MS" \
        "timed out" with_aws
    check "slow: gave up well before the server answered ($MS ms)" \
        test "$MS" -lt 3000
    stop_server slow
    start_server e500 500 || { fail "500: server starts"; return; }
    bad_case "STS answers 500" "GetCallerIdentity: HTTP 500" with_aws
    stop_server e500
    start_server trunc truncated || { fail "truncated: starts"; return; }
    bad_case "truncated STS answer" "Connection reset by peer" with_aws
    stop_server trunc
    start_server hangup hangup || { fail "hangup: starts"; return; }
    bad_case "no answer, connection closed" "Connection reset by peer" \
        with_aws
    check "no answer: the double did see the request" \
        grep -q GetCallerIdentity "$T/hangup.calls"
    stop_server hangup
    URL=$OK_URL
}

# 7. Bedrock AgentCore: the workload identity is the principal.
sec_agentcore() {
    local L=$T/ac.log W
    W=arn:aws:bedrock-agentcore:eu-west-1:111122223333
    W=$W:workload-identity-directory/default/workload-identity/my-agent
    : >"$T/ok.calls"
    KEST_AGENTCORE_WORKLOAD=my-agent with_aws krun "$L" -- \
        bash -c '/bin/true'
    check "agentcore: auto-detected before aws, the workload principal" \
        all_recs "$L" ".operation != \"gap\" and
            .identity.provider == \"agentcore\" and
            .labels.principal == \"$W\" and
            .identity.caller_arn == \"$ARN\" and
            (.identity.workload_token_sha256 | length == 64)"
    check "agentcore: STS, GetWorkloadAccessToken, then KMS" \
        same "GetCallerIdentity=200 GetWorkloadAccessToken=200 Sign=200 " \
        "$(ops "$T/ok.calls")"
    check "agentcore: no token in the log" \
        all_recs "$L" '(.identity | has("workload_access_token")) | not'
    check "agentcore: verify --kms-key passes" vok "$L"
    : >"$T/ok.calls"
    KEST_AGENTCORE_WORKLOAD=my-agent KEST_AGENTCORE_USER_ID=alice \
        with_aws krun "$L" -- /bin/true
    check "agentcore: ForUserId with KEST_AGENTCORE_USER_ID" \
        eval 'signed "$L" && grep -q ForUserId=200 <<<"$(ops "$T/ok.calls")"'
    : >"$T/ok.calls"
    KEST_AGENTCORE_WORKLOAD=my-agent \
        KEST_AGENTCORE_USER_TOKEN_FILE=$KEYS/web.token \
        with_aws krun "$L" -- /bin/true
    check "agentcore: ForJWT with KEST_AGENTCORE_USER_TOKEN_FILE" \
        eval 'signed "$L" && grep -q ForJWT=200 <<<"$(ops "$T/ok.calls")"'
    KEST_AGENTCORE_WORKLOAD=missing with_aws krun "$L" -- /bin/true
    check "agentcore: unknown workload: gap" \
        gap_says "$L" "GetWorkloadAccessToken: HTTP 404 ResourceNotFound"
    KEST_AGENTCORE_WORKLOAD='a b' with_aws krun "$L" -- /bin/true
    check "agentcore: invalid workload name: gap, no request" \
        gap_says "$L" "KEST_AGENTCORE_WORKLOAD: not 3 to 255"
    KEST_AGENTCORE_WORKLOAD=my-agent wrong_secret krun "$L" -- /bin/true
    check "agentcore: wrong secret: gap" gap_says "$L" "HTTP 403"
}

# 8. vfork paths record through the kest-record helper.
sec_helper() {
    local L=$T/helper.log
    with_aws krun "$L" -- dash -c '/bin/true; /usr/bin/python3 -c "
import os, subprocess; subprocess.run([\"/bin/true\"]); os.system(\"true\")"'
    check "helper: all signed" signed "$L"
    check "helper: at least 5 records" test "$(wc -l <"$L")" -ge 5
    check "helper: verify --kms-key passes" vok "$L"
    L=$T/envi.log
    with_aws krun "$L" -- env -i /bin/sh -c /bin/true 2>/dev/null
    # Non-secret settings come back; the secret key never does, so the
    # stripped child cannot sign with static credentials: a gap.
    check "env -i: env_restored names the non-secret AWS settings" \
        same true "$(jq -s '[.[].payload.exec.env_restored // "" |
            contains("AWS_REGION")] | any' "$L")"
    check "env -i: the secret access key is not re-injected" \
        same false "$(jq -s '[.[].payload.exec.env_restored // "" |
            contains("AWS_SECRET_ACCESS_KEY")] | any' "$L")"
    check "env -i: the stripped child leaves a gap" \
        gap_says "$L" "no identity configured"
    check "env -i: the rest verifies with --allow-gaps" \
        vok --allow-gaps "$L"
}

sec_session
sec_tamper
sec_every
sec_sources
sec_renew
sec_detect
sec_failures
sec_agentcore
sec_helper
finish
