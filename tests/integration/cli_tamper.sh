# SPDX-License-Identifier: Apache-2.0
# kest verify against tampered logs: each change to a copy of a good log
# must fail with exit status 1 and name the line that was changed, in the
# text report and in --json. Also the usage and I/O errors (exit 2).
. "$(dirname "$0")/lib.sh"

OTHER=$T/other.pem
OTHER_PUB=$T/other.pub.pem
"$KEST" keygen --out "$OTHER" >/dev/null

# append LOG KEYFILE N: N exec records (after a start record) from one
# appender process
append() {
    KEST_LOG=$1 KEST_KEY=$2 KEST_PRINCIPAL=tamper-test \
        "$TOOLS/appender" "$3"
}
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
b64url_decode() {
    local s
    s=$(tr -- '-_' '+/')
    while [ $((${#s} % 4)) -ne 0 ]; do s="$s="; done
    printf '%s' "$s" | base64 -d
}
# line_hash TEXT: SHA-256 of the compact JWS rebuilt from a log line, the
# payload taken byte for byte from the line
line_hash() {
    local pay prot sig
    pay=${1#'{"payload":'}
    pay=${pay%',"protected":"'*}
    prot=$(printf '%s' "$1" | jq -r .protected)
    sig=$(printf '%s' "$1" | jq -r .signature)
    printf '%s.%s.%s' "$prot" "$(printf '%s' "$pay" | b64url)" "$sig" |
        sha256sum | cut -c1-64
}
# nth FILE N: line N of FILE, without its newline
nth() { sed -n "${2}p" "$1"; }
# put FILE N TEXT: replace line N of FILE with TEXT (passed through the
# environment: awk -v would undo backslash escapes)
put() {
    TEXT=$3 awk -v n="$2" 'NR == n { print ENVIRON["TEXT"]; next }
                           { print }' "$1" >"$1.new" && mv "$1.new" "$1"
}
# insert_after FILE N TEXT: TEXT becomes line N+1
insert_after() {
    TEXT=$3 awk -v n="$2" '{ print } NR == n { print ENVIRON["TEXT"] }' \
        "$1" >"$1.new" && mv "$1.new" "$1"
}
# copy NAME: a fresh copy of the good log
copy() { cp "$GOOD" "$T/$1.log" && echo "$T/$1.log"; }

# tampered FILE LINE TEXT [VERIFY-ARGS...]: kest verify exits 1, prints
# FAIL, and its first finding is TEXT at FILE:LINE (LINE 0: the whole
# log); --json agrees. Without VERIFY-ARGS, --key $PUB.
tampered() {
    local f=$1 line=$2 want=$3 out rc first where json
    shift 3
    [ $# -gt 0 ] || set -- --key "$PUB"
    out=$("$KEST" verify "$@" "$f" 2>"$T/err")
    rc=$?
    first=$(grep -m1 '^kest: verify: ' "$T/err")
    where="kest: verify: $f:$line: "
    [ "$line" -eq 0 ] && where="kest: verify: $f: "
    if [ $rc -ne 1 ] || [ "${out%%:*}" != FAIL ] ||
        [[ $first != "$where"*"$want"* ]]; then
        echo "# rc=$rc out=$out"
        echo "# first finding: $first"
        echo "# wanted: $where...$want..."
        return 1
    fi
    json=$("$KEST" verify --json "$@" "$f" 2>/dev/null)
    rc=$?
    if [ $rc -ne 1 ] || ! printf '%s' "$json" | jq -e --argjson l "$line" \
        --arg w "$want" '.valid == false and .issues[0].line == $l and
                         (.issues[0].reason | contains($w))' >/dev/null; then
        echo "# --json rc=$rc: $json" | cut -c1-400
        return 1
    fi
}
# issue_lines FILE [VERIFY-ARGS...]: the line numbers of all findings
issue_lines() {
    local f=$1
    shift
    [ $# -gt 0 ] || set -- --key "$PUB"
    "$KEST" verify --json "$@" "$f" 2>/dev/null |
        jq -r '[.issues[].line | tostring] | join(" ")'
}
# same WANT GOT: string equality with a note on mismatch
same() {
    [ "$1" = "$2" ] && return 0
    echo "# wanted '$1', got '$2'"
    return 1
}

# The good log: 20 lines from three processes, two of them appenders
# and one `kest run` (start and exec records).
GOOD=$T/good.log
append "$GOOD" "$KEY" 9
# true's own status is not the point (in a sanitizer build the shim
# cannot load into it); the two records kest run writes first are.
"$KEST" run --log "$GOOD" --key "$KEY" --principal tamper-test -- true \
    2>/dev/null
append "$GOOD" "$KEY" 7
check "the good log has 20 lines" same 20 "$(wc -l <"$GOOD")"
out=$("$KEST" verify --key "$PUB" "$GOOD")
check "kest verify accepts the good log (exit 0)" test $? -eq 0
check "its summary says OK, 20 records, 3 processes" \
    grep -q '^OK: 20 records, 3 processes, 1 principals, 0 gaps' \
    <<<"$out"
HEAD=$("$KEST" verify --json --key "$PUB" "$GOOD" | jq -r .head)
check "the reported head is the hash of the last line's compact JWS" \
    same "$(line_hash "$(nth "$GOOD" 20)")" "$HEAD"
# chained FILE: each log_prev is the hash of the line before ("0" first)
chained() {
    local prev=0 n=0 l p
    while IFS= read -r l; do
        n=$((n + 1))
        p=$(jq -r .payload.log_prev <<<"$l")
        if [ "$p" != "$prev" ]; then
            echo "# line $n: log_prev $p, want $prev"
            return 1
        fi
        prev=$(line_hash "$l")
    done <"$1"
}
check "each log_prev is the hash of the line before" chained "$GOOD"
check "jq -cS reproduces every line byte for byte (canonical here)" \
    bash -c 'jq -cS . "$1" | cmp -s - "$1"' _ "$GOOD"

# 1. One byte of a payload value: a digit of timestamp_ms on line 5.
f=$(copy byte)
l=$(nth "$f" 5)
ts=$(jq .payload.timestamp_ms <<<"$l")
ts2=$((ts - ts % 10 + (ts % 10 + 1) % 10))
put "$f" 5 "${l/\"timestamp_ms\":$ts,/\"timestamp_ms\":$ts2,}"
check "byte: exactly one byte differs, and the line is still canonical" \
    bash -c '[ "$(cmp -l "$1" "$2" | wc -l)" = 1 ] &&
             sed -n 5p "$2" | jq -cS . | cmp -s - <(sed -n 5p "$2")' \
    _ "$GOOD" "$f"
check "byte: bad signature reported at line 5" \
    tampered "$f" 5 "bad signature"
# The invalid line counts as missing, so line 6 also shows a broken link
# and a sequence gap; nothing else may be reported.
check "byte: findings only at line 5 and the line after it" \
    same "5 6" "$(issue_lines "$f" | tr ' ' '\n' | uniq | xargs)"

# 2. Signatures of lines 3 and 4 swapped.
f=$(copy swap)
s3=$(nth "$f" 3 | jq -r .signature)
s4=$(nth "$f" 4 | jq -r .signature)
l3=$(nth "$f" 3)
l4=$(nth "$f" 4)
put "$f" 3 "${l3/\"signature\":\"$s3\"/\"signature\":\"$s4\"}"
put "$f" 4 "${l4/\"signature\":\"$s4\"/\"signature\":\"$s3\"}"
check "swap: bad signature reported at line 3" \
    tampered "$f" 3 "bad signature"
check "swap: line 4 fails too" \
    bash -c '"$1" verify --key "$2" "$3" 2>&1 |
             grep -q "^kest: verify: $3:4: bad signature"' \
    _ "$KEST" "$PUB" "$f"

# 3. A middle line deleted: line 6 (seq 6 of the first process).
f=$(copy delete)
sed -i 6d "$f"
check "delete: broken chain reported at line 6" \
    tampered "$f" 6 "does not name the previous record"
check "delete: the sequence gap is reported at line 6 too" \
    bash -c '"$1" verify --key "$2" "$3" 2>&1 |
             grep -q "^kest: verify: $3:6: process .*: seq 7 follows 5"' \
    _ "$KEST" "$PUB" "$f"
check "delete: two findings, both at line 6" \
    same "6 6" "$(issue_lines "$f")"

# 4. Lines 7 and 8 reordered.
f=$(copy reorder)
sed -i '7{h;d};8G' "$f"
check "reorder: the copy has the same lines in another order" \
    bash -c 'cmp -s <(sort "$1") <(sort "$2") && ! cmp -s "$1" "$2"' \
    _ "$GOOD" "$f"
check "reorder: broken chain reported at line 7" \
    tampered "$f" 7 "does not name the previous record"

# 5. A replayed line: line 5 duplicated as line 6.
f=$(copy replay)
insert_after "$f" 5 "$(nth "$f" 5)"
check "replay: reported at line 6" \
    tampered "$f" 6 "does not name the previous record"

# 6. A forged line inserted after line 9, re-linked with jq: taken from
# a log signed by another key, log_prev set to line 9's hash.
OLOG=$T/other.log
append "$OLOG" "$OTHER" 2
forged=$(nth "$OLOG" 2 |
         jq -cS --arg p "$(line_hash "$(nth "$GOOD" 9)")" \
             '.payload.log_prev = $p')
f=$(copy forged)
insert_after "$f" 9 "$forged"
check "forged: the forged line links to line 9" \
    same "$(line_hash "$(nth "$GOOD" 9)")" \
    "$(nth "$f" 10 | jq -r .payload.log_prev)"
check "forged: the forged line is canonical (jq -cS is a fixed point)" \
    same "$(nth "$f" 10)" "$(nth "$f" 10 | jq -cS .)"
check "forged: untrusted key reported at line 10" \
    tampered "$f" 10 "no trusted key with kid"
check "forged: that is the only finding" same 10 "$(issue_lines "$f")"
check "forged: with both keys trusted, bad signature at line 10" \
    tampered "$f" 10 "bad signature" --key "$PUB" --key "$OTHER_PUB"

# 7. A forgery properly signed by the other key: appender run on a copy
# of the first 9 lines, so its start record chains to line 9.
head -n 9 "$GOOD" >"$T/prefix.log"
append "$T/prefix.log" "$OTHER" 1
f=$(copy signed-forgery)
insert_after "$f" 9 "$(nth "$T/prefix.log" 10)"
check "signed forgery: untrusted key reported at line 10" \
    tampered "$f" 10 "no trusted key with kid"
check "signed forgery: with both keys, the chain breaks at line 11" \
    tampered "$f" 11 "does not name the previous record" \
    --key "$PUB" --key "$OTHER_PUB"

# 8. Records cut from the end: only --expect-head can tell.
f=$(copy truncated)
head -n 17 "$GOOD" >"$f"
check "truncated: plain verify still passes (a clean cut is invisible)" \
    "$KEST" verify -q --key "$PUB" "$f"
check "truncated: --expect-head with the old head fails (whole log)" \
    tampered "$f" 0 "head is" --key "$PUB" --expect-head "$HEAD"
check "--expect-head with the right head passes" \
    "$KEST" verify -q --key "$PUB" --expect-head "$HEAD" "$GOOD"
f=$(copy extended)
append "$f" "$KEY" 1
check "extended: --expect-head with the old head fails" \
    tampered "$f" 0 "were added" --key "$PUB" --expect-head "$HEAD"

# 9. The wrong key: every line fails.
check "wrong key: line 1 has no trusted key" \
    tampered "$GOOD" 1 "no trusted key with kid" --key "$OTHER_PUB"
check "wrong key: every one of the 20 lines is reported" \
    same "$(seq -s ' ' 1 20)" "$(issue_lines "$GOOD" --key "$OTHER_PUB")"
f=$(copy longer)
append "$f" "$KEY" 1
check "wrong key: 22 failures, 20 shown, the rest counted" \
    bash -c '"$1" verify --key "$2" "$3" 2>&1 >/dev/null |
             tail -n 1 |
             grep -qx "kest: verify: 2 more problems not shown" &&
             [ "$("$1" verify --json --key "$2" "$3" |
                  jq -c "[.failures, (.issues | length)]")" = "[22,20]" ]' \
    _ "$KEST" "$OTHER_PUB" "$f"

# 10. Protected header of line 8 says ES256, same kid, re-encoded.
f=$(copy alg)
l=$(nth "$f" 8)
prot=$(jq -r .protected <<<"$l")
hdr=$(printf '%s' "$prot" | b64url_decode)
kid=$(jq -r .kid <<<"$hdr")
check "alg: the header is canonical JSON with alg EdDSA" \
    same "{\"alg\":\"EdDSA\",\"kid\":\"$kid\",\"typ\":\"JWS\"}" "$hdr"
prot2=$(printf '%s' "${hdr/EdDSA/ES256}" | b64url)
put "$f" 8 "${l/$prot/$prot2}"
check "alg: key type mismatch reported at line 8" \
    tampered "$f" 8 "key type mismatch: alg ES256"

# 11. Non-canonical payloads: a space, and a member out of order.
f=$(copy space)
l=$(nth "$f" 12)
put "$f" 12 "${l/,\"labels\":/, \"labels\":}"
check "space: still the same JSON" \
    same "$(nth "$GOOD" 12 | jq -S .)" "$(nth "$f" 12 | jq -S .)"
check "space: not canonical, reported at line 12" \
    tampered "$f" 12 "not in canonical form"
f=$(copy order)
put "$f" 13 "$(nth "$f" 13 | jq -c '.payload |= ({seq} + del(.seq))')"
check "order: seq moved first, same JSON" \
    same "$(nth "$GOOD" 13 | jq -S .)" "$(nth "$f" 13 | jq -S .)"
check "order: not canonical, reported at line 13" \
    tampered "$f" 13 "not in canonical form"

# 12. Lines that are not records at all.
f=$(copy garbage)
insert_after "$f" 12 "this is not a record"
check "garbage: damaged line reported at line 13" \
    tampered "$f" 13 "damaged line, not JSON"
check "garbage: the only finding" same 13 "$(issue_lines "$f")"
f=$(copy not-record)
insert_after "$f" 3 '{"payload":{},"protected":"","signature":""}'
check "not a record: reported at line 4" \
    tampered "$f" 4 "unknown schema_version"
f=$(copy empty)
insert_after "$f" 6 ""
check "empty: reported at line 7" tampered "$f" 7 "empty line"
check "empty: the only finding" same 7 "$(issue_lines "$f")"

# 13. A torn last line (the file cut mid-line), then a later append.
f=$(copy torn)
truncate -s -40 "$f"
check "torn: reported at line 20" tampered "$f" 20 "torn line"
append "$f" "$KEY" 2
check "torn: after a new append the torn line stays, still line 20" \
    tampered "$f" 20 "damaged line"
check "torn: the new records chain on; line 20 is the only finding" \
    same 20 "$(issue_lines "$f")"

# 14. Signature stripped: alg "none" and an empty signature on line 5.
f=$(copy stripped)
l=$(nth "$f" 5)
prot=$(jq -r .protected <<<"$l")
sig=$(jq -r .signature <<<"$l")
none=$(printf '{"alg":"none"}' | b64url)
l=${l/\"protected\":\"$prot\"/\"protected\":\"$none\"}
put "$f" 5 "${l/\"signature\":\"$sig\"/\"signature\":\"\"}"
check "stripped: unsigned non-gap record reported at line 5" \
    tampered "$f" 5 "unsigned record that is not a gap"
check "stripped: --allow-gaps does not excuse it" \
    tampered "$f" 5 "unsigned record that is not a gap" \
    --allow-gaps --key "$PUB"

# 15. Gap accounting: an unsigned gap record names a principal that
# later signs records; --allow-gaps must count that principal once.
pl=$(nth "$GOOD" 1 |
     jq -cS '.payload | .operation = "gap" | del(.start) |
             .gap = {reason: "test", event: "exec", action: "allowed"} |
             .process.instance = "0123456789abcdef0123456789abcdef"')
f=$T/gapfirst.log
jq -cnS --argjson p "$pl" --arg h "$none" \
    '{payload: $p, protected: $h, signature: ""}' >"$f"
append "$f" "$KEY" 2
check "gap first: verify fails without --allow-gaps, at line 1" \
    tampered "$f" 1 "gap: a record could not be signed: test"
check "gap first: --allow-gaps passes, 3 records, 1 gap" \
    "$KEST" verify -q --allow-gaps --key "$PUB" "$f"
check "gap first: the signing principal is counted (1 principal)" \
    same '1 ["tamper-test"]' \
    "$("$KEST" verify --json --allow-gaps --key "$PUB" "$f" |
       jq -c '.principals | "\(length) \(tojson)"' -r)"

# 16. Report options.
f=$T/byte.log
check "-q: nothing printed for a bad log, exit 1" bash -c '
    out=$("$1" verify -q --key "$2" "$3" 2>&1); rc=$?
    [ $rc -eq 1 ] && [ -z "$out" ]' _ "$KEST" "$PUB" "$f"
check "-q: nothing printed for a good log, exit 0" bash -c '
    out=$("$1" verify -q --key "$2" "$3" 2>&1); rc=$?
    [ $rc -eq 0 ] && [ -z "$out" ]' _ "$KEST" "$PUB" "$GOOD"
check "--json: good log is valid, 20 records, no issues" bash -c '
    "$1" verify --json --key "$2" "$3" | jq -e ".valid == true and
        .records == 20 and .processes == 3 and .gaps == 0 and
        .issues == [] and .principals == [\"tamper-test\"]" >/dev/null' \
    _ "$KEST" "$PUB" "$GOOD"
check "--json: one JSON document on stdout, nothing on stderr" bash -c '
    "$1" verify --json --key "$2" "$3" >"$4.out" 2>"$4.err"
    [ "$(jq -s length "$4.out")" = 1 ] && [ ! -s "$4.err" ]' \
    _ "$KEST" "$PUB" "$f" "$T/json"
check "-j 1 and -j 3 give the same report" bash -c '
    [ "$("$1" verify --json -j 1 --key "$2" "$3")" = \
      "$("$1" verify --json -j 3 --key "$2" "$3")" ]' \
    _ "$KEST" "$PUB" "$T/delete.log"

# 17. Usage and I/O errors: exit status 2.
status() { "$@" >/dev/null 2>&1; echo $?; }
check "usage: no log given" same 2 "$(status "$KEST" verify --key "$PUB")"
check "usage: no arguments" same 2 "$(status "$KEST" verify)"
check "usage: unknown option" \
    same 2 "$(status "$KEST" verify --bogus --key "$PUB" "$GOOD")"
check "usage: missing key file" \
    same 2 "$(status "$KEST" verify --key "$T/nope.pem" "$GOOD")"
printf 'not a key\n' >"$T/junk.pem"
check "usage: a key file that is not PEM" \
    same 2 "$(status "$KEST" verify --key "$T/junk.pem" "$GOOD")"
check "usage: -j with a non-number" \
    same 2 "$(status "$KEST" verify -j abc --key "$PUB" "$GOOD")"
check "usage: -j with a negative count" \
    same 2 "$(status "$KEST" verify -j -3 --key "$PUB" "$GOOD")"
check "usage: unknown command" same 2 "$(status "$KEST" frobnicate)"
check "usage: kest alone" same 2 "$(status "$KEST")"
check "I/O: a missing log" \
    same 2 "$(status "$KEST" verify --key "$PUB" "$T/missing.log")"
check "I/O: a missing log says cannot read" bash -c '
    "$1" verify --key "$2" "$3" 2>&1 >/dev/null |
        grep -q "^kest: verify: $3: cannot read: No such file"' \
    _ "$KEST" "$PUB" "$T/missing.log"
check "I/O: a missing log after a good one still exits 2" \
    same 2 "$(status "$KEST" verify --key "$PUB" "$GOOD" "$T/missing.log")"
check "I/O: --json for a missing log is valid:false with line 0" bash -c '
    "$1" verify --json --key "$2" "$3" 2>/dev/null |
        jq -e ".valid == false and .issues[0].line == 0" >/dev/null' \
    _ "$KEST" "$PUB" "$T/missing.log"

check "the good log still verifies after all this" \
    "$KEST" verify -q --key "$PUB" "$GOOD"
finish
