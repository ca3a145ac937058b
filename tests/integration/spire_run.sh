# SPDX-License-Identifier: Apache-2.0
# The SPIRE provider end to end: kest run against the Workload API test
# double (tests/doubles), then kest verify --bundle / --jwt-bundle over
# what it wrote. Covers the leaf kinds, kest bundle, JWT-SVIDs, endpoint
# address forms, the double's failure modes, renewal of short-lived
# SVIDs, rotation, a tampered x5c, and that none of it maps libcurl.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
DOUBLES=$KEST_SRC/tests/doubles
CERTS=$T/certs
unset SPIFFE_ENDPOINT_SOCKET KEST_SPIFFE_SOCKET KEST_SPIFFE_ID \
    KEST_SPIFFE_JWT_AUDIENCE KEST_TIMEOUT_MS KEST_PROVIDER KEST_QUIET

# start_server NAME MODE [ARGS...]: the double on $T/NAME.sock (or on
# --tcp if ARGS has it), calls logged to $T/NAME.calls; sets ADDR to the
# address it announces. Fails if it is not ready within 15 s.
start_server() {
    local name=$1 mode=$2
    shift 2
    local where=(--socket "$T/$name.sock")
    case " $* " in *" --tcp "*) where=() ;; esac
    spawn_double "$name" "$PY" "$DOUBLES/workload_api.py" "${where[@]}" \
        --certs "$CERTS" --mode "$mode" --ready-file "$T/$name.ready" \
        --calls-log "$T/$name.calls" "$@" && ADDR=$READY
}


# hdrs LOG: each record's protected header, decoded, one JSON a line.
hdrs() {
    "$PY" - "$1" <<'EOF'
import base64, json, sys
for line in open(sys.argv[1]):
    p = json.loads(line)["protected"]
    raw = base64.urlsafe_b64decode(p + "=" * (-len(p) % 4))
    print(json.dumps(json.loads(raw)))
EOF
}
# all_hdrs LOG FILTER: FILTER holds for every record's header
all_hdrs() {
    local got
    got=$(hdrs "$1" | jq -s "length > 0 and all(.[]; $2)")
    [ "$got" = true ] && return 0
    echo "# headers fail '$2':"
    hdrs "$1" | jq -c '{alg, n: (.x5c | length)}' | head -5 | sed 's/^/#   /'
    return 1
}
has() {
    grep -q -- "$2" "$1" && return 0
    echo "# '$2' not in $1:"
    sed 's/^/#   /' "$1" | head -5
    return 1
}
# vbundle [ARGS...] LOG: kest verify with the example.org bundle
vbundle() { "$KEST" verify -q --bundle "$CERTS/bundle.pem" "$@"; }
# x5c0 LOG N: x5c[0] of record N (1-based)
x5c0() { hdrs "$1" | sed -n "${2}p" | jq -r '.x5c[0]'; }

sh "$DOUBLES/mkcerts.sh" "$CERTS" >/dev/null 2>&1 ||
    { fail "mkcerts.sh made the fixtures"; finish; exit 1; }

# 1. ok mode, P-256 leaf. bash, not dash: dash spawns through vfork,
# whose records come from kest-record (see the dash test below).
sec_ok_p256() {
    local L=$T/ok.log
    start_server ok ok --jwt-key "$T/jwt1" ||
        { fail "ok: server starts"; return; }
    OK_ADDR=$ADDR
    SPIFFE_ENDPOINT_SOCKET=$ADDR krun "$L" -- \
        bash -c '/bin/true; ls / >/dev/null'
    check "ok: kest run exits 0" same 0 "$RC"
    check "ok: 4 records (run, bash, true, ls)" same 4 "$(wc -l <"$L")"
    check "ok: all records signed, no gap" signed "$L"
    check "ok: nothing on stderr" same "" "$(cat "$T/err")"
    check "ok: every header is ES256 with an x5c" \
        all_hdrs "$L" '.alg == "ES256" and (.x5c | length) == 1'
    check "ok: labels.principal is the SPIFFE ID" \
        all_recs "$L" '.labels.principal == "spiffe://example.org/workload"'
    check "ok: identity.provider is spire" \
        all_recs "$L" '.identity.provider == "spire"'
    check "ok: verify --bundle passes" vbundle "$L"
    check "ok: verify with another trust domain's bundle fails on line 1" \
        vfails "ok.log:1: x5c chain rejected" \
        --bundle "$CERTS/other-bundle.pem" "$L"
    check "ok: verify without --bundle says to use --bundle" \
        vfails "ok.log:1: .*verify with --bundle" "$L"
    check "ok: calls carry the security header workload.spiffe.io: true" \
        same true "$(jq -s 'length > 0 and all(.[];
            .security_header == ["true"] and
            (.metadata_keys | index("workload.spiffe.io")) != null and
            .status == "OK")' "$T/ok.calls")"
    cp "$L" "$T/ok.keep"
}

# 2. RSA leaf and a leaf under an intermediate CA.
sec_leaf_kinds() {
    local L=$T/rsa.log
    start_server rsa ok --leaf rsa --jwt-key "$T/jwt2" ||
        { fail "rsa: server starts"; return; }
    RSA_ADDR=$ADDR
    SPIFFE_ENDPOINT_SOCKET=$ADDR krun "$L" -- bash -c '/bin/true; /bin/true'
    check "rsa: all records signed" signed "$L"
    check "rsa: every header is RS256" all_hdrs "$L" '.alg == "RS256"'
    check "rsa: verify --bundle passes" vbundle "$L"

    L=$T/int.log
    start_server int ok --leaf p256-intermediate ||
        { fail "intermediate: server starts"; return; }
    SPIFFE_ENDPOINT_SOCKET=$ADDR krun "$L" -- bash -c '/bin/true; /bin/true'
    check "intermediate: all records signed" signed "$L"
    check "intermediate: x5c holds leaf and intermediate" \
        all_hdrs "$L" '.alg == "ES256" and (.x5c | length) == 2'
    check "intermediate: verify passes with the root-only bundle" \
        vbundle "$L"
    stop_server int
}

# 3. kest bundle and JWT-SVIDs.
sec_bundle_jwt() {
    local L=$T/jwt.log
    check "bundle: kest bundle --out writes the X.509 bundle" \
        env SPIFFE_ENDPOINT_SOCKET="$OK_ADDR" "$KEST" bundle --out "$T/b.pem"
    check "bundle: it is a PEM certificate" has "$T/b.pem" "BEGIN CERTIFICATE"
    check "bundle: verify --bundle b.pem passes" \
        "$KEST" verify -q --bundle "$T/b.pem" "$T/ok.keep"
    check "bundle: kest bundle --jwt --socket writes a JWKS" \
        "$KEST" bundle --jwt --socket "$OK_ADDR" --out "$T/j.json"
    check "bundle: the JWKS has keys with kty and kid" \
        same true "$(jq '(.keys | length) > 0 and
                         all(.keys[]; has("kty") and has("kid"))' "$T/j.json")"

    SPIFFE_ENDPOINT_SOCKET=$OK_ADDR KEST_SPIFFE_JWT_AUDIENCE=audit \
        krun "$L" -- /bin/true
    check "jwt: all records signed" signed "$L"
    check "jwt: the first record carries identity.jwt_svid" \
        same true "$(head -1 "$L" |
                     jq '.payload.identity.jwt_svid | type == "string"')"
    check "jwt: its audience is audit, its subject the principal" \
        same '["audit"] spiffe://example.org/workload' \
        "$(head -1 "$L" | jq -r '.payload.identity.jwt_svid' |
           cut -d. -f2 | "$PY" -c 'import base64, json, sys
s = sys.stdin.read().strip()
c = json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
print(json.dumps(c["aud"]), c["sub"])')"
    check "jwt: verify --bundle b.pem --jwt-bundle j.json passes" \
        "$KEST" verify -q --bundle "$T/b.pem" --jwt-bundle "$T/j.json" "$L"
    "$KEST" bundle --jwt --socket "$RSA_ADDR" --out "$T/j2.json" 2>/dev/null
    check "jwt: a JWKS from another JWT authority fails the JWT-SVID" \
        vfails "jwt.log:1: .*JWT-SVID" --bundle "$T/b.pem" \
        --jwt-bundle "$T/j2.json" "$L"
    stop_server rsa
}

# 4. Endpoint address forms.
sec_addresses() {
    local L=$T/addr.log path=${OK_ADDR#unix://} a
    SPIFFE_ENDPOINT_SOCKET=unix:$path krun "$L" -- bash -c '/bin/true'
    check "addr: unix:/abs works" signed "$L"
    SPIFFE_ENDPOINT_SOCKET=unix:///nonexistent/bogus.sock \
        KEST_SPIFFE_SOCKET=$OK_ADDR krun "$L" -- bash -c '/bin/true'
    check "addr: KEST_SPIFFE_SOCKET overrides SPIFFE_ENDPOINT_SOCKET" \
        signed "$L"
    for a in unix:relative tcp://host:1 unix://foo; do
        SPIFFE_ENDPOINT_SOCKET=$a krun "$L" -- /usr/bin/touch "$T/ran"
        check "addr $a: fail open, the command runs" \
            same "0 yes" "$RC $([ -e "$T/ran" ] && echo yes)"
        check "addr $a: the warning quotes the value" \
            has "$T/err" "warning: .*'$a'"
        check "addr $a: a gap record quoting it" gap_says "$L" "'$a'"
        rm -f "$T/ran"
    done
    start_server tcp ok --tcp 127.0.0.1:0 ||
        { fail "tcp: server starts"; return; }
    case $ADDR in
    tcp://127.0.0.1:[0-9]*) ok "tcp: the double announces $ADDR" ;;
    *) fail "tcp: the double announces tcp://127.0.0.1:PORT ($ADDR)" ;;
    esac
    SPIFFE_ENDPOINT_SOCKET=$ADDR krun "$L" -- bash -c '/bin/true'
    check "addr: tcp://127.0.0.1:PORT works" signed "$L"
    check "addr: tcp records verify" vbundle "$L"
    stop_server tcp
}

# 5. The double's failure modes.
sec_noid() {
    local L=$T/noid.log
    start_server noid noid || { fail "noid: server starts"; return; }
    SPIFFE_ENDPOINT_SOCKET=$ADDR KEST_TIMEOUT_MS=600 \
        krun "$L" -- /usr/bin/touch "$T/ran"
    check "noid, open: the command runs" \
        same "0 yes" "$RC $([ -e "$T/ran" ] && echo yes)"
    check "noid, open: gap says no identity issued" \
        gap_says "$L" "no identity issued"
    check "noid, open: one warning on stderr" \
        same 1 "$(grep -c 'warning' "$T/err")"
    # The last attempt starts 50 ms before the deadline.
    if [ "$MS" -ge 540 ] && [ "$MS" -lt 3000 ]; then
        ok "noid: retried until the timeout (${MS} ms, timeout 600)"
    else
        fail "noid: retried until the timeout (${MS} ms, timeout 600)"
    fi
    check "noid: the double saw several calls, all PERMISSION_DENIED" \
        same true "$(jq -s 'length > 1 and
            all(.[]; .status == "PERMISSION_DENIED")' "$T/noid.calls")"
    rm -f "$T/ran"
    SPIFFE_ENDPOINT_SOCKET=$ADDR KEST_TIMEOUT_MS=600 \
        krun "$L" --fail closed -- /usr/bin/touch "$T/ran"
    check "noid, closed: kest run exits 126, the command does not run" \
        same "126 no" "$RC $([ -e "$T/ran" ] && echo yes || echo no)"
    stop_server noid
}

sec_retry_multi() {
    local L=$T/unav.log
    start_server unav unavailable-then-ok ||
        { fail "unavailable: server starts"; return; }
    SPIFFE_ENDPOINT_SOCKET=$ADDR KEST_TIMEOUT_MS=5000 krun "$L" -- /bin/true
    check "unavailable-then-ok: retried until signed" signed "$L"
    check "unavailable-then-ok: two UNAVAILABLE calls, then OK" \
        same "UNAVAILABLE UNAVAILABLE OK" \
        "$(jq -r .status "$T/unav.calls" | head -3 | xargs)"
    stop_server unav

    L=$T/multi.log
    start_server multi multi || { fail "multi: server starts"; return; }
    SPIFFE_ENDPOINT_SOCKET=$ADDR krun "$L" -- bash -c '/bin/true'
    check "multi: the first SVID (workload-a) by default" all_recs "$L" \
        '.labels.principal == "spiffe://example.org/workload-a"'
    check "multi: verify passes" vbundle "$L"
    SPIFFE_ENDPOINT_SOCKET=$ADDR \
        KEST_SPIFFE_ID=spiffe://example.org/workload-b \
        krun "$L" -- bash -c '/bin/true'
    check "multi: KEST_SPIFFE_ID picks workload-b" all_recs "$L" \
        '.labels.principal == "spiffe://example.org/workload-b"'
    check "multi: verify passes for workload-b" vbundle "$L"
    SPIFFE_ENDPOINT_SOCKET=$ADDR KEST_SPIFFE_ID=spiffe://example.org/nope \
        krun "$L" -- /bin/true
    check "multi: an ID the agent does not hold is a gap" \
        gap_says "$L" "no SVID with SPIFFE ID spiffe://example.org/nope"
    stop_server multi
}

sec_slow_other() {
    local L=$T/slow.log
    start_server slow slow --delay-ms 3000 ||
        { fail "slow: server starts"; return; }
    SPIFFE_ENDPOINT_SOCKET=$ADDR KEST_TIMEOUT_MS=500 krun "$L" -- /bin/true
    check "slow (3 s) with a 500 ms timeout: a gap that says timed out" \
        gap_says "$L" "timed out"
    if [ "$MS" -lt 2000 ]; then
        ok "slow: KEST_TIMEOUT_MS bounds the wait (${MS} ms)"
    else
        fail "slow: KEST_TIMEOUT_MS bounds the wait (${MS} ms)"
    fi
    stop_server slow

    L=$T/other.log
    start_server other otherdomain ||
        { fail "otherdomain: server starts"; return; }
    SPIFFE_ENDPOINT_SOCKET=$ADDR krun "$L" -- bash -c '/bin/true'
    check "otherdomain: signed as spiffe://other.org/workload" all_recs "$L" \
        '.labels.principal == "spiffe://other.org/workload"'
    check "otherdomain: verify with the other.org bundle passes" \
        "$KEST" verify -q --bundle "$CERTS/other-bundle.pem" "$L"
    check "otherdomain: verify with the example.org bundle fails" \
        vfails "other.log:1: x5c chain rejected" \
        --bundle "$CERTS/bundle.pem" "$L"
    stop_server other
}

sec_missing_big() {
    local L=$T/missing.log k
    SPIFFE_ENDPOINT_SOCKET=unix://$T/nosuch.sock KEST_TIMEOUT_MS=5000 \
        krun "$L" -- /bin/true
    check "missing socket: a gap naming the socket" \
        gap_says "$L" "nosuch.sock"
    if [ "$MS" -lt 2000 ]; then
        ok "missing socket: fails at once (${MS} ms, timeout 5000)"
    else
        fail "missing socket: fails at once (${MS} ms, timeout 5000)"
    fi

    L=$T/big.log
    start_server big big || { fail "big: server starts"; return; }
    SPIFFE_ENDPOINT_SOCKET=$ADDR krun "$L" -- bash -c '/bin/true'
    check "big (1 MiB response): signed" signed "$L"
    check "big: verify passes" vbundle "$L"
    stop_server big

    L=$T/huge.log
    start_server huge huge || { fail "huge: server starts"; return; }
    SPIFFE_ENDPOINT_SOCKET=$ADDR krun "$L" -- /usr/bin/touch "$T/ran"
    check "huge (5 MiB response): the command runs" same 0 "$RC"
    check "huge: a gap that mentions 4 MiB" gap_says "$L" "4 MiB"
    stop_server huge

    for k in length varint wiretype nested; do
        L=$T/garbage-$k.log
        rm -f "$T/ran"
        start_server garbage garbage --garbage-kind $k ||
            { fail "garbage $k: server starts"; continue; }
        SPIFFE_ENDPOINT_SOCKET=$ADDR krun "$L" -- /usr/bin/touch "$T/ran"
        check "garbage $k: the command runs, no crash" \
            same "0 yes" "$RC $([ -e "$T/ran" ] && echo yes)"
        check "garbage $k: a gap record" gap_says "$L" "X509SVID"
        stop_server garbage
    done
}

# 6. Short-lived SVIDs: one process (Python's posix_spawn hook runs in
# the parent) signs, waits past the 3 s lifetime, signs again.
sec_shortlived() {
    local L=$T/short.log n i ok_all=1 der dates nb na ts
    start_server short shortlived --ttl 3 ||
        { fail "shortlived: server starts"; return; }
    SPIFFE_ENDPOINT_SOCKET=$ADDR krun "$L" -- "$PY" -c '
import os, time
for i in range(2):
    if i:
        time.sleep(4)
    os.waitpid(os.posix_spawn("/bin/true", ["true"], os.environ), 0)'
    check "shortlived: all records signed" signed "$L"
    check "shortlived: both spawns recorded by the Python process" \
        same 2 "$(jq -s --arg py "$(readlink -f "$PY")" \
                  'map(select(.payload.process.exe == $py)) | length' "$L")"
    check "shortlived: every record verifies at its own time" vbundle "$L"
    n=$(wc -l <"$L")
    check "shortlived: the two spawns carry different leaves (renewed)" \
        test "$(x5c0 "$L" $((n - 1)))" != "$(x5c0 "$L" "$n")"
    for i in $(seq "$n"); do
        der=$T/leaf-$i.der
        x5c0 "$L" "$i" | base64 -d >"$der"
        dates=$(openssl x509 -inform DER -in "$der" -noout -dates)
        nb=$(date -d "$(echo "$dates" | sed -n 's/^notBefore=//p')" +%s)
        na=$(date -d "$(echo "$dates" | sed -n 's/^notAfter=//p')" +%s)
        ts=$(sed -n "${i}p" "$L" | jq .payload.timestamp_ms)
        if [ "$ts" -lt $((nb * 1000)) ] || [ "$ts" -ge $((na * 1000)) ]; then
            echo "# record $i at $ts outside $nb..$na"
            ok_all=0
        fi
    done
    check "shortlived: no record signed outside its leaf's validity" \
        same 1 "$ok_all"
    stop_server short
}

# 7. Rotation: new leaves while kest runs. A held SVID is kept until
# half its lifetime has passed (fork children inherit it), so the leaves
# live 2 s and the run outlasts half of that.
sec_rotate() {
    local L=$T/rotate.log
    start_server rotate rotate --rotate-ms 500 --ttl 2 ||
        { fail "rotate: server starts"; return; }
    SPIFFE_ENDPOINT_SOCKET=$ADDR krun "$L" -- \
        bash -c '/bin/true; sleep 1.2; /bin/true'
    check "rotate: all records signed" signed "$L"
    check "rotate: records verify" vbundle "$L"
    check "rotate: more than one leaf was used" \
        test "$(hdrs "$L" | jq -r '.x5c[0]' | sort -u | wc -l)" -gt 1
    stop_server rotate
}

# 8. A tampered x5c. tamper SRC N DST [--nokid] DER...: record N of SRC
# with its x5c replaced by the DER certificates (and the kid dropped),
# the protected header re-encoded and the signature left alone.
tamper() {
    "$PY" - "$@" <<'EOF'
import base64, json, sys
src, n, dst, ders = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
lines = open(src).read().splitlines()
rec = json.loads(lines[n - 1])
p = rec["protected"]
h = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
if ders[0] == "--nokid":
    del h["kid"]
    ders = ders[1:]
h["x5c"] = [base64.b64encode(open(d, "rb").read()).decode() for d in ders]
enc = json.dumps(h, separators=(",", ":"), sort_keys=True).encode()
rec["protected"] = base64.urlsafe_b64encode(enc).rstrip(b"=").decode()
lines[n - 1] = json.dumps(rec, separators=(",", ":"))
open(dst, "w").write("\n".join(lines) + "\n")
EOF
}
# fails_only LOG N PATTERN: verify --bundle fails on line N alone,
# saying PATTERN there
fails_only() {
    local out
    out=$("$KEST" verify --bundle "$CERTS/bundle.pem" "$1" 2>&1)
    printf '%s\n' "$out" | grep -q "${1##*/}:$2: .*$3" &&
        [ "$(printf '%s\n' "$out" | grep -c "${1##*/}:[0-9]*: ")" -eq 1 ] &&
        return 0
    echo "# wanted only line $2 to fail with '$3':"
    printf '%s\n' "$out" | head -4 | sed 's/^/#   /'
    return 1
}
sec_tamper() {
    local C=$CERTS
    # The last line, so that no later log_prev breaks as well.
    tamper "$T/ok.keep" 4 "$T/t1.log" "$C/other-leaf.der"
    check "tamper: the other.org leaf as x5c[0] fails that line" \
        fails_only "$T/t1.log" 4 "x5c chain rejected"
    tamper "$T/ok.keep" 2 "$T/t2.log" "$C/other-leaf.der"
    check "tamper: ... also in the middle of the log" \
        vfails "t2.log:2: x5c chain rejected" --bundle "$C/bundle.pem" \
        "$T/t2.log"
    # Same trust domain and SPIFFE ID: the chain and the URI SAN pass,
    # only the leaf's key can tell.
    tamper "$T/ok.keep" 4 "$T/t3.log" "$C/leaf-p256-int.der" \
        "$C/intermediate.der"
    check "tamper: a valid chain for the same ID, another key: kid" \
        fails_only "$T/t3.log" 4 "not the x5c leaf's key"
    tamper "$T/ok.keep" 4 "$T/t4.log" --nokid "$C/leaf-p256-int.der" \
        "$C/intermediate.der"
    check "tamper: ... and without a kid, the signature fails" \
        fails_only "$T/t4.log" 4 "signature"
}

# 8b. kest verify remembers a chain it verified for the records that
# share its header, but only for record times at which every
# certificate of the chain is valid. resign SRC N MS DST: record N of
# SRC with timestamp_ms set to MS and signed again with the leaf's key
# (a workload whose clock is off), so only the time is wrong.
resign() {
    "$PY" - "$@" "$CERTS/leaf-p256.key.der" <<'EOF2'
import base64, re, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import \
    decode_dss_signature
src, n, ms, dst, keyfile = sys.argv[1:6]
key = serialization.load_der_private_key(open(keyfile, "rb").read(), None)
lines = open(src).read().splitlines()
line = lines[int(n) - 1]
head, prot_at = '{"payload":', line.rindex(',"protected":"')
sig_at = line.rindex('","signature":"')
pay = re.sub(r'"timestamp_ms":[0-9]+', '"timestamp_ms":' + ms,
             line[len(head):prot_at], count=1)
prot = line[prot_at + len(',"protected":"'):sig_at]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
der = key.sign((prot + "." + b64(pay.encode())).encode(),
               ec.ECDSA(hashes.SHA256()))
r, s = decode_dss_signature(der)
sig = b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
lines[int(n) - 1] = (head + pay + ',"protected":"' + prot +
                     '","signature":"' + sig + '"}')
open(dst, "w").write("\n".join(lines) + "\n")
EOF2
}
sec_chain_times() {
    resign "$T/ok.keep" 4 "$(jq -s '.[3].payload.timestamp_ms' \
        "$T/ok.keep")" "$T/c0.log"
    check "chain times: re-signed at its own time, the log verifies" \
        vbundle "$T/c0.log"
    # 2200-01-01 and 1970: past the leaf's notAfter, before notBefore.
    resign "$T/ok.keep" 4 7258118400000 "$T/c1.log"
    resign "$T/ok.keep" 4 1000 "$T/c2.log"
    for j in 1 2; do
        check "chain times: a record dated after the chain expired fails" \
            vfails "c1.log:4: x5c chain rejected at the record's time" \
            -j "$j" --bundle "$CERTS/bundle.pem" "$T/c1.log"
        check "chain times: a record dated before it was issued fails" \
            vfails "c2.log:4: x5c chain rejected at the record's time" \
            -j "$j" --bundle "$CERTS/bundle.pem" "$T/c2.log"
    done
}

# 9. The Workload API goes through libnghttp2: no process of a SPIRE
# run maps libcurl (4 ms to load). The kest command and the hosts are
# seen in the dynamic loader's log (LD_DEBUG=files, one file per pid);
# the shared recorder, which starts with a clean environment, in its
# /proc/PID/maps while it waits for more requests (10 s).
# loaded DIR PATTERN: some process's loader log in DIR matches PATTERN
loaded() { cat "$1"/ld.* 2>/dev/null | grep -q -- "$2"; }
sec_no_curl() {
    local L=$T/nocurl.log D=$T/ld p rec=
    rm -rf "$D"
    mkdir "$D"
    SPIFFE_ENDPOINT_SOCKET=$OK_ADDR LD_DEBUG=files LD_DEBUG_OUTPUT=$D/ld \
        krun "$L" -- bash -c '/bin/true; ls / >/dev/null'
    check "no curl: all records signed" signed "$L"
    check "no curl: the kest command loaded libnghttp2" \
        loaded "$D" "file=libnghttp2\.so\.14 .*loaded by .*/bin/kest"
    check_not "no curl: no process loaded libcurl" loaded "$D" "libcurl"
    for p in $(pgrep -x kest-record); do
        { tr '\0' '\n' <"/proc/$p/environ"; } 2>/dev/null |
            grep -qxF "KEST_LOG=$L" && rec=$p
    done
    if [ -z "$rec" ]; then
        fail "no curl: a shared recorder signed for the log"
    else
        check "no curl: the shared recorder maps libnghttp2" \
            grep -q "/libnghttp2\.so\.14" "/proc/$rec/maps"
        check_not "no curl: ... and not libcurl" \
            grep -q "/libcurl" "/proc/$rec/maps"
        kill "$rec" 2>/dev/null
    fi

    # Without the shared recorder the hosts fetch the SVID themselves.
    rm -rf "$D"
    mkdir "$D"
    SPIFFE_ENDPOINT_SOCKET=$OK_ADDR KEST_SHARED_RECORDER=0 \
        LD_DEBUG=files LD_DEBUG_OUTPUT=$D/ld \
        krun "$L" -- bash -c '/bin/true; ls / >/dev/null'
    check "no curl, in-process: all records signed" signed "$L"
    check "no curl, in-process: a host loaded libnghttp2 (libkest-core)" \
        loaded "$D" "file=libnghttp2\.so\.14 .*loaded by .*libkest-core"
    check_not "no curl, in-process: no process loaded libcurl" \
        loaded "$D" "libcurl"
}

# Known issue: dash's sh -c spawns through vfork, so its records come
# from kest-record, which does not yet get SPIFFE_ENDPOINT_SOCKET (the
# fix is in progress in shim/). Expected to fail until it lands.
sec_dash() {
    local L=$T/dash.log
    SPIFFE_ENDPOINT_SOCKET=$OK_ADDR krun "$L" -- /bin/sh -c 'ls >/dev/null'
    check "dash sh -c 'ls' is signed (KNOWN ISSUE until the shim fix)" \
        signed "$L"
    check "dash: verify --bundle passes" vbundle "$L"
}

sec_ok_p256
sec_leaf_kinds
sec_bundle_jwt
sec_addresses
sec_noid
sec_retry_multi
sec_slow_other
sec_missing_big
sec_shortlived
sec_rotate
sec_tamper
sec_chain_times
sec_no_curl
sec_dash
stop_servers
finish
