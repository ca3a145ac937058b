# SPDX-License-Identifier: Apache-2.0
# The OIDC provider end to end: kest run with a token file whose issuer
# is the cloud_api.py double, then kest verify --oidc-jwks. Covers
# discovery, JWKS from a file and a URL, auto-detection, the embedded
# token and its absence, rejected tokens (expired, audience, unknown kid,
# alg none, HS256 confusion), a failing JWKS endpoint (500, slow,
# truncated, no answer, down) under KEST_FAIL open and closed, and a
# token file replaced mid-run.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
API=$KEST_SRC/tests/doubles/cloud_api.py
KEYS=$T/keys
unset KEST_PROVIDER KEST_TIMEOUT_MS KEST_QUIET KEST_OIDC_TOKEN_FILE \
    KEST_OIDC_JWKS KEST_OIDC_ISSUER KEST_OIDC_AUDIENCE KEST_OIDC_EMBED \
    SPIFFE_ENDPOINT_SOCKET KEST_SPIFFE_SOCKET


# start_server NAME MODE [ARGS...]: sets ISS to its issuer URL.
start_server() {
    local name=$1 mode=$2
    shift 2
    spawn_double "$name" "$PY" "$API" serve "$KEYS" --mode "$mode" \
        --ready-file "$T/$name.ready" --calls-log "$T/$name.calls" "$@" &&
        ISS=$READY
}
# mint OUT [ARGS...]: a token from the double's issuer key
mint() {
    local out=$1
    shift
    "$PY" "$API" mint "$KEYS" "$out" "$@"
}
vok() { "$KEST" verify -q --oidc-jwks "$KEYS/jwks.json" "$@"; }
hdr_algs() {
    jq -r '.protected' "$1" | while read -r p; do
        printf '%s' "$p" | tr '_-' '/+' | base64 -d 2>/dev/null | jq -r .alg
    done | sort -u | tr '\n' ' '
}

"$PY" "$API" keygen "$KEYS" ||
    { fail "cloud_api.py keygen"; finish; exit 1; }
start_server ok ok || { fail "ok: issuer starts"; finish; exit 1; }
OK_ISS=$ISS
TOK=$T/token

# 1. Discovery, auto-detection, embedded token.
sec_ok() {
    local L=$T/ok.log
    mint "$TOK" --iss "$OK_ISS" --aud kest --sub alice
    KEST_OIDC_TOKEN_FILE=$TOK KEST_OIDC_ISSUER=$OK_ISS \
        KEST_OIDC_AUDIENCE=kest KEST_OIDC_EMBED=1 \
        krun "$L" -- bash -c '/bin/true; ls / >/dev/null'
    check "ok: kest run exits 0" same 0 "$RC"
    check "ok: 4 records (run, bash, true, ls)" same 4 "$(wc -l <"$L")"
    check "ok: all signed" signed "$L"
    check "ok: nothing on stderr" same "" "$(cat "$T/err")"
    check "ok: auto-detected provider oidc, principal issuer#subject" \
        all_recs "$L" ".identity.provider == \"oidc\" and
                      .labels.principal == \"$OK_ISS#alice\""
    check "ok: every header is EdDSA (session key)" same "EdDSA " \
        "$(hdr_algs "$L")"
    check "ok: first record binds session_jwk, token and its hash" \
        same true "$(head -1 "$L" | jq '.payload.identity |
            (.session_jwk.kty == "OKP") and (.token | type == "string")
            and (.token_sha256 | length == 64) and (.token_exp > 0)')"
    check "ok: the record's token is the token file" \
        same "$(cat "$TOK")" "$(head -1 "$L" | jq -r .payload.identity.token)"
    check "ok: bash's later record carries no new binding" \
        same false "$(sed -n 2p "$L" | jq '.payload.identity |
            has("session_jwk") or has("token")')"
    check "ok: discovery then JWKS fetched" \
        same "/.well-known/openid-configuration /jwks" \
        "$(jq -r .path "$T/ok.calls" | head -2 | tr '\n' ' ' | sed 's/ $//')"
    check "ok: verify --oidc-jwks passes" vok "$L"
    check "ok: verify without --oidc-jwks says to use it" \
        vfails "ok.log:1: .*verify with --oidc-jwks" "$L"
    check "ok: verify with another issuer key fails the token" \
        vfails "ok.log:1: OIDC token: bad token signature" \
        --oidc-jwks "$KEYS/stray-jwks.json" "$L"
    cp "$L" "$T/ok.keep"
}

# 2. Forgeries the verifier must catch.
sec_tamper() {
    local L=$T/ok.keep X=$T/x.log other
    mint "$T/other" --iss "$OK_ISS" --aud kest --sub mallory
    other=$(cat "$T/other")
    # A valid token for someone else, swapped into the binding (the
    # signature breaks too, but the binding check comes first).
    jq -c --arg t "$other" '.payload.identity.token = $t' "$L" |
        head -1 >"$X"
    tail -n +2 "$L" >>"$X"
    check "tamper: a swapped token does not match token_sha256" \
        vfails "x.log:1: OIDC token does not hash to token_sha256" \
        --oidc-jwks "$KEYS/jwks.json" "$X"
    # Drop the binding record: later records of that process are orphans.
    sed -n 2p "$L" >"$X"
    check "tamper: a record whose binding is missing fails" \
        vfails "x.log:1: no verified OIDC binding" \
        --oidc-jwks "$KEYS/jwks.json" "$X"
}

# 3. Without KEST_OIDC_EMBED the binding cannot be checked offline.
sec_noembed() {
    local L=$T/noembed.log
    KEST_OIDC_TOKEN_FILE=$TOK KEST_OIDC_ISSUER=$OK_ISS KEST_PROVIDER=oidc \
        krun "$L" -- bash -c '/bin/true'
    check "noembed: all signed" signed "$L"
    check "noembed: no token in any record" \
        all_recs "$L" '(.identity | has("token")) | not'
    check "noembed: the binding carries session_jwk and token_sha256" \
        same true "$(head -1 "$L" | jq '.payload.identity |
            has("session_jwk") and has("token_sha256")')"
    check "noembed: verify says the binding cannot be checked offline" \
        vfails "noembed.log:1: .*cannot be checked offline" \
        --oidc-jwks "$KEYS/jwks.json" "$L"
}

# 4. JWKS as a file and as a URL, no issuer pinned.
sec_jwks_forms() {
    local L=$T/forms.log
    KEST_OIDC_TOKEN_FILE=$TOK KEST_OIDC_JWKS=$KEYS/jwks.json \
        KEST_OIDC_EMBED=1 krun "$L" -- bash -c '/bin/true'
    check "jwks file: all signed, verify passes" \
        eval 'signed "$L" && vok "$L"'
    : >"$T/ok.calls"
    KEST_OIDC_TOKEN_FILE=$TOK KEST_OIDC_JWKS=$OK_ISS/jwks \
        KEST_OIDC_EMBED=1 krun "$L" -- bash -c '/bin/true'
    check "jwks url: all signed, verify passes" \
        eval 'signed "$L" && vok "$L"'
    check "jwks url: no discovery request" \
        same 0 "$(grep -c openid-configuration "$T/ok.calls")"
    KEST_OIDC_TOKEN_FILE=$TOK KEST_OIDC_ISSUER=http://elsewhere.invalid \
        KEST_OIDC_JWKS=$KEYS/jwks.json krun "$L" -- /bin/true
    check "issuer pinned to another: gap naming the issuer" \
        gap_says "$L" "issuer $OK_ISS is not http://elsewhere.invalid"
}

# 5. Tokens the provider must refuse: a gap, the command still runs
# (open); refused with closed.
bad_token() {
    local what=$1 pat=$2 L=$T/bad.log
    shift 2
    mint "$T/bad" --iss "$OK_ISS" "$@"
    rm -f "$T/ran"
    KEST_OIDC_TOKEN_FILE=$T/bad KEST_OIDC_ISSUER=$OK_ISS \
        KEST_OIDC_AUDIENCE=kest krun "$L" -- /usr/bin/touch "$T/ran"
    check "$what, open: exit 0 and the command ran" \
        same "0 yes" "$RC $([ -e "$T/ran" ] && echo yes)"
    check "$what, open: no signed record, a gap saying '$pat'" \
        eval 'gap_says "$L" "$pat" && all_recs "$L" ".operation == \"gap\""'
    rm -f "$T/ran"
    KEST_OIDC_TOKEN_FILE=$T/bad KEST_OIDC_ISSUER=$OK_ISS \
        KEST_OIDC_AUDIENCE=kest krun "$L" --fail closed -- \
        /usr/bin/touch "$T/ran"
    check "$what, closed: refused (126), the command did not run" \
        same "126 no" "$RC $([ -e "$T/ran" ] && echo yes || echo no)"
}
sec_bad_tokens() {
    bad_token expired "token expired" --aud kest --exp-in -600
    bad_token "wrong audience" "audience kest not in aud" --aud other
    bad_token "unknown kid" "no usable key for kid nope" --aud kest \
        --kid nope --key stray
    bad_token "alg none" "algorithm none not allowed" --aud kest --alg none
    bad_token "HS256 with the public key" "algorithm HS256 not allowed" \
        --aud kest --alg HS256
    bad_token "not yet valid" "not yet valid" --aud kest --nbf-in 600
    bad_token "forged signature (right kid, wrong key)" \
        "bad token signature" --aud kest --key stray
}

# 6. The JWKS endpoint failing. Callers may set KEST_TIMEOUT_MS for it.
bad_endpoint() {
    local what=$1 pat=$2 L=$T/ep.log
    rm -f "$T/ran"
    KEST_OIDC_TOKEN_FILE=$TOK KEST_OIDC_ISSUER=$ISS \
        krun "$L" -- /usr/bin/touch "$T/ran"
    check "$what, open: exit 0, the command ran, gap '$pat'" \
        eval '[ "$RC" = 0 ] && [ -e "$T/ran" ] && gap_says "$L" "$pat"'
    check "$what, open: one warning saying so" \
        one_line "$T/err" "warning: not attested: .*$pat"
    rm -f "$T/ran"
    KEST_OIDC_TOKEN_FILE=$TOK KEST_OIDC_ISSUER=$ISS \
        krun "$L" --fail closed -- /usr/bin/touch "$T/ran"
    check "$what, closed: refused (126), the command did not run" \
        same "126 no" "$RC $([ -e "$T/ran" ] && echo yes || echo no)"
    check "$what, closed: one message saying why" \
        one_line "$T/err" "refused.*$pat"
}
sec_endpoints() {
    mint "$TOK" --iss "$OK_ISS" --aud kest
    start_server e500 500 || { fail "500: server starts"; return; }
    # Tokens name their own issuer; mint one per server.
    mint "$TOK" --iss "$ISS"
    bad_endpoint "JWKS endpoint 500" "HTTP status 500"
    stop_server e500
    start_server trunc truncated || { fail "truncated: starts"; return; }
    mint "$TOK" --iss "$ISS"
    bad_endpoint "truncated body" "openid-configuration: Connection reset"
    stop_server trunc
    start_server hangup hangup || { fail "hangup: starts"; return; }
    mint "$TOK" --iss "$ISS"
    bad_endpoint "no answer, connection closed" \
        "openid-configuration: Connection reset"
    stop_server hangup
    start_server slow slow --delay-ms 4000 || { fail "slow: starts"; return; }
    mint "$TOK" --iss "$ISS"
    KEST_TIMEOUT_MS=300 bad_endpoint "slow endpoint past KEST_TIMEOUT_MS" \
        "openid-configuration: timed out"
    check "slow: gave up well before the server answered ($MS ms)" \
        test "$MS" -lt 3000
    stop_server slow
    # An issuer that was there and is gone: nothing listens on its port.
    start_server down ok || { fail "down: starts"; return; }
    stop_server down
    mint "$TOK" --iss "$ISS"
    bad_endpoint "JWKS endpoint down" "Connection refused"
}

# 8. vfork paths: dash and Python's subprocess record through the
# kest-record helper, which binds a session key of its own.
sec_helper() {
    local L=$T/helper.log
    mint "$TOK" --iss "$OK_ISS" --aud kest --sub alice
    KEST_OIDC_TOKEN_FILE=$TOK KEST_OIDC_ISSUER=$OK_ISS KEST_OIDC_EMBED=1 \
        krun "$L" -- dash -c '/bin/true; /bin/true; /usr/bin/python3 -c "
import os, subprocess; subprocess.run([\"/bin/true\"]); os.system(\"true\")"'
    check "helper: all signed" signed "$L"
    check "helper: at least 6 records" test "$(wc -l <"$L")" -ge 6
    check "helper: verify --oidc-jwks passes" vok "$L"
}

# 7. The token file replaced mid-run: the next process, and the running
# shell on its next record, use the new token.
sec_rotate() {
    local L=$T/rot.log
    mint "$TOK" --iss "$OK_ISS" --aud kest --sub alice
    mint "$T/tok2" --iss "$OK_ISS" --aud kest --sub bob
    KEST_OIDC_TOKEN_FILE=$TOK KEST_OIDC_ISSUER=$OK_ISS KEST_OIDC_EMBED=1 \
        krun "$L" -- bash -c "bash -c /bin/true; mv $T/tok2 $TOK;
                              bash -c /bin/true"
    check "rotate: all signed" signed "$L"
    # run, bash, bash->bash, bash->true, bash->mv as alice; then
    # bash->bash (the shell noticed) and the new bash's own record.
    check "rotate: alice first, bob after the swap" \
        same "alice alice alice alice alice bob bob" \
        "$(jq -r '.payload.labels.principal | sub(".*#"; "")' "$L" |
           tr '\n' ' ' | sed 's/ $//')"
    check "rotate: the shell re-bound its session key to bob's token" \
        same true "$(jq -s '[.[].payload | select(.labels.principal |
            endswith("#bob")) | .identity | has("session_jwk")] |
            any' "$L")"
    check "rotate: verify --oidc-jwks passes" vok "$L"
    mint "$TOK" --iss "$OK_ISS" --aud kest --sub alice
    mint "$T/tok3" --iss "$OK_ISS" --aud kest --sub carol
    KEST_OIDC_TOKEN_FILE=$TOK KEST_OIDC_ISSUER=$OK_ISS KEST_OIDC_EMBED=1 \
        krun "$L" -- bash -c "bash -c /bin/true; cat $T/tok3 >$TOK;
                              bash -c /bin/true"
    # The shell truncates the file before it execs cat: that record
    # keeps alice's token; the next ones are carol's.
    check "rewrite in place: no gap while the file is empty" signed "$L"
    check "rewrite in place: alice up to cat, then carol" \
        same "alice alice alice alice alice carol carol" \
        "$(jq -r '.payload.labels.principal | sub(".*#"; "")' "$L" |
           tr '\n' ' ' | sed 's/ $//')"
    check "rewrite in place: verify passes" vok "$L"
    mint "$T/tok4" --iss "$OK_ISS" --aud kest --exp-in -600
    KEST_OIDC_TOKEN_FILE=$TOK KEST_OIDC_ISSUER=$OK_ISS \
        krun "$L" -- bash -c "bash -c /bin/true; mv $T/tok4 $TOK;
                              /bin/true"
    check "replaced by an expired token: the next record is a gap" \
        gap_says "$L" "token expired"
}

sec_ok
sec_tamper
sec_noembed
sec_jwks_forms
sec_bad_tokens
sec_endpoints
sec_rotate
sec_helper
finish
