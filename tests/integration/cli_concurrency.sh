# SPDX-License-Identifier: Apache-2.0
# Many writers, one log: 16 appender processes add 1000 exec records each
# at the same time. The lock must keep every line whole and the log_prev
# chain unbroken, and each process's sequence must stay intact.
. "$(dirname "$0")/lib.sh"

WRITERS=16
EACH=1000
LOG=$T/shared.log

# same WANT GOT: string equality with a note on mismatch
same() {
    [ "$1" = "$2" ] && return 0
    echo "# wanted '$1', got '$2'"
    return 1
}

pids=()
for i in $(seq 1 $WRITERS); do
    KEST_LOG=$LOG KEST_KEY=$KEY KEST_PRINCIPAL=writer-$i \
        "$TOOLS/appender" $EACH 2>"$T/writer-$i.err" &
    pids+=($!)
done
bad=0
for p in "${pids[@]}"; do
    wait "$p" || bad=$((bad + 1))
done
check "all $WRITERS appenders exit 0" same 0 "$bad"
check "no appender wrote to stderr" \
    same "" "$(cat "$T"/writer-*.err)"

# Each appender writes one start record, then its exec records.
total=$((WRITERS * (EACH + 1)))
check "the log has $total lines" same "$total" "$(wc -l <"$LOG")"
check "every line is a JSON record" \
    same "$total" "$(jq -c 'select(.payload and .protected and .signature)
                            | 1' "$LOG" | wc -l)"
check "$((WRITERS * EACH)) exec records" \
    same "$((WRITERS * EACH))" "$(count_ops "$LOG" exec)"
check "$WRITERS start records" same "$WRITERS" "$(count_ops "$LOG" start)"

out=$("$KEST" verify --key "$PUB" "$LOG" 2>"$T/verify.err")
rc=$?
check "kest verify: exit 0" same 0 "$rc"
check "kest verify: OK, $total records, $WRITERS processes" \
    grep -q "^OK: $total records, $WRITERS processes, $WRITERS principals," \
    <<<"$out"
check "kest verify: nothing on stderr" same "" "$(cat "$T/verify.err")"
json=$("$KEST" verify --json -j 2 --key "$PUB" "$LOG")
check "--json: valid, $WRITERS processes, $total records" \
    same "true $WRITERS $total 0" \
    "$(jq -r '"\(.valid) \(.processes) \(.records) \(.failures)"' \
        <<<"$json")"
check "--json: the $WRITERS principals are listed" \
    same "$WRITERS" "$(jq '.principals | unique | length' <<<"$json")"

check "no duplicate entry_id" \
    same "$total" "$(jq -r .payload.entry_id "$LOG" | sort -u | wc -l)"
check "no duplicate log_prev (the chain never forks)" \
    same "$total" "$(jq -r .payload.log_prev "$LOG" | sort -u | wc -l)"
check "each instance has seq 1..$((EACH + 1)) in order" bash -c '
    jq -r "[.payload.process.instance, .payload.seq] | @tsv" "$1" |
        awk -v want="$2" "
            \$2 != last[\$1] + 1 { print \"# \" \$1 \" seq \" \$2; bad = 1 }
            { last[\$1] = \$2 }
            END {
                for (k in last) { n++; if (last[k] != want) bad = 1 }
                exit bad || n != $3
            }"' _ "$LOG" $((EACH + 1)) $WRITERS
check "each instance has one pid and one principal" \
    same "$WRITERS" "$(jq -r '[.payload.process.instance,
                               .payload.process.pid,
                               .payload.labels.principal] | @tsv' "$LOG" |
                       sort -u | wc -l)"
check "every writer's argv counter runs 0..$((EACH - 1))" bash -c '
    jq -r "select(.payload.operation == \"exec\") |
           [.payload.labels.principal, .payload.exec.argv[1]] | @tsv" "$1" |
        sort -u | wc -l | grep -qx "$2"' _ "$LOG" $((WRITERS * EACH))

# The lock also serves a writer that arrives after the rush.
KEST_LOG=$LOG KEST_KEY=$KEY KEST_PRINCIPAL=late "$TOOLS/appender" 3
check "a later appender chains on: still valid" \
    "$KEST" verify -q --key "$PUB" "$LOG"
finish
